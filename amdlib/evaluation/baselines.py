"""Classical motion segmentation, the baseline scored beside AMD in the same harness.

Both produce foreground maps in [0,1] shaped like the ground truth (T,H,W), so the same metric
code scores them as AMD's masks (threshold 0.5, `amdlib.evaluation.vos_metrics.jaccard`, or `SequenceMasks` with
one channel for `amdlib.evaluation.channels.channel_scores`).

- Classical motion segmentation (`motion_segmentation`, `segment_sequence_motion`): the
  comparison the paper's field uses. Before self-supervised models, zero-shot video object
  segmentation meant "what moves differently from the camera": dense optical flow between
  neighbouring frames, a global background (camera) motion fitted robustly, and the residual
  motion thresholded. It needs no training at all, so AMD's masks are worth something only where
  they beat it; it fails where the assumptions fail (parallax of a 3-D background, objects that
  stop, textureless regions), which is exactly where learned objectness should help.
- Centre prior: a centred shape that never looks at the pixels, in its own module
  (`amdlib.evaluation.centre_prior`).

The motion pipeline, per frame t of a video (partner frame t+1, or t-1 for the last frame):

1. flow t -> partner with OpenCV's DIS (default; `method="farneback"` as an option), on grey
   uint8 images;
2. a homography (or affine map) from grid points x to x + flow(x), fitted with RANSAC, is the
   camera's motion; too few points or a failed fit fall back to the median flow (a translation);
3. residual = |flow - background displacement| in pixels;
4. threshold tau: the larger of Otsu's threshold on the residuals and a floor
   (`min_residual`, a fraction of the shorter side); or a fixed fraction of the shorter side;
5. soft map p = r^k / (r^k + tau^k): 0 where nothing moves, exactly 0.5 at the threshold, -> 1
   for motion far above it; then optional grey opening / closing, which commute with the 0.5
   threshold, so `p > 0.5` is the cleaned binary mask.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from skimage.filters import threshold_otsu
from torch import Tensor

from ..data.davis import VOSSequence
from ..data.io import image_size
from ..data.transforms import resize_images
from .channels import SequenceMasks

__all__ = [
    "MotionSettings", "background_displacement", "fit_background", "motion_segmentation", "motion_sequence_masks",
    "optical_flow", "residual_threshold", "segment_sequence_motion", "soft_foreground",
]

FLOW_METHODS = ("dis", "farneback")
MOTION_MODELS = ("homography", "affine")
DIS_PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
               "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}
MIN_POINTS = {"homography": 4, "affine": 3}
"""Correspondences a model needs at the very least; below this the translation fallback is used."""


@dataclass(frozen=True)
class MotionSettings:
    """Parameters of the classical motion segmentation; lengths are fractions of the shorter side
    of the frame (so a setting means the same at 64x64 and at 480p) unless the name says px."""

    method: str = "dis"
    """Dense optical flow: "dis" (OpenCV's DIS: fast, good on large motion through its coarse-to-
    fine patch search) or "farneback" (polynomial expansion; smoother, slower, weaker on large
    motion)."""
    dis_preset: str = "medium"
    """DIS speed / quality preset: "ultrafast", "fast" or "medium"."""
    model: str = "homography"
    """Background motion: "homography" (a planar scene or a rotating camera: pan, tilt, zoom,
    perspective) or "affine" (fewer degrees of freedom, safer on small or noisy frames)."""
    grid: int = 40
    """Correspondences for the fit are sampled on a grid of about grid x grid points (fewer on
    small frames): plenty for RANSAC and cheap, unlike all H*W pixels."""
    ransac_threshold: float = 0.005
    """RANSAC inlier distance as a fraction of the shorter side, never below 0.5 px (flow noise):
    2.4 px at 480p. Object points move several px off the background model; a tighter value
    rejects background points under parallax, a looser one lets a large object bend the fit."""
    threshold: str | float = "otsu"
    """"otsu": tau = max(Otsu's threshold on this frame's residuals, `min_residual`): adapts to how
    fast the object moves in each frame, while the floor keeps static or purely camera-moving
    frames empty (Otsu alone always splits, even pure noise). A number: a fixed tau as a fraction
    of the shorter side (e.g. 0.01 = 4.8 px at 480p)."""
    min_residual: float = 0.004
    """Floor of the Otsu rule, a fraction of the shorter side, never below 0.5 px: residual motion
    slower than this is treated as flow noise (about 1.9 px per frame at 480p)."""
    sharpness: float = 4.0
    """Exponent k of the soft map r^k / (r^k + tau^k): larger -> harder map, same 0.5 mask."""
    open_radius: float = 0.01
    """Grey opening radius (removes specks thinner than about 2 radii); 0 switches it off."""
    close_radius: float = 0.0
    """Grey closing radius (fills small holes, e.g. textureless object interiors); 0 = off."""

    def __post_init__(self) -> None:
        if self.method not in FLOW_METHODS:
            raise ValueError(f"method must be one of {FLOW_METHODS}, got {self.method!r}")
        if self.dis_preset not in DIS_PRESETS:
            raise ValueError(f"dis_preset must be one of {tuple(DIS_PRESETS)}, got {self.dis_preset!r}")
        if self.model not in MOTION_MODELS:
            raise ValueError(f"model must be one of {MOTION_MODELS}, got {self.model!r}")
        if isinstance(self.threshold, str):
            if self.threshold != "otsu":
                raise ValueError(f"threshold must be 'otsu' or a positive number, got {self.threshold!r}")
        elif not self.threshold > 0:
            raise ValueError(f"a fixed threshold must be > 0, got {self.threshold}")
        if self.grid < 2:
            raise ValueError(f"grid must be >= 2, got {self.grid}")
        for name in ("ransac_threshold", "min_residual", "sharpness"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("open_radius", "close_radius"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


def _settings(settings: MotionSettings | None, options: dict) -> MotionSettings:
    """`settings` (default: the defaults) with keyword `options` changed."""
    return replace(settings or MotionSettings(), **options)


def to_gray(frame: Tensor) -> np.ndarray:
    """float 3,H,W in [0,1] -> uint8 H,W luma (BT.601 weights), what OpenCV's flow methods take."""
    weights = torch.tensor([0.299, 0.587, 0.114], dtype=torch.float32).view(3, 1, 1)
    luma = (frame.float().clamp(0, 1) * weights).sum(0)
    return (luma * 255).round().to(torch.uint8).numpy()


