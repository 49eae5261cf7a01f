"""The README and the notebooks' text hold to what the code and the committed results say."""

from __future__ import annotations

import importlib
import json
import re
import tomllib
from pathlib import Path

import pytest

from amdlib.reports.builder import read_log, run_seconds
from amdlib.reports.headline import headline_lines

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
CPU = REPO / "results" / "cpu"


def _block(name: str) -> str:
    match = re.search(rf"<!-- {name} -->\n?(.*?)\n?<!-- /{name} -->", README, re.S)
    assert match, f"README has no <!-- {name} --> block"
    return match.group(1).strip()


@pytest.mark.skipif(not (CPU / "tables").is_dir(), reason="a checkout without results/cpu")
def test_readme_headline_is_the_committed_runs_table():
    """The same lines the results page shows (amdlib.reports.headline), so the pages cannot disagree."""
    assert _block("headline").splitlines() == headline_lines(CPU)


@pytest.mark.skipif(not (CPU / "reproduce_log.json").is_file(), reason="a checkout without results/cpu")
def test_readme_states_the_committed_runs_time():
    log = read_log(CPU)
    assert int(_block("cpu-minutes")) == round(run_seconds(log, without=["06_real_video"]) / 60)
    assert int(_block("real-video-minutes")) == round(run_seconds(log, steps=["06_real_video"]) / 60)
    assert int(_block("smoke-minutes")) <= 3


def test_no_paper_number_sits_in_a_row_with_ours():
    """The paper's real-data numbers have their own table; the headline rows hold only this
    repository's measurements and the baselines of the same run."""
    for row in _block("headline").splitlines():
        for paper in ("57.8", "57.0", "47.5", "62.0"):
            assert paper not in row, row
    paper_table = README.split("## The paper's numbers", 1)[1].split("\n## ", 1)[0]
    assert "| zero-shot VOS, DAVIS-2016 | J mean, with TTA | 57.8 |" in paper_table


def test_every_module_the_readme_names_exists():
    names = set(re.findall(r"`(amdlib(?:\.\w+)+)`", README))
    assert "amdlib.evaluation.protocols" not in names
    for name in sorted(names):
        try:
            importlib.import_module(name)
        except ImportError:
            module, _, attribute = name.rpartition(".")
            assert hasattr(importlib.import_module(module), attribute), name
    for path in re.findall(r"`((?:amdlib|notebooks|scripts|benchmarks|docs|results)/[\w./-]*)`", README):
        written = path.rstrip("/") in ("results/smoke", "results/paper")  # made by a run, git ignores them
        assert (REPO / path.rstrip("/")).exists() or written or "<" in path, path


def test_readme_says_what_does_not_work_and_where_the_real_video_numbers_stand():
    assert "## What does not work yet" in README and "below the centre prior" in README
    real = [row for row in _block("headline").splitlines() if "real DAVIS-2016" in row]
    assert real, "the headline shows AMD on real DAVIS beside the centre prior"


def _code_cells(path: Path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("notebook", sorted(p.name for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")))
def test_notebooks_resolve_the_profile_once_through_setup(notebook):
    """`amdlib.setup` is the one place that reads AMD_* variables and builds folders from the
    profile: no notebook reads the environment or rebuilds `results/<profile>`."""
    code = "\n".join(_code_cells(REPO / "notebooks" / notebook))
    assert "amdlib.setup(profile" in code
    assert "environ" not in code and "import os" not in code
    assert 'f"../results/{profile}"' not in code and "config.profile(" not in code


def test_small_user_paths():
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(d.startswith("ipywidgets") for d in extras["notebooks"])  # tqdm renders as a widget in JupyterLab
    reproduce = (REPO / "scripts" / "reproduce.py").read_text()
    assert '"--IPKernelApp.log_level=CRITICAL"' in reproduce and "extra_arguments=list(KERNEL_ARGUMENTS)" in reproduce


def test_an_evaluation_notebook_without_a_model_names_notebook_01(tmp_path):
    import amdlib

    run = amdlib.setup("smoke", results_dir=tmp_path / "r", runs_dir=tmp_path / "runs", generate=False)
    with pytest.raises(FileNotFoundError, match="Run notebook 01_train with profile 'smoke' first.*checkpoint="):
        run.model()


def test_notebook_01_trains_on_your_own_footage_as_amd_train_videos_does():
    """Notebook 01's `train_videos` parameter and `amd train --videos` build their pairs with the
    same function (`amdlib.training.train.footage_pairs`)."""
    import papermill as pm

    assert "train_videos" in pm.inspect_notebook(str(REPO / "notebooks" / "01_train.ipynb"))
    code = "\n".join(_code_cells(REPO / "notebooks" / "01_train.ipynb"))
    assert "footage_pairs(train_videos, train_config)" in code
    assert "footage_pairs(args.videos, config)" in (REPO / "amdlib" / "cli" / "train.py").read_text()
