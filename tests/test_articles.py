"""Both tutorial articles, reproduced."""

import sys
from pathlib import Path

import numpy as np
import pytest

from gradfit import DivergenceError, fit, least_squares, load_dataset, make_article_b
from gradfit.data import ArraySource
from gradfit.model import Objective
from gradfit.train import FitOptions, run

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
import article_b_code


def test_article_b_reproduced():
    d = make_article_b(5000, seed=0)
    r = fit(d.X, d.y, lr=0.01, max_iter=1000, tol=0, standardize=False)
    assert r.n_steps == 1000 and len(r.history) == 1001
    np.testing.assert_allclose(r.w, [2, 4, 5, 9, 11], atol=1e-6)
    assert r.b == pytest.approx(2, abs=1e-6)
    assert r.loss < 1e-12
    # "after about 250 iterations the weights approach the true ones and the loss zero"
    h = r.history
    assert np.abs(h.w[250] - [2, 4, 5, 9, 11]).max() < 0.1 and h.loss[250] < 0.05
    # monotone descent, down to where the O(d^2) loss formula meets its rounding floor
    above_floor = h.loss > 1e-10
    assert np.all(np.diff(h.loss[above_floor]) < 0)


def test_article_b_iterates_equal_the_articles_own_code():
    d = make_article_b(200, seed=1)
    w, b = article_b_code.gradient_descent(list(zip(d.X, d.y, strict=True)), 5, iterations=60)
    for path in ("stats", "direct"):
        r = fit(d.X, d.y, lr=0.01, max_iter=60, tol=0, standardize=False, path=path)
        np.testing.assert_allclose(r.w, w, rtol=1e-11)
        assert r.b == pytest.approx(b, rel=1e-11)


def test_article_a_raw_heights_diverge_at_lr_001():
    d = load_dataset("davis")
    with pytest.raises(DivergenceError, match="standardize=True"):
        fit(d.X, d.y, lr=0.01, standardize=False, feature_names=d.feature_names)


def test_article_a_scaled_reaches_the_least_squares_line():
    d = load_dataset("davis")
    r = fit(d.X, d.y, lr=0.01, standardize=True, max_iter=5000, tol=0, gtol=1e-10)
    m, b = least_squares(d.X, d.y)
    assert r.w[0] == pytest.approx(m[0], rel=1e-9) and r.b == pytest.approx(b, rel=1e-9)


def test_article_a_fewer_steps_best_rate_is_one_step():
    # Standardized, one feature: H = 2 I, so lr = 2 / (mu + L) = 0.5 lands in one step,
    # as the article's widget does at its best rate.
    d = load_dataset("davis")
    objective = Objective(ArraySource(d.X, d.y), scaling=True)
    c = objective.curvature
    assert c.best_lr == pytest.approx(0.5) and c.condition_number == pytest.approx(1.0)
    r = run(objective, FitOptions(lr=c.best_lr))
    assert r.n_steps == 1 and r.converged
    slow = run(objective, FitOptions(lr=0.05 * c.best_lr, tol=0))
    assert slow.n_steps > 50


def test_davis_outlier_table_least_squares_and_huber(capsys):
    """Article A's part 4: the demo's four lines are least squares (lstsq) and the minimum
    of Huber's loss (its optimality condition checked on the rows), with and without row 12."""
    from rich.console import Console

    from gradfit import demo

    davis = load_dataset("davis")
    X, y = davis.X, davis.y
    fits = demo.davis_fits(X, y)
    keep = np.arange(len(y)) != 11
    for with_row in (True, False):
        rows = slice(None) if with_row else keep
        w, b = least_squares(X[rows], y[rows])
        r = fits["squared_error", with_row]
        np.testing.assert_allclose([r.w[0], r.b], [w[0], b], rtol=1e-9)
        # Huber's minimum: the clipped errors balance, sum(clip(e)) = sum(clip(e) x) = 0
        h = fits["huber", with_row]
        e = X[rows, 0] * h.w[0] + h.b - y[rows]
        force = np.clip(e, -demo.DAVIS_EPSILON, demo.DAVIS_EPSILON)
        assert abs(force.sum()) < 1e-7 * len(e) * demo.DAVIS_EPSILON
        assert abs(force @ X[rows, 0]) < 1e-7 * len(e) * demo.DAVIS_EPSILON * 170
    # the outlier bends least squares (0.24 against 1.15) and hardly Huber's line
    assert fits["squared_error", True].w[0] < 0.3 < 1.1 < fits["squared_error", False].w[0]
    assert abs(fits["huber", True].w[0] - fits["huber", False].w[0]) < 0.1
    console = Console(width=120, force_terminal=False)
    demo.outlier_table(console, X, y)
    text = " ".join(capsys.readouterr().out.split())
    assert "Huber, epsilon 5 kg │ all 200 │ 1.0570 │ -115.70" in text
    assert "least squares │ without row 12 │ 1.1492 │ -130.75" in text
    fig = demo.outlier_plot(X, y)
    assert len(fig.axes[0].lines) == 4
