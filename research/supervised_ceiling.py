"""What the `cpu` appearance pathway reaches WITH labels, in the emergence budget.

The emergence target (best fixed channel J >= 0.6 on the synthetic DAVIS-layout val set within
20 minutes on 2 CPU cores; research/README.md) asks the appearance pathway to learn objectness
from the motion loss alone. This script trains the same network, from the same initialisation, on the
same training pairs (same crops, same 64x64 input), but with the generator's ground-truth masks
of the moving objects as targets (per-pixel cross-entropy: channel 1 = moving object, channel 0
= everything else, any further channel unused), and evaluates it exactly as
`research/emergence.py` does (the profile's eval_size, best fixed channel). Only the appearance pathway runs,
so an iteration costs a fraction of an AMD step: J is reported against iterations and minutes.
On a machine with CUDA it trains there (as `amdlib.training.train.train` does). Writes <out>/config.json,
<out>/eval.csv (one row per evaluation, the last iteration included) and <out>/checkpoint.pt (an
amdlib checkpoint: `research/val_spread.py` scores it per video like the AMD runs').

With the profile's weight average (`TrainConfig.ema_decay`, as the AMD runs) the average is
what is scored and saved, and the raw weights are scored beside it (`*_raw_weights`);
`--no-weight-average` scores the raw weights alone, as every run before `v4_lit_ema_*` did.

It is an upper bound of a kind, not a target: what this network, input size and data reach
when told the answer, i.e. how much of the gap to 0.6 is the network and how much is the
unsupervised signal.

    python research/supervised_ceiling.py --minutes 8 --threads 1 --out research/runs/cpu/supervised/NAME
        [--videos 1200] [--backbone resnet18] [--crop-size 128] [--no-flip]
        [--short-side 64 --scale-min 0.96] [--val-videos 50] [--iterations N --eval-every N]

The earliest runs (`videos300`, `videos1200`, `crop128`) used the profile's pairs of their
time: `--no-flip --short-side 64 --scale-min 0.96` gives them today (`--short-side 128` for
crop128); `flip` and `flip_zoom` added `--flip` and then `--short-side 96 --scale-min 0.67`,
which the profile now has.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a plain checkout too
sys.path.insert(0, str(Path(__file__).resolve().parent))

from amdlib.io.atomic import atomic_write, write_json  # noqa: E402
from amdlib.io.checkpoint import save_checkpoint  # noqa: E402
from amdlib.config import AMP_MODES, BACKBONES, AMDConfig, profile  # noqa: E402
from amdlib.data import DAVIS2016, generate, generate_all  # noqa: E402
from amdlib.evaluation.predict import vos_channel_scores  # noqa: E402
from amdlib.model.amd import AMD  # noqa: E402
from amdlib.training.train import AMP_DTYPES, TrainConfig, training_pairs  # noqa: E402
from emergence import (OUT, add_pair_options, data_variant, pair_changes, synthetic_preset,  # noqa: E402
                       validation_folder)  # (shared with the AMD runs)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--data", default="cpu", help="synthetic preset (as emergence.py; smoke for tests)")
    parser.add_argument("--data-root", default="data/generated",
                        help="synthetic sets go to <data-root>/<data> (as emergence.py)")
    parser.add_argument("--out", default=str(OUT / "supervised" / "default"), help="run folder")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--iterations", type=int, default=4000)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--crop-size", type=int, help="training crop (square; short side too), default the profile's")
    parser.add_argument("--lr", type=float)
    parser.add_argument("--head-channels", type=int)
    parser.add_argument("--backbone", choices=BACKBONES, help="appearance backbone (default: the profile's)")
    parser.add_argument("--videos", type=int, help="training videos (default: the cpu preset's 300)")
    parser.add_argument("--amp", choices=AMP_MODES, help="autocast the step (as emergence.py --amp; fp16 unscaled)")
    parser.add_argument("--no-weight-average", action="store_true",
                        help="score the raw weights only, not the profile's weight average (the runs before v4_lit_ema)")
    add_pair_options(parser)
    parser.add_argument("--val-videos", type=int,
                        help="score on this many DAVIS-layout videos of the preset, its own ten first (as emergence.py)")
    return parser.parse_args(argv)


def supervised_loss(masks: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of B,c,h,w soft masks against B,H,W bool truth (channel 1 = object)."""
    truth = F.interpolate(truth[:, None].float(), size=masks.shape[-2:], mode="area")[:, 0]
    return -(truth * masks[:, 1].clamp_min(1e-6).log()
             + (1 - truth) * masks[:, 0].clamp_min(1e-6).log()).mean()


