"""Beyond least squares: a penalty on the coefficients and the Huber loss.

``RegularizedObjective`` is an ``Objective`` whose loss is the mean squared error or
Huber's (``model.losses``), plus ``2 alpha R(w)`` (``model.penalty``). What changes,
and why:

- the ridge part is a quadratic: it joins the statistics' ``H`` (``+ 2 l2_j`` on the
  coefficients' diagonal), so full-batch steps, the curvature, the rates and the
  exact answer of ridge come from the same ``(d+1) x (d+1)`` matrices as least squares;
- the L1 part has no gradient at 0: rules take its proximal step (the soft threshold,
  ``prox``) after their gradient step, and convergence is measured by the smallest
  subgradient (``stationarity``), which is 0 exactly at the optimum;
- Huber's loss is not a function of the statistics: its values and gradients come from
  the rows. Its curvature is at most the squared error's (``rho'' <= 2``), so least
  squares' ``L`` bounds it and the same rates are stable; its smallest curvature may be
  0 (every row past epsilon), so it certifies no distance (``tol`` is then relative to
  the starting gradient).

The exact answers, ``solution()``: ridge by one linear solve; the lasso's by
coordinate descent on the quadratic, polished by a solve on its support with the
signs fixed; Huber's by proximal Newton steps on the rows (the same polish inside).
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable
from typing import Literal

import numpy as np

from gradfit.data.scaling import Scaling, column_moments
from gradfit.data.source import Batch, Source
from gradfit.data.validation import dense_rows
from gradfit.exceptions import InvalidInputError
from gradfit.model.curvature import Curvature, power_iteration
from gradfit.model.linear import LinearRegressionLoss
from gradfit.model.losses import huber_error
from gradfit.model.objective import STATS_MAX_FEATURES, Objective, Path
from gradfit.model.penalty import Penalty, ScaledPenalty
from gradfit.model.solvers import lasso_quadratic
from gradfit.model.stats import Quadratic, SummarySource

__all__ = ["LOSSES", "RegularizedObjective", "lasso_quadratic"]  # (the solver: model/solvers.py)

LossName = Literal["squared_error", "huber"]
LOSSES: tuple[str, ...] = ("squared_error", "huber")
EPS = float(np.finfo(np.float64).eps)


class RegularizedObjective(Objective):
    """``loss(y, X w + b) + 2 alpha R(w)`` over ``source``, in descent coordinates.

    Parameters
    ----------
    source, scaling, path, fit_intercept
        As ``Objective``.
    penalty : Penalty
        On ``w`` in original units, whatever ``scaling`` descent runs in.
    loss : {'squared_error', 'huber'}
    epsilon : float > 0
        Huber's threshold, in the target's units.

    Examples
    --------
    >>> from gradfit.data import ArraySource
    >>> src = ArraySource([[1.0], [2.0], [3.0]], [2.0, 4.0, 6.0])
    >>> f = RegularizedObjective(src, penalty=Penalty("l2", alpha=0.5))
    >>> f.solution().round(6).tolist()  # w = 2 (2/3) / (2/3 + 0.5): shrunk towards 0
    [1.142857, 1.714286]
    """

    least_squares = False

    def __init__(
        self,
        source: Source,
        *,
        penalty: Penalty,
        loss: LossName = "squared_error",
        epsilon: float = 0.1,
        scaling: bool | Scaling = False,
        path: Path = "auto",
        fit_intercept: bool = True,
    ) -> None:
        if loss not in LOSSES:
            raise InvalidInputError(f"loss must be 'squared_error' or 'huber', got {loss!r}")
        huber = loss == "huber"
        if huber and not (math.isfinite(epsilon) and epsilon > 0):
            raise InvalidInputError(f"epsilon must be a number > 0, got {epsilon!r}")
        if huber and isinstance(source, SummarySource):
            raise InvalidInputError(
                "Huber's loss needs the rows, and these are known only through their "
                "statistics: fit loss='squared_error', or read the rows again"
            )
        if huber and path == "stats":
            raise InvalidInputError(
                "Huber's loss is not a function of the statistics: leave path at 'auto'"
            )
        super().__init__(source, scaling=scaling, path=path, fit_intercept=fit_intercept)
        if scaling is True and penalty.l2 > 0:
            self._standardize_with_ridge(penalty.l2)
        raw_columns = self.scaling.is_identity and self.path == "stats" and path == "auto"
        if raw_columns and Objective.digits_at_risk.fget(self):  # type: ignore[attr-defined]
            # descending on raw columns whose statistics would cost digits (scales far
            # apart, large offsets): the rows' own gradients keep them, as least squares'
            # exact path does
            self.path = "direct"
        self.penalty, self.loss, self.epsilon = penalty, loss, float(epsilon)
        self.huber = huber
        if huber:
            self.path = "direct"
            self._loss_fn = functools.partial(huber_error, epsilon=self.epsilon)
        self.scaled_penalty = ScaledPenalty.of(penalty, self.scaling.scale)
        self.smooth = self.scaled_penalty.smooth
        self.quadratic_loss = not huber

    @property
    def answer(self) -> str:  # type: ignore[override]
        """What descent converges to, in words: 'the minimum of Huber's loss + l1'."""
        loss = "Huber's loss" if self.huber else "the squared error"
        if not self.penalty.active:
            return f"the minimum of {loss}"
        return f"the minimum of {loss} + the {self.penalty.title} penalty"

    def _standardize_with_ridge(self, l2: float) -> None:
        """Standardize by ``sqrt(var_j + l2)`` instead of the standard deviation.

        The ridge part adds ``2 l2`` to every coefficient's curvature in original units,
        ``2 l2 / scale_j^2`` in descent coordinates: on columns of tiny spread that
        dwarfs the loss's own curvature and no rate suits both. With this scale every
        coordinate's curvature is about 2 again (the loss's ``var_j`` and the penalty's
        ``l2`` together); the answer is the same, only the descent's coordinates differ.
        """
        raw = self._raw_stats
        if raw is not None:
            mean, var = raw.x_mean, raw.x_var
        else:  # (the row path: moments, not d x d products)
            batch = self.source.rows(None)
            mean, var = column_moments(batch.X, batch.weight)
        if not self.fit_intercept:
            mean, var = np.zeros_like(mean), var + mean**2
        self.scaling = Scaling.from_moments(mean, var + l2)
        self._stats = None if raw is None else raw.scaled(self.scaling)

    def describe(self) -> str:
        """``"Huber's loss (epsilon=5) + lasso (alpha=0.5)"``: what is minimised."""
        parts = [f"Huber's loss (epsilon={self.epsilon:g})"] if self.huber else []
        if self.penalty.active:
            net = self.penalty.name == "elasticnet"
            mix = f", l1_ratio={self.penalty.l1_ratio:g}" if net else ""
            parts.append(f"{self.penalty.title} (alpha={self.penalty.alpha:g}{mix})")
        return " + ".join(parts) or "least squares"

    def with_penalty(self, penalty: Penalty) -> RegularizedObjective:
        """The same rows, loss and coordinates with another penalty: no pass over the rows
        (a regularization path fits many strengths of one data set)."""
        other = copy.copy(self)
        other.penalty = penalty
        other.scaled_penalty = ScaledPenalty.of(penalty, self.scaling.scale)
        other.smooth = other.scaled_penalty.smooth
        other.quadratic_loss = self.quadratic_loss
        other._quadratic = other._curvature = other._solution = None
        return other

    # -- values and gradients -----------------------------------------------------------

    def quadratic(self) -> Quadratic:
        """The squared error's quadratic plus the ridge part (for Huber: the bound on its
        curvature)."""
        if self._quadratic is None:
            base = self.stats.quadratic(self.fit_intercept)
            ridge = 2.0 * self.scaled_penalty.l2
            if not self.fit_intercept:
                ridge = ridge.copy()
                ridge[-1] = 0.0
            self._quadratic = Quadratic(base.H + np.diag(ridge), base.h, base.f0)
        return self._quadratic

    @property
    def full_value_and_grad(self) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
        return self._full

    def _full(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        if self.path == "stats":  # the ridge part is inside the quadratic
            loss, grad = self.quadratic().value_and_grad(theta)
            if not self.smooth:
                loss += float(self.scaled_penalty.l1 @ np.abs(theta))
            return loss, grad
        loss, grad = self.rows.value_and_grad(theta)
        return loss + self.scaled_penalty.value(theta), grad + self.scaled_penalty.gradient(theta)

    def batch_value_and_grad(
        self, theta: np.ndarray, rows: np.ndarray | Batch
    ) -> tuple[float, np.ndarray]:
        """A batch's loss and gradient plus the whole penalty's (it does not depend on rows)."""
        loss, grad = super().batch_value_and_grad(theta, rows)
        return loss + self.scaled_penalty.value(theta), grad + self.scaled_penalty.gradient(theta)

    def row_loss(self, theta: np.ndarray, rows: np.ndarray | None = None) -> float:
        if rows is None and not self.has_rows:
            return self._full(theta)[0]
        return super().row_loss(theta, rows) + self.scaled_penalty.value(theta)

    @property
    def loss_resolution(self) -> float:
        return 0.0 if self.path != "stats" else super().loss_resolution

    def loss_at(self, thetas: np.ndarray) -> np.ndarray:
        """The objective at many parameter vectors (rows of ``thetas``)."""
        thetas = np.atleast_2d(thetas)
        if self.huber:
            return self._huber_at(thetas)
        quad = self.quadratic()
        J = 0.5 * np.einsum("ki,ij,kj->k", thetas, quad.H, thetas) - thetas @ quad.h + quad.f0
        return np.maximum(J, 0.0) + np.abs(thetas) @ self.scaled_penalty.l1

    def _huber_at(self, thetas: np.ndarray) -> np.ndarray:
        """Huber's objective at many parameter vectors: the rows' predictions for a block
        of them at once (a contour plot's grid is thousands)."""
        batch = self.source.rows(None)
        Z = self.scaling.apply(dense_rows(batch.X, 0, self.n_rows))
        weight = batch.weight
        total = float(self.n_rows if weight is None else weight.sum())
        block = max(1, 2**22 // max(self.n_rows, 1))  # 32 MiB of errors at a time
        out = np.empty(len(thetas))
        for start in range(0, len(thetas), block):
            part = thetas[start : start + block]
            intercept = part[:, -1] if self.fit_intercept else 0.0
            errors = Z @ part[:, :-1].T + intercept - batch.y[:, None]
            clipped = np.clip(errors, -self.epsilon, self.epsilon)
            rho = clipped * (2.0 * errors - clipped)
            sums = rho.sum(axis=0) if weight is None else weight @ rho
            out[start : start + block] = sums / total + self.scaled_penalty.values(part)
        return out

    # -- the proximal step and convergence ----------------------------------------------

    def prox(self, theta: np.ndarray, step: float) -> np.ndarray:
        """The L1 part's proximal map after a step of size ``step`` (the soft threshold)."""
        return self.scaled_penalty.prox(theta, step)

    def stationarity(self, theta: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """The smallest subgradient: the gradient where the L1 kink does not hold."""
        return self.scaled_penalty.subgradient(theta, grad)

    # -- curvature ----------------------------------------------------------------------

    @property
    def curvature(self) -> Curvature:
        """The squared error's curvature plus the ridge part's (for Huber a bound: its
        smallest curvature is not known, ``lambda_min`` is None)."""
        if self._curvature is None:
            k = self.n_coefficients
            rank = k if self.penalty.l2 > 0 else self.design_rank
            if self._raw_stats is not None or self.n_params <= STATS_MAX_FEATURES:
                # the (d+1) x (d+1) Hessian, the ridge part included (on the row path too:
                # one pass for the products buys the smallest curvature, a certificate)
                curvature = Curvature.from_hessian(self.quadratic().H[:k, :k], rank)
            else:
                squared = self._squared_rows()
                ridge = 2.0 * self.scaled_penalty.l2

                def hvp(v: np.ndarray) -> np.ndarray:
                    return squared.hessian_vector_product(v) + ridge * v

                top = power_iteration(hvp, self.n_params, iters=60, rtol=1e-4)
                curvature = Curvature(top, rank=rank)
            if self.huber:
                curvature = Curvature(curvature.lipschitz, None, curvature.rank_deficient, rank)
            self._curvature = curvature
        return self._curvature

    def _squared_rows(self) -> LinearRegressionLoss:
        batch = self.source.rows(None)
        return LinearRegressionLoss(
            batch.X, batch.y, self.scaling, batch.weight, self.fit_intercept
        )

    def curvature_along(self, p: np.ndarray) -> float:
        """``p^T H p`` with the ridge part (on the statistics it is inside ``H``)."""
        along = super().curvature_along(p)
        if self.path == "stats":
            return along
        return along + 2.0 * float(self.scaled_penalty.l2 @ (p * p))

    @property
    def cheap_curvature(self) -> Curvature | None:
        if self._raw_stats is not None or self.n_params <= STATS_MAX_FEATURES:
            return self.curvature
        return super().cheap_curvature

    def certificate_curvature(self, compute: bool = True) -> Curvature | None:
        # Huber's smallest curvature may be 0: no distance is certified
        return None if self.huber else super().certificate_curvature(compute)

    def batch_lipschitz(self, batch_size: int) -> float:
        c = self.curvature
        if batch_size >= self.n_rows:
            return c.lipschitz
        ridge = 2.0 * float(self.scaled_penalty.l2.max())
        if self.streamed:
            top = max(self._batch_loss(chunk).max_row_curvature() for chunk in self.source.chunks())
        else:
            top = self.rows.max_row_curvature()
        return c.batch_lipschitz(batch_size, self.n_rows, top + ridge)

    @property
    def digits_at_risk(self) -> bool:
        # the exact (double-double) path is least squares' own; a penalty also conditions
        return False

    # -- the exact answer ---------------------------------------------------------------

    def minimum_norm(self, coef: np.ndarray) -> np.ndarray:
        """A penalty picks its own answer among collinear ones; without one, as least squares."""
        return coef if self.penalty.active else super().minimum_norm(coef)

    def solution(self) -> np.ndarray:
        """The minimiser in descent coordinates (see the module's text for how)."""
        if self._solution is None:
            if self.huber:
                self._solution = self._huber_solution()
            elif not self.penalty.active:
                self._solution = super().solution()
            else:
                quad, k = self.quadratic(), self.n_coefficients
                start = np.zeros(self.n_params)
                theta = np.zeros(self.n_params)
                theta[:k] = lasso_quadratic(
                    quad.H[:k, :k], quad.h[:k], self.scaled_penalty.l1[:k], start[:k]
                )
                self._solution = theta
        return self._solution.copy()

    def _huber_solution(self, max_steps: int = 100) -> np.ndarray:
        """Proximal Newton steps on the rows: each minimises the loss's local quadratic
        (rows within epsilon count, the others are lines) plus the L1 part exactly, then
        backtracks until the objective decreases."""
        if not self.rows_in_memory:
            raise InvalidInputError(
                "Huber's exact answer needs the rows in memory: fit it by descent "
                "(this is only for yardsticks)"
            )
        batch = self.source.rows(None)
        k = self.n_coefficients
        A = np.ones((self.n_rows, k))
        A[:, : self.n_params - 1] = self.scaling.apply(dense_rows(batch.X, 0, self.n_rows))
        weight = np.ones(self.n_rows) if batch.weight is None else batch.weight
        total = float(weight.sum())
        l1, l2 = self.scaled_penalty.l1[:k], self.scaled_penalty.l2[:k]

        def objective(t: np.ndarray) -> float:
            e = A @ t - batch.y
            c = np.clip(e, -self.epsilon, self.epsilon)
            return float(weight @ (c * (2 * e - c))) / total + float(l2 @ (t * t) + l1 @ np.abs(t))

        theta = np.zeros(k)
        theta[-1] = float(np.median(batch.y)) if self.fit_intercept else 0.0
        value = objective(theta)
        floor = 1e-12 * float(np.trace(A.T @ (A * weight[:, None]))) / total
        for _ in range(max_steps):
            e = A @ theta - batch.y
            inside = np.abs(e) <= self.epsilon
            grad = A.T @ (weight * np.clip(e, -self.epsilon, self.epsilon)) * (2.0 / total)
            grad += 2.0 * l2 * theta
            s = weight * inside
            H = (2.0 / total) * (A.T @ (A * s[:, None])) + np.diag(2.0 * l2 + floor)
            target = lasso_quadratic(H, H @ theta - grad, l1, theta)
            direction = target - theta
            decrease = float(grad @ direction + l1 @ (np.abs(target) - np.abs(theta)))
            t = 1.0
            while True:
                candidate = theta + t * direction
                new = objective(candidate)
                if new <= value + 1e-4 * t * decrease or t < 1e-10:
                    break
                t *= 0.5
            change = np.abs(candidate - theta)
            theta, value = candidate, min(new, value)
            if np.all(change <= 4 * EPS * np.maximum(np.abs(theta), 1e-300)):
                break
        out = np.zeros(self.n_params)
        out[:k] = theta
        return out
