"""Ablations (notebook 05): which parts of AMD make objectness emerge, each measured against the
default under the same budget, seed and data.

The table of what is ablated is data (`ABLATIONS`: family -> variants, each variant a set of
`AMDConfig` / `TrainConfig` overrides, or test-time adaptation on top); `run_variant` trains one
variant from scratch with `amdlib.training.train.train` and scores its masks on a DAVIS-layout set with
`amdlib.evaluation.channels` (every channel rule, beside the centre prior); `run_ablations` runs families
and `ablation_table` / `ablation_figure` present them (notebook 05).

The budget is the profile's `ablation` (`amdlib.config.AblationBudget`): equal training TIME on
the `cpu` profile, because on a CPU the backbone mostly sets the pace of emergence and a deeper net
compared at equal iterations would get several times the compute. Every row records the
iterations it reached.

Caching: a training depends only on (model config, train config, budget, training data); its
run folder `<out>/runs/<hash of those>/` is shared by every variant that resolves to the same
training (the default appears in several families; the TTA variant evaluates the default's
model), and an interrupted training resumes there. A variant's result is
`<out>/<family>/<variant>/row.json`, written atomically with the settings that produced it, and
reused as long as those settings match.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .evaluation.adapt import AdaptConfig
from .data.io import data_identity
from .io.atomic import write_json
from .io.checkpoint import load_checkpoint, save_checkpoint
from .config import AblationBudget, AMDConfig, Profile, TrainConfig
from .evaluation.channels import channel_scores
from .evaluation.predict import vos_channel_scores
from .model.amd import AMD
from .evaluation.vos import amd_with_tta
from .training.train import train, training_pairs

ROW_VERSION = 2
"""Bump when the meaning of a row changes (what is evaluated, how): cached rows are then redone."""

SMOOTH_WEIGHT = 200.0
"""Weight of the edge-aware smoothness term in the `smoothness` loss variant (docs/method.md
section 4). The release configures 50 (with flows divided by a 384 px short side) and never adds
the term. At the `cpu` profile's 64x64 flow input a trained model's photometric loss is about
0.097 and the term 5.5e-5 per unit weight: 50 would add 3 % (nearly a no-op), 200 about 10 %,
enough to shape the flow without swamping the photometric term."""


@dataclass(frozen=True)
class Variant:
    """One row of an ablation family: overrides applied on top of a profile's configs."""

    name: str
    model: Mapping[str, Any] = field(default_factory=dict)
    """`AMDConfig` field -> value."""
    train: Mapping[str, Any] = field(default_factory=dict)
    """`TrainConfig` field -> value."""
    tta: bool = False
    """Score the masks after per-video test-time adaptation (`amdlib.evaluation.adapt`, docs/method.md section 6b)
    of the trained model, instead of the trained model itself."""
    profiles: tuple[str, ...] | None = None
    """Profiles this variant runs under (None: all)."""

    def configs(self, profile: Profile, **train_changes: Any) -> tuple[AMDConfig, TrainConfig]:
        """The profile's configs with this variant's overrides (and `train_changes`) applied."""
        return (profile.model.replace(**self.model), profile.train.replace(**{**self.train, **train_changes}))

    def applies_to(self, profile: Profile) -> bool:
        return self.profiles is None or profile.name in self.profiles

    def is_reference(self, profile: Profile) -> bool:
        """True when this variant is the profile's default: the same configs and no TTA."""
        return not self.tta and self.configs(profile) == (profile.model, profile.train)

    def change(self, tta_iterations: int | None = None) -> str:
        """What the variant changes, in words for the table ("-": nothing)."""
        parts = [f"{k}={v}" for k, v in {**self.model, **self.train}.items()]
        if self.tta:
            parts.append("+ per-video TTA" + (f" ({tta_iterations} it)" if tta_iterations is not None else ""))
        return ", ".join(parts) or "-"


