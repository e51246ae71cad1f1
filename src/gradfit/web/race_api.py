"""The race's HTTP routes (``/api/race``): up to four settings descending on the same data,
side by side (see ``gradfit.web.race``)."""

from gradfit.exceptions import require

require("fastapi", "web")

from fastapi import APIRouter  # noqa: E402

from gradfit.web.store import SessionStore  # noqa: E402

__all__ = ["race_routes"]


def race_routes(store: SessionStore) -> APIRouter:
    """The routes, on the app's ``store`` (sessions and uploads)."""
    router = APIRouter()
    return router
