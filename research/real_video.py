"""Issue 38: AMD trained on real unlabeled clips, scored on real DAVIS-2016 sequences.

Two steps, each resumable and writing under research/runs/cpu/real/<name>/:

    # train on the 15 clips (14 mp4 files + one frame folder), optionally from trained weights
    python research/real_video.py train --name c2_syninit_s0 --init runs/cpu/checkpoint.pt --seed 0
    python research/real_video.py train --name c5_scratch_s0 --num-masks 5 --seed 0
    # score AMD, AMD + TTA (plain, and selected by its video loss) on the dev sequences
    python research/real_video.py score --name c5_scratch_s0 --select-by-loss [--tta-iterations 100]
    # another checkpoint, with the FBMS and SegTrackv2 samples too (never trained on)
    python research/real_video.py score --name synthetic_cpu --checkpoint runs/cpu/checkpoint.pt --select-by-loss \
        --also ../shared/data/FBMS-sample ../shared/data/SegTrackv2-sample

The clips come from --clips (default: ../shared/data/videos and ../shared/data/unlabeled, linked
into one folder under /tmp); the evaluation sequences from --davis (default
../shared/data/DAVIS2016-dev, every sequence, never trained on). Scores are per sequence: J of
the label-free channel rule (motion contrast per video) and of the oracle channel (the better
channel per video, read from the labels: an upper bound of any channel rule).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a plain checkout too

from amdlib.config import profile as named_profile  # noqa: E402
from amdlib.data import DAVIS2016, DAVISLike  # noqa: E402
from amdlib.evaluation.adapt import AdaptConfig, adapt, load_video  # noqa: E402
from amdlib.evaluation.channels import rule_scores  # noqa: E402
from amdlib.evaluation.vos import score_sequence_amd, seconds_per_frame  # noqa: E402
from amdlib.io.atomic import write_text  # noqa: E402
from amdlib.io.checkpoint import load_checkpoint  # noqa: E402
from amdlib.training.train import footage_pairs, train  # noqa: E402

SHARED = Path(os.environ.get("AMD_SHARED_DATA", ROOT.parent / "shared" / "data"))
"""Where the shared samples are (a worktree elsewhere sets AMD_SHARED_DATA)."""
OUT = ROOT / "research" / "runs" / "cpu" / "real"
INPUT_SIZE = (64, 112)
"""H,W the DAVIS frames (480x854) are segmented and adapted at: the `cpu` model's 64-pixel training
crops at the frames' aspect ratio."""


def clip_folder(sources: list[Path]) -> Path:
    """One folder linking every clip of `sources` (video files and frame folders)."""
    folder = Path("/tmp/amd_real_clips")
    folder.mkdir(exist_ok=True)
    for source in sources:
        for entry in sorted(source.iterdir()):
            if entry.name.startswith(".") or entry.name in {"SHA256SUMS", "README.md"}:
                continue
            link = folder / entry.name
            if not link.exists():
                link.symlink_to(entry.resolve())
    return folder


