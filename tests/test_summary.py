"""The statistical summary of a fit against statsmodels (OLS, WLS, through the origin), its
distributions against SciPy and mpmath, and the cases where a statistic does not apply."""

import ast
import json
import math
from pathlib import Path

import mpmath
import numpy as np
import pytest
import scipy.special
import scipy.stats
import statsmodels.api as sm

import gradfit
from gradfit.exceptions import ConvergenceWarning, InvalidInputError, RankDeficiencyWarning
from gradfit.model import SufficientStats
from gradfit.model.fit_summary import summarize
from gradfit.model.stats import SummarySource
from gradfit.model.summary import (
    INFERENCE,
    Summary,
    f_sf,
    regularized_beta,
    student_t_ppf,
    student_t_sf,
)

RTOL = 1e-6  # gradfit's coefficients are least squares to ~1e-10: statistics agree to this

# -- distributions --------------------------------------------------------------------------


def _points(rng):
    t = np.concatenate(
        [rng.normal(size=40) * 3, rng.standard_cauchy(40) * 10, [0.0, 1e-3, 40.0, 1e3, -5.0]]
    )
    return t[np.abs(t) >= 1e-3]  # SciPy's own t.sf loses digits nearer 0 (see below)


@pytest.mark.parametrize("df", [0.5, 1, 2, 3, 5, 10, 30, 198, 1e3, 1e4, 1e5, 1e6, 1e9])
def test_student_t_sf_matches_scipy(df):
    t = _points(np.random.default_rng(int(df * 7) % 1000))
    ours, theirs = student_t_sf(t, df), scipy.stats.t.sf(t, df)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-300)


def test_student_t_sf_near_zero_and_far_out_matches_mpmath():
    mpmath.mp.dps = 40
    for t in (1e-12, 1e-8, 1e-4, 0.5, 3.0, 30.0, 1e4, 1e8):
        # df = 1: Cauchy, 1/2 - atan(t)/pi; df = 2: 1/2 - t / (2 sqrt(2 + t^2))
        cauchy = 0.5 - mpmath.atan(t) / mpmath.pi
        two = 0.5 - mpmath.mpf(t) / (2 * mpmath.sqrt(2 + mpmath.mpf(t) ** 2))
        assert float(student_t_sf(t, 1.0)) == pytest.approx(float(cauchy), rel=1e-13)
        assert float(student_t_sf(t, 2.0)) == pytest.approx(float(two), rel=1e-13)
        assert float(student_t_sf(-t, 1.0)) == pytest.approx(float(1 - cauchy), rel=1e-13)


def test_student_t_far_tails_are_computed_where_t_squared_overflows():
    # df = 1: P(T > t) = atan(1/t) / pi = 1 / (pi t) to all digits for t > 1e8
    for t in (1e150, 1e200, 1e300):
        assert float(student_t_sf(t, 1.0)) == pytest.approx(1 / (math.pi * t), rel=1e-13)
        assert float(student_t_sf(-t, 1.0)) == 1.0
    assert student_t_ppf(1e-300, 1.0) == pytest.approx(-1 / (math.pi * 1e-300), rel=1e-13)
    assert student_t_ppf(1e-300, 0.5) == -math.inf  # the quantile is beyond -1.8e308


def test_student_t_two_sided_tail_far_out_is_not_zero_too_soon():
    # p-values of 1e-200 and beyond are computed, not rounded to 0 or 1 - 1
    assert float(student_t_sf(200.0, 100.0)) == pytest.approx(
        scipy.stats.t.sf(200.0, 100.0), rel=1e-10
    )
    assert 0.0 < float(student_t_sf(200.0, 100.0)) < 1e-130


@pytest.mark.parametrize("dfn", [1, 2, 3, 5, 10, 24, 50, 200, 1000])
@pytest.mark.parametrize("dfd", [1, 2, 5, 10, 50, 198, 482, 1e4, 1e6])
def test_f_sf_matches_scipy(dfn, dfd):
    rng = np.random.default_rng(dfn * 1000 + int(dfd) % 997)
    f = np.concatenate([rng.exponential(size=25) * 3, [0.0, 1e-6, 1.0, 100.0, 1e4]])
    ours, theirs = f_sf(f, dfn, dfd), scipy.stats.f.sf(f, dfn, dfd)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-300)  # to the subnormals


