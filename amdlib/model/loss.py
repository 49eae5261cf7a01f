"""The self-supervised objective: reconstruct each frame from the other (docs/method.md section 4).

For every output scale s with a non-zero weight, frames are area-downsampled to the flow's
size, frame 1 is rebuilt by warping frame 2 with the forward segment flow (and frame 2 from
frame 1 with the backward one), and the photometric error counts only visible pixels:

    L_ph(I, I_hat, O) = [0.15 mean(|I - I_hat| O) + 0.85 mean(DSSIM(I_hat O, I O))] / mean(O)
    L_s = (L_ph(I1, I1_hat, O1) + L_ph(I2, I2_hat, O2)) / 2,    total = sum_s w_s L_s

Occlusion masks are computed once at the finest scale and nearest-downsampled. This is
ARFlow's `unFlowLoss` with the release's settings. Loss arithmetic always runs in float32, so
that bf16/fp16 autocast changes only the networks.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ..config import AMDConfig
from .occlusion import visibility_mask
from .warp import warp

SSIM_C1 = 0.01**2
SSIM_C2 = 0.03**2


def ssim_distance(x: Tensor, y: Tensor) -> Tensor:
    """DSSIM = clamp((1 - SSIM) / 2, 0, 1) from 3x3 average pooling without padding.

    B,C,H,W inputs -> B,C,H-2,W-2.
    """
    pool = lambda t: F.avg_pool2d(t, 3, stride=1, padding=0)  # noqa: E731
    mu_x, mu_y = pool(x), pool(y)
    sigma_x = pool(x * x) - mu_x**2
    sigma_y = pool(y * y) - mu_y**2
    sigma_xy = pool(x * y) - mu_x * mu_y
    numerator = (2 * mu_x * mu_y + SSIM_C1) * (2 * sigma_xy + SSIM_C2)
    denominator = (mu_x**2 + mu_y**2 + SSIM_C1) * (sigma_x + sigma_y + SSIM_C2)
    return torch.clamp((1 - numerator / denominator) / 2, 0, 1)


def photometric_loss(image: Tensor, reconstruction: Tensor, visible: Tensor,
                     l1_weight: float = 0.15, ssim_weight: float = 0.85, per_pair: bool = False) -> Tensor:
    """L_ph for B,3,H,W image and reconstruction and a B,1,H,W visibility mask -> scalar.

    Dividing by mean(O) keeps the loss from rewarding masks that declare everything occluded.
    With `per_pair`, each pair is normalised by its own mean(O) and the results averaged.
    """
    dims = (1, 2, 3) if per_pair else (0, 1, 2, 3)
    terms = []
    if l1_weight > 0:
        terms.append(l1_weight * ((image - reconstruction).abs() * visible).mean(dims))
    if ssim_weight > 0:
        terms.append(ssim_weight * ssim_distance(reconstruction * visible, image * visible).mean(dims))
    return (sum(terms) / visible.mean(dims)).mean()


def smoothness_loss(flow: Tensor, image: Tensor, alpha: float = 10.0) -> Tensor:
    """First-order edge-aware smoothness of a B,2,H,W flow guided by a B,3,H,W image -> scalar.

    Configured by the release (weight 50, alpha 10) and then never added to its objective
    (docs/method.md section 4); available here for ablations.
    """
    image_dx = (image[..., :, 1:] - image[..., :, :-1]).abs().mean(1, keepdim=True)
    image_dy = (image[..., 1:, :] - image[..., :-1, :]).abs().mean(1, keepdim=True)
    flow_dx = (flow[..., :, 1:] - flow[..., :, :-1]).abs()
    flow_dy = (flow[..., 1:, :] - flow[..., :-1, :]).abs()
    loss_x = (torch.exp(-alpha * image_dx) * flow_dx / 2).mean()
    loss_y = (torch.exp(-alpha * image_dy) * flow_dy / 2).mean()
    return loss_x / 2 + loss_y / 2


@dataclass
class LossTerms:
    """The objective and its parts. `photometric[s]` is L_s before its scale weight."""

    total: Tensor
    photometric: list[Tensor]
    smoothness: Tensor
    visible: Tensor
    """B,2,1,H,W visibility masks at the finest scale (frame 1, frame 2)."""


def amd_loss(frame1: Tensor, frame2: Tensor, flows: list[Tensor], config: AMDConfig) -> LossTerms:
    """Objective for B,3,H,W frames in [0,1] at the flow input size and per-scale flows.

    `flows[s]` is B,2,2,h,w, finest first: [:, 0] the forward flow F12 (on frame 1's grid,
    warps frame 2), [:, 1] the backward flow F21.
    """
    frame1, frame2 = frame1.float(), frame2.float()
    finest = flows[0].float()
    if config.occlusion:
        visible1 = visibility_mask(finest[:, 1], config.occlusion_threshold)
        visible2 = visibility_mask(finest[:, 0], config.occlusion_threshold)
    else:
        visible1 = visible2 = finest.new_ones(finest.shape[0], 1, *finest.shape[-2:])

    total = frame1.new_zeros(())
    photometric: list[Tensor] = []
    for scale, flow in enumerate(flows):
        weight = config.scale_weights[scale] if scale < len(config.scale_weights) else 0.0
        if weight == 0:
            photometric.append(frame1.new_zeros(()))
            continue
        flow = flow.float()
        size = flow.shape[-2:]
        if min(size) < 3:
            raise ValueError(f"flow scale {scale} is {tuple(size)}, too small for the 3x3 SSIM; "
                             f"use a larger flow_size or give that scale weight 0 (scale_weights)")
        image1 = F.interpolate(frame1, size, mode="area")
        image2 = F.interpolate(frame2, size, mode="area")
        o1 = F.interpolate(visible1, size, mode="nearest")
        o2 = F.interpolate(visible2, size, mode="nearest")
        weights = (config.l1_weight, config.ssim_weight, config.per_pair_normalization)
        forward = photometric_loss(image1, warp(image2, flow[:, 0]), o1, *weights)
        backward = photometric_loss(image2, warp(image1, flow[:, 1]), o2, *weights)
        term = (forward + backward) / 2
        photometric.append(term)
        total = total + weight * term

    smoothness = frame1.new_zeros(())
    if config.smooth_weight > 0:
        # As the release: flows scaled by the finest scale's short side, finest scale only.
        size = finest.shape[-2:]
        image1 = F.interpolate(frame1, size, mode="area")
        image2 = F.interpolate(frame2, size, mode="area")
        norm = min(size)
        smoothness = (smoothness_loss(finest[:, 0] / norm, image1) + smoothness_loss(finest[:, 1] / norm, image2)) / 2
        total = total + config.smooth_weight * smoothness
    return LossTerms(total, photometric, smoothness, torch.stack((visible1, visible2), 1))
