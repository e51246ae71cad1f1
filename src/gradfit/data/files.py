"""Tables from files: CSV with the standard library, Parquet with pyarrow (optional)."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gradfit.data.datasets import DATASETS, Dataset, load_dataset
from gradfit.exceptions import InvalidInputError, require

__all__ = ["load_table", "numeric_columns", "parse_csv", "table_from_columns"]


def _read_csv(path: Path) -> dict[str, list[str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path} is not a text CSV file: save it as UTF-8 CSV") from None
    return parse_csv(text, path.name)


def parse_csv(text: str, name: str = "the file") -> dict[str, list[str]]:
    """Columns of a comma-separated text with a header line, as strings.

    >>> parse_csv("a,b\\n1,2\\n3,4\\n")
    {'a': ['1', '3'], 'b': ['2', '4']}
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
    for i, row in enumerate(rows[1:], start=2):
        if row and len(row) != width:
            raise InvalidInputError(
                f"{name}, line {i}: {len(row)} fields where the header has {width}: "
                f"check the delimiter (gradfit reads comma-separated files)"
            )
    body = [r for r in rows[1:] if r]
    return {name: [r[j].strip() for r in body] for j, name in enumerate(header)}


def _read_parquet(path: Path) -> dict[str, list[object]]:
    table = require("pyarrow.parquet", "data").read_table(path)
    return {name: table.column(name).to_pylist() for name in table.column_names}


def _column(values: Sequence[object], name: str, source: str) -> np.ndarray:
    out = np.empty(len(values))
    for i, v in enumerate(values):
        try:
            out[i] = np.nan if v in (None, "", "NA", "NaN", "nan") else float(v)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"column {name!r} of {source} is not numeric (row {i + 1}: {v!r}): "
                f"choose numeric columns or convert this one"
            ) from None
    return out


def load_table(
    source: str | os.PathLike[str],
    *,
    target: str | None = None,
    features: Sequence[str] | None = None,
) -> Dataset:
    """Load a shipped data set by name, or a CSV or Parquet file, as a ``Dataset``.

    Without ``features`` every numeric column but the target is used. A file's
    rows with missing values in the chosen columns are an error (say which rows
    to drop); shipped data sets drop them.

    >>> load_table("davis").feature_names
    ['height']
    """
    if str(source).lower() in DATASETS:
        return load_dataset(str(source), target=target, features=features)
    path = Path(source)
    if not path.is_file():
        raise InvalidInputError(
            f"no such file or data set: {source!s}: give a CSV or Parquet path, "
            f"or one of {', '.join(DATASETS)}"
        )
    raw = _read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else _read_csv(path)
    return table_from_columns(raw, path.name, target=target, features=features)


def table_from_columns(
    raw: dict[str, list[Any]],
    name: str,
    *,
    target: str | None = None,
    features: Sequence[str] | None = None,
) -> Dataset:
    """Choose numeric ``features`` and ``target`` from raw columns; say what is wrong."""
    if target is None:
        raise InvalidInputError(f"say which column of {name} to predict: --target NAME")
    for col in [target, *(features or [])]:
        if col not in raw:
            raise InvalidInputError(f"{name} has no column {col!r}: choose from {', '.join(raw)}")
    if features is None:
        features = [c for c in raw if c != target and _is_numeric(raw[c])]
        if not features:
            raise InvalidInputError(f"{name} has no numeric feature columns: add --features")
    cols = {c: _column(raw[c], c, name) for c in [*features, target]}
    X = np.column_stack([cols[c] for c in features])
    y = cols[target]
    missing = ~(np.isfinite(X).all(axis=1) & np.isfinite(y))
    if missing.any():
        rows = np.flatnonzero(missing)[:5] + 1
        raise InvalidInputError(
            f"{name} has {int(missing.sum())} row(s) with missing values in the chosen "
            f"columns (data rows {', '.join(map(str, rows))}...): drop or fill them first"
        )
    return Dataset(X, y, list(features), target, name)


def numeric_columns(raw: dict[str, list[Any]]) -> list[str]:
    """Names of the columns whose values are all numbers (or missing)."""
    return [c for c, values in raw.items() if _is_numeric(values)]


def _is_numeric(values: Sequence[object]) -> bool:
    try:
        [float(v) for v in values if v not in (None, "", "NA")]  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True
