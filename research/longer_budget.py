"""Slower or worse? The ablation variants that are lower than the default at the table's 1,000
iterations, trained further with the same protocol.

A variant held to the table's budget can be lower because it learns more slowly (a larger
backbone) or because it learns something else (a smoothness term that favours flat masks); the
table alone cannot tell which. This script trains chosen variants (`--groups`, `FAMILY/VARIANT`
of `amdlib.ablations.ABLATIONS`) with `amdlib.ablation_runs.run_cell`, the table's own protocol
(the profile's model, data, lr, weight average and 50-video evaluation), to `--iterations`,
scoring every `--every` iterations. The lr is constant, so the evaluation at k iterations is what
a budget of k iterations gives, and a seed's first evaluation repeats the table's run of that seed
(same CPU type and threads). The default's own longer curve is `--default-run`'s `eval.csv`.

Runs go to `--out` (not to results/: the table stays at its budget), checkpoints to `--runs`
(resumable). Prints J of the best fixed channel per variant and
evaluation and writes it to `--out`/summary.md, with the J a perfect mask reaches at each output
stride (`resolution_bound`): how much of a backbone's gap its coarser masks can explain.

    python research/longer_budget.py                       # smoothness and ResNet-18, seed 0, to 3,000
    python research/longer_budget.py --report-only         # the table of what exists
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

import amdlib
from amdlib.ablation_runs import Cell, read_cell_runs, run_cell
from amdlib.ablations import ABLATIONS, AblationData
from amdlib.config import Profile
from amdlib.data import DAVIS2016, generate_more_davis
from amdlib.evaluation.vos_metrics import channel_jaccard
from amdlib.io.atomic import write_text
from amdlib.model.appearance import build_trunk
from amdlib.reports.tables import to_markdown

REPOSITORY = Path(__file__).resolve().parents[1]
GROUPS = ("loss/smoothness", "backbone/resnet18")
"""The two rows the table calls lower without being able to say slower from worse."""


def cells(profile: Profile, groups: list[str], seeds: list[int]) -> list[Cell]:
    """The runs to make: each group of `groups` with each seed of `seeds` (never the default)."""
    chosen = []
    for group in groups:
        family, _, name = group.partition("/")
        variant = next((v for v in ABLATIONS.get(family, ()) if v.name == name), None)
        if variant is None or not variant.applies_to(profile) or variant.is_reference(profile) or variant.tta:
            raise SystemExit(f"--groups: {group!r} is not a trained non-default variant of amdlib.ablations.ABLATIONS")
        chosen += [Cell(family, variant, seed, False) for seed in seeds]
    return chosen


def curves(out: Path, default_run: Path | None) -> pd.DataFrame:
    """J of the best fixed channel and the label-free motion-contrast J at each evaluation of
    each run under `out`, and of `default_run` (an `eval.csv` folder) as the row group "default"."""
    runs = read_cell_runs(out)
    if default_run is not None and (default_run / "eval.csv").is_file():
        runs["default"] = [pd.read_csv(default_run / "eval.csv").assign(seed=_seed_of(default_run))]
    rows = []
    for group, tables in sorted(runs.items(), key=lambda item: item[0] != "default"):
        for table in tables:
            for _, row in table.iterrows():
                rows.append({"group": group, "seed": int(row["seed"]), "iteration": int(row["iteration"]),
                             "minutes": f'{float(row["train_seconds"]) / 60:.1f}',
                             "J_best_channel": float(row["J_best_channel"]),
                             "J_motion_contrast": float(row["J_motion_contrast_video"])})
    return pd.DataFrame(rows)


def resolution_bound(truths: list[torch.Tensor], input_size: tuple[int, int], stride: int) -> float:
    """Mean over videos of J (over each video's T,H,W bool truth) of the truth itself seen through
    a model's output grid: area-resized to `input_size` and averaged over `stride` x `stride`
    cells, then scored as predicted masks are (`channel_jaccard`: resized back bilinearly, cut at
    0.5). What a perfect segmenter with that output stride reaches."""
    grid = (input_size[0] // stride, input_size[1] // stride)
    scores = []
    for truth in truths:
        coarse = F.adaptive_avg_pool2d(F.interpolate(truth.float()[:, None], size=input_size, mode="area"), grid)
        scores.append(channel_jaccard(coarse, truth.bool())[:, 0].mean().item())
    return sum(scores) / len(scores)


def _seed_of(folder: Path) -> int:
    """The seed a research run's name ends with (`..._s0`), or -1."""
    tail = folder.name.rsplit("_s", 1)[-1]
    return int(tail) if tail.isdigit() else -1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", nargs="+", default=list(GROUPS), help="FAMILY/VARIANT of each variant to train")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds to train (the table's are 0-2)")
    parser.add_argument("--iterations", type=int, default=3000, help="the longest budget measured")
    parser.add_argument("--every", type=int, default=1000, help="iterations between evaluations (each about a minute)")
    parser.add_argument("--profile", default="cpu", help="the profile whose protocol the runs follow")
    parser.add_argument("--out", type=Path, default=REPOSITORY / "research" / "runs" / "cpu" / "longer_budget",
                        help="where each run's eval.csv, log.csv, masks.png and run.json go, and summary.md")
    parser.add_argument("--runs", type=Path, default=None,
                        help="where the resumable checkpoints go (default: <runs dir>/<profile>/longer_budget, runs/ unless $AMD_RUNS_DIR; git-ignored)")
    parser.add_argument("--default-run", type=Path, default=REPOSITORY / "research" / "runs" / "cpu" / "v16_long45_s0",
                        help="a research run of the default to set beside (its eval.csv); the committed one is "
                             "seed 0 of the cpu profile to 3,837 iterations")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--report-only", action="store_true", help="train nothing; print the table of what exists")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    run = amdlib.setup(args.profile, generate=not args.report_only)
    profile = run.profile
    chosen = cells(profile, args.groups, args.seeds)
    val_root = generate_more_davis(run.data_dir, profile.data, profile.val_videos)
    if not args.report_only:
        data = AblationData.synthetic(run.datasets, val_root=val_root)
        budget = profile.ablation.replace(iterations=args.iterations, eval_every=args.every)
        for cell in chosen:
            run_cell(cell, profile, data, args.out, args.runs or run.run_dir / "longer_budget", budget)
    table = curves(args.out, args.default_run)
    if table.empty:
        raise SystemExit(f"{args.out}: no finished runs")
    truths = [sequence.truth() for sequence in DAVIS2016(val_root, split="val")]
    backbones = dict.fromkeys([profile.model.backbone] + [cell.variant.configs(profile)[0].backbone for cell in chosen])
    bounds = pd.DataFrame([{"backbone": name, "output stride": stride,
                            "J of a perfect mask": resolution_bound(truths, tuple(profile.eval_size), stride)}
                           for name, stride in ((name, build_trunk(name).output_stride) for name in backbones)])
    size = "x".join(map(str, profile.eval_size))
    text = f"{to_markdown(table)}\n\nJ a perfect mask reaches on {len(truths)} videos at {size}:\n\n{to_markdown(bounds)}"
    print(text)
    write_text(args.out / "summary.md", text + "\n")


if __name__ == "__main__":
    main()
