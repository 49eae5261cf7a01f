"""Does AMD's objective prefer the objects? A trained model's loss under given masks.

Every frame pair (t, t + gap) of the synthetic DAVIS-layout videos (one moving object each,
ground truth on every frame) is explained by the trained motion pathway through four
segmentations of both frames (`explain`: AMD's forward pass with given masks), all at the flow
input size:

- `model`: the appearance pathway's soft masks, what training optimised;
- `model_hard`: the same, one-hot at each pixel's most likely channel (is softness part of it?);
- `truth`: the ground truth, channel 1 = the moving object, channel 0 = the rest (area fractions
  on the mask grid; further channels empty);
- `one_segment`: channel 0 everywhere, i.e. one flow vector for the whole frame (the camera).

Per video the script writes the mean loss of each and the model's channel-1 J and area (at
`--eval-size`, as the emergence runs score it). Where the masks miss the object (the kinds of
failure of research/README.md: channel 1 floods the frame, or sits on the wrong region) the question is whether `truth`
explains the video better than `model`. If it does, the objective prefers the object there
and training stopped short of it (an optimisation problem); if it does not, the objective
itself does not tell the object apart on such videos. The motion pathway was trained with the model's masks, not the truth's, which
favours `model`: a `truth` loss below it is the stronger for it. `--other LABEL=CHECKPOINT` adds
another model's appearance masks, e.g. the same network trained with labels
(`supervised_ceiling.py`): masks this network can express, unlike the truth's, which asks
whether a better optimum is within the network's reach. `--train-pairs N` also scores N
training pairs (1-3 moving objects; `truth` is their union). `--path` follows the straight line
from the model's masks to the truth's: the loss along it, and whether the loss's gradient with
respect to the masks points towards the truth (`path_rows`): a lower loss at the end that the
gradient at the start does not lead to is a local optimum, not a weak objective.

    python research/mask_loss.py runs/cpu/checkpoint.pt --val-videos 50 --train-pairs 300 \\
        --other supervised=research/runs/cpu/supervised/val50_s1/checkpoint.pt --path \\
        --out research/runs/cpu/mask_loss/committed

Writes <out>/videos.csv (a row per video), <out>/train_pairs.csv, <out>/summary.{csv,md} and,
with --path, <out>/path.{csv,md}.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a plain checkout too

from amdlib.config import profile  # noqa: E402
from amdlib.io.atomic import atomic_write  # noqa: E402
from amdlib.io.checkpoint import load_checkpoint  # noqa: E402
from amdlib.data import DAVIS2016, generate_all, generate_more_davis  # noqa: E402
from amdlib.data.transforms import resize_images  # noqa: E402
from amdlib.evaluation.vos_metrics import jaccard  # noqa: E402
from amdlib.model.amd import AMD, AMDOutput  # noqa: E402
from amdlib.training.train import TrainConfig, training_pairs  # noqa: E402

SEGMENTATIONS = ("model", "model_hard", "truth", "one_segment")
ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--preset", default="cpu", help="synthetic preset (smoke for tests)")
    parser.add_argument("--data-root", default="data/generated")
    parser.add_argument("--val-videos", type=int, help="extend the preset's DAVIS-layout set to this many (e.g. 50)")
    parser.add_argument("--gap", type=int, help="frames between the two frames of a pair (default: the profile's)")
    parser.add_argument("--train-pairs", type=int, default=0, help="also score this many training pairs")
    parser.add_argument("--other", action="append", default=[], metavar="LABEL=CHECKPOINT",
                        help="also explain each pair with another model's appearance masks (e.g. one trained "
                             "with labels by supervised_ceiling.py: masks this network can express)")
    parser.add_argument("--path", action="store_true",
                        help="also the loss along the line from the model's masks to the truth's, and where its "
                             "gradient points (path.csv)")
    parser.add_argument("--eval-size", type=int, default=profile("cpu").eval_size[0],
                        help="validation frames resized to this for J (square; default: the cpu profile's eval_size)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "runs" / "cpu" / "mask_loss" / "default"))
    return parser.parse_args(argv)


class GivenMasks(nn.Module):
    """Stands in for the appearance pathway: returns fixed 2B,c,h,w masks whatever the images."""

    def __init__(self, masks: Tensor) -> None:
        super().__init__()
        self.masks = masks

    def forward(self, images: Tensor) -> Tensor:
        return self.masks


def explain(model: AMD, frames: Tensor, masks: Tensor) -> AMDOutput:
    """AMD's forward pass on B,2,3,H,W frame pairs with the B,2,c,h,w `masks` (softmax over c)
    in place of the appearance pathway's: how well the motion pathway, one flow vector per
    segment, reconstructs each frame through them. The model's own appearance pathway is put
    back afterwards; gradients flow to `masks`."""
    appearance = model.appearance
    model.appearance = GivenMasks(masks.flatten(0, 1))
    try:
        return model(frames)
    finally:
        model.appearance = appearance


def truth_masks(truth: Tensor, num_masks: int, size: tuple[int, int]) -> Tensor:
    """N,H,W bool object masks -> N,c,h,w soft masks: channel 1 the object's area fraction in
    each cell of the h,w grid, channel 0 the rest, further channels zero."""
    fraction = F.interpolate(truth[:, None].float(), size=size, mode="area")
    masks = torch.zeros(truth.shape[0], num_masks, *size)
    masks[:, 0:1], masks[:, 1:2] = 1 - fraction, fraction
    return masks


def segmentations(model: AMD, frames: Tensor, truth: Tensor, others: dict[str, AMD] | None = None) -> dict[str, Tensor]:
    """B,2,3,H,W frame pairs and B,2,H,W truth -> name -> B,2,c,h,w masks (h,w: the appearance
    grid); `others` adds the masks of other models' appearance pathways (resized to that grid)."""
    batch, c = frames.shape[0], model.config.num_masks
    images = frames.flatten(0, 1)
    soft = model.segment(images)  # 2B,c,h,w
    grid = tuple(soft.shape[-2:])
    hard = F.one_hot(soft.argmax(1), c).permute(0, 3, 1, 2).float()
    one = torch.zeros_like(soft)
    one[:, 0] = 1
    masks = {"model": soft, "model_hard": hard, "truth": truth_masks(truth.flatten(0, 1), c, grid), "one_segment": one}
    for name, other in (others or {}).items():
        masks[name] = other.segment(images, size=grid)
    return {name: m.unflatten(0, (batch, 2)) for name, m in masks.items()}


