"""The playground in a notebook: an anywidget driven by the engine in the kernel.

``gradfit.widget(X, y)`` (or ``gradfit.widget(dataset="davis")``) returns a widget with
the playground's controls (learning rate, mode, update rule, standardization), STEP,
RUN / PAUSE and RESET, the readout, the line on the data and the loss curve. It works
wherever anywidget does: Jupyter, JupyterLab, VS Code and marimo
(``pip install 'gradfit[notebook]'``).

The numbers are the playground's own: a widget holds a ``gradfit.web.sessions.Session``
(the same object the browser playground steps), and every click is a message to the
kernel that steps it with ``gradfit.train.run``. The front end only draws ``state``.

Examples
--------
In a notebook cell::

    import gradfit
    gradfit.widget(dataset="davis", lr=0.5)     # displays the playground

and from code (the numbers the widget shows):

>>> w = widget(dataset="davis", lr=0.5)
>>> state = w.step(1)
>>> abs(state["loss"] - state["best_loss"]) < 1e-9 * state["best_loss"]
True
"""

from __future__ import annotations

import math
from importlib import resources
from typing import Any

import numpy as np

from gradfit.data.datasets import Dataset
from gradfit.data.source import as_source
from gradfit.exceptions import InvalidInputError, require
from gradfit.web.datasets import DataChoice, SessionData
from gradfit.web.sessions import Session
from gradfit.web.settings import MODES, Mode, Settings
from gradfit.web.yardstick import Yardstick

__all__ = ["widget"]  # (and PlaygroundWidget, made on first use)

# RUN in a notebook: steps per message (the front end asks again while running)
RUN_CHUNK = 5
# the loss curve sent to the front end keeps at most this many points
CURVE_POINTS = 4000


