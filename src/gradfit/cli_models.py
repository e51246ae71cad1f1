"""The commands on saved models: ``gradfit predict`` and ``gradfit summary``."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from gradfit.cli import PREDICTION_SUFFIXES, _check_output
from gradfit.cli_flags import _cli_words
from gradfit.data.datasets import DATASETS
from gradfit.data.files import (
    _PARQUET,
    _check_missing,
    _column,
    _index_column,
    _read_csv,
    _read_parquet,
    read_table,
)
from gradfit.data.io import atomic_path, atomic_write_text
from gradfit.data.validation import close_matches
from gradfit.exceptions import InvalidInputError, require
from gradfit.model import LinearModel
from gradfit.model.fit_summary import summarize
from gradfit.modelfile import load

__all__ = ["predict", "summary"]


def _model_columns(data: str, model: LinearModel) -> np.ndarray:
    """The model's feature columns of ``data`` (a file or a shipped data set), by name."""
    names = list(model.feature_names)
    key = data.lower()
    if key in DATASETS:
        own = DATASETS[key].target
        target = model.target_name if model.target_name not in names else own
        return read_table(key, target=target, features=names).dataset.X
    path = Path(data)
    if path.is_dir():
        raise InvalidInputError(f"{data} is a folder: give a CSV or Parquet file")
    if not path.exists():
        raise InvalidInputError(
            f"no such file or data set: {data}: give a CSV or Parquet path, or one of "
            f"{', '.join(DATASETS)}"
        )
    raw: dict[str, list[Any]]
    if path.suffix.lower() in _PARQUET:
        raw, index = _read_parquet(path, data)
    else:
        raw, index = dict(_read_csv(path, data)), []
    index_column = _index_column(raw, data, index)
    usable = [c for c in raw if c != index_column or c in names]
    missing = [n for n in names if n not in usable]
    if missing:
        hints = "".join(close_matches(n, usable) for n in missing)
        raise InvalidInputError(
            f"{data} has no column {', '.join(map(repr, missing))} of the model's features "
            f"({', '.join(map(repr, names))}){hints}: its columns are "
            f"{', '.join(map(repr, usable))}; rename them or give the rows the model needs"
        )
    cols = {c: _column(raw[c], c, data) for c in names}
    _check_missing(cols, data)
    if not names:
        return np.empty((len(next(iter(raw.values()), [])), 0))
    return np.column_stack([cols[c] for c in names])


def predict(args: argparse.Namespace) -> None:
    """``gradfit predict MODEL DATA [-o FILE]``."""
    out = args.output
    if out:
        _check_output(out, "-o/--output", PREDICTION_SUFFIXES)
        if Path(out).suffix.lower() == ".parquet":
            require("pyarrow.parquet", "data")
    saved = load(args.model)
    X = _model_columns(args.data, saved.model)
    predicted = saved.predict(X)
    column = f"predicted_{saved.model.target_name}"
    if out and Path(out).suffix.lower() == ".parquet":
        pa = require("pyarrow", "data")
        pq = require("pyarrow.parquet", "data")
        table = pa.table({column: pa.array(predicted, type=pa.float64())})
        with atomic_path(out) as tmp:
            pq.write_table(table, tmp)
    else:
        text = _csv_column(column, predicted)
        if not out:
            sys.stdout.write(text)
            return
        atomic_write_text(out, text)
    print(f"{len(predicted)} predictions of {saved.model.target_name} written to {out}")


def _csv_column(name: str, values: np.ndarray) -> str:
    """One CSV column (values as ``repr``: they read back exactly)."""
    quoted = '"' + name.replace('"', '""') + '"' if re.search(r'[",\r\n]', name) else name
    return "\n".join([quoted, *(repr(float(v)) for v in values)]) + "\n"


def summary(args: argparse.Namespace) -> None:
    """``gradfit summary MODEL DATA [--target COL]``."""
    saved = load(args.model)
    model = saved.model
    target = args.target or model.target_name
    if target in model.feature_names:
        raise InvalidInputError(
            f"--target {target!r} is one of the model's features: give the column it predicts"
        )
    data = read_table(args.data, target=target, features=list(model.feature_names)).dataset
    print(summarize(saved, data.X, data.y).to_text(rewrite=_cli_words))
