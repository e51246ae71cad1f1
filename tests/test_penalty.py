"""Penalties (ridge, lasso, elastic net) and Huber's loss against independent references.

gradfit minimises ``loss + 2 alpha R(w)`` with ``R(w) = l1_ratio |w|_1 + (1 - l1_ratio) |w|^2
/ 2`` on ``w`` in original units; the loss is the (weighted) mean squared error or twice
``SGDRegressor``'s Huber loss. So ``alpha`` is scikit-learn's ``Lasso`` / ``ElasticNet``
``alpha`` and ``Ridge(alpha=n_samples * alpha)``, and standardizing must not change the answer.

References, none of them gradfit's: scikit-learn's coordinate descent (``Lasso``,
``ElasticNet``, ``lasso_path``, ``enet_path``) and ``Ridge``'s SVD, each checked against the
optimality (KKT) conditions written out here; scipy's L-BFGS-B on the Huber objective with
its analytic gradient, cross-checked by an active-set Newton iteration written here; central
differences; and brute-force one-dimensional minimisation for the proximal map.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pytest
from scipy.optimize import minimize, minimize_scalar
from sklearn.linear_model import ElasticNet, Lasso, Ridge, enet_path, lasso_path
from sklearn.model_selection import GridSearchCV, KFold

import gradfit
from gradfit import GDRegressor, InvalidInputError
from gradfit.data import ArraySource
from gradfit.model import check_gradient, numerical_gradient
from gradfit.model.penalty import Penalty, ScaledPenalty, soft_threshold
from gradfit.model.regularized import RegularizedObjective, lasso_quadratic
from gradfit.train.options import FitOptions

RTOL = 1e-6
PENALTIES = ("l2", "l1", "elasticnet")
L1_RATIO = 0.5  # the elastic net's mix in these tests (the default 0.15 is tested by GDRegressor)


# -- problems -------------------------------------------------------------------------------


def problem(
    seed: int, n: int, d: int, scales: tuple[float, ...], offset: float = 5.0
) -> tuple[np.ndarray, np.ndarray]:
    """Columns of spread ``scales`` (cycled) about means ``offset`` spreads away, a third of
    the true coefficients 0, every column contributing O(1) to ``y``."""
    rng = np.random.default_rng(seed)
    s = np.resize(np.asarray(scales, dtype=float), d)
    X = rng.standard_normal((n, d)) * s + offset * rng.standard_normal(d) * s
    w = rng.standard_normal(d) / s
    w[::3] = 0.0
    y = X @ w + 3.0 + 0.5 * rng.standard_normal(n)
    return X, y


FAR = (1.0, 1e3, 1e-3)
MODERATE = (1.0, 3.0, 0.3, 2.0, 0.5)
PROBLEMS: dict[str, tuple[int, int, int, tuple[float, ...]]] = {
    "scales 1,1e3,1e-3 (n=200, d=6)": (0, 200, 6, FAR),
    "scales 1,1e3,1e-3 (n=100, d=9)": (1, 100, 9, FAR),
    "scales 1,1e3,1e-3 wide (n=30, d=60)": (2, 30, 60, FAR),
    "moderate scales (n=150, d=5)": (3, 150, 5, MODERATE),
    "moderate scales wide (n=25, d=40)": (4, 25, 40, MODERATE),
}


def data(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name == "bdims":
        b = gradfit.load_dataset("bdims")
        return np.array(b.X, dtype=float), np.array(b.y, dtype=float)
    return problem(*PROBLEMS[name])


def spread(X: np.ndarray) -> np.ndarray:
    return X.std(axis=0)


def lasso_alpha_max(X: np.ndarray, y: np.ndarray) -> float:
    """scikit-learn's ``alpha_max``: ``max_j |x_j . (y - mean y)| / n`` on centred columns."""
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    return float(np.abs(Xc.T @ yc).max()) / len(y)


def strength(name: str, penalty: str) -> dict[str, Any]:
    """gradfit's penalty options on data set ``name``: strong enough to matter."""
    if name == "bdims":
        alpha = 0.5
    elif penalty == "l2":
        alpha = 0.3
    else:
        alpha = 0.05 * lasso_alpha_max(*data(name))
    spec: dict[str, Any] = {"penalty": penalty, "alpha": alpha}
    if penalty == "elasticnet":
        spec["l1_ratio"] = L1_RATIO
    return spec


# -- references -----------------------------------------------------------------------------


def kkt_residual(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    b: float,
    alpha: float,
    l1_ratio: float,
    sample_weight: np.ndarray | None = None,
) -> float:
    """How far ``(w, b)`` is from satisfying the optimality conditions of
    ``(1/2) mean_s (X w + b - y)^2 + alpha R(w)``, in units of std(y), per standardized
    coordinate ``v_j = w_j std(x_j)``: 0 exactly at the minimum."""
    s = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    mean = X.mean(axis=0)
    Xc = X - mean  # centred columns: no rounding of the offsets in the gradient
    e = Xc @ w + (b + mean @ w) - y
    g = Xc.T @ (s * e) / s.sum() + alpha * (1.0 - l1_ratio) * w  # smooth part, w.r.t. w
    l1 = alpha * l1_ratio
    sub = np.where(w != 0, g + l1 * np.sign(w), np.sign(g) * np.maximum(np.abs(g) - l1, 0.0))
    intercept = abs(float(s @ e) / s.sum())
    sd = spread(X)
    return max(float(np.abs(sub * sd).max()), intercept) / float(np.std(y))


