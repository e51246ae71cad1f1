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

from gradfit.data.validation import close_matches
from gradfit.exceptions import InvalidInputError

T = TypeVar("T")

__all__ = [
    "FileTable",
    "check_header",
    "counts_rows",
    "index_error",
    "left_out_notes",
    "listing",
    "unnamed",
]

# Record batches of about this many bytes of text (CSV) or rows (Parquet). pyarrow's CSV
# reader reads ahead in proportion: 1 MB blocks keep a pass near 120 MB of memory, as fast.
BLOCK_BYTES = 1 << 20
PARQUET_BATCH_ROWS = 32_768  # and about 200 MB at most for a pass over 20 columns
PARQUET_BUFFER_BYTES = 1 << 20
_PARQUET = (".parquet", ".pq")
_CSV = (".csv", ".csv.gz")
_PARQUET_MAGIC = b"PAR1"
_ARROW_VALUE = re.compile(r"column #(\d+).*?invalid value '([^']*)'", re.S)
_RAGGED = re.compile(r"Expected (\d+) columns, got (\d+)")
# How pandas names a column without a header when it reads a CSV ("Unnamed: 0").
_PANDAS_UNNAMED = re.compile(r"Unnamed: \d+")


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.csv
        import pyarrow.parquet
    except ImportError as exc:  # pragma: no cover - the data extra is installed in tests
        raise InvalidInputError("reading files needs pyarrow: pip install 'gradfit[data]'") from exc
    return pyarrow


# -- names ------------------------------------------------------------------------------------


def unnamed(column: str) -> bool:
    """A column without a real name: empty, or as pandas names those ("Unnamed: 0")."""
    return column == "" or _PANDAS_UNNAMED.fullmatch(column) is not None


def listing(columns: Sequence[str], limit: int = 20) -> str:
    """Column names for a message: the first ``limit``, then how many more."""
    shown = ", ".join(map(repr, columns[:limit]))
    return shown + (f" and {len(columns) - limit} more" if len(columns) > limit else "")


def check_header(header: Sequence[str], name: str) -> None:
    """Each column named once; a column without a name only first (a row index).

    >>> check_header(["x", "x", "y"], "t.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gradfit.exceptions.InvalidInputError: t.csv has more than one column named 'x' (columns 1, 2)...
    """
    seen: dict[str, list[int]] = {}
    for j, column in enumerate(header, start=1):
        seen.setdefault(column, []).append(j)
    nameless = [j for j, column in enumerate(header, start=1) if column == "" and j > 1]
    if nameless:
        which = ", ".join(map(str, nameless))
        s = "s" if len(nameless) > 1 else ""
        raise InvalidInputError(
            f"column{s} {which} of {name} ha{'ve' if s else 's'} no name in the header line: "
            f"name {'them' if s else 'it'} (or delete {'them' if s else 'it'})"
        )
    twice = {c: js for c, js in seen.items() if len(js) > 1}
    if twice:
        what = "; ".join(f"{c!r} (columns {', '.join(map(str, js))})" for c, js in twice.items())
        raise InvalidInputError(
            f"{name} has more than one column named {what}: rename them so that each "
            "column has its own name"
        )
    if len(header) == 1 and (sep := _other_separator(header[0])):
        raise InvalidInputError(
            f"{name} seems to be separated by {sep}: gradfit reads comma-separated files, "
            "save it with commas"
        )


def _other_separator(header: str) -> str:
    for sep, words in (("\t", "tabs"), (";", "semicolons"), ("|", "vertical bars")):
        if sep in header:
            return words
    return ""


