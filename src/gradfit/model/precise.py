"""Residuals and gradients with twice the digits of float64, from the rows.

The gradient of the mean squared error, ``-(2/W) A^T S (y - A beta)``, is small where
it matters (near the answer) and is a difference of large numbers there: computed in
float64 its error is about ``eps |A| |y|``, which moves the answer by up to
``cond(A)^2 eps`` relative. Gradient steps cannot get closer to least squares than
their gradient is accurate, whatever the update rule.

Here the residual ``y - A beta`` and the products ``A^T S r`` are carried as
double-double numbers (an unevaluated sum ``hi + lo``) with the error-free
transformations of Knuth (TwoSum) and Dekker (TwoProduct), vectorized over rows,
and summed by a pairwise tree of TwoSums (Ogita, Rump and Oishi's Sum2): each
gradient is as accurate as if it were computed in about 32 digits and then rounded
to float64. That is iterative refinement of the residual, the classic way
(Wilkinson, Björck) to get every digit of an ill-conditioned least-squares problem.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from gradfit.data.scaling import Scaling
from gradfit.data.source import Source
from gradfit.data.validation import dense_rows
from gradfit.model.curvature import Curvature
from gradfit.model.objective import Objective

__all__ = [
    "ExactObjective",
    "column_sums",
    "exact_solution",
    "exact_value_and_grad",
    "residual",
    "two_product",
    "two_sum",
]

# Dekker's splitter 2^27 + 1: a * SPLITTER separates a float64 into two 26-bit halves.
SPLITTER = 134217729.0
# Rows per chunk: a few copies of a chunk stay in the cache-friendly tens of MB.
CHUNK_VALUES = 2**20


def two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a + b = s + e`` exactly (Knuth), elementwise.

    >>> s, e = two_sum(np.array([1.0]), np.array([1e-17]))
    >>> s.tolist(), e.tolist()
    ([1.0], [1e-17])
    """
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = SPLITTER * a
    high = c - (c - a)
    return high, a - high