def ridge_exact(
    X: np.ndarray, y: np.ndarray, alpha: float, sample_weight: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """Ridge from its normal equations on centred, unit-spread columns (``v = w std(x)``):
    ``(Z' S Z / sum(s) + alpha diag(1 / std(x)^2)) v = Z' S (y - ybar) / sum(s)``."""
    s = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    mean, ybar, sd = s @ X / s.sum(), float(s @ y) / s.sum(), spread(X)
    Z = (X - mean) / sd
    lhs = Z.T @ (Z * s[:, None]) / s.sum() + np.diag(alpha / sd**2)
    v = np.linalg.solve(lhs, Z.T @ (s * (y - ybar)) / s.sum())
    w = v / sd
    return w, ybar - float(mean @ w)


def sklearn_fit(
    X: np.ndarray,
    y: np.ndarray,
    penalty: str,
    alpha: float,
    l1_ratio: float = L1_RATIO,
    sample_weight: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """scikit-learn's answer to gradfit's objective, checked by the KKT conditions (ridge:
    the normal equations solved here, checked against scikit-learn's ``Ridge``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a reference that did not converge is no reference
        if penalty == "l2":
            total = len(y) if sample_weight is None else float(np.sum(sample_weight))
            model: Any = Ridge(alpha=total * alpha, solver="svd")
            ratio = 0.0
        elif penalty == "l1":
            model, ratio = Lasso(alpha=alpha, tol=1e-14, max_iter=1_000_000), 1.0
        else:
            model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-14, max_iter=1_000_000)
            ratio = l1_ratio
        model.fit(X, y, sample_weight=sample_weight)
    w, b = np.array(model.coef_, dtype=float), float(model.intercept_)
    if penalty == "l2":
        exact_w, exact_b = ridge_exact(X, y, alpha, sample_weight)
        assert_same_fit(w, b, exact_w, exact_b, X)
        w, b = exact_w, exact_b
    assert kkt_residual(X, y, w, b, alpha, ratio, sample_weight) < 1e-8
    return w, b


def assert_same_fit(
    w: np.ndarray, b: float, ref_w: np.ndarray, ref_b: float, X: np.ndarray, rtol: float = RTOL
) -> None:
    """Coefficients within ``rtol`` relative, unit-free: compared as ``w_j std(x_j)`` (each
    column's effect on the predictions) against the largest such effect; the intercept to
    what those errors move it by through the columns' means, and ``rtol`` of itself."""
    sd = spread(X)
    v, ref_v = w * sd, ref_w * sd
    big = float(np.abs(ref_v).max())
    np.testing.assert_allclose(v, ref_v, rtol=0, atol=rtol * big, err_msg="coefficients")
    reach = float(np.abs(X.mean(axis=0) / sd).sum()) * big
    assert abs(b - ref_b) <= rtol * (abs(ref_b) + big + reach), (b, ref_b)


def assert_penalty_matters(penalty: str, ref_w: np.ndarray, X: np.ndarray, y: np.ndarray) -> None:
    """The strength makes the test discriminating: lasso zeros some coefficients and keeps
    others; ridge moves the coefficients away from least squares."""
    if penalty != "l2":
        assert 0 < np.count_nonzero(ref_w) < len(ref_w)
    if len(y) > X.shape[1]:
        A = np.column_stack([X, np.ones(len(y))])
        ols = np.linalg.lstsq(A, y, rcond=None)[0][:-1]
        sd = spread(X)
        assert np.abs((ols - ref_w) * sd).max() > 1e-3 * np.abs(ols * sd).max()


# -- 1. ridge, lasso and elastic net equal scikit-learn's -----------------------------------

CASES = [
    *[(name, p, True) for name in list(PROBLEMS)[:3] for p in PENALTIES],
    *[(name, p, std) for name in list(PROBLEMS)[3:] for p in PENALTIES for std in (True, False)],
    *[("bdims", p, std) for p in PENALTIES for std in (True, False)],
]


def fit_or_says_how_far(X, y, ref_w, ref_b, **options) -> Any:
    """``gradfit.fit``: within 1e-6 of the reference, or a warning that says how far (a
    bound that holds) and what to try; never silently short."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = gradfit.fit(X, y, **options)
    short = [str(w.message) for w in seen if issubclass(w.category, gradfit.ConvergenceWarning)]
    if not short:
        assert_same_fit(result.w, result.b, ref_w, ref_b, X)
        return result
    stated = re.search(r"within ([-+.\de]+) x std\(y\)", short[0])
    assert stated and "Try" in short[0], short[0]
    mean = X.mean(axis=0)
    delta = (X - mean) @ (result.w - ref_w) + (result.b - ref_b + mean @ (result.w - ref_w))
    assert np.sqrt(np.mean(delta**2)) / np.std(y) <= 1.1 * float(stated[1]) + 1e-12, short[0]
    return result


@pytest.mark.parametrize(("name", "penalty", "standardize"), CASES)
def test_fit_equals_scikit_learn(name, penalty, standardize):
    X, y = data(name)
    spec = strength(name, penalty)
    ref_w, ref_b = sklearn_fit(X, y, penalty, spec["alpha"])
    assert_penalty_matters(penalty, ref_w, X, y)
    if not standardize:  # raw columns may need more steps than the budget: it must say so
        result = fit_or_says_how_far(X, y, ref_w, ref_b, standardize=False, **spec)
        return
    result = gradfit.fit(X, y, standardize=standardize, **spec)
    assert_same_fit(result.w, result.b, ref_w, ref_b, X)
    if penalty == "l1":  # the same coefficients exactly 0 (soft threshold, not ~1e-12)
        np.testing.assert_array_equal(result.w == 0, ref_w == 0)


@pytest.mark.parametrize("penalty", PENALTIES)
def test_standardizing_changes_the_path_not_the_answer(penalty):
    X, y = data("moderate scales (n=150, d=5)")
    spec = strength("moderate scales (n=150, d=5)", penalty)
    on = gradfit.fit(X, y, standardize=True, **spec)
    off = gradfit.fit(X, y, standardize=False, **spec)
    assert on.n_steps != off.n_steps  # different descents...
    assert_same_fit(off.w, off.b, on.w, on.b, X)  # ...to the same minimum


@pytest.mark.parametrize(
    ("name", "penalty"),
    [
        *[("bdims", p) for p in PENALTIES],
        # (the elastic net on these scales: see test_fit_equals_scikit_learn)
        *[("scales 1,1e3,1e-3 (n=200, d=6)", p) for p in ("l2", "l1")],
    ],
)
def test_estimator_equals_scikit_learn(name, penalty):
    X, y = data(name)
    spec = strength(name, penalty)
    ref_w, ref_b = sklearn_fit(X, y, penalty, spec["alpha"])
    est = GDRegressor(**spec).fit(X, y)
    assert_same_fit(est.coef_, est.intercept_, ref_w, ref_b, X)
    np.testing.assert_allclose(est.predict(X[:5]), X[:5] @ est.coef_ + est.intercept_)


def test_estimator_default_l1_ratio_is_scikit_learns():
    X, y = data("bdims")
    ref_w, ref_b = sklearn_fit(X, y, "elasticnet", 0.5, l1_ratio=0.15)
    est = GDRegressor(penalty="elasticnet", alpha=0.5).fit(X, y)
    assert_same_fit(est.coef_, est.intercept_, ref_w, ref_b, X)


@pytest.mark.parametrize("penalty", PENALTIES)
def test_sample_weight_equals_scikit_learns(penalty):
    name = "moderate scales (n=150, d=5)"
    X, y = data(name)
    weight = np.random.default_rng(11).uniform(0.1, 3.0, len(y))
    spec = strength(name, penalty)
    ref_w, ref_b = sklearn_fit(X, y, penalty, spec["alpha"], sample_weight=weight)
    unweighted, _ = sklearn_fit(X, y, penalty, spec["alpha"])
    assert np.abs(ref_w - unweighted).max() > 1e-3 * np.abs(ref_w).max()  # weights matter
    result = gradfit.fit(X, y, sample_weight=weight, **spec)
    assert_same_fit(result.w, result.b, ref_w, ref_b, X)
    est = GDRegressor(**spec).fit(X, y, sample_weight=weight)
    assert_same_fit(est.coef_, est.intercept_, ref_w, ref_b, X)


# -- 2. Huber's loss equals a direct minimiser ----------------------------------------------


def huber_objective(X, y, epsilon, ridge=0.0, lasso=0.0):
    """gradfit's Huber objective in standardized coordinates ``t = [v, c]`` (``w = v / s``,
    ``b = c - mean . w``), value and analytic gradient, written from the formula:
    ``mean(rho(e)) + ridge |w|^2 + lasso |w|_1``, ``rho(e) = e^2`` within epsilon, else
    ``2 epsilon |e| - epsilon^2``. The L1 part's gradient is only valid off 0."""
    n = len(y)
    mean, s = X.mean(axis=0), spread(X)
    Z = (X - mean) / s

    def f(t: np.ndarray) -> tuple[float, np.ndarray]:
        e = Z @ t[:-1] + t[-1] - y
        inside = np.abs(e) <= epsilon
        rho = np.where(inside, e * e, 2 * epsilon * np.abs(e) - epsilon**2)
        dr = np.where(inside, 2 * e, 2 * epsilon * np.sign(e)) / n
        w = t[:-1] / s
        value = float(rho.mean()) + ridge * float(w @ w) + lasso * float(np.abs(w).sum())
        grad = np.append(Z.T @ dr + 2 * ridge * w / s + lasso * np.sign(w) / s, dr.sum())
        return value, grad

    def to_original(t: np.ndarray) -> tuple[np.ndarray, float]:
        w = t[:-1] / s
        return w, float(t[-1] - w @ mean)

    return f, Z, to_original


def huber_lbfgs(X, y, epsilon, ridge=0.0):
    """scipy's L-BFGS-B at a tight tolerance, from the median."""
    f, _, to_original = huber_objective(X, y, epsilon, ridge)
    t0 = np.append(np.zeros(X.shape[1]), np.median(y))
    res = minimize(
        f,
        t0,
        jac=True,
        method="L-BFGS-B",
        options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 100_000, "maxcor": 50},
    )
    return res.x, to_original


def huber_active_set(X, y, epsilon, t, ridge=0.0, max_iter=50):
    """A second, exact reference: with the rows inside epsilon fixed, the optimality
    condition is linear (``sum_in 2 z e / n + sum_out 2 epsilon sign(e) z / n + 2 ridge w/s
    = 0``); solve it, recompute which rows are inside, until nothing changes."""
    n = len(y)
    _, Z, _ = huber_objective(X, y, epsilon, ridge)
    A = np.column_stack([Z, np.ones(n)])
    s = spread(X)
    R = np.diag(np.append(2 * ridge / s**2, 0.0))
    for _ in range(max_iter):
        e = A @ t - y
        inside = np.abs(e) <= epsilon
        Ai = A[inside]
        lhs = 2 * Ai.T @ Ai / n + R
        rhs = (2 * Ai.T @ y[inside] - 2 * epsilon * A[~inside].T @ np.sign(e[~inside])) / n
        new = np.linalg.solve(lhs, rhs)
        same = np.array_equal(np.abs(A @ new - y) <= epsilon, inside)
        t = new
        if same:
            return t
    raise AssertionError("the active-set iteration did not settle")


def huber_reference(X, y, epsilon, ridge=0.0):
    """L-BFGS-B's minimiser, polished by the exact active-set solve and checked against it."""
    t, to_original = huber_lbfgs(X, y, epsilon, ridge)
    exact = huber_active_set(X, y, epsilon, t, ridge)
    np.testing.assert_allclose(t, exact, rtol=1e-6, atol=1e-6 * np.abs(exact).max())
    f, _, _ = huber_objective(X, y, epsilon, ridge)
    assert f(exact)[0] <= f(t)[0] + 1e-12 * abs(f(t)[0])
    e = np.abs(np.column_stack([(X - X.mean(0)) / spread(X), np.ones(len(y))]) @ exact - y)
    assert (e > epsilon).any() and (e <= epsilon).any()  # neither least squares nor L1
    return to_original(exact)


def outliers(seed=3, n=300, scales=(1.0, 1e3, 1e-3, 5.0)):
    rng = np.random.default_rng(seed)
    s = np.asarray(scales)
    X = rng.standard_normal((n, len(s))) * s + 3 * rng.standard_normal(len(s)) * s
    y = X @ (rng.standard_normal(len(s)) / s) + 2 + 0.3 * rng.standard_t(2, size=n)
    y[:10] += 50.0  # gross outliers
    return X, y


HUBER_CASES = [
    ("davis", 3.0, 0.0, True),
    ("davis", 1.0, 0.0, True),
    ("davis", 3.0, 0.05, True),
    ("davis", 3.0, 0.05, False),
    ("outliers, scales 1,1e3,1e-3,5", 0.5, 0.0, True),
    ("outliers, scales 1,1e3,1e-3,5", 0.5, 0.01, True),
    ("outliers, moderate scales", 0.5, 0.0, False),
    ("outliers, moderate scales", 0.5, 0.01, False),
]


def huber_data(name):
    if name == "davis":
        d = gradfit.load_dataset("davis")
        assert d.target_name == "weight" and d.feature_names == ["height"]
        return np.array(d.X, dtype=float), np.array(d.y, dtype=float)
    if name == "outliers, moderate scales":
        return outliers(scales=(1.0, 3.0, 0.5, 2.0))
    return outliers()


@pytest.mark.parametrize(("name", "epsilon", "alpha", "standardize"), HUBER_CASES)
def test_huber_equals_a_direct_minimiser(name, epsilon, alpha, standardize):
    X, y = huber_data(name)
    ref_w, ref_b = huber_reference(X, y, epsilon, ridge=alpha)
    penalty = {"penalty": "l2", "alpha": alpha} if alpha else {}
    result = gradfit.fit(X, y, loss="huber", epsilon=epsilon, standardize=standardize, **penalty)
    assert_same_fit(result.w, result.b, ref_w, ref_b, X)
    if alpha:  # the ridge part matters
        plain_w, _ = huber_reference(X, y, epsilon)
        sd = spread(X)
        assert np.abs((plain_w - ref_w) * sd).max() > 1e-4 * np.abs(ref_w * sd).max()
    if standardize:  # the estimator's default (raw units take ~1e5 steps on Davis)
        est = GDRegressor(loss="huber", epsilon=epsilon, **penalty).fit(X, y)
        assert_same_fit(est.coef_, est.intercept_, ref_w, ref_b, X)


def test_huber_resists_davis_outlier():
    """Row 12 (index 11) swapped weight and height; least squares with it is pulled far off
    the slope without it, Huber's slope takes back most of the way (not all: the row's
    height is also far out, and Huber bounds the pull of errors, not of leverage)."""
    X, y = huber_data("davis")
    clean = np.delete(np.column_stack([X, np.ones(len(y))]), 11, axis=0)
    slope_clean = np.linalg.lstsq(clean, np.delete(y, 11), rcond=None)[0][0]
    slope_all = np.linalg.lstsq(np.column_stack([X, np.ones(len(y))]), y, rcond=None)[0][0]
    huber = gradfit.fit(X, y, loss="huber", epsilon=3.0).w[0]
    assert abs(slope_all - slope_clean) > 0.5
    assert abs(huber - slope_clean) < 0.15 * abs(slope_all - slope_clean)


def test_huber_with_a_lasso_penalty_equals_a_split_minimiser():
    """Huber + L1 against L-BFGS-B on the smooth split ``v = p - q``, ``p, q >= 0``."""
    X, y = outliers(scales=(1.0, 3.0, 0.5, 2.0))
    epsilon, alpha = 0.5, 0.05
    f, _, to_original = huber_objective(X, y, epsilon)
    s, d = spread(X), X.shape[1]
    lam = 2 * alpha / s  # 2 alpha |w|_1 in standardized coordinates

    def split(u: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, c = u[:d], u[d : 2 * d], u[-1]
        value, grad = f(np.append(p - q, c))
        gv = grad[:-1]
        return value + float(lam @ (p + q)), np.concatenate([gv + lam, -gv + lam, grad[-1:]])

    u0 = np.append(np.zeros(2 * d), np.median(y))
    bounds = [(0, None)] * (2 * d) + [(None, None)]
    options = {"ftol": 1e-15, "gtol": 1e-12, "maxiter": 100_000, "maxcor": 50}
    res = minimize(split, u0, jac=True, method="L-BFGS-B", bounds=bounds, options=options)
    ref_w, ref_b = to_original(np.append(res.x[:d] - res.x[d : 2 * d], res.x[-1]))
    result = gradfit.fit(X, y, loss="huber", epsilon=epsilon, penalty="l1", alpha=alpha)
    assert_same_fit(result.w, result.b, ref_w, ref_b, X)

    # the objective itself: gradfit's is not above the reference's
    def value(w, b):
        e = X @ w + b - y
        c = np.clip(e, -epsilon, epsilon)
        return float(np.mean(c * (2 * e - c))) + 2 * alpha * float(np.abs(w).sum())

    assert value(result.w, result.b) <= value(ref_w, ref_b) * (1 + 1e-12)


# -- 3. gradients, the proximal map and optimality ------------------------------------------


def objective(penalty: Penalty, scaling=True, path="auto", loss="squared_error", epsilon=1.0):
    X, y = data("moderate scales (n=150, d=5)")
    src = ArraySource(X, y)
    return (
        RegularizedObjective(
            src, penalty=penalty, loss=loss, epsilon=epsilon, scaling=scaling, path=path
        ),
        X,
        y,
    )


GRADIENT_CASES = {
    "ridge": ({"penalty": Penalty("l2", 0.3)}, True),
    "ridge, rows": ({"penalty": Penalty("l2", 0.3), "path": "direct"}, True),
    "ridge, raw units": ({"penalty": Penalty("l2", 0.3)}, False),
    "huber": ({"penalty": Penalty(), "loss": "huber", "epsilon": 1.0}, True),
    "huber + ridge": ({"penalty": Penalty("l2", 0.3), "loss": "huber", "epsilon": 1.0}, True),
    "elastic net (smooth part)": ({"penalty": Penalty("elasticnet", 0.3, 0.5)}, True),
}


@pytest.mark.parametrize("case", list(GRADIENT_CASES))
def test_gradient_equals_central_differences(case):
    kwargs, scaling = GRADIENT_CASES[case]
    f, X, y = objective(scaling=scaling, **kwargs)
    rng = np.random.default_rng(1)
    theta = f.scaling.to_scaled(np.append(rng.standard_normal(5) / spread(X), y.mean()))
    l1 = f.scaled_penalty.l1

    def smooth(t: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = f.value_and_grad(t)
        return value - float(l1 @ np.abs(t)), grad  # the L1 part is the prox's

    assert check_gradient(smooth, theta) < 1e-7
    numeric = numerical_gradient(lambda t: smooth(t)[0], theta)
    np.testing.assert_allclose(f.value_and_grad(theta)[1], numeric, rtol=1e-5, atol=1e-7)
    # the value is the objective in original units, computed from the formula here
    w, b = f.scaling.to_original(theta)[:-1], f.scaling.to_original(theta)[-1]
    e = X @ w + b - y
    if f.huber:
        c = np.clip(e, -f.epsilon, f.epsilon)
        loss = float(np.mean(c * (2 * e - c)))
    else:
        loss = float(np.mean(e * e))
    penalty = f.penalty
    expected = loss + 2 * penalty.alpha * (
        penalty.ratio * np.abs(w).sum() + (1 - penalty.ratio) / 2 * (w @ w)
    )
    assert f.value_and_grad(theta)[0] == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("path", ["stats", "direct"])
def test_ridge_on_either_path_equals_its_normal_equations(path, standardize):
    """The same ridge from the statistics and from the rows (the path n < d takes), in
    standardized and raw coordinates: within 1e-6, or a warning (never silently short)."""
    X, y = data("bdims")
    ref_w, ref_b = ridge_exact(X, y, 0.5)
    options = {"penalty": "l2", "alpha": 0.5, "path": path, "standardize": standardize}
    result = fit_or_says_how_far(X, y, ref_w, ref_b, **options)
    assert result.report.path == path


@pytest.mark.parametrize("path", ["stats", "direct"])
def test_curvature_along_a_direction_includes_the_ridge_part(path):
    """``curvature_along(p)`` (conjugate gradients' exact step) is ``p^T H p`` of the whole
    objective, the ridge part's ``2 l2_j p_j^2`` included, on either path."""
    f, _, _ = objective(Penalty("l2", 10.0), path=path)
    rng = np.random.default_rng(2)
    theta, p = rng.standard_normal(6), rng.standard_normal(6)
    h = 1e-3
    values = [f.value_and_grad(theta + k * h * p)[0] for k in (-1, 0, 1)]
    second = (values[0] - 2 * values[1] + values[2]) / h**2
    assert f.curvature_along(p) == pytest.approx(second, rel=1e-6)


@pytest.mark.parametrize("threshold", [0.0, 0.3, 1.0, 2.5])
def test_soft_threshold_is_the_argmin(threshold):
    v = np.array([-3.0, -1.0, -0.2, 0.0, 0.1, 0.3, 0.9, 2.5, 4.0])
    got = soft_threshold(v, threshold)
    for vi, gi in zip(v, got, strict=True):

        def h(z: float, vi: float = vi) -> float:
            return 0.5 * (z - vi) ** 2 + threshold * abs(z)

        res = minimize_scalar(h, bounds=(-10, 10), method="bounded", options={"xatol": 1e-12})
        assert gi == pytest.approx(res.x, abs=1e-6)
        assert h(gi) <= h(res.x) + 1e-15  # and no worse than the minimiser scipy found
        grid = np.linspace(-5, 5, 100_001)  # brute force, step 1e-4
        values = 0.5 * (grid - vi) ** 2 + threshold * np.abs(grid)
        assert gi == pytest.approx(grid[np.argmin(values)], abs=1e-4)
        assert h(gi) <= values.min() + 1e-15
    assert np.all(got[np.abs(v) <= threshold] == 0.0)  # exactly 0, not tiny


def test_scaled_penalty_prox_is_coordinatewise_in_original_units():
    """The penalty ``l1 |w|_1`` on ``w = v / scale``: each coordinate's threshold is
    ``step l1 / scale_j``; the intercept is never shrunk."""
    scale = np.array([2.0, 0.5, 10.0])
    sp = ScaledPenalty.of(Penalty("elasticnet", alpha=0.4, l1_ratio=0.25), scale)
    np.testing.assert_allclose(sp.l1, [0.1, 0.4, 0.02, 0.0])
    np.testing.assert_allclose(sp.l2, np.append(0.4 * 0.75 / scale**2, 0.0))
    theta, step = np.array([0.3, -0.5, 0.01, -7.0]), 0.7
    got = sp.prox(theta, step)
    for j in range(4):

        def h(z: float, j: int = j) -> float:
            return 0.5 * (z - theta[j]) ** 2 / step + sp.l1[j] * abs(z)

        res = minimize_scalar(h, bounds=(-10, 10), method="bounded", options={"xatol": 1e-12})
        assert got[j] == pytest.approx(res.x, abs=1e-6)
        assert h(got[j]) <= h(res.x) + 1e-15
    assert sp.prox(theta, step)[-1] == theta[-1]
    v = np.array([0.6, -0.2, 0.05])
    w = v / scale
    full = np.append(v, 1.0)
    assert sp.value(full) == pytest.approx(Penalty("elasticnet", 0.4, 0.25).value(w), rel=1e-14)


def test_subgradient_is_zero_at_the_solution_only():
    X, y = data("moderate scales (n=150, d=5)")
    alpha = 0.05 * lasso_alpha_max(X, y)
    f = RegularizedObjective(ArraySource(X, y), penalty=Penalty("l1", alpha), scaling=True)
    theta = f.solution()
    ref_w, ref_b = sklearn_fit(X, y, "l1", alpha)
    w, b = f.scaling.to_original(theta)[:-1], f.scaling.to_original(theta)[-1]
    assert_same_fit(w, b, ref_w, ref_b, X)
    assert (theta[:-1] == 0).any() and (theta[:-1] != 0).any()
    grad = f.value_and_grad(theta)[1]
    scale = np.abs(grad).max() + f.scaled_penalty.l1.max()
    assert np.abs(f.scaled_penalty.subgradient(theta, grad)).max() <= 1e-10 * scale
    assert np.abs(f.stationarity(theta, grad)).max() <= 1e-10 * scale
    # held at 0 by its kink: the gradient there is inside [-l1_j, l1_j], not 0
    zero = np.flatnonzero(theta[:-1] == 0)
    assert np.all(np.abs(grad[zero]) <= f.scaled_penalty.l1[zero])
    assert np.abs(grad[zero]).max() > 0
    rng = np.random.default_rng(0)
    for _ in range(5):  # anywhere else it is not 0
        other = theta + 1e-3 * rng.standard_normal(theta.size)
        g = f.value_and_grad(other)[1]
        assert np.abs(f.scaled_penalty.subgradient(other, g)).max() > 1e-6 * scale


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lasso_quadratic_satisfies_kkt_and_equals_a_split_minimiser(seed):
    rng = np.random.default_rng(seed)
    k = 8
    A = rng.standard_normal((3 * k, k)) * rng.uniform(0.2, 5.0, k)
    H = A.T @ A / len(A)
    b = rng.standard_normal(k) * 2
    l1 = rng.uniform(0.2, 1.5, k)
    z = lasso_quadratic(H, b, l1, np.zeros(k))
    g = H @ z - b
    on = z != 0
    assert on.any() and (~on).any()
    np.testing.assert_allclose(g[on], -l1[on] * np.sign(z[on]), rtol=0, atol=1e-12)
    assert np.all(np.abs(g[~on]) <= l1[~on] * (1 + 1e-12))

    def split(u: np.ndarray) -> tuple[float, np.ndarray]:
        zz = u[:k] - u[k:]
        gz = H @ zz - b
        return 0.5 * zz @ H @ zz - b @ zz + l1 @ (u[:k] + u[k:]), np.concatenate(
            [gz + l1, -gz + l1]
        )

    res = minimize(
        split,
        np.zeros(2 * k),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0, None)] * (2 * k),
        options={"ftol": 1e-15, "gtol": 1e-13, "maxiter": 10_000},
    )
    np.testing.assert_allclose(z, res.x[:k] - res.x[k:], rtol=0, atol=1e-6 * np.abs(z).max())


# -- 4. the proximal rules and what is refused ----------------------------------------------

PROXIMAL = [
    {"optimizer": "gd"},
    {"optimizer": "fista"},
    {"optimizer": "svrg", "batch_size": 1, "random_state": 0},
    {"optimizer": "svrg", "batch_size": 16, "random_state": 0},
]


@pytest.mark.parametrize("rule", PROXIMAL, ids=lambda r: f"{r['optimizer']}-{r.get('batch_size')}")
def test_proximal_rules_reach_the_lasso(rule):
    name = "moderate scales (n=150, d=5)"
    X, y = data(name)
    spec = strength(name, "l1")
    ref_w, ref_b = sklearn_fit(X, y, "l1", spec["alpha"])
    result = gradfit.fit(X, y, **spec, **rule)
    assert result.optimizer == rule["optimizer"]
    assert_same_fit(result.w, result.b, ref_w, ref_b, X)
    np.testing.assert_array_equal(result.w == 0, ref_w == 0)


@pytest.mark.parametrize("optimizer", ["momentum", "adam", "nesterov", "cg"])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_rules_without_a_proximal_step_are_refused(optimizer, penalty):
    X, y = data("moderate scales (n=150, d=5)")
    with pytest.raises(InvalidInputError) as info:
        gradfit.fit(X, y, penalty=penalty, alpha=0.1, optimizer=optimizer)
    message = str(info.value)
    assert repr(optimizer) in message and "proximal" in message
    usable = re.findall(r"'(\w+)'", message.split("choose one of")[1])
    assert sorted(usable) == ["fista", "gd", "svrg"]
    with pytest.raises(InvalidInputError, match="proximal"):
        GDRegressor(penalty=penalty, alpha=0.1, optimizer=optimizer).fit(X, y)
    for name in usable:  # the rules it names do fit the penalty
        FitOptions(penalty=penalty, alpha=0.1, optimizer=name)


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"loss": "huber", "optimizer": "cg"}, "Huber's loss is not one"),
        ({"penalty": "l1", "optimizer": "fista", "batch_size": 16}, "no mini-batch form"),
        ({"penalty": "lasso"}, "penalty must be"),
        ({"penalty": "l1", "alpha": -1.0}, "alpha must be a number >= 0"),
        ({"loss": "huber", "epsilon": 0.0}, "epsilon"),
        ({"loss": "absolute"}, "loss"),
    ],
)
def test_impossible_combinations_are_refused(options, fragment):
    X, y = data("moderate scales (n=150, d=5)")
    with pytest.raises(InvalidInputError, match=re.escape(fragment)):
        gradfit.fit(X, y, **options)
    with pytest.raises(InvalidInputError, match=re.escape(fragment)):
        GDRegressor(**options).fit(X, y)


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"alpha": 0.5}, "alpha has no effect without penalty"),
        ({"penalty": "l1", "l1_ratio": 0.5}, "l1_ratio has no effect without penalty='elasticnet'"),
        ({"penalty": "l2", "l1_ratio": 0.5}, "l1_ratio has no effect without penalty='elasticnet'"),
        ({"epsilon": 2.0}, "epsilon has no effect without loss='huber'"),
        ({"penalty": "l1", "epsilon": 2.0}, "epsilon has no effect without loss='huber'"),
    ],
)
def test_options_without_effect_are_refused_by_fit_and_ignored_by_the_estimator(options, fragment):
    """``gradfit.fit`` refuses an option that would be ignored; ``GDRegressor`` ignores it,
    as scikit-learn's estimators do (``GridSearchCV`` sets ``alpha`` on any estimator)."""
    X, y = data("moderate scales (n=150, d=5)")
    with pytest.raises(InvalidInputError, match=re.escape(fragment)):
        gradfit.fit(X, y, **options)
    options = dict(options)
    base = {k: v for k, v in options.items() if k == "penalty"}
    if "penalty" in base:
        base["alpha"] = options["alpha"] = 0.1
    with_it = GDRegressor(**options).fit(X, y)
    without = GDRegressor(**base).fit(X, y)
    np.testing.assert_array_equal(with_it.coef_, without.coef_)


