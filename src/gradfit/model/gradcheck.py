"""Finite-difference gradient checks: trust an analytic gradient only once checked."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["check_gradient", "numerical_gradient"]


def numerical_gradient(
    f: Callable[[np.ndarray], float], theta: np.ndarray, eps: float = 1e-6
) -> np.ndarray:
    """Central differences ``(f(theta + h e_i) - f(theta - h e_i)) / 2h``, ``h`` relative.

    >>> numerical_gradient(lambda t: float(t @ t), np.array([1.0, -2.0])).round(6).tolist()
    [2.0, -4.0]
    """
    theta = np.asarray(theta, dtype=np.float64)
    grad = np.empty_like(theta)
    for i in range(theta.size):
        h = eps * max(1.0, abs(theta[i]))
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (f(up) - f(down)) / (2 * h)
    return grad


def check_gradient(
    value_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    theta: np.ndarray,
    eps: float = 1e-6,
) -> float:
    """Relative error between an analytic gradient and central differences.

    ``value_and_grad`` maps parameters to ``(loss, gradient)``. A correct gradient
    gives about 1e-8 or less; a wrong one gives about 1.

    >>> from gradfit.model import LinearRegressionLoss
    >>> X = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]]); y = np.array([1.0, 2.0, 3.0])
    >>> f = LinearRegressionLoss(X, y)
    >>> check_gradient(f.value_and_grad, np.array([0.3, -0.2, 0.1])) < 1e-8
    True
    """
    analytic = np.asarray(value_and_grad(theta)[1])
    numeric = numerical_gradient(lambda t: value_and_grad(t)[0], theta, eps)
    scale = max(float(np.linalg.norm(analytic)), float(np.linalg.norm(numeric)), 1e-12)
    return float(np.linalg.norm(analytic - numeric)) / scale
