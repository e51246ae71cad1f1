"""The training loop, stopping rules and history."""

from gradfit.train.history import History, StopReason
from gradfit.train.loop import FitResult, Problem, Progress, StepRecord, fit

__all__ = ["FitResult", "History", "Problem", "Progress", "StepRecord", "StopReason", "fit"]