@torch.no_grad()
def pair_losses(model: AMD, frames: Tensor, truth: Tensor, others: dict[str, AMD] | None = None) -> dict[str, float]:
    """Mean loss over B,2,3,H,W pairs (at the flow input size) under each segmentation."""
    return {name: explain(model, frames, masks).loss.item()
            for name, masks in segmentations(model, frames, truth, others).items()}


def video_row(model: AMD, sequence, gap: int, eval_size: tuple[int, int],
              others: dict[str, AMD]) -> tuple[dict, tuple[Tensor, Tensor]]:
    """One validation video: every (t, t + gap) pair at the flow input size -> losses; and the
    model's channel-1 J and area on its frames at `eval_size`, as the emergence runs score them.
    Returns the row and the pairs (`video_pairs`), so that `--path` reads no frame twice."""
    if len(sequence) <= gap:
        raise ValueError(f"{sequence.name}: {len(sequence)} frames, too few for pairs {gap} apart")
    frames = torch.stack([sequence.frame(i) for i in range(len(sequence))])
    truth = torch.stack([sequence.mask(i) for i in range(len(sequence))])
    row = {"video": sequence.name, "object_area": truth.float().mean().item()}
    row.update(channel_one(model, resize_images(frames, eval_size), resize_truth(truth, eval_size)))
    pairs = video_pairs(model, frames, truth, gap)
    row.update({f"loss_{k}": v for k, v in pair_losses(model, *pairs, others).items()})
    return row, pairs


