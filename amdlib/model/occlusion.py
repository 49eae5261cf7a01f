"""Occlusion from the opposite flow by forward splatting (docs/method.md section 4).

A pixel of frame 1 is visible in frame 2 if some pixel of frame 2, moved by the backward flow
F21, lands near it. Each pixel q of frame 2 is sent to q + F21(q) on frame 1's grid and spreads
bilinear weights onto the four neighbouring pixels; where the summed weight stays below a
threshold (0.2 in the release) nothing maps there, so the pixel is occluded (or has left the
frame) and is left out of the photometric loss. This is ARFlow's `get_occu_mask_backward`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .warp import pixel_grid


@torch.no_grad()
def splat_weights(flow: Tensor) -> Tensor:
    """B,2,H,W flow of the OTHER frame -> B,1,H,W summed bilinear weight landing on each pixel."""
    batch, _, height, width = flow.shape
    flow = flow.float()
    target = (pixel_grid(height, width, flow) + flow).flatten(2)  # B,2,N
    # A non-finite flow lands nowhere (the NaN then surfaces in the loss, where training stops).
    target = torch.where(torch.isfinite(target), target, torch.full_like(target, -2.0))
    x, y = target[:, 0], target[:, 1]
    x0, y0 = torch.floor(x), torch.floor(y)
    total = torch.zeros(batch, height * width, dtype=flow.dtype, device=flow.device)
    for corner_x, weight_x in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
        for corner_y, weight_y in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
            inside = (corner_x >= 0) & (corner_x <= width - 1) & (corner_y >= 0) & (corner_y <= height - 1)
            index = (corner_y.clamp(0, height - 1) * width + corner_x.clamp(0, width - 1)).long()
            total.scatter_add_(1, index, weight_x * weight_y * inside)
    return total.view(batch, 1, height, width)


@torch.no_grad()
def visibility_mask(opposite_flow: Tensor, threshold: float = 0.2) -> Tensor:
    """B,2,H,W flow from the other frame to this one -> B,1,H,W mask, 1 = visible, 0 = occluded.

    For frame 1 pass F21 (frame 2 -> frame 1); for frame 2 pass F12. No gradient flows.
    """
    return (splat_weights(opposite_flow).clamp(0, 1) >= threshold).to(opposite_flow.dtype)
