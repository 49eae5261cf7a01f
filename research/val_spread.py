"""How much does the emergence J depend on WHICH validation videos? A larger DAVIS-layout set.

The `cpu` preset's DAVIS-layout validation set has 10 videos. Every video of the generator is
drawn from its own random stream (seed, dataset, index), so generating the same preset with
`davis_videos=N` gives a set whose first 10 videos ARE the committed validation set and whose
other videos are new draws from the same distribution. This script evaluates trained checkpoints
on such a set, in blocks of 10 videos and on all of them, with every channel rule of
`amdlib.evaluation.channels.channel_scores`, plus the realistic protocol: the fixed channel chosen on the
committed 10 videos (with labels), applied to all N.

    python research/val_spread.py runs/cpu/checkpoint.pt research/runs/cpu/*/checkpoint.pt
    python research/val_spread.py --videos 50 committed=runs/cpu/checkpoint.pt

Writes <out>/spread.{csv,md} (one row per checkpoint and block), <out>/summary.{csv,md} (one
row per checkpoint) and <out>/videos.csv (one row per checkpoint and video: the object's area,
each channel's J and area, the oracle, the motion-contrast channel, and which share of each
channel's mask lies on a static distractor: the layer maps are not in the DAVIS-layout files, so
they are re-rendered from the generator), to see which videos fail and how.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a plain checkout too

from amdlib.config import profile  # noqa: E402
from amdlib.io.atomic import atomic_write  # noqa: E402
from amdlib.io.checkpoint import load_checkpoint  # noqa: E402
from amdlib.data import DAVIS2016, SyntheticConfig, generate_more_davis  # noqa: E402
from amdlib.data.synthetic import davis_video_index, render_item  # noqa: E402
from amdlib.evaluation.channels import channel_scores  # noqa: E402
from amdlib.evaluation.predict import attach_motion_channels, segment_sequences  # noqa: E402
from amdlib.evaluation.vos_metrics import jaccard  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", nargs="+", help="PATH or LABEL=PATH (label: the parent folder's name)")
    parser.add_argument("--preset", default="cpu", help="synthetic preset whose DAVIS-layout set is extended")
    parser.add_argument("--videos", type=int, default=50, help="videos in the extended set")
    parser.add_argument("--block", type=int, default=None,
                        help="videos per block (default: the preset's davis_videos, i.e. the committed set)")
    parser.add_argument("--data-root", default="data/generated")
    parser.add_argument("--eval-size", type=int, default=profile("cpu").eval_size[0],
                        help="frames resized to this (square; default: the cpu profile's eval_size)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "runs" / "cpu" / "val_spread"))
    return parser.parse_args(argv)


def labelled(spec: str) -> tuple[str, Path]:
    """'LABEL=PATH' or 'PATH' -> (label, path); the default label is the checkpoint's folder."""
    if "=" in spec:
        label, path = spec.split("=", 1)
        return label, Path(path)
    return Path(spec).resolve().parent.name, Path(spec)


def extended_set(preset: str, videos: int, data_root: str | Path) -> tuple[Path, int]:
    """Generate (once) the preset's DAVIS-layout set with `videos` videos -> (folder, the
    preset's own number of videos, i.e. how many of the first videos are the committed set)."""
    folder = generate_more_davis(Path(data_root) / preset, preset, videos)
    return folder, SyntheticConfig.profile(preset).davis_videos


def spread_rows(label: str, results, block: int, committed: int) -> tuple[list[dict], dict]:
    """Scores of one checkpoint's masks: a row per block of `block` videos, and a summary row
    over all videos that also applies the channel chosen on the first `committed` videos."""
    rows = []
    for start in range(0, len(results), block):
        scores = channel_scores(results[start:start + block])
        rows.append({"run": label, "videos": f"{start}-{min(start + block, len(results)) - 1}",
                     "J_best_fixed": scores.best_channel_j, "best_channel": scores.best_channel,
                     "J_motion_contrast_video": scores.motion_contrast_j, "J_oracle_frame": scores.oracle_j,
                     "J_centre_prior": scores.centre_prior_j})
    everything, first = channel_scores(results), channel_scores(results[:committed])
    block_j = pd.Series([row["J_best_fixed"] for row in rows])
    summary = {"run": label, "videos": len(results), f"J_best_fixed_first{committed}": first.best_channel_j,
               "J_channel_of_first_videos_on_all": everything.per_channel[first.best_channel],
               "J_best_fixed_all": everything.best_channel_j, "best_channel_all": everything.best_channel,
               "J_motion_contrast_all": everything.motion_contrast_j, "J_oracle_all": everything.oracle_j,
               "J_centre_prior_all": everything.centre_prior_j,
               "block_J_best_fixed_min": block_j.min(), "block_J_best_fixed_max": block_j.max()}
    return rows, summary


