"""Turn user input into float64 arrays, or say exactly what is wrong with it."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradfit.exceptions import InvalidInputError

__all__ = [
    "as_features",
    "as_target",
    "check_columns",
    "check_xy",
    "close_matches",
    "dense_rows",
    "feature_names_of",
    "is_sparse",
]


def is_sparse(X: Any) -> bool:
    """A SciPy sparse matrix or array (recognised without importing SciPy)."""
    return hasattr(X, "tocsr") and hasattr(X, "nnz")


def dense_rows(X: Any, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` as a dense array: bounded-memory chunks of sparse data."""
    chunk = X[start:stop]
    return chunk.toarray() if is_sparse(chunk) else chunk


def feature_names_of(X: Any) -> list[str] | None:
    """Column names of a DataFrame-like ``X`` (anything with string ``columns``), else None."""
    columns = getattr(X, "columns", None)
    if columns is None:
        return None
    names = [str(c) for c in columns]
    return names if all(isinstance(c, str) for c in columns) else None


def _to_float(values: Any, name: str, columns: Sequence[str] | None = None) -> np.ndarray:
    """``values`` as float64, or an error naming what is not a real number."""
    try:
        raw = np.asarray(values)
    except (TypeError, ValueError) as exc:
        if "inhomogeneous" in str(exc):
            raise InvalidInputError(
                f"{name} has rows of different lengths: give every row the same number of values"
            ) from None
        raise InvalidInputError(
            f"{name} cannot be read as an array of numbers ({exc}): pass a NumPy array, "
            "a list of rows or a DataFrame"
        ) from None
    if raw.dtype.kind == "c" or (raw.dtype == object and _first(raw, _is_complex) is not None):
        _complex_error(raw, name, columns)
    if raw.dtype.kind in "mM":
        raise InvalidInputError(
            f"{name} holds dates or times ({raw.dtype}): convert them to numbers first "
            "(for example days since a start date)"
        )
    try:
        return raw.astype(np.float64, copy=False)
    except OverflowError:
        example = _first(raw, _overflows)
        raise InvalidInputError(
            f"{name} has a value too large for float64 (for example {_short(example)}; the "
            "largest is about 1.8e308): rescale it, for example to a larger unit"
        ) from None
    except (TypeError, ValueError) as exc:
        example = _first(raw, lambda v: not _is_number(v))
        raise InvalidInputError(
            f"{name} contains non-numeric values (for example {example!r}): "
            f"convert them to numbers or leave those columns out"
        ) from exc


def _first(raw: np.ndarray, test: Any) -> Any:
    """The first element of ``raw`` that passes ``test`` (None: none does), as Python's."""
    found = next((v for v in raw.ravel() if test(v)), None)
    return found.item() if isinstance(found, np.generic) else found


def _is_complex(value: Any) -> bool:
    return isinstance(value, (complex, np.complexfloating))


def _overflows(value: Any) -> bool:
    try:
        float(value)
    except OverflowError:
        return True
    except (TypeError, ValueError):
        return False
    return False


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...{text[-8:]} ({len(text)} characters)"


def _complex_error(raw: np.ndarray, name: str, columns: Sequence[str] | None) -> None:
    flat = raw.ravel()
    where = next(
        (i for i, v in enumerate(flat) if _is_complex(v) and complex(v).imag != 0),
        next((i for i, v in enumerate(flat) if _is_complex(v)), 0),
    )
    index = [int(i) for i in np.unravel_index(where, raw.shape)] if raw.ndim else []
    at = f" at row {index[0]}" if len(index) >= 1 else ""
    if len(index) == 2:
        at += f", column {columns[index[1]]!r}" if columns else f", column {index[1]}"
    raise InvalidInputError(
        f"{name} has complex values (for example {complex(flat[where])!r}{at}): gradfit "
        "fits real numbers: pass the real part (np.real) if the imaginary parts are zero, "
        "or the real and imaginary parts as separate columns"
    )


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError, OverflowError):
        return False
    return True


def _check_finite(a: np.ndarray, name: str, columns: Sequence[str] | None = None) -> None:
    finite = np.isfinite(a)
    if finite.all():
        return
    bad = np.argwhere(~finite)
    first = tuple(bad[0])
    where = f"row {first[0]}"
    if a.ndim == 2:
        col = first[1]
        where += f", column {columns[col]!r}" if columns else f", column {col}"
    raise InvalidInputError(
        f"{name} has {len(bad)} NaN or infinite value(s) (first at {where}: {float(a[first])!r}): "
        f"drop or impute those rows before fitting"
    )


