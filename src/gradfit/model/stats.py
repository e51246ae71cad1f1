"""Sufficient statistics: full-batch descent in O(d^2) per step, whatever N is.

The mean squared error of ``y = X w + b`` depends on the data only through the
(weighted) means ``xbar``, ``ybar`` and the centred cross-products
``Sxx = sum_i s_i (x_i - xbar)(x_i - xbar)^T``, ``Sxy``, ``Syy``. With
``c = xbar . w + b - ybar`` (the error of the line at the centre of the data)
and ``W = sum_i s_i``::

    J(w, b) = (w^T Sxx w - 2 w^T Sxy + Syy) / W + c^2
    dJ/dw   = (2/W) (Sxx w - Sxy) + 2 c xbar
    dJ/db   = 2 c

These are exactly article B's full-batch loss and gradient, regrouped; centring
keeps them accurate when the features have large offsets. Statistics of chunks
merge exactly (Chan, Golub and LeVeque's pairwise update), so files and
clusters reduce to the same object.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np

from gradfit.data.scaling import Scaling
from gradfit.data.source import ArraySource, Batch, Source
from gradfit.data.validation import dense_rows, is_sparse
from gradfit.exceptions import InvalidInputError

__all__ = ["RAW_OFFSET_LIMIT", "Quadratic", "SufficientStats", "SummarySource"]

# Products are formed uncentred (one BLAS pass) only while every column's squared mean is
# at most this many times its variance: centring afterwards then costs at most 4 digits.
RAW_OFFSET_LIMIT = 1e4
# The statistics of streamed sources, by source: one pass over a file or a cluster.
_STREAMED_STATS: weakref.WeakKeyDictionary[Any, tuple[Any, SufficientStats]] = (
    weakref.WeakKeyDictionary()
)


def _stats_of_batch(batch: Batch) -> SufficientStats:
    """The statistics of one chunk (a module-level function: it travels to Dask workers);
    an empty chunk has weight 0, which ``merge`` skips."""
    d = batch.X.shape[1]
    if len(batch.y) == 0:
        return SufficientStats(0.0, np.zeros(d), 0.0, np.zeros((d, d)), np.zeros(d), 0.0)
    return SufficientStats.from_arrays(batch.X, batch.y, batch.weight)


class SufficientStats(NamedTuple):
    """Weight, means and centred cross-products of ``(X, y)``.

    >>> X = np.array([[1.0], [2.0], [3.0]]); y = np.array([2.0, 4.0, 6.0])
    >>> s = SufficientStats.from_arrays(X, y)
    >>> loss, grad = s.value_and_grad(np.array([0.0, 0.0]))
    >>> round(loss, 6), grad.round(6).tolist()
    (18.666667, [-18.666667, -8.0])
    """

    weight: float
    x_mean: np.ndarray
    y_mean: float
    Sxx: np.ndarray
    Sxy: np.ndarray
    Syy: float

    @classmethod
    def from_arrays(
        cls,
        X: Any,
        y: np.ndarray,
        sample_weight: np.ndarray | None = None,
        chunk_rows: int | None = None,
    ) -> SufficientStats:
        """Statistics of ``(X, y)`` in one pass when that is exact enough, else two.

        One pass forms the raw products ``X^T X`` and ``X^T y`` (BLAS, no copy of X)
        and centres them afterwards. Centring afterwards loses about
        ``log10(mean^2 / variance)`` digits, so when a column's offset dwarfs its
        spread (more than 100x) a second pass centres chunk by chunk instead.
        """
        s = sample_weight
        if s is None and chunk_rows is None:
            raw = cls._raw_products(X, y)
            if raw is not None:
                return raw
        return cls._centred_products(X, y, s, chunk_rows)

    @classmethod
    def from_source(cls, source: Source) -> SufficientStats:
        """Statistics of every row of a source: in memory at once, else merged chunk by
        chunk (where the rows live, when the source maps and reduces them itself).

        A streamed source (a file, a cluster's partitions) is passed over once: its
        statistics are kept for as long as the source lives.
        """
        if isinstance(source, SummarySource):
            return source.stats
        if isinstance(source, ArraySource):
            return cls.from_arrays(source.X, source.y, source.sample_weight)
        streamed = getattr(source, "streamed", False)
        # what the rows depend on besides the source object (a file's size and time)
        signature = getattr(source, "signature", lambda: None)()
        if streamed and source in _STREAMED_STATS:
            known, stats = _STREAMED_STATS[source]
            if known == signature:
                return stats
        map_reduce = getattr(source, "map_reduce", None)
        if map_reduce is not None:
            stats = map_reduce(_stats_of_batch, SufficientStats.merge)
        else:
            stats = cls.reduce(_stats_of_batch(c) for c in source.chunks())
        if stats.weight <= 0:
            raise InvalidInputError("the source has no rows of positive weight: nothing to fit")
        if streamed:
            _STREAMED_STATS[source] = (signature, stats)
        return stats

    @classmethod
    def _raw_products(cls, X: Any, y: np.ndarray) -> SufficientStats | None:
        n = X.shape[0]
        y_mean = float(y.mean())
        # X^T [1 y]: the column sums and X^T y in one pass over X (one BLAS call, 8x
        # faster than X.mean(axis=0) on tall X)
        sums = np.asarray(X.T @ np.column_stack([np.ones(n), y]))
        x_mean = sums[:, 0] / n
        gram = X.T @ X  # NumPy hands X^T X to BLAS syrk; SciPy keeps it sparse
        gram = gram.toarray() if is_sparse(gram) else gram
        Sxx = gram - n * np.outer(x_mean, x_mean)
        var = np.diag(Sxx) / n
        if not np.all(x_mean**2 <= RAW_OFFSET_LIMIT * var):
            return None
        Sxy = sums[:, 1] - n * x_mean * y_mean
        Syy = float(y @ y) - n * y_mean**2
        if not y_mean**2 <= RAW_OFFSET_LIMIT * Syy / n:
            return None
        return cls(float(n), x_mean, y_mean, Sxx, Sxy, Syy)

    @classmethod
    def _centred_products(
        cls, X: Any, y: np.ndarray, s: np.ndarray | None, chunk_rows: int | None
    ) -> SufficientStats:
        weight = float(X.shape[0] if s is None else s.sum())
        x_mean = np.asarray((np.ones(X.shape[0]) if s is None else s) @ X).ravel() / weight
        y_mean = float(y.mean() if s is None else s @ y / weight)
        d = X.shape[1]
        Sxx, Sxy, Syy = np.zeros((d, d)), np.zeros(d), 0.0
        rows = chunk_rows or max(1, 2**22 // d)
        for start in range(0, X.shape[0], rows):
            xc = dense_rows(X, start, start + rows) - x_mean
            yc = y[start : start + rows] - y_mean
            if s is not None:
                sc = s[start : start + rows]
                Sxx += (xc * sc[:, None]).T @ xc
                yc_w = yc * sc
            else:
                Sxx += xc.T @ xc
                yc_w = yc
            Sxy += xc.T @ yc_w
            Syy += float(yc @ yc_w)
        return cls(weight, x_mean, y_mean, Sxx, Sxy, Syy)

    def merge(self, other: SufficientStats) -> SufficientStats:
        """Statistics of the union of two disjoint sets of rows.

        >>> rng = np.random.default_rng(0); X = rng.normal(size=(10, 2)); y = rng.normal(size=10)
        >>> a = SufficientStats.from_arrays(X[:4], y[:4]).merge(
        ...     SufficientStats.from_arrays(X[4:], y[4:]))
        >>> bool(np.allclose(a.Sxx, SufficientStats.from_arrays(X, y).Sxx))
        True
        """
        if other.weight == 0:  # an empty chunk (a partition all dropped) adds nothing
            return self
        if self.weight == 0:
            return other
        w = self.weight + other.weight
        dx = other.x_mean - self.x_mean
        dy = other.y_mean - self.y_mean
        f = self.weight * other.weight / w
        return SufficientStats(
            w,
            self.x_mean + dx * (other.weight / w),
            self.y_mean + dy * (other.weight / w),
            self.Sxx + other.Sxx + f * np.outer(dx, dx),
            self.Sxy + other.Sxy + f * dx * dy,
            self.Syy + other.Syy + f * dy * dy,
        )

    @classmethod
    def reduce(cls, parts: Iterable[SufficientStats]) -> SufficientStats:
        """Merge the statistics of many chunks."""
        it = iter(parts)
        total = next(it)
        for part in it:
            total = total.merge(part)
        return total

    @property
    def n_features(self) -> int:
        return int(self.x_mean.shape[0])

    @property
    def x_var(self) -> np.ndarray:
        """Weighted population variance of every feature."""
        return np.diag(self.Sxx) / self.weight

    def scaled(self, scaling: Scaling) -> SufficientStats:
        """The same statistics in the coordinates ``z = (x - mean) / scale``."""
        if scaling.is_identity:
            return self
        sc = scaling.scale
        return self._replace(
            x_mean=(self.x_mean - scaling.mean) / sc,
            Sxx=self.Sxx / np.outer(sc, sc),
            Sxy=self.Sxy / sc,
        )

    def residual_sum_of_squares(self, w: np.ndarray, b: float) -> float:
        """``sum_i s_i (y_i - x_i w - b)^2`` from the statistics alone (its rounding is about
        ``1e-16 Syy``: exact enough unless the fit is nearly exact).

        >>> s = SufficientStats.from_arrays(np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3, 4]))
        >>> round(s.residual_sum_of_squares(np.array([1.5]), 7 / 6), 12)
        0.166666666667
        """
        c = float(self.x_mean @ w) + b - self.y_mean  # the line's error at the centre
        return float(w @ self.Sxx @ w - 2.0 * w @ self.Sxy + self.Syy + self.weight * c * c)

    def value_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Full-data loss and gradient at ``theta = [w, b]`` in O(d^2).

        For repeated evaluations use ``quadratic()``, which precomputes the matrices.
        """
        return self.quadratic().value_and_grad(theta)

    @property
    def second_moments(self) -> np.ndarray:
        """``X^T S X / W``, the uncentred cross-products (what a line through 0 sees)."""
        return self.Sxx / self.weight + np.outer(self.x_mean, self.x_mean)

    def quadratic(self, fit_intercept: bool = True) -> Quadratic:
        """The loss as ``J = theta^T H theta / 2 - h^T theta + f0``, ready for many steps.

        Without an intercept ``b`` is held at 0: its row and column of ``H`` and its
        entry of ``h`` are zero, so its gradient is zero and no update rule moves it.
        """
        H = self.hessian(fit_intercept)
        h = np.append(self.Sxy / self.weight + self.x_mean * self.y_mean, self.y_mean)
        if not fit_intercept:
            h[-1] = 0.0
        return Quadratic(H, 2.0 * h, self.Syy / self.weight + self.y_mean**2)

    def hessian(self, fit_intercept: bool = True) -> np.ndarray:
        """``H = (2/W) [X 1]^T S [X 1]``, the constant Hessian of the loss, (d+1) x (d+1).

        Without an intercept the last row and column are zero.
        """
        d = self.n_features
        H = np.zeros((d + 1, d + 1))
        H[:d, :d] = self.second_moments
        if fit_intercept:
            H[:d, d] = H[d, :d] = self.x_mean
            H[d, d] = 1.0
        return 2.0 * H

    def solve(self, fit_intercept: bool = True, *, full_rank: bool = False) -> np.ndarray:
        """The least-squares ``[w, b]`` from these statistics (minimum norm if singular).

        ``full_rank`` (the caller decided the design's rank): an LU solve of the
        products with unit diagonal, 10x cheaper than ``lstsq``'s SVD and as accurate
        on a non-singular matrix.
        """
        if fit_intercept:
            products, rhs = self.Sxx, self.Sxy
        else:
            products = self.second_moments
            rhs = self.Sxy / self.weight + self.x_mean * self.y_mean
        w = None
        spread = np.sqrt(np.diag(products))
        if full_rank and spread.all():
            try:  # equilibrated: D^-1 P D^-1 (D w) = D^-1 r
                w = np.linalg.solve(products / np.outer(spread, spread), rhs / spread) / spread
            except np.linalg.LinAlgError:
                w = None
        if w is None or not np.isfinite(w).all():
            w = np.linalg.lstsq(products, rhs, rcond=None)[0]
        if not fit_intercept:
            return np.append(w, 0.0)
        return np.append(w, self.y_mean - self.x_mean @ w)


