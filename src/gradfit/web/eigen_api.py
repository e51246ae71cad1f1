"""The eigen view's HTTP routes (``/api/eigen``): the error along each eigen-direction of
the cost surface, step by step (see ``gradfit.web.eigen``)."""

from gradfit.exceptions import require

require("fastapi", "web")

from fastapi import APIRouter  # noqa: E402

from gradfit.web.store import SessionStore  # noqa: E402

__all__ = ["eigen_routes"]


def eigen_routes(store: SessionStore) -> APIRouter:
    """The routes, on the app's ``store`` (sessions and uploads)."""
    router = APIRouter()
    return router
