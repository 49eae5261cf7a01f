"""Several seeds of one run, read from a committed table of their evaluations and summarised
as mean and range.

Notebook 01 trains one seed in the main job's budget; the seed spread beside it comes from
committed runs of the same profile on the same data, made with amdlib's training loop by the
scripts that study the method. Their evaluations are collected into one CSV file per profile
under `results/reference_runs/` (`SEED_RUN_COLUMNS`), which the notebooks read with
`read_seed_runs`. Each run's k-th evaluation is matched with the others' k-th.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import pandas as pd

from ..data.io import DatasetError

__all__ = ["CEILING", "SEED_RUN_COLUMNS", "SeedRuns", "against_references", "against_the_default",
           "evaluation_at", "read_eval_csv", "read_seed_runs", "seed_run_rows", "seeds_of", "seed_spread", "spread_over_seeds", "spread_verdict",
           "j_versus_time_with_references"]

CEILING = "with labels: the same appearance network trained on the masks"
"""The label of the with-labels reference, what AMD's J is divided by (`of_ceiling`)."""

SEED_RUN_COLUMNS = ("group", "kind", "run", "seed", "iteration", "train_minutes", "J_best_channel",
                    "J_motion_contrast_video", "note")
"""One row per evaluation of a committed run. group: the method's label (a reference such as
`CEILING`) or an ablation variant's `FAMILY/VARIANT`; kind: "default" (the profile's own
recipe: its runs are also the default of every ablation family), "reference" or "ablation";
run: the run's name; note: why a group's budget differs from the default's, if it does."""


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


def seed_run_rows(group: str, kind: str, run: str, seed: int, evaluations: pd.DataFrame,
                  note: str = "") -> pd.DataFrame:
    """A run's evaluations (`read_eval_csv`) as rows of the committed table (`SEED_RUN_COLUMNS`)."""
    table = pd.DataFrame({"group": group, "kind": kind, "run": run, "seed": seed,
                          "iteration": evaluations["iteration"].astype(int),
                          "train_minutes": evaluations["train_minutes"],
                          "J_best_channel": evaluations["J_best_channel"],
                          "J_motion_contrast_video": evaluations.get("J_motion_contrast_video", float("nan")),
                          "note": note})
    return table[list(SEED_RUN_COLUMNS)]


@dataclass
class SeedRuns:
    """The committed runs of one profile: each group's runs as evaluation tables (oldest first)."""

    references: dict[str, list[pd.DataFrame]] = field(default_factory=dict)
    """Label -> runs: the profile's default recipe and the references drawn beside it."""
    ablations: dict[str, list[pd.DataFrame]] = field(default_factory=dict)
    """`FAMILY/VARIANT` -> runs."""
    default: str | None = None
    """The `references` label that is the profile's own recipe."""
    notes: dict[str, str] = field(default_factory=dict)
    """Group -> why its budget differs from the default's."""

    @property
    def default_runs(self) -> list[pd.DataFrame]:
        return self.references.get(self.default, []) if self.default else []


def read_seed_runs(path: str | os.PathLike | None) -> SeedRuns:
    """The committed table at `path` (`SEED_RUN_COLUMNS`); an empty `SeedRuns` for None or a
    missing file (a profile without committed runs). DatasetError names a malformed file."""
    if path is None or not Path(path).is_file():
        return SeedRuns()
    table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    missing = [c for c in SEED_RUN_COLUMNS if c not in table]
    if missing:
        raise DatasetError(f"{path}: lacks the columns {missing}")
    runs = SeedRuns()
    for (group, kind, _), rows in table.groupby(["group", "kind", "run"], sort=False):
        rows = rows.sort_values("iteration").reset_index(drop=True)
        if kind not in ("default", "reference", "ablation"):
            raise DatasetError(f"{path}: group {group!r} has kind {kind!r} (default, reference or ablation)")
        (runs.ablations if kind == "ablation" else runs.references).setdefault(group, []).append(rows)
        if kind == "default":
            runs.default = group
        note = rows["note"].dropna()
        if len(note) and str(note.iloc[0]):
            runs.notes[group] = str(note.iloc[0])
    return runs


def seeds_of(runs: Sequence[pd.DataFrame]) -> set[int]:
    """The seeds of `runs` (each run's `seed` column)."""
    return {int(run["seed"].iloc[0]) for run in runs if "seed" in run and len(run)}


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


