"""What the page chose, turned into the engine's own values: data and ``FitOptions``.

The page speaks of a mode (full batch, mini-batch, stochastic), a batch size, an
update rule, a learning rate, beta, standardization and a seed. A session runs with
one ``FitOptions`` made from them here, checked by ``FitOptions`` itself; the same
object steps the session and is printed by "export as code", so the exported code
runs exactly what the page ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from gradfit.optim.registry import get_rule
from gradfit.train.options import FitOptions
from gradfit.web.datasets import DataChoice

__all__ = ["MODES", "SESSION_OPTIONS", "Mode", "Settings", "rows_per_step"]

Mode = Literal["full", "mini", "sgd"]
MODES: tuple[Mode, ...] = ("full", "mini", "sgd")

# A session stops only when the user stops stepping, at convergence (a gradient norm
# of 1e-12) or at divergence: no epoch budget and no loss-change test, so a long
# session runs as far as the user takes it. Every step is recorded for the charts.
SESSION_OPTIONS: dict[str, Any] = {
    "max_iter": 10**9,
    "tol": 0.0,
    "gtol": 1e-12,
    "shuffle": True,
    "history_stride": 1,
}


def rows_per_step(mode: Mode, batch_size: int) -> int | None:
    """The batch size ``fit`` takes for ``mode`` (None: all rows).

    >>> rows_per_step("full", 32), rows_per_step("mini", 32), rows_per_step("sgd", 32)
    (None, 32, 1)
    """
    return {"full": None, "mini": batch_size, "sgd": 1}[mode]


@dataclass(frozen=True)
class Settings:
    """A session's data and the options it runs with.

    Attributes
    ----------
    data : DataChoice
        Which rows.
    options : FitOptions
        How the descent runs (without ``max_steps``: each request sets its own).
    """

    data: DataChoice
    options: FitOptions

    @classmethod
    def from_page(
        cls,
        *,
        dataset: str,
        target: str | None,
        features: Sequence[str] | None,
        upload_id: str | None,
        mode: Mode,
        batch_size: int,
        optimizer: str,
        lr: float,
        beta: float,
        standardize: bool,
        seed: int,
        fit_intercept: bool = True,
    ) -> Settings:
        """The settings of the page's controls.

        Raises
        ------
        InvalidInputError
            From ``FitOptions``: an option value it does not accept (``.option`` names it).

        Examples
        --------
        >>> s = Settings.from_page(dataset="davis", target=None, features=None,
        ...     upload_id=None, mode="mini", batch_size=16, optimizer="gd", lr=0.1,
        ...     beta=0.9, standardize=True, seed=3)
        >>> s.options.batch_size, s.options.beta, s.options.random_state
        (16, None, 3)
        """
        rule = get_rule(optimizer)
        options = FitOptions(
            lr=lr,
            optimizer=optimizer,
            # the page always sends beta; FitOptions refuses it for rules that ignore it
            beta=beta if rule.uses_beta else None,
            batch_size=rows_per_step(mode, batch_size),
            standardize=standardize,
            fit_intercept=fit_intercept,
            random_state=seed,
            **SESSION_OPTIONS,
        )
        data = DataChoice(dataset, target, tuple(features) if features else None, upload_id)
        return cls(data, options)
