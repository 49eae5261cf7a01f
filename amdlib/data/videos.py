"""Training pairs from any folder of your own footage: video files and folders of frames, no split file.

    pairs = VideoFolderPairs("my_footage", gap=1, short_side=400, crop=(384, 384), seed=0)
    print(pairs.describe())      # 15 videos, 2650 frames, 2635 frame pairs (gap 1) under my_footage
    frames = pairs[3]            # float32 2,3,384,384 in [0,1]: frame t and t + gap of video 3

What counts as a clip, looking through `root` in natural name order (frame_2 before frame_10):
- a video file (.mp4 .mov .avi .webm .mkv .m4v, any case), decoded with PyAV
  (`amdlib.data.video.open_video`);
- a folder holding images (.jpg .png ...): its images, in natural name order
  (`amdlib.data.io.list_images`), are the frames; its sub-folders are not looked into;
- a folder without images is searched the same way (footage sorted into sub-folders works).
Other files (README.txt, SHA256SUMS, ...) and hidden entries (.git, .DS_Store) are ignored.
`root` may also be one video file, or one folder of frames (its images are then the only clip).

Every clip is decoded ONCE, when the dataset is built: frames are resized so their short side is
`short_side` (smaller clips keep their size: `PairTransform` scales them up per pair, and storing
them bigger would only spend memory) and kept as uint8 T,3,H,W tensors, so decoding never sets
the step time. The cache holds at most `max_cache_bytes` (default 2 GiB). When the clips need
more, the bound is shared out fairly (a clip that needs less than an equal share keeps all its
frames, the rest is split among the others) and a clip over its share keeps evenly spaced PAIRS:
both frames of each kept pair, so a pair is still frame t and t + gap of the clip, never frames
further apart. `describe()` says how much was kept.

A pair = a random kept pair of the item's clip (frame t and frame t + gap), then
`PairTransform` (scale, crop, flip), exactly like `YouTubeVOSPairs`: item `index` of `epoch`
draws everything from a torch.Generator seeded by (seed, epoch, index), so `sample(index, epoch)`
is the same in any worker and across runs; `__len__` is the number of clips.

Bad input raises `DatasetError` (a ValueError) whose message starts with the file at fault: an
unreadable video (e.g. a text file named .mp4), a frame folder whose frames differ in size, a
root without any clip, a missing root (`DatasetFileNotFoundError`). A clip shorter than gap + 1
frames is skipped with a warning naming it; when every clip is that short it is an error naming
the root.
"""

from __future__ import annotations

import functools
import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .video import VideoReadError, VideoSource, open_video
from .io import DatasetError, check_same_size, is_image, list_images, natural_sorted, read_rgb, require_dir
from .transforms import PairTransform
from .youtube_vos import PairSample, SeededItems

VIDEO_EXTENSIONS = (".mp4", ".mov", ".avi", ".webm", ".mkv", ".m4v")
"""File suffixes treated as video files (matched case-insensitively)."""

DEFAULT_CACHE_BYTES = 2 * 1024 ** 3
"""`VideoFolderPairs`'s default bound on the decoded frames it keeps in memory (2 GiB)."""

_RESIZE_CHUNK = 16
"""Frames resized at a time while decoding (bounds the memory of full-size frames)."""


def is_video_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in VIDEO_EXTENSIONS


def find_clips(root: Path) -> list[Path]:
    """The video files and frame folders under `root` (see the module docstring), in natural
    order of their names; nothing else. `root` must be an existing folder."""
    clips: list[Path] = []
    seen: set[Path] = set()

    def scan(folder: Path) -> None:
        real = folder.resolve()
        if real in seen:  # a symbolic link back up the tree
            return
        seen.add(real)
        for entry in natural_sorted(folder.iterdir()):
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                if any(child.is_file() and is_image(child) for child in entry.iterdir()):
                    clips.append(entry)
                else:
                    scan(entry)
            elif is_video_file(entry):
                clips.append(entry)

    scan(root)
    return clips


