"""`setup`: everything a notebook or the main job needs, resolved once from a profile.

    run = amdlib.setup("cpu")            # or setup() in a notebook: $AMD_PROFILE, else cpu
    run.profile.train, run.results_dir, run.datasets.davis2016, run.checkpoint, run.model()

The profile (`amdlib.config.Profile`) is resolved here and passed on as an object; the folders
default to the repository's `results/<profile>/`, `runs/<profile>/` and
`data/generated/<preset>/`. The environment variables `AMD_PROFILE`, `AMD_RESULTS_DIR` and
`AMD_RUNS_DIR` are read here and nowhere else: they fill what a caller leaves None, which is how
the test suite runs every notebook as `smoke` in a scratch folder (notebooks/conftest.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .config import Profile, profile as named_profile

REPO_ROOT = Path(__file__).resolve().parents[1]
"""The checkout amdlib is installed from (editable, `make setup`)."""

DEFAULT_PROFILE = "cpu"
ENVIRONMENT = {"profile": "AMD_PROFILE", "results_dir": "AMD_RESULTS_DIR", "runs_dir": "AMD_RUNS_DIR"}
"""What fills each `setup` argument left None, before the repository's defaults."""


def resolve_profile(profile: str | Profile | None = None) -> Profile:
    """A `Profile` from itself, a name, or None ($AMD_PROFILE, else `DEFAULT_PROFILE`)."""
    if isinstance(profile, Profile):
        return profile
    return named_profile(profile or os.environ.get(ENVIRONMENT["profile"]) or DEFAULT_PROFILE)


def runs_folder(profile: Profile, runs_dir: str | os.PathLike | None = None) -> Path:
    """Where the profile's training lives: `<runs_dir>/<profile>/` ($AMD_RUNS_DIR, else `runs/`)."""
    base = Path(runs_dir or os.environ.get(ENVIRONMENT["runs_dir"]) or REPO_ROOT / "runs")
    return base.expanduser().resolve() / profile.name


def results_folder(profile: Profile, results_dir: str | os.PathLike | None = None) -> Path:
    """Where a notebook writes tables, figures and summaries ($AMD_RESULTS_DIR, else `results/<profile>/`)."""
    folder = results_dir or os.environ.get(ENVIRONMENT["results_dir"]) or REPO_ROOT / "results" / profile.name
    return Path(folder).expanduser().resolve()


class MissingModelError(FileNotFoundError):
    """An evaluation notebook ran before notebook 01 trained its model, and was given none."""


@dataclass(frozen=True)
class Run:
    """One profile's settings, folders, datasets and model, as `setup` resolved them."""

    profile: Profile
    results_dir: Path
    """Tables (`tables/`), figures (`figures/`) and headline values (`summaries/`) go here."""
    run_dir: Path
    """The training's checkpoint, logs and evaluations (`checkpoint.pt`, `log.csv`, `eval.csv`)."""
    data_dir: Path
    """The profile's synthetic sets (`generate_all`'s output)."""
    datasets: object | None
    """`amdlib.data.SyntheticDatasets` (None when `setup(generate=False)`)."""
    checkpoint: Path | str
    """The model the evaluation notebooks load: a given file, "random", else `run_dir/checkpoint.pt`."""

    @property
    def reference_runs(self) -> Path:
        """The committed seed runs drawn beside this profile's own (`amdlib.reports.seed_runs`);
        the file may not exist (a profile without any)."""
        return REPO_ROOT / "results" / "reference_runs" / f"{self.profile.name}.csv"

    @property
    def ablation_runs(self) -> Path:
        """The ablation table's own seed runs (`amdlib.ablation_runs`), committed as they finish;
        the folder may not exist."""
        return REPO_ROOT / "results" / "ablation_runs" / self.profile.name

    def time_guard(self, lift: bool = False) -> float | None:
        """The training time guard in seconds (`Profile.time_guard_minutes`); None when lifted."""
        minutes = self.profile.time_guard_minutes
        return None if lift or minutes is None else 60.0 * minutes

    def note_data(self, what: str, real_root: str | os.PathLike | None) -> None:
        """Say plainly, in the notebook and the main job's terminal, when a profile meant for real
        data (`Profile.real_data`) uses the synthetic stand-in for `what`."""
        if real_root is None and self.profile.real_data:
            from .io.progress import say

            text = (f"profile {self.profile.name!r} is meant for real data, but {what} is the SYNTHETIC "
                    "stand-in (no real root given): its numbers are not the paper's")
            print(f"WARNING: {text}")
            say(f"WARNING: {text}")

    @property
    def given_checkpoint(self) -> bool:
        """True when the model is not the one notebook 01 trains."""
        return Path(self.checkpoint) != self.run_dir / "checkpoint.pt"

    def model(self, trusted: bool = False):
        """The model to evaluate, in eval mode: the checkpoint, or a seeded random initialisation
        for `checkpoint="random"`. MissingModelError says what to run first."""
        import torch

        from .io.checkpoint import load_checkpoint
        from .model.amd import AMD

        if self.checkpoint == "random":  # TTA from random initialisation (docs/method.md section 6b)
            torch.manual_seed(0)
            return AMD(self.profile.model).eval()
        path = Path(self.checkpoint)
        if not path.is_file():
            raise MissingModelError(
                f"{path}: no model yet. Run notebook 01_train with profile {self.profile.name!r} first "
                "(`python scripts/reproduce.py --only 01`), or pass checkpoint= (an amdlib checkpoint, the "
                "authors' amd_pretrained.pth, or \"random\")")
        return load_checkpoint(path, trusted=trusted).eval()


def setup(profile: str | Profile | None = None, *, results_dir: str | os.PathLike | None = None,
          runs_dir: str | os.PathLike | None = None, data_root: str | os.PathLike | None = None,
          checkpoint: str | os.PathLike | None = None, generate: bool = True) -> Run:
    """Resolve `profile` once and return its `Run`.

    data_root: where synthetic sets are generated (default `data/generated`), under the
        profile's preset; `generate` writes them when missing (they are reused when present).
    checkpoint: the model to evaluate (None: the one notebook 01 trains).
    """
    chosen = resolve_profile(profile)
    run_dir = runs_folder(chosen, runs_dir)
    data_dir = Path(data_root or REPO_ROOT / "data" / "generated").expanduser().resolve() / chosen.data
    datasets = None
    if generate:
        from .data import generate_all

        datasets = generate_all(data_dir, chosen.data)
    model = checkpoint if checkpoint == "random" else Path(checkpoint or run_dir / "checkpoint.pt").expanduser()
    return Run(chosen, results_folder(chosen, results_dir), run_dir, data_dir, datasets, model)
