"""``StepExplanation`` in LaTeX (what notebooks render) and as a dict (JSON: the
playground's explain panel and ``gradfit explain --format json``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from gradfit.explain import SHOW_COLUMNS, SHOW_ROWS, _num

if TYPE_CHECKING:
    from gradfit.explain import StepExplanation

__all__ = ["as_dict", "latex"]


def latex(expl: StepExplanation) -> str:
    """The derivation as a LaTeX ``aligned`` block (what notebooks render)."""
    n = expl.normaliser
    one = expl._one_feature()
    m = "m" if one else r"\mathbf{w}"
    sx = expl.sum_error_x

    def lat(v: np.ndarray) -> str:
        return (
            _num(v[0])
            if one
            else r"\begin{bmatrix}"
            + r" \\ ".join(_num(x) for x in v[:SHOW_COLUMNS])
            + (r" \\ \vdots" if v.size > SHOW_COLUMNS else "")
            + r"\end{bmatrix}"
        )

    J = expl._loss_name()
    e = "c_i" if expl.huber else "e_i"
    lr = r"\eta" if expl.penalized else r"\alpha"
    parts = expl._parts()
    grad = expl.loss_grad if parts else expl.grad
    rows = []
    if expl.epsilon is not None:
        rows.append(
            rf"c_i &= \operatorname{{clip}}(e_i, -\epsilon, \epsilon),\ \epsilon = "
            rf"{_num(expl.epsilon)}:\ {int(expl.past_epsilon.sum())} \text{{ of }} "
            rf"{expl.n_rows} \text{{ rows past }} \epsilon"
        )
    rows.append(
        rf"\frac{{\partial {J}}}{{\partial {m}}} &= \frac{{2}}{{N}} \sum_i {e} x_i "
        rf"= \frac{{2}}{{{_num(n)}}} \cdot {lat(sx)} = {lat(grad[:-1])}"
    )
    if expl.fit_intercept:
        rows.append(
            rf"\frac{{\partial {J}}}{{\partial b}} &= \frac{{2}}{{N}} \sum_i {e} "
            rf"= \frac{{2}}{{{_num(n)}}} \cdot {_num(expl.sum_error)} = {_num(grad[-1])}"
        )
    if parts and expl.penalized and expl.l2 is not None and expl.l2.any():
        rows.append(
            rf"2\, \ell_2 \odot {m} &= {lat(2 * expl.l2[:-1])} \odot {lat(expl.w)} "
            rf"= {lat(expl.ridge_grad[:-1])}"
        )
    if expl.correction is not None:
        rows.append(rf"g(\tilde\theta) - g_B(\tilde\theta) &= {lat(expl.correction[:-1])}")
    if parts:
        rows.append(rf"g_{m} &= {lat(expl.grad_w)}")
    if expl.fista is not None or (expl.proximal and expl.kinked):
        v = expl.gradient_step
        out = "x" if expl.fista is not None else f"{m}_1"
        rows.append(
            rf"v &= {m}_0 - {lr}\, g_{m} = {lat(expl.w)} - {_num(expl.lr)} \cdot "
            rf"{lat(expl.grad_w)} = {lat(v[:-1])}"
        )
        if expl.kinked:
            rows.append(
                rf"{out} &= \operatorname{{sign}}(v) \max(|v| - {lr} \lambda, 0) = "
                rf"\operatorname{{sign}}(v) \max\left(|v| - {lat(expl.threshold[:-1])}, "
                rf"0\right) = {lat(expl.thresholded[:-1])}"
            )
        if expl.fista is not None:
            f = expl.fista
            if f.restart:
                rows.append(rf"{m}_1 &= x = {lat(expl.w_next)}\ (\text{{restart}})")
            else:
                factor = (f.t - 1.0) / f.t_next
                rows.append(
                    rf"t_{{k+1}} &= \tfrac{{1 + \sqrt{{1 + 4 t_k^2}}}}{{2}} = {_num(f.t_next)}"
                )
                rows.append(
                    rf"{m}_1 &= x + \tfrac{{t_k - 1}}{{t_{{k+1}}}} (x - x_{{k-1}}) = "
                    rf"{lat(f.x[:-1])} + {_num(factor)} \cdot "
                    rf"{lat(f.x[:-1] - f.previous[:-1])} = {lat(expl.w_next)}"
                )
        if expl.fit_intercept:
            rows.append(rf"b_1 &= {_num(expl.b_next)}")
    else:
        rows.append(
            rf"{m}_1 &= {m}_0 - {lr}\, d_{m} = {lat(expl.w)} - {_num(expl.lr)} \cdot "
            rf"{lat(-expl.updates[:-1] / expl.lr)} = {lat(expl.w_next)}"
        )
        if expl.fit_intercept:
            rows.append(
                rf"b_1 &= b_0 - {lr}\, d_b = {_num(expl.b)} - {_num(expl.lr)} \cdot "
                rf"{_num(-expl.updates[-1] / expl.lr)} = {_num(expl.b_next)}"
            )
    rows.append(rf"J &: {_num(expl.loss)} \to {_num(expl.loss_next)}")
    return "$$\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}$$"


def as_dict(expl: StepExplanation) -> dict[str, Any]:
    """Every number, JSON-ready (the playground's explain panel)."""
    shown = min(expl.n_rows, SHOW_ROWS)
    out: dict[str, Any] = {
        "step": expl.step,
        "epoch": expl.epoch,
        "optimizer": expl.optimizer,
        "rows": expl.rows,
        "n_rows": expl.n_rows,
        "feature_names": expl.feature_names,
        "standardized": expl.standardized,
        "lr": expl.lr,
        "w": expl.w.tolist(),
        "b": expl.b,
        "x_head": expl.x[:shown].tolist(),
        "y_head": expl.y[:shown].tolist(),
        "predictions_head": expl.predictions[:shown].tolist(),
        "errors_head": expl.errors[:shown].tolist(),
        "sum_error_x": expl.sum_error_x.tolist(),
        "sum_error": expl.sum_error,
        "grad_w": expl.grad_w.tolist(),
        "grad_b": expl.grad_b,
        "updates": expl.updates.tolist(),
        "w_next": expl.w_next.tolist(),
        "b_next": expl.b_next,
        "loss": expl.loss,
        "loss_next": expl.loss_next,
        "full_loss_next": expl.full_loss_next,
        "original_next": expl.original_next.tolist(),
        "terms": {k: v.tolist() for k, v in expl.terms.items()},
        "penalty": None,
        "huber": None,
        "proximal": None,
        "fista": None,
        "correction": None if expl.correction is None else expl.correction.tolist(),
        "text": expl.lines(),
    }
    if expl.penalized:
        p = expl.penalty
        assert p is not None and expl.l1 is not None and expl.l2 is not None
        out["penalty"] = {
            "name": p.name,
            "alpha": p.alpha,
            "l1_ratio": p.ratio,
            "l1": expl.l1.tolist(),
            "l2": expl.l2.tolist(),
            "loss_grad": expl.loss_grad.tolist(),
            "ridge_grad": expl.ridge_grad.tolist(),
            "value": expl._penalty_values()[0],
        }
    if expl.epsilon is not None:
        past = expl.past_epsilon
        rows = np.flatnonzero(past)
        out["huber"] = {
            "epsilon": expl.epsilon,
            "past_epsilon": int(past.sum()),
            "rows_past_epsilon": [
                int(expl.rows[i]) if expl.rows is not None else int(i) for i in rows
            ],
            "clipped_head": expl.forces[:shown].tolist(),
        }
    if expl.kinked:
        out["proximal"] = {
            "gradient_step": expl.gradient_step.tolist(),
            "threshold": expl.threshold.tolist(),
            "thresholded": expl.thresholded.tolist(),
            "held": [n for n, h in zip(expl.feature_names, expl.held, strict=True) if h],
        }
    if expl.fista is not None:
        f = expl.fista
        out["fista"] = {
            "t": f.t,
            "t_next": f.t_next,
            "x": f.x.tolist(),
            "previous": f.previous.tolist(),
            "restart": f.restart,
            "gradient_step": expl.gradient_step.tolist(),
        }
    return out
