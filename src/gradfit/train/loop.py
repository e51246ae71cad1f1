"""The one training loop: full batch, mini-batch and stochastic gradient descent.

Every step is the same three lines, whatever the batch::

    loss, grad = value_and_grad(theta, batch)      # the objective (model layer)
    updates, state = optimizer.update(grad, state, theta)
    theta = apply_updates(theta, updates)           # the only place theta changes here

With numba installed the same steps run compiled (``compiled.py``: the kernels write
these equations per coordinate, the tests hold them to this loop's numbers).
At every epoch boundary the loop evaluates the full-data loss and gradient (for
full batch that evaluation *is* the next step's) and checks, in order: divergence,
the gradient-norm tolerance ``gtol`` and the relative loss-change tolerance ``tol``.
It starts from a ``TrainState`` (or from scratch) and ends with one, so a paused
descent resumes exactly.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from gradfit.data.batching import (
    BatchStream,
    epoch_order,
    new_seed,
    resolve_batch_size,
    steps_per_epoch,
)
from gradfit.data.scaling import Scaling
from gradfit.exceptions import DivergenceError, InvalidInputError
from gradfit.model.fitted import LinearModel
from gradfit.model.objective import Objective
from gradfit.model.precise import ExactObjective
from gradfit.model.reference import least_squares
from gradfit.optim.base import apply_updates
from gradfit.optim.registry import UpdateRule
from gradfit.optim.schedules import Schedule, as_schedule, check_lr
from gradfit.train import compiled
from gradfit.train.advice import auto_rate, divergence_error
from gradfit.train.events import LossBelow, Progress, StepRecord
from gradfit.train.history import Recorder, StopReason
from gradfit.train.options import FitOptions
from gradfit.train.result import FitResult, TrainingReport
from gradfit.train.state import TrainState
from gradfit.train.stopping import StopMemory, Stopping

__all__ = ["resolve_schedule", "run"]


def resolve_schedule(objective: Objective, options: FitOptions) -> Schedule | None:
    """The learning rate as a schedule, ``'auto'`` read off the curvature of ``objective``.

    None for a user's chain of transforms, which carries its own rate.
    """
    rule = options.rule
    if rule.name == "custom":
        return None
    lr = options.lr_value
    if isinstance(lr, str) and rule.line_search:  # the whole exact step
        return as_schedule(1.0)
    if isinstance(lr, str):  # 'auto' (FitOptions admits no other string)
        return as_schedule(auto_rate(objective, rule, options.beta_value, options.batch_size))
    if callable(lr):
        return lr
    return as_schedule(check_lr(lr))


def _start(
    objective: Objective,
    options: FitOptions,
    rule: UpdateRule,
    state: TrainState | None,
    init: Callable[[np.ndarray], object],
    w0: Sequence[float] | np.ndarray | None,
    b0: float,
) -> TrainState:
    """The state a run begins from: a fresh one, or ``state`` checked against this fit."""
    d1 = objective.n_params
    batch_size = resolve_batch_size(options.batch_size, objective.n_rows)
    if state is None:
        if b0 != 0.0 and not objective.fit_intercept:
            raise InvalidInputError(
                "b0 starts the intercept, and this line goes through the origin: leave b0 "
                "out, or fit an intercept"
            )
        start = np.zeros(d1)
        if w0 is not None:
            start[:-1] = np.asarray(w0, dtype=np.float64).reshape(d1 - 1)
        start[-1] = float(b0)
        theta = objective.scaling.to_scaled(start)
        return TrainState(
            theta=theta,
            opt_state=init(theta),
            rule=rule.name,
            scaling=objective.scaling,
            step=0,
            epoch=0,
            position=0,
            seed=new_seed(options.random_state),
            n_rows=objective.n_rows,
            stopping=None,
            batch_size=batch_size,
            shuffle=options.shuffle,
        )
    if w0 is not None or b0 != 0.0:
        raise InvalidInputError(
            "w0 and b0 set the start of a new descent; a warm start continues from its own "
            "parameters: leave w0 and b0 out, or leave warm_start out"
        )
    if state.theta.shape != (d1,):
        raise InvalidInputError(
            f"the warm start has {state.theta.shape[0] - 1} coefficients, this data "
            f"{d1 - 1} features: fit this data from scratch"
        )
    if state.rule != rule.name or _structure(state.opt_state) != _structure(init(state.theta)):
        raise InvalidInputError(
            f"the warm start was made by optimizer={state.rule!r}; its state cannot drive "
            f"optimizer={rule.name!r}: keep optimizer={state.rule!r}, or start a new fit from "
            "the warm start's coefficients"
        )
    if not state.scaling.same_as(objective.scaling):
        raise InvalidInputError(
            "the warm start descends in other coordinates than this objective: build the "
            "objective with scaling=state.scaling"
        )
    if state.paused:
        mismatch = [
            f"{name}={mine!r} (it has {theirs!r})"
            for name, mine, theirs in (
                ("rows", objective.n_rows, state.n_rows),
                ("batch_size", batch_size, state.batch_size),
                ("shuffle", options.shuffle, state.shuffle),
            )
            if mine != theirs
        ]
        if options.random_state is not None and options.random_state != state.seed:
            mismatch.append(f"random_state={options.random_state} (it has {state.seed})")
        if mismatch:
            raise InvalidInputError(
                "this paused descent resumes only as it ran: "
                + ", ".join(mismatch)
                + "; pass the same settings and data, or state.new_run() to begin a new pass"
            )
        return state
    return state._replace(
        epoch=0,
        position=0,
        seed=new_seed(options.random_state),
        n_rows=objective.n_rows,
        batch_size=batch_size,
        shuffle=options.shuffle,
        anchor=None,
    )


def _structure(tree: object) -> object:
    """The shape of an update rule's state: its types, nested (not its values)."""
    if isinstance(tree, tuple):
        return (type(tree).__name__, tuple(_structure(t) for t in tree))
    if isinstance(tree, np.ndarray):
        return ("array", tree.shape)
    return type(tree).__name__