@pytest.mark.parametrize("a", [0.1, 0.5, 1.0, 2.5, 12.0, 50.0, 1e3, 1e5])
@pytest.mark.parametrize("b", [0.1, 0.5, 2.0, 15.0, 100.0, 1e4])
def test_regularized_beta_matches_scipy(a, b):
    x = np.random.default_rng(int(a * 10 + b)).uniform(size=40)
    x = np.concatenate([x, [0.0, 1.0, a / (a + b), 1e-12, 1 - 1e-12]])
    ours, theirs = regularized_beta(a, b, x), scipy.special.betainc(a, b, x)
    # SciPy loses digits near underflow (1e-289 at a = 1000, b = 15: 1.6e-4 off mpmath's,
    # which gradfit's matches to 1e-13): compare from 1e-250 up
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-250)


def test_regularized_beta_near_underflow_matches_mpmath():
    mpmath.mp.dps = 50
    for a, b, x in ((1000.0, 15.0, 0.4832096676969797), (0.5, 1e5, 1e-7), (1e5, 0.5, 0.999)):
        exact = mpmath.betainc(a, b, 0, x, regularized=True)
        assert float(regularized_beta(a, b, x)) == pytest.approx(float(exact), rel=1e-12)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 7, 10, 30, 198, 1e3, 1e5, 1e7])
def test_student_t_ppf_matches_scipy(df):
    for q in (0.6, 0.9, 0.95, 0.975, 0.995, 0.9999, 1 - 1e-10, 0.4, 0.025, 1e-8):
        assert student_t_ppf(q, df) == pytest.approx(scipy.stats.t.ppf(q, df), rel=1e-10)
        assert float(student_t_sf(student_t_ppf(q, df), df)) == pytest.approx(1 - q, rel=1e-9)


def test_student_t_ppf_near_the_median_matches_closed_forms():
    # SciPy loses digits here (q - 1/2 tiny); the closed forms of df = 1 and 2 do not
    mpmath.mp.dps = 40
    for q in (0.5 + 1e-9, 0.5 + 1e-5, 0.51, 0.5 - 1e-7):
        cauchy = mpmath.tan(mpmath.pi * (mpmath.mpf(q) - mpmath.mpf(0.5)))
        Q = mpmath.mpf(q)
        two = (2 * Q - 1) / mpmath.sqrt(2 * Q * (1 - Q))
        assert student_t_ppf(q, 1.0) == pytest.approx(float(cauchy), rel=1e-13)
        assert student_t_ppf(q, 2.0) == pytest.approx(float(two), rel=1e-13)
    assert student_t_ppf(0.5, 7.0) == 0.0


def test_distribution_arguments_are_checked():
    with pytest.raises(InvalidInputError, match="df must be > 0"):
        student_t_sf(1.0, 0.0)
    with pytest.raises(InvalidInputError, match=r"q must be in \(0, 1\)"):
        student_t_ppf(1.0, 3.0)
    with pytest.raises(InvalidInputError, match="x must be in"):
        regularized_beta(1.0, 2.0, 1.5)


# -- agreement with statsmodels -------------------------------------------------------------


def _order(values, const_first):
    """statsmodels' order (constant first) in gradfit's (intercept last)."""
    values = np.asarray(values)
    return np.concatenate([values[1:], values[:1]]) if const_first else values


def assert_agrees(s, res, const_first, rtol=RTOL, coef_tol=None):
    """Every statistic of summary ``s`` equals statsmodels' ``res``.

    ``coef_tol``: compare the coefficients (and t, p, intervals) to within this many
    standard errors instead (a fit that stops at a looser tolerance).
    """
    assert s.nobs == res.nobs
    assert s.df_resid == res.df_resid and s.df_model == res.df_model
    params, bse = _order(res.params, const_first), _order(res.bse, const_first)
    np.testing.assert_allclose(s.bse, bse, rtol=rtol)
    if coef_tol is None:
        np.testing.assert_allclose(s.params, params, rtol=rtol)
        np.testing.assert_allclose(s.tvalues, _order(res.tvalues, const_first), rtol=rtol)
        np.testing.assert_allclose(s.conf_int(), _order(res.conf_int(), const_first), rtol=rtol)
        # p-values: relative, down to those that underflow
        np.testing.assert_allclose(
            s.pvalues, _order(res.pvalues, const_first), rtol=rtol, atol=1e-300
        )
    else:
        np.testing.assert_array_less(np.abs(s.params - params), coef_tol * bse)
        np.testing.assert_array_less(np.abs(s.tvalues - _order(res.tvalues, const_first)), coef_tol)
    for name in ("rsquared", "rsquared_adj", "fvalue", "llf", "aic", "bic", "scale"):
        assert getattr(s, name) == pytest.approx(getattr(res, name), rel=rtol), name
    assert s.f_pvalue == pytest.approx(res.f_pvalue, rel=rtol, abs=1e-300)
    assert s.condition_number == pytest.approx(res.condition_number, rel=1e-6)
    assert s.resid_std == pytest.approx(math.sqrt(res.scale), rel=rtol)


