"""Compiled epochs (numba) next to SGDRegressor and to gradfit's own readable loop.

``sgd``: per-sample SGD, 1,000,000 x 20, 5 epochs at a constant rate, no penalty,
shuffled every epoch, against ``SGDRegressor.fit`` with the same settings (its
``eta0`` is twice gradfit's ``lr``: its squared loss is halved); both trajectories
checked against each other unshuffled, and the compiled path against the readable one.
``rules``: updates per second of each rule, per sample and at batch 32, compiled and
readable. ``compile_times``: the first call's compilation (empty numba cache) and a
later process's start (cache on disk), each in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

import gradfit
from gradfit.train import compiled

ROWS, FEATURES, EPOCHS = 1_000_000, 20, 5
LR = 1e-3


def data(n: int, d: int = FEATURES, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.uniform(-2, 2, d) + 0.5 + 0.1 * rng.standard_normal(n)
    return X, y


def best(func: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - start)
    return min(times), out


def ours(X: np.ndarray, y: np.ndarray, **options: Any) -> gradfit.FitResult:
    settings = dict(lr=LR, optimizer="gd", standardize=False, tol=0, random_state=0)
    settings.update(options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a fixed number of epochs stops short by design
        return gradfit.fit(X, y, **settings)


def theirs(X: np.ndarray, y: np.ndarray, epochs: int, shuffle: bool) -> np.ndarray:
    from sklearn.linear_model import SGDRegressor

    model = SGDRegressor(
        penalty=None,
        alpha=0.0,
        learning_rate="constant",
        eta0=2 * LR,
        max_iter=epochs,
        tol=None,
        shuffle=shuffle,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return np.append(model.coef_, model.intercept_)


def rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


def sgd(rows: list[str], quick: bool) -> None:
    n = 50_000 if quick else ROWS
    X, y = data(n)
    ours(X[:1000], y[:1000], batch_size=1, max_iter=1)  # compile (or load) outside the timing
    t_ours, r = best(lambda: ours(X, y, batch_size=1, max_iter=EPOCHS), 3)
    t_theirs, _ = best(lambda: theirs(X, y, EPOCHS, shuffle=True), 3)
    updates = EPOCHS * n
    # the same trajectory: one unshuffled epoch each (SGDRegressor's order is its own)
    head = slice(0, min(n, 200_000))
    one = ours(X[head], y[head], batch_size=1, max_iter=1, shuffle=False)
    sk = theirs(X[head], y[head], 1, shuffle=False)
    with compiled.disabled():
        start = time.perf_counter()
        readable = ours(X[head], y[head], batch_size=1, max_iter=1, shuffle=False)
        t_readable = time.perf_counter() - start
    rows.append(
        f"### Per-sample SGD, {n:,} x {FEATURES}, {EPOCHS} epochs, constant rate, shuffled\n"
    )
    rows.append(
        f"`gradfit.fit(X, y, batch_size=1, optimizer='gd', lr={LR}, standardize=False, "
        f"max_iter={EPOCHS}, tol=0)` against `SGDRegressor(penalty=None, "
        f"learning_rate='constant', eta0={2 * LR}, max_iter={EPOCHS}, tol=None)` (its squared "
        "loss is half of gradfit's mean squared error, hence twice the rate). Best of 3, "
        "each whole call (validation and the statistics pass included). Same trajectory: "
        f"one unshuffled epoch over the first {head.stop:,} rows, final coefficients.\n"
    )
    rows.append("| implementation | time | updates/s | ratio to SGDRegressor | check |")
    rows.append("|---|---:|---:|---:|---|")
    rows.append(
        f"| SGDRegressor.fit | {t_theirs:.2f} s | {updates / t_theirs:,.0f} | 1 | "
        f"gradfit's unshuffled epoch within {rel(np.append(one.w, one.b), sk):.1e} of its |"
    )
    ratio = t_theirs / t_ours
    rows.append(
        f"| gradfit, compiled | {t_ours:.2f} s | {updates / t_ours:,.0f} | "
        f"**{ratio:.2f}**{'' if ratio >= 1 else ' (below)'} | "
        f"readable path's epoch within "
        f"{rel(np.append(one.w, one.b), np.append(readable.w, readable.b)):.1e} |"
    )
    for rule, lr in (("momentum", LR / 10), ("adam", LR)):
        t_rule, _ = best(
            lambda r=rule, a=lr: ours(X, y, optimizer=r, lr=a, batch_size=1, max_iter=EPOCHS), 3
        )  # type: ignore[misc]
        rows.append(
            f"| gradfit, compiled, optimizer='{rule}' | {t_rule:.2f} s | "
            f"{updates / t_rule:,.0f} | {t_theirs / t_rule:.2f} | "
            f"{t_rule / t_ours:.2f}x the time of plain SGD (target <= 2) |"
        )
    rows.append(
        f"| gradfit, readable path (one epoch of {head.stop:,} rows) | {t_readable:.2f} s | "
        f"{head.stop / t_readable:,.0f} | {head.stop / t_readable / (updates / t_theirs):.3f} | |"
    )
    rows.append("")
    del r


def rules(rows: list[str], quick: bool) -> None:
    n, d, epochs = (20_000 if quick else 100_000), 10, 5
    X, y = data(n, d)
    rows.append(f"### Update rules compiled and readable, {n:,} x {d}, {epochs} epochs\n")
    rows.append(
        f"Updates per second over {epochs} shuffled epochs (`gradfit.fit(..., max_iter="
        f"{epochs}, tol=0, standardize=False)`, whole call: validation and the statistics "
        "pass included), compiled (best of 3) and on the readable path (`GRADFIT_COMPILED=0`, "
        "the loop of the seeds; once), on the same rows.\n"
    )
    rows.append(
        "| rule | batch size | compiled updates/s | time vs gd compiled | readable updates/s | "
        "speed-up |"
    )
    rows.append("|---|---:|---:|---:|---:|---:|")
    plain: dict[int, float] = {}
    for batch in (1, 32):
        for rule, lr in (("gd", LR), ("momentum", LR / 10), ("nesterov", LR / 10), ("adam", LR)):
            steps = epochs * -(-n // batch)
            settings = dict(optimizer=rule, lr=lr, batch_size=batch, max_iter=epochs)
            fast, _ = best(lambda s=settings: ours(X, y, **s), 3)  # type: ignore[misc]
            with compiled.disabled():
                slow, _ = best(lambda s=settings: ours(X, y, **s), 1)  # type: ignore[misc]
            rate, slow_rate = steps / fast, steps / slow
            plain.setdefault(batch, rate)
            rows.append(
                f"| {rule} | {batch} | {rate:,.0f} | {plain[batch] / rate:.2f}x | "
                f"{slow_rate:,.0f} | **{rate / slow_rate:,.0f}x** |"
            )
    rows.append("")


# A fresh interpreter: the seconds of `import gradfit`, of the first fit that runs
# compiled epochs (compiling, or loading numba's cache), and what gradfit reports.
CHILD = """
import json, time, warnings
start = time.perf_counter()
import gradfit
from gradfit.train import compiled
imported = time.perf_counter() - start
d = gradfit.make_article_b(1000)
start = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    gradfit.fit(d.X, d.y, lr=0.01, optimizer="gd", batch_size=32, max_iter=1, tol=0,
                standardize=False)
    gradfit.fit(d.X, d.y, lr=0.01, optimizer="gd", max_iter=10, tol=0, standardize=False)
first = time.perf_counter() - start
print(json.dumps([imported, first, compiled.compile_seconds()]))
"""


def compile_times(rows: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="gradfit-numba-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        runs = []
        for _ in range(2):  # empty cache, then the cache the first run wrote
            out = subprocess.run(
                [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True
            )
            runs.append(json.loads(out.stdout))
    rows.append("### Compilation: once per machine, then from numba's cache\n")
    rows.append(
        "A fresh interpreter each: `import gradfit`, then a first mini-batch fit and a first "
        "full-batch fit (the kernels they use: dense rows, no weights, raw features). "
        "`compiled.compile_seconds()` is what gradfit reports of that time.\n"
    )
    rows.append("| process | import gradfit | first two fits | reported compile time |")
    rows.append("|---|---:|---:|---:|")
    for label, (imported, first, reported) in zip(
        ("first (empty cache)", "second (cached)"), runs, strict=True
    ):
        shown = "numba missing" if reported is None else f"{reported:.3f} s"
        rows.append(f"| {label} | {imported:.3f} s | {first:.3f} s | {shown} |")
    rows.append("")
