"""Loaders: shapes, dtypes, ranges, the pair transform (same crop, gap, flip, portrait), and the
real sample data in ../shared/data (skipped where it is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from amdlib.data import (DAVIS2016, DUTSTE, VOC2012, DAVISLike, PairTransform, YouTubeVOSPairs,
                         read_label, voc_colormap)
from amdlib.data.voc import VOC_IGNORE_INDEX, VOC_NUM_CLASSES


def pattern_frame(height: int, width: int, index: int) -> np.ndarray:
    """R = column, G = row, B = 10 * frame index: every pixel says where and when it came from."""
    frame = np.zeros((height, width, 3), np.uint8)
    frame[..., 0] = np.arange(width)[None, :]
    frame[..., 1] = np.arange(height)[:, None]
    frame[..., 2] = 10 * index
    return frame


def write_video(root: Path, name: str, frames: list[np.ndarray], ext: str = ".png") -> Path:
    folder = root / "train_all_frames" / "JPEGImages" / name
    folder.mkdir(parents=True, exist_ok=True)
    for t, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / f"{t:05d}{ext}")
    return folder


def write_split(path: Path, entries: dict[str, int]) -> Path:
    lines = [f"train_all_frames/JPEGImages/{name} " + " ".join(f"{t:05d}" for t in range(n))
             for name, n in entries.items()]
    path.write_text("".join(line + "\n" for line in lines))
    return path


def decode(pair: torch.Tensor) -> np.ndarray:
    """float 2,3,h,w in [0,1] -> int 2,h,w,3 pixel values."""
    return np.rint(pair.permute(0, 2, 3, 1).numpy() * 255).astype(int)


@pytest.fixture
def pattern_video(tmp_path) -> tuple[Path, Path]:
    write_video(tmp_path, "pattern", [pattern_frame(40, 60, t) for t in range(6)])
    return tmp_path, write_split(tmp_path / "train.txt", {"pattern": 6})


# --------------------------------------------------------------------------- pair transform

def test_same_crop_for_both_frames_and_gap(pattern_video):
    root, split = pattern_video
    ds = YouTubeVOSPairs(root, split, gap=2, short_side=40, scale_min=1.0, crop=(16, 24))
    seen = set()
    for epoch in range(30):
        sample = ds.sample(0, epoch)
        assert sample.frames.shape == (2, 3, 16, 24) and sample.frames.dtype == torch.float32
        px = decode(sample.frames)
        left, top = px[0, 0, 0, 0], px[0, 0, 0, 1]
        assert np.array_equal(px[0, :, :, 0], np.broadcast_to(left + np.arange(24), (16, 24)))
        assert np.array_equal(px[0, :, :, 1], np.broadcast_to((top + np.arange(16))[:, None], (16, 24)))
        assert np.array_equal(px[0, ..., :2], px[1, ..., :2])  # same crop window
        first, second = px[0, 0, 0, 2] // 10, px[1, 0, 0, 2] // 10
        assert second == first + 2 and sample.indices == (first, second)  # gap, from the list
        assert 0 <= first <= 3
        seen.add((int(left), int(top), int(first)))
    assert len({s[:2] for s in seen}) > 5 and len({s[2] for s in seen}) > 2  # crops and pairs vary


def test_flip_is_shared_and_optional(pattern_video):
    root, split = pattern_video
    flipped = unflipped = 0
    ds = YouTubeVOSPairs(root, split, short_side=40, scale_min=1.0, crop=(16, 24), flip=True)
    for epoch in range(20):
        px = decode(ds.sample(0, epoch).frames)
        step = np.diff(px[:, 0, :, 0], axis=1)
        assert (step == step[0, 0]).all()  # both frames flipped alike, columns still contiguous
        flipped += step[0, 0] == -1
        unflipped += step[0, 0] == 1
    assert flipped and unflipped
    no_flip = YouTubeVOSPairs(root, split, short_side=40, scale_min=1.0, crop=(16, 24))
    for epoch in range(10):
        assert (np.diff(decode(no_flip.sample(0, epoch).frames)[:, 0, :, 0], axis=1) == 1).all()


def test_identical_frames_stay_identical_after_resize_and_crop(tmp_path):
    texture = np.random.default_rng(0).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    write_video(tmp_path, "still", [texture, texture, texture])
    ds = YouTubeVOSPairs(tmp_path, write_split(tmp_path / "s.txt", {"still": 3}), short_side=33,
                         scale_min=0.5, crop=(20, 30), flip=True)
    for epoch in range(5):
        frames = ds.sample(0, epoch).frames
        assert frames.shape == (2, 3, 20, 30) and torch.equal(frames[0], frames[1])
        assert 0.0 <= frames.min() and frames.max() <= 1.0


def test_never_an_identical_frame_pair(tmp_path):
    write_video(tmp_path, "two", [pattern_frame(20, 20, 0), pattern_frame(20, 20, 1)])
    ds = YouTubeVOSPairs(tmp_path, write_split(tmp_path / "s.txt", {"two": 2}), short_side=20, crop=None)
    for epoch in range(10):
        assert ds.sample(0, epoch).indices == (0, 1)


def test_portrait_frames_keep_their_orientation(tmp_path):
    write_video(tmp_path, "tall", [pattern_frame(60, 40, t) for t in range(3)])
    split = write_split(tmp_path / "s.txt", {"tall": 3})
    whole = YouTubeVOSPairs(tmp_path, split, short_side=20, scale_min=1.0, crop=None)[0]
    assert whole.shape == (2, 3, 30, 20)  # short side (width) 40 -> 20, height 60 -> 30
    rows = whole[0, 1, :, 10]
    cols = whole[0, 0, 15, :]
    assert (rows.diff() > 0).all() and (cols.diff() > 0).all()  # G still grows down, R across
    cropped = YouTubeVOSPairs(tmp_path, split, short_side=40, scale_min=1.0, crop=(48, 32))[0]
    assert cropped.shape == (2, 3, 48, 32)
    # A crop larger than the resized frame scales it up just enough instead of failing.
    big = YouTubeVOSPairs(tmp_path, split, short_side=20, scale_min=1.0, crop=(70, 50))[0]
    assert big.shape == (2, 3, 70, 50)


def test_transform_resize_range():
    transform = PairTransform(short_side=400, scale_min=0.96, crop=(384, 384))
    assert transform.output_size(720, 1280, 0.0) == (384, 683)
    assert transform.output_size(720, 1280, 0.999999) == (400, 711)
    assert transform.output_size(1280, 720, 0.0) == (683, 384)  # portrait: no transposing


def test_masks_follow_the_frames(tmp_path):
    write_video(tmp_path, "m", [pattern_frame(40, 60, t) for t in range(3)])
    mask_dir = tmp_path / "train_all_frames" / "Annotations" / "m"
    mask_dir.mkdir(parents=True)
    for t in range(3):
        mask = np.zeros((40, 60), np.uint8)
        mask[:, :30] = 255
        Image.fromarray(mask).save(mask_dir / f"{t:05d}.png")
    ds = YouTubeVOSPairs(tmp_path, write_split(tmp_path / "s.txt", {"m": 3}), short_side=40, scale_min=1.0,
                         crop=(20, 40), flip=True, annotations="train_all_frames/Annotations")
    for epoch in range(8):
        sample = ds.sample(0, epoch)
        assert sample.masks.shape == (2, 20, 40) and sample.masks.dtype == torch.bool
        # The mask covered columns < 30: after crop and flip it still covers exactly those pixels.
        assert torch.equal(sample.masks, torch.from_numpy(decode(sample.frames)[..., 0] < 30))


def test_randomness_is_reproducible_and_worker_independent(pattern_video):
    root, split = pattern_video
    make = lambda: YouTubeVOSPairs(root, split, short_side=30, scale_min=0.8, crop=(16, 16), flip=True, seed=7)
    a, b = make(), make()
    assert torch.equal(a[0], b[0])
    a.set_epoch(1)
    assert torch.equal(a[0], b.sample(0, epoch=1).frames)
    assert any(not torch.equal(a.sample(0, 1).frames, a.sample(0, e).frames) for e in range(2, 6))
    c = YouTubeVOSPairs(root, split, short_side=30, scale_min=0.8, crop=(16, 16), flip=True, seed=8)
    assert any(not torch.equal(b.sample(0, e).frames, c.sample(0, e).frames) for e in range(4))

    # Same batches with 0 and 2 worker processes.
    many = YouTubeVOSPairs(root, split, short_side=30, crop=(16, 16), seed=3)
    many.videos = many.videos * 4  # four items from the one video
    serial = torch.cat(list(DataLoader(many, batch_size=2, num_workers=0)))
    parallel = torch.cat(list(DataLoader(many, batch_size=2, num_workers=2)))
    assert serial.shape == (4, 2, 3, 16, 16) and torch.equal(serial, parallel)


def test_split_file_forms_and_folder_scan(tmp_path, monkeypatch):
    write_video(tmp_path, "a", [pattern_frame(20, 20, t) for t in range(4)], ext=".jpg")
    write_video(tmp_path, "b", [pattern_frame(20, 20, t) for t in range(3)], ext=".jpg")
    split = tmp_path / "with_ext.txt"
    split.write_text("train_all_frames/JPEGImages/a 00000.jpg 00002.jpg\n"
                     "train_all_frames/JPEGImages/b\n")  # folder only: all its frames
    ds = YouTubeVOSPairs(tmp_path, split, short_side=20, crop=None)
    assert [v.name for v in ds.videos] == ["a", "b"]
    assert [p.name for p in ds.videos[0].frames] == ["00000.jpg", "00002.jpg"]
    assert len(ds.videos[1].frames) == 3
    assert ds.sample(0).indices == (0, 1)
    monkeypatch.chdir(tmp_path.parent)  # a relative split file is also looked up under root
    assert len(YouTubeVOSPairs(tmp_path, "with_ext.txt", short_side=20, crop=None)) == 2
    scanned = YouTubeVOSPairs(tmp_path, None, short_side=20, crop=None)
    assert [v.name for v in scanned.videos] == ["a", "b"] and len(scanned.videos[0].frames) == 4


# --------------------------------------------------------------------------- real sample data

@pytest.mark.shared_data
def test_davis2016_real(shared_data, tmp_path):
    root = shared_data / "DAVIS2016-dev"
    davis = DAVIS2016(root, split=None)
    assert davis.names == ["blackswan", "car-shadow", "dog", "libby", "motocross-jump"]
    swan = davis.by_name("blackswan")
    assert len(swan) == 50 and swan.annotated == list(range(50))
    frame, mask = swan.frame(0), swan.mask(0)
    assert frame.shape == (3, 480, 854) and frame.dtype == torch.float32
    assert 0 <= frame.min() and frame.max() <= 1 and frame.std() > 0.05
    assert mask.shape == (480, 854) and mask.dtype == torch.bool and 0.01 < mask.float().mean() < 0.5

    # DAVIS-2016's own val.txt format, and a plain sequence list, both relative to root.
    pairs = tmp_path / "val.txt"
    pairs.write_text("".join(f"/JPEGImages/480p/{s}/{t:05d}.jpg /Annotations/480p/{s}/{t:05d}.png\n"
                             for s, n in (("dog", 3), ("libby", 2)) for t in range(n)))
    listed = DAVIS2016(root, split_file=pairs)
    assert listed.names == ["dog", "libby"] and [len(s) for s in listed] == [3, 2]
    assert torch.equal(listed[0].mask(2), davis.by_name("dog").mask(2))
    plain = tmp_path / "plain.txt"
    plain.write_text("libby\ncar-shadow\n")
    assert [len(s) for s in DAVIS2016(root, split_file=plain)] == [49, 40]


@pytest.mark.shared_data
def test_segtrackv2_real(shared_data):
    root = shared_data / "SegTrackv2-sample"
    bmx = DAVISLike(root).by_name("bmx")
    assert len(bmx) == 36 and bmx.frames[0].suffix == ".png" and bmx.annotated == list(range(36))
    assert bmx.frame(0).shape == (3, 360, 640)
    binary = bmx.mask(5)
    # The shipped anti-aliased RGB ground truth reads as non-zero = object and agrees.
    soft = DAVISLike(root, annotations="GroundTruth").by_name("bmx").mask(5)
    assert soft.shape == binary.shape == (360, 640)
    iou = (soft & binary).sum() / (soft | binary).sum()
    assert binary.any() and iou > 0.9


@pytest.mark.shared_data
def test_fbms_real_sparse(shared_data):
    bear = DAVISLike(shared_data / "FBMS-sample").by_name("bear01")
    assert len(bear) == 100 and bear.annotated == [0, 19, 39, 59, 79, 99]
    mask = bear.mask(19)
    assert mask.shape == (540, 960) and mask.any()


@pytest.mark.shared_data
def test_voc2012_real(shared_data, tmp_path):
    sample = shared_data / "VOC2012-sample"
    base = tmp_path / "VOCdevkit" / "VOC2012"
    for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (base / sub).mkdir(parents=True)
    ids = sorted(p.stem for p in (sample / "SegmentationClass").glob("*.png"))
    for name in ids:  # links, not copies; the images of the sample are PNG
        (base / "JPEGImages" / f"{name}.png").symlink_to(sample / "images" / f"{name}.png")
        (base / "SegmentationClass" / f"{name}.png").symlink_to(sample / "SegmentationClass" / f"{name}.png")
    (base / "ImageSets/Segmentation/val.txt").write_text("\n".join(ids) + "\n")
    voc = VOC2012(tmp_path, "val")
    assert len(voc) == 14
    for i in range(3):
        image, label, name = voc[i]
        assert image.shape == (3, 513, 513) and label.shape == (513, 513) and label.dtype == torch.int64
        values = set(label.unique().tolist())
        assert values <= set(range(VOC_NUM_CLASSES)) | {VOC_IGNORE_INDEX} and len(values - {0, 255}) >= 1
        # The colour-coded targets decode to the same indices through the VOC colour map.
        rgb = read_label(sample / "targets" / f"{name}.png", voc_colormap())
        assert np.array_equal(rgb, label.numpy())


@pytest.mark.shared_data
def test_unlabeled_real_video(shared_data, tmp_path):
    root = shared_data / "unlabeled"
    split = tmp_path / "train.txt"
    split.write_text("sam2_bedroom " + " ".join(f"{t:05d}" for t in range(10)) + "\n")
    ds = YouTubeVOSPairs(root, split)  # release defaults: short side 400*U[0.96,1], crop 384
    frames = ds[0]
    assert frames.shape == (2, 3, 384, 384) and frames.dtype == torch.float32
    assert 0 <= frames.min() and frames.max() <= 1
    assert not torch.equal(frames[0], frames[1])
    scanned = YouTubeVOSPairs(root, None, short_side=100, crop=(96, 96))
    assert len(scanned) == 1 and len(scanned.videos[0].frames) == 200


@pytest.mark.shared_data
def test_duts_layout_on_real_frames(shared_data, tmp_path):
    # No DUTS sample exists: build its layout from DAVIS frames and masks (links).
    davis = shared_data / "DAVIS2016-dev"
    (tmp_path / "DUTS-TE-Image").mkdir()
    (tmp_path / "DUTS-TE-Mask").mkdir()
    for seq in ("dog", "libby"):
        (tmp_path / "DUTS-TE-Image" / f"{seq}.jpg").symlink_to(davis / f"JPEGImages/480p/{seq}/00000.jpg")
        (tmp_path / "DUTS-TE-Mask" / f"{seq}.png").symlink_to(davis / f"Annotations/480p/{seq}/00000.png")
    duts = DUTSTE(tmp_path)
    image, mask, name = duts[0]
    assert len(duts) == 2 and name == "dog" and image.shape == (3, 480, 854) and mask.dtype == torch.bool


def test_frame_folders_are_listed_in_natural_order(tmp_path):
    from amdlib.data.io import list_images

    names = [f"frame_{t}" for t in range(1, 12)]
    for name in reversed(names):
        Image.fromarray(pattern_frame(8, 8, 0)).save(tmp_path / f"{name}.png")
    assert [p.stem for p in list_images(tmp_path)] == names
    for name in ("00010", "00002", "00001"):  # zero-padded names keep their order
        Image.fromarray(pattern_frame(8, 8, 0)).save(tmp_path / f"{name}.jpg")
    assert [p.stem for p in list_images(tmp_path)][:3] == ["00001", "00002", "00010"]


def test_davis_like_sequence_frames_follow_natural_order(tmp_path):
    for t in (1, 2, 10, 11):
        folder = tmp_path / "JPEGImages" / "seq"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pattern_frame(8, 8, t)).save(folder / f"frame_{t}.png")
    sequence = DAVISLike(tmp_path, require_masks=False)[0]
    assert [p.stem for p in sequence.frames] == ["frame_1", "frame_2", "frame_10", "frame_11"]
