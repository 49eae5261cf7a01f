"""Video object segmentation sets: DAVIS-2016 and the DAVIS-like SegTrackv2 / FBMS-59 layout.

DAVIS-2016 (docs/method.md section 8):

    JPEGImages/480p/<seq>/00000.jpg   Annotations/480p/<seq>/00000.png (8-bit 0/255)
    ImageSets/480p/val.txt

`val.txt` is read in either format: DAVIS-2016's own, one frame per line,
`/JPEGImages/480p/<seq>/00000.jpg /Annotations/480p/<seq>/00000.png`, or a plain list of
sequence names (DAVIS-2017 style), whose frames are then every image in the sequence folder and
whose masks must all exist (DAVIS-2016 annotates every frame).

DAVIS-like (SegTrackv2 and FBMS-59 as the motion-segmentation community distributes them):

    JPEGImages/<seq>/<frame>.jpg|.png   Annotations/<seq>/<frame>.png

Masks are matched to frames by file stem and may be sparse (FBMS: every 20th frame); they may be
anti-aliased RGB or multi-valued: non-zero = object (docs/method.md section 8). The synthetic training
videos' masks read the same way: `DAVISLike(<youtube_vos>/train_all_frames)`.

An item is a `VOSSequence` (name, frame paths, {frame index -> mask path}); it loads frames as
float 3,H,W in [0,1] and masks as bool H,W on demand, checking that a mask's size matches its frame.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import Dataset

from .io import (DatasetError, DatasetFileNotFoundError, check_same_size, image_size, list_images,
                 load_frame, load_mask, read_lines, require_dir)


@dataclass
class VOSSequence:
    """One video with (possibly sparse) ground truth; all multi-object masks merge into one."""

    name: str
    frames: list[Path]
    """Frame files in temporal order."""
    masks: dict[int, Path] = field(default_factory=dict)
    """Frame index -> mask file, for the annotated frames only."""

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def annotated(self) -> list[int]:
        """Indices of the frames that have a mask, ascending."""
        return sorted(self.masks)

    def frame(self, index: int) -> Tensor:
        """float32 3,H,W in [0,1]."""
        return load_frame(self.frames[index])

    def mask(self, index: int, threshold: int = 0) -> Tensor:
        """bool H,W (value > threshold, default non-zero); size checked against the frame."""
        if index not in self.masks:
            raise DatasetError(f"{self.frames[index]}: frame {index} of {self.name} has no annotation")
        return load_mask(self.masks[index], image_size(self.frames[index]), reference=self.frames[index],
                         threshold=threshold)

    def truth(self, indices: Sequence[int] | None = None) -> Tensor:
        """bool T,H,W ground truth of `indices` (default: every annotated frame)."""
        return torch.stack([self.mask(i) for i in (self.annotated if indices is None else indices)])

    def annotated_batches(self, batch_size: int) -> Iterator[tuple[list[int], Tensor]]:
        """(frame indices, float32 B,3,H,W frames) of the annotated frames, `batch_size` at a
        time, so a long sequence is never held whole."""
        indices = self.annotated
        for start in range(0, len(indices), batch_size):
            batch = indices[start:start + batch_size]
            yield batch, torch.stack([self.frame(i) for i in batch])


class _Sequences(Dataset[VOSSequence]):
    sequences: list[VOSSequence]

    def __len__(self) -> int:
        return len(self.sequences)

    def __getitem__(self, index: int) -> VOSSequence:
        return self.sequences[index]

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.sequences]

    def check_readable(self) -> None:
        """Read every frame's and mask's header and decode each sequence's first frame and first
        mask, so that a broken set fails before a training run rather than at its first
        evaluation; raises `DatasetError` naming the file."""
        for sequence in self.sequences:
            sizes = {path: image_size(path) for path in [*sequence.frames, *sequence.masks.values()]}
            first = sequence.frames[0]
            for path, size in sizes.items():
                check_same_size(first, sizes[first], path, size)
            sequence.frame(0)
            if sequence.annotated:
                sequence.mask(sequence.annotated[0])

    def by_name(self, name: str) -> VOSSequence:
        for sequence in self.sequences:
            if sequence.name == name:
                return sequence
        raise KeyError(name)


def sequence_frames(image_root: Path, name: str, listed_in: str = "") -> list[Path]:
    """The frames of sequence `name` in name order; a missing or empty folder is an error."""
    folder = image_root / name
    if not folder.is_dir():
        raise DatasetFileNotFoundError(f"{folder}: sequence {name!r}{listed_in} not found")
    frames = list_images(folder)
    if not frames:
        raise DatasetError(f"{folder}: sequence {name!r} has no frames")
    return frames


def _match_masks(name: str, frames: list[Path], mask_dir: Path) -> dict[int, Path]:
    """Masks of `frames` by stem; a mask whose stem is not a frame's is an error."""
    index = {frame.stem: i for i, frame in enumerate(frames)}
    masks = {}
    for mask in list_images(mask_dir):
        if mask.stem not in index:
            raise DatasetError(f"{mask}: annotation of {name} has no frame with stem {mask.stem!r} "
                               f"in {frames[0].parent}")
        masks[index[mask.stem]] = mask
    return masks


