"""Rows streamed from files by pyarrow: CSV (also gzip-compressed), Parquet, a folder of Parquet.

A ``FileSource`` never holds a whole file: it reads record batches of a few MB and hands
the engine dense chunks (``chunks()``), from which full-batch descent builds its exact
sufficient statistics in one pass (then each step costs O(d^2), whatever the size of the
file) and the exact-gradient refinement streams its residuals. Only a file small enough
to fit ``IN_MEMORY_VALUES`` values is handed over whole (``rows(None)``), for the row
path and the yardsticks.

pyarrow is imported on first use (``pip install 'gradfit[data]'``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gradfit.data.source import Batch
from gradfit.data.validation import check_columns, close_matches
from gradfit.exceptions import InvalidInputError

__all__ = ["FileSource", "open_source"]

# Record batches of about this many bytes of text (CSV) or rows (Parquet).
BLOCK_BYTES = 1 << 22
PARQUET_BATCH_ROWS = 65_536
# A file with at most this many values may be handed over whole.
IN_MEMORY_VALUES = 1 << 24
_PARQUET = (".parquet", ".pq")
_CSV = (".csv", ".csv.gz", ".txt", ".tsv")
_ARROW_VALUE = re.compile(r"column #(\d+).*?invalid value '([^']*)'", re.S)


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.csv
        import pyarrow.parquet
    except ImportError as exc:  # pragma: no cover - the data extra is installed in tests
        raise InvalidInputError("reading files needs pyarrow: pip install 'gradfit[data]'") from exc
    return pyarrow


class FileSource:
    """The rows of a data file (or a folder of Parquet files), streamed.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` / ``.csv.gz`` file, a ``.parquet`` file, or a folder of ``.parquet`` files.
    target : str
        The column to predict.
    features : sequence of str, optional
        The feature columns (default: every numeric column but the target and weight).
    weight : str, optional
        A column of sample weights (>= 0).
    drop_missing : bool, default=False
        Skip rows with a missing, NaN or infinite value in a used column (``dropped``
        counts them) instead of stopping with an error that names the first one.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "d.csv"
    >>> _ = path.write_text("x,y\\n1,3\\n2,5\\n3,7\\n")
    >>> s = FileSource(path, target="y")
    >>> s.n_rows, s.feature_names, next(s.chunks()).y.tolist()
    (3, ['x'], [3.0, 5.0, 7.0])
    """

    def __init__(
        self,
        path: str | Path,
        target: str,
        features: Sequence[str] | None = None,
        weight: str | None = None,
        *,
        drop_missing: bool = False,
    ) -> None:
        self.path = Path(path)
        self.files = _data_files(self.path)
        self.format = "parquet" if self.files[0].name.lower().endswith(_PARQUET) else "csv"
        columns, numeric = self._schema()
        used = [target] + ([weight] if weight else [])
        for name in [*used, *(features or [])]:
            if name not in columns:
                raise InvalidInputError(
                    f"{path} has no column {name!r}{close_matches(name, columns)}: choose "
                    f"from {', '.join(columns[:20])}"
                )
        if features is None:
            features = [c for c in numeric if c not in used]
            if not features:
                raise InvalidInputError(
                    f"{path} has no numeric column besides {', '.join(used)}: name the features"
                )
        check_columns(target, features, str(path))
        if weight is not None and weight in (target, *features):
            raise InvalidInputError(
                f"the weight column {weight!r} is also the target or a feature: choose "
                "another column"
            )
        self._features = list(features)
        self._target = target
        self._weight = weight
        self.drop_missing = bool(drop_missing)
        self._n_rows: int | None = None
        self.dropped = 0

    # -- the Source protocol ----------------------------------------------------------------

    @property
    def n_rows(self) -> int:
        """Rows used (one counting pass over a CSV, or with ``drop_missing``)."""
        if self._n_rows is None:
            count = 0
            for batch in self.chunks():
                count += len(batch.y)
            self._n_rows = count
            if count == 0:
                raise InvalidInputError(f"{self.path} has no rows to fit: a header only?")
        return self._n_rows

    @property
    def n_features(self) -> int:
        return len(self._features)

    @property
    def feature_names(self) -> list[str]:
        return list(self._features)

    @property
    def target_name(self) -> str:
        return self._target

    def rows(self, idx: np.ndarray | None) -> Batch:
        """All rows at once, for a file that fits ``IN_MEMORY_VALUES`` values."""
        if self.n_rows * (self.n_features + 2) > IN_MEMORY_VALUES:
            raise InvalidInputError(
                f"{self.path} has {self.n_rows:,} rows: too many to hold at once for this "
                "fit; descend full batch (batch_size=None), which streams the file"
            )
        parts = list(self.chunks())
        X = np.concatenate([p.X for p in parts])
        y = np.concatenate([p.y for p in parts])
        w = None if self._weight is None else np.concatenate([p.weight for p in parts])
        if idx is None:
            return Batch(X, y, w)
        return Batch(X[idx], y[idx], None if w is None else w[idx])

    def chunks(self, max_rows: int | None = None) -> Iterator[Batch]:
        """Every used row, in file order, as dense float64 blocks."""
        seen, dropped = 0, 0
        names = [*self._features, self._target] + ([self._weight] if self._weight else [])
        d = self.n_features
        for file, table in self._batches(names):
            block = np.column_stack(
                [_to_float(table.column(i), name, file) for i, name in enumerate(names)]
            )
            bad = ~np.isfinite(block).all(axis=1)
            if self._weight is not None:
                bad |= block[:, -1] < 0
            if bad.any():
                if not self.drop_missing:
                    raise _bad_value(block, bad, names, file, seen, self._weight)
                dropped += int(bad.sum())
                block = block[~bad]
            seen += len(bad)
            step = max_rows or len(block)
            for start in range(0, len(block), max(1, step)):
                part = block[start : start + step]
                yield Batch(
                    np.ascontiguousarray(part[:, :d]),
                    np.ascontiguousarray(part[:, d]),
                    None if self._weight is None else np.ascontiguousarray(part[:, d + 1]),
                )
        self.dropped = dropped

    # -- reading ------------------------------------------------------------------------------

    def _schema(self) -> tuple[list[str], list[str]]:
        pa = _pyarrow()
        first = self.files[0]
        try:
            if self.format == "parquet":
                with pa.parquet.ParquetFile(first) as pf:
                    schema = pf.schema_arrow
            else:
                with pa.input_stream(str(first)) as stream:
                    reader = pa.csv.open_csv(
                        stream, read_options=pa.csv.ReadOptions(block_size=BLOCK_BYTES)
                    )
                    schema = reader.schema
        except (pa.ArrowInvalid, OSError) as exc:
            raise InvalidInputError(f"{first} cannot be read as {self.format}: {exc}") from None
        if self.format == "csv" and all(pa.types.is_null(f.type) for f in schema):
            raise InvalidInputError(f"{first} has a header and no rows: there is nothing to fit")
        columns = list(schema.names)
        duplicates = sorted({c for c in columns if columns.count(c) > 1})
        if duplicates:
            raise InvalidInputError(
                f"{first} has the column name {duplicates[0]!r} more than once: rename one"
            )
        numeric = [
            f.name for f in schema if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
        ]
        return columns, numeric

    def _batches(self, names: list[str]) -> Iterator[tuple[Path, Any]]:
        pa = _pyarrow()
        for file in self.files:
            try:
                if self.format == "parquet":
                    with pa.parquet.ParquetFile(file) as pf:
                        for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=names):
                            yield file, batch
                else:
                    with pa.input_stream(str(file)) as stream:
                        reader = pa.csv.open_csv(
                            stream,
                            read_options=pa.csv.ReadOptions(block_size=BLOCK_BYTES),
                            convert_options=pa.csv.ConvertOptions(
                                include_columns=names,
                                column_types={n: pa.float64() for n in names},
                            ),
                        )
                        for batch in reader:
                            yield file, batch
            except pa.ArrowInvalid as exc:
                raise _arrow_error(exc, file, names) from None


def open_source(
    path: str | Path,
    target: str,
    features: Sequence[str] | None = None,
    weight: str | None = None,
    *,
    drop_missing: bool = False,
) -> FileSource:
    """Rows of a file for ``gradfit.fit``, ``GDRegressor``-free: streamed, never whole.

    >>> import tempfile, pathlib, gradfit
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "d.csv"
    >>> _ = path.write_text("x,y\\n" + "".join(f"{i},{2 * i + 1}\\n" for i in range(10)))
    >>> r = gradfit.fit(open_source(path, target="y"))
    >>> r.w.round(12).tolist(), round(r.b, 12)
    ([2.0], 1.0)
    """
    return FileSource(path, target, features, weight, drop_missing=drop_missing)


def _data_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.name.lower().endswith(_PARQUET))
        if not files:
            raise InvalidInputError(
                f"the folder {path} holds no .parquet files: point to a file, or to a folder "
                "of Parquet files"
            )
        return files
    if not path.exists():
        raise InvalidInputError(f"no such file: {path}")
    name = path.name.lower()
    if not name.endswith(_PARQUET + _CSV):
        raise InvalidInputError(
            f"{path}: unknown format; gradfit reads .csv, .csv.gz, .parquet and folders of "
            ".parquet files"
        )
    return [path]


def _to_float(column: Any, name: str, file: Path) -> np.ndarray:
    pa = _pyarrow()
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
        raise InvalidInputError(
            f"column {name!r} of {file} is not numeric ({column.type}): choose numeric columns"
        )
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)


def _bad_value(
    block: np.ndarray,
    bad: np.ndarray,
    names: list[str],
    file: Path,
    seen: int,
    weight: str | None,
) -> InvalidInputError:
    row = int(np.flatnonzero(bad)[0])
    values = block[row]
    j = int(np.flatnonzero(~np.isfinite(values))[0]) if not np.isfinite(values).all() else -1
    what = "a missing, NaN or infinite value" if j >= 0 else "a negative weight"
    column = names[j] if j >= 0 else weight
    return InvalidInputError(
        f"{file}, data row {seen + row + 1}: {what} in column {column!r}; fix the file, or "
        "skip such rows with drop_missing=True (--drop-missing)"
    )


def _arrow_error(exc: Exception, file: Path, names: list[str]) -> InvalidInputError:
    match = _ARROW_VALUE.search(str(exc))
    if match:
        column = int(match[1])
        name = names[column] if column < len(names) else f"#{column}"
        row, value = _first_non_number(file, name)
        where = f"data row {row}" if row else "a row"
        return InvalidInputError(
            f"{file}, {where}: {value or match[2]!r} in column {name!r} is not a number: fix "
            "the value, or choose other columns"
        )
    first = str(exc).strip().splitlines()[0]
    return InvalidInputError(f"{file} cannot be read: {first}")


def _first_non_number(file: Path, name: str) -> tuple[int, str]:
    """The first data row (from 1) of a CSV column that does not parse as a number."""
    pa = _pyarrow()
    seen = 0
    with pa.input_stream(str(file)) as stream:
        reader = pa.csv.open_csv(
            stream,
            read_options=pa.csv.ReadOptions(block_size=BLOCK_BYTES),
            convert_options=pa.csv.ConvertOptions(
                include_columns=[name], column_types={name: pa.string()}
            ),
        )
        for batch in reader:
            for k, text in enumerate(batch.column(0).to_pylist()):
                if text is None:
                    continue
                try:
                    float(text)
                except ValueError:
                    return seen + k + 1, text
            seen += batch.num_rows
    return 0, ""
