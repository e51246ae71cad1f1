"""The linear model ``y = X w + b``, its loss and gradient, on rows of data.

Parameters are one vector ``theta = [w, b]`` (the bias last), in the coordinates
gradient descent runs in: the scaled features ``z = (x - mean) / scale`` when
standardizing, the raw features otherwise. The chain rule turns the loss gradient
with respect to the predictions, ``g = dJ/dp``, into parameter gradients::

    dJ/dw = X^T g = (2/N) X^T e        dJ/db = sum(g) = (2/N) sum(e)

which are article B's formulas. No scaled copy of ``X`` is ever made: on all rows
(and on sparse batches) predictions use the original-unit coefficients and the
gradient is mapped back; a dense batch, a copy anyway, is scaled itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradfit.data.scaling import Scaling
from gradfit.data.validation import dense_rows, is_sparse
from gradfit.model.losses import squared_error

__all__ = ["LinearRegressionLoss", "predict"]


def predict(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """``y' = X w + b``.

    >>> predict(np.array([[1.0], [2.0]]), np.array([2.0]), 1.0)
    array([3., 5.])
    """
    # ndarray.dot (and SciPy's) rather than @: on the small batches of stochastic
    # descent the operator's dispatch costs more than the arithmetic.
    return X.dot(w) + b


class LinearRegressionLoss:
    """Mean squared error of ``y = X w + b`` on all rows or on a batch of rows.

    A batch's loss is scaled so that its expectation over random batches is the
    full loss (with weights: ``sum_B s_i e_i^2 / (|B| * mean(s))``).

    >>> X = np.array([[1.0], [2.0], [3.0]]); y = np.array([2.0, 4.0, 6.0])
    >>> f = LinearRegressionLoss(X, y)
    >>> loss, grad = f.value_and_grad(np.array([0.0, 0.0]))
    >>> round(loss, 6), grad.round(6).tolist()  # (4+16+36)/3; -(2/3)*[28, 12]
    (18.666667, [-18.666667, -8.0])
    """

    def __init__(
        self,
        X: Any,
        y: np.ndarray,
        scaling: Scaling | None = None,
        sample_weight: np.ndarray | None = None,
        fit_intercept: bool = True,
        *,
        mean_weight: float | None = None,
        loss: Callable[..., tuple[float, np.ndarray]] = squared_error,
    ) -> None:
        self.X, self.y = X, y
        # (p, y, weights, total) -> (value, dJ/dp): squared_error, or huber_error with its
        # epsilon bound
        self.loss = loss
        self.fit_intercept = fit_intercept
        self.scaling = scaling or Scaling.identity(X.shape[1])
        self.sample_weight = sample_weight
        if mean_weight is None:  # of these rows (a batch of a larger source passes all rows')
            mean_weight = 1.0 if sample_weight is None else float(sample_weight.mean())
        self.mean_weight = mean_weight
        self._identity = self.scaling.is_identity
        self._sparse = is_sparse(X)

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    def value_and_grad(
        self,
        theta: np.ndarray,
        rows: np.ndarray | slice | None = None,
        *,
        y: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray]:
        """Loss and gradient at ``theta`` on ``rows`` (None: all rows)."""
        target = self.y if y is None else y
        weights = self.sample_weight
        if rows is None:
            X = self.X
        else:
            X = self.X[rows]
            if y is None:
                target = target[rows]
            if weights is not None:
                weights = weights[rows]
        total = X.shape[0] * self.mean_weight
        if rows is not None and not self._sparse:
            # Scale the dense batch itself and stay in descent coordinates: two operations
            # on a small block instead of mapping the coefficients there and the gradient
            # back, which dominated SGD steps.
            if not self._identity:
                X = self.scaling.apply(X)
            loss, g = self.loss(predict(X, theta[:-1], theta[-1]), target, weights, total)
            return loss, self._gradient(X, g, theta, self.fit_intercept)
        wb = theta if self._identity else self.scaling.to_original(theta)
        loss, g = self.loss(predict(X, wb[:-1], wb[-1]), target, weights, total)
        grad = self._gradient(X, g, theta, self.fit_intercept)
        if not self._identity:  # chain rule: dp/dv_j = (x_j - mean_j) / scale_j
            grad[:-1] = (grad[:-1] - self.scaling.mean * grad[-1]) / self.scaling.scale
        return loss, grad

    @staticmethod
    def _gradient(X: Any, g: np.ndarray, theta: np.ndarray, intercept: bool) -> np.ndarray:
        """``[X^T g, sum(g)]``: the parameter gradient from ``g = dJ/dp``.

        Without an intercept ``b`` is held at 0: its gradient is 0.
        """
        grad = np.empty_like(theta)
        grad[:-1] = X.T.dot(g)
        grad[-1] = np.add.reduce(g) if intercept else 0.0
        return grad

    def hessian_vector_product(self, v: np.ndarray) -> np.ndarray:
        """``H v`` with ``H = (2/N) [Z 1]^T [Z 1]``: the gradient of the loss with ``y = 0``."""
        return self.value_and_grad(v, y=np.zeros_like(self.y))[1]

    def max_row_curvature(self) -> float:
        """Largest curvature of a single row's loss, ``2 s_i (|z_i|^2 + 1) / mean(s)``."""
        rows = max(1, 2**22 // self.X.shape[1])
        best = 0.0
        for start in range(0, self.X.shape[0], rows):
            z = self.scaling.apply(dense_rows(self.X, start, start + rows))
            norms = np.einsum("ij,ij->i", z, z) + (1.0 if self.fit_intercept else 0.0)
            if self.sample_weight is not None:
                norms *= self.sample_weight[start : start + rows] / self.mean_weight
            best = max(best, float(norms.max()))
        return 2.0 * best
