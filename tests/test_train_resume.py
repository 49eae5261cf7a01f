"""`amd train`: resume errors, changed settings on resume, stale temporaries, a broken --eval-root."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from amdlib.cli import main as amd
from amdlib.config import TrainConfig
from amdlib.io.atomic import STALE_SECONDS, temporary_prefix
from amdlib.training.train import train_config_changes


def frames_root(root: Path, videos: int = 2, frames: int = 4) -> Path:
    """A YouTube-VOS-layout folder of tiny moving-square videos."""
    rng = np.random.default_rng(0)
    for v in range(videos):
        folder = root / "train_all_frames" / "JPEGImages" / f"v{v}"
        folder.mkdir(parents=True)
        for t in range(frames):
            frame = (rng.random((24, 32, 3)) * 60).astype(np.uint8)
            frame[6:14, 2 + 3 * t:10 + 3 * t] = 230
            Image.fromarray(frame).save(folder / f"{t:05d}.png")
    return root


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return frames_root(tmp_path / "videos")


def train_args(data: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "--profile", "smoke", "--data-root", str(data), "--out", str(out), "--iterations", "2",
            "--device", "cpu", *extra]


def one_line(capsys) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("amd train")]
    assert len(err) == 1, err
    return err[0]


def test_resume_without_a_checkpoint_is_an_error_naming_it(tmp_path, data, capsys):
    out = tmp_path / "run"
    assert amd(train_args(data, out, "--resume")) == 1
    assert one_line(capsys) == (f"amd train: {out / 'checkpoint.pt'}: no checkpoint to resume from (run without "
                                "--resume to start a new run, or pass the run folder with --out)")
    assert not (out / "checkpoint.pt").exists()


def test_changed_settings_on_resume_are_refused_unless_allowed(tmp_path, data, capsys):
    out = tmp_path / "run"
    assert amd(train_args(data, out)) == 0
    capsys.readouterr()
    changed = train_args(data, out, "--resume", "--lr", "1e-3", "--batch-size", "3", "--checkpoint-every", "1")
    assert amd(changed) == 1
    assert one_line(capsys) == (f"amd train: {out / 'checkpoint.pt'}: was trained with other settings "
                                "(batch_size 2 -> 3, lr 0.0003 -> 0.001); pass --allow-changed-config to "
                                "resume with the new ones")
    assert amd(changed + ["--allow-changed-config", "--iterations", "3"]) == 0
    err = capsys.readouterr().err
    assert "resuming with changed settings: batch_size 2 -> 3, iterations 2 -> 3, lr 0.0003 -> 0.001" in err
    assert torch.load(out / "checkpoint.pt", weights_only=True)["iteration"] == 3


def test_bookkeeping_fields_may_change_and_old_configs_compare_by_value():
    config = TrainConfig.profile("smoke")
    stored = {**config.to_dict(), "crop_size": list(config.crop_size), "log_every": 99, "retired": 1}
    stored.pop("flip")  # a field the stored config predates is compared with its default
    assert train_config_changes(stored, config.replace(num_workers=2, eval_every=0)) == {}
    assert train_config_changes(stored, config.replace(frame_gap=3)) == {"frame_gap": (1, 3)}


def test_resume_removes_orphan_temporaries_of_a_killed_checkpoint_write(tmp_path, data):
    out = tmp_path / "run"
    assert amd(train_args(data, out)) == 0
    orphan = out / f"{temporary_prefix('checkpoint.pt')}q1w2e3r4.tmp"
    keep = out / "notes.tmp"
    for path in (orphan, keep):
        path.write_bytes(b"half a checkpoint")
        old = os.stat(path).st_mtime - STALE_SECONDS - 5
        os.utime(path, (old, old))
    assert amd(train_args(data, out, "--resume")) == 0
    assert not orphan.exists() and keep.exists()


def test_a_broken_eval_root_stops_before_training(tmp_path, data, capsys):
    root = tmp_path / "davis"
    for t in range(2):
        for kind, suffix in (("JPEGImages", "jpg"), ("Annotations", "png")):
            path = root / kind / "480p" / "seq" / f"{t:05d}.{suffix}"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.full((24, 32, 3) if kind == "JPEGImages" else (24, 32), 200, np.uint8)).save(path)
    (root / "ImageSets" / "480p").mkdir(parents=True)
    (root / "ImageSets" / "480p" / "val.txt").write_text("seq\n")
    broken = root / "JPEGImages" / "480p" / "seq" / "00001.jpg"
    broken.write_bytes(b"not a jpeg")
    out = tmp_path / "run"
    assert amd(train_args(data, out, "--eval-root", str(root))) == 1
    line = one_line(capsys)
    assert line.startswith(f"amd train: {broken}: cannot read image header")
    assert not out.exists() or not (out / "checkpoint.pt").exists()


def test_a_run_is_not_resumed_on_other_videos(tmp_path, data, capsys):
    """The checkpoint stores the videos' fingerprint: resuming it on other videos (here one frame
    rewritten, so its size changes) is one clear error, and the checkpoint is left as it was."""
    out = tmp_path / "run"
    assert amd(train_args(data, out)) == 0
    before = (out / "checkpoint.pt").read_bytes()
    assert torch.load(out / "checkpoint.pt", weights_only=True)["data_fingerprint"].startswith("listing:")
    frame = data / "train_all_frames" / "JPEGImages" / "v1" / "00002.png"
    Image.fromarray(np.zeros((24, 32, 3), np.uint8)).save(frame)
    capsys.readouterr()
    assert amd(train_args(data, out, "--resume")) == 1  # the same settings: only the videos differ
    assert "was trained on other videos" in one_line(capsys)
    assert (out / "checkpoint.pt").read_bytes() == before


def test_generated_videos_are_fingerprinted_by_their_manifest(tmp_path):
    from amdlib.data import YouTubeVOSPairs, generate_all
    from amdlib.data.io import data_identity

    datasets = generate_all(tmp_path / "smoke", "smoke")
    pairs = YouTubeVOSPairs(datasets.youtube_vos, datasets.youtube_split, crop=(32, 32), short_side=36)
    assert pairs.fingerprint == data_identity(datasets.youtube_vos)
    assert pairs.fingerprint.startswith("sha256:") and len(pairs.fingerprint) == 7 + 64
