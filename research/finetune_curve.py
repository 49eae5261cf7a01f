"""Is AMD's head start in semantic fine-tuning erased by fine-tuning, or absent from the start?

Notebook 04 (`cpu`, 3 seeds, 300 iterations) ranks AMD initialisation above random initialisation
with a frozen backbone but not under full fine-tuning. This script fine-tunes both (AMD: the
profile's checkpoint; random: the same network from scratch), fully and frozen, and scores mIoU on
the VOC-layout val set at each of `--checkpoints` within ONE run per (init, mode, seed). The
fine-tuning lr is constant (no schedule over the total), and the loop is amdlib's `finetune` step
for step with evaluations that draw nothing, so each point is the run of that length: at 300
iterations notebook 04's own runs (bit for bit at its 2 threads; the script prints the check).

    python research/finetune_curve.py --checkpoints 25 50 100 200 300 600 --threads 2

Writes <out>/curve.csv (init, mode, seed, iteration, mIoU, pixel_accuracy, train_seconds: training
time up to that iteration, evaluations excluded) after every run, skipping runs it holds at every
asked iteration, and <out>/summary.csv: mean and range over seeds per (init, mode, iteration),
AMD's range against random's (`spread_verdict`).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a plain checkout too

from amdlib.config import profile as named_profile  # noqa: E402
from amdlib.data import VOC2012, generate_all  # noqa: E402
from amdlib.evaluation.finetune import (VOC_IGNORE, FinetuneConfig, SemanticSegmenter,  # noqa: E402
                                        evaluate_segmentation, from_amd, from_scratch, resize_pair)
from amdlib.io.atomic import write_text  # noqa: E402
from amdlib.io.checkpoint import load_checkpoint  # noqa: E402
from amdlib.reports.seed_runs import spread_verdict  # noqa: E402
from amdlib.training.optimizer import adam  # noqa: E402
from amdlib.training.train import isolated_rng  # noqa: E402

COLUMNS = ["init", "mode", "seed", "iteration", "mIoU", "pixel_accuracy", "train_seconds"]
INITS = ("AMD", "random")
MODES = ("full", "frozen")
NOTEBOOK_LR = 1e-3
"""Notebook 04's `finetune_lr`."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="cpu", help="settings (task_size, seeds, data preset, checkpoint)")
    parser.add_argument("--checkpoints", type=int, nargs="+", default=[25, 50, 100, 200, 300, 600],
                        help="fine-tuning iterations at which to evaluate (one run to the largest)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="fine-tuning seeds (default: range(the profile's finetune_seeds))")
    parser.add_argument("--model", default=None, help="AMD checkpoint (default: runs/<profile>/checkpoint.pt)")
    parser.add_argument("--data-root", default=str(ROOT / "data" / "generated"),
                        help="synthetic sets live (or are generated) under <data-root>/<the profile's preset>")
    parser.add_argument("--lr", type=float, default=NOTEBOOK_LR)
    parser.add_argument("--size", type=int, nargs=2, default=None, help="H W (default: the profile's task_size)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=None, help="default: research/runs/<profile>/finetune_curve")
    args = parser.parse_args(argv)
    if min(args.checkpoints) < 0:
        parser.error("--checkpoints must be >= 0")
    return args


def curve(segmenter: SemanticSegmenter, train_set, val_set, config: FinetuneConfig, checkpoints,
          eval_size: tuple[int, int] | None = None) -> list[dict]:
    """`amdlib.evaluation.finetune.finetune(segmenter, train_set, config)`, step for step, with
    `evaluate_segmentation(segmenter, val_set, eval_size)` after every iteration count in
    `checkpoints` (0: before training): -> one dict per checkpoint (iteration, mIoU,
    pixel_accuracy, train_seconds). `config.iterations` must be the largest checkpoint. The
    evaluations run in eval mode without gradients and draw no random numbers (the RNG state is
    restored around them all the same), so the trajectory is finetune's."""
    wanted = sorted(set(checkpoints))
    if not wanted or wanted[-1] != config.iterations:
        raise ValueError(f"the largest checkpoint ({wanted[-1] if wanted else None}) must equal "
                         f"config.iterations ({config.iterations})")
    if len(train_set) == 0:
        raise ValueError("the fine-tuning dataset is empty")
    # From here to the loop's end: finetune's own code, with the evaluations added.
    generator = torch.Generator().manual_seed(config.seed)
    for parameter in segmenter.backbone.parameters():
        parameter.requires_grad_(not config.freeze_backbone)
    parameters = [p for p in segmenter.parameters() if p.requires_grad]
    optimizer = adam(parameters, lr=config.lr, weight_decay=config.weight_decay)
    items = [resize_pair(*train_set[i][:2], config.size) for i in range(len(train_set))]
    device = next(segmenter.parameters()).device

    def train_mode() -> None:
        segmenter.train()
        if config.freeze_backbone:
            segmenter.backbone.eval()  # frozen features: BatchNorm statistics stay those of the init

    rows, seconds = [], 0.0
    train_mode()
    with isolated_rng(config.seed):
        for iteration in range(config.iterations + 1):
            if iteration in wanted:
                state = torch.get_rng_state()
                confusion = evaluate_segmentation(segmenter, val_set, eval_size)
                torch.set_rng_state(state)
                train_mode()
                rows.append({"iteration": iteration, "mIoU": confusion.miou(),
                             "pixel_accuracy": confusion.pixel_accuracy(), "train_seconds": seconds})
            if iteration == config.iterations:
                break
            began = time.perf_counter()
            picks = torch.randint(len(items), (config.batch_size,), generator=generator).tolist()
            images = torch.stack([items[i][0] for i in picks])
            labels = torch.stack([items[i][1] for i in picks])
            if config.flip:
                flip = torch.rand(config.batch_size, generator=generator) < 0.5
                images[flip], labels[flip] = images[flip].flip(-1), labels[flip].flip(-1)
            loss = F.cross_entropy(segmenter(images.to(device)), labels.to(device), ignore_index=VOC_IGNORE)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            seconds += time.perf_counter() - began
    segmenter.eval()
    return rows


def segmenter_for(init: str, model, seed: int) -> SemanticSegmenter:
    """Notebook 04's network: `torch.manual_seed(seed)`, then AMD's backbone copy or a random one,
    and a fresh head."""
    torch.manual_seed(seed)  # the new head's (and a random backbone's) initial weights
    return from_amd(model) if init == "AMD" else from_scratch(model.config)


def read_rows(path: Path) -> pd.DataFrame:
    return pd.read_csv(path) if path.is_file() else pd.DataFrame(columns=COLUMNS)


def done(rows: pd.DataFrame, init: str, mode: str, seed: int, checkpoints) -> bool:
    """Does the CSV hold this run at every asked iteration?"""
    mine = rows[(rows["init"] == init) & (rows["mode"] == mode) & (rows["seed"] == seed)]
    return set(checkpoints) <= set(int(i) for i in mine["iteration"])


def write_csv(path: Path, table: pd.DataFrame) -> None:
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    write_text(path, buffer.getvalue())


def summary(rows: pd.DataFrame, seeds, checkpoints) -> pd.DataFrame:
    """Per (init, mode, iteration): seeds, mIoU mean/min/max, pixel accuracy mean, train seconds
    mean; AMD rows also get mean AMD - random and the verdict of AMD's range against random's."""
    rows = rows[rows["seed"].isin(seeds) & rows["iteration"].isin(checkpoints)]
    parts = []
    for (mode, iteration, init), group in rows.groupby(["mode", "iteration", "init"], sort=False):
        parts.append({"init": init, "mode": mode, "iteration": int(iteration), "seeds": len(group),
                      "mIoU": group["mIoU"].mean(), "mIoU min": group["mIoU"].min(),
                      "mIoU max": group["mIoU"].max(), "pixel_accuracy": group["pixel_accuracy"].mean(),
                      "train_seconds": group["train_seconds"].mean()})
    table = pd.DataFrame(parts, columns=["init", "mode", "iteration", "seeds", "mIoU", "mIoU min", "mIoU max",
                                         "pixel_accuracy", "train_seconds"])
    if table.empty:
        return table
    table["mode"] = pd.Categorical(table["mode"], MODES)
    table["init"] = pd.Categorical(table["init"], INITS)
    table = table.sort_values(["mode", "iteration", "init"]).reset_index(drop=True)
    table["mode"], table["init"] = table["mode"].astype(str), table["init"].astype(str)
    by = table.set_index(["init", "mode", "iteration"])
    differences, verdicts = [], []
    for _, row in table.iterrows():
        key = ("random", row["mode"], row["iteration"])
        if row["init"] != "AMD" or key not in by.index:
            differences.append(float("nan"))
            verdicts.append("-")
            continue
        random = by.loc[key]
        differences.append(row["mIoU"] - random["mIoU"])
        verdicts.append(spread_verdict(row["mIoU min"], row["mIoU max"], random["mIoU min"], random["mIoU max"],
                                       min(int(row["seeds"]), int(random["seeds"]))))
    table["AMD - random"] = differences
    table["against random init"] = verdicts
    return table


NOTEBOOK_NAMES = {("AMD", "full"): "AMD init, full fine-tune", ("AMD", "frozen"): "AMD init, frozen backbone",
                  ("random", "full"): "random init, full fine-tune",
                  ("random", "frozen"): "random init, frozen backbone"}
"""Notebook 04's `backbone` names of the (init, mode) runs."""


def against_notebook(rows: pd.DataFrame, seeds_table: Path, iteration: int) -> pd.DataFrame | None:
    """This file's runs at `iteration` beside notebook 04's per-seed rows (`04_semantic_seeds.csv`,
    made at that iteration count): init, mode, seed, mIoU here, mIoU there and the difference;
    None when the table or the iteration is missing."""
    if not seeds_table.is_file() or iteration not in set(rows["iteration"]):
        return None
    theirs = pd.read_csv(seeds_table).set_index(["backbone", "seed"])["mIoU"]
    mine = rows[rows["iteration"] == iteration]
    found = [{"init": r.init, "mode": r.mode, "seed": int(r.seed), "mIoU": r.mIoU,
              "notebook 04": theirs[(NOTEBOOK_NAMES[(r.init, r.mode)], int(r.seed))]}
             for r in mine.itertuples() if (NOTEBOOK_NAMES[(r.init, r.mode)], int(r.seed)) in theirs.index]
    if not found:
        return None
    table = pd.DataFrame(found)
    table["difference"] = table["mIoU"] - table["notebook 04"]
    return table


def printable(table: pd.DataFrame) -> str:
    shown = pd.DataFrame({
        "init": table["init"], "mode": table["mode"], "iteration": table["iteration"], "seeds": table["seeds"],
        "mIoU mean (min-max)": [f"{r['mIoU']:.3f} ({r['mIoU min']:.3f}-{r['mIoU max']:.3f})"
                                for _, r in table.iterrows()],
        "AMD - random": ["" if d != d else f"{d:+.3f}" for d in table["AMD - random"]],
        "train s": [f"{s:.0f}" for s in table["train_seconds"]],
        "against random init": table["against random init"]})
    return shown.to_string(index=False)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    settings = named_profile(args.profile)
    checkpoints = sorted(set(args.checkpoints))
    seeds = args.seeds if args.seeds is not None else list(range(settings.finetune_seeds))
    size = tuple(args.size) if args.size else tuple(settings.task_size)
    out = Path(args.out) if args.out else ROOT / "research" / "runs" / settings.name / "finetune_curve"
    model_path = Path(args.model) if args.model else ROOT / "runs" / settings.name / "checkpoint.pt"
    datasets = generate_all(Path(args.data_root) / settings.data, settings.data, datasets=("voc2012",))
    train_set, val_set = VOC2012(datasets.voc2012, "train"), VOC2012(datasets.voc2012, "val")
    model = load_checkpoint(model_path).eval()
    print(f"AMD init: {model_path}; {len(train_set)} train / {len(val_set)} val images at {size}; "
          f"constant lr {args.lr}, one run of {checkpoints[-1]} iterations per (init, mode, seed), "
          f"evaluated at {checkpoints}", flush=True)
    path = out / "curve.csv"
    for seed in seeds:
        for init in INITS:
            for mode in MODES:
                rows = read_rows(path)
                if done(rows, init, mode, seed, checkpoints):
                    print(f"{init} {mode} seed {seed}: in {path}, skipped", flush=True)
                    continue
                segmenter = segmenter_for(init, model, seed)
                config = FinetuneConfig(iterations=checkpoints[-1], lr=args.lr, size=size,
                                        freeze_backbone=mode == "frozen", seed=seed)
                began = time.perf_counter()
                new = pd.DataFrame([{"init": init, "mode": mode, "seed": seed, **row}
                                    for row in curve(segmenter, train_set, val_set, config, checkpoints, size)],
                                   columns=COLUMNS)
                print(f"{init} {mode} seed {seed} ({time.perf_counter() - began:.0f} s): "
                      + ", ".join(f"{int(r.iteration)}: {r.mIoU:.3f}" for r in new.itertuples()), flush=True)
                mine = (rows["init"] == init) & (rows["mode"] == mode) & (rows["seed"] == seed)
                rows = pd.concat([rows[~mine], new], ignore_index=True) if len(rows[~mine]) else new
                write_csv(path, rows)  # after each run: nothing computed is lost
    table = summary(read_rows(path), seeds, checkpoints)
    write_csv(out / "summary.csv", table)
    print(printable(table))
    same_settings = args.lr == NOTEBOOK_LR and size == tuple(settings.task_size) and args.model is None
    notebook = against_notebook(read_rows(path), ROOT / "results" / settings.name / "tables" / "04_semantic_seeds.csv",
                                settings.finetune_iterations) if same_settings else None
    if notebook is not None:  # the same runs by construction: a difference means another machine, thread count or model
        print(f"\nat {settings.finetune_iterations} iterations against notebook 04 (results/{settings.name}): "
              f"largest |difference| {notebook['difference'].abs().max():.2e}")
        print(notebook.to_string(index=False, float_format="{:.4f}".format))
    return table


if __name__ == "__main__":
    main()
