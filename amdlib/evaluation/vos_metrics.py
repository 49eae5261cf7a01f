"""Video object segmentation metrics (docs/method.md section 6b) and the release's pooled mIoU.

Region similarity J (Jaccard index, IoU) and the DAVIS boundary F-measure per frame, summarised
per sequence (mean, recall, decay as the DAVIS toolkit defines them) and over a set in two
conventions that published tables mix up: the DAVIS one (mean over the frames of a sequence,
then over sequences) and the frame-averaged one (mean over all frames of the set, usual for
FBMS-59 and SegTrackv2); and the release's own score, a two-class mIoU pooled over the set
(`pooled_two_class_miou`). A probability > 0.5 is foreground; every non-zero ground-truth label
is foreground (multiple objects merged into one); only the frames handed in (the annotated ones)
count.

Every function takes torch tensors or numpy arrays (they are converted to numpy, on the CPU) and
returns Python floats or numpy arrays, except `jaccard` and `channel_jaccard`, which stay in torch
because the training-time evaluation (amdlib.evaluation.channels) calls them on batches.
The saliency metrics are in `saliency_metrics`, the semantic segmentation ones in
`segmentation_metrics`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from scipy.ndimage import distance_transform_edt
from torch import Tensor

from ._arrays import Array, as_numpy, check_same_shape
from .segmentation_metrics import ConfusionMatrix


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
    return as_numpy(truth) != 0


def binarize(prediction: Array, threshold: float = 0.5) -> np.ndarray:
    """...,H,W bool mask: boolean input unchanged, probabilities foreground where > `threshold`."""
    prediction = as_numpy(prediction)
    return prediction if prediction.dtype == bool else prediction > threshold


def frame_jaccard(prediction: Array, truth: Array, threshold: float = 0.5) -> np.ndarray:
    """J of every frame: T,H,W predictions (bool or probabilities) and T,H,W labels -> T floats.

    The docs/method.md section 6b conventions: probabilities > `threshold` are foreground, all objects merged, and a
    frame where both masks are empty scores 1 (as DAVIS's `db_eval_iou`).
    """
    prediction, truth = binarize(prediction, threshold), merge_objects(truth)
    check_same_shape(prediction, truth)
    return jaccard(torch.from_numpy(prediction), torch.from_numpy(truth)).numpy().astype(np.float64)


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
    seg = as_numpy(mask).astype(bool)
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
    check_same_shape(prediction, truth)
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
    check_same_shape(prediction, truth)
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
    check_same_shape(prediction, truth)
    hit = (prediction & truth).sum((-2, -1))
    return np.stack([hit, prediction.sum((-2, -1)) - hit, truth.sum((-2, -1)) - hit], -1).astype(np.int64)


def pooled_two_class_miou(counts: Array, pixels: Array) -> float:
    """The release's VOS score: mean of the background and foreground IoU of one confusion
    matrix summed over every frame of every sequence (not a per-frame or per-sequence mean).

    counts: ...,3 (TP, FP, FN) per frame (`foreground_counts`); pixels: the frames' pixel counts
    (a scalar or one per frame). A class absent from both truth and prediction everywhere is left
    out of the mean, as a ConfusionMatrix's NaN IoU; NaN for no pixels.
    """
    counts = as_numpy(counts).reshape(-1, 3).astype(np.int64)
    pixels = np.broadcast_to(as_numpy(pixels).astype(np.int64), counts.shape[:1])
    tp, fp, fn = counts.sum(0)
    tn = int(pixels.sum()) - tp - fp - fn
    confusion = ConfusionMatrix(num_classes=2, ignore_index=None)
    confusion.matrix[:] = [[tn, fp], [fn, tp]]
    return confusion.miou()