def optical_flow(first: np.ndarray, second: np.ndarray, method: str = "dis", dis_preset: str = "medium") -> np.ndarray:
    """Dense flow between two uint8 H,W grey images -> float32 H,W,2 (dx, dy) in px:
    `first` at (x, y) matches `second` at (x + dx, y + dy)."""
    if first.shape != second.shape:
        raise ValueError(f"frames differ in size: {first.shape} vs {second.shape}")
    if method == "dis":
        if max(first.shape) < 12:
            raise ValueError(f"DIS flow needs a frame side of at least 12 px, got {first.shape}; "
                             f"use method='farneback' or larger frames")
        # A fresh object per call: DIS keeps internal state sized to the last input.
        return cv2.DISOpticalFlow_create(DIS_PRESETS[dis_preset]).calc(first, second, None)
    if method == "farneback":
        # Pyramid down to about 16 px, so motion up to roughly a tenth of the frame is caught.
        levels = max(1, int(math.log2(max(min(first.shape), 16) / 16)) + 1)
        window = max(5, (min(first.shape) // 32) | 1)
        return cv2.calcOpticalFlowFarneback(first, second, None, pyr_scale=0.5, levels=levels, winsize=window,
                                            iterations=3, poly_n=5, poly_sigma=1.1, flags=0)
    raise ValueError(f"method must be one of {FLOW_METHODS}, got {method!r}")


def _grid_points(height: int, width: int, grid: int) -> np.ndarray:
    """N,2 float32 (x, y) pixel centres on a regular grid of about grid x grid points."""
    step = max(1, min(height, width) // grid)
    ys, xs = np.mgrid[step // 2:height:step, step // 2:width:step]
    return np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32)


def _translation(dx: float, dy: float) -> np.ndarray:
    return np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], dtype=np.float64)


def fit_background(flow: np.ndarray, model: str = "homography", grid: int = 40,
                   ransac_threshold: float = 0.005) -> tuple[np.ndarray, bool]:
    """Camera motion from a H,W,2 flow -> (3,3 matrix mapping x to x + flow(x), fitted).

    `fitted` is False when the translation fallback (median flow: robust to an object covering
    less than half the frame) was used: fewer usable points than the model needs, or RANSAC
    returned nothing or a degenerate (non-finite, nearly singular) matrix.
    """
    height, width = flow.shape[:2]
    source = _grid_points(height, width, grid)
    moved = flow[source[:, 1].astype(int), source[:, 0].astype(int)]
    usable = np.isfinite(moved).all(1)
    source, target = source[usable], source[usable] + moved[usable]
    if len(source) == 0:
        return _translation(0.0, 0.0), False
    fallback = _translation(*np.median(target - source, 0).tolist())
    if len(source) < MIN_POINTS[model]:
        return fallback, False
    tolerance = max(0.5, ransac_threshold * min(height, width))
    if model == "homography":
        matrix, _ = cv2.findHomography(source, target, cv2.RANSAC, tolerance, maxIters=2000, confidence=0.995)
    else:
        affine, _ = cv2.estimateAffine2D(source, target, method=cv2.RANSAC, ransacReprojThreshold=tolerance,
                                         maxIters=2000, confidence=0.995)
        matrix = None if affine is None else np.vstack([affine, [0, 0, 1]])
    if matrix is None or not np.isfinite(matrix).all() or abs(np.linalg.det(matrix[:2, :2])) < 1e-3:
        return fallback, False
    return matrix.astype(np.float64), True


def background_displacement(matrix: np.ndarray, height: int, width: int) -> np.ndarray:
    """float32 H,W,2: where the background model moves every pixel, minus where it started."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    points = np.stack([xs, ys, np.ones_like(xs)], -1) @ matrix.T
    scale = points[..., 2:]
    # A point mapped to infinity by the homography: no sensible displacement; call it static.
    safe = np.abs(scale) > 1e-6
    moved = np.where(safe, points[..., :2] / np.where(safe, scale, 1.0), np.stack([xs, ys], -1))
    return (moved - np.stack([xs, ys], -1)).astype(np.float32)


def residual_threshold(residual: np.ndarray, threshold: str | float = "otsu", min_residual: float = 0.004) -> float:
    """tau in px for a H,W residual magnitude map (rules in `MotionSettings.threshold`)."""
    short = min(residual.shape)
    floor = max(0.5, min_residual * short)
    if threshold != "otsu":
        return float(threshold) * short
    values = residual[np.isfinite(residual)]
    if values.size == 0 or values.max() - values.min() < 1e-6:
        return floor
    return max(floor, float(threshold_otsu(values)))


def soft_foreground(residual: np.ndarray, tau: float, sharpness: float = 4.0) -> np.ndarray:
    """float32 H,W in [0,1): r^k / (r^k + tau^k), written stably as 1 / (1 + (tau/r)^k)."""
    ratio = tau / np.maximum(residual, 1e-12)
    with np.errstate(over="ignore"):
        return (1.0 / (1.0 + ratio.astype(np.float64) ** sharpness)).astype(np.float32)


def _structuring(radius: float, height: int, width: int) -> np.ndarray | None:
    pixels = int(round(radius * min(height, width)))
    return None if pixels < 1 else cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1, 2 * pixels + 1))


def clean_up(probability: np.ndarray, open_radius: float = 0.01, close_radius: float = 0.0) -> np.ndarray:
    """Grey opening then closing of a H,W float map with flat disks.

    Grey morphology with a flat element is a min / max filter, which commutes with thresholding:
    (opened map) > 0.5 equals the binary opening of (map > 0.5). So the soft map stays consistent
    with the cleaned mask.
    """
    for radius, operation in ((open_radius, cv2.MORPH_OPEN), (close_radius, cv2.MORPH_CLOSE)):
        kernel = _structuring(radius, *probability.shape)
        if kernel is not None:
            probability = cv2.morphologyEx(probability, operation, kernel, borderType=cv2.BORDER_REPLICATE)
    return probability


def _frame_map(first: np.ndarray, second: np.ndarray, settings: MotionSettings) -> np.ndarray:
    """float32 H,W foreground map of `first` from the flow towards `second` (module docstring)."""
    flow = optical_flow(first, second, settings.method, settings.dis_preset)
    matrix, _ = fit_background(flow, settings.model, settings.grid, settings.ransac_threshold)
    residual = np.linalg.norm(flow - background_displacement(matrix, *flow.shape[:2]), axis=-1)
    tau = residual_threshold(residual, settings.threshold, settings.min_residual)
    return clean_up(soft_foreground(residual, tau, settings.sharpness), settings.open_radius, settings.close_radius)


def _partner(index: int, length: int) -> int:
    """The frame the flow of `index` goes to: the next one, the previous one for the last frame."""
    return index + 1 if index + 1 < length else index - 1


def motion_segmentation(frames: Tensor, settings: MotionSettings | None = None, **options) -> Tensor:
    """Foreground maps of a video by classical motion segmentation.

    frames: float T,3,H,W in [0,1], T >= 2 (motion needs two frames). Keyword `options` change
    fields of `settings` (`MotionSettings`), e.g. `method="farneback", model="affine"`.
    Returns float32 T,H,W in [0,1]; `> 0.5` is the motion mask. A video where nothing moves
    relative to the camera model gives empty masks.
    """
    if frames.dim() != 4 or frames.shape[1] != 3:
        raise ValueError(f"frames must be T,3,H,W, got shape {tuple(frames.shape)}")
    if frames.shape[0] < 2:
        raise ValueError(f"motion segmentation needs at least 2 frames (optical flow between neighbours), "
                         f"got {frames.shape[0]}")
    settings = _settings(settings, options)
    gray = [to_gray(frame) for frame in frames.detach().cpu()]
    maps = [_frame_map(gray[t], gray[_partner(t, len(gray))], settings) for t in range(len(gray))]
    return torch.from_numpy(np.stack(maps))


def _load_gray(sequence: VOSSequence, index: int, size: tuple[int, int] | None) -> np.ndarray:
    frame = sequence.frame(index)
    if size is not None and tuple(frame.shape[-2:]) != size:
        frame = resize_images(frame[None], size)[0]
    return to_gray(frame)


def segment_sequence_motion(sequence: VOSSequence, indices: list[int] | None = None, scale: float = 1.0,
                            settings: MotionSettings | None = None, **options) -> Tensor:
    """Motion segmentation of a `VOSSequence` -> float32 len(indices),H,W at the frames' own size.

    indices: the frames to segment (default all; e.g. `sequence.annotated` for sparse ground
    truth); each also needs its flow partner, so frames are decoded one at a time and kept as grey
    uint8 (a 480p sequence never sits in memory as floats). scale < 1 computes flow on frames
    resized by that factor (4x fewer pixels per halving: the residual rule is relative to the frame
    size, so the settings mean the same), and the maps are resized back bilinearly.
    """
    if len(sequence) < 2:
        raise ValueError(f"{sequence.name}: motion segmentation needs at least 2 frames, got {len(sequence)}")
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], got {scale}")
    settings = _settings(settings, options)
    indices = list(range(len(sequence))) if indices is None else list(indices)
    height, width = image_size(sequence.frames[indices[0]]) if indices else (0, 0)
    size = None if scale == 1 else (max(8, round(height * scale)), max(8, round(width * scale)))
    cache: dict[int, np.ndarray] = {}

    def gray(index: int) -> np.ndarray:
        if index not in cache:
            if len(cache) > 4:  # indices ascend in normal use: keep only the last few frames
                cache.pop(min(cache))
            cache[index] = _load_gray(sequence, index, size)
        return cache[index]

    maps = []
    for index in indices:
        probability = torch.from_numpy(_frame_map(gray(index), gray(_partner(index, len(sequence))), settings))
        if size is not None:
            probability = F.interpolate(probability[None, None], size=(height, width), mode="bilinear",
                                        align_corners=False)[0, 0].clamp(0, 1)
        maps.append(probability)
    return torch.stack(maps) if maps else torch.zeros(0, height, width)


def motion_sequence_masks(sequences, scale: float = 1.0, settings: MotionSettings | None = None,
                          **options) -> list[SequenceMasks]:
    """Motion segmentation of every annotated frame of every sequence, shaped as the results of
    `amdlib.evaluation.predict.segment_sequences` with one channel (masks T,1,H,W), so
    `channel_scores(...)` scores it beside the centre prior exactly as it scores AMD."""
    results = []
    for sequence in sequences:
        masks = segment_sequence_motion(sequence, sequence.annotated, scale, settings, **options)
        results.append(SequenceMasks(sequence.name, masks.unsqueeze(1), sequence.truth()))
    return results
