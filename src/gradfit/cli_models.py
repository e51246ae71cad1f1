"""The commands on saved models: ``gradfit predict`` and ``gradfit summary``.

Both stream their data file (``FileTable``/``FileSource``): predictions are written
block by block (CSV by pyarrow's writer, digits that read back exactly, or Parquet) to a
temporary file renamed into place once complete.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from gradfit.cli_flags import _cli_words
from gradfit.cli_io import PREDICTION_SUFFIXES, _check_output, _progress, _source_of
from gradfit.data.datasets import DATASETS
from gradfit.data.file_checks import listing
from gradfit.data.file_table import FileTable
from gradfit.data.files import find_file, read_table
from gradfit.data.io import atomic_path
from gradfit.data.validation import close_matches
from gradfit.exceptions import InvalidInputError, require
from gradfit.model.fit_summary import summarize
from gradfit.model.linear import predict as linear_predict
from gradfit.modelfile import load

__all__ = ["predict", "summary"]


def _feature_blocks(args: argparse.Namespace, names: list[str], target: str) -> Iterator[Any]:
    """The model's feature columns of the data (a file, streamed; a shipped data set), by
    name, block by block."""
    data = args.data
    key = data.lower()
    if key in DATASETS:
        own = DATASETS[key].target
        yield read_table(
            key, target=target if target not in names else own, features=names
        ).dataset.X
        return
    table = FileTable(find_file(data), shown=data)
    usable = table.usable(names)
    missing = [n for n in names if n not in usable]
    if missing:
        hints = "".join(close_matches(n, usable) for n in missing)
        raise InvalidInputError(
            f"{data} has no column {', '.join(map(repr, missing))} of the model's features "
            f"({', '.join(map(repr, names))}){hints}: its columns are {listing(usable)}; "
            "rename them or give the rows the model needs"
        )
    with _progress(args, table, "predicting"):
        # rows with a missing value keep their place, with an empty prediction
        yield from table.blocks(names, keep_missing=args.drop_missing)
    if table.dropped:
        print(
            f"gradfit: note: {table.dropped} rows with missing, NaN or infinite values "
            "(--drop-missing) have an empty prediction",
            file=sys.stderr,
        )


def predict(args: argparse.Namespace) -> None:
    """``gradfit predict MODEL DATA [-o FILE]``."""
    out = args.output
    if out:
        _check_output(out, "-o/--output", PREDICTION_SUFFIXES)
    pa = require("pyarrow", "data")
    saved = load(args.model)
    model = saved.model
    column = f"predicted_{model.target_name}"
    schema = pa.schema([(column, pa.float64())])
    blocks = _feature_blocks(args, list(model.feature_names), model.target_name)
    if not out:
        count = _write(blocks, saved, schema, sys.stdout.buffer, "csv", args.drop_missing)
        sys.stdout.flush()
        return
    kind = "parquet" if Path(out).suffix.lower() == ".parquet" else "csv"
    with atomic_path(out) as tmp, open(tmp, "wb") as fh:
        count = _write(blocks, saved, schema, fh, kind, args.drop_missing)
    print(f"{count} predictions of {model.target_name} written to {out}")


def _write(
    blocks: Iterator[Any], saved: Any, schema: Any, sink: Any, kind: str, missing: bool
) -> int:
    """Predictions of each block, written to ``sink`` as they come; returns their number."""
    pa = require("pyarrow", "data")
    if kind == "parquet":
        pq = require("pyarrow.parquet", "data")
        # no dictionary: predictions are distinct numbers (trying one costs time and memory)
        writer: Any = pq.ParquetWriter(sink, schema, use_dictionary=False)
    else:
        csv = require("pyarrow.csv", "data")
        name = schema.names[0]
        quoted = '"' + name.replace('"', '""') + '"' if re.search(r'[",\r\n]', name) else name
        sink.write((quoted + "\n").encode())
        options = csv.WriteOptions(include_header=False, quoting_style="needed")
        writer = csv.CSVWriter(sink, schema, write_options=options)
    count = 0
    try:
        w, b = saved.model.w, saved.model.b
        for X in blocks:  # the model's columns, checked by the reader: X w + b directly
            predicted = np.asarray(linear_predict(X, w, b), dtype=np.float64).ravel()
            # a row with a missing value (kept by --drop-missing): null, an empty CSV field
            column = pa.array(predicted, mask=~np.isfinite(predicted) if missing else None)
            writer.write_table(pa.table([column], schema=schema))
            count += len(predicted)
    finally:
        writer.close()
    return count


def summary(args: argparse.Namespace) -> None:
    """``gradfit summary MODEL DATA [--target COL]``."""
    saved = load(args.model)
    model = saved.model
    target = args.target or model.target_name
    if target in model.feature_names:
        raise InvalidInputError(
            f"--target {target!r} is one of the model's features: give the column it predicts"
        )
    args.target, args.features = target, list(model.feature_names)
    saved_weight = (saved.data or {}).get("weight_name")
    if args.weight is None and saved_weight is not None:  # fitted with a weight column
        args.weight = saved_weight
    source = _source_of(args)
    with _progress(args, getattr(source, "table", None), "reading"):
        text = summarize(saved, source).to_text(rewrite=_cli_words)
    print(text)
