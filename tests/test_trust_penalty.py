"""Never silently wrong beyond least squares: penalties and Huber's loss, every entry point.

The rule of ``test_trust.py`` with another yardstick: ``gradfit.fit``, ``GDRegressor`` and
``gradfit fit`` return the minimum of the objective they were given (predictions within
1e-6 x std(y) of an independent minimiser), or warn saying how far and what to try, or
fail with a message; on data whose units and offsets span 1e-9 to 1e9. The strengths are
set relative to each data set's ``alpha_max`` so that every penalty matters.

References, none of them gradfit's: scikit-learn's ``ElasticNet`` (coordinate descent) for
the lasso and elastic net, the normal equations with the ridge term for ridge, and
scipy's L-BFGS on standardized columns for Huber's loss.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.linear_model import ElasticNet

from .test_trust import DATA, HOW_FAR, Outcome, data, outcome, spread

TOL = 1e-6

OBJECTIVES: dict[str, dict[str, Any]] = {
    "ridge": {"penalty": "l2", "share": 0.1},
    "lasso": {"penalty": "l1", "share": 0.1},
    "elastic net": {"penalty": "elasticnet", "l1_ratio": 0.5, "share": 0.1},
    "huber": {"loss": "huber"},
    "huber + ridge": {"loss": "huber", "penalty": "l2", "share": 0.01},
}


def _centred(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return X - X.mean(axis=0), y - y.mean()


def options_for(name: str, objective: str) -> dict[str, Any]:
    """gradfit's options on data set ``name``: a strength that is a share of the lasso's
    ``alpha_max`` there (scikit-learn's formula), Huber's threshold a share of std(y)."""
    X, y = data(name)
    spec = dict(OBJECTIVES[objective])
    share = spec.pop("share", None)
    if share is not None:
        Xc, yc = _centred(X, y)
        alpha_max = float(np.abs(Xc.T @ yc).max()) / len(y)
        if spec["penalty"] == "l2":  # ridge's scale: the curvature of the loss
            alpha_max = float(np.abs(Xc).max(axis=0).max() ** 2)
        spec["alpha"] = share * alpha_max
    if spec.get("loss") == "huber":
        spec["epsilon"] = 0.5 * float(np.std(y))
    return spec


def reference(name: str, options: dict[str, Any]) -> tuple[np.ndarray, float]:
    """The minimiser of gradfit's objective, computed independently of gradfit."""
    X, y = data(name)
    n = len(y)
    mean, s = X.mean(axis=0), spread(X)
    Z, yc = (X - mean) / s, y - y.mean()  # unit-spread columns: well-posed references
    penalty, alpha = options.get("penalty"), options.get("alpha", 0.0)
    if options.get("loss") == "huber":
        # in units of std(y): Huber with y / scale and epsilon / scale is the objective
        # divided by scale^2, ridge's alpha included (w / scale in its square)
        scale = float(np.std(y))
        target, eps = yc / scale, options["epsilon"] / scale
        ridge = alpha if penalty == "l2" else 0.0

        def objective(t: np.ndarray) -> tuple[float, np.ndarray]:
            # t = [v, c]: coefficients of Z (w = v / s) and the intercept
            e = Z @ t[:-1] + t[-1] - target
            clipped = np.clip(e, -eps, eps)
            w = t[:-1] / s
            value = float(np.mean(clipped * (2 * e - clipped))) + ridge * float(w @ w)
            force = 2 * clipped / n
            return value, np.append(Z.T @ force + 2 * ridge * w / s, force.sum())

        found = minimize(
            objective,
            np.zeros(X.shape[1] + 1),
            jac=True,
            method="L-BFGS-B",
            options={"ftol": 1e-16, "gtol": 1e-13, "maxiter": 100_000, "maxcor": 50},
        )
        w = found.x[:-1] / s * scale
        return w, float(y.mean() + found.x[-1] * scale - mean @ w)
    Xc = X - mean
    if penalty == "l2":
        # (X_c' X_c / n + alpha I) w = X_c' y_c / n, solved in unit-spread coordinates
        A = Z.T @ Z / n + alpha * np.diag(1.0 / s**2)
        v = np.linalg.solve(A, Z.T @ yc / n)
        w = v / s
    else:
        ratio = 1.0 if penalty == "l1" else options["l1_ratio"]
        model = ElasticNet(
            alpha=alpha, l1_ratio=ratio, fit_intercept=False, tol=1e-15, max_iter=1_000_000
        )
        w = model.fit(Xc, yc).coef_
    return w, float(y.mean() - mean @ w)


def prediction_distance(name: str, out: Outcome, options: dict[str, Any]) -> float:
    X, y = data(name)
    w_ref, b_ref = reference(name, options)
    assert out.coef is not None and out.intercept is not None
    mean = X.mean(axis=0)
    delta = (X - mean) @ (out.coef - w_ref) + (out.intercept - b_ref + mean @ (out.coef - w_ref))
    return float(np.sqrt(np.mean(delta**2)) / np.std(y))


def _matrix() -> list[Any]:
    cells = []
    for name in DATA:
        if name == "n<d":
            continue  # the lasso's reference by coordinate descent is not unique there
        for objective in OBJECTIVES:
            entries = ("fit", "estimator", "cli") if name in ("davis", "y*1e9") else ("fit",)
            if name in ("diabetes", "X*1e-9"):
                entries = ("fit", "estimator")
            for entry in entries:
                cells.append(pytest.param(entry, name, objective, id=f"{entry}-{name}-{objective}"))
    return cells


@pytest.mark.parametrize(("entry", "name", "objective"), _matrix())
def test_the_minimum_or_says_how_far(entry, name, objective, tmp_path, capsys):
    options = options_for(name, objective)
    out = outcome(entry, name, options, tmp_path, capsys)
    where = f"[{entry} {name} {objective}]"
    assert not out.other, f"{where} warnings nobody asked for: {out.other}"
    for note in out.rank_notes:  # Huber's loss alone on collinear columns: its own words
        assert name == "collinear" and objective == "huber", f"{where} {note}"
        assert "Huber's loss has many solutions" in note, note
    if out.error is not None:
        assert ": " in out.error and len(out.error) > 30, f"{where} {out.error!r}"
        pytest.fail(f"{where} these settings are valid: {out.error}")
    distance = prediction_distance(name, out, options)
    if out.short:
        for message in out.short:
            assert HOW_FAR.search(message) and "Try" in message, f"{where} {message}"
            stated = HOW_FAR.search(message)[1]  # type: ignore[index]
            if stated is not None:
                assert distance <= 1.1 * float(stated) + 1e-9, (where, distance, message)
        return
    assert distance <= TOL, f"{where} silently wrong: {distance:.3g} x std(y) from the minimum"
    if out.gap is not None:
        assert distance <= 1.1 * out.gap + 1e-9, f"{where} certifies {out.gap:.3g}, is {distance}"


def test_the_warning_names_the_objective_not_least_squares():
    X, y = data("bdims")
    with pytest.warns(Warning) as seen:
        import gradfit

        gradfit.fit(X, y, penalty="l1", alpha=0.5, optimizer="gd", lr=1e-4, max_iter=20)
    message = str(seen[0].message)
    assert re.search(r"stopped short of the minimum of the squared error \+ the lasso", message)
    assert "optimizer='fista'" in message  # the fix for these settings
