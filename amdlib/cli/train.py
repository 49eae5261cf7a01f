"""`amd train`: train AMD on unlabeled video, from one CPU to many GPUs (docs/method.md section 5).

    amd train --profile cpu --out runs/cpu
    torchrun --nproc_per_node 8 -m amdlib.cli.train --profile paper --data-root <youtube-vos> \\
        --split <split file> --out runs/paper
    amd train --videos my_footage --out runs/mine     # any folder of video files and frame folders

Without `--data-root` it trains on the profile's synthetic videos (generated on first use) and
scores the model on the synthetic DAVIS-layout set every `eval_every` iterations.

Checked before the first iteration: `--resume` needs `<out>/checkpoint.pt`, and a setting that
changes the optimisation (lr, batch size, schedule, augmentation ...) must equal the one the
checkpoint was trained with unless `--allow-changed-config` is given (then the changes are
printed); the evaluation set must open and its files must be readable (`check_readable`).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from . import CommandError
from ..config import PROFILES, TrainConfig
from ..io.atomic import remove_stale_temporaries
from ..session import setup
from ..training.train import (AMP_DTYPES, TrainingTooSlowError, TrainResult, describe_changes, read_train_config,
                              footage_pairs, train, train_config_changes, training_pairs)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="amd train", description="Train AMD on unlabeled video.")
    parser.add_argument("--profile", default="cpu", choices=sorted(PROFILES))
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data-root", help="YouTube-VOS-layout root (default: the profile's synthetic videos)")
    source.add_argument("--videos", metavar="DIR",
                        help="train on your own footage: a folder of video files (mp4, mov, avi, webm, mkv) and "
                             "folders of frames, no split file (amdlib.data.videos)")
    parser.add_argument("--split", help="split file: '<folder relative to root> <frame> ...' per line")
    parser.add_argument("--out", help="run folder (default: runs/<profile>)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from <out>/checkpoint.pt (an error when there is none)")
    parser.add_argument("--allow-changed-config", action="store_true",
                        help="with --resume: continue although a setting that changes the optimisation (lr, "
                             "batch size, iterations ...) differs from the checkpoint's; the changes are printed")
    parser.add_argument("--init", metavar="CHECKPOINT",
                        help="start a new run from these weights (every tensor of matching name and shape), e.g. "
                             "the synthetic-trained runs/cpu/checkpoint.pt before training on your own footage; "
                             "a resumed run ignores it")
    parser.add_argument("--eval-root", help="DAVIS-2016-layout root evaluated every eval_every iterations")
    parser.add_argument("--lift-time-guard", action="store_true",
                        help="train on past the profile's time guard (a run projected from its first steps to "
                             "take longer than the profile's time_guard_minutes stops with an error, its "
                             "checkpoint kept); the budget is always --iterations")
    parser.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    for name in ("iterations", "batch_size", "accumulation", "num_workers", "seed", "checkpoint_every", "eval_every"):
        parser.add_argument("--" + name.replace("_", "-"), type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--amp", choices=sorted(AMP_DTYPES))
    parser.add_argument("--flip", action="store_true", default=None, help="random horizontal flips")
    parser.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None,
                        help="NHWC weights and activations: same arithmetic, faster convolutions (the paper "
                             "profile's default)")
    args = parser.parse_args(argv)
    if args.videos is not None and args.split is not None:
        parser.error("argument --split: not allowed with argument --videos (it goes with --data-root)")
    return args


def check_resume(checkpoint: Path, config: TrainConfig, allow_changed: bool) -> None:
    """CommandError when `checkpoint` is missing, or was trained with other optimisation settings
    and `allow_changed` is False. Leftover temporary files of a killed checkpoint write go first."""
    remove_stale_temporaries(checkpoint)
    if not checkpoint.is_file():
        raise CommandError(f"{checkpoint}: no checkpoint to resume from (run without --resume to start "
                           "a new run, or pass the run folder with --out)")
    changes = train_config_changes(read_train_config(checkpoint), config)
    if changes and not allow_changed:
        raise CommandError(f"{checkpoint}: was trained with other settings ({describe_changes(changes)}); "
                           "pass --allow-changed-config to resume with the new ones")


def main(argv: list[str] | None = None) -> TrainResult:
    """Command line: `amd train ...`, `python -m amdlib.cli.train ...`, or under torchrun."""
    from ..data import DAVIS2016
    from ..evaluation.predict import vos_channel_scores

    args = parse_args(argv)
    run = setup(args.profile, generate=args.data_root is None and args.videos is None)
    chosen = run.profile
    changes = {k: v for k, v in vars(args).items()
               if k in {f.name for f in dataclasses.fields(TrainConfig)} and v is not None}
    config = chosen.train.replace(**changes)
    out = Path(args.out) if args.out else run.run_dir
    if args.resume:
        check_resume(out / "checkpoint.pt", config, args.allow_changed_config)
    data_root, split, eval_root = args.data_root, args.split, args.eval_root
    if data_root is None and args.videos is None:
        data_root, split = run.datasets.youtube_vos, run.datasets.youtube_split
        eval_root = eval_root or run.datasets.davis2016
    run.note_data("the training video set", args.data_root or args.videos)
    pairs = footage_pairs(args.videos, config) if args.videos is not None else training_pairs(data_root, split, config)
    print(f"amd train: {pairs.describe()}; {config.iterations:,} iterations at batch {config.batch_size} "
          f"-> {out}", flush=True)
    evaluate = None
    if eval_root is not None:
        validation = DAVIS2016(eval_root)
        validation.check_readable()  # a broken evaluation set stops the run now, not at the first evaluation
        evaluate = lambda model: vos_channel_scores(model, validation, chosen.eval_size).as_row()  # noqa: E731
    init = None
    if args.init is not None:
        from ..io.checkpoint import load_checkpoint

        init = load_checkpoint(args.init).state_dict()
    try:
        return train(chosen.model, config, pairs, out, resume=args.resume, evaluate=evaluate, device=args.device,
                     time_guard=run.time_guard(args.lift_time_guard), init_weights=init)
    except TrainingTooSlowError as error:  # a guard, not a crash: one line, the checkpoint kept
        raise CommandError(f"{out}: {error}") from None


if __name__ == "__main__":  # through the dispatcher, so that input errors print one line
    from . import main as amd

    sys.exit(amd(["train", *sys.argv[1:]]))
