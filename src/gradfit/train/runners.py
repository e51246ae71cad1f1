"""The compiled runners: one fit's rule, schedule and rows as the kernels take them.

``BatchRunner`` runs mini-batch and per-sample steps (``kernels.batch_steps``),
``FullBatchRunner`` full-batch runs on the statistics (``kernels.full_batch_steps``);
both turn an update rule's state (NamedTuples, ``optim/transforms.py``) into the flat
arrays the kernels update in place, and back. ``compiled.CompiledRun`` decides which
one a run uses.
"""

from __future__ import annotations

import math
import weakref
from typing import Any, NamedTuple

import numpy as np

from gradfit.data.batching import MixedRows
from gradfit.data.scaling import Scaling
from gradfit.data.validation import is_sparse
from gradfit.optim.alias import ADAM_B2, ADAM_EPS
from gradfit.optim.registry import UpdateRule
from gradfit.optim.schedules import (
    Schedule,
    constant,
    exponential_decay,
    inverse_scaling,
    step_decay,
)
from gradfit.optim.transforms import (
    ProximalState,
    ScaleByAdamState,
    ScaleByScheduleState,
    TraceState,
)

__all__ = [
    "RULE_CODES",
    "BatchRunner",
    "BatchSteps",
    "FullBatchOutcome",
    "FullBatchRunner",
    "KernelBatches",
    "kernel_calls",
    "kernel_rows",
    "rows_of",
]

# the registered rules the kernels know, by their codes there
RULE_CODES = {"gd": 0, "svrg": 0, "momentum": 1, "nesterov": 2, "adam": 3}
# calls of the kernels in this process (the tests check that compiled steps ran)
kernel_calls = 0


class _Schedule(NamedTuple):
    kind: int
    lr: float
    a: float
    b: float


def _encode_schedule(schedule: Schedule) -> _Schedule | None:
    """The built-in schedules as a code and their numbers (None: a rate per step)."""
    kind = type(schedule)
    if kind is constant:
        return _Schedule(0, schedule.lr, 0.0, 1.0)  # type: ignore[attr-defined]
    if kind is inverse_scaling:
        return _Schedule(1, schedule.lr, schedule.power, 1.0)  # type: ignore[attr-defined]
    if kind is exponential_decay:
        s: Any = schedule
        return _Schedule(2, s.lr, s.rate, float(s.every))
    if kind is step_decay:
        s = schedule
        return _Schedule(3, s.lr, s.factor, float(s.every))
    return None


class _RuleState(NamedTuple):
    """A rule's state as the kernels hold it: flat arrays and two counters."""

    velocity: np.ndarray
    mu: np.ndarray
    nu: np.ndarray
    adam_t: int
    sched_t: int


def _unpack(name: str, state: Any, d1: int) -> _RuleState:
    empty = np.zeros(0)
    if name in ("gd", "svrg"):
        if not isinstance(state, ScaleByScheduleState):  # with the proximal step's state
            state = state[0]
        return _RuleState(empty, empty, empty, 0, int(state.step))
    trace_or_adam, sched = state
    if name == "adam":
        return _RuleState(
            empty, trace_or_adam.mu.copy(), trace_or_adam.nu.copy(), trace_or_adam.step, sched.step
        )
    return _RuleState(trace_or_adam.velocity.copy(), empty, empty, 0, int(sched.step))


def _pack(name: str, s: _RuleState, proximal: bool = False) -> Any:
    sched = ScaleByScheduleState(s.sched_t)
    if name in ("gd", "svrg"):
        # the proximal step counts the same steps (optim/registry.UpdateRule.make)
        return (sched, ProximalState(s.sched_t)) if proximal else sched
    if name == "adam":
        return (ScaleByAdamState(s.adam_t, s.mu, s.nu), sched)
    return (TraceState(s.velocity), sched)


