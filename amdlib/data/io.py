"""Reading images, masks, label maps and list files, with clear errors for bad input.

Every loader in `amdlib.data` reads files through this module, so the repairs and errors below
hold for all of them (docs/method.md section 8: the real datasets are read unchanged).

Repairs (documented, silent):
- frames: grayscale -> RGB by replicating the channel; RGBA / LA / PA -> the alpha channel is
  DROPPED (not composited over any colour); 16-bit (PIL modes I;16*, I) -> scaled to 8 bit by
  value / 257 (65535 -> 255); palette (P) frames -> RGB through their palette; CMYK / YCbCr ->
  RGB.
- masks: palette (P) masks are read as their INDEX values (not their colours); any mask is
  "object" where its value is non-zero (docs/method.md section 8: masks may be anti-aliased or
  multi-valued; non-zero = object); RGB(A) masks are object where any colour channel is non-zero
  (alpha ignored).
- label maps (VOC): palette or grayscale -> index values; RGB colour-map PNGs are mapped back
  through the VOC colour map.

Errors: every problem raises `DatasetError` (a `ValueError`) naming the file and the problem; a
missing file raises `DatasetFileNotFoundError`, which is also a `FileNotFoundError`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
"""File suffixes treated as images (matched case-insensitively)."""


class DatasetError(ValueError):
    """A dataset file or folder is missing, unreadable or inconsistent; the message names it."""


class DatasetFileNotFoundError(DatasetError, FileNotFoundError):
    """A file or folder a dataset needs does not exist (catchable as FileNotFoundError too)."""


def require_file(path: Path, what: str) -> Path:
    """`path` if it is an existing file, else `DatasetFileNotFoundError` saying what it was."""
    path = Path(path)
    if not path.is_file():
        raise DatasetFileNotFoundError(f"{path}: {what} not found")
    return path


def require_dir(path: Path, what: str) -> Path:
    """`path` if it is an existing folder, else `DatasetFileNotFoundError`."""
    path = Path(path)
    if not path.is_dir():
        raise DatasetFileNotFoundError(f"{path}: {what} folder not found")
    return path


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def natural_key(name: str) -> tuple:
    """Sort key that orders the digit runs of a name by value: frame_2 before frame_10.

    Zero-padded names (00000.jpg ...) keep their text order; the name itself breaks ties
    (e.g. "1" and "01")."""
    parts = re.split(r"(\d+)", name)
    return tuple(int(part) if i % 2 else part for i, part in enumerate(parts)), name


def natural_sorted(paths: Iterable[Path]) -> list[Path]:
    """`paths` in natural order of their names (`natural_key`)."""
    return sorted(paths, key=lambda p: natural_key(p.name))


def list_images(folder: Path) -> list[Path]:
    """Image files directly inside `folder` in frame order: natural order of their names, so
    frame_1, frame_2, ..., frame_10 (not frame_1, frame_10, frame_2)."""
    folder = require_dir(folder, "image")
    return natural_sorted(p for p in folder.iterdir() if p.is_file() and is_image(p))


def list_folders(folder: Path) -> list[Path]:
    """Sub-folders of `folder` (sequences, videos) in natural order of their names."""
    return natural_sorted(p for p in folder.iterdir() if p.is_dir())


def find_image(folder: Path, stem: str, extensions: Iterable[str] = IMAGE_EXTENSIONS) -> Path | None:
    """`folder/stem<ext>` for the first extension that exists (e.g. VOC ids, split tokens)."""
    for ext in extensions:
        candidate = folder / f"{stem}{ext}"
        if candidate.is_file():
            return candidate
    return None


def read_lines(path: Path, what: str) -> list[str]:
    """Non-empty, stripped lines of a list file; errors if it is missing or lists nothing."""
    path = require_file(path, what)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise DatasetError(f"{path}: cannot read {what}: {err}") from err
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if not lines:
        raise DatasetError(f"{path}: {what} is empty (lists nothing)")
    return lines


def open_image(path: Path, what: str) -> Image.Image:
    """Open and fully decode an image; corrupt or truncated files raise `DatasetError`."""
    path = require_file(path, what)
    try:
        image = Image.open(path)
        image.load()  # decode now: a truncated file fails here, not later in a worker
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise DatasetError(f"{path}: cannot decode {what} (corrupt or truncated?): {err}") from err
    return image


def _sixteen_to_eight(values: np.ndarray) -> np.ndarray:
    """16-bit range 0..65535 -> 0..255 (value / 257, rounded)."""
    return np.clip(np.rint(values.astype(np.float64) / 257.0), 0, 255).astype(np.uint8)


def image_size(path: Path) -> tuple[int, int]:
    """(height, width) of an image file, read from its header without decoding the pixels."""
    path = require_file(path, "image")
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise DatasetError(f"{path}: cannot read image header: {err}") from err
    return height, width


def read_rgb(path: Path) -> np.ndarray:
    """An image file -> uint8 array H,W,3 (repairs in the module docstring)."""
    image = open_image(path, "image")
    mode = image.mode
    if mode in ("RGB",):
        array = np.asarray(image)
    elif mode in ("L", "1"):
        gray = np.asarray(image.convert("L"))
        array = np.repeat(gray[:, :, None], 3, axis=2)
    elif mode.startswith("I;16") or mode == "I":
        gray = _sixteen_to_eight(np.asarray(image))
        array = np.repeat(gray[:, :, None], 3, axis=2)
    elif mode in ("RGBA", "RGBX", "RGBa"):
        array = np.asarray(image)[:, :, :3]  # alpha dropped, not composited
    elif mode in ("LA", "La"):
        gray = np.asarray(image)[:, :, 0]
        array = np.repeat(gray[:, :, None], 3, axis=2)
    elif mode in ("P", "PA", "CMYK", "YCbCr", "LAB", "HSV"):
        array = np.asarray(image.convert("RGB"))  # a palette's alpha is dropped as well
    else:
        raise DatasetError(f"{path}: unsupported image mode {mode!r}")
    array = np.ascontiguousarray(array, dtype=np.uint8)
    return array if array.flags.writeable else array.copy()  # PIL's buffers are read-only


def read_mask(path: Path, threshold: int = 0) -> np.ndarray:
    """A mask file -> bool array H,W: True where the value is above `threshold` (default: non-zero).

    Palette masks compare their index values, RGB(A) masks any colour channel, 16-bit masks their
    raw values.
    """
    image = open_image(path, "mask")
    mode = image.mode
    if mode == "1":
        return np.asarray(image, dtype=bool).copy()
    if mode in ("L", "P") or mode.startswith("I;16") or mode in ("I", "F"):
        values = np.asarray(image)
    elif mode in ("LA", "La", "PA"):
        values = np.asarray(image)[:, :, 0]
    elif mode in ("RGB", "RGBA", "RGBX", "RGBa"):
        values = np.asarray(image)[:, :, :3].max(axis=2)
    else:
        raise DatasetError(f"{path}: unsupported mask mode {mode!r}")
    return np.asarray(values > threshold, dtype=bool)


def read_label(path: Path, colormap: np.ndarray | None = None) -> np.ndarray:
    """A label-map file -> int64 array H,W of class indices.

    Palette and grayscale PNGs give their index values. An RGB file is decoded through
    `colormap` (an N,3 uint8 array, row i = colour of index i; required for RGB files); a colour
    that is not in the map raises `DatasetError`.
    """
    image = open_image(path, "label map")
    mode = image.mode
    if mode in ("P", "L"):
        return np.asarray(image).astype(np.int64)
    if mode.startswith("I;16") or mode == "I":
        return np.asarray(image).astype(np.int64)
    if mode in ("RGB", "RGBA"):
        if colormap is None:
            raise DatasetError(f"{path}: RGB label map needs a colour map to decode")
        rgb = np.asarray(image)[:, :, :3].astype(np.int64)
        codes = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
        cmap = colormap.astype(np.int64)
        table = (cmap[:, 0] << 16) | (cmap[:, 1] << 8) | cmap[:, 2]
        # First index wins where two indices share a colour (VOC's map is unique on 0-20, 255).
        keys, first = np.unique(table, return_index=True)
        pos = np.searchsorted(keys, codes).clip(0, len(keys) - 1)
        found = keys[pos] == codes
        if not found.all():
            bad = rgb[~found][0]
            raise DatasetError(f"{path}: colour {tuple(int(v) for v in bad)} is not in the colour map")
        return first[pos].astype(np.int64)
    raise DatasetError(f"{path}: unsupported label-map mode {mode!r}")


def to_tensor(array: np.ndarray) -> Tensor:
    """uint8 H,W,3 -> float32 3,H,W in [0,1]."""
    return torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1).float().div_(255.0)


def load_frame(path: Path) -> Tensor:
    """An image file -> float32 tensor 3,H,W with values in [0,1] (no normalisation)."""
    return to_tensor(read_rgb(path))


def check_same_size(reference: Path, size: tuple[int, int], other: Path, other_size: tuple[int, int]) -> None:
    """`DatasetError` naming both files when two sizes (H,W) that must agree do not."""
    if tuple(size) != tuple(other_size):
        raise DatasetError(
            f"{other}: size {other_size[0]}x{other_size[1]} (HxW) does not match "
            f"{reference} ({size[0]}x{size[1]})"
        )


def load_mask(path: Path, size: tuple[int, int] | None = None, *, reference: Path | None = None,
              threshold: int = 0) -> Tensor:
    """A mask file -> bool tensor H,W; with `size` (H,W) a mismatch raises `DatasetError`."""
    mask = read_mask(path, threshold)
    if size is not None:
        check_same_size(reference if reference is not None else Path("<frame>"), size, path, mask.shape)
    return torch.from_numpy(mask)


def data_identity(path: str | os.PathLike | None) -> str | None:
    """What identifies a dataset (or a split file) for caching: a generated dataset's SHA-256
    from its manifest (it changes when the generator or its config does), a file's own SHA-256,
    else the resolved path of a folder."""
    if path is None:
        return None
    path = Path(path)
    manifest = path / "manifest.json"
    if manifest.is_file():
        return "sha256:" + json.loads(manifest.read_text())["sha256"]
    if path.is_file():
        return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    return str(path.resolve())
