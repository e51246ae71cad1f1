"""The eigen view: the error of a descent along each eigen-direction of its cost surface.

On least squares the cost is a quadratic bowl ``J(theta) = J* + e^T H e / 2`` in the
error ``e = theta - theta*``; the eigenvectors ``v_i`` of the Hessian ``H`` are the
bowl's axes and its eigenvalues ``lambda_i`` their curvatures. Plain gradient descent
moves each component ``e . v_i`` on its own: it is multiplied by ``1 - lr lambda_i``
at every step. So the largest curvature caps the rate (past ``2 / lambda_max`` that
direction grows), and the smallest one, shrinking by ``1 - lr lambda_min`` only, sets
the number of steps. Heavy-ball momentum (``v <- g + beta v``, ``theta <- theta - lr
v``) moves each direction by the 2 x 2 matrix ``[[1 - lr lambda, -lr beta], [lambda,
beta]]`` on ``(e, v)``: its spectral radius is the direction's factor.

``eigen_view`` takes the engine's own descent (``gradfit.train.run``, full batch) and
projects its errors on the eigenvectors, beside the theory's prediction of the same
numbers, so that the page shows both. No web framework here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradfit.exceptions import DivergenceError, InvalidInputError
from gradfit.model import Objective
from gradfit.train import FitOptions, run

__all__ = ["MAX_STEPS", "RULES", "direction_factors", "eigen_view", "theory_errors"]

# The most steps the view follows.
MAX_STEPS = 2000
# The rules whose factors the view knows: plain descent and heavy-ball momentum.
RULES = ("gd", "momentum")
# The error the words count steps to: this fraction of where it started.
TARGET = 1e-6


def direction_factors(eigenvalues: np.ndarray, lr: float, beta: float | None = None) -> np.ndarray:
    """What one step multiplies the error along each eigen-direction by (in size).

    ``|1 - lr lambda|`` for plain descent; with momentum ``beta``, the spectral radius
    of ``[[1 - lr lambda, -lr beta], [lambda, beta]]``.

    >>> direction_factors(np.array([1.0, 4.0]), 0.25).tolist()
    [0.75, 0.0]
    >>> float(direction_factors(np.array([1.0]), 0.25, beta=0.0)[0])
    0.75
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    if beta is None:
        return np.abs(1.0 - lr * lam)
    out = np.empty_like(lam)
    for i, value in enumerate(lam):
        step = np.array([[1.0 - lr * value, -lr * beta], [value, beta]])
        out[i] = np.abs(np.linalg.eigvals(step)).max()
    return out


