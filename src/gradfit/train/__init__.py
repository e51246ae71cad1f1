"""How the descent runs: options, state, the loop, stopping, history, advice and sweeps."""

from gradfit.train.events import LossBelow, Progress, StepRecord
from gradfit.train.fit import fit
from gradfit.train.history import History, StopReason
from gradfit.train.loop import resolve_schedule, run
from gradfit.train.options import OPTIONS, FitOptions
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
    "StepRecord",
    "StopReason",
    "SweepPoint",
    "TrainState",
    "TrainingReport",
    "fit",
    "resolve_schedule",
    "run",
    "sweep",
]
