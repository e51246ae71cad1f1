"""Update rules, learning-rate schedules and ``apply_updates``."""

from gradfit.optim.alias import OPTIMIZERS, adam, gd, make_optimizer, momentum, nesterov
from gradfit.optim.base import GradientTransformation, apply_updates, chain
from gradfit.optim.schedules import (
    Schedule,
    as_schedule,
    check_lr,
    constant,
    exponential_decay,
    inverse_scaling,
    step_decay,
)
from gradfit.optim.transforms import scale_by_adam, scale_by_learning_rate, trace

__all__ = [
    "OPTIMIZERS",
    "GradientTransformation",
    "Schedule",
    "adam",
    "apply_updates",
    "as_schedule",
    "chain",
    "check_lr",
    "constant",
    "exponential_decay",
    "gd",
    "inverse_scaling",
    "make_optimizer",
    "momentum",
    "nesterov",
    "scale_by_adam",
    "scale_by_learning_rate",
    "step_decay",
    "trace",
]