ABLATIONS: dict[str, list[Variant]] = {
    # Paper: c = 5 was best in its sweep (docs/method.md section 7). The `cpu` profile uses c = 2.
    "masks": [Variant(f"c={c}", {"num_masks": c}) for c in (1, 2, 3, 5, 8)],
    # docs/method.md section 4: 0.15 L1 + 0.85 DSSIM with occlusion masking, no smoothness.
    "loss": [
        Variant("release"),
        Variant("l1_only", {"l1_weight": 1.0, "ssim_weight": 0.0}),
        Variant("ssim_only", {"l1_weight": 0.0, "ssim_weight": 1.0}),
        Variant("smoothness", {"smooth_weight": SMOOTH_WEIGHT}),
        Variant("no_occlusion", {"occlusion": False}),
    ],
    # docs/method.md section 3: one flow vector per segment vs a dense per-pixel flow (masks get no gradient).
    "flow": [Variant("segment"), Variant("dense", {"segment_flow": False})],
    # docs/method.md section 5: the release does not flip; the paper text mentions random flipping.
    "augmentation": [Variant("no_flip", train={"flip": False}), Variant("flip", train={"flip": True})],
    # docs/method.md section 2 (ResNet-50) vs the `cpu` profile's small net (section 9). ResNet-50
    # only under `paper`: on 2 CPU cores it reaches a few dozen iterations in the cpu budget.
    "backbone": [
        Variant("small", {"backbone": "small"}),
        Variant("resnet18", {"backbone": "resnet18"}),
        Variant("resnet50", {"backbone": "resnet50"}, profiles=("paper",)),
    ],
    # Not in the release; the `cpu` profile's two changes against the border and mask-dilation
    # traps (AMDConfig.padding_mode, AMDConfig.flow_masks; docs/method.md section 9).
    "padding": [Variant("zeros", {"padding_mode": "zeros"}), Variant("reflect", {"padding_mode": "reflect"})],
    "flow_masks": [Variant("source", {"flow_masks": "source"}), Variant("reference", {"flow_masks": "reference"})],
    # docs/method.md section 6b: the paper's VOS numbers are with test-time adaptation; same trained model.
    "tta": [Variant("without"), Variant("with", tta=True)],
}


def family_variants(family: str, profile: Profile) -> list[Variant]:
    """The variants of `family` that run under `profile`."""
    if family not in ABLATIONS:
        raise ValueError(f"unknown ablation family {family!r}; choose from {sorted(ABLATIONS)}")
    return [v for v in ABLATIONS[family] if v.applies_to(profile)]


def variant_names(profile: Profile) -> list[tuple[str, str, bool]]:
    """(family, variant name, whether it is the profile's default) for every variant under `profile`."""
    return [(family, variant.name, variant.is_reference(profile))
            for family in ABLATIONS for variant in family_variants(family, profile)]


@dataclass(frozen=True)
class AblationData:
    """Where the training videos (YouTube-VOS layout) and the validation set (DAVIS-2016 layout)
    are. `synthetic` takes them from `amdlib.data.generate_all`'s output."""

    train_root: Path
    train_split: Path | None
    val_root: Path
    val_split: str | None = "val"

    @classmethod
    def synthetic(cls, datasets, train_root: str | os.PathLike | None = None,
                  train_split: str | os.PathLike | None = None,
                  val_root: str | os.PathLike | None = None) -> "AblationData":
        """From a `amdlib.data.SyntheticDatasets`, with real roots in place of the synthetic ones
        where given (a real `train_root` without `train_split`: every video folder)."""
        if train_root is None:
            train_root, train_split = datasets.youtube_vos, train_split or datasets.youtube_split
        return cls(Path(train_root), None if train_split is None else Path(train_split),
                   Path(val_root or datasets.davis2016))


def _normalised(settings: dict[str, Any]) -> Any:
    """Settings as they read back from JSON (tuples become lists), for comparisons."""
    return json.loads(json.dumps(settings, sort_keys=True))


