"""Update rules, learning-rate schedules and ``apply_updates``."""

from gradfit.optim.alias import adam, gd, momentum, nesterov
from gradfit.optim.base import GradientTransformation, apply_updates, chain
from gradfit.optim.registry import RULES, UpdateRule, get_rule, register, rule_names
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
    "RULES",
    "GradientTransformation",
    "Schedule",
    "UpdateRule",
    "adam",
    "apply_updates",
    "as_schedule",
    "chain",
    "check_lr",
    "constant",
    "exponential_decay",
    "gd",
    "get_rule",
    "inverse_scaling",
    "momentum",
    "nesterov",
    "register",
    "rule_names",
    "scale_by_adam",
    "scale_by_learning_rate",
    "step_decay",
    "trace",
]
