"""Figures shared by the notebooks and benchmarks (matplotlib, no state kept here)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
import torch
from torch import Tensor
from torchvision.utils import flow_to_image

from .data.transforms import resize_images


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
