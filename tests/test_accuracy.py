"""Every digit right: default settings against exact (mpmath, 50 digits) least squares.

The problems (``benchmarks/accuracy.py``) are the classic hard cases: polynomials up to
degree 10 in an unscaled x, collinear economic series, near-duplicate columns (condition
number 1e9 to 1e10 after centring and scaling, up to 1e15 before), lines through the
origin, features around 1e6 with a spread of 1, exact fits, weights; a few hundred rows
and a few thousand. Each entry point with its defaults must get at least 7 significant
digits of every coefficient (LRE >= 7), without a warning.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest

import gradfit
from benchmarks.accuracy import Problem, by_lstsq, exact_solution, lre, problems, worst_lre
from gradfit import ConvergenceWarning, GDRegressor
from gradfit.data import ArraySource
from gradfit.model.objective import Objective
from gradfit.model.precise import column_sums, exact_value_and_grad, two_product, two_sum
from gradfit.optim.conjugate import conjugate_gradients

PROBLEMS = {p.name: p for p in problems()}
LRE_REQUIRED = 7.0


def fit_quietly(problem: Problem, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning would be a failure here
        return gradfit.fit(
            problem.X,
            problem.y,
            sample_weight=problem.sample_weight,
            fit_intercept=problem.fit_intercept,
            **options,
        )


@pytest.mark.parametrize("name", PROBLEMS)
def test_fit_defaults_get_every_coefficient_to_seven_digits(name):
    problem = PROBLEMS[name]
    result = fit_quietly(problem)
    assert result.optimizer == "cg"
    assert result.stop.converged, result.stop
    assert worst_lre(problem, result.w, result.b) >= LRE_REQUIRED
    assert result.report.rank == problem.X.shape[1] + problem.fit_intercept  # full rank


def test_the_problems_are_as_hard_as_the_issue_says():
    conditions = [p.condition() for p in PROBLEMS.values()]
    assert max(c[0] for c in conditions) > 5e9  # after centring and scaling
    assert max(c[1] for c in conditions) > 5e14  # before
    # and lstsq, the usual yardstick, loses its digits on some of them
    lost = [n for n, p in PROBLEMS.items() if worst_lre(p, *by_lstsq(p)) < LRE_REQUIRED]
    assert len(lost) >= 5, lost


@pytest.mark.parametrize(
    "name",
    [
        "polynomial degree 10, 300 rows",
        "polynomial degree 8, weighted",
        "polynomial degree 8, through the origin",
        "near-duplicate columns, noise 2e-07",
        "x around 1e6, spread 1, 3000 rows",
    ],
)
def test_estimator_defaults_get_every_coefficient_to_seven_digits(name):
    problem = PROBLEMS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = GDRegressor(fit_intercept=problem.fit_intercept).fit(
            problem.X, problem.y, sample_weight=problem.sample_weight
        )
    assert worst_lre(problem, model.coef_, model.intercept_) >= LRE_REQUIRED


@pytest.mark.parametrize(
    "name", ["polynomial degree 10, exact fit", "collinear economic series, 300 rows"]
)
def test_command_line_defaults_get_every_coefficient_to_seven_digits(name, tmp_path, capsys):
    from gradfit.cli import main

    problem = PROBLEMS[name]
    names = [f"x{j}" for j in range(problem.X.shape[1])]
    rows = [",".join([*names, "y"])]
    rows += [
        ",".join(repr(float(v)) for v in [*x, y]) for x, y in zip(problem.X, problem.y, strict=True)
    ]
    data = tmp_path / "data.csv"
    data.write_text("\n".join(rows) + "\n")
    model_file = tmp_path / "model.json"
    status = main(["fit", str(data), "--target", "y", "-o", str(model_file)])
    assert status == 0, capsys.readouterr().err
    saved = gradfit.load(model_file)
    assert worst_lre(problem, saved.model.w, saved.model.b) >= LRE_REQUIRED


def test_plain_descent_stops_short_and_says_what_gets_every_digit():
    problem = PROBLEMS["polynomial degree 8, 300 rows"]
    with pytest.warns(ConvergenceWarning) as caught:
        result = gradfit.fit(problem.X, problem.y, lr="auto", max_iter=2000)
    message = str(caught[0].message)
    assert result.optimizer == "gd" and not result.stop.converged
    assert "significant digits of the predictions" in message
    assert "optimizer='cg'" in message
    assert worst_lre(problem, result.w, result.b) < LRE_REQUIRED  # it really is short


def test_a_user_rate_still_means_plain_gradient_descent():
    X = np.array([[1.0], [2.0], [3.0], [4.0]])
    y = 2.0 * X[:, 0] + 1.0
    assert gradfit.fit(X, y, lr=0.1).optimizer == "gd"
    assert gradfit.fit(X, y).optimizer == "cg"
    assert gradfit.fit(X, y, batch_size=2, random_state=0).optimizer == "svrg"


def test_cg_has_no_mini_batch_form():
    with pytest.raises(gradfit.InvalidInputError, match="no mini-batch form"):
        gradfit.fit(np.ones((4, 1)), np.ones(4), optimizer="cg", batch_size=2)


def test_cg_lr_is_a_factor_on_the_exact_step():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((50, 3)), rng.standard_normal(50)
    half = gradfit.fit(X, y, optimizer="cg", lr=0.5, max_iter=1, tol=0, standardize=False)
    whole = gradfit.fit(X, y, optimizer="cg", max_iter=1, tol=0, standardize=False)
    np.testing.assert_allclose(half.w, 0.5 * whole.w, rtol=1e-12)


def test_conjugate_gradients_solve_a_quadratic_in_k_steps_where_descent_needs_thousands():
    rng = np.random.default_rng(1)
    Q = np.linalg.qr(rng.standard_normal((6, 6)))[0]
    H = Q @ np.diag(np.logspace(0, 3, 6)) @ Q.T
    h = rng.standard_normal(6)
    answer = np.linalg.solve(H, h)
    cg = conjugate_gradients(lambda k: 1.0, lambda p: float(p @ H @ p))
    theta, state = np.zeros(6), cg.init(np.zeros(6))
    for _ in range(6):  # k steps: exact in exact arithmetic, rounding aside here
        updates, state = cg.update(H @ theta - h, state, theta)
        theta = theta + updates
    assert np.linalg.norm(theta - answer) <= 1e-6 * np.linalg.norm(answer)
    descent = np.zeros(6)
    for _ in range(1000):  # steepest descent at its best constant rate 2 / (mu + L)
        descent -= 2.0 / 1001.0 * (H @ descent - h)
    assert np.linalg.norm(descent - answer) > 1e-2 * np.linalg.norm(answer)


def test_a_design_float64_statistics_call_singular_has_full_rank_from_the_rows():
    problem = PROBLEMS["polynomial degree 10, 300 rows"]
    objective = Objective(ArraySource(problem.X, problem.y), scaling=True)
    assert objective.design_rank == 11
    assert 1e7 < objective.design_condition < 1e8
    collinear = np.column_stack([problem.X[:, :3], problem.X[:, 0] + problem.X[:, 1]])
    objective = Objective(ArraySource(collinear, problem.y), scaling=True)
    assert objective.design_rank == 4  # truly collinear stays rank deficient


# -- the double-double arithmetic, against exact rationals -------------------------------


def test_two_sum_and_two_product_are_exact():
    rng = np.random.default_rng(2)
    a = rng.standard_normal(200) * 10.0 ** rng.integers(-20, 20, 200)
    b = rng.standard_normal(200) * 10.0 ** rng.integers(-20, 20, 200)
    s, e = two_sum(a, b)
    p, f = two_product(a, b)
    for i in range(200):
        assert Fraction(s[i]) + Fraction(e[i]) == Fraction(a[i]) + Fraction(b[i])
        assert Fraction(p[i]) + Fraction(f[i]) == Fraction(a[i]) * Fraction(b[i])


def test_column_sums_are_correctly_rounded_sums():
    rng = np.random.default_rng(3)
    P = rng.standard_normal((1001, 3)) * 10.0 ** rng.integers(-8, 8, (1001, 3))
    hi, lo = column_sums(P)
    for j in range(3):
        assert hi[j] + lo[j] == math.fsum(P[:, j])


def test_exact_gradient_equals_the_rational_gradient():
    problem = PROBLEMS["polynomial degree 8, weighted"]
    X, y, s = problem.X[:40], problem.y[:40], problem.sample_weight[:40]
    beta = np.append(np.ones(8) * 1.000001, 0.999)
    loss, grad = exact_value_and_grad(ArraySource(X, y, sample_weight=s), beta, True)
    total = sum(Fraction(v) for v in s)
    residuals = [
        Fraction(y[i])
        - sum(Fraction(X[i, j]) * Fraction(beta[j]) for j in range(8))
        - Fraction(beta[8])
        for i in range(40)
    ]
    exact = [
        -2 * sum(Fraction(s[i]) * Fraction(X[i, j]) * residuals[i] for i in range(40)) / total
        for j in range(8)
    ]
    exact.append(-2 * sum(Fraction(s[i]) * residuals[i] for i in range(40)) / total)
    for j in range(9):
        assert abs(Fraction(grad[j]) - exact[j]) <= abs(exact[j]) * Fraction(2.0**-52)
    assert loss == pytest.approx(
        float(sum(Fraction(s[i]) * residuals[i] ** 2 for i in range(40)) / total), rel=1e-14
    )


def test_lre_measures_significant_digits():
    assert lre(1.0000001, 1) == pytest.approx(7.0, abs=0.01)
    assert lre(1.0, 1) == 15.9
    assert abs(exact_solution("polynomial degree 10, exact fit")[0] - 1) < 1e-20


def test_a_numerically_rank_deficient_design_gets_least_squares_predictions():
    import scipy.sparse

    x = np.linspace(1.0, 1.38, 2000)  # degree 10 on a narrow range: rank 10 of 11 to lstsq
    X = np.column_stack([x**k for k in range(1, 11)])
    y = 1.0 + X.sum(axis=1) + 0.01 * np.random.default_rng(0).standard_normal(2000)
    A = np.column_stack([X, np.ones(2000)])
    best = float(np.mean((y - A @ np.linalg.lstsq(A, y, rcond=None)[0]) ** 2))
    predictions = []
    for rows in (X, scipy.sparse.csr_matrix(X)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = gradfit.fit(rows, y)
        assert [w.category.__name__ for w in caught] == ["RankDeficiencyWarning"]
        assert result.stop.converged and result.report.rank == 10
        predictions.append(np.asarray(rows @ result.w).ravel() + result.b)
        # both truncate one direction (theirs in raw units, ours equilibrated): losses agree
        assert float(np.mean((y - predictions[-1]) ** 2)) <= best * (1 + 1e-7)
    np.testing.assert_allclose(predictions[0], predictions[1], atol=1e-9 * np.std(y))


def test_explain_keeps_plain_descent_by_default_and_refuses_line_searches():
    from gradfit import load_dataset
    from gradfit.explain import explain

    d = load_dataset("davis")
    e = explain(d.X, d.y, step=0)
    assert e.optimizer == "gd"
    with pytest.raises(gradfit.InvalidInputError, match="line search"):
        explain(d.X, d.y, step=0, optimizer="cg")


def test_plots_mark_the_exact_minimum_on_an_ill_conditioned_design():
    from gradfit.surface import optimum

    problem = PROBLEMS["polynomial degree 10, 300 rows"]
    objective = Objective(ArraySource(problem.X, problem.y), scaling=True)
    _, marked = optimum(objective)
    fitted = fit_quietly(problem).loss
    naive = objective.row_loss(objective.stats.solve())  # float64 normal equations (lstsq)
    assert marked == pytest.approx(fitted, rel=1e-9)
    assert naive > fitted * (1 + 1e-6)  # what the plots marked before


def test_explain_on_the_command_line_offers_only_rules_a_rate_drives(capsys):
    from gradfit.cli import main

    assert main(["explain", "davis", "--optimizer", "cg"]) == 2
    assert "invalid choice: 'cg'" in capsys.readouterr().err