def configs(args: argparse.Namespace) -> tuple[AMDConfig, TrainConfig]:
    """The profile's model and schedule with the command line's changes (unset options keep the profile's)."""
    model_config = AMDConfig.profile(args.profile)
    if args.head_channels:
        model_config = model_config.replace(head_channels=args.head_channels)
    if args.backbone:
        model_config = model_config.replace(backbone=args.backbone)
    changes = {"seed": args.seed, **pair_changes(args)}
    if args.lr:
        changes.update(lr=args.lr, min_lr=args.lr)
    if args.no_weight_average:
        changes.update(ema_decay=0.0)
    if args.amp:
        changes.update(amp=args.amp)
    return model_config, TrainConfig.profile(args.profile, **changes)


def write_rows(handle, rows: list[dict]) -> None:
    """The evaluations so far as CSV (header from the first row)."""
    writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    model_config, config = configs(args)
    data_config = synthetic_preset(args.data)
    datasets = generate_all(Path(args.data_root) / args.data, data_config)
    youtube, split = datasets.youtube_vos, datasets.youtube_split
    if args.videos:  # the same folder as emergence.py --train-videos
        youtube = generate("youtube_vos", *data_variant(Path(args.data_root), args.data, {}, args.videos))
        split = youtube / "train.txt"
    pairs = training_pairs(youtube, split, config, annotations="train_all_frames/Annotations")
    validation = DAVIS2016(validation_folder(datasets.davis2016, data_config, args.val_videos))
    eval_size = profile(args.profile).eval_size
    torch.manual_seed(config.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # as amdlib.training.train.train
    model = AMD(model_config).to(device)
    optimizer = torch.optim.Adam(model.appearance.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    ema = (AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(config.ema_decay), use_buffers=True)
           if config.ema_decay else None)  # as amdlib.training.train.train
    generator = torch.Generator().manual_seed(config.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "config.json", {"arguments": sys.argv[1:] if argv is None else argv,
                                     "model": model_config.to_dict(), "train": config.to_dict(),
                                     "eval_size": eval_size[0]})
    rows, seconds, epoch, order = [], 0.0, 0, []
    for iteration in range(1, args.iterations + 1):
        start = time.perf_counter()
        model.train()
        batch = []
        for _ in range(config.batch_size):
            if not order:
                pairs.set_epoch(epoch)
                order = torch.randperm(len(pairs), generator=generator).tolist()
                epoch += 1
            batch.append(pairs[order.pop()])
        frames = torch.stack([b[0] for b in batch]).flatten(0, 1).to(device)  # 2B,3,h,w
        truth = torch.stack([b[1] for b in batch]).flatten(0, 1).to(device)  # 2B,h,w
        with torch.autocast(device.type, dtype=AMP_DTYPES[config.amp], enabled=config.amp != "none"):
            masks = model.appearance(frames)
        loss = supervised_loss(masks.float(), truth)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if ema is not None:
            ema.update_parameters(model)
        seconds += time.perf_counter() - start
        if iteration % args.eval_every == 0 or iteration == args.iterations or seconds > 60 * args.minutes:
            scores = vos_channel_scores(model if ema is None else ema.module, validation, eval_size,
                                        motion_contrast=False)
            row = {"iteration": iteration, "train_minutes": seconds / 60, "loss": loss.item(),
                   **scores.as_row()}
            if ema is not None:
                raw = vos_channel_scores(model, validation, eval_size, motion_contrast=False)
                row.update({f"{key}_raw_weights": value for key, value in raw.as_row().items()})
            rows.append(row)
            print(f"it {iteration} {seconds / 60:.1f} min loss {loss.item():.3f} "
                  f"J best channel {scores.best_channel_j:.3f} (channel {scores.best_channel})", flush=True)
            atomic_write(out / "eval.csv", lambda handle: write_rows(handle, rows), binary=False)
        if seconds > 60 * args.minutes:
            break
    # an amdlib checkpoint, so that load_checkpoint and research/val_spread.py read it as they
    # read the AMD runs'; only the appearance pathway is trained (the motion pathway is as initialised)
    save_checkpoint(model if ema is None else ema.module, out / "checkpoint.pt", iteration=iteration)


if __name__ == "__main__":
    main()
