"""Rows held by Dask: dask arrays and dask DataFrames, partition by partition.

A ``DaskSource`` never gathers the rows. Full-batch descent reduces the sufficient
statistics on the workers (``map_reduce``: one task per partition, merged pairwise in a
tree), so only ``d x d`` numbers travel and each step costs O(d^2) on the client.
Mini-batch epochs visit the partitions in a seeded order and mix each one's rows (with
the rest of a shuffle buffer); the few passes that need rows (exact gradients on
ill-conditioned designs, the loss near an exact fit) bring one partition at a time.
Whatever scheduler is active computes it: a ``distributed.Client`` if one is open.

dask is imported on first use (``pip install 'gradfit[dask]'``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np

from gradfit.data import stream  # the limits every streamed source shares
from gradfit.data.batching import Block, cut, streamed_blocks
from gradfit.data.source import Batch, check_weights
from gradfit.exceptions import InvalidInputError

__all__ = ["DaskSource", "is_dask"]

T = TypeVar("T")


def is_dask(value: Any) -> bool:
    """Whether ``value`` is a dask collection (checked without importing dask)."""
    return type(value).__module__.split(".")[0] in ("dask", "dask_expr") and hasattr(value, "dask")


def _dask() -> Any:
    try:
        import dask
        import dask.array
    except ImportError as exc:  # pragma: no cover - the dask extra is installed in tests
        raise InvalidInputError("dask collections need dask: pip install 'gradfit[dask]'") from exc
    return dask


def _column_array(values: Any, name: str) -> Any:
    """A dask array of a DataFrame or Series (partition lengths computed), or as given."""
    if hasattr(values, "to_dask_array"):
        # partition lengths computed on the array itself (a projection of a DataFrame may
        # be partitioned otherwise than the frame the lengths were counted on)
        return values.to_dask_array().compute_chunk_sizes()
    if not hasattr(values, "chunks"):
        raise InvalidInputError(
            f"{name} is not a dask array or DataFrame: pass dask collections for both X "
            "and y, or NumPy arrays for both"
        )
    return values


class DaskSource:
    """The rows of dask collections: features ``X``, target ``y``, weights.

    Parameters
    ----------
    X : dask array (n, d) or dask DataFrame
        The features (a DataFrame's column names become the feature names).
    y : dask array (n,) or dask Series
    sample_weight : dask array or Series, optional
    feature_names, target_name : optional
        Names (default: the DataFrame's, else ``x0, x1, ...`` and ``'y'``).
    shuffle_buffer : int, default=65536
        Rows that mini-batch epochs mix at once (at least a partition's worth).

    Examples
    --------
    >>> import dask.array as da
    >>> X = da.from_array(np.arange(8.0).reshape(4, 2), chunks=2)
    >>> s = DaskSource(X, X[:, 0] * 2 + 1)
    >>> s.n_rows, s.n_features, s.n_partitions
    (4, 2, 2)
    """

    streamed = True

    def __init__(
        self,
        X: Any,
        y: Any,
        *,
        sample_weight: Any = None,
        feature_names: Sequence[str] | None = None,
        target_name: str | None = None,
        weight_name: str | None = None,
        shuffle_buffer: int = stream.SHUFFLE_BUFFER_ROWS,
    ) -> None:
        dask = _dask()
        da = dask.array
        if y is None:
            raise InvalidInputError("y is missing: pass the target as a dask array or Series")
        names = [str(c) for c in X.columns] if hasattr(X, "columns") else None
        target = target_name or (str(y.name) if getattr(y, "name", None) is not None else "y")
        # DataFrames: each collection's partition lengths are counted (a pass each; a
        # projection of a frame may be partitioned otherwise than the frame), then y and the
        # weights are rechunked to X's partitions
        Xa = _column_array(X, "X")
        if Xa.ndim != 2:
            raise InvalidInputError(f"X must be 2-D (rows x features), got {Xa.ndim}-D: reshape it")
        ya = _column_array(y, "y")
        if ya.ndim == 2 and ya.shape[1] == 1:
            ya = ya[:, 0]
        if ya.ndim != 1:
            raise InvalidInputError(f"y must be 1-D (one target per row), got shape {ya.shape}")
        if any(np.isnan(c) for c in Xa.chunks[0]) or any(np.isnan(c) for c in ya.chunks[0]):
            Xa, ya = Xa.compute_chunk_sizes(), ya.compute_chunk_sizes()
        if Xa.shape[0] != ya.shape[0]:
            raise InvalidInputError(
                f"X has {Xa.shape[0]} rows and y {ya.shape[0]}: give one target per row"
            )
        # one block per partition: every column of a row together, y and weights alongside
        self.X = Xa.rechunk({1: -1}).astype(np.float64)
        self.y = ya.rechunk({0: self.X.chunks[0]}).astype(np.float64)
        self.weight = None
        if sample_weight is not None:
            wa = _column_array(sample_weight, "sample_weight")
            if wa.shape[0] != Xa.shape[0]:
                raise InvalidInputError(
                    f"sample_weight has {wa.shape[0]} values for {Xa.shape[0]} rows: pass "
                    "one weight per row"
                )
            self.weight = wa.rechunk({0: self.X.chunks[0]}).astype(np.float64)
        d = int(self.X.shape[1])
        given = list(feature_names) if feature_names is not None else names
        self._feature_names = [str(n) for n in given] if given else [f"x{j}" for j in range(d)]
        if len(self._feature_names) != d:
            raise InvalidInputError(
                f"feature_names has {len(self._feature_names)} names for {d} feature columns: "
                "give one name per column"
            )
        self._target_name = target
        self._weight_name = weight_name or (None if self.weight is None else "sample_weight")
        self.shuffle_buffer = int(shuffle_buffer)
        self._da = da
        self._delayed = dask.delayed

    # -- the Source protocol ----------------------------------------------------------------

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def feature_names(self) -> list[str]:
        return list(self._feature_names)

    @property
    def target_name(self) -> str:
        return self._target_name

    @property
    def weight_name(self) -> str | None:
        return self._weight_name

    @property
    def n_partitions(self) -> int:
        return len(self.X.chunks[0])

    @property
    def fits_in_memory(self) -> bool:
        return self.n_rows * (self.n_features + 2) <= stream.IN_MEMORY_VALUES

    def _check(self) -> Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
        return functools.partial(_checked, self._feature_names, self._target_name)

    def _parts(self) -> list[tuple[Any, Any, Any]]:
        """The delayed blocks of each partition: ``(X, y, weight or None)``."""
        xs = self.X.to_delayed().ravel()
        ys = self.y.to_delayed().ravel()
        ws = [None] * len(xs) if self.weight is None else self.weight.to_delayed().ravel()
        return list(zip(xs, ys, ws, strict=True))

    def rows(self, idx: np.ndarray | None) -> Batch:
        """All rows gathered, for sources small enough (``stream.IN_MEMORY_VALUES`` values)."""
        if not self.fits_in_memory:
            raise InvalidInputError(
                f"these dask collections have {self.n_rows:,} rows: too many to gather for "
                "this fit; descend full batch (batch_size=None) or in mini-batches, which "
                "stay partition by partition"
            )
        X, y, w = self._da.compute(self.X, self.y, self.weight)
        w = None if w is None else check_weights(w, len(y))
        if idx is None:
            return Batch(np.asarray(X), np.asarray(y), w)
        return Batch(np.asarray(X)[idx], np.asarray(y)[idx], None if w is None else w[idx])

    def chunks(
        self, max_rows: int | None = None, order: Sequence[int] | np.ndarray | None = None
    ) -> Iterator[Batch]:
        """The partitions, one at a time on the client (in ``order`` when given)."""
        parts = self._parts()
        for k in order if order is not None else range(len(parts)):
            X, y, w = self._delayed(self._check())(*parts[k]).compute()
            step = max(1, max_rows or len(y))
            for start in range(0, len(y), step):
                stop = start + step
                yield Batch(X[start:stop], y[start:stop], None if w is None else w[start:stop])

    def map_reduce(self, fn: Callable[[Batch], T], combine: Callable[[T, T], T]) -> T:
        """``fn`` on every partition where it lives, merged pairwise in a tree: only the
        results travel (the sufficient statistics: ``d x d`` numbers)."""
        check = self._check()
        level = [self._delayed(_apply)(fn, check, *part) for part in self._parts()]
        while len(level) > 1:
            pairs = [
                self._delayed(combine)(level[k], level[k + 1]) for k in range(0, len(level) - 1, 2)
            ]
            level = pairs + ([level[-1]] if len(level) % 2 else [])
        result: T = level[0].compute()
        return result

    def batches(self, batch_size: int, *, shuffle: bool, seed: int, epoch: int) -> Iterator[Batch]:
        """One epoch of mini-batches, partition by partition (in a seeded order, each
        partition's rows mixed with the rest of a shuffle buffer)."""
        yield from cut(self.blocks(batch_size, shuffle=shuffle, seed=seed, epoch=epoch), batch_size)

    def blocks(self, batch_size: int, *, shuffle: bool, seed: int, epoch: int) -> Iterator[Block]:
        """The batches of ``batches``, a buffer-full of whole batches at a time."""
        rng = np.random.default_rng([seed, epoch]) if shuffle else None
        order = rng.permutation(self.n_partitions) if rng is not None else None
        yield from streamed_blocks(
            self.chunks(order=order), batch_size, buffer=self.shuffle_buffer, rng=rng
        )


def _checked(
    names: list[str], target: str, X: Any, y: Any, w: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """A partition as float64 arrays; a non-finite value or negative weight is an error
    that names the column."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    w = None if w is None else np.asarray(w, dtype=np.float64)
    bad_x = ~np.isfinite(X).all(axis=0)
    if bad_x.any() or not np.isfinite(y).all():
        column = names[int(np.flatnonzero(bad_x)[0])] if bad_x.any() else target
        raise InvalidInputError(
            f"the dask collections hold NaN or infinite values in column {column!r}: drop "
            "those rows first (ddf.dropna(); --drop-missing on the command line) or fill them"
        )
    if w is not None and (not np.isfinite(w).all() or (w < 0).any()):
        raise InvalidInputError("sample_weight must be finite and >= 0 in every partition")
    return X, y, w


def _apply(fn: Callable[[Batch], T], check: Callable[..., Any], X: Any, y: Any, w: Any) -> T:
    return fn(Batch(*check(X, y, w)))
