import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradfit.data import Scaling
from gradfit.model import (
    Curvature,
    LinearRegressionLoss,
    SufficientStats,
    check_gradient,
    least_squares,
    numerical_gradient,
    power_iteration,
    squared_error,
)

from .conftest import make_problem


def test_loss_is_the_articles_formula(rng):
    X, y = make_problem(rng, n=30, d=3)
    theta = rng.normal(size=4)
    loss, grad = LinearRegressionLoss(X, y).value_and_grad(theta)
    e = X @ theta[:3] + theta[3] - y
    assert loss == pytest.approx(np.mean(e**2), rel=1e-13)
    # dJ/dw = (2/N) sum_i e_i x_i, dJ/db = (2/N) sum_i e_i, written as loops like article B
    gw = sum(2 * ei * xi for ei, xi in zip(e, X, strict=True)) / len(y)
    gb = sum(2 * ei for ei in e) / len(y)
    np.testing.assert_allclose(grad, np.append(gw, gb), rtol=1e-12)


def test_squared_error_gradient_by_finite_differences(rng):
    p, y = rng.normal(size=7), rng.normal(size=7)
    num = numerical_gradient(lambda q: squared_error(q, y)[0], p)
    np.testing.assert_allclose(squared_error(p, y)[1], num, rtol=1e-7, atol=1e-9)
    s = rng.uniform(0.5, 2, 7)
    num = numerical_gradient(lambda q: squared_error(q, y, s)[0], p)
    np.testing.assert_allclose(squared_error(p, y, s)[1], num, rtol=1e-7, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(3, 40),
    d=st.integers(1, 5),
    scaled=st.booleans(),
    weighted=st.booleans(),
    batch=st.booleans(),
)
def test_every_gradient_matches_finite_differences(seed, n, d, scaled, weighted, batch):
    rng = np.random.default_rng(seed)
    X = rng.normal(5, 3, (n, d))
    y = rng.normal(size=n)
    s = rng.uniform(0.1, 3, n) if weighted else None
    scaling = Scaling.standardize(X) if scaled else None
    f = LinearRegressionLoss(X, y, scaling, s)
    rows = rng.choice(n, size=max(1, n // 3), replace=False) if batch else None
    theta = rng.normal(size=d + 1)
    assert check_gradient(lambda t: f.value_and_grad(t, rows), theta) < 1e-6
    stats = SufficientStats.from_arrays(X, y, s)
    if scaling is not None:
        stats = stats.scaled(scaling)
    assert check_gradient(stats.value_and_grad, theta) < 1e-6
    # the O(d^2) formula is the same function as the O(n d) one
    np.testing.assert_allclose(
        stats.value_and_grad(theta)[1], f.value_and_grad(theta)[1], rtol=1e-9, atol=1e-9
    )


def test_check_gradient_catches_a_wrong_gradient(rng):
    X, y = make_problem(rng, n=20, d=2)
    f = LinearRegressionLoss(X, y)

    def half_gradient(t):  # the classic bug: forgetting the 2 of the power rule
        loss, g = f.value_and_grad(t)
        return loss, g / 2

    assert check_gradient(half_gradient, np.ones(3)) > 0.3


def test_stats_merge_equals_one_pass(rng):
    X, y = make_problem(rng, n=101, d=3, offsets=np.array([1e4, -50.0, 3.0]))
    s = rng.uniform(0.5, 2, 101)
    whole = SufficientStats.from_arrays(X, y, s)
    parts = [
        SufficientStats.from_arrays(X[i : i + 17], y[i : i + 17], s[i : i + 17])
        for i in range(0, 101, 17)
    ]
    merged = SufficientStats.reduce(parts)
    for a, b in zip(merged, whole, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-8)


def test_stats_chunked_equals_unchunked(rng):
    X, y = make_problem(rng, n=50, d=3)
    a = SufficientStats.from_arrays(X, y, chunk_rows=7)
    b = SufficientStats.from_arrays(X, y)
    np.testing.assert_allclose(a.Sxx, b.Sxx, rtol=1e-12)


def test_least_squares_reference_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    from gradfit import load_dataset

    d = load_dataset("bdims")
    w, b = least_squares(d.X, d.y)
    params = sm.OLS(d.y, sm.add_constant(d.X)).fit().params
    np.testing.assert_allclose(np.append(b, w), params, rtol=1e-8)


def test_stats_solution_matches_mpmath_at_50_digits():
    from gradfit import load_dataset

    d = load_dataset("davis")
    mpmath.mp.dps = 50
    A = mpmath.matrix([[mpmath.mpf(x), 1] for x in d.X[:, 0]])
    yv = mpmath.matrix([mpmath.mpf(v) for v in d.y])
    exact = mpmath.lu_solve(A.T * A, A.T * yv)
    got = SufficientStats.from_arrays(d.X, d.y).solve()
    np.testing.assert_allclose(got, [float(exact[0]), float(exact[1])], rtol=1e-11)


def test_curvature_equals_eigenvalues_of_the_hessian(rng):
    X, y = make_problem(rng, n=300, d=4, scales=np.array([1, 10, 0.1, 3]))
    A = np.column_stack([X, np.ones(len(y))])
    H = 2 / len(y) * A.T @ A
    eig = np.linalg.eigvalsh(H)
    c = Curvature.from_hessian(SufficientStats.from_arrays(X, y).hessian())
    assert c.lipschitz == pytest.approx(eig[-1], rel=1e-10)
    assert c.lambda_min == pytest.approx(eig[0], rel=1e-8)
    f = LinearRegressionLoss(X, y)
    assert power_iteration(f.hessian_vector_product, 5, iters=500, rtol=1e-12) == pytest.approx(
        eig[-1], rel=1e-6
    )


def test_curvature_of_rank_deficient_data():
    X = np.column_stack([np.arange(10.0), 2 * np.arange(10.0)])  # collinear columns
    c = Curvature.from_hessian(SufficientStats.from_arrays(X, np.arange(10.0)).hessian())
    assert c.rank_deficient and c.lambda_min > 0


def test_steps_prediction_bounds_the_actual_error_decay(rng):
    # Plain GD on the quadratic: the distance to the optimum shrinks at least by rho per step.
    X, y = make_problem(rng, n=100, d=3, scales=np.array([1.0, 3.0, 0.5]))
    stats = SufficientStats.from_arrays(X, y)
    q = stats.quadratic()
    c = Curvature.from_hessian(q.H)
    star = stats.solve()
    for lr in (c.best_lr, c.inverse_lipschitz_lr, 0.3 * c.max_stable_lr):
        k = c.steps_to_tolerance(lr, 1e-6)
        theta = np.zeros(4)
        for _ in range(k):
            theta = theta - lr * q.value_and_grad(theta)[1]
        assert np.linalg.norm(theta - star) <= 1e-6 * np.linalg.norm(star) * 1.0001
    assert c.steps_to_tolerance(1.01 * c.max_stable_lr) == float("inf")
