"""The one training loop: full batch, mini-batch and stochastic gradient descent.

Every step is the same four lines, whatever the batch::

    loss, grad = value_and_grad(theta, batch)      # the model layer
    updates, state = optimizer.update(grad, state, theta)
    theta = apply_updates(theta, updates)           # the only place theta changes

At every epoch boundary the loop evaluates the full-data loss and gradient (for
full batch that evaluation *is* the next step's) and checks, in order: divergence,
the gradient-norm tolerance ``gtol`` and the relative loss-change tolerance ``tol``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np

from gradfit.data.batching import Batches, resolve_batch_size
from gradfit.data.scaling import Scaling
from gradfit.data.validation import (
    as_features,
    as_target,
    check_xy,
    feature_names_of,
    is_sparse,
)
from gradfit.exceptions import DivergenceError, InvalidInputError
from gradfit.model.curvature import Curvature, power_iteration
from gradfit.model.linear import LinearRegressionLoss, predict
from gradfit.model.reference import least_squares
from gradfit.model.stats import Quadratic, SufficientStats
from gradfit.optim.alias import OPTIMIZERS, make_optimizer
from gradfit.optim.base import apply_updates
from gradfit.optim.schedules import Schedule, as_schedule, check_lr
from gradfit.train.history import History, Recorder, StopReason
from gradfit.train.stopping import Stopping

__all__ = ["FitResult", "Problem", "Progress", "fit"]

# Largest d for which the (d+1) x (d+1) statistics are used automatically.
STATS_MAX_FEATURES = 2048


class Progress(NamedTuple):
    """Passed to ``callback`` at every epoch boundary; return True to stop."""

    epoch: int
    step: int
    loss: float
    grad_norm: float
    max_iter: int


class StepRecord(NamedTuple):
    """Everything one step saw and did, passed to ``on_step`` (for ``explain``)."""

    step: int
    epoch: int
    rows: np.ndarray | None  # None: all rows
    theta: np.ndarray  # before the update (descent coordinates)
    loss: float  # of this step's batch, at theta
    grad: np.ndarray
    lr: float
    state_before: Any
    state_after: Any
    updates: np.ndarray
    theta_next: np.ndarray


@dataclass
class FitResult:
    """The outcome of a fit. Coefficients are in original units.

    Attributes
    ----------
    w, b : ndarray, float
        Fitted coefficients and intercept (original units).
    loss, grad_norm : float
        Full-data loss and gradient norm at ``w, b``.
    n_steps, n_epochs : int
        Parameter updates made, and passes over the data (partial passes count).
    stop : StopReason
        Why the fit stopped.
    history : History
        The recorded steps.
    lr : Schedule
        The learning rate actually used (``lr='auto'`` resolved).
    curvature : Curvature or None
        Learning-rate theory for the fitted data, when it was computed.
    path : {'stats', 'direct'}
        Whether full-data evaluations used sufficient statistics or the rows.
    """

    w: np.ndarray
    b: float
    loss: float
    grad_norm: float
    n_steps: int
    n_epochs: int
    stop: StopReason
    history: History
    lr: Schedule
    curvature: Curvature | None
    scaling: Scaling
    path: str
    seconds: float
    theta: np.ndarray
    opt_state: Any
    optimizer: str
    cursor: _Cursor | None = None

    @property
    def converged(self) -> bool:
        return self.stop.converged

    def predict(self, X: Any) -> np.ndarray:
        return predict(as_features(X), self.w, self.b)


class _Cursor(NamedTuple):
    """Where a fit paused by ``max_steps`` stands, so that ``warm_start`` resumes it exactly."""

    problem: Problem
    batches: Batches
    pending: Iterator[np.ndarray | None] | None
    stopping: Stopping
    epoch: int
    loss: float
    grad: np.ndarray


class Problem:
    """Validated data of one fit with its scaling, objective and curvature (computed once)."""

    def __init__(
        self,
        X: Any,
        y: Any,
        *,
        sample_weight: Any = None,
        standardize: bool | Scaling = False,
        path: Literal["auto", "stats", "direct"] = "auto",
        batch_size: int | None = None,
        feature_names: Sequence[str] | None = None,
    ) -> None:
        names = feature_names or feature_names_of(X) or [f"x{j}" for j in range(_n_cols(X))]
        self.feature_names = list(names)
        self.X, self.y = check_xy(X, y)
        n, d = self.X.shape
        self.sample_weight = _check_weights(sample_weight, n)
        self.batch_size = resolve_batch_size(batch_size, n)
        if path not in ("auto", "stats", "direct"):
            raise InvalidInputError(f"path must be 'auto', 'stats' or 'direct', got {path!r}")
        use_stats = path == "stats" or (
            path == "auto" and n >= 2 * (d + 1) and d + 1 <= STATS_MAX_FEATURES
        )
        self.path = "stats" if use_stats else "direct"
        raw = SufficientStats.from_arrays(self.X, self.y, self.sample_weight) if use_stats else None
        if isinstance(standardize, Scaling):
            self.scaling = standardize
        elif standardize:
            self.scaling = (
                Scaling.from_moments(raw.x_mean, raw.x_var)
                if raw is not None
                else Scaling.standardize(self.X, self.sample_weight)
            )
        else:
            self.scaling = Scaling.identity(d)
        self._stats = raw.scaled(self.scaling) if raw is not None else None
        self._quadratic: Quadratic | None = None
        self.rows = LinearRegressionLoss(self.X, self.y, self.scaling, self.sample_weight)
        self._curvature: Curvature | None = None

    @property
    def stats(self) -> SufficientStats:
        """Sufficient statistics in descent coordinates (one pass, on first use)."""
        if self._stats is None:
            raw = SufficientStats.from_arrays(self.X, self.y, self.sample_weight)
            self._stats = raw.scaled(self.scaling)
        return self._stats

    def quadratic(self) -> Quadratic:
        """The loss as a quadratic in descent coordinates, built once from ``stats``."""
        if self._quadratic is None:
            self._quadratic = self.stats.quadratic()
        return self._quadratic

    @property
    def loss_resolution(self) -> float:
        """Losses below this are rounding noise of the O(d^2) formula (0 on the rows)."""
        return 1e-13 * self.quadratic().f0 if self.path == "stats" else 0.0

    @property
    def full_batch(self) -> bool:
        return self.batch_size >= self.X.shape[0]

    def evaluator(self) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
        """Full-data loss and gradient: from the statistics when available, else the rows."""
        if self.path == "stats":
            return self.quadratic().value_and_grad
        return self.rows.value_and_grad

    @property
    def curvature(self) -> Curvature:
        """Hessian eigenvalues from the statistics, or ``L`` by power iteration."""
        if self._curvature is None:
            if self.path == "stats":
                self._curvature = Curvature.from_hessian(self.quadratic().H)
            else:
                dim = self.X.shape[1] + 1
                top = power_iteration(self.rows.hessian_vector_product, dim, iters=60, rtol=1e-4)
                self._curvature = Curvature(top)
        return self._curvature

    @property
    def batch_lipschitz(self) -> float:
        """Curvature that bounds stable rates at this batch size."""
        c = self.curvature
        if self.full_batch:
            return c.lipschitz
        return c.batch_lipschitz(self.batch_size, self.X.shape[0], self.rows.max_row_curvature())

    def auto_lr(self, optimizer: str, beta: float = 0.9) -> float:
        """The learning rate ``lr='auto'`` picks (see ``fit``)."""
        if optimizer == "adam":
            raise InvalidInputError(
                "lr='auto' is derived from the curvature for 'gd', 'momentum' and 'nesterov'; "
                "Adam's rate is a distance in parameter space: pass a number, e.g. lr=0.01"
            )
        if self.full_batch:
            return self.curvature.best_lr if optimizer == "gd" else 1.0 / self.curvature.lipschitz
        # Momentum multiplies a step by up to 1 / (1 - beta): with noisy batches, keep
        # the long-run step of plain descent at 1 / L_b.
        damping = 1.0 if optimizer == "gd" else 1.0 - beta
        return damping / self.batch_lipschitz

    def stable_lr(self, optimizer: str, beta: float) -> float | None:
        """Largest stable constant rate for this update rule (quadratic theory)."""
        limit = 2.0 / self.batch_lipschitz
        if optimizer == "momentum":
            return limit * (1 + beta)
        if optimizer == "nesterov":
            return limit * (1 + beta) / (1 + 2 * beta)
        return limit if optimizer == "gd" else None

    def column_rms(self) -> np.ndarray:
        """Root-mean-square of each raw feature column."""
        X: Any = self.X
        squares = X.multiply(X).sum(axis=0) if is_sparse(X) else np.einsum("ij,ij->j", X, X)
        return np.sqrt(np.asarray(squares).ravel() / X.shape[0])

    def badly_scaled(self, ratio: float = 30.0) -> list[tuple[str, float]]:
        """Columns (the intercept's is all ones) whose scales are orders of magnitude apart.

        Returns the largest ones (at least ``ratio`` times the smallest) and the
        smallest, with their root-mean-square; empty when standardizing.
        """
        if not self.scaling.is_identity:
            return []
        rms = np.append(self.column_rms(), 1.0)
        names = [*self.feature_names, "the intercept"]
        low = rms[rms > 0].min()
        if rms.max() < ratio * low:
            return []
        large = [j for j in np.argsort(-rms) if rms[j] >= ratio * low]
        return [(names[j], float(rms[j])) for j in [*large, int(np.flatnonzero(rms == low)[0])]]


def _n_cols(X: Any) -> int:
    shape = np.shape(X)
    return 1 if len(shape) < 2 else int(shape[1])


def _check_weights(sample_weight: Any, n: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    s = as_target(sample_weight, "sample_weight")
    if s.shape[0] != n:
        raise InvalidInputError(
            f"sample_weight has {s.shape[0]} values for {n} rows: pass one weight per row"
        )
    if (s < 0).any():
        raise InvalidInputError(
            "sample_weight must be >= 0: drop rows instead of giving them negative weight"
        )
    if s.sum() <= 0:
        raise InvalidInputError(
            "sample_weight is zero for every row: give at least one row a positive weight"
        )
    return s


def _check_count(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidInputError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def _check_tol(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise InvalidInputError(f"{name} must be a number >= 0 (0 turns it off), got {value!r}")
    return float(value)


def fit(
    X: Any,
    y: Any,
    *,
    lr: float | Schedule | str = 0.01,
    optimizer: str = "gd",
    beta: float = 0.9,
    batch_size: int | None = None,
    max_iter: int = 1000,
    tol: float = 1e-12,
    gtol: float = 1e-8,
    standardize: bool | Scaling = False,
    shuffle: bool = True,
    random_state: int | None = None,
    sample_weight: Any = None,
    w0: Sequence[float] | np.ndarray | None = None,
    b0: float = 0.0,
    path: Literal["auto", "stats", "direct"] = "auto",
    history_stride: int | None = None,
    record_gap: bool = False,
    divergence_patience: int = 5,
    callback: Callable[[Progress], bool | None] | None = None,
    on_step: Callable[[StepRecord], None] | None = None,
    max_steps: int | None = None,
    warm_start: FitResult | None = None,
    feature_names: Sequence[str] | None = None,
    problem: Problem | None = None,
) -> FitResult:
    r"""Fit ``y = X w + b`` by gradient descent on the mean squared error.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features), or (n_samples,) for one feature
    y : array-like of shape (n_samples,)
    lr : float > 0, Schedule or 'auto', default=0.01
        Learning rate. 'auto' derives it from the curvature of this data (after
        scaling): the best constant rate :math:`2/(\mu + L)` for full-batch 'gd' and
        :math:`1/L` with momentum; for batches :math:`1/L_b` (no batch overshoots on
        average), times :math:`1 - \beta` with momentum. Adam needs a number.
    optimizer : {'gd', 'momentum', 'nesterov', 'adam'}, default='gd'
    beta : float in [0, 1), default=0.9
        Momentum of 'momentum' and 'nesterov'; Adam's first-moment decay.
    batch_size : int >= 1 or None, default=None
        Rows per step: None for full batch, 1 for stochastic, k for mini-batches.
    max_iter : int >= 1, default=1000
        Maximum number of epochs (passes over the data; one step each for full batch).
    tol : float >= 0, default=1e-12
        Stop when the full-data loss changes by at most ``tol`` times its value
        over one epoch. 0 turns it off.
    gtol : float >= 0, default=1e-8
        Stop when the full-data gradient norm is at most ``gtol``. 0 turns it off.
    standardize : bool or Scaling, default=False
        Run descent on standardized features; coefficients are still reported in
        original units.
    shuffle : bool, default=True
        Reshuffle rows every epoch (mini-batch and stochastic).
    random_state : int or None
        Seed of the shuffling; a seed reproduces a run exactly.
    sample_weight : array-like of shape (n_samples,), optional
        Weights of a weighted mean squared error.
    w0, b0 : starting coefficients (original units), default zeros.
    path : {'auto', 'stats', 'direct'}, default='auto'
        Full-data evaluations from sufficient statistics (O(d^2) per step after one
        pass) or from the rows (O(n d)). 'auto' uses statistics when
        ``n >= 2 (d + 1)`` and ``d < 2048``. Both give the same iterates up to rounding.
    history_stride : int >= 1, optional
        Record every k-th step; by default every step for full batch and about 100
        entries per epoch otherwise.
    record_gap : bool, default=False
        Also record the relative distance of the coefficients to the least-squares
        solution (computed once with ``numpy.linalg.lstsq``).
    divergence_patience : int >= 1, default=5
        Epochs of growing loss, above the starting loss, that count as divergence.
    callback : callable(Progress) -> bool, optional
        Called at every epoch boundary; returning True stops the fit.
    on_step : callable(StepRecord), optional
        Called after every step with what it saw and did (``gradfit.explain`` uses it).
    max_steps : int >= 1, optional
        Pause after this many steps (stop code ``'max_steps'``), even mid-epoch.
    warm_start : FitResult, optional
        Continue a previous fit: its parameters, optimizer state, step count
        (so schedules carry on) and scaling. With the same ``problem`` a fit
        paused by ``max_steps`` resumes exactly where it stood (batch order,
        stopping state); otherwise a new pass over the data begins.
    feature_names : list of str, optional
        Names used in messages and the history (default: DataFrame columns or x0, x1...).
    problem : Problem, optional
        Data already validated, with its statistics and curvature: lets several fits
        of the same data (a learning-rate sweep) skip that work. It replaces ``X``,
        ``y``, ``sample_weight``, ``standardize``, ``path``, ``batch_size`` and
        ``feature_names``.

    Returns
    -------
    FitResult

    Raises
    ------
    InvalidInputError
        Bad data or parameters; the message says how to fix them.
    DivergenceError
        The loss grew without bound; the message gives the largest stable rate,
        a rate that works and whether to standardize.

    Examples
    --------
    >>> from gradfit import fit, make_article_b
    >>> d = make_article_b(500)
    >>> r = fit(d.X, d.y, lr=0.1, max_iter=500)
    >>> r.w.round(6).tolist(), round(r.b, 6)
    ([2.0, 4.0, 5.0, 9.0, 11.0], 2.0)
    >>> r.stop.code
    'converged_gradient'
    """
    started = time.perf_counter()
    if optimizer not in OPTIMIZERS:
        raise InvalidInputError(f"unknown optimizer {optimizer!r}: choose one of {OPTIMIZERS}")
    max_iter = _check_count(max_iter, "max_iter", 1)
    patience = _check_count(divergence_patience, "divergence_patience", 1)
    tol, gtol = _check_tol(tol, "tol"), _check_tol(gtol, "gtol")
    if problem is None:
        problem = Problem(
            X,
            y,
            sample_weight=sample_weight,
            standardize=warm_start.scaling if warm_start else standardize,
            path=path,
            batch_size=batch_size,
            feature_names=feature_names,
        )
    n, d = problem.X.shape

    if isinstance(lr, str):
        if lr != "auto":
            raise InvalidInputError(f"lr must be a number > 0, a schedule or 'auto', got {lr!r}")
        schedule: Schedule = as_schedule(problem.auto_lr(optimizer, beta))
    elif callable(lr):
        schedule = lr
    else:
        schedule = as_schedule(check_lr(lr))
    opt = make_optimizer(optimizer, schedule, beta)

    if warm_start is not None:
        theta, opt_state, step = warm_start.theta.copy(), warm_start.opt_state, warm_start.n_steps
    else:
        start = np.zeros(d + 1)
        if w0 is not None:
            start[:-1] = np.asarray(w0, dtype=np.float64).reshape(d)
        start[-1] = float(b0)
        theta = problem.scaling.to_scaled(start)
        opt_state, step = opt.init(theta), 0

    cursor = warm_start.cursor if warm_start is not None else None
    if cursor is not None and cursor.problem is not problem:
        cursor = None  # other data (partial_fit's next chunk): start a new pass
    if cursor is not None:
        batches, pending, stopping, epoch = (
            cursor.batches,
            cursor.pending,
            cursor.stopping,
            cursor.epoch,
        )
        loss, grad = cursor.loss, cursor.grad
    else:
        batches = Batches(n, problem.batch_size, shuffle=shuffle, seed=random_state)
        pending, epoch = None, 0
        loss, grad = problem.evaluator()(theta)
        stopping = Stopping(
            max_iter=max_iter,
            tol=tol,
            gtol=gtol,
            # Adam's steps are bounded by lr: its loss may oscillate above the start,
            # but only a blow-up is divergence.
            patience=math.inf if optimizer == "adam" else patience,
            start_loss=loss,
            loss_scale=float(np.var(problem.y)),
            loss_resolution=problem.loss_resolution,
        )
    evaluate = problem.evaluator()
    if history_stride is None:
        history_stride = max(1, batches.steps_per_epoch // 100)
    stride = _check_count(history_stride, "history_stride", 1)
    if max_steps is not None:
        max_steps = _check_count(max_steps, "max_steps", 1)
    reference = None
    if record_gap:
        w_ref, b_ref = least_squares(problem.X, problem.y, problem.sample_weight)
        reference = np.append(w_ref, b_ref)
    recorder = Recorder(stride, reference)
    # A batch's loss estimates the full loss; one row may weigh up to n/batch_size times more.
    batch_blowup = stopping.blowup * n / problem.batch_size
    if pending is None:
        recorder.epoch_loss.append(loss)

    def diverged(at_step: int, seen_loss: float) -> DivergenceError:
        history = recorder.finish(problem.scaling, problem.feature_names, schedule)
        return _divergence(
            problem,
            optimizer,
            beta,
            at_step,
            stopping.start_loss,
            seen_loss,
            schedule(at_step),
            history,
        )

    first_step, stop = step, None
    # Bound methods looked up once: a full-batch step of small d costs microseconds.
    check, record, update = stopping.check, recorder.add, opt.update
    epoch_batches, record_epoch_loss = batches.epoch, recorder.epoch_loss.append
    # Norms of short vectors: math.hypot of a list beats NumPy's call overhead by 2x.
    short = d < 32
    with np.errstate(over="ignore", invalid="ignore"):
        while stop is None:
            if pending is None:  # an epoch boundary: check, then start the next pass
                gnorm = math.hypot(*grad.tolist()) if short else math.sqrt(grad.dot(grad))
                stop = check(epoch, step, loss, gnorm)
                if (
                    stop is None
                    and callback is not None
                    and callback(Progress(epoch, step, loss, gnorm, max_iter))
                ):
                    stop = StopReason("callback", "stopped by callback", step)
                if stop is not None:
                    break
                pending = iter(epoch_batches())
            for rows in pending:
                if rows is None:  # full batch: this epoch's evaluation is the step's
                    batch_loss, batch_grad, batch_gnorm = loss, grad, gnorm
                else:
                    batch_loss, batch_grad = problem.rows.value_and_grad(theta, rows)
                    if not batch_loss < batch_blowup:
                        raise diverged(step, batch_loss)
                    batch_gnorm = -1.0
                if step % stride == 0:
                    if batch_gnorm < 0:
                        batch_gnorm = math.sqrt(batch_grad.dot(batch_grad))
                    record(step, epoch, theta, batch_loss, batch_gnorm)
                updates, new_state = update(batch_grad, opt_state, theta)
                new_theta = apply_updates(theta, updates)
                if on_step is not None:
                    on_step(
                        StepRecord(
                            step,
                            epoch,
                            rows,
                            theta,
                            batch_loss,
                            batch_grad,
                            schedule(step),
                            opt_state,
                            new_state,
                            updates,
                            new_theta,
                        )
                    )
                theta, opt_state, step = new_theta, new_state, step + 1
                if max_steps is not None and step - first_step >= max_steps:
                    stop = StopReason("max_steps", f"paused after {max_steps} steps", step)
                    break
            else:  # the pass is complete
                pending, epoch = None, epoch + 1
                loss, grad = evaluate(theta)
                record_epoch_loss(loss)
    if stop.code == "diverged":
        raise diverged(step, loss)
    if stop.code == "max_steps":
        cursor = _Cursor(problem, batches, pending, stopping, epoch, loss, grad)
        loss, grad = evaluate(theta)
    else:
        cursor = None

    if loss < 1e3 * problem.loss_resolution:  # rounding noise: the rows give full precision
        loss = problem.rows.value_and_grad(theta)[0]
    gnorm = math.sqrt(grad.dot(grad))
    recorder.add(step, epoch, theta, loss, gnorm)
    coef = problem.scaling.to_original(theta)
    return FitResult(
        w=coef[:-1],
        b=float(coef[-1]),
        loss=loss,
        grad_norm=gnorm,
        n_steps=step,
        n_epochs=epoch,
        stop=stop,
        history=recorder.finish(problem.scaling, problem.feature_names, schedule),
        lr=schedule,
        curvature=problem._curvature,
        scaling=problem.scaling,
        path=problem.path,
        seconds=time.perf_counter() - started,
        theta=theta,
        opt_state=opt_state,
        optimizer=optimizer,
        cursor=cursor,
    )


def _divergence(
    problem: Problem,
    optimizer: str,
    beta: float,
    step: int,
    start_loss: float,
    seen_loss: float,
    lr: float,
    history: History,
) -> DivergenceError:
    """Stop at once and say why, with numbers for this data and a fix."""
    stable = problem.stable_lr(optimizer, beta)
    # 1/L never overshoots (1/L_b for batches); best_lr sits right at the limit when
    # the conditioning is bad, so it makes a poor suggestion.
    suggested = (
        lr / 10
        if optimizer == "adam"
        else min(1.0 / problem.batch_lipschitz, problem.auto_lr(optimizer, beta))
    )
    what = "became non-finite" if not math.isfinite(seen_loss) else f"grew to {seen_loss:.3g}"
    message = (
        f"gradient descent diverged at step {step}: the loss {what} from {start_loss:.3g} "
        f"with lr={lr:.3g}."
    )
    if stable is not None:
        rule = "" if optimizer == "gd" else f" for {optimizer} with beta={beta}"
        message += (
            f" The largest stable learning rate for this data is {stable:.3g}{rule} "
            f"(L = {problem.batch_lipschitz:.3g})."
        )
    message += f" Try lr={suggested:.3g}" + (" or lr='auto'." if optimizer != "adam" else ".")
    offenders = problem.badly_scaled()
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