def _random(seed=1, n=300):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)) * [1.0, 10.0, 0.1, 3.0] + [0.0, 5.0, -2.0, 100.0]
    y = X @ [1.5, -0.2, 3.0, 0.05] + 2.0 + rng.normal(size=n)
    weights = rng.uniform(0.2, 3.0, size=n)
    return X, y, weights


def test_ols_with_intercept_agrees_with_statsmodels():
    X, y, _ = _random()
    s = summarize(gradfit.fit(X, y), X, y)
    assert s.method == "OLS" and s.fit_intercept and s.names[-1] == "b (intercept)"
    assert_agrees(s, sm.OLS(y, sm.add_constant(X)).fit(), const_first=True)
    assert s.rmse == pytest.approx(math.sqrt(np.mean((y - X @ s.params[:-1] - s.params[-1]) ** 2)))


def test_wls_agrees_with_statsmodels():
    X, y, weights = _random(2)
    s = summarize(gradfit.fit(X, y, sample_weight=weights), X, y, sample_weight=weights)
    assert s.method == "WLS"
    assert_agrees(s, sm.WLS(y, sm.add_constant(X), weights=weights).fit(), const_first=True)
    e = y - X @ s.params[:-1] - s.params[-1]
    assert s.rmse == pytest.approx(math.sqrt(weights @ e**2 / weights.sum()))


def test_ols_through_the_origin_agrees_with_statsmodels_uncentred_r2():
    X, y, _ = _random(3)
    s = summarize(gradfit.fit(X, y, fit_intercept=False), X, y)
    res = sm.OLS(y, X).fit()
    assert s.k_constant == 0 and len(s.params) == 4 and "b (intercept)" not in s.names
    assert_agrees(s, res, const_first=False)
    assert s.rsquared == pytest.approx(1 - res.ssr / np.sum(y**2))  # uncentred
    assert "uncentred" in s.to_text() and s.to_dict()["rsquared_kind"] == "uncentred"


def test_wls_through_the_origin_agrees_with_statsmodels():
    X, y, weights = _random(4)
    fitted = gradfit.fit(X, y, sample_weight=weights, fit_intercept=False)
    s = summarize(fitted, X, y, sample_weight=weights)
    assert_agrees(s, sm.WLS(y, X, weights=weights).fit(), const_first=False)


@pytest.mark.parametrize("name", ["bdims", "davis"])
def test_shipped_data_agrees_with_statsmodels(name):
    d = gradfit.load_dataset(name)
    s = summarize(gradfit.fit(d.X, d.y, feature_names=d.feature_names), d.X, d.y)
    assert list(s.names[:-1]) == d.feature_names
    assert_agrees(s, sm.OLS(d.y, sm.add_constant(d.X)).fit(), const_first=True)


def test_shipped_data_with_weights_agrees_with_statsmodels():
    d = gradfit.load_dataset("bdims")
    weights = np.random.default_rng(5).uniform(0.5, 2.0, size=len(d.y))
    s = summarize(gradfit.fit(d.X, d.y, sample_weight=weights), d.X, d.y, sample_weight=weights)
    assert_agrees(s, sm.WLS(d.y, sm.add_constant(d.X), weights=weights).fit(), const_first=True)


def test_davis_through_the_origin_agrees_with_statsmodels():
    d = gradfit.load_dataset("davis")
    s = summarize(gradfit.fit(d.X, d.y, fit_intercept=False), d.X, d.y)
    assert_agrees(s, sm.OLS(d.y, d.X).fit(), const_first=False)


