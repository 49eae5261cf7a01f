"""The ablation table's runs (notebook 05): each variant of `amdlib.ablations.ABLATIONS`, over
`AblationBudget.seeds` seeds, trained from scratch exactly like the default's committed runs.

The protocol is the default's own (docs/method.md section 9, "Ablations: the protocol of
notebook 05's table"): the profile's model, data, lr and weight average for
`AblationBudget.iterations`, evaluated through the weight average at `AblationBudget.eval_every`
iterations and at the end on the profile's `val_videos` DAVIS-layout videos at its `eval_size`
(the best fixed channel and the label-free motion-contrast rule). A variant with test-time
adaptation scores the default's trained model of the same seed after adaptation (one
evaluation, at the end).

Layout (one folder per run, `run_folder`):
- `<results_root>/<family>/<variant>/seed_<s>/`: `eval.csv`, `log.csv`, `masks.png` (the
  run's masks on `MASK_VIDEOS` validation videos, to look at beside its J) and `run.json`
  (written last: the run's settings). Small files, committed as runs finish.
- `<runs_root>/<family>/<variant>/seed_<s>/checkpoint.pt`: the resumable training (ignored by
  git). An interrupted run resumes from its last checkpoint (every 250 iterations); a TTA run
  also keeps each adapted video's masks in `tta_videos/` until it is scored, and resumes by video.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd
import torch
import torch.nn.functional as F

from .ablations import ABLATIONS, AblationData, Variant, family_variants
from .config import AblationBudget, Profile
from .data import DAVIS2016
from .data.io import data_identity
from .evaluation.adapt import AdaptConfig
from .evaluation.channels import SequenceMasks, channel_scores
from .evaluation.predict import segment_sequences, vos_channel_scores
from .evaluation.vos import amd_with_tta
from .io.atomic import write_json, write_text
from .io.checkpoint import atomic_torch_save, load_checkpoint
from .model.amd import AMD
from .reports.ablation_figures import run_masks_figure
from .reports.seed_runs import read_eval_csv
from .reports.tables import save_figure
from .training.train import train, training_pairs

__all__ = ["Cell", "MASK_VIDEOS", "mask_images", "missing_cells", "read_cell_runs", "run_cell", "run_folder",
           "save_run_masks"]

MASK_VIDEOS = 3
"""Validation videos (the first ones) whose middle annotated frame each run's `masks.png` shows."""


@dataclass(frozen=True)
class Cell:
    """One run of the table: a variant of a family, one seed."""

    family: str
    variant: Variant
    seed: int
    is_default: bool

    @property
    def group(self) -> str:
        """`FAMILY/VARIANT`, the key of `amdlib.reports.seed_runs.SeedRuns.ablations`."""
        return f"{self.family}/{self.variant.name}"


def run_folder(root: str | Path, cell: Cell) -> Path:
    """`root/<family>/<variant>/seed_<s>`; the default's runs (shared by every family) are `root/default/seed_<s>`."""
    if cell.is_default:
        return Path(root) / "default" / f"seed_{cell.seed}"
    return Path(root) / cell.family / cell.variant.name / f"seed_{cell.seed}"


def missing_cells(profile: Profile, committed: dict[str, set[int]], default_seeds: set[int],
                  seeds: int | None = None) -> list[Cell]:
    """The runs the table still lacks, the default's first: every variant of every family under
    `profile` with seeds 0 .. `seeds` - 1 (None: `profile.ablation.seeds`) whose seed is not in
    `committed` (`FAMILY/VARIANT` -> seeds with a finished run); the default's seeds are `default_seeds`."""
    seeds = range(profile.ablation.seeds if seeds is None else seeds)
    cells = []
    for family in ABLATIONS:
        for variant in family_variants(family, profile):
            is_default = variant.is_reference(profile)
            have = default_seeds if is_default else committed.get(f"{family}/{variant.name}", set())
            cells += [Cell(family, variant, seed, is_default) for seed in seeds if seed not in have]
    default = {c.seed: c for c in cells if c.is_default}  # once, not once per family
    return list(default.values()) + [c for c in cells if not c.is_default]


def read_cell_runs(results_root: str | Path) -> dict[str, list[pd.DataFrame]]:
    """The finished runs under `results_root` (those with a `run.json`): `FAMILY/VARIANT` (or
    "default") -> each seed's evaluations (`eval.csv` with `train_minutes`, a `seed` column), by seed."""
    runs: dict[str, list[pd.DataFrame]] = {}
    root = Path(results_root)
    for marker in sorted(root.glob("*/seed_*/run.json")) + sorted(root.glob("*/*/seed_*/run.json")):
        folder = marker.parent
        group = _group_of(folder, root)
        table = read_eval_csv(folder)
        table["seed"] = int(folder.name.removeprefix("seed_"))
        runs.setdefault(group, []).append(table)
    return {group: sorted(tables, key=lambda t: int(t["seed"].iloc[0])) for group, tables in runs.items()}


