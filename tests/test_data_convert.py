"""FBMS-59 / SegTrackv2 archives in their original layouts -> the DAVIS-like layout DAVISLike reads.

Small fake archives are written here in the original layouts (1-based, variably padded FBMS
names with colour .ppm / grey .pgm ground truth; SegTrackv2 with numbered object folders and
.bmp frames); the expectations are computed by hand from the drawn objects, not by the converter.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from amdlib.data import DAVISLike, DatasetError, DatasetFileNotFoundError, read_mask, read_rgb
from amdlib.cli.convert import main
from amdlib.data.convert import convert_fbms, convert_segtrackv2

H, W = 12, 16
WHITE, RED, GREEN = (255, 255, 255), (255, 0, 0), (0, 255, 0)


def rgb(seed: int, height: int = H, width: int = W) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def save(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def box(top: int, left: int, bottom: int, right: int, height: int = H, width: int = W) -> np.ndarray:
    """bool H,W with one filled rectangle: the hand-drawn objects the expectations are built from."""
    mask = np.zeros((height, width), bool)
    mask[top:bottom, left:right] = True
    return mask


def colour_gt(objects: list[tuple[np.ndarray, tuple[int, int, int]]], background=WHITE) -> np.ndarray:
    """An FBMS colour label map: white background, one colour per object."""
    image = np.empty((H, W, 3), np.uint8)
    image[:] = background
    for mask, colour in objects:
        image[mask] = colour
    return image


def grey_gt(objects: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """An FBMS grey label map: black background, one grey level per object."""
    image = np.zeros((H, W), np.uint8)
    for mask, level in objects:
        image[mask] = level
    return image


# FBMS objects: cars1 (colour .ppm, 2 objects) annotated at frames 1 and 4 (1-based);
# marple1 (grey .pgm, 2 objects) at frames 1 and 10; people1 (unpadded names) at frame 10.
CARS = {1: [(box(1, 1, 5, 6), RED), (box(6, 8, 11, 15), GREEN)], 4: [(box(2, 3, 7, 9), GREEN)]}
MARPLE = {1: [(box(0, 0, 4, 4), 255), (box(8, 10, 12, 16), 100)], 10: [(box(3, 3, 9, 12), 1)]}


def make_fbms(root: Path) -> Path:
    """Trainingset/cars1 + Testset/{marple1,people1}, the way the two FBMS zips unpack."""
    cars = root / "Trainingset" / "cars1"
    for n in range(1, 6):
        save(cars / f"cars1_{n:02d}.jpg", rgb(n))
    for n, objects in CARS.items():
        save(cars / "GroundTruth" / f"cars1_{n:02d}_gt.ppm", colour_gt(objects))
        # the benchmark's confidence map beside a .ppm: all 255, it must NOT be read as a label map
        save(cars / "GroundTruth" / f"cars1_{n:02d}_gt.pgm", np.full((H, W), 255, np.uint8))
    (cars / "GroundTruth" / "cars1Def.dat").write_text("Ground truth definition file\n")
    (cars / "cars1.bmf").write_text("5 1\ncars1_01.jpg\n")
    marple = root / "Testset" / "marple1"
    for n in range(1, 13):
        save(marple / f"marple1_{n:03d}.jpg", rgb(100 + n))
    for n, objects in MARPLE.items():
        save(marple / "GroundTruth" / f"marple1_{n:03d}_gt.pgm", grey_gt(objects))
    people = root / "Testset" / "people1"
    for n in range(1, 12):
        save(people / f"people1_{n}.jpg", rgb(200 + n))  # unpadded: name order is not frame order
    save(people / "GroundTruth" / "people1_10_gt.ppm", colour_gt([(box(4, 4, 8, 8), RED)]))
    return root


def union(objects) -> np.ndarray:
    merged = np.zeros((H, W), bool)
    for mask, _ in objects:
        merged |= mask
    return merged


def test_fbms_to_davis_like(tmp_path: Path) -> None:
    source, destination = make_fbms(tmp_path / "fbms"), tmp_path / "out"
    names = convert_fbms(source, destination)
    assert names == ["cars1", "marple1", "people1"]
    data = DAVISLike(destination)
    assert data.names == names
    expected = {"cars1": (5, CARS), "marple1": (12, MARPLE),
                "people1": (11, {10: [(box(4, 4, 8, 8), RED)]})}
    for name, (count, objects) in expected.items():
        sequence = data.by_name(name)
        assert len(sequence) == count
        assert [f.stem for f in sequence.frames] == [f"{i:05d}" for i in range(count)]
        assert sequence.annotated == [n - 1 for n in sorted(objects)]  # 1-based names -> 0-based stems
        for n, drawn in objects.items():
            assert sequence.masks[n - 1].stem == sequence.frames[n - 1].stem
            np.testing.assert_array_equal(sequence.mask(n - 1).numpy(), union(drawn))
            written = Image.open(sequence.masks[n - 1])
            assert written.mode == "L" and set(np.unique(np.asarray(written))) <= {0, 255}


def test_fbms_frames_follow_frame_numbers_and_are_linked(tmp_path: Path) -> None:
    source, destination = make_fbms(tmp_path / "fbms"), tmp_path / "out"
    convert_fbms(source, destination)
    people = source / "Testset" / "people1"
    for n in range(1, 12):
        converted = destination / "JPEGImages" / "people1" / f"{n - 1:05d}.jpg"
        assert os.path.samefile(converted, people / f"people1_{n}.jpg")


def test_fbms_copy_instead_of_link(tmp_path: Path) -> None:
    source, destination = make_fbms(tmp_path / "fbms"), tmp_path / "out"
    convert_fbms(source, destination, link=False)
    original = source / "Trainingset" / "cars1" / "cars1_03.jpg"
    converted = destination / "JPEGImages" / "cars1" / "00002.jpg"
    assert not converted.is_symlink() and not os.path.samefile(converted, original)
    assert converted.read_bytes() == original.read_bytes()


def test_fbms_one_set_folder(tmp_path: Path) -> None:
    source = make_fbms(tmp_path / "fbms")
    assert convert_fbms(source / "Trainingset", tmp_path / "train") == ["cars1"]
    assert DAVISLike(tmp_path / "train").names == ["cars1"]


def _no_ground_truth_folder(root: Path) -> str:
    gt = root / "Trainingset" / "cars1" / "GroundTruth"
    for path in gt.iterdir():
        path.unlink()
    gt.rmdir()
    return str(gt)


def _ground_truth_without_frame(root: Path) -> str:
    return save(root / "Testset" / "marple1" / "GroundTruth" / "marple1_013_gt.pgm", grey_gt([])).name


def _ground_truth_of_another_size(root: Path) -> str:
    return save(root / "Testset" / "marple1" / "GroundTruth" / "marple1_005_gt.pgm",
                np.zeros((H + 2, W), np.uint8)).name


def _colour_ground_truth_without_white(root: Path) -> str:
    return save(root / "Trainingset" / "cars1" / "GroundTruth" / "cars1_02_gt.ppm",
                colour_gt([], background=RED)).name


def _two_files_for_one_frame(root: Path) -> str:
    save(root / "Testset" / "people1" / "people1_03.jpg", rgb(0))  # also frame 3, as people1_3.jpg
    return "people1_03.jpg"


@pytest.mark.parametrize("break_archive, error", [
    (_no_ground_truth_folder, DatasetFileNotFoundError),
    (_ground_truth_without_frame, DatasetError),
    (_ground_truth_of_another_size, DatasetError),
    (_colour_ground_truth_without_white, DatasetError),
    (_two_files_for_one_frame, DatasetError),
])
def test_fbms_errors_name_the_file(tmp_path: Path, break_archive, error) -> None:
    source = make_fbms(tmp_path / "fbms")
    culprit = break_archive(source)
    with pytest.raises(error, match=re.escape(culprit)):
        convert_fbms(source, tmp_path / "out")


def test_fbms_no_sequences(tmp_path: Path) -> None:
    (tmp_path / "empty" / "Trainingset").mkdir(parents=True)
    with pytest.raises(DatasetError, match=re.escape(str(tmp_path / "empty"))):
        convert_fbms(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(DatasetFileNotFoundError, match="missing"):
        convert_fbms(tmp_path / "missing", tmp_path / "out")


# SegTrackv2: frog (one object, PNG frames, anti-aliased RGB masks directly in GroundTruth/frog/),
# drift (two objects in GroundTruth/drift/1/ and 2/, BMP frames; object 2 absent from frame 0003).
FROG_STEMS = ["frog_00001", "frog_00002", "frog_00003"]
DRIFT_STEMS = ["drift_0001", "drift_0002", "drift_0003"]
DRIFT_OBJECTS = {1: {s: box(1, 1 + i, 5, 6 + i) for i, s in enumerate(DRIFT_STEMS)},
                 2: {s: box(6, 8, 11, 14 - i) for i, s in enumerate(DRIFT_STEMS[:2])}}


def anti_aliased(mask: np.ndarray) -> np.ndarray:
    """An RGB mask like SegTrackv2's: 255 inside, a faint (value 60) one-pixel rim outside."""
    rim = np.zeros_like(mask)
    rim[:, 1:] |= mask[:, :-1]
    rim[:, :-1] |= mask[:, 1:]
    values = np.where(mask, 255, np.where(rim, 60, 0)).astype(np.uint8)
    return np.repeat(values[:, :, None], 3, axis=2)


