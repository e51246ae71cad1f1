"""Tables from files: CSV with the standard library, Parquet with pyarrow (optional).

Whatever is wrong with a file gets one message that names the file, the column and the
row, and says what to do: a duplicate or missing column name, a value that is not a
number or overflows float64, a file that is not CSV or not Parquet. Whatever is left
out of a table without being asked for (a row index written by pandas, non-numeric
columns when the features are chosen by default) is said, never silent: in
``LoadedTable`` and in the data set's description.
"""

from __future__ import annotations

import csv
import difflib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from gradfit.data.datasets import DATASETS, Dataset, load_dataset
from gradfit.data.validation import check_columns, close_matches
from gradfit.exceptions import InvalidInputError, require

__all__ = [
    "LoadedTable",
    "check_columns",
    "close_matches",
    "load_table",
    "numeric_columns",
    "parse_csv",
    "read_table",
    "table_from_columns",
]

# How pandas names a column without a header when it reads a CSV ("Unnamed: 0").
_PANDAS_UNNAMED = re.compile(r"Unnamed: \d+")
# Values a CSV cell may hold for "missing".
_MISSING = ("", "NA", "NaN", "nan", "N/A", "NULL", "null")
_PARQUET = (".parquet", ".pq")
_PARQUET_MAGIC = b"PAR1"


class LoadedTable(NamedTuple):
    """A table loaded for fitting, and what was left out of it without being asked for.

    Attributes
    ----------
    dataset : Dataset
        Features, target, their names; the description says what was left out.
    index_column : str or None
        A row index (a first column without a name holding 0, 1, 2, ... as pandas
        writes it, or a Parquet file's pandas index) that was not used as a feature.
    non_numeric : tuple of str
        Columns left out of the default features because they are not numeric.
    source : str
        The file as the caller named it (what the notes say).
    """

    dataset: Dataset
    index_column: str | None = None
    non_numeric: tuple[str, ...] = ()
    source: str = ""

    def notes(self) -> list[str]:
        """What was left out, in words (empty when nothing was)."""
        return _notes(self.source, self.index_column, self.non_numeric)


def _notes(name: str, index_column: str | None, non_numeric: Sequence[str]) -> list[str]:
    out = []
    if index_column is not None:
        if _unnamed(index_column):
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


def _listing(columns: Sequence[str], limit: int = 20) -> str:
    """Column names for a message: the first ``limit``, then how many more."""
    shown = ", ".join(map(repr, columns[:limit]))
    return shown + (f" and {len(columns) - limit} more" if len(columns) > limit else "")


def _unnamed(column: str) -> bool:
    """A column without a real name: empty, or as pandas names those ("Unnamed: 0")."""
    return column == "" or _PANDAS_UNNAMED.fullmatch(column) is not None


def _read_bytes(path: Path, shown: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read {shown}: {exc.strerror or exc}: check the path and its permissions"
        ) from None


def _read_csv(path: Path, shown: str) -> dict[str, list[str]]:
    content = _read_bytes(path, shown)
    if content.startswith(_PARQUET_MAGIC):
        raise InvalidInputError(f"{shown} is a Parquet file, not CSV: give it a .parquet name")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInputError(
            f"{shown} is not a text CSV file (it holds binary data): save it as UTF-8 CSV, "
            "or as Parquet with a .parquet name"
        ) from None
    return parse_csv(text, shown)