def _group_of(folder: Path, root: Path) -> str:
    """The group of a run folder `root/<family>/<variant>/seed_<s>` (`FAMILY/VARIANT`), or
    "default" for `root/default/seed_<s>` (`run_folder`'s layout read back)."""
    if folder.parent.name == "default" and folder.parent.parent == root:
        return "default"
    return f"{folder.parent.parent.name}/{folder.parent.name}"


def mask_images(results_root: str | Path) -> dict[str, Path]:
    """Each run group's `masks.png` of its lowest seed that has one, the default first, then in
    the order of `ABLATIONS`: `"<group> seed <s>"` -> path (the panels of notebook 05's masks figure)."""
    root = Path(results_root)
    order = ["default"] + [f"{family}/{v.name}" for family, variants in ABLATIONS.items() for v in variants]
    found: dict[str, tuple[int, Path]] = {}
    for png in list(root.glob("default/seed_*/masks.png")) + list(root.glob("*/*/seed_*/masks.png")):
        group = _group_of(png.parent, root)
        seed = int(png.parent.name.removeprefix("seed_"))
        if group not in found or seed < found[group][0]:
            found[group] = (seed, png)
    groups = sorted(found, key=lambda g: (order.index(g) if g in order else len(order), g))
    return {f"{g} seed {found[g][0]}": found[g][1] for g in groups}


def run_cell(cell: Cell, profile: Profile, data: AblationData, results_root: str | Path, runs_root: str | Path,
             budget: AblationBudget | None = None, progress: bool = False,
             log: Callable[[str], None] | None = print) -> Path:
    """Train (or resume) `cell` under `budget` (None: the profile's) and score it as the module
    docstring says; returns its results folder. A finished run (its `run.json`) is returned as it is."""
    results, work = run_folder(results_root, cell), run_folder(runs_root, cell)
    budget = budget or profile.ablation
    changes = {"seed": cell.seed, "eval_every": budget.eval_every}
    if budget.iterations is not None:
        changes["iterations"] = budget.iterations
    if (results / "run.json").is_file():
        made = json.loads((results / "run.json").read_text())["iterations"]
        planned = changes.get("iterations", profile.train.iterations)
        if made < planned:
            raise RuntimeError(f"{results}: made with {made} iterations, shorter than this budget's {planned}; "
                               "move it away to train it again")
        return results
    validation = list(DAVIS2016(data.val_root, split=data.val_split))
    size = tuple(profile.eval_size)

    def evaluate(model) -> dict[str, float]:
        return vos_channel_scores(model, validation, size).as_row()

    trained = cell
    if cell.variant.tta:  # the default's model of this seed, then adaptation
        trained = Cell(cell.family, Variant("default"), cell.seed, True)
        work = run_folder(runs_root, trained)
    model_config, train_config = trained.variant.configs(profile, **changes)
    if log is not None:
        log(f"ablation run {cell.group} seed {cell.seed}: {trained.variant.change() or 'the default'}")
    pairs = training_pairs(data.train_root, data.train_split, train_config)
    result = train(model_config, train_config, pairs, work, resume=True, progress=progress,
                   evaluate=None if cell.variant.tta else evaluate, evaluate_raw=False)
    if result.iterations < train_config.iterations:
        raise RuntimeError(f"{work}: training stopped at {result.iterations} of {train_config.iterations} "
                           "iterations; run again to resume")
    results.mkdir(parents=True, exist_ok=True)
    settings = {"family": cell.family, "variant": cell.variant.name, "seed": cell.seed, "profile": profile.name,
                "model": model_config.to_dict(), "train": train_config.to_dict(),
                "train_data": data_identity(data.train_root), "val_data": data_identity(data.val_root),
                "eval_size": list(size), "iterations": result.iterations}
    if cell.variant.tta:
        tta = AdaptConfig(iterations=budget.tta_iterations, seed=cell.seed)
        model = load_checkpoint(result.checkpoint).eval()
        adapted = run_folder(runs_root, cell) / "tta_videos"
        kept, seconds = _tta_by_video(model, validation, size, tta, adapted, result.iterations)
        scores = channel_scores(kept)
        row = {"iteration": result.iterations, "train_seconds": round(result.train_seconds, 3),
               **scores.as_row(), "tta_seconds": round(seconds, 3)}
        write_text(results / "eval.csv", pd.DataFrame([row]).to_csv(index=False))
        settings["tta"] = dataclasses.asdict(tta)
        _draw_masks(results, kept[:MASK_VIDEOS], validation, cell)
    else:
        shutil.copyfile(work / "eval.csv", results / "eval.csv")
        _draw_checkpoint_masks(results, result.checkpoint, validation, size, cell)
    shutil.copyfile(work / "log.csv", results / "log.csv")
    write_json(results / "run.json", settings)
    if cell.variant.tta:
        shutil.rmtree(adapted)  # scored and drawn: the per-video masks are no longer needed
    return results


