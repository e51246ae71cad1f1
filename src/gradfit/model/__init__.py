"""The linear model: predictions, loss and gradient, sufficient statistics, curvature."""

from gradfit.model.curvature import Curvature, power_iteration
from gradfit.model.gradcheck import check_gradient, numerical_gradient
from gradfit.model.linear import LinearRegressionLoss, predict
from gradfit.model.losses import squared_error
from gradfit.model.reference import least_squares
from gradfit.model.stats import SufficientStats

__all__ = [
    "Curvature",
    "LinearRegressionLoss",
    "SufficientStats",
    "check_gradient",
    "least_squares",
    "numerical_gradient",
    "power_iteration",
    "predict",
    "squared_error",
]