def parse_csv(text: str, name: str = "the file") -> dict[str, list[str]]:
    """Columns of a comma-separated text with a header line, as strings.

    Every column needs its own name; only the first may have none (a row index, as
    pandas writes one: ``table_from_columns`` checks it holds 0, 1, 2, ...).

    >>> parse_csv("a,b\\n1,2\\n3,4\\n")
    {'a': ['1', '3'], 'b': ['2', '4']}
    >>> parse_csv("x,x,y\\n1,2,3\\n")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gradfit.exceptions.InvalidInputError: the file has more than one column named 'x' ...
    """
    if "\x00" in text:
        raise InvalidInputError(f"{name} is not a text CSV file: save it as UTF-8 CSV")
    try:
        rows = list(csv.reader(text.splitlines()))
    except csv.Error as exc:
        raise InvalidInputError(f"{name} is not valid CSV ({exc}): save it as CSV") from None
    if len(rows) < 2:
        raise InvalidInputError(f"{name} has no data rows: it needs a header line and data")
    header = [h.strip() for h in rows[0]]
    width = len(header)
    if width == 1 and (sep := _other_separator(rows[0][0])):
        raise InvalidInputError(
            f"{name} seems to be separated by {sep}: gradfit reads comma-separated files, "
            "save it with commas"
        )
    _check_header(header, name)
    for i, row in enumerate(rows[1:], start=2):
        if row and len(row) != width:
            raise InvalidInputError(
                f"{name}, line {i}: {len(row)} fields where the header has {width}: "
                f"check the delimiter (gradfit reads comma-separated files)"
            )
    body = [r for r in rows[1:] if r]
    if not body:
        raise InvalidInputError(f"{name} has no data rows: it needs a header line and data")
    return {name: [r[j].strip() for r in body] for j, name in enumerate(header)}


def _other_separator(header: str) -> str:
    for sep, words in (("\t", "tabs"), (";", "semicolons"), ("|", "vertical bars")):
        if sep in header:
            return words
    return ""


def _check_header(header: Sequence[str], name: str) -> None:
    """Each column named once; a column without a name only first (a row index)."""
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


def _read_parquet(path: Path, shown: str) -> tuple[dict[str, list[object]], list[str]]:
    """The columns of a Parquet file, and which of them pandas stored as its index."""
    pq = require("pyarrow.parquet", "data")
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read {shown}: {exc.strerror or exc}: check the path and its permissions"
        ) from None
    if magic != _PARQUET_MAGIC:
        looks = _looks_like_text(path)
        raise InvalidInputError(
            f"{shown} is not a valid Parquet file (it does not start with Parquet's marker)"
            + (": it looks like text, if it is CSV give it a .csv name" if looks else "")
            + ("" if looks else ": check that it was written as Parquet, and completely")
        )
    try:
        parquet = pq.ParquetFile(path)
        names = [str(n) for n in parquet.schema_arrow.names]
    except Exception as exc:  # pyarrow's errors: ArrowInvalid, ArrowIOError, OSError...
        raise _not_parquet(shown, exc) from None
    _check_header([n for n in names if n != ""], shown)
    try:
        table = parquet.read()
    except Exception as exc:
        raise _not_parquet(shown, exc) from None
    index: list[str] = []
    pandas_meta = table.schema.pandas_metadata or {}
    for entry in pandas_meta.get("index_columns", []):
        if isinstance(entry, str) and entry in names:
            index.append(entry)
    columns = {name: table.column(j).to_pylist() for j, name in enumerate(names)}
    return columns, index


def _not_parquet(shown: str, exc: Exception) -> InvalidInputError:
    detail = " ".join(str(exc).split())[:200]
    return InvalidInputError(
        f"{shown} is not a valid Parquet file ({detail}): it may be truncated or corrupt, "
        "write it again"
    )


def _looks_like_text(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
        head.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return b"\x00" not in head


def _column(values: Sequence[object], name: str, source: str) -> np.ndarray:
    """A column as float64 (missing: NaN); a value that is no number, or no finite
    float64, is an error naming the column and the data row."""
    out = np.empty(len(values))
    for i, v in enumerate(values):
        if v is None or (isinstance(v, str) and v in _MISSING):
            out[i] = np.nan
            continue
        try:
            out[i] = float(v)  # type: ignore[arg-type]
        except OverflowError:
            out[i] = np.inf  # said below, as an overflow
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"column {name!r} of {source} is not numeric (data row {i + 1}: {v!r}): "
                f"choose numeric columns or convert this one"
            ) from None
    infinite = np.flatnonzero(np.isinf(out))
    if infinite.size:
        i = int(infinite[0])
        v = values[i]
        if str(v).strip().lstrip("+-").lower() in ("inf", "infinity"):
            raise InvalidInputError(
                f"column {name!r} of {source} is infinite in data row {i + 1} ({v!r}): "
                "drop or fill that row"
            )
        raise InvalidInputError(
            f"column {name!r} of {source}, data row {i + 1}: {v} overflows float64 "
            "(the largest is about 1.8e308): rescale the column, for example to a "
            "larger unit"
        )
    return out


