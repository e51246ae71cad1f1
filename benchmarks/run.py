"""Side-by-side benchmarks: gradfit next to its competitors in one run, as ratios.

Run with ``make bench`` (or ``python benchmarks/run.py [--quick] [--only STEP ...]``).
Writes the table to ``benchmarks/RESULTS.md``; README.md quotes it. ``--only`` runs some
steps (``--only streaming``: the files and Dask benchmarks of ``streaming.py``) and
replaces just their sections there. Times are the best of several
repeats (``time.perf_counter``); peak memory is traced with ``tracemalloc`` (NumPy
reports its buffers to it). BLAS threads are pinned with threadpoolctl and stated.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import platform
import re
import shlex
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

sys.path.insert(0, str(Path(__file__).parent))

import accuracy
import article_b_code
import compiled as compiled_bench
import penalty
import playground
import streaming

import gradfit
from gradfit.data.io import atomic_write_text

THREADS = 2
STEP_MARK = "<!-- step: {} -->"
GROUPS = {
    "streaming": ["files", "dask"],
    "compiled": ["article B", "1e6 x 20", "1e5 x 1000", "sgd", "rules", "compile"],
    "penalty": ["lasso", "elastic net", "ridge"],
}


def best_time(func: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - start)
    return best, out


def peak_memory(func: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    func()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def rel_err(coef: np.ndarray, ref: np.ndarray) -> float:
    return float(np.linalg.norm(coef - ref) / np.linalg.norm(ref))


def article_b(rows: list[str], quick: bool) -> None:
    d = gradfit.make_article_b(5000, seed=0)
    iterations = 50 if quick else 1000
    points = list(zip(d.X, d.y, strict=True))
    t_article, (w_a, b_a) = best_time(
        lambda: article_b_code.gradient_descent(points, 5, iterations=iterations), repeat=1
    )
    t_gf, r = best_time(
        lambda: gradfit.fit(d.X, d.y, lr=0.01, max_iter=iterations, tol=0, standardize=False),
        repeat=20,
    )
    diff = float(np.abs(np.append(r.w, r.b) - np.append(w_a, b_a)).max())
    # what a sweep pays per fit: the objective (statistics, curvature) built once
    objective = gradfit.Objective(gradfit.ArraySource(d.X, d.y))
    options = gradfit.FitOptions(lr=0.01, max_iter=iterations, tol=0)
    t_run, run = best_time(lambda: gradfit.run(objective, options), repeat=20)
    run_diff = float(np.abs(np.append(run.w, run.b) - np.append(w_a, b_a)).max())
    rows.append(f"### Article B: {iterations} full-batch iterations, 5000 x 5, lr 0.01\n")
    rows.append(
        "Best of 20 for gradfit (target: 100,000x the article's own loop). `gradfit.fit` is "
        "the whole call: validation, the statistics pass, the design's rank and curvature, "
        "the compiled iterations, the history and the result; `gradfit.run` on an objective "
        "built once is what each fit of a sweep over rates costs.\n"
    )
    rows.append("| implementation | time | speed-up | final w, b max difference |")
    rows.append("|---|---:|---:|---:|")
    rows.append(f"| article's code (Python loops over rows) | {t_article:.2f} s | 1x | |")
    rows.append(
        f"| gradfit.fit ({r.path} path) | {t_gf * 1e3:.3f} ms | "
        f"**{t_article / t_gf:,.0f}x** | {diff:.1e} |"
    )
    rows.append(
        f"| gradfit.run(objective, options) | {t_run * 1e3:.3f} ms | "
        f"**{t_article / t_run:,.0f}x** | {run_diff:.1e} |"
    )
    rows.append("")


def regression_data(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = rng.uniform(-2, 2, d)
    y = X @ w + 0.5 + 0.1 * rng.standard_normal(n)
    return X, y, np.append(w, 0.5)


def normal_equations(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``np.linalg.solve(A.T @ A, A.T @ y)`` with ``A = [X 1]`` (built in the timing)."""
    A = np.column_stack([X, np.ones(len(y))])
    return np.linalg.solve(A.T @ A, A.T @ y)


