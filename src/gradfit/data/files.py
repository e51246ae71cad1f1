"""Tables for fitting in memory: shipped data sets, data files, uploaded CSV text.

Files are read by pyarrow, through the same reader that streams them
(``gradfit.data.stream``); uploads arrive as bytes and are parsed by pyarrow too.
Whatever is wrong with a file gets one message that names the file, the column and the
row, and says what to do. Whatever is left out of a table without being asked for (a
row index written by pandas, non-numeric columns when the features are chosen by
default) is said, never silent: in ``LoadedTable`` and in the data set's description.
"""

from __future__ import annotations

import difflib
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from gradfit.data.datasets import DATASETS, Dataset, load_dataset
from gradfit.data.file_checks import (
    check_header,
    counts_rows,
    index_error,
    left_out_notes,
    listing,
    unnamed,
)
from gradfit.data.file_table import FileTable
from gradfit.data.stream import FileSource
from gradfit.data.validation import check_columns, close_matches
from gradfit.exceptions import InvalidInputError, require

__all__ = [
    "LoadedTable",
    "check_columns",
    "close_matches",
    "find_file",
    "load_table",
    "numeric_columns",
    "open_file",
    "parse_csv",
    "read_table",
    "table_from_columns",
]

# Values a CSV cell may hold for "missing".
_MISSING = ("", "NA", "NaN", "nan", "N/A", "NULL", "null")


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
        return left_out_notes(self.source, self.index_column, self.non_numeric)


def parse_csv(content: bytes | str, name: str = "the file") -> dict[str, list[Any]]:
    """Columns of a comma-separated text with a header line (pyarrow reads it).

    Every column needs its own name; only the first may have none (a row index, as
    pandas writes one: ``table_from_columns`` checks it holds 0, 1, 2, ...).

    >>> parse_csv("a,b\\n1,2\\n3,4\\n")
    {'a': [1, 3], 'b': [2, 4]}
    >>> parse_csv("x,x,y\\n1,2,3\\n")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gradfit.exceptions.InvalidInputError: the file has more than one column named 'x' ...
    """
    pa = require("pyarrow.csv", "data")
    data = content.encode() if isinstance(content, str) else content
    if b"\x00" in data:
        raise InvalidInputError(f"{name} is not a text CSV file: save it as UTF-8 CSV")
    try:
        table = pa.read_csv(io.BytesIO(data))
    except Exception as exc:  # pyarrow's ArrowInvalid: empty, ragged rows, bad quoting
        detail = " ".join(str(exc).split())[:200].replace("CSV parse error: ", "")
        if "Empty CSV file" in detail:
            raise InvalidInputError(
                f"{name} has no data rows: it needs a header line and data"
            ) from None
        raise InvalidInputError(
            f"{name} is not valid CSV ({detail}): check the delimiter (gradfit reads "
            "comma-separated files)"
        ) from None
    header = [str(c).strip() for c in table.column_names]
    check_header(header, name)
    if table.num_rows == 0:
        raise InvalidInputError(f"{name} has no data rows: it needs a header line and data")
    return {column: table.column(j).to_pylist() for j, column in enumerate(header)}


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
    rows = open_file(source, target, features)
    batch = rows.rows(None)
    description = "; ".join([shown, *rows.notes()])
    dataset = Dataset(batch.X, batch.y, rows.feature_names, rows.target_name, description)
    return LoadedTable(dataset, rows.index_column, rows.non_numeric, shown)


def find_file(source: str | os.PathLike[str]) -> Path:
    """The path of a data file or a folder of Parquet files; a missing one is an error
    that names the data sets and files with close names."""
    path = Path(source)
    if not path.exists():
        raise InvalidInputError(
            f"no such file or data set: {os.fspath(source)}{_near_names(path)}: give a CSV "
            f"or Parquet path, a folder of Parquet files, or one of {', '.join(DATASETS)}"
        )
    return path


def open_file(
    source: str | os.PathLike[str],
    target: str | None,
    features: Sequence[str] | None = None,
    weight: str | None = None,
    **options: Any,
) -> FileSource:
    """A data file streamed to fit ``target`` (named as the caller gave it in messages);
    a missing file or target is an error that names the close files or the columns."""
    shown = os.fspath(source)
    path = find_file(source)
    if target is None:
        columns = FileTable(path, shown).usable()
        raise InvalidInputError(
            f"say which column of {shown} to predict: target='NAME' (one of {listing(columns)})"
        )
    return FileSource(path, target, features, weight, shown=shown, **options)


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
            + (f" (one of {listing(list(raw))})" if raw else "")
        )
    check_columns(target, features, name)
    index_column = _index_column(raw, name, index)
    chosen = {target, *(features or [])}
    usable = [c for c in raw if c != index_column or c in chosen]
    for col in [target, *(features or [])]:
        if col not in usable:
            raise InvalidInputError(
                f"{name} has no column {col!r}{close_matches(col, usable)}: choose from "
                f"{listing(usable)}"
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
    notes = left_out_notes(name, index_column, non_numeric)
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
        if not unnamed(column) or column in index:
            continue
        if j == 0 and not index and counts_rows(raw[column]):
            continue
        raise index_error(name, column, j)
    if index:
        return index[0]
    return columns[0] if columns and unnamed(columns[0]) else None


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
    index = first if first is not None and unnamed(first) and counts_rows(raw[first]) else None
    return [c for c, values in raw.items() if c != index and _is_numeric(values)]


def _is_numeric(values: Sequence[object]) -> bool:
    try:
        [float(v) for v in values if not (v is None or (isinstance(v, str) and v in _MISSING))]  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return False
    return True
