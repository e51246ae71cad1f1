"""Exact minimisers for the yardsticks of penalized fits (``RegularizedObjective.solution``).

``lasso_quadratic`` minimises a quadratic plus a weighted L1 norm to every digit: the
lasso's and elastic net's answers on the statistics, and the subproblem of each proximal
Newton step of Huber's loss.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["lasso_quadratic"]


def lasso_quadratic(
    H: np.ndarray,
    b: np.ndarray,
    l1: np.ndarray,
    start: np.ndarray,
    *,
    max_sweeps: int = 10_000,
) -> np.ndarray:
    """The minimiser of ``z^T H z / 2 - b^T z + sum_j l1_j |z_j|`` (``H`` positive definite
    on the coordinates that move).

    Coordinate descent (each coordinate's exact minimiser in turn, Friedman et al. 2010)
    until its sweeps stop changing the support, then a solve on the support with the
    signs it found, kept when it satisfies the optimality conditions: every digit,
    not only those coordinate descent's tolerance reached.

    >>> lasso_quadratic(np.eye(2), np.array([3.0, 0.5]), np.array([1.0, 1.0]), np.zeros(2))
    array([2., 0.])
    """
    z = np.array(start, dtype=np.float64)
    if not l1.any():
        try:
            return np.linalg.solve(H, b)
        except np.linalg.LinAlgError:
            return np.linalg.lstsq(H, b, rcond=None)[0]
    diag = np.diag(H).copy()
    Hz = H @ z
    scale = float(np.abs(b).max()) or 1.0
    for sweep in range(max_sweeps):
        biggest = 0.0
        for j in range(len(z)):
            if diag[j] <= 0:
                continue
            r = b[j] - Hz[j] + diag[j] * z[j]
            new = math.copysign(max(abs(r) - l1[j], 0.0), r) / diag[j]
            if new != z[j]:
                Hz += H[:, j] * (new - z[j])
                biggest = max(biggest, abs(new - z[j]) * diag[j])
                z[j] = new
        if biggest <= 1e-9 * scale or (sweep > 20 and biggest <= 1e-6 * scale):
            polished = _on_support(H, b, l1, z)
            if polished is not None:
                return polished
            if biggest <= 1e-15 * scale:
                return z
    return z


def _on_support(H: np.ndarray, b: np.ndarray, l1: np.ndarray, z: np.ndarray) -> np.ndarray | None:
    """Solve ``H_SS z_S = b_S - l1_S sign(z_S)`` on the support ``S`` of ``z``; the result
    if its signs agree and every coordinate off ``S`` is held by its kink."""
    support = z != 0
    out = np.zeros_like(z)
    if support.any():
        sign = np.sign(z[support])
        try:
            out[support] = np.linalg.solve(
                H[np.ix_(support, support)], b[support] - l1[support] * sign
            )
        except np.linalg.LinAlgError:
            return None
        if np.any(np.sign(out[support]) != sign):
            return None
    gradient = H @ out - b
    off = ~support
    if np.any(np.abs(gradient[off]) > l1[off] * (1 + 1e-9) + 1e-12 * (np.abs(b).max() or 1.0)):
        return None
    return out
