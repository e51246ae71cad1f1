"""When to stop: convergence, divergence and the iteration limit, checked once per epoch."""

from __future__ import annotations

import math
from typing import NamedTuple

from gradfit.train.history import StopReason

__all__ = ["BLOWUP_FACTOR", "StopMemory", "Stopping"]

# A loss this many times the starting loss (or non-finite) is divergence, at once.
BLOWUP_FACTOR = 1e6


class StopMemory(NamedTuple):
    """What the stopping rules remember between epochs: part of a paused ``TrainState``."""

    start_loss: float
    previous: float
    growing: int

    @classmethod
    def starting_at(cls, loss: float) -> StopMemory:
        return cls(loss, loss, 0)


class Stopping:
    """The stopping rules of one fit, applied at every epoch boundary, in order.

    1. diverged: the loss is non-finite, exceeds ``BLOWUP_FACTOR`` times its start,
       or grew ``patience`` epochs in a row while above its starting value;
    2. ``converged_gradient``: full-data gradient norm ``<= gtol``;
    3. ``converged_loss``: relative change of the full-data loss over the epoch
       ``<= tol`` (ignored below ``loss_resolution``, where losses are rounding noise);
    4. ``max_iter``: the epoch limit.

    >>> s = Stopping(max_iter=10, tol=0.0, gtol=1e-8, patience=3,
    ...              memory=StopMemory.starting_at(1.0))
    >>> s.check(1, 1, 0.5, 1e-9).code
    'converged_gradient'
    >>> s.check(2, 2, float("nan"), 1.0).code
    'diverged'
    """

    def __init__(
        self,
        *,
        max_iter: int,
        tol: float,
        gtol: float,
        patience: float,
        memory: StopMemory,
        loss_scale: float = 0.0,
        loss_resolution: float = 0.0,
    ) -> None:
        self.max_iter, self.tol, self.gtol, self.patience = max_iter, tol, gtol, patience
        self.start_loss = memory.start_loss
        self.previous, self.growing = memory.previous, memory.growing
        blowup = BLOWUP_FACTOR * (self.start_loss + loss_scale)
        self.blowup = blowup if blowup > 0 else math.inf
        self.loss_resolution = loss_resolution

    @property
    def memory(self) -> StopMemory:
        """Where the rules stand, as a value (to pause and resume exactly)."""
        return StopMemory(self.start_loss, self.previous, self.growing)

    def check(self, epoch: int, step: int, loss: float, gnorm: float) -> StopReason | None:
        """The reason to stop after ``epoch`` epochs (``step`` steps), or None to go on."""
        previous, self.previous = self.previous, loss
        if epoch > 0:
            self.growing = self.growing + 1 if loss > previous and loss > self.start_loss else 0
            if not (loss < self.blowup and gnorm < math.inf) or self.growing >= self.patience:
                what = "became non-finite" if not math.isfinite(loss) else f"grew to {loss:.3g}"
                return StopReason("diverged", f"diverged at step {step}: the loss {what}", step)
        if gnorm <= self.gtol:
            return StopReason(
                "converged_gradient",
                f"converged: gradient norm {gnorm:.2g} <= gtol {self.gtol:.2g}",
                step,
            )
        if epoch > 0 and self.tol > 0 and loss > self.loss_resolution:
            change = abs(previous - loss) / max(previous, loss)
            if change <= self.tol:
                return StopReason(
                    "converged_loss",
                    f"converged: relative loss change {change:.2g} <= tol {self.tol:.2g}",
                    step,
                )
        if epoch >= self.max_iter:
            return StopReason(
                "max_iter",
                f"max_iter reached: {self.max_iter} epochs ({step} steps) without meeting "
                f"tol={self.tol:.2g} or gtol={self.gtol:.2g}; final gradient norm {gnorm:.2g}",
                step,
            )
        return None