def test_fista_with_batches_suggests_rules_that_fit_the_penalty():
    """The refusal of 'fista' with a batch size names other rules: each of them must be one
    that can fit the same lasso with that batch size."""
    with pytest.raises(InvalidInputError) as info:
        FitOptions(penalty="l1", alpha=0.1, optimizer="fista", batch_size=16)
    named = re.findall(r"'(\w+)'", str(info.value).split("choose one of")[1])
    assert "svrg" in named
    for name in named:
        FitOptions(penalty="l1", alpha=0.1, optimizer=name, batch_size=16)


@pytest.mark.parametrize(
    ("options", "rule"),
    [
        ({"penalty": "l1", "alpha": 0.1}, "fista"),
        ({"penalty": "elasticnet", "alpha": 0.1}, "fista"),
        ({"loss": "huber", "epsilon": 1.0}, "fista"),
        ({"penalty": "l2", "alpha": 0.1}, "cg"),
        ({"penalty": "l1", "alpha": 0.1, "batch_size": 16, "random_state": 0}, "svrg"),
        ({"penalty": "l1", "alpha": 0.1, "lr": 0.01}, "gd"),
    ],
)
def test_default_rules(options, rule):
    X, y = data("moderate scales (n=150, d=5)")
    assert FitOptions(**options).rule.name == rule
    if "lr" not in options:
        result = gradfit.fit(X, y, **options)
        assert result.optimizer == rule and result.report.optimizer == rule


