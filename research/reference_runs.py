"""Make the committed multi-seed runs notebooks 01 and 05 draw beside their own, and tabulate them.

`amdlib.reports.seed_runs.REFERENCE_RUNS["cpu"]` names six runs: AMD with the `cpu` profile
(`emergence.py`) and the same appearance network trained with the ground-truth masks
(`supervised_ceiling.py`), seeds 0-2 each, 20 training minutes each on 2 threads, scored on 50
DAVIS-layout videos of the `cpu` preset (the runs' commands name it `bg_gray_lit`, the research
preset it was promoted from: the same bytes). `ABLATION_RUNS["cpu"]` names the ablation variants'
runs (`emergence.py --ablation FAMILY/VARIANT`, otherwise like AMD's). One after the other,
since two trainings side by side each run at a third of the speed: about 22 minutes a run. A run
whose folder has an `eval.csv` is kept, so an interrupted call continues with the next missing run.

    python research/reference_runs.py             # run what is missing, then print the tables
    python research/reference_runs.py --dry-run   # print the commands and the tables of what exists
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd

from amdlib.ablations import variant_names
from amdlib.reports.seed_runs import (ABLATION_RUNS, CEILING, REFERENCE_RUNS, ablation_runs, against_references,
                                      against_the_default, reference_runs)

REPOSITORY = Path(__file__).resolve().parents[1]
SEEDS = (0, 1, 2)
PRESET = "bg_gray_lit"  # = amdlib's `cpu` preset; the name the committed runs were made with
ABLATION_MINUTES = {"flow/dense": 5.0}
"""Ablations trained for less than the default's 20 minutes. Dense flow: the masks receive no
gradient, so the appearance pathway keeps its initial weights and only its batch-norm statistics
move (settled within a few hundred steps); 20 minutes would score the same network."""


def amd_command(seed: int, name: str | None = None, ablation: str | None = None, minutes: float = 20.0) -> list[str]:
    return [sys.executable, "research/emergence.py", "--name", name or f"v4_lit_s{seed}", "--data", PRESET,
            *(["--ablation", ablation] if ablation else []),
            "--seed", str(seed), "--threads", "2", "--minutes", f"{minutes:g}", "--eval-every", "1000",
            "--val-videos", "50"]


def ceiling_command(seed: int) -> list[str]:
    return [sys.executable, "research/supervised_ceiling.py", "--data", PRESET, "--val-videos", "50",
            "--iterations", "3000", "--eval-every", "1000", "--minutes", "20", "--threads", "2", "--seed", str(seed),
            "--out", f"research/runs/cpu/supervised/v4_lit_ema_s{seed}"]


def planned_runs() -> list[tuple[Path, list[str]]]:
    """(run folder, command) for every reference run, in `REFERENCE_RUNS`'s order."""
    commands = {folder: command for seed in SEEDS
                for folder, command in ((f"research/runs/cpu/v4_lit_s{seed}", amd_command(seed)),
                                        (f"research/runs/cpu/supervised/v4_lit_ema_s{seed}", ceiling_command(seed)))}
    for ablation, ablation_folders in ABLATION_RUNS["cpu"].items():
        for seed, folder in zip(SEEDS, ablation_folders):
            commands[folder] = amd_command(seed, Path(folder).name, ablation, ABLATION_MINUTES.get(ablation, 20.0))
    folders = [folder for family in (*REFERENCE_RUNS["cpu"].values(), *ABLATION_RUNS["cpu"].values())
               for folder in family]
    missing = sorted(set(folders) - set(commands))
    if missing:
        raise SystemExit(f"reference_runs.py: no command for {missing}: "
                         "REFERENCE_RUNS / ABLATION_RUNS and this script disagree")
    return [(REPOSITORY / folder, commands[folder]) for folder in folders]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="print the commands of the missing runs; run nothing")
    args = parser.parse_args(argv)
    for folder, command in planned_runs():
        if (folder / "eval.csv").is_file():
            print(f"kept     {folder.relative_to(REPOSITORY)}")
            continue
        print(("would run" if args.dry_run else "running ") + " " + " ".join(command[1:]), flush=True)
        if not args.dry_run:
            subprocess.run(command, cwd=REPOSITORY, check=True)
    if all((REPOSITORY / folder / "eval.csv").is_file() for family in REFERENCE_RUNS["cpu"].values()
           for folder in family):
        references = reference_runs("cpu", REPOSITORY)
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            print(against_references(None, references, {}).to_string(index=False, float_format="{:.3f}".format))
            print(f"of_ceiling: J_mean over the mean of '{CEILING}'\n")
            default, committed = ablation_runs("cpu", REPOSITORY)
            print(against_the_default(variant_names("cpu"), default, committed).to_string(
                index=False, float_format="{:.3f}".format))


if __name__ == "__main__":
    main()
