"""What a fit went through, step by step, in original units."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gradfit.data.io import atomic_write_text
from gradfit.data.scaling import Scaling
from gradfit.optim.schedules import Schedule, rates

__all__ = ["History", "StopReason"]


@dataclass(frozen=True)
class StopReason:
    """Why a fit stopped, as a code and in words.

    Codes: ``"converged_gradient"`` and ``"converged_rounding"`` (least squares,
    certified), ``"no_improvement"`` (early stopping), ``"max_iter"``, ``"max_steps"``,
    ``"diverged"`` and ``"callback"``.
    """

    code: str
    message: str
    step: int

    @property
    def converged(self) -> bool:
        return self.code.startswith("converged")

    def __str__(self) -> str:
        return self.message


@dataclass
class History:
    """Per recorded step: the parameters *before* that step's update and what it saw.

    Entry ``k`` holds step ``step[k]``: the parameters it started from (``w``, ``b``,
    in original units), the loss and gradient norm of its batch (all rows for full
    batch), and its learning rate. The last entry is the final state. ``epoch_loss``
    holds the full-data loss at the start of each epoch and at the end.
    Gradient norms are in the coordinates descent ran in (scaled if standardizing).
    """

    step: np.ndarray
    epoch: np.ndarray
    theta: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    lr: np.ndarray
    scaling: Scaling
    feature_names: list[str]
    epoch_loss: np.ndarray
    gap: np.ndarray | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    epoch_stride: int = 1

    def __len__(self) -> int:
        return int(self.step.shape[0])

    @property
    def coefficients(self) -> np.ndarray:
        """``[w, b]`` in original units, one row per entry."""
        return self.scaling.to_original(self.theta)

    @property
    def w(self) -> np.ndarray:
        return self.coefficients[:, :-1]

    @property
    def b(self) -> np.ndarray:
        return self.coefficients[:, -1]

    def to_dict(self) -> dict[str, list[Any]]:
        """Columns: step, epoch, one per coefficient, b, loss, grad_norm, lr (and gap)."""
        coef = self.coefficients
        out: dict[str, list[Any]] = {"step": self.step.tolist(), "epoch": self.epoch.tolist()}
        for j, name in enumerate(self.feature_names):
            out[f"w[{name}]"] = coef[:, j].tolist()
        out["b"] = coef[:, -1].tolist()
        out["loss"] = self.loss.tolist()
        out["grad_norm"] = self.grad_norm.tolist()
        out["lr"] = self.lr.tolist()
        if self.gap is not None:
            out["gap"] = self.gap.tolist()
        return out

    def to_pandas(self) -> Any:
        """The history as a pandas DataFrame (needs pandas)."""
        from gradfit.exceptions import require

        return require("pandas", "data").DataFrame(self.to_dict())

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the history as CSV (atomically), full precision."""
        columns = self.to_dict()
        lines = [",".join(columns)]
        lines += [",".join(repr(v) for v in row) for row in zip(*columns.values(), strict=True)]
        return atomic_write_text(path, "\n".join(lines) + "\n")

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The history as JSON columns; written atomically when ``path`` is given."""
        text = json.dumps(self.to_dict())
        if path is not None:
            atomic_write_text(path, text)
        return text


class Recorder:
    """Collects history entries every ``stride`` steps, at most ``max_entries`` of them.

    The scalars of an entry go into one flat list (one ``extend`` per step, no tuple
    kept alive per entry); entries made elsewhere (compiled steps) arrive as blocks of
    rows; both become columns once, in ``finish``. When the entries
    would exceed ``max_entries``, every other one is dropped and the stride doubles:
    the history stays evenly spaced and its size bounded, however long the fit.
    """

    def __init__(
        self,
        stride: int,
        gap_reference: np.ndarray | None = None,
        max_entries: int | None = None,
    ):
        self.stride = stride
        self.scalars: list[float] = []  # step, epoch, loss, gradient norm; repeated
        self.blocks: list[np.ndarray] = []  # earlier entries, as rows of those four
        self.thetas: list[np.ndarray] = []
        self.epoch_loss: list[float] = []
        self.epoch_stride = 1
        self.epochs_seen = 0
        self.gap_reference = gap_reference
        self.max_entries = math.inf if max_entries is None else max_entries

    def add(self, step: int, epoch: int, theta: np.ndarray, loss: float, grad_norm: float) -> None:
        """Record an entry."""
        self.scalars.extend((step, epoch, loss, grad_norm))
        self.thetas.append(theta)  # apply_updates returns a new array: no copy needed

    def add_bounded(
        self, step: int, epoch: int, theta: np.ndarray, loss: float, grad_norm: float
    ) -> None:
        """Record an entry, thinning when ``max_entries`` is exceeded (``stride`` doubles)."""
        self.add(step, epoch, theta, loss, grad_norm)
        if len(self.thetas) > self.max_entries:
            self._thin()

    def add_many(
        self,
        step: np.ndarray,
        epoch: np.ndarray,
        theta: np.ndarray,
        loss: np.ndarray,
        grad_norm: np.ndarray,
    ) -> None:
        """Record entries made elsewhere (compiled steps) at ``stride``, as ``add`` would."""
        if math.isfinite(self.max_entries):  # one at a time: the stride may double
            for k in range(len(step)):
                if step[k] % self.stride == 0:
                    self.add_bounded(
                        int(step[k]), int(epoch[k]), theta[k], float(loss[k]), float(grad_norm[k])
                    )
            return
        # blocks stay arrays (``finish`` joins them with the entries added one by one)
        self._flush()
        self.blocks.append(np.column_stack([step, epoch, loss, grad_norm]))
        self.thetas.append(theta.ravel())  # one block too: ``finish`` cuts it into rows

    def _flush(self) -> None:
        if self.scalars:
            self.blocks.append(np.array(self.scalars, dtype=np.float64).reshape(-1, 4))
            self.scalars = []

    def add_epoch_losses(self, losses: np.ndarray) -> None:
        """Many epochs' losses, in order."""
        if math.isfinite(self.max_entries):
            for loss in losses.tolist():
                self.add_epoch_loss(loss)
        else:
            self.epoch_loss.extend(losses.tolist())

    def add_epoch_loss(self, loss: float) -> None:
        """The full-data loss at an epoch boundary (thinned like the entries)."""
        seen, self.epochs_seen = self.epochs_seen, self.epochs_seen + 1
        if seen % self.epoch_stride:
            return
        self.epoch_loss.append(loss)
        if len(self.epoch_loss) > self.max_entries:
            self.epoch_loss = self.epoch_loss[::2]
            self.epoch_stride *= 2

    def _thin(self) -> None:
        keep = [
            k for k in range(len(self.thetas)) if int(self.scalars[4 * k]) % (2 * self.stride) == 0
        ]
        self.thetas = [self.thetas[k] for k in keep]
        self.scalars = [v for k in keep for v in self.scalars[4 * k : 4 * k + 4]]
        self.stride *= 2

    def finish(
        self, scaling: Scaling, feature_names: list[str], schedule: Schedule | None
    ) -> History:
        width = scaling.mean.size + 1
        theta = (np.concatenate(self.thetas) if self.thetas else np.empty(0)).reshape(-1, width)
        # steps and epochs are integers below 2**53: exact as float64
        self._flush()
        columns = np.concatenate(self.blocks) if self.blocks else np.empty((0, 4))
        step, epoch, loss, grad_norm = columns.T
        step = step.astype(np.int64)
        gap = None
        if self.gap_reference is not None:
            ref = self.gap_reference
            coef = scaling.to_original(theta)
            gap = np.linalg.norm(coef - ref, axis=1) / max(float(np.linalg.norm(ref)), 1e-300)
        return History(
            step=step,
            epoch=epoch.astype(np.int64),
            theta=theta,
            loss=loss.copy(),  # contiguous columns, not views of one block
            grad_norm=grad_norm.copy(),
            lr=rates(schedule, step) if schedule is not None else np.full(len(step), np.nan),
            scaling=scaling,
            feature_names=feature_names,
            epoch_loss=np.array(self.epoch_loss, dtype=np.float64),
            epoch_stride=self.epoch_stride,
            gap=gap,
        )
