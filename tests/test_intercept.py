"""Fits through the origin (fit_intercept=False) in every front end."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

import gradfit
from gradfit import GDRegressor, InvalidInputError, fit, least_squares, plots
from gradfit.cli import main
from gradfit.explain import explain

from .conftest import make_problem


@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("path", ["stats", "direct"])
@pytest.mark.parametrize("weighted", [False, True])
def test_through_the_origin_equals_least_squares_without_intercept(
    rng, standardize, path, weighted
):
    X, y = make_problem(rng, n=120, d=3, offsets=[3.0, -2.0, 5.0])
    w = rng.uniform(0.5, 2.0, 120) if weighted else None
    ref = LinearRegression(fit_intercept=False).fit(X, y, sample_weight=w)
    r = fit(X, y, sample_weight=w, fit_intercept=False, standardize=standardize, path=path)
    assert r.converged and r.b == 0.0
    np.testing.assert_allclose(r.w, ref.coef_, rtol=1e-8)
    np.testing.assert_allclose(r.w, least_squares(X, y, w, fit_intercept=False)[0], rtol=1e-8)
    # standardizing through the origin divides by the root-mean-square, never centres
    assert not r.scaling.mean.any()


@pytest.mark.parametrize("batch_size", [None, 8])
def test_estimator_through_the_origin(rng, batch_size):
    X, y = make_problem(rng, n=200, d=3, offsets=[1.0, 2.0, 3.0])
    ref = LinearRegression(fit_intercept=False).fit(X, y)
    model = GDRegressor(fit_intercept=False, batch_size=batch_size, random_state=0).fit(X, y)
    assert model.intercept_ == 0.0
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-6)
    assert model.rank_ == ref.rank_


def test_rank_through_the_origin_counts_the_columns_of_x(rng):
    X, y = make_problem(rng, n=50, d=2)
    collinear = np.column_stack([X, X[:, 0] - X[:, 1]])
    with pytest.warns(gradfit.RankDeficiencyWarning, match=r"design X has rank 2 of 3"):
        r = fit(collinear, y, fit_intercept=False)
    ref = LinearRegression(fit_intercept=False).fit(collinear, y)
    np.testing.assert_allclose(r.w, ref.coef_, rtol=1e-6, atol=1e-9)
    # a constant column is a real column through the origin (it plays the intercept)
    with_ones = np.column_stack([X, np.ones(50)])
    r = fit(with_ones, y, fit_intercept=False)
    full = fit(X, y)
    np.testing.assert_allclose(r.w, [*full.w, full.b], rtol=1e-8)


def test_cli_explain_and_plots_through_the_origin(capsys):
    d = gradfit.load_dataset("davis")
    slope = float(d.X[:, 0] @ d.y / (d.X[:, 0] @ d.X[:, 0]))
    assert main(["fit", "davis", "--no-intercept"]) == 0
    out = capsys.readouterr().out
    assert f"weight = {slope:.6g} * height (through the origin)" in out
    assert main(["lr", "davis", "--no-intercept"]) == 0
    e = explain(d.X, d.y, step=1, lr=0.1, fit_intercept=False).to_text()
    assert "dJ/db" not in e and "b1 =" not in e and "(no intercept)" in e
    r = fit(d.X, d.y, fit_intercept=False)
    with pytest.raises(InvalidInputError, match="goes through the origin"):
        plots.cost_surface(r, d.X, d.y)
    assert plots.fitted_line(r, d.X, d.y) is not None
    with pytest.raises(InvalidInputError, match="b0 starts the intercept"):
        fit(d.X, d.y, fit_intercept=False, b0=1.0)