def load_table(
    source: str | os.PathLike[str],
    *,
    target: str | None = None,
    features: Sequence[str] | None = None,
) -> Dataset:
    """Load a shipped data set by name, or a CSV or Parquet file, as a ``Dataset``.

    Without ``features`` every numeric column but the target is used, and the
    description names the non-numeric columns left out; a row index that pandas wrote
    (a first column without a name, holding 0, 1, 2, ...) is never a feature. A file's
    rows with missing values in the chosen columns are an error (say which rows to
    drop); shipped data sets drop them. ``read_table`` also returns what was left out.

    >>> load_table("davis").feature_names
    ['height']
    """
    return read_table(source, target=target, features=features).dataset


def read_table(
    source: str | os.PathLike[str],
    *,
    target: str | None = None,
    features: Sequence[str] | None = None,
) -> LoadedTable:
    """``load_table``, with what was left out of the table without being asked for.

    >>> read_table("davis").notes()
    []
    """
    shown = os.fspath(source)
    if shown.lower() in DATASETS:
        return LoadedTable(_load_shipped(shown.lower(), target, features), source=shown)
    path = Path(source)
    if path.is_dir():
        raise InvalidInputError(f"{shown} is a folder: give a CSV or Parquet file")
    if not path.exists():
        raise InvalidInputError(
            f"no such file or data set: {shown}{_near_names(path)}: give a CSV or Parquet "
            f"path, or one of {', '.join(DATASETS)}"
        )
    raw: dict[str, list[Any]]
    if path.suffix.lower() in _PARQUET:
        raw, index = _read_parquet(path, shown)
    else:
        raw, index = dict(_read_csv(path, shown)), []
    return _choose(raw, shown, target, features, index)


def _near_names(path: Path) -> str:
    """The data sets and the files beside ``path`` whose names are close to its name."""
    choices = list(DATASETS)
    try:
        folder = path.parent if str(path.parent) else Path(".")
        choices += [p.name for p in folder.iterdir() if p.is_file()][:1000]
    except OSError:
        pass
    found = difflib.get_close_matches(path.name, choices, n=3)
    if not found:
        return ""
    shown = [str(path.parent / f) if f not in DATASETS else f for f in found]
    return f" (did you mean {' or '.join(map(repr, shown))}?)"


def _load_shipped(key: str, target: str | None, features: Sequence[str] | None) -> Dataset:
    return load_dataset(key, target=target, features=features)


def table_from_columns(
    raw: dict[str, list[Any]],
    name: str,
    *,
    target: str | None = None,
    features: Sequence[str] | None = None,
) -> Dataset:
    """Choose numeric ``features`` and ``target`` from raw columns; say what is wrong.

    The description names what was left out without being asked for (a row index,
    non-numeric columns when ``features`` is not given).

    >>> t = table_from_columns({"": ["0", "1"], "x": ["1", "2"], "y": ["2", "4"]}, "t.csv",
    ...                        target="y")
    >>> t.feature_names
    ['x']
    >>> print(t.description)
    t.csv; left out the first column of t.csv: it has no name and numbers the rows,
    a row index, not data
    """
    return _choose(raw, name, target, features, []).dataset