def distractor_pixels(config: str | SyntheticConfig, results) -> dict[str, torch.Tensor]:
    """Per video name, bool T,H,W: the pixels of a static distractor (covered by a layer that is
    not a moving object), re-rendered from the generator (a preset's name or a config). The
    rendered ground truth must equal the files' (same video, same frames), else the set was made
    otherwise and this says so."""
    config = SyntheticConfig.profile(config) if isinstance(config, str) else config
    maps = {}
    for result in results:
        video = render_item(config, "davis2016", davis_video_index(result.name), config.davis_frames)
        if video.masks.shape != tuple(result.truth.shape) or not np.array_equal(video.masks, result.truth.numpy()):
            raise ValueError(f"{result.name}: the generator does not re-render this video's ground truth "
                             f"(a set generated with another seed or preset?)")
        maps[result.name] = torch.from_numpy(video.distractors)
    return maps


def video_rows(label: str, results, threshold: float = 0.5,
               distractors: dict[str, torch.Tensor] | None = None) -> list[dict]:
    """One row per video: its object's mean area (fraction of the frame), each channel's J and
    mean area (mask > threshold), the per-frame oracle's J, and the label-free motion-contrast
    channel with its J when attached. With `distractors` (`distractor_pixels`): the distractors'
    mean area and, per channel, the share of its mask pixels (all frames) that lie on one and the
    share of the distractor pixels that it covers."""
    rows = []
    for result in results:
        masks = result.masks > threshold  # T,c,H,W
        j = jaccard(masks, result.truth.unsqueeze(1))  # T,c
        area = masks.float().mean((2, 3)).mean(0)  # c
        row = {"run": label, "video": result.name, "object_area": result.truth.float().mean().item()}
        if distractors is not None:
            on_distractor = distractors[result.name]  # T,H,W
            distractor_count = on_distractor.sum().item()
            row["distractor_area"] = on_distractor.float().mean().item()
        for k in range(j.shape[1]):
            row[f"J_channel_{k}"] = j[:, k].mean().item()
            row[f"area_channel_{k}"] = area[k].item()
            if distractors is not None:
                overlap, pixels = (masks[:, k] & on_distractor).sum().item(), masks[:, k].sum().item()
                row[f"on_distractor_channel_{k}"] = overlap / pixels if pixels else float("nan")
                row[f"distractor_covered_channel_{k}"] = (overlap / distractor_count if distractor_count
                                                          else float("nan"))
        row["J_oracle_frame"] = j.max(1).values.mean().item()
        if result.motion_channel is not None:
            row["motion_channel"] = result.motion_channel
            row["J_motion_contrast"] = j[:, result.motion_channel].mean().item()
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    from amdlib.reports.tables import write_table

    folder, committed = extended_set(args.preset, args.videos, args.data_root)
    block = args.block or committed
    sequences = list(DAVIS2016(folder))
    size = (args.eval_size, args.eval_size)
    rows, summaries, videos, distractors = [], [], [], None
    for spec in args.checkpoints:
        label, path = labelled(spec)
        model = load_checkpoint(path)
        results = segment_sequences(model, sequences, size)
        attach_motion_channels(model, sequences, results, size)
        block_rows, summary = spread_rows(label, results, block, committed)
        rows += block_rows
        summaries.append(summary)
        distractors = distractors if distractors is not None else distractor_pixels(args.preset, results)
        videos += video_rows(label, results, distractors=distractors)
        print(pd.DataFrame(block_rows).to_string(index=False, float_format="{:.3f}".format), flush=True)
        write_table(pd.DataFrame(rows), Path(args.out) / "spread")  # after each: nothing computed is lost
        write_table(pd.DataFrame(summaries), Path(args.out) / "summary")
        atomic_write(Path(args.out) / "videos.csv", lambda handle: pd.DataFrame(videos).to_csv(handle, index=False),
                     binary=False)
    print(pd.DataFrame(summaries).to_string(index=False, float_format="{:.3f}".format))


if __name__ == "__main__":
    main()
