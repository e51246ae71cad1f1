"""One step of gradient descent written out with the user's own numbers.

``explain(X, y, step=k, **fit_arguments)`` replays the fit and captures step ``k``
from the engine itself (its batch, gradient, optimizer state and update), then
writes the article's derivation with those numbers plugged in: predictions,
errors, ``dJ/dw = (2/N) sum error_i x_i``, ``w1 = w0 - alpha dJ/dw`` and the new loss.

Beyond least squares the step shows what changes, with the same numbers:

- Huber's loss: the errors clipped at ``epsilon`` (``clip(error_i, -epsilon, epsilon)``),
  and which rows are past it, their force held at ``2 epsilon``;
- a penalty ``J = L + 2 alpha R(w)``: the loss's gradient ``dL/dw``, the ridge part's
  ``2 l2_j w_j``, and for an L1 part the gradient step ``v = w0 - lr g`` followed by the
  soft threshold ``w1_j = sign(v_j) max(|v_j| - lr lam_j, 0)`` per coefficient, naming
  the coefficients its kink holds at 0 (ISTA, proximal SVRG); FISTA's momentum and
  extrapolation, or its restart. The learning rate is then ``lr``: ``alpha`` is the
  penalty's strength.

Output as text, Markdown, LaTeX (notebooks show it) and JSON (the playground).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from gradfit.data.batching import resolve_batch_size, steps_per_epoch
from gradfit.data.source import Batch, in_memory, is_source
from gradfit.data.validation import dense_rows
from gradfit.exceptions import InvalidInputError
from gradfit.model import Objective
from gradfit.model.penalty import Penalty, soft_threshold
from gradfit.model.regularized import RegularizedObjective
from gradfit.optim.registry import UpdateRule, get_rule
from gradfit.optim.transforms import FistaState
from gradfit.train import StepRecord, run
from gradfit.train.fit import objective_for, options_of

__all__ = ["FistaStep", "StepExplanation", "explain", "explain_record"]

SHOW_ROWS = 5
SHOW_COLUMNS = 4
SHOW_COEFFICIENTS = 8  # soft-threshold lines written out; the rest are counted
SHOW_NAMES = 12  # names listed in a sentence (coefficients held at 0, rows past epsilon)


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


def _listed(items: list[str], limit: int = SHOW_NAMES) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" ... ({len(items) - limit} more)" if len(items) > limit else "")


class FistaStep(NamedTuple):
    """FISTA's own numbers of a step (``optim.transforms.fista``), read from its state.

    Descent stands at the extrapolated point ``y_k`` (the step's ``w``, ``b``);
    ``x = prox(y_k - lr g)`` is the proximal point, ``previous`` the last one.
    """

    t: float  # t_k
    t_next: float  # t_{k+1}: 1 after a restart
    previous: np.ndarray  # x_{k-1}, over [w, b]
    x: np.ndarray  # x_k, over [w, b]
    restart: bool


@dataclass
class StepExplanation:
    """The numbers of one step, in the coordinates descent ran in.

    ``x`` holds the batch's features (standardized when ``standardized``), ``w``
    and ``b`` the parameters before the step, ``w_next`` and ``b_next`` after it.
    ``terms`` holds the optimizer's extra quantities (momentum's velocity,
    Adam's moments), each a vector over ``[w, b]``.

    Beyond least squares: ``penalty`` (None: none) with its per-coordinate weights ``l1``
    (``lam_j``) and ``l2`` over ``[w, b]`` in descent coordinates (0 for ``b``);
    ``epsilon``, Huber's threshold (None: the squared error); ``proximal``, whether the
    step ended with the soft threshold (ISTA, proximal SVRG); ``fista``, FISTA's momentum
    numbers; ``correction``, SVRG's ``g(anchor) - g_B(anchor)`` added to the batch's
    gradient.
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
    penalty: Penalty | None = None
    l1: np.ndarray | None = None
    l2: np.ndarray | None = None
    epsilon: float | None = None
    proximal: bool = False
    fista: FistaStep | None = None
    correction: np.ndarray | None = None

    # -- the numbers beyond least squares ------------------------------------------------

    @property
    def penalized(self) -> bool:
        """A penalty with a strength (``J = L + 2 alpha R(w)``)."""
        return self.penalty is not None and self.penalty.active

    @property
    def huber(self) -> bool:
        return self.epsilon is not None

    @property
    def kinked(self) -> bool:
        """The step ended with the L1 part's soft threshold (ISTA, proximal SVRG, FISTA)."""
        return (
            (self.proximal or self.fista is not None)
            and self.l1 is not None
            and bool(self.l1.any())
        )

    @property
    def theta(self) -> np.ndarray:
        return np.append(self.w, self.b)

    @property
    def grad(self) -> np.ndarray:
        """The engine's gradient ``g`` over ``[w, b]`` (loss, ridge part, SVRG's correction)."""
        return np.append(self.grad_w, self.grad_b)

    @property
    def forces(self) -> np.ndarray:
        """What each row pulls with, halved: its error, clipped at ``epsilon`` for Huber."""
        if self.epsilon is None:
            return self.errors
        return np.clip(self.errors, -self.epsilon, self.epsilon)

    @property
    def past_epsilon(self) -> np.ndarray:
        """Rows of the batch whose error is past Huber's ``epsilon`` (all False without)."""
        if self.epsilon is None:
            return np.zeros(self.n_rows, dtype=bool)
        return np.abs(self.errors) > self.epsilon

    @property
    def loss_grad(self) -> np.ndarray:
        """The loss's gradient over ``[w, b]`` from the rows shown: ``(2/N) [X^T c, sum c]``
        with ``c`` the (clipped) errors."""
        scale = 2.0 / self.normaliser
        b = self.sum_error * scale if self.fit_intercept else 0.0
        return np.append(self.sum_error_x * scale, b)

    @property
    def ridge_grad(self) -> np.ndarray:
        """The ridge part's gradient ``2 l2_j theta_j`` (zeros without one)."""
        if self.l2 is None:
            return np.zeros(self.w.size + 1)
        return 2.0 * self.l2 * self.theta

    @property
    def gradient_step(self) -> np.ndarray:
        """``v = theta - lr g`` over ``[w, b]``: where the gradient step lands, before the
        soft threshold (FISTA: from the extrapolated point)."""
        return self.theta - self.lr * self.grad

    @property
    def threshold(self) -> np.ndarray:
        """``lr * lam_j`` over ``[w, b]``: how far the soft threshold moves each towards 0."""
        if self.l1 is None:
            return np.zeros(self.w.size + 1)
        return self.lr * self.l1

    @property
    def thresholded(self) -> np.ndarray:
        """``sign(v) max(|v| - lr lam, 0)`` over ``[w, b]``: the soft threshold's output."""
        return soft_threshold(self.gradient_step, self.threshold)

    @property
    def held(self) -> np.ndarray:
        """Coefficients the kink holds at 0 this step: ``|v_j| <= lr lam_j``."""
        if not self.kinked:
            return np.zeros(self.w.size, dtype=bool)
        t = self.threshold[:-1]
        return (t > 0) & (np.abs(self.gradient_step[:-1]) <= t)

    def _penalty_values(self) -> tuple[float, float]:
        """The penalty at ``theta`` and at the next ``theta`` (descent coordinates, the
        same number as on ``w`` in original units)."""
        l1, l2 = self.l1, self.l2
        if not self.penalized or l1 is None or l2 is None:
            return 0.0, 0.0
        before, after = self.theta, np.append(self.w_next, self.b_next)
        return (
            float(l1 @ np.abs(before) + l2 @ (before * before)),
            float(l1 @ np.abs(after) + l2 @ (after * after)),
        )

    # -- the derivation as (label, formula, value) lines -------------------------------

    @property
    def sum_error_x(self) -> np.ndarray:
        """``sum_i error_i x_i`` (weighted as the loss is; Huber: the clipped errors)."""
        e = self.forces if self.weights is None else self.forces * self.weights
        return self.x.T @ e

    @property
    def sum_error(self) -> float:
        e = self.forces if self.weights is None else self.forces * self.weights
        return float(e.sum())

    def _one_feature(self) -> bool:
        return self.x.shape[1] == 1

    def _names(self) -> tuple[str, str]:
        return ("m", "b") if self._one_feature() else ("w", "b")

    def _lr_name(self) -> str:
        """The article calls the learning rate alpha; with a penalty alpha is its strength."""
        return "lr" if self.penalized else "alpha"

    def _loss_name(self) -> str:
        """J is the objective; with a penalty its loss part is L."""
        return "L" if self.penalized else "J"

    def _parts(self) -> bool:
        """The gradient has more than the loss's part: a ridge part or SVRG's correction."""
        ridge = self.penalized and self.l2 is not None and bool(self.l2.any())
        return ridge or self.correction is not None

    def _rule_lines(self) -> list[str]:
        """The update rule with its numbers: the state ``explain`` shows for this rule."""
        m, _ = self._names()
        rule = self.rule
        out = []
        if self.penalized or self._parts():
            d = self._loss_name()
            parts = [f"d{d}/d[{m}, b]" if self.fit_intercept else f"d{d}/d{m}"]
            if self.penalized and self.l2 is not None and self.l2.any():
                parts.append(f"2 l2 {m}")
            if self.correction is not None:
                parts.append("SVRG correction")
            g = self.grad if self.fit_intercept else self.grad_w
            out.append(f"gradient g = {' + '.join(parts)} = {_vec(g)}")
        elif not rule.terms:
            if not self.fit_intercept:
                out.append(f"gradient g = dJ/d{m} = {_vec(self.grad_w)}")
            else:
                out.append(f"gradient g = [dJ/d{m}, dJ/db] = {_vec(self.grad)}")
        return out + [f"{t.label} = {_vec(self.terms[t.key])}" for t in rule.terms]

    def _head(self) -> str:
        coords = "standardized features z" if self.standardized else "features x"
        batch = (
            f"all {self.n_rows} rows (full batch)"
            if self.rows is None
            else f"rows {_vec(np.array(self.rows), 8)} ({self.n_rows} of them)"
        )
        how = self.optimizer
        if self.proximal and self.kinked:
            how += " with the soft threshold" + (" (ISTA)" if self.optimizer == "gd" else "")
        return (
            f"Step {self.step} (epoch {self.epoch}): {how}, learning rate "
            f"{self._lr_name()} = {_num(self.lr)}, batch = {batch}, on {coords}."
        )

    def _prediction(self) -> str:
        if not self.fit_intercept:
            if self._one_feature():
                return f"prediction y'_i = m * x_i = {_num(self.w[0])} * x_i (no intercept)"
            return f"prediction y'_i = w . x_i, w = {_vec(self.w)} (no intercept)"
        if self._one_feature():
            return f"prediction y'_i = m * x_i + b = {_num(self.w[0])} * x_i{_signed(self.b)}"
        return f"prediction y'_i = w . x_i + b, w = {_vec(self.w)}, b = {_num(self.b)}"

    def _table(self) -> list[str]:
        """The batch's first rows: a header and one line each (indented by two spaces)."""
        clip = " | clip(error_i, -eps, eps)" if self.huber else ""
        out = [f"  i | x_i | y_i | y'_i | error_i = y'_i - y_i{clip}"]
        forces = self.forces
        for i in range(min(SHOW_ROWS, self.n_rows)):
            row = self.rows[i] if self.rows is not None else i
            x = _num(self.x[i, 0]) if self._one_feature() else _vec(self.x[i], 3)
            extra = f" | {_num(forces[i])}" if self.huber else ""
            out.append(
                f"  {row} | {x} | {_num(self.y[i])} | {_num(self.predictions[i])} | "
                f"{_num(self.errors[i])}{extra}"
            )
        if self.n_rows > SHOW_ROWS:
            out.append(f"  ... ({self.n_rows - SHOW_ROWS} more rows)")
        return out

    def _objective_lines(self) -> list[str]:
        """What is minimised, when it is not least squares, with the penalty's weights."""
        if not (self.penalized or self.huber):
            return []
        loss = (
            f"Huber's loss (epsilon = {_num(self.epsilon)}): error^2 within epsilon, "
            "2 epsilon |error| - epsilon^2 beyond"
            if self.epsilon is not None
            else "the mean squared error"
        )
        if not self.penalized:
            return [f"loss J = {loss}"]
        p = self.penalty
        assert p is not None and self.l1 is not None and self.l2 is not None
        mix = f", l1_ratio = {_num(p.l1_ratio)}" if p.name == "elasticnet" else ""
        terms = [f"{_num(p.l1)} |w|_1"] * bool(p.l1) + [f"{_num(p.l2)} |w|^2"] * bool(p.l2)
        out = [
            f"objective J = L + penalty: L = {loss}; {p.title} (alpha = {_num(p.alpha)}{mix}) "
            f"= {' + '.join(terms)}, on w in original units"
        ]
        coords = "standardized coordinates" if self.standardized else "these coordinates"
        weights = []
        if p.l1:
            weights.append(f"lam_j = 2 alpha l1_ratio / scale_j = {_vec(self.l1[:-1])}")
        if p.l2:
            weights.append(f"l2_j = alpha (1 - l1_ratio) / scale_j^2 = {_vec(self.l2[:-1])}")
        out.append(f"in {coords}: " + "; ".join(weights) + " (the intercept is not penalized)")
        return out

    def _huber_lines(self) -> list[str]:
        if self.epsilon is None:
            return []
        past = self.past_epsilon
        k, eps = int(past.sum()), _num(self.epsilon)
        if k == 0:
            return [
                f"Huber: no row has |error_i| > epsilon = {eps}: every row pulls as in least "
                "squares, with force 2 error_i"
            ]
        index = np.flatnonzero(past)
        names = [str(self.rows[i] if self.rows is not None else i) for i in index]
        return [
            f"Huber: {k} of {self.n_rows} rows have |error_i| > epsilon = {eps} (rows "
            f"{_listed(names)}): their force is clipped to 2 epsilon = "
            f"{_num(2 * self.epsilon)}, however far they are"
        ]

    def _gradient_lines(self) -> list[str]:
        """The loss's gradient from the rows, then the ridge part and SVRG's correction."""
        n, sx, out = self.normaliser, self.sum_error_x, []
        d = self._loss_name()
        # least squares shows the engine's gradient; beyond it the loss's part, recomputed
        # from the rows shown (the engine's whole gradient follows, as g)
        grad = self.loss_grad if self._parts() else self.grad
        err = "clip(error_i)" if self.huber else "error_i"
        if self._one_feature():
            out.append(
                f"d{d}/dm = (2/N) sum {err} x_i = (2/{_num(n)}) * {_num(sx[0])} = {_num(grad[0])}"
            )
        else:
            vec = "clip(error)" if self.huber else "error"
            out.append(
                f"d{d}/dw = (2/N) X^T {vec} = (2/{_num(n)}) * {_vec(sx)} = {_vec(grad[:-1])}"
            )
        if self.fit_intercept:
            out.append(
                f"d{d}/db = (2/N) sum {err} = (2/{_num(n)}) * {_num(self.sum_error)} = "
                f"{_num(grad[-1])}"
            )
        if self._parts() and self.penalized and self.l2 is not None and self.l2.any():
            r = self.ridge_grad
            if self._one_feature():
                out.append(
                    f"ridge term 2 * l2 * m = 2 * {_num(self.l2[0])} * {_num(self.w[0])} = "
                    f"{_num(r[0])}"
                )
            else:
                out.append(
                    f"ridge term 2 * l2_j * w_j = 2 * {_vec(self.l2[:-1])} * {_vec(self.w)} = "
                    f"{_vec(r[:-1])}"
                )
        if self.correction is not None:
            c = self.correction if self.fit_intercept else self.correction[:-1]
            out.append(
                "SVRG correction g(anchor) - g_B(anchor) (the anchor: where the epoch began) "
                f"= {_vec(c)}"
            )
        return out

    def _plain_step_lines(self) -> list[str]:
        """``w1 = w0 - lr * direction``: the rules without a proximal step."""
        out, lr, a = [], self.lr, self._lr_name()
        step_w = -self.updates[:-1]
        if self._one_feature():
            out.append(
                f"m1 = m0 - {a} * {self._direction_name('m')} = {_num(self.w[0])} - "
                f"{_num(lr)} * {_num(step_w[0] / lr)} = {_num(self.w_next[0])}"
            )
        else:
            out.append(
                f"w1 = w0 - {a} * {self._direction_name('w')} = {_vec(self.w)} - {_num(lr)} "
                f"* {_vec(step_w / lr)} = {_vec(self.w_next)}"
            )
        if self.fit_intercept:
            out.append(
                f"b1 = b0 - {a} * {self._direction_name('b')} = {_num(self.b)} - "
                f"{_num(lr)} * {_num(-self.updates[-1] / lr)} = {_num(self.b_next)}"
            )
        return out

    def _threshold_lines(self, out_name: str) -> list[str]:
        """The soft threshold per coefficient, ``out_name`` its output ('w1', 'x')."""
        v, t, s = self.gradient_step, self.threshold, self.thresholded
        lam = self.l1 if self.l1 is not None else np.zeros_like(v)
        if self._one_feature():
            name = "m1" if out_name == "w1" else out_name
            lines = [
                f"soft threshold: lr * lam = {_num(self.lr)} * {_num(lam[0])} = {_num(t[0])}",
                f"{name} = sign(v) max(|v| - lr * lam, 0) = sign({_num(v[0])}) "
                f"max({_num(abs(v[0]))} - {_num(t[0])}, 0) = {_num(s[0])}",
            ]
            if self.held[0]:
                lines.append(f"the kink holds m at 0 (|v| = {_num(abs(v[0]))} <= lr * lam)")
            return lines
        lines = [
            f"soft threshold {out_name}_j = sign(v_j) max(|v_j| - lr * lam_j, 0), lr * lam = "
            f"{_num(self.lr)} * {_vec(lam[:-1])} = {_vec(t[:-1])}:"
        ]
        d = self.w.size
        for j in range(min(d, SHOW_COEFFICIENTS)):
            held = " (held at 0 by the kink)" if self.held[j] else ""
            lines.append(
                f"  {out_name}[{self.feature_names[j]}] = sign({_num(v[j])}) "
                f"max({_num(abs(v[j]))} - {_num(t[j])}, 0) = {_num(s[j])}{held}"
            )
        if d > SHOW_COEFFICIENTS:
            rest = int(self.held[SHOW_COEFFICIENTS:].sum())
            lines.append(f"  ... ({d - SHOW_COEFFICIENTS} more, {rest} of them held at 0)")
        return lines

    def _held_line(self) -> list[str]:
        if self._one_feature() or not self.kinked:
            return []
        held = self.held
        names = [n for n, h in zip(self.feature_names, held, strict=True) if h]
        if not names:
            return [f"the kink holds none of the {held.size} coefficients at 0 this step"]
        return [
            f"the kink holds {len(names)} of {held.size} coefficients at 0 "
            f"(|v_j| <= lr * lam_j): {_listed(names)}"
        ]

    def _proximal_step_lines(self) -> list[str]:
        """ISTA and proximal SVRG: the gradient step, then the soft threshold."""
        v, lr, a = self.gradient_step, self.lr, self._lr_name()
        if self._one_feature():
            out = [
                f"gradient step v = m0 - {a} * g_m = {_num(self.w[0])} - {_num(lr)} * "
                f"{_num(self.grad_w[0])} = {_num(v[0])}"
            ]
        else:
            out = [
                f"gradient step v = w0 - {a} * g = {_vec(self.w)} - {_num(lr)} * "
                f"{_vec(self.grad_w)} = {_vec(v[:-1])}"
            ]
        out += self._threshold_lines("w1")
        if not self._one_feature():
            out.append(f"w1 = {_vec(self.w_next)}")
        out += self._held_line()
        if self.fit_intercept:
            out.append(
                f"b1 = b0 - {a} * g_b = {_num(self.b)} - {_num(lr)} * {_num(self.grad_b)} = "
                f"{_num(self.b_next)} (not penalized: no threshold)"
            )
        return out

    def _fista_lines(self) -> list[str]:
        """FISTA: the proximal point from the extrapolated one, then momentum or a restart."""
        f = self.fista
        assert f is not None
        v, lr, a = self.gradient_step, self.lr, self._lr_name()
        one = self._one_feature()
        m, _ = self._names()
        where = f"[{m}0, b0]" if self.fit_intercept else f"{m}0"
        out = [
            f"FISTA stands at the extrapolated point y = {where} above (t_k = {_num(f.t)}); "
            "x = prox(y - lr g)"
        ]
        if one:
            out.append(
                f"gradient step v = m0 - {a} * g_m = {_num(self.w[0])} - {_num(lr)} * "
                f"{_num(self.grad_w[0])} = {_num(v[0])}"
            )
        else:
            out.append(
                f"gradient step v = w0 - {a} * g = {_vec(self.w)} - {_num(lr)} * "
                f"{_vec(self.grad_w)} = {_vec(v[:-1])}"
            )
        if self.kinked:
            out += self._threshold_lines("x")
            out += self._held_line()
        else:
            out.append("no L1 part: the proximal step keeps x = v")
        if self.fit_intercept:
            out.append(
                f"x_b = b0 - {a} * g_b = {_num(self.b)} - {_num(lr)} * {_num(self.grad_b)} = "
                f"{_num(f.x[-1])}"
            )
        x, prev = f.x, f.previous
        move = x - prev
        if f.restart:
            dot = float((self.theta - x) @ move)
            out.append(
                f"restart: the step y -> x points against the last move x - x_prev "
                f"((y - x) . (x - x_prev) = {_num(dot)} > 0), so the momentum starts again: "
                "t_{k+1} = 1"
            )
            if one:
                out.append(f"m1 = x = {_num(self.w_next[0])}")
            else:
                out.append(f"w1 = x = {_vec(self.w_next)}")
            if self.fit_intercept:
                out.append(f"b1 = x_b = {_num(self.b_next)}")
            return out
        factor = (f.t - 1.0) / f.t_next
        out.append(
            f"t_(k+1) = (1 + sqrt(1 + 4 t_k^2)) / 2 = (1 + sqrt(1 + 4 * {_num(f.t)}^2)) / 2 = "
            f"{_num(f.t_next)}; momentum (t_k - 1) / t_(k+1) = {_num(factor)}"
        )
        if one:
            out.append(
                f"m1 = x + {_num(factor)} * (x - x_prev) = {_num(x[0])} + {_num(factor)} * "
                f"{_num(move[0])} = {_num(self.w_next[0])}"
            )
        else:
            out.append(
                f"w1 = x + {_num(factor)} * (x - x_prev) = {_vec(x[:-1])} + {_num(factor)} * "
                f"{_vec(move[:-1])} = {_vec(self.w_next)}"
            )
        if self.fit_intercept:
            out.append(
                f"b1 = x_b + {_num(factor)} * (x_b - x_prev_b) = {_num(x[-1])} + "
                f"{_num(factor)} * {_num(move[-1])} = {_num(self.b_next)}"
            )
        return out

    def _loss_lines(self) -> list[str]:
        batch = self.rows is not None
        if self.penalized:
            p0, p1 = self._penalty_values()
            what = "batch objective" if batch else "objective"
            out = [
                f"{what} J = L + penalty = {_num(self.loss - p0)} + {_num(p0)} = "
                f"{_num(self.loss)} -> {_num(self.loss_next - p1)} + {_num(p1)} = "
                f"{_num(self.loss_next)}"
            ]
            if batch:
                out.append(f"full-data objective after the step = {_num(self.full_loss_next)}")
            return out
        what = "batch loss" if batch else "loss"
        out = [f"{what} J = {_num(self.loss)} -> {_num(self.loss_next)}"]
        if batch:
            out.append(f"full-data loss after the step = {_num(self.full_loss_next)}")
        return out

    def _after_table(self) -> list[str]:
        """Every line after the table: gradient, update rule, step, loss, original units."""
        out = self._huber_lines() + self._gradient_lines() + self._rule_lines()
        if self.fista is not None:
            out += self._fista_lines()
        elif self.proximal and self.kinked:
            out += self._proximal_step_lines()
        else:
            out += self._plain_step_lines()
        out += self._loss_lines()
        if self.standardized:
            terms = " + ".join(
                f"{_num(w)} * {name}"
                for w, name in zip(self.original_next[:-1], self.feature_names, strict=True)
            )
            b = _signed(self.original_next[-1]) if self.fit_intercept else ""
            out.append(f"in original units: {self.target_name} = {terms}{b}")
        return out

    def lines(self) -> list[str]:
        """The derivation as plain text lines."""
        head = [self._head(), *self._objective_lines(), self._prediction()]
        return [*head, *self._table(), *self._after_table()]

    def _direction_name(self, param: str) -> str:
        if self.correction is not None and not self.rule.terms:
            return f"g_{param}"  # SVRG: the corrected gradient, not the batch's dJ/dw
        return self.rule.direction.format(p=param)

    def to_text(self) -> str:
        return "\n".join(self.lines())

    __str__ = to_text

    def to_markdown(self) -> str:
        table = self._table()
        body = [f"**{self._head()}**", ""]
        body += [*self._objective_lines(), self._prediction(), ""]
        header = table[0].strip().split(" | ")
        body.append("| " + " | ".join(header) + " |")
        body.append("|" + "---|" * len(header))
        for ln in table[1:]:
            cells = ln.strip().split(" | ")
            body.append("| " + " | ".join(cells) + (" |" * (len(cells) == len(header))))
        body.append("")
        body += [f"- `{ln.strip()}`" for ln in self._after_table()]
        return "\n".join(body)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def to_latex(self) -> str:
        """The derivation as a LaTeX ``aligned`` block (what notebooks render)."""
        from gradfit.explain_formats import latex

        return latex(self)

    def _repr_latex_(self) -> str:
        return self.to_latex()

    def to_dict(self) -> dict[str, Any]:
        """Every number, JSON-ready (the playground's explain panel)."""
        from gradfit.explain_formats import as_dict

        return as_dict(self)

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
            "optimizer='gd' (its default), 'momentum', 'nesterov', 'adam', 'svrg' or 'fista'"
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
    penalty = l1 = l2 = epsilon = None
    if isinstance(objective, RegularizedObjective):
        penalty = objective.penalty
        l1, l2 = objective.scaled_penalty.l1.copy(), objective.scaled_penalty.l2.copy()
        epsilon = objective.epsilon if objective.huber else None
    fista = None
    if isinstance(r.state_before, FistaState) and isinstance(r.state_after, FistaState):
        fista = FistaStep(
            float(r.state_before.t),
            float(r.state_after.t),
            r.state_before.previous.copy(),
            r.state_after.previous.copy(),
            # t_{k+1} >= (1 + sqrt 5) / 2 unless the momentum restarted
            r.state_after.t == 1.0,
        )
    explanation = StepExplanation(
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
        penalty=penalty,
        l1=l1,
        l2=l2,
        epsilon=epsilon,
        # the rule ended with the soft threshold (ISTA, proximal SVRG): see UpdateRule.make
        proximal=not objective.smooth and not (rule.line_search or rule.uses_geometry),
        fista=fista,
    )
    if rule.control_variate and rows is not None:
        # SVRG's batch gradient is corrected by the anchor's: what the engine added to the
        # batch's own gradient (the loss's part from these rows, and the ridge part)
        explanation.correction = r.grad - explanation.loss_grad - explanation.ridge_grad
    return explanation
