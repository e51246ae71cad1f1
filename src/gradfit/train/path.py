"""A regularization path: one fit per strength of the penalty, each warm-started from the
last, from the strength where every coefficient is 0 down to a small fraction of it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradfit.data.source import Source, as_source
from gradfit.exceptions import InvalidInputError
from gradfit.model.penalty import Penalty
from gradfit.model.regularized import RegularizedObjective
from gradfit.train.fit import objective_for, options_of, warn_about
from gradfit.train.loop import run
from gradfit.train.options import DEFAULT_L1_RATIO

__all__ = ["RegularizationPath", "alpha_max", "regularization_path"]

# ridge has no strength where coefficients become 0: its grid starts where an elastic
# net with this share of L1 would (glmnet's choice)
RIDGE_L1_SHARE = 1e-3


@dataclass(frozen=True)
class RegularizationPath:
    """The coefficients (original units) at each strength, strongest first.

    Attributes
    ----------
    alphas : ndarray of shape (n_alphas,)
    coef : ndarray of shape (n_alphas, n_features)
    intercept : ndarray of shape (n_alphas,)
    n_steps : ndarray of shape (n_alphas,)
        Steps each fit took from the previous one's answer.
    alpha_max : float
        The smallest strength at which every coefficient is 0 (L1 penalties).
    penalty, l1_ratio, feature_names
    """

    alphas: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    n_steps: np.ndarray
    alpha_max: float
    penalty: str
    l1_ratio: float
    feature_names: list[str]

    def nonzero(self) -> np.ndarray:
        """How many coefficients are not 0 at each strength."""
        return np.count_nonzero(self.coef, axis=1).astype(np.int64)


def alpha_max(objective: RegularizedObjective, l1_ratio: float = 1.0) -> float:
    """The smallest ``alpha`` at which the L1 part holds every coefficient at 0.

    At ``w = 0`` (the intercept at its own optimum) the loss's gradient ``g`` must stay
    within the kink: ``|g_j| <= 2 alpha l1_ratio / scale_j`` in descent coordinates, so
    ``alpha_max = max_j |g_j| scale_j / (2 l1_ratio)``. For the squared error that is
    ``max_j |x_j . (y - mean(y))| / (n l1_ratio)``, scikit-learn's ``alpha_max``.
    """
    if not 0 < l1_ratio <= 1:
        raise InvalidInputError(f"l1_ratio must be in (0, 1] for alpha_max, got {l1_ratio!r}")
    # every coefficient at 0, the intercept at its own optimum (w = 0 is v = 0 in descent
    # coordinates, and there the intercept's coordinate is b itself)
    theta = np.zeros(objective.n_params)
    if objective.fit_intercept:
        theta[-1] = _intercept_alone(objective)
    grad = objective.with_penalty(Penalty()).value_and_grad(theta)[1]
    return float(np.max(np.abs(grad[:-1]) * objective.scaling.scale)) / (2.0 * l1_ratio)


def _intercept_alone(objective: RegularizedObjective) -> float:
    """The best constant: the (weighted) mean of y, or for Huber's loss the root of the
    clipped errors' sum, which grows with b (bisection to the last bit)."""
    if not objective.huber:
        return objective.stats_of_rows.y_mean
    rows = objective.source.rows(None)
    y, weight, eps = rows.y, rows.weight, objective.epsilon

    def pull(b: float) -> float:
        force = np.clip(b - y, -eps, eps)
        return float(force.sum() if weight is None else weight @ force)

    low, high = float(y.min()), float(y.max())
    while True:
        middle = 0.5 * (low + high)
        if middle in (low, high):
            return middle
        if pull(middle) < 0:
            low = middle
        else:
            high = middle