def as_features(X: Any, name: str = "X") -> np.ndarray:
    """Return ``X`` as a finite 2-D float64 array; a 1-D array is one feature.

    >>> as_features([1, 2, 3]).shape
    (3, 1)

    SciPy sparse input stays sparse (CSR, float64): gradients use sparse products.
    """
    if is_sparse(X):
        return _as_sparse_features(X, name)
    columns = feature_names_of(X)
    a = _to_float(X, name, columns)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise InvalidInputError(
            f"{name} must be 2-D (rows x features), got {a.ndim}-D with shape {a.shape}: "
            f"reshape it to (n_samples, n_features)"
        )
    if a.shape[0] == 0:
        raise InvalidInputError(f"{name} is empty (0 rows): pass at least one row of data")
    if a.shape[1] == 0:
        raise InvalidInputError(f"{name} has 0 features: pass at least one feature column")
    _check_finite(a, name, columns)
    return a


def _as_sparse_features(X: Any, name: str) -> Any:
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise InvalidInputError(f"{name} must be a non-empty 2-D sparse matrix, got {X.shape}")
    if X.dtype.kind == "c":
        raise InvalidInputError(
            f"{name} has complex values ({X.dtype}): gradfit fits real numbers: pass the real "
            "part if the imaginary parts are zero, or the real and imaginary parts as "
            "separate columns"
        )
    try:
        csr = X.tocsr().astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} has values that are not real numbers: {exc}") from exc
    if not np.isfinite(csr.data).all():
        raise InvalidInputError(
            f"{name} has NaN or infinite stored values: drop or impute them before fitting"
        )
    return csr


def as_target(y: Any, name: str = "y") -> np.ndarray:
    """Return ``y`` as a finite 1-D float64 array (a single column is accepted).

    >>> as_target([[1.0], [2.0]])
    array([1., 2.])
    """
    a = _to_float(y, name)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise InvalidInputError(
            f"{name} must be 1-D (one target value per row), got shape {a.shape}: "
            f"fit one target at a time"
        )
    if a.shape[0] == 0:
        raise InvalidInputError(f"{name} is empty: pass one target value per row of X")
    _check_finite(a, name)
    return a


def check_xy(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate features and target together.

    >>> X, y = check_xy([[1.0], [2.0]], [3.0, 5.0])
    >>> X.shape, y.shape
    ((2, 1), (2,))
    """
    Xa = as_features(X)
    ya = as_target(y)
    if Xa.shape[0] != ya.shape[0]:  # sparse or dense, both have shape
        raise InvalidInputError(
            f"X has {Xa.shape[0]} rows but y has {ya.shape[0]} values: "
            f"pass one target value per row of X"
        )
    return Xa, ya


def close_matches(word: str, choices: Sequence[str]) -> str:
    """``" (did you mean 'x'?)"`` for the choices close to ``word``, or ``""``.

    >>> close_matches("weigth", ["weight", "age", "sex"])
    " (did you mean 'weight'?)"
    >>> close_matches("shoe", ["weight"])
    ''
    >>> close_matches("Y", ["y", "x"])
    " (did you mean 'y'?)"
    """
    choices = list(choices)
    # the same name in other letter case first, then names spelt alike
    same = [c for c in choices if c.lower() == word.lower() and c != word]
    found = same + [c for c in difflib.get_close_matches(word, choices, n=3) if c not in same]
    found = found[:3]
    if not found:
        return ""
    return f" (did you mean {' or '.join(map(repr, found))}?)"


def check_columns(target: str | None, features: Sequence[str] | None, name: str) -> None:
    """A target that is not also a feature, and no feature twice.

    >>> check_columns("y", ["x", "y"], "t.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gradfit.exceptions.InvalidInputError: the target 'y' of t.csv is also among the features: ...
    """
    chosen = list(features or [])
    twice = sorted({c for c in chosen if chosen.count(c) > 1})
    if twice:
        raise InvalidInputError(
            f"features name {', '.join(map(repr, twice))} more than once: list each feature once"
        )
    if target is not None and target in chosen:
        raise InvalidInputError(
            f"the target {target!r} of {name} is also among the features: a column "
            "cannot predict itself, leave it out of the features"
        )
