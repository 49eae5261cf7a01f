"""Rearrange FBMS-59 and SegTrackv2 from their original archives into the DAVIS-like layout.

`DAVISLike` reads `JPEGImages/<seq>/<frame>.jpg|.png` + `Annotations/<seq>/<frame>.png`, masks
matched to frames by file stem. Neither archive ships in that form (see the `fbms59` and
`segtrackv2` entries of `amdlib.io.resources`), so this module writes it (command line:
`amdlib.cli.convert`):

    python -m amdlib.cli.convert fbms SOURCE DEST [--copy]
    python -m amdlib.cli.convert segtrackv2 SOURCE DEST [--copy] [--threshold N]

Frames are hard-linked (symlinked across file systems) unless `--copy`, so a converted copy
costs almost no disk; frames in a format other than JPEG / PNG (SegTrackv2's .bmp, any .ppm)
are decoded and written as lossless PNG instead, keeping the layout to .jpg|.png. Masks are
always written as 8-bit PNG, 0 = background, 255 = object, all objects of a frame merged.

FBMS-59 (`Trainingset/` and `Testset/`): `<seq>/<seq>_<N>.jpg` with 1-based frame numbers and
variable zero padding (`cars1_01.jpg`, `bear01_0001.jpg`), sparse ground truth in
`<seq>/GroundTruth/<seq>_<N>_gt.pgm|.ppm|.png`, one grey level or colour per region. The
background is NOT always black: colour ground truth (.ppm and the .png files) has a WHITE
background (bear01: white + cyan bear), grey .pgm ground truth a black one; so a pixel is object
where it differs from white (colour files) or from black (grey files). A file with no
background pixel at all raises, since it would otherwise silently become a full-frame mask. A
`.pgm` next to a `.ppm` of the same name is the ppm's per-pixel confidence map (the benchmark's
evaluation code reads it so), not a label map, and is ignored; so are files named `*PROB*`,
`<seq>Def.dat` and anything not named `..._<N>_gt.<ext>`. Frames get 5-digit 0-based stems in
temporal order (`00000`, ...), so `bear01_0020_gt.png` becomes `Annotations/bear01/00019.png`.

SegTrackv2: `JPEGImages/<seq>/*.png|.bmp|.jpg` + `GroundTruth/<seq>/*.png|.bmp`, where a
multi-object sequence has one numbered sub-folder per object (`GroundTruth/<seq>/1/`, `2/`, ...)
with the frames' stems. Frames keep their stems. The masks are anti-aliased: by default any
non-zero value is object (docs/method.md section 8, the same rule `DAVISLike(annotations="GroundTruth")`
applies); `threshold` raises that cut (value > threshold).

Every problem raises `DatasetError` (`DatasetFileNotFoundError` for a missing file or folder)
naming the file and the problem.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image

from .io import (IMAGE_EXTENSIONS, DatasetError, DatasetFileNotFoundError, check_same_size, image_size,
                 list_images, open_image, read_mask, read_rgb, require_dir)

STEM_DIGITS = 5
"""FBMS frames are renamed to this many zero-padded digits, 0-based (DAVIS's own convention)."""

LINKED_SUFFIXES = (".jpg", ".jpeg", ".png")
"""Frame formats placed as they are; any other is decoded and written as PNG."""

FRAME_SUFFIXES = IMAGE_EXTENSIONS + (".ppm", ".pgm")
"""Frame formats recognised in the archives (.ppm / .pgm only in FBMS-like copies)."""

FBMS_GT_SUFFIXES = (".ppm", ".png", ".bmp", ".tif", ".tiff", ".pgm")
"""FBMS ground-truth formats; lossy JPEG would blur the region colours, so it is not one."""

WHITE = 0xFFFFFF
"""Background of FBMS colour ground truth, as a 24-bit RGB code."""

_NUMBERED = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)$")
_FBMS_GT = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)_gt$", re.IGNORECASE)


# --- writing -----------------------------------------------------------------------------------

