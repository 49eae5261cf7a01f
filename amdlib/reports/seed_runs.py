"""Several seeds of one run, read from their `eval.csv` files and summarised as mean and range.

Notebook 01 trains one seed in the main job's time; the seed spread beside it comes from
committed runs of the same profile on the same data (`REFERENCE_RUNS`), made by the research
scripts with amdlib's training loop. Each run's k-th evaluation is matched with the others'
k-th, since runs stopped by a time budget end at different iterations.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import pandas as pd

from ..data.io import DatasetError

__all__ = ["ABLATION_RUNS", "CEILING", "DEFAULT_RUNS", "REFERENCE_RUNS", "ablation_runs", "against_references",
           "against_the_default", "read_eval_csv", "reference_runs", "seed_spread", "j_versus_time_with_references"]

CEILING = "with labels: the same appearance network trained on the masks"
"""The label of the with-labels reference, what AMD's J is divided by (`of_ceiling`)."""

REFERENCE_RUNS = {
    "cpu": {
        "AMD, profile cpu": ("research/runs/cpu/v4_lit_s0", "research/runs/cpu/v4_lit_s1",
                             "research/runs/cpu/v4_lit_s2"),
        CEILING: (
            "research/runs/cpu/supervised/v4_lit_ema_s0", "research/runs/cpu/supervised/v4_lit_ema_s1",
            "research/runs/cpu/supervised/v4_lit_ema_s2"),
    },
}
"""Committed multi-seed runs per profile, relative to the repository root: the `cpu` profile's
AMD (research/emergence.py) and its with-labels ceiling (research/supervised_ceiling.py), each
20 training minutes on 2 CPU threads, scored through the 0.995 weight average on 50 DAVIS-layout
videos of the `cpu` preset (which the research scripts call `bg_gray_lit`)."""


DEFAULT_RUNS = {"cpu": "AMD, profile cpu"}
"""Per profile, the `REFERENCE_RUNS` entry that is the profile's default: every ablation
variant equal to the default (`Variant.is_reference`) is read from those runs."""

ABLATION_RUNS = {
    "cpu": {
        "flow/dense": ("research/runs/cpu/abl_flow_dense_s0", "research/runs/cpu/abl_flow_dense_s1",
                       "research/runs/cpu/abl_flow_dense_s2"),
        "masks/c=3": ("research/runs/cpu/abl_masks_c3_s0", "research/runs/cpu/abl_masks_c3_s1",
                      "research/runs/cpu/abl_masks_c3_s2"),
    },
}
"""Committed multi-seed runs of `amdlib.ablations.ABLATIONS` variants (`FAMILY/VARIANT` ->
folders), made by research/reference_runs.py with research/emergence.py's `--ablation`: each like
the default's runs (same data, threads, evaluation), 20 training minutes unless the run's
`config.json` records fewer. Notebook 05 sets them against the default's seed spread."""


def read_eval_csv(folder: str | os.PathLike) -> pd.DataFrame:
    """A run's evaluations (`<folder>/eval.csv`) with a `train_minutes` column, whichever of
    `train_seconds` / `train_minutes` the run wrote. DatasetError names a missing or bad file."""
    path = Path(folder) / "eval.csv"
    if not path.is_file():
        raise DatasetError(f"{path}: no evaluations (is the run folder right?)")
    table = pd.read_csv(path)
    if "train_minutes" not in table:
        if "train_seconds" not in table:
            raise DatasetError(f"{path}: has neither a train_seconds nor a train_minutes column")
        table["train_minutes"] = table["train_seconds"] / 60
    return table


def reference_runs(profile: str, root: str | os.PathLike) -> dict[str, list[pd.DataFrame]]:
    """`REFERENCE_RUNS[profile]` read from under `root` (the repository), {} for a profile without any."""
    return {label: [read_eval_csv(Path(root) / folder) for folder in folders]
            for label, folders in REFERENCE_RUNS.get(profile, {}).items()}


def seed_spread(runs: Sequence[pd.DataFrame], column: str = "J_best_channel") -> pd.DataFrame:
    """Per evaluation k (the k-th row of every run, up to the shortest run): the mean training
    minutes and iterations, and the mean, min and max of `column` over the runs."""
    if not runs:
        raise ValueError("seed_spread needs at least one run")
    rows = []
    for k in range(min(len(run) for run in runs)):
        values = pd.Series([float(run[column].iloc[k]) for run in runs])
        rows.append({"evaluation": k + 1, "seeds": len(runs),
                     "iterations": sum(int(run["iteration"].iloc[k]) for run in runs) / len(runs),
                     "train_minutes": sum(float(run["train_minutes"].iloc[k]) for run in runs) / len(runs),
                     "J_mean": values.mean(), "J_min": values.min(), "J_max": values.max()})
    return pd.DataFrame(rows)


def ablation_runs(profile: str, root: str | os.PathLike) -> tuple[list[pd.DataFrame], dict[str, list[pd.DataFrame]]]:
    """The default's runs (`DEFAULT_RUNS`, all required) and those of `ABLATION_RUNS[profile]` that
    exist under `root` (the repository; a run not made yet has no `eval.csv`); ([], {}) for a
    profile without any."""
    if profile not in DEFAULT_RUNS:
        return [], {}
    root = Path(root)
    default = [read_eval_csv(root / folder) for folder in REFERENCE_RUNS[profile][DEFAULT_RUNS[profile]]]
    committed = {name: [read_eval_csv(root / folder) for folder in folders if (root / folder / "eval.csv").is_file()]
                 for name, folders in ABLATION_RUNS.get(profile, {}).items()}
    return default, {name: runs for name, runs in committed.items() if runs}


