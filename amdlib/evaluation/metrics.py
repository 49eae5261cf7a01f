"""Segmentation metrics for the three evaluation protocols of docs/method.md section 6.

- Video object segmentation (docs/method.md section 6b): region similarity J (Jaccard index, IoU) and the DAVIS
  boundary F-measure per frame, summarised per sequence (mean, recall, decay as the DAVIS toolkit
  defines them) and over a set in two conventions that published tables mix up:
  the DAVIS one (mean over the frames of a sequence, then over sequences) and the frame-averaged
  one (mean over all frames of the set, usual for FBMS-59 and SegTrackv2); and the release's
  own score, a two-class mIoU pooled over the set (`pooled_two_class_miou`).
  A probability > 0.5 is foreground; every non-zero ground-truth label is foreground (multiple
  objects merged into one); only the frames handed in (the annotated ones) count.
- Zero-shot saliency (docs/method.md section 6a): max F-beta (beta^2 = 0.3, 256 thresholds), MAE, S-measure and
  E-measure with the definitions of PySODMetrics (the reference implementation of the salient
  object detection literature), reimplemented here so that amdlib does not depend on it.
- Semantic segmentation (docs/method.md section 6c): a confusion-matrix accumulator for mIoU over 21 classes with
  label 255 = void, and pixel accuracy.

Every function takes torch tensors or numpy arrays (they are converted to numpy, on the CPU) and
returns Python floats or numpy arrays, except `jaccard` and `channel_jaccard`, which stay in torch
because the training-time evaluation (amdlib.evaluation.channels) calls them on batches.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from scipy.ndimage import distance_transform_edt
from torch import Tensor

Array = np.ndarray | Tensor


def _numpy(x: Array) -> np.ndarray:
    """A numpy view of a tensor (detached, on the CPU) or the array itself."""
    if isinstance(x, Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


# ---------------------------------------------------------------------------------------------
# Region similarity J (docs/method.md section 6b)
# ---------------------------------------------------------------------------------------------


def jaccard(prediction: Tensor, truth: Tensor) -> Tensor:
    """J per item for boolean ...,H,W prediction and truth -> ... ; both empty counts as 1."""
    prediction, truth = prediction.bool(), truth.bool()
    intersection = (prediction & truth).flatten(-2).sum(-1).float()
    union = (prediction | truth).flatten(-2).sum(-1).float()
    return torch.where(union > 0, intersection / union.clamp(min=1), torch.ones_like(union))


def channel_jaccard(masks: Tensor, truth: Tensor, threshold: float = 0.5) -> Tensor:
    """J of every mask channel: B,c,h,w probabilities and B,H,W ground truth -> B,c.

    Masks are resized bilinearly to the ground truth's size before thresholding.
    """
    if masks.shape[-2:] != truth.shape[-2:]:
        masks = torch.nn.functional.interpolate(masks.float(), size=truth.shape[-2:], mode="bilinear",
                                                align_corners=False)
    return jaccard(masks > threshold, truth.unsqueeze(1))


def merge_objects(truth: Array) -> np.ndarray:
    """...,H,W bool foreground of a label map: every non-zero label (docs/method.md section 6b merges all objects).

    DAVIS-2016 masks are 0/255, DAVIS-2017, SegTrackv2 and FBMS masks carry one id per object; all
    of them become one foreground.
    """
    return _numpy(truth) != 0


def binarize(prediction: Array, threshold: float = 0.5) -> np.ndarray:
    """...,H,W bool mask: boolean input unchanged, probabilities foreground where > `threshold`."""
    prediction = _numpy(prediction)
    return prediction if prediction.dtype == bool else prediction > threshold


def frame_jaccard(prediction: Array, truth: Array, threshold: float = 0.5) -> np.ndarray:
    """J of every frame: T,H,W predictions (bool or probabilities) and T,H,W labels -> T floats.

    The docs/method.md section 6b conventions: probabilities > `threshold` are foreground, all objects merged, and a
    frame where both masks are empty scores 1 (as DAVIS's `db_eval_iou`).
    """
    prediction, truth = binarize(prediction, threshold), merge_objects(truth)
    _check_same_shape(prediction, truth)
    return jaccard(torch.from_numpy(prediction), torch.from_numpy(truth)).numpy().astype(np.float64)


def _check_same_shape(prediction: np.ndarray, truth: np.ndarray) -> None:
    if prediction.shape != truth.shape:
        raise ValueError(f"prediction {tuple(prediction.shape)} and truth {tuple(truth.shape)} differ in shape; "
                         "resize the prediction to the ground truth first")


# ---------------------------------------------------------------------------------------------
# DAVIS boundary F-measure (docs/method.md section 6b: "report DAVIS F (boundary) too")
# ---------------------------------------------------------------------------------------------

DAVIS_BOUND_TH = 0.008
"""DAVIS's boundary tolerance as a fraction of the image diagonal (`bound_th` of its toolkit)."""


def seg2bmap(mask: Array) -> np.ndarray:
    """H,W bool one-pixel-wide boundary of an H,W mask, as DAVIS's `seg2bmap`.

    A pixel is a boundary pixel where it differs from its right (east), bottom (south) or
    bottom-right (south-east) neighbour, pixels outside the image counting as background. On the
    last row only the right neighbour is compared, on the last column only the bottom one, and the
    bottom-right corner pixel is never a boundary pixel; so a mask that touches the right or bottom
    image border has no boundary along that border. The boundary of an n x n square is the ring of
    an (n+1) x (n+1) square shifted half a pixel up and left: 4n pixels.
    """
    seg = _numpy(mask).astype(bool)
    if seg.ndim != 2:
        raise ValueError(f"seg2bmap takes one H,W mask, got shape {seg.shape}")
    east, south, south_east = (np.zeros_like(seg) for _ in range(3))
    east[:, :-1] = seg[:, 1:]
    south[:-1, :] = seg[1:, :]
    south_east[:-1, :-1] = seg[1:, 1:]
    boundary = (seg ^ east) | (seg ^ south) | (seg ^ south_east)
    boundary[-1, :] = seg[-1, :] ^ east[-1, :]
    boundary[:, -1] = seg[:, -1] ^ south[:, -1]
    boundary[-1, -1] = False
    return boundary


def boundary_tolerance(shape: Sequence[int], bound_th: float = DAVIS_BOUND_TH) -> int:
    """Matching radius in pixels: `bound_th` itself when >= 1, else ceil(bound_th * image diagonal).

    DAVIS-2016 at 480x854: ceil(0.008 * 979.65) = 8 pixels.
    """
    if bound_th >= 1:
        return int(bound_th)
    height, width = shape[-2:]
    return int(math.ceil(bound_th * math.hypot(height, width)))


def _matched(boundary: np.ndarray, other: np.ndarray, radius: int) -> int:
    """How many pixels of `boundary` lie within the disk of `radius` around a pixel of `other`.

    Equals counting `boundary & binary_dilation(other, skimage.morphology.disk(radius))`, DAVIS's
    formulation (the disk is {(dy, dx): dy^2 + dx^2 <= radius^2}, and a pixel is in the dilation
    exactly when its Euclidean distance to `other` is <= radius), but costs one distance transform
    instead of a dilation by a (2r+1)^2 structuring element (17 x 17 at 480p).
    """
    distance = distance_transform_edt(~other)
    return int(np.count_nonzero(distance[boundary] <= radius))


def boundary_precision_recall(prediction: Array, truth: Array, bound_th: float = DAVIS_BOUND_TH,
                              threshold: float = 0.5) -> tuple[float, float]:
    """DAVIS boundary precision and recall of one H,W prediction against one H,W label map.

    Precision: fraction of the predicted boundary pixels (`seg2bmap`) within `boundary_tolerance`
    of a ground-truth boundary pixel; recall: the converse. DAVIS's conventions for empty
    boundaries: both empty -> (1, 1); no predicted boundary -> (1, 0); no true boundary -> (0, 1).
    """
    prediction, truth = binarize(prediction, threshold), merge_objects(truth)
    _check_same_shape(prediction, truth)
    predicted_boundary, true_boundary = seg2bmap(prediction), seg2bmap(truth)
    n_predicted, n_true = int(predicted_boundary.sum()), int(true_boundary.sum())
    if n_predicted == 0 or n_true == 0:
        return (1.0 if n_predicted == 0 else 0.0), (1.0 if n_true == 0 else 0.0)
    radius = boundary_tolerance(prediction.shape, bound_th)
    precision = _matched(predicted_boundary, true_boundary, radius) / n_predicted
    recall = _matched(true_boundary, predicted_boundary, radius) / n_true
    return precision, recall


def boundary_f(prediction: Array, truth: Array, bound_th: float = DAVIS_BOUND_TH, threshold: float = 0.5) -> float:
    """DAVIS boundary F-measure of one H,W frame: 2PR / (P + R), 0 when P + R = 0.

    With the empty-boundary conventions of `boundary_precision_recall`, both boundaries empty
    gives F = 1 and exactly one empty gives F = 0.
    """
    precision, recall = boundary_precision_recall(prediction, truth, bound_th, threshold)
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


# ---------------------------------------------------------------------------------------------
# Per-frame records and the two set-level conventions (docs/method.md section 6b)
# ---------------------------------------------------------------------------------------------


def davis_statistics(values: Iterable[float]) -> tuple[float, float, float]:
    """(mean, recall, decay) of one sequence's per-frame J or F, as the DAVIS toolkit defines them.

    recall: fraction of frames scoring > 0.5. decay: mean of the first quarter minus mean of the
    last quarter, the quarters being DAVIS's four bins: with N frames, bin edges
    ids = round(linspace(1, N, 5)) - 1 (halves rounded up, as MATLAB's round) and bin i =
    frames ids[i] .. ids[i+1] inclusive, so neighbouring bins share an edge frame.
    Positive decay means the score drops over the sequence. NaN for no frames.
    """
    values = np.asarray(list(values), dtype=np.float64)
    if values.size == 0:
        return math.nan, math.nan, math.nan
    edges = np.floor(np.linspace(1, values.size, 5) + 0.5).astype(int) - 1
    first, last = values[edges[0]:edges[1] + 1], values[edges[3]:edges[4] + 1]
    return float(values.mean()), float((values > 0.5).mean()), float(first.mean() - last.mean())


@dataclass(frozen=True)
class FrameScore:
    """J and F of one annotated frame; `f` is NaN when boundaries were not computed."""

    sequence: str
    frame: int
    j: float
    f: float = math.nan


@dataclass(frozen=True)
class SequenceScore:
    """DAVIS statistics (`davis_statistics`) of J and F over the evaluated frames of one sequence."""

    sequence: str
    frames: int
    j_mean: float
    j_recall: float
    j_decay: float
    f_mean: float
    f_recall: float
    f_decay: float


def score_sequence(name: str, prediction: Array, truth: Array, frames: Sequence[int] | None = None,
                   threshold: float = 0.5, boundary: bool = True,
                   bound_th: float = DAVIS_BOUND_TH) -> list[FrameScore]:
    """J (and DAVIS F when `boundary`) of every frame of one sequence.

    prediction: T,H,W bool masks or probabilities (> `threshold` is foreground) at the ground
    truth's size; truth: T,H,W label maps of the annotated frames only (objects merged);
    frames: the T frame indices for the record (default 0..T-1).
    """
    prediction, truth = binarize(prediction, threshold), merge_objects(truth)
    _check_same_shape(prediction, truth)
    frames = list(range(len(truth))) if frames is None else list(frames)
    if len(frames) != len(truth):
        raise ValueError(f"{len(frames)} frame indices for {len(truth)} frames")
    js = frame_jaccard(prediction, truth)
    fs = [boundary_f(p, t, bound_th) if boundary else math.nan for p, t in zip(prediction, truth)]
    return [FrameScore(name, int(i), float(j), float(f)) for i, j, f in zip(frames, js, fs)]


@dataclass
class VOSScores:
    """Per-frame J and F of a video object segmentation set, with both set-level conventions.

    `j_davis_mean` (DAVIS: mean over each sequence's frames, then over sequences) weighs every
    sequence equally; `j_frame_mean` (FBMS-59, SegTrackv2: mean over all frames of the set) weighs
    every annotated frame equally, so long sequences count more. The two differ whenever sequences
    have different numbers of annotated frames; docs/method.md section 6b tables must say which one they report.

    skip_first_last: leave out each sequence's first and last frame, as the official DAVIS
    toolkits do (the first frame is given in the semi-supervised task). Off by default: the
    unsupervised (zero-shot) protocol of docs/method.md section 6b scores every annotated frame.
    """

    skip_first_last: bool = False
    frames: list[FrameScore] = field(default_factory=list)

    def add(self, name: str, prediction: Array, truth: Array, frames: Sequence[int] | None = None,
            threshold: float = 0.5, boundary: bool = True, bound_th: float = DAVIS_BOUND_TH) -> list[FrameScore]:
        """Score one sequence (`score_sequence`) and keep its frames; returns them."""
        if any(score.sequence == name for score in self.frames):
            raise ValueError(f"sequence {name!r} was already added")
        scores = score_sequence(name, prediction, truth, frames, threshold, boundary, bound_th)
        self.frames.extend(scores)
        return scores

    def _by_sequence(self) -> dict[str, list[FrameScore]]:
        groups: dict[str, list[FrameScore]] = {}
        for score in self.frames:
            groups.setdefault(score.sequence, []).append(score)
        if self.skip_first_last:
            groups = {name: scores[1:-1] for name, scores in groups.items()}
        return groups

    def evaluated_frames(self) -> list[FrameScore]:
        """The frames that count (all, or all but each sequence's first and last)."""
        return [score for scores in self._by_sequence().values() for score in scores]

    def sequences(self) -> list[SequenceScore]:
        """`SequenceScore` of every sequence, in the order they were added."""
        rows = []
        for name, scores in self._by_sequence().items():
            j = davis_statistics(s.j for s in scores)
            f = davis_statistics(s.f for s in scores)
            rows.append(SequenceScore(name, len(scores), *j, *f))
        return rows

    def _davis_mean(self, attribute: str) -> float:
        values = [getattr(row, attribute) for row in self.sequences()]
        return float(np.mean(values)) if values else math.nan

    def _frame_mean(self, attribute: str) -> float:
        values = [getattr(score, attribute) for score in self.evaluated_frames()]
        return float(np.mean(values)) if values else math.nan

    @property
    def j_davis_mean(self) -> float:
        """J mean, DAVIS convention: mean over frames of each sequence, then over sequences."""
        return self._davis_mean("j_mean")

    @property
    def j_frame_mean(self) -> float:
        """J mean, frame-averaged convention: mean over all evaluated frames of the set."""
        return self._frame_mean("j")

    @property
    def f_davis_mean(self) -> float:
        """DAVIS boundary F, DAVIS convention (NaN when boundaries were not computed)."""
        return self._davis_mean("f_mean")

    @property
    def f_frame_mean(self) -> float:
        """DAVIS boundary F, frame-averaged convention."""
        return self._frame_mean("f")

    def summary(self) -> dict[str, float]:
        """Set-level numbers: both J and F conventions, and DAVIS recall and decay (means over sequences)."""
        return {"J_davis_mean": self.j_davis_mean, "J_frame_mean": self.j_frame_mean,
                "J_recall": self._davis_mean("j_recall"), "J_decay": self._davis_mean("j_decay"),
                "F_davis_mean": self.f_davis_mean, "F_frame_mean": self.f_frame_mean,
                "F_recall": self._davis_mean("f_recall"), "F_decay": self._davis_mean("f_decay"),
                "JF_davis_mean": (self.j_davis_mean + self.f_davis_mean) / 2,
                "sequences": len(self.sequences()), "frames": len(self.evaluated_frames())}

    def add_frames(self, name: str, frames: Sequence[int], j: Iterable[float], f: Iterable[float]) -> None:
        """Keep the already computed J and F of one sequence's frames (e.g. of a channel that a
        rule picked from per-channel scores, `amdlib.evaluation.channels.SequenceScores`)."""
        if any(score.sequence == name for score in self.frames):
            raise ValueError(f"sequence {name!r} was already added")
        self.frames.extend(FrameScore(name, int(i), float(a), float(b)) for i, a, b in zip(frames, j, f))

    def frame_rows(self) -> list[dict]:
        """One dict per evaluated frame (sequence, frame, j, f), e.g. for `pandas.DataFrame`."""
        return [asdict(score) for score in self.evaluated_frames()]

    def sequence_rows(self) -> list[dict]:
        """One dict per sequence (`SequenceScore` fields)."""
        return [asdict(row) for row in self.sequences()]


# ---------------------------------------------------------------------------------------------
# The release's VOS metric: two-class mIoU pooled over a dataset (docs/method.md section 6)
# ---------------------------------------------------------------------------------------------


def foreground_counts(prediction: Array, truth: Array, threshold: float = 0.5) -> np.ndarray:
    """...,3 int64 (true positive, false positive, false negative) pixel counts of every H,W
    frame of ...,H,W predictions (bool or probabilities > `threshold`) and label maps."""
    prediction, truth = binarize(prediction, threshold), merge_objects(truth)
    _check_same_shape(prediction, truth)
    hit = (prediction & truth).sum((-2, -1))
    return np.stack([hit, prediction.sum((-2, -1)) - hit, truth.sum((-2, -1)) - hit], -1).astype(np.int64)


def pooled_two_class_miou(counts: Array, pixels: Array) -> float:
    """The release's VOS score: mean of the background and foreground IoU of one confusion
    matrix summed over every frame of every sequence (not a per-frame or per-sequence mean).

    counts: ...,3 (TP, FP, FN) per frame (`foreground_counts`); pixels: the frames' pixel counts
    (a scalar or one per frame). A class absent from both truth and prediction everywhere is left
    out of the mean, as a ConfusionMatrix's NaN IoU; NaN for no pixels.
    """
    counts = _numpy(counts).reshape(-1, 3).astype(np.int64)
    pixels = np.broadcast_to(_numpy(pixels).astype(np.int64), counts.shape[:1])
    tp, fp, fn = counts.sum(0)
    tn = int(pixels.sum()) - tp - fp - fn
    confusion = ConfusionMatrix(num_classes=2, ignore_index=None)
    confusion.matrix[:] = [[tn, fp], [fn, tp]]
    return confusion.miou()


# ---------------------------------------------------------------------------------------------
# Saliency (docs/method.md section 6a), PySODMetrics definitions
# ---------------------------------------------------------------------------------------------

SOD_EPS = float(np.spacing(1))
"""MATLAB's eps (2.2e-16), which the saliency formulas add to their denominators."""
SOD_BETA2 = 0.3
"""beta^2 of the saliency F-measure (PySODMetrics calls it `beta`)."""
NUM_THRESHOLDS = 256


def saliency_map(prediction: Array, min_max: bool = True) -> np.ndarray:
    """H,W float64 saliency map in [0, 1] as the saliency benchmarks read one.

    uint8 maps (saved PNGs) are divided by 255, float maps must already lie in [0, 1]. With
    `min_max`, the map is stretched to span [0, 1] (unless constant), as PySODMetrics'
    `prepare_data` (MATLAB's mapminmax) does to every map it reads: published DUTS numbers include
    this stretching, so it is on by default.
    """
    prediction = _numpy(prediction)
    if prediction.dtype == np.uint8:
        prediction = prediction / 255.0
    prediction = prediction.astype(np.float64)
    if prediction.size and (prediction.min() < 0 or prediction.max() > 1):
        raise ValueError("saliency maps must lie in [0, 1] (or be uint8 in 0..255)")
    low, high = (prediction.min(), prediction.max()) if prediction.size else (0.0, 0.0)
    if min_max and high > low:
        prediction = (prediction - low) / (high - low)
    return prediction


def saliency_truth(truth: Array) -> np.ndarray:
    """H,W bool ground truth: bool unchanged, uint8 0..255 masks > 128 (PySODMetrics), others > 0.5."""
    truth = _numpy(truth)
    if truth.dtype == bool:
        return truth
    return truth > 128 if truth.dtype == np.uint8 else truth > 0.5


def _saliency_pair(prediction: Array, truth: Array) -> tuple[np.ndarray, np.ndarray]:
    prediction, truth = saliency_map(prediction, min_max=False), saliency_truth(truth)
    _check_same_shape(prediction, truth)
    return prediction, truth


def mae(prediction: Array, truth: Array) -> float:
    """Mean absolute error between an H,W saliency map in [0, 1] and the binary ground truth."""
    prediction, truth = _saliency_pair(prediction, truth)
    return float(np.mean(np.abs(prediction - truth)))


def _counts_at_thresholds(prediction: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(true positives, predicted positives) for thresholds t = 0..255 (index t).

    The map is quantised as the benchmarks do, floor(255 p) (a uint8 cast), and a pixel is
    predicted salient at threshold t when its quantised value is >= t; t = 0 selects every pixel.
    """
    quantised = np.floor(prediction * 255).astype(np.int64)
    true_positives = _at_or_above(quantised[truth])
    return true_positives, true_positives + _at_or_above(quantised[~truth])


def _at_or_above(values: np.ndarray) -> np.ndarray:
    """256 counts: how many of the integer `values` (0..255) are >= t, for t = 0..255."""
    return np.bincount(values, minlength=NUM_THRESHOLDS)[::-1].cumsum()[::-1]


def precision_recall_curve(prediction: Array, truth: Array) -> tuple[np.ndarray, np.ndarray]:
    """256 precisions and recalls of one H,W map, at thresholds 0..255 (ascending).

    With PySODMetrics' zero conventions: precision 0 where nothing is predicted, recall 0 for an
    empty ground truth. (PySODMetrics orders its curves by descending threshold; maxima and means
    do not depend on the order.)
    """
    prediction, truth = _saliency_pair(prediction, truth)
    true_positives, predicted = _counts_at_thresholds(prediction, truth)
    return true_positives / np.maximum(predicted, 1), true_positives / max(int(truth.sum()), 1)


def f_beta(precision: np.ndarray | float, recall: np.ndarray | float, beta2: float = SOD_BETA2) -> np.ndarray:
    """(1 + beta^2) P R / (beta^2 P + R), elementwise; 0 where P R = 0."""
    precision, recall = np.asarray(precision, dtype=np.float64), np.asarray(recall, dtype=np.float64)
    numerator = (1 + beta2) * precision * recall
    return numerator / np.where(numerator == 0, 1.0, beta2 * precision + recall)


def adaptive_threshold(prediction: np.ndarray) -> float:
    """The saliency benchmarks' per-image threshold: twice the map's mean, at most 1."""
    return min(2 * float(prediction.mean()), 1.0)


def adaptive_f_beta(prediction: Array, truth: Array, beta2: float = SOD_BETA2) -> float:
    """F-beta of the map binarised at `adaptive_threshold` (map >= threshold); 0 with no true positive."""
    prediction, truth = _saliency_pair(prediction, truth)
    binary = prediction >= adaptive_threshold(prediction)
    hits = int(np.count_nonzero(binary & truth))
    if hits == 0:
        return 0.0
    return float(f_beta(hits / np.count_nonzero(binary), hits / np.count_nonzero(truth), beta2))


def _s_object(values: np.ndarray) -> float:
    """Fan et al. 2017's object similarity of a region: 2 mean / (mean^2 + 1 + std + eps), std with ddof 1."""
    mean = float(values.mean())
    std = float(values.std(ddof=1)) if values.size > 1 else 0.0
    return 2 * mean / (mean**2 + 1 + std + SOD_EPS)


def _s_region_ssim(prediction: np.ndarray, truth: np.ndarray) -> float:
    """SSIM-like similarity of one quadrant (no constants; sample variances over N - 1 + eps).

    1 where both the covariance term and the luminance-contrast term vanish (e.g. two constant
    blocks). An empty quadrant (weight 0) scores 0; PySODMetrics would give NaN there.
    """
    n = prediction.size
    if n == 0:
        return 0.0
    truth = truth.astype(np.float64)
    x, y = prediction.mean(), truth.mean()
    sigma_x = ((prediction - x) ** 2).sum() / (n - 1 + SOD_EPS)
    sigma_y = ((truth - y) ** 2).sum() / (n - 1 + SOD_EPS)
    sigma_xy = ((prediction - x) * (truth - y)).sum() / (n - 1 + SOD_EPS)
    numerator = 4 * x * y * sigma_xy
    denominator = (x**2 + y**2) * (sigma_x + sigma_y)
    if numerator != 0:
        return float(numerator / (denominator + SOD_EPS))
    return 1.0 if denominator == 0 else 0.0


def _s_region(prediction: np.ndarray, truth: np.ndarray) -> float:
    """Region-aware term: split at the truth's foreground centroid into four quadrants, area-weighted SSIM.

    The centroid (row, column) is the mean foreground coordinate rounded with numpy's round (half to
    even, as PySODMetrics; MATLAB's rounds halves up), plus one; quadrants are [:cy, :cx],
    [:cy, cx:], [cy:, :cx], [cy:, cx:].
    """
    height, width = truth.shape
    area = height * width
    cy, cx = (int(c) + 1 for c in np.argwhere(truth).mean(axis=0).round())
    weights = (cy * cx / area, cy * (width - cx) / area, (height - cy) * cx / area)
    weights += (1 - sum(weights),)
    blocks = ((slice(0, cy), slice(0, cx)), (slice(0, cy), slice(cx, width)),
              (slice(cy, height), slice(0, cx)), (slice(cy, height), slice(cx, width)))
    return sum(w * _s_region_ssim(prediction[b], truth[b]) for w, b in zip(weights, blocks))


def s_measure(prediction: Array, truth: Array, alpha: float = 0.5) -> float:
    """Structure measure (Fan et al., ICCV 2017) as PySODMetrics' `Smeasure`.

    Special cases: an all-background truth gives 1 - mean(map), an all-foreground truth mean(map).
    Otherwise max(0, alpha * S_object + (1 - alpha) * S_region), where S_object is the
    foreground-area-weighted `_s_object` of the map on the foreground and of 1 - map on the
    background, and S_region the quadrant SSIM of `_s_region`.
    """
    prediction, truth = _saliency_pair(prediction, truth)
    foreground = float(truth.mean())
    if foreground == 0:
        return float(1 - prediction.mean())
    if foreground == 1:
        return float(prediction.mean())
    s_object = foreground * _s_object(prediction[truth]) + (1 - foreground) * _s_object(1 - prediction[~truth])
    return float(max(0.0, alpha * s_object + (1 - alpha) * _s_region(prediction, truth)))


def _enhanced_alignment(true_positives: np.ndarray, predicted: np.ndarray, truth_area: int, size: int) -> np.ndarray:
    """E-measure of binary predictions from their counts (Fan et al., IJCAI 2018).

    With phi the mean-removed binary maps, the alignment of a pixel is 2 phi_p phi_g / (phi_p^2 +
    phi_g^2 + eps), enhanced to (1 + alignment)^2 / 4; it takes one value in each of the four
    (predicted, true) foreground/background parts, so the sum over pixels is four products.
    Normalised by size - 1 + eps as the MATLAB original (a perfect map scores size / (size - 1)).
    Degenerate truths: all background -> number of predicted background pixels, all foreground
    -> number of predicted foreground pixels, over the same normaliser.
    """
    true_positives = true_positives.astype(np.float64)
    predicted = predicted.astype(np.float64)
    if truth_area == 0:
        total = size - predicted
    elif truth_area == size:
        total = predicted
    else:
        false_positives = predicted - true_positives
        false_negatives = truth_area - true_positives
        true_negatives = size - predicted - false_negatives
        mean_prediction, mean_truth = predicted / size, truth_area / size
        total = np.zeros_like(predicted)
        for count, p, g in ((true_positives, 1, 1), (false_positives, 1, 0), (false_negatives, 0, 1),
                            (true_negatives, 0, 0)):
            phi_p, phi_g = p - mean_prediction, g - mean_truth
            alignment = 2 * phi_p * phi_g / (phi_p**2 + phi_g**2 + SOD_EPS)
            total = total + count * (alignment + 1) ** 2 / 4
    return total / (size - 1 + SOD_EPS)


def e_measure_curve(prediction: Array, truth: Array) -> np.ndarray:
    """256 E-measures of one H,W map binarised at thresholds 0..255 (ascending; as `_counts_at_thresholds`)."""
    prediction, truth = _saliency_pair(prediction, truth)
    true_positives, predicted = _counts_at_thresholds(prediction, truth)
    return _enhanced_alignment(true_positives, predicted, int(truth.sum()), truth.size)


def adaptive_e_measure(prediction: Array, truth: Array) -> float:
    """E-measure of the map binarised at `adaptive_threshold` (map >= threshold)."""
    prediction, truth = _saliency_pair(prediction, truth)
    binary = prediction >= adaptive_threshold(prediction)
    true_positives = np.array([np.count_nonzero(binary & truth)])
    predicted = np.array([np.count_nonzero(binary)])
    return float(_enhanced_alignment(true_positives, predicted, int(truth.sum()), truth.size)[0])


@dataclass(frozen=True)
class SaliencyScores:
    """Dataset-level saliency numbers (docs/method.md section 6a); every per-image quantity is averaged over images.

    max_f: PySODMetrics' max F (`Fmeasure` `curve` max): per-image F-beta curves over the 256
    thresholds, averaged over images, maximum over thresholds. mean_f: the mean of that curve.
    max_f_mean_pr: the other convention found in older benchmark code: F-beta of the
    image-averaged precision and recall curves, maximum over thresholds. The two differ (either
    can be larger); compare a published number only with the one its code computes.
    adaptive_f: per-image F at twice the map's mean (`adaptive_threshold`).
    max_e, mean_e: maximum and mean over thresholds of the image-averaged E-measure curve
    (PySODMetrics' `Emeasure` `curve`); adaptive_e: per-image E at the adaptive threshold.
    mae, s_measure: per-image values averaged over images.
    """

    images: int
    max_f: float
    mean_f: float
    adaptive_f: float
    max_f_mean_pr: float
    mae: float
    s_measure: float
    max_e: float
    mean_e: float
    adaptive_e: float


class SaliencyMetrics:
    """Accumulates the docs/method.md section 6a saliency metrics over a dataset, one image at a time.

    `update(prediction, truth)` takes one H,W saliency map (float in [0, 1], or uint8 0..255) and
    its H,W ground truth (see `saliency_truth`); maps are min-max stretched first when `min_max`
    (see `saliency_map`). Only sums of per-image curves are kept, so memory does not grow with the
    dataset beyond one float per image per scalar metric (`per_image`).
    """

    def __init__(self, beta2: float = SOD_BETA2, alpha: float = 0.5, min_max: bool = True) -> None:
        self.beta2, self.alpha, self.min_max = beta2, alpha, min_max
        self.images = 0
        self.f_sum = np.zeros(NUM_THRESHOLDS)
        self.precision_sum = np.zeros(NUM_THRESHOLDS)
        self.recall_sum = np.zeros(NUM_THRESHOLDS)
        self.e_sum = np.zeros(NUM_THRESHOLDS)
        self.per_image: dict[str, list[float]] = {"mae": [], "s_measure": [], "adaptive_f": [], "adaptive_e": []}

    def update(self, prediction: Array, truth: Array) -> None:
        prediction, truth = saliency_map(prediction, self.min_max), saliency_truth(truth)
        _check_same_shape(prediction, truth)
        precision, recall = precision_recall_curve(prediction, truth)
        self.precision_sum += precision
        self.recall_sum += recall
        self.f_sum += f_beta(precision, recall, self.beta2)
        self.e_sum += e_measure_curve(prediction, truth)
        self.per_image["mae"].append(mae(prediction, truth))
        self.per_image["s_measure"].append(s_measure(prediction, truth, self.alpha))
        self.per_image["adaptive_f"].append(adaptive_f_beta(prediction, truth, self.beta2))
        self.per_image["adaptive_e"].append(adaptive_e_measure(prediction, truth))
        self.images += 1

    def f_curve(self) -> np.ndarray:
        """Image-averaged F-beta at thresholds 0..255."""
        return self.f_sum / max(self.images, 1)

    def e_curve(self) -> np.ndarray:
        """Image-averaged E-measure at thresholds 0..255."""
        return self.e_sum / max(self.images, 1)

    def scores(self) -> SaliencyScores:
        if self.images == 0:
            raise ValueError("no image was added")
        n = self.images
        f_curve, e_curve = self.f_curve(), self.e_curve()
        f_of_mean_pr = f_beta(self.precision_sum / n, self.recall_sum / n, self.beta2)
        means = {name: float(np.mean(values)) for name, values in self.per_image.items()}
        return SaliencyScores(images=n, max_f=float(f_curve.max()), mean_f=float(f_curve.mean()),
                              adaptive_f=means["adaptive_f"], max_f_mean_pr=float(f_of_mean_pr.max()),
                              mae=means["mae"], s_measure=means["s_measure"], max_e=float(e_curve.max()),
                              mean_e=float(e_curve.mean()), adaptive_e=means["adaptive_e"])


# ---------------------------------------------------------------------------------------------
# Semantic segmentation (docs/method.md section 6c)
# ---------------------------------------------------------------------------------------------


class ConfusionMatrix:
    """Pixel confusion matrix accumulated over a dataset, for mIoU and pixel accuracy (docs/method.md section 6c).

    `matrix[t, p]` counts pixels of true class t predicted as p; pixels labelled `ignore_index`
    (PASCAL VOC's void boundary label, 255) are skipped whatever was predicted there. IoU of class
    k = TP / (TP + FP + FN) from the dataset-wide counts (not averaged per image); classes with no
    pixel in either truth or prediction have IoU NaN and are left out of the mean.
    """

    def __init__(self, num_classes: int = 21, ignore_index: int | None = 255) -> None:
        self.num_classes, self.ignore_index = num_classes, ignore_index
        self.matrix = np.zeros((num_classes, num_classes), dtype=np.int64)

    def reset(self) -> None:
        self.matrix[:] = 0

    def update(self, prediction: Array, truth: Array) -> None:
        """Add ...,H,W integer predictions and labels (any matching shape, e.g. H,W or B,H,W)."""
        prediction, truth = _numpy(prediction).astype(np.int64), _numpy(truth).astype(np.int64)
        _check_same_shape(prediction, truth)
        valid = truth != self.ignore_index if self.ignore_index is not None else np.ones_like(truth, dtype=bool)
        prediction, truth = prediction[valid], truth[valid]
        k = self.num_classes
        for name, labels in (("truth", truth), ("prediction", prediction)):
            if labels.size and (labels.min() < 0 or labels.max() >= k):
                raise ValueError(f"{name} has labels outside 0..{k - 1} (ignore_index={self.ignore_index})")
        self.matrix += np.bincount(truth * k + prediction, minlength=k * k).reshape(k, k)

    def per_class_iou(self) -> np.ndarray:
        """num_classes IoUs; NaN for classes absent from both truth and prediction."""
        true_positives = np.diag(self.matrix).astype(np.float64)
        union = self.matrix.sum(0) + self.matrix.sum(1) - true_positives
        return np.divide(true_positives, union, out=np.full_like(true_positives, np.nan), where=union > 0)

    def miou(self) -> float:
        """Mean IoU over the classes present in truth or prediction (nanmean of `per_class_iou`)."""
        iou = self.per_class_iou()
        return float(np.nanmean(iou)) if np.isfinite(iou).any() else math.nan

    def pixel_accuracy(self) -> float:
        """Fraction of non-void pixels labelled correctly."""
        total = self.matrix.sum()
        return float(np.trace(self.matrix) / total) if total else math.nan
