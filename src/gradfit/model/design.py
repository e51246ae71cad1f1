"""The design's shape as float64 sees it: representable statistics, rank and null space.

Helpers of ``Objective`` that depend only on the statistics or the rows, not on a descent.
"""

from __future__ import annotations

import numpy as np

from gradfit.data.source import LARGEST_VALUE, ArraySource, Source, check_range
from gradfit.exceptions import InvalidInputError
from gradfit.model.stats import SufficientStats, SummarySource

__all__ = [
    "PRECISION_RISK",
    "SUSPECT_EIGENVALUE",
    "centred_null_space",
    "check_source_range",
    "column_rms",
    "offset_ratio",
    "representable",
    "scales_apart",
]

# Correlation eigenvalues below this fraction of the largest are too close to rounding
# to decide a rank from: the rows decide it instead (``RowFactor``).
SUSPECT_EIGENVALUE = 1e-9
# Float64 statistics give about ``eps cond(H) offset`` relative accuracy; beyond this
# the answer is refined from the rows (see ``gradfit.model.precise``).
PRECISION_RISK = 1e-13


def representable(stats: SufficientStats) -> bool:
    """Whether float64 held the statistics: no overflow, and no spread lost to underflow."""
    finite = bool(np.isfinite(stats.Sxx).all() and np.isfinite(stats.Sxy).all())
    finite = finite and bool(np.isfinite(stats.Syy))
    # a constant column (or y) is data; a spread lost to underflow shows as no spread
    # around a mean that is itself tiny
    tiny = 1.0 / LARGEST_VALUE
    size = np.abs(stats.x_mean)
    vanished = np.any((np.diag(stats.Sxx) == 0) & (size > 0) & (size < tiny)) or (
        stats.Syy == 0 and 0 < abs(stats.y_mean) < tiny
    )
    return finite and not vanished


def check_source_range(source: Source) -> None:
    """Say which column's values float64 cannot square (on the rows, when at hand)."""
    if isinstance(source, ArraySource):
        check_range(source.X, source.y, source.feature_names, source.target_name)
        return
    if isinstance(source, SummarySource):
        if not representable(source.stats):
            raise InvalidInputError(
                "the statistics of these rows overflow float64 (values beyond about 1e150): "
                "rescale the columns by powers of ten"
            )
        return
    # streamed: the largest value of each column, chunk by chunk
    x_top, y_top = np.zeros(source.n_features), 0.0
    for chunk in source.chunks():
        x_top = np.maximum(x_top, np.abs(chunk.X).max(axis=0, initial=0.0))
        y_top = max(y_top, float(np.abs(chunk.y).max(initial=0.0)))
    check_range(x_top[None, :], np.array([y_top]), source.feature_names, source.target_name)


def centred_null_space(sxx: np.ndarray) -> tuple[int, np.ndarray, float]:
    """Rank of ``[X 1]``, the null space of the centred cross-products ``Sxx`` and the
    ratio of the smallest non-zero eigenvalue of the correlations to the largest.

    The rank is read off the correlation matrix ``D^-1 Sxx D^-1`` (``D`` the columns'
    spreads) of the columns that vary, so that a column measured in tiny units is not
    mistaken for a constant one. Its eigenvalues are known to about ``1e-16 d``: below
    ``1e-13 d`` they are zero. A constant column is a null direction by itself (the
    intercept absorbs it).

    >>> rank, basis, ratio = centred_null_space(np.diag([4.0, 0.0]))
    >>> rank, np.abs(basis).round(12).tolist(), ratio
    (2, [[0.0], [1.0]], 1.0)
    """
    d = sxx.shape[0]
    spread = np.sqrt(np.maximum(np.diag(sxx), 0.0))
    varies = np.flatnonzero(spread > 0.0)
    null_vectors = [np.eye(d)[:, j] for j in np.flatnonzero(spread <= 0.0)]
    ratio = 1.0
    if varies.size:
        inv = 1.0 / spread[varies]
        corr = sxx[np.ix_(varies, varies)] * np.outer(inv, inv)
        eig = np.linalg.eigvalsh(corr)  # the vectors (3x the time) only if some are null
        vec = np.zeros((varies.size, varies.size))
        if eig[0] <= 1e-13 * varies.size * max(float(eig[-1]), 1.0):
            eig, vec = np.linalg.eigh(corr)
        top = max(float(eig[-1]), 1.0)
        null = eig <= 1e-13 * varies.size * top
        ratio = 0.0 if null.any() else float(eig[0]) / top
        for u in vec[:, null].T:  # back to original units: v = D^-1 u
            v = np.zeros(d)
            v[varies] = u * inv
            null_vectors.append(v)
    if not null_vectors:
        return d + 1, np.zeros((d, 0)), ratio
    basis = np.linalg.qr(np.column_stack(null_vectors))[0]
    return d + 1 - len(null_vectors), basis, ratio


def column_rms(source: Source) -> np.ndarray:
    if isinstance(source, ArraySource):
        return source.column_rms()
    stats = SufficientStats.from_source(source)  # a streamed source's: reduced once
    return np.sqrt(stats.x_var + stats.x_mean**2)


def offset_ratio(stats: SufficientStats) -> float:
    """The largest squared mean over variance of a varying column (at least 1).

    Large offsets cost digits even when the statistics were centred: the intercept in
    original units is ``b = c - mean . w``, a difference of large numbers. A constant
    column is absorbed by the intercept and does not count.

    >>> offset_ratio(SufficientStats.from_arrays(np.array([[99.0], [101.0]]), np.zeros(2)))
    10000.0
    """
    varies = stats.x_var > 0
    if not varies.any():
        return 1.0
    with np.errstate(over="ignore"):
        return max(1.0, float((stats.x_mean[varies] ** 2 / stats.x_var[varies]).max()))


def scales_apart(
    rms: np.ndarray, names: list[str], fit_intercept: bool, ratio: float
) -> list[tuple[str, float]]:
    """The columns (the intercept's is all ones) at least ``ratio`` times the smallest in
    root-mean-square, largest first, then the smallest; empty when none are."""
    names = list(names)
    if fit_intercept:
        rms, names = np.append(rms, 1.0), [*names, "the intercept"]
    low = rms[rms > 0].min()
    if rms.max() < ratio * low:
        return []
    large = [j for j in np.argsort(-rms) if rms[j] >= ratio * low]
    return [(names[j], float(rms[j])) for j in [*large, int(np.flatnonzero(rms == low)[0])]]
