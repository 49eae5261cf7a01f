"""DUTS-TE saliency images with binary masks (docs/method.md sections 6a, 8).

    <root>/DUTS-TE-Image/<name>.jpg    <root>/DUTS-TE-Mask/<name>.png

Images and masks pair by file stem; an image without a mask is an error (a silently skipped
image would change the benchmark). Masks: non-zero = salient (the real masks are 0/255, a few
with anti-aliased values).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from torch import Tensor
from torch.utils.data import Dataset

from .io import DatasetError, DatasetFileNotFoundError, list_images, load_frame, load_mask, require_dir


class SaliencySample(NamedTuple):
    image: Tensor
    """float32 3,H,W in [0,1]."""
    mask: Tensor
    """bool H,W."""
    name: str


class DUTSTE(Dataset[SaliencySample]):
    """DUTS-TE (5,019 images in the real set); item = (image, mask, name)."""

    def __init__(self, root: str | Path, *, image_dir: str = "DUTS-TE-Image",
                 mask_dir: str = "DUTS-TE-Mask") -> None:
        self.root = require_dir(Path(root), "DUTS-TE root")
        self.images = list_images(self.root / image_dir)
        if not self.images:
            raise DatasetError(f"{self.root / image_dir}: no images")
        mask_root = require_dir(self.root / mask_dir, "DUTS-TE mask")
        self.masks = []
        for image in self.images:
            mask = mask_root / f"{image.stem}.png"
            if not mask.is_file():
                raise DatasetFileNotFoundError(f"{mask}: mask of {image.name} not found")
            self.masks.append(mask)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> SaliencySample:
        image = load_frame(self.images[index])
        mask = load_mask(self.masks[index], tuple(image.shape[1:]), reference=self.images[index])
        return SaliencySample(image, mask, self.images[index].stem)