def _plain(value: Any) -> Any:
    """``value`` as JSON takes it: lists for arrays, None for NaN and infinities."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (np.floating, float)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _asset(name: str) -> str:
    return resources.files("gradfit").joinpath("notebook_static", name).read_text()


def _widget_base() -> type:
    return require("anywidget", "notebook").AnyWidget


def _session(data: SessionData, settings: Settings) -> Session:
    """A playground session on ``data`` (arrays of the user's, or a shipped data set)."""
    from gradfit.data.source import ArraySource
    from gradfit.train.fit import objective_for

    d = data.dataset
    source = ArraySource(d.X, d.y, feature_names=d.feature_names, target_name=d.target_name)
    objective = objective_for(source, settings.options)
    return Session(settings, data, objective, Yardstick.of(objective))


def widget(
    X: Any = None,
    y: Any = None,
    *,
    dataset: str | None = None,
    feature_names: list[str] | None = None,
    target_name: str | None = None,
    lr: float = 0.1,
    mode: Mode = "full",
    batch_size: int = 32,
    optimizer: str = "gd",
    beta: float = 0.9,
    standardize: bool = True,
    seed: int = 0,
) -> Any:
    """The playground as a notebook widget, on ``X, y`` or a shipped data set.

    Parameters
    ----------
    X, y : array-like, optional
        The rows (a 1-D ``X`` is one feature; a pandas DataFrame brings its names).
    dataset : str, optional
        A shipped data set ('davis', 'bdims', 'article_b') instead of ``X, y``.
    feature_names, target_name : names for ``X``'s columns and ``y``.
    lr, mode, batch_size, optimizer, beta, standardize, seed
        The playground's controls: ``mode`` is 'full', 'mini' (``batch_size`` rows) or
        'sgd' (one row per step).

    Returns
    -------
    PlaygroundWidget
        Display it (the last expression of a cell); ``.step(n)``, ``.reset()`` and
        ``.state`` drive and read it from code too.
    """
    if (X is None) == (dataset is None):
        raise InvalidInputError(
            "give the rows (gradfit.widget(X, y)) or a shipped data set "
            "(gradfit.widget(dataset='davis')), one of the two"
        )
    if dataset is not None:
        if y is not None:
            raise InvalidInputError("a shipped data set brings its own target: leave y out")
        choice = DataChoice(dataset=dataset)
        data = None
    else:
        source = as_source(X, y, feature_names=feature_names)
        rows = source.rows(None)
        X_dense = np.asarray(rows.X.toarray() if hasattr(rows.X, "toarray") else rows.X)
        name = target_name or source.target_name
        described = f"{source.n_rows} rows of your data: {', '.join(source.feature_names)}"
        data = SessionData(
            Dataset(X_dense, np.asarray(rows.y), list(source.feature_names), name, described),
            "your data",
            False,
        )
        choice = DataChoice(
            dataset="davis", target=name, features=tuple(source.feature_names)
        )  # (names only: the rows are the user's)
    settings = Settings.from_page(
        dataset=choice.dataset,
        target=None if data is None else choice.target,
        features=None if data is None else choice.features,
        upload_id=None,
        mode=mode,
        batch_size=batch_size,
        optimizer=optimizer,
        lr=lr,
        beta=beta,
        standardize=standardize,
        seed=seed,
    )
    session = Session.create(settings, {}) if data is None else _session(data, settings)
    return _widget_class()(session)


_CLASS: type | None = None


def _widget_class() -> type:
    """``PlaygroundWidget``, made on first use (anywidget is an optional extra)."""
    global _CLASS
    if _CLASS is not None:
        return _CLASS
    traitlets = require("traitlets", "notebook")

    class PlaygroundWidget(_widget_base()):  # type: ignore[misc]
        """The playground's controls and charts, stepping a ``Session`` in the kernel."""

        _esm = _asset("widget.js")
        _css = _asset("widget.css")
        state = traitlets.Dict().tag(sync=True)
        controls = traitlets.Dict().tag(sync=True)
        error = traitlets.Unicode("").tag(sync=True)
        running = traitlets.Bool(False).tag(sync=True)

        def __init__(self, session: Session) -> None:
            super().__init__()
            self._session = session
            o = session.settings.options
            self.controls = {
                "lr": float(o.lr) if isinstance(o.lr, (int, float)) else 0.1,
                "mode": _mode_of(session),
                "optimizer": o.rule.name,
                "standardize": not isinstance(o.standardize, bool) or bool(o.standardize),
                "modes": list(MODES),
            }
            self._curve: tuple[list[int], list[float]] = ([], [])
            self._trail: list[list[float]] = []  # the path's thetas, for the contours
            self._trail_step = 0  # the step of the trail's last point
            self._show(session.state(), fresh=True)
            self.on_msg(self._message)

        # -- driven from code ------------------------------------------------------------

        def step(self, n: int = 1) -> dict[str, Any]:
            """Take ``n`` steps (as STEP does ``n`` times); returns the new state."""
            self.error = ""
            self._show(self._session.step(int(n)))
            if self.state.get("status") in ("converged", "diverged"):
                self.running = False
            return dict(self.state)

        def reset(self) -> dict[str, Any]:
            """Back to step 0 (RESET)."""
            self.running = False
            self.error = ""
            self._show(self._session.reset(), fresh=True)
            return dict(self.state)

        def set_rate(self, lr: float) -> None:
            """A new learning rate: a new descent from step 0, as on the page."""
            self._rebuild(lr=lr)

        # -- the front end's messages ------------------------------------------------------

        def _message(self, _widget: Any, content: dict[str, Any], _buffers: Any) -> None:
            kind = content.get("type")
            try:
                if kind == "step":
                    self.step(int(content.get("n", 1)))
                elif kind == "run":
                    self.running = True
                    self.step(RUN_CHUNK)
                elif kind == "pause":
                    self.running = False
                elif kind == "reset":
                    self.reset()
                elif kind == "settings":
                    self._rebuild(
                        **{
                            k: content[k]
                            for k in ("lr", "mode", "optimizer", "standardize")
                            if k in content
                        }
                    )
            except InvalidInputError as err:
                self.running = False
                self.error = str(err)

        def _rebuild(self, **changes: Any) -> None:
            old = self._session
            controls = {**self.controls, **changes}
            try:
                lr = float(controls["lr"])
            except (TypeError, ValueError):
                lr = math.nan
            if not (math.isfinite(lr) and lr > 0):  # in the widget's words, not Python's
                raise InvalidInputError(
                    f"the learning rate must be a number > 0, got {controls['lr']!r}: type "
                    "one such as 0.1"
                )
            controls["lr"] = lr
            settings = Settings.from_page(
                dataset=old.settings.data.dataset,
                target=old.settings.data.target,
                features=old.settings.data.features,
                upload_id=None,
                mode=controls["mode"],
                batch_size=int(old.settings.options.batch_size or 32),
                optimizer=controls["optimizer"],
                lr=lr,
                beta=0.9,
                standardize=bool(controls["standardize"]),
                seed=int(old.settings.options.random_state or 0),
            )
            self._session = _session(old.data, settings)
            self.running = False
            self.error = ""
            self.controls = controls
            self._show(self._session.state(), fresh=True)

        def _show(self, state: dict[str, Any], fresh: bool = False) -> None:
            """Publish ``state``, with the loss curve of every step so far (a state
            carries only the points of its own steps)."""
            if fresh:  # step 0: the starting loss
                self._curve = ([0], [float(state["loss"])])
            points = state.get("points") or {}
            steps, losses = self._curve
            for step, loss in zip(points.get("step", []), points.get("loss", []), strict=True):
                if not steps or step > steps[-1]:
                    steps.append(int(step))
                    losses.append(float(loss))
            if len(steps) > CURVE_POINTS:  # every other point: the curve keeps its shape
                self._curve = (steps[::2], losses[::2])
            if fresh:
                self._trail, self._trail_step = [list(map(float, self._session.theta))], 0
            path = state.get("path") or {}
            for step, theta in zip(path.get("step", []), path.get("theta", []), strict=True):
                if step > self._trail_step:  # a state's path starts where the last one ended
                    self._trail.append(theta)
                    self._trail_step = int(step)
            if len(self._trail) > CURVE_POINTS:
                self._trail = self._trail[::2]
            curve = {"step": steps, "loss": losses}
            self.state = _plain({**state, "curve": curve, "surface": self._surface()})

        def _surface(self) -> dict[str, Any]:
            """The cost over the first coefficient and b (the others at the minimum),
            framing the path so far: the playground's contour data, with the path."""
            surface = self._session.surface(self._trail, (0, -1))
            i, j = surface["indices"]
            surface["path"] = [[p[i] for p in self._trail], [p[j] for p in self._trail]]
            surface.pop("parabola", None)
            return surface

    _CLASS = PlaygroundWidget
    return PlaygroundWidget


def _mode_of(session: Session) -> str:
    size = session.settings.options.batch_size
    if size is None:
        return "full"
    return "sgd" if size == 1 else "mini"


def __getattr__(name: str) -> Any:
    if name == "PlaygroundWidget":
        return _widget_class()
    raise AttributeError(name)
