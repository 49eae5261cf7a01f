"""Semantic segmentation metrics (docs/method.md section 6c): a confusion-matrix accumulator for
mIoU over 21 classes with label 255 = void, and pixel accuracy."""

from __future__ import annotations

import math

import numpy as np

from ._arrays import Array, as_numpy, check_same_shape


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
        prediction, truth = as_numpy(prediction).astype(np.int64), as_numpy(truth).astype(np.int64)
        check_same_shape(prediction, truth)
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
