"""The playground's HTTP API (FastAPI) and its page; OpenAPI at ``/openapi.json``.

HTTP only: routes, status codes and the JSON error shape ``{"error": ...}``. What a
session does lives in ``gradfit.web.sessions``, the request bodies in
``gradfit.web.schemas``.
"""

# No ``from __future__ import annotations``: FastAPI reads the handlers' annotations
# at definition, and the settings model is made inside ``create_app``.

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from gradfit.exceptions import GradfitError, InvalidInputError, require

require("fastapi", "web")

from fastapi import FastAPI, File, HTTPException, Request, UploadFile  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse  # noqa: E402

from gradfit.optim.registry import RULES  # noqa: E402
from gradfit.web.datasets import catalogue  # noqa: E402
from gradfit.web.eigen_api import eigen_routes  # noqa: E402
from gradfit.web.export import exported_code  # noqa: E402
from gradfit.web.lessons_api import lesson_routes  # noqa: E402
from gradfit.web.race_api import race_routes  # noqa: E402
from gradfit.web.schemas import ErrorOut, PreviewIn, StepIn, SurfaceIn, settings_model  # noqa: E402
from gradfit.web.sessions import Session  # noqa: E402
from gradfit.web.settings import Settings  # noqa: E402
from gradfit.web.store import SessionStore  # noqa: E402
from gradfit.web.uploads import MAX_UPLOAD_BYTES, Upload, parse_upload  # noqa: E402
from gradfit.web.views import json_ready  # noqa: E402

__all__ = ["create_app"]

# The playground's page and the learning pages beside it (lessons, race, eigen view),
# each an HTML page with its own script and style sheet.
PAGES = ("lessons", "race", "eigen")
STATIC_FILES = {
    "app.js": "text/javascript",
    **{name: "text/javascript" for name in ("charts.js", "readout.js", "link.js", "access.js")},
    "style.css": "text/css",
    **{f"{page}.js": "text/javascript" for page in PAGES},
    **{f"{page}.css": "text/css" for page in PAGES},
}


@contextmanager
def _locked(store: SessionStore, session_id: str) -> Iterator[Session]:
    """The session, held for this request alone (requests of one tab queue up)."""
    session = store.get(session_id)
    if session is None:
        raise HTTPException(404, "no such session (it expired or the server restarted): reload")
    with session.lock:
        yield session


def _static(name: str) -> Path:
    return Path(str(resources.files("gradfit.web").joinpath("static", name)))


def _plotly_js() -> Path:
    plotly = require("plotly", "web")
    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _upload_info(upload_id: str, upload: Upload) -> dict[str, Any]:
    target = upload.first_target
    return {
        "upload_id": upload_id,
        "name": upload.name,
        "columns": upload.numeric,
        "target": target,
        "features": upload.first_features(target),
    }


