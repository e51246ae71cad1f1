"""What a data file's name, first bytes and header must be before it is read.

The checks and messages of ``FileTable`` (``gradfit.data.file_table``) that need no pass
over the rows: the files a path names, their format from the name and the first bytes,
column names (each once, a row index that pandas or R wrote), and the words for what was
left out of a table unasked; also how a CSV row with a wrong number of fields is located.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gradfit.exceptions import InvalidInputError

__all__ = [
    "check_header",
    "counts_rows",
    "data_files",
    "index_error",
    "left_out_notes",
    "listing",
    "require_pyarrow",
    "unnamed",
]

PARQUET = (".parquet", ".pq")
_CSV = (".csv", ".csv.gz")
_PARQUET_MAGIC = b"PAR1"
# How pandas names a column without a header when it reads a CSV ("Unnamed: 0").
_PANDAS_UNNAMED = re.compile(r"Unnamed: \d+")


def require_pyarrow() -> Any:
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


# -- files ----------------------------------------------------------------------------------


def ragged(shown: str, file: Path, expected: str, got: str) -> InvalidInputError:
    """A CSV row with more or fewer fields than the header, by its line number."""
    pa = require_pyarrow()
    lines: list[int | None] = []

    def first(row: Any) -> str:
        lines.append(row.number)
        return "error"

    with contextlib.suppress(pa.ArrowInvalid):  # on one thread pyarrow numbers the rows
        pa.csv.read_csv(
            file,
            read_options=pa.csv.ReadOptions(use_threads=False),
            parse_options=pa.csv.ParseOptions(invalid_row_handler=first),
        )
    line = f"line {lines[0]}" if lines and lines[0] is not None else "a line"
    return InvalidInputError(
        f"{shown}, {line}: {got} fields where the header has {expected}: check the delimiter "
        "(gradfit reads comma-separated files)"
    )


def has_rows(schema: Any) -> bool:
    pa = require_pyarrow()
    return not all(pa.types.is_null(f.type) for f in schema)


def unreadable(shown: str, fmt: str, exc: Exception) -> InvalidInputError:
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


def data_files(path: Path, shown: str) -> list[Path]:
    """The files to read, each checked to hold what its name says."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.name.lower().endswith(PARQUET))
        if not files:
            raise InvalidInputError(
                f"the folder {shown} holds no .parquet files: point to a file, or to a folder "
                "of Parquet files"
            )
        return files
    if not path.exists():
        raise InvalidInputError(f"no such file: {shown}")
    name = path.name.lower()
    if not name.endswith(PARQUET + _CSV):
        raise InvalidInputError(
            f"{shown}: unknown format; gradfit reads .csv, .csv.gz, .parquet and folders of "
            ".parquet files"
        )
    head = _head(path, shown)
    if name.endswith(PARQUET):
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
