"""Compiled steps: the loop's batches and full-batch runs in machine code (numba).

The readable loop (``train/loop.py``) stays the reference: it runs whenever the
compiled steps do not apply (a rule or chain of the user's own, ``on_step``, a callback
other than ``LossBelow``, numba missing) and the tests hold the two to 1e-12, step for
step. Compiled steps change *how* steps are computed, nothing else: the kernels record
the history at the loop's stride and apply ``Stopping``'s rules, whose last check (and
words) stay the loop's, as does the divergence diagnosis.

``import gradfit`` never imports numba: the first compiled run of a process loads the
kernels (about half a second, from numba's disk cache; the first time on a machine
each combination of rows, weights, scaling and rule kind used compiles in 1 to 2 s),
and ``compile_seconds()`` reports what that cost. ``GRADFIT_COMPILED=0`` (or
``disabled()`` in a block) runs the readable loop: for many short fits in fresh
processes, where loading would cost more than it saves.

Examples
--------
>>> import gradfit
>>> from gradfit.train import compiled
>>> d = gradfit.make_article_b(2000)
>>> options = dict(lr=0.01, batch_size=32, max_iter=3, tol=0, random_state=0)
>>> with compiled.forced():
...     a = gradfit.fit(d.X, d.y, **options)
>>> with compiled.disabled():
...     b = gradfit.fit(d.X, d.y, **options)
>>> bool(abs(a.w - b.w).max() < 1e-12 * abs(b.w).max())
True
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from gradfit.exceptions import InvalidInputError
from gradfit.optim.registry import RULES, UpdateRule
from gradfit.optim.schedules import Schedule
from gradfit.train.runners import (
    RULE_CODES,
    BatchRunner,
    FullBatchRunner,
    KernelBatches,
    rows_of,
)

__all__ = [
    "CompiledRun",
    "compile_seconds",
    "disabled",
    "forced",
    "is_available",
    "mode",
]

_switch = threading.local()
_kernels: Any = None
_compile_seconds: float | None = None
_lock = threading.Lock()


def _kernel_module() -> Any:
    """The numba kernels, compiled (or loaded from numba's cache) on first use; None
    without numba."""
    global _kernels, _compile_seconds
    with _lock:
        if _kernels is None:
            started = time.perf_counter()
            try:
                from gradfit.train import kernels
            except ImportError:  # numba is an optional extra ('gradfit[fast]')
                _kernels = False
                return None
            _kernels = kernels
            _compile_seconds = time.perf_counter() - started  # numba's own import
            _listen_to_compilation()
    return _kernels or None


_MODES = dict.fromkeys(("0", "false", "no", "off", "never"), "off")
_MODES |= dict.fromkeys(("1", "true", "yes", "on", "always"), "on")


def mode() -> str:
    """'on' (the default: compiled steps wherever they apply) or 'off' (the readable
    loop): from ``disabled()``/``forced()`` in this thread, else the environment
    variable ``GRADFIT_COMPILED`` (1 or 0)."""
    chosen = getattr(_switch, "mode", None)
    if chosen is not None:
        return str(chosen)
    value = os.environ.get("GRADFIT_COMPILED", "").strip().lower() or "1"  # empty: unset
    if value not in _MODES:
        raise InvalidInputError(
            f"GRADFIT_COMPILED={value!r} is not a setting: use 1 (compiled steps, the "
            "default) or 0 (the readable loop)"
        )
    return _MODES[value]


def is_available() -> bool:
    """Whether compiled steps can run here: numba installed and ``mode()`` not 'off'.
    Compiles nothing."""
    if mode() == "off":
        return False
    if _kernels is not None:
        return bool(_kernels)
    import importlib.util

    return importlib.util.find_spec("numba") is not None


def compile_seconds() -> float | None:
    """Seconds this process spent compiling (or loading from cache) the kernels; None
    before their first use."""
    return _compile_seconds


@contextlib.contextmanager
def _mode(value: str) -> Iterator[None]:
    before = getattr(_switch, "mode", None)
    _switch.mode = value
    try:
        yield
    finally:
        _switch.mode = before


def disabled() -> contextlib.AbstractContextManager[None]:
    """Run the readable loop inside this block (in this thread)."""
    return _mode("off")


def forced() -> contextlib.AbstractContextManager[None]:
    """Run compiled steps inside this block whatever ``GRADFIT_COMPILED`` says (in this
    thread; the tests' way to compare the two paths)."""
    return _mode("on")


def _listen_to_compilation() -> None:
    """Add numba's compile events of gradfit's kernels (cache loads included) to
    ``compile_seconds()``: their time only, not the first call's work."""
    from numba.core import event

    class Timer(event.Listener):
        def __init__(self) -> None:
            self.open: list[tuple[bool, float]] = []  # (one of ours, started) per event

        def on_start(self, ev: Any) -> None:
            dispatcher = ev.data.get("dispatcher") if isinstance(ev.data, dict) else None
            module = getattr(getattr(dispatcher, "py_func", None), "__module__", "")
            ours = not self.open and module == "gradfit.train.kernels"  # outermost only
            self.open.append((ours, time.perf_counter()))

        def on_end(self, ev: Any) -> None:
            global _compile_seconds
            ours, started = self.open.pop()
            if ours:
                _compile_seconds = (_compile_seconds or 0.0) + time.perf_counter() - started

    event.register("numba:compile", Timer())


def _usable(rule: UpdateRule, schedule: Schedule | None) -> bool:
    """Whether the kernels know this rule and schedule (the built-in ones)."""
    return schedule is not None and rule.name in RULE_CODES and RULES.get(rule.name) is rule


class CompiledRun:
    """The compiled runners one run of the loop uses (None where they do not apply):
    ``batch_runner`` (mini-batch and per-sample steps, with ``kernel_batches`` and
    ``mean_weight``) and ``full_runner`` (full-batch runs on the statistics)."""

    def __init__(
        self,
        objective: Any,
        rule: UpdateRule,
        schedule: Schedule | None,
        beta: float,
        batch_size: int,
        *,
        batches: bool,
        full: bool,
    ) -> None:
        self.batch_runner: BatchRunner | None = None
        self.full_runner: FullBatchRunner | None = None
        self.kernel_batches: KernelBatches | None = None
        self.mean_weight = 1.0
        if not ((batches or full) and _usable(rule, schedule) and is_available()):
            return
        kernels = _kernel_module()
        if kernels is None:
            return
        assert schedule is not None  # _usable
        if full:
            self.full_runner = FullBatchRunner(kernels, rule, schedule, beta)
            return
        self.batch_runner = BatchRunner(
            kernels,
            rule,
            schedule,
            beta,
            objective.scaling,
            objective.fit_intercept,
            batch_size,
            penalty=getattr(objective, "scaled_penalty", None),
            epsilon=objective.epsilon if getattr(objective, "huber", False) else None,
        )
        self.kernel_batches = KernelBatches(None if objective.streamed else rows_of(objective.rows))
        self.mean_weight = objective.mean_weight