def left_out_notes(name: str, index_column: str | None, non_numeric: Sequence[str]) -> list[str]:
    """What was left out of a table without being asked for, in words."""
    out = []
    if index_column is not None:
        if unnamed(index_column):
            out.append(
                f"left out the first column of {name}: it has no name and numbers the rows, "
                "a row index, not data"
            )
        else:
            out.append(
                f"left out the column {index_column!r} of {name}: pandas stored it as the row "
                "index, not data"
            )
    if non_numeric:
        s = "s" if len(non_numeric) > 1 else ""
        out.append(
            f"left out the non-numeric column{s} of {name}: {', '.join(map(repr, non_numeric))}"
        )
    return out


def counts_rows(values: Sequence[object]) -> bool:
    """Whether ``values`` are 0, 1, ..., n-1 (or 1, ..., n): a row index."""
    if not values:
        return False
    try:
        numbers = [float(v) for v in values]  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return False
    start = numbers[0]
    return start in (0.0, 1.0) and all(v == start + i for i, v in enumerate(numbers))


def index_error(name: str, column: str, j: int) -> InvalidInputError:
    """A column without a name that is not a row index: it must be named to be used."""
    label = "has no name" if column == "" else f"has no name (pandas calls it {column!r})"
    where = "the first column" if j == 0 else f"column {j + 1}"
    return InvalidInputError(
        f"{where} of {name} {label} and is not a row index (0, 1, 2, ...): "
        "name it in the header line, or delete it"
    )


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
        self.files = _data_files(self.path, self.shown)
        self.format = "parquet" if self.files[0].name.lower().endswith(_PARQUET) else "csv"
        self.on_progress: Callable[[int, int], None] | None = None
        self.on_pass: Callable[[], None] | None = None
        pa = _pyarrow()
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
        if first is None or not _pyarrow().types.is_string(first.schema.field(j).type):
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
        pa = _pyarrow()
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
        pa = _pyarrow()
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
                self._first = reader.read_next_batch() if _has_rows(schema) else None
        except StopIteration:
            self._first = None
        except (pa.ArrowInvalid, OSError) as exc:
            ragged = _RAGGED.search(str(exc))
            if ragged:
                raise _ragged(shown, first, *ragged.groups()) from None
            raise _unreadable(shown, self.format, exc) from None
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
        pa = _pyarrow()
        report = self.on_progress
        if self.on_pass is not None:
            self.on_pass()
        for file in self.files:
            try:
                if self.format == "parquet":
                    # a buffered stream, no pre-buffering: memory stays at a record batch
                    # or so instead of whole row groups
                    with pa.parquet.ParquetFile(
                        file, pre_buffer=False, buffer_size=PARQUET_BUFFER_BYTES
                    ) as pf:
                        self._check_parquet(pf, file, names)
                        for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=names):
                            if report is not None:
                                report(batch.num_rows, 0)
                            yield file, batch
                    continue
                with pa.input_stream(str(file)) as stream:
                    reader = pa.csv.open_csv(
                        stream,
                        read_options=pa.csv.ReadOptions(block_size=BLOCK_BYTES),
                        convert_options=pa.csv.ConvertOptions(
                            include_columns=names,
                            column_types={n: pa.float64() for n in names},
                        ),
                    )
                    read = 0
                    for batch in reader:
                        if report is not None:
                            done = stream.tell()
                            report(batch.num_rows, done - read)
                            read = done
                        yield file, batch
            except pa.ArrowInvalid as exc:
                raise self._arrow_error(exc, file, names) from None
            except OSError as exc:
                raise _unreadable(str(file), self.format, exc) from None

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
        ragged = _RAGGED.search(message)
        if ragged:
            return _ragged(shown, file, *ragged.groups())
        first = " ".join(message.split())[:200]
        return InvalidInputError(f"{shown} cannot be read: {first}")

    def _text_column(self, file: Path, name: str) -> Iterator[list[Any]]:
        """One column of a CSV as the text it holds, batch by batch (for error messages)."""
        pa = _pyarrow()
        if self.format == "parquet":
            with pa.parquet.ParquetFile(file) as pf:
                for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=[name]):
                    yield [None if v is None else str(v) for v in batch.column(0).to_pylist()]
            return
        with pa.input_stream(str(file)) as stream:
            reader = pa.csv.open_csv(
                stream,
                read_options=pa.csv.ReadOptions(block_size=BLOCK_BYTES),
                convert_options=pa.csv.ConvertOptions(
                    include_columns=[name], column_types={name: pa.string()}
                ),
            )
            for batch in reader:
                yield batch.column(0).to_pylist()

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


