"""Unlabeled training pairs from videos in the YouTube-VOS layout (docs/method.md sections 5, 8).

Layout: `<root>/train_all_frames/JPEGImages/<video>/<frame>.jpg` and a split file with one line
per video:

    <folder relative to root> <frame> <frame> ...

e.g. `train_all_frames/JPEGImages/003234408d 00000 00001 00002`. Frames are listed in temporal
order, by name with or without extension (without: the extension of the first listed frame is
found on disk, trying .jpg, .jpeg, .png, ...). A line with only a folder takes every image in it,
sorted by name. Without a split file, every sub-folder of `<root>/train_all_frames/JPEGImages`
(or of `root` itself when that does not exist) that holds images is a video.

One item = one video. A pair = a random listed frame i among those with a successor and the
frame `gap` positions later in the list (i + gap); so never an identical-frame pair (the
release's quirk when it drew the last frame). Both frames then go through `PairTransform`.

Reproducible randomness: item `index` draws everything (the pair and the transform) from a
torch.Generator seeded with a hash of (seed, epoch, index), never from global RNG state. So an
item is the same in any worker process, with any number of DataLoader workers, and across runs.
Call `set_epoch(e)` before each epoch (like DistributedSampler) to get new pairs per epoch; with
`persistent_workers=True` the workers keep the epoch they were started with, so either leave
persistent workers off or call `sample(index, epoch)` from your own sampler. Shuffle the video
order with a seeded generator too, e.g.
`RandomSampler(ds, generator=torch.Generator().manual_seed(seed + epoch))`.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from .io import (IMAGE_EXTENSIONS, DatasetError, DatasetFileNotFoundError, data_identity, is_image, list_images,
                 read_lines, read_mask, read_rgb, require_dir, require_file)
from .transforms import PairTransform


def derive_seed(*values: int) -> int:
    """A 63-bit seed that mixes the given integers (numpy SeedSequence hashing)."""
    state = np.random.SeedSequence([int(v) for v in values]).generate_state(2, dtype=np.uint32)
    return ((int(state[0]) << 32) | int(state[1])) & ((1 << 63) - 1)


class SeededItems(Dataset):
    """A dataset whose item `index` of `epoch` draws all its randomness from one generator seeded
    by (seed, epoch, index), so an item is the same in any worker, process or resumed run.
    Subclasses set `seed` and `epoch`."""

    seed: int
    epoch: int

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose pairs and augmentations `__getitem__` returns."""
        self.epoch = int(epoch)

    def generator(self, index: int, epoch: int | None = None) -> torch.Generator:
        """The torch.Generator that item `index` of `epoch` draws from."""
        epoch = self.epoch if epoch is None else epoch
        return torch.Generator().manual_seed(derive_seed(self.seed, epoch, index))


@dataclass(frozen=True)
class VideoEntry:
    """One listed video: its name (folder name), folder and frame files in temporal order."""

    name: str
    folder: Path
    frames: tuple[Path, ...]


@dataclass
class PairSample:
    frames: Tensor
    """float32 2,3,h,w in [0,1] (frame i, frame i + gap)."""
    masks: Tensor | None
    """bool 2,h,w foreground masks when the dataset has `annotations`, else None."""
    video: str
    indices: tuple[int, int]
    """Positions of the two frames in the video's frame list."""


def _resolve_split_file(root: Path, split_file: str | Path) -> Path:
    path = Path(split_file)
    if not path.is_absolute() and not path.exists() and (root / path).exists():
        path = root / path
    return require_file(path, "split file")


def _frame_paths(folder: Path, tokens: list[str], where: str) -> tuple[Path, ...]:
    """The listed frames of one split-file line; every one must exist (a missing frame is found
    here, naming the line, not when a pair happens to draw it)."""
    if not tokens:
        return tuple(list_images(folder))
    if is_image(Path(tokens[0])):
        paths = tuple(folder / token for token in tokens)
    else:
        ext = next((e for e in IMAGE_EXTENSIONS if (folder / f"{tokens[0]}{e}").is_file()), None)
        if ext is None:
            raise DatasetFileNotFoundError(
                f"{folder / tokens[0]}.*: first frame listed in {where} not found "
                f"(tried {', '.join(IMAGE_EXTENSIONS)})")
        paths = tuple(folder / f"{token}{ext}" for token in tokens)
    missing = next((path for path in paths if not path.is_file()), None)
    if missing is not None:
        raise DatasetFileNotFoundError(f"{missing}: frame listed in {where} not found")
    return paths


def read_split(root: Path, split_file: str | Path) -> list[VideoEntry]:
    """Parse a YouTube-VOS-style split file into video entries (checks folders and first frames)."""
    path = _resolve_split_file(root, split_file)
    videos = []
    for number, line in enumerate(read_lines(path, "split file"), start=1):
        tokens = line.split()
        entry = Path(tokens[0])
        # Relative to root; a leading "/" is read as relative too unless it is an existing folder.
        folder = entry if entry.is_absolute() and entry.is_dir() else root / tokens[0].lstrip("/")
        where = f"{path} line {number}"
        if not folder.is_dir():
            raise DatasetFileNotFoundError(f"{folder}: video folder listed in {where} not found")
        videos.append(VideoEntry(folder.name, folder, _frame_paths(folder, tokens[1:], where)))
    return videos