def spread_verdict(low: float, high: float, reference_low: float, reference_high: float, seeds: int) -> str:
    """A seed range [low, high] against a reference's: "higher" / "lower beyond the spread" when
    the two do not overlap, else "within the spread"; one seed gets "one seed: no verdict"."""
    if seeds < 2:
        return "one seed: no verdict"
    if low > reference_high:
        return "higher beyond the spread"
    if high < reference_low:
        return "lower beyond the spread"
    return "within the spread"


def spread_over_seeds(rows: pd.DataFrame, by: str, columns: Sequence[str]) -> pd.DataFrame:
    """One row per value of `by` (in first-seen order): the number of seeds (rows), and per
    column its mean (under the column's name), min and max over them."""
    parts = []
    for key, group in rows.groupby(by, sort=False):
        row = {by: key, "seeds": len(group)}
        for column in columns:
            row.update({column: group[column].mean(), f"{column} min": group[column].min(),
                        f"{column} max": group[column].max()})
        parts.append(row)
    return pd.DataFrame(parts)


def evaluation_at(run: pd.DataFrame, iteration: int | None) -> pd.Series | None:
    """A run's evaluation at `iteration` (None: its last); None when it has none there."""
    if iteration is None:
        return run.iloc[-1] if len(run) else None
    rows = run[run["iteration"] == iteration]
    return None if rows.empty else rows.iloc[0]


def against_the_default(variants: Sequence[tuple[str, str, bool]], default: Sequence[pd.DataFrame],
                        committed: dict[str, list[pd.DataFrame]], notes: dict[str, str] | None = None,
                        at: int | None = None, early: int | None = None) -> pd.DataFrame:
    """One row per ablation variant (`variants`: family, variant name, whether it is the default),
    from each seed's evaluation at iteration `at` (None: its last; a run without one is not
    counted) of its runs (`committed["family/variant"]`; the default's are `default`): seeds, mean
    minutes and iterations, J of the best fixed channel (mean, min, max), the label-free
    motion-contrast J (mean), and the verdict against the default's seed range (`spread_verdict`);
    a variant without runs is "not run". `notes` ("family/variant" -> text), when given, fill a
    `budget` column: why a variant's budget differs from the default's. With `early`, `verdict at <early> it` is the same verdict
    from the same runs' evaluations at that iteration (blank where one has none): would a budget
    of `early` iterations rank alike?"""
    notes = notes or {}

    def final(runs: Sequence[pd.DataFrame], iteration: int | None) -> pd.DataFrame:
        rows = [row for row in (evaluation_at(run, iteration) for run in runs) if row is not None]
        return pd.DataFrame(rows)

    reference = final(default, at)
    early_column = f"verdict at {early} it" if early else None
    early_reference = final(default, early) if early else None
    rows = []
    for family, name, is_default in variants:
        runs = list(default) if is_default else committed.get(f"{family}/{name}", [])
        counted = [run for run in runs if evaluation_at(run, at) is not None]
        values = final(counted, at)
        row = {"family": family, "variant": f"{name} (default)" if is_default else name, "seeds": len(values)}
        if values.empty:
            rows.append({**row, "verdict": "not run"})
            continue
        j = values["J_best_channel"].astype(float)
        if is_default or reference.empty:
            verdict = "the default" if is_default else "no default runs"
        else:
            verdict = spread_verdict(j.min(), j.max(), reference["J_best_channel"].min(),
                                     reference["J_best_channel"].max(), len(j))
        label_free = values["J_motion_contrast_video"].astype(float).mean() \
            if "J_motion_contrast_video" in values else float("nan")
        row.update({"train_minutes": values["train_minutes"].astype(float).mean(),
                    "iterations": int(round(values["iteration"].astype(float).mean())),
                    "J_mean": j.mean(), "J_min": j.min(), "J_max": j.max(), "J_label_free": label_free,
                    "verdict": verdict, "budget": notes.get(f"{family}/{name}", "")})
        if early_column:  # the same runs, earlier
            soon = final(counted, early)
            row[early_column] = (
                "" if soon.empty or len(soon) < len(counted) or early_reference.empty else "the default" if is_default
                else spread_verdict(soon["J_best_channel"].min(), soon["J_best_channel"].max(),
                                    early_reference["J_best_channel"].min(), early_reference["J_best_channel"].max(),
                                    len(soon)))
        rows.append(row)
    columns = ["family", "variant", "seeds", "train_minutes", "iterations", "J_mean", "J_min", "J_max",
               "J_label_free", "verdict", *([early_column] if early_column else []), *(["budget"] if notes else [])]
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
        rows.append({"method": label, "source": "committed runs (results/reference_runs)", "seeds": int(final["seeds"]),
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