def _make_writable(target: Path) -> None:
    """Create the parent folder and remove an existing `target`.

    Writing into an existing file would write through a hard link or symlink of an earlier
    linked run, i.e. into the original archive; unlinking first never touches it.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()


def link_or_copy(source: Path, target: Path, link: bool = True) -> None:
    """Place `source` at `target`: a hard link, a symlink where hard links fail, or a copy.

    A hard link survives the archive folder being moved; it fails across file systems, where an
    absolute symlink is the fallback. An existing target is replaced so that reruns are
    idempotent.
    """
    _make_writable(target)
    if not link:
        shutil.copy2(source, target)
        return
    try:
        os.link(source, target)
    except OSError:
        target.symlink_to(source.resolve())


def place_frame(source: Path, folder: Path, stem: str, link: bool = True) -> Path:
    """Put frame `source` into `folder` as `<stem><ext>`; returns the written path.

    JPEG and PNG keep their bytes and extension (no re-encoding, no quality loss); other formats
    (.bmp, .ppm, ...) are decoded with the loaders' repairs and written as PNG, so the result
    holds only the .jpg|.png that the DAVIS-like layout documents.
    """
    suffix = source.suffix
    if suffix.lower() in LINKED_SUFFIXES:
        target = folder / f"{stem}{suffix}"
        link_or_copy(source, target, link)
        return target
    target = folder / f"{stem}.png"
    _make_writable(target)
    Image.fromarray(read_rgb(source), "RGB").save(target)
    return target


def write_mask(mask: np.ndarray, path: Path) -> Path:
    """Save a bool H,W mask as an 8-bit 0/255 PNG (the DAVIS annotation format)."""
    _make_writable(path)
    Image.fromarray(np.where(mask, 255, 0).astype(np.uint8), "L").save(path)
    return path


# --- FBMS-59 -----------------------------------------------------------------------------------

def _number(path: Path, pattern: re.Pattern[str], what: str) -> int:
    """The frame number in a file name (trailing digits of the stem, before `_gt` for masks)."""
    match = pattern.match(path.stem)
    if match is None:
        raise DatasetError(f"{path}: {what} name has no frame number (expected e.g. cars1_01{path.suffix})")
    return int(match.group("number"))


def _by_number(paths: Iterable[Path], pattern: re.Pattern[str], what: str) -> dict[int, Path]:
    """Files keyed by their frame number; two files with one number (01 and 1) is an error."""
    numbered: dict[int, Path] = {}
    for path in paths:
        number = _number(path, pattern, what)
        if number in numbered:
            raise DatasetError(f"{path}: {what} number {number} is also that of {numbered[number]}")
        numbered[number] = path
    return numbered


def _visible(path: Path) -> bool:
    """False for macOS archive debris (`__MACOSX/`, `._cars1_01.jpg`) and other hidden entries."""
    return not path.name.startswith(".") and path.name != "__MACOSX"


def _is_frame(path: Path) -> bool:
    return path.is_file() and _visible(path) and path.suffix.lower() in FRAME_SUFFIXES


def fbms_sequence_dirs(source: Path, depth: int = 2) -> list[Path]:
    """FBMS sequence folders under `source`: folders holding frames, up to `depth` levels down.

    Depth 2 covers `source/<seq>` (an unpacked Trainingset/ or Testset/) and
    `source/{Trainingset,Testset}/<seq>` (both unpacked side by side). A `GroundTruth` folder is
    never a sequence.
    """
    found = []
    for folder in sorted(p for p in source.iterdir() if p.is_dir() and _visible(p) and p.name != "GroundTruth"):
        if any(_is_frame(p) for p in folder.iterdir()):
            found.append(folder)
        elif depth > 1:
            found.extend(fbms_sequence_dirs(folder, depth - 1))
    return found


def fbms_frames(folder: Path) -> list[Path]:
    """The frames of one FBMS sequence in temporal order (by frame number, not by name)."""
    numbered = _by_number((p for p in folder.iterdir() if _is_frame(p)), _NUMBERED, "frame")
    return [numbered[n] for n in sorted(numbered)]


def fbms_ground_truth(folder: Path) -> dict[int, Path]:
    """`<seq>/GroundTruth/`'s label maps keyed by frame number.

    Only `..._<N>_gt.<ext>` files count (Def.dat, .bmf and the like are skipped), `*PROB*` files
    are confidence maps, and a .pgm beside a .ppm of the same name is the ppm's confidence map.
    """
    gt_dir = folder / "GroundTruth"
    if not gt_dir.is_dir():
        raise DatasetFileNotFoundError(f"{gt_dir}: GroundTruth folder of FBMS sequence {folder.name!r} not found")
    files = [p for p in sorted(gt_dir.iterdir())
             if p.is_file() and _visible(p) and p.suffix.lower() in FBMS_GT_SUFFIXES and _FBMS_GT.match(p.stem)
             and "prob" not in p.name.lower()]
    colour_stems = {p.stem for p in files if p.suffix.lower() == ".ppm"}
    files = [p for p in files if not (p.suffix.lower() == ".pgm" and p.stem in colour_stems)]
    if not files:
        raise DatasetError(f"{gt_dir}: no ground-truth files named <seq>_<N>_gt.pgm|.ppm|.png")
    return _by_number(files, _FBMS_GT, "ground-truth file")


def _region_codes(path: Path) -> tuple[np.ndarray, bool]:
    """A label map -> (int64 H,W region codes, whether it is a colour file).

    Colour pixels become 24-bit codes R<<16 | G<<8 | B (as the benchmark's evaluation code reads
    them), grey pixels their value; a palette file is read through its palette, since FBMS
    regions are defined by colour.
    """
    image = open_image(path, "ground truth")
    mode = image.mode
    if mode in ("P", "PA"):
        image, mode = image.convert("RGB"), "RGB"
    if mode in ("RGB", "RGBA", "RGBX"):
        rgb = np.asarray(image)[:, :, :3].astype(np.int64)
        return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2], True
    if mode == "1":
        return np.asarray(image, dtype=np.int64) * 255, False
    if mode in ("L", "I", "F") or mode.startswith("I;16"):
        return np.asarray(image).astype(np.int64), False
    if mode in ("LA", "La"):
        return np.asarray(image)[:, :, 0].astype(np.int64), False
    raise DatasetError(f"{path}: unsupported ground-truth mode {mode!r}")


def fbms_object_mask(path: Path) -> np.ndarray:
    """bool H,W: every region but the background of one FBMS label map.

    The background is white in colour files and black in grey ones (module docstring); a file
    without a single background pixel is refused rather than turned into a full-frame mask.
    """
    codes, colour = _region_codes(path)
    background = WHITE if colour else 0
    is_background = codes == background
    if not is_background.any():
        expected = "white (255,255,255), the background of colour ground truth" if colour else \
            "black (0), the background of grey ground truth"
        raise DatasetError(f"{path}: no background pixel; expected {expected}")
    return ~is_background


def convert_fbms_sequence(folder: Path, destination: Path, link: bool = True) -> tuple[int, int]:
    """Convert one FBMS sequence folder; returns (frames written, masks written)."""
    name = folder.name
    frames = fbms_frames(folder)
    ground_truth = fbms_ground_truth(folder)
    position = {_number(frame, _NUMBERED, "frame"): i for i, frame in enumerate(frames)}
    for number, gt in ground_truth.items():
        if number not in position:
            raise DatasetError(f"{gt}: ground truth of frame {number}, but {folder} has no frame {number}")
    image_dir, mask_dir = destination / "JPEGImages" / name, destination / "Annotations" / name
    for i, frame in enumerate(frames):
        place_frame(frame, image_dir, f"{i:0{STEM_DIGITS}d}", link)
    for number, gt in sorted(ground_truth.items()):
        index = position[number]
        mask = fbms_object_mask(gt)
        check_same_size(frames[index], image_size(frames[index]), gt, mask.shape)
        write_mask(mask, mask_dir / f"{index:0{STEM_DIGITS}d}.png")
    return len(frames), len(ground_truth)


def convert_fbms(source: str | Path, destination: str | Path, link: bool = True) -> list[str]:
    """FBMS-59 (Trainingset/, Testset/ or a folder holding both) -> DAVIS-like; sorted sequence names.

    link: hard-link (or symlink) the JPEG frames instead of copying them.
    """
    source = require_dir(Path(source), "FBMS-59")
    destination = Path(destination)
    folders = fbms_sequence_dirs(source)
    if not folders:
        raise DatasetError(f"{source}: no FBMS sequences found (folders holding <seq>_<N>.jpg frames, "
                           f"in it or in its Trainingset/ and Testset/)")
    seen: dict[str, Path] = {}
    for folder in folders:
        if folder.name in seen:
            raise DatasetError(f"{folder}: sequence name {folder.name!r} is also that of {seen[folder.name]}")
        seen[folder.name] = folder
    for name in sorted(seen):  # by name, the order DAVISLike lists them in
        convert_fbms_sequence(seen[name], destination, link)
    return sorted(seen)


# --- SegTrackv2 --------------------------------------------------------------------------------

def _by_stem(paths: Iterable[Path], what: str) -> dict[str, Path]:
    """Files keyed by stem; two files with one stem (a.bmp and a.png) is an error."""
    stems: dict[str, Path] = {}
    for path in paths:
        if path.stem in stems:
            raise DatasetError(f"{path}: {what} stem {path.stem!r} is also that of {stems[path.stem]}")
        stems[path.stem] = path
    return stems


def segtrack_object_dirs(gt_dir: Path) -> list[Path]:
    """The folders holding one sequence's masks: `gt_dir` itself and its numbered object folders.

    Single-object sequences keep their masks directly in `GroundTruth/<seq>/`; multi-object ones
    in `GroundTruth/<seq>/1/`, `2/`, ... Other sub-folders are not SegTrackv2's and are ignored.
    """
    objects = sorted((p for p in gt_dir.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name))
    return [gt_dir, *objects]


def segtrack_masks(gt_dir: Path) -> dict[str, list[Path]]:
    """Frame stem -> the mask files of all its objects; a sequence without any mask is an error."""
    masks: dict[str, list[Path]] = {}
    for folder in segtrack_object_dirs(gt_dir):
        for stem, path in _by_stem(filter(_visible, list_images(folder)), "mask").items():
            masks.setdefault(stem, []).append(path)
    if not masks:
        raise DatasetError(f"{gt_dir}: no masks (neither image files nor numbered object folders 1/, 2/, ...)")
    return masks


def merge_masks(paths: list[Path], frame: Path, threshold: int = 0) -> np.ndarray:
    """bool H,W union of several objects' masks (value > threshold), each checked against `frame`."""
    merged: np.ndarray | None = None
    for path in paths:
        mask = read_mask(path, threshold)
        check_same_size(frame, image_size(frame), path, mask.shape)
        merged = mask if merged is None else merged | mask
    assert merged is not None, "merge_masks needs at least one mask"
    return merged


