"""The training-pair transform of the release (docs/method.md section 5), without its quirks.

Both frames of a pair get exactly the same geometry: short side resized to
`short_side * U[scale_min, 1]` (release: 400 and 0.96), the same random crop (release 384x384),
and, optionally, the same horizontal flip (off in the release; the paper mentions it).
Portrait frames keep their orientation (the release transposes them). Values stay in [0,1]:
ImageNet normalisation happens inside the model, not here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass(frozen=True)
class PairTransform:
    """Resize (short side), crop and flip a stack of frames the same way; randomness from a Generator."""

    short_side: int = 400
    scale_min: float = 0.96
    crop: tuple[int, int] | None = (384, 384)
    """(height, width) of the crop; None keeps the whole resized frame. When the resized frame
    is smaller than the crop in either direction, it is scaled up just enough to hold it."""
    flip: bool = False

    def __post_init__(self) -> None:
        if self.short_side < 1:
            raise ValueError(f"short_side must be >= 1, got {self.short_side}")
        if not 0 < self.scale_min <= 1:
            raise ValueError(f"scale_min must be in (0, 1], got {self.scale_min}")
        if self.crop is not None:
            if len(self.crop) != 2 or min(self.crop) < 1:
                raise ValueError(f"crop must be (height, width) or None, got {self.crop}")
            object.__setattr__(self, "crop", (int(self.crop[0]), int(self.crop[1])))

    def output_size(self, height: int, width: int, u: float) -> tuple[int, int]:
        """Size after the resize, for a frame of height x width and a draw u in [0, 1)."""
        scale = self.short_side * (self.scale_min + (1 - self.scale_min) * u) / min(height, width)
        if self.crop is not None:
            scale = max(scale, self.crop[0] / height, self.crop[1] / width)
        size = (max(1, round(height * scale)), max(1, round(width * scale)))
        if self.crop is not None:
            size = (max(size[0], self.crop[0]), max(size[1], self.crop[1]))
        return size

    def __call__(self, frames: Tensor, generator: torch.Generator,
                 masks: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """frames N,3,H,W (uint8 or float in [0,1]), masks N,H,W bool (optional)
        -> float32 N,3,h,w in [0,1] and bool N,h,w, transformed identically.

        Four numbers are drawn from `generator` in a fixed order (scale, crop top, crop left,
        flip), whatever the options, so a sample's randomness does not depend on them.
        """
        draws = torch.rand(4, generator=generator, dtype=torch.float64).tolist()
        height, width = frames.shape[-2:]
        size = self.output_size(height, width, draws[0])
        if size != (height, width):
            # uint8 frames are resized as uint8 in NHWC: faster than in float32 and within one
            # grey level of it (docs/method.md section 9).
            if frames.dtype == torch.uint8:
                frames = frames.contiguous(memory_format=torch.channels_last)
            frames = F.interpolate(frames, size=size, mode="bilinear", align_corners=False, antialias=True)
            if frames.is_floating_point():
                frames = frames.clamp_(0.0, 1.0)
            if masks is not None:
                masks = F.interpolate(masks[:, None].float(), size=size, mode="nearest-exact")[:, 0] > 0.5
        if self.crop is not None:
            crop_h, crop_w = self.crop
            top = min(int(draws[1] * (size[0] - crop_h + 1)), size[0] - crop_h)
            left = min(int(draws[2] * (size[1] - crop_w + 1)), size[1] - crop_w)
            frames = frames[..., top:top + crop_h, left:left + crop_w]
            if masks is not None:
                masks = masks[..., top:top + crop_h, left:left + crop_w]
        if frames.dtype == torch.uint8:
            frames = frames.float().div_(255.0)
        if self.flip and draws[3] < 0.5:
            frames = frames.flip(-1)
            if masks is not None:
                masks = masks.flip(-1)
        return frames.contiguous(), None if masks is None else masks.contiguous()


def resize_images(images: Tensor, size: tuple[int, int]) -> Tensor:
    """N,C,H,W images to `size` (H,W): bilinear with antialiasing, the resize every model input
    goes through at evaluation time (downscaling without it aliases fine texture)."""
    return F.interpolate(images, size=tuple(size), mode="bilinear", align_corners=False, antialias=True)