# -- 5. the regularization path -------------------------------------------------------------


def test_alpha_max_is_scikit_learns_and_the_edge_of_the_zeros():
    X, y = data("bdims")
    top = lasso_alpha_max(X, y)
    path = gradfit.regularization_path(X, y, penalty="l1", alphas=[top])
    assert path.alpha_max == pytest.approx(top, rel=1e-12)
    assert not path.coef.any()
    assert path.intercept[0] == pytest.approx(y.mean(), rel=1e-12)
    below = gradfit.regularization_path(X, y, penalty="l1", alphas=[top * (1 - 1e-3)])
    assert np.count_nonzero(below.coef) >= 1
    net = gradfit.regularization_path(X, y, penalty="elasticnet", l1_ratio=0.3, alphas=[1.0])
    assert net.alpha_max == pytest.approx(top / 0.3, rel=1e-12)


def test_huber_alpha_max_is_the_edge_of_the_zeros():
    X, y = huber_data("outliers, moderate scales")
    options = {"loss": "huber", "epsilon": 0.5}
    top = gradfit.regularization_path(X, y, alphas=[1.0], **options).alpha_max
    at = gradfit.regularization_path(X, y, alphas=[top * (1 + 1e-9)], **options)
    assert not at.coef.any()
    below = gradfit.regularization_path(X, y, alphas=[top * (1 - 1e-3)], **options)
    assert np.count_nonzero(below.coef) >= 1


