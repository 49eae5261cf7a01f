"""The smallest ablation budget that keeps the two verdicts already known (issue: a cheaper
ablation protocol): dense flow lower than the default beyond the seed spread, c = 3 within it.

Trains the default, masks/c=3 and flow/dense, seeds 0-2, with amdlib's seed-run protocol
(`amdlib.ablation_runs.run_cell`: the `cpu` profile's model, data, weight average and 50-video
evaluation) to `--iterations`, evaluating every `--every` iterations. The lr is constant, so the
evaluation at k iterations is what a budget of k iterations gives (the same run, stopped there).
Prints, per candidate budget, each group's J over seeds and both verdicts. The runs are the
product's: they go to results/ablation_runs/cpu/ (the table of notebook 05 reads them).

    python research/ablation_budget.py                    # train what is missing, print the table
    python research/ablation_budget.py --report-only      # print the table of what exists
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import torch

from amdlib.ablation_runs import Cell, read_cell_runs, run_cell
from amdlib.ablations import ABLATIONS, AblationData
from amdlib.config import profile as named_profile
from amdlib.data import generate_all, generate_more_davis
from amdlib.reports.seed_runs import against_the_default

REPOSITORY = Path(__file__).resolve().parents[1]
GROUPS = (("masks", "c=2"), ("masks", "c=3"), ("flow", "dense"))
"""The default (c = 2 is the `cpu` profile's) and the two variants whose verdicts are known."""


def cells(seeds: range) -> list[Cell]:
    profile = named_profile("cpu")
    chosen = []
    for family, name in GROUPS:
        variant = next(v for v in ABLATIONS[family] if v.name == name)
        chosen += [Cell(family, variant, seed, variant.is_reference(profile)) for seed in seeds]
    return chosen


def table(results_root: Path, budgets: list[int]) -> pd.DataFrame:
    """Per candidate budget, each group's J over seeds and its verdict against the default's."""
    runs = read_cell_runs(results_root)
    variants = [(family, name, (family, name) == GROUPS[0]) for family, name in GROUPS]
    parts = []
    for budget in budgets:
        rows = against_the_default(variants, runs.get("default", []), runs, at=budget)
        parts.append(rows.assign(budget=budget)[["budget", "family", "variant", "seeds", "J_mean", "J_min", "J_max",
                                                  "J_label_free", "verdict", "train_minutes"]])
    return pd.concat(parts, ignore_index=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=1000, help="the largest budget measured")
    parser.add_argument("--every", type=int, default=250, help="iterations between evaluations: the candidate budgets")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--report-only", action="store_true", help="train nothing; print the table of what exists")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    profile = named_profile("cpu")
    results_root = REPOSITORY / "results" / "ablation_runs" / "cpu"
    if not args.report_only:
        data_dir = REPOSITORY / "data" / "generated" / profile.data
        datasets = generate_all(data_dir, profile.data)
        data = AblationData.synthetic(datasets, val_root=generate_more_davis(data_dir, profile.data, profile.val_videos))
        budget = profile.ablation.replace(iterations=args.iterations, eval_every=args.every)
        for cell in cells(range(args.seeds)):
            run_cell(cell, profile, data, results_root, REPOSITORY / "runs" / "cpu" / "ablation_runs", budget)
    budgets = list(range(args.every, args.iterations + 1, args.every))
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table(results_root, budgets).to_string(index=False, float_format="{:.3f}".format))


if __name__ == "__main__":
    main()
