"""Segment flow: the paper's bottleneck between the two pathways (Liu et al. 2021, section 3).

Given the motion feature map V (B,D,H,W) of a frame pair and the c soft masks S (B,c,H,W) of
the frame being warped, the motion of the pair is explained by ONE flow vector per segment:

    (1)  V_k  = sum_p V(p) S_k(p) / sum_p S_k(p)      masked average pooling of the feature
    (2)  F_k  = g(V_k)                                 one 2-D flow vector per segment
    (3)  F(p) = sum_k S_k(p) F_k                       the segment flow field

Because a single vector per segment can only reconstruct the other frame well when the segments
follow things that move coherently, training through this bottleneck makes masks that follow
objects. The motion pathway (motion.py) applies (1)-(3) at every pyramid level and accumulates
F_k from coarse to fine (docs/method.md section 3 steps 7-8).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def masked_average_pool(features: Tensor, masks: Tensor, eps: float = 0.0) -> Tensor:
    """Formula (1): B,D,H,W features and B,c,H,W masks -> B,c,D per-segment mean features.

    The divisor is each mask's sum clamped from below to max(`eps`, the dtype's smallest normal
    number): wherever the release's bare division is finite the result equals it, and an empty
    segment pools to 0 where the release gives NaN (docs/method.md section 3 step 7).
    """
    weighted_sum = masks.flatten(2) @ features.flatten(2).transpose(1, 2)  # B,c,D
    mask_area = masks.flatten(2).sum(-1, keepdim=True)  # B,c,1
    floor = max(float(eps), torch.finfo(mask_area.dtype).tiny)
    return weighted_sum / mask_area.clamp_min(floor)


class SegmentFlowHead(nn.Module):
    """Formula (2): g, a 1x1 conv 96->64, LeakyReLU(0.1), 1x1 conv 64->2, applied per segment.

    Kept as 1x1 convolutions (not linear layers) so that the release's weights load unchanged.
    """

    def __init__(self, in_channels: int = 96, hidden_channels: int = 64) -> None:
        super().__init__()
        self.hidden = nn.Conv2d(in_channels, hidden_channels, 1)
        self.out = nn.Conv2d(hidden_channels, 2, 1)

    def forward(self, segment_features: Tensor) -> Tensor:
        """B,c,D pooled features -> B,c,2 flow vectors (x, y) in pixels of the current level."""
        x = segment_features.transpose(1, 2).unsqueeze(-1)  # B,D,c,1
        x = self.out(F.leaky_relu(self.hidden(x), 0.1))
        return x.squeeze(-1).transpose(1, 2)

    def per_pixel(self, features: Tensor) -> Tensor:
        """g at every pixel: B,D,H,W motion features -> B,2,H,W dense flow in pixels.

        The release computes this dense flow too but never puts it in the loss (docs/method.md section 3);
        here it serves only the ablation `AMDConfig.segment_flow=False`, which uses it instead of
        formulas (1)-(3). Same weights as the per-segment g, so both variants have identical
        parameters and differ only in the bottleneck.
        """
        return self.out(F.leaky_relu(self.hidden(features), 0.1))


def segment_flow_field(masks: Tensor, segment_flows: Tensor) -> Tensor:
    """Formula (3): B,c,H,W masks and B,c,2 vectors -> B,2,H,W flow, sum_k S_k(p) F_k."""
    return (segment_flows.transpose(1, 2) @ masks.flatten(2)).unflatten(2, masks.shape[-2:])
