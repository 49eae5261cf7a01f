"""Backward warping: sample an image at positions displaced by a flow field.

`warp(image, flow)(p) = image(p + flow(p))`, bilinear, with pixel centres at integer
coordinates (`align_corners=True`) and border padding, as the release (ARFlow's `flow_warp`)
does for both the feature warps of the motion pathway (docs/method.md section 3 step 2) and the image
reconstructions of the loss (docs/method.md section 4).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def pixel_grid(height: int, width: int, like: Tensor) -> Tensor:
    """1,2,H,W grid of pixel coordinates (x first, then y), dtype and device of `like`."""
    ys = torch.arange(height, dtype=like.dtype, device=like.device)
    xs = torch.arange(width, dtype=like.dtype, device=like.device)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack((grid_x, grid_y)).unsqueeze(0)


def warp(image: Tensor, flow: Tensor, padding_mode: str = "border") -> Tensor:
    """Backward-warp `image` (B,C,H,W) with `flow` (B,2,H,W; x then y, in pixels).

    Returns B,C,H,W where out(p) = image(p + flow(p)), bilinear interpolation.
    """
    if image.shape[-2:] != flow.shape[-2:] or flow.shape[1] != 2:
        raise ValueError(f"warp needs image B,C,H,W and flow B,2,H,W of the same H,W; got "
                         f"{tuple(image.shape)} and {tuple(flow.shape)}")
    height, width = image.shape[-2:]
    flow = flow.to(image.dtype)
    position = pixel_grid(height, width, flow) + flow
    # grid_sample wants coordinates in [-1, 1] with -1/+1 at the corner pixels' centres.
    scale = torch.tensor([2.0 / max(width - 1, 1), 2.0 / max(height - 1, 1)],
                         dtype=flow.dtype, device=flow.device).view(1, 2, 1, 1)
    grid = (position * scale - 1.0).permute(0, 2, 3, 1)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode=padding_mode, align_corners=True)
