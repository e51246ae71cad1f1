"""What the loop tells its observers while it runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from gradfit.data.source import Batch

__all__ = ["LossBelow", "Progress", "StepRecord"]


class Progress(NamedTuple):
    """Passed to ``callback`` at every epoch boundary; return True to stop."""

    epoch: int
    step: int
    loss: float
    grad_norm: float
    max_iter: int


@dataclass(frozen=True)
class LossBelow:
    """A callback that stops a fit once its full-data loss is at most ``level``.

    Being a value, not a function, it lets full-batch descent run compiled (the loop
    knows what it asks); any other callback runs the readable loop.

    >>> LossBelow(1.0)(Progress(3, 3, 0.5, 0.1, 100))
    True
    """

    level: float

    def __call__(self, progress: Progress) -> bool:
        return progress.loss <= self.level


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
