"""The race: up to four settings descending on the same data, side by side.

Each lane is a playground ``Settings`` (rate, mode, rule, standardization): the engine
runs it from ``w = 0, b = 0`` (``gradfit.train.run``, the playground's own options) for
up to a step budget. A lane reaches the minimum at the first checked step whose
full-data loss is within the playground's ``Yardstick`` of least squares. Lanes with
and without standardization descend in different coordinates: their paths are drawn in
the original units ``[w, b]``, over the contours of the least-squares cost in those
units, so that all of them share one picture.

Beside each lane, what the theory predicts: on a quadratic, full-batch plain descent
shrinks the error along each eigen-direction by ``|1 - lr lambda|`` per step and
heavy-ball momentum by the spectral radius of its 2 x 2 step (``gradfit.web.eigen``),
so the slowest direction bounds the steps; the loss's excess over the minimum shrinks
by the square. Mini-batches, single rows, Nesterov's look-ahead and Adam's per-
coordinate rates have no such closed count, and the table says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gradfit.data.source import ArraySource
from gradfit.exceptions import DivergenceError
from gradfit.model import Objective
from gradfit.surface import surface_grid
from gradfit.train import run
from gradfit.train.fit import objective_for
from gradfit.web.advice import divergence_message
from gradfit.web.datasets import DataChoice, load_data
from gradfit.web.eigen import direction_factors
from gradfit.web.settings import MODE_NAMES, Settings
from gradfit.web.uploads import Upload
from gradfit.web.views import SURFACE_POINTS, history_points
from gradfit.web.yardstick import SUCCESS_TOL, Yardstick, checkpoint

__all__ = ["MAX_LANES", "MAX_STEPS", "race", "theory_steps"]

MAX_LANES = 4
MAX_STEPS = 5000
# Points of a lane's path sent to the page at most (evenly spaced, the last one kept).
MAX_PATH_POINTS = 1500


def theory_steps(objective: Objective, settings: Settings) -> tuple[int | None, str]:
    """The steps the theory predicts to the minimum, and how it says so in words.

    The yardstick's criterion is on the loss's excess (``SUCCESS_TOL`` of where it
    started): the error must shrink by ``sqrt(SUCCESS_TOL)``. Returns ``(None, why)``
    when the theory gives no count (or says the lane never gets there).
    """
    options = settings.options
    rule = options.rule.name
    if options.batch_size is not None:
        return None, (
            "no step count: a batch's gradient is a noisy estimate of the full one, so the "
            "theory bounds the expected loss, not the steps"
        )
    if rule not in ("gd", "momentum") or not isinstance(options.lr_value, (int, float)):
        return None, (
            "no step count: Adam scales each coordinate by its own history"
            if rule == "adam"
            else f"no step count for {rule} in this simple theory"
        )
    lam = np.linalg.eigvalsh(objective.quadratic().H)
    lam = lam[lam > 1e-12 * lam.size * lam[-1]]
    lr = float(options.lr_value)
    beta = options.beta_value if rule == "momentum" else None
    rho = float(direction_factors(lam, lr, beta).max())
    limit = f"2/L = {2 / lam[-1]:.4g}"
    if rho >= 1.0:
        return None, f"never: the steepest direction grows (rate above the stable limit {limit})"
    if rho < 1e-12:  # 0 but for rounding: the best rate on a round bowl
        return 1, f"1 step: every direction's error vanishes in one (stable limit {limit})"
    steps = max(1, math.ceil(math.log(math.sqrt(SUCCESS_TOL)) / math.log(rho)))
    # a factor next to 1 in the digits that matter: 1 - 2e-08, not 1
    shown = f"{rho:.4g}" if rho < 0.999 else f"1 - {1 - rho:.3g}"
    return steps, (
        f"at most about {steps:,} {'step' if steps == 1 else 'steps'}: the slowest direction "
        f"shrinks by {shown} per step (stable limit {limit})"
    )


def _every_point(thetas: np.ndarray, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = np.unique(np.linspace(0, len(steps) - 1, min(len(steps), MAX_PATH_POINTS)).astype(int))
    return thetas[keep], steps[keep]


def _lane(objective: Objective, settings: Settings, max_steps: int) -> dict[str, Any]:
    """One lane run by the engine: its path in original units, losses and verdict."""
    yardstick = Yardstick.of(objective)
    options = settings.options
    size = objective.n_rows if options.batch_size is None else options.batch_size
    every = checkpoint(objective.n_rows, size)
    diverged, message = None, ""
    try:
        history = run(objective, options.replace(max_steps=max_steps)).history
    except DivergenceError as err:
        history, diverged = err.history, err.step
        loss = float(history.loss[-1]) if len(history) else yardstick.start_loss
        message = divergence_message(err, objective, options, loss, yardstick.start_loss)
    reached = yardstick.first_success(objective, history, every)
    points = history_points(objective, history, 0, every)
    thetas, steps = _every_point(history.theta, history.step)
    coef = np.array([objective.scaling.to_original(t) for t in thetas])
    predicted, words = theory_steps(objective, settings)
    return {
        "steps_to_minimum": reached,
        "diverged": diverged,
        "message": message,
        "taken": int(history.step[-1]) + 1 if len(history) else 0,
        "path_step": steps.tolist(),
        "path": coef.tolist(),
        "loss_step": points["step"],
        "excess": [max(v - yardstick.best_loss, 0.0) for v in points["loss"]],
        "theory_steps": predicted,
        "theory": words,
        "every": every,
    }


def describe(settings: Settings) -> str:
    """A lane's settings in the page's words."""
    o = settings.options
    size = o.batch_size
    mode = MODE_NAMES["full" if size is None else "sgd" if size == 1 else "mini"]
    if size not in (None, 1):
        mode += f" of {size}"
    rule = o.rule.name + (f" (beta {o.beta_value})" if o.rule.uses_beta else "")
    scale = "standardized" if o.standardize else "raw features"
    return f"rate {o.lr_value}, {mode}, {rule}, {scale}"


def race(
    data: DataChoice,
    lanes: Sequence[Settings],
    uploads: Mapping[str, Upload],
    max_steps: int = 500,
    coefs: Sequence[int] = (0, -1),
) -> dict[str, Any]:
    """Run every lane on the same rows; the contours of the cost in original units.

    Parameters
    ----------
    data : DataChoice
        The rows, shared by every lane.
    lanes : sequence of Settings
        One to ``MAX_LANES`` lanes (their own data choices are ignored: ``data`` counts).
    uploads : mapping
        The server's uploads.
    max_steps : int
        The step budget of every lane.
    coefs : pair of int
        The coefficients the contours are drawn over (-1: the intercept).

    Returns
    -------
    dict
        ``lanes`` (each: ``label``, the verdict, path, excess losses and the theory),
        ``contours`` (``x``, ``y``, ``z``, ``star``, ``labels``), ``names``.
    """
    loaded = load_data(data, uploads).dataset
    source = ArraySource(
        loaded.X, loaded.y, feature_names=loaded.feature_names, target_name=loaded.target_name
    )
    out = []
    for settings in lanes:
        objective = objective_for(source, settings.options)
        out.append({"label": describe(settings), **_lane(objective, settings, max_steps)})
    # the least-squares cost in original units: every lane's path drawn on it
    plain = objective_for(source, lanes[0].options.replace(standardize=False))
    star = Yardstick.of(plain).star
    width = plain.n_params
    i, j = (c % width for c in coefs)
    # framed on the lanes that did not diverge (one that did leaves the picture)
    kept = [np.array(lane["path"]) for lane in out if lane["diverged"] is None]
    trail = np.vstack([np.zeros(width), *kept])
    A, C, J = surface_grid(plain, trail, star, i, j, n=SURFACE_POINTS)
    names = [*(f"w[{n}]" for n in plain.feature_names), "b"]
    return {
        "lanes": out,
        "names": names,
        "contours": {
            "x": A[0].tolist(),
            "y": C[:, 0].tolist(),
            "z": J.tolist(),
            "star": [float(star[i]), float(star[j])],
            "indices": [i, j],
            "labels": [f"{names[i]} (original units)", f"{names[j]} (original units)"],
        },
        "target": plain.source.target_name,
    }
