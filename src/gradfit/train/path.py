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
from gradfit.train.fit import objective_for, options_of
from gradfit.train.loop import run

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
        return np.count_nonzero(self.coef, axis=1)


def alpha_max(objective: RegularizedObjective, l1_ratio: float = 1.0) -> float:
    """The smallest ``alpha`` at which the L1 part holds every coefficient at 0.

    At ``w = 0`` (the intercept at its own optimum) the loss's gradient ``g`` must stay
    within the kink: ``|g_j| <= 2 alpha l1_ratio / scale_j`` in descent coordinates, so
    ``alpha_max = max_j |g_j| scale_j / (2 l1_ratio)``. For the squared error that is
    ``max_j |x_j . (y - mean(y))| / (n l1_ratio)``, scikit-learn's ``alpha_max``.
    """
    if not 0 < l1_ratio <= 1:
        raise InvalidInputError(f"l1_ratio must be in (0, 1] for alpha_max, got {l1_ratio!r}")
    # every coefficient held at 0: only the intercept moves
    held = objective.with_penalty(Penalty("l1", alpha=1e300))
    theta = held.solution()
    theta[:-1] = 0.0
    grad = objective.with_penalty(Penalty()).value_and_grad(theta)[1]
    return float(np.max(np.abs(grad[:-1]) * objective.scaling.scale)) / (2.0 * l1_ratio)


def regularization_path(
    X: Any,
    y: Any = None,
    *,
    penalty: str = "l1",
    alphas: Sequence[float] | None = None,
    n_alphas: int = 50,
    eps: float = 1e-3,
    l1_ratio: float = 0.5,
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
    l1_ratio : float, default=0.5
        The elastic net's share of L1 (only for ``penalty='elasticnet'``).
    **options
        The options of ``gradfit.fit`` (``loss``, ``epsilon``, ``standardize``, ``tol``...).

    Examples
    --------
    >>> import gradfit
    >>> d = gradfit.load_dataset("bdims")
    >>> path = regularization_path(d.X, d.y, n_alphas=20)
    >>> path.nonzero()[0], path.nonzero()[-1] > 5
    (0, True)
    """
    if penalty not in ("l1", "elasticnet", "l2"):
        raise InvalidInputError(
            f"penalty must be 'l1', 'elasticnet' or 'l2' for a path, got {penalty!r}"
        )
    for name in ("alpha", "penalty", "w0", "warm_start"):
        if name in options:
            raise InvalidInputError(f"a path chooses {name} itself: leave it out")
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
    w0, b0 = None, 0.0
    for i, alpha in enumerate(grid):
        fitted = objective.with_penalty(Penalty(penalty, float(alpha), l1_ratio))  # type: ignore[arg-type]
        result = run(fitted, opts.replace(alpha=float(alpha)), w0=w0, b0=b0)
        coef[i], intercept[i], steps[i] = result.w, result.b, result.n_steps
        w0, b0 = result.w, result.b if opts.fit_intercept else 0.0
    return RegularizationPath(
        grid, coef, intercept, steps, top, penalty, l1_ratio, list(objective.feature_names)
    )