def with_rim(mask: np.ndarray) -> np.ndarray:
    """The hand-computed non-zero support of `anti_aliased(mask)`."""
    return anti_aliased(mask)[:, :, 0] > 0


def make_segtrack(root: Path) -> Path:
    for i, stem in enumerate(FROG_STEMS):
        save(root / "JPEGImages" / "frog" / f"{stem}.png", rgb(i))
        save(root / "GroundTruth" / "frog" / f"{stem}.png", anti_aliased(box(2, 2, 6 + i, 9)))
    for i, stem in enumerate(DRIFT_STEMS):
        save(root / "JPEGImages" / "drift" / f"{stem}.bmp", rgb(10 + i))
    for number, masks in DRIFT_OBJECTS.items():
        for stem, mask in masks.items():
            save(root / "GroundTruth" / "drift" / str(number) / f"{stem}.bmp", anti_aliased(mask))
    return root


def test_segtrackv2_to_davis_like(tmp_path: Path) -> None:
    source, destination = make_segtrack(tmp_path / "SegTrackv2"), tmp_path / "out"
    assert convert_segtrackv2(source, destination) == ["drift", "frog"]
    data = DAVISLike(destination)
    frog, drift = data.by_name("frog"), data.by_name("drift")
    assert [f.stem for f in frog.frames] == FROG_STEMS and frog.annotated == [0, 1, 2]
    assert [f.stem for f in drift.frames] == DRIFT_STEMS and drift.annotated == [0, 1, 2]
    for i, stem in enumerate(FROG_STEMS):
        assert frog.masks[i].name == f"{stem}.png"
        np.testing.assert_array_equal(frog.mask(i).numpy(), with_rim(box(2, 2, 6 + i, 9)))
        assert os.path.samefile(frog.frames[i], source / "JPEGImages" / "frog" / f"{stem}.png")
    for i, stem in enumerate(DRIFT_STEMS):
        expected = np.zeros((H, W), bool)
        for masks in DRIFT_OBJECTS.values():
            if stem in masks:
                expected |= with_rim(masks[stem])
        np.testing.assert_array_equal(drift.mask(i).numpy(), expected)
        assert drift.frames[i].suffix == ".png"  # .bmp frames are written as lossless PNG
        np.testing.assert_array_equal(read_rgb(drift.frames[i]), rgb(10 + i))
        written = np.asarray(Image.open(drift.masks[i]))
        assert written.dtype == np.uint8 and set(np.unique(written)) <= {0, 255}


