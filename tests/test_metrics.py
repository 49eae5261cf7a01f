"""amdlib.evaluation.vos_metrics, saliency_metrics and segmentation_metrics against hand-computed
cases (docs/method.md section 6), and against PySODMetrics where installed.

Expected numbers are derived in the comments from the definitions, not from running the code.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.ndimage import binary_dilation
from skimage.morphology import disk

from amdlib.evaluation.saliency_metrics import (SaliencyMetrics, adaptive_e_measure, adaptive_f_beta, e_measure_curve,
                                              mae, precision_recall_curve, s_measure, saliency_map)
from amdlib.evaluation.segmentation_metrics import ConfusionMatrix
from amdlib.evaluation.vos_metrics import (VOSScores, boundary_f, boundary_precision_recall, boundary_tolerance,
                                         davis_statistics, frame_jaccard, seg2bmap)

# ---------------------------------------------------------------------------------------------
# J and the two set-level conventions (docs/method.md section 6b)
# ---------------------------------------------------------------------------------------------


def test_frame_jaccard_thresholds_merges_objects_and_scores_empty_frames_as_one():
    probabilities = np.array([[[0.9, 0.6, 0.5],
                               [0.1, 0.0, 0.0]],
                              [[0.0, 0.0, 0.0],
                               [0.0, 0.0, 0.0]]])
    labels = np.array([[[1, 0, 0],
                        [2, 0, 0]],  # two objects, merged into one foreground
                       [[0, 0, 0],
                        [0, 0, 0]]])
    # Frame 0: predicted {(0,0), (0,1)} (0.5 is not > 0.5), truth {(0,0), (1,0)}: 1 shared of 3 -> 1/3.
    # Frame 1: both empty -> 1 (DAVIS's db_eval_iou).
    np.testing.assert_allclose(frame_jaccard(probabilities, labels), [1 / 3, 1.0])
    np.testing.assert_allclose(frame_jaccard(torch.from_numpy(probabilities), torch.from_numpy(labels)), [1 / 3, 1.0])
    with pytest.raises(ValueError, match="shape"):
        frame_jaccard(probabilities[:, :1], labels)


def square(size: int, top: int, left: int, side: int, frames: int | None = None) -> np.ndarray:
    mask = np.zeros((size, size), dtype=bool)
    mask[top:top + side, left:left + side] = True
    return mask if frames is None else np.repeat(mask[None], frames, axis=0)


def test_davis_and_frame_averaged_conventions_differ_on_an_uneven_set():
    scores = VOSScores()
    truth = square(20, 5, 5, 5)
    # "short": 1 frame, perfect -> J = 1, F = 1.
    scores.add("short", truth[None].astype(np.float32), truth[None].astype(np.uint8) * 255)
    # "long": 3 frames (indices 0, 5, 10), empty prediction -> J = 0 and F = 0 (no predicted boundary).
    scores.add("long", np.zeros((3, 20, 20)), truth[None].repeat(3, 0), frames=[0, 5, 10])
    # DAVIS: mean over sequences of per-sequence means = (1 + 0) / 2; frame-averaged: 1 of 4 frames.
    assert scores.j_davis_mean == pytest.approx(0.5)
    assert scores.j_frame_mean == pytest.approx(0.25)
    assert scores.f_davis_mean == pytest.approx(0.5)
    assert scores.f_frame_mean == pytest.approx(0.25)
    assert [(row["sequence"], row["frame"], row["j"]) for row in scores.frame_rows()] == [
        ("short", 0, 1.0), ("long", 0, 0.0), ("long", 5, 0.0), ("long", 10, 0.0)]
    rows = scores.sequence_rows()
    assert [(row["sequence"], row["frames"], row["j_mean"]) for row in rows] == [("short", 1, 1.0), ("long", 3, 0.0)]
    summary = scores.summary()
    assert summary["sequences"] == 2 and summary["frames"] == 4 and summary["JF_davis_mean"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="already"):
        scores.add("short", truth[None], truth[None])


def test_skip_first_last_keeps_only_the_inner_frames():
    truth = square(10, 2, 2, 4, frames=4)
    prediction = truth.copy()
    prediction[[0, 3]] = False  # J = [0, 1, 1, 0]
    everything, davis_official = VOSScores(), VOSScores(skip_first_last=True)
    for scores in (everything, davis_official):
        scores.add("seq", prediction, truth, boundary=False)
    assert everything.j_davis_mean == pytest.approx(0.5)
    assert davis_official.j_davis_mean == pytest.approx(1.0) and len(davis_official.frame_rows()) == 2
    assert math.isnan(everything.f_davis_mean)  # boundaries not computed


def test_davis_recall_and_decay():
    # 8 frames: bin edges round(linspace(1, 8, 5)) - 1 = round(1, 2.75, 4.5, 6.25, 8) - 1 = (0, 2, 4, 5, 7);
    # first bin frames 0..2 (mean 0.8), last bin frames 5..7 (mean 0.3): decay 0.5.
    # Recall: J > 0.5 in 4 of 8 frames (0.5 itself does not count).
    values = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]
    mean, recall, decay = davis_statistics(values)
    assert (mean, recall, decay) == pytest.approx((0.55, 0.5, 0.5))
    # 7 frames: linspace(1, 7, 5) = (1, 2.5, 4, 5.5, 7) rounds halves up (MATLAB) to (1, 3, 4, 6, 7): edges
    # (0, 2, 3, 5, 6). First bin frames 0..2 = (1, 1, 0) -> 2/3, last bin frames 5..6 -> 0: decay 2/3.
    # (Rounding halves to even would give the first bin 0..1 and decay 1.)
    assert davis_statistics([1, 1, 0, 0, 0, 0, 0])[2] == pytest.approx(2 / 3)
    assert davis_statistics([0.7])[2] == 0.0
    assert all(math.isnan(v) for v in davis_statistics([]))


# ---------------------------------------------------------------------------------------------
# seg2bmap and the DAVIS boundary F-measure
# ---------------------------------------------------------------------------------------------


def test_seg2bmap_marks_the_ring_shifted_up_left():
    mask = np.array([[0, 0, 0, 0, 0],
                     [0, 1, 1, 0, 0],
                     [0, 1, 1, 0, 0],
                     [0, 0, 0, 0, 0],
                     [0, 0, 0, 0, 0]])
    # A pixel is boundary where it differs from its east, south or south-east neighbour:
    # row 0: (0,0) vs SE (1,1); (0,1) vs S; (0,2) vs S (and SE = (1,3) = 0 -> differs too from S).
    # row 1: (1,0) vs E; (1,1) vs SE? no (1 = (2,2)); E (1,2) = 1, S (2,1) = 1 -> not boundary;
    #        (1,2) vs E (1,3) = 0 -> boundary.
    # row 2: (2,0) vs E; (2,1) vs S (3,1) = 0; (2,2) vs E and S.
    expected = np.array([[1, 1, 1, 0, 0],
                         [1, 0, 1, 0, 0],
                         [1, 1, 1, 0, 0],
                         [0, 0, 0, 0, 0],
                         [0, 0, 0, 0, 0]], dtype=bool)
    np.testing.assert_array_equal(seg2bmap(mask), expected)
    np.testing.assert_array_equal(seg2bmap(torch.from_numpy(mask)), expected)
    # A 5 x 5 square: the ring of a 6 x 6 square, 4 * 5 = 20 pixels.
    assert seg2bmap(square(20, 5, 5, 5)).sum() == 20


def test_seg2bmap_image_border_is_not_a_boundary():
    # Last row compares only with the east neighbour, last column only with the south one, and the
    # bottom-right pixel is never boundary: a full mask has no boundary at all,
    assert not seg2bmap(np.ones((3, 3))).any()
    # and a mask on the last column only yields its left edge (column 1, from the east comparisons).
    mask = np.array([[0, 0, 1],
                     [0, 0, 1],
                     [0, 0, 1]])
    np.testing.assert_array_equal(seg2bmap(mask), [[0, 1, 0], [0, 1, 0], [0, 1, 0]])


def test_boundary_tolerance():
    assert boundary_tolerance((480, 854)) == 8  # ceil(0.008 * sqrt(480^2 + 854^2)) = ceil(0.008 * 979.65) = ceil(7.84)
    assert boundary_tolerance((100, 100)) == 2  # ceil(0.008 * 141.42) = ceil(1.13)
    assert boundary_tolerance((20, 20)) == 1  # ceil(0.008 * 28.28) = ceil(0.23)
    assert boundary_tolerance((20, 20), bound_th=3) == 3  # >= 1: a radius in pixels


def test_boundary_f_square_against_shifted_square():
    # 20 x 20 image: tolerance 1 pixel, disk(1) = the pixel and its 4 neighbours.
    truth = square(20, 5, 5, 5)  # boundary: ring rows 4..9 x cols 4..9, 20 pixels
    assert boundary_f(truth, truth) == 1.0
    # Shift by 1 column: the predicted ring (cols 5..10) lies within 1 pixel of the true one everywhere.
    assert boundary_f(square(20, 5, 6, 5), truth) == 1.0
    # Shift by 2 columns: predicted ring rows 4..9 x cols 6..11 (20 pixels). Matched: top row cols 6..10
    # (cols 6..9 on the true top row, col 10 next to (4, 9)) = 5, bottom row likewise 5; left column
    # (col 6, rows 5..8) is 2 from the true left column (col 4), but its ends (5, 6) and (8, 6) touch the
    # true top and bottom rows = 2; right column (col 11, rows 5..8) is 2 from col 9 and 2 from (4, 9) /
    # (9, 9) horizontally: 0. Precision 12/20; recall by symmetry 12/20; F = 0.6.
    shifted = square(20, 5, 7, 5)
    assert boundary_precision_recall(shifted, truth) == pytest.approx((0.6, 0.6))
    assert boundary_f(shifted, truth) == pytest.approx(0.6)
    # A 2-pixel tolerance (bound_th >= 1 is pixels) reaches the columns 2 away and (4, 11) -> (4, 9): F = 1.
    assert boundary_f(shifted, truth, bound_th=2) == 1.0
    # Probabilities are thresholded at 0.5 and labels merged.
    assert boundary_f(shifted * 0.7, truth.astype(np.uint8) * 3) == pytest.approx(0.6)


def test_boundary_f_empty_cases():
    empty, full, obj = np.zeros((20, 20)), np.ones((20, 20)), square(20, 5, 5, 5)
    assert boundary_f(empty, empty) == 1.0  # both boundaries empty
    assert boundary_f(full, empty) == 1.0  # a full mask has no boundary either (image border is none)
    assert boundary_precision_recall(empty, obj) == (1.0, 0.0) and boundary_f(empty, obj) == 0.0
    assert boundary_precision_recall(obj, empty) == (0.0, 1.0) and boundary_f(obj, empty) == 0.0


def test_boundary_matching_equals_disk_dilation():
    """The distance-transform matching equals DAVIS's dilation by skimage's disk."""
    rng = np.random.default_rng(0)
    for _ in range(10):
        truth = np.zeros((30, 40), dtype=bool)
        top, left = rng.integers(0, 20), rng.integers(0, 30)
        truth[top:top + 10, left:left + 8] = True
        prediction = np.roll(truth, int(rng.integers(-4, 5)), axis=1) | (rng.random(truth.shape) > 0.97)
        for bound_th in (0.008, 0.06, 3):
            radius = boundary_tolerance(truth.shape, bound_th)
            predicted, true = seg2bmap(prediction), seg2bmap(truth)
            precision = (predicted & binary_dilation(true, disk(radius))).sum() / predicted.sum()
            recall = (true & binary_dilation(predicted, disk(radius))).sum() / true.sum()
            assert boundary_precision_recall(prediction, truth, bound_th) == pytest.approx((precision, recall))


# ---------------------------------------------------------------------------------------------
# Saliency (docs/method.md section 6a)
# ---------------------------------------------------------------------------------------------

TWO_OBJECT_TRUTH = np.array([[1, 1], [0, 0]], dtype=bool)


def test_max_f_beta_by_enumerating_thresholds():
    # Values with exact binary fractions so that floor(255 p) is unambiguous.
    a = np.array([[1.0, 0.75], [0.25, 0.0]])  # quantised 255, 191, 63, 0
    b = np.array([[0.875, 0.5], [0.75, 0.0]])  # quantised 223, 127, 191, 0 (the 191 is background)
    # F = 1.3 P R / (0.3 P + R). Per threshold t (pixel salient if quantised >= t):
    #  a: t=0: P=1/2, R=1 -> 13/23; t=1..63: P=2/3, R=1 -> 13/18; t=64..191: 1; t=192..255: P=1, R=1/2 -> 13/16.
    #  b: t=0: 13/23; t=1..127: 13/18; t=128..191: P=R=1/2 -> 1/2; t=192..223: 13/16; t=224..255: nothing -> 0.
    # Mean curve peaks at t=64..127: (1 + 13/18) / 2 = 31/36 (the mean of per-image maxima would be 29/32).
    precision, recall = precision_recall_curve(a, TWO_OBJECT_TRUTH)
    assert (precision[0], recall[0], precision[63], precision[64], recall[192]) == pytest.approx(
        (0.5, 1, 2 / 3, 1, 0.5))
    metrics = SaliencyMetrics(min_max=False)
    metrics.update(a, TWO_OBJECT_TRUTH)
    metrics.update(torch.from_numpy(b), torch.from_numpy(TWO_OBJECT_TRUTH))
    curve = metrics.f_curve()
    assert (curve[0], curve[63], curve[100], curve[150], curve[200], curve[255]) == pytest.approx(
        (13 / 23, 13 / 18, 31 / 36, 0.75, 13 / 16, 13 / 32))
    scores = metrics.scores()
    assert scores.images == 2 and scores.max_f == pytest.approx(31 / 36)
    # F of the mean P and R: at t=64..127 P = (1 + 2/3)/2 = 5/6, R = 1 -> 1.3 (5/6) / (0.25 + 1) = 13/15.
    assert scores.max_f_mean_pr == pytest.approx(13 / 15)
    # Adaptive threshold 2 * mean: a: 2 * 0.5 = 1 -> only the 1.0 pixel: P=1, R=1/2 -> 13/16;
    # b: 2 * 0.53125 = 1.0625 -> capped at 1 -> nothing salient -> 0.
    assert adaptive_f_beta(a, TWO_OBJECT_TRUTH) == pytest.approx(13 / 16)
    assert scores.adaptive_f == pytest.approx(13 / 32)


def test_mae_and_min_max_stretch():
    # |1-1| + |0.5-1| + |0.25-0| + |0-0| = 0.75 over 4 pixels.
    assert mae(np.array([[1.0, 0.5], [0.25, 0.0]]), TWO_OBJECT_TRUTH) == pytest.approx(0.1875)
    assert mae(np.array([[255, 0], [0, 0]], dtype=np.uint8), np.array([[255, 0], [0, 255]], dtype=np.uint8)) == 0.25
    np.testing.assert_allclose(saliency_map(np.array([[0.25, 0.5, 0.75]])), [[0, 0.5, 1]])
    np.testing.assert_allclose(saliency_map(np.array([[0.25, 0.75]]), min_max=False), [[0.25, 0.75]])
    np.testing.assert_allclose(saliency_map(np.full((2, 2), 0.3)), 0.3)  # constant maps are left alone
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        saliency_map(np.array([[1.5]]))


def test_s_measure_special_cases_and_a_hand_value():
    prediction = np.array([[0.2, 0.4], [0.6, 0.0]])  # mean 0.3
    assert s_measure(prediction, np.zeros((2, 2), bool)) == pytest.approx(1 - 0.3)  # all-background truth
    assert s_measure(prediction, np.ones((2, 2), bool)) == pytest.approx(0.3)  # all-foreground truth
    assert s_measure(TWO_OBJECT_TRUTH.astype(float), TWO_OBJECT_TRUTH) == pytest.approx(1.0)  # perfect map
    # truth [[1, 0], [0, 0]], map [[1, 0], [0, 0.5]]; foreground fraction u = 1/4.
    # Object term: foreground values {1}: 2*1 / (1 + 1 + 0) = 1. Background 1 - map = {1, 1, 0.5}: mean 5/6,
    #   sample std sqrt(((1/6)^2 * 2 + (1/3)^2) / 2) = sqrt(1/12); 2 (5/6) / ((5/6)^2 + 1 + sqrt(1/12)).
    #   S_object = 1/4 * 1 + 3/4 * that.
    # Region term: centroid (0, 0) -> split after row 1 and column 1 into four 1-pixel quadrants, weight 1/4
    #   each; every quadrant is constant, so covariance and variances vanish and each scores 1: S_region = 1.
    truth = np.array([[1, 0], [0, 0]], dtype=bool)
    s_background = 2 * (5 / 6) / ((5 / 6) ** 2 + 1 + math.sqrt(1 / 12))
    expected = 0.5 * (0.25 * 1 + 0.75 * s_background) + 0.5 * 1
    assert s_measure(np.array([[1.0, 0.0], [0.0, 0.5]]), truth) == pytest.approx(expected)


def test_e_measure_special_cases_and_a_hand_value():
    n = 4
    empty = np.zeros((2, 2), bool)
    # All-background truth: sum = predicted-background pixels, over n - 1. An all-zero map: threshold 0
    # selects every pixel (0 background -> 0), thresholds 1..255 none (4 background -> 4/3).
    curve = e_measure_curve(np.zeros((2, 2)), empty)
    assert curve[0] == 0 and curve[1:] == pytest.approx(n / (n - 1))
    # All-foreground truth: sum = predicted-foreground pixels; an all-one map is salient at every threshold.
    assert e_measure_curve(np.ones((2, 2)), ~empty) == pytest.approx(n / (n - 1))
    # A perfect binary map: every pixel aligned (enhanced value 1) -> n / (n - 1) at t = 1..255; at t = 0
    # everything is predicted, the mean-removed prediction is 0, alignment 0, enhanced (0 + 1)^2 / 4 per pixel.
    truth = np.array([[1, 0], [0, 0]], dtype=bool)
    curve = e_measure_curve(truth.astype(float), truth)
    assert curve[0] == pytest.approx(1 / 3) and curve[1:] == pytest.approx(4 / 3)
    assert adaptive_e_measure(truth.astype(float), truth) == pytest.approx(4 / 3)  # threshold 2 * 1/4 = 1/2
    # Map [[1, 1], [0, 0]] vs truth [[1, 0], [0, 0]] at t >= 1: mean prediction 1/2, mean truth 1/4.
    #  TP (1 px): phi = (1/2, 3/4): alignment 2 (3/8) / (1/4 + 9/16) = 12/13 -> (25/13)^2 / 4 = 625/676
    #  FP (1 px): phi = (1/2, -1/4): alignment -(1/4) / (5/16) = -4/5 -> (1/5)^2 / 4 = 1/100
    #  TN (2 px): phi = (-1/2, -1/4): alignment 4/5 -> (9/5)^2 / 4 = 81/100 each
    expected = (625 / 676 + 1 / 100 + 2 * 81 / 100) / 3
    assert e_measure_curve(TWO_OBJECT_TRUTH.astype(float), truth)[1:] == pytest.approx(expected)
    metrics = SaliencyMetrics(min_max=False)
    metrics.update(truth.astype(float), truth)
    scores = metrics.scores()
    assert scores.max_e == pytest.approx(4 / 3) and scores.mean_e == pytest.approx((1 / 3 + 255 * 4 / 3) / 256)


def random_saliency_pairs(count: int, seed: int = 0):
    """uint8 maps and 0/255 truths of assorted shapes: random, blob, empty and full truths."""
    rng = np.random.default_rng(seed)
    for index in range(count):
        height, width = (int(v) for v in rng.integers(4, 40, 2))
        truth = np.zeros((height, width), np.uint8)
        kind = index % 4
        if kind == 0:
            truth[rng.random((height, width)) > rng.random()] = 255
        elif kind == 1:
            top, left = rng.integers(0, height), rng.integers(0, width)
            truth[max(0, top - 4):top + 4, max(0, left - 5):left + 5] = 255
        elif kind == 3:
            truth[:] = 255
        prediction = (rng.random((height, width)) * 255).astype(np.uint8)
        if index % 5 == 0:
            prediction = np.where(truth > 0, 200, 30).astype(np.uint8)
        yield prediction, truth


@pytest.mark.filterwarnings("ignore")
def test_saliency_metrics_match_pysodmetrics():
    """PySODMetrics (pip name pysodmetrics) is the reference; not a dependency, so this skips without it."""
    sod = pytest.importorskip("py_sod_metrics")
    reference = {"f": sod.Fmeasure(), "e": sod.Emeasure(), "s": sod.Smeasure(), "mae": sod.MAE()}
    metrics = SaliencyMetrics()
    for prediction, truth in random_saliency_pairs(24):
        for evaluator in reference.values():
            evaluator.step(prediction, truth)  # normalize=True: /255, min-max, truth > 128
        metrics.update(prediction, truth)
    results = {name: evaluator.get_results() for name, evaluator in reference.items()}
    scores = metrics.scores()
    f_curve, e_curve = results["f"]["fm"]["curve"], results["e"]["em"]["curve"]
    # PySODMetrics orders its curves by descending threshold.
    np.testing.assert_allclose(metrics.f_curve(), f_curve[::-1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(metrics.e_curve(), e_curve[::-1], rtol=0, atol=1e-12)
    mean_precision, mean_recall = results["f"]["pr"]["p"], results["f"]["pr"]["r"]
    f_of_mean_pr = 1.3 * mean_precision * mean_recall / (0.3 * mean_precision + mean_recall)
    assert scores.max_f == pytest.approx(f_curve.max(), abs=1e-12)
    assert scores.mean_f == pytest.approx(f_curve.mean(), abs=1e-12)
    assert scores.adaptive_f == pytest.approx(results["f"]["fm"]["adp"], abs=1e-12)
    assert scores.max_f_mean_pr == pytest.approx(np.nanmax(f_of_mean_pr), abs=1e-12)
    assert scores.max_e == pytest.approx(e_curve.max(), abs=1e-12)
    assert scores.mean_e == pytest.approx(e_curve.mean(), abs=1e-12)
    assert scores.adaptive_e == pytest.approx(results["e"]["em"]["adp"], abs=1e-12)
    assert scores.mae == pytest.approx(results["mae"]["mae"], abs=1e-12)
    assert scores.s_measure == pytest.approx(results["s"]["sm"], abs=1e-12)


# ---------------------------------------------------------------------------------------------
# Semantic segmentation (docs/method.md section 6c)
# ---------------------------------------------------------------------------------------------


def test_confusion_matrix_miou_with_void_and_an_absent_class():
    truth = np.array([[0, 0, 1],
                      [1, 2, 255]])
    prediction = np.array([[0, 1, 1],
                           [1, 1, 2]])  # the 2 on the void pixel is ignored
    # (truth, prediction) pairs: (0,0) (0,1) (1,1) (1,1) (2,1). Rows = truth:
    #   class 0: [1, 1, 0], class 1: [0, 2, 0], class 2: [0, 1, 0], class 3: nothing.
    # IoU = TP / (row + column - TP): class 0: 1 / (2 + 1 - 1) = 1/2; class 1: 2 / (2 + 4 - 2) = 1/2;
    # class 2: 0 / (1 + 0 - 0) = 0; class 3: absent from both -> NaN, left out: mIoU = 1/3.
    # Pixel accuracy: 3 correct of 5 non-void pixels.
    confusion = ConfusionMatrix(num_classes=4)
    confusion.update(prediction, truth)
    np.testing.assert_array_equal(confusion.matrix, [[1, 1, 0, 0], [0, 2, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]])
    iou = confusion.per_class_iou()
    np.testing.assert_allclose(iou[:3], [0.5, 0.5, 0.0])
    assert math.isnan(iou[3])
    assert confusion.miou() == pytest.approx(1 / 3)
    assert confusion.pixel_accuracy() == pytest.approx(3 / 5)
    # Accumulating over images (here the same pair again, as a batch of torch tensors) sums the counts.
    confusion.update(torch.from_numpy(prediction)[None], torch.from_numpy(truth)[None])
    assert confusion.matrix.sum() == 10 and confusion.miou() == pytest.approx(1 / 3)
    confusion.reset()
    assert confusion.matrix.sum() == 0 and math.isnan(confusion.miou())


def test_confusion_matrix_rejects_labels_out_of_range():
    confusion = ConfusionMatrix(num_classes=21)
    with pytest.raises(ValueError, match="prediction"):
        confusion.update(np.array([[21]]), np.array([[0]]))
    with pytest.raises(ValueError, match="truth"):
        confusion.update(np.array([[0]]), np.array([[254]]))
    confusion.update(np.array([[21]]), np.array([[255]]))  # void: whatever was predicted
    assert confusion.matrix.sum() == 0


# The release's pooled two-class mIoU.

def naive_pooled_miou(predictions, truths) -> float:
    """Loop over every pixel of every frame, count the 2x2 confusion matrix, average the two IoUs."""
    matrix = [[0, 0], [0, 0]]
    for prediction, truth in zip(predictions, truths):
        for p, t in zip(np.asarray(prediction).ravel(), np.asarray(truth).ravel()):
            matrix[int(t != 0)][int(p > 0.5)] += 1
    ious = []
    for k in (0, 1):
        union = matrix[k][0] + matrix[k][1] + matrix[0][k] + matrix[1][k] - matrix[k][k]
        if union:
            ious.append(matrix[k][k] / union)
    return float(np.mean(ious))


def test_pooled_two_class_miou_by_hand():
    """Two 2x2 frames. Frame 1: TP 1, FP 1, FN 1, TN 1; frame 2: all background, predicted
    empty (TN 4). Pooled: TP 1, FP 1, FN 1, TN 5: IoU_fg = 1/3, IoU_bg = 5/7, mIoU = 11/21 (a
    per-frame mean would give (1/3 + 1/3) / 2 and (1 + nan) for the second frame)."""
    from amdlib.evaluation.vos_metrics import foreground_counts, pooled_two_class_miou

    predictions = np.array([[[0.9, 0.8], [0.1, 0.2]], [[0.0, 0.0], [0.0, 0.0]]])
    truths = np.array([[[255, 0], [255, 0]], [[0, 0], [0, 0]]], dtype=np.uint8)
    counts = foreground_counts(predictions, truths)
    assert counts.tolist() == [[1, 1, 1], [0, 0, 0]]
    assert pooled_two_class_miou(counts, 4) == pytest.approx((1 / 3 + 5 / 7) / 2)
    assert pooled_two_class_miou(counts, 4) == pytest.approx(naive_pooled_miou(predictions, truths))
    # Only background anywhere: the foreground class is absent and left out of the mean.
    assert pooled_two_class_miou(foreground_counts(np.zeros((1, 2, 2)), np.zeros((1, 2, 2))), 4) == 1.0


def test_pooled_two_class_miou_matches_a_naive_loop_on_random_sets():
    from amdlib.evaluation.vos_metrics import foreground_counts, pooled_two_class_miou

    rng = np.random.default_rng(0)
    for _ in range(5):
        sequences = [(rng.random((rng.integers(1, 4), 5, 7)), rng.random((1, 5, 7)) > rng.random())
                     for _ in range(3)]
        sequences = [(p, np.broadcast_to(t, p.shape)) for p, t in sequences]
        counts = np.concatenate([foreground_counts(p, t) for p, t in sequences])
        pixels = np.full(len(counts), 35)
        expected = naive_pooled_miou([f for p, _ in sequences for f in p], [f for _, t in sequences for f in t])
        assert pooled_two_class_miou(counts, pixels) == pytest.approx(expected, abs=1e-12)


def test_add_frames_keeps_precomputed_scores_like_add():
    from amdlib.evaluation.vos_metrics import VOSScores

    prediction = np.zeros((3, 8, 8), bool)
    prediction[:, 2:5, 2:6] = True
    truth = np.zeros((3, 8, 8), np.uint8)
    truth[:, 2:6, 2:6] = 255
    computed, given = VOSScores(), VOSScores()
    frames = computed.add("a", prediction, truth)
    given.add_frames("a", [s.frame for s in frames], [s.j for s in frames], [s.f for s in frames])
    assert given.summary() == computed.summary()
    with pytest.raises(ValueError, match="already added"):
        given.add_frames("a", [0], [1.0], [1.0])
