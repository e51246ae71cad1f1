"""The eigen view's HTTP routes (``POST /api/eigen``): the error along each eigen-direction
of the cost surface, step by step (see ``gradfit.web.eigen``)."""

# No ``from __future__ import annotations``: FastAPI reads the handlers' annotations.

import threading
from collections import OrderedDict
from typing import Any, Literal

from gradfit.exceptions import require

require("fastapi", "web")

from fastapi import APIRouter  # noqa: E402
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt  # noqa: E402

from gradfit.data.source import ArraySource  # noqa: E402
from gradfit.model import Objective  # noqa: E402
from gradfit.surface import optimum  # noqa: E402
from gradfit.train.fit import objective_for  # noqa: E402
from gradfit.web.datasets import FIRST_DATASET, load_data  # noqa: E402
from gradfit.web.eigen import MAX_STEPS, eigen_view  # noqa: E402
from gradfit.web.schemas import MAX_LR  # noqa: E402
from gradfit.web.settings import Settings  # noqa: E402
from gradfit.web.store import SessionStore  # noqa: E402
from gradfit.web.views import json_ready  # noqa: E402

__all__ = ["EigenIn", "eigen_routes"]

# Objectives kept for the slider's requests (the data's statistics, its minimum).
KEPT = 16


class EigenIn(BaseModel):
    """The data, the coordinates and the descent to look at."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    dataset: str = FIRST_DATASET
    target: str | None = None
    features: list[str] | None = Field(None, max_length=200)
    upload_id: str | None = None
    standardize: StrictBool = True
    optimizer: Literal["gd", "momentum"] = "gd"
    lr: float = Field(0.1, gt=0, le=MAX_LR)
    beta: float = Field(0.9, ge=0, lt=1)
    steps: StrictInt = Field(100, ge=1, le=MAX_STEPS)


def eigen_routes(store: SessionStore) -> APIRouter:
    """The routes, on the app's ``store`` (its uploads)."""
    router = APIRouter()
    kept: OrderedDict[tuple[Any, ...], tuple[Objective, Any]] = OrderedDict()
    lock = threading.Lock()

    def objective_of(settings: Settings) -> tuple[Objective, Any]:
        key = (settings.data, settings.options.standardize)
        with lock:
            if key in kept:
                kept.move_to_end(key)
                return kept[key]
        d = load_data(settings.data, dict(store.uploads)).dataset
        source = ArraySource(d.X, d.y, feature_names=d.feature_names, target_name=d.target_name)
        objective = objective_for(source, settings.options)
        found = objective, optimum(objective)[0]
        with lock:
            kept[key] = found
            while len(kept) > KEPT:
                kept.popitem(last=False)
        return found

    @router.post("/api/eigen")
    def eigen(body: EigenIn) -> dict[str, Any]:
        """The engine's full-batch descent from 0, its error along each eigen-direction of
        the Hessian at every step, the theory's prediction beside it, and what it says."""
        settings = Settings.from_page(
            dataset=body.dataset,
            target=body.target,
            features=body.features,
            upload_id=body.upload_id,
            mode="full",
            batch_size=32,
            optimizer=body.optimizer,
            lr=body.lr,
            beta=body.beta,
            standardize=body.standardize,
            seed=0,
        )
        objective, star = objective_of(settings)
        view = eigen_view(objective, settings.options, star, body.steps)
        view["feature_names"] = objective.feature_names
        view["target"] = objective.source.target_name
        return json_ready(view)

    return router
