"""The cost surface J around a descent path: numbers for plots and the playground."""

from __future__ import annotations

import numpy as np

from gradfit.train import Problem

__all__ = ["loss_at", "optimum", "surface_grid"]


def optimum(problem: Problem) -> tuple[np.ndarray, float]:
    """Least-squares parameters (descent coordinates) and loss: the yardstick."""
    theta = problem.stats.solve()
    return theta, problem.rows.value_and_grad(theta)[0]


def loss_at(problem: Problem, thetas: np.ndarray) -> np.ndarray:
    """Full-data loss at many parameter vectors at once (rows of ``thetas``)."""
    quad = problem.quadratic()
    J = 0.5 * np.einsum("ki,ij,kj->k", thetas, quad.H, thetas) - thetas @ quad.h + quad.f0
    return np.maximum(J, 0.0)


def surface_grid(
    problem: Problem, path: np.ndarray, star: np.ndarray, i: int, j: int, n: int = 80
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo = np.minimum(path[:, [i, j]].min(axis=0), star[[i, j]])
    hi = np.maximum(path[:, [i, j]].max(axis=0), star[[i, j]])
    pad = np.maximum(0.15 * (hi - lo), 1e-3 * np.maximum(np.abs(star[[i, j]]), 1.0))
    a = np.linspace(lo[0] - pad[0], hi[0] + pad[0], n)
    c = np.linspace(lo[1] - pad[1], hi[1] + pad[1], n)
    A, C = np.meshgrid(a, c)
    thetas = np.tile(star, (A.size, 1))
    thetas[:, i], thetas[:, j] = A.ravel(), C.ravel()
    return A, C, loss_at(problem, thetas).reshape(A.shape)
