"""Segmentation metrics.

J (region similarity, Jaccard index / IoU) between a predicted foreground and the ground truth,
as in DAVIS and SPEC section 6b: probability > 0.5 is foreground, multiple objects merged.
"""

from __future__ import annotations

import torch
from torch import Tensor


def jaccard(prediction: Tensor, truth: Tensor) -> Tensor:
    """J per item for boolean ...,H,W prediction and truth -> ... ; both empty counts as 1."""
    prediction, truth = prediction.bool(), truth.bool()
    intersection = (prediction & truth).flatten(-2).sum(-1).float()
    union = (prediction | truth).flatten(-2).sum(-1).float()
    return torch.where(union > 0, intersection / union.clamp(min=1), torch.ones_like(union))


def channel_jaccard(masks: Tensor, truth: Tensor, threshold: float = 0.5) -> Tensor:
    """J of every mask channel: B,c,h,w probabilities and B,H,W ground truth -> B,c.

    Masks are resized bilinearly to the ground truth's size before thresholding.
    """
    if masks.shape[-2:] != truth.shape[-2:]:
        masks = torch.nn.functional.interpolate(masks.float(), size=truth.shape[-2:], mode="bilinear",
                                                align_corners=False)
    return jaccard(masks > threshold, truth.unsqueeze(1))