@pytest.mark.parametrize(("penalty", "l1_ratio"), [("l1", 1.0), ("elasticnet", 0.3)])
def test_path_equals_scikit_learns(penalty, l1_ratio):
    X, y = data("bdims")
    path = gradfit.regularization_path(X, y, penalty=penalty, l1_ratio=l1_ratio, n_alphas=8)
    top = lasso_alpha_max(X, y) / l1_ratio
    np.testing.assert_allclose(path.alphas, top * np.logspace(0, -3, 8), rtol=1e-12)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if penalty == "l1":
            _, coefs, _ = lasso_path(Xc, yc, alphas=path.alphas, tol=1e-14, max_iter=1_000_000)
        else:
            _, coefs, _ = enet_path(
                Xc, yc, l1_ratio=l1_ratio, alphas=path.alphas, tol=1e-14, max_iter=1_000_000
            )
    for k in range(len(path.alphas)):
        ref_w = coefs[:, k]
        ref_b = float(y.mean() - X.mean(axis=0) @ ref_w)
        if np.abs(ref_w * spread(X)).max() < 1e-9 * np.std(y):  # rounding: all 0
            assert k == 0 and not path.coef[k].any()
            continue
        assert_same_fit(path.coef[k], path.intercept[k], ref_w, ref_b, X)
    assert path.nonzero()[0] == 0 and path.nonzero()[-1] > path.nonzero()[1]