def full_batch(rows: list[str], n: int, d: int, paths: list[str]) -> None:
    from sklearn.linear_model import LinearRegression, SGDRegressor

    X, y, _ = regression_data(n, d)
    w_ls, b_ls = gradfit.least_squares(X, y)
    ref = np.append(w_ls, b_ls)

    def sgd() -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = SGDRegressor(random_state=0).fit(X, y)
        return np.append(m.coef_, m.intercept_)

    def skl() -> np.ndarray:
        m = LinearRegression().fit(X, y)
        return np.append(m.coef_, m.intercept_)

    def lstsq() -> np.ndarray:
        A = np.column_stack([X, np.ones(n)])
        return np.linalg.lstsq(A, y, rcond=None)[0]

    def ours(path: str) -> Callable[[], np.ndarray]:
        def run() -> np.ndarray:
            r = gradfit.fit(
                X, y, lr="auto", tol=0, gtol=1e-9, max_iter=10000, path=path, standardize=False
            )
            return np.append(r.w, r.b)

        return run

    def defaults() -> np.ndarray:
        r = gradfit.fit(X, y)
        return np.append(r.w, r.b)

    contenders: list[tuple[str, Callable[[], np.ndarray]]] = [
        ("gradfit.fit() (defaults: conjugate gradients, tol 1e-10)", defaults)
    ]
    contenders += [(f"gradfit.fit(lr='auto', path='{p}')", ours(p)) for p in paths]
    contenders += [
        ("normal equations: solve(A.T @ A, A.T @ y), A = [X 1]", lambda: normal_equations(X, y)),
        ("scikit-learn LinearRegression", skl),
        ("numpy.linalg.lstsq", lstsq),
        ("scikit-learn SGDRegressor (defaults)", sgd),
    ]
    results = []
    for name, func in contenders:
        # the two compared (gradfit, the normal equations) best of 3; the slow ones once
        slow = "SGD" in name or (n * d > 5e7 and not name.startswith(("gradfit", "normal")))
        t, coef = best_time(func, repeat=1 if slow else 3)
        mem = peak_memory(func)
        results.append((name, t, mem, rel_err(coef, ref)))
    t_ref = next(t for name, t, _, _ in results if name.startswith("normal"))
    # the statistics' one pass against a bare read of X (a sum), as rates in GB/s
    t_stats, _ = best_time(lambda: gradfit.model.SufficientStats.from_arrays(X, y))
    t_read, _ = best_time(lambda: X.sum())
    rows.append(
        f"### Full batch, {n:,} x {d} (x ~ N(0, 1), noise 0.1), X = {X.nbytes / 2**20:.0f} MiB\n"
    )
    rows.append(
        f"The statistics' pass (`SufficientStats.from_arrays`: X^T [1 y] and X^T X, one BLAS "
        f"call each) reads X at {X.nbytes / t_stats / 1e9:.1f} GB/s; a bare read of X "
        f"(`X.sum()`) runs at {X.nbytes / t_read / 1e9:.1f} GB/s on this machine.\n"
    )
    rows.append(
        "| method | time | time / normal equations | peak memory / size of X "
        "| coefficient error vs lstsq |"
    )
    rows.append("|---|---:|---:|---:|---:|")
    for name, t, mem, err in results:
        rows.append(f"| {name} | {t:.3f} s | {t / t_ref:.2f} | {mem / X.nbytes:.2f} | {err:.1e} |")
    rows.append("")


