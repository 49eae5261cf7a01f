"""Shared helpers of the research scripts' tests: the same deterministic seed as tests/."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