def run(
    objective: Objective,
    options: FitOptions,
    state: TrainState | None = None,
    *,
    w0: Sequence[float] | np.ndarray | None = None,
    b0: float = 0.0,
    callback: Callable[[Progress], bool | None] | None = None,
    on_step: Callable[[StepRecord], None] | None = None,
    validation: Objective | None = None,
) -> FitResult:
    """Descend on ``objective`` as ``options`` say, from ``state`` (or from ``w0, b0``).

    ``validation`` is the objective on held-out rows that early stopping (``loss_tol``)
    watches instead of the training loss.

    This is the loop ``gradfit.fit`` calls; a front end that holds an objective (a
    sweep over rates, the playground stepping a session) calls it directly.
    A state paused by ``max_steps`` resumes exactly where it stood; any other
    state starts a new run from its parameters and optimizer state.

    Examples
    --------
    >>> from gradfit.data import ArraySource, make_article_b
    >>> d = make_article_b(200)
    >>> f = Objective(ArraySource(d.X, d.y))
    >>> paused = run(f, FitOptions(lr=0.1, max_steps=5))
    >>> paused.stop.code, paused.n_steps
    ('max_steps', 5)
    >>> a = run(f, FitOptions(lr=0.1), paused.state)
    >>> b = run(f, FitOptions(lr=0.1), paused.state)
    >>> bool((a.w == b.w).all()), a.stop.code
    (True, 'converged_gradient')
    """
    started = time.perf_counter()
    rule = options.rule
    beta = options.beta_value
    n, d1 = objective.n_rows, objective.n_params
    batch_size = resolve_batch_size(options.batch_size, n)
    full = batch_size >= n
    # Line search on an ill-conditioned design: gradients exact from the rows (every digit)
    exact = rule.line_search and full and objective.digits_at_risk
    if exact and state is not None and not state.scaling.is_identity:
        if state.paused:  # resumes as it ran
            exact = False
        else:  # a warm start: its line, in the original units exact descent runs in
            theta = state.scaling.to_original(state.theta)
            state = state._replace(theta=theta, scaling=Scaling.identity(len(theta) - 1))
    if exact:
        objective = ExactObjective(objective)
    schedule = resolve_schedule(objective, options)
    opt = rule.make(schedule, beta, objective)  # type: ignore[arg-type]  # custom ignores it
    state = _start(objective, options, rule, state, opt.init, w0, b0)
    per_epoch = steps_per_epoch(n, batch_size)
    theta, opt_state, step = state.theta, state.opt_state, state.step
    epoch, position, seed = state.epoch, state.position, state.seed
    evaluate = objective.full_value_and_grad
    shuffle = options.shuffle

    stride = options.history_stride or max(1, per_epoch // 100)
    reference = None
    if options.record_gap:
        reference = _least_squares(objective)
    recorder = Recorder(stride, reference, options.max_history)
    feature_names = objective.feature_names

    order: np.ndarray | BatchStream | None = None

    def batches_of(epoch: int, skip: int = 0) -> np.ndarray | BatchStream:
        """The batches of an epoch: row indices, or batches streamed from the source."""
        if not objective.streamed:
            return epoch_order(n, shuffle=shuffle, seed=seed, epoch=epoch)
        blocks = objective.source.blocks(batch_size, shuffle=shuffle, seed=seed, epoch=epoch)  # type: ignore[attr-defined]
        stream = BatchStream(blocks, batch_size)
        for _ in range(skip):
            next(stream)
        return stream

    loss, grad = evaluate(theta)
    # SVRG: batch gradients are corrected by the anchor's (where the epoch began)
    control = rule.control_variate and not full
    anchor, anchor_grad = state.anchor, grad
    held_out = None if validation is None else validation.row_loss
    if state.stopping is None:
        watched = None if held_out is None else held_out(theta)
        memory = StopMemory.starting_at(
            loss, objective.gradient_norm(objective.stationarity(theta, grad)), watched
        )
        recorder.add_epoch_loss(loss)
    else:
        memory = state.stopping
        if position == per_epoch:  # paused right after an epoch's last batch
            epoch, position = epoch + 1, 0
            recorder.add_epoch_loss(loss)
        elif not full:  # paused mid-epoch: the same order as an uninterrupted run
            order = batches_of(epoch, skip=position)
            if control and anchor is not None:
                anchor_grad = evaluate(anchor)[1]
    max_iter = options.max_iter_for(per_epoch)
    certify, gtol = _certificate(objective, options, memory.start_gnorm)
    # line searches go on until their steps no longer change a digit (tol on the
    # predictions may leave few digits of ill-determined coefficients, an intercept under
    # large offsets); with exact gradients those digits are all of float64's
    # (least squares' only: a penalty's slow progress on raw columns is not rounding)
    settle = rule.line_search and full and options.tol > 0 and objective.least_squares
    stopping = Stopping(
        max_iter=max_iter,
        gtol=gtol,
        settle=settle,
        patience=options.patience,
        memory=memory,
        certify=certify,
        floor=objective.gradient_floor() if options.tol > 0 else 0.0,
        loss_tol=options.loss_tol,
        n_iter_no_change=options.n_iter_no_change,
        loss_scale=objective.y_scale**2,
        loss_resolution=objective.loss_resolution,
        answer=objective.answer,
    )

    def diverged(at_step: int, seen_loss: float) -> DivergenceError:
        history = recorder.finish(objective.scaling, feature_names, schedule)
        return divergence_error(
            objective,
            rule,
            beta,
            batch_size,
            step=at_step,
            start_loss=stopping.start_loss,
            seen_loss=seen_loss,
            lr=schedule(at_step) if schedule is not None else math.nan,
            history=history,
            auto_used=options.lr_value == "auto",
        )

    max_steps = options.max_steps
    last_step = math.inf if max_steps is None else step + max_steps
    # steps in machine code where numba is at hand (the same numbers, see compiled.py); a
    # front end that watches every step (on_step) sees this readable loop's. Full batch
    # on the statistics runs whole runs of epochs compiled, stopping rules included (the
    # loop below still makes the last check, for its words); a LossBelow callback is a
    # level the compiled loop checks itself.
    level = type(callback) is LossBelow  # (a subclass may ask more: the readable loop)
    until_loss = callback.level if level else -math.inf  # type: ignore[union-attr]
    observed = on_step is not None or held_out is not None
    observed = observed or (callback is not None and not level)
    fast = compiled.CompiledRun(
        objective,
        rule,
        schedule,
        beta,
        batch_size,
        # the kernels know the batch gradients of the squared error and Huber's loss with
        # any penalty, and smooth full-batch steps on the statistics
        batches=not full and on_step is None,
        full=full
        and objective.path == "stats"
        and objective.smooth
        and not (exact or settle or observed),
    )
    batch_value_and_grad = objective.batch_value_and_grad
    # A batch's loss estimates the full loss; one row may weigh up to n/batch_size times more.
    batch_blowup = stopping.blowup * n / batch_size
    stop: StopReason | None = None
    # Bound methods looked up once: a full-batch step of small d costs microseconds.
    bounded = math.isfinite(recorder.max_entries)
    record = recorder.add_bounded if bounded else recorder.add
    check, update = stopping.check, opt.update
    # unbounded: the list's own append (a full-batch step is an epoch: microseconds count)
    record_epoch_loss = recorder.add_epoch_loss if bounded else recorder.epoch_loss.append
    # Norms of short vectors: math.hypot of a list beats NumPy's call overhead by 2x.
    smooth = objective.smooth
    short = d1 < 33 and not exact and smooth
    norm = objective.gradient_norm
    stationarity = objective.stationarity  # with an L1 kink: the smallest subgradient
    gnorm = -1.0
    moved = memory.moved  # the step before a pause, checked at this boundary
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            while stop is None:
                if position == 0:  # an epoch boundary: check, then start the next pass
                    if fast.full_runner is not None:
                        outcome = fast.full_runner.run(
                            objective.quadratic().augmented,
                            theta,
                            opt_state,
                            grad,
                            loss,
                            step,
                            epoch,
                            last_step,
                            stopping,
                            recorder,
                            until_loss,
                        )
                        theta, opt_state, grad = outcome.theta, outcome.opt_state, outcome.grad
                        loss, step, epoch = outcome.loss, outcome.step, outcome.epoch
                        if outcome.paused:
                            position = per_epoch
                            stop = StopReason("max_steps", f"paused after {max_steps} steps", step)
                            break
                    if short:
                        gnorm = math.hypot(*grad.tolist())
                    else:
                        gnorm = norm(grad if smooth else stationarity(theta, grad))
                    stop = check(
                        epoch,
                        step,
                        loss,
                        gnorm,
                        None if held_out is None else held_out(theta),
                        moved,
                    )
                    if (
                        stop is None
                        and callback is not None
                        and callback(Progress(epoch, step, loss, gnorm, max_iter))
                    ):
                        stop = StopReason("callback", "stopped by callback", step)
                    if stop is not None:
                        break
                    if not full:
                        order = batches_of(epoch)
                        if control:
                            anchor, anchor_grad = theta, grad
                while position < per_epoch:
                    runner, kernel_batches = fast.batch_runner, fast.kernel_batches
                    if runner is not None and kernel_batches is not None:  # compiled steps
                        assert order is not None  # not full batch
                        rows_now, visits, at, count = kernel_batches.next(order, position)
                        count = min(count, per_epoch - position)
                        if bounded:  # up to the entry that thins the history (the stride
                            # doubles there)
                            room = int(recorder.max_entries) - len(recorder.thetas)
                            count = min(count, (-step) % stride + room * stride + 1)
                        if last_step < math.inf:
                            count = min(count, int(last_step) - step)
                        ran = runner.run(
                            theta,
                            opt_state,
                            rows_now,
                            visits,
                            at,
                            count,
                            step,
                            stride,
                            fast.mean_weight,
                            batch_blowup,
                            anchor if control else None,
                            anchor_grad,
                        )
                        recorder.add_many(
                            ran.steps,
                            np.full(len(ran.steps), epoch),
                            ran.thetas,
                            ran.losses,
                            ran.gnorms,
                        )
                        if bounded:
                            stride = recorder.stride
                        theta, opt_state = ran.theta, ran.opt_state
                        step, position = step + ran.done, position + ran.done
                        kernel_batches.taken(order, ran.done)
                        if ran.blown is not None:
                            raise diverged(step, ran.blown)
                        if step >= last_step:
                            stop = StopReason("max_steps", f"paused after {max_steps} steps", step)
                            break
                        continue
                    if order is None:  # full batch: this epoch's evaluation is the step's
                        rows = None
                        batch_loss, batch_grad, batch_gnorm = loss, grad, gnorm
                    else:
                        rows = (
                            order[position * batch_size : (position + 1) * batch_size]
                            if isinstance(order, np.ndarray)
                            else next(order)
                        )
                        batch_loss, batch_grad = batch_value_and_grad(theta, rows)
                        if not batch_loss < batch_blowup:
                            raise diverged(step, batch_loss)
                        if control:
                            assert anchor is not None  # set at every epoch boundary
                            batch_grad = batch_grad - batch_value_and_grad(anchor, rows)[1]
                            batch_grad += anchor_grad
                        batch_gnorm = -1.0
                    if step % stride == 0:
                        if batch_gnorm < 0:
                            batch_gnorm = norm(batch_grad)
                        record(step, epoch, theta, batch_loss, batch_gnorm)
                        if bounded:
                            stride = recorder.stride  # doubles when the history is thinned
                    updates, new_state = update(batch_grad, opt_state, theta)
                    new_theta = apply_updates(theta, updates)
                    if settle:
                        moved = _relative_change(theta, new_theta)
                    if on_step is not None:
                        on_step(
                            StepRecord(
                                step,
                                epoch,
                                rows,
                                theta,
                                batch_loss,
                                batch_grad,
                                schedule(step) if schedule is not None else math.nan,
                                opt_state,
                                new_state,
                                updates,
                                new_theta,
                            )
                        )
                    theta, opt_state, step, position = new_theta, new_state, step + 1, position + 1
                    if step >= last_step:
                        stop = StopReason("max_steps", f"paused after {max_steps} steps", step)
                        break
                else:  # the pass is complete
                    epoch, position = epoch + 1, 0
                    loss, grad = evaluate(theta)
                    record_epoch_loss(loss)
    finally:  # a stream of batches holds a file open and a reading thread: end them
        if order is not None and not isinstance(order, np.ndarray):
            order.close()
    if stop.code == "diverged":
        raise diverged(step, loss)
    paused = stop.code == "max_steps"
    if paused:
        loss, grad = evaluate(theta)
    elif rule.answer is not None:  # the rule's own answer (FISTA's last proximal point)
        theta = rule.answer(opt_state, theta)
        loss, grad = evaluate(theta)

    if loss < 1e3 * objective.loss_resolution:  # rounding noise: the rows give full precision
        loss = objective.row_loss(theta)
    gnorm = norm(stationarity(theta, grad))
    coef = objective.minimum_norm(objective.scaling.to_original(theta))
    # the last entry is the answer returned: with many minimisers the one of smallest |w|
    # (the same predictions, loss and gradient as where descent stood)
    recorder.add(step, epoch, objective.scaling.to_scaled(coef), loss, gnorm)
    source = objective.source
    return FitResult(
        model=LinearModel(
            coef[:-1].copy(),
            float(coef[-1]),
            list(feature_names),
            source.target_name,
            objective.scaling,
            objective.fit_intercept,
        ),
        report=TrainingReport(
            loss=loss,
            grad_norm=_norm(stationarity(theta, grad)),
            n_steps=step,
            n_epochs=epoch,
            stop=stop,
            history=recorder.finish(objective.scaling, feature_names, schedule),
            lr=schedule,
            optimizer=rule.name,
            curvature=objective.known_curvature,
            path=objective.path,
            seconds=time.perf_counter() - started,
            gap=certify(gnorm),
            rank=objective.design_rank,
            objective=objective.describe(),
        ),
        state=TrainState(
            theta=theta,
            opt_state=opt_state,
            rule=rule.name,
            scaling=objective.scaling,
            step=step,
            epoch=epoch,
            position=position if paused else 0,
            seed=seed,
            n_rows=n,
            stopping=stopping.memory._replace(moved=moved) if paused else None,
            batch_size=batch_size,
            shuffle=shuffle,
            anchor=anchor if paused and control else None,
        ),
    )


def _norm(v: np.ndarray) -> float:
    return math.sqrt(float(v.dot(v)))


def _relative_change(before: np.ndarray, after: np.ndarray) -> float:
    """The largest change of a coordinate relative to its size (1 where a 0 moved)."""
    change = np.abs(after - before)
    size = np.maximum(np.abs(after), np.abs(before))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(change > 0, change / size, 0.0)
    return float(ratio.max(initial=0.0))


def _certificate(
    objective: Objective, options: FitOptions, start_gnorm: float
) -> tuple[Callable[[float], float | None], float]:
    """What a gradient norm certifies, and the gradient norm that meets ``tol``.

    With the smallest non-zero curvature ``mu`` at hand, ``|g| / sqrt(2 mu)`` bounds the
    root-mean-square distance of the predictions to least squares (relative to
    ``std(y)`` here). Without it (many rows and features on the row path) ``tol``
    falls back to the gradient relative to its start.
    """
    # a fixed number of steps (tol = 0) needs no certificate before it runs: the report
    # gives one when the curvature was computed anyway (lr='auto')
    curvature = objective.certificate_curvature(compute=options.tol > 0)
    mu = None if curvature is None else curvature.lambda_min
    if mu is not None and mu > 0:
        unit = objective.y_scale * math.sqrt(2.0 * mu)
        # a gradient is known only to its rounding: no certificate below that
        floor = objective.gradient_floor()

        def certify(gnorm: float) -> float | None:
            return (gnorm + floor) / unit

        # the gradient must certify tol with its rounding counted (else: the floor's rules)
        threshold = max(options.tol * unit - floor, 0.0)
    else:

        def certify(gnorm: float) -> float | None:
            return None

        threshold = options.tol * start_gnorm
    return certify, max(threshold, options.gtol)


def _least_squares(objective: Objective) -> np.ndarray:
    """``[w, b]`` of least squares in original units (lstsq on the rows, the yardstick)."""
    if not objective.rows_in_memory or not objective.least_squares:
        # (a penalty or Huber's loss: their own minimiser)
        return objective.scaling.to_original(objective.solution())
    batch = objective.source.rows(None)
    w, b = least_squares(batch.X, batch.y, batch.weight, fit_intercept=objective.fit_intercept)
    return np.append(w, b)
