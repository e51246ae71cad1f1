"""What the loop tells its observers while it runs."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from gradfit.data.source import Batch

__all__ = ["Progress", "StepRecord"]


class Progress(NamedTuple):
    """Passed to ``callback`` at every epoch boundary; return True to stop."""

    epoch: int
    step: int
    loss: float
    grad_norm: float
    max_iter: int


class StepRecord(NamedTuple):
    """Everything one step saw and did, passed to ``on_step`` (for ``explain``)."""

    step: int
    epoch: int
    rows: np.ndarray | Batch | None  # None: all rows; a Batch: rows streamed from a file
    theta: np.ndarray  # before the update (descent coordinates)
    loss: float  # of this step's batch, at theta
    grad: np.ndarray
    lr: float
    state_before: Any
    state_after: Any
    updates: np.ndarray
    theta_next: np.ndarray
