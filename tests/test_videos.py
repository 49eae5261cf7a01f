"""`amdlib.data.videos.VideoFolderPairs` and `amd train --videos DIR`, on clips written here with PyAV.

Every frame of a generated clip is one flat grey level, 20 + 15 * (its position), so a cached
frame's mean says which frame of the clip it is, even after lossy H.264.
"""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from amdlib.data import videos as videos_module
from amdlib.data.io import DatasetError, DatasetFileNotFoundError
from amdlib.data.videos import VideoFolderPairs
from amdlib.data import video as video_io

WIDTH, HEIGHT = 64, 48


def level(index: int) -> int:
    return 20 + 15 * index


def write_clip(path: Path, frames: int, size: tuple[int, int] = (HEIGHT, WIDTH)) -> Path:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.height, stream.width, stream.pix_fmt = *size, "yuv420p"
        for index in range(frames):
            array = np.full((*size, 3), level(index), dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")))
        container.mux(stream.encode())
    return path


def write_frames(folder: Path, frames: int, sizes: dict[int, tuple[int, int]] | None = None) -> Path:
    """PNGs f1.png ... f<frames>.png: natural order differs from text order (f10 after f9)."""
    folder.mkdir(parents=True)
    for index in range(frames):
        size = (sizes or {}).get(index, (HEIGHT, WIDTH))
        Image.fromarray(np.full((*size, 3), level(index), dtype=np.uint8)).save(folder / f"f{index + 1}.png")
    return folder


@pytest.fixture
def footage(tmp_path: Path) -> Path:
    """3 clips of 12 frames (one .MOV), a folder of 10 PNG frames, a 2-frame clip, two non-videos."""
    root = tmp_path / "footage"
    root.mkdir()
    for name in ("clip_a.mp4", "clip_b.mp4", "clip_c.MOV"):
        write_clip(root / name, 12)
    write_frames(root / "frames", 10)
    write_clip(root / "short.mp4", 2)
    (root / "README.txt").write_text("my holiday footage\n")
    (root / "SHA256SUMS").write_text("0" * 64 + "  clip_a.mp4\n")
    return root


def build(root: Path, **options) -> VideoFolderPairs:
    """The dataset at gap 2 (the 2-frame clip is too short: its warning is expected here)."""
    options = {"gap": 2, "short_side": 32, "crop": (24, 24), "seed": 0, **options}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*short.mp4.*skipped")
        return VideoFolderPairs(root, **options)


def test_pairs_are_float_frames_in_0_1_of_the_crop_size(footage):
    dataset = build(footage)
    assert len(dataset) == 4
    for index in range(len(dataset)):
        frames = dataset[index]
        assert frames.shape == (2, 3, 24, 24) and frames.dtype == torch.float32
        assert 0.0 <= frames.min() and frames.max() <= 1.0
    whole = build(footage, crop=None, scale_min=1.0)[0]  # short side 32, aspect kept: 32 x 43
    assert whole.shape == (2, 3, 32, 43)


def test_cache_holds_uint8_frames_at_the_short_side(footage):
    dataset = build(footage)
    for clip in dataset.clips:
        assert clip.frames.dtype == torch.uint8 and tuple(clip.frames.shape[1:]) == (3, 32, 43)
    assert dataset.cache_bytes == 46 * 3 * 32 * 43
    small = build(footage, short_side=400)  # never enlarged: the transform scales up per pair
    assert tuple(small.clips[0].frames.shape[1:]) == (3, HEIGHT, WIDTH)


def test_a_pair_is_frame_t_and_t_plus_gap_of_one_clip_in_natural_order(footage):
    dataset = build(footage)
    assert [clip.name for clip in dataset.clips] == ["clip_a.mp4", "clip_b.mp4", "clip_c.MOV", "frames"]
    for clip in dataset.clips:  # every cached frame is the clip's frame at its recorded position
        means = clip.frames.float().mean(dim=(1, 2, 3))
        expected = torch.tensor([level(int(i)) for i in clip.indices], dtype=torch.float32)
        assert torch.allclose(means, expected, atol=3), (clip.name, means, expected)
    for index in range(len(dataset)):
        for epoch in range(5):
            sample = dataset.sample(index, epoch)
            first, second = sample.indices
            assert second - first == 2 and sample.video == dataset.clips[index].name
            means = sample.frames.mean(dim=(1, 2, 3)) * 255
            assert torch.allclose(means, torch.tensor([level(first), level(second)], dtype=torch.float32), atol=3)


def test_each_clip_is_decoded_once_however_many_pairs_are_drawn(footage, monkeypatch):
    calls = {"open": 0, "decode": 0, "read": 0}
    open_video, frames, read_rgb = videos_module.open_video, video_io.VideoSource.frames, videos_module.read_rgb

    def counting(key, function):
        def wrapped(*args, **kwargs):
            calls[key] += 1
            return function(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(videos_module, "open_video", counting("open", open_video))
    monkeypatch.setattr(video_io.VideoSource, "frames", counting("decode", frames))
    monkeypatch.setattr(videos_module, "read_rgb", counting("read", read_rgb))
    dataset = build(footage)
    # 5 clips opened (the short one too, to learn its length), 3 videos decoded, 10 PNGs read.
    assert calls == {"open": 5, "decode": 3, "read": 10}
    for position in range(100):
        dataset.sample(position % len(dataset), position // len(dataset))
    assert calls == {"open": 5, "decode": 3, "read": 10}


def test_sample_is_determined_by_seed_epoch_and_index(footage):
    dataset, again, other = build(footage), build(footage), build(footage, seed=1)
    for index in range(len(dataset)):
        assert torch.equal(dataset.sample(index, 3).frames, again.sample(index, 3).frames)
    assert any(not torch.equal(dataset.sample(i, 0).frames, dataset.sample(i, 1).frames) for i in range(4))
    assert any(not torch.equal(dataset.sample(i, 0).frames, other.sample(i, 0).frames) for i in range(4))
    dataset.set_epoch(7)
    assert torch.equal(dataset[2], again.sample(2, 7).frames)
    with pytest.raises(IndexError):
        dataset.sample(4)


def test_describe_counts_videos_frames_and_pairs(footage):
    dataset = build(footage)
    # 3 clips x 12 frames + 10 frames = 46 frames; pairs at gap 2: 3 x 10 + 8 = 38.
    text = dataset.describe()
    assert text.startswith(f"4 videos, 46 frames, 38 frame pairs (gap 2) under {footage}; "), text
    assert "cache bound" not in text and "short.mp4" in text
    assert sum(len(clip.pairs) for clip in dataset.clips) == 38
    assert build(footage, gap=1).describe().startswith(f"5 videos, 48 frames, 43 frame pairs (gap 1) under {footage}")


def test_fingerprint_names_the_footage(footage):
    first = build(footage).fingerprint
    assert first.startswith("videos:") and first == build(footage).fingerprint
    write_clip(footage / "clip_d.mp4", 12)
    assert build(footage).fingerprint != first


def test_a_small_cache_bound_keeps_evenly_spaced_pairs_and_says_so(footage):
    frame_bytes = 3 * 32 * 43
    dataset = build(footage, max_cache_bytes=20 * frame_bytes)
    assert dataset.cache_bytes <= 20 * frame_bytes
    kept = sum(len(clip.frames) for clip in dataset.clips)
    assert kept < 46
    text = dataset.describe()
    assert text.startswith(f"4 videos, 46 frames, 38 frame pairs (gap 2) under {footage}"), text
    assert re.search(rf"cache bound keeps {kept} of those frames \(\d+ pairs, evenly spaced, in 4 of the videos\)",
                     text), text
    for clip in dataset.clips:
        assert len(clip.pairs) >= 1
        for a, b in clip.pairs.tolist():  # still frame t and t + gap of the clip
            assert int(clip.indices[b]) - int(clip.indices[a]) == 2
        means = clip.frames.float().mean(dim=(1, 2, 3))
        expected = torch.tensor([level(int(i)) for i in clip.indices], dtype=torch.float32)
        assert torch.allclose(means, expected, atol=3)
    starts = [int(dataset.clips[0].indices[a]) for a, _ in dataset.clips[0].pairs.tolist()]
    assert max(starts) - min(starts) >= 4  # spread over the clip, not its first frames
    with pytest.raises(DatasetError, match=re.escape(str(footage)) + r".*cannot hold even one pair"):
        build(footage, max_cache_bytes=frame_bytes)


def test_a_text_file_named_mp4_is_an_error_naming_it(footage):
    bad = footage / "broken.mp4"
    bad.write_text("this is not a video\n")
    with pytest.raises(DatasetError, match=re.escape(str(bad))):
        build(footage)


def test_frames_of_mixed_sizes_in_a_folder_are_an_error_naming_the_file(tmp_path):
    root = tmp_path / "footage"
    write_frames(root / "mixed", 5, sizes={3: (HEIGHT, WIDTH + 8)})
    with pytest.raises(DatasetError, match=re.escape(str(root / "mixed" / "f4.png"))):
        VideoFolderPairs(root)


def test_an_empty_folder_and_a_missing_root_are_errors_naming_them(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "README.txt").write_text("nothing here\n")  # not a video: ignored, so still empty
    with pytest.raises(DatasetError, match=re.escape(str(empty)) + ": no video files"):
        VideoFolderPairs(empty)
    missing = tmp_path / "missing"
    with pytest.raises(DatasetFileNotFoundError, match=re.escape(str(missing))):
        VideoFolderPairs(missing)


def test_a_too_short_clip_is_skipped_with_a_warning_naming_it(footage):
    with pytest.warns(UserWarning, match=re.escape(str(footage / "short.mp4")) + ".*skipped"):
        dataset = VideoFolderPairs(footage, gap=2, short_side=32, crop=(24, 24))
    assert "short.mp4" not in [clip.name for clip in dataset.clips] and dataset.skipped == ["short.mp4"]
    only_short = footage.parent / "only_short"
    only_short.mkdir()
    shutil.copy(footage / "short.mp4", only_short / "short.mp4")
    with pytest.warns(UserWarning), pytest.raises(DatasetError, match=re.escape(str(only_short)) + ": no clip"):
        VideoFolderPairs(only_short, gap=2)


def test_files_that_are_not_videos_are_ignored_and_sub_folders_are_searched(footage):
    (footage / "notes.md").write_text("# notes\n")
    (footage / ".hidden.mp4").write_text("not looked at\n")
    trip = footage / "trip" / "day1"
    trip.mkdir(parents=True)
    write_clip(trip / "beach.mp4", 5)
    dataset = build(footage)
    assert [clip.name for clip in dataset.clips] == ["clip_a.mp4", "clip_b.mp4", "clip_c.MOV", "frames",
                                                     "trip/day1/beach.mp4"]


def test_the_root_may_be_one_video_file_or_one_folder_of_frames(footage):
    clip = VideoFolderPairs(footage / "clip_a.mp4", gap=2, short_side=32, crop=(24, 24))
    assert clip.describe().startswith(f"1 video, 12 frames, 10 frame pairs (gap 2) under {footage / 'clip_a.mp4'}")
    assert [c.name for c in clip.clips] == ["clip_a.mp4"] and clip.fingerprint.startswith("videos:")
    frames = VideoFolderPairs(footage / "frames", gap=2, short_side=32, crop=(24, 24))
    assert [c.name for c in frames.clips] == ["frames"] and frames.clips[0].length == 10
    assert frames[0].shape == (2, 3, 24, 24)


def run_amd(*args: str) -> int:
    from amdlib.cli import main

    return main(["train", *args])


def test_amd_train_videos_trains_on_the_folder_and_prints_what_it_found(footage, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    status = run_amd("--videos", str(footage), "--profile", "smoke", "--iterations", "2", "--out", "run")
    said = capsys.readouterr()
    assert status == 0, said.err
    assert (tmp_path / "run" / "checkpoint.pt").exists()
    # The smoke profile's gap is 1, so the 2-frame clip makes one pair.
    assert re.search(rf"amd train: 5 videos, 48 frames, 43 frame pairs \(gap 1\) under {re.escape(str(footage))}; "
                     r".*2 iterations at batch 2 -> run", said.out), said.out
    stored = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert stored["data_fingerprint"].startswith("videos:")


def test_amd_train_videos_on_a_bad_folder_says_one_line(footage, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    bad = footage / "broken.mp4"
    bad.write_text("this is not a video\n")
    assert run_amd("--videos", str(footage), "--profile", "smoke", "--out", "run") == 1
    err = capsys.readouterr().err
    assert err.startswith(f"amd train: {bad}: ") and err.count("\n") == 1 and "Traceback" not in err, err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_amd("--videos", str(empty), "--profile", "smoke", "--out", "run") == 1
    err = capsys.readouterr().err
    assert err.startswith(f"amd train: {empty}: no video files") and err.count("\n") == 1, err
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_videos_and_data_root_exclude_each_other(footage, capsys):
    with pytest.raises(SystemExit):
        run_amd("--videos", str(footage), "--data-root", str(footage))
    assert "not allowed with" in capsys.readouterr().err


@pytest.mark.shared_data
def test_real_clips_build_a_dataset(shared_data, tmp_path):
    source = shared_data / "videos"
    names = ["carphone_pristine.mp4", "cotracker_cat.mp4"]
    if not all((source / name).is_file() for name in names):
        pytest.skip(f"{', '.join(names)} not found in {source}")
    root = tmp_path / "real"
    root.mkdir()
    for name in names:
        (root / name).symlink_to(source / name)
    if (source / "SHA256SUMS").is_file():  # not a video: ignored
        (root / "SHA256SUMS").symlink_to(source / "SHA256SUMS")
    dataset = VideoFolderPairs(root, gap=1, short_side=96, crop=(64, 64), seed=0)
    assert [clip.name for clip in dataset.clips] == names
    assert re.match(rf"2 videos, \d+ frames, \d+ frame pairs \(gap 1\) under {re.escape(str(root))}",
                    dataset.describe())
    # carphone is 176x144, cotracker_cat 368x480: cached at short side 96, aspect kept.
    assert tuple(dataset.clips[0].frames.shape[-2:]) == (96, 117)
    assert tuple(dataset.clips[1].frames.shape[-2:]) == (125, 96)
    frames = dataset[1]
    assert frames.shape == (2, 3, 64, 64) and 0 <= frames.min() and frames.max() <= 1


def test_the_inventory_lists_every_clip_with_its_sha256(footage):
    import hashlib

    inventory = {row["clip"]: row for row in videos_module.clip_inventory(footage)}
    files = [p for p in footage.rglob("*") if p.is_file() and p.suffix == ".mp4"]
    assert files and all(inventory[p.relative_to(footage).as_posix()]["kind"] == "video file" for p in files)
    for path in files:  # a video file's digest is the sha256 of its bytes
        assert inventory[path.relative_to(footage).as_posix()]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    folders = [name for name, row in inventory.items() if row["kind"] == "frame folder"]
    assert folders
    folder = footage / folders[0]
    before = inventory[folders[0]]["sha256"]
    first = sorted(folder.iterdir())[0]
    Image.fromarray(np.zeros((HEIGHT, WIDTH, 3), np.uint8)).save(first)  # one frame changes: the digest does
    assert videos_module.clip_sha256(folder) != before
    assert list(inventory) == [c.relative_to(footage).as_posix() for c in videos_module.find_clips(footage)]
