"""What the page draws, as JSON-ready values: new points, the data chart, the contours.

Pure functions of the engine's values (histories, coefficients, the objective); no
session and no HTTP here.

With a penalty or Huber's loss the contours are the objective's own (``loss_at``
includes the penalty): ridge's bowl is rounder and its minimum moves towards 0 from
least squares' (both are marked); the lasso's L1 part has a kink wherever a
coefficient is 0, the lines ``w_j = 0``, drawn where they cross the picture. In
descent coordinates ``v_j = w_j * scale_j``, so ``w_j = 0`` is ``v_j = 0`` whether or
not the features are standardized.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradfit.exceptions import InvalidInputError
from gradfit.model import Objective
from gradfit.model.regularized import RegularizedObjective
from gradfit.surface import surface_grid
from gradfit.train import History

__all__ = [
    "MAX_ROWS_SHOWN",
    "SURFACE_POINTS",
    "data_view",
    "history_points",
    "json_ready",
    "kink_view",
    "kinked",
    "parabola_view",
    "path_points",
    "surface_view",
]

# The data chart shows at most this many rows (evenly spaced): enough to see the
# cloud, few enough to send at every step.
MAX_ROWS_SHOWN = 500
# Grid points per side of the contour plot.
SURFACE_POINTS = 60
# Points along the parabola (the loss over one coefficient).
PARABOLA_POINTS = 81


def json_ready(obj: Any) -> Any:
    """``obj`` with NaN and infinities as None: JSON has neither (a diverged descent's
    last numbers)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    return obj


def history_points(
    objective: Objective, history: History | None, since: int, every: int = 1
) -> dict[str, list[Any]]:
    """The checked steps from step ``since`` on: ``step``, ``loss`` and ``theta``.

    A step is checked when it is a multiple of ``every`` (``yardstick.checkpoint``);
    ``loss`` is the full-data loss at its parameters, computed by the objective (with
    batches, the history's own loss is its batch's, an estimate that falls below the
    minimum as often as not).
    """
    if history is None or not len(history):
        return {"step": [], "loss": [], "theta": []}
    keep = (history.step >= since) & (history.step % every == 0)
    theta = history.theta[keep]
    loss = history.loss[keep] if every == 1 else objective.loss_at(theta)
    return {"step": history.step[keep].tolist(), "loss": loss.tolist(), "theta": theta.tolist()}


def path_points(history: History | None, since: int) -> dict[str, list[Any]]:
    """Every recorded step from step ``since`` on: ``step`` and ``theta`` (the path
    drawn over the contours, each batch's step included)."""
    if history is None or not len(history):
        return {"step": [], "theta": []}
    keep = history.step >= since
    return {"step": history.step[keep].tolist(), "theta": history.theta[keep].tolist()}


def data_view(X: Any, y: np.ndarray, coef: np.ndarray) -> dict[str, Any]:
    """The data with the current line (one feature), or predicted against actual.

    Parameters
    ----------
    X : array of shape (n, d)
        The features, original units.
    y : array of shape (n,)
    coef : array of shape (d + 1,)
        ``[w, b]`` in original units.
    """
    idx = np.linspace(0, len(y) - 1, min(len(y), MAX_ROWS_SHOWN)).astype(int)
    if X.shape[1] == 1:
        x = np.asarray(X[:, 0]).ravel()
        lo, hi = float(x.min()), float(x.max())
        return {
            "kind": "line",
            "x": x[idx].tolist(),
            "y": y[idx].tolist(),
            "line_x": [lo, hi],
            "line_y": [coef[0] * lo + coef[1], coef[0] * hi + coef[1]],
        }
    predicted = np.asarray(X[idx] @ coef[:-1]).ravel() + coef[-1]
    return {"kind": "scatter", "actual": y[idx].tolist(), "predicted": predicted.tolist()}


