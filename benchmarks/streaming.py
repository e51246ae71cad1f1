"""Streaming benchmarks: gradfit on files and on Dask arrays, next to its competitors.

``files``: ``gradfit fit`` and ``gradfit predict`` (child processes) on a CSV of
``GRADFIT_BENCH_GB`` gigabytes (default 2.0) and a Parquet file of the same rows, against
pyarrow's own streaming read of the same file: rows/s, their ratio, peak RSS of each child
(``os.wait4``), the coefficients checked against least squares on the rows written.

``dask_fit``: ``gradfit.fit`` on dask arrays generated on a two-worker ``LocalCluster``
(larger than one worker's memory limit), against dask-ml's ``LinearRegression`` and the
in-memory fits (gradfit on NumPy arrays, ``numpy.linalg.lstsq``): seconds and coefficient
error relative to ``lstsq``.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

FEATURES = 20
GROUP_ROWS = 1 << 20  # Parquet row group (and generation block)
HEAD_ROWS = 1000  # rows kept to check the predictions
MAX_RSS_MB = 300
MIN_RATIO = 0.70
MIN_MINIBATCH_RATIO = 0.50  # mini-batch descent streamed at batch 32 (compiled epochs)
EPOCHS = 3
MINIBATCH = ["--batch-size", "32", "--optimizer", "gd", "--lr", "0.001", "--tol", "0"]
MINIBATCH += ["--max-iter", str(EPOCHS)]

# pyarrow's own streaming read, run in a child process like gradfit's commands:
# argv: path, "csv" or "parquet", column names; prints the rows and the read's seconds.
PYARROW_READ = """
import sys, time
import pyarrow as pa, pyarrow.csv as pcsv, pyarrow.parquet as pq
path, kind, names = sys.argv[1], sys.argv[2], sys.argv[3:]
start = time.perf_counter()
if kind == "csv":
    batches = pcsv.open_csv(  # pyarrow's default blocks (1 MiB), as gradfit reads
        path,
        convert_options=pcsv.ConvertOptions(column_types=dict.fromkeys(names, pa.float64())),
    )
else:
    batches = pq.ParquetFile(path).iter_batches(batch_size=65536)
rows = sum(batch.num_rows for batch in batches)
print(rows, time.perf_counter() - start)
"""


# Runs argv[2:] and writes its wall seconds, peak RSS (KiB) and exit status to argv[1].
# A child's ru_maxrss starts from the high-water mark of the process it was forked from
# (Linux keeps it across exec), so the command is forked from this small process rather
# than from the benchmark's, and os.wait4 gives that command's own rusage.
WAIT4 = """
import os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as report:
    print(seconds, usage.ru_maxrss, os.waitstatus_to_exitcode(status), file=report)
"""


@dataclass
class Child:
    """One child process's outcome: wall seconds, peak RSS (bytes), exit status, output."""

    seconds: float
    peak_rss: int
    returncode: int
    stdout: str
    stderr: str


def run_child(args: list[str], env: dict[str, str], workdir: Path) -> Child:
    """Runs ``args`` through ``WAIT4``: its wall time and its own peak RSS (``os.wait4``)."""
    out, err, report = workdir / "child.out", workdir / "child.err", workdir / "child.rusage"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        wrapper = [sys.executable, "-c", WAIT4, str(report), *args]
        subprocess.run(wrapper, stdout=stdout, stderr=stderr, env=env, cwd=workdir, check=True)
    seconds, maxrss_kib, returncode = report.read_text().split()
    return Child(
        float(seconds), int(maxrss_kib) * 1024, int(returncode), out.read_text(), err.read_text()
    )


def best_child(args: list[str], env: dict[str, str], workdir: Path, repeat: int) -> Child:
    """The fastest of ``repeat`` runs (the first that fails, if one does)."""
    runs = []
    for _ in range(repeat):
        child = run_child(args, env, workdir)
        if child.returncode != 0:
            return child
        runs.append(child)
    return min(runs, key=lambda c: c.seconds)