def video_pairs(model: AMD, frames: Tensor, truth: Tensor, gap: int) -> tuple[Tensor, Tensor]:
    """T,3,H,W frames and T,H,W truth -> every (t, t + gap) pair at the flow input size:
    P,2,3,h,w frames and P,2,h,w truth."""
    size = tuple(model.config.flow_size)
    small, small_truth = resize_images(frames, size), resize_truth(truth, size)
    return (torch.stack((small[:-gap], small[gap:]), 1),
            torch.stack((small_truth[:-gap], small_truth[gap:]), 1))


def path_rows(model, batches, label: str, alphas: tuple[float, ...] = ALPHAS) -> list[dict]:
    """The loss along the straight line from the model's masks to the truth's, and where the
    loss's gradient points, over (B,2,3,H,W frames, B,2,H,W truth) batches.

    At each alpha the masks are (1 - alpha) * model + alpha * truth. `cos_descent_truth` is the
    cosine between the steepest descent on channel 1's probability (the gradient with respect
    to the masks, projected onto the simplex: minus (g_1 - mean_k g_k)) and the change that
    would reach the truth (truth - model, channel 1), over all pixels; `descent_agrees_on_wrong`
    is the share of the wrongly assigned pixels (|truth - model| > 0.5; `wrong_share` of all) where
    their signs agree.
    Gradient descent on the masks moves towards the truth where the cosine is positive; at
    alpha 0 it is what training sees.
    """
    totals = {alpha: dict.fromkeys(("loss", "pairs", "dot", "descent2", "change2", "agree", "wrong", "pixels"), 0.0)
              for alpha in alphas}
    for frames, truth in batches:
        with torch.no_grad():
            masks = segmentations(model, frames, truth)
        start, target = masks["model"], masks["truth"]
        change = (target - start)[:, :, 1]
        wrong = change.abs() > 0.5
        for alpha in alphas:
            blend = ((1 - alpha) * start + alpha * target).requires_grad_(True)
            loss = explain(model, frames, blend).loss
            (gradient,) = torch.autograd.grad(loss, blend)
            descent = -(gradient[:, :, 1] - gradient.mean(2))
            t = totals[alpha]
            t["loss"] += loss.item() * frames.shape[0]
            t["pairs"] += frames.shape[0]
            t["dot"] += (descent * change).sum().item()
            t["descent2"] += descent.pow(2).sum().item()
            t["change2"] += change.pow(2).sum().item()
            t["agree"] += ((descent * change)[wrong] > 0).sum().item()
            t["wrong"] += wrong.sum().item()
            t["pixels"] += wrong.numel()
    return [{"set": label, "alpha": alpha, "pairs": int(t["pairs"]), "loss": t["loss"] / t["pairs"],
             "cos_descent_truth": t["dot"] / max((t["descent2"] * t["change2"]) ** 0.5, 1e-30),
             "descent_agrees_on_wrong": t["agree"] / max(t["wrong"], 1), "wrong_share": t["wrong"] / t["pixels"]}
            for alpha, t in totals.items()]


def resize_truth(truth: Tensor, size: tuple[int, int]) -> Tensor:
    """T,H,W bool -> T,*size bool (more than half of each cell)."""
    return F.interpolate(truth[:, None].float(), size=size, mode="area")[:, 0] > 0.5


def channel_one(model: AMD, frames: Tensor, truth: Tensor) -> dict[str, float]:
    """Channel 1's J and area (probability > 0.5) on T,3,H,W frames against T,H,W truth."""
    masks = model.segment(frames, size=tuple(frames.shape[-2:]))[:, 1:2] > 0.5
    return {"J_channel_1": jaccard(masks, truth[:, None]).mean().item(), "area_channel_1": masks.float().mean().item()}


def training_items(model: AMD, youtube: Path, split: Path, count: int, gap: int) -> list[tuple[int, Tensor, Tensor]]:
    """`count` training pairs spread evenly over the training videos, as whole frames at the flow
    input size (no flip or zoom): (index, 2,3,H,W frames, 2,H,W truth) each."""
    side = model.config.flow_size[0]
    config = TrainConfig.profile("cpu", crop_size=tuple(model.config.flow_size), short_side=side, scale_min=1.0,
                                 flip=False, frame_gap=gap)
    pairs = training_pairs(youtube, split, config, annotations="train_all_frames/Annotations")
    chosen = torch.linspace(0, len(pairs) - 1, min(count, len(pairs))).round().long().tolist()
    return [(index, *pairs[index]) for index in chosen]