def _choose(
    raw: dict[str, list[Any]],
    name: str,
    target: str | None,
    features: Sequence[str] | None,
    index: list[str],
) -> LoadedTable:
    if target is None:
        raise InvalidInputError(
            f"say which column of {name} to predict: target='NAME'"
            + (f" (one of {_listing(list(raw))})" if raw else "")
        )
    check_columns(target, features, name)
    index_column = _index_column(raw, name, index)
    chosen = {target, *(features or [])}
    usable = [c for c in raw if c != index_column or c in chosen]
    for col in [target, *(features or [])]:
        if col not in usable:
            raise InvalidInputError(
                f"{name} has no column {col!r}{close_matches(col, usable)}: choose from "
                f"{_listing(usable)}"
            )
    non_numeric: list[str] = []
    if features is None:
        features = []
        for c in usable:
            if c == target:
                continue
            (features if _is_numeric(raw[c]) else non_numeric).append(c)
        if not features:
            raise InvalidInputError(
                f"{name} has no numeric column besides the target {target!r}: add a "
                "numeric feature column, or convert one to numbers"
            )
    cols = {c: _column(raw[c], c, name) for c in [*features, target]}
    _check_missing(cols, name)
    X = np.column_stack([cols[c] for c in features])
    y = cols[target]
    notes = _notes(name, index_column, non_numeric)
    description = "; ".join([name, *notes])
    dataset = Dataset(X, y, list(features), target, description)
    return LoadedTable(dataset, index_column, tuple(non_numeric), name)


def _index_column(raw: dict[str, list[Any]], name: str, index: Sequence[str]) -> str | None:
    """The column that is a row index rather than data (None: there is none).

    A first column without a name (empty, or pandas' "Unnamed: 0") holding 0, 1, 2,
    ... (or 1, 2, 3, ...) is one; so is a Parquet file's pandas index. Any other
    column without a name is an error: it must be named to be used.
    """
    columns = list(raw)
    for j, column in enumerate(columns):
        if not _unnamed(column) or column in index:
            continue
        if j == 0 and not index and _counts_rows(raw[column]):
            continue
        label = "has no name" if column == "" else f"has no name (pandas calls it {column!r})"
        where = "the first column" if j == 0 else f"column {j + 1}"
        raise InvalidInputError(
            f"{where} of {name} {label} and is not a row index (0, 1, 2, ...): "
            "name it in the header line, or delete it"
        )
    if index:
        return index[0]
    return columns[0] if columns and _unnamed(columns[0]) else None


def _counts_rows(values: Sequence[object]) -> bool:
    """Whether ``values`` are 0, 1, ..., n-1 (or 1, ..., n): a row index."""
    if not values:
        return False
    try:
        numbers = [float(v) for v in values]  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return False
    start = numbers[0]
    return start in (0.0, 1.0) and all(v == start + i for i, v in enumerate(numbers))


def _check_missing(cols: dict[str, np.ndarray], name: str) -> None:
    """No missing value in the chosen columns; else name the columns and the rows."""
    gaps = {c: np.flatnonzero(~np.isfinite(v)) for c, v in cols.items()}
    gaps = {c: rows for c, rows in gaps.items() if rows.size}
    if not gaps:
        return
    rows = np.unique(np.concatenate(list(gaps.values())))
    shown = ", ".join(str(r + 1) for r in rows[:5]) + (", ..." if rows.size > 5 else "")
    where = ", ".join(f"{c!r} ({v.size})" for c, v in gaps.items())
    raise InvalidInputError(
        f"{name} has {rows.size} row(s) with missing values in the chosen columns "
        f"{where} (data rows {shown}): drop or fill them first, or leave those columns out"
    )


def numeric_columns(raw: dict[str, list[Any]]) -> list[str]:
    """Names of the columns whose values are all numbers (or missing), but a row index.

    >>> numeric_columns({"": ["0", "1"], "a": ["1", "x"], "b": ["2", ""]})
    ['b']
    """
    first = next(iter(raw), None)
    index = first if first is not None and _unnamed(first) and _counts_rows(raw[first]) else None
    return [c for c, values in raw.items() if c != index and _is_numeric(values)]


def _is_numeric(values: Sequence[object]) -> bool:
    try:
        [float(v) for v in values if not (v is None or (isinstance(v, str) and v in _MISSING))]  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return False
    return True
