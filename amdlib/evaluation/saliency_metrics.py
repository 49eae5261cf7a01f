"""Zero-shot saliency metrics (docs/method.md section 6a) with the definitions of PySODMetrics.

Max F-beta (beta^2 = 0.3, 256 thresholds), MAE, S-measure and E-measure as PySODMetrics (the
reference implementation of the salient object detection literature) computes them,
reimplemented here so that amdlib does not depend on it. Every function takes torch tensors or
numpy arrays (converted to numpy, on the CPU) and returns Python floats or numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._arrays import Array, as_numpy, check_same_shape

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
    prediction = as_numpy(prediction)
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
    truth = as_numpy(truth)
    if truth.dtype == bool:
        return truth
    return truth > 128 if truth.dtype == np.uint8 else truth > 0.5


def _saliency_pair(prediction: Array, truth: Array) -> tuple[np.ndarray, np.ndarray]:
    prediction, truth = saliency_map(prediction, min_max=False), saliency_truth(truth)
    check_same_shape(prediction, truth)
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
        check_same_shape(prediction, truth)
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
