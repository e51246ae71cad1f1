"""What is minimised: the (weighted) mean squared error of ``y = X w + b`` over a source.

An ``Objective`` is the function gradient descent walks down, in the coordinates it
walks in (standardized features when a ``Scaling`` is given). It answers, for
``theta = [w, b]``:

- the loss and gradient on a batch of rows (``batch_value_and_grad``) and on all rows
  (``value_and_grad``: from the sufficient statistics in O(d^2) when they pay, else
  from the rows);
- the Hessian, its curvature and the exact minimiser (``curvature``, ``solution``),
  which the learning-rate theory and the yardsticks need.

It is built once per data set and shared by every fit of that data (a sweep over
learning rates costs one pass over the rows).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from gradfit.data.scaling import Scaling
from gradfit.data.source import ArraySource, Source
from gradfit.exceptions import InvalidInputError
from gradfit.model.curvature import Curvature, power_iteration
from gradfit.model.linear import LinearRegressionLoss
from gradfit.model.stats import Quadratic, SufficientStats

__all__ = ["STATS_MAX_FEATURES", "Objective"]

# Largest d for which the (d+1) x (d+1) statistics are used automatically.
STATS_MAX_FEATURES = 2048

Path = Literal["auto", "stats", "direct"]


class Objective:
    """Mean squared error over ``source`` in descent coordinates.

    Parameters
    ----------
    source : Source
        Where the rows come from.
    scaling : bool or Scaling, default=False
        True standardizes the features (weighted moments); a ``Scaling`` is used as given.
    path : {'auto', 'stats', 'direct'}, default='auto'
        Full-data evaluations from sufficient statistics (O(d^2) per step after one
        pass) or from the rows (O(n d)). 'auto' uses statistics when
        ``n >= 2 (d + 1)`` and ``d < 2048``.

    Examples
    --------
    >>> from gradfit.data import ArraySource
    >>> f = Objective(ArraySource([[1.0], [2.0], [3.0]], [2.0, 4.0, 6.0]))
    >>> loss, grad = f.value_and_grad(np.zeros(2))
    >>> round(loss, 6), grad.round(6).tolist()
    (18.666667, [-18.666667, -8.0])
    >>> f.solution().round(12).tolist()
    [2.0, 0.0]
    """

    def __init__(self, source: Source, *, scaling: bool | Scaling = False, path: Path = "auto"):
        if path not in ("auto", "stats", "direct"):
            raise InvalidInputError(f"path must be 'auto', 'stats' or 'direct', got {path!r}")
        self.source = source
        n, d = source.n_rows, source.n_features
        use_stats = path == "stats" or (
            path == "auto" and n >= 2 * (d + 1) and d + 1 <= STATS_MAX_FEATURES
        )
        self.path = "stats" if use_stats else "direct"
        self._raw_stats = SufficientStats.from_source(source) if use_stats else None
        if isinstance(scaling, Scaling):
            if scaling.mean.shape != (d,):
                raise InvalidInputError(
                    f"the scaling is for {scaling.mean.shape[0]} features, the data has {d}: "
                    "fit this data from scratch"
                )
            self.scaling = scaling
        elif scaling:
            if self._raw_stats is not None:
                self.scaling = Scaling.from_moments(self._raw_stats.x_mean, self._raw_stats.x_var)
            else:
                self.scaling = Scaling.standardize(*_arrays(source))
        else:
            self.scaling = Scaling.identity(d)
        self._stats = self._raw_stats.scaled(self.scaling) if self._raw_stats else None
        self._quadratic: Quadratic | None = None
        self._curvature: Curvature | None = None
        X, w = _arrays(source)
        self.rows = LinearRegressionLoss(X, source.rows(None).y, self.scaling, w)

    # -- sizes and names ----------------------------------------------------------------

    @property
    def n_rows(self) -> int:
        return self.source.n_rows

    @property
    def n_params(self) -> int:
        """``d + 1``: the coefficients and the intercept."""
        return self.source.n_features + 1

    @property
    def feature_names(self) -> list[str]:
        return self.source.feature_names

    # -- values and gradients -----------------------------------------------------------

    @property
    def stats(self) -> SufficientStats:
        """Sufficient statistics in descent coordinates (one pass, on first use)."""
        if self._stats is None:
            if self._raw_stats is None:
                self._raw_stats = SufficientStats.from_source(self.source)
            self._stats = self._raw_stats.scaled(self.scaling)
        return self._stats

    def quadratic(self) -> Quadratic:
        """The loss as a quadratic in descent coordinates, built once from ``stats``."""
        if self._quadratic is None:
            self._quadratic = self.stats.quadratic()
        return self._quadratic

    @property
    def loss_resolution(self) -> float:
        """Losses below this are rounding noise of the O(d^2) formula (0 on the rows)."""
        return 1e-13 * self.quadratic().f0 if self.path == "stats" else 0.0

    @property
    def full_value_and_grad(self) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
        """Full-data loss and gradient: from the statistics when chosen, else the rows."""
        if self.path == "stats":
            return self.quadratic().value_and_grad
        return self.rows.value_and_grad

    def value_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Full-data loss and gradient at ``theta``."""
        return self.full_value_and_grad(theta)

    def batch_value_and_grad(self, theta: np.ndarray, rows: np.ndarray) -> tuple[float, np.ndarray]:
        """Loss and gradient on the rows at ``rows`` (an unbiased estimate of the full ones)."""
        return self.rows.value_and_grad(theta, rows)

    def row_loss(self, theta: np.ndarray, rows: np.ndarray | None = None) -> float:
        """The loss computed from the rows themselves (full precision near an exact fit)."""
        return self.rows.value_and_grad(theta, rows)[0]

    def loss_at(self, thetas: np.ndarray) -> np.ndarray:
        """Full-data loss at many parameter vectors at once (rows of ``thetas``)."""
        quad = self.quadratic()
        J = 0.5 * np.einsum("ki,ij,kj->k", thetas, quad.H, thetas) - thetas @ quad.h + quad.f0
        return np.maximum(J, 0.0)

    # -- curvature and the exact answer -------------------------------------------------

    @property
    def curvature(self) -> Curvature:
        """Hessian eigenvalues from the statistics, or ``L`` by power iteration."""
        if self._curvature is None:
            if self.path == "stats":
                self._curvature = Curvature.from_hessian(self.quadratic().H)
            else:
                top = power_iteration(
                    self.rows.hessian_vector_product, self.n_params, iters=60, rtol=1e-4
                )
                self._curvature = Curvature(top)
        return self._curvature

    @property
    def known_curvature(self) -> Curvature | None:
        """The curvature if it was computed already (never triggers a pass over rows)."""
        return self._curvature

    def batch_lipschitz(self, batch_size: int) -> float:
        """Curvature that bounds stable rates at this batch size (``L`` for full batch)."""
        c = self.curvature
        if batch_size >= self.n_rows:
            return c.lipschitz
        return c.batch_lipschitz(batch_size, self.n_rows, self.rows.max_row_curvature())

    def solution(self) -> np.ndarray:
        """The least-squares ``theta`` in descent coordinates (minimum norm if singular)."""
        return self.stats.solve()

    # -- advice ---------------------------------------------------------------------------

    def badly_scaled(self, ratio: float = 30.0) -> list[tuple[str, float]]:
        """Columns (the intercept's is all ones) whose scales are orders of magnitude apart.

        Returns the largest ones (at least ``ratio`` times the smallest) and the
        smallest, with their root-mean-square; empty when standardizing.
        """
        if not self.scaling.is_identity:
            return []
        rms = np.append(_column_rms(self.source), 1.0)
        names = [*self.feature_names, "the intercept"]
        low = rms[rms > 0].min()
        if rms.max() < ratio * low:
            return []
        large = [j for j in np.argsort(-rms) if rms[j] >= ratio * low]
        return [(names[j], float(rms[j])) for j in [*large, int(np.flatnonzero(rms == low)[0])]]


def _arrays(source: Source) -> tuple[Any, np.ndarray | None]:
    """All rows of an in-memory source (the row path needs them at hand)."""
    batch = source.rows(None)
    return batch.X, batch.weight


def _column_rms(source: Source) -> np.ndarray:
    if isinstance(source, ArraySource):
        return source.column_rms()
    total = np.zeros(source.n_features)
    for chunk in source.chunks():
        total += np.einsum("ij,ij->j", chunk.X, chunk.X)
    return np.sqrt(total / source.n_rows)
