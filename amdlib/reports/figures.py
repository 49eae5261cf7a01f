"""Figures shared by the notebooks and benchmarks (matplotlib). `MaskSnapshots` also keeps the
masks it draws, in a file of the training run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import torch
from torch import Tensor
from torchvision.utils import flow_to_image

from ..data.transforms import resize_images
from ..io.atomic import atomic_write


def _image(tensor: Tensor):
    return tensor.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()


def frames_with_truth(frames: Sequence[Tensor], truths: Sequence[Tensor | None], titles: Sequence[str] = (),
                      columns: int = 8):
    """Frames (3,H,W) above their ground truth (H,W bool/int, or None where not annotated)."""
    count = len(frames)
    rows = 2 * ((count + columns - 1) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(1.6 * columns, 1.7 * rows), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for i, (frame, truth) in enumerate(zip(frames, truths)):
        row, col = 2 * (i // columns), i % columns
        axes[row, col].imshow(_image(frame))
        if i < len(titles):
            axes[row, col].set_title(titles[i], fontsize=7)
        if truth is not None:
            axes[row + 1, col].imshow(truth.cpu().numpy(), cmap="viridis", interpolation="nearest")
        else:
            axes[row + 1, col].text(0.5, 0.5, "no annotation", ha="center", va="center", fontsize=7)
    figure.tight_layout()
    return figure


def vos_strip(frames: Sequence[Tensor], truths: Sequence[Tensor], predictions: Sequence[Tensor],
              titles: Sequence[str] = (), columns: int = 8):
    """Frames (3,H,W) above their foreground probability (H,W in [0,1]) on one fixed 0-1 colour
    scale with a colour bar, the ground truth (H,W) outlined, and J (prediction > 0.5) in each
    panel's title: a fixed scale keeps an empty prediction black instead of stretching it."""
    from ..evaluation.vos_metrics import jaccard

    count = len(frames)
    rows = 2 * ((count + columns - 1) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(1.6 * columns, 1.8 * rows), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    image = None
    for i, (frame, truth, prediction) in enumerate(zip(frames, truths, predictions)):
        row, col = 2 * (i // columns), i % columns
        truth, prediction = truth.cpu().bool(), prediction.detach().float().cpu()
        axes[row, col].imshow(_image(frame))
        axes[row, col].set_title(titles[i] if i < len(titles) else "", fontsize=7)
        image = axes[row + 1, col].imshow(prediction.numpy(), cmap="magma", vmin=0, vmax=1, interpolation="nearest")
        if truth.any() and not truth.all():
            axes[row + 1, col].contour(truth.numpy().astype(float), levels=[0.5], colors="cyan", linewidths=0.6)
        axes[row + 1, col].set_title(f"J={jaccard(prediction > 0.5, truth).item():.2f}", fontsize=7)
    if image is not None:
        figure.colorbar(image, ax=axes.ravel().tolist(), fraction=0.02, pad=0.01, label="foreground probability")
    return figure


def masks_and_flow(frames: Tensor, masks: Tensor, flows: Tensor | None = None, truths: Tensor | None = None):
    """One row per frame: the frame, its ground truth (optional), all c soft masks and the
    segment flow (optional, coloured with torchvision's flow_to_image).

    frames N,3,H,W; masks N,c,h,w; flows N,2,h',w'; truths N,H,W.
    """
    count, channels = frames.shape[0], masks.shape[1]
    columns = 1 + (truths is not None) + channels + (flows is not None)
    figure, axes = plt.subplots(count, columns, figsize=(1.7 * columns, 1.7 * count), squeeze=False)
    for n in range(count):
        col = 0
        axes[n, col].imshow(_image(frames[n]))
        axes[0, col].set_title("frame", fontsize=8)
        if truths is not None:
            col += 1
            axes[n, col].imshow(truths[n].cpu().numpy(), cmap="gray", interpolation="nearest")
            axes[0, col].set_title("ground truth", fontsize=8)
        for k in range(channels):
            col += 1
            axes[n, col].imshow(masks[n, k].cpu().numpy(), cmap="magma", vmin=0, vmax=1, interpolation="nearest")
            axes[0, col].set_title(f"mask {k}", fontsize=8)
        if flows is not None:
            col += 1
            axes[n, col].imshow(flow_to_image(flows[n].detach().float().cpu()).permute(1, 2, 0).numpy())
            axes[0, col].set_title("segment flow", fontsize=8)
    for axis in axes.flat:
        axis.axis("off")
    figure.tight_layout()
    return figure


def training_curves(log: pd.DataFrame):
    """Loss (total and per scale) against iteration, from a training run's log.csv."""
    figure, axis = plt.subplots(figsize=(6, 3.5))
    axis.plot(log["iteration"], log["loss"], label="total", color="black")
    for column in [c for c in log.columns if c.startswith("photometric_")]:
        if log[column].abs().sum() > 0:
            axis.plot(log["iteration"], log[column], label=f"scale {column.split('_')[1]}", alpha=0.7)
    axis.set(xlabel="iteration", ylabel="loss", yscale="log", title="training loss")
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def j_versus_time(evaluations: pd.DataFrame, title: str = ""):
    """J of each channel rule against training minutes, with the centre prior, from eval.csv (and
    the raw weights' best fixed channel, dotted, when the run evaluates a weight average)."""
    figure, axis = plt.subplots(figsize=(6, 4))
    minutes = evaluations["train_seconds"] / 60
    for key, label in (("J_best_channel", "best fixed channel"), ("J_smallest_area", "label-free: smallest area"),
                       ("J_smallest_area_video", "label-free: smallest area per video"),
                       ("J_motion_contrast_video", "label-free: motion contrast per video"),
                       ("J_oracle_frame", "per-frame oracle (upper bound)")):
        if key in evaluations:
            axis.plot(minutes, evaluations[key], marker="o", label=label)
    if "J_best_channel_raw_weights" in evaluations:  # a run that evaluates a weight average
        axis.plot(minutes, evaluations["J_best_channel_raw_weights"], color="C0", linestyle=":", alpha=0.7,
                  label="best fixed channel, raw weights (no average)")
    if "J_centre_prior" in evaluations:
        axis.axhline(float(evaluations["J_centre_prior"].iloc[-1]), color="grey", linestyle="--", label="centre prior")
    axis.set(xlabel="training minutes", ylabel="J", title=title, ylim=(0, 1))
    axis.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    return figure


@torch.no_grad()
def predict_pairs(model, frames: Tensor) -> tuple[Tensor, Tensor]:
    """Masks of frame 1 and the forward segment flow at the finest scale for B,2,3,H,W pairs, on
    the CPU wherever the model lives (a run trained on CUDA draws its figures after training)."""
    model.eval()
    output = model(frames.to(next(model.parameters()).device))
    return output.masks[:, 0].cpu(), output.flows[0][:, 0].cpu()


def middle_frame_pairs(sequences, count: int, size: tuple[int, int]) -> tuple[Tensor, Tensor]:
    """The middle frame of each of the first `count` `VOSSequence`s with its successor, resized
    (area-like, antialiased) to `size`, and the middle frame's ground truth (nearest):
    N,2,3,H,W pairs and N,H,W masks, ready for `predict_pairs` and `masks_and_flow`."""
    frames, truths = [], []
    for sequence in list(sequences)[:count]:
        t = len(sequence) // 2
        frames.append(torch.stack([sequence.frame(t), sequence.frame(t + 1)]))
        truths.append(sequence.mask(t))
    frames = resize_images(torch.stack(frames).flatten(0, 1), size).unflatten(0, (-1, 2))
    truths = torch.nn.functional.interpolate(torch.stack(truths)[:, None].float(), size=size)[:, 0]
    return frames, truths


class MaskSnapshots:
    """The masks of a few fixed frames at every evaluation of a training run, kept in one file,
    so that a figure can show objectness emerging. Pass it as `train(..., on_evaluation=...)`.

    Stored as {iteration: N,c,h,w float16 soft masks} in `path` (written atomically after each
    snapshot, read back on resume, so an interrupted run keeps its earlier columns).
    """

    def __init__(self, path: str | Path, frames: Tensor) -> None:
        """`frames`: N,3,H,W images in [0,1]."""
        self.path, self.frames = Path(path), frames
        self.masks: dict[int, Tensor] = torch.load(self.path) if self.path.is_file() else {}

    @torch.no_grad()
    def __call__(self, iteration: int, model) -> None:
        was_training = model.training
        model.eval()
        masks = model.segment(self.frames.to(next(model.parameters()).device)).cpu().half()
        model.train(was_training)
        self.masks[int(iteration)] = masks
        atomic_write(self.path, lambda file: torch.save(self.masks, file))

    def figure(self, truths: Tensor | None = None, columns: int = 6):
        """Rows: the frames; columns: the frame, its ground truth (N,H,W, optional) and the
        masks at up to `columns` evaluations spread over the run, each pixel coloured by the
        channel that holds it (argmax), so no channel has to be named the object."""
        iterations = sorted(self.masks)
        if len(iterations) > columns:
            picks = torch.linspace(0, len(iterations) - 1, columns).round().long().tolist()
            iterations = [iterations[i] for i in sorted(set(picks))]
        heads = ["frame"] + (["ground truth"] if truths is not None else []) + [f"iteration {i}" for i in iterations]
        rows = len(self.frames)
        figure, axes = plt.subplots(rows, len(heads), figsize=(1.6 * len(heads), 1.6 * rows), squeeze=False)
        palette = plt.get_cmap("tab10")
        for r in range(rows):
            panels = [_image(self.frames[r])] + ([truths[r].float().numpy()] if truths is not None else [])
            for i in iterations:
                chosen = self.masks[i][r].float().argmax(0).numpy()
                panels.append(palette(chosen % 10)[..., :3])
            for c, panel in enumerate(panels):
                axis = axes[r, c]
                axis.imshow(panel, cmap="gray" if panel.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
                axis.set_xticks([]), axis.set_yticks([])
                if r == 0:
                    axis.set_title(heads[c], fontsize=8)
        figure.suptitle("masks emerging: each pixel coloured by its channel", fontsize=9)
        figure.tight_layout()
        return figure
