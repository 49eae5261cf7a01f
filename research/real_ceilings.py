"""Issue 38, gate 0: what the `cpu` appearance network learns from real frames when it is TOLD the masks.

Two references for AMD on the real DAVIS-2016 dev sequences, in AMD's iteration budget (1,611
steps of 8 pairs = 16 frames, 64x64 crops of frames at short side 96, the profile's zoom and flips,
lr 3e-4, a 0.995 weight average), scored exactly as research/real_video.py scores AMD (frames at
64x112, J per sequence, channel 1 = object):

    # (a) with labels, leave one sequence out: train on the labelled frames of 4 dev sequences,
    #     score the 5th; five folds
    python research/real_ceilings.py labels
    # (b) with the classical motion baseline's masks of the 15 training clips as targets
    #     (motion pseudo-labels, no human labels), scored on all 5 dev sequences
    python research/real_ceilings.py motion

Only the appearance pathway is trained (per-pixel cross-entropy of its c = 2 masks). Writes
research/runs/cpu/real/ceiling_<which>/scores.csv (one row per scored sequence).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a plain checkout too
sys.path.insert(0, str(ROOT / "research"))

from amdlib.config import profile as named_profile  # noqa: E402
from amdlib.data import DAVIS2016  # noqa: E402
from amdlib.data.transforms import PairTransform, resize_images  # noqa: E402
from amdlib.data.videos import VideoFolderPairs  # noqa: E402
from amdlib.evaluation.baselines import motion_segmentation  # noqa: E402
from amdlib.evaluation.channels import rule_scores  # noqa: E402
from amdlib.evaluation.vos import score_sequence_amd  # noqa: E402
from amdlib.model.amd import AMD  # noqa: E402
from real_video import INPUT_SIZE, OUT, SHARED, clip_folder, write_rows  # noqa: E402


def supervised_loss(masks: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of B,2,h,w soft masks against B,H,W truth in [0,1] (channel 1 = object)."""
    truth = F.interpolate(truth[:, None].float(), size=masks.shape[-2:], mode="area")[:, 0]
    return -(truth * masks[:, 1].clamp_min(1e-6).log() + (1 - truth) * masks[:, 0].clamp_min(1e-6).log()).mean()


def fit(groups: list[tuple[torch.Tensor, torch.Tensor]], seed: int, iterations: int) -> AMD:
    """The profile's AMD with its appearance pathway trained on groups (one per video) of uint8
    N,3,H,W frames and bool N,H,W targets: `iterations` steps of 16 frames drawn uniformly from all
    groups' frames, each zoomed, cropped and flipped as AMD's pairs are."""
    items = [(g, i) for g, (frames, _) in enumerate(groups) for i in range(len(frames))]
    settings = named_profile("cpu")
    config = settings.train
    transform = PairTransform(config.short_side, config.scale_min, config.crop_size, config.flip)
    torch.manual_seed(seed)
    model = AMD(settings.model)
    optimizer = torch.optim.Adam(model.appearance.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(config.ema_decay), use_buffers=True)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    began = time.perf_counter()
    for iteration in range(1, iterations + 1):
        picks = torch.randint(len(items), (2 * config.batch_size,), generator=generator).tolist()
        batch = [transform(groups[g][0][i:i + 1], generator, groups[g][1][i:i + 1])
                 for g, i in (items[p] for p in picks)]
        images = torch.cat([b[0] for b in batch])
        truth = torch.cat([b[1] for b in batch])
        loss = supervised_loss(model.appearance(images), truth)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        ema.update_parameters(model)
        if iteration % 200 == 0 or iteration == iterations:
            print(f"  it {iteration} loss {loss.item():.3f} ({time.perf_counter() - began:.0f} s)", flush=True)
    return ema.module.eval()


def score(model: AMD, sequences: list) -> list[dict]:
    rows = []
    for sequence in sequences:
        scores = score_sequence_amd(model, sequence, INPUT_SIZE, sequence.truth(), boundary=False)
        for rule, channel in (("fixed", 1), ("oracle_frame", 0)):
            frames, _ = rule_scores([scores], rule, channel)
            rows.append({"sequence": sequence.name, "rule": rule, "J": frames.sequences()[0].j_mean})
        print(f"  {sequence.name}: J channel 1 {rows[-2]['J']:.3f}, oracle {rows[-1]['J']:.3f}", flush=True)
    return rows


def sequence_frames(sequence, short_side: int) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 N,3,H,W frames (short side `short_side`) and bool N,H,W masks of the annotated frames."""
    frames = torch.stack([sequence.frame(i) for i in sequence.annotated])
    height, width = frames.shape[-2:]
    size = (short_side, round(width * short_side / height)) if height <= width else \
        (round(height * short_side / width), short_side)
    frames = resize_images(frames, size)
    truth = F.interpolate(sequence.truth()[:, None].float(), size=size, mode="area")[:, 0] > 0.5
    return (frames * 255).round().to(torch.uint8), truth


def cmd_labels(args: argparse.Namespace) -> None:
    sequences = list(DAVIS2016(args.davis, split=None))
    data = {s.name: sequence_frames(s, named_profile("cpu").train.short_side) for s in sequences}
    rows = []
    for held in sequences:
        print(f"fold: score {held.name}, train on the other {len(sequences) - 1}", flush=True)
        model = fit([data[s.name] for s in sequences if s.name != held.name], args.seed, args.iterations)
        rows += [{"fold": held.name, **row} for row in score(model, [held])]
        write_rows(out_folder("labels", args.seed) / "scores.csv", rows)


def cmd_motion(args: argparse.Namespace) -> None:
    config = named_profile("cpu").train
    pairs = VideoFolderPairs(clip_folder([Path(p) for p in args.clips]), gap=config.frame_gap,
                             short_side=config.short_side, crop=config.crop_size)
    groups = []
    began = time.perf_counter()
    for clip in pairs.clips:
        video = clip.frames.float() / 255
        maps = motion_segmentation(video) > 0.5
        groups.append((clip.frames, maps))
        print(f"  {clip.name}: {len(video)} frames, motion mask {maps.float().mean():.1%} of the frame", flush=True)
    print(f"motion pseudo-labels of {sum(len(f) for f, _ in groups)} frames in {time.perf_counter() - began:.0f} s")
    model = fit(groups, args.seed, args.iterations)
    rows = score(model, list(DAVIS2016(args.davis, split=None)))
    write_rows(out_folder("motion", args.seed) / "scores.csv", rows)


def out_folder(which: str, seed: int) -> Path:
    folder = OUT / f"ceiling_{which}_s{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("which", choices=["labels", "motion"])
    parser.add_argument("--iterations", type=int, default=1611)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--davis", default=str(SHARED / "DAVIS2016-dev"))
    parser.add_argument("--clips", nargs="+", default=[str(SHARED / "videos"), str(SHARED / "unlabeled")])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    {"labels": cmd_labels, "motion": cmd_motion}[args.which](args)


if __name__ == "__main__":
    main()
