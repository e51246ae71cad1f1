"""The small pieces update rules are made of.

Each is a ``GradientTransformation`` whose update equations are written out below;
``t`` counts steps from 0, ``g`` is the gradient, ``u`` the update.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from gradfit.exceptions import InvalidInputError
from gradfit.optim.base import GradientTransformation
from gradfit.optim.schedules import Schedule, constant

__all__ = [
    "FistaState",
    "ProximalState",
    "ScaleByAdamState",
    "ScaleByScheduleState",
    "TraceState",
    "fista",
    "proximal_step",
    "scale_by_adam",
    "scale_by_learning_rate",
    "trace",
]


class ScaleByScheduleState(NamedTuple):
    step: int


# NamedTuple's own __new__ is a Python function; tuple's is not, and a full-batch step
# of small d costs a few microseconds.
_new_tuple = tuple.__new__


def scale_by_learning_rate(schedule: Schedule) -> GradientTransformation:
    """``u = -lr(t) * g``: the step of article A, ``theta - alpha * grad``."""

    def init(params: np.ndarray) -> ScaleByScheduleState:
        return ScaleByScheduleState(0)

    # A constant rate is read once, as a 0-d array (NumPy multiplies by one faster than
    # by a Python float): a full-batch step of small d costs microseconds.
    fixed = np.asarray(-schedule.lr) if isinstance(schedule, constant) else None

    def update(
        grads: np.ndarray, state: ScaleByScheduleState, params: np.ndarray
    ) -> tuple[np.ndarray, ScaleByScheduleState]:
        step = state[0]
        factor = fixed if fixed is not None else -schedule(step)
        return grads * factor, _new_tuple(ScaleByScheduleState, (step + 1,))

    return GradientTransformation(init, update)


class TraceState(NamedTuple):
    velocity: np.ndarray


def _check_decay(value: float, name: str) -> None:
    if not 0.0 <= value < 1.0:
        raise InvalidInputError(f"{name} must be in [0, 1), got {value!r}: try {name}=0.9")


def trace(decay: float, nesterov: bool = False) -> GradientTransformation:
    """Momentum: ``v_t = g + decay * v_{t-1}``; ``u = v_t`` or, Nesterov, ``g + decay * v_t``."""
    _check_decay(decay, "momentum")

    def init(params: np.ndarray) -> TraceState:
        return TraceState(np.zeros_like(params))

    def update(
        grads: np.ndarray, state: TraceState, params: np.ndarray
    ) -> tuple[np.ndarray, TraceState]:
        v = grads + decay * state.velocity
        return (grads + decay * v if nesterov else v), TraceState(v)

    return GradientTransformation(init, update)


class ScaleByAdamState(NamedTuple):
    step: int
    mu: np.ndarray
    nu: np.ndarray


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> GradientTransformation:
    """Adam's rescaling (Kingma and Ba, 2015)::

    m_t = b1 m_{t-1} + (1 - b1) g        v_t = b2 v_{t-1} + (1 - b2) g^2
    u = m_hat / (sqrt(v_hat) + eps),  m_hat = m_t / (1 - b1^(t+1)),  v_hat likewise
    """
    _check_decay(b1, "b1")
    _check_decay(b2, "b2")

    def init(params: np.ndarray) -> ScaleByAdamState:
        return ScaleByAdamState(0, np.zeros_like(params), np.zeros_like(params))

    def update(
        grads: np.ndarray, state: ScaleByAdamState, params: np.ndarray
    ) -> tuple[np.ndarray, ScaleByAdamState]:
        mu = b1 * state.mu + (1 - b1) * grads
        nu = b2 * state.nu + (1 - b2) * grads * grads
        t = state.step + 1
        u = (mu / (1 - b1**t)) / (np.sqrt(nu / (1 - b2**t)) + eps)
        return u, ScaleByAdamState(t, mu, nu)

    return GradientTransformation(init, update)


# The proximal map of a non-smooth part of the objective: prox(theta, step) -> theta.
Prox = Callable[[np.ndarray, float], np.ndarray]


class ProximalState(NamedTuple):
    step: int


def proximal_step(schedule: Schedule, prox: Prox) -> GradientTransformation:
    """The proximal step after a gradient step: ``theta' = prox(theta + u, lr(t))``,
    as the update ``u' = prox(theta + u, lr(t)) - theta``.

    After ``gd`` this is ISTA (proximal gradient descent); for the L1 penalty ``prox`` is
    the soft threshold, which sets small coefficients to exactly 0.
    """

    def init(params: np.ndarray) -> ProximalState:
        return ProximalState(0)

    def update(
        updates: np.ndarray, state: ProximalState, params: np.ndarray
    ) -> tuple[np.ndarray, ProximalState]:
        moved = prox(params + updates, schedule(state.step))
        return moved - params, ProximalState(state.step + 1)

    return GradientTransformation(init, update)


class FistaState(NamedTuple):
    step: int
    t: float  # the momentum sequence t_k
    previous: np.ndarray  # x_{k-1}, the last proximal point


def fista(schedule: Schedule, prox: Prox, restart: bool = True) -> GradientTransformation:
    """FISTA (Beck and Teboulle, 2009), with adaptive restarts (O'Donoghue and Candes,
    2015). The parameters descent stands at are the extrapolated point ``y_k``::

        x_k = prox(y_k - lr g(y_k), lr)
        t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2
        y_{k+1} = x_k + (t_k - 1) / t_{k+1} (x_k - x_{k-1})

    and the momentum restarts (``t = 1``, ``y = x_k``) when the step ``y_k -> x_k``
    points against the last move ``x_k - x_{k-1}``: the objective would rise.
    """

    def init(params: np.ndarray) -> FistaState:
        return FistaState(0, 1.0, params.copy())

    def update(
        grads: np.ndarray, state: FistaState, params: np.ndarray
    ) -> tuple[np.ndarray, FistaState]:
        lr = schedule(state.step)
        x = prox(params - lr * grads, lr)
        move = x - state.previous
        if restart and float((params - x) @ move) > 0.0:
            t_next, y = 1.0, x
        else:
            t_next = (1.0 + math.sqrt(1.0 + 4.0 * state.t * state.t)) / 2.0
            y = x + ((state.t - 1.0) / t_next) * move
        return y - params, FistaState(state.step + 1, t_next, x)

    return GradientTransformation(init, update)
