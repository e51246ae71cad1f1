"""Learning-rate schedules: functions from the step number (0, 1, 2, ...) to a rate.

A float is turned into a schedule once, at the edge (``as_schedule``); everything
inside sees a schedule. Schedules are small frozen dataclasses so that they print
as what they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from gradfit.exceptions import InvalidInputError

__all__ = [
    "Schedule",
    "as_schedule",
    "check_lr",
    "constant",
    "exponential_decay",
    "inverse_scaling",
    "rates",
    "step_decay",
]


@runtime_checkable
class Schedule(Protocol):
    def __call__(self, step: int) -> float: ...


def check_lr(lr: object, name: str = "lr") -> float:
    """A learning rate must be a finite number > 0.

    >>> check_lr(0.5)
    0.5
    """
    if isinstance(lr, bool) or not isinstance(lr, (int, float)):
        try:
            lr = float(lr)  # type: ignore[arg-type]  # NumPy scalars and the like
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"{name} must be a number, a schedule or 'auto', got {lr!r}: "
                f"try {name}=0.01 or {name}='auto'"
            ) from None
    if not math.isfinite(lr) or lr <= 0:
        raise InvalidInputError(
            f"{name} must be a finite number > 0, got {lr!r}: "
            f"try {name}=0.01, or {name}='auto' to derive it from the data"
        )
    return float(lr)


def _check_every(every: object) -> None:
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
        raise InvalidInputError(
            f"every must be a whole number of steps >= 1, got {every!r}: try every=100"
        )


@dataclass(frozen=True)
class constant:  # noqa: N801  (named like the function it stands for)
    """``lr_t = lr``.

    >>> constant(0.1)(5)
    0.1
    """

    lr: float

    def __post_init__(self) -> None:
        check_lr(self.lr)

    def __call__(self, step: int) -> float:
        return self.lr


@dataclass(frozen=True)
class inverse_scaling:  # noqa: N801
    """``lr_t = lr / (t + 1) ** power``, scikit-learn's 'invscaling' (its t starts at 1).

    >>> inverse_scaling(1.0, power=0.5)(3)
    0.5
    """

    lr: float
    power: float = 0.25

    def __post_init__(self) -> None:
        check_lr(self.lr)

    def __call__(self, step: int) -> float:
        return self.lr / (step + 1) ** self.power


@dataclass(frozen=True)
class exponential_decay:  # noqa: N801
    """``lr_t = lr * rate ** (t / every)``: smooth exponential decay.

    >>> exponential_decay(1.0, rate=0.5, every=2)(4)
    0.25
    """

    lr: float
    rate: float = 0.99
    every: int = 1

    def __post_init__(self) -> None:
        check_lr(self.lr)
        if not 0 < self.rate <= 1:
            raise InvalidInputError(f"rate must be in (0, 1], got {self.rate}: try rate=0.99")
        _check_every(self.every)

    def __call__(self, step: int) -> float:
        return self.lr * self.rate ** (step / self.every)


@dataclass(frozen=True)
class step_decay:  # noqa: N801
    """``lr_t = lr * factor ** floor(t / every)``: drop the rate every ``every`` steps.

    >>> [step_decay(1.0, factor=0.5, every=2)(t) for t in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    lr: float
    factor: float = 0.5
    every: int = 100

    def __post_init__(self) -> None:
        check_lr(self.lr)
        if not 0 < self.factor <= 1:
            raise InvalidInputError(f"factor must be in (0, 1], got {self.factor}: try 0.5")
        _check_every(self.every)

    def __call__(self, step: int) -> float:
        return self.lr * self.factor ** (step // self.every)


def as_schedule(lr: float | Schedule) -> Schedule:
    """Turn a float into a constant schedule; pass a schedule through.

    >>> as_schedule(0.01)
    constant(lr=0.01)
    """
    if callable(lr):
        return lr
    return constant(check_lr(lr))


def rates(schedule: Schedule, steps: np.ndarray) -> np.ndarray:
    """The rate at each of ``steps``, as an array (a constant one without a call per step).

    >>> rates(constant(0.1), np.arange(3)).tolist()
    [0.1, 0.1, 0.1]
    >>> rates(step_decay(1.0, factor=0.5, every=2), np.arange(4)).tolist()
    [1.0, 1.0, 0.5, 0.5]
    """
    if isinstance(schedule, constant):
        return np.full(len(steps), schedule.lr)
    return np.array([schedule(int(t)) for t in steps], dtype=np.float64)
