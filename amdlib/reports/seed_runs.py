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

__all__ = ["CEILING", "REFERENCE_RUNS", "against_references", "read_eval_csv", "reference_runs", "seed_spread",
           "j_versus_time_with_references"]

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
