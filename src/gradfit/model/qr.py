"""The R factor of the design, from the rows: rank and a preconditioner float64 can trust.

The statistics ``X^T X`` square the condition number of the design: at ``cond(A) = 1e7``
(a degree-10 polynomial in an unscaled x) float64 keeps no digit of their smallest
eigenvalue. A QR factorization of the rows themselves (Householder, backward stable)
keeps them: ``A = Q R`` with ``cond(R) = cond(A)``. Rows arrive in chunks and are
folded in one at a time (TSQR: the R of ``[R_prev; chunk]``), so memory stays at one
chunk whatever the number of rows.

The design is centred and scaled first (the columns of ``[Z 1]`` all have length
``sqrt(W)``), so that the rank and the condition number do not depend on units.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gradfit.data.source import Source
from gradfit.data.validation import dense_rows

__all__ = ["RowFactor"]

CHUNK_VALUES = 2**22
EPS = float(np.finfo(np.float64).eps)


class RowFactor(NamedTuple):
    """``R`` of the equilibrated design ``[(X - mean) / scale, 1] S^(1/2)`` (no column of
    ones through the origin), with what maps it back to original units.

    >>> from gradfit.data import ArraySource
    >>> X = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.5]]); y = np.zeros(3)
    >>> f = RowFactor.from_source(ArraySource(X, y), X.mean(0), X.std(0), True)
    >>> f.rank(3)
    3
    """

    R: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    weight: float
    fit_intercept: bool

    @classmethod
    def from_source(
        cls, source: Source, mean: np.ndarray, scale: np.ndarray, fit_intercept: bool
    ) -> RowFactor:
        d = source.n_features
        k = d + 1 if fit_intercept else d
        scale = np.where(scale > 0, scale, 1.0)
        R = np.zeros((0, k))
        total = 0.0
        for chunk in source.chunks(max(k, CHUNK_VALUES // k)):
            Z = np.empty((len(chunk.y), k))
            Z[:, :d] = (dense_rows(chunk.X, 0, len(chunk.y)) - mean) / scale
            if fit_intercept:
                Z[:, d] = 1.0
            if chunk.weight is not None:
                Z *= np.sqrt(chunk.weight)[:, None]
                total += float(chunk.weight.sum())
            else:
                total += len(chunk.y)
            R = np.asarray(np.linalg.qr(np.concatenate([R, Z]), mode="r"))
        if R.shape[0] < k:  # fewer rows than columns: the missing rows are zeros
            R = np.concatenate([R, np.zeros((k - R.shape[0], k))])
        return cls(R, np.asarray(mean, dtype=np.float64), scale, total, fit_intercept)

    def singular_values(self) -> np.ndarray:
        return np.linalg.svd(self.R, compute_uv=False)

    def rank(self, n_rows: int) -> int:
        """Numerical rank, with ``numpy.linalg.lstsq``'s cut-off ``max(n, k) eps sigma_max``."""
        sigma = self.singular_values()
        cut = max(n_rows, self.R.shape[1]) * EPS * (sigma[0] if sigma.size else 0.0)
        return int(np.count_nonzero(sigma > cut))

    def condition_number(self) -> float:
        """``cond`` of the centred, scaled design (inf when singular)."""
        sigma = self.singular_values()
        return float(sigma[0] / sigma[-1]) if sigma[-1] > 0 else float("inf")

    def null_basis(self, n_rows: int) -> np.ndarray:
        """An orthonormal basis (original units of ``w``) of the changes of ``w`` that
        change no prediction."""
        _, sigma, vt = np.linalg.svd(self.R)
        cut = max(n_rows, self.R.shape[1]) * EPS * (sigma[0] if sigma.size else 0.0)
        d = len(self.mean)
        null = vt[sigma <= cut, :d].T / self.scale[:, None]
        if null.shape[1] == 0:
            return np.zeros((d, 0))
        return np.linalg.qr(null)[0]

    def preconditioner(self, n_rows: int) -> Preconditioner:
        return Preconditioner(self, n_rows)


class Preconditioner:
    """``M g``, with ``M`` the inverse Hessian that ``R`` gives, in original units.

    ``H = (2/W) A^T S A`` with ``A = [X 1]`` and ``A C = [Z 1]`` (``C`` undoes the centring
    and scaling), so ``H^-1 = (W/2) C R^-1 R^-T C^T``; applied in that factored form, since
    ``M`` itself spans as many orders of magnitude as the columns' units. With a rank
    deficient ``R`` its pseudo-inverse (``lstsq``'s cut-off): steps never enter the
    directions that change no prediction, as ``lstsq`` leaves them out.
    """

    def __init__(self, factor: RowFactor, n_rows: int) -> None:
        self.factor = factor
        k = factor.R.shape[1]
        self.inverse = np.linalg.pinv(factor.R, rcond=max(n_rows, k) * EPS)

    def __call__(self, g: np.ndarray) -> np.ndarray:
        f = self.factor
        d = len(f.mean)
        u = g[:d] / f.scale
        if f.fit_intercept:
            u = np.append(u - f.mean * (g[d] / f.scale), g[d])
        v = self.inverse @ (self.inverse.T @ u)
        out = np.zeros(d + 1)
        out[:d] = v[:d] / f.scale
        if f.fit_intercept:
            out[d] = v[d] - float(f.mean @ out[:d])
        return (0.5 * f.weight) * out
