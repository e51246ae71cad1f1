"""Closed-form least squares: a yardstick for gradient descent, never a stand-in.

Used to measure the gap between a descent and the optimum, and in tests.
"""

from __future__ import annotations

import numpy as np

__all__ = ["least_squares"]


def least_squares(
    X: np.ndarray,
    y: np.ndarray,
    sample_weight: np.ndarray | None = None,
    *,
    fit_intercept: bool = True,
) -> tuple[np.ndarray, float]:
    """The minimum-norm least-squares ``(w, b)`` by ``numpy.linalg.lstsq`` (SVD).

    The data are centred first (exactly what the intercept absorbs), so large
    feature offsets cost no accuracy, and the columns are equilibrated, so that a
    column in tiny units is not cut off as a null direction. With collinear columns
    the solution with the smallest ``|w|`` (in the units given) is returned.

    >>> w, b = least_squares(np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0]))
    >>> w.round(12).tolist(), round(b, 12)
    ([2.0], 1.0)
    """
    X = np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float64)
    if fit_intercept:
        x_mean = np.average(X, axis=0, weights=sample_weight)
        y_mean = float(np.average(y, weights=sample_weight))
    else:  # through the origin: nothing is centred, b = 0
        x_mean, y_mean = np.zeros(X.shape[1]), 0.0
    A, r = X - x_mean, y - y_mean
    if sample_weight is not None:
        root = np.sqrt(sample_weight)
        A, r = A * root[:, None], r * root
    # Columns to unit length first: lstsq's cut-off for small singular values is relative,
    # and a column in tiny units (1e-9) must not look like a null direction.
    norms = np.linalg.norm(A, axis=0)
    norms[norms == 0] = 1.0
    scaled = A / norms
    w = np.linalg.lstsq(scaled, r, rcond=None)[0] / norms
    # Many solutions (collinear columns, or fewer rows than columns): the one with the
    # smallest |w| in the units given, as LinearRegression's, lies in the row space of A,
    # which is D times that of the equilibrated columns.
    _, sing, vt = np.linalg.svd(scaled, full_matrices=False)
    cut = max(scaled.shape) * np.finfo(np.float64).eps * (sing[0] if sing.size else 0.0)
    rank = int(np.count_nonzero(sing > cut))
    if rank < A.shape[1]:
        rows = np.linalg.qr((vt[:rank] * norms).T)[0]
        w = rows @ (rows.T @ w)
    return w, y_mean - float(x_mean @ w)
