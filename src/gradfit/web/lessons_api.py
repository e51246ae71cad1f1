"""The lessons' HTTP routes (``/api/lessons/...``): numbers for each lesson screen, from the
engine (see ``gradfit.web.lessons``)."""

from gradfit.exceptions import require

require("fastapi", "web")

from fastapi import APIRouter  # noqa: E402

from gradfit.web.store import SessionStore  # noqa: E402

__all__ = ["lesson_routes"]


def lesson_routes(store: SessionStore) -> APIRouter:
    """The routes, on the app's ``store`` (sessions and uploads)."""
    router = APIRouter()
    return router
