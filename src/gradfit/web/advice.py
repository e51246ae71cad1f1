"""What the page tells the learner, in its own words (the controls' labels, never Python's).

The engine's messages speak to a Python user (``lr='auto'``, ``standardize=True``); the
page has a learning-rate box, a 'standardize features' checkbox and an 'update rule'
list, and no 'auto' rate. This module says the engine's findings again for the page,
from the engine's own numbers (``DivergenceError``'s attributes, the objective's
``Curvature``), never by rewording its sentences:

- ``divergence_message``: why the descent diverged, and what to change;
- ``outlook``: whether more steps at these settings reach the minimum, how many they
  need, and what would need fewer (what RUN says when it stops short);
- ``success_view``: the congratulation, and the challenge only when one is left.
"""

from __future__ import annotations

import math
import weakref
from typing import Any

from gradfit.data.batching import resolve_batch_size
from gradfit.exceptions import DivergenceError
from gradfit.model import Objective
from gradfit.train import FitOptions
from gradfit.web.yardstick import SUCCESS_TOL

__all__ = ["HOPELESS_STEPS", "divergence_message", "outlook", "plural", "success_view"]

# More steps than this at the learning rate chosen: the page says so at once instead of
# running (RUN takes about 60 steps a second: a million is four and a half hours).
HOPELESS_STEPS = 1_000_000
# lr * L at or beyond 2 (with rounding): the steepest direction bounces for ever.
EDGE = 2 - 2e-9

STANDARDIZE = "'standardize features'"


def plural(n: int, word: str) -> str:
    """``'1 step'``, ``'2 steps'``.

    >>> plural(1, "step"), plural(31, "step")
    ('1 step', '31 steps')
    """
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _g(v: float) -> str:
    return f"{v:.3g}"


def _about(steps: float) -> str:
    """A number of steps in words: 'about 4.1e+07', 'about 340'."""
    return f"about {steps:.2g}" if math.isfinite(steps) else "more than 1e+16"


def _rows(batch_size: int) -> str:
    return "single rows" if batch_size == 1 else f"batches of {batch_size} rows"


# an objective's badly scaled columns (a pass over its rows), found once per objective
_OFFENDERS: weakref.WeakKeyDictionary[Objective, list[tuple[str, float]]] = (
    weakref.WeakKeyDictionary()
)


def _scales(objective: Objective) -> str:
    """The engine's finding of badly scaled features, with the checkbox that fixes it."""
    offenders = _OFFENDERS.get(objective)
    if offenders is None:
        offenders = _OFFENDERS[objective] = objective.badly_scaled()
    if not offenders:
        return ""
    listed = ", ".join(f"{name} {rms:.3g}" for name, rms in offenders)
    return (
        f" The features' scales differ by orders of magnitude (root-mean-square: {listed}): "
        f"tick {STANDARDIZE} to put them on one scale, which allows far larger steps and "
        "needs far fewer of them."
    )


def _gd_steps(objective: Objective, options: FitOptions, lr: float, shrink: float) -> float | None:
    """Steps plain full-batch descent at ``lr`` needs to shrink the excess loss by
    ``shrink`` (inf: never; None: no estimate for these settings)."""
    full = resolve_batch_size(options.batch_size, objective.n_rows) >= objective.n_rows
    if not (full and options.rule.name == "gd" and objective.smooth and objective.quadratic_loss):
        return None
    # the distance to the minimum shrinks by rho a step at worst, the excess loss by rho^2
    return objective.curvature.steps_to_tolerance(lr, math.sqrt(max(shrink, 1e-300)))


def divergence_message(
    err: DivergenceError,
    objective: Objective,
    options: FitOptions,
    seen_loss: float,
    start_loss: float,
) -> str:
    """Why the descent diverged and what to change, in the page's words.

    ``seen_loss`` is the full-data loss at the step where divergence was seen,
    ``start_loss`` the loss at the start.
    """
    batch_size = resolve_batch_size(options.batch_size, objective.n_rows)
    full = batch_size >= objective.n_rows
    rule = options.rule
    what = "became non-finite" if not math.isfinite(seen_loss) else f"grew to {_g(seen_loss)}"
    message = (
        f"Gradient descent diverged at step {err.step}: the loss {what} from "
        f"{_g(start_loss)} with the learning rate {_g(err.lr)}."
    )
    stable = err.stable_lr
    if stable is not None:
        L = objective.batch_lipschitz(batch_size)
        which = f" for the update rule {rule.name!r} with beta = {options.beta_value}"
        which = which if rule.uses_beta else ""
        if full:
            message += (
                f" The largest stable learning rate for this data is {_g(stable)}{which} "
                f"(L = {_g(L)})."
            )
        else:
            message += (
                f" For {_rows(batch_size)}, learning rates below about {_g(stable)}{which} "
                f"are usually stable (from L_b = {_g(L)}: a guide for stochastic steps, "
                "not a bound)."
            )
    scales = _scales(objective)
    suggested = err.suggested_lr
    if suggested is not None and math.isfinite(suggested):
        needed = _gd_steps(objective, options, suggested, SUCCESS_TOL)
        cost = ""
        if needed is not None and needed > HOPELESS_STEPS:
            cost = f" (plain descent would then need {_about(needed)} steps to reach the minimum)"
        if scales:
            message += f" Keeping the features as they are, try the learning rate {_g(suggested)}"
            message += cost + "." + scales
        else:
            message += f" Try the learning rate {_g(suggested)}{cost}."
    else:
        message += scales
    return message