def test_segtrackv2_threshold_drops_the_anti_aliased_rim(tmp_path: Path) -> None:
    source, destination = make_segtrack(tmp_path / "SegTrackv2"), tmp_path / "out"
    convert_segtrackv2(source, destination, threshold=127)
    frog = DAVISLike(destination).by_name("frog")
    np.testing.assert_array_equal(frog.mask(0).numpy(), box(2, 2, 6, 9))


def _no_sequence_ground_truth(root: Path) -> str:
    folder = root / "GroundTruth" / "frog"
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    return str(folder)


def _empty_sequence_ground_truth(root: Path) -> str:
    folder = root / "GroundTruth" / "frog"
    for path in folder.iterdir():
        path.unlink()
    return str(folder)


def _mask_without_frame(root: Path) -> str:
    return save(root / "GroundTruth" / "drift" / "2" / "drift_0009.bmp", anti_aliased(box(0, 0, 2, 2))).name


def _mask_of_another_size(root: Path) -> str:
    return save(root / "GroundTruth" / "drift" / "2" / "drift_0003.bmp",
                np.zeros((H, W + 4, 3), np.uint8)).name


def _no_ground_truth_root(root: Path) -> str:
    os.rename(root / "GroundTruth", root / "Masks")
    return str(root / "GroundTruth")


