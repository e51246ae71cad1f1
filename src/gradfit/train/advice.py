"""What to tell the user when a descent fails: the diagnosis, with numbers and a fix."""

from __future__ import annotations

import math

from gradfit.exceptions import DivergenceError
from gradfit.model.objective import Objective
from gradfit.optim.registry import UpdateRule
from gradfit.train.history import History

__all__ = ["divergence_error", "stable_lr"]


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
) -> DivergenceError:
    """Stop at once and say why, with numbers for this data and a fix."""
    stable = stable_lr(objective, rule, beta, batch_size)
    suggested: float | None
    if rule.auto_factor is None:
        suggested = lr / 10 if math.isfinite(lr) else None
    else:
        # 1/L never overshoots (1/L_b for batches); best_lr sits right at the limit when
        # the conditioning is bad, so it makes a poor suggestion.
        L = objective.batch_lipschitz(batch_size)
        full = batch_size >= objective.n_rows
        auto = rule.auto_lr(L, objective.curvature.best_lr, beta, full)
        suggested = min(1.0 / L, auto)
    what = "became non-finite" if not math.isfinite(seen_loss) else f"grew to {seen_loss:.3g}"
    message = (
        f"gradient descent diverged at step {step}: the loss {what} from {start_loss:.3g} "
        f"with lr={lr:.3g}."
    )
    if stable is not None:
        which = f" for {rule.name} with beta={beta}" if rule.uses_beta else ""
        L = objective.batch_lipschitz(batch_size)
        message += (
            f" The largest stable learning rate for this data is {stable:.3g}{which} (L = {L:.3g})."
        )
    if suggested is not None:
        message += f" Try lr={suggested:.3g}" + (
            " or lr='auto'." if rule.auto_factor is not None else "."
        )
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
