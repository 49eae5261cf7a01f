"""What a single frame can tell: J of a perfect "every shape" segmenter on the DAVIS-layout set.

The appearance pathway sees one frame. If the static distractors look like the moving objects
(same shape families, same texture sources), the best it can do from one frame is to segment
every shape, objects and distractors alike. This script renders the synthetic DAVIS-layout
validation videos with their layer maps and scores that segmenter against the ground truth
(the moving object only), at the evaluation size (64x64) and through the `cpu` model's 16x16
mask resolution, beside a perfect object segmenter at 16x16 (the resolution's own ceiling).

    python research/appearance_ceiling.py                        # the cpu preset as it is
    python research/appearance_ceiling.py --textures any any     # objects, distractors from every source
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a plain checkout too

from amdlib.data.synthetic import SyntheticConfig, render_item  # noqa: E402
from amdlib.evaluation.vos_metrics import jaccard  # noqa: E402


def through_resolution(mask: np.ndarray, size: int, mask_size: int | None) -> torch.Tensor:
    """bool H,W -> bool size,size: area-resized, optionally via a mask_size grid (bilinear up)."""
    x = torch.from_numpy(mask.astype(np.float32))[None, None]
    if mask_size is not None:
        x = F.interpolate(x, (mask_size, mask_size), mode="area")
        return F.interpolate(x, (size, size), mode="bilinear", align_corners=False)[0, 0] > 0.5
    return F.interpolate(x, (size, size), mode="area")[0, 0] > 0.5


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--textures", nargs=2, metavar=("OBJECTS", "DISTRACTORS"),
                        help="texture pools (any, color, gray); default: the preset's")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--mask-size", type=int, default=16)
    args = parser.parse_args(argv)
    config = SyntheticConfig.profile(args.preset)
    if args.textures:
        config = config.replace(scene=dataclasses.replace(
            config.scene, object_textures=args.textures[0], distractor_textures=args.textures[1]))
    scores = {"every shape": [], f"every shape at {args.mask_size}x{args.mask_size}": [],
              f"the object at {args.mask_size}x{args.mask_size}": []}
    with_distractor = 0
    for index in range(config.davis_videos):
        video = render_item(config, "davis2016", index, config.davis_frames)
        with_distractor += bool(video.distractors.any())
        for truth, shapes in zip(video.masks, video.owner >= 0):
            target = through_resolution(truth, args.size, None)
            for name, mask in zip(scores, (through_resolution(shapes, args.size, None),
                                           through_resolution(shapes, args.size, args.mask_size),
                                           through_resolution(truth, args.size, args.mask_size))):
                scores[name].append(float(jaccard(mask, target)))
    scene = config.scene
    print(f"{args.preset} DAVIS-layout set: {config.davis_videos} videos, {with_distractor} with a visible "
          f"distractor; textures: objects {scene.object_textures}, distractors {scene.distractor_textures}")
    for name, values in scores.items():
        print(f"  J of a perfect segmenter of {name}: {np.mean(values):.3f}")


if __name__ == "__main__":
    main()