def estimator_vs_sgd(rows: list[str], quick: bool) -> None:
    """Issue 3: time to a test MSE within 1e-6 (relative) of the least-squares optimum."""
    from sklearn.linear_model import SGDRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n, d = (50_000 if quick else 1_000_000), 20
    rng = np.random.default_rng(1)
    scales, offsets = 10.0 ** rng.uniform(-2, 2, d), rng.uniform(-100, 100, d)
    coef = rng.uniform(-2, 2, d) / scales

    def sample(m: int) -> tuple[np.ndarray, np.ndarray]:
        X = rng.standard_normal((m, d)) * scales + offsets
        return X, X @ coef + 3.0 + 0.1 * rng.standard_normal(m)

    X, y = sample(n)
    X_test, y_test = sample(n // 10)
    w, b = gradfit.least_squares(X, y)
    best = float(np.mean((X_test @ w + b - y_test) ** 2))
    contenders = [
        ("gradfit.GDRegressor()", lambda: gradfit.GDRegressor()),
        (
            "SGDRegressor() + StandardScaler",
            lambda: make_pipeline(StandardScaler(), SGDRegressor(random_state=0)),
        ),
        ("SGDRegressor()", lambda: SGDRegressor(random_state=0)),
    ]
    rows.append(
        f"### GDRegressor against SGDRegressor, {n:,} x {d}, features on scales 1e-2..1e2 "
        "with offsets (test MSE of least squares: "
        f"{best:.6f})\n"
    )
    rows.append(
        "| estimator | fit time | test MSE / optimum - 1 | within 1e-6? | time vs GDRegressor |"
    )
    rows.append("|---|---:|---:|:---:|---:|")
    results = []
    for name, make in contenders:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t, model = best_time(lambda mk=make: mk().fit(X, y), repeat=1 if "SGD" in name else 3)
            with np.errstate(all="ignore"):
                mse = float(np.mean((model.predict(X_test) - y_test) ** 2))
        results.append((name, t, mse / best - 1))
    t_ref = results[0][1]
    for name, t, excess in results:
        ok = "yes" if abs(excess) <= 1e-6 else "no"
        rows.append(f"| {name} | {t:.3f} s | {excess:.1e} | {ok} | {t / t_ref:.1f}x |")
    rows.append("")


def digits(rows: list[str], quick: bool) -> None:
    """Every digit right: worst LRE per problem against mpmath at 50 digits."""
    problems = accuracy.problems()
    if quick:
        problems = problems[:3]
    rows.append("### Every digit: worst coefficient's LRE against exact least squares\n")
    rows.append(
        "LRE = -log10(|estimate - exact| / |exact|), the number of correct significant "
        f"digits (at most {accuracy.MAX_LRE}); exact = mpmath at {accuracy.DIGITS} digits "
        "on the same float64 data. cond: of the design after centring and scaling the "
        "columns / before. gradfit with default settings; plain gradient descent with "
        "lr='auto' (100,000 steps at most) for comparison.\n"
    )
    rows.append(
        "| problem | cond | gradfit.fit() | time | lstsq | LinearRegression "
        "| gradfit lr='auto' (plain GD) |"
    )
    rows.append("|---|---:|---:|---:|---:|---:|---:|")
    worst = accuracy.MAX_LRE
    for problem in problems:
        scaled, raw = problem.condition()
        t, (w, b) = best_time(lambda p=problem: accuracy.by_gradfit(p), repeat=3)
        ours = accuracy.worst_lre(problem, w, b)
        worst = min(worst, ours)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # plain descent warns that it stopped short
            gd = accuracy.worst_lre(problem, *accuracy.by_gradfit(problem, lr="auto"))
        rows.append(
            f"| {problem.name} | {scaled:.1e} / {raw:.1e} | **{ours:.1f}** | {t * 1e3:.1f} ms "
            f"| {accuracy.worst_lre(problem, *accuracy.by_lstsq(problem)):.1f} "
            f"| {accuracy.worst_lre(problem, *accuracy.by_sklearn(problem)):.1f} | {gd:.1f} |"
        )
    rows.append(f"\nWorst gradfit LRE over all problems: {worst:.1f} (required: 7).\n")


def merge_steps(old: str, new: dict[str, str]) -> str:
    """``old`` with the sections of the steps in ``new`` replaced (found by their marks)
    or appended."""
    head, *rest = re.split(r"^<!-- step: (.+?) -->\n", old, flags=re.MULTILINE)
    sections = dict(zip(rest[::2], rest[1::2], strict=True))
    sections.update(new)
    head = head if head.endswith("\n\n") else head.rstrip("\n") + "\n\n"
    return head + "".join(STEP_MARK.format(k) + "\n" + v for k, v in sections.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--out", default=str(Path(__file__).with_name("RESULTS.md")))
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="STEP",
        help="run only these steps ('streaming' = files and dask) and update their sections",
    )
    args = parser.parse_args()
    gb = float(os.environ.get("GRADFIT_BENCH_GB", 0.05 if args.quick else 2.0))
    header = [
        "# Benchmark results\n",
        f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"{os.cpu_count()} cores; Python {platform.python_version()}, "
        f"NumPy {np.__version__}, BLAS threads pinned to {THREADS} "
        f"({', '.join(sorted({i['internal_api'] for i in threadpool_info()}))}). "
        f"Date: {datetime.date.today()}. Command: `make bench`.\n",
    ]
    rows: list[str] = []
    with threadpool_limits(THREADS):
        steps: list[tuple[str, Callable[[], None]]] = [
            ("article B", lambda: article_b(rows, args.quick)),
            ("digits", lambda: digits(rows, args.quick)),
            (
                "1e6 x 20",
                lambda: full_batch(
                    rows, 50_000 if args.quick else 1_000_000, 20, ["auto", "direct"]
                ),
            ),
            (
                "1e5 x 1000",
                lambda: full_batch(
                    rows,
                    5_000 if args.quick else 100_000,
                    100 if args.quick else 1000,
                    ["auto", "direct"],
                ),
            ),
            ("sgd", lambda: compiled_bench.sgd(rows, args.quick)),
            ("rules", lambda: compiled_bench.rules(rows, args.quick)),
            ("compile", lambda: compiled_bench.compile_times(rows)),
            ("estimator", lambda: estimator_vs_sgd(rows, args.quick)),
            ("lasso", lambda: penalty.lasso(rows, args.quick)),
            ("elastic net", lambda: penalty.elastic_net(rows, args.quick)),
            ("ridge", lambda: penalty.ridge(rows, args.quick)),
            ("playground", lambda: playground.measure(rows)),
            ("files", lambda: streaming.files(rows, gb, THREADS)),
            ("dask", lambda: streaming.dask_fit(rows, args.quick)),
        ]
        names = [name for name, _ in steps]
        only = [n for name in args.only or names for n in GROUPS.get(name, [name])]
        if unknown := set(only) - set(names):
            parser.error(f"unknown steps {sorted(unknown)}; steps: {names}, groups: {GROUPS}")
        sections: dict[str, str] = {}
        for name, step in steps:
            if name not in only:
                continue
            start = time.perf_counter()
            step()
            print(f"{name}: done in {time.perf_counter() - start:.1f} s", flush=True)
            sections[name] = "\n".join(rows) + "\n"
            rows.clear()
    if args.only:
        env = [f"{v}={os.environ[v]}" for v in ("GRADFIT_BENCH_GB",) if v in os.environ]
        command = " ".join([*env, "python benchmarks/run.py", shlex.join(sys.argv[1:])])
        for name in sections:
            sections[name] = f"Updated {datetime.date.today()} by `{command}`.\n\n" + sections[name]
        out = Path(args.out)
        old = out.read_text() if out.exists() else "\n".join(header)
        text = merge_steps(old, sections)
    else:
        text = (
            "\n".join(header)
            + "\n"
            + "".join(STEP_MARK.format(k) + "\n" + v for k, v in sections.items())
        )
    atomic_write_text(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