def _ragged(shown: str, file: Path, expected: str, got: str) -> InvalidInputError:
    """A CSV row with more or fewer fields than the header, by its line number."""
    pa = _pyarrow()
    lines: list[int | None] = []

    def first(row: Any) -> str:
        lines.append(row.number)
        return "error"

    with contextlib.suppress(pa.ArrowInvalid):  # on one thread pyarrow numbers the rows
        pa.csv.read_csv(
            file,
            read_options=pa.csv.ReadOptions(use_threads=False, block_size=BLOCK_BYTES),
            parse_options=pa.csv.ParseOptions(invalid_row_handler=first),
        )
    line = f"line {lines[0]}" if lines and lines[0] is not None else "a line"
    return InvalidInputError(
        f"{shown}, {line}: {got} fields where the header has {expected}: check the delimiter "
        "(gradfit reads comma-separated files)"
    )


def _has_rows(schema: Any) -> bool:
    pa = _pyarrow()
    return not all(pa.types.is_null(f.type) for f in schema)


def _unreadable(shown: str, fmt: str, exc: Exception) -> InvalidInputError:
    if isinstance(exc, OSError) and getattr(exc, "strerror", None):
        return InvalidInputError(
            f"cannot read {shown}: {exc.strerror}: check the path and its permissions"
        )
    detail = " ".join(str(exc).split())[:200]
    if "Empty CSV file" in detail:
        return InvalidInputError(f"{shown} is empty: it needs a header line and data rows")
    if fmt == "parquet":
        return InvalidInputError(
            f"{shown} is not a valid Parquet file ({detail}): it may be truncated or corrupt, "
            "write it again"
        )
    return InvalidInputError(f"{shown} cannot be read as CSV ({detail}): save it as CSV")


def _head(path: Path, shown: str) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(4096)
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read {shown}: {exc.strerror or exc}: check the path and its permissions"
        ) from None


def _data_files(path: Path, shown: str) -> list[Path]:
    """The files to read, each checked to hold what its name says."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.name.lower().endswith(_PARQUET))
        if not files:
            raise InvalidInputError(
                f"the folder {shown} holds no .parquet files: point to a file, or to a folder "
                "of Parquet files"
            )
        return files
    if not path.exists():
        raise InvalidInputError(f"no such file: {shown}")
    name = path.name.lower()
    if not name.endswith(_PARQUET + _CSV):
        raise InvalidInputError(
            f"{shown}: unknown format; gradfit reads .csv, .csv.gz, .parquet and folders of "
            ".parquet files"
        )
    head = _head(path, shown)
    if name.endswith(_PARQUET):
        if not head.startswith(_PARQUET_MAGIC):
            text = _is_text(head)
            raise InvalidInputError(
                f"{shown} is not a valid Parquet file (it does not start with Parquet's marker)"
                + (": it looks like text, if it is CSV give it a .csv name" if text else "")
                + ("" if text else ": check that it was written as Parquet, and completely")
            )
    elif not name.endswith(".gz"):
        if head.startswith(_PARQUET_MAGIC):
            raise InvalidInputError(f"{shown} is a Parquet file, not CSV: give it a .parquet name")
        if not _is_text(head):
            raise InvalidInputError(
                f"{shown} is not a text CSV file (it holds binary data): save it as UTF-8 CSV, "
                "or as Parquet with a .parquet name"
            )
    return [path]


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # a character cut at the end of the sample
    return True


def _to_float(column: Any, name: str, shown: str) -> np.ndarray:
    pa = _pyarrow()
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