def clip_sha256(path: Path) -> str:
    """sha256 of a video file's bytes, or of a frame folder's images (name and bytes of each, in
    natural order): what a results page lists so that a reader can tell which footage it was."""
    digest = hashlib.sha256()
    if path.is_dir():
        for image in list_images(path):
            digest.update(image.name.encode() + b"\0")
            digest.update(image.read_bytes())
    else:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def clip_inventory(root: str | Path) -> list[dict[str, str]]:
    """One row per clip under `root` (`find_clips`): its name relative to `root`, whether it is
    a video file or a frame folder, and its `clip_sha256`."""
    root = require_dir(Path(root), "video")
    return [{"clip": path.relative_to(root).as_posix(), "kind": "frame folder" if path.is_dir() else "video file",
             "sha256": clip_sha256(path)} for path in find_clips(root)]


def stored_size(size: tuple[int, int], short_side: int) -> tuple[int, int]:
    """H,W a frame of `size` is kept at: short side `short_side` (aspect kept), never enlarged."""
    height, width = size
    if min(height, width) <= short_side:
        return height, width
    scale = short_side / min(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def spaced_pairs(length: int, gap: int, max_frames: int) -> np.ndarray:
    """First frames of the most evenly spaced pairs (t, t + gap) of a `length`-frame clip whose
    frames, both of every pair counted once, number at most `max_frames` (>= 2). All the clip's
    pairs when it fits."""
    count = length - gap
    if length <= max_frames:
        return np.arange(count)

    def starts(m: int) -> np.ndarray:
        return np.unique(((np.arange(m) + 0.5) * count / m).astype(np.int64))

    def frames(m: int) -> int:
        first = starts(m)
        return np.union1d(first, first + gap).size

    low, high = 1, count  # frames(1) == 2 <= max_frames; frames(count) == length > max_frames
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if frames(middle) <= max_frames else (low, middle)
    while low > 1 and frames(low) > max_frames:  # frames(m) is monotone but for rounding
        low -= 1
    return starts(low)


@dataclass
class Clip:
    """One clip in the cache: uint8 frames and the pairs drawn from them."""

    name: str
    """Path relative to the dataset root (posix)."""
    path: Path
    length: int
    """Frames in the clip (all of them, kept or not)."""
    frames: Tensor
    """uint8 K,3,H,W: the kept frames, in order."""
    indices: Tensor
    """int64 K: each kept frame's position in the clip."""
    pairs: Tensor
    """int64 P,2: rows of `frames` that make a pair (frame t, frame t + gap)."""

    @property
    def subsampled(self) -> bool:
        return len(self.frames) < self.length


def _describe_bytes(count: int) -> str:
    for unit, size in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} bytes"


def _resize(chunk: np.ndarray, size: tuple[int, int]) -> Tensor:
    """uint8 T,H,W,3 -> uint8 T,3,h,w (channels last in memory), bilinear with antialiasing."""
    frames = torch.from_numpy(np.ascontiguousarray(chunk)).permute(0, 3, 1, 2)
    if tuple(frames.shape[-2:]) != tuple(size):
        frames = F.interpolate(frames, size=size, mode="bilinear", align_corners=False, antialias=True)
    return frames


def _decode(source: VideoSource, keep: np.ndarray, size: tuple[int, int]) -> tuple[Tensor, np.ndarray, int]:
    """The frames at positions `keep` (sorted) of `source`, resized to `size`: uint8 K,3,H,W, the
    positions actually found and the number of frames the clip turned out to have (a video may
    decode fewer frames than it has packets)."""
    out = torch.empty((len(keep), 3, *size), dtype=torch.uint8).contiguous(memory_format=torch.channels_last)
    found: list[int] = []
    batch: list[np.ndarray] = []

    def add(index: int, frame: np.ndarray) -> None:
        found.append(index)
        batch.append(frame)
        if len(batch) == _RESIZE_CHUNK:
            flush()

    def flush() -> None:
        if batch:
            out[len(found) - len(batch):len(found)] = _resize(np.stack(batch), size)
            batch.clear()

    if source.files is not None:  # a frame folder: read only the kept files
        length = len(source.files)
        for index in keep.tolist():
            frame = read_rgb(source.files[index])
            # open_video checked the sizes in the headers; a file can still decode to another size
            check_same_size(source.files[0], source.size, source.files[index], frame.shape[:2])
            add(index, frame)
    else:  # a video file: decoded once from the start (frames() checks every frame's size)
        wanted = set(keep.tolist())
        length = 0
        for index, frame in enumerate(source.frames()):
            length = index + 1
            if index in wanted:
                add(index, frame)
    flush()
    return out[:len(found)], np.asarray(found, dtype=np.int64), length