@dataclass
class Data:
    """The files written, their rows, and least squares on those rows."""

    csv: Path
    parquet: Path
    names: list[str]
    n_rows: int
    coef: np.ndarray  # w..., b: least squares from A^T A and A^T y, A = [X 1]
    head: np.ndarray  # the first HEAD_ROWS rows of X


def write_data(directory: Path, target_bytes: float, seed: int = 0) -> Data:
    """Writes y = X w + 0.5 + 0.1 noise as CSV (at least ``target_bytes``) and Parquet.

    Blocks of at most 2^20 rows go to both files (one Parquet row group each) while
    A^T A and A^T y accumulate in float64; pyarrow writes floats that read back exactly.
    """
    rng = np.random.default_rng(seed)
    w = rng.uniform(-2, 2, FEATURES)
    names = [f"x{i}" for i in range(FEATURES)] + ["y"]
    schema = pa.schema([(name, pa.float64()) for name in names])

    def block(m: int) -> tuple[np.ndarray, np.ndarray, pa.Table]:
        Xt = rng.standard_normal((FEATURES, m))  # a row per column: contiguous columns
        y = w @ Xt + 0.5 + 0.1 * rng.standard_normal(m)
        return Xt, y, pa.Table.from_arrays([*Xt, y], schema=schema)

    sample = pa.BufferOutputStream()
    pcsv.write_csv(block(10_000)[2], sample, pcsv.WriteOptions(include_header=False))
    bytes_per_row = sample.getvalue().size / 10_000

    csv, parquet = directory / "data.csv", directory / "data.parquet"
    G = np.zeros((FEATURES + 1, FEATURES + 1))
    c = np.zeros(FEATURES + 1)
    n, head = 0, np.empty((0, FEATURES))
    with (
        pa.OSFile(str(csv), "wb") as sink,
        pcsv.CSVWriter(sink, schema) as csv_writer,
        pq.ParquetWriter(parquet, schema) as parquet_writer,
    ):
        while sink.tell() < target_bytes:
            left = math.ceil((target_bytes - sink.tell()) / bytes_per_row * 1.01)
            Xt, y, table = block(min(GROUP_ROWS, max(left, 1024)))
            csv_writer.write_table(table)
            parquet_writer.write_table(table, row_group_size=GROUP_ROWS)
            At = np.vstack([Xt, np.ones(len(y))])
            G += At @ At.T
            c += At @ y
            if len(head) < HEAD_ROWS:
                head = np.vstack([head, Xt[:, : HEAD_ROWS - len(head)].T])
            n += len(y)
    return Data(csv, parquet, names, n, np.linalg.solve(G, c), head)


def model_coef(path: Path) -> np.ndarray:
    """w..., b of a gradfit model file (its ``model`` entry)."""
    model = json.loads(path.read_text())["model"]
    return np.append(model["w"], model["b"])


def max_rel(coef: np.ndarray, ref: np.ndarray) -> float:
    """max |coef - ref| / max |ref|."""
    return float(np.abs(coef - ref).max() / np.abs(ref).max())


def read_predictions(path: Path) -> np.ndarray:
    """The single column of a predictions file (CSV or Parquet)."""
    table = pq.read_table(path) if path.suffix == ".parquet" else pcsv.read_csv(path)
    return table.column(0).to_numpy()


def failure(child: Child) -> str:
    """The table's note for a command that failed: exit status and stderr's last line."""
    lines = [line for line in child.stderr.splitlines() if line.strip()]
    return f"**exit {child.returncode}**: {lines[-1] if lines else '(no stderr)'}"