# -- 6. model selection ---------------------------------------------------------------------


def test_grid_search_picks_the_alpha_scikit_learn_picks():
    X, y = data("bdims")
    cv = KFold(5, shuffle=True, random_state=0)
    grid = {"alpha": [0.03, 0.1, 0.3, 1.0, 3.0]}
    ours = GridSearchCV(GDRegressor(penalty="l1"), grid, cv=cv).fit(X, y)
    theirs = GridSearchCV(Lasso(tol=1e-14, max_iter=1_000_000), grid, cv=cv).fit(X, y)
    assert ours.best_params_ == theirs.best_params_
    np.testing.assert_allclose(
        ours.cv_results_["mean_test_score"], theirs.cv_results_["mean_test_score"], rtol=1e-8
    )
    best = ours.best_estimator_
    ref_w, ref_b = sklearn_fit(X, y, "l1", best.alpha)
    assert_same_fit(best.coef_, best.intercept_, ref_w, ref_b, X)


# -- 7. units -------------------------------------------------------------------------------


@pytest.mark.parametrize("c", [1e-3, 7.0, 1e4])
def test_scaling_y_scales_the_answer_by_the_unit_rules(c):
    """``alpha`` has the target's units for the lasso (``mean e^2`` against ``2 alpha |w|``),
    none for ridge; ``epsilon`` has the target's units."""
    X, y = data("moderate scales (n=150, d=5)")
    alpha = 0.05 * lasso_alpha_max(X, y)
    base = gradfit.fit(X, y, penalty="l1", alpha=alpha)
    scaled = gradfit.fit(X, c * y, penalty="l1", alpha=c * alpha)
    assert_same_fit(scaled.w / c, scaled.b / c, base.w, base.b, X)
    np.testing.assert_array_equal(scaled.w == 0, base.w == 0)
    ridge = gradfit.fit(X, y, penalty="l2", alpha=0.3)
    ridge_c = gradfit.fit(X, c * y, penalty="l2", alpha=0.3)
    assert_same_fit(ridge_c.w / c, ridge_c.b / c, ridge.w, ridge.b, X)
    Xo, yo = huber_data("outliers, moderate scales")
    huber = gradfit.fit(Xo, yo, loss="huber", epsilon=0.5)
    huber_c = gradfit.fit(Xo, c * yo, loss="huber", epsilon=0.5 * c)
    assert_same_fit(huber_c.w / c, huber_c.b / c, huber.w, huber.b, Xo)
    # and the rule is not vacuous: keeping alpha (or epsilon) is another answer
    other = gradfit.fit(X, c * y, penalty="l1", alpha=alpha)
    sd = spread(X)
    assert np.abs((other.w / c - base.w) * sd).max() > 1e-3 * np.abs(base.w * sd).max()


