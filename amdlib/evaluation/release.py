"""The release's own VOS inference and metric, as a named preprocessing for its weights.

The authors' test config (docs/method.md section 6): each frame's short side resized to
400 x 0.98 = 392 with the aspect kept, ImageNet normalisation, the softmax channel
`AMD.object_channel` (1 for the release) taken as the object, bilinearly resized to the
annotation size, threshold 0.5, and one two-class mIoU pooled over the whole dataset
(`vos_metrics.pooled_two_class_miou`) instead of DAVIS's per-sequence J. The appearance pathway
normalises with the ImageNet statistics itself (`AppearancePathway.logits`), so frames go in
as [0,1] values and are not normalised twice.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .vos_metrics import foreground_counts, pooled_two_class_miou
from ..model.amd import AMD

RELEASE_SHORT_SIDE = 392
"""400 x 0.98: the short side of the release's test frames."""


def release_input_size(height: int, width: int, short_side: int = RELEASE_SHORT_SIDE,
                       multiple: int = 8) -> tuple[int, int]:
    """H,W a frame of `height` x `width` is resized to: short side `short_side`, aspect kept
    (mmcv's rounding, int(x * scale + 0.5)), each side then rounded to the nearest multiple of
    `multiple` (8: the appearance net's output stride, so its 1/8 grid tiles the frame exactly;
    1: the release's own size). DAVIS 480x854 -> 392x696 (392x697 with multiple=1)."""
    scale = short_side / min(height, width)
    sides = (int(height * scale + 0.5), int(width * scale + 0.5))
    return tuple(max(multiple, multiple * round(s / multiple)) for s in sides)


def object_channel_of(model: AMD, channel: int | None = None) -> int:
    """`channel` when given, else the model's `object_channel`; an error when neither is known."""
    channel = getattr(model, "object_channel", None) if channel is None else channel
    if channel is None:
        raise ValueError("no object channel: pass `channel` (this model has no object_channel)")
    return int(channel)


@torch.no_grad()
def release_segment(model: AMD, frames: Tensor, size: tuple[int, int], channel: int | None = None) -> Tensor:
    """B,3,H,W frames in [0,1] -> B,*size object probability, the release's way: frames resized
    bilinearly (no antialiasing, as its image resize) to `release_input_size`, the softmax
    masks' object channel bilinearly resized to `size` (the annotation's H,W)."""
    model.eval()
    device = next(model.parameters()).device
    images = F.interpolate(frames.to(device).float(), size=release_input_size(*frames.shape[-2:]),
                           mode="bilinear", align_corners=False).clamp(0, 1)
    k = object_channel_of(model, channel)
    masks = model.segment(images)[:, k:k + 1]
    return F.interpolate(masks, size=size, mode="bilinear", align_corners=False)[:, 0].cpu()


def release_vos_miou(model: AMD, sequences, channel: int | None = None, batch_size: int = 8) -> float:
    """The release's score of a VOS set: every annotated frame segmented by `release_segment`,
    > 0.5 foreground, one pooled two-class mIoU over all frames of all sequences. Streams one
    batch of frames at a time."""
    counts, pixels = [], []
    for sequence in sequences:
        for batch, frames in sequence.annotated_batches(batch_size):
            truth = sequence.truth(batch)
            probability = release_segment(model, frames, tuple(truth.shape[-2:]), channel)
            counts.append(foreground_counts(probability.numpy() > 0.5, truth.numpy()))
            pixels += [truth.shape[-2] * truth.shape[-1]] * len(batch)
    if not counts:
        raise ValueError("no annotated frames to score")
    return pooled_two_class_miou(np.concatenate(counts), torch.tensor(pixels))
