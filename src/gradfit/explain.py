"""One step of gradient descent written out with the user's own numbers.

``explain(X, y, step=k, **fit_arguments)`` replays the fit and captures step ``k``
from the engine itself (its batch, gradient, optimizer state and update), then
writes the article's derivation with those numbers plugged in: predictions,
errors, ``dJ/dw = (2/N) sum error_i x_i``, ``w1 = w0 - alpha dJ/dw`` and the new loss.
Output as text, Markdown, LaTeX (notebooks show it) and JSON (the playground).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradfit.data.batching import resolve_batch_size, steps_per_epoch
from gradfit.data.source import Batch, in_memory, is_source
from gradfit.data.validation import dense_rows
from gradfit.exceptions import InvalidInputError
from gradfit.model import Objective
from gradfit.optim.registry import UpdateRule, get_rule
from gradfit.train import StepRecord, run
from gradfit.train.fit import objective_for, options_of

__all__ = ["StepExplanation", "explain", "explain_record"]

SHOW_ROWS = 5
SHOW_COLUMNS = 4


class _StepCapturedError(Exception):
    """Raised inside the replay once the step is captured: no need to go on."""


def _num(v: float) -> str:
    return f"{v:.6g}"


def _signed(v: float) -> str:
    return f" - {_num(-v)}" if v < 0 else f" + {_num(v)}"


def _vec(v: np.ndarray, limit: int = SHOW_COLUMNS) -> str:
    items = [_num(x) for x in v[:limit]]
    if v.size > limit:
        items.append(f"... ({v.size - limit} more)")
    return "[" + ", ".join(items) + "]"


@dataclass
class StepExplanation:
    """The numbers of one step, in the coordinates descent ran in.

    ``x`` holds the batch's features (standardized when ``standardized``), ``w``
    and ``b`` the parameters before the step, ``w_next`` and ``b_next`` after it.
    ``terms`` holds the optimizer's extra quantities (momentum's velocity,
    Adam's moments), each a vector over ``[w, b]``.
    """

    step: int
    epoch: int
    rows: list[int] | None
    n_rows: int
    feature_names: list[str]
    target_name: str
    x: np.ndarray
    y: np.ndarray
    predictions: np.ndarray
    errors: np.ndarray
    w: np.ndarray
    b: float
    grad_w: np.ndarray
    grad_b: float
    lr: float
    optimizer: str
    updates: np.ndarray
    w_next: np.ndarray
    b_next: float
    loss: float
    loss_next: float
    full_loss_next: float
    standardized: bool
    original_next: np.ndarray
    normaliser: float  # the N of 2/N: batch rows (times the mean weight when weighted)
    weights: np.ndarray | None = None
    terms: dict[str, np.ndarray] = field(default_factory=dict)
    rule: UpdateRule = field(default_factory=lambda: get_rule("gd"), repr=False)
    fit_intercept: bool = True

    # -- the derivation as (label, formula, value) lines -------------------------------

    @property
    def sum_error_x(self) -> np.ndarray:
        """``sum_i error_i x_i`` (weighted as the loss is)."""
        e = self.errors if self.weights is None else self.errors * self.weights
        return self.x.T @ e

    @property
    def sum_error(self) -> float:
        e = self.errors if self.weights is None else self.errors * self.weights
        return float(e.sum())

    def _one_feature(self) -> bool:
        return self.x.shape[1] == 1

    def _names(self) -> tuple[str, str]:
        return ("m", "b") if self._one_feature() else ("w", "b")

    def _rule_lines(self) -> list[str]:
        """The update rule with its numbers: the state ``explain`` shows for this rule."""
        m, _ = self._names()
        rule = self.rule
        if not rule.terms:
            g = np.append(self.grad_w, self.grad_b)
            if not self.fit_intercept:
                return [f"gradient g = dJ/d{m} = {_vec(self.grad_w)}"]
            return [f"gradient g = [dJ/d{m}, dJ/db] = {_vec(g)}"]
        return [f"{t.label} = {_vec(self.terms[t.key])}" for t in rule.terms]

    def lines(self) -> list[str]:
        """The derivation as plain text lines."""
        coords = "standardized features z" if self.standardized else "features x"
        batch = (
            f"all {self.n_rows} rows (full batch)"
            if self.rows is None
            else f"rows {_vec(np.array(self.rows), 8)} ({self.n_rows} of them)"
        )
        out = [
            f"Step {self.step} (epoch {self.epoch}): {self.optimizer}, learning rate "
            f"alpha = {_num(self.lr)}, batch = {batch}, on {coords}."
        ]
        if not self.fit_intercept:
            if self._one_feature():
                out.append(f"prediction y'_i = m * x_i = {_num(self.w[0])} * x_i (no intercept)")
            else:
                out.append(f"prediction y'_i = w . x_i, w = {_vec(self.w)} (no intercept)")
        elif self._one_feature():
            out.append(f"prediction y'_i = m * x_i + b = {_num(self.w[0])} * x_i{_signed(self.b)}")
        else:
            out.append(f"prediction y'_i = w . x_i + b, w = {_vec(self.w)}, b = {_num(self.b)}")
        out.append("  i | x_i | y_i | y'_i | error_i = y'_i - y_i")
        for i in range(min(SHOW_ROWS, self.n_rows)):
            row = self.rows[i] if self.rows is not None else i
            x = _num(self.x[i, 0]) if self._one_feature() else _vec(self.x[i], 3)
            out.append(
                f"  {row} | {x} | {_num(self.y[i])} | {_num(self.predictions[i])} | "
                f"{_num(self.errors[i])}"
            )
        if self.n_rows > SHOW_ROWS:
            out.append(f"  ... ({self.n_rows - SHOW_ROWS} more rows)")
        n = self.normaliser
        sx = self.sum_error_x
        if self._one_feature():
            out.append(
                f"dJ/dm = (2/N) sum error_i x_i = (2/{_num(n)}) * {_num(sx[0])} = "
                f"{_num(self.grad_w[0])}"
            )
        else:
            out.append(
                f"dJ/dw = (2/N) X^T error = (2/{_num(n)}) * {_vec(sx)} = {_vec(self.grad_w)}"
            )
        if self.fit_intercept:
            out.append(
                f"dJ/db = (2/N) sum error_i = (2/{_num(n)}) * {_num(self.sum_error)} = "
                f"{_num(self.grad_b)}"
            )
        out += self._rule_lines()
        step_w = -self.updates[:-1]
        if self._one_feature():
            out.append(
                f"m1 = m0 - alpha * {self._direction_name('m')} = {_num(self.w[0])} - "
                f"{_num(self.lr)} * {_num(step_w[0] / self.lr)} = {_num(self.w_next[0])}"
            )
        else:
            out.append(
                f"w1 = w0 - alpha * {self._direction_name('w')} = {_vec(self.w)} - {_num(self.lr)} "
                f"* {_vec(step_w / self.lr)} = {_vec(self.w_next)}"
            )
        if self.fit_intercept:
            out.append(
                f"b1 = b0 - alpha * {self._direction_name('b')} = {_num(self.b)} - "
                f"{_num(self.lr)} * {_num(-self.updates[-1] / self.lr)} = {_num(self.b_next)}"
            )
        what = "batch loss" if self.rows is not None else "loss"
        out.append(f"{what} J = {_num(self.loss)} -> {_num(self.loss_next)}")
        if self.rows is not None:
            out.append(f"full-data loss after the step = {_num(self.full_loss_next)}")
        if self.standardized:
            terms = " + ".join(
                f"{_num(w)} * {name}"
                for w, name in zip(self.original_next[:-1], self.feature_names, strict=True)
            )
            b = _signed(self.original_next[-1]) if self.fit_intercept else ""
            out.append(f"in original units: {self.target_name} = {terms}{b}")
        return out

    def _direction_name(self, param: str) -> str:
        return self.rule.direction.format(p=param)

    def to_text(self) -> str:
        return "\n".join(self.lines())

    __str__ = to_text

    def to_markdown(self) -> str:
        lines = self.lines()
        head, table_start = lines[0], 2
        body = [f"**{head}**", "", lines[1], ""]
        table = [ln for ln in lines[table_start:] if ln.startswith("  ")]
        rest = [ln for ln in lines[table_start:] if not ln.startswith("  ")]
        header = table[0].strip().split(" | ")
        body.append("| " + " | ".join(header) + " |")
        body.append("|" + "---|" * len(header))
        for ln in table[1:]:
            cells = ln.strip().split(" | ")
            body.append("| " + " | ".join(cells) + (" |" * (len(cells) == len(header))))
        body.append("")
        body += [f"- `{ln}`" for ln in rest]
        return "\n".join(body)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def to_latex(self) -> str:
        """The derivation as a LaTeX ``aligned`` block (what notebooks render)."""
        n = self.normaliser
        m = "m" if self._one_feature() else r"\mathbf{w}"
        sx = self.sum_error_x

        def lat(v: np.ndarray) -> str:
            return (
                _num(v[0])
                if self._one_feature()
                else r"\begin{bmatrix}"
                + r" \\ ".join(_num(x) for x in v[:SHOW_COLUMNS])
                + (r" \\ \vdots" if v.size > SHOW_COLUMNS else "")
                + r"\end{bmatrix}"
            )

        rows = [
            rf"\frac{{\partial J}}{{\partial {m}}} &= \frac{{2}}{{N}} \sum_i e_i x_i "
            rf"= \frac{{2}}{{{_num(n)}}} \cdot {lat(sx)} = {lat(self.grad_w)}",
            rf"\frac{{\partial J}}{{\partial b}} &= \frac{{2}}{{N}} \sum_i e_i "
            rf"= \frac{{2}}{{{_num(n)}}} \cdot {_num(self.sum_error)} = {_num(self.grad_b)}",
            rf"{m}_1 &= {m}_0 - \alpha\, d_{m} = {lat(self.w)} - {_num(self.lr)} \cdot "
            rf"{lat(-self.updates[:-1] / self.lr)} = {lat(self.w_next)}",
            rf"b_1 &= b_0 - \alpha\, d_b = {_num(self.b)} - {_num(self.lr)} \cdot "
            rf"{_num(-self.updates[-1] / self.lr)} = {_num(self.b_next)}",
            rf"J &: {_num(self.loss)} \to {_num(self.loss_next)}",
        ]
        return "$$\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}$$"

    def _repr_latex_(self) -> str:
        return self.to_latex()

    def to_dict(self) -> dict[str, Any]:
        """Every number, JSON-ready (the playground's explain panel)."""
        shown = min(self.n_rows, SHOW_ROWS)
        return {
            "step": self.step,
            "epoch": self.epoch,
            "optimizer": self.optimizer,
            "rows": self.rows,
            "n_rows": self.n_rows,
            "feature_names": self.feature_names,
            "standardized": self.standardized,
            "lr": self.lr,
            "w": self.w.tolist(),
            "b": self.b,
            "x_head": self.x[:shown].tolist(),
            "y_head": self.y[:shown].tolist(),
            "predictions_head": self.predictions[:shown].tolist(),
            "errors_head": self.errors[:shown].tolist(),
            "sum_error_x": self.sum_error_x.tolist(),
            "sum_error": self.sum_error,
            "grad_w": self.grad_w.tolist(),
            "grad_b": self.grad_b,
            "updates": self.updates.tolist(),
            "w_next": self.w_next.tolist(),
            "b_next": self.b_next,
            "loss": self.loss,
            "loss_next": self.loss_next,
            "full_loss_next": self.full_loss_next,
            "original_next": self.original_next.tolist(),
            "terms": {k: v.tolist() for k, v in self.terms.items()},
            "text": self.lines(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


def explain(
    X: Any,
    y: Any = None,
    *,
    step: int = 0,
    feature_names: list[str] | None = None,
    target_name: str = "y",
    **fit_args: Any,
) -> StepExplanation:
    """Explain step ``step`` (0 is the first update) of ``fit(X, y, **fit_args)``.

    The fit is replayed with the same arguments (a seed makes mini-batches
    reproducible) and the step's numbers are taken from the engine as it runs.

    >>> from gradfit import load_dataset
    >>> d = load_dataset("davis")
    >>> e = explain(d.X, d.y, step=0, lr=0.01, standardize=True, feature_names=["height"],
    ...             target_name="weight")
    >>> bool(e.grad_b == -2 * d.y.mean())  # at w = 0, b = 0 every error is -y_i
    True
    >>> print(e.lines()[-1])
    in original units: weight = 0.00476812 * height + 0.505325
    """
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
        raise InvalidInputError(f"step must be a whole number >= 0, got {step!r}")
    sample_weight = fit_args.pop("sample_weight", None)
    w0, b0 = fit_args.pop("w0", None), fit_args.pop("b0", 0.0)
    if "optimizer" not in fit_args and "lr" not in fit_args:
        fit_args["lr"] = "auto"  # explain's default: plain gradient descent at the best rate
    options = options_of(fit_args, "explain")
    if options.rule.line_search:
        raise InvalidInputError(
            f"explain writes out steps of a learning rate times a direction; "
            f"optimizer={options.rule.name!r} picks each step by a line search: explain "
            "optimizer='gd' (its default), 'momentum', 'nesterov', 'adam' or 'svrg'"
        )
    if options.rule.name == "custom":
        raise InvalidInputError(
            "explain writes out the formulas of the rules it knows; a chain of transforms "
            "has none to show: register it as an UpdateRule, or explain a named rule"
        )
    source = in_memory(X, y, sample_weight=sample_weight, feature_names=feature_names)
    objective = objective_for(source, options)
    captured: list[StepRecord] = []

    def capture(record: StepRecord) -> None:
        if record.step == step:
            captured.append(record)
            raise _StepCapturedError

    if "max_iter" not in fit_args:
        batch_size = resolve_batch_size(options.batch_size, objective.n_rows)
        options = options.replace(
            max_iter=step // steps_per_epoch(objective.n_rows, batch_size) + 1
        )
    try:
        result = run(objective, options, w0=w0, b0=b0, on_step=capture)
    except _StepCapturedError:
        pass
    else:
        more = (
            "a smaller lr, or tol=0, to watch more steps"
            if result.converged
            else "a larger max_iter"
        )
        raise InvalidInputError(
            f"this fit stopped after {result.n_steps} step{'s' * (result.n_steps != 1)} "
            f"({result.stop}): steps count from 0, so choose a step below "
            f"{result.n_steps}, or {more}"
        )
    target = source.target_name if is_source(X) else target_name
    return explain_record(objective, captured[0], options.rule, target)


def explain_record(
    objective: Objective, r: StepRecord, rule: UpdateRule, target_name: str = "y"
) -> StepExplanation:
    """The explanation of a step the engine reported through ``run(on_step=...)``."""
    rows = r.rows
    assert not isinstance(rows, Batch)  # explain holds its rows in memory (``in_memory``)
    batch = objective.source.rows(rows)
    xb = objective.scaling.apply(dense_rows(batch.X, 0, batch.X.shape[0]))
    yb, weights = batch.y, batch.weight
    predictions = xb @ r.theta[:-1] + r.theta[-1]
    direction = -r.updates / r.lr
    terms = {t.key: t.value(r.state_after, direction) for t in rule.terms}
    return StepExplanation(
        step=r.step,
        epoch=r.epoch,
        rows=None if rows is None else [int(i) for i in rows],
        n_rows=int(xb.shape[0]),
        feature_names=objective.feature_names,
        target_name=target_name,
        x=xb,
        y=yb,
        predictions=predictions,
        errors=predictions - yb,
        w=r.theta[:-1].copy(),
        b=float(r.theta[-1]),
        grad_w=r.grad[:-1].copy(),
        grad_b=float(r.grad[-1]),
        lr=float(r.lr),
        optimizer=rule.name,
        rule=rule,
        fit_intercept=objective.fit_intercept,
        updates=r.updates,
        w_next=r.theta_next[:-1].copy(),
        b_next=float(r.theta_next[-1]),
        loss=float(r.loss),
        loss_next=float(objective.row_loss(r.theta_next, rows)),
        full_loss_next=float(objective.row_loss(r.theta_next)),
        standardized=not objective.scaling.is_identity,
        original_next=objective.scaling.to_original(r.theta_next),
        normaliser=xb.shape[0] * objective.rows.mean_weight,
        weights=weights,
        terms=terms,
    )