def two_product(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a * b = p + e`` exactly (Dekker), elementwise; valid for ``|a|, |b| < 1e150``.

    >>> p, e = two_product(np.array([1.0 + 2**-30]), np.array([1.0 - 2**-30]))
    >>> p.tolist(), e.tolist() == [-(2.0**-60)]
    ([1.0], True)
    """
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def column_sums(P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sums over the rows of ``P`` as ``hi + lo``, by a pairwise tree of TwoSums.

    >>> hi, lo = column_sums(np.array([[1e16], [1.0], [-1e16], [1.0]]))
    >>> (hi + lo).tolist()
    [2.0]
    """
    P = np.asarray(P, dtype=np.float64)
    err = np.zeros(P.shape[1:])
    while P.shape[0] > 1:
        if P.shape[0] % 2:
            P = np.concatenate([P, np.zeros((1, *P.shape[1:]))])
        P, e = two_sum(P[0::2], P[1::2])
        err += e.sum(axis=0)
    if P.shape[0] == 0:
        return np.zeros(P.shape[1:]), err
    return two_sum(P[0], err)


def residual(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float
) -> tuple[np.ndarray, np.ndarray]:
    """``y - X w - b`` as ``hi + lo`` (dense ``X``), accurate to about 32 digits.

    >>> hi, lo = residual(np.array([[1e8 + 1.0]]), np.array([1e16]), np.array([1e8 - 1.0]), 0.0)
    >>> float(hi[0] + lo[0])
    1.0
    """
    s, c = np.array(y, dtype=np.float64), np.zeros(len(y))
    for j in range(X.shape[1]):
        if w[j] != 0.0:
            p, e = two_product(X[:, j], np.full(len(y), -w[j]))
            s, t = two_sum(s, p)
            c += t + e
    if b != 0.0:
        s, t = two_sum(s, np.full(len(y), -b))
        c += t
    return two_sum(s, c)


def exact_value_and_grad(
    source: Source, beta: np.ndarray, fit_intercept: bool
) -> tuple[float, np.ndarray]:
    """The loss and gradient at ``beta = [w, b]`` (original units) from every row of
    ``source``, each rounded once to float64 from a double-double computation.

    >>> from gradfit.data import ArraySource
    >>> X = np.array([[1.0], [2.0], [3.0]]); y = np.array([2.0, 4.0, 6.0])
    >>> loss, grad = exact_value_and_grad(ArraySource(X, y), np.zeros(2), True)
    >>> round(loss, 6), grad.round(6).tolist()
    (18.666667, [-18.666667, -8.0])
    """
    d = len(beta) - 1
    w, b = beta[:-1], float(beta[-1]) if fit_intercept else 0.0
    g_hi, g_lo = np.zeros(d + 1), np.zeros(d + 1)
    squares, total = 0.0, 0.0
    for chunk in source.chunks(max(1, CHUNK_VALUES // max(d, 1))):
        X = dense_rows(chunk.X, 0, len(chunk.y))
        hi, lo = residual(X, chunk.y, w, b)
        square = hi * (hi + 2.0 * lo)
        if chunk.weight is not None:  # r s as a double-double too
            squares += float(square @ chunk.weight)
            total += float(chunk.weight.sum())
            hi, e = two_product(hi, chunk.weight)
            lo = lo * chunk.weight + e
        else:
            squares += float(square.sum())
            total += len(chunk.y)
        columns = np.empty((len(hi), d + 1))
        columns[:, :d], errors = two_product(X, hi[:, None])
        columns[:, d] = hi
        part_hi, part_lo = column_sums(columns)
        part_lo[:d] += errors.sum(axis=0) + X.T @ lo
        part_lo[d] += lo.sum()
        g_hi, carry = two_sum(g_hi, part_hi)
        g_lo += carry + part_lo
    grad = -(2.0 / total) * (g_hi + g_lo)
    if not fit_intercept:
        grad[-1] = 0.0
    return squares / total, grad


def exact_curvature_along(source: Source, p: np.ndarray, fit_intercept: bool) -> float:
    """``p^T H p = (2/W) sum_i s_i (x_i . p_w + p_b)^2`` from the rows, the products
    ``A p`` in double-double (they cancel when ``p`` crosses a narrow valley)."""
    d = len(p) - 1
    b = float(p[-1]) if fit_intercept else 0.0
    squares, total = 0.0, 0.0
    for chunk in source.chunks(max(1, CHUNK_VALUES // max(d, 1))):
        X = dense_rows(chunk.X, 0, len(chunk.y))
        hi, lo = residual(X, np.zeros(len(chunk.y)), -p[:-1], -b)
        square = hi * (hi + 2.0 * lo)
        squares += float(square.sum() if chunk.weight is None else square @ chunk.weight)
        total += len(chunk.y) if chunk.weight is None else float(chunk.weight.sum())
    return 2.0 * squares / total


class ExactObjective(Objective):
    """An objective whose full-data gradients are exact to float64 rounding, descended in
    original units with the rows' ``R`` factor as preconditioner.

    Used by line-search rules (conjugate gradients) on full batch when float64
    statistics would lose digits (``Objective.digits_at_risk``): every gradient comes
    from the rows in double-double, so the descent converges to least squares itself,
    not to the rounding of ``X^T X``. Descent runs in original units, because the map
    back from standardized coordinates would itself cost digits (an intercept of 1 under
    column means of 1e12).

    Stopping and certificates use the norm ``sqrt(g . M g)``, with ``M`` the preconditioner
    (about ``H^-1``): ``sqrt(g . M g / 2)`` is the root-mean-square distance of the
    predictions to least squares.
    """

    def __init__(self, parent: Objective) -> None:
        curvature = parent.curvature  # the standardized one: what the summary reports
        factor = parent.row_factor
        self.__dict__.update(parent.__dict__)  # the same rows, statistics and design
        self.scaling = Scaling.identity(parent.source.n_features)
        self.path = "direct"
        self._stats = self._raw_stats
        self._quadratic = None
        self._rows = None
        self._curvature = curvature
        self._preconditioner: Callable[[np.ndarray], np.ndarray] = factor.preconditioner(
            parent.n_rows
        )

    @property
    def full_value_and_grad(self) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
        return self._exact

    def _exact(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        return exact_value_and_grad(self.source, theta, self.fit_intercept)

    @property
    def loss_resolution(self) -> float:
        return 0.0

    def gradient_floor(self) -> float:
        return 0.0

    def curvature_along(self, p: np.ndarray) -> float:
        return exact_curvature_along(self.source, p, self.fit_intercept)

    def precondition(self, g: np.ndarray) -> np.ndarray:
        return self._preconditioner(g)

    @property
    def restart(self) -> int | None:
        # With M about H^-1, M g is already the step to the answer (Newton's); mixing in
        # old directions only adds their rounding.
        return 1

    def gradient_norm(self, g: np.ndarray) -> float:
        return math.sqrt(max(float(g @ self._preconditioner(g)), 0.0))

    def certificate_curvature(self, compute: bool = True) -> Curvature | None:
        # in the preconditioner's norm every curvature is about 1
        return Curvature(1.0, 1.0, False, self.n_coefficients)


def exact_solution(objective: Objective, max_steps: int = 20) -> np.ndarray:
    """Least squares ``[w, b]`` in original units to float64's last digits.

    Newton steps ``beta <- beta - M g`` with exact gradients from the rows (what ``cg``
    converges to on such data), from the float64 statistics' answer, until a step
    changes no coefficient beyond its last digits. For yardsticks (the minimum a plot
    marks) on designs where ``Objective.digits_at_risk``.
    """
    exact = ExactObjective(objective)
    beta = objective.scaling.to_original(objective.solution())
    for _ in range(max_steps):
        step = exact.precondition(exact.value_and_grad(beta)[1])
        beta, before = beta - step, beta
        change = np.abs(beta - before)
        size = np.maximum(np.abs(beta), np.abs(before))
        if np.all(change <= 8 * np.finfo(np.float64).eps * size):
            break
    return objective.minimum_norm(beta)
