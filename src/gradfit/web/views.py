"""What the page draws, as JSON-ready values: new points, the data chart, the contours.

Pure functions of the engine's values (histories, coefficients, the objective); no
session and no HTTP here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gradfit.exceptions import InvalidInputError
from gradfit.model import Objective
from gradfit.surface import surface_grid
from gradfit.train import History

__all__ = [
    "MAX_ROWS_SHOWN",
    "SURFACE_POINTS",
    "data_view",
    "history_points",
    "success_view",
    "surface_view",
]

# The data chart shows at most this many rows (evenly spaced): enough to see the
# cloud, few enough to send at every step.
MAX_ROWS_SHOWN = 500
# Grid points per side of the contour plot.
SURFACE_POINTS = 60


def history_points(history: History | None, since: int) -> dict[str, list[Any]]:
    """The recorded steps from step ``since`` on: ``step``, ``loss`` and ``theta``."""
    if history is None or not len(history):
        return {"step": [], "loss": [], "theta": []}
    keep = history.step >= since
    return {
        "step": history.step[keep].tolist(),
        "loss": history.loss[keep].tolist(),
        "theta": history.theta[keep].tolist(),
    }


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


def surface_view(
    objective: Objective,
    star: np.ndarray,
    trail: Sequence[Sequence[float]] | np.ndarray,
    coefs: Sequence[int],
) -> dict[str, Any]:
    """J over two coefficients (the others at the optimum ``star``) around ``trail``.

    Parameters
    ----------
    objective : Objective
    star : ndarray of shape (d + 1,)
        The least-squares ``theta``, descent coordinates.
    trail : sequence of k points of d + 1 numbers (k >= 1)
        The path to frame, descent coordinates.
    coefs : pair of int
        Indices into ``[w_0, ..., w_{d-1}, b]``; -1 is the intercept.

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
    if not objective.fit_intercept:
        # A line through the origin holds b at 0; the picture shows the true loss over b
        # too, so that the path is seen to stay on the line b = 0.
        objective = Objective(
            objective.source,
            scaling=objective.scaling,
            path="stats" if objective.path == "stats" else "direct",
        )
        # frame the free optimum too, so that b has a range worth drawing
        trail = np.vstack([np.asarray(trail, dtype=np.float64), objective.solution()])
    A, C, J = surface_grid(
        objective, np.asarray(trail, dtype=np.float64), star, i, j, n=SURFACE_POINTS
    )
    names = [*objective.feature_names, "b"]
    return {
        "x": A[0].tolist(),
        "y": C[:, 0].tolist(),
        "z": J.tolist(),
        "star": [float(star[i]), float(star[j])],
        "labels": [names[i], names[j]],
        "indices": [i, j],
    }


def success_view(steps: int) -> dict[str, Any]:
    """The congratulation, and the challenge that follows it."""
    return {
        "steps": steps,
        "message": (
            f"You reached the least-squares minimum in {steps} steps. Can you do it in fewer steps?"
        ),
    }
