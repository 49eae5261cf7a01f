"""PASCAL VOC 2012 semantic segmentation, read in its distributed layout (docs/method.md sections 6c, 8).

    VOCdevkit/VOC2012/JPEGImages/<id>.jpg
    VOCdevkit/VOC2012/SegmentationClass/<id>.png      palette PNG: index 0-20, 255 = void
    VOCdevkit/VOC2012/ImageSets/Segmentation/{train,val}.txt   one id per line

`root` may be the folder that holds `VOCdevkit`, `VOCdevkit` itself, or `VOCdevkit/VOC2012`.
Images are looked up as `<id>.jpg` first and then under the other image suffixes (so a copy
with PNG images also loads). Label PNGs are read as palette INDICES; an RGB colour-map PNG is
decoded through `voc_colormap()` instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from .io import (DatasetError, DatasetFileNotFoundError, check_same_size, find_image, load_frame,
                 read_label, read_lines, require_dir)

VOC_CLASSES = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
    "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
    "train", "tvmonitor",
)
VOC_NUM_CLASSES = len(VOC_CLASSES)  # 21
VOC_IGNORE_INDEX = 255
"""Label of 'void' pixels (object borders and ambiguous regions); excluded from mIoU."""


def voc_colormap(size: int = 256) -> np.ndarray:
    """The standard VOC palette: uint8 size,3; colour of index i spreads i's bits over R, G, B.

    Bit 3k of i goes to the (7-k)-th bit of red, bit 3k+1 to green, bit 3k+2 to blue
    (index 1 = (128, 0, 0), 2 = (0, 128, 0), 255 = (224, 224, 192)).
    """
    cmap = np.zeros((size, 3), np.uint8)
    for index in range(size):
        value, r, g, b = index, 0, 0, 0
        for shift in range(7, -1, -1):
            r |= (value & 1) << shift
            g |= ((value >> 1) & 1) << shift
            b |= ((value >> 2) & 1) << shift
            value >>= 3
        cmap[index] = (r, g, b)
    return cmap


def voc_palette() -> list[int]:
    """The colour map flattened for `PIL.Image.putpalette` (768 values)."""
    return voc_colormap(256).reshape(-1).tolist()


class SegmentationSample(NamedTuple):
    image: Tensor
    """float32 3,H,W in [0,1]."""
    label: Tensor
    """int64 H,W: class 0-20, 255 = void."""
    name: str


def resolve_voc_root(root: Path) -> Path:
    """The `VOC2012` folder under any of the accepted roots."""
    root = Path(root)
    for candidate in (root / "VOCdevkit" / "VOC2012", root / "VOC2012", root):
        if (candidate / "JPEGImages").is_dir() or (candidate / "ImageSets").is_dir():
            return candidate
    raise DatasetFileNotFoundError(f"{root}: no VOCdevkit/VOC2012 (JPEGImages, ImageSets) found")


class VOC2012(Dataset[SegmentationSample]):
    """VOC 2012 segmentation split; item = (image 3,H,W float, label H,W long, id)."""

    def __init__(self, root: str | Path, split: str = "train", *, num_classes: int = VOC_NUM_CLASSES) -> None:
        self.root = resolve_voc_root(Path(root))
        self.split = split
        self.num_classes = num_classes
        split_file = self.root / "ImageSets" / "Segmentation" / f"{split}.txt"
        self.ids = [line.split()[0] for line in read_lines(split_file, f"VOC {split} list")]
        self.image_dir = require_dir(self.root / "JPEGImages", "VOC image")
        self.label_dir = require_dir(self.root / "SegmentationClass", "VOC label")
        self.images: list[Path] = []
        self.labels: list[Path] = []
        for name in self.ids:
            image = find_image(self.image_dir, name, (".jpg", ".jpeg", ".png"))
            if image is None:
                raise DatasetFileNotFoundError(
                    f"{self.image_dir / (name + '.jpg')}: image listed in {split_file} not found")
            label = self.label_dir / f"{name}.png"
            if not label.is_file():
                raise DatasetFileNotFoundError(f"{label}: label of {name} (listed in {split_file}) not found")
            self.images.append(image)
            self.labels.append(label)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> SegmentationSample:
        image = load_frame(self.images[index])
        label = read_label(self.labels[index], voc_colormap())
        check_same_size(self.images[index], tuple(image.shape[1:]), self.labels[index], label.shape)
        valid = (label < self.num_classes) | (label == VOC_IGNORE_INDEX)
        if not valid.all():
            bad = sorted(set(np.unique(label[~valid]).tolist()))
            raise DatasetError(f"{self.labels[index]}: label values {bad} outside "
                               f"0-{self.num_classes - 1} and 255")
        return SegmentationSample(image, torch.from_numpy(label), self.ids[index])
