"""Hard least-squares problems, their exact solutions, and how many digits a fit gets.

Each problem is float64 data as a user would hand it over; its exact least-squares
solution is computed from those very numbers with mpmath at 50 significant digits (the
normal equations: inexact in float64, exact enough at 50 digits). Accuracy is the log
relative error per coefficient, ``LRE = -log10(|estimate - exact| / |exact|)`` (NIST's
measure for its StRD linear-regression data sets), capped at 15.9, the most float64 can
hold; a fit's score is its worst coefficient's LRE.

Used by ``tests/test_accuracy.py`` (LRE >= 7 with default settings) and by
``make bench`` (the table next to numpy.linalg.lstsq and scikit-learn).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

DIGITS = 50
MAX_LRE = 15.9


@dataclass(frozen=True)
class Problem:
    name: str
    X: np.ndarray
    y: np.ndarray
    fit_intercept: bool = True
    sample_weight: np.ndarray | None = None
    what: str = ""

    def condition(self) -> tuple[float, float]:
        """``cond`` of the design after centring and scaling the columns, and before."""
        A = self.X if not self.fit_intercept else self.X - self.X.mean(axis=0)
        scaled = A / np.linalg.norm(A, axis=0)
        raw = self.X if not self.fit_intercept else np.column_stack([self.X, np.ones(len(self.y))])
        return float(np.linalg.cond(scaled)), float(np.linalg.cond(raw))


def _polynomial(degree: int, n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Powers of an unscaled x in [1, 20] (Wampler's design); y = 1 + x + ... + x^degree."""
    x = np.linspace(1.0, 20.0, n)
    X = np.column_stack([x**k for k in range(1, degree + 1)])
    y = 1.0 + X.sum(axis=1)
    rng = np.random.default_rng(seed)
    return X, y + noise * float(np.std(y)) * rng.standard_normal(n)


