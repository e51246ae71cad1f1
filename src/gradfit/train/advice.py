"""What to tell the user when a descent fails: the diagnosis, with numbers and a fix."""

from __future__ import annotations

import math

import numpy as np

from gradfit.exceptions import DivergenceError
from gradfit.model.objective import Objective
from gradfit.optim.registry import UpdateRule
from gradfit.train.history import History
from gradfit.train.options import FitOptions
from gradfit.train.result import FitResult

__all__ = [
    "auto_rate",
    "divergence_error",
    "rank_note",
    "shortfall",
    "stable_lr",
    "stopped_short",
]


def auto_rate(objective: Objective, rule: UpdateRule, beta: float, batch_size: int | None) -> float:
    """The rate ``lr='auto'`` gives ``rule`` on this data and batch size."""
    size = objective.n_rows if batch_size is None else min(batch_size, objective.n_rows)
    full = size >= objective.n_rows
    L = objective.batch_lipschitz(size)
    return rule.auto_lr(L, objective.curvature.best_lr, beta, full)


def stable_lr(objective: Objective, rule: UpdateRule, beta: float, batch_size: int) -> float | None:
    """Largest stable constant rate of ``rule`` on this data and batch size (None: unknown)."""
    if rule.stable_factor is None:
        return None
    return rule.stable_lr(objective.batch_lipschitz(batch_size), beta)


def divergence_error(
    objective: Objective,
    rule: UpdateRule,
    beta: float,
    batch_size: int,
    *,
    step: int,
    start_loss: float,
    seen_loss: float,
    lr: float,
    history: History,
    auto_used: bool = False,
) -> DivergenceError:
    """Stop at once and say why, with numbers for this data and a fix."""
    stable = stable_lr(objective, rule, beta, batch_size)
    suggested: float | None
    if rule.auto_factor is None:
        # A rate in parameter space: a tenth of it, and no more than a hundredth of the
        # size of the answer (coefficients of 1e-9 need steps of that order).
        suggested = lr / 10 if math.isfinite(lr) else None
        size = _answer_size(objective)
        if suggested is not None and size is not None:
            suggested = min(suggested, 1e-2 * size)
    else:
        # 1/L never overshoots (1/L_b for batches); best_lr sits right at the limit when
        # the conditioning is bad, so it makes a poor suggestion.
        L = objective.batch_lipschitz(batch_size)
        suggested = min(1.0 / L, auto_rate(objective, rule, beta, batch_size))
    full = batch_size >= objective.n_rows
    if suggested is not None and stable is not None and lr <= stable:
        suggested = min(suggested, lr / 10)  # the theory's rate is no help: this one failed
    what = "became non-finite" if not math.isfinite(seen_loss) else f"grew to {seen_loss:.3g}"
    message = (
        f"gradient descent diverged at step {step}: the loss {what} from {start_loss:.3g} "
        f"with lr={lr:.3g}."
    )
    if stable is not None:
        which = f" for {rule.name} with beta={beta}" if rule.uses_beta else ""
        L = objective.batch_lipschitz(batch_size)
        if full:
            message += (
                f" The largest stable learning rate for this data is {stable:.3g}{which} "
                f"(L = {L:.3g})."
            )
        else:
            rows = "single rows" if batch_size == 1 else f"batches of {batch_size} rows"
            message += (
                f" For {rows}, rates below about {stable:.3g}{which} "
                f"are usually stable (from L_b = {L:.3g}: a guide for stochastic steps, "
                "not a bound)."
            )
    if suggested is not None:
        offer_auto = rule.auto_factor is not None and not auto_used
        message += f" Try lr={suggested:.3g}" + (" or lr='auto'." if offer_auto else ".")
    offenders = objective.badly_scaled()
    if offenders:
        message += (
            " The features' scales differ by orders of magnitude (root-mean-square: "
            + ", ".join(f"{name} {rms:.3g}" for name, rms in offenders)
            + "): standardize=True puts them on one scale and allows far larger steps."
        )
    return DivergenceError(
        message,
        step=step,
        lr=lr,
        stable_lr=stable,
        suggested_lr=suggested,
        badly_scaled=[name for name, _ in offenders if name != "the intercept"],
        history=history,
    )


def stopped_short(result: FitResult, options: FitOptions) -> bool:
    """Whether a fit ended short of what its options asked for (a warning's worth).

    Early stopping on the loss (``loss_tol``) is what was asked when ``tol`` and ``gtol``
    are 0; with all three 0 the user asked for a number of steps, not for an answer.
    """
    certify = options.tol > 0 or options.gtol > 0
    gap = result.report.gap
    if certify and options.gtol == 0 and gap is not None and gap <= options.tol:
        return False  # certified to tol, whatever stopped it
    if result.stop.code in ("no_improvement", "rounding_floor"):
        return certify
    return result.stop.code == "max_iter" and (certify or options.loss_tol > 0)


