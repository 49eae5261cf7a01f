"""The one optimiser every amdlib training loop uses: Adam with its fused kernel.

The release optimises with Adam (docs/method.md section 5). The fused implementation updates all
parameters in one kernel instead of a loop of per-tensor operations: the same update up to
rounding, in a fraction of the time (docs/method.md section 9).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


def adam(parameters: Iterable[torch.nn.Parameter], lr: float, weight_decay: float = 0.0) -> torch.optim.Adam:
    """torch.optim.Adam, fused where every parameter is a floating-point CPU or CUDA tensor."""
    parameters = list(parameters)
    fusable = all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in parameters)
    return torch.optim.Adam(parameters, lr=lr, weight_decay=weight_decay, fused=fusable or None)