# -- 8. the command line --------------------------------------------------------------------


def test_cli_fit_with_a_lasso_penalty_equals_gradfit_fit(tmp_path, capsys):
    from gradfit.cli import main

    X, y = data("moderate scales (n=150, d=5)")
    names = ["a", "b", "c", "d", "e"]
    rows = [",".join([*names, "t"])]
    rows += [",".join(map(repr, [*x, t])) for x, t in zip(X.tolist(), y.tolist(), strict=True)]
    csv = tmp_path / "small.csv"
    csv.write_text("\n".join(rows) + "\n")
    model = tmp_path / "model.json"
    argv = ["fit", str(csv), "--target", "t", "--penalty", "l1", "--alpha", "0.1"]
    assert main([*argv, "-o", str(model)]) == 0
    out = capsys.readouterr().out.splitlines()
    engine = gradfit.fit(X, y, penalty="l1", alpha=0.1)
    saved = gradfit.load(model).model
    np.testing.assert_allclose(saved.w, engine.w, rtol=1e-9, atol=1e-12)
    assert saved.b == pytest.approx(engine.b, rel=1e-9)
    np.testing.assert_array_equal(saved.w == 0, engine.w == 0)
    # the printed line: 6 significant digits of the same numbers, in the columns' order
    line = out[0].replace(" - ", " -").replace(" + ", " ")
    terms = re.findall(r"(-?[\d.e+-]+) \* (\w+)", line)
    assert [n for _, n in terms] == names
    np.testing.assert_allclose([float(w) for w, _ in terms], engine.w, rtol=1e-5, atol=1e-12)
    ref_w, ref_b = sklearn_fit(X, y, "l1", 0.1)
    assert_same_fit(saved.w, saved.b, ref_w, ref_b, X)
