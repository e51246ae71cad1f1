"""What is minimised: the objective, its loss and gradient, statistics, curvature, the model."""

from gradfit.model.curvature import Curvature, power_iteration
from gradfit.model.fit_summary import summarize
from gradfit.model.fitted import LinearModel
from gradfit.model.gradcheck import check_gradient, numerical_gradient
from gradfit.model.linear import LinearRegressionLoss, predict
from gradfit.model.losses import squared_error
from gradfit.model.objective import Objective
from gradfit.model.reference import least_squares
from gradfit.model.stats import SufficientStats, SummarySource
from gradfit.model.summary import Summary

__all__ = [
    "Curvature",
    "LinearModel",
    "LinearRegressionLoss",
    "Objective",
    "SufficientStats",
    "Summary",
    "SummarySource",
    "check_gradient",
    "least_squares",
    "numerical_gradient",
    "power_iteration",
    "predict",
    "squared_error",
    "summarize",
]
