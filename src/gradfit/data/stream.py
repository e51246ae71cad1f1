"""Rows streamed from files by pyarrow: CSV (also gzip-compressed), Parquet, a folder of Parquet.

A ``FileSource`` never holds a whole file: it reads record batches of a few MB (through
``FileTable``, the reader) and hands the engine dense chunks (``chunks()``), from which
full-batch descent builds its exact sufficient statistics in one pass (then each step
costs O(d^2), whatever the size of the file) and the exact-gradient refinement streams
its residuals. Mini-batches come from ``batches()``: the file once per epoch through a
seeded shuffle buffer. Only a file small enough to fit ``IN_MEMORY_VALUES`` values is
handed over whole (``rows(None)``), for the row path and the yardsticks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from gradfit.data.batching import Block, cut, streamed_blocks
from gradfit.data.file_checks import left_out_notes
from gradfit.data.file_table import FileTable
from gradfit.data.source import Batch
from gradfit.data.validation import check_columns
from gradfit.exceptions import InvalidInputError

__all__ = ["FileSource", "open_source"]

# A file with at most this many values may be handed over whole.
IN_MEMORY_VALUES = 1 << 24
# Rows a mini-batch epoch mixes at once (see ``FileSource.batches``).
SHUFFLE_BUFFER_ROWS = 1 << 16


# -- the source -------------------------------------------------------------------------------


class FileSource:
    """The rows of a data file (or a folder of Parquet files), streamed.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` / ``.csv.gz`` file, a ``.parquet`` file, or a folder of ``.parquet`` files.
    target : str, optional
        The column to predict (without it, the source serves predictions only).
    features : sequence of str, optional
        The feature columns (default: every numeric column but the target, the weight and
        a row index; ``notes()`` says what was left out).
    weight : str, optional
        A column of sample weights (>= 0).
    drop_missing : bool, default=False
        Skip rows with a missing, NaN or infinite value in a used column (``dropped``
        counts them) instead of stopping with an error that names the first one.
    shuffle_buffer : int, default=65536
        Rows that mini-batch epochs mix at once (see ``batches``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "d.csv"
    >>> _ = path.write_text("x,y\\n1,3\\n2,5\\n3,7\\n")
    >>> s = FileSource(path, target="y")
    >>> s.n_rows, s.feature_names, next(s.chunks()).y.tolist()
    (3, ['x'], [3.0, 5.0, 7.0])
    """

    streamed = True  # passes cost: statistics are reduced once, mini-batches stream

    def __init__(
        self,
        path: str | Path,
        target: str | None = None,
        features: Sequence[str] | None = None,
        weight: str | None = None,
        *,
        drop_missing: bool = False,
        shuffle_buffer: int = SHUFFLE_BUFFER_ROWS,
        shown: str | None = None,
    ) -> None:
        if isinstance(features, str):
            features = [features]
        self.table = table = FileTable(path, shown)
        self.path = table.path
        check_columns(target, features, table.shown)
        used = ([target] if target else []) + ([weight] if weight else [])
        chosen = [*used, *(features or [])]
        table.require(chosen)
        self.non_numeric: tuple[str, ...] = ()
        if features is None:
            features = [c for c in table.numeric if c not in used]
            self.non_numeric = tuple(
                c for c in table.usable() if c not in used and c not in table.numeric
            )
            if not features:
                roles = [f"the target {target!r}"] if target else []
                roles += [f"the weight {weight!r}"] if weight else []
                besides = f" besides {' and '.join(roles)}" if roles else ""
                raise InvalidInputError(
                    f"{table.shown} has no numeric column{besides}: add a numeric feature "
                    "column, or convert one to numbers"
                )
        if weight is not None and weight in (target, *features):
            raise InvalidInputError(
                f"the weight column {weight!r} is also the target or a feature: choose "
                "another column"
            )
        if int(shuffle_buffer) < 1:
            raise InvalidInputError(
                f"shuffle_buffer must be at least 1 row, got {shuffle_buffer}: use a few "
                "thousand rows or more"
            )
        self.index_column = table.index_column if table.index_column not in chosen else None
        self._features = list(features)
        self._target = target
        self._weight = weight
        self.drop_missing = bool(drop_missing)
        self.shuffle_buffer = int(shuffle_buffer)
        self._n_rows: int | None = None
        self._counted: tuple[object, ...] | None = None
        self.dropped = 0

    def notes(self) -> list[str]:
        """What was left out without being asked for (a row index, non-numeric columns)."""
        return left_out_notes(self.table.shown, self.index_column, self.non_numeric)

    # -- the Source protocol ----------------------------------------------------------------

    def signature(self) -> tuple[object, ...]:
        """What the rows depend on besides this object: each file's size and modification
        time, and the options (statistics kept for this source are dropped when it changes)."""
        stamps = tuple((f.stat().st_size, f.stat().st_mtime_ns) for f in self.table.files)
        return (stamps, self.drop_missing, tuple(self._features), self._target, self._weight)

    @property
    def n_rows(self) -> int:
        """Rows used (counted by the last pass over the file, made again if it changed)."""
        if self._n_rows is None or self._counted != self.signature():
            for _ in self.chunks():
                pass
        assert self._n_rows is not None
        return self._n_rows

    @property
    def n_features(self) -> int:
        return len(self._features)

    @property
    def feature_names(self) -> list[str]:
        return list(self._features)

    @property
    def target_name(self) -> str:
        return self._target or ""

    @property
    def weight_name(self) -> str | None:
        return self._weight

    def features_by_name(self, names: Sequence[str]) -> Iterator[np.ndarray]:
        """Blocks of the columns ``names`` (a model's features, in its order), whatever
        this source's own features are; rows with missing values kept (NaN) when the
        source skips them, so that predictions line up with the file's rows."""
        self.table.require(names)
        keep = self.drop_missing
        for block in self.table.blocks(names, keep_missing=keep):
            yield np.ascontiguousarray(block)

    @property
    def fits_in_memory(self) -> bool:
        """Whether ``rows()`` may hold every row at once."""
        return self.n_rows * (self.n_features + 2) <= IN_MEMORY_VALUES

    def rows(self, idx: np.ndarray | None) -> Batch:
        """All rows at once, for a file that fits ``IN_MEMORY_VALUES`` values."""
        if not self.fits_in_memory:
            raise InvalidInputError(
                f"{self.table.shown} has {self.n_rows:,} rows: too many to hold at once for "
                "this fit; descend full batch (batch_size=None) or in mini-batches, which "
                "stream the file"
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
        if self._target is None:
            raise InvalidInputError(
                f"{self.table.shown} was opened without a target: it can only be predicted "
                "on; open_source(path, target='COLUMN') to fit or summarize"
            )
        names = [*self._features, self._target] + ([self._weight] if self._weight else [])
        count = 0
        for block in self.table.blocks(names, drop_missing=self.drop_missing):
            if self._weight is not None and (block[:, -1] < 0).any():
                value = float(block[block[:, -1] < 0, -1][0])
                raise InvalidInputError(
                    f"{self.table.shown}: a negative weight ({value:g}) in column "
                    f"{self._weight!r}: weights must be >= 0; fix the file, or choose another "
                    "weight column"
                )
            count += len(block)
            step = max(1, max_rows or len(block))
            for start in range(0, len(block), step):
                yield self._batch(block[start : start + step])
        self.dropped = self.table.dropped
        if count == 0:
            raise InvalidInputError(
                f"{self.table.shown} has no rows to fit"
                + (f": all {self.dropped} had missing values" if self.dropped else "")
            )
        self._n_rows, self._counted = count, self.signature()

    def batches(self, batch_size: int, *, shuffle: bool, seed: int, epoch: int) -> Iterator[Batch]:
        """One epoch of mini-batches, streamed through a shuffle buffer.

        With ``shuffle`` the rows pass through a buffer of ``shuffle_buffer`` rows: each
        buffer-full is permuted (seeded by ``seed`` and ``epoch``) and cut into batches,
        so a row can only meet rows that are at most a buffer apart in the file. That
        mixes rows well when the file's order carries no pattern on that scale; a file
        sorted by the target or a feature (or by time) needs a buffer as large as the
        sorted runs, or shuffling the file once beforehand. Without ``shuffle``, batches
        are consecutive rows in file order.
        """
        yield from cut(self.blocks(batch_size, shuffle=shuffle, seed=seed, epoch=epoch), batch_size)

    def blocks(self, batch_size: int, *, shuffle: bool, seed: int, epoch: int) -> Iterator[Block]:
        """The batches of ``batches``, a buffer-full of whole batches at a time."""
        rng = np.random.default_rng([seed, epoch]) if shuffle else None
        yield from streamed_blocks(self.chunks(), batch_size, buffer=self.shuffle_buffer, rng=rng)

    def _batch(self, part: np.ndarray) -> Batch:
        d = self.n_features
        return Batch(part[:, :d], part[:, d], None if self._weight is None else part[:, d + 1])


def open_source(
    path: str | Path,
    target: str | None = None,
    features: Sequence[str] | None = None,
    weight: str | None = None,
    *,
    drop_missing: bool = False,
    shuffle_buffer: int = SHUFFLE_BUFFER_ROWS,
) -> FileSource:
    """Rows of a file for ``gradfit.fit`` and ``GDRegressor``: streamed, never whole.

    >>> import tempfile, pathlib, gradfit
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "d.csv"
    >>> _ = path.write_text("x,y\\n" + "".join(f"{i},{2 * i + 1}\\n" for i in range(10)))
    >>> r = gradfit.fit(open_source(path, target="y"))
    >>> r.w.round(12).tolist(), round(r.b, 12)
    ([2.0], 1.0)
    """
    return FileSource(
        path, target, features, weight, drop_missing=drop_missing, shuffle_buffer=shuffle_buffer
    )
