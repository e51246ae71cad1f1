"""A progress bar on stderr (rich) for passes over files and for long fits.

Rows per second for every pass over the file; the epoch and the loss while a fit
descends. Silent when stderr is not a terminal, with ``--quiet``, or without rich.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gradfit.train.events import Progress

__all__ = ["ProgressBar", "progress_bar"]


class ProgressBar:
    """One rich task that follows the passes over a file and the epochs of a fit."""

    def __init__(self, bar: Any, total: tuple[int, str] | None, what: str) -> None:
        self.bar, self.what = bar, what
        self.total: int | None = None if total is None else total[0]
        self.unit = "rows" if total is None else total[1]
        self.task = bar.add_task(what, total=self.total, rate="")
        self.rows, self.passes, self.started = 0, 0, time.perf_counter()
        self.status = ""

    def new_pass(self) -> None:
        """``FileTable.on_pass``: a pass over the file begins."""
        self.passes += 1
        self.bar.reset(self.task, total=self.total, rate="")
        self.rows, self.started = 0, time.perf_counter()
        self.bar.update(self.task, description=self._description())

    def read(self, rows: int, nbytes: int) -> None:
        """``FileTable.on_progress``: a record batch was read."""
        self.rows += rows
        elapsed = time.perf_counter() - self.started
        rate = (  # once it means something (the first batch may be waiting, read ahead)
            f"{self.rows / elapsed:,.0f} rows/s" if elapsed > 0.05 else ""
        )
        self.bar.update(
            self.task,
            advance=nbytes if self.unit == "bytes" else rows,
            rate=rate,
            description=self._description(),
        )

    def fit_step(self, progress: Progress) -> None:
        """``fit(callback=...)``: an epoch ended."""
        self.status = f"epoch {progress.epoch}, loss {progress.loss:.6g}"
        self.bar.update(self.task, description=self._description())

    def _description(self) -> str:
        parts = [self.what, f"pass {self.passes}" if self.passes > 1 else "", self.status]
        return ", ".join(p for p in parts if p)


@contextmanager
def progress_bar(
    table: Any, what: str, *, quiet: bool = False, console: Any = None
) -> Iterator[ProgressBar | None]:
    """A bar following ``table`` (a ``FileTable``; None: no file), or None when silent.

    ``console`` is rich's (tests pass one that records); by default stderr, shown only
    when it is a terminal.
    """
    if table is None or quiet or (console is None and not sys.stderr.isatty()):
        yield None
        return
    try:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    except ImportError:  # the cli extra is not installed: no bar
        yield None
        return
    console = console or Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        follower = ProgressBar(bar, table.size, what)
        table.on_progress, table.on_pass = follower.read, follower.new_pass
        try:
            yield follower
        finally:
            table.on_progress = table.on_pass = None
