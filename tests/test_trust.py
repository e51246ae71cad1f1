"""Never silently wrong: every entry point returns least squares, or says plainly that it did not.

The rule, checked on ``gradfit.fit``, ``GDRegressor`` and ``gradfit fit`` (the command line,
in-process): a fit either

(a) returns the least-squares answer (predictions within ``tol`` of it, root-mean-square
    relative to ``std(y)``, and the coefficients too where they are unique), or
(b) warns with the right class (``gradfit.ConvergenceWarning`` from ``fit``, scikit-learn's
    from ``GDRegressor``, ``gradfit: warning:`` and exit status 3 from the command line),
    saying how far it is (``... x std(y)`` or ``gradient norm ...``) and what to ``Try``, or
(c) raises ``DivergenceError`` / ``InvalidInputError`` (exit status 2) with a message.

What a fit certifies (``report.gap``, ``gap_``, a warning's "within ... x std(y)") must
bound the real distance: an understated distance is silently wrong too.
"""

from __future__ import annotations

import json
import pickle
import re
import warnings
from dataclasses import dataclass, field
from functools import cache
from itertools import count
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.linear_model import LinearRegression

import gradfit
from gradfit import GDRegressor
from gradfit.cli import main
from gradfit.exceptions import (
    ConvergenceWarning,
    DivergenceError,
    InvalidInputError,
    RankDeficiencyWarning,
)

from .conftest import make_problem

EXACT = 1e-6  # full batch: the defaults certify 1e-10
STOCHASTIC = 1e-3  # with a batch size (the bar for stochastic defaults)

# -- data ------------------------------------------------------------------------------

RANK_DEFICIENT = ("collinear", "n<d")
SCALED = ("y*1e-9", "y*1e9", "X*1e-9", "X*1e9", "offsets 1e6")
DATA = ("diabetes", "davis", "bdims", *RANK_DEFICIENT, *SCALED)


@cache
def data(name: str) -> tuple[np.ndarray, np.ndarray]:
    """``X, y`` of a named data set of the matrix (read-only, made once)."""
    if name == "diabetes":
        X, y = load_diabetes(return_X_y=True)
    elif name in ("davis", "bdims"):
        d = gradfit.load_dataset(name)
        X, y = d.X, d.y
    elif name == "collinear":  # a duplicated column and a linear combination of two others
        D, y = data("diabetes")
        X = np.column_stack([D[:, :5], D[:, 0], D[:, 1] - 2.0 * D[:, 2]])
    elif name == "n<d":
        rng = np.random.default_rng(7)
        X, y = rng.standard_normal((10, 30)), rng.standard_normal(10)
    elif name == "offsets 1e6":  # unit spread around 1e6
        X, y = make_problem(np.random.default_rng(12345), n=200, d=4, offsets=1e6)
    elif name.startswith("y*"):
        X, y = data("diabetes")
        y = y * float(name[2:])
    elif name.startswith("X*"):
        X, y = data("diabetes")
        X = X * float(name[2:])
    else:
        raise KeyError(name)
    X, y = np.array(X, dtype=float), np.array(y, dtype=float)
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def spread(X: np.ndarray) -> np.ndarray:
    """Root-mean-square spread of each column about its mean (1 for a constant column)."""
    s = np.sqrt(np.mean((X - X.mean(axis=0)) ** 2, axis=0))
    return np.where(s > 0, s, 1.0)