def training_rows(model: AMD, items: list[tuple[int, Tensor, Tensor]], others: dict[str, AMD]) -> list[dict]:
    """A row per training pair (`training_items`): losses, and channel 1 on its first frame."""
    rows = []
    for index, frames, truth in items:
        row = {"pair": index, "object_area": truth[0].float().mean().item()}
        row.update(channel_one(model, frames[:1], truth[:1]))
        row.update({f"loss_{k}": v for k, v in pair_losses(model, frames[None], truth[None], others).items()})
        rows.append(row)
    return rows


def summary_rows(videos: pd.DataFrame, train: pd.DataFrame, others: tuple[str, ...] = ()) -> pd.DataFrame:
    """Mean J, area and loss per segmentation, and how often `truth` is below `model`, per kind of
    video (the kinds of failure, from channel 1's J and area) and over the training pairs."""
    failed = videos.J_channel_1 <= 0.5
    kinds = {"validation: all videos": videos,
             "validation: channel 1 is the object (J > 0.5)": videos[~failed],
             "validation: channel 1 floods the frame (area > 0.45)": videos[failed & (videos.area_channel_1 > 0.45)],
             "validation: channel 1 on the wrong region": videos[failed & (videos.area_channel_1 <= 0.45)],
             "training pairs (1-3 objects; truth = their union)": train}
    rows = []
    for kind, frame in kinds.items():
        if len(frame) == 0:
            continue
        row = {"set": kind, "count": len(frame), "J_channel_1": frame.J_channel_1.mean(),
               "area_channel_1": frame.area_channel_1.mean(), "object_area": frame.object_area.mean()}
        row.update({f"loss_{k}": frame[f"loss_{k}"].mean() for k in SEGMENTATIONS + others})
        row["truth_below_model"] = (frame.loss_truth < frame.loss_model).mean()
        for name in others:
            row[f"{name}_below_model"] = (frame[f"loss_{name}"] < frame.loss_model).mean()
        rows.append(row)
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    from amdlib.reports.tables import write_table

    model = load_checkpoint(args.checkpoint).eval()
    others = {label: load_checkpoint(path).eval() for label, path in (spec.split("=", 1) for spec in args.other)}
    gap = args.gap or TrainConfig.profile("cpu").frame_gap
    datasets = generate_all(Path(args.data_root) / args.preset, args.preset)
    folder = (generate_more_davis(Path(args.data_root) / args.preset, args.preset, args.val_videos)
              if args.val_videos else datasets.davis2016)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    eval_size = (args.eval_size, args.eval_size)
    rows, validation_pairs = zip(*(video_row(model, sequence, gap, eval_size, others)
                                   for sequence in DAVIS2016(folder)))
    videos = pd.DataFrame(rows)
    atomic_write(out / "videos.csv", lambda h: videos.to_csv(h, index=False), binary=False)
    items = training_items(model, datasets.youtube_vos, datasets.youtube_split, args.train_pairs, gap)
    train = pd.DataFrame(training_rows(model, items, others),
                         columns=["pair", "object_area", "J_channel_1", "area_channel_1"]
                         + [f"loss_{k}" for k in SEGMENTATIONS + tuple(others)])
    atomic_write(out / "train_pairs.csv", lambda h: train.to_csv(h, index=False), binary=False)
    summary = summary_rows(videos, train, tuple(others))
    if args.path:
        def training_batches():  # one pair at a time, as train_pairs.csv scores them (the loss
            for _, frames, truth in items:  # normalises by the visible share of the whole batch)
                yield frames[None], truth[None]

        path = pd.DataFrame(path_rows(model, validation_pairs, "validation pairs")
                            + (path_rows(model, training_batches(), "training pairs") if items else []))
        write_table(path, out / "path", float_format="{:.4f}")
        print(path.to_string(index=False, float_format="{:.4f}".format))
    write_table(summary, out / "summary", float_format="{:.4f}")
    print(summary.to_string(index=False, float_format="{:.4f}".format))
    return summary


if __name__ == "__main__":
    main()
