"""gradfit: linear regression by gradient descent, with every step visible.

>>> import gradfit
>>> d = gradfit.load_dataset("davis")
>>> r = gradfit.fit(d.X, d.y, lr="auto", standardize=True)
>>> r.converged
True
"""

from gradfit.data import (
    ArraySource,
    Dataset,
    FileSource,
    Scaling,
    Source,
    load_dataset,
    make_article_b,
    open_source,
)
from gradfit.exceptions import (
    ConvergenceWarning,
    DivergenceError,
    GradfitError,
    GradfitWarning,
    InvalidInputError,
    MissingExtraError,
    RankDeficiencyWarning,
)
from gradfit.model import (
    Curvature,
    LinearModel,
    Objective,
    SufficientStats,
    check_gradient,
    least_squares,
)
from gradfit.model.fit_summary import summarize
from gradfit.model.summary import Summary
from gradfit.modelfile import SavedModel, load, save
from gradfit.optim import (
    RULES,
    UpdateRule,
    adam,
    chain,
    constant,
    exponential_decay,
    gd,
    inverse_scaling,
    momentum,
    nesterov,
    step_decay,
)
from gradfit.train import (
    FitOptions,
    FitResult,
    History,
    RegularizationPath,
    StopReason,
    TrainingReport,
    TrainState,
    fit,
    regularization_path,
    run,
    sweep,
)

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # Front ends with optional dependencies load on first use, not on `import gradfit`.
    if name == "GDRegressor":
        from gradfit.estimator import GDRegressor

        return GDRegressor
    if name == "widget":  # the playground in a notebook (gradfit[notebook]: anywidget)
        from gradfit.notebook import widget

        return widget
    raise AttributeError(f"module 'gradfit' has no attribute {name!r}")


__all__ = [
    "RULES",
    "ArraySource",
    "ConvergenceWarning",
    "Curvature",
    "Dataset",
    "DivergenceError",
    "FileSource",
    "FitOptions",
    "FitResult",
    "GDRegressor",
    "GradfitError",
    "GradfitWarning",
    "History",
    "InvalidInputError",
    "LinearModel",
    "MissingExtraError",
    "Objective",
    "RankDeficiencyWarning",
    "RegularizationPath",
    "SavedModel",
    "Scaling",
    "Source",
    "StopReason",
    "SufficientStats",
    "Summary",
    "TrainState",
    "TrainingReport",
    "UpdateRule",
    "__version__",
    "adam",
    "chain",
    "check_gradient",
    "constant",
    "exponential_decay",
    "fit",
    "gd",
    "inverse_scaling",
    "least_squares",
    "load",
    "load_dataset",
    "make_article_b",
    "momentum",
    "nesterov",
    "open_source",
    "regularization_path",
    "run",
    "save",
    "step_decay",
    "summarize",
    "sweep",
    "widget",
]
