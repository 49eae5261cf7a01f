"""How much one frame's single cues tell the object on a synthetic preset, before any training.

A benchmark for emergence should be one where a frame reveals the object (as on real video,
where saliency works) without one low-level cue solving it. This script renders a preset's
DAVIS-layout validation videos in memory (the same bytes `generate_more_davis` writes, before
JPEG) and reports, on them:

- geometry: mean object area (fraction of the frame), fraction of frames whose object touches
  the border, and the centre prior's J (best centred disk, `amdlib.evaluation.centre_prior`);
- one-cue baselines: a pixel is called object when one cue exceeds (or falls below) a global
  threshold, threshold and direction chosen on the same videos (an oracle, so an upper bound of
  each cue): HSV saturation, colour distance from the frame's median colour, local gradient
  magnitude (sharpness), each smoothed with a Gaussian of sigma 2 px first.

J follows the DAVIS convention (mean over a video's frames, then over videos). Runs in about
a minute for 50 videos of 20 frames on one core.

    python research/benchmark_cues.py --data cpu --val-videos 50 [--out research/runs/cpu/cues/NAME.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a plain checkout too
sys.path.insert(0, str(Path(__file__).resolve().parent))

from amdlib.data.synthetic import render_item  # noqa: E402
from amdlib.evaluation.centre_prior import centre_prior_j  # noqa: E402
from amdlib.io.atomic import write_json  # noqa: E402
from emergence import synthetic_preset  # noqa: E402

CUES = ("saturation", "colour_distance", "gradient")
"""The single cues scored (see `cue_maps`)."""
QUANTILES = np.linspace(0.02, 0.98, 49)
"""Candidate thresholds: these quantiles of a cue's values over all frames."""


def cue_maps(frames: np.ndarray, smooth: float = 2.0) -> dict[str, np.ndarray]:
    """uint8 T,H,W,3 frames -> {cue: float32 T,H,W}: HSV saturation (max - min) / max, distance
    of each pixel's RGB from the frame's median colour, and gradient magnitude of the gray image,
    each Gaussian-smoothed with sigma `smooth` pixels (0 = not smoothed)."""
    rgb = frames.astype(np.float32) / 255.0
    high, low = rgb.max(-1), rgb.min(-1)
    saturation = (high - low) / np.maximum(high, 1e-6)
    median = np.median(rgb.reshape(len(rgb), -1, 3), axis=1)[:, None, None, :]
    distance = np.sqrt(((rgb - median) ** 2).sum(-1))
    gray = rgb.mean(-1)
    gradient = np.hypot(ndimage.sobel(gray, axis=1), ndimage.sobel(gray, axis=2))
    maps = {"saturation": saturation, "colour_distance": distance, "gradient": gradient}
    if smooth > 0:
        maps = {k: ndimage.gaussian_filter(v, (0, smooth, smooth)) for k, v in maps.items()}
    return {k: v.astype(np.float32) for k, v in maps.items()}


def davis_j(predictions: list[np.ndarray], truths: list[np.ndarray]) -> float:
    """J (DAVIS convention) of per-video bool T,H,W predictions against truths; a frame where
    both are empty scores 1."""
    per_video = []
    for prediction, truth in zip(predictions, truths):
        inter = (prediction & truth).reshape(len(truth), -1).sum(1)
        union = (prediction | truth).reshape(len(truth), -1).sum(1)
        per_video.append(np.where(union > 0, inter / np.maximum(union, 1), 1.0).mean())
    return float(np.mean(per_video))


def oracle_threshold_j(maps: list[np.ndarray], truths: list[np.ndarray],
                       quantiles: np.ndarray = QUANTILES) -> dict:
    """{"J", "threshold", "direction"}: the best J over global thresholds (quantiles of all the
    videos' T,H,W cue values) and both directions (">": object where the cue is above)."""
    values = np.concatenate([m.ravel() for m in maps])
    sample = values[:: max(1, len(values) // 200_000)]
    best = {"J": -1.0, "threshold": 0.0, "direction": ">"}
    for threshold in np.unique(np.quantile(sample, quantiles)):
        for direction in (">", "<"):
            predictions = [m > threshold if direction == ">" else m < threshold for m in maps]
            score = davis_j(predictions, truths)
            if score > best["J"]:
                best = {"J": score, "threshold": float(threshold), "direction": direction}
    return best


def geometry(truths: list[np.ndarray]) -> dict:
    """Mean object area fraction and fraction of frames whose object touches the border."""
    frames = np.concatenate(truths)
    border = frames[:, 0].any(1) | frames[:, -1].any(1) | frames[:, :, 0].any(1) | frames[:, :, -1].any(1)
    return {"area": float(frames.mean()), "border_contact": float(border.mean())}


def score_preset(preset: str, videos: int) -> dict:
    """Geometry, centre prior and the one-cue baselines on `videos` DAVIS-layout videos of `preset`."""
    config = synthetic_preset(preset)
    rendered = [render_item(config, "davis2016", i, config.davis_frames) for i in range(videos)]
    truths = [video.masks for video in rendered]
    result = {"preset": preset, "videos": videos, **geometry(truths),
              "centre_prior_J": centre_prior_j([torch.from_numpy(t) for t in truths])["J"]}
    per_video = [cue_maps(video.frames) for video in rendered]
    for cue in CUES:
        result[cue] = oracle_threshold_j([maps[cue] for maps in per_video], truths)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="cpu", help="synthetic preset (amdlib's or research's)")
    parser.add_argument("--val-videos", type=int, default=50, help="DAVIS-layout videos to score")
    parser.add_argument("--out", type=Path, help="write the result as JSON here too")
    args = parser.parse_args(argv)
    try:
        result = score_preset(args.data, args.val_videos)
    except (KeyError, ValueError) as error:
        parser.exit(2, f"benchmark_cues.py: {error}\n")
    cues = "  ".join(f"{cue} {result[cue]['J']:.3f}" for cue in CUES)
    print(f"{args.data}: area {result['area']:.3f}  border {result['border_contact']:.2f}  "
          f"centre prior {result['centre_prior_J']:.3f}  one cue: {cues}")
    if args.out:
        write_json(args.out, result)


if __name__ == "__main__":
    main()
