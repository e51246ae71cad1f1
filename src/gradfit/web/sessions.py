"""Playground sessions: one descent per browser tab, stepped by the engine itself.

A ``Session`` keeps the ``Objective`` of its data and the ``FitOptions`` the page
chose; ``step(n)`` resumes the paused descent for ``n`` steps with
``gradfit.train.run`` (``max_steps=n`` from the kept ``TrainState``), so that every
number the page shows comes from the same loop the library runs. ``state`` is what
the page shows after each request. No web framework here: ``gradfit.web.app`` turns
these objects into HTTP.

What the page counts, one way throughout: ``step`` is the number of steps taken (the
engine's ``n_steps``); a success is the first checked step count whose parameters
reach the minimum, and RUN (``until_success``) stops right there, so that the counter
and the success box agree; the explanation's ``step`` is the engine's index of the last
step, from 0 (the page says so). A descent that diverges stops at the step where the
engine saw it, so that a shared link replays to the same step and the same words.

With a penalty or Huber's loss the objective is ``objective_for``'s
``RegularizedObjective``: the loss shown, the minimum to reach and the contours are
its own (the penalty included), and the least-squares answer is kept beside it for
the contour plot to show how far the penalty moved the minimum.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradfit.data.batching import resolve_batch_size
from gradfit.data.source import ArraySource
from gradfit.exceptions import DivergenceError
from gradfit.explain import explain_record
from gradfit.model import Objective
from gradfit.surface import optimum
from gradfit.train import FitResult, History, StepRecord, TrainState, run
from gradfit.train.advice import stable_lr
from gradfit.train.fit import objective_for
from gradfit.web.advice import divergence_message, outlook, success_view
from gradfit.web.datasets import SessionData, load_data
from gradfit.web.settings import Settings
from gradfit.web.uploads import Upload
from gradfit.web.views import (
    data_view,
    history_points,
    kink_view,
    kinked,
    parabola_view,
    path_points,
    surface_view,
)
from gradfit.web.yardstick import Yardstick, checkpoint, fewest_steps

__all__ = ["Session"]


@dataclass
class Session:
    """One descent, paused between requests.

    Attributes
    ----------
    settings : Settings
        The data chosen and the options the descent runs with.
    data : SessionData
        The rows, and where they came from.
    objective : Objective
        The loss over those rows, built once for the session.
    yardstick : Yardstick
        The minimum of ``objective`` the session is measured against.
    id : str
    result : FitResult or None
        The last run (None before the first step): its ``state`` resumes the descent.
    status : {'ready', 'running', 'converged', 'diverged'}
    message : str
        Why the descent stopped, once it has.
    last_record : StepRecord or None
        The last step taken, which the page explains.
    success_step : int or None
        The first checked step that reached the minimum (``Yardstick.first_success``).
    lock : threading.Lock
        Held by one request at a time.
    touched : float
        When the session was last used (``time.monotonic``).
    """

    settings: Settings
    data: SessionData
    objective: Objective
    yardstick: Yardstick
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    result: FitResult | None = None
    status: str = "ready"
    message: str = ""
    last_record: StepRecord | None = None
    success_step: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    touched: float = field(default_factory=time.monotonic)
    _least_squares: np.ndarray | None = field(default=None, repr=False)
    _fewest: dict[str, Any] | None = field(default=None, repr=False)

    @classmethod
    def create(cls, settings: Settings, uploads: Mapping[str, Upload]) -> Session:
        """A session at ``w = 0, b = 0`` on the data ``settings`` choose.

        Raises
        ------
        InvalidInputError
            The data cannot be loaded as chosen (see ``gradfit.web.datasets.load_data``).
        """
        data = load_data(settings.data, uploads)
        d = data.dataset
        source = ArraySource(d.X, d.y, feature_names=d.feature_names, target_name=d.target_name)
        options = settings.options
        objective = objective_for(source, options)
        return cls(settings, data, objective, Yardstick.of(objective))

    # -- stepping ---------------------------------------------------------------------

    @property
    def step_count(self) -> int:
        return 0 if self.result is None else self.result.n_steps

    @property
    def theta(self) -> np.ndarray:
        """``[w, b]`` in descent coordinates."""
        return np.zeros(self.objective.n_params) if self.result is None else self.result.theta

    @property
    def loss(self) -> float:
        return self.yardstick.start_loss if self.result is None else self.result.loss

    @property
    def regularized(self) -> bool:
        """A penalty or Huber's loss: not least squares."""
        return self.settings.options.regularized

    @property
    def least_squares(self) -> np.ndarray | None:
        """The least-squares ``theta`` of the same rows and coordinates, beside a penalty's
        or Huber's minimum (None for least squares itself: that is the minimum)."""
        if not self.regularized:
            return None
        if self._least_squares is None:
            plain = Objective(
                self.objective.source,
                scaling=self.objective.scaling,
                path="stats" if self.objective.path == "stats" else "direct",
                fit_intercept=self.objective.fit_intercept,
            )
            # the answer a least-squares session is measured against (its Yardstick's)
            self._least_squares = optimum(plain)[0]
        return self._least_squares

    @property
    def batch_size(self) -> int:
        """Rows per step."""
        return resolve_batch_size(self.settings.options.batch_size, self.objective.n_rows)

    @property
    def every(self) -> int:
        """Every how many steps the full-data loss is checked and plotted."""
        return checkpoint(self.objective.n_rows, self.batch_size)

    def step(self, n: int = 1, until_success: bool = False) -> dict[str, Any]:
        """Take ``n`` steps (fewer if the descent converges or diverges first, or, with
        ``until_success``, first reaches the minimum).

        A descent that diverges stops at the step where the engine saw it diverge, as
        the engine's own ``run(max_steps=...)`` to that step leaves it: a session
        replayed to that many steps (a shared link) is the same session, diverged.

        Returns
        -------
        dict
            The new ``state``, with the points recorded by these steps.
        """
        if self.status in ("diverged", "converged"):
            return self.state(since=self.step_count)
        since = self.step_count
        paused = None if self.result is None else self.result.state
        try:
            result, records = self._run(paused, n)
        except DivergenceError as err:
            return self._diverged(err, since, paused)
        history = result.history
        if self.success_step is None:
            found = self.yardstick.first_success(self.objective, history, self.every)
            if found is not None and until_success and since < found < result.n_steps:
                # RUN stops where the minimum is reached: the same descent, to that step
                result, records = self._run(paused, found - since)
                history = result.history
            self.success_step = found
        self.result = result
        self.last_record = records[-1] if records else self.last_record
        if result.stop.code != "max_steps":
            self.status, self.message = "converged", str(result.stop)
        else:
            self.status = "running"
            self._peek()
        return self.state(since=since, history=history)

    def _run(self, paused: TrainState | None, n: int) -> tuple[FitResult, list[StepRecord]]:
        """``n`` steps of the engine's loop from ``paused`` (None: the start)."""
        records: list[StepRecord] = []
        options = self.settings.options.replace(max_steps=n)
        return run(self.objective, options, paused, on_step=records.append), records

    def _diverged(
        self, err: DivergenceError, since: int, paused: TrainState | None
    ) -> dict[str, Any]:
        """Stop at the step where the engine saw the descent diverge, and say why."""
        history = err.history
        if err.step > since:
            try:  # the same descent, paused at that step (what a replay of it reaches)
                self.result, records = self._run(paused, err.step - since)
                history = self.result.history
                self.last_record = records[-1] if records else self.last_record
            except DivergenceError:  # seen earlier on the way there: show where it was
                pass
        self._say_diverged(err)
        return self.state(since=since, history=history)

    def _say_diverged(self, err: DivergenceError) -> None:
        y = self.yardstick
        self.status = "diverged"
        self.message = divergence_message(
            err, self.objective, self.settings.options, self.loss, y.start_loss
        )

    def _peek(self) -> None:
        """Whether the engine would see divergence right where the descent is paused (the
        check it makes before the next step): then it has diverged here."""
        assert self.result is not None
        if self.loss <= self.yardstick.start_loss:  # below the start: nothing to see
            return
        try:
            run(
                self.objective,
                self.settings.options.replace(max_steps=1),
                self.result.state,
                on_step=lambda record: None,  # the loop that watches every step
            )
        except DivergenceError as err:
            if err.step == self.step_count:
                self._say_diverged(err)

    def reset(self) -> dict[str, Any]:
        """Back to ``w = 0, b = 0`` and step 0, with the same data and options."""
        self.result, self.status, self.message = None, "ready", ""
        self.last_record, self.success_step = None, None
        return self.state(since=0)

    def rate_theory(self, rate: float | None = None) -> dict[str, Any] | None:
        """What the curvature says of the chosen rate (or of ``rate``), for full-batch plain
        descent on a quadratic (the slider's marks): the stable limit ``2/L``, the best
        rate ``2/(mu + L)``, the steps to shrink the error 1e8-fold at the rate, and
        whether it is at the edge of stability (within 5% of ``2/L`` or past it)."""
        options = self.settings.options
        quadratic = self.objective.smooth and self.objective.quadratic_loss
        full = options.batch_size is None
        if not (full and options.rule.name == "gd" and quadratic):
            return None
        lr = options.lr_value if rate is None else rate
        if not isinstance(lr, (int, float)):
            return None
        c = self.objective.curvature
        steps = c.steps_to_tolerance(float(lr), 1e-8)
        return {
            "stable_lr": c.max_stable_lr,
            "best_lr": c.best_lr,
            "steps": None if steps is None or not np.isfinite(steps) else int(steps),
            "edge": float(lr) >= 0.95 * c.max_stable_lr,
        }

    # -- what the page shows -----------------------------------------------------------

    def state(self, since: int = 0, history: History | None = None) -> dict[str, Any]:
        """Where the descent stands, the points recorded from step ``since`` on, the last
        step explained, the data chart, and what more steps would do."""
        d = self.data.dataset
        coef = self.objective.scaling.to_original(self.theta)
        options = self.settings.options
        out: dict[str, Any] = {
            "session": self.id,
            "step": self.step_count,
            "status": self.status,
            "message": self.message,
            "loss": self.loss,
            "best_loss": self.yardstick.best_loss,
            "w": coef[:-1].tolist(),
            "b": float(coef[-1]),
            "theta": self.theta.tolist(),
            "feature_names": d.feature_names,
            "target": d.target_name,
            "success": None if self.success_step is None else self._success(),
            # the full-data loss every `every` steps (the chart), and the path (contours)
            "every": self.every,
            "points": history_points(self.objective, history, since, self.every),
            "path": path_points(history, since),
            "explain": None,
            # what is minimised: 'least squares', or "Huber's loss (epsilon=2) + lasso ..."
            "objective": self.objective.describe() or "least squares",
            # the coefficients at 0 on the L1 kink, now and at the minimum (None: no kink)
            "kinks": kink_view(
                self.objective, self.theta if self.step_count else None, self.yardstick.star
            ),
            "outlook": None,
            "theory": self.rate_theory(),
        }
        if self.last_record is not None:
            out["explain"] = explain_record(
                self.objective, self.last_record, options.rule, d.target_name
            ).to_dict()
        if self.status == "diverged":
            stable = stable_lr(self.objective, options.rule, options.beta_value, self.batch_size)
            if stable is not None:  # None: no bound is known for this rule (Adam)
                out["stable_lr"] = stable
        elif self.status != "converged" and self.success_step is None:
            y = self.yardstick
            out["outlook"] = outlook(
                self.objective, options, self.loss, y.best_loss, y.allowed_excess
            )
        out["view"] = data_view(d.X, d.y, coef)
        return out

    def fewest(self) -> dict[str, Any]:
        """``yardstick.fewest_steps`` of this session (searched once)."""
        if self._fewest is None:
            self._fewest = fewest_steps(self.objective, self.yardstick)
        return self._fewest

    def _success(self) -> dict[str, Any]:
        assert self.success_step is not None
        answer = self.objective.answer if self.regularized else "the least-squares minimum"
        soft = bool(kinked(self.objective).any())
        return success_view(self.success_step, self.fewest(), answer, soft_threshold=soft)

    def surface(
        self, path: Sequence[Sequence[float]] | None = None, coefs: Sequence[int] = (0, -1)
    ) -> dict[str, Any]:
        """The objective over two coefficients (others at the optimum) around ``path``, in
        descent coordinates; without a path, around the way from the start to here.

        ``coefs`` index ``[w_0, ..., w_{d-1}, b]``; -1 is the intercept.
        """
        trail = path or np.array([self.theta, np.zeros(self.objective.n_params)])
        star = self.yardstick.star
        out = surface_view(self.objective, star, trail, coefs, self.least_squares)
        # the parabola over the x axis' coefficient, cut through the last step's start
        record = self.last_record
        if record is None or record.step != self.step_count - 1:
            out["parabola"] = parabola_view(self.objective, self.theta, star, coefs[0])
        else:
            out["parabola"] = parabola_view(
                self.objective, record.theta, star, coefs[0], record.theta_next
            )
        return out

    def preview(self, lr: float, n: int) -> dict[str, Any]:
        """The path the same descent would take at rate ``lr`` for ``n`` steps from the
        start (the rate slider, while it moves), without touching this session.

        Returns
        -------
        dict
            ``theta`` (every step's, from the start), ``step``, ``loss`` and
            ``loss_step`` (the checked steps' full-data loss, as ``points``), ``diverged``
            (the step where the engine saw it diverge, or None) and ``theory`` (as
            ``rate_theory``, at ``lr``).
        """
        options = self.settings.options.replace(lr=lr, max_steps=n)
        diverged = None
        try:
            history = run(self.objective, options).history
        except DivergenceError as err:
            history, diverged = err.history, err.step
        points = history_points(self.objective, history, 0, self.every)
        return {
            **path_points(history, 0),
            "loss": points["loss"],
            "loss_step": points["step"],
            "diverged": diverged,
            "theory": self.rate_theory(lr),
        }
