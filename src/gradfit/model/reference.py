"""Closed-form least squares: a yardstick for gradient descent, never a stand-in.

Used to measure the gap between a descent and the optimum, and in tests.
"""

from __future__ import annotations

import numpy as np

__all__ = ["least_squares"]


def least_squares(
    X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """The minimum-norm least-squares ``(w, b)`` by ``numpy.linalg.lstsq`` (SVD).

    >>> w, b = least_squares(np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0]))
    >>> w.round(12).tolist(), round(b, 12)
    ([2.0], 1.0)
    """
    A = np.column_stack([X, np.ones(X.shape[0])])
    if sample_weight is not None:
        root = np.sqrt(sample_weight)
        A, y = A * root[:, None], y * root
    theta = np.linalg.lstsq(A, y, rcond=None)[0]
    return theta[:-1], float(theta[-1])
