"""What every metric module accepts: torch tensors or numpy arrays, compared on the CPU as numpy."""

from __future__ import annotations

import numpy as np
from torch import Tensor

Array = np.ndarray | Tensor


def as_numpy(x: Array) -> np.ndarray:
    """A numpy view of a tensor (detached, on the CPU) or the array itself."""
    if isinstance(x, Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def check_same_shape(prediction: np.ndarray, truth: np.ndarray) -> None:
    """ValueError unless the prediction has the ground truth's shape."""
    if prediction.shape != truth.shape:
        raise ValueError(f"prediction {tuple(prediction.shape)} and truth {tuple(truth.shape)} differ in shape; "
                         "resize the prediction to the ground truth first")
