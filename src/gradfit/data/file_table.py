"""The reader of data files: pyarrow's, for CSV (also gzip-compressed), Parquet and folders
of Parquet files, in record batches.

A ``FileTable`` knows a file's columns, checked once (each named once, a row index that
pandas or R wrote, which columns are numeric), and hands out float64 blocks of chosen
columns, read by a thread one batch ahead, with every bad value named by column and data
row. ``FileSource`` (``gradfit.data.stream``) streams rows to the engine through it; the
command line's ``predict``, ``read_table`` and the playground's uploads read with it too.
pyarrow is imported on first use (``pip install 'gradfit[data]'``).
"""

from __future__ import annotations

import contextlib
import json
import math
import queue
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from gradfit.data.file_checks import (
    PARQUET,
    check_header,
    counts_rows,
    data_files,
    has_rows,
    index_error,
    listing,
    ragged,
    require_pyarrow,
    unnamed,
    unreadable,
)
from gradfit.data.validation import close_matches
from gradfit.exceptions import InvalidInputError

T = TypeVar("T")

__all__ = ["FileTable"]

# Record batches of about this many bytes of text (CSV) or rows (Parquet). pyarrow's CSV
# reader reads ahead in proportion: 1 MB blocks keep a pass near 120 MB of memory, as fast.
BLOCK_BYTES = 1 << 20
PARQUET_BATCH_ROWS = 32_768  # and about 200 MB at most for a pass over 20 columns
PARQUET_BUFFER_BYTES = 1 << 20
_ARROW_VALUE = re.compile(r"column #(\d+).*?invalid value '([^']*)'", re.S)
_RAGGED = re.compile(r"Expected (\d+) columns, got (\d+)")


# -- the reader -------------------------------------------------------------------------------