def _exact_polynomial(degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer x in 0..20, each 25 times; every power and sum exact in float64: y is the
    polynomial exactly, the residual is 0 and the answer is all ones."""
    x = np.repeat(np.arange(21.0), 25)
    X = np.column_stack([x**k for k in range(1, degree + 1)])
    return X, 1.0 + X.sum(axis=1)


def _economic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Longley-like trending series: GNP, its deflator (GNP over a near-constant), the
    population and the year, all rising together."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    gnp = 2e5 + 1e4 * t + 50.0 * rng.standard_normal(n)
    deflator = gnp / 2000.0 + 1e-3 * rng.standard_normal(n)
    population = 1e5 + 1e3 * t + rng.standard_normal(n)
    year = 1947.0 + t
    X = np.column_stack([gnp, deflator, population, year])
    y = 6e4 + 0.03 * gnp + 5.0 * deflator - 0.2 * population + 300.0 * rng.standard_normal(n)
    return X, y


def _near_duplicates(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """GNP, its deflator (GNP / 2000 plus ``noise``) and the year: two columns equal but
    for a tiny part (``cond`` about 1.7e3 / ``noise`` after centring and scaling)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    gnp = 2e5 + 1e4 * t + 50.0 * rng.standard_normal(n)
    deflator = gnp / 2000.0 + noise * rng.standard_normal(n)
    X = np.column_stack([gnp, deflator, 1947.0 + t])
    return X, 6e4 + 0.03 * gnp + 5.0 * deflator + 300.0 * rng.standard_normal(n)


def _offset(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two features around 1e6 with a spread of 1 (timestamps, sensor counts)."""
    rng = np.random.default_rng(seed)
    X = 1e6 + rng.uniform(0.0, 1.0, size=(n, 2))
    y = 3.0 + 2.0 * X[:, 0] - 0.5 * X[:, 1] + 0.1 * rng.standard_normal(n)
    return X, y


def problems() -> list[Problem]:
    """The hard problems, a few hundred rows and a few thousand."""
    out = []
    for degree, n in ((4, 300), (6, 3000), (8, 300), (10, 300), (10, 3000)):
        X, y = _polynomial(degree, n, 0.01, seed=degree)
        out.append(Problem(f"polynomial degree {degree}, {n} rows", X, y, what="x in [1, 20]"))
    X, y = _polynomial(8, 300, 0.01, seed=8)
    out.append(Problem("polynomial degree 8, through the origin", X, y, fit_intercept=False))
    X, y = _exact_polynomial(10)
    out.append(Problem("polynomial degree 10, exact fit", X, y, what="residual 0"))
    out.append(Problem("polynomial degree 10, exact fit, through the origin", X, y - 1.0, False))
    weights = np.random.default_rng(3).uniform(0.5, 2.0, 300)
    X, y = _polynomial(8, 300, 0.01, seed=9)
    out.append(Problem("polynomial degree 8, weighted", X, y, sample_weight=weights))
    for n in (300, 3000):
        X, y = _economic(n, seed=n)
        out.append(Problem(f"collinear economic series, {n} rows", X, y))
    X, y = _economic(300, seed=1)
    out.append(Problem("collinear economic series, through the origin", X, y, False))
    for noise in (1e-6, 2e-7):
        X, y = _near_duplicates(500, noise, seed=5)
        out.append(Problem(f"near-duplicate columns, noise {noise:g}", X, y))
    for n in (300, 3000):
        X, y = _offset(n, seed=n)
        out.append(Problem(f"x around 1e6, spread 1, {n} rows", X, y))
    return out


@cache
def exact_solution(name: str) -> tuple[object, ...]:
    """The exact least-squares ``(w..., b)`` of the problem called ``name`` (mpmath)."""
    import mpmath

    problem = next(p for p in problems() if p.name == name)
    n = len(problem.y)
    columns = [problem.X[:, j] for j in range(problem.X.shape[1])]
    if problem.fit_intercept:
        columns.append(np.ones(n))
    weights = np.ones(n) if problem.sample_weight is None else problem.sample_weight
    with mpmath.workdps(DIGITS):
        mpf = mpmath.mpf
        A = [[mpf(float(v)) for v in column] for column in columns]
        s = [mpf(float(v)) for v in weights]
        sy = [a * b for a, b in zip(s, (mpf(float(v)) for v in problem.y), strict=True)]
        k = len(A)
        G, r = mpmath.matrix(k, k), mpmath.matrix(k, 1)
        for i in range(k):
            weighted = [a * b for a, b in zip(s, A[i], strict=True)]
            r[i] = mpmath.fdot(A[i], sy)
            for j in range(i, k):
                G[i, j] = G[j, i] = mpmath.fdot(weighted, A[j])
        solution = mpmath.lu_solve(G, r)
        values = [+solution[i] for i in range(k)]
    if not problem.fit_intercept:
        values.append(mpmath.mpf(0))
    return tuple(values)


def lre(estimate: float, exact: object) -> float:
    """``-log10(|estimate - exact| / |exact|)``, capped at 15.9 (``-log10 |estimate|``
    when the exact value is 0)."""
    import mpmath

    with mpmath.workdps(DIGITS):
        e, x = mpmath.mpf(float(estimate)), mpmath.mpf(exact)  # type: ignore[arg-type]
        error = abs(e - x) / abs(x) if x != 0 else abs(e)
        if error == 0:
            return MAX_LRE
        return float(min(MAX_LRE, max(0.0, -mpmath.log10(error))))


def worst_lre(problem: Problem, w: np.ndarray, b: float) -> float:
    exact = exact_solution(problem.name)
    return min(lre(v, x) for v, x in zip([*w, b], exact, strict=True))


Solver = Callable[[Problem], tuple[np.ndarray, float]]


def by_lstsq(problem: Problem) -> tuple[np.ndarray, float]:
    """``numpy.linalg.lstsq`` on ``[X 1]`` (weights as square roots), as a user calls it."""
    A = problem.X
    if problem.fit_intercept:
        A = np.column_stack([A, np.ones(len(problem.y))])
    y = problem.y
    if problem.sample_weight is not None:
        root = np.sqrt(problem.sample_weight)
        A, y = A * root[:, None], y * root
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    if problem.fit_intercept:
        return coef[:-1], float(coef[-1])
    return coef, 0.0


def by_sklearn(problem: Problem) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LinearRegression

    model = LinearRegression(fit_intercept=problem.fit_intercept)
    model.fit(problem.X, problem.y, sample_weight=problem.sample_weight)
    return model.coef_, float(model.intercept_)


def by_gradfit(problem: Problem, **options: object) -> tuple[np.ndarray, float]:
    """``gradfit.fit`` with default settings (and ``options``)."""
    import gradfit

    result = gradfit.fit(
        problem.X,
        problem.y,
        sample_weight=problem.sample_weight,
        fit_intercept=problem.fit_intercept,
        **options,
    )
    return result.w, result.b


def digits(value: float) -> str:
    return f"{value:.1f}" if math.isfinite(value) else "-"