def reference(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Least squares by ``gradfit.least_squares`` (``numpy.linalg.lstsq`` on centred data),
    on columns of unit spread, coefficients mapped back to the original units.

    ``lstsq`` drops singular values below ``eps * max(n, d)`` of the largest, so on raw
    columns whose scales differ by 1e16 or more it drops a real column (see
    ``test_least_squares_yardstick_does_not_depend_on_the_units``). A unique solution
    does not depend on the units; with collinear columns this is the minimum-norm solution
    in unit-spread coordinates, with the same predictions as any other.
    """
    s = spread(X)
    w, b = gradfit.least_squares(np.asarray(X) / s, np.asarray(y))
    return w / s, b


def distances(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> tuple[float, float]:
    """(predictions, coefficients) distance to least squares: the predictions' RMS
    relative to ``std(y)``; the coefficients' norm relative, on columns of unit spread."""
    w_ref, b_ref = reference(X, y)
    mean = X.mean(axis=0)
    # centred, so that offsets of 1e6 cost no digits in the comparison itself
    delta = (X - mean) @ (w - w_ref) + (b - b_ref + mean @ (w - w_ref))
    predictions = float(np.sqrt(np.mean(delta**2)) / np.std(y))
    s = spread(X)
    coefficients = float(np.linalg.norm((w - w_ref) * s) / max(np.linalg.norm(w_ref * s), 1e-300))
    return predictions, coefficients


# -- the entry points, each reduced to one Outcome ---------------------------------------


@dataclass
class Outcome:
    """What an entry point gave back: a line, or an error; and what it said."""

    entry: str
    coef: np.ndarray | None = None
    intercept: float | None = None
    gap: float | None = None  # the certified distance it claims
    rank: int | None = None
    short: list[str] = field(default_factory=list)  # "stopped short" warnings, right class
    rank_notes: list[str] = field(default_factory=list)  # RankDeficiencyWarning
    other: list[str] = field(default_factory=list)  # anything else: never expected
    error: str | None = None
    error_type: type | None = None
    status: int | None = None  # the command line's exit status


def _sort(out: Outcome, caught: list[warnings.WarningMessage], short_class: type) -> Outcome:
    for w in caught:
        if issubclass(w.category, short_class):
            out.short.append(str(w.message))
        elif issubclass(w.category, RankDeficiencyWarning):
            out.rank_notes.append(str(w.message))
        else:
            out.other.append(f"{w.category.__module__}.{w.category.__name__}: {w.message}")
    return out


def via_fit(X: np.ndarray, y: np.ndarray, **options: Any) -> Outcome:
    out = Outcome("fit")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            r = gradfit.fit(X, y, **options)
        except (DivergenceError, InvalidInputError) as err:
            out.error, out.error_type = str(err), type(err)
        else:
            out.coef, out.intercept = r.w, r.b
            out.gap, out.rank = r.report.gap, r.report.rank
    return _sort(out, caught, ConvergenceWarning)


def via_estimator(X: np.ndarray, y: np.ndarray, **options: Any) -> Outcome:
    out = Outcome("estimator")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            m = GDRegressor(**options).fit(X, y)
        except (DivergenceError, InvalidInputError) as err:
            out.error, out.error_type = str(err), type(err)
        else:
            out.coef, out.intercept = m.coef_, m.intercept_
            # rank_ is LinearRegression's (centred X); the checks here count [X 1]
            out.gap, out.rank = m.gap_, None if m.rank_ is None else m.rank_ + 1
            np.testing.assert_allclose(m.predict(X), X @ m.coef_ + m.intercept_, rtol=1e-12)
    return _sort(out, caught, SklearnConvergenceWarning)


_runs = count()


def cli_flags(options: dict[str, Any]) -> list[str]:
    flags: list[str] = []
    for name, value in options.items():
        if name == "standardize":
            flags.append("--standardize" if value else "--no-standardize")
        elif name == "random_state":
            flags += ["--seed", str(value)]
        else:
            flags += ["--" + name.replace("_", "-"), str(value)]
    return flags


def write_csv(path: Any, X: np.ndarray, y: np.ndarray, names: list[str] | None = None) -> None:
    names = names or [f"x{j}" for j in range(X.shape[1])]
    rows = np.column_stack([X, y])
    lines = [",".join([*names, "y"])] + [",".join(repr(float(v)) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")


NUMBER = r"[-+]?(?:inf|nan|\d+(?:\.\d*)?(?:e[-+]?\d+)?)"
EQUATION = re.compile(rf"^y = (.*?)\s*\+ ({NUMBER})$", re.MULTILINE)


def via_cli(X: np.ndarray, y: np.ndarray, tmp_path: Any, capsys: Any, **options: Any) -> Outcome:
    """``gradfit fit data.csv --target y ...`` in-process: the exit status, stdout, stderr;
    the coefficients at full precision from ``--history`` (its last entry is the end)."""
    run = next(_runs)
    csv, history = tmp_path / f"data{run}.csv", tmp_path / f"history{run}.json"
    write_csv(csv, X, y)
    argv = ["fit", str(csv), "--target", "y", *cli_flags(options), "--history", str(history)]
    capsys.readouterr()
    out = Outcome("cli")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out.status = main(argv)
    stdout, stderr = capsys.readouterr()
    _sort(out, caught, type(None))  # the command line prints its own: nothing may escape
    lines = stderr.splitlines()
    for line in lines:
        assert line.startswith(("gradfit: warning: ", "gradfit: error: ", "gradfit: note: ")), (
            f"stray stderr line: {line!r}"
        )
    for line in lines:
        if line.startswith("gradfit: warning: "):
            text = line.removeprefix("gradfit: warning: ")
            (out.rank_notes if "has rank" in text else out.short).append(text)
    errors = [ln.removeprefix("gradfit: error: ") for ln in lines if "gradfit: error: " in ln]
    assert out.status in (0, 2, 3), (out.status, stderr)
    if out.status == 2:
        assert len(errors) == 1, stderr
        out.error, out.error_type = errors[0], Exception
        return out
    assert not errors, stderr
    assert (out.status == 3) == bool(out.short), f"exit {out.status} with stderr {stderr!r}"
    columns = json.loads(history.read_text())
    out.coef = np.array([columns[f"w[x{j}]"][-1] for j in range(X.shape[1])])
    out.intercept = float(columns["b"][-1])
    # "a - b" is printed for "a + (-b)": read it back as the sum
    printed = EQUATION.search(stdout.replace(" - ", " + -"))
    assert printed, stdout
    terms = re.findall(rf"({NUMBER}) \* x(\d+)", printed[1])
    assert [int(j) for _, j in terms] == list(range(X.shape[1])), printed[0]
    if not out.rank_notes:
        # the printed equation is the same line, to its 6 significant digits (with collinear
        # columns the history ends where descent stood, before the minimum-norm choice:
        # see test_history_ends_at_the_returned_coefficients)
        shown = np.array([float(v) for v, _ in terms] + [float(printed[2])])
        full = np.append(out.coef, out.intercept)
        np.testing.assert_allclose(shown, full, rtol=1e-5, atol=1e-300)
    certified = re.search(rf"converged\S*: predictions within ({NUMBER}) x std\(y\)", stdout)
    if certified and out.status == 0:
        out.gap = float(certified[1]) * 1.06  # printed with 2 significant digits
    return out


ENTRIES = {"fit": via_fit, "estimator": via_estimator}


def outcome(entry: str, name: str, options: dict[str, Any], tmp_path: Any, capsys: Any):
    X, y = data(name)
    if entry == "cli":
        return via_cli(X, y, tmp_path, capsys, **options)
    return ENTRIES[entry](X, y, **options)


# -- the rule --------------------------------------------------------------------------

HOW_FAR = re.compile(rf"within ({NUMBER}) x std\(y\)|gradient norm ({NUMBER})")


def assert_trustworthy(
    out: Outcome,
    X: np.ndarray,
    y: np.ndarray,
    *,
    tol: float,
    unique: bool = True,
    rank_deficient: bool | None = None,
) -> str:
    """Least squares, or a warning that says how far and what to try, or an error.

    Returns which of (a), (b), (c) held, for the tests that need a particular one.
    """
    where = f"[{out.entry}]"
    assert not out.other, f"{where} warnings nobody asked for: {out.other}"
    d1 = X.shape[1] + 1
    if rank_deficient is not None:
        if out.entry == "estimator":  # like LinearRegression: rank_, no warning
            assert not out.rank_notes, f"{where} {out.rank_notes}"
            if out.rank is not None:
                assert (out.rank < d1) == rank_deficient, (where, out.rank, d1)
        elif out.error is None:
            assert bool(out.rank_notes) == rank_deficient, (
                f"{where} rank deficient: {rank_deficient}, warned: {out.rank_notes}"
            )
            for note in out.rank_notes:
                assert "smallest |w|" in note and f"of {d1}" in note, note
    if out.error is not None:
        assert len(out.error) > 30 and re.search(r"\d", out.error), f"{where} {out.error!r}"
        if out.error_type is DivergenceError or "diverged" in out.error:
            assert "Try" in out.error, f"{where} a divergence without a fix: {out.error}"
        else:
            assert ": " in out.error, f"{where} an error without a fix: {out.error}"
        return "error"
    assert out.coef is not None and out.intercept is not None
    assert np.isfinite(out.coef).all() and np.isfinite(out.intercept), where
    predictions, coefficients = distances(X, y, out.coef, out.intercept)
    # What float64 coefficients in X's units can carry: the products X w and b are rounded
    # at eps of their size (an offset of 1e9 x spread costs 1e-7 of a prediction's digits).
    floor = (
        float(
            8
            * np.finfo(float).eps
            * np.sqrt(np.mean((np.abs(X) @ np.abs(out.coef) + abs(out.intercept)) ** 2))
            / np.std(y)
        )
        + 1e-9
    )
    if out.short:
        for message in out.short:
            how_far = HOW_FAR.search(message)
            assert how_far, f"{where} a warning that does not say how far: {message}"
            assert "Try" in message, f"{where} a warning without a fix: {message}"
            if how_far[1] is not None:  # the distance it states bounds the real one
                stated = float(how_far[1])
                assert predictions <= 1.1 * stated + floor, (
                    f"{where} says within {stated:.3g} x std(y), is {predictions:.3g}: {message}"
                )
        return "warned"
    assert predictions <= tol, (
        f"{where} silently wrong: predictions {predictions:.3g} x std(y) from least squares"
    )
    if unique:
        assert coefficients <= tol, (
            f"{where} silently wrong: coefficients {coefficients:.3g} (relative) from least squares"
        )
    if out.gap is not None:  # the certificate holds
        assert predictions <= 1.1 * out.gap + floor, (
            f"{where} certifies {out.gap:.3g} x std(y), is {predictions:.3g}"
        )
    return "least squares"


# -- 1. the matrix: entry points x data x settings ------------------------------------


def _cell(entry: str, name: str, options: dict[str, Any], tag: str) -> Any:
    return pytest.param(entry, name, options, id=f"{entry}-{name}-{tag}")


def _tag(options: dict[str, Any]) -> str:
    short = {"optimizer": "", "batch_size": "b", "lr": "lr", "max_iter": "it"}
    parts = [
        f"{short.get(k, k)}{v}" if not isinstance(v, bool) else f"{k}={v}"
        for k, v in options.items()
        if k != "random_state"
    ]
    return ",".join(parts) or "defaults"


OPTIMIZERS = ("gd", "momentum", "nesterov", "adam", "svrg")
BATCHES = (None, 1, 8, 32)


def _optimizer_options(optimizer: str, batch_size: int | None) -> dict[str, Any]:
    options: dict[str, Any] = {"optimizer": optimizer}
    if optimizer == "adam":
        options["lr"] = 0.01  # Adam's rate is a distance: it takes no 'auto'
    if batch_size is not None:
        options.update(batch_size=batch_size, random_state=0)
        if optimizer != "svrg":
            # Plain stochastic steps hover at a noise floor and run to max_iter, whose
            # value changes nothing in what is checked (they must warn): keep it short.
            options["max_iter"] = 100
    return options


def _matrix() -> list[Any]:
    cells = []
    # every data set, with the defaults, through every entry point
    for name in DATA:
        for entry in ("fit", "estimator", "cli"):
            cells.append(_cell(entry, name, {}, "defaults"))
    # every optimizer x batch size, on two data sets
    for name in ("davis", "diabetes"):
        for optimizer in OPTIMIZERS:
            for batch_size in BATCHES:
                options = _optimizer_options(optimizer, batch_size)
                entries = ("fit", "estimator") if name == "davis" else ("fit",)
                for entry in entries:
                    cells.append(_cell(entry, name, options, _tag(options)))
    # the scales and offsets, with a batch size, momentum, Adam and raw features
    for name in SCALED:
        for options in (
            {"batch_size": 8, "random_state": 0},
            {"optimizer": "momentum"},
            {"optimizer": "adam", "lr": 0.01, "max_iter": 5000},
            {"standardize": False, "max_iter": 5000},
        ):
            for entry in ("fit", "estimator"):
                cells.append(_cell(entry, name, options, _tag(options)))
    # raw features 1e6 away from zero with a small (stable) rate: the gradient's rounding
    # floor is large there, which is no licence to stop far from least squares
    for entry in ("fit", "estimator", "cli"):
        options = {"standardize": False, "lr": 1e-13}
        cells.append(_cell(entry, "offsets 1e6", options, _tag(options)))
    # numeric learning rates: slow, at the stability limit (2/L = 1 on standardized
    # Davis), beyond it
    for name in ("davis", "diabetes", "bdims"):
        for lr in (0.01, 0.3, 1.0, 3.0):
            entries = ("fit", "estimator") if name == "davis" else ("fit",)
            for entry in entries:
                cells.append(_cell(entry, name, {"lr": lr}, f"lr{lr}"))
    # the command line on a subset
    for name, options in (
        ("davis", {"batch_size": 8, "random_state": 0}),
        ("davis", {"optimizer": "momentum", "lr": 0.05, "batch_size": 16, "random_state": 0}),
        ("davis", {"optimizer": "adam", "lr": 0.01}),
        ("davis", {"lr": 3.0}),
        ("davis", {"standardize": False, "lr": 0.01}),  # article A's raw rate: diverges
        ("diabetes", {"optimizer": "nesterov"}),
        ("diabetes", {"lr": 0.01}),
        ("collinear", {"batch_size": 8, "random_state": 0}),
        ("y*1e-9", {"batch_size": 32, "random_state": 0}),
        ("X*1e9", {"standardize": False, "max_iter": 2000}),
    ):
        cells.append(_cell("cli", name, options, _tag(options)))
    return cells


@pytest.mark.parametrize(("entry", "name", "options"), _matrix())
def test_least_squares_or_says_how_far(entry, name, options, tmp_path, capsys):
    X, y = data(name)
    out = outcome(entry, name, options, tmp_path, capsys)
    tol = STOCHASTIC if options.get("batch_size") else EXACT
    assert_trustworthy(
        out,
        X,
        y,
        tol=tol,
        unique=name not in RANK_DEFICIENT,
        rank_deficient=name in RANK_DEFICIENT,
    )


# -- 2. the reported failures ------------------------------------------------------------


def test_fit_on_diabetes_with_defaults_equals_linear_regression():
    X, y = data("diabetes")
    ref = LinearRegression().fit(X, y)
    for out in (via_fit(X, y), via_estimator(X, y)):
        assert not (out.short or out.rank_notes or out.other or out.error), out
        np.testing.assert_allclose(out.coef, ref.coef_, rtol=1e-6)
        assert out.intercept == pytest.approx(ref.intercept_, rel=1e-6)
        assert_trustworthy(out, X, y, tol=EXACT)


def test_cli_davis_prints_the_least_squares_line(capsys):
    X, y = data("davis")
    w, b = reference(X, y)
    assert main(["fit", "davis"]) == 0
    stdout, stderr = capsys.readouterr()
    assert stderr == ""
    line = re.search(rf"^weight = ({NUMBER}) \* height \+ ({NUMBER})$", stdout, re.MULTILINE)
    assert line, stdout
    slope, intercept = float(line[1]), float(line[2])
    assert f"{slope:.4f}" == "0.2384" and f"{intercept:.2f}" == "25.27"
    assert slope == pytest.approx(w[0], rel=1e-5) and intercept == pytest.approx(b, rel=1e-5)
    assert "converged" in stdout


def test_cli_bdims_defaults_give_the_least_squares_mse(capsys):
    X, y = data("bdims")
    w, b = reference(X, y)
    mse = float(np.mean((X @ w + b - y) ** 2))
    assert main(["fit", "bdims"]) == 0
    stdout, stderr = capsys.readouterr()
    assert stderr == ""
    printed = re.search(rf"loss \(mean squared error\) = ({NUMBER})", stdout)
    assert printed, stdout
    assert float(printed[1]) == pytest.approx(mse, rel=1e-5)
    assert f"{float(printed[1]):.6g}" == f"{mse:.6g}"


@pytest.mark.parametrize("name", ["diabetes", "davis"])
def test_y_in_nanometres_does_not_converge_at_step_zero(name, tmp_path, capsys):
    """A gradient-norm tolerance in absolute units would stop at w = 0 when y is tiny."""
    X, y = data(name)
    small = y * 1e-9
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        unscaled = gradfit.fit(X, y)
        nano = gradfit.fit(X, small)
        est = GDRegressor().fit(X, small)
    assert not caught, [str(w.message) for w in caught]
    assert nano.n_steps > 0 and np.abs(nano.w).min() > 0
    np.testing.assert_allclose(nano.w, 1e-9 * unscaled.w, rtol=1e-8)
    assert nano.b == pytest.approx(1e-9 * unscaled.b, rel=1e-8)
    np.testing.assert_allclose(est.coef_, 1e-9 * unscaled.w, rtol=1e-8)
    assert est.intercept_ == pytest.approx(1e-9 * unscaled.b, rel=1e-8)
    assert est.n_iter_ > 0
    if name == "davis":
        out = via_cli(X, small, tmp_path, capsys)
        assert out.status == 0 and not out.short
        np.testing.assert_allclose(out.coef, 1e-9 * unscaled.w, rtol=1e-8)
        assert out.intercept == pytest.approx(1e-9 * unscaled.b, rel=1e-8)


@pytest.mark.parametrize("seed", range(5))
def test_minibatch_momentum_on_davis_converges_or_warns(seed):
    X, y = data("davis")
    options = {"optimizer": "momentum", "lr": 0.05, "batch_size": 16, "random_state": seed}
    for out in (via_fit(X, y, **options), via_estimator(X, y, **options)):
        how = assert_trustworthy(out, X, y, tol=STOCHASTIC)
        if how == "warned":  # and the fix it names is the one that works
            assert any("optimizer='svrg'" in m for m in out.short), out.short


@pytest.mark.parametrize("batch_size", [1, 8, 32])
@pytest.mark.parametrize(("name", "tol"), [("davis", EXACT), ("diabetes", 1e-3), ("bdims", 1e-3)])
def test_svrg_defaults_with_a_batch_size_reach_least_squares_without_a_warning(
    name, tol, batch_size
):
    X, y = data(name)
    for seed in range(3):
        out = via_estimator(X, y, batch_size=batch_size, random_state=seed)
        assert not (out.short or out.rank_notes or out.other or out.error), (seed, out)
        assert assert_trustworthy(out, X, y, tol=tol) == "least squares"


@pytest.mark.parametrize(("name", "batch_size"), [("diabetes", 64), ("diabetes", 200)])
def test_svrg_defaults_with_larger_batches_reach_least_squares_without_a_warning(name, batch_size):
    """The issue: "With its defaults, GDRegressor with a batch size reaches least squares
    to 1e-3 relative on diabetes and bdims without a warning" -- any batch size."""
    X, y = data(name)
    out = via_estimator(X, y, batch_size=batch_size, random_state=0)
    assert_trustworthy(out, X, y, tol=STOCHASTIC)
    assert not out.short, f"batch_size={batch_size}: {out.short}"


@pytest.mark.parametrize("name", RANK_DEFICIENT)
def test_rank_deficient_designs_give_the_minimum_norm_solution(name, tmp_path, capsys):
    X, y = data(name)
    d1 = X.shape[1] + 1
    ref = LinearRegression().fit(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = gradfit.fit(X, y)
    assert [w.category for w in caught] == [RankDeficiencyWarning], [str(w.message) for w in caught]
    assert f"rank {r.report.rank} of {d1}" in str(caught[0].message)
    np.testing.assert_allclose(r.w, ref.coef_, rtol=1e-6, atol=1e-6 * np.abs(ref.coef_).max())
    assert r.b == pytest.approx(ref.intercept_, rel=1e-6, abs=1e-6 * np.std(y))
    w_min, b_min = gradfit.least_squares(X, y)  # lstsq's minimum norm, in X's own units
    np.testing.assert_allclose(r.w, w_min, rtol=1e-6, atol=1e-6 * np.abs(w_min).max())
    assert r.b == pytest.approx(b_min, rel=1e-6, abs=1e-6 * np.std(y))
    assert r.report.rank is not None and r.report.rank < d1
    assert r.curvature is not None and r.curvature.condition_number == np.inf
    # the estimator: like LinearRegression, rank_ and no warning
    est = via_estimator(X, y)
    assert not (est.short or est.rank_notes or est.other or est.error), est
    np.testing.assert_allclose(est.coef, ref.coef_, rtol=1e-6, atol=1e-6 * np.abs(ref.coef_).max())
    assert est.rank == r.report.rank
    assert est.rank - 1 == LinearRegression().fit(X, y).rank_  # the same meaning of rank_
    # the command line: the same note on stderr, exit 0
    out = via_cli(X, y, tmp_path, capsys)
    assert out.status == 0 and len(out.rank_notes) == 1 and not out.short, out
    np.testing.assert_allclose(out.coef @ X.T + out.intercept, ref.predict(X), rtol=1e-6)


@pytest.mark.parametrize("name", RANK_DEFICIENT)
def test_history_ends_at_the_returned_coefficients(name):
    """The history's last entry is "the final state": the line that was returned (and that
    ``gradfit fit`` prints), not another minimiser that ``--history`` writes out."""
    X, y = data(name)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        r = gradfit.fit(X, y)
    np.testing.assert_allclose(r.history.w[-1], r.w, rtol=1e-9, atol=1e-9 * np.abs(r.w).max())
    assert r.history.b[-1] == pytest.approx(r.b, rel=1e-9)


def _photon_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Photon energies in joules (~3.6e-19, spread ~1e-20) and another feature; also the
    energies in electronvolts (the same column in friendlier units)."""
    rng = np.random.default_rng(4)
    n = 300
    energy = 3.6e-19 + 1e-20 * rng.standard_normal(n)
    other = rng.standard_normal(n)
    y = 2e19 * energy + other + 0.1 * rng.standard_normal(n)
    joules = np.column_stack([energy, other])
    ev = np.column_stack([energy / 1.602176634e-19, other])
    return joules, ev, y


def r2(y: np.ndarray, predictions: np.ndarray) -> float:
    return 1.0 - float(np.sum((y - predictions) ** 2) / np.sum((y - y.mean()) ** 2))


def test_a_photon_energy_feature_is_not_treated_as_constant():
    joules, ev, y = _photon_data()
    w_ev, b_ev = gradfit.least_squares(ev, y)
    best = r2(y, ev @ w_ev + b_ev)
    assert best > 0.95  # the energy explains most of y
    for out in (via_fit(joules, y), via_estimator(joules, y)):
        assert not (out.short or out.rank_notes or out.other or out.error), out
        assert out.rank == 3
        assert r2(y, joules @ out.coef + out.intercept) == pytest.approx(best, abs=1e-9)
        np.testing.assert_allclose(out.coef * [1.602176634e-19, 1.0], w_ev, rtol=1e-6)
        assert_trustworthy(out, joules, y, tol=EXACT)


def test_values_near_1e200_are_an_error_that_names_the_column(tmp_path, capsys):
    rng = np.random.default_rng(5)
    X = np.column_stack([rng.standard_normal(50), 1e200 * rng.standard_normal(50)])
    y = rng.standard_normal(50)
    with pytest.raises(InvalidInputError, match=r"column 'huge'.*divide it by 1e\+200"):
        gradfit.fit(X, y, feature_names=["small", "huge"])
    with pytest.raises(InvalidInputError, match=r"column 'x1'.*divide it by 1e\+200"):
        GDRegressor().fit(X, y)
    path = tmp_path / "huge.csv"
    write_csv(path, X, y, names=["small", "huge"])
    assert main(["fit", str(path), "--target", "y"]) == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith("gradfit: error: column 'huge'") and "divide it by" in stderr


def _many_steps_model(max_iter: int) -> GDRegressor:
    rng = np.random.default_rng(6)
    X = rng.standard_normal((5000, 50)) * np.logspace(0, 2, 50)
    y = X @ rng.standard_normal(50) + rng.standard_normal(5000)
    # raw features, condition number ~1e4: every epoch is a step, tol=0 runs them all
    return GDRegressor(standardize=False, lr="auto", tol=0.0, max_iter=max_iter).fit(X, y)


def test_pickled_estimator_does_not_grow_with_the_number_of_steps():
    few, many = _many_steps_model(10_000), _many_steps_model(100_000)
    assert (few.n_iter_, many.n_iter_) == (10_000, 100_000)
    assert len(few.history_) <= 1000 and len(many.history_) <= 1000  # max_history
    size_few, size_many = len(pickle.dumps(few)), len(pickle.dumps(many))
    # past max_history steps both histories hold 500 to 1000 entries: at most twice
    assert size_many < 2 * size_few, (
        f"{size_few} bytes after 1e4 steps, {size_many} after 1e5: "
        f"loss_curve_ holds {len(many.loss_curve_)} values, history_.epoch_loss "
        f"{len(many.history_.epoch_loss)}"
    )


def test_warm_start_uses_parameters_changed_by_set_params():
    X, y = data("diabetes")
    model = GDRegressor(warm_start=True, lr=0.1, max_iter=5, tol=0.0)
    model.fit(X, y)
    assert model.lr_ == 0.1 and model.n_iter_ == 5
    model.set_params(lr=0.2, max_iter=7)
    model.fit(X, y)
    assert model.lr_ == 0.2 and model.n_iter_ == 7
    assert np.all(model.history_.lr == 0.2)
    # and the run to the end uses the new tolerance: least squares, certified
    model.set_params(lr="auto", max_iter=None, tol=1e-10)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    assert not caught, [str(w.message) for w in caught]
    assert model.lr_ == pytest.approx(GDRegressor(lr="auto").fit(X, y).lr_)
    assert_trustworthy(Outcome("estimator", model.coef_, model.intercept_), X, y, tol=EXACT)


def test_warm_start_uses_standardize_changed_by_set_params():
    """standardize=True after a raw warm fit: used (the standardized 'auto' rate), or an
    error that says the warm start descended in other coordinates; never ignored."""
    X, y = data("diabetes")
    model = GDRegressor(warm_start=True, standardize=False, max_iter=5, tol=0.0).fit(X, y)
    model.set_params(standardize=True, max_iter=None, tol=1e-10)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(X, y)
        except (InvalidInputError, ValueError) as err:
            assert "standardize" in str(err)
            return
    assert model.lr_ == pytest.approx(GDRegressor(standardize=True).fit(X, y).lr_), (
        f"standardize=True ignored by the warm start: lr_={model.lr_:.4g} is the raw "
        f"features' 'auto' rate; warnings: {[str(w.message)[:90] for w in caught]}"
    )


@pytest.mark.parametrize("options", [{}, {"batch_size": 8}], ids=["defaults", "batch8"])
def test_partial_fit_in_any_order_reaches_least_squares_of_all_rows(options):
    X, y = data("diabetes")
    chunks = np.array_split(np.arange(len(y)), 20)
    results = []
    for order in (range(20), range(19, -1, -1)):
        model = GDRegressor(random_state=0, **options)
        for k in order:
            with warnings.catch_warnings(record=True) as last:
                warnings.simplefilter("always")
                model.partial_fit(X[chunks[k]], y[chunks[k]])
        out = via_estimator_result(model, last)
        how = assert_trustworthy(out, X, y, tol=EXACT)
        results.append((how, model.coef_.copy()))
    if all(how == "least squares" for how, _ in results):
        np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)


def via_estimator_result(model: GDRegressor, caught: list[warnings.WarningMessage]) -> Outcome:
    out = Outcome("estimator", model.coef_, model.intercept_, model.gap_, model.rank_ + 1)
    return _sort(out, caught, SklearnConvergenceWarning)


# -- found on the way: the yardstick and the advice --------------------------------------


def _badly_scaled_columns() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    scales = np.array([1e-9, 1e9])
    X = rng.standard_normal((200, 2)) * scales
    y = X @ (np.array([2.0, 3.0]) / scales) + 0.1 * rng.standard_normal(200)
    return X, y, scales


def test_least_squares_yardstick_does_not_depend_on_the_units():
    """``gradfit.least_squares`` (the yardstick of ``record_gap`` and of the tests) of full-rank
    data: rescaling a column rescales its coefficient, nothing else."""
    X, y, scales = _badly_scaled_columns()
    w_raw, b_raw = gradfit.least_squares(X, y)
    w_unit, b_unit = gradfit.least_squares(X / scales, y)
    np.testing.assert_allclose(w_raw * scales, w_unit, rtol=1e-6)
    assert b_raw == pytest.approx(b_unit, rel=1e-6, abs=1e-6)


def test_record_gap_of_a_converged_fit_is_small_whatever_the_units():
    X, y, _ = _badly_scaled_columns()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = gradfit.fit(X, y, record_gap=True)
    assert not caught and r.converged
    assert_trustworthy(Outcome("fit", r.w, r.b, r.report.gap), X, y, tol=EXACT)
    assert r.history.gap is not None
    assert r.history.gap[-1] < 1e-6, (
        f"a fit certified within {r.report.gap:.2g} x std(y) records a relative coefficient "
        f"gap of {r.history.gap[-1]:.3g}"
    )


def test_a_rate_at_the_stability_limit_is_not_told_to_run_longer():
    """lr = 2/L exactly (1.0 on standardized Davis): the top direction oscillates forever;
    more iterations cannot help, a smaller rate does."""
    X, y = data("davis")
    out = via_fit(X, y, lr=1.0, max_iter=2000)
    assert assert_trustworthy(out, X, y, tol=EXACT) == "warned"
    advice = out.short[0].split("Try", 1)[1]
    assert "lr" in advice, f"the only advice at lr = 2/L: Try{advice}"


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("davis", {"lr": 3.0}),
        ("davis", {"standardize": False, "lr": 0.01}),
        ("diabetes", {"lr": 0.45}),
        ("y*1e-9", {"optimizer": "adam", "lr": 0.01}),
    ],
    ids=["davis-lr3", "davis-raw-lr0.01", "diabetes-lr0.45", "nano-y-adam"],
)
def test_the_rate_a_divergence_suggests_does_not_diverge(name, options):
    X, y = data(name)
    with pytest.raises(DivergenceError) as caught:
        gradfit.fit(X, y, **options)
    suggested = caught.value.suggested_lr
    assert suggested is not None and f"Try lr={suggested:.3g}" in str(caught.value)
    retry = via_fit(X, y, **{**options, "lr": suggested, "max_iter": 20_000})
    assert retry.error is None, f"lr={suggested:.3g}, as suggested, diverges too: {retry.error}"
    assert_trustworthy(retry, X, y, tol=EXACT)


def test_a_divergence_at_lr_auto_does_not_suggest_lr_auto():
    """Raw features 1e6 from zero: condition number ~1e25, so 'auto' (2 / (mu + L)) is 2/L
    to the last digit and may diverge; the fix offered must not be the setting that failed."""
    X, y = data("offsets 1e6")
    out = via_fit(X, y, standardize=False)  # lr='auto' by default
    assert_trustworthy(out, X, y, tol=EXACT, unique=True, rank_deficient=False)
    if out.error is not None:
        assert "lr='auto'" not in out.error, out.error


# -- 3. the property, on random data ----------------------------------------------------

PROPERTY_SETTINGS = (
    {},
    {"batch_size": 8, "random_state": 0},
    {"optimizer": "momentum", "lr": "auto"},
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(20, 300),
    d=st.integers(1, 6),
    log_scales=st.lists(st.floats(-9, 9), min_size=6, max_size=6),
    offsets=st.lists(st.sampled_from([0.0, 1.0, -1e3, 1e6, -1e6]), min_size=6, max_size=6),
    log_y=st.floats(-9, 9),
    y_offset=st.sampled_from([0.0, 1e3]),
    setting=st.sampled_from(range(len(PROPERTY_SETTINGS))),
    seed=st.integers(0, 2**32 - 1),
)
def test_fit_is_least_squares_or_says_so_on_any_units(
    n, d, log_scales, offsets, log_y, y_offset, setting, seed
):
    rng = np.random.default_rng(seed)
    scales = 10.0 ** np.array(log_scales[:d])
    z = rng.standard_normal((n, d))
    X = (z + np.array(offsets[:d])) * scales  # offsets in units of each column's spread
    y = 10.0**log_y * (z @ rng.uniform(-3, 3, d) + y_offset + 0.1 * rng.standard_normal(n))
    options = PROPERTY_SETTINGS[setting]
    out = via_fit(X, y, **options)
    tol = STOCHASTIC if "batch_size" in options else EXACT
    if out.error is not None:
        assert out.error_type is DivergenceError, out.error
    assert_trustworthy(out, X, y, tol=tol, unique=not out.rank_notes)


@pytest.mark.parametrize("batch_size", [1, 8, 64])
def test_svrg_default_rate_converges_on_heavy_tailed_designs(batch_size):
    """lr='auto' for SVRG is 1/L_b: stable and convergent on hard random designs."""
    rng = np.random.default_rng(1)
    for _ in range(8):
        n, d = int(rng.integers(40, 400)), int(rng.integers(1, 12))
        scales, offsets = rng.lognormal(0, 3, d), rng.normal(0, 100, d)
        X = rng.standard_t(df=float(rng.uniform(1.5, 10)), size=(n, d)) * scales + offsets
        y = X @ rng.normal(size=d) + rng.normal(size=n) * rng.lognormal()
        r = gradfit.fit(X, y, batch_size=batch_size, random_state=0)
        assert r.stop.code == "converged_gradient" and r.report.gap <= 1e-10


@pytest.mark.parametrize("column", [5.0, 0.0])
@pytest.mark.parametrize("position", [0, 3, 10])
def test_a_constant_column_is_absorbed_by_the_intercept(column, position):
    X, y = load_diabetes(return_X_y=True)
    X = np.insert(X, position, column, axis=1)
    ref = LinearRegression().fit(X, y)
    with pytest.warns(gradfit.RankDeficiencyWarning, match="rank 11 of 12"):
        r = gradfit.fit(X, y)
    np.testing.assert_allclose(r.predict(X), ref.predict(X), rtol=0, atol=1e-8 * np.std(y))
    np.testing.assert_allclose(r.w, ref.coef_, rtol=1e-6, atol=1e-6)
    s = gradfit.summarize(r, X, y)  # a constant column is data, not an overflow
    assert s.rsquared == pytest.approx(ref.score(X, y), rel=1e-9)


def test_a_rate_past_the_stable_one_is_named_when_the_loss_only_oscillates():
    """Huber's gradient is bounded: too large a rate oscillates instead of diverging, and
    the warning must name the rate, not ask for more iterations."""
    d = gradfit.load_dataset("bdims")
    with pytest.warns(gradfit.ConvergenceWarning) as seen:
        gradfit.fit(d.X, d.y, optimizer="fista", lr=1.5, loss="huber", epsilon=2.0, max_iter=200)
    message = str(seen[0].message)
    assert "of the minimum of Huber's loss" in message
    assert "a smaller lr: lr=1.5 is above the largest stable rate" in message
    assert "larger max_iter" not in message