class FileTable:
    """The columns of a data file (or a folder of Parquet files), read in record batches.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` / ``.csv.gz`` file, a ``.parquet`` file, or a folder of ``.parquet`` files.
    shown : str, optional
        The name messages use (default: ``path`` as given).

    Attributes
    ----------
    columns : list of str
        Every column, as the file names them.
    numeric : list of str
        The columns that hold numbers (or nothing), but a row index; a CSV column of
        text counts when most of its first record batch is numbers (its typos are then
        errors that name them, not a reason to leave the column out).
    index_column : str or None
        A row index written by pandas or R, which is never a default feature.
    on_progress, on_pass : callable or None
        Called with ``(rows, bytes)`` read after each record batch (bytes are 0 for
        Parquet), and as each pass over the file begins: what a progress bar follows.
    """

    def __init__(self, path: str | Path, shown: str | None = None) -> None:
        self.path = Path(path)
        self.shown = shown if shown is not None else str(path)
        self.files = data_files(self.path, self.shown)
        self.format = "parquet" if self.files[0].name.lower().endswith(PARQUET) else "csv"
        self.on_progress: Callable[[int, int], None] | None = None
        self.on_pass: Callable[[], None] | None = None
        pa = require_pyarrow()
        schema, index = self._schema()
        self.columns = [str(n) for n in schema.names]
        check_header([c for c in self.columns if c != ""] if index else self.columns, self.shown)
        self.index_column = self._index_column(index)
        self.numeric = [
            f.name
            for j, f in enumerate(schema)
            if f.name != self.index_column
            and (
                pa.types.is_integer(f.type)
                or pa.types.is_floating(f.type)
                or pa.types.is_null(f.type)
                or self._mostly_numbers(j)
            )
        ]

    def _mostly_numbers(self, j: int) -> bool:
        """A CSV column of text in which most of the first rows are numbers: a numeric
        column with typos, read as numbers so that the first bad value is named (rather
        than the column quietly left out). Only the first record batch is looked at."""
        first = getattr(self, "_first", None)
        if first is None or not require_pyarrow().types.is_string(first.schema.field(j).type):
            return False
        values = [v for v in first.column(j).to_pylist() if v is not None]
        numbers = 0
        for v in values:
            try:
                float(v)
                numbers += 1
            except ValueError:
                pass
        return numbers > 0.5 * len(values)

    @property
    def size(self) -> tuple[int, str] | None:
        """How much a pass reads, for a progress bar: ``(bytes, "bytes")`` of a plain CSV,
        ``(rows, "rows")`` of Parquet; None when unknown (compressed CSV)."""
        pa = require_pyarrow()
        if self.format == "parquet":
            rows = 0
            for file in self.files:
                with pa.parquet.ParquetFile(file) as pf:
                    rows += pf.metadata.num_rows
            return rows, "rows"
        if self.files[0].name.lower().endswith(".gz"):
            return None
        return sum(f.stat().st_size for f in self.files), "bytes"

    def usable(self, chosen: Sequence[str] = ()) -> list[str]:
        """The columns that may be used: all but a row index not asked for by name."""
        return [c for c in self.columns if c != self.index_column or c in chosen]

    def require(self, names: Sequence[str], usable: Sequence[str] | None = None) -> None:
        """Every name a column of the file, else an error with the closest names."""
        usable = self.usable(names) if usable is None else usable
        for name in names:
            if name not in usable:
                raise InvalidInputError(
                    f"{self.shown} has no column {name!r}{close_matches(name, usable)}: "
                    f"choose from {listing(usable)}"
                )

    def blocks(
        self, names: Sequence[str], *, drop_missing: bool = False, keep_missing: bool = False
    ) -> Iterator[np.ndarray]:
        """Float64 blocks of the columns ``names``, in file order.

        A row with a missing, NaN or infinite value is an error naming the column and the
        data row; skipped with ``drop_missing``, kept as it is with ``keep_missing``
        (``dropped`` counts such rows either way).
        """
        names = list(names)
        self.dropped, current, seen = 0, None, 0
        for file, table in self._batches(names):
            if file != current:  # data rows count from each file's first
                current, seen = file, 0
            # column by column into a column-major block: contiguous copies, and the
            # features a view of it
            block = np.empty((table.num_rows, len(names)), order="F")
            for j, name in enumerate(names):
                block[:, j] = _to_float(table.column(j), name, self.shown)
            # finite column sums: every value finite (a sum overflowing is checked in full)
            if np.isfinite(np.add.reduce(block, axis=0)).all():
                seen += len(block)
                yield block
                continue
            bad = np.asarray(~np.isfinite(block).all(axis=1))
            if bad.any():
                if not (drop_missing or keep_missing):
                    raise self._bad_value(block, bad, names, file, seen)
                self.dropped += int(bad.sum())
                if drop_missing:
                    block = block[~bad]
            seen += len(bad)
            yield block

    # -- reading ------------------------------------------------------------------------------

    def _schema(self) -> tuple[Any, list[str]]:
        """The Arrow schema of the first file, and the columns pandas stored as its index."""
        pa = require_pyarrow()
        first = self.files[0]
        shown = self.shown if len(self.files) == 1 else str(first)
        try:
            if self.format == "parquet":
                with pa.parquet.ParquetFile(first) as pf:
                    schema = pf.schema_arrow
                # the pandas metadata read as JSON (schema.pandas_metadata imports pandas)
                raw = (schema.metadata or {}).get(b"pandas")
                meta = json.loads(raw) if raw else {}
                index = [c for c in meta.get("index_columns", []) if isinstance(c, str)]
                return schema, index
            with pa.input_stream(str(first)) as stream:
                reader = pa.csv.open_csv(
                    stream, read_options=pa.csv.ReadOptions(block_size=BLOCK_BYTES)
                )
                schema = reader.schema
                self._first = reader.read_next_batch() if has_rows(schema) else None
        except StopIteration:
            self._first = None
        except (pa.ArrowInvalid, OSError) as exc:
            fields = _RAGGED.search(str(exc))
            if fields:
                raise ragged(shown, first, *fields.groups()) from None
            raise unreadable(shown, self.format, exc) from None
        if all(pa.types.is_null(f.type) for f in schema):
            raise InvalidInputError(f"{shown} has no data rows: it needs a header line and data")
        return schema, []

    def _index_column(self, index: list[str]) -> str | None:
        """A row index: a pandas index in Parquet, or a nameless first CSV column counting
        0, 1, 2, ... (or 1, 2, 3, ... as R writes it); any other nameless column is an error."""
        if index:
            return index[0] if index[0] in self.columns else None
        for j, column in enumerate(self.columns):
            if not unnamed(column):
                continue
            first = getattr(self, "_first", None)
            if j == 0 and first is not None and counts_rows(first.column(0).to_pylist()):
                return column
            raise index_error(self.shown, column, j)
        return None

    def _batches(self, names: list[str]) -> Iterator[tuple[Path, Any]]:
        """Record batches, read by a thread one batch ahead of their use (decoding and
        the caller's arithmetic overlap: both release the GIL)."""
        return _read_ahead(self._read(names))

    def _read(self, names: list[str]) -> Iterator[tuple[Path, Any]]:
        pa = require_pyarrow()
        report = self.on_progress
        if self.on_pass is not None:
            self.on_pass()
        for file in self.files:
            try:
                read = 0
                for batch, done in self._file_batches(file, names):
                    if report is not None:
                        report(batch.num_rows, done - read)
                        read = done
                    yield file, batch
            except pa.ArrowInvalid as exc:
                raise self._arrow_error(exc, file, names) from None
            except OSError as exc:
                raise unreadable(str(file), self.format, exc) from None

    def _file_batches(
        self, file: Path, names: list[str], *, as_text: bool = False
    ) -> Iterator[tuple[Any, int]]:
        """Record batches of the columns ``names`` of one file (CSV values as float64, or as
        text for messages), with the bytes of the file read so far (0 for Parquet and
        compressed CSV)."""
        pa = require_pyarrow()
        if self.format == "parquet":
            # a buffered stream, no pre-buffering: memory stays at a record batch or so
            # instead of whole row groups
            with pa.parquet.ParquetFile(
                file, pre_buffer=False, buffer_size=PARQUET_BUFFER_BYTES
            ) as pf:
                self._check_parquet(pf, file, names)
                for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=names):
                    yield batch, 0
            return
        kind = pa.string() if as_text else pa.float64()
        with pa.input_stream(str(file)) as stream:
            reader = pa.csv.open_csv(
                stream,
                read_options=pa.csv.ReadOptions(block_size=BLOCK_BYTES),
                convert_options=pa.csv.ConvertOptions(
                    include_columns=names, column_types=dict.fromkeys(names, kind)
                ),
            )
            seekable = stream.seekable()  # a compressed stream does not say where it stands
            for batch in reader:
                yield batch, stream.tell() if seekable else 0

    def _check_parquet(self, pf: Any, file: Path, names: list[str]) -> None:
        """Every file of a folder has the columns asked for."""
        present = set(pf.schema_arrow.names)
        missing = [n for n in names if n not in present]
        if missing:
            raise InvalidInputError(
                f"{file} has no column {', '.join(map(repr, missing))}: every file of "
                f"{self.shown} needs the columns {listing(names)}"
            )

    def _bad_value(
        self, block: np.ndarray, bad: np.ndarray, names: list[str], file: Path, seen: int
    ) -> InvalidInputError:
        shown = self.shown if len(self.files) == 1 else str(file)
        infinite = np.isinf(block)
        if infinite.any():
            row, j = (int(k) for k in np.argwhere(infinite)[0])
            text = self._raw_text(file, names[j], seen + row)
            if text.strip().lstrip("+-").lower() in ("inf", "infinity", ""):
                return InvalidInputError(
                    f"column {names[j]!r} of {shown} is infinite in data row {seen + row + 1}"
                    f"{f' ({text!r})' if text else ''}: drop or fill that row, or skip such "
                    "rows with drop_missing=True (--drop-missing)"
                )
            return InvalidInputError(
                f"column {names[j]!r} of {shown}, data row {seen + row + 1}: {text} overflows "
                "float64 (the largest is about 1.8e308): rescale the column, for example to "
                "a larger unit"
            )
        rows = np.flatnonzero(bad)
        gaps = np.isnan(block[rows])
        where = ", ".join(
            f"{name!r} ({int(count)} row{'s' * bool(count > 1)})"
            for name, count in zip(names, gaps.sum(axis=0), strict=True)
            if count
        )
        shown_rows = ", ".join(str(seen + r + 1) for r in rows[:5]) + (
            ", ..." if rows.size > 5 else ""
        )
        return InvalidInputError(
            f"{shown} has missing values in {where} (data row{'s' * bool(rows.size > 1)} "
            f"{shown_rows}): drop or fill them first, leave those columns out, or skip such "
            "rows with drop_missing=True (--drop-missing)"
        )

    def _arrow_error(self, exc: Exception, file: Path, names: list[str]) -> InvalidInputError:
        shown = self.shown if len(self.files) == 1 else str(file)
        message = str(exc)
        value = _ARROW_VALUE.search(message)
        if value:
            column = int(value[1])  # pyarrow numbers the columns as the file orders them
            name = self.columns[column] if column < len(self.columns) else f"#{column}"
            row, text = self._first_non_number(file, name)
            where = f"data row {row}: " if row else ""
            return InvalidInputError(
                f"column {name!r} of {shown} is not numeric ({where}{(text or value[2])!r}): "
                "fix the value, or choose numeric columns"
            )
        fields = _RAGGED.search(message)
        if fields:
            return ragged(shown, file, *fields.groups())
        first = " ".join(message.split())[:200]
        return InvalidInputError(f"{shown} cannot be read: {first}")

    def _text_column(self, file: Path, name: str) -> Iterator[list[Any]]:
        """One column as the text it holds, batch by batch (for error messages)."""
        for batch, _ in self._file_batches(file, [name], as_text=True):
            yield [None if v is None else str(v) for v in batch.column(0).to_pylist()]

    def _raw_text(self, file: Path, name: str, row: int) -> str:
        seen = 0
        for values in self._text_column(file, name):
            if row < seen + len(values):
                return str(values[row - seen] or "")
            seen += len(values)
        return ""

    def _first_non_number(self, file: Path, name: str) -> tuple[int, str]:
        """The first data row (from 1) of a column that does not parse as a number."""
        seen = 0
        for values in self._text_column(file, name):
            for k, text in enumerate(values):
                if text is None:
                    continue
                try:
                    float(text)
                except ValueError:
                    return seen + k + 1, text
            seen += len(values)
        return 0, ""


