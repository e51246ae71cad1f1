"""Data sets shipped with gradfit (see ``DATASETS``), and the synthetic data of article B."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from importlib import resources
from typing import NamedTuple

import numpy as np

from gradfit.data.validation import check_columns, close_matches
from gradfit.exceptions import InvalidInputError

__all__ = [
    "DATASETS",
    "Dataset",
    "DatasetInfo",
    "dataset_columns",
    "load_dataset",
    "make_article_b",
]


class DatasetInfo(NamedTuple):
    """What gradfit knows about a shipped data set, in one place."""

    file: str | None  # in gradfit/data/files; None: generated (article B)
    target: str
    features: tuple[str, ...] | None  # load_dataset's default (None: every other numeric)
    first_features: tuple[str, ...]  # what the playground starts with
    description: str


DATASETS: dict[str, DatasetInfo] = {
    "davis": DatasetInfo(
        "Davis.csv",
        "weight",
        ("height",),
        ("height",),
        "Measured and self-reported weight (kg) and height (cm) of 200 adults who exercise "
        "regularly. Davis, C. (1990) Body image and weight preoccupation: a comparison between "
        "exercising and non-exercising women. Appetite 15, 13-21. From the R package carData "
        "(Fox, Weisberg and Price), GPL-2 or later. Row 12 (index 11) is a known data-entry "
        "error: weight and height swapped.",
    ),
    "bdims": DatasetInfo(
        "bdims.csv",
        "wgt",
        None,
        ("hgt",),
        "24 body measurements plus age, weight (wgt, kg), height (hgt, cm) and sex (1 male, "
        "0 female) of 507 physically active adults. Heinz, G., Peterson, L.J., Johnson, R.W. "
        "and Kerk, C.J. (2003) Exploring relationships in body dimensions. Journal of "
        "Statistics Education 11(2). From the R package openintro (GPL-3).",
    ),
    "article_b": DatasetInfo(
        None,
        "y",
        None,
        ("x1", "x2", "x3", "x4", "x5"),
        "Article B's experiment: 5000 points, x ~ N(0, I), y = [2, 4, 5, 9, 11] . x + 2 "
        "(no noise; seed 0).",
    ),
}


class Dataset(NamedTuple):
    """Features, target and their names."""

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_name: str
    description: str


def _read_columns(filename: str) -> dict[str, list[str]]:
    text = resources.files("gradfit.data").joinpath("files", filename).read_text()
    rows = list(csv.reader(text.splitlines()))
    header, body = rows[0], rows[1:]
    return {name: [row[i] for row in body] for i, name in enumerate(header) if name != "rownames"}


def _numeric(values: list[str]) -> np.ndarray | None:
    try:
        return np.array([float(v) if v not in ("", "NA") else np.nan for v in values])
    except ValueError:
        return None


def load_dataset(
    name: str, *, target: str | None = None, features: Sequence[str] | None = None
) -> Dataset:
    """Load a shipped data set by name; rows missing a chosen value are dropped.

    >>> d = load_dataset("davis")
    >>> d.X.shape, d.feature_names, d.target_name
    ((200, 1), ['height'], 'weight')
    >>> load_dataset("bdims", features=["hgt"]).X.shape
    (507, 1)
    """
    key = name.lower()
    if key not in DATASETS:
        raise InvalidInputError(
            f"unknown data set {name!r}: choose one of {', '.join(sorted(DATASETS))}"
        )
    info = DATASETS[key]
    columns = _columns_of(key)
    numeric = [k for k, v in columns.items() if v is not None]
    target = target or info.target
    if features is None:
        features = info.features or [c for c in numeric if c != target]
    features = list(features)
    check_columns(target, features, f"data set {key!r}")
    for col in [*features, target]:
        if col not in columns:
            raise InvalidInputError(
                f"data set {key!r} has no column {col!r}{close_matches(col, list(columns))}: "
                f"choose from {', '.join(columns)}"
            )
        if columns[col] is None:
            raise InvalidInputError(
                f"column {col!r} of {key!r} is not numeric: choose from {', '.join(numeric)}"
            )
    X = np.column_stack([np.asarray(columns[c]) for c in features])
    y = np.asarray(columns[target])
    keep = np.isfinite(X).all(axis=1) & np.isfinite(y)
    return Dataset(X[keep], y[keep], features, target, info.description)


def _columns_of(key: str) -> dict[str, np.ndarray | None]:
    """Every column of a shipped data set (None for a column that is not numeric)."""
    info = DATASETS[key]
    if info.file is None:
        d = make_article_b(5000, seed=0)
        out: dict[str, np.ndarray | None] = {n: d.X[:, j] for j, n in enumerate(d.feature_names)}
        out[d.target_name] = d.y
        return out
    return {k: _numeric(v) for k, v in _read_columns(info.file).items()}


def dataset_columns(name: str) -> list[str]:
    """The numeric columns of a shipped data set.

    >>> dataset_columns("davis")
    ['weight', 'height', 'repwt', 'repht']
    """
    return [k for k, v in _columns_of(name.lower()).items() if v is not None]


def make_article_b(
    n_samples: int = 5000,
    *,
    weights: Sequence[float] = (2.0, 4.0, 5.0, 9.0, 11.0),
    bias: float = 2.0,
    noise: float = 0.0,
    seed: int | None = 0,
) -> Dataset:
    """Article B's experiment: ``x ~ N(0, I)`` and ``y = w . x + b`` (no noise by default).

    >>> d = make_article_b(10)
    >>> d.X.shape
    (10, 5)
    >>> bool(np.allclose(d.X @ [2, 4, 5, 9, 11] + 2, d.y))
    True
    """
    rng = np.random.default_rng(seed)
    w = np.asarray(weights, dtype=np.float64)
    X = rng.standard_normal((n_samples, w.size))
    y = X @ w + bias
    if noise:
        y += noise * rng.standard_normal(n_samples)
    names = [f"x{i + 1}" for i in range(w.size)]
    return Dataset(X, y, names, "y", f"synthetic: w = {w.tolist()}, b = {bias}, noise = {noise}")
