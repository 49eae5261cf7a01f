"""`amdlib.setup`: one call resolves a profile into settings, folders, datasets and the model."""

from __future__ import annotations

from pathlib import Path

import pytest

import amdlib
from amdlib.config import profile
from amdlib.session import REPO_ROOT, resolve_profile


def test_explicit_arguments_win_over_the_environment_and_the_environment_over_the_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("AMD_PROFILE", "smoke")
    monkeypatch.setenv("AMD_RESULTS_DIR", str(tmp_path / "env-results"))
    monkeypatch.setenv("AMD_RUNS_DIR", str(tmp_path / "env-runs"))
    run = amdlib.setup(generate=False)
    assert run.profile == profile("smoke")
    assert run.results_dir == tmp_path / "env-results" and run.run_dir == tmp_path / "env-runs" / "smoke"
    assert run.checkpoint == tmp_path / "env-runs" / "smoke" / "checkpoint.pt" and not run.given_checkpoint
    explicit = amdlib.setup("cpu", results_dir=tmp_path / "r", runs_dir=tmp_path / "runs", generate=False)
    assert explicit.profile.name == "cpu" and explicit.results_dir == tmp_path / "r"
    assert explicit.run_dir == tmp_path / "runs" / "cpu"
    for name in ("AMD_PROFILE", "AMD_RESULTS_DIR", "AMD_RUNS_DIR"):
        monkeypatch.delenv(name)
    default = amdlib.setup(generate=False)
    assert default.profile.name == "cpu"
    assert default.results_dir == REPO_ROOT / "results" / "cpu" and default.run_dir == REPO_ROOT / "runs" / "cpu"
    assert default.data_dir == REPO_ROOT / "data" / "generated" / "cpu"
    assert default.reference_runs == REPO_ROOT / "results" / "reference_runs" / "cpu.csv"


def test_a_profile_object_is_passed_through_and_a_bad_name_is_refused():
    chosen = profile("smoke").train.replace(iterations=9)
    custom = profile("smoke")
    assert resolve_profile(custom) is custom
    assert chosen.iterations == 9
    with pytest.raises(ValueError, match="choose from"):
        resolve_profile("gpu")


def test_time_guard_and_real_data_notes(tmp_path, capsys):
    run = amdlib.setup("paper", results_dir=tmp_path, runs_dir=tmp_path, generate=False)
    assert run.time_guard() == 24 * 3600.0 and run.time_guard(lift=True) is None
    run.note_data("the training video set", None)
    assert "meant for real data" in capsys.readouterr().out
    run.note_data("the training video set", "/data/ytvos")
    assert capsys.readouterr().out == ""
    cpu = amdlib.setup("cpu", results_dir=tmp_path, runs_dir=tmp_path, generate=False)
    cpu.note_data("the training video set", None)  # the cpu profile is meant for the synthetic sets
    assert capsys.readouterr().out == ""


def test_random_and_given_checkpoints(tmp_path):
    run = amdlib.setup("smoke", results_dir=tmp_path, runs_dir=tmp_path, checkpoint="random", generate=False)
    model = run.model()
    assert not model.training and model.config == profile("smoke").model and run.given_checkpoint
    path = tmp_path / "model.pt"
    amdlib.save_checkpoint(model, path)
    given = amdlib.setup("smoke", results_dir=tmp_path, runs_dir=tmp_path, checkpoint=path, generate=False)
    assert Path(given.checkpoint) == path and given.model().config == model.config
