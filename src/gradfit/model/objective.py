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

import math
from collections.abc import Callable
from typing import Literal

import numpy as np

from gradfit.data.scaling import Scaling, column_moments
from gradfit.data.source import Batch, Source
from gradfit.data.validation import dense_rows
from gradfit.exceptions import InvalidInputError
from gradfit.model.curvature import Curvature, power_iteration
from gradfit.model.design import (
    PRECISION_RISK,
    SUSPECT_EIGENVALUE,
    centred_null_space,
    check_source_range,
    column_rms,
    offset_ratio,
    representable,
    scales_apart,
)
from gradfit.model.linear import LinearRegressionLoss, predict
from gradfit.model.losses import squared_error
from gradfit.model.qr import RowFactor
from gradfit.model.stats import Quadratic, SufficientStats, SummarySource

__all__ = ["STATS_MAX_FEATURES", "Objective"]

# Largest d for which the (d+1) x (d+1) statistics are used automatically.
STATS_MAX_FEATURES = 2048
# Few rows: the Hessian's eigenvalues from the n x n matrix A A^T instead.
GRAM_MAX_ROWS = 4096
# Dense copies made for the rank and the eigenvalues stay below this many values.
DENSE_MAX_VALUES = 2**24
EPS = float(np.finfo(np.float64).eps)

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
    fit_intercept : bool, default=True
        False fits a line through the origin: ``b`` stays 0 (its gradient is 0), the
        curvature, rank and solution are those of ``X`` alone, and standardizing divides
        by the root-mean-square without centring (centring needs an intercept).

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

    # what the compiled kernels know: least squares' batch gradients (no penalty, no
    # Huber) and a smooth objective (no L1 kink); ``RegularizedObjective`` says otherwise
    least_squares = True
    smooth = True
    quadratic_loss = True  # the squared error (with or without a ridge part)
    answer = "least squares"  # what descent converges to, in words
    _loss_fn: Callable[..., tuple[float, np.ndarray]] = staticmethod(squared_error)

    def __init__(
        self,
        source: Source,
        *,
        scaling: bool | Scaling = False,
        path: Path = "auto",
        fit_intercept: bool = True,
    ):
        self.fit_intercept = bool(fit_intercept)
        if path not in ("auto", "stats", "direct"):
            raise InvalidInputError(f"path must be 'auto', 'stats' or 'direct', got {path!r}")
        self.source = source
        d = source.n_features
        self.streamed = bool(getattr(source, "streamed", False))
        summary = isinstance(source, SummarySource)
        if summary and path == "direct":
            raise InvalidInputError(
                "these rows are known only through their statistics: path='direct' needs "
                "the rows; leave path at 'auto'"
            )
        use_stats = (
            summary
            or path == "stats"
            # (a streamed source counts its rows in the pass that reduces its statistics)
            or (
                path == "auto"
                and d + 1 <= STATS_MAX_FEATURES
                and (self.streamed or source.n_rows >= 2 * (d + 1))
            )
        )
        self.path = "stats" if use_stats else "direct"
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):  # checked next
            self._raw_stats = SufficientStats.from_source(source) if use_stats else None
        if self._raw_stats is None or not representable(self._raw_stats):
            check_source_range(source)
        if isinstance(scaling, Scaling):
            if scaling.mean.shape != (d,):
                raise InvalidInputError(
                    f"the scaling is for {scaling.mean.shape[0]} features, the data has {d}: "
                    "fit this data from scratch"
                )
            if not self.fit_intercept and scaling.mean.any():
                raise InvalidInputError(
                    "a line through the origin cannot centre its features: give a scaling "
                    "with mean 0, or fit an intercept"
                )
            self.scaling = scaling
        elif scaling:
            if self._raw_stats is not None:
                mean, var = self._raw_stats.x_mean, self._raw_stats.x_var
            else:
                batch = source.rows(None)
                mean, var = column_moments(batch.X, batch.weight)
            if self.fit_intercept:
                self.scaling = Scaling.from_moments(mean, var)
            else:  # through the origin: divide by the root-mean-square, do not centre
                self.scaling = Scaling.from_moments(np.zeros(d), var + mean**2)
        else:
            self.scaling = Scaling.identity(d)
        self._stats = self._raw_stats.scaled(self.scaling) if self._raw_stats else None
        self._quadratic: Quadratic | None = None
        self._curvature: Curvature | None = None
        self._design: tuple[int | None, np.ndarray | None] | None = None
        self._design_condition: float | None = None
        self._factor: RowFactor | None = None
        self._y_scale: float | None = None
        self._rows: LinearRegressionLoss | None = None
        self._solution: np.ndarray | None = None

    @property
    def rows(self) -> LinearRegressionLoss:
        """Loss and gradient computed from the rows themselves (made on first use)."""
        if self._rows is None:
            batch = self.source.rows(None)
            self._rows = LinearRegressionLoss(
                batch.X, batch.y, self.scaling, batch.weight, self.fit_intercept, loss=self._loss_fn
            )
        return self._rows

    @property
    def has_rows(self) -> bool:
        """False when only the statistics of the rows are known."""
        return not isinstance(self.source, SummarySource)

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
            self._quadratic = self.stats.quadratic(self.fit_intercept)
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

    def batch_value_and_grad(
        self, theta: np.ndarray, rows: np.ndarray | Batch
    ) -> tuple[float, np.ndarray]:
        """Loss and gradient on a batch (an unbiased estimate of the full ones): the rows at
        ``rows``, or the rows of a ``Batch`` streamed from the source."""
        if isinstance(rows, Batch):
            return self._batch_loss(rows).value_and_grad(theta, slice(None))
        return self.rows.value_and_grad(theta, rows)

    def _batch_loss(self, batch: Batch) -> LinearRegressionLoss:
        """The loss on a streamed batch, its weights relative to all rows' mean weight."""
        return LinearRegressionLoss(
            batch.X,
            batch.y,
            self.scaling,
            batch.weight,
            self.fit_intercept,
            mean_weight=self.mean_weight,
            loss=self._loss_fn,
        )

    @property
    def mean_weight(self) -> float:
        """The mean weight of a row: a batch's loss is normalised by its rows times this."""
        if self.streamed:
            return self.stats_of_rows.weight / self.n_rows
        return self.rows.mean_weight

    @property
    def rows_in_memory(self) -> bool:
        """Whether the rows may be held at once (a streamed file may be too large)."""
        return self.has_rows and bool(getattr(self.source, "fits_in_memory", True))

    def row_loss(self, theta: np.ndarray, rows: np.ndarray | None = None) -> float:
        """The loss computed from the rows themselves (full precision near an exact fit);
        chunk by chunk from a streamed source; from the statistics when only they are known."""
        if rows is None and not self.has_rows:
            return self.quadratic().value_and_grad(theta)[0]
        if rows is None and self.streamed:
            wb = self.scaling.to_original(theta)
            total, weight = 0.0, 0.0
            for chunk in self.source.chunks():
                p = predict(chunk.X, wb[:-1], wb[-1] if self.fit_intercept else 0.0)
                total += self._loss_fn(p, chunk.y, chunk.weight, 1.0)[0]  # the chunk's sum
                weight += float(np.sum(chunk.weight)) if chunk.weight is not None else len(p)
            return total / weight
        return self.rows.value_and_grad(theta, rows)[0]

    def loss_at(self, thetas: np.ndarray) -> np.ndarray:
        """Full-data loss at many parameter vectors at once (rows of ``thetas``)."""
        quad = self.quadratic()
        J = 0.5 * np.einsum("ki,ij,kj->k", thetas, quad.H, thetas) - thetas @ quad.h + quad.f0
        return np.maximum(J, 0.0)

    # -- curvature and the exact answer -------------------------------------------------

    @property
    def curvature(self) -> Curvature:
        """Hessian eigenvalues (from the statistics, or from ``A A^T`` when there are few
        rows), else ``L`` alone by power iteration; the rank is decided scale-invariantly."""
        if self._curvature is None:
            rank, k = self.design_rank, self.n_coefficients
            if self.path == "stats":
                self._curvature = Curvature.from_hessian(self.quadratic().H[:k, :k], rank)
            elif self.n_rows <= GRAM_MAX_ROWS and self.n_rows * self.n_params <= DENSE_MAX_VALUES:
                eig = np.linalg.eigvalsh(self._row_gram())
                self._curvature = Curvature.from_eigenvalues(eig, k, rank)
            else:
                top = power_iteration(
                    self.rows.hessian_vector_product, self.n_params, iters=60, rtol=1e-4
                )
                self._curvature = Curvature(top, rank=rank)
        return self._curvature

    def _row_gram(self) -> np.ndarray:
        """``(2/W) S^(1/2) A A^T S^(1/2)``, n x n: its non-zero eigenvalues are the Hessian's."""
        batch = self.source.rows(None)
        A = np.empty((self.n_rows, self.n_coefficients))
        A[:, : self.n_params - 1] = self.scaling.apply(dense_rows(batch.X, 0, self.n_rows))
        if self.fit_intercept:
            A[:, -1] = 1.0
        if batch.weight is not None:
            A *= np.sqrt(batch.weight)[:, None]
        total = self.n_rows if batch.weight is None else float(batch.weight.sum())
        return (2.0 / total) * (A @ A.T)

    # -- many minimisers --------------------------------------------------------------------

    @property
    def n_coefficients(self) -> int:
        """The coefficients descent moves: ``d + 1``, or ``d`` through the origin."""
        return self.n_params if self.fit_intercept else self.n_params - 1

    @property
    def design_rank(self) -> int | None:
        """Rank of the design, ``[X 1]`` (``X`` through the origin), invariant to the
        columns' units (None: too large to decide)."""
        return self._null_space()[0]

    def minimum_norm(self, coef: np.ndarray) -> np.ndarray:
        """The minimiser with the same predictions and the smallest ``|w|`` (original units).

        With collinear columns (or fewer rows than coefficients) least squares has many
        solutions; ``numpy.linalg.lstsq`` and scikit-learn's ``LinearRegression`` return
        the one with the smallest norm of ``w``. Removing the part of ``w`` that changes
        no prediction (and moving its constant effect into ``b``) gives that one.
        """
        basis = self._null_space()[1]
        if basis is None or basis.shape[1] == 0:
            return coef
        w, b = coef[:-1], coef[-1]
        drop = basis @ (basis.T @ w)
        if not self.fit_intercept:  # X drop = 0 itself: nothing moves into b
            return np.append(w - drop, b)
        return np.append(w - drop, b + float(self.stats_of_rows.x_mean @ drop))

    def _null_space(self) -> tuple[int | None, np.ndarray | None]:
        """The rank of ``[X 1]`` and an orthonormal basis of the ``w`` that change no prediction."""
        if self._design is None:
            values = self.n_rows * self.source.n_features
            if self._raw_stats is None and values > DENSE_MAX_VALUES:
                self._design = (None, None)  # too large to decide
                return self._design
            stats = self.stats_of_rows
            # through the origin the uncentred products: no intercept absorbs the means
            products = stats.Sxx if self.fit_intercept else stats.weight * stats.second_moments
            rank, basis, ratio = centred_null_space(products)
            if not self.fit_intercept:
                rank -= 1  # no column of ones
            self._design_condition = 1.0 / math.sqrt(ratio) if ratio > 0 else math.inf
            if ratio < SUSPECT_EIGENVALUE and self.has_rows:
                # the products lost these eigenvalues to rounding: the rows keep them
                factor = self.row_factor
                rank, basis = factor.rank(self.n_rows), factor.null_basis(self.n_rows)
                self._design_condition = factor.condition_number()
            self._design = (rank, basis)
        return self._design

    @property
    def stats_of_rows(self) -> SufficientStats:
        """The statistics in original units (one pass on the row path, on first use)."""
        if self._raw_stats is None:
            self._raw_stats = SufficientStats.from_source(self.source)
        return self._raw_stats

    @property
    def design_condition(self) -> float | None:
        """Condition number of the centred design with unit-length columns (of ``X``
        through the origin): the one that says how many digits are at stake."""
        self._null_space()
        return self._design_condition

    @property
    def row_factor(self) -> RowFactor:
        """``R`` of the centred, scaled rows (one pass over the rows, on first use)."""
        if self._factor is None:
            stats = self.stats_of_rows
            if self.fit_intercept:
                mean, spread = stats.x_mean, np.sqrt(stats.x_var)
            else:
                mean = np.zeros(self.source.n_features)
                spread = np.sqrt(np.diag(stats.second_moments))
            self._factor = RowFactor.from_source(self.source, mean, spread, self.fit_intercept)
        return self._factor

    @property
    def digits_at_risk(self) -> bool:
        """Whether float64 statistics may leave fewer than about 13 digits of the answer.

        Their error is about ``eps cond(H)``, times the square of the largest ratio of a
        column's mean to its spread (the intercept, and uncentred products, lose that
        much); a rank deficient design counts (its condition number is infinite).
        """
        if not self.has_rows:
            return False
        condition = self.design_condition  # inf when rank deficient
        if condition is None:
            return False
        if self.scaling.is_identity and self.badly_scaled():
            return True  # descending on raw columns whose scales are far apart
        offset = offset_ratio(self.stats_of_rows) if self.fit_intercept else 1.0
        return EPS * condition**2 * offset > PRECISION_RISK

    # -- the geometry conjugate gradients need ----------------------------------------

    def curvature_along(self, p: np.ndarray) -> float:
        """``p^T H p``: the loss's second derivative along the direction ``p``."""
        if self.path == "stats":
            return float(p @ (self.quadratic().H @ p))
        return float(p @ self.rows.hessian_vector_product(p))

    def describe(self) -> str | None:
        """What is minimised, in words, when it is not least squares (None: it is)."""
        return None

    def prox(self, theta: np.ndarray, step: float) -> np.ndarray:
        """The proximal map of the objective's non-smooth part (none here: ``theta``)."""
        return theta

    def stationarity(self, theta: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """What is 0 exactly at the minimum: the gradient here (smooth objective)."""
        return grad

    def precondition(self, g: np.ndarray) -> np.ndarray:
        """The preconditioned gradient (none here: standardizing is the preconditioner)."""
        return g

    @property
    def restart(self) -> int | None:
        """How often conjugate gradients start afresh (None: every ``d + 1`` steps)."""
        return None

    def certificate_curvature(self, compute: bool = True) -> Curvature | None:
        """The curvature that turns ``gradient_norm`` into a distance to least squares
        (without ``compute``, only if it is known already)."""
        return self.cheap_curvature if compute else self.known_curvature

    def gradient_norm(self, g: np.ndarray) -> float:
        """The norm stopping and certificates use (Euclidean in descent coordinates)."""
        return math.sqrt(float(g @ g))

    @property
    def y_scale(self) -> float:
        """The size of the target: its (weighted) standard deviation (its root-mean-square
        through the origin), the unit of every convergence tolerance, so that results do
        not depend on the units of y."""
        if self._y_scale is None:
            if self._raw_stats is not None:
                raw = self._raw_stats
                mean, std = raw.y_mean, math.sqrt(max(raw.Syy, 0.0) / raw.weight)
            else:
                batch = self.source.rows(None)
                mean = float(np.average(batch.y, weights=batch.weight))
                std = math.sqrt(float(np.average((batch.y - mean) ** 2, weights=batch.weight)))
            if not self.fit_intercept:
                std = math.hypot(std, mean)
            self._y_scale = std if std > 0 else (abs(mean) or 1.0)
        return self._y_scale

    @property
    def cheap_curvature(self) -> Curvature | None:
        """The curvature with its smallest eigenvalue when that costs no pass over the rows
        beyond those already made (statistics, or few rows); else None."""
        if self.path == "stats" or (
            self.n_rows <= GRAM_MAX_ROWS and self.n_rows * self.n_params <= DENSE_MAX_VALUES
        ):
            return self.curvature
        return self._curvature

    def gradient_floor(self) -> float:
        """The size of rounding errors in a full-data gradient near the optimum.

        On the statistics, ``g = H theta - h`` is a sum of ``d + 1`` products: its error
        is about ``(d + 1) eps (|H| |theta*| + |h|)``; no descent can go below it. 0 on
        the rows (not estimated: they are summed by BLAS, far below this).
        """
        if self.path != "stats":
            return 0.0
        quad = self.quadratic()
        size = self.curvature.lipschitz * float(np.linalg.norm(self.solution()))
        return 4.0 * self.n_params * EPS * (size + float(np.linalg.norm(quad.h)))

    @property
    def known_curvature(self) -> Curvature | None:
        """The curvature if it was computed already (never triggers a pass over rows)."""
        return self._curvature

    def batch_lipschitz(self, batch_size: int) -> float:
        """Curvature that bounds stable rates at this batch size (``L`` for full batch)."""
        c = self.curvature
        if batch_size >= self.n_rows:
            return c.lipschitz
        if self.streamed:  # chunk by chunk
            top = max(self._batch_loss(chunk).max_row_curvature() for chunk in self.source.chunks())
        else:
            top = self.rows.max_row_curvature()
        return c.batch_lipschitz(batch_size, self.n_rows, top)

    def solution(self) -> np.ndarray:
        """The least-squares ``theta`` in descent coordinates (minimum norm if singular)."""
        if self._solution is None:
            full_rank = self.design_rank == self.n_coefficients
            self._solution = self.stats.solve(self.fit_intercept, full_rank=full_rank)
        return self._solution.copy()

    # -- advice ---------------------------------------------------------------------------

    def badly_scaled(self, ratio: float = 30.0) -> list[tuple[str, float]]:
        """Columns (the intercept's is all ones) whose scales are orders of magnitude apart.

        Returns the largest ones (at least ``ratio`` times the smallest) and the
        smallest, with their root-mean-square; empty when standardizing.
        """
        if not self.scaling.is_identity:
            return []
        return scales_apart(column_rms(self.source), self.feature_names, self.fit_intercept, ratio)