def create_app(store: SessionStore | None = None) -> FastAPI:
    """The playground application (one ``SessionStore`` per app).

    The update rules it offers are those registered when it is made.

    Parameters
    ----------
    store : SessionStore, optional
        Where sessions and uploads are kept (default: a new one).

    Returns
    -------
    fastapi.FastAPI
    """
    store = store or SessionStore()
    SettingsIn = settings_model()  # a model class, named as one
    app = FastAPI(
        title="gradfit playground",
        description="Gradient descent on real data, one step at a time, by gradfit's engine.",
        version="1",
        responses={code: {"model": ErrorOut} for code in (400, 404, 422)},
    )

    @app.exception_handler(GradfitError)
    async def _gradfit_error(request: Request, exc: GradfitError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=400)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return JSONResponse({"error": f"{where}: {first.get('msg')}".lstrip(": ")}, 422)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(_static("index.html"), media_type="text/html")

    def _page(name: str) -> None:
        @app.get(f"/{name}", response_class=HTMLResponse, include_in_schema=False)
        def page() -> FileResponse:
            return FileResponse(_static(f"{name}.html"), media_type="text/html")

    for name in PAGES:
        _page(name)

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        if name == "plotly.min.js":
            return FileResponse(_plotly_js(), media_type="text/javascript")
        if name not in STATIC_FILES:
            raise HTTPException(404, f"no static file {name!r}")
        return FileResponse(_static(name), media_type=STATIC_FILES[name])

    shipped = catalogue()
    # the page's rate slider drives rules whose step is a learning rate (not line searches)
    rules = {
        name: {"summary": rule.summary, "uses_beta": rule.uses_beta}
        for name, rule in RULES.items()
        if not rule.line_search
    }

    @app.get("/api/datasets")
    def datasets() -> dict[str, Any]:
        """The shipped data sets with their numeric columns, target and first features."""
        return shipped

    @app.get("/api/rules")
    def update_rules() -> dict[str, Any]:
        """The update rules a session may use, with a line on each."""
        return rules

    @app.post("/api/uploads", responses={413: {"model": ErrorOut}})
    async def upload(file: Annotated[UploadFile, File()]) -> dict[str, Any]:
        """A CSV file (at most 20 MB, at most 200 columns) to descend on."""
        content = await file.read(MAX_UPLOAD_BYTES + 1)
        if len(content) > MAX_UPLOAD_BYTES:
            raise HTTPException(413, f"{file.filename} is larger than 20 MB: upload a smaller file")
        parsed = parse_upload(file.filename or "upload.csv", content)
        return _upload_info(store.add_upload(parsed), parsed)

    @app.get("/api/uploads/{upload_id}")
    def uploaded(upload_id: str) -> dict[str, Any]:
        """An upload the server still holds: its name, numeric columns, first target and
        features (what a shared link to it needs to choose its own columns again)."""
        parsed = store.get_upload(upload_id)
        if parsed is None:
            raise HTTPException(
                404,
                "the uploaded file of this link is gone (the server keeps uploads only while "
                "it runs, and only on the machine it runs on): upload the file again",
            )
        return _upload_info(upload_id, parsed)

    @app.post("/api/sessions")
    def create_session(body: SettingsIn) -> dict[str, Any]:  # type: ignore[valid-type]
        """Start a descent at w = 0, b = 0."""
        try:
            settings = Settings.from_page(**body.model_dump())  # type: ignore[attr-defined]
        except InvalidInputError as err:  # an option value FitOptions does not accept
            raise HTTPException(422, str(err)) from None
        return json_ready(store.create(settings).state())

    @app.get("/api/sessions/{session_id}")
    def get_session(session_id: str) -> dict[str, Any]:
        """Where the session stands."""
        with _locked(store, session_id) as session:
            return json_ready(session.state(since=session.step_count))

    @app.post("/api/sessions/{session_id}/step")
    def step(session_id: str, body: StepIn) -> dict[str, Any]:
        """Take ``n`` steps (with ``until_success``, no more than reach the minimum);
        returns the new state, the new points and the last step explained."""
        with _locked(store, session_id) as session:
            return json_ready(session.step(body.n, body.until_success))

    @app.post("/api/sessions/{session_id}/reset")
    def reset(session_id: str) -> dict[str, Any]:
        """Back to w = 0, b = 0 with the same data and options."""
        with _locked(store, session_id) as session:
            return json_ready(session.reset())

    @app.post("/api/sessions/{session_id}/surface")
    def surface(session_id: str, body: SurfaceIn) -> dict[str, Any]:
        """Cost contours over the two chosen coefficients around ``path``."""
        with _locked(store, session_id) as session:
            return json_ready(session.surface(body.path, body.coefs))

    @app.post("/api/sessions/{session_id}/preview")
    def preview(session_id: str, body: PreviewIn) -> dict[str, Any]:
        """The path the same descent would take at another rate (the rate slider while it
        moves): every step's ``theta`` from the start, the checked losses, and where it
        diverged (None: it did not). The session itself is not changed."""
        with _locked(store, session_id) as session:
            return json_ready(session.preview(body.lr, body.n))

    @app.get("/api/sessions/{session_id}/fewest")
    def fewest(session_id: str) -> dict[str, Any]:
        """The fewest steps any constant learning rate needs on this data, and that rate."""
        with _locked(store, session_id) as session:
            return json_ready(session.fewest())

    @app.get("/api/sessions/{session_id}/code")
    def code(session_id: str) -> dict[str, str]:
        """The same descent as Python and as a command line."""
        with _locked(store, session_id) as session:
            return exported_code(session.data, session.settings.options, session.step_count)

    for routes in (lesson_routes, race_routes, eigen_routes):
        app.include_router(routes(store))
    return app