def regularization_path(
    X: Any,
    y: Any = None,
    *,
    penalty: str = "l1",
    alphas: Sequence[float] | None = None,
    n_alphas: int = 50,
    eps: float = 1e-3,
    l1_ratio: float = DEFAULT_L1_RATIO,
    sample_weight: Any = None,
    feature_names: Sequence[str] | None = None,
    **options: Any,
) -> RegularizationPath:
    """Fit ``penalty`` at many strengths, strongest first, each from the last one's answer.

    Parameters
    ----------
    X, y, sample_weight, feature_names
        As ``gradfit.fit``.
    penalty : {'l1', 'elasticnet', 'l2'}, default='l1'
    alphas : sequence of float, optional
        The strengths (fitted from the largest). Default: ``n_alphas`` strengths evenly
        spaced in log from ``alpha_max`` (where every coefficient is 0) down to
        ``eps * alpha_max``, as scikit-learn's ``lasso_path``.
    l1_ratio : float, default=0.15
        The elastic net's share of L1 (only for ``penalty='elasticnet'``; ``fit``'s and
        ``SGDRegressor``'s default, where scikit-learn's ``enet_path`` takes 0.5).
    **options
        The options of ``gradfit.fit`` (``loss``, ``epsilon``, ``standardize``, ``tol``...).

    Examples
    --------
    >>> import gradfit
    >>> d = gradfit.load_dataset("bdims")
    >>> path = regularization_path(d.X, d.y, n_alphas=20)
    >>> path.nonzero()[:6].tolist()  # none at alpha_max, then one by one
    [0, 1, 2, 2, 4, 5]
    >>> round(path.alpha_max, 4)
    132.5999
    """
    if penalty not in ("l1", "elasticnet", "l2"):
        raise InvalidInputError(
            f"penalty must be 'l1', 'elasticnet' or 'l2' for a path, got {penalty!r}"
        )
    for name in ("alpha", "penalty", "w0", "b0", "warm_start"):
        if name in options:
            raise InvalidInputError(f"a path chooses {name} itself: leave it out")
    if options.get("validation_fraction") is not None:
        raise InvalidInputError(
            "validation_fraction holds rows out for one fit's early stopping; a path fits "
            "every row at every strength: leave it out (choose alpha by cross-validation, "
            "GridSearchCV with GDRegressor)"
        )
    ratio = {"l1": 1.0, "l2": 0.0}.get(penalty, l1_ratio)
    spec: dict[str, Any] = {"l1_ratio": l1_ratio} if penalty == "elasticnet" else {}
    opts = options_of({**options, "penalty": penalty, "alpha": 1.0, **spec}, "regularization_path")
    source: Source = as_source(X, y, sample_weight=sample_weight, feature_names=feature_names)
    objective = objective_for(source, opts)
    assert isinstance(objective, RegularizedObjective)
    top = alpha_max(objective, ratio if ratio > 0 else RIDGE_L1_SHARE)
    if alphas is None:
        if not (0 < eps < 1 and n_alphas >= 1):
            raise InvalidInputError(
                f"eps must be in (0, 1) and n_alphas >= 1, got eps={eps!r}, n_alphas={n_alphas!r}"
            )
        grid = top * np.logspace(0.0, math.log10(eps), n_alphas)
    else:
        grid = np.sort(np.asarray(alphas, dtype=np.float64))[::-1]
        if grid.size == 0 or not (np.isfinite(grid).all() and (grid >= 0).all()):
            raise InvalidInputError("alphas must be numbers >= 0, at least one")
    d = objective.n_params - 1
    coef, intercept = np.zeros((grid.size, d)), np.zeros(grid.size)
    steps = np.zeros(grid.size, dtype=np.int64)
    if objective.certificate_curvature() is None and opts.tol > 0:
        # no certified distance (Huber's loss): tol is relative to the first gradient,
        # which a warm start near its answer makes tiny; measure it from a cold start
        cold = objective.with_penalty(Penalty()).value_and_grad(np.zeros(d + 1))[1]
        opts = opts.replace(gtol=max(opts.gtol, opts.tol * float(np.linalg.norm(cold))))
    # from the answer at alpha_max: every coefficient 0, the intercept at its optimum
    w0: np.ndarray | None = np.zeros(d)
    b0 = _intercept_alone(objective) if opts.fit_intercept else 0.0
    for i, alpha in enumerate(grid):
        fitted = objective.with_penalty(Penalty(penalty, float(alpha), l1_ratio))  # type: ignore[arg-type]
        step_options = opts.replace(alpha=float(alpha))
        result = run(fitted, step_options, w0=w0, b0=b0)
        warn_about(result, fitted, step_options)  # a fit of the path that stopped short
        coef[i], intercept[i], steps[i] = result.w, result.b, result.n_steps
        w0, b0 = result.w, result.b if opts.fit_intercept else 0.0
    return RegularizationPath(
        grid, coef, intercept, steps, top, penalty, l1_ratio, list(objective.feature_names)
    )
