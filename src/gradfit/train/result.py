"""What a fit returns: the fitted model, the training report and where the descent stands."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradfit.data.scaling import Scaling
from gradfit.model.curvature import Curvature
from gradfit.model.fitted import LinearModel
from gradfit.optim.schedules import Schedule
from gradfit.train.history import History, StopReason
from gradfit.train.state import TrainState

__all__ = ["FitResult", "TrainingReport"]


@dataclass(frozen=True)
class TrainingReport:
    """How the fit went.

    Attributes
    ----------
    loss, grad_norm : float
        Full-data loss and gradient norm (descent coordinates) at the end.
    n_steps, n_epochs : int
        Parameter updates made (in all), and passes over the data in this run.
    stop : StopReason
        Why the fit stopped.
    history : History
        The recorded steps.
    lr : Schedule or None
        The learning rate actually used (``lr='auto'`` resolved; None for a user's chain).
    optimizer : str
        Name of the update rule.
    curvature : Curvature or None
        Learning-rate theory for the fitted data, when it was computed.
    path : {'stats', 'direct'}
        Whether full-data evaluations used sufficient statistics or the rows.
    seconds : float
        Wall-clock time of the fit.
    gap : float or None
        Certified bound on the root-mean-square distance between the fitted
        predictions and the least-squares ones, relative to ``std(y)`` (None: the
        curvature needed for the bound was not computed).
    rank : int or None
        Rank of the design ``[X 1]``; below ``d + 1`` least squares has many solutions
        and the one with the smallest ``|w|`` is returned.
    objective : str or None
        What was minimised when it is not least squares (a penalty, Huber's loss), in
        words; None for least squares.
    """

    loss: float
    grad_norm: float
    n_steps: int
    n_epochs: int
    stop: StopReason
    history: History
    lr: Schedule | None
    optimizer: str
    curvature: Curvature | None
    path: str
    seconds: float
    gap: float | None = None
    rank: int | None = None
    objective: str | None = None

    @property
    def digits(self) -> float | None:
        """Significant digits of the predictions certified by ``gap``."""
        if self.gap is None:
            return None
        return math.inf if self.gap == 0 else max(0.0, -math.log10(self.gap))


@dataclass(frozen=True)
class FitResult:
    """The outcome of a fit: ``model`` (the line), ``report`` (how it went), ``state``.

    The attributes of the model and the report are also reachable directly
    (``result.w``, ``result.loss``, ``result.stop``...). Coefficients are in original units.
    """

    model: LinearModel
    report: TrainingReport
    state: TrainState

    # the model
    @property
    def w(self) -> np.ndarray:
        return self.model.w

    @property
    def b(self) -> float:
        return self.model.b

    @property
    def scaling(self) -> Scaling:
        return self.model.scaling

    def predict(self, X: Any) -> np.ndarray:
        """``X w + b``."""
        return self.model.predict(X)

    # the report
    @property
    def loss(self) -> float:
        return self.report.loss

    @property
    def grad_norm(self) -> float:
        return self.report.grad_norm

    @property
    def n_steps(self) -> int:
        return self.report.n_steps

    @property
    def n_epochs(self) -> int:
        return self.report.n_epochs

    @property
    def stop(self) -> StopReason:
        return self.report.stop

    @property
    def converged(self) -> bool:
        return self.report.stop.converged

    @property
    def history(self) -> History:
        return self.report.history

    @property
    def lr(self) -> Schedule | None:
        return self.report.lr

    @property
    def optimizer(self) -> str:
        return self.report.optimizer

    @property
    def curvature(self) -> Curvature | None:
        return self.report.curvature

    @property
    def path(self) -> str:
        return self.report.path

    @property
    def seconds(self) -> float:
        return self.report.seconds

    # the state
    @property
    def theta(self) -> np.ndarray:
        """``[w, b]`` in descent coordinates."""
        return self.state.theta

    @property
    def opt_state(self) -> Any:
        return self.state.opt_state
