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

    The data are centred first (exactly what the intercept absorbs), so large
    feature offsets cost no accuracy.

    >>> w, b = least_squares(np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0]))
    >>> w.round(12).tolist(), round(b, 12)
    ([2.0], 1.0)
    """
    X = np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float64)
    x_mean = np.average(X, axis=0, weights=sample_weight)
    y_mean = float(np.average(y, weights=sample_weight))
    A, r = X - x_mean, y - y_mean
    if sample_weight is not None:
        root = np.sqrt(sample_weight)
        A, r = A * root[:, None], r * root
    w = np.linalg.lstsq(A, r, rcond=None)[0]
    return w, y_mean - float(x_mean @ w)