def test_bdims_through_the_origin_agrees_with_statsmodels():
    # 24 correlated columns through the origin: condition number 8e4 in descent
    # coordinates; Nesterov reaches 1e-7 (the defaults stop short, see below)
    d = gradfit.load_dataset("bdims")
    fitted = gradfit.fit(d.X, d.y, fit_intercept=False, optimizer="nesterov", tol=1e-7)
    s = summarize(fitted, d.X, d.y)
    assert s.least_squares_distance <= 1e-7
    assert_agrees(s, sm.OLS(d.y, d.X).fit(), const_first=False, coef_tol=1e-3)


def test_rows_of_weight_zero_do_not_count():
    X, y, weights = _random(6, n=120)
    weights[:20] = 0.0
    s = summarize(gradfit.fit(X, y, sample_weight=weights), X, y, sample_weight=weights)
    keep = weights > 0
    res = sm.WLS(y[keep], sm.add_constant(X[keep]), weights=weights[keep]).fit()
    assert_agrees(s, res, const_first=True)
    assert any("20 rows of weight 0" in note for note in s.notes)


def test_pandas_columns_are_checked_and_named():
    import pandas as pd

    d = gradfit.load_dataset("bdims")
    frame = pd.DataFrame(d.X[:, :3], columns=d.feature_names[:3])
    fitted = gradfit.fit(frame, d.y)
    s = summarize(fitted, frame, d.y)
    assert s.names == (*d.feature_names[:3], "b (intercept)")
    with pytest.raises(InvalidInputError, match="in the same order"):
        summarize(fitted, frame[frame.columns[::-1]], d.y)


def test_from_statistics_alone_agrees_with_statsmodels():
    d = gradfit.load_dataset("bdims")
    stats = SufficientStats.from_arrays(d.X, d.y)
    source = SummarySource(stats, len(d.y), d.feature_names)
    fitted = gradfit.fit(source)
    s = summarize(fitted, source)  # the residuals from the statistics: fewer digits
    assert_agrees(s, sm.OLS(d.y, sm.add_constant(d.X)).fit(), const_first=True, rtol=1e-6)
    assert any("SSR from the sufficient statistics" in note for note in s.notes)
    # the lower level: statistics, row count and model, no report
    low = Summary.from_stats(stats, len(d.y), fitted.model)
    assert low.optimization is None and low.bse is not None
    np.testing.assert_allclose(low.bse, s.bse, rtol=1e-12)
    assert any("no training report" in note for note in low.notes)


def test_confidence_level_is_a_choice():
    X, y, _ = _random(7)
    s = summarize(gradfit.fit(X, y), X, y, alpha=0.1)
    res = sm.OLS(y, sm.add_constant(X)).fit()
    np.testing.assert_allclose(s.conf_int(), _order(res.conf_int(alpha=0.1), True), rtol=RTOL)
    assert "[0.05" in s.to_text() and "0.95]" in s.to_text()


# -- where a statistic does not apply, the summary says why ---------------------------------


def _not_applicable(s, names, fragment):
    for name in names:
        assert getattr(s, name if name != "conf_int" else "ci") is None, name
        assert fragment in s.not_applicable[name], (name, s.not_applicable[name])
    assert any(fragment in note for note in s.notes)
    assert json.loads(s.to_json())["not_applicable"] == s.not_applicable


def test_a_fit_stopped_short_is_not_least_squares():
    X, y, _ = _random(8)
    with pytest.warns(ConvergenceWarning):
        fitted = gradfit.fit(X, y, lr=1e-6, max_iter=3)
    s = summarize(fitted, X, y)
    reason = f"not least squares: {fitted.stop.message}"
    for name in (*INFERENCE, "scale", "resid_std", "fvalue", "f_pvalue", "llf", "aic", "bic"):
        assert s.not_applicable[name] == reason
    _not_applicable(s, INFERENCE, "not least squares: max_iter reached")
    assert s.optimization.stop_code == "max_iter" and not s.optimization.converged
    # what still describes these coefficients is given, and said to be of them
    assert s.rsquared is not None and s.rmse > 0
    assert "coefficients as they stand" in " ".join(s.notes)
    text = s.to_text()
    assert "n/a" in text and "not least squares: max_iter reached" in text
    row = s.to_dict()["coefficients"][0]
    assert row["coef"] is not None and row["std_err"] is None and row["p_value"] is None