def kinked(objective: Objective) -> np.ndarray:
    """Which of ``[w_0, ..., w_{d-1}, b]`` have an L1 kink at 0 (none without one)."""
    if isinstance(objective, RegularizedObjective) and not objective.smooth:
        l1 = objective.scaled_penalty.l1 > 0
        l1[-1] = False  # the intercept is never penalized
        return l1
    return np.zeros(objective.n_params, dtype=bool)


def kink_view(
    objective: Objective, theta: np.ndarray | None, star: np.ndarray
) -> dict[str, Any] | None:
    """The coefficients the L1 kink holds at 0, now and at the minimum (None: no kink).

    A step's soft threshold sets a coefficient to exactly 0 when the loss's pull on it
    is weaker than the penalty's, so after a step an exact 0 is the kink holding it.
    ``theta`` is None before the first step (every coefficient starts at 0).
    """
    kinks = kinked(objective)
    if not kinks.any():
        return None
    names = objective.feature_names
    now = np.zeros_like(kinks) if theta is None else kinks & (theta == 0)
    return {
        "now": [names[k] for k in np.flatnonzero(now)],
        "at_minimum": [names[k] for k in np.flatnonzero(kinks & (star == 0))],
    }


def _free_intercept(objective: Objective) -> Objective:
    """The same loss and penalty with the intercept free (to draw the loss over b)."""
    if isinstance(objective, RegularizedObjective):
        return RegularizedObjective(
            objective.source,
            penalty=objective.penalty,
            loss=objective.loss,
            epsilon=objective.epsilon,
            scaling=objective.scaling,
            path="stats" if objective.path == "stats" else "direct",
        )
    return Objective(
        objective.source,
        scaling=objective.scaling,
        path="stats" if objective.path == "stats" else "direct",
    )


def surface_view(
    objective: Objective,
    star: np.ndarray,
    trail: Sequence[Sequence[float]] | np.ndarray,
    coefs: Sequence[int],
    least_squares: np.ndarray | None = None,
) -> dict[str, Any]:
    """J over two coefficients (the others at the optimum ``star``) around ``trail``.

    Parameters
    ----------
    objective : Objective
        Its ``loss_at`` is what the contours show (a penalty included).
    star : ndarray of shape (d + 1,)
        The minimiser of ``objective``, descent coordinates.
    trail : sequence of k points of d + 1 numbers (k >= 1)
        The path to frame, descent coordinates.
    coefs : pair of int
        Indices into ``[w_0, ..., w_{d-1}, b]``; -1 is the intercept.
    least_squares : ndarray of shape (d + 1,), optional
        The least-squares ``theta``, marked (and framed) beside a penalty's or
        Huber's minimum.

    Returns
    -------
    dict
        ``x``, ``y``, ``z`` (the grid), ``star``, ``labels`` (the axes': names and
        coordinates), ``names``, ``equal_axes`` (standardized coordinates share units),
        ``indices``, ``kinks``
        (per axis: whether the line ``w = 0`` is a kink) and ``least_squares`` (the
        two coordinates, or None).

    Raises
    ------
    InvalidInputError
        ``trail`` has the wrong width, or ``coefs`` are out of range or equal.
    """
    width = objective.n_params
    # checked point by point: a ragged list is not an array
    if not len(trail) or any(len(point) != width for point in trail):
        raise InvalidInputError(f"every path point needs {width} numbers")
    d = width - 1
    if not all(-d - 1 <= c <= d for c in coefs):
        raise InvalidInputError(f"coefs must index [w_0 .. w_{d - 1}, b]: got {list(coefs)}")
    i, j = (c % width for c in coefs)
    if i == j:
        raise InvalidInputError("coefs must name two different coefficients")
    kinks = kinked(objective)
    trail = np.asarray(trail, dtype=np.float64)
    if least_squares is not None:
        trail = np.vstack([trail, least_squares])
    if not objective.fit_intercept:
        # A line through the origin holds b at 0; the picture shows the true loss over b
        # too, so that the path is seen to stay on the line b = 0.
        objective = _free_intercept(objective)
        # frame the free optimum too, so that b has a range worth drawing
        trail = np.vstack([trail, objective.solution()])
    square = not objective.scaling.is_identity  # standardized: equal scales (below)
    A, C, J = surface_grid(objective, trail, star, i, j, n=SURFACE_POINTS, square=square)
    # the coefficients with their coordinates: standardized ones share the target's units,
    # and the page draws them on equal scales (a round bowl must look round)
    standardized = square
    names = [*(f"w[{n}]" for n in objective.feature_names), "b"]
    labels = [f"{n}, standardized" if standardized and n != "b" else n for n in names]
    return {
        "x": A[0].tolist(),
        "y": C[:, 0].tolist(),
        "z": J.tolist(),
        "star": [float(star[i]), float(star[j])],
        "labels": [labels[i], labels[j]],
        "names": [names[i], names[j]],
        "equal_axes": standardized,
        "indices": [i, j],
        "kinks": [bool(kinks[i]), bool(kinks[j])],
        "least_squares": (
            None if least_squares is None else [float(least_squares[i]), float(least_squares[j])]
        ),
    }


