"""The playground's HTTP API (FastAPI) and its page; OpenAPI at ``/openapi.json``."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from gradfit.exceptions import GradfitError, require

require("fastapi", "web")

from fastapi import FastAPI, File, HTTPException, Request, UploadFile  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse  # noqa: E402
from pydantic import (  # noqa: E402
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
)

from gradfit.data.datasets import DESCRIPTIONS  # noqa: E402
from gradfit.web.sessions import (  # noqa: E402
    MAX_UPLOAD_BYTES,
    Session,
    SessionStore,
    Settings,
    parse_upload,
)

__all__ = ["create_app"]

MAX_LR = 1e6


class SettingsIn(BaseModel):
    """A new session: data, mode, update rule and learning rate."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    dataset: Literal["davis", "article_b", "bdims", "upload"] = "davis"
    target: str | None = Field(None, max_length=200)
    features: list[Annotated[str, Field(max_length=200)]] | None = Field(
        None, min_length=1, max_length=200, description="feature columns (at least one)"
    )
    upload_id: str | None = Field(None, max_length=64)
    mode: Literal["full", "mini", "sgd"] = "full"
    batch_size: StrictInt = Field(32, ge=1, le=1_000_000)
    optimizer: Literal["gd", "momentum", "nesterov", "adam"] = "gd"
    lr: StrictFloat = Field(0.01, gt=0, le=MAX_LR, description="learning rate, > 0 and at most 1e6")
    beta: StrictFloat = Field(0.9, ge=0, lt=1)
    standardize: StrictBool = True
    seed: StrictInt = Field(0, ge=0, le=2**32 - 1)


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: StrictInt = Field(1, ge=1, le=10_000, description="steps to take")


class SurfaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    path: list[list[float]] | None = Field(None, max_length=20_000)
    coefs: tuple[StrictInt, StrictInt] = Field(
        (0, -1), description="two indices into [w_0, ..., w_(d-1), b]; -1 is the intercept"
    )


class ErrorOut(BaseModel):
    error: str


@contextmanager
def _locked(store: SessionStore, session_id: str) -> Iterator[Session]:
    """The session, held for this request alone (requests of one tab queue up)."""
    session = store.get(session_id)
    if session is None:
        raise HTTPException(404, "no such session (it expired or the server restarted): reload")
    with session.lock:
        yield session


def _builtin_datasets() -> dict[str, Any]:
    """The built-in data sets with their numeric columns and defaults."""
    from gradfit.data import load_dataset, make_article_b

    bdims = load_dataset("bdims")
    b = make_article_b(10)
    return {
        "davis": {
            "columns": ["height", "weight", "repwt", "repht"],
            "target": "weight",
            "features": ["height"],
            "description": DESCRIPTIONS["davis"],
        },
        "bdims": {
            "columns": [*bdims.feature_names, "wgt"],
            "target": "wgt",
            "features": ["hgt"],
            "description": DESCRIPTIONS["bdims"],
        },
        "article_b": {
            "columns": [*b.feature_names, "y"],
            "target": "y",
            "features": b.feature_names,
            "description": b.description,
        },
    }


def _static(name: str) -> Path:
    return Path(str(resources.files("gradfit.web").joinpath("static", name)))


def _plotly_js() -> Path:
    plotly = require("plotly", "web")
    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _finite(obj: Any) -> Any:
    """JSON has no NaN or infinity: send null instead."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def create_app(store: SessionStore | None = None) -> FastAPI:
    """The playground application (one ``SessionStore`` per app)."""
    store = store or SessionStore()
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

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        if name == "plotly.min.js":
            return FileResponse(_plotly_js(), media_type="text/javascript")
        if name not in ("app.js", "style.css"):
            raise HTTPException(404, f"no static file {name!r}")
        media = "text/javascript" if name.endswith(".js") else "text/css"
        return FileResponse(_static(name), media_type=media)

    builtin = _builtin_datasets()

    @app.get("/api/datasets")
    def datasets() -> dict[str, Any]:
        """The built-in data sets with their numeric columns and defaults."""
        return builtin

    @app.post("/api/uploads", responses={413: {"model": ErrorOut}})
    async def upload(file: Annotated[UploadFile, File()]) -> dict[str, Any]:
        """A CSV file (at most 20 MB, at most 200 columns) to descend on."""
        content = await file.read(MAX_UPLOAD_BYTES + 1)
        if len(content) > MAX_UPLOAD_BYTES:
            raise HTTPException(413, f"{file.filename} is larger than 20 MB: upload a smaller file")
        parsed = parse_upload(file.filename or "upload.csv", content)
        upload_id = store.add_upload(parsed)
        numeric = parsed.numeric
        return {
            "upload_id": upload_id,
            "name": parsed.name,
            "columns": numeric,
            "target": numeric[-1],
            "features": numeric[:1],
        }

    @app.post("/api/sessions")
    def create_session(settings: SettingsIn) -> dict[str, Any]:
        """Start a descent at w = 0, b = 0."""
        values = settings.model_dump()
        values["features"] = tuple(values["features"]) if values["features"] else None
        session = store.create(Settings(**values))
        return _finite(session.state())

    @app.get("/api/sessions/{session_id}")
    def get_session(session_id: str) -> dict[str, Any]:
        with _locked(store, session_id) as session:
            return _finite(session.state(since=session.step_count))

    @app.post("/api/sessions/{session_id}/step")
    def step(session_id: str, body: StepIn) -> dict[str, Any]:
        """Take ``n`` steps; returns the new state, the new points and the last step explained."""
        with _locked(store, session_id) as session:
            return _finite(session.step(body.n))

    @app.post("/api/sessions/{session_id}/reset")
    def reset(session_id: str) -> dict[str, Any]:
        with _locked(store, session_id) as session:
            return _finite(session.reset())

    @app.post("/api/sessions/{session_id}/surface")
    def surface(session_id: str, body: SurfaceIn) -> dict[str, Any]:
        """Cost contours over the two chosen coefficients around ``path``."""
        with _locked(store, session_id) as session:
            width = session.problem.X.shape[1] + 1
            if body.path and any(len(p) != width for p in body.path):
                raise HTTPException(400, f"every path point needs {width} numbers")
            return _finite(session.surface(body.path, body.coefs))

    @app.get("/api/sessions/{session_id}/fewest")
    def fewest(session_id: str) -> dict[str, Any]:
        """The fewest steps any constant learning rate needs on this data, and that rate."""
        with _locked(store, session_id) as session:
            return _finite(session.fewest_steps())

    @app.get("/api/sessions/{session_id}/code")
    def code(session_id: str) -> dict[str, str]:
        """The same descent as Python and as a command line."""
        with _locked(store, session_id) as session:
            return session.code()

    return app