def test_fewer_rows_than_coefficients_have_no_standard_errors():
    X, y, _ = _random(9, n=3)
    with pytest.warns(RankDeficiencyWarning):
        fitted = gradfit.fit(X, y)
    s = summarize(fitted, X, y)
    _not_applicable(s, INFERENCE, "fewer rows than coefficients")
    assert s.rank == 3 and s.df_resid == 0
    assert "no residual degrees of freedom" in s.not_applicable["rsquared_adj"]
    assert s.condition_number is None and "rank deficient" in s.not_applicable["condition_number"]


@pytest.mark.filterwarnings("ignore:The design matrix is rank-deficient")  # statsmodels'
def test_collinear_columns_have_no_standard_errors_but_the_rest_agrees():
    X, y, _ = _random(10, n=80)
    X = np.column_stack([X, X[:, 0] - 2.0 * X[:, 2]])
    with pytest.warns(RankDeficiencyWarning):
        fitted = gradfit.fit(X, y)
    s = summarize(fitted, X, y)
    _not_applicable(s, INFERENCE, "collinear columns")
    res = sm.OLS(y, sm.add_constant(X)).fit()  # pinv: its own minimum-norm coefficients
    assert s.rank == 5 and s.df_model == res.df_model == 4 and s.df_resid == res.df_resid
    for name in ("rsquared", "rsquared_adj", "fvalue", "f_pvalue", "llf", "aic", "bic", "scale"):
        assert getattr(s, name) == pytest.approx(getattr(res, name), rel=RTOL), name


def test_a_perfect_fit_has_no_t_statistics():
    X, _, _ = _random(11, n=60)
    y = X @ [1.0, 2.0, -3.0, 0.5] + 4.0
    s = summarize(gradfit.fit(X, y), X, y)
    _not_applicable(s, INFERENCE, "perfect fit")
    for name in ("llf", "fvalue", "scale"):
        assert "perfect fit" in s.not_applicable[name]
    assert s.rsquared == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_allclose(s.params, [1.0, 2.0, -3.0, 0.5, 4.0], rtol=1e-8)


def test_a_penalized_fit_has_no_least_squares_inference():
    X, y, _ = _random(12)
    s = summarize(gradfit.fit(X, y), X, y, penalty="ridge, alpha=1")
    _not_applicable(s, INFERENCE, "not a least-squares fit (ridge, alpha=1)")
    assert "not least squares" in s.not_applicable["llf"]


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"penalty": "l2", "alpha": 1.0}, "ridge (alpha=1)"),
        ({"penalty": "l1", "alpha": 0.1}, "lasso (alpha=0.1)"),
        ({"loss": "huber", "epsilon": 0.5}, "Huber's loss (epsilon=0.5)"),
    ],
)
def test_a_fit_that_is_not_least_squares_says_so_in_its_summary(options, words):
    X, y, _ = _random(12)
    result = gradfit.fit(X, y, **options)
    assert result.report.objective == words
    s = summarize(result, X, y)
    _not_applicable(s, INFERENCE, f"not a least-squares fit ({words})")
    # the fit's own coefficients, reported without least squares' inference
    np.testing.assert_allclose(s.params, np.append(result.w, result.b), rtol=1e-12)


def test_coefficients_far_from_least_squares_without_a_report():
    X, y, _ = _random(13)
    fitted = gradfit.fit(X, y)
    stats = SufficientStats.from_arrays(X, y)
    moved = gradfit.LinearModel(
        fitted.w * 1.01, fitted.b, fitted.model.feature_names, "y", fitted.scaling
    )
    s = Summary.from_stats(stats, len(y), moved)
    assert s.bse is None and s.not_applicable["bse"].startswith("not least squares: ")


