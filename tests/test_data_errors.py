"""Bad input: each problem raises a clear DatasetError naming the file; odd formats are repaired."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from amdlib.data import (DAVIS2016, DUTSTE, VOC2012, DAVISLike, DatasetError, DatasetFileNotFoundError,
                         YouTubeVOSPairs, load_frame, read_label, read_mask, read_rgb, voc_colormap)


def rgb(height: int = 12, width: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def save(path: Path, array: np.ndarray, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, **kwargs).save(path)
    return path


def binary(height: int = 12, width: int = 16) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    mask[3:8, 4:10] = 255
    return mask


def make_davis(root: Path, frames: int = 3, size=(12, 16)) -> Path:
    for t in range(frames):
        save(root / f"JPEGImages/480p/seq/{t:05d}.jpg", rgb(*size, seed=t))
        save(root / f"Annotations/480p/seq/{t:05d}.png", binary(*size))
    return root


def make_pairs_video(root: Path, name: str, frames: int) -> None:
    for t in range(frames):
        save(root / f"train_all_frames/JPEGImages/{name}/{t:05d}.jpg", rgb(seed=t))


# --------------------------------------------------------------------------- unreadable files

def test_corrupt_image(tmp_path):
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"this is not a JPEG at all")
    with pytest.raises(DatasetError, match="broken.jpg.*cannot decode"):
        read_rgb(path)
    with pytest.raises(DatasetError, match="broken.jpg"):
        read_mask(path)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_truncated_image(tmp_path, suffix):
    path = save(tmp_path / f"cut{suffix}", rgb(64, 64))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match=f"cut\\{suffix}.*(corrupt or truncated)"):
        load_frame(path)


def test_corrupt_frame_inside_a_loader_names_the_file(tmp_path):
    make_pairs_video(tmp_path, "v", 2)
    bad = tmp_path / "train_all_frames/JPEGImages/v/00001.jpg"
    bad.write_bytes(bad.read_bytes()[:40])
    ds = YouTubeVOSPairs(tmp_path, None, short_side=12, crop=None)
    with pytest.raises(DatasetError, match="00001.jpg"):
        ds[0]


def test_missing_image_file(tmp_path):
    with pytest.raises(DatasetFileNotFoundError, match="nothing.png.*not found") as info:
        read_rgb(tmp_path / "nothing.png")
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, ValueError)


# --------------------------------------------------------------------------- missing annotations

def test_missing_annotation_dense_davis(tmp_path):
    root = make_davis(tmp_path)
    (root / "Annotations/480p/seq/00001.png").unlink()
    with pytest.raises(DatasetFileNotFoundError, match="Annotations/480p/seq/00001.png"):
        DAVIS2016(root, split=None)
    split = root / "ImageSets/480p/val.txt"
    split.parent.mkdir(parents=True)
    split.write_text("".join(f"/JPEGImages/480p/seq/{t:05d}.jpg /Annotations/480p/seq/{t:05d}.png\n"
                             for t in range(3)))
    with pytest.raises(DatasetFileNotFoundError, match="00001.png.*val.txt line 2"):
        DAVIS2016(root)


def test_missing_annotation_duts_and_sparse(tmp_path):
    save(tmp_path / "DUTS-TE-Image/a.jpg", rgb())
    save(tmp_path / "DUTS-TE-Image/b.jpg", rgb())
    save(tmp_path / "DUTS-TE-Mask/a.png", binary())
    with pytest.raises(DatasetFileNotFoundError, match="DUTS-TE-Mask/b.png"):
        DUTSTE(tmp_path)

    like = tmp_path / "like"
    save(like / "JPEGImages/s/00000.jpg", rgb())
    save(like / "JPEGImages/s/00001.jpg", rgb())
    save(like / "Annotations/s/00000.png", binary())
    seq = DAVISLike(like)[0]
    assert seq.annotated == [0]
    with pytest.raises(DatasetError, match="00001.jpg.*no annotation"):
        seq.mask(1)
    save(like / "JPEGImages/t/00000.jpg", rgb())
    with pytest.raises(DatasetFileNotFoundError, match="Annotations/t.*no annotation"):
        DAVISLike(like)
    assert len(DAVISLike(like, require_masks=False)) == 2
    save(like / "Annotations/s/00007.png", binary())  # a mask with no frame
    with pytest.raises(DatasetError, match="00007.png.*no frame"):
        DAVISLike(like, ["s"])


# --------------------------------------------------------------------------- size mismatch

def test_frame_mask_size_mismatch(tmp_path):
    like = tmp_path / "like"
    save(like / "JPEGImages/s/00000.jpg", rgb(12, 16))
    save(like / "Annotations/s/00000.png", binary(12, 17))
    with pytest.raises(DatasetError, match="00000.png: size 12x17.*does not match.*00000.jpg"):
        DAVISLike(like)[0].mask(0)

    save(tmp_path / "duts/DUTS-TE-Image/a.jpg", rgb(12, 16))
    save(tmp_path / "duts/DUTS-TE-Mask/a.png", binary(10, 16))
    with pytest.raises(DatasetError, match="a.png: size 10x16"):
        DUTSTE(tmp_path / "duts")[0]

    make_pairs_video(tmp_path / "yt", "v", 1)
    save(tmp_path / "yt/train_all_frames/JPEGImages/v/00001.jpg", rgb(14, 16))
    with pytest.raises(DatasetError, match="00001.jpg: size .* differs"):
        YouTubeVOSPairs(tmp_path / "yt", None, short_side=12, crop=None)[0]


# --------------------------------------------------------------------------- split files

def test_missing_split_file(tmp_path):
    make_pairs_video(tmp_path, "v", 3)
    with pytest.raises(FileNotFoundError, match="missing.txt: split file not found"):
        YouTubeVOSPairs(tmp_path, tmp_path / "missing.txt")
    davis = make_davis(tmp_path / "d")
    (davis / "ImageSets" / "480p").mkdir(parents=True, exist_ok=True)
    with pytest.raises(DatasetFileNotFoundError, match="ImageSets/480p/val.txt"):
        DAVIS2016(davis)  # the split folder is there, the named split is not: a typo, not "every sequence"
    with pytest.raises(DatasetFileNotFoundError, match="Segmentation/train.txt"):
        VOC2012(_make_voc(tmp_path / "voc"), "train")


def test_empty_split(tmp_path):
    make_pairs_video(tmp_path, "v", 3)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n   \n")
    with pytest.raises(DatasetError, match="empty.txt: split file is empty"):
        YouTubeVOSPairs(tmp_path, empty)
    ghost = tmp_path / "ghost.txt"
    ghost.write_text("train_all_frames/JPEGImages/nope 00000 00001\n")
    with pytest.raises(DatasetFileNotFoundError, match="nope: video folder listed in .*ghost.txt line 1"):
        YouTubeVOSPairs(tmp_path, ghost)
    frames = tmp_path / "frames.txt"
    frames.write_text("train_all_frames/JPEGImages/v 00042 00043\n")
    with pytest.raises(DatasetFileNotFoundError, match="00042.*first frame listed"):
        YouTubeVOSPairs(tmp_path, frames)
    root = make_davis(tmp_path / "d")
    (root / "ImageSets/480p").mkdir(parents=True)
    (root / "ImageSets/480p/val.txt").write_text("")
    with pytest.raises(DatasetError, match="val.txt: DAVIS split file is empty"):
        DAVIS2016(root)
    (root / "ImageSets/480p/val.txt").write_text("unknown-seq\n")
    with pytest.raises(DatasetFileNotFoundError, match="unknown-seq"):
        DAVIS2016(root)


def test_one_frame_video(tmp_path):
    make_pairs_video(tmp_path, "long", 3)
    make_pairs_video(tmp_path, "single", 1)
    with pytest.raises(DatasetError, match="single: video has 1 listed frame.*needs at least 2"):
        YouTubeVOSPairs(tmp_path, None)
    ds = YouTubeVOSPairs(tmp_path, None, skip_short=True, short_side=12, crop=None)
    assert [v.name for v in ds.videos] == ["long"]
    with pytest.raises(DatasetError, match="needs at least 4"):
        YouTubeVOSPairs(tmp_path, None, gap=3)
    with pytest.raises(DatasetError, match="no video with at least 4 frames"):
        YouTubeVOSPairs(tmp_path, None, gap=3, skip_short=True)
    with pytest.raises(ValueError, match="gap must be >= 1"):
        YouTubeVOSPairs(tmp_path, None, gap=0)


# --------------------------------------------------------------------------- repaired formats

def test_grayscale_frame_becomes_rgb(tmp_path):
    gray = rgb()[..., 0]
    frame = read_rgb(save(tmp_path / "g.png", gray))
    assert frame.shape == (12, 16, 3) and all(np.array_equal(frame[..., c], gray) for c in range(3))


def test_rgba_frame_drops_alpha(tmp_path):
    rgba = np.concatenate([rgb(), np.full((12, 16, 1), 10, np.uint8)], axis=2)
    frame = read_rgb(save(tmp_path / "a.png", rgba))
    assert np.array_equal(frame, rgba[..., :3])  # colour kept as is, not blended with the alpha


def test_sixteen_bit_frame_is_scaled(tmp_path):
    values = (np.arange(12 * 16, dtype=np.uint16).reshape(12, 16) * 257)
    values[0, 0] = 65535
    path = save(tmp_path / "deep.png", values)
    assert Image.open(path).mode.startswith("I")
    frame = read_rgb(path)
    expected = np.arange(12 * 16).reshape(12, 16).clip(0, 255)
    expected[0, 0] = 255
    assert frame.dtype == np.uint8 and np.array_equal(frame[..., 1], expected)


def test_palette_frame_and_palette_mask(tmp_path):
    index = np.zeros((12, 16), np.uint8)
    index[2:6, 3:9] = 1
    index[8:, 10:] = 2
    image = Image.fromarray(index, mode="P")
    image.putpalette([200, 200, 200, 255, 0, 0, 0, 0, 255] + [0] * 759)  # index 0 is NOT black
    path = tmp_path / "p.png"
    image.save(path)
    frame = read_rgb(path)
    assert tuple(frame[0, 0]) == (200, 200, 200) and tuple(frame[3, 4]) == (255, 0, 0)
    mask = read_mask(path)  # indices, not colours: index 0 is background whatever its colour
    assert np.array_equal(mask, index > 0)
    assert np.array_equal(read_label(path), index)


def test_antialiased_and_multivalued_masks(tmp_path):
    soft = np.zeros((12, 16, 3), np.uint8)
    soft[2:5, 2:5] = (0, 0, 40)  # faint anti-aliased edge in one channel
    soft[6:9, 6:9] = (255, 255, 255)
    assert np.array_equal(read_mask(save(tmp_path / "s.png", soft)), soft.max(2) > 0)
    multi = np.zeros((12, 16), np.uint8)
    multi[1:3, 1:3], multi[5:7, 5:7] = 1, 2
    assert read_mask(save(tmp_path / "m.png", multi)).sum() == 8
    assert read_mask(save(tmp_path / "t.png", soft), threshold=127).sum() == 9


# --------------------------------------------------------------------------- VOC labels

def _make_voc(root: Path, label: np.ndarray | None = None) -> Path:
    base = root / "VOCdevkit/VOC2012"
    save(base / "JPEGImages/2007_000001.jpg", rgb())
    label = np.zeros((12, 16), np.uint8) if label is None else label
    image = Image.fromarray(label, mode="P")
    image.putpalette(voc_colormap().reshape(-1).tolist())
    (base / "SegmentationClass").mkdir(parents=True, exist_ok=True)
    image.save(base / "SegmentationClass/2007_000001.png")
    (base / "ImageSets/Segmentation").mkdir(parents=True, exist_ok=True)
    return root


def test_voc_bad_labels(tmp_path):
    label = np.zeros((12, 16), np.uint8)
    label[2:5, 2:5] = 50
    root = _make_voc(tmp_path / "a", label)
    (root / "VOCdevkit/VOC2012/ImageSets/Segmentation/val.txt").write_text("2007_000001\n")
    with pytest.raises(DatasetError, match=r"2007_000001.png: label values \[50\]"):
        VOC2012(root, "val")[0]

    colours = np.zeros((12, 16, 3), np.uint8)
    colours[0, 0] = (1, 2, 3)
    with pytest.raises(DatasetError, match=r"colour \(1, 2, 3\) is not in the colour map"):
        read_label(save(tmp_path / "rgb.png", colours), voc_colormap())

    root = _make_voc(tmp_path / "b")
    (root / "VOCdevkit/VOC2012/ImageSets/Segmentation/train.txt").write_text("2007_000001\n2007_000002\n")
    with pytest.raises(DatasetFileNotFoundError, match="2007_000002.jpg: image listed"):
        VOC2012(root, "train")

    root = _make_voc(tmp_path / "c", np.zeros((11, 16), np.uint8))
    (root / "VOCdevkit/VOC2012/ImageSets/Segmentation/val.txt").write_text("2007_000001\n")
    with pytest.raises(DatasetError, match="size 11x16"):
        VOC2012(root, "val")[0]


def test_voc_reads_valid_label(tmp_path):
    label = np.zeros((12, 16), np.uint8)
    label[2:5, 2:5], label[1, :] = 15, 255
    root = _make_voc(tmp_path, label)
    (root / "VOCdevkit/VOC2012/ImageSets/Segmentation/val.txt").write_text("2007_000001\n")
    image, target, name = VOC2012(root / "VOCdevkit", "val")[0]  # VOCdevkit as root works too
    assert name == "2007_000001" and target.dtype == torch.int64 and np.array_equal(target.numpy(), label)
    assert image.shape == (3, 12, 16)


def test_a_split_file_naming_a_missing_frame_fails_at_construction(tmp_path):
    make_pairs_video(tmp_path, "v", 3)
    split = tmp_path / "split.txt"
    split.write_text("train_all_frames/JPEGImages/v 00000 00001 00002\n"
                     "train_all_frames/JPEGImages/v 00000 00007 00002\n")
    missing = tmp_path / "train_all_frames/JPEGImages/v/00007.jpg"
    with pytest.raises(DatasetFileNotFoundError) as info:
        YouTubeVOSPairs(tmp_path, split)
    assert str(info.value) == f"{missing}: frame listed in {split} line 2 not found"
    split.write_text("train_all_frames/JPEGImages/v 00000.jpg 00001.png\n")
    with pytest.raises(DatasetFileNotFoundError, match=r"00001.png: frame listed in .*split.txt line 1"):
        YouTubeVOSPairs(tmp_path, split)


def test_davis_split_names_the_line_of_a_missing_sequence(tmp_path):
    root = make_davis(tmp_path / "d")
    (root / "ImageSets/480p").mkdir(parents=True)
    (root / "ImageSets/480p/val.txt").write_text("seq\nghost\n")
    with pytest.raises(DatasetFileNotFoundError, match=r"sequence 'ghost' listed in .*val.txt line 2 not found"):
        DAVIS2016(root)


def test_check_readable_finds_a_corrupt_frame_of_an_evaluation_set(tmp_path):
    root = make_davis(tmp_path / "d")
    DAVIS2016(root, split=None).check_readable()
    (root / "JPEGImages/480p/seq/00002.jpg").write_bytes(b"truncated")
    with pytest.raises(DatasetError, match="00002.jpg: cannot read image header"):
        DAVIS2016(root, split=None).check_readable()


def test_a_davis_root_without_split_files_means_every_sequence(tmp_path):
    """`scripts/reproduce.py` and the loader accept the same roots (`davis_root_problem`): one
    without ImageSets/480p is read whole, one without frames or annotations is named."""
    from amdlib.data.davis import davis_root_problem

    davis = make_davis(tmp_path / "d")  # frames and annotations, no ImageSets
    assert davis_root_problem(davis) is None
    assert DAVIS2016(davis, split="val").names == DAVIS2016(davis, split=None).names == ["seq"]
    (tmp_path / "f" / "JPEGImages" / "480p").mkdir(parents=True)
    assert davis_root_problem(tmp_path / "f") == f"{tmp_path / 'f'} lacks Annotations/480p"
    assert davis_root_problem(tmp_path / "g") == f"{tmp_path / 'g'}: not a folder"