class _Rows(NamedTuple):
    """Rows as the kernels read them: dense values row after row (``X``, flat) or CSR
    arrays; None for what is absent (the other layout, weights)."""

    X: np.ndarray | None
    data: np.ndarray | None
    indices: np.ndarray | None
    indptr: np.ndarray | None
    y: np.ndarray
    weight: np.ndarray | None


_NO_RATES = np.zeros(0)
# in-memory rows as the kernels read them, made once per set of rows
_ROWS: weakref.WeakKeyDictionary[Any, _Rows] = weakref.WeakKeyDictionary()


def kernel_rows(X: Any, y: np.ndarray, weight: np.ndarray | None) -> _Rows:
    """``X`` C-ordered float64 (a copy only if it is not already), or its CSR arrays."""
    w = None if weight is None else np.ascontiguousarray(weight, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    if is_sparse(X):
        csr = X.tocsr()
        data = np.ascontiguousarray(csr.data, dtype=np.float64)
        return _Rows(None, data, csr.indices.astype(np.int64), csr.indptr.astype(np.int64), y, w)
    return _Rows(np.ascontiguousarray(X, dtype=np.float64).reshape(-1), None, None, None, y, w)


def rows_of(loss: Any) -> _Rows:
    """The kernels' view of the rows of a ``LinearRegressionLoss``, made once."""
    rows = _ROWS.get(loss)
    if rows is None:
        rows = _ROWS[loss] = kernel_rows(loss.X, loss.y, loss.sample_weight)
    return rows


class KernelBatches:
    """Where an epoch's next batches are, as the kernels read them: in-memory rows and
    the epoch's order, or the current block of a stream (converted once per block)."""

    def __init__(self, rows: _Rows | None) -> None:
        self._rows = rows
        self._block: Any = None
        self._block_rows: _Rows | None = None
        self._block_order = np.zeros(0, dtype=np.int64)

    def next(self, order: Any, position: int) -> tuple[_Rows, np.ndarray, int, int]:
        """``(rows, order of visits, index of the next batch in it, an upper bound on the
        batches there)``."""
        if isinstance(order, np.ndarray):
            assert self._rows is not None
            return self._rows, order, position, len(order)  # (the epoch's end comes first)
        block, at, left = order.block()
        if block is not self._block:
            self._block = block
            # a shuffle buffer's rows as read: the kernel walks their mixed order itself
            mixed = isinstance(block, MixedRows)
            rows = block.rows if mixed else block
            self._block_rows = kernel_rows(rows.X, rows.y, rows.weight)
            self._block_order = block.order if mixed else np.arange(len(rows.y))
        assert self._block_rows is not None
        return self._block_rows, self._block_order, at, left

    def taken(self, order: Any, batches: int) -> None:
        """``batches`` were stepped on (a stream moves past them)."""
        if not isinstance(order, np.ndarray):
            order.advance(batches)


class _Runner:
    """What both runners share: the kernels, the rule's code and numbers, the schedule."""

    def __init__(self, kernels: Any, rule: UpdateRule, schedule: Schedule, beta: float) -> None:
        self._kernels = kernels
        self.rule = rule
        self._code = RULE_CODES[rule.name]
        self.schedule = schedule
        self._encoded = _encode_schedule(schedule)
        self._hyper = (float(beta), ADAM_B2, ADAM_EPS)  # the registered Adam's
        self._powers = (0, 1.0, 1.0)  # Adam's t, b1^t and b2^t after the last call

    def _rates(self, sched_t: int, count: int) -> tuple[tuple[Any, ...], np.ndarray]:
        """The schedule as the kernels take it: a formula, or (a function of the user's
        own) its rates for the next ``count`` steps, one call each."""
        if self._encoded is not None:
            return tuple(self._encoded), _NO_RATES
        rates = np.array([self.schedule(sched_t + k) for k in range(count)], dtype=np.float64)
        return tuple(_Schedule(4, 0.0, 0.0, 1.0)), rates

    def _start_powers(self, adam_t: int) -> tuple[float, float]:
        """``(b1^t, b2^t)`` as Adam's steps carry them: from the last call when it ended at
        ``t``, else as ``t`` products (a resumed run: the same bits, once)."""
        t, p1, p2 = self._powers
        if t != adam_t:
            beta, b2 = self._hyper[0], self._hyper[1]
            p1, p2 = self._kernels.power(beta, adam_t), self._kernels.power(b2, adam_t)
        return p1, p2


class BatchRunner(_Runner):
    """Runs of steps of one fit's rule on batches of rows, in compiled code.

    ``run(theta, opt_state, rows, order, position, count, step, stride, ...)`` takes
    ``count`` steps on batches ``position, position + 1, ...`` of ``order`` (row
    indices into ``rows``), recording history entries every ``stride`` steps, and
    returns the new parameters and rule state, as the readable loop would have.
    """

    def __init__(
        self,
        kernels: Any,
        rule: UpdateRule,
        schedule: Schedule,
        beta: float,
        scaling: Scaling,
        fit_intercept: bool,
        batch_size: int,
        penalty: Any = None,
        epsilon: float | None = None,
    ) -> None:
        super().__init__(kernels, rule, schedule, beta)
        # Huber's threshold and the penalty's weights per coordinate (None: absent; the
        # kernels compile without them); the L1 part is a proximal step
        self._epsilon = None if epsilon is None else float(epsilon)
        self._l1 = self._l2 = None
        if penalty is not None:
            if penalty.l1.any():
                self._l1 = np.ascontiguousarray(penalty.l1, dtype=np.float64)
            if penalty.l2.any():
                self._l2 = np.ascontiguousarray(penalty.l2, dtype=np.float64)
        if scaling.is_identity:  # None: the kernels compile without the scaling
            self._mean, self._inv_scale = None, None
        else:  # a multiplication instead of a division per value: rounding-level changes
            self._mean = np.ascontiguousarray(scaling.mean, dtype=np.float64)
            self._inv_scale = 1.0 / np.ascontiguousarray(scaling.scale, dtype=np.float64)
        self._intercept = bool(fit_intercept)
        self._batch_size = int(batch_size)
        self._control = rule.control_variate

    def run(
        self,
        theta: np.ndarray,
        opt_state: Any,
        rows: _Rows,
        order: np.ndarray,
        position: int,
        count: int,
        step: int,
        stride: int,
        mean_weight: float,
        blowup: float,
        anchor: np.ndarray | None,
        anchor_grad: np.ndarray | None,
    ) -> BatchSteps:
        """``count`` steps from step ``step``; history entries every ``stride`` steps."""
        d1 = theta.shape[0]
        new_theta = theta.copy()
        state = _unpack(self.rule.name, opt_state, d1)
        schedule, rates = self._rates(state.sched_t, count)
        capacity = count // stride + 2
        steps = np.empty(capacity, dtype=np.int64)
        thetas = np.empty((capacity, d1))
        losses, gnorms = np.empty(capacity), np.empty(capacity)
        control = self._control and anchor is not None
        done, status, stop_loss, entries, sched_t, adam_t, powers = _call(
            self._kernels.batch_steps,
            (
                rows.X, rows.data, rows.indices, rows.indptr, rows.y, rows.weight,
                order, position, count, self._batch_size,
                self._mean, self._inv_scale, self._intercept, float(mean_weight),
                new_theta, self._code, self._hyper,
                state.velocity, state.mu, state.nu, state.adam_t,
                self._start_powers(state.adam_t), schedule, state.sched_t, rates,
                anchor if control else None, anchor_grad if control else None,
                float(blowup), step, stride, steps, thetas, losses, gnorms,
                self._epsilon, self._l1, self._l2,
            ),
        )  # fmt: skip
        self._powers = (adam_t, *powers)
        new_state = _pack(
            self.rule.name,
            state._replace(adam_t=adam_t, sched_t=sched_t),
            proximal=self._l1 is not None,
        )
        return BatchSteps(
            new_theta,
            new_state,
            int(done),
            float(stop_loss) if status else None,
            steps[:entries],
            thetas[:entries],
            losses[:entries],
            gnorms[:entries],
        )


class BatchSteps(NamedTuple):
    """What a run of compiled steps did: the parameters and rule state after it, the
    steps taken, the loss of a batch that blew up (None: none did), and the history
    entries it recorded."""

    theta: np.ndarray
    opt_state: Any
    done: int
    blown: float | None
    steps: np.ndarray
    thetas: np.ndarray
    losses: np.ndarray
    gnorms: np.ndarray


class FullBatchOutcome(NamedTuple):
    """Where compiled full-batch steps stopped: before the check that ends the run, or
    paused after ``max_steps``."""

    theta: np.ndarray
    opt_state: Any
    grad: np.ndarray
    loss: float
    step: int
    epoch: int
    paused: bool


class FullBatchRunner(_Runner):
    """Full-batch steps on the statistics' quadratic, stopping rules included, compiled.

    ``run`` steps until ``Stopping.check`` would end the run (which the loop then
    calls, for the reason in words), or until ``last_step``; the history and the
    stopping rules' counters come out as the readable loop leaves them.
    """

    def run(
        self,
        augmented: np.ndarray,
        theta: np.ndarray,
        opt_state: Any,
        grad: np.ndarray,
        loss: float,
        step: int,
        epoch: int,
        last_step: float,
        stopping: Any,
        recorder: Any,
        until_loss: float = -math.inf,
    ) -> FullBatchOutcome:
        kernels = self._kernels
        theta, grad = theta.copy(), grad.copy()
        d1 = theta.shape[0]
        state = _unpack(self.rule.name, opt_state, d1)
        velocity, mu, nu = state.velocity, state.mu, state.nu
        adam_t, sched_t = state.adam_t, state.sched_t
        powers = self._start_powers(adam_t)
        limits = stopping.limits()
        last = min(last_step, 2.0**62)
        # Entries for the run's steps, at most 32 MiB a call: a short run in one call
        # (np.empty costs nothing until written), a long one in calls 4x larger each; a
        # rate function of the user's own is called only for steps that may run.
        most = max(1, 2**22 // d1)
        wanted = 16 if self._encoded is None else 1024
        while True:
            # (each step is an epoch: at most max_iter - epoch of them are left to take)
            left = int(min(stopping.max_iter - epoch, last - step, 2**62))
            capacity = max(1, min(wanted, most, left))
            schedule, rates = self._rates(sched_t, capacity)
            steps = np.empty(capacity, dtype=np.int64)
            thetas = np.empty((capacity, d1))
            losses, gnorms, epoch_losses = (np.empty(capacity) for _ in range(3))
            step0, epoch0 = step, epoch
            status, step, epoch, loss, entries, seen, counters, adam_t, powers, sched_t = _call(
                kernels.full_batch_steps,
                (
                    augmented, theta, grad, float(loss), self._code, self._hyper,
                    velocity, mu, nu, adam_t, powers, schedule, sched_t, rates,
                    step, epoch, float(last), limits, float(until_loss), stopping.counters,
                    recorder.stride, steps, thetas, losses, gnorms, epoch_losses,
                ),
            )  # fmt: skip
            stopping.counters = counters
            recorder.add_many(
                steps[:entries],
                epoch0 + (steps[:entries] - step0),
                thetas[:entries],
                losses[:entries],
                gnorms[:entries],
            )
            recorder.add_epoch_losses(epoch_losses[:seen])
            if status != kernels.MORE:
                break
            wanted = capacity * 4
        self._powers = (adam_t, *powers)
        new_state = _pack(self.rule.name, _RuleState(velocity, mu, nu, adam_t, sched_t))
        return FullBatchOutcome(
            theta, new_state, grad, float(loss), int(step), int(epoch), status == kernels.PAUSE
        )


def _call(kernel: Any, args: tuple[Any, ...]) -> Any:
    """``kernel(*args)``, counted (the tests check that compiled steps ran)."""
    global kernel_calls
    kernel_calls += 1
    return kernel(*args)
