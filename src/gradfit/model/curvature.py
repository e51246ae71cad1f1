"""Learning-rate theory for the data actually fitted: article A's "fewer steps?" answered.

The mean squared error is a quadratic whose Hessian ``H = (2/N) A^T A``
(``A = [X 1]``, in the coordinates descent runs in) is constant. Its largest
eigenvalue ``L`` is the Lipschitz constant of the gradient, its smallest ``mu``
the strong convexity. For plain gradient descent with a constant rate ``lr``
every eigen-direction of the error shrinks by ``|1 - lr * lambda|`` per step, so:

- ``lr < 2 / L`` is stable; at ``lr > 2 / L`` the steepest direction grows;
- ``lr = 1 / L`` never overshoots;
- ``lr = 2 / (mu + L)`` is the best constant rate: error factor ``(kappa-1)/(kappa+1)``
  per step, with ``kappa = L / mu`` the condition number;
- the steps to shrink the error by ``tol`` are ``ceil(log(tol) / log(rho))``,
  ``rho = max(|1 - lr mu|, |1 - lr L|)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Curvature", "power_iteration"]


@dataclass(frozen=True)
class Curvature:
    """Curvature of the loss and the learning rates it implies.

    >>> c = Curvature.from_hessian(np.diag([4.0, 1.0]))
    >>> c.lipschitz, c.max_stable_lr, c.best_lr, c.condition_number
    (4.0, 0.5, 0.4, 4.0)
    >>> c.steps_to_tolerance(c.best_lr, 1e-6), c.steps_to_tolerance(0.1, 1e-6)
    (28, 132)
    >>> singular = Curvature.from_hessian(np.diag([4.0, 1.0, 0.0]), rank=2)
    >>> singular.condition_number, singular.effective_condition_number, singular.rank
    (inf, 4.0, 2)

    Attributes
    ----------
    lipschitz : float
        ``L``, the largest eigenvalue of the Hessian.
    lambda_min : float or None
        The smallest non-zero eigenvalue, when it was cheap to compute.
    rank_deficient : bool
        Some direction has zero curvature (collinear or constant features, or fewer
        rows than coefficients): the loss has many minimisers; coefficients along
        such a direction never move.
    rank : int or None
        Rank of the design ``[X 1]`` (None: not computed).
    """

    lipschitz: float
    lambda_min: float | None = None
    rank_deficient: bool = False
    rank: int | None = None

    @classmethod
    def from_hessian(cls, H: np.ndarray, rank: int | None = None) -> Curvature:
        """All eigenvalues of a small (d+1) x (d+1) Hessian.

        ``rank`` is the rank of the design when known (decided scale-invariantly by the
        caller); otherwise eigenvalues below ``1e-12 (d+1) L`` count as zero.
        """
        return cls.from_eigenvalues(np.linalg.eigvalsh(H), H.shape[0], rank)

    @classmethod
    def from_eigenvalues(
        cls, eigenvalues: np.ndarray, n_params: int, rank: int | None = None
    ) -> Curvature:
        """From the non-zero eigenvalues of the Hessian (or of ``A A^T``: the same ones)."""
        eig = np.sort(np.asarray(eigenvalues, dtype=np.float64))
        top = float(eig[-1])
        if rank is None:
            rank = int(np.count_nonzero(eig > top * 1e-12 * n_params))
        rank = max(1, min(rank, eig.size, n_params))
        return cls(top, float(eig[-rank]), rank < n_params, rank)

    @property
    def condition_number(self) -> float | None:
        """``L / mu``; infinite when the design is rank deficient (None: unknown)."""
        if self.rank_deficient:
            return math.inf
        return self.effective_condition_number

    @property
    def effective_condition_number(self) -> float | None:
        """``L / mu`` over the directions that move (the smallest non-zero ``mu``)."""
        return None if self.lambda_min is None else self.lipschitz / self.lambda_min

    @property
    def max_stable_lr(self) -> float:
        """``2 / L``: any larger constant rate diverges."""
        return 2.0 / self.lipschitz

    @property
    def inverse_lipschitz_lr(self) -> float:
        """``1 / L``: never overshoots the minimum along any direction."""
        return 1.0 / self.lipschitz

    @property
    def best_lr(self) -> float:
        """``2 / (mu + L)``, the fastest constant rate (``1 / L`` when ``mu`` is unknown)."""
        if self.lambda_min is None:
            return self.inverse_lipschitz_lr
        return 2.0 / (self.lambda_min + self.lipschitz)

    def contraction(self, lr: float) -> float | None:
        """Worst-case factor by which the distance to the optimum shrinks per step."""
        if self.lambda_min is None:
            return None
        return max(abs(1.0 - lr * self.lambda_min), abs(1.0 - lr * self.lipschitz))

    def steps_to_tolerance(self, lr: float, tol: float = 1e-8) -> float | None:
        """Steps to shrink the distance to the optimum by ``tol`` (inf: never)."""
        rho = self.contraction(lr)
        if rho is None:
            return None
        if rho >= 1.0:
            return math.inf
        if rho == 0.0:
            return 1
        return max(1, math.ceil(math.log(tol) / math.log(rho)))

    def batch_lipschitz(self, batch_size: int, n_samples: int, max_row_curvature: float) -> float:
        """Expected smoothness of mini-batches of ``batch_size`` rows (Gower et al., 2019).

        Interpolates between the largest single-row curvature (``batch_size=1``) and
        ``L`` (full batch); ``1 / batch_lipschitz`` is a rate no batch overshoots on average.
        """
        if batch_size >= n_samples:
            return self.lipschitz
        b, n = batch_size, n_samples
        return (n * (b - 1) * self.lipschitz + (n - b) * max_row_curvature) / (b * (n - 1))

    def summary(self) -> str:
        """One line for people."""
        parts = [f"L = {self.lipschitz:.4g}"]
        if self.rank_deficient:
            parts.append(
                f"rank {self.rank}: collinear columns (condition number inf; "
                f"{self.effective_condition_number:.4g} over the directions that move)"
            )
        elif self.condition_number is not None:
            parts.append(f"condition number {self.condition_number:.4g}")
        parts += [f"stable if lr < 2/L = {self.max_stable_lr:.4g}", f"best lr {self.best_lr:.4g}"]
        return ", ".join(parts)


def power_iteration(
    matvec: Callable[[np.ndarray], np.ndarray], dim: int, *, iters: int = 100, rtol: float = 1e-6
) -> float:
    """Largest eigenvalue of a symmetric positive semi-definite operator.

    >>> round(power_iteration(lambda v: np.diag([3.0, 1.0]) @ v, 2), 6)
    3.0
    """
    v = np.random.default_rng(0).standard_normal(dim)
    v /= np.linalg.norm(v)
    estimate = 0.0
    for _ in range(iters):
        hv = matvec(v)
        new = float(v @ hv)
        norm = float(np.linalg.norm(hv))
        if norm == 0.0:
            return 0.0
        v = hv / norm
        if abs(new - estimate) <= rtol * new:
            return new
        estimate = new
    return estimate
