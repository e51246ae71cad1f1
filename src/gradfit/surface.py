"""The cost surface J around a descent path: numbers for plots and the playground."""

from __future__ import annotations

import numpy as np

from gradfit.model import Objective
from gradfit.model.precise import exact_solution

__all__ = ["optimum", "surface_grid"]


def optimum(objective: Objective) -> tuple[np.ndarray, float]:
    """Least-squares parameters (descent coordinates) and loss: the yardstick (from the
    rows, to the last digit, where float64 statistics would blur it)."""
    if objective.has_rows and objective.digits_at_risk:
        theta = objective.scaling.to_scaled(exact_solution(objective))
    else:
        theta = objective.solution()
    return theta, objective.row_loss(theta)


def surface_grid(
    objective: Objective,
    path: np.ndarray,
    star: np.ndarray,
    i: int,
    j: int,
    n: int = 80,
    *,
    square: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """J over coefficients ``i`` and ``j`` (others at ``star``) on a grid around ``path``.

    ``square``: both axes span the same length (coordinates in the same units, drawn on
    equal scales: a round bowl fills the frame as circles)."""
    lo = np.minimum(path[:, [i, j]].min(axis=0), star[[i, j]])
    hi = np.maximum(path[:, [i, j]].max(axis=0), star[[i, j]])
    if square:
        middle, half = (lo + hi) / 2, float((hi - lo).max()) / 2
        lo, hi = middle - half, middle + half
    pad = np.maximum(0.15 * (hi - lo), 1e-3 * np.maximum(np.abs(star[[i, j]]), 1.0))
    a = np.linspace(lo[0] - pad[0], hi[0] + pad[0], n)
    c = np.linspace(lo[1] - pad[1], hi[1] + pad[1], n)
    A, C = np.meshgrid(a, c)
    thetas = np.tile(star, (A.size, 1))
    thetas[:, i], thetas[:, j] = A.ravel(), C.ravel()
    return A, C, objective.loss_at(thetas).reshape(A.shape)
