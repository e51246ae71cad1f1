"""Conjugate gradients: gradient descent with the best step and a better direction.

On a quadratic loss, steepest descent with the exact step zigzags across a narrow
valley; conjugate gradients (Hestenes and Stiefel, 1952) mixes the previous direction
into the new one so that no step undoes an earlier one, and reaches the minimum of a
``k``-dimensional quadratic in at most ``k`` steps in exact arithmetic. Each step is::

    z = M g                                  # the gradient, preconditioned
    p = -z + beta p_prev                     # beta = z . (g - g_prev) / (z_prev . g_prev)
    alpha = -(g . p) / (p . H p)             # the exact minimum along p
    theta <- theta + lr * alpha * p          # lr = 1: the whole step

``beta`` is Polak and Ribiere's (clipped at 0, a restart, when the rounding of an
ill-conditioned problem makes it negative); every ``restart`` steps the direction
starts afresh from the gradient. The rule needs the loss's curvature along ``p``
(``p . H p``) and optionally a preconditioner ``M``: both come from the objective.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from gradfit.optim.base import GradientTransformation
from gradfit.optim.schedules import Schedule

__all__ = ["CGState", "conjugate_gradients"]


class CGState(NamedTuple):
    """The previous direction, gradient and preconditioned gradient, and the step count."""

    direction: np.ndarray
    gradient: np.ndarray
    preconditioned: np.ndarray
    steps: int


def conjugate_gradients(
    lr: Schedule,
    curvature_along: Callable[[np.ndarray], float],
    precondition: Callable[[np.ndarray], np.ndarray] | None = None,
    restart: int | None = None,
) -> GradientTransformation:
    """Preconditioned conjugate gradients with the exact step along each direction.

    >>> H = np.diag([1.0, 100.0]); theta = np.array([1.0, 1.0])
    >>> cg = conjugate_gradients(lambda k: 1.0, lambda p: float(p @ H @ p))
    >>> state = cg.init(theta)
    >>> for _ in range(2):
    ...     updates, state = cg.update(H @ theta, state, theta)
    ...     theta = theta + updates
    >>> bool(np.abs(theta).max() < 1e-12)
    True
    """

    def init(params: np.ndarray) -> CGState:
        zero = np.zeros_like(params)
        return CGState(zero, zero, zero, 0)

    def update(grads: np.ndarray, state: CGState, params: np.ndarray) -> tuple[np.ndarray, CGState]:
        z = grads if precondition is None else precondition(grads)
        direction = -z
        every = restart or len(params)
        if state.steps % every:
            previous = float(state.gradient @ state.preconditioned)
            if previous > 0:
                mix = max(0.0, float(z @ (grads - state.gradient)) / previous)
                direction = direction + mix * state.direction
        slope = float(grads @ direction)
        if slope >= 0.0:  # not downhill (rounding): start again from the gradient
            direction = -z
            slope = float(grads @ direction)
        curvature = curvature_along(direction) if slope < 0.0 else 0.0
        alpha = -slope / curvature if curvature > 0.0 else 0.0
        updates = (lr(state.steps) * alpha) * direction
        return updates, CGState(direction, grads, z, state.steps + 1)

    return GradientTransformation(init, update)
