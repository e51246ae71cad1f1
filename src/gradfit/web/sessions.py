"""Playground sessions: one descent per browser tab, stepped by the engine itself.

A ``Session`` holds the data, the settings and the paused fit; ``step(n)`` resumes
it for ``n`` steps with ``fit(max_steps=n, warm_start=...)`` so that every number
the page shows comes from the same loop the library runs. No web framework here:
``gradfit.web.app`` turns these objects into HTTP.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from gradfit.data import Dataset, load_dataset, make_article_b
from gradfit.data.files import numeric_columns, parse_csv, table_from_columns
from gradfit.exceptions import DivergenceError, InvalidInputError
from gradfit.explain import explain_record
from gradfit.surface import loss_at, optimum, surface_grid
from gradfit.train import FitResult, Problem, StepRecord, fit

__all__ = ["MAX_UPLOAD_BYTES", "Session", "SessionStore", "Settings", "Upload"]

MAX_UPLOAD_BYTES = 20 * 2**20
MAX_COLUMNS = 200
MAX_ROWS_SHOWN = 500
# Success: the excess loss over the least-squares minimum is down to this fraction of
# where it started.
SUCCESS_TOL = 1e-6
SEARCH_MAX_STEPS = 5000

DATASETS = ("davis", "article_b", "bdims", "upload")


@dataclass(frozen=True)
class Settings:
    """What the page chose; all of it is in the URL."""

    dataset: str = "davis"
    target: str | None = None
    features: tuple[str, ...] | None = None
    upload_id: str | None = None
    mode: Literal["full", "mini", "sgd"] = "full"
    batch_size: int = 32
    optimizer: str = "gd"
    lr: float = 0.01
    beta: float = 0.9
    standardize: bool = True
    seed: int = 0

    @property
    def rows_per_step(self) -> int | None:
        return {"full": None, "mini": self.batch_size, "sgd": 1}[self.mode]


@dataclass
class Upload:
    name: str
    columns: dict[str, list[str]]

    @property
    def numeric(self) -> list[str]:
        return numeric_columns(self.columns)


def parse_upload(name: str, content: bytes) -> Upload:
    """Check an uploaded file (size, text, CSV, columns) and keep its columns."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise InvalidInputError(f"{name} is larger than 20 MB: upload a smaller CSV file")
    if not content.strip():
        raise InvalidInputError(f"{name} is empty: upload a CSV file with a header and data")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{name} is not a text CSV file: save it as UTF-8 CSV") from None
    columns = parse_csv(text, name)
    if len(columns) > MAX_COLUMNS:
        raise InvalidInputError(
            f"{name} has {len(columns)} columns, more than {MAX_COLUMNS}: keep the ones you need"
        )
    upload = Upload(name, columns)
    if len(upload.numeric) < 2:
        raise InvalidInputError(
            f"{name} has fewer than two numeric columns: a regression needs a feature and a target"
        )
    return upload


def load(settings: Settings, uploads: dict[str, Upload]) -> Dataset:
    """The data set a session descends on."""
    if settings.dataset == "article_b":
        return make_article_b(5000, seed=0)
    if settings.dataset in ("davis", "bdims"):
        features = list(settings.features) if settings.features else None
        if settings.dataset == "bdims" and features is None:
            features = ["hgt"]
        return load_dataset(settings.dataset, target=settings.target, features=features)
    if settings.dataset == "upload":
        upload = uploads.get(settings.upload_id or "")
        if upload is None:
            raise InvalidInputError(
                "the uploaded file is gone (server restarted?): upload it again"
            )
        target = settings.target or upload.numeric[-1]
        features = list(settings.features) if settings.features else None
        if features is None:
            features = [c for c in upload.numeric if c != target][:1]
        return table_from_columns(upload.columns, upload.name, target=target, features=features)
    raise InvalidInputError(f"unknown data set {settings.dataset!r}: choose one of {DATASETS}")


