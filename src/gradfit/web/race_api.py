"""The race's HTTP route (``POST /api/race``): up to four settings descending on the same
data, side by side (see ``gradfit.web.race``)."""

# No ``from __future__ import annotations``: FastAPI reads the handlers' annotations.

from typing import Any, Literal

from gradfit.exceptions import InvalidInputError, require

require("fastapi", "web")

from fastapi import APIRouter, HTTPException  # noqa: E402
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt  # noqa: E402

from gradfit.web.datasets import FIRST_DATASET, DataChoice  # noqa: E402
from gradfit.web.race import MAX_LANES, MAX_STEPS, race  # noqa: E402
from gradfit.web.schemas import MAX_LR  # noqa: E402
from gradfit.web.settings import Settings  # noqa: E402
from gradfit.web.store import SessionStore  # noqa: E402
from gradfit.web.views import json_ready  # noqa: E402

__all__ = ["LaneIn", "RaceIn", "race_routes"]


class LaneIn(BaseModel):
    """One lane: how it descends."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    lr: float = Field(gt=0, le=MAX_LR)
    mode: Literal["full", "mini", "sgd"] = "full"
    batch_size: StrictInt = Field(32, ge=1)
    optimizer: str = "gd"
    beta: float = Field(0.9, ge=0, lt=1)
    standardize: StrictBool = True


class RaceIn(BaseModel):
    """The data, the lanes and the step budget."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    dataset: str = FIRST_DATASET
    target: str | None = None
    features: list[str] | None = Field(None, max_length=200)
    upload_id: str | None = None
    lanes: list[LaneIn] = Field(min_length=1, max_length=MAX_LANES)
    max_steps: StrictInt = Field(500, ge=1, le=MAX_STEPS)
    coefs: tuple[StrictInt, StrictInt] = (0, -1)
    seed: StrictInt = Field(0, ge=0)


def race_routes(store: SessionStore) -> APIRouter:
    """The route, on the app's ``store`` (its uploads)."""
    router = APIRouter()

    @router.post("/api/race")
    def run_race(body: RaceIn) -> dict[str, Any]:
        """Every lane from ``w = 0, b = 0`` for up to ``max_steps`` steps: the steps each
        needs to reach the minimum, the theory's prediction, the paths (original units)
        over the cost's contours and the loss's excess over the minimum."""
        settings = []
        for k, lane in enumerate(body.lanes, start=1):
            try:
                settings.append(
                    Settings.from_page(
                        dataset=body.dataset,
                        target=body.target,
                        features=body.features,
                        upload_id=body.upload_id,
                        mode=lane.mode,
                        batch_size=lane.batch_size,
                        optimizer=lane.optimizer,
                        lr=lane.lr,
                        beta=lane.beta,
                        standardize=lane.standardize,
                        seed=body.seed,
                    )
                )
            except InvalidInputError as err:
                raise HTTPException(422, f"lane {k}: {err}") from None
        data = DataChoice(
            body.dataset,
            body.target,
            tuple(body.features) if body.features else None,
            body.upload_id,
        )
        out = race(data, settings, dict(store.uploads), body.max_steps, body.coefs)
        return json_ready(out)

    return router
