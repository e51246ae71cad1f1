"""The small pieces update rules are made of.

Each is a ``GradientTransformation`` whose update equations are written out below;
``t`` counts steps from 0, ``g`` is the gradient, ``u`` the update.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gradfit.exceptions import InvalidInputError
from gradfit.optim.base import GradientTransformation
from gradfit.optim.schedules import Schedule, constant

__all__ = [
    "ScaleByAdamState",
    "ScaleByScheduleState",
    "TraceState",
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