class _Augmented(threading.local):
    """``u = [theta, 1]``, one buffer per thread."""

    def __init__(self, size: int) -> None:
        self.u = np.ones(size)


class Quadratic:
    """``J(theta) = theta^T H theta / 2 - h^T theta + f0``, the loss with its matrices at hand.

    Its gradient ``H theta - h`` costs one (d+1) x (d+1) product, whatever N is.
    """

    def __init__(self, H: np.ndarray, h: np.ndarray, f0: float) -> None:
        self.H, self.h, self.f0 = H, h, f0
        # With u = [theta, 1] and K = [[H, -h], [-h^T, 2 f0]], K u = [gradient, *] and
        # J = u . K u / 2: one product for the gradient and one for the loss, which is
        # what a step of d = 5 costs (NumPy calls, not arithmetic).
        d1 = H.shape[0]
        self._K = np.empty((d1 + 1, d1 + 1))
        self._K[:d1, :d1], self._K[:d1, d1], self._K[d1, :d1] = H, -h, -h
        self._K[d1, d1] = 2.0 * f0
        self._d1 = d1
        self._buffer = _Augmented(d1 + 1)  # per thread: one Objective may serve several

    def __reduce__(self) -> tuple[type[Quadratic], tuple[np.ndarray, np.ndarray, float]]:
        return Quadratic, (self.H, self.h, self.f0)  # copies and pickles skip the buffer

    @property
    def augmented(self) -> np.ndarray:
        """``K = [[H, -h], [-h^T, 2 f0]]``: ``K [theta, 1]`` is ``[gradient, *]``."""
        return self._K

    def value_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        u = self._buffer.u
        u[: self._d1] = theta
        Ku = self._K.dot(u)
        loss = 0.5 * float(u.dot(Ku))
        # clamp at 0: near an exact fit the value is below its rounding error
        return (loss if loss > 0.0 else 0.0), Ku[: self._d1]