def shortfall(result: FitResult, objective: Objective, options: FitOptions) -> str:
    """Why a fit that stopped short is not least squares, how far it is, and the fix that
    applies to the settings in use."""
    report = result.report
    digits = (
        ""
        if report.digits is None
        else f" (about {report.digits:.0f} significant digits of the predictions)"
    )
    rule = options.rule
    full = options.batch_size is None or options.batch_size >= objective.n_rows
    smooth = objective.smooth
    fixes = []
    if not full and not rule.control_variate and rule.name != "custom":
        fixes.append(
            f"optimizer='svrg' (the default with a batch size; {rule.name} on batches "
            "hovers at a noise floor), or full batch"
        )
    offenders = objective.badly_scaled()
    if offenders or (report.stop.code == "rounding_floor" and objective.scaling.is_identity):
        fixes.append("standardize=True (the features' scales or offsets are far apart)")
    lr = report.lr(0) if report.lr is not None else None
    curvature = objective.cheap_curvature
    auto = None
    if lr is not None and curvature is not None and rule.auto_factor is not None:
        auto = auto_rate(objective, rule, options.beta_value, options.batch_size)
        if lr < 0.5 * auto:
            fixes.append(f"lr='auto' ({auto:.3g} here, {lr:.3g} was used)")
    at_edge = lr is not None and curvature is not None and lr * curvature.lipschitz > 2 - 2e-9
    stable = None if curvature is None else rule.stable_lr(curvature.lipschitz, options.beta_value)
    gd_edge = full and rule.name == "gd" and at_edge
    if full and lr is not None and stable is not None and lr > stable * (1 + 1e-9) and not gd_edge:
        # past the stable rate a bounded gradient (Huber's) oscillates instead of diverging
        fixes.append(
            f"a smaller lr: lr={lr:.3g} is above the largest stable rate {stable:.3g} for "
            f"optimizer={rule.name!r} (L = {curvature.lipschitz:.3g})"  # type: ignore[union-attr]
        )
    elif gd_edge:
        # at (or past) 2/L the steepest direction bounces forever: more steps never help
        auto_used = options.lr_value == "auto"
        better = f"lr='auto' ({auto:.3g})" if auto is not None and not auto_used else "a smaller lr"
        fixes.append(f"{better}: lr={lr:.3g} is at the edge of stability 2/L")
    elif report.stop.code == "no_improvement":
        fixes.append("loss_tol=0 to run until certified, or a smaller loss_tol")
    elif not fixes and full and curvature is not None and report.gap is not None and lr:
        needed = curvature.steps_to_tolerance(lr, max(options.tol, 1e-16) / report.gap)
        if needed is not None and math.isfinite(needed):
            fixes.append(f"max_iter={report.n_steps + int(needed)} (the theory's estimate)")
        if (curvature.effective_condition_number or 0) > 1e4 and rule.name == "gd" and smooth:
            fixes.append(
                f"optimizer='nesterov' (condition number "
                f"{curvature.effective_condition_number:.3g}: momentum needs about its "
                "square root in steps, plain descent about itself)"
            )
    if full and not rule.line_search and rule.name != "custom":
        if smooth and objective.quadratic_loss:
            fixes.insert(
                0,
                "optimizer='cg' with lr left out (the default: conjugate gradients, every "
                f"digit of {objective.answer} in a few steps)",
            )
        elif rule.name != "fista":
            fixes.insert(
                0,
                "optimizer='fista' with lr left out (the default here: accelerated "
                "proximal gradient with restarts)",
            )
    if not fixes:
        fixes.append("a larger max_iter")
    return (
        f"stopped short of {objective.answer}: {report.stop}{digits}. Try "
        + "; or ".join(fixes)
        + "."
    )


def _answer_size(objective: Objective) -> float | None:
    """The size of the least-squares coefficients in descent coordinates, when cheap."""
    if objective.path != "stats":
        return None
    return float(np.abs(objective.solution()).max()) or None


def rank_note(rank: int, objective: Objective) -> str:
    """The warning for a design with many least-squares solutions."""
    k, n = objective.n_coefficients, objective.n_rows
    design = "[X 1]" if objective.fit_intercept else "X"
    why = (
        f"{n} rows for {k} coefficients"
        if n < k
        else "some columns are linear combinations of others, or constant"
    )
    like = (
        "as numpy.linalg.lstsq and scikit-learn's LinearRegression do"
        if objective.answer == "least squares"
        else "as numpy.linalg.lstsq does for least squares"
    )
    return (
        f"the design {design} has rank {rank} of {k} ({why}): {objective.answer} has "
        "many solutions, all with the same predictions; gradfit returns the one with the "
        f"smallest |w|, {like}. Drop redundant columns for unique coefficients."
    )