def parabola_view(
    objective: Objective,
    theta: np.ndarray,
    star: np.ndarray,
    coef: int,
    theta_next: np.ndarray | None = None,
) -> dict[str, Any]:
    """The loss over one coefficient, the others held where they are: article A's
    first picture (the parabola ``J(m)``), with the point ``theta`` and its step.

    Parameters
    ----------
    objective : Objective
        Its ``loss_at`` is the curve (a penalty included).
    theta : ndarray of shape (d + 1,)
        Where the curve is cut (the step's start), descent coordinates.
    star : ndarray of shape (d + 1,)
        The minimiser, framed.
    coef : int
        Index into ``[w_0, ..., w_{d-1}, b]``; -1 is the intercept.
    theta_next : ndarray of shape (d + 1,), optional
        Where the step went: the curve is drawn through ``theta``, so the step's end
        is shown on it at ``theta_next[coef]`` (the other coefficients held).

    Returns
    -------
    dict
        ``x``, ``y`` (the curve), ``at`` ([coordinate, loss] of ``theta``), ``slope``
        (the full-data derivative there: the tangent; the engine's gradient, or across an
        L1 kink the mean of the two sides), ``next`` ([coordinate, loss]
        of the step's end on the curve, or None), ``name``, ``label``, ``index``.
    """
    width = objective.n_params
    i = coef % width
    theta = np.asarray(theta, dtype=np.float64)
    ends = [theta[i], star[i]] + ([] if theta_next is None else [theta_next[i]])
    lo, hi = min(ends), max(ends)
    pad = max(0.25 * (hi - lo), 1e-3 * max(abs(star[i]), 1.0))
    t = np.linspace(lo - pad, hi + pad, PARABOLA_POINTS)
    thetas = np.tile(theta, (t.size, 1))
    thetas[:, i] = t
    loss = objective.loss_at(thetas)
    if objective.smooth:
        slope = float(objective.value_and_grad(theta)[1][i])
    else:  # the L1 kink: the mean of the two one-sided slopes, by a central difference
        h = 1e-6 * max(abs(theta[i]), abs(star[i]), 1.0)
        side = np.tile(theta, (2, 1))
        side[:, i] += (h, -h)
        up, down = objective.loss_at(side)
        slope = float((up - down) / (2 * h))
    names = [*(f"w[{n}]" for n in objective.feature_names), "b"]
    standardized = not objective.scaling.is_identity and i < width - 1
    at_loss = float(objective.loss_at(theta[None, :])[0])
    nxt = None
    if theta_next is not None:
        moved = theta.copy()
        moved[i] = theta_next[i]
        nxt = [float(moved[i]), float(objective.loss_at(moved[None, :])[0])]
    return {
        "x": t.tolist(),
        "y": loss.tolist(),
        "at": [float(theta[i]), at_loss],
        "slope": slope,
        "next": nxt,
        "name": names[i],
        "label": f"{names[i]}, standardized" if standardized else names[i],
        "index": i,
    }