DAVIS_REQUIRED = ("JPEGImages/480p", "Annotations/480p")
"""What a DAVIS-2016 root must hold; `ImageSets/480p` is optional (`DAVIS2016`)."""


def davis_root_problem(root: str | Path) -> str | None:
    """Why `root` is not a DAVIS-2016 root `DAVIS2016` can read (None: it is). The one check
    shared by the loader and `scripts/reproduce.py`, so both accept the same folders."""
    root = Path(root)
    if not root.is_dir():
        return f"{root}: not a folder"
    missing = [r for r in DAVIS_REQUIRED if not (root / r).is_dir()]
    return f"{root} lacks {', '.join(missing)}" if missing else None


class DAVIS2016(_Sequences):
    """DAVIS-2016 sequences with dense annotation; item = `VOSSequence`."""

    def __init__(self, root: str | Path, split: str | None = "val", resolution: str = "480p", *,
                 split_file: str | Path | None = None) -> None:
        """
        split: name of `ImageSets/<resolution>/<split>.txt`; None, or a root without an
            `ImageSets/<resolution>` folder: every sequence folder in `JPEGImages/<resolution>`.
            A root that has the folder but not the named file is an error.
        split_file: an explicit list file (either format) instead of `split`; its paths are
            relative to root.
        """
        self.root = require_dir(Path(root), "DAVIS root")
        self.resolution = resolution
        self.image_root = require_dir(self.root / "JPEGImages" / resolution, "DAVIS frame")
        self.mask_root = self.root / "Annotations" / resolution
        if split_file is None and split is not None and (self.root / "ImageSets" / resolution).is_dir():
            split_file = self.root / "ImageSets" / resolution / f"{split}.txt"
        if split_file is None:
            names = sorted(p.name for p in self.image_root.iterdir() if p.is_dir())
            if not names:
                raise DatasetError(f"{self.image_root}: no sequence folders")
            self.sequences = [self._dense(name, f"{self.image_root}") for name in names]
            return
        split_file = Path(split_file)
        lines = read_lines(split_file, "DAVIS split file")
        if len(lines[0].split()) >= 2:
            self.sequences = self._from_pairs(split_file, lines)
        else:
            self.sequences = [self._dense(line.split()[0], f"{split_file} line {number}")
                              for number, line in enumerate(lines, start=1)]

    def _dense(self, name: str, where: str) -> VOSSequence:
        frames = sequence_frames(self.image_root, name, f" listed in {where}")
        masks = {}
        for i, frame in enumerate(frames):
            mask = self.mask_root / name / f"{frame.stem}.png"
            if not mask.is_file():
                raise DatasetFileNotFoundError(f"{mask}: annotation of frame {frame.name} of {name!r} not found")
            masks[i] = mask
        return VOSSequence(name, frames, masks)

    def _from_pairs(self, split_file: Path, lines: list[str]) -> list[VOSSequence]:
        sequences: dict[str, VOSSequence] = {}
        for number, line in enumerate(lines, start=1):
            tokens = line.split()
            if len(tokens) != 2:
                raise DatasetError(f"{split_file} line {number}: expected '<image> <annotation>', got {line!r}")
            frame, mask = (self.root / t.lstrip("/") for t in tokens)
            where = f"listed in {split_file} line {number}"
            if not frame.is_file():
                raise DatasetFileNotFoundError(f"{frame}: frame {where} not found")
            if not mask.is_file():
                raise DatasetFileNotFoundError(f"{mask}: annotation {where} not found")
            name = frame.parent.name
            sequence = sequences.setdefault(name, VOSSequence(name, []))
            sequence.masks[len(sequence.frames)] = mask
            sequence.frames.append(frame)
        return list(sequences.values())


class DAVISLike(_Sequences):
    """`JPEGImages/<seq>/` + `Annotations/<seq>/` (SegTrackv2, FBMS-59); item = `VOSSequence`."""

    def __init__(self, root: str | Path, sequences: list[str] | None = None, *,
                 images: str = "JPEGImages", annotations: str = "Annotations",
                 require_masks: bool = True) -> None:
        """
        sequences: names to load (default: every folder under `images`).
        images, annotations: sub-folder names (e.g. annotations="GroundTruth" for SegTrackv2's
            original anti-aliased masks, when their files are named like the frames).
        require_masks: a sequence without any annotation raises DatasetError; False allows
            unlabeled sequences (e.g. for test-time adaptation only).
        """
        self.root = require_dir(Path(root), "dataset root")
        self.image_root = require_dir(self.root / images, "frame")
        self.mask_root = self.root / annotations
        if require_masks:
            require_dir(self.mask_root, "annotation")
        if sequences is None:
            sequences = sorted(p.name for p in self.image_root.iterdir() if p.is_dir())
            if not sequences:
                raise DatasetError(f"{self.image_root}: no sequence folders")
        self.sequences = []
        for name in sequences:
            frames = sequence_frames(self.image_root, name)
            mask_dir = self.mask_root / name
            masks = _match_masks(name, frames, mask_dir) if mask_dir.is_dir() else {}
            if require_masks and not masks:
                raise DatasetFileNotFoundError(f"{mask_dir}: no annotation for sequence {name!r}")
            self.sequences.append(VOSSequence(name, frames, masks))
