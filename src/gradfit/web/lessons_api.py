"""The lessons' HTTP routes (``/api/lessons/...``): numbers for each lesson screen, from the
engine (see ``gradfit.web.lessons``)."""

# No ``from __future__ import annotations``: FastAPI reads the handlers' annotations.

import threading
from collections import OrderedDict
from typing import Any, Literal

from gradfit.exceptions import require

require("fastapi", "web")

from fastapi import APIRouter  # noqa: E402
from pydantic import BaseModel, ConfigDict, Field, StrictBool  # noqa: E402

from gradfit.web import lessons  # noqa: E402
from gradfit.web.datasets import FIRST_DATASET, DataChoice  # noqa: E402
from gradfit.web.schemas import MAX_LR  # noqa: E402
from gradfit.web.store import SessionStore  # noqa: E402
from gradfit.web.views import json_ready  # noqa: E402

__all__ = ["lesson_routes"]

# Data sets kept ready (their objectives and minima) for the lessons' requests.
KEPT = 8


class DataIn(BaseModel):
    """The data a lesson uses: a data set, its target and its first feature."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    dataset: str = FIRST_DATASET
    target: str | None = None
    features: list[str] | None = Field(None, max_length=200)
    upload_id: str | None = None

    def choice(self) -> DataChoice:
        features = tuple(self.features[:1]) if self.features else None
        return DataChoice(self.dataset, self.target, features, self.upload_id)


class LineIn(DataIn):
    """A line ``y = m x + b``."""

    m: float = 0.0
    b: float = 0.0


class StepIn(LineIn):
    """A line and a rate."""

    lr: float = Field(gt=0, le=MAX_LR)


class ChallengeIn(DataIn):
    """A rate to try, and whether to show the answer."""

    lr: float = Field(gt=0, le=MAX_LR)
    answer: StrictBool = False


class PenaltyIn(DataIn):
    """Which penalty's path."""

    penalty: Literal["l1", "l2"] = "l1"


def lesson_routes(store: SessionStore) -> APIRouter:
    """The routes, on the app's ``store`` (its uploads)."""
    router = APIRouter()
    kept: OrderedDict[DataChoice, lessons.LessonData] = OrderedDict()
    lock = threading.Lock()

    def data_of(body: DataIn) -> lessons.LessonData:
        choice = body.choice()
        with lock:
            if choice in kept:
                kept.move_to_end(choice)
                return kept[choice]
        data = lessons.LessonData(choice, dict(store.uploads))
        with lock:
            kept[choice] = data
            while len(kept) > KEPT:
                kept.popitem(last=False)
        return data

    @router.post("/api/lessons/guess")
    def guess(body: LineIn) -> dict[str, Any]:
        """The mean squared error of the line ``y = m x + b`` on the data."""
        return json_ready(lessons.guess(data_of(body), body.m, body.b))

    @router.post("/api/lessons/derivative")
    def derivative(body: LineIn) -> dict[str, Any]:
        """The derivative at ``(m, b)``, with the rows' numbers and the engine's gradient."""
        return json_ready(lessons.derivative(data_of(body), body.m, body.b))

    @router.post("/api/lessons/step")
    def step(body: StepIn) -> dict[str, Any]:
        """One step of plain gradient descent from ``(m, b)``."""
        return json_ready(lessons.one_step(data_of(body), body.m, body.b, body.lr))

    @router.post("/api/lessons/challenge")
    def challenge(body: ChallengeIn) -> dict[str, Any]:
        """The steps a rate needs to reach the minimum (standardized), and the answer."""
        return json_ready(lessons.challenge(data_of(body), body.lr, body.answer))

    @router.post("/api/lessons/bowls")
    def bowls(body: DataIn) -> dict[str, Any]:
        """The raw and standardized bowls with their best rates' paths and steps."""
        return json_ready(lessons.standardize_bowls(data_of(body)))

    @router.post("/api/lessons/penalty")
    def penalty(body: PenaltyIn) -> dict[str, Any]:
        """A penalty's path: the slope at strengths from strong to weak."""
        return json_ready(lessons.penalty_path(data_of(body), body.penalty))

    return router
