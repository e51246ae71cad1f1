"""The losses: their value next to their derivative, as in article A.

For predictions ``p`` and targets ``y`` (errors ``e = p - y``) over ``N`` rows::

    J = (1/N) * sum_i e_i^2          dJ/dp_i = (2/N) * e_i

With sample weights ``s`` the mean is weighted: ``J = sum_i s_i e_i^2 / sum_i s_i``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["huber_error", "squared_error"]


def squared_error(
    p: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None, total: float | None = None
) -> tuple[float, np.ndarray]:
    """Mean squared error and its gradient with respect to the predictions.

    ``total`` is the normaliser (``N``, or the weight of these rows); by default the
    number of rows, or the sum of the weights.

    >>> loss, dp = squared_error(np.array([3.0, 5.0]), np.array([1.0, 5.0]))
    >>> loss, dp.tolist()
    (2.0, [2.0, 0.0])
    """
    e = p - y
    if weights is None:
        total = e.shape[0] if total is None else total
        return float(e.dot(e)) / total, e * (2.0 / total)
    total = float(weights.sum()) if total is None else total
    we = weights * e
    return float(we.dot(e)) / total, we * (2.0 / total)


def huber_error(
    p: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
    total: float | None = None,
    *,
    epsilon: float,
) -> tuple[float, np.ndarray]:
    """Mean Huber loss (twice scikit-learn's ``SGDRegressor``'s) and its gradient.

    Per row, with ``e = p - y``: ``e^2`` while ``|e| <= epsilon``, then the line
    ``2 epsilon |e| - epsilon^2`` that continues it with the same slope: a row whose
    error is past ``epsilon`` pulls with a fixed force ``2 epsilon``, however far it is.
    ``epsilon`` is in the target's units. As ``epsilon`` grows this is the mean
    squared error.

    >>> loss, dp = huber_error(np.array([3.0, 5.0]), np.array([1.0, 5.0]), epsilon=1.0)
    >>> loss, dp.tolist()  # (2*1*2 - 1 + 0) / 2; clip(e, -1, 1) * 2/2
    (1.5, [1.0, 0.0])
    """
    e = p - y
    clipped = np.clip(e, -epsilon, epsilon)
    # e^2 inside, 2 eps |e| - eps^2 outside: both are clipped * (2 e - clipped)
    rho = clipped * (2.0 * e - clipped)
    if weights is None:
        total = e.shape[0] if total is None else total
        return float(rho.sum()) / total, clipped * (2.0 / total)
    total = float(weights.sum()) if total is None else total
    return float(weights.dot(rho)) / total, weights * clipped * (2.0 / total)