def scan_videos(root: Path) -> list[VideoEntry]:
    """Every sub-folder with images of <root>/train_all_frames/JPEGImages (or of root)."""
    base = root / "train_all_frames" / "JPEGImages"
    base = base if base.is_dir() else require_dir(root, "video")
    videos = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        frames = list_images(folder)
        if frames:
            videos.append(VideoEntry(folder.name, folder, tuple(frames)))
    if not videos:
        raise DatasetError(f"{base}: no video folders with images found")
    return videos


class YouTubeVOSPairs(SeededItems):
    """Frame pairs from unlabeled videos; item = float32 2,3,h,w in [0,1] (or (frames, masks))."""

    def __init__(self, root: str | Path, split_file: str | Path | None = None, *, gap: int = 1,
                 short_side: int = 400, scale_min: float = 0.96,
                 crop: tuple[int, int] | None = (384, 384), flip: bool = False, seed: int = 0,
                 annotations: str | Path | None = None, skip_short: bool = False) -> None:
        """
        root: dataset root; split-file folders are relative to it.
        split_file: the list file (a relative path is tried from the working directory, then
            from root); None: scan folders (see the module docstring).
        gap: the second frame is `gap` positions after the first in the video's list (>= 1).
        short_side, scale_min, crop, flip: `PairTransform` (defaults = the release).
        seed: root of all randomness (see the module docstring).
        annotations: folder (relative to root, or absolute) with `<video>/<frame stem>.png`
            masks; then items are (frames, masks bool 2,h,w), transformed identically.
        skip_short: drop videos with fewer than gap + 1 frames instead of raising DatasetError.
        """
        if gap < 1:
            raise ValueError(f"gap must be >= 1 (an identical-frame pair teaches nothing), got {gap}")
        self.root = require_dir(Path(root), "dataset root")
        self.gap = gap
        self.seed = seed
        self.epoch = 0
        self.transform = PairTransform(short_side, scale_min, crop, flip)
        self.annotations = None if annotations is None else self.root / annotations
        videos = scan_videos(self.root) if split_file is None else read_split(self.root, split_file)
        kept = []
        for video in videos:
            if len(video.frames) > gap:
                kept.append(video)
            elif not skip_short:
                raise DatasetError(
                    f"{video.folder}: video has {len(video.frames)} listed frame(s); a pair with "
                    f"gap {gap} needs at least {gap + 1} (pass skip_short=True to drop such videos)")
        if not kept:
            raise DatasetError(f"{self.root}: no video with at least {gap + 1} frames")
        self.videos = kept

    def __len__(self) -> int:
        return len(self.videos)

    def describe(self) -> str:
        """What was found, in words: videos, frames and the frame pairs the gap allows."""
        frames = sum(len(v.frames) for v in self.videos)
        pairs = sum(len(v.frames) - self.gap for v in self.videos)
        return f"{len(self.videos)} videos, {frames} frames, {pairs} frame pairs (gap {self.gap}) under {self.root}"

    @functools.cached_property
    def fingerprint(self) -> str:
        """The videos the pairs come from: a generated set's SHA-256 from its manifest
        (`data_identity`, every byte), else a hash of each listed frame's path under the root
        and its size. `amdlib.training.train.train` stores it and refuses to resume a run on
        other videos."""
        identity = data_identity(self.root)
        if identity.startswith("sha256:"):
            return identity
        digest = hashlib.sha256()
        for video in self.videos:
            for frame in video.frames:
                name = frame.relative_to(self.root) if frame.is_relative_to(self.root) else frame
                digest.update(f"{name}\t{frame.stat().st_size}\n".encode())
        return "listing:" + digest.hexdigest()

    def mask_path(self, video: VideoEntry, frame: Path) -> Path:
        if self.annotations is None:
            raise DatasetError("this dataset was built without annotations")
        return self.annotations / video.name / f"{frame.stem}.png"

    def sample(self, index: int, epoch: int | None = None) -> PairSample:
        """Item `index` with its provenance (video name, frame positions)."""
        if not 0 <= index < len(self.videos):
            raise IndexError(f"index {index} out of range for {len(self.videos)} videos")
        video = self.videos[index]
        generator = self.generator(index, epoch)
        first = int(torch.randint(len(video.frames) - self.gap, (1,), generator=generator))
        indices = (first, first + self.gap)
        paths = [video.frames[i] for i in indices]
        arrays = [read_rgb(p) for p in paths]
        if arrays[0].shape != arrays[1].shape:
            raise DatasetError(f"{paths[1]}: size {arrays[1].shape[:2]} differs from {paths[0]} "
                               f"({arrays[0].shape[:2]}) in the same video")
        frames = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)
        masks = None
        if self.annotations is not None:
            mask_arrays = []
            for path in paths:
                mask_file = require_file(self.mask_path(video, path), f"mask of {path}")
                mask = read_mask(mask_file)
                if mask.shape != arrays[0].shape[:2]:
                    raise DatasetError(f"{mask_file}: size {mask.shape} does not match {path} "
                                       f"({arrays[0].shape[:2]})")
                mask_arrays.append(mask)
            masks = torch.from_numpy(np.stack(mask_arrays))
        frames, masks = self.transform(frames, generator, masks)
        return PairSample(frames, masks, video.name, indices)

    def __getitem__(self, index: int) -> Tensor | tuple[Tensor, Tensor]:
        sample = self.sample(index)
        return sample.frames if sample.masks is None else (sample.frames, sample.masks)