class VideoFolderPairs(SeededItems):
    """Frame pairs from a folder of video files and frame folders; item = float32 2,3,h,w in [0,1]."""

    def __init__(self, root: str | Path, *, gap: int = 1, short_side: int = 400, scale_min: float = 0.96,
                 crop: tuple[int, int] | None = (384, 384), flip: bool = False, seed: int = 0,
                 max_cache_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        """
        root: the folder of footage (see the module docstring for what counts as a clip).
        gap: a pair is frame t and frame t + gap of one clip (>= 1).
        short_side, scale_min, crop, flip: `PairTransform` (defaults = the release); frames are
            cached at short side `short_side`.
        seed: root of all randomness (item `index` of `epoch` is seeded by (seed, epoch, index)).
        max_cache_bytes: bound on the decoded frames kept in memory (see the module docstring).
        """
        if gap < 1:
            raise ValueError(f"gap must be >= 1 (an identical-frame pair teaches nothing), got {gap}")
        root = Path(root)
        self.root = root if is_video_file(root) else require_dir(root, "video")
        self.gap = gap
        self.short_side = short_side
        self.seed = seed
        self.epoch = 0
        self.max_cache_bytes = int(max_cache_bytes)
        self.transform = PairTransform(short_side, scale_min, crop, flip)
        self.skipped: list[str] = []
        """Clips left out as shorter than gap + 1 frames (relative names)."""
        self.clips = self._load()

    # -- building ---------------------------------------------------------------------------

    def _name(self, path: Path) -> str:
        return path.name if path == self.root else path.relative_to(self.root).as_posix()

    def _skip_short(self, path: Path, length: int) -> None:
        self.skipped.append(self._name(path))
        warnings.warn(f"{path}: {length} frame(s), fewer than the {self.gap + 1} a pair with gap {self.gap} "
                      "needs; skipped", stacklevel=4)

    def _open(self, path: Path) -> VideoSource:
        try:
            return open_video(path)
        except VideoReadError as error:  # a DatasetError, so that callers catch one kind of bad input
            raise DatasetError(str(error)) from error

    def _load(self) -> list[Clip]:
        if self.root.is_file():
            paths = [self.root]
        else:
            paths = find_clips(self.root)
            if not paths and any(p.is_file() and is_image(p) for p in self.root.iterdir()):
                paths = [self.root]  # the root is itself one folder of frames
        if not paths:
            raise DatasetError(f"{self.root}: no video files ({' '.join(VIDEO_EXTENSIONS)}) or folders of frames "
                               "found")
        sources = []
        for path in paths:
            source = self._open(path)
            if source.length <= self.gap:
                self._skip_short(path, source.length)
            else:
                sources.append(source)
        if not sources:
            raise DatasetError(f"{self.root}: no clip with at least {self.gap + 1} frames "
                               f"(a pair with gap {self.gap} needs that many)")
        sizes = [stored_size(source.size, self.short_side) for source in sources]
        budgets = self._frame_budgets([s.length for s in sources], [3 * h * w for h, w in sizes])
        clips = []
        for source, size, budget in zip(sources, sizes, budgets):
            starts = spaced_pairs(source.length, self.gap, budget)
            keep = np.union1d(starts, starts + self.gap)
            try:
                frames, found, length = _decode(source, keep, size)
            except VideoReadError as error:
                raise DatasetError(str(error)) from error
            # Pairs whose frames were both decoded (a video can decode fewer frames than its packets).
            starts = starts[np.isin(starts, found) & np.isin(starts + self.gap, found)]
            if not len(starts):
                self._skip_short(source.path, length)
                continue
            pairs = np.stack([np.searchsorted(found, starts), np.searchsorted(found, starts + self.gap)], axis=1)
            clips.append(Clip(self._name(source.path), source.path, length, frames, torch.from_numpy(found),
                              torch.from_numpy(pairs)))
        if not clips:
            raise DatasetError(f"{self.root}: no clip with at least {self.gap + 1} decodable frames")
        return clips

    def _frame_budgets(self, lengths: list[int], frame_bytes: list[int]) -> list[int]:
        """Frames each clip may keep so that all of them fit `max_cache_bytes`: a clip gets all its
        frames when they take no more than an equal share of what the bigger clips leave
        (water-filling); every clip keeps at least one pair (2 frames)."""
        need = [n * b for n, b in zip(lengths, frame_bytes)]
        if sum(need) <= self.max_cache_bytes:
            return list(lengths)
        least = [2 * b for b in frame_bytes]
        if sum(least) > self.max_cache_bytes:
            raise DatasetError(
                f"{self.root}: max_cache_bytes {_describe_bytes(self.max_cache_bytes)} cannot hold even one pair of "
                f"each of its {len(lengths)} clips ({_describe_bytes(sum(least))} at short side {self.short_side}); "
                "raise the bound or lower short_side")
        low, high = 0, max(need)  # the share: each clip keeps min(need, max(least, share)) bytes
        while high - low > 1:
            share = (low + high) // 2
            used = sum(min(n, max(m, share)) for n, m in zip(need, least))
            low, high = (share, high) if used <= self.max_cache_bytes else (low, share)
        return [max(2, min(n, max(m, low)) // b)
                for n, m, b in zip(need, least, frame_bytes)]

    # -- what it holds -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.clips)

    @property
    def cache_bytes(self) -> int:
        """Bytes of decoded frames held in memory."""
        return sum(clip.frames.numel() for clip in self.clips)

    def describe(self) -> str:
        """What was found, in words: clips, frames and frame pairs the gap allows; then, when the
        cache bound left frames out or clips were too short, what was kept."""
        frames = sum(clip.length for clip in self.clips)
        pairs = sum(clip.length - self.gap for clip in self.clips)
        videos = f"{len(self.clips)} video{'' if len(self.clips) == 1 else 's'}"
        text = f"{videos}, {frames} frames, {pairs} frame pairs (gap {self.gap}) under {self.root}"
        cut = [clip for clip in self.clips if clip.subsampled]
        if cut:
            kept_frames = sum(len(clip.frames) for clip in self.clips)
            kept_pairs = sum(len(clip.pairs) for clip in self.clips)
            text += (f"; the {_describe_bytes(self.max_cache_bytes)} cache bound keeps {kept_frames} of those frames "
                     f"({kept_pairs} pairs, evenly spaced, in {len(cut)} of the videos)")
        text += f"; {_describe_bytes(self.cache_bytes)} of frames cached (short side at most {self.short_side})"
        if self.skipped:
            text += (f"; {len(self.skipped)} clip(s) shorter than {self.gap + 1} frames skipped "
                     f"({', '.join(self.skipped[:3])}{', ...' if len(self.skipped) > 3 else ''})")
        return text

    @functools.cached_property
    def fingerprint(self) -> str:
        """The clips the pairs come from: a hash of each clip's path under the root and its size
        (a frame folder: each frame's name and size). `amdlib.training.train.train` stores it and
        refuses to resume a run on other footage."""
        digest = hashlib.sha256()
        for clip in self.clips:
            files = list_images(clip.path) if clip.path.is_dir() else [clip.path]
            for file in files:
                digest.update(f"{self._name(file)}\t{file.stat().st_size}\n".encode())
        return "videos:" + digest.hexdigest()

    # -- items ---------------------------------------------------------------------------------

    def sample(self, index: int, epoch: int | None = None) -> PairSample:
        """Item `index` with its provenance (clip name, the two frames' positions in the clip)."""
        if not 0 <= index < len(self.clips):
            raise IndexError(f"index {index} out of range for {len(self.clips)} videos")
        clip = self.clips[index]
        generator = self.generator(index, epoch)
        rows = clip.pairs[int(torch.randint(len(clip.pairs), (1,), generator=generator))]
        frames, _ = self.transform(clip.frames[rows], generator)
        first, second = (int(clip.indices[r]) for r in rows)
        return PairSample(frames, None, clip.name, (first, second))

    def __getitem__(self, index: int) -> Tensor:
        return self.sample(index).frames
