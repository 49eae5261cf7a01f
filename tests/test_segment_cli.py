import numpy as np
import pytest
import torch
from PIL import Image

from amdlib import AMD, AMDConfig, save_checkpoint
from amdlib.cli import main as amd
from amdlib.data.video import VideoReadError, read_video


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / "model.pt"
    torch.manual_seed(0)
    save_checkpoint(AMD(AMDConfig(backbone="small", num_masks=2, head_channels=32, flow_size=(32, 32),
                                  coarsest_stride=16)), path)
    return path


@pytest.fixture
def frame_folder(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for t in range(4):
        frame = (rng.random((30, 40, 3)) * 80).astype(np.uint8)
        frame[8:20, 5 + 3 * t:17 + 3 * t] = 220
        Image.fromarray(frame).save(folder / f"{t:05d}.jpg")
    return folder


def test_segment_a_frame_folder_writes_a_mask_per_frame_and_a_video(tmp_path, checkpoint, frame_folder):
    assert amd(["segment", str(frame_folder), "--checkpoint", str(checkpoint), "--out", str(tmp_path / "out"),
                "--tta", "1"]) == 0
    masks = sorted((tmp_path / "out" / "masks").glob("*.png"))
    assert [m.stem for m in masks] == ["00000", "00001", "00002", "00003"]
    mask = np.asarray(Image.open(masks[0]))
    assert mask.shape == (30, 40) and set(np.unique(mask)) <= {0, 255}
    frames, names, fps = read_video(tmp_path / "out" / "overlay.mp4")
    assert frames.shape == (4, 3, 30, 40) and fps == pytest.approx(25.0)


def test_a_video_file_round_trips(tmp_path, checkpoint, frame_folder):
    amd(["segment", str(frame_folder), "--checkpoint", str(checkpoint), "--out", str(tmp_path / "a"), "--channel", "1"])
    video = tmp_path / "a" / "overlay.mp4"
    amd(["segment", str(video), "--checkpoint", str(checkpoint), "--out", str(tmp_path / "b"), "--no-video"])
    assert len(list((tmp_path / "b" / "masks").glob("*.png"))) == 4


def test_unreadable_video_and_mismatched_checkpoint_are_clear_errors(tmp_path, checkpoint, frame_folder, capsys):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video")
    with pytest.raises(VideoReadError, match="broken.mp4"):
        read_video(broken)
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {"x": torch.zeros(1)}}, foreign)
    capsys.readouterr()
    assert amd(["segment", str(frame_folder), "--checkpoint", str(foreign), "--out", str(tmp_path / "c")]) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("amd segment: ") and "foreign.pt" in error[0]
    assert amd(["segment", str(frame_folder), "--checkpoint", str(checkpoint), "--out", str(tmp_path / "d"),
                "--channel", "7"]) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "--channel 7" in error[0]


def test_amd_without_a_command_prints_usage(capsys):
    assert amd([]) == 2
    assert "usage: amd" in capsys.readouterr().err


def test_device_option_and_segment_video_returns_cpu_masks(tmp_path, checkpoint, frame_folder):
    from amdlib.io.checkpoint import load_checkpoint
    from amdlib.cli.segment import segment_video

    assert amd(["segment", str(frame_folder), "--checkpoint", str(checkpoint), "--out", str(tmp_path / "out"),
                "--device", "cpu", "--no-video"]) == 0
    frames, _, _ = read_video(frame_folder)
    masks = segment_video(load_checkpoint(checkpoint), frames, (32, 32), progress=False)
    assert masks.shape == (4, 2, 30, 40) and masks.device.type == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_segment_video_with_a_model_on_cuda_returns_the_same_masks_on_the_cpu(checkpoint, frame_folder):
    from amdlib.io.checkpoint import load_checkpoint
    from amdlib.cli.segment import segment_video

    frames, _, _ = read_video(frame_folder)
    on_cpu = segment_video(load_checkpoint(checkpoint), frames, (32, 32), progress=False)
    on_gpu = segment_video(load_checkpoint(checkpoint).cuda(), frames, (32, 32), progress=False)
    assert on_gpu.device.type == "cpu" and torch.allclose(on_gpu, on_cpu, atol=1e-4)