def theory_errors(
    start: np.ndarray, eigenvalues: np.ndarray, lr: float, steps: int, beta: float | None = None
) -> np.ndarray:
    """The error along each eigen-direction after ``0 .. steps`` steps, as the theory
    says: ``start_i (1 - lr lambda_i)^k`` (plain), or the 2 x 2 recurrence of momentum
    from ``v = 0``. Shape ``(steps + 1, k)``."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    out = np.empty((steps + 1, lam.size))
    e, v = np.asarray(start, dtype=np.float64).copy(), np.zeros(lam.size)
    out[0] = e
    for k in range(1, steps + 1):
        if beta is None:
            e = e * (1.0 - lr * lam)
        else:
            v = lam * e + beta * v
            e = e - lr * v
        out[k] = e
    return out


def _direction_name(vector: np.ndarray, names: list[str]) -> str:
    """The eigenvector in words: its largest components, e.g. '0.71 w[height] - 0.71 b'."""
    order = np.argsort(-np.abs(vector))
    vector = vector if vector[order[0]] >= 0 else -vector
    terms = []
    for j in order[:3]:
        if abs(vector[j]) < 0.05:
            break
        sign = "-" if vector[j] < 0 else "+"
        terms.append(f"{sign} {abs(vector[j]):.2f} {names[j]}")
    text = " ".join(terms)
    return text[2:] if text.startswith("+ ") else text


def _steps_to(factor: float, fraction: float = TARGET) -> int | None:
    """Steps for a factor per step to shrink an error to ``fraction`` (None: never)."""
    if factor >= 1.0:
        return None
    if factor <= 0.0:
        return 1
    return max(1, math.ceil(math.log(fraction) / math.log(factor)))


def eigen_view(
    objective: Objective,
    options: FitOptions,
    star: np.ndarray,
    steps: int = 200,
) -> dict[str, Any]:
    """The engine's descent and the theory, along each eigen-direction of the Hessian.

    Parameters
    ----------
    objective : Objective
        A least-squares objective on its statistics (the page's data).
    options : FitOptions
        Full batch, ``optimizer`` 'gd' or 'momentum', a constant numeric rate.
    star : ndarray
        The minimiser, descent coordinates.
    steps : int
        How many steps to follow (at most ``MAX_STEPS``).

    Returns
    -------
    dict
        ``eigenvalues`` (ascending), ``directions`` (each in words), ``factors`` (per
        step, in size), ``step`` (0 ..), ``engine`` and ``theory`` (the error along each
        direction at each step, one list per direction), ``diverged`` (the step the
        engine saw it, or None), ``stable_lr`` (``2 / lambda_max``), ``best_lr``,
        ``steps_needed`` (for the slowest direction to reach ``TARGET``; None: never),
        ``slowest``, ``condition`` (``lambda_max / lambda_min`` of the non-zero ones) and
        ``words`` (the story, with these numbers).

    Raises
    ------
    InvalidInputError
        Another rule, a schedule or batches.
    """
    rule = options.rule.name
    if rule not in RULES:
        raise InvalidInputError(
            f"the eigen view follows plain descent and momentum, not {rule}: choose gd or momentum"
        )
    lr = options.lr_value
    if options.batch_size is not None or not isinstance(lr, (int, float)):
        raise InvalidInputError("the eigen view follows full-batch steps at a constant rate")
    if not 1 <= steps <= MAX_STEPS:
        raise InvalidInputError(f"steps must be 1 to {MAX_STEPS}, got {steps}")
    lr = float(lr)
    beta = options.beta_value if rule == "momentum" else None
    lam, vectors = np.linalg.eigh(objective.quadratic().H)
    top = float(lam[-1])
    # eigenvalues at rounding level are zero: directions the data cannot tell apart
    null = lam <= 1e-12 * lam.size * top
    lam = np.where(null, 0.0, lam)
    diverged = None
    try:
        history = run(objective, options.replace(max_steps=steps)).history
    except DivergenceError as err:
        history, diverged = err.history, err.step
    thetas = history.theta
    engine = (thetas - star) @ vectors
    theory = theory_errors(engine[0], lam, lr, len(thetas) - 1, beta)
    factors = direction_factors(lam, lr, beta)
    names = [*(f"w[{n}]" for n in objective.feature_names), "b"]
    live = ~null
    smallest = float(lam[live].min())
    slowest = int(np.flatnonzero(live)[np.argmax(factors[live])])
    needed = _steps_to(float(factors[slowest]))
    best = 2.0 / (smallest + top)
    out = {
        "eigenvalues": lam.tolist(),
        "directions": [_direction_name(vectors[:, i], names) for i in range(lam.size)],
        "null": null.tolist(),
        "factors": factors.tolist(),
        "step": history.step.tolist(),
        "engine": engine.T.tolist(),
        "theory": theory.T.tolist(),
        "diverged": diverged,
        "stable_lr": 2.0 / top,
        "best_lr": best,
        "steps_needed": needed,
        "slowest": slowest,
        "condition": top / smallest,
        "lr": lr,
        "beta": beta,
    }
    out["words"] = _words(out, null)
    return out


def _words(view: dict[str, Any], null: np.ndarray) -> list[str]:
    """The view's story in sentences, with its numbers."""
    g = lambda v: f"{v:.4g}"  # noqa: E731
    lam, factors = view["eigenvalues"], view["factors"]
    top, live = lam[-1], [v for v, z in zip(lam, null, strict=True) if not z]
    low = min(live)
    words = [
        f"The cost surface has {len(lam)} eigen-directions. The steepest curves with "
        f"lambda_max = {g(top)}: a rate above 2 / lambda_max = {g(view['stable_lr'])} makes "
        "the error along it grow at every step, so that direction caps the rate.",
        f"The flattest curves with lambda_min = {g(low)}; the condition number lambda_max / "
        f"lambda_min is {g(view['condition'])}. The best constant rate, "
        f"2 / (lambda_min + lambda_max) = {g(view['best_lr'])}, shrinks both ends by the "
        "same factor.",
    ]
    k = view["slowest"]
    rate = f"rate {g(view['lr'])}" + ("" if view["beta"] is None else f", beta {view['beta']}")
    if view["steps_needed"] is None:
        words.append(
            f"At {rate} the direction {view['directions'][k]} is multiplied by "
            f"{g(factors[k])} per step: it never shrinks. "
            + ("Lower the rate." if factors[-1] >= 1 else "")
        )
    else:
        words.append(
            f"At {rate} the slowest direction, {view['directions'][k]}, shrinks by "
            f"{g(factors[k])} per step: about {view['steps_needed']} steps to shrink its error "
            "a million-fold. That direction sets the number of steps."
        )
    if view["beta"] is not None:
        plain = float(direction_factors(np.array(live), view["lr"]).max())
        floor = math.sqrt(view["beta"])
        slowest = float(max(f for f, z in zip(factors, null, strict=True) if not z))
        if slowest < plain:
            words.append(
                f"Without momentum the slowest direction would shrink by {g(plain)} per step, "
                f"with it by {g(slowest)}: momentum carries the flat directions along, at the "
                "price of overshooting (and spiralling) in the steep ones."
            )
        else:
            words.append(
                f"Without momentum the slowest direction would shrink by {g(plain)} per step, "
                f"faster than with it ({g(slowest)}): momentum's factor is never below "
                f"sqrt(beta) = {g(floor)}, and it pays off only where some directions are "
                "much flatter than others (a large condition number)."
            )
    if any(null):
        words.append(
            "A zero eigenvalue: collinear features. The error along that direction never "
            "shrinks, and it does not matter for the predictions (every point on that line "
            "fits the data equally well)."
        )
    return words