def _digest(settings: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def trained_model(model_config: AMDConfig, train_config: TrainConfig, data: AblationData,
                  budget: AblationBudget, runs_dir: Path, progress: bool = False) -> tuple[AMD, dict[str, Any]]:
    """Train (or reuse, or resume) the run these settings define; returns the model (eval mode)
    and `{"run", "iterations", "train_seconds", "trained_now"}`.

    The run folder is `runs_dir/<hash of the settings>`. While training it holds the resumable
    `checkpoint.pt` (with optimiser state); a finished run keeps only the weights (`model.pt`,
    a third of the size) and `done.json`, written last.
    """
    settings = _normalised({"model": model_config.to_dict(), "train": train_config.to_dict(),
                            "train_data": data_identity(data.train_root),
                            "train_split": data_identity(data.train_split)})
    run_dir = runs_dir / _digest(settings)
    done = _read_json(run_dir / "done.json")
    trained_now = done is None or done.get("settings") != settings or not (run_dir / "model.pt").is_file()
    if trained_now:
        pairs = training_pairs(data.train_root, data.train_split, train_config)
        result = train(model_config, train_config, pairs, run_dir, resume=True, progress=progress)
        save_checkpoint(result.model, run_dir / "model.pt", iteration=result.iterations)
        done = {"settings": settings, "iterations": result.iterations, "train_seconds": result.train_seconds}
        write_json(run_dir / "done.json", done)
        (run_dir / "checkpoint.pt").unlink(missing_ok=True)
    model = load_checkpoint(run_dir / "model.pt").eval()
    return model, {"run": run_dir.name, "iterations": done["iterations"],
                   "train_seconds": done["train_seconds"], "trained_now": trained_now}


def run_variant(family: str, variant: Variant, profile: Profile, data: AblationData, out_dir: str | os.PathLike,
                budget: AblationBudget | None = None, seed: int = 0, progress: bool = False) -> dict[str, Any]:
    """Train `variant` from scratch (seeded: same initialisation draws and data order for every
    variant) and score its masks on the validation set; returns its row (see `ROW_COLUMNS`).

    Reuses `<out_dir>/<family>/<variant>/row.json` when its settings match, and a finished
    training of the same settings from any family (module docstring).
    """
    budget = budget or profile.ablation
    out_dir = Path(out_dir)
    changes = {"seed": seed} if budget.iterations is None else {"seed": seed, "iterations": budget.iterations}
    if budget.ema_decay is not None:
        changes["ema_decay"] = budget.ema_decay
    model_config, train_config = variant.configs(profile, **changes)
    # At the training crop, not the profile's evaluation size: test-time adaptation is run and
    # scored at one size (notebook 03), and at 128x128 it would cost four times as much.
    size = tuple(train_config.crop_size)
    tta = AdaptConfig(iterations=budget.tta_iterations, seed=seed) if variant.tta else None
    settings = _normalised({
        "version": ROW_VERSION, "profile": profile.name, "model": model_config.to_dict(),
        "train": train_config.to_dict(), "tta": dataclasses.asdict(tta) if tta else None,
        "train_data": data_identity(data.train_root), "train_split": data_identity(data.train_split),
        "val_data": data_identity(data.val_root), "val_split": data.val_split, "eval_size": size})
    row_path = out_dir / family / variant.name / "row.json"
    cached = _read_json(row_path)
    if cached is not None and cached.get("settings") == settings:
        return {**cached, "cached": True}

    from .data import DAVIS2016

    model, run = trained_model(model_config, train_config, data, budget, out_dir / "runs", progress)
    sequences = list(DAVIS2016(data.val_root, split=data.val_split))
    tic = time.perf_counter()
    if tta is None:
        scores = vos_channel_scores(model, sequences, size)
    else:
        scores = channel_scores(amd_with_tta(model, sequences, size, tta, unit="video"))
    row = {
        "family": family, "variant": variant.name, "change": variant.change(tta.iterations if tta else None),
        "reference": variant.is_reference(profile), "iterations": run["iterations"],
        "train_seconds": run["train_seconds"], "tta_iterations": tta.iterations if tta else 0,
        "eval_seconds": time.perf_counter() - tic,
        "J_label_free": scores.motion_contrast_j, "J_best_channel": scores.best_channel_j,
        "best_channel": scores.best_channel, "J_oracle_frame": scores.oracle_j,
        "J_centre_prior": scores.centre_prior_j, "scores": scores.as_row(), "run": run["run"],
        "settings": settings,
    }
    write_json(row_path, row)
    return {**row, "cached": False}


ROW_COLUMNS = ("family", "variant", "change", "reference", "iterations", "train_seconds", "tta_iterations",
               "J_label_free", "J_best_channel", "J_oracle_frame", "J_centre_prior")
"""The scalar fields of a row. J_label_free: per video, the channel whose segment flow departs
most from the background's (`predict.motion_contrast_channel`), which holds for any c (the
smallest-area rule picks a nearly empty or clutter channel once c > 2); best channel: the fixed
channel with the best J (chosen with labels); oracle: the best channel in every frame (an upper
bound); centre prior: the best centred disk on the same frames."""


def run_ablations(profile: Profile, data: AblationData, out_dir: str | os.PathLike,
                  budget: AblationBudget | None = None, seed: int = 0, families: Iterable[str] | None = None,
                  log: Callable[[str], None] | None = print) -> pd.DataFrame:
    """Every variant of `families` (None: all of `ABLATIONS`) under `profile`: one row each."""
    rows = []
    for family in families or ABLATIONS:
        for variant in family_variants(family, profile):
            row = run_variant(family, variant, profile, data, out_dir, budget, seed)
            if log is not None:
                log(f"{family:>12} {variant.name:<12} {'(cached) ' if row['cached'] else ''}"
                    f"{row['iterations']} it, {row['train_seconds']:.0f} s: J label-free {row['J_label_free']:.3f}, "
                    f"best channel {row['J_best_channel']:.3f}")
            rows.append({k: row[k] for k in ROW_COLUMNS})
    return pd.DataFrame(rows, columns=list(ROW_COLUMNS))


def ablation_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The table for results/: one line per variant, the default of each family marked."""
    return pd.DataFrame({
        "family": rows["family"],
        "variant": [f"{v} (default)" if r else v for v, r in zip(rows["variant"], rows["reference"])],
        "change": rows["change"],
        "J (label-free)": rows["J_label_free"],
        "J best channel": rows["J_best_channel"],
        "training s": rows["train_seconds"].round(1),
        "iterations": rows["iterations"],
    })
