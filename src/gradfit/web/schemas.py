"""The bodies the playground's HTTP API accepts and answers, as pydantic models.

The session settings' model is made when an app is made (``settings_model``): its
update rules are those registered then (``gradfit.optim.registry``), its data sets
those shipped, and its numeric bounds those of the ``OPTIONS`` table, so that
``/openapi.json`` publishes exactly what ``FitOptions`` accepts.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    create_model,
)

from gradfit.optim.registry import stepped_rule_names
from gradfit.train.options import (
    DEFAULT_ALPHA,
    DEFAULT_BETA,
    DEFAULT_EPSILON,
    DEFAULT_L1_RATIO,
    OPTIONS,
)
from gradfit.web.datasets import FIRST_DATASET, dataset_names
from gradfit.web.settings import Mode

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_SEED",
    "MAX_ALPHA",
    "MAX_EPSILON",
    "MAX_LR",
    "ErrorOut",
    "PreviewIn",
    "StepIn",
    "SurfaceIn",
    "settings_model",
]

# The page's own cap: far beyond any stable rate, it keeps numbers in JSON's range.
MAX_LR = 1e6
# The same for the penalty's strength (past every coefficient's kink, or a ridge that
# holds the line flat) and for Huber's epsilon (past every error: least squares).
MAX_ALPHA = 1e6
MAX_EPSILON = 1e12
# The page starts at article A's rate on raw-looking settings: the learner moves it.
ARTICLE_LR = 0.01
# What the page starts with: mini-batches of 32 rows when chosen, and a fixed seed so
# that a shared URL replays the same batches.
DEFAULT_BATCH_SIZE = 32
DEFAULT_SEED = 0
MAX_NAME_LENGTH = 200


def _bounds(option: str) -> dict[str, Any]:
    """pydantic ``Field`` bounds of an option, from its interval in ``OPTIONS``."""
    interval = OPTIONS[option].interval()
    return {} if interval is None else interval.bounds()


def _one_of(values: tuple[str, ...]) -> Any:
    """``Literal[values]``, for values known only at run time."""
    return Literal.__getitem__(values)


def settings_model() -> type[BaseModel]:
    """The body of ``POST /api/sessions``, with the update rules registered now.

    Returns
    -------
    type of pydantic.BaseModel
        A model named ``SettingsIn``.
    """
    lr_bounds = {**_bounds("lr"), "le": MAX_LR}
    return create_model(
        "SettingsIn",
        __config__=ConfigDict(extra="forbid", allow_inf_nan=False),
        __doc__=("A new session: data, mode, update rule, learning rate, penalty and loss."),
        dataset=(_one_of(dataset_names()), FIRST_DATASET),
        target=(str | None, Field(None, max_length=MAX_NAME_LENGTH)),
        features=(
            list[Annotated[str, Field(max_length=MAX_NAME_LENGTH)]] | None,
            Field(None, min_length=1, max_length=200, description="feature columns (at least one)"),
        ),
        upload_id=(str | None, Field(None, max_length=64)),
        mode=(Mode, "full"),
        batch_size=(
            StrictInt,
            Field(DEFAULT_BATCH_SIZE, description="rows per mini-batch", **_bounds("batch_size")),
        ),
        optimizer=(
            _one_of(stepped_rule_names()),
            Field(
                "gd",
                description="a registered update rule (gradfit.optim.RULES)",
            ),
        ),
        lr=(
            StrictFloat,
            Field(
                ARTICLE_LR,
                description=f"learning rate, > 0 and at most {MAX_LR:g}",
                **lr_bounds,
            ),
        ),
        beta=(
            StrictFloat,
            Field(
                DEFAULT_BETA,
                description="momentum, or Adam's beta1 (only for rules that use it)",
                **_bounds("beta"),
            ),
        ),
        penalty=(
            _one_of(OPTIONS["penalty"].accepts),  # None among them: null, no penalty
            Field(
                None,
                description="'l2' (ridge), 'l1' (lasso), 'elasticnet', or null: none",
            ),
        ),
        alpha=(
            StrictFloat,
            Field(
                DEFAULT_ALPHA,
                description=f"strength of the penalty (only with one), at most {MAX_ALPHA:g}",
                **{**_bounds("alpha"), "le": MAX_ALPHA},
            ),
        ),
        l1_ratio=(
            StrictFloat,
            Field(
                DEFAULT_L1_RATIO,
                description="the elastic net's share of L1 (only with 'elasticnet')",
                **_bounds("l1_ratio"),
            ),
        ),
        loss=(
            _one_of(OPTIONS["loss"].accepts),
            Field("squared_error", description="'squared_error' or 'huber'"),
        ),
        epsilon=(
            StrictFloat,
            Field(
                DEFAULT_EPSILON,
                description=(
                    f"Huber's threshold in the target's units (only with 'huber'), at "
                    f"most {MAX_EPSILON:g}"
                ),
                **{**_bounds("epsilon"), "le": MAX_EPSILON},
            ),
        ),
        standardize=(StrictBool, True),
        fit_intercept=(
            StrictBool,
            Field(True, description="fit the intercept b (false: a line through the origin)"),
        ),
        seed=(
            StrictInt,
            Field(DEFAULT_SEED, description="seed of the shuffling", **_bounds("random_state")),
        ),
    )


class StepIn(BaseModel):
    """How many steps to take."""

    model_config = ConfigDict(extra="forbid")

    n: StrictInt = Field(1, ge=1, le=10_000, description="steps to take")
    until_success: StrictBool = Field(
        False,
        description="stop at the first step that reaches the minimum (what RUN asks)",
    )


class SurfaceIn(BaseModel):
    """The path to frame and the two coefficients to draw the cost over."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    path: list[list[float]] | None = Field(None, max_length=20_000)
    coefs: tuple[StrictInt, StrictInt] = Field(
        (0, -1), description="two indices into [w_0, ..., w_(d-1), b]; -1 is the intercept"
    )


class PreviewIn(BaseModel):
    """A rate to preview (the slider while it moves), and for how many steps."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    lr: float = Field(gt=0, description="the learning rate to preview")
    n: StrictInt = Field(100, ge=1, le=2_000, description="steps from the start")


class ErrorOut(BaseModel):
    """Every error answer: one sentence that says what to do."""

    error: str
