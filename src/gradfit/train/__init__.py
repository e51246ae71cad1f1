"""How the descent runs: options, state, the loop, stopping, history, advice and sweeps."""

from gradfit.train.events import LossBelow, Progress, StepRecord
from gradfit.train.fit import fit
from gradfit.train.history import History, StopReason
from gradfit.train.loop import resolve_schedule, run
from gradfit.train.options import OPTIONS, FitOptions
from gradfit.train.path import RegularizationPath, alpha_max, regularization_path
from gradfit.train.result import FitResult, TrainingReport
from gradfit.train.state import TrainState
from gradfit.train.sweep import SweepPoint, sweep

__all__ = [
    "OPTIONS",
    "FitOptions",
    "FitResult",
    "History",
    "LossBelow",
    "Progress",
    "RegularizationPath",
    "StepRecord",
    "StopReason",
    "SweepPoint",
    "TrainState",
    "TrainingReport",
    "alpha_max",
    "fit",
    "regularization_path",
    "resolve_schedule",
    "run",
    "sweep",
]
