"""When to stop: convergence, divergence, early stopping and the iteration limit.

Convergence means the least-squares solution, certified. With ``g`` the full-data
gradient and ``mu`` the smallest non-zero curvature of the loss (in the coordinates
descent runs in), the root-mean-square distance between the current predictions and
the least-squares ones is at most ``|g| / sqrt(2 mu)`` (``J - J* = e^T H e / 2`` with
``e^T H e = 2 mean((y' - y'*)^2)`` and ``g = H e``). ``tol`` bounds that distance relative
to the standard deviation of ``y``: the same meaning whatever the units of ``X`` and ``y``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

from gradfit.train.history import StopReason

__all__ = ["BLOWUP_FACTOR", "StopMemory", "Stopping"]

# A loss this many times the starting loss (or non-finite) is divergence, at once.
BLOWUP_FACTOR = 1e6
# At the rounding floor, predictions certified this close (relative to std(y)) are an
# answer; farther is a stop short of least squares.
ROUNDING_ANSWER = 1e-7
# Exact gradients (``settle``): a step that changes no coefficient by more than this
# (relative) has reached float64's last digits.
SETTLED = 8 * 2.0**-52


class StopMemory(NamedTuple):
    """What the stopping rules remember between epochs: part of a paused ``TrainState``."""

    start_loss: float
    start_gnorm: float
    previous: float
    growing: int
    best: float
    stalled: int
    # settling (line searches): the smallest step so far, steps in a row not halving it,
    # and the last step's size (checked at the next epoch boundary, also after a pause)
    smallest_move: float = math.inf
    stuck: int = 0
    moved: float | None = None

    @classmethod
    def starting_at(cls, loss: float, gnorm: float, watched: float | None = None) -> StopMemory:
        """At the start; ``watched`` is the held-out loss when early stopping watches one."""
        return cls(loss, gnorm, loss, 0, loss if watched is None else watched, 0)


class Stopping:
    """The stopping rules of one fit, applied at every epoch boundary, in order.

    1. ``diverged``: the loss is non-finite, exceeds ``BLOWUP_FACTOR`` times its start,
       or grew ``patience`` epochs in a row while above its starting value;
    2. ``converged_gradient``: the full-data gradient norm is at most ``gtol`` (the caller turns
       ``tol`` into this bound, see the module's docstring); ``certify`` turns a
       gradient norm into the certified relative distance to least squares, for the
       message;
    3. ``converged_rounding``: the gradient norm is at the rounding floor of float64
       (``floor``) and certifies the predictions to ``ROUNDING_ANSWER``; at the floor but
       farther: ``rounding_floor``, not converged (float64 cannot resolve this descent:
       standardizing usually can);
    4. ``settle`` (line searches, where ``tol`` on the predictions would stop before the
       digits of ill-determined coefficients): instead of stopping at ``gtol``,
       ``converged_rounding`` when the last step changed no coefficient beyond its last
       digits, or, once ``gtol`` is met, when three steps in a row did not halve the
       smallest step so far (rounding);
    5. ``no_improvement``: early stopping, when ``loss_tol > 0`` and the loss has not
       improved by ``loss_tol`` (relative) for ``n_iter_no_change`` epochs;
    6. ``max_iter``: the epoch limit.

    >>> s = Stopping(max_iter=10, gtol=1e-8, patience=3, memory=StopMemory.starting_at(1.0, 1.0))
    >>> s.check(1, 1, 0.5, 1e-9).code
    'converged_gradient'
    >>> s.check(2, 2, float("nan"), 1.0).code
    'diverged'
    """

    def __init__(
        self,
        *,
        max_iter: int,
        gtol: float,
        patience: float,
        memory: StopMemory,
        certify: Callable[[float], float | None] = lambda gnorm: None,
        floor: float = 0.0,
        loss_tol: float = 0.0,
        n_iter_no_change: int = 5,
        loss_scale: float = 0.0,
        loss_resolution: float = 0.0,
        settle: bool = False,
        answer: str = "least squares",
    ) -> None:
        self.answer = answer  # what convergence reaches, in words
        self.max_iter, self.gtol, self.patience = max_iter, gtol, patience
        self.certify, self.floor = certify, floor
        self.loss_tol, self.n_iter_no_change = loss_tol, n_iter_no_change
        self.start_loss, self.start_gnorm = memory.start_loss, memory.start_gnorm
        self.previous, self.growing = memory.previous, memory.growing
        self.best, self.stalled = memory.best, memory.stalled
        blowup = BLOWUP_FACTOR * (self.start_loss + loss_scale)
        self.blowup = blowup if blowup > 0 else math.inf
        self.loss_resolution = loss_resolution
        self.settle, self.last_moved, self.stuck = settle, memory.smallest_move, memory.stuck

    @property
    def memory(self) -> StopMemory:
        """Where the rules stand, as a value (to pause and resume exactly)."""
        return StopMemory(
            self.start_loss,
            self.start_gnorm,
            self.previous,
            self.growing,
            self.best,
            self.stalled,
            self.last_moved,
            self.stuck,
        )

    def limits(self) -> tuple[float, ...]:
        """The rules' numbers, for the compiled full-batch loop (``train/kernels.py``):
        ``(blowup, patience, gtol, floor, loss_tol, loss_resolution, n_iter_no_change,
        max_iter)``."""
        return tuple(
            float(v)
            for v in (
                self.blowup,
                self.patience,
                self.gtol,
                self.floor,
                self.loss_tol,
                self.loss_resolution,
                self.n_iter_no_change,
                self.max_iter,
            )
        )

    @property
    def counters(self) -> tuple[float, float, float, float, float]:
        """``(start_loss, previous, growing, best, stalled)``: what ``check`` updates."""
        return (self.start_loss, self.previous, self.growing, self.best, self.stalled)

    @counters.setter
    def counters(self, values: tuple[float, float, float, float, float]) -> None:
        _, self.previous, growing, self.best, stalled = values
        self.growing, self.stalled = int(growing), int(stalled)

    def _settled(self, step: int, gnorm: float, moved: float, certified: bool) -> StopReason | None:
        # shrinking means halving the smallest step so far; once certified to tol, steps
        # that stop shrinking are rounding (before that they may just be a slow start)
        self.stuck = self.stuck + 1 if certified and moved > 0.5 * self.last_moved else 0
        self.last_moved = min(moved, self.last_moved)
        if moved <= SETTLED or self.stuck >= 3:
            last = "float64's last digits" if moved <= SETTLED else "as far as float64 resolves"
            return StopReason(
                "converged_rounding",
                f"converged to {last} (the last step changed no coefficient by more than "
                f"{moved:.1g} of itself): {self.distance(gnorm)}",
                step,
            )
        return None

    def distance(self, gnorm: float) -> str:
        """How far from least squares a gradient norm certifies, in words."""
        gap = self.certify(gnorm)
        if gap is not None:
            return f"predictions within {gap:.2g} x std(y) of {self.answer}"
        ratio = gnorm / self.start_gnorm if self.start_gnorm > 0 else 0.0
        return f"gradient norm {gnorm:.2g}, {ratio:.2g} of its start"

    def check(
        self,
        epoch: int,
        step: int,
        loss: float,
        gnorm: float,
        watched: float | None = None,
        moved: float | None = None,
    ) -> StopReason | None:
        """The reason to stop after ``epoch`` epochs (``step`` steps), or None to go on.

        ``watched`` is the held-out rows' loss, which early stopping watches when given;
        ``moved`` the last step's largest relative change of a coefficient (``settle``).
        """
        previous, self.previous = self.previous, loss
        if epoch > 0:
            self.growing = self.growing + 1 if loss > previous and loss > self.start_loss else 0
            if not (loss < self.blowup and gnorm < math.inf) or self.growing >= self.patience:
                what = "became non-finite" if not math.isfinite(loss) else f"grew to {loss:.3g}"
                return StopReason("diverged", f"diverged at step {step}: the loss {what}", step)
        certified = gnorm <= self.gtol
        # settling goes on past tol while steps still gain digits; at the floor they cannot
        if certified and (not self.settle or gnorm <= self.floor):
            return StopReason("converged_gradient", f"converged: {self.distance(gnorm)}", step)
        if gnorm <= self.floor:
            # No step can improve on this; whether that is an answer depends on how far
            # the certificate says it is: 7 digits of the predictions, or short of them.
            gap = self.certify(gnorm)
            if gap is not None and gap <= ROUNDING_ANSWER:
                return StopReason(
                    "converged_rounding",
                    f"converged as far as float64 allows (the gradient is rounding noise): "
                    f"{self.distance(gnorm)}",
                    step,
                )
            return StopReason(
                "rounding_floor",
                f"stopped at the rounding floor of float64 (the gradient is rounding noise, "
                f"no step can improve it): {self.distance(gnorm)}",
                step,
            )
        if self.settle and moved is not None:
            settled = self._settled(step, gnorm, moved, certified)
            if settled is not None:
                return settled
        seen = loss if watched is None else watched
        if self.loss_tol > 0 and epoch > 0 and seen > self.loss_resolution:
            if seen < self.best * (1.0 - self.loss_tol):
                self.best, self.stalled = seen, 0
            else:
                self.stalled += 1
                if self.stalled >= self.n_iter_no_change:
                    which = "the loss" if watched is None else "the held-out rows' loss"
                    return StopReason(
                        "no_improvement",
                        f"stopped early: {which} improved by less than loss_tol="
                        f"{self.loss_tol:.2g} for {self.n_iter_no_change} epochs; "
                        f"{self.distance(gnorm)}",
                        step,
                    )
        if epoch >= self.max_iter:
            return StopReason(
                "max_iter",
                f"max_iter reached: {self.max_iter} epochs ({step} steps); {self.distance(gnorm)}",
                step,
            )
        return None