class SummarySource:
    """Rows known only through their sufficient statistics: a stream already read.

    Enough for full-batch descent, its curvature and its exact answer (everything is
    a function of the statistics); batches of rows are not available.

    >>> X = np.array([[1.0], [2.0], [3.0]]); y = np.array([2.0, 4.0, 6.0])
    >>> s = SummarySource(SufficientStats.from_arrays(X, y), 3, ["x"])
    >>> s.n_rows, s.n_features
    (3, 1)
    """

    def __init__(
        self, stats: SufficientStats, n_rows: int, feature_names: list[str], target_name: str = "y"
    ) -> None:
        self.stats = stats
        self._n_rows = int(n_rows)
        self._feature_names = list(feature_names)
        self._target_name = target_name

    @property
    def n_rows(self) -> int:
        return self._n_rows

    @property
    def n_features(self) -> int:
        return self.stats.n_features

    @property
    def feature_names(self) -> list[str]:
        return self._feature_names

    @property
    def target_name(self) -> str:
        return self._target_name

    def rows(self, idx: np.ndarray | None) -> Batch:
        raise InvalidInputError(
            "only the statistics of these rows are kept, not the rows: descend full batch "
            "(batch_size=None) on them"
        )

    def chunks(self, max_rows: int | None = None) -> Iterator[Batch]:
        raise InvalidInputError(
            "only the statistics of these rows are kept, not the rows: descend full batch "
            "(batch_size=None) on them"
        )