def test_other_rows_than_the_fitted_ones_are_an_error():
    X, y, weights = _random(14)
    fitted = gradfit.fit(X, y, sample_weight=weights)
    with pytest.raises(InvalidInputError, match="sample_weight"):
        summarize(fitted, X, y)  # the weights forgotten
    with pytest.raises(InvalidInputError, match="rows the model was fitted to"):
        summarize(fitted, X[:-1], y[:-1], sample_weight=weights[:-1])
    with pytest.raises(InvalidInputError, match="feature columns"):
        summarize(fitted, X[:, :3], y, sample_weight=weights)
    with pytest.raises(InvalidInputError, match="result of a fit"):
        summarize(fitted.model, X, y)


# -- outputs --------------------------------------------------------------------------------


def test_dict_and_json_are_plain_and_complete():
    X, y, _ = _random(15)
    s = summarize(gradfit.fit(X, y), X, y)
    data = json.loads(s.to_json())
    assert data["method"] == "OLS" and data["nobs"] == 300 and data["df_resid"] == 295
    assert [c["name"] for c in data["coefficients"]] == ["x0", "x1", "x2", "x3", "b (intercept)"]
    assert data["coefficients"][0]["std_err"] == pytest.approx(float(s.bse[0]))
    for key in ("rsquared", "rsquared_adj", "fvalue", "f_pvalue", "llf", "aic", "bic", "rmse"):
        assert isinstance(data[key], float), key
    assert data["optimization"]["converged"] is True and data["optimization"]["gap"] < 1e-10
    assert data["curvature_condition_number"] >= 1.0 and data["condition_number"] > 1.0
    assert data["not_applicable"] == {} and data["notes"] == []


def test_text_markdown_and_html():
    X, y, _ = _random(16, n=40)
    names = ["a<b>&c", "pipe|name", "x2", "x3"]
    s = summarize(gradfit.fit(X, y, feature_names=names), X, y)
    text = s.to_text()
    lines = text.splitlines()
    assert "OLS regression results" in lines[0]
    heads = next(line for line in lines if "std err" in line).split()
    assert heads == ["coef", "std", "err", "t", "P>|t|", "[0.025", "0.975]"]
    row = next(line for line in lines if line.startswith("b (intercept)"))
    assert float(row.split()[2]) == pytest.approx(s.params[-1], rel=1e-5)
    assert "Cond. No. of the design" in text and "Curvature condition number L/mu" in text
    assert "Optimization:" in text and "distance to least squares" in text
    page = s._repr_html_()
    assert "a&lt;b&gt;&amp;c" in page and "a<b>" not in page and page.startswith("<table>")
    md = s._repr_markdown_()
    assert "pipe\\|name" in md and "P&gt;\\|t\\|" in md
    assert str(s) == text


def test_summarize_is_public_and_the_module_keeps_to_the_core():
    assert gradfit.summarize is summarize
    assert "summarize" in gradfit.__all__
    tree = ast.parse(Path(gradfit.model.summary.__file__).read_text())
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    imported |= {
        a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names
    }
    for module in imported:
        top = module.split(".")[0]
        assert top in {
            "__future__",
            "collections",
            "dataclasses",
            "typing",
            "html",
            "json",
            "math",
            "numpy",
            "gradfit",
        }, module
        assert not module.startswith(("gradfit.train", "gradfit.optim", "gradfit.cli")), module


# -- the command line -----------------------------------------------------------------------


def test_cli_fit_prints_the_summary(capsys):
    from gradfit.cli import main

    assert main(["fit", "davis"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "weight = 0.238406 * height + 25.2662"
    assert "OLS regression results" in out and "Dep. variable:    weight" in out
    d = gradfit.load_dataset("davis")
    res = sm.OLS(d.y, sm.add_constant(d.X)).fit()
    row = next(line for line in out.splitlines() if line.startswith("height"))
    coef, se, t, p = (float(v) for v in row.split()[1:5])
    assert coef == pytest.approx(res.params[1], rel=1e-5)
    assert se == pytest.approx(res.bse[1], rel=1e-3) and t == pytest.approx(
        res.tvalues[1], rel=1e-3
    )
    assert p == pytest.approx(res.pvalues[1], abs=1e-3)
    assert "b (intercept)" in out and "R-squared:" in out


def test_cli_fit_stopped_short_says_why_in_flags(capsys):
    from gradfit.cli import main

    assert main(["fit", "davis", "--max-iter", "2", "--lr", "0.001"]) == 3
    out = capsys.readouterr().out
    assert "not least squares: --max-iter reached" in out and "n/a" in out