def convert_segtrack_sequence(name: str, source: Path, destination: Path, link: bool = True,
                              threshold: int = 0) -> tuple[int, int]:
    """Convert one SegTrackv2 sequence; returns (frames written, masks written)."""
    frame_dir = source / "JPEGImages" / name
    frames = _by_stem(filter(_visible, list_images(frame_dir)), "frame")
    if not frames:
        raise DatasetError(f"{frame_dir}: sequence {name!r} has no frames")
    gt_dir = source / "GroundTruth" / name
    if not gt_dir.is_dir():
        raise DatasetFileNotFoundError(f"{gt_dir}: ground truth of SegTrackv2 sequence {name!r} not found")
    masks = segtrack_masks(gt_dir)
    for stem, paths in masks.items():
        if stem not in frames:
            raise DatasetError(f"{paths[0]}: mask of {name} has no frame with stem {stem!r} in {frame_dir}")
    image_dir, mask_dir = destination / "JPEGImages" / name, destination / "Annotations" / name
    for stem, frame in sorted(frames.items()):
        place_frame(frame, image_dir, stem, link)
    for stem, paths in sorted(masks.items()):
        write_mask(merge_masks(paths, frames[stem], threshold), mask_dir / f"{stem}.png")
    return len(frames), len(masks)


def convert_segtrackv2(source: str | Path, destination: str | Path, link: bool = True,
                       threshold: int = 0) -> list[str]:
    """SegTrackv2 (JPEGImages/ + GroundTruth/) -> DAVIS-like, objects merged; sequence names.

    link: hard-link (or symlink) JPEG / PNG frames instead of copying (.bmp frames become PNG).
    threshold: a mask pixel is object where its value exceeds it (0: any non-zero value).
    """
    source = require_dir(Path(source), "SegTrackv2")
    image_root = require_dir(source / "JPEGImages", "SegTrackv2 frame")
    require_dir(source / "GroundTruth", "SegTrackv2 ground-truth")
    names = sorted(p.name for p in image_root.iterdir() if p.is_dir() and _visible(p))
    if not names:
        raise DatasetError(f"{image_root}: no sequence folders")
    for name in names:
        convert_segtrack_sequence(name, source, Path(destination), link, threshold)
    return names
