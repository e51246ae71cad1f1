"""Feature standardization, with coefficients always reported in original units.

Gradient descent runs on ``z = (x - mean) / scale``; a fit in those coordinates,
``y = z . v + c``, is the same line as ``y = x . w + b`` with
``w = v / scale`` and ``b = c - mean . w``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from gradfit.data.validation import dense_rows

__all__ = ["Scaling", "column_moments"]


class Scaling(NamedTuple):
    """An affine change of feature coordinates, ``z = (x - mean) / scale``.

    >>> s = Scaling.standardize(np.array([[1.0, 10.0], [3.0, 10.0]]))
    >>> s.mean, s.scale  # the constant column keeps scale 1: no division by zero
    (array([ 2., 10.]), array([1., 1.]))
    >>> s.to_original(np.array([2.0, 5.0, 1.0]))  # v = [2, 5], c = 1
    array([  2.,   5., -53.])
    """

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def identity(cls, n_features: int) -> Scaling:
        return cls(np.zeros(n_features), np.ones(n_features))

    @classmethod
    def from_moments(cls, mean: np.ndarray, var: np.ndarray) -> Scaling:
        """Standardize with the given column means and variances."""
        std = np.sqrt(np.maximum(var, 0.0))
        # A constant column has nothing to scale; its coefficient stays 0 and the
        # intercept absorbs it, so scale 1 is exact and avoids 0/0. "Constant" is
        # relative to the column's own size (a spread of 1e-19 around 3.6e-19 is real
        # data in joules), and below rounding of its mean.
        tiny = 16 * np.finfo(np.float64).eps * np.abs(mean)
        return cls(np.asarray(mean, dtype=np.float64), np.where(std > tiny, std, 1.0))

    @classmethod
    def standardize(
        cls, X: Any, sample_weight: np.ndarray | None = None, chunk_rows: int | None = None
    ) -> Scaling:
        """(Weighted) column means and population standard deviations, in bounded memory.

        Dense or sparse ``X``; centred values exist only one chunk of rows at a time.
        """
        return cls.from_moments(*column_moments(X, sample_weight, chunk_rows))

    def same_as(self, other: Scaling) -> bool:
        """The same coordinates (NamedTuple equality would compare arrays ambiguously)."""
        return np.array_equal(self.mean, other.mean) and np.array_equal(self.scale, other.scale)

    @property
    def is_identity(self) -> bool:
        return not self.mean.any() and bool((self.scale == 1.0).all())

    def apply(self, X: np.ndarray) -> np.ndarray:
        """``(X - mean) / scale`` for a dense block of rows."""
        return (X - self.mean) / self.scale

    def to_original(self, theta: np.ndarray) -> np.ndarray:
        """Map ``[v, c]`` (scaled coordinates) to ``[w, b]`` (original units)."""
        if self.is_identity:
            return theta
        w = theta[..., :-1] / self.scale
        b = theta[..., -1] - w @ self.mean
        return np.concatenate([w, np.asarray(b)[..., None]], axis=-1)

    def to_scaled(self, theta: np.ndarray) -> np.ndarray:
        """Map ``[w, b]`` (original units) to ``[v, c]`` (scaled coordinates)."""
        w = theta[..., :-1]
        c = theta[..., -1] + w @ self.mean
        return np.concatenate([w * self.scale, np.asarray(c)[..., None]], axis=-1)


def column_moments(
    X: Any, sample_weight: np.ndarray | None = None, chunk_rows: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(Weighted) means and population variances of the columns, in bounded memory.

    >>> column_moments(np.array([[1.0], [3.0]]))
    (array([2.]), array([1.]))
    """
    n, d = X.shape
    s = np.ones(n) if sample_weight is None else sample_weight
    total = float(s.sum())
    mean = np.asarray(s @ X).ravel() / total
    rows = chunk_rows or max(1, 2**22 // d)
    ss = np.zeros(d)
    for start in range(0, n, rows):
        centred = dense_rows(X, start, start + rows) - mean
        ss += s[start : start + rows] @ (centred * centred)
    return mean, ss / total
