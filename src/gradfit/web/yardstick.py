"""The playground's challenge: reach the least-squares minimum, in as few steps as you can.

A ``Yardstick`` knows the minimum of a session's objective and where descent starts;
it says when a descent has reached the minimum (by the full-data loss at the steps
``checkpoint`` names, the points the page plots), and ``fewest_steps`` finds how few
steps any constant learning rate needs (a sweep of plain full-batch descent).

With a penalty or Huber's loss the objective is theirs (``RegularizedObjective``): the
minimum is its own, and plain descent takes the L1 part's soft threshold after each
step (ISTA), as the session's 'gd' does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gradfit.data.batching import steps_per_epoch
from gradfit.model import Objective
from gradfit.surface import optimum
from gradfit.train import FitOptions, History, LossBelow, sweep

__all__ = [
    "MAX_CHECKPOINT",
    "SEARCH_MAX_STEPS",
    "SUCCESS_TOL",
    "Yardstick",
    "checkpoint",
    "fewest_steps",
]

# Success: the excess loss over the least-squares minimum is down to this fraction of
# where it started.
SUCCESS_TOL = 1e-6
# The fewest-steps search gives up on a rate after this many steps.
SEARCH_MAX_STEPS = 5000
# Rates tried besides the best constant rate 2 / (mu + L): this many, spread
# geometrically over the stable range (0.05 / L to 1.99 / L).
SEARCH_RATES = 40
# With batches the full-data loss is checked at each epoch's end, and at least this often.
MAX_CHECKPOINT = 100


@dataclass(frozen=True)
class Yardstick:
    """The minimum a session is measured against, in descent coordinates.

    Attributes
    ----------
    star : ndarray
        The minimising ``theta`` (least squares', or the objective's own).
    best_loss : float
        The loss there.
    start_loss : float
        The loss at ``theta = 0``, where every session starts.
    """

    star: np.ndarray
    best_loss: float
    start_loss: float

    @classmethod
    def of(cls, objective: Objective) -> Yardstick:
        """The yardstick of ``objective`` (one solve and one evaluation)."""
        star, best = optimum(objective)
        start, _ = objective.value_and_grad(np.zeros(objective.n_params))
        return cls(star, float(best), float(start))

    @property
    def allowed_excess(self) -> float:
        """How far above the minimum a loss may be and still count as reaching it."""
        return SUCCESS_TOL * max(self.start_loss - self.best_loss, 1e-300)

    @property
    def loss_level(self) -> float:
        """The loss at and below which a descent counts as at the minimum."""
        return self.best_loss + self.allowed_excess

    def reached(self, loss: float) -> bool:
        """Whether ``loss`` counts as the minimum."""
        return loss <= self.loss_level

    def first_success(self, objective: Objective, history: History, every: int = 1) -> int | None:
        """The first checked step whose parameters reach the minimum (None: none does).

        Only steps that are multiples of ``every`` are checked (``checkpoint``): the
        full-data loss of their recorded ``theta``, the loss the page plots. A success in
        the middle of a request for many steps is found at its own step.
        """
        checked = history.step % every == 0
        losses = objective.loss_at(history.theta[checked])
        reached = np.flatnonzero(losses <= self.loss_level)
        return int(history.step[checked][reached[0]]) if reached.size else None


def checkpoint(n_rows: int, batch_size: int) -> int:
    """Every how many steps the page checks (and plots) the full-data loss.

    Each step of full batch; each epoch's end with batches, or every
    ``MAX_CHECKPOINT`` steps when an epoch is longer. A batch's loss only estimates the
    full-data loss, and the parameters of one lucky step between checks may come
    close to the minimum and leave it again at the next batch: the minimum counts as
    reached when a check finds it.

    >>> checkpoint(200, 200), checkpoint(200, 32), checkpoint(200, 1)
    (1, 7, 100)
    """
    return min(steps_per_epoch(n_rows, batch_size), MAX_CHECKPOINT)


def fewest_steps(objective: Objective, yardstick: Yardstick) -> dict[str, Any]:
    """The fewest steps any constant rate needs on ``objective`` (plain full-batch descent).

    Returns
    -------
    dict
        ``steps`` (None when no rate reaches the minimum within ``searched`` =
        ``SEARCH_MAX_STEPS`` steps), the rate ``lr`` that needs them, and the
        curvature's ``lipschitz``, ``max_stable_lr``, ``best_lr`` and
        ``condition_number``.
    """
    c = objective.curvature
    rates = sorted({c.best_lr, *np.geomspace(0.05, 1.99, SEARCH_RATES) / c.lipschitz})
    options = FitOptions(
        max_iter=SEARCH_MAX_STEPS, tol=0.0, gtol=0.0, history_stride=SEARCH_MAX_STEPS
    )

    # the yardstick as a loss level: full-batch runs stay compiled
    points = sweep(objective, rates, options, until=LossBelow(yardstick.loss_level))
    succeeded = [
        (p.result.n_steps, p.lr)
        for p in points
        if p.result is not None and p.result.stop.code == "callback"
    ]
    steps: int | None = None
    lr = c.best_lr
    if succeeded:
        # the fewest steps; among equals, the smallest rate (listed first)
        steps, lr = min(succeeded, key=lambda s: s[0])
    return {
        "steps": steps,
        "lr": float(lr),
        "lipschitz": c.lipschitz,
        "max_stable_lr": c.max_stable_lr,
        "best_lr": c.best_lr,
        "condition_number": c.condition_number,
        "searched": SEARCH_MAX_STEPS,
    }
