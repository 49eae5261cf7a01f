"""The centre prior: the low-level baseline every task is scored beside.

Objects in photographs and videos tend to sit in the middle of the frame, so a centred shape
with no knowledge of the image is the floor a segmenter must beat: a centred disk for video
object segmentation (its radius chosen on the evaluated set, `centre_prior_j`) and a centred
Gaussian for saliency maps.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..data.davis import VOSSequence
from ..data.io import image_size
from .vos_metrics import jaccard


def gaussian_centre_prior(height: int, width: int, sigma: float = 0.35) -> Tensor:
    """float32 H,W in (0, 1]: exp(-(x^2 + y^2) / (2 sigma^2)) with x, y in [-1, 1] across the frame."""
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, height), torch.linspace(-1, 1, width), indexing="ij")
    return torch.exp(-(xs**2 + ys**2) / (2 * sigma**2))


def centre_disk(height: int, width: int, radius: float) -> Tensor:
    """H,W bool disk centred in the frame, radius as a fraction of the shorter side."""
    ys = torch.arange(height, dtype=torch.float32).view(-1, 1) - (height - 1) / 2
    xs = torch.arange(width, dtype=torch.float32).view(1, -1) - (width - 1) / 2
    return (ys**2 + xs**2).sqrt() <= radius * min(height, width)


CENTRE_RADII = tuple(r / 20 for r in range(1, 15))
"""Radii (fractions of the shorter side) the centre prior's disk is chosen from."""


def centre_radius_scores(truth: Tensor, radii: tuple[float, ...] = CENTRE_RADII) -> Tensor:
    """len(radii) J (mean over the frames) of a centred disk of each radius, for one sequence's
    T,H,W bool ground truth: what fitting the radius needs, from the truth alone."""
    return torch.stack([jaccard(centre_disk(*truth.shape[-2:], r).expand_as(truth), truth).mean() for r in radii])


def best_centre_radius(per_sequence: list[Tensor], radii: tuple[float, ...] = CENTRE_RADII) -> dict:
    """{"radius", "J"}: the radius whose J, averaged over sequences (`centre_radius_scores` of
    each), is highest; the first such radius on a tie."""
    best = {"radius": 0.0, "J": -1.0}
    for index, radius in enumerate(radii):
        score = torch.stack([scores[index] for scores in per_sequence]).mean().item()
        if score > best["J"]:
            best = {"radius": radius, "J": score}
    return best


def centre_prior_j(truths: list[Tensor], radii: tuple[float, ...] = CENTRE_RADII) -> dict:
    """J (DAVIS convention) of the best centred disk, the radius chosen on the same data."""
    return best_centre_radius([centre_radius_scores(t, radii) for t in truths], radii)


def centre_prior(height: int, width: int, radius: float) -> Tensor:
    """float32 H,W in {0,1}: the centred disk of `centre_disk` as a probability map
    (radius a fraction of the shorter side; `centre_prior_j` finds the best radius)."""
    return centre_disk(height, width, radius).float()


def centre_prior_masks(sequence: VOSSequence, radius: float) -> Tensor:
    """float32 T,H,W: the centre prior at every annotated frame of `sequence` (T = len(annotated)),
    sized from the image headers, so it scores on the same frames as the other methods."""
    indices = sequence.annotated
    if not indices:
        raise ValueError(f"{sequence.name}: no annotated frames")
    sizes = {image_size(sequence.frames[i]) for i in indices}
    if len(sizes) > 1:
        raise ValueError(f"{sequence.name}: annotated frames differ in size: {sorted(sizes)}")
    height, width = sizes.pop()
    return centre_prior(height, width, radius).expand(len(indices), height, width).clone()
