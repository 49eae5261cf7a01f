"""`amd segment` streamed: the same masks as the whole-video computation, one-line errors, warnings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from amdlib import AMD, AMDConfig, save_checkpoint
from amdlib.cli import main as amd
from amdlib.cli import segment
from amdlib.evaluation.adapt import AdaptConfig, adapt
from amdlib.evaluation.channels import smallest_mean_area, smallest_mean_area_channel
from amdlib.io.checkpoint import load_checkpoint
from amdlib.data.video import open_video, read_video, to_float

SIZE = (32, 32)


def small_model(seed: int = 0) -> AMD:
    torch.manual_seed(seed)
    return AMD(AMDConfig(backbone="small", num_masks=2, head_channels=32, flow_size=SIZE, coarsest_stride=16))


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    path = tmp_path / "model.pt"
    save_checkpoint(small_model(), path)
    return path


def moving_square(count: int, height: int = 30, width: int = 40) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    frames = []
    for t in range(count):
        frame = (rng.random((height, width, 3)) * 80).astype(np.uint8)
        frame[8:20, 3 + 2 * t:15 + 2 * t] = 220
        frames.append(frame)
    return frames


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    """A 9-frame 30x40 H.264 clip written with PyAV."""
    import imageio.v3 as iio

    path = tmp_path / "clip.mp4"
    iio.imwrite(path, np.stack(moving_square(9)), plugin="pyav", fps=25, codec="libx264")
    return path


def read_masks(folder: Path) -> np.ndarray:
    return np.stack([np.asarray(Image.open(p)) > 0 for p in sorted(folder.glob("*.png"))])


def reference_masks(checkpoint: Path, video: Path, tta: int = 0) -> np.ndarray:
    """The whole-video computation: every frame in memory, masks at full size, then the rule."""
    frames, _, _ = read_video(video)
    model = load_checkpoint(checkpoint)
    if tta:
        model = adapt(model, [segment.resize_images(frames, SIZE)], AdaptConfig(iterations=tta, lr=1e-4))
    masks = segment.segment_video(model, frames, SIZE, progress=False)
    return (masks[:, smallest_mean_area_channel(masks)] > 0.5).numpy()


@pytest.mark.parametrize("tta", [0, 1])
def test_streamed_masks_equal_the_whole_video_computation(tmp_path, checkpoint, clip, tta):
    out = tmp_path / "out"
    assert amd(["segment", str(clip), "--checkpoint", str(checkpoint), "--out", str(out), "--chunk", "4",
                "--tta", str(tta), "--device", "cpu"]) == 0
    streamed = read_masks(out / "masks")
    expected = reference_masks(checkpoint, clip, tta)
    assert streamed.shape == expected.shape == (9, 30, 40)
    assert (streamed != expected).mean() < 1e-3
    video, names, fps = read_video(out / "overlay.mp4")
    assert video.shape == (9, 3, 30, 40) and fps == pytest.approx(25.0) and names[0] == "00000"


def test_label_free_channel_from_per_chunk_areas_matches_the_whole_video_rule(checkpoint, clip):
    model = load_checkpoint(checkpoint).eval()
    source = open_video(clip)
    frames, _, _ = read_video(clip)
    masks = segment.segment_video(model, frames, SIZE, progress=False)
    areas = segment.channel_areas(model, source, SIZE, chunk=2)
    assert torch.allclose(areas.float(), (masks > 0.5).float().mean((2, 3)), atol=1e-6)
    assert smallest_mean_area(areas) == smallest_mean_area_channel(masks)


def test_tta_keeps_evenly_spaced_pairs_of_a_long_video(clip):
    source = open_video(clip)
    whole = segment.tta_videos(source, (8, 8), max_frames=9, chunk=4)
    assert len(whole) == 1 and whole[0].shape == (9, 3, 8, 8)
    pairs = segment.tta_videos(source, (8, 8), max_frames=4, chunk=4)
    assert [p.shape for p in pairs] == [(2, 3, 8, 8)] * 2
    frames, _, _ = read_video(clip)
    small = segment.resize_images(frames, (8, 8))
    assert torch.allclose(pairs[1], small[7:9])  # pairs start at 0 and T - 2


def test_frame_folders_are_read_in_natural_order(tmp_path, checkpoint):
    folder = tmp_path / "frames"
    folder.mkdir()
    for t, frame in enumerate(moving_square(11), start=1):
        Image.fromarray(frame).save(folder / f"frame_{t}.png")
    source = open_video(folder)
    assert list(source.names()) == [f"frame_{t}" for t in range(1, 12)]
    frames, _, _ = read_video(folder)
    assert torch.equal(frames[9], to_float(np.array(Image.open(folder / "frame_10.png"))[None])[0])


def test_video_source_streams_uint8_frames_of_a_file_and_a_folder(tmp_path, clip):
    """The decoder's public API (`amdlib.data.video`): size, length, frames by iteration or in chunks."""
    folder = tmp_path / "frames"
    folder.mkdir()
    for t, frame in enumerate(moving_square(5)):
        Image.fromarray(frame).save(folder / f"{t:05d}.png")
    for path, count in ((clip, 9), (folder, 5)):
        source = open_video(path)
        assert source.size == (30, 40) and source.length == count
        frames = list(source)
        assert len(frames) == count and all(f.dtype == np.uint8 and f.shape == (30, 40, 3) for f in frames)
        chunks = list(source.chunks(4))
        assert [len(c) for c in chunks] == [4] * (count // 4) + ([count % 4] if count % 4 else [])
        assert np.array_equal(np.concatenate(chunks), np.stack(frames))
    assert np.array_equal(list(open_video(folder))[2], moving_square(5)[2])  # PNG: lossless


def last_line(capsys) -> tuple[str, str]:
    captured = capsys.readouterr()
    return captured.out, captured.err


def test_mixed_frame_sizes_name_the_file_and_both_sizes(tmp_path, checkpoint, capsys):
    folder = tmp_path / "frames"
    folder.mkdir()
    for t, frame in enumerate(moving_square(3)):
        Image.fromarray(frame).save(folder / f"{t:05d}.png")
    Image.fromarray(np.zeros((20, 24, 3), np.uint8)).save(folder / "00003.png")
    assert amd(["segment", str(folder), "--checkpoint", str(checkpoint), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err == (f"amd segment: {folder / '00003.png'}: size 20x24 (HxW) does not match "
                   f"{folder / '00000.png'} (30x40)")
    assert not (tmp_path / "o").exists()


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_bad_inputs_print_one_line_naming_the_file(tmp_path, checkpoint, clip, capsys):
    out = ["--out", str(tmp_path / "o")]
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = {
        tmp_path / "missing.mp4": "no such file or folder",
        text: "not a video PyAV can read",
        empty: "folder holds no images",
    }
    for video, problem in cases.items():
        assert amd(["segment", str(video), "--checkpoint", str(checkpoint), *out]) == 1
        assert one_error_line(capsys).startswith(f"amd segment: {video}: {problem}")
    missing = tmp_path / "missing.pt"
    assert amd(["segment", str(clip), "--checkpoint", str(missing), *out]) == 1
    assert one_error_line(capsys) == f"amd segment: {missing}: checkpoint not found"
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(checkpoint.read_bytes()[:1000])
    assert amd(["segment", str(clip), "--checkpoint", str(corrupt), *out]) == 1
    assert one_error_line(capsys) == (f"amd segment: {corrupt}: cannot read it as a PyTorch checkpoint "
                                      "(corrupt, truncated, or another kind of file)")
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {"x": torch.zeros(1)}}, foreign)
    assert amd(["segment", str(clip), "--checkpoint", str(foreign), *out]) == 1
    assert one_error_line(capsys).startswith(f"amd segment: {foreign}: is neither an amdlib checkpoint")
    assert amd(["segment", str(clip), "--checkpoint", str(checkpoint), *out, "--channel", "7"]) == 1
    assert one_error_line(capsys) == "amd segment: --channel 7: the model has 2 channels (0 to 1)"


def test_a_checkpoint_with_pickled_objects_needs_trusted(tmp_path, clip, capsys):
    path = tmp_path / "pickled.pt"
    save_checkpoint(small_model(), path, note=Path("made by a test"))
    out = ["--out", str(tmp_path / "o"), "--no-video"]
    assert amd(["segment", str(clip), "--checkpoint", str(path), *out]) == 1
    err = one_error_line(capsys)
    assert err.startswith(f"amd segment: {path}: stores Python objects besides tensors")
    assert "pass --trusted (it runs the file's pickled code)" in err and "trusted=True" not in err
    assert amd(["segment", str(clip), "--checkpoint", str(path), *out, "--trusted"]) == 0


def test_unexpected_errors_keep_their_traceback(tmp_path, checkpoint, clip, monkeypatch):
    def broken(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(segment, "run", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        amd(["segment", str(clip), "--checkpoint", str(checkpoint), "--out", str(tmp_path / "o")])


def test_a_channel_covering_everything_or_nothing_warns_in_one_line(tmp_path, checkpoint, clip, capsys):
    model = small_model()
    with torch.no_grad():  # a useless model: channel 0 wins every pixel
        model.appearance.head.classifier.bias.copy_(torch.tensor([50.0, -50.0]))
    save_checkpoint(model, tmp_path / "useless.pt")
    common = [str(clip), "--checkpoint", str(tmp_path / "useless.pt"), "--no-video"]
    assert amd(["segment", *common, "--out", str(tmp_path / "a")]) == 0
    assert one_error_line(capsys) == ("amd segment: warning: channel 0 covers almost all of the frame (more "
                                      "than 95%) in 9 of 9 frames; the model may be untrained or the wrong one, "
                                      "or another channel is the object (--channel)")
    assert amd(["segment", *common, "--out", str(tmp_path / "b"), "--channel", "1"]) == 0
    assert "channel 1 covers almost none of the frame (less than 0.5%) in 9 of 9" in one_error_line(capsys)


def test_coverage_warning_is_quiet_for_plausible_masks():
    assert segment.coverage_warning(np.array([0.2, 0.3, 0.99, 0.001]), 1) is None
    assert segment.coverage_warning(np.array([0.99, 0.99, 0.2]), 0) is not None


def test_the_checkpoints_object_channel_is_used_when_no_channel_is_given(tmp_path, checkpoint, clip,
                                                                        monkeypatch, capsys):
    def with_channel(path, trusted=False):
        model = load_checkpoint(path, trusted=trusted)
        model.object_channel = 1
        return model

    monkeypatch.setattr(segment, "load_checkpoint", with_channel)
    monkeypatch.setattr(segment, "channel_areas", lambda *a: pytest.fail("label-free pass not needed"))
    assert amd(["segment", str(clip), "--checkpoint", str(checkpoint), "--out", str(tmp_path / "o"),
                "--no-video"]) == 0
    assert capsys.readouterr().out.startswith("channel 1: 9 masks")


def test_amd_help_lists_the_subcommands(capsys):
    for flag in ("--help", "-h"):
        assert amd([flag]) == 0
        out = capsys.readouterr().out
        assert "usage: amd" in out
        for name in ("train", "segment", "download"):
            assert any(line.strip().startswith(name + " ") for line in out.splitlines()), name
    assert amd([]) == 2
    assert "segment" in capsys.readouterr().err
    assert amd(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


def test_segment_help_documents_trusted_and_the_channel_rule(capsys):
    with pytest.raises(SystemExit) as exit_info:
        amd(["segment", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "runs the file's pickled code" in text and "checkpoint's known object channel" in text
