"""Named update rules, each a short chain of transforms with the learning rate last."""

from __future__ import annotations

from gradfit.optim.base import GradientTransformation, chain
from gradfit.optim.schedules import Schedule, as_schedule
from gradfit.optim.transforms import scale_by_adam, scale_by_learning_rate, trace

__all__ = ["ADAM_B2", "ADAM_EPS", "adam", "gd", "momentum", "nesterov"]

# Adam's second-moment decay and its denominator's guard (Kingma and Ba's values)
ADAM_B2, ADAM_EPS = 0.999, 1e-8


def gd(lr: float | Schedule) -> GradientTransformation:
    """Plain gradient descent: ``theta <- theta - lr * g``."""
    return chain(scale_by_learning_rate(as_schedule(lr)))


def momentum(lr: float | Schedule, beta: float = 0.9) -> GradientTransformation:
    """Heavy ball: ``v <- g + beta v``; ``theta <- theta - lr * v``."""
    return chain(trace(beta), scale_by_learning_rate(as_schedule(lr)))


def nesterov(lr: float | Schedule, beta: float = 0.9) -> GradientTransformation:
    """Nesterov momentum: ``v <- g + beta v``; ``theta <- theta - lr * (g + beta v)``."""
    return chain(trace(beta, nesterov=True), scale_by_learning_rate(as_schedule(lr)))


def adam(
    lr: float | Schedule, b1: float = 0.9, b2: float = ADAM_B2, eps: float = ADAM_EPS
) -> GradientTransformation:
    """Adam: ``theta <- theta - lr * m_hat / (sqrt(v_hat) + eps)``."""
    return chain(scale_by_adam(b1, b2, eps), scale_by_learning_rate(as_schedule(lr)))