def files(rows: list[str], gb: float, threads: int, repeat: int = 3) -> None:
    """``gradfit fit`` / ``gradfit predict`` on CSV and Parquet against pyarrow's reader."""
    directory = Path(tempfile.mkdtemp(prefix="gradfit-bench-", dir="/tmp"))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.update({var: str(threads) for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")})
    cli = [sys.executable, "-m", "gradfit.cli"]
    try:
        data = write_data(directory, gb * 1e9)
        sizes = {path: path.stat().st_size / 1e9 for path in (data.csv, data.parquet)}
        rows.append(
            f"### Streaming files: `gradfit fit` and `gradfit predict` against pyarrow's "
            f"streaming read, {data.n_rows:,} rows x {FEATURES} features + y\n"
        )
        rows.append(
            f"CSV {sizes[data.csv]:.2f} GB, Parquet {sizes[data.parquet]:.2f} GB (row groups "
            f"of {GROUP_ROWS:,} rows, snappy) of y = X w + 0.5 + 0.1 noise, x ~ N(0, 1), in "
            "/tmp (in the page cache). Each command runs as a child process "
            "(`python -m gradfit.cli ... --quiet`, wall time including interpreter start-up, "
            f"best of {repeat}; OMP/OpenBLAS threads {threads}); peak RSS of that child from "
            "`os.wait4` (forked from a small wrapper process, not from the benchmark's). "
            "pyarrow's read runs in a child too, timed the same way (wall time, start-up "
            "and `import pyarrow` included): CSV with `open_csv` (pyarrow's default 1 MiB "
            "blocks, every column float64), Parquet with `ParquetFile.iter_batches(65536)`. "
            "Fit checked against least "
            "squares on the rows written (normal equations accumulated in float64 while "
            "writing; max |w - w_ref| / max |w_ref|); predictions: row count and the first "
            f"{HEAD_ROWS:,} rows against X w + b of the model file.\n"
        )
        rows.append(
            "| file | command | time | rows/s | ratio to pyarrow's read "
            f"(target >= {MIN_RATIO:.2f}) | peak RSS (target <= {MAX_RSS_MB} MB) | check |"
        )
        rows.append("|---|---|---:|---:|---:|---:|---|")
        for kind, path in (("CSV", data.csv), ("Parquet", data.parquet)):
            rows.extend(measure_file(kind, path, data, cli, env, directory, repeat))
        rows.append("")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def measure_file(
    kind: str,
    path: Path,
    data: Data,
    cli: list[str],
    env: dict[str, str],
    workdir: Path,
    repeat: int,
) -> list[str]:
    """The three table rows of one file: pyarrow's read, ``gradfit fit``, ``gradfit predict``."""
    out: list[str] = []
    ext = path.suffix
    read = best_child(
        [sys.executable, "-c", PYARROW_READ, str(path), ext[1:], *data.names], env, workdir, repeat
    )
    if read.returncode != 0:
        raise RuntimeError(f"pyarrow's read of {path} failed:\n{read.stderr}")
    n_read, seconds = read.stdout.split()
    # both sides timed the same way: the child's wall time, interpreter start-up included
    seconds = f"{read.seconds:.6f}"
    base = int(n_read) / read.seconds
    label = (
        "`pyarrow.csv.open_csv`, all batches"
        if kind == "CSV"
        else "`ParquetFile.iter_batches`, all batches"
    )
    check = "" if int(n_read) == data.n_rows else f"**{n_read} rows read**"
    out.append(
        f"| {kind} | {label} | {float(seconds):.2f} s | {base:,.0f} | 1 "
        f"| {read.peak_rss / 1e6:.0f} MB | {check} |"
    )

    model = workdir / "model.json"
    fit = best_child(
        [*cli, "fit", str(path), "--target", "y", "--quiet", "-o", str(model)], env, workdir, repeat
    )
    if fit.returncode != 0:
        check = failure(fit)
    else:
        err = max_rel(model_coef(model), data.coef)
        check = f"coefficients within {err:.1e} of least squares" + (
            "" if err <= 1e-8 else " **(> 1e-8)**"
        )
    out.append(
        result_row(kind, "`gradfit fit DATA --target y -o model.json`", fit, data, base, check)
    )

    # mini-batch descent streamed from the file (compiled epochs): one pass for the
    # statistics (the epochs' losses and the stopping rules), then EPOCHS passes
    minibatch = best_child(
        [*cli, "fit", str(path), "--target", "y", "--quiet", "-o", str(model), *MINIBATCH],
        env,
        workdir,
        repeat,
    )
    check = failure(minibatch) if minibatch.returncode != 0 else ""
    out.append(
        result_row(
            kind,
            f"`gradfit fit DATA --target y {' '.join(MINIBATCH)}` "
            f"(rows/s: {EPOCHS} epochs of rows descended; {EPOCHS + 1} passes read)",
            minibatch,
            data,
            base,
            check,
            rows=EPOCHS * data.n_rows,
            floor=MIN_MINIBATCH_RATIO,
        )
    )

    predictions = workdir / f"predictions{ext}"
    if fit.returncode != 0:
        out.append(f"| {kind} | `gradfit predict` | | | | | not run: no model |")
        return out
    predict = best_child(
        [*cli, "predict", str(model), str(path), "-o", str(predictions), "--quiet"],
        env,
        workdir,
        repeat,
    )
    if predict.returncode != 0:
        check = failure(predict)
    else:
        got = read_predictions(predictions)
        coef = model_coef(model)
        want = data.head @ coef[:-1] + coef[-1]
        err = float(np.abs(got[:HEAD_ROWS] - want).max() / np.abs(want).max())
        check = f"{len(got):,} predictions, first {HEAD_ROWS:,} within {err:.0e}"
        if len(got) != data.n_rows or err > 1e-12:
            check = f"**{check}**"
    out.append(
        result_row(
            kind,
            f"`gradfit predict model.json DATA -o predictions{ext}`",
            predict,
            data,
            base,
            check,
        )
    )
    predictions.unlink(missing_ok=True)
    return out


def result_row(
    kind: str,
    command: str,
    child: Child,
    data: Data,
    base: float,
    check: str,
    rows: int | None = None,
    floor: float = MIN_RATIO,
) -> str:
    """A table row for a gradfit command: time, rows/s, ratio (target ``floor``), peak
    RSS, check; ``rows`` are the rows it processed (default: the file's)."""
    rss = child.peak_rss / 1e6
    if child.returncode != 0:
        return f"| {kind} | {command} | {child.seconds:.2f} s | | | {rss:.0f} MB | {check} |"
    rate = (data.n_rows if rows is None else rows) / child.seconds
    ratio = rate / base
    target = "" if floor == MIN_RATIO else f" (target >= {floor:.2f})"
    return (
        f"| {kind} | {command} | {child.seconds:.2f} s | {rate:,.0f} "
        f"| {ratio:.2f}{target}{'' if ratio >= floor else ' **(below)**'} "
        f"| {rss:.0f} MB{'' if rss <= MAX_RSS_MB else ' **(over)**'} | {check} |"
    )


def timed(func: Callable[[], Any]) -> tuple[float, Any, str | None]:
    """Seconds, result, and the error's message if ``func`` raised (recorded, not hidden)."""
    start = time.perf_counter()
    try:
        out = func()
    except Exception as exc:
        traceback.print_exc()
        return time.perf_counter() - start, None, f"{type(exc).__name__}: {exc}"
    return time.perf_counter() - start, out, None


def dask_fit(rows: list[str], quick: bool) -> None:
    """gradfit.fit on dask arrays against dask-ml and the in-memory fits (seconds, error)."""
    import warnings

    import dask.array as da
    from dask_ml.linear_model import LinearRegression
    from distributed import Client, LocalCluster

    import gradfit

    n, d, chunk = (800_000, 10, 100_000) if quick else (8_000_000, 10, 500_000)
    memory_limit = "600MB"  # dask-ml's workers die at 400MB (KilledWorker)
    directory = tempfile.mkdtemp(prefix="gradfit-dask-", dir="/tmp")
    try:
        with (
            LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
                local_directory=directory,
                memory_limit=memory_limit,
            ) as cluster,
            Client(cluster),
        ):
            rs = da.random.RandomState(0)
            w_true = np.linspace(-2, 2, d)
            X = rs.standard_normal((n, d), chunks=(chunk, d))
            y = X @ w_true + 1 + 0.1 * rs.standard_normal(n, chunks=chunk)

            def ours() -> np.ndarray:
                r = gradfit.fit(X, y)
                return np.append(r.w, r.b)

            def dask_ml(solver: str) -> Callable[[], np.ndarray]:
                def run() -> np.ndarray:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        # C huge: its default L2 penalty (C = 1) made negligible, so both
                        # solve least squares
                        m = LinearRegression(solver=solver, C=1e10).fit(X, y)
                    return np.append(m.coef_, m.intercept_)

                return run

            contenders: list[tuple[str, Callable[[], Any]]] = [
                (
                    "one pass over the data (generate X and y on the workers, sum)",
                    lambda: da.compute(X.sum(), y.sum()),
                ),
                ("gradfit.fit(X, y) on the dask arrays (defaults)", ours),
                (
                    "dask_ml LinearRegression(solver='gradient_descent')",
                    dask_ml("gradient_descent"),
                ),
                ("dask_ml LinearRegression(solver='lbfgs')", dask_ml("lbfgs")),
            ]
            results = [(name, *timed(func)) for name, func in contenders]
            # block by block: one task holding all of X would exceed a worker's limit
            blocks = [*X.to_delayed().ravel(), *y.to_delayed().ravel()]
            t_gather, parts, error = timed(lambda: da.compute(*blocks))
            if error is not None:
                raise RuntimeError(f"gathering the data failed: {error}")
            Xn, yn = (
                np.concatenate(parts[: len(blocks) // 2]),
                np.concatenate(parts[len(blocks) // 2 :]),
            )
        t_ours, r, _ = timed(lambda: gradfit.fit(Xn, yn))
        t_ref, ref, _ = timed(
            lambda: np.linalg.lstsq(np.column_stack([Xn, np.ones(n)]), yn, rcond=None)[0]
        )
    finally:
        shutil.rmtree(directory, ignore_errors=True)

    results += [
        ("gather X, y to the client (`dask.compute` of the blocks)", t_gather, None, None),
        ("gradfit.fit on the NumPy arrays (in memory)", t_ours, np.append(r.w, r.b), None),
        ("numpy.linalg.lstsq on [X 1] (in memory)", t_ref, ref, None),
    ]
    t_dask = results[1][1]
    rows.append(
        f"### Dask: {n:,} x {d} float64 ({Xn.nbytes / 2**20:.0f} MiB) generated on a "
        f"LocalCluster of 2 worker processes (1 thread, memory limit {memory_limit} each), "
        f"chunks of {chunk:,} rows\n"
    )
    rows.append(
        "y = X w + 1 + 0.1 noise with `da.random.RandomState(0)`, larger than one worker's "
        "memory limit and not persisted: every pass "
        "over the data generates it again on the workers. dask-ml "
        f"{importlib.metadata.version('dask-ml')} with C = 1e10 (its default L2 penalty, "
        "C = 1, made negligible: least squares, as gradfit) and its default max_iter 100, "
        "tol 1e-4. Coefficient error: max |w - w_ref| "
        "/ max |w_ref| over w and b, against `numpy.linalg.lstsq` on the gathered arrays. "
        "One run each.\n"
    )
    rows.append("| method | time | time / gradfit on dask | coefficient error vs lstsq |")
    rows.append("|---|---:|---:|---:|")
    for name, t, coef, error in results:
        if error is not None:
            rows.append(f"| {name} | failed after {t:.1f} s: `{error}` | | |")
            continue
        err = (
            ""
            if not isinstance(coef, np.ndarray)
            else ("reference" if coef is ref else f"{max_rel(coef, ref):.1e}")
        )
        rows.append(f"| {name} | {t:.2f} s | {t / t_dask:.2f} | {err} |")
    rows.append("")