@dataclass
class Session:
    """One descent, paused between requests."""

    settings: Settings
    data: Dataset
    problem: Problem
    star: np.ndarray
    best_loss: float
    start_loss: float
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    result: FitResult | None = None
    status: str = "ready"
    message: str = ""
    last_record: StepRecord | None = None
    success_step: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    touched: float = field(default_factory=time.monotonic)

    @classmethod
    def create(cls, settings: Settings, uploads: dict[str, Upload]) -> Session:
        data = load(settings, uploads)
        problem = Problem(
            data.X,
            data.y,
            standardize=settings.standardize,
            batch_size=settings.rows_per_step,
            feature_names=data.feature_names,
        )
        d = problem.X.shape[1]
        star, best = optimum(problem)
        start = problem.evaluator()(np.zeros(d + 1))[0]
        return cls(settings, data, problem, star, best, start)

    # -- stepping ---------------------------------------------------------------------

    @property
    def step_count(self) -> int:
        return 0 if self.result is None else self.result.n_steps

    @property
    def theta(self) -> np.ndarray:
        return np.zeros(self.problem.X.shape[1] + 1) if self.result is None else self.result.theta

    @property
    def loss(self) -> float:
        return self.start_loss if self.result is None else self.result.loss

    def _succeeded(self, loss: float) -> bool:
        target = SUCCESS_TOL * max(self.start_loss - self.best_loss, 1e-300)
        return loss - self.best_loss <= target

    def step(self, n: int = 1) -> dict[str, Any]:
        """Take ``n`` steps (fewer if the descent converges or diverges first)."""
        if self.status in ("diverged", "converged"):
            return self.state(since=self.step_count)
        s = self.settings
        since = self.step_count
        records: list[StepRecord] = []
        try:
            self.result = fit(
                self.problem.X,
                self.problem.y,
                lr=s.lr,
                optimizer=s.optimizer,
                beta=s.beta,
                max_iter=10**9,
                tol=0,
                gtol=1e-12,
                shuffle=True,
                random_state=s.seed,
                history_stride=1,
                max_steps=n,
                on_step=records.append,
                warm_start=self.result,
                problem=self.problem,
            )
        except DivergenceError as err:
            self.status, self.message = "diverged", str(err)
            self.last_record = records[-1] if records else self.last_record
            return self.state(since=since, history=err.history)
        self.last_record = records[-1] if records else self.last_record
        if self.result.stop.code != "max_steps":
            self.status, self.message = "converged", str(self.result.stop)
        else:
            self.status = "running"
        history = self.result.history
        if self.success_step is None:
            # the first step whose parameters reach the minimum, even inside a batch of n
            losses = loss_at(self.problem, history.theta)
            reached = np.flatnonzero([self._succeeded(v) for v in losses])
            if reached.size:
                self.success_step = int(history.step[reached[0]])
        return self.state(since=since, history=history)

    def reset(self) -> dict[str, Any]:
        self.result, self.status, self.message = None, "ready", ""
        self.last_record, self.success_step = None, None
        return self.state(since=0)

    # -- what the page shows -----------------------------------------------------------

    def state(self, since: int = 0, history: Any = None) -> dict[str, Any]:
        coef = self.problem.scaling.to_original(self.theta)
        out: dict[str, Any] = {
            "session": self.id,
            "step": self.step_count,
            "status": self.status,
            "message": self.message,
            "loss": self.loss,
            "best_loss": self.best_loss,
            "w": coef[:-1].tolist(),
            "b": float(coef[-1]),
            "theta": self.theta.tolist(),
            "feature_names": self.data.feature_names,
            "target": self.data.target_name,
            "success": None,
            "points": {"step": [], "loss": [], "theta": []},
            "explain": None,
        }
        if history is not None and len(history):
            keep = history.step >= since
            out["points"] = {
                "step": history.step[keep].tolist(),
                "loss": history.loss[keep].tolist(),
                "theta": history.theta[keep].tolist(),
            }
        if self.last_record is not None:
            out["explain"] = explain_record(
                self.problem, self.last_record, self.settings.optimizer, self.data.target_name
            ).to_dict()
        if self.success_step is not None:
            out["success"] = {
                "steps": self.success_step,
                "message": (
                    f"You reached the least-squares minimum in {self.success_step} steps. "
                    "Can you do it in fewer steps?"
                ),
            }
        if self.status == "diverged" and self.settings.optimizer != "adam":
            out["stable_lr"] = self.problem.stable_lr(self.settings.optimizer, self.settings.beta)
        out["view"] = self.view()
        return out

    def view(self) -> dict[str, Any]:
        """The data with the current line (one feature) or predicted against actual."""
        X, y = self.problem.X, self.problem.y
        coef = self.problem.scaling.to_original(self.theta)
        idx = np.linspace(0, len(y) - 1, min(len(y), MAX_ROWS_SHOWN)).astype(int)
        if X.shape[1] == 1:
            x = np.asarray(X[:, 0]).ravel()
            lo, hi = float(x.min()), float(x.max())
            return {
                "kind": "line",
                "x": x[idx].tolist(),
                "y": y[idx].tolist(),
                "line_x": [lo, hi],
                "line_y": [coef[0] * lo + coef[1], coef[0] * hi + coef[1]],
            }
        pred = np.asarray(X[idx] @ coef[:-1]).ravel() + coef[-1]
        return {"kind": "scatter", "actual": y[idx].tolist(), "predicted": pred.tolist()}

    def surface(
        self, path: list[list[float]] | None = None, coefs: tuple[int, int] = (0, -1)
    ) -> dict[str, Any]:
        """J over two coefficients (others at the optimum), in descent coordinates.

        ``coefs`` index ``[w_0, ..., w_{d-1}, b]``; -1 is the intercept.
        """
        d = self.problem.X.shape[1]
        if not all(-d - 1 <= c <= d for c in coefs):
            raise InvalidInputError(f"coefs must index [w_0 .. w_{d - 1}, b]: got {list(coefs)}")
        i, j = (c % (d + 1) for c in coefs)
        if i == j:
            raise InvalidInputError("coefs must name two different coefficients")
        trail = np.array(path) if path else np.array([self.theta, np.zeros(d + 1)])
        A, C, J = surface_grid(self.problem, trail, self.star, i, j, n=60)
        names = [*self.data.feature_names, "b"]
        return {
            "x": A[0].tolist(),
            "y": C[:, 0].tolist(),
            "z": J.tolist(),
            "star": [float(self.star[i]), float(self.star[j])],
            "labels": [names[i], names[j]],
            "indices": [i, j],
        }

    def fewest_steps(self) -> dict[str, Any]:
        """The fewest steps any constant rate needs here (plain full-batch descent)."""
        problem = Problem(
            self.problem.X,
            self.problem.y,
            standardize=self.problem.scaling,
            feature_names=self.data.feature_names,
        )
        c = problem.curvature
        target = SUCCESS_TOL * max(self.start_loss - self.best_loss, 1e-300)
        rates = sorted({c.best_lr, *np.geomspace(0.05, 1.99, 40) / c.lipschitz})
        best_steps, best_lr = math.inf, c.best_lr
        for lr in rates:
            try:
                r = fit(
                    problem.X,
                    problem.y,
                    lr=float(lr),
                    max_iter=SEARCH_MAX_STEPS,
                    tol=0,
                    gtol=0,
                    problem=problem,
                    history_stride=SEARCH_MAX_STEPS,
                    callback=lambda p: p.loss - self.best_loss <= target,
                )
            except DivergenceError:
                continue
            if r.stop.code == "callback" and r.n_steps < best_steps:
                best_steps, best_lr = r.n_steps, float(lr)
        return {
            "steps": None if math.isinf(best_steps) else int(best_steps),
            "lr": best_lr,
            "lipschitz": c.lipschitz,
            "max_stable_lr": c.max_stable_lr,
            "best_lr": c.best_lr,
            "condition_number": c.condition_number,
        }

    def code(self) -> dict[str, str]:
        """The same descent as Python and as a command line."""
        s, data = self.settings, self.data
        batch = s.rows_per_step
        steps = max(self.step_count, 1)
        args = (
            f"lr={s.lr!r}, optimizer={s.optimizer!r}, batch_size={batch!r}, "
            f"standardize={s.standardize!r}, random_state={s.seed!r}, max_steps={steps}"
            + (f", beta={s.beta!r}" if s.optimizer != "gd" else "")
        )
        columns = f"target={data.target_name!r}, features={data.feature_names!r}"
        if s.dataset == "article_b":
            lines = ["import gradfit", "d = gradfit.make_article_b(5000, seed=0)"]
            source = None
        elif s.dataset == "upload":
            source = data.description  # the uploaded file's name
            lines = [
                "import gradfit",
                "from gradfit.data import load_table",
                f"d = load_table({source!r}, {columns})",
            ]
        else:
            source = s.dataset
            lines = ["import gradfit", f"d = gradfit.load_dataset({source!r}, {columns})"]
        lines += [
            f"result = gradfit.fit(d.X, d.y, {args})",
            "print(result.w, result.b, result.loss, result.stop)",
        ]
        if source is None:
            cli = (
                "# article B's data is generated in Python; the CLI takes files and named data sets"
            )
        else:
            cli = (
                f"gradfit fit {source} --target {data.target_name} --features "
                f"{' '.join(data.feature_names)} --lr {s.lr!r} --optimizer {s.optimizer} "
                f"--seed {s.seed} --max-steps {steps}"
                + (f" --batch-size {batch}" if batch else "")
                + (" --standardize" if s.standardize else "")
            )
        return {"python": "\n".join(lines), "cli": cli}


class SessionStore:
    """Sessions and uploads by id, least recently used dropped beyond a bound."""

    def __init__(self, max_sessions: int = 500, max_uploads: int = 50) -> None:
        self.sessions: OrderedDict[str, Session] = OrderedDict()
        self.uploads: OrderedDict[str, Upload] = OrderedDict()
        self.max_sessions, self.max_uploads = max_sessions, max_uploads
        self.lock = threading.Lock()

    def create(self, settings: Settings) -> Session:
        session = Session.create(settings, dict(self.uploads))
        with self.lock:
            self.sessions[session.id] = session
            while len(self.sessions) > self.max_sessions:
                self.sessions.popitem(last=False)
        return session

    def get(self, session_id: str) -> Session | None:
        with self.lock:
            session = self.sessions.get(session_id)
            if session is not None:
                self.sessions.move_to_end(session_id)
                session.touched = time.monotonic()
            return session

    def add_upload(self, upload: Upload) -> str:
        upload_id = uuid.uuid4().hex
        with self.lock:
            self.uploads[upload_id] = upload
            while len(self.uploads) > self.max_uploads:
                self.uploads.popitem(last=False)
        return upload_id