def _read_ahead(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """``items``, produced by a background thread up to ``depth`` ahead; its exceptions
    are raised here, and closing this generator stops it."""
    done = object()
    ready: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        ready.put((True, item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put((True, done))
        except BaseException as exc:  # handed to the consumer, raised there
            ready.put((False, exc))

    worker = threading.Thread(target=produce, name="gradfit-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            ok, item = ready.get()
            if not ok:
                raise item
            if item is done:
                return
            yield item
    finally:
        stop.set()
        # let it see the stop, not block on a full queue (unless this runs on the worker
        # itself: a generator finalized there by the garbage collector)
        while worker.is_alive() and threading.current_thread() is not worker:
            with contextlib.suppress(queue.Empty):
                ready.get(timeout=0.05)
        close = getattr(items, "close", None)
        if close is not None:
            close()


def _to_float(column: Any, name: str, shown: str) -> np.ndarray:
    pa = require_pyarrow()
    if not (
        pa.types.is_integer(column.type)
        or pa.types.is_floating(column.type)
        or pa.types.is_null(column.type)
    ):
        raise InvalidInputError(
            f"column {name!r} of {shown} is not numeric ({column.type}): choose numeric columns"
        )
    # from the values' buffer itself (Array.to_numpy imports pandas: half a second)
    if not pa.types.is_float64(column.type):
        column = column.cast(pa.float64())
    if column.null_count:
        column = column.fill_null(math.nan)
    values = column.buffers()[1]
    return np.frombuffer(values, dtype=np.float64, count=len(column), offset=8 * column.offset)