def _tta_by_video(model: AMD, validation: list, size: tuple[int, int], tta: AdaptConfig, folder: Path,
                  iterations: int) -> tuple[list[SequenceMasks], float]:
    """(`amd_with_tta(model, validation, size, tta, "video")`, its seconds), one video at a time:
    each video's masks go to `folder/<video>.pt` as it is done and are read back on a rerun, so
    an interrupted TTA run resumes by video. Every video's adaptation starts from `model` with
    `tta.seed`, so a resumed run gives the masks of an uninterrupted one. A file made with another
    `tta` or another training length (`iterations`) is redone."""
    made = {"tta": dataclasses.asdict(tta), "iterations": iterations}
    kept, seconds = [], 0.0
    for sequence in validation:
        path = folder / f"{sequence.name}.pt"
        saved = torch.load(path, weights_only=True) if path.is_file() else None
        if saved is None or saved["made"] != made:
            tic = time.perf_counter()
            [masks] = amd_with_tta(model, [sequence], size, tta, unit="video")
            saved = {"made": made, "masks": masks.masks, "truth": masks.truth,
                     "motion_channel": masks.motion_channel, "seconds": time.perf_counter() - tic}
            atomic_torch_save(saved, path)
        kept.append(SequenceMasks(sequence.name, saved["masks"], saved["truth"], saved["motion_channel"]))
        seconds += saved["seconds"]
    return kept, seconds


def save_run_masks(cell: Cell, profile: Profile, data: AblationData, results_root: str | Path,
                   runs_root: str | Path) -> Path | None:
    """Draw `masks.png` for a finished run that lacks one, from its checkpoint under `runs_root`;
    None (nothing drawn) when the run is unfinished, already has it, is a TTA run (its adapted
    models are not kept), or its checkpoint is gone or holds another number of iterations than
    the run (then it is not the model that was scored)."""
    results, work = run_folder(results_root, cell), run_folder(runs_root, cell)
    if cell.variant.tta or not (results / "run.json").is_file() or (results / "masks.png").is_file() \
            or not (work / "checkpoint.pt").is_file():
        return None
    made = json.loads((results / "run.json").read_text())["iterations"]
    if torch.load(work / "checkpoint.pt", map_location="cpu", weights_only=True)["iteration"] != made:
        return None
    validation = list(DAVIS2016(data.val_root, split=data.val_split))[:MASK_VIDEOS]
    return _draw_checkpoint_masks(results, work / "checkpoint.pt", validation, tuple(profile.eval_size), cell)


def _draw_checkpoint_masks(folder: Path, checkpoint: Path, validation: list, size: tuple[int, int],
                           cell: Cell) -> Path:
    """`_draw_masks` of the model in `checkpoint` (its weight average) on the first `MASK_VIDEOS`
    of `validation`, segmented at `size` as the run was scored."""
    sequences = validation[:MASK_VIDEOS]
    return _draw_masks(folder, segment_sequences(load_checkpoint(checkpoint).eval(), sequences, size), sequences, cell)


def _draw_masks(folder: Path, masks: list[SequenceMasks], sequences: list, cell: Cell) -> Path:
    """`folder/masks.png`: the middle annotated frame of each of `masks`' videos, its ground
    truth and every soft mask, all at the first frame's size; the best fixed channel of the
    run's `folder/eval.csv` (its last evaluation) is marked."""
    import matplotlib.pyplot as plt

    frames, channels, truths = [], [], []
    for result, sequence in zip(masks, sequences):
        k = len(sequence.annotated) // 2
        frames.append(sequence.frame(sequence.annotated[k]))
        channels.append(result.masks[k])
        truths.append(result.truth[k])
    size = tuple(frames[0].shape[-2:])  # videos may differ in size: one size stacks them
    frames = torch.stack([F.interpolate(f[None], size=size, mode="bilinear")[0] for f in frames])
    channels = torch.stack([F.interpolate(m[None].float(), size=size, mode="bilinear")[0] for m in channels])
    truths = torch.stack([F.interpolate(t[None, None].float(), size=size)[0, 0] > 0.5 for t in truths])
    group = "default" if cell.is_default else cell.group
    title = f"{group} seed {cell.seed}: soft masks of the middle annotated frame"
    best_channel = int(read_eval_csv(folder)["best_channel"].iloc[-1])
    figure = run_masks_figure(frames, channels, truths, best_channel, title)
    try:
        return save_figure(figure, folder / "masks.png", dpi=50)
    finally:
        plt.close(figure)