def against_the_default(variants: Sequence[tuple[str, str, bool]], default: Sequence[pd.DataFrame],
                        committed: dict[str, list[pd.DataFrame]]) -> pd.DataFrame:
    """One row per ablation variant (`variants`: family, variant name, whether it is the default),
    from the final evaluation of its committed seeds (`committed["family/variant"]`; the default's
    are `default`): seeds, mean minutes and iterations, J of the best fixed channel (mean, min, max),
    the label-free motion-contrast J (mean), and the verdict against the default's seed range:
    "higher" / "lower beyond the spread" when the two seed ranges do not overlap, else "within the
    spread"; with one seed, "one seed: no verdict"; a variant without committed runs is "not run"."""
    reference = seed_spread(default).iloc[-1] if default else None
    rows = []
    for family, name, is_default in variants:
        runs = list(default) if is_default else committed.get(f"{family}/{name}", [])
        row = {"family": family, "variant": f"{name} (default)" if is_default else name, "seeds": len(runs)}
        if not runs:
            rows.append({**row, "verdict": "not run"})
            continue
        final = seed_spread(runs).iloc[-1]
        label_free = seed_spread(runs, "J_motion_contrast_video").iloc[-1]["J_mean"]
        if is_default or reference is None or len(runs) < 2:
            verdict = "the default" if is_default else ("no default runs" if reference is None
                                                         else "one seed: no verdict")
        elif final["J_min"] > reference["J_max"]:
            verdict = "higher beyond the spread"
        elif final["J_max"] < reference["J_min"]:
            verdict = "lower beyond the spread"
        else:
            verdict = "within the spread"
        rows.append({**row, "train_minutes": final["train_minutes"], "iterations": round(final["iterations"]),
                     "J_mean": final["J_mean"], "J_min": final["J_min"], "J_max": final["J_max"],
                     "J_label_free": label_free, "verdict": verdict})
    columns = ["family", "variant", "seeds", "train_minutes", "iterations", "J_mean", "J_min", "J_max",
               "J_label_free", "verdict"]
    return pd.DataFrame(rows, columns=columns)


def against_references(own: dict[str, float] | None, references: dict[str, list[pd.DataFrame]],
                       levels: dict[str, float]) -> pd.DataFrame:
    """One row per method on the same validation set: this run (`own`, if given: label, train_minutes,
    J_best_channel and, if scored, J_motion_contrast_video), each reference's final evaluation as
    seed mean and range, and the untrained `levels` (label -> J). With a `CEILING` reference,
    `of_ceiling` is each mean J over the ceiling's."""
    rows = [] if own is None else [
        {"method": own["label"], "source": "this run", "seeds": 1, "train_minutes": own["train_minutes"],
         "J_mean": own["J_best_channel"], "J_min": own["J_best_channel"], "J_max": own["J_best_channel"],
         "J_label_free": own.get("J_motion_contrast_video")}]
    for label, runs in references.items():
        final = seed_spread(runs).iloc[-1]
        label_free = (seed_spread(runs, "J_motion_contrast_video").iloc[-1]["J_mean"]
                      if all("J_motion_contrast_video" in run for run in runs) else None)
        rows.append({"method": label, "source": "committed runs (REFERENCE_RUNS)", "seeds": int(final["seeds"]),
                     "train_minutes": final["train_minutes"], "J_mean": final["J_mean"], "J_min": final["J_min"],
                     "J_max": final["J_max"], "J_label_free": label_free})
    for label, value in levels.items():
        rows.append({"method": label, "source": "computed here, no training", "seeds": None, "train_minutes": 0.0,
                     "J_mean": value, "J_min": value, "J_max": value, "J_label_free": value})
    table = pd.DataFrame(rows)
    table["seeds"] = table["seeds"].astype("Int64")  # a count, missing for the untrained rows
    if CEILING in references:
        table["of_ceiling"] = table["J_mean"] / float(table.loc[table["method"] == CEILING, "J_mean"].iloc[0])
    return table


def j_versus_time_with_references(own: pd.DataFrame, own_label: str, spreads: dict[str, pd.DataFrame],
                                  levels: dict[str, float], title: str = ""):
    """J against training minutes: this run's points (`own`: train_minutes, J), each reference's
    seed mean with its min-max band, and horizontal lines for the methods that do not train
    (`levels`: label -> J)."""
    figure, axis = plt.subplots(figsize=(6.5, 4.2))
    for index, (label, spread) in enumerate(spreads.items()):
        colour = f"C{index + 1}"
        axis.plot(spread["train_minutes"], spread["J_mean"], marker="o", color=colour, label=f"{label}: mean")
        axis.fill_between(spread["train_minutes"], spread["J_min"], spread["J_max"], color=colour, alpha=0.2)
    axis.plot(own["train_minutes"], own["J"], marker="s", color="C0", label=own_label)
    for index, (label, value) in enumerate(levels.items()):
        axis.axhline(value, color="grey", linestyle=("--", ":", "-.")[index % 3], label=f"{label}: {value:.3f}")
    axis.set(xlabel="training minutes", ylabel="J", title=title, ylim=(0, 1))
    axis.legend(loc="lower right", fontsize=7)
    figure.tight_layout()
    return figure