def cmd_train(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    settings = named_profile("cpu")
    model_config = settings.model.replace(**({"num_masks": args.num_masks} if args.num_masks else {}))
    changes = {"seed": args.seed, "iterations": args.iterations}
    for name in ("lr", "frame_gap", "short_side", "scale_min", "ema_decay", "batch_size"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.crop_size:
        changes["crop_size"] = (args.crop_size, args.crop_size)
    config = settings.train.replace(eval_every=0, **changes)
    if args.flow_size:
        model_config = model_config.replace(flow_size=(args.flow_size, args.flow_size))
    out = OUT / args.name
    out.mkdir(parents=True, exist_ok=True)
    pairs = footage_pairs(clip_folder([Path(p) for p in args.clips]), config)
    init = load_checkpoint(args.init).state_dict() if args.init else None
    (out / "config.json").write_text(json.dumps({"argv": sys.argv[1:], "model": model_config.to_dict(),
                                                 "train": config.to_dict(), "data": pairs.describe(),
                                                 "init": args.init}, indent=1, default=str))
    print(pairs.describe(), flush=True)
    began = time.perf_counter()
    train(model_config, config, pairs, out, resume=True, progress=False, init_weights=init)
    print(f"trained in {(time.perf_counter() - began) / 60:.1f} min -> {out}", flush=True)


def sequence_rows(results: dict, method: str, rules: list[str], label: str) -> list[dict]:
    rows = []
    scores = results[method]
    for rule in rules:
        frames, _ = rule_scores(scores, rule, 0)
        for row in frames.sequence_rows():
            rows.append({"method": label, "rule": rule, "sequence": row["sequence"], "J": row["j_mean"]})
    per_frame = seconds_per_frame(scores)
    for row in rows:
        row["s/frame"] = per_frame
    return rows


def write_rows(path: Path, rows: list[dict]) -> None:
    write_text(path, pd.DataFrame(rows).to_csv(index=False))


RULES = ["motion_contrast_video", "oracle_frame"]


def cmd_score(args: argparse.Namespace) -> None:
    """AMD, AMD + TTA and AMD + guarded TTA on every sequence, one at a time, with the guard's trace."""
    torch.set_num_threads(args.threads)
    out = OUT / args.name
    out.mkdir(parents=True, exist_ok=True)
    model = load_checkpoint(Path(args.checkpoint) if args.checkpoint else out / "checkpoint.pt")
    sequences = list(DAVIS2016(args.davis, split=None))
    for root in args.also:
        sequences += list(DAVISLike(root))
    methods = {"AMD": None, f"AMD + TTA ({args.tta_iterations})": None}
    if args.select_by_loss:
        methods[f"AMD + TTA ({args.tta_iterations}, lowest video loss)"] = {"select_by_loss": True}
    results: dict[str, list] = {name: [] for name in methods}
    traces = []
    for sequence in sequences:
        truth = sequence.truth()
        for name, guard in methods.items():
            began = time.perf_counter()
            tuned = model
            if name != "AMD":
                trace: list[dict] = []
                config = AdaptConfig(iterations=args.tta_iterations, lr=args.tta_lr, **(guard or {}))
                tuned = adapt(model, [load_video(sequence, INPUT_SIZE)], config, trace=trace)
                traces += [{"sequence": sequence.name, "method": name, **row} for row in trace]
            results[name].append(score_sequence_amd(tuned, sequence, INPUT_SIZE, truth, boundary=False,
                                                    seconds=time.perf_counter() - began))
        print(sequence.name, {n: round(rule_scores(r[-1:], "motion_contrast_video", 0)[0].sequences()[0].j_mean, 3)
                              for n, r in results.items()}, flush=True)
    rows = [row for name in methods for row in sequence_rows(results, name, RULES, name)]
    write_rows(out / f"davis_dev{args.suffix}.csv", rows)
    if traces:
        (out / f"tta_trace{args.suffix}.json").write_text(json.dumps(traces, indent=0))
    summarize(out / f"davis_dev{args.suffix}.csv")


def summarize(path: Path) -> None:
    table = pd.read_csv(path)
    print(table.pivot_table(index="sequence", columns=["method", "rule"], values="J").round(3).to_string())
    print(table.groupby(["method", "rule"])["J"].mean().round(3).to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--name", required=True)
    t.add_argument("--clips", nargs="+", default=[str(SHARED / "videos"), str(SHARED / "unlabeled")])
    t.add_argument("--init", help="checkpoint whose weights the run starts from (matching shapes)")
    t.add_argument("--num-masks", type=int)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--iterations", type=int, default=1611)
    t.add_argument("--lr", type=float)
    t.add_argument("--frame-gap", type=int)
    t.add_argument("--short-side", type=int)
    t.add_argument("--scale-min", type=float)
    t.add_argument("--crop-size", type=int)
    t.add_argument("--flow-size", type=int)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--ema-decay", type=float)
    t.add_argument("--threads", type=int, default=2)
    s = sub.add_parser("score")
    s.add_argument("--name", required=True)
    s.add_argument("--tta-iterations", type=int, default=100)
    s.add_argument("--tta-lr", type=float, default=1e-4)
    s.add_argument("--suffix", default="")
    s.add_argument("--also", nargs="*", default=[], help="further DAVIS-like roots scored too (FBMS, SegTrackv2 samples)")
    s.add_argument("--select-by-loss", action="store_true", help="also score TTA selected by its video loss")
    s.add_argument("--checkpoint", help="score this checkpoint instead of the run's (results still go to --name)")
    s.add_argument("--davis", default=str(SHARED / "DAVIS2016-dev"))
    s.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    {"train": cmd_train, "score": cmd_score}[args.command](args)


if __name__ == "__main__":
    main()
