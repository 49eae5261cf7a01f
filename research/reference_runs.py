"""Make the committed multi-seed runs notebooks 01 and 05 draw beside their own, collect their
evaluations into results/reference_runs/cpu.csv (what the notebooks read), and tabulate them.

`REFERENCE_RUNS["cpu"]` names six runs: AMD with the `cpu` profile
(`emergence.py`) and the same appearance network trained with the ground-truth masks
(`supervised_ceiling.py`), seeds 0-2 each, 20 training minutes each on 2 threads, scored on 50
DAVIS-layout videos of the `cpu` preset (the runs' commands name it `bg_gray_lit`, the research
preset it was promoted from: the same bytes). `ABLATION_RUNS["cpu"]` names the ablation variants'
runs (`emergence.py --ablation FAMILY/VARIANT`, otherwise like AMD's). The committed runs
stopped at 20 training minutes; a remade run gets the iterations they reached on average (1,611),
the same on any machine. One after the other, since two trainings side by side each run at a
third of the speed: about 22 minutes a run. A run
whose last evaluation is at its planned iterations (or that ran to its time budget, as the first
committed runs did) is kept; an interrupted run resumes from its last checkpoint (`--resume`), so an
interrupted call loses at most 250 iterations.

    python research/reference_runs.py             # run what is missing, write the CSV, print the tables
    python research/reference_runs.py --dry-run   # print the commands; write the CSV of what exists
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from amdlib.ablations import variant_names
from amdlib.config import profile as named_profile
from amdlib.io.atomic import write_text
from amdlib.reports.seed_runs import (CEILING, against_references, against_the_default, read_eval_csv,
                                      read_seed_runs, seed_run_rows)

REPOSITORY = Path(__file__).resolve().parents[1]
TABLE = REPOSITORY / "results" / "reference_runs" / "cpu.csv"
"""The committed table of the runs' evaluations (amdlib.reports.seed_runs.SEED_RUN_COLUMNS)."""

DEFAULT = "AMD, profile cpu"
REFERENCE_RUNS = {
    DEFAULT: ("research/runs/cpu/v4_lit_s0", "research/runs/cpu/v4_lit_s1", "research/runs/cpu/v4_lit_s2"),
    CEILING: ("research/runs/cpu/supervised/v4_lit_ema_s0", "research/runs/cpu/supervised/v4_lit_ema_s1",
              "research/runs/cpu/supervised/v4_lit_ema_s2"),
}
"""The `cpu` profile's AMD (emergence.py) and its with-labels ceiling (supervised_ceiling.py),
each 20 training minutes on 2 CPU threads, scored through the 0.995 weight average on 50
DAVIS-layout videos of the `cpu` preset."""

ABLATION_RUNS = {
    "flow/dense": ("research/runs/cpu/abl_flow_dense_s0", "research/runs/cpu/abl_flow_dense_s1",
                   "research/runs/cpu/abl_flow_dense_s2"),
    "masks/c=3": ("research/runs/cpu/abl_masks_c3_s0", "research/runs/cpu/abl_masks_c3_s1",
                  "research/runs/cpu/abl_masks_c3_s2"),
}
"""Runs of `amdlib.ablations.ABLATIONS` variants (`FAMILY/VARIANT` -> folders, seeds 0-2), made
with emergence.py's `--ablation`, otherwise like the default's runs."""
SEEDS = (0, 1, 2)
PRESET = "bg_gray_lit"  # = amdlib's `cpu` preset; the name the committed runs were made with
ITERATIONS = 1611
"""The `cpu` profile's budget: the iterations the committed 20-minute runs reached on average."""
ABLATION_ITERATIONS = {"flow/dense": 587}
"""Ablations trained for fewer iterations than the default (what their committed runs reached)."""
BUDGET_NOTES = {"flow/dense": "587 iterations (5 min), not 1,611: the masks get no gradient (only batch-norm "
                              "statistics move), so more steps score the same network"}
"""Why a group's budget differs from the default's: written into the table beside its verdict."""


def amd_command(seed: int, name: str | None = None, ablation: str | None = None,
                iterations: int = ITERATIONS) -> list[str]:
    """The run's command: a budget of iterations, with a 60-minute time guard."""
    return [sys.executable, "research/emergence.py", "--name", name or f"v4_lit_s{seed}", "--data", PRESET,
            *(["--ablation", ablation] if ablation else []),
            "--seed", str(seed), "--threads", "2", "--iterations", str(iterations), "--minutes", "60",
            "--eval-every", "1000", "--val-videos", "50"]