@pytest.mark.parametrize("break_archive, error", [
    (_no_sequence_ground_truth, DatasetFileNotFoundError),
    (_empty_sequence_ground_truth, DatasetError),
    (_mask_without_frame, DatasetError),
    (_mask_of_another_size, DatasetError),
    (_no_ground_truth_root, DatasetFileNotFoundError),
])
def test_segtrackv2_errors_name_the_file(tmp_path: Path, break_archive, error) -> None:
    source = make_segtrack(tmp_path / "SegTrackv2")
    culprit = break_archive(source)
    with pytest.raises(error, match=re.escape(culprit)):
        convert_segtrackv2(source, tmp_path / "out")


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fbms, segtrack = make_fbms(tmp_path / "fbms"), make_segtrack(tmp_path / "SegTrackv2")
    assert main(["fbms", str(fbms), str(tmp_path / "fbms_out")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"marple1\s+12 frames\s+2 masks", out) and "wrote 3 sequences" in out
    for _ in range(2):  # a rerun over the same destination replaces what it wrote
        assert main(["segtrackv2", str(segtrack), str(tmp_path / "st_out"), "--copy", "--threshold", "127"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"drift\s+3 frames\s+3 masks", out) and "copied" in out
    frame = tmp_path / "st_out" / "JPEGImages" / "frog" / "frog_00001.png"
    assert not os.path.samefile(frame, segtrack / "JPEGImages" / "frog" / "frog_00001.png")
    assert DAVISLike(tmp_path / "st_out").names == ["drift", "frog"]
    assert main(["fbms", str(tmp_path / "nowhere"), str(tmp_path / "x")]) == 1
    assert "nowhere" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["davis", str(fbms), str(tmp_path / "x")])


def test_real_segtrackv2_sample(shared_data: Path, tmp_path: Path) -> None:
    """SegTrackv2 bmx as shipped: the converted masks are the loader's reading of GroundTruth/, and
    with threshold 127 exactly the sample's own thresholded Annotations/."""
    source = shared_data / "SegTrackv2-sample"
    if not (source / "GroundTruth" / "bmx").is_dir():
        pytest.skip(f"{source} has no GroundTruth/bmx")
    assert convert_segtrackv2(source, tmp_path / "any") == ["bmx"]
    converted = DAVISLike(tmp_path / "any").by_name("bmx")
    shipped = DAVISLike(source, annotations="GroundTruth").by_name("bmx")
    assert len(converted) == len(shipped) == 36 and converted.annotated == list(range(36))
    assert [f.name for f in converted.frames] == [f.name for f in shipped.frames]
    for i in (0, 17, 35):
        assert os.path.samefile(converted.frames[i], shipped.frames[i])
        assert (converted.mask(i) == shipped.mask(i)).all()
    convert_segtrackv2(source, tmp_path / "half", threshold=127)
    halved = DAVISLike(tmp_path / "half").by_name("bmx")
    for i in (0, 17, 35):
        np.testing.assert_array_equal(read_mask(halved.masks[i]),
                                      read_mask(source / "Annotations" / "bmx" / halved.masks[i].name))


def test_real_fbms_sample(shared_data: Path, tmp_path: Path) -> None:
    """FBMS bear01 (white background, cyan bear) put back into the archive's naming
    (bear01_0001.jpg, GroundTruth/bear01_0001_gt.png) converts to the sample's binary Annotations/."""
    sample = shared_data / "FBMS-sample"
    if not (sample / "GroundTruth" / "bear01").is_dir():
        pytest.skip(f"{sample} has no GroundTruth/bear01")
    archive = tmp_path / "Trainingset" / "bear01"
    (archive / "GroundTruth").mkdir(parents=True)
    frames = sorted((sample / "JPEGImages" / "bear01").glob("*.jpg"))
    for i, frame in enumerate(frames):  # symlinks in tmp_path: nothing is copied from shared/
        (archive / f"bear01_{i + 1:04d}.jpg").symlink_to(frame)
    for gt in (sample / "GroundTruth" / "bear01").glob("*_gt.png"):
        (archive / "GroundTruth" / gt.name).symlink_to(gt)
    assert convert_fbms(tmp_path, tmp_path / "out") == ["bear01"]
    bear = DAVISLike(tmp_path / "out").by_name("bear01")
    expected = sorted((sample / "Annotations" / "bear01").glob("*.png"))
    assert len(bear) == len(frames)
    assert [bear.frames[i].stem for i in bear.annotated] == [p.stem for p in expected]
    for i, reference in zip(bear.annotated, expected):
        np.testing.assert_array_equal(bear.mask(i).numpy(), read_mask(reference))
