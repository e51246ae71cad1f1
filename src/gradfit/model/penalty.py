"""Penalties on the coefficients: ridge (L2), lasso (L1) and the elastic net between them.

gradfit minimises the mean squared error (or Huber loss) plus ``2 alpha R(w)`` with
scikit-learn's ``R``::

    R(w) = l1_ratio * |w|_1 + (1 - l1_ratio) / 2 * |w|_2^2

(``'l2'``: ``l1_ratio = 0``; ``'l1'``: ``l1_ratio = 1``). Half of gradfit's objective
is then scikit-learn's own, ``(1/2n) |y - X w - b|^2 + alpha R(w)``, so the same
``alpha`` gives the same coefficients as ``Lasso``, ``ElasticNet`` and
``SGDRegressor``; ``Ridge``, which sums the squared errors instead of averaging them,
needs ``alpha_ridge = n_samples * alpha``. The intercept is never penalized.

The penalty is on ``w`` in the units the user sees. Descent may run on standardized
features ``z = (x - mean) / scale`` (coordinates ``v = w * scale``); there the same
penalty weighs coordinate ``j`` by ``1 / scale_j`` (L1) and ``1 / scale_j^2`` (L2), so
standardizing changes the path, never the answer. (glmnet's ``standardize=TRUE`` and
a ``StandardScaler`` in a scikit-learn pipeline penalize the standardized
coefficients instead: a different answer. Standardize the data yourself for that.)

The smooth part (ridge) joins the loss's gradient and curvature; the L1 part is
taken by its proximal map, the soft threshold::

    prox(v)_j = sign(v_j) * max(|v_j| - lr * lam_j, 0),   lam_j = 2 alpha l1_ratio / scale_j
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from gradfit.exceptions import InvalidInputError

__all__ = ["PENALTIES", "Penalty", "soft_threshold"]

PenaltyName = Literal["l2", "l1", "elasticnet"]
PENALTIES: tuple[str, ...] = ("l2", "l1", "elasticnet")


def soft_threshold(v: np.ndarray, threshold: np.ndarray | float) -> np.ndarray:
    """``sign(v) max(|v| - threshold, 0)``: the proximal map of ``threshold * |v|_1``.

    >>> soft_threshold(np.array([3.0, -0.5, -2.0]), 1.0).tolist()
    [2.0, 0.0, -1.0]
    """
    # (+ 0.0: a zero the threshold made is +0, never -0, which would print as "-0")
    return np.sign(v) * np.maximum(np.abs(v) - threshold, 0.0) + 0.0


@dataclass(frozen=True)
class Penalty:
    """``2 alpha R(w)`` on the coefficients (not the intercept), in original units.

    Parameters
    ----------
    name : {'l2', 'l1', 'elasticnet'} or None
        None: no penalty (least squares).
    alpha : float >= 0
        The strength, scikit-learn's ``alpha`` (see the module's text for the mapping).
    l1_ratio : float in [0, 1]
        The elastic net's mix (1: lasso, 0: ridge); fixed by the name otherwise.

    Examples
    --------
    >>> p = Penalty("elasticnet", alpha=0.5, l1_ratio=0.25)
    >>> p.l1, p.l2  # 2 alpha l1_ratio |w|_1 + alpha (1 - l1_ratio) |w|^2
    (0.25, 0.375)
    >>> p.value(np.array([2.0, -1.0]))
    2.625
    """

    name: PenaltyName | None = None
    alpha: float = 0.0
    l1_ratio: float = 0.15

    def __post_init__(self) -> None:
        if self.name is not None and self.name not in PENALTIES:
            raise InvalidInputError(
                f"penalty must be None, 'l2', 'l1' or 'elasticnet', got {self.name!r}"
            )
        if not (math.isfinite(self.alpha) and self.alpha >= 0):
            raise InvalidInputError(f"alpha must be a number >= 0, got {self.alpha!r}")
        if not 0.0 <= self.l1_ratio <= 1.0:
            raise InvalidInputError(f"l1_ratio must be in [0, 1], got {self.l1_ratio!r}")

    @property
    def ratio(self) -> float:
        """The share of L1: 1 for lasso, 0 for ridge, ``l1_ratio`` for the elastic net."""
        if self.name == "l1":
            return 1.0
        if self.name == "elasticnet":
            return float(self.l1_ratio)
        return 0.0

    @property
    def l1(self) -> float:
        """The weight of ``|w|_1`` in the objective: ``2 alpha l1_ratio``."""
        return 0.0 if self.name is None else 2.0 * self.alpha * self.ratio

    @property
    def l2(self) -> float:
        """The weight of ``|w|^2`` in the objective: ``alpha (1 - l1_ratio)`` (its
        curvature adds ``2 l2`` to the Hessian's coefficient diagonal)."""
        return 0.0 if self.name is None else self.alpha * (1.0 - self.ratio)

    @property
    def title(self) -> str:
        """'ridge', 'lasso' or 'elastic net' ('none' without a penalty)."""
        return {"l2": "ridge", "l1": "lasso", "elasticnet": "elastic net"}.get(
            str(self.name), "none"
        )

    @property
    def smooth_in_w(self) -> bool:
        """No L1 part (none, ridge, or a strength of 0)."""
        return self.l1 == 0

    @property
    def active(self) -> bool:
        return self.l1 > 0 or self.l2 > 0

    def value(self, w: np.ndarray) -> float:
        """``2 alpha R(w)`` for coefficients ``w`` in original units."""
        return self.l1 * float(np.abs(w).sum()) + self.l2 * float(w @ w)

    def describe(self) -> str:
        """One line for reports: the penalty in the objective's own terms."""
        if not self.active:
            return "none"
        parts = []
        if self.l1:
            parts.append(f"{self.l1:.4g} |w|_1")
        if self.l2:
            parts.append(f"{self.l2:.4g} |w|^2")
        return f"{self.name} (alpha={self.alpha:g}): + " + " + ".join(parts)


@dataclass(frozen=True)
class ScaledPenalty:
    """A ``Penalty`` in descent coordinates: per coordinate of ``theta = [v, c]``.

    ``w_j = v_j / scale_j``, so ``l1 |w_j| = l1_j |v_j|`` with ``l1_j = l1 / scale_j`` and
    ``l2 w_j^2 = l2_j v_j^2`` with ``l2_j = l2 / scale_j^2``; the intercept's entries are 0.
    """

    l1: np.ndarray  # (d + 1,)
    l2: np.ndarray  # (d + 1,)

    @classmethod
    def of(cls, penalty: Penalty, scale: np.ndarray) -> ScaledPenalty:
        inverse = np.append(1.0 / scale, 0.0)
        return cls(penalty.l1 * inverse, penalty.l2 * inverse**2)

    @property
    def smooth(self) -> bool:
        """No L1 part: the penalty is a quadratic, its gradient is all there is."""
        return not self.l1.any()

    def value(self, theta: np.ndarray) -> float:
        return float(self.l1 @ np.abs(theta) + self.l2 @ (theta * theta))

    def values(self, thetas: np.ndarray) -> np.ndarray:
        """The penalty at each row of ``thetas``."""
        return np.abs(thetas) @ self.l1 + (thetas * thetas) @ self.l2

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        """The smooth (ridge) part's gradient, ``2 l2_j v_j``."""
        return 2.0 * self.l2 * theta

    def prox(self, theta: np.ndarray, step: float) -> np.ndarray:
        """The L1 part's proximal map for a step of size ``step``: the soft threshold."""
        if self.smooth:
            return theta
        return soft_threshold(theta, step * self.l1)

    def subgradient(self, theta: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """The smallest element of ``grad + l1 * d|theta|``: zero exactly at the optimum.

        Where ``theta_j != 0`` it is ``grad_j + l1_j sign(theta_j)``; at 0, ``grad_j``
        shrunk towards 0 by ``l1_j`` (0 when ``|grad_j| <= l1_j``: the kink holds it).
        """
        if self.smooth:
            return grad
        return np.where(theta != 0, grad + self.l1 * np.sign(theta), soft_threshold(grad, self.l1))