def ceiling_command(seed: int) -> list[str]:
    return [sys.executable, "research/supervised_ceiling.py", "--data", PRESET, "--val-videos", "50",
            "--iterations", "3000", "--eval-every", "1000", "--minutes", "20", "--threads", "2", "--seed", str(seed),
            "--out", f"research/runs/cpu/supervised/v4_lit_ema_s{seed}"]


def planned_runs() -> list[tuple[Path, list[str]]]:
    """(run folder, command) for every reference run, in `REFERENCE_RUNS`'s order."""
    commands = {folder: command for seed in SEEDS
                for folder, command in ((f"research/runs/cpu/v4_lit_s{seed}", amd_command(seed)),
                                        (f"research/runs/cpu/supervised/v4_lit_ema_s{seed}", ceiling_command(seed)))}
    for ablation, ablation_folders in ABLATION_RUNS.items():
        for seed, folder in zip(SEEDS, ablation_folders):
            commands[folder] = amd_command(seed, Path(folder).name, ablation,
                                           ABLATION_ITERATIONS.get(ablation, ITERATIONS))
    folders = [folder for family in (*REFERENCE_RUNS.values(), *ABLATION_RUNS.values()) for folder in family]
    missing = sorted(set(folders) - set(commands))
    if missing:
        raise SystemExit(f"reference_runs.py: no command for {missing}: "
                         "REFERENCE_RUNS / ABLATION_RUNS and this script disagree")
    return [(REPOSITORY / folder, commands[folder]) for folder in folders]


def finished(folder: Path, command: list[str] | None = None) -> bool:
    """True when the run at `folder` ran to its end: its last evaluation is at the `--iterations`
    of `command`, or at the `--minutes` its own `config.json` names (the first committed runs,
    and the ceiling's, stopped at 20 training minutes); an interrupted run is neither."""
    if not (folder / "eval.csv").is_file():
        return False
    last = read_eval_csv(folder).iloc[-1]
    if command is not None and "--iterations" in command:
        if int(last["iteration"]) >= int(command[command.index("--iterations") + 1]):
            return True
    made_with = json.loads((folder / "config.json").read_text()).get("arguments", []) \
        if (folder / "config.json").is_file() else []
    if "--minutes" in made_with:
        return float(last["train_minutes"]) >= 0.99 * float(made_with[made_with.index("--minutes") + 1])
    return command is None or "--iterations" not in command


def seed_of(folder: str) -> int:
    """The seed a run folder's name ends with (`..._s2` -> 2)."""
    return int(folder.rsplit("_s", 1)[1])


def collect(root: Path = REPOSITORY) -> pd.DataFrame:
    """Every finished run's evaluations as rows of the committed table."""
    parts = []
    commands = {folder.relative_to(REPOSITORY).as_posix(): command for folder, command in planned_runs()}
    for kind_of, groups in (("reference", REFERENCE_RUNS), ("ablation", ABLATION_RUNS)):
        for group, folders in groups.items():
            kind = "default" if group == DEFAULT else kind_of
            for folder in folders:
                if finished(root / folder, commands.get(folder)):
                    parts.append(seed_run_rows(group, kind, Path(folder).name, seed_of(folder),
                                               read_eval_csv(root / folder), BUDGET_NOTES.get(group, "")))
    return pd.concat(parts, ignore_index=True)


def write_table(table: pd.DataFrame, path: Path = TABLE) -> Path:
    """The committed table, atomically."""
    return write_text(path, table.to_csv(index=False, float_format="%.6g"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="print the commands of the missing runs; run nothing")
    args = parser.parse_args(argv)
    for folder, command in planned_runs():
        if finished(folder, command):
            print(f"kept     {folder.relative_to(REPOSITORY)}")
            continue
        if (folder / "checkpoint.pt").is_file():
            command = [*command, "--resume"]
        print(("would run" if args.dry_run else "running ") + " " + " ".join(command[1:]), flush=True)
        if not args.dry_run:
            subprocess.run(command, cwd=REPOSITORY, check=True)
    print(f"wrote {write_table(collect()).relative_to(REPOSITORY)}")
    runs = read_seed_runs(TABLE)
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(against_references(None, runs.references, {}).to_string(index=False, float_format="{:.3f}".format))
        print(f"of_ceiling: J_mean over the mean of '{CEILING}'\n")
        print(against_the_default(variant_names(named_profile("cpu")), runs.default_runs, runs.ablations,
                                  runs.notes).to_string(index=False, float_format="{:.3f}".format))


if __name__ == "__main__":
    main()
