"""Where rows come from: a ``Source`` of features, target and weights.

The training loop never touches arrays directly: it asks a source for the rows of a
batch (``rows``) and the model layer asks it for bounded chunks of all rows
(``chunks``), from which the mergeable sufficient statistics are reduced. An
``ArraySource`` holds rows in memory (dense or CSR); sources that stream files or
partitions of a cluster provide the same three things.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from gradfit.data.validation import check_xy, dense_rows, feature_names_of, is_sparse
from gradfit.exceptions import InvalidInputError

__all__ = [
    "ArraySource",
    "Batch",
    "Source",
    "as_source",
    "check_range",
    "check_weights",
    "in_memory",
    "is_source",
]

# Rows per chunk: about 32 MiB of float64 values, whatever the width.
CHUNK_VALUES = 2**22


class Batch(NamedTuple):
    """Some rows of a source: features (dense or CSR), target and weights (None: all 1)."""

    X: Any
    y: np.ndarray
    weight: np.ndarray | None


@runtime_checkable
class Source(Protocol):
    """What the engine needs to know about where rows come from."""

    @property
    def n_rows(self) -> int: ...

    @property
    def n_features(self) -> int: ...

    @property
    def feature_names(self) -> list[str]: ...

    @property
    def target_name(self) -> str: ...

    def rows(self, idx: np.ndarray | None) -> Batch:
        """The rows at ``idx`` (None: all rows)."""
        ...

    def chunks(self, max_rows: int | None = None) -> Iterator[Batch]:
        """All rows, in order, as dense blocks of bounded size."""
        ...


def check_weights(sample_weight: Any, n: int) -> np.ndarray | None:
    """One finite weight >= 0 per row, not all zero (None: every row weighs 1)."""
    if sample_weight is None:
        return None
    from gradfit.data.validation import as_target

    s = as_target(sample_weight, "sample_weight")
    if s.shape[0] != n:
        raise InvalidInputError(
            f"sample_weight has {s.shape[0]} values for {n} rows: pass one weight per row"
        )
    if (s < 0).any():
        raise InvalidInputError(
            "sample_weight must be >= 0: drop rows instead of giving them negative weight"
        )
    if s.sum() <= 0:
        raise InvalidInputError(
            "sample_weight is zero for every row: give at least one row a positive weight"
        )
    return s


# Squares and cross-products of values beyond this overflow float64 (max 1.8e308) when
# summed over rows; values below its inverse lose every digit when squared.
LARGEST_VALUE = 1e150


def check_range(X: Any, y: np.ndarray, feature_names: list[str], target_name: str) -> None:
    """Values whose squares float64 cannot hold are an error that says how to rescale.

    Gradient descent on the mean squared error sums squares and products of the values;
    around 1e200 they overflow, around 1e-200 they vanish. Rescaling a column by a
    power of ten changes its coefficient by the same power, exactly.

    >>> check_range(np.array([[1e200]]), np.array([1.0]), ["x"], "y")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gradfit.exceptions.InvalidInputError: column 'x' has values up to 1e+200, ... by 1e+200 ...
    """
    if is_sparse(X):  # stored values only: one check over all of them
        columns = [("of X", float(np.abs(X.data).max(initial=0.0)))]
    else:
        top = np.abs(X).max(axis=0)
        columns = [(name, float(v)) for name, v in zip(feature_names, top, strict=True)]
    columns.append((target_name, float(np.abs(y).max())))
    for name, size in columns:
        if size > LARGEST_VALUE or 0.0 < size < 1.0 / LARGEST_VALUE:
            big = size > 1.0
            power = 10.0 ** np.floor(np.log10(size))
            what = "overflow float64" if big else "underflow to zero in float64"
            fix = f"divide it by {power:.0e}" if big else f"multiply it by {1.0 / power:.0e}"
            label = "X" if name == "of X" else f"column {name!r}"
            which = "the coefficients scale" if name == target_name else "its coefficient scales"
            raise InvalidInputError(
                f"{label} has values up to {size:.3g}, whose squares {what}: {fix} "
                f"({which} back by the same factor)"
            )


class ArraySource:
    """Rows held in memory, validated once.

    >>> s = ArraySource([[1.0], [2.0], [3.0]], [2.0, 4.0, 6.0])
    >>> s.n_rows, s.n_features, s.feature_names
    (3, 1, ['x0'])
    >>> s.rows(np.array([2, 0])).y.tolist()
    [6.0, 2.0]
    """

    def __init__(
        self,
        X: Any,
        y: Any,
        *,
        sample_weight: Any = None,
        feature_names: Sequence[str] | None = None,
        target_name: str = "y",
    ) -> None:
        found = feature_names_of(X)
        self.X, self.y = check_xy(X, y)
        d = self.X.shape[1]
        names = list(feature_names) if feature_names is not None else found
        if names is None:
            names = [f"x{j}" for j in range(d)]
        if len(names) != d:
            raise InvalidInputError(
                f"feature_names has {len(names)} names for {d} feature columns: "
                "give one name per column"
            )
        self._feature_names = [str(n) for n in names]
        self._target_name = str(target_name)
        self.sample_weight = check_weights(sample_weight, self.X.shape[0])

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def feature_names(self) -> list[str]:
        return self._feature_names

    @property
    def target_name(self) -> str:
        return self._target_name

    @property
    def sparse(self) -> bool:
        return is_sparse(self.X)

    def rows(self, idx: np.ndarray | None) -> Batch:
        if idx is None:
            return Batch(self.X, self.y, self.sample_weight)
        w = self.sample_weight
        return Batch(self.X[idx], self.y[idx], None if w is None else w[idx])

    def chunks(self, max_rows: int | None = None) -> Iterator[Batch]:
        step = max_rows or max(1, CHUNK_VALUES // self.n_features)
        w = self.sample_weight
        for start in range(0, self.n_rows, step):
            stop = start + step
            yield Batch(
                dense_rows(self.X, start, stop),
                self.y[start:stop],
                None if w is None else w[start:stop],
            )

    def column_rms(self) -> np.ndarray:
        """Root-mean-square of each raw feature column."""
        X: Any = self.X
        squares = X.multiply(X).sum(axis=0) if is_sparse(X) else np.einsum("ij,ij->j", X, X)
        return np.sqrt(np.asarray(squares).ravel() / X.shape[0])


def as_source(
    X: Any,
    y: Any = None,
    *,
    sample_weight: Any = None,
    feature_names: Sequence[str] | None = None,
    target_name: str | None = None,
) -> Source:
    """A source for ``X, y``, or ``X`` itself when it already is one.

    A source carries its own target, weights and names: passing them again is an error,
    never silently ignored.

    >>> s = as_source([[1.0], [2.0]], [1.0, 2.0])
    >>> as_source(s) is s
    True
    """
    if is_source(X):
        given = [
            name
            for name, value in (
                ("y", y),
                ("sample_weight", sample_weight),
                ("feature_names", feature_names),
                ("target_name", target_name),
            )
            if value is not None
        ]
        if given:
            raise InvalidInputError(
                f"X is a data source, which brings its own target, weights and names: "
                f"leave out {', '.join(given)}"
            )
        return X
    if type(X).__module__.split(".")[0] in ("dask", "dask_expr"):  # without importing dask
        from gradfit.data.dask_source import DaskSource

        return DaskSource(
            X, y, sample_weight=sample_weight, feature_names=feature_names, target_name=target_name
        )
    if y is None:
        raise InvalidInputError("y is missing: pass the target values, one per row of X")
    return ArraySource(
        X,
        y,
        sample_weight=sample_weight,
        feature_names=feature_names,
        target_name=target_name or "y",
    )


def is_source(X: Any) -> bool:
    """Whether ``X`` is a data source (duck-typed: a runtime Protocol check costs more
    than a small fit's steps)."""
    return hasattr(X, "chunks") and hasattr(X, "rows") and not hasattr(X, "shape")


def in_memory(
    X: Any,
    y: Any = None,
    *,
    sample_weight: Any = None,
    feature_names: Sequence[str] | None = None,
) -> ArraySource:
    """The rows of ``X, y`` held in memory: a source's rows at once (a streamed file that
    fits; a larger one says so), or arrays as given. For the front ends that show rows
    (explain, plots).

    >>> in_memory([[1.0], [2.0]], [1.0, 2.0]).n_rows
    2
    """
    source = as_source(X, y, sample_weight=sample_weight, feature_names=feature_names)
    if isinstance(source, ArraySource):
        return source
    batch = source.rows(None)
    return ArraySource(
        batch.X,
        batch.y,
        sample_weight=batch.weight,
        feature_names=source.feature_names,
        target_name=source.target_name,
    )
