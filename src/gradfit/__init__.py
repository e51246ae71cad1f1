"""gradfit: linear regression by gradient descent, with every step visible.

>>> import gradfit
>>> d = gradfit.load_dataset("davis")
>>> r = gradfit.fit(d.X, d.y, lr="auto", standardize=True)
>>> r.converged
True
"""

from gradfit.data import Dataset, Scaling, load_dataset, make_article_b
from gradfit.exceptions import DivergenceError, GradfitError, InvalidInputError, MissingExtraError
from gradfit.model import Curvature, SufficientStats, check_gradient, least_squares
from gradfit.optim import (
    adam,
    constant,
    exponential_decay,
    gd,
    inverse_scaling,
    momentum,
    nesterov,
    step_decay,
)
from gradfit.train import FitResult, History, Problem, StopReason, fit

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # Front ends with optional dependencies load on first use, not on `import gradfit`.
    if name == "GDRegressor":
        from gradfit.estimator import GDRegressor

        return GDRegressor
    raise AttributeError(f"module 'gradfit' has no attribute {name!r}")


__all__ = [
    "Curvature",
    "Dataset",
    "DivergenceError",
    "FitResult",
    "GDRegressor",
    "GradfitError",
    "History",
    "InvalidInputError",
    "MissingExtraError",
    "Problem",
    "Scaling",
    "StopReason",
    "SufficientStats",
    "__version__",
    "adam",
    "check_gradient",
    "constant",
    "exponential_decay",
    "fit",
    "gd",
    "inverse_scaling",
    "least_squares",
    "load_dataset",
    "make_article_b",
    "momentum",
    "nesterov",
    "step_decay",
]
