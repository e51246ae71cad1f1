"""The lessons' numbers: article A's path on the learner's data, one screen at a time.

Each function answers one screen of ``/lessons`` with the engine's numbers: the cost of
a guessed line (``Objective.loss_at``), its derivative with the rows' own numbers (and
the engine's gradient beside it), one step of the update rule, the learning-rate
challenge (a run of the engine, and the fewest steps any constant rate needs), raw and
standardized bowls side by side, and a penalty's path. The comparisons of modes and of
update rules are races (``gradfit.web.race``). The lessons' line has one feature: the
data set's first (article A's height for Davis).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from gradfit.data.source import ArraySource
from gradfit.exceptions import DivergenceError, InvalidInputError
from gradfit.model import Objective
from gradfit.surface import surface_grid
from gradfit.train import FitOptions, run
from gradfit.train.fit import objective_for
from gradfit.train.path import regularization_path
from gradfit.web.datasets import DataChoice, load_data
from gradfit.web.uploads import Upload
from gradfit.web.views import SURFACE_POINTS, data_view, parabola_view
from gradfit.web.yardstick import SEARCH_MAX_STEPS, SUCCESS_TOL, Yardstick, fewest_steps

__all__ = [
    "LessonData",
    "challenge",
    "derivative",
    "guess",
    "one_step",
    "penalty_path",
    "standardize_bowls",
]

# Rows written out in the derivative's sums.
ROWS_SHOWN = 5


class LessonData:
    """One feature and the target of the chosen data, with the objectives the lessons use.

    ``raw``: least squares in the data's own units (``theta = [m, b]``: the line the
    learner draws); ``standardized``: the same in standardized coordinates (the
    playground's default).
    """

    def __init__(self, choice: DataChoice, uploads: Mapping[str, Upload]) -> None:
        loaded = load_data(choice, uploads).dataset
        self.feature = loaded.feature_names[0]
        self.target = loaded.target_name
        self.x = np.asarray(loaded.X[:, 0], dtype=np.float64)
        self.y = np.asarray(loaded.y, dtype=np.float64)
        self.source = ArraySource(
            self.x[:, None], self.y, feature_names=[self.feature], target_name=self.target
        )
        self.raw = objective_for(self.source, self.options(standardize=False))
        self.standardized = objective_for(self.source, self.options(standardize=True))
        self.yardsticks = {"raw": Yardstick.of(self.raw), "std": Yardstick.of(self.standardized)}

    @staticmethod
    def options(standardize: bool, **more: Any) -> FitOptions:
        """Plain full-batch descent, run as far as asked (the playground's limits)."""
        return FitOptions(
            optimizer="gd",
            standardize=standardize,
            tol=0.0,
            gtol=1e-12,
            max_iter=10**9,
            history_stride=1,
            **more,
        )

    def best(self) -> dict[str, float]:
        m, b = self.yardsticks["raw"].star
        return {"m": float(m), "b": float(b), "mse": self.yardsticks["raw"].best_loss}


def _finite(m: float, b: float) -> np.ndarray:
    theta = np.array([m, b], dtype=np.float64)
    if not np.all(np.isfinite(theta)):
        raise InvalidInputError("the line's slope and intercept must be numbers")
    return theta


def guess(data: LessonData, m: float, b: float) -> dict[str, Any]:
    """The mean squared error of the line ``y = m x + b``, the line on the data, and the
    cost over ``(m, b)`` around the start, the minimum and the guess (a frame that stays
    put while the guess moves inside it)."""
    theta = _finite(m, b)
    star = data.yardsticks["raw"].star
    frame = np.array([np.zeros(2), star, 2 * star, theta])
    M, B, cost = surface_grid(data.raw, frame, star, 0, 1, n=SURFACE_POINTS)
    return {
        "mse": float(data.raw.loss_at(theta[None, :])[0]),
        "best": data.best(),
        "view": data_view(data.x[:, None], data.y, theta),
        "surface": {"x": M[0].tolist(), "y": B[:, 0].tolist(), "z": cost.tolist()},
        "feature": data.feature,
        "target": data.target,
    }


def derivative(data: LessonData, m: float, b: float) -> dict[str, Any]:
    """Article A's derivative at ``(m, b)`` with the rows' own numbers.

    ``J = (1/N) sum (y_i - (m x_i + b))^2``; the power rule and the chain rule give
    ``dJ/dm = -(2/N) sum x_i (y_i - (m x_i + b))`` and ``dJ/db = -(2/N) sum (y_i - (m
    x_i + b))``. The first rows' terms, the sums, and the engine's gradient beside them.
    """
    theta = _finite(m, b)
    residual = data.y - (m * data.x + b)
    n = len(data.y)
    rows = [
        {"x": float(x), "y": float(y), "residual": float(r), "x_residual": float(x * r)}
        for x, y, r in zip(
            data.x[:ROWS_SHOWN], data.y[:ROWS_SHOWN], residual[:ROWS_SHOWN], strict=True
        )
    ]
    loss, grad = data.raw.value_and_grad(theta)
    return {
        "n": n,
        "rows": rows,
        "sum_x_residual": float(np.sum(data.x * residual)),
        "sum_residual": float(np.sum(residual)),
        "dJ_dm": float(-2.0 / n * np.sum(data.x * residual)),
        "dJ_db": float(-2.0 / n * np.sum(residual)),
        "engine": {"loss": float(loss), "dJ_dm": float(grad[0]), "dJ_db": float(grad[1])},
        "feature": data.feature,
        "target": data.target,
    }


def one_step(data: LessonData, m: float, b: float, lr: float) -> dict[str, Any]:
    """One step of plain gradient descent from ``(m, b)`` at rate ``lr``: the engine's
    gradient and update ``theta - lr g``, the cost before and after, and the parabola
    ``J(m)`` (``b`` held) with the step drawn on it."""
    theta = _finite(m, b)
    if not (np.isfinite(lr) and lr > 0):
        raise InvalidInputError("the learning rate must be a number above 0")
    before, grad = data.raw.value_and_grad(theta)
    after_theta = theta - lr * grad
    after = float(data.raw.loss_at(after_theta[None, :])[0])
    star = data.yardsticks["raw"].star
    return {
        "before": {"m": m, "b": b, "mse": float(before)},
        "after": {"m": float(after_theta[0]), "b": float(after_theta[1]), "mse": after},
        "gradient": [float(grad[0]), float(grad[1])],
        "parabola": parabola_view(data.raw, theta, star, 0, after_theta),
        "view": data_view(data.x[:, None], data.y, after_theta),
        "stable_lr": data.raw.curvature.max_stable_lr,
        "feature": data.feature,
        "target": data.target,
    }


def _steps_to_minimum(objective: Objective, yardstick: Yardstick, lr: float) -> dict[str, Any]:
    """Plain full-batch descent at ``lr`` from 0 by the engine: the first step that reaches
    the minimum (the playground's criterion), or where it diverged, or neither."""
    options = LessonData.options(standardize=not objective.scaling.is_identity, lr=lr)
    try:
        history = run(objective, options.replace(max_steps=SEARCH_MAX_STEPS)).history
    except DivergenceError as err:
        return {"steps": None, "diverged": err.step, "lr": lr}
    return {"steps": yardstick.first_success(objective, history), "diverged": None, "lr": lr}


def challenge(data: LessonData, lr: float, show_answer: bool = False) -> dict[str, Any]:
    """The learning-rate challenge on standardized data: the steps the chosen rate needs
    (within ``SEARCH_MAX_STEPS``), and on request the fewest any constant rate needs."""
    if not (np.isfinite(lr) and lr > 0):
        raise InvalidInputError("the learning rate must be a number above 0")
    out = _steps_to_minimum(data.standardized, data.yardsticks["std"], lr)
    out["searched"] = SEARCH_MAX_STEPS
    out["stable_lr"] = data.standardized.curvature.max_stable_lr
    if show_answer:
        out["answer"] = fewest_steps(data.standardized, data.yardsticks["std"])
    return out


def _bowl(objective: Objective, yardstick: Yardstick) -> dict[str, Any]:
    """A bowl's contours with the best constant rate's path, and the steps it needs."""
    best = fewest_steps(objective, yardstick)
    lr = best["lr"]
    options = LessonData.options(standardize=not objective.scaling.is_identity, lr=lr)
    history = run(objective, options.replace(max_steps=min(best["steps"] or 200, 200))).history
    star = yardstick.star
    square = not objective.scaling.is_identity
    # the theory's count at that rate: the error shrunk as the yardstick's loss asks
    c = objective.curvature
    predicted = c.steps_to_tolerance(lr, float(np.sqrt(SUCCESS_TOL)))
    A, C, J = surface_grid(objective, history.theta, star, 0, 1, n=SURFACE_POINTS, square=square)
    return {
        "x": A[0].tolist(),
        "y": C[:, 0].tolist(),
        "z": J.tolist(),
        "star": star.tolist(),
        "path": history.theta.tolist(),
        "lr": lr,
        "steps": best["steps"],
        "theory_steps": None if predicted is None or not np.isfinite(predicted) else int(predicted),
        "searched": best["searched"],
        "condition_number": best["condition_number"],
        "equal_axes": square,
    }


def standardize_bowls(data: LessonData) -> dict[str, Any]:
    """Raw and standardized bowls side by side, each with the fewest steps its best
    constant rate needs (``fewest_steps``) and that rate's path."""
    return {
        "raw": _bowl(data.raw, data.yardsticks["raw"]),
        "std": _bowl(data.standardized, data.yardsticks["std"]),
        "labels": {
            "raw": [f"w[{data.feature}] (m)", "b"],
            "std": [f"w[{data.feature}], standardized", "b"],
        },
    }


def penalty_path(data: LessonData, penalty: str) -> dict[str, Any]:
    """The slope ``m`` of a lasso or ridge fit at strengths from strong to weak."""
    if penalty not in ("l1", "l2"):
        raise InvalidInputError(f"choose the penalty l1 (lasso) or l2 (ridge), not {penalty!r}")
    path = regularization_path(
        data.x[:, None], data.y, penalty=penalty, n_alphas=30, feature_names=[data.feature]
    )
    return {
        "alphas": path.alphas.tolist(),
        "m": path.coef[:, 0].tolist(),
        "b": path.intercept.tolist(),
        "alpha_max": path.alpha_max,
        "least_squares": data.best(),
        "feature": data.feature,
        "target": data.target,
    }