def outlook(
    objective: Objective,
    options: FitOptions,
    loss: float,
    best_loss: float,
    allowed_excess: float,
) -> dict[str, Any]:
    """Whether more steps at these settings reach the minimum, and what would need fewer.

    Returns
    -------
    dict
        ``message`` (one paragraph), ``hopeless`` (True: more steps here will not
        reach the minimum, or need more than ``HOPELESS_STEPS``) and ``steps`` (the
        steps still needed by the theory of plain full-batch descent, None when it has
        no estimate for these settings, or inf).
    """
    lr = options.lr_value
    assert isinstance(lr, float)  # the page sends a number
    batch_size = resolve_batch_size(options.batch_size, objective.n_rows)
    full = batch_size >= objective.n_rows
    rule = options.rule
    excess = max(loss - best_loss, 0.0)
    where = f"The loss is {loss:.6g}; the minimum is {best_loss:.6g}."
    scales = _scales(objective)
    out: dict[str, Any] = {"message": where + scales, "hopeless": False, "steps": None}
    if not full and not rule.control_variate:
        out["message"] = (
            f"{where} Steps on {_rows(batch_size)} hover around the minimum at a noise floor "
            "set by the learning rate: they rarely come within reach of it. Choose the "
            "mode 'full batch', the update rule 'svrg', or a smaller learning rate." + scales
        )
        return out
    needed = _gd_steps(objective, options, lr, allowed_excess / excess if excess else 1.0)
    if needed is None:
        return out
    c = objective.curvature
    best = f"the best constant rate here is {_g(c.best_lr)}"
    if lr * c.lipschitz >= EDGE:
        at = "=" if lr * c.lipschitz <= 2 + 2e-9 else ">"
        out.update(
            hopeless=True,
            steps=math.inf,
            message=(
                f"{where} At the learning rate {_g(lr)} {at} 2/L (L = {_g(c.lipschitz)}) "
                "every step overshoots the minimum along the steepest direction by as "
                "much as it was short: the line bounces for ever and no number of steps "
                f"reaches the minimum. Choose a learning rate below 2/L = "
                f"{_g(c.max_stable_lr)}; {best}." + scales
            ),
        )
        return out
    out["steps"] = needed
    rho = c.contraction(lr)
    assert rho is not None  # the curvature's smallest eigenvalue is known (needed is)
    why = (
        f"At the learning rate {_g(lr)} plain descent needs {_about(needed)} more steps "
        f"to reach the minimum: each step takes only {1 - rho:.2g} of the way along the "
        "slowest direction"
    )
    kappa = c.effective_condition_number
    if kappa is not None and kappa > 10:
        why += f" (condition number {kappa:.3g})"
    fixes = []
    at_best = c.steps_to_tolerance(c.best_lr, math.sqrt(allowed_excess / max(excess, 1e-300)))
    if lr < 0.5 * c.best_lr and at_best is not None and at_best <= HOPELESS_STEPS:
        many = "step" if at_best == 1 else "steps"
        fixes.append(f"Raise the learning rate: {best} ({_about(at_best)} {many}).")
    if scales:
        fixes.append(scales.strip())
    elif kappa is not None and kappa > 1e3:
        fixes.append(
            "The update rule 'nesterov' needs about the square root of the condition "
            "number in steps, plain descent about the condition number itself."
        )
    out["hopeless"] = needed > HOPELESS_STEPS
    out["message"] = " ".join([where, why + ".", *fixes])
    return out


def success_view(
    steps: int,
    fewest: dict[str, Any] | None,
    answer: str = "the least-squares minimum",
    soft_threshold: bool = False,
) -> dict[str, Any]:
    """The congratulation, and the challenge that follows it when one is left.

    ``fewest`` is ``yardstick.fewest_steps``'s answer (None: not searched); ``answer``
    names the minimum reached (``RegularizedObjective.answer`` with a penalty or
    Huber's loss); ``soft_threshold``: plain descent ends each step with the L1 soft
    threshold (a lasso or an elastic net).

    Returns
    -------
    dict
        ``steps``, ``message``, ``fewest_message`` and ``show_me`` (the rate that
        needs the fewest steps, offered only when it needs fewer than ``steps``).

    Examples
    --------
    >>> view = success_view(1, {"steps": 1, "lr": 0.5, "max_stable_lr": 1.0})
    >>> print(view["message"])
    You reached the least-squares minimum in 1 step: no constant learning rate of plain
    full-batch gradient descent does it in fewer.
    >>> view["show_me"] is None
    True
    """
    reached = f"You reached {answer} in {plural(steps, 'step')}"
    out: dict[str, Any] = {"steps": steps, "fewest_message": "", "show_me": None}
    plain = "plain full-batch gradient descent"
    if soft_threshold:
        plain += " (each step ending with the L1 soft threshold)"
    if fewest is None:
        out["message"] = f"{reached}. Can you do it in fewer steps?"
        return out
    least = fewest.get("steps")
    if least is None:
        out["message"] = f"{reached}."
        out["fewest_message"] = (
            f"No constant learning rate of {plain} reaches it within "
            f"{fewest.get('searched', 5000)} steps."
        )
        return out
    at = f"{plural(least, 'step')}, at the learning rate {fewest['lr']:.6g}"
    if steps < least:
        out["message"] = f"{reached}: fewer than {plain} needs at any constant rate ({at})."
    elif steps == least:
        out["message"] = f"{reached}: no constant learning rate of {plain} does it in fewer."
    else:
        out["message"] = f"{reached}. Can you do it in fewer steps?"
        out["fewest_message"] = (
            f"The fewest steps any constant learning rate of {plain} needs on this data: "
            f"{at} (stable below 2/L = {fewest['max_stable_lr']:.6g})."
        )
        out["show_me"] = float(fewest["lr"])
    return out
