"""What the page chose, turned into the engine's own values: data and ``FitOptions``.

The page speaks of a mode (full batch, mini-batch, stochastic), a batch size, an
update rule, a learning rate, beta, a penalty and its strength, a loss, standardization
and a seed. A session runs with one ``FitOptions`` made from them here, checked by
``FitOptions`` itself; the same object steps the session and is printed by "export as
code", so the exported code runs exactly what the page ran.

``FitOptions`` says what it refuses in Python's words (``optimizer='momentum'``);
``Settings.from_page`` says it again in the page's (the controls' labels), for the
combinations the page's controls can make.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from gradfit.exceptions import InvalidInputError
from gradfit.model.penalty import Penalty
from gradfit.optim.registry import RULES, UpdateRule, get_rule, proximal_rule_names
from gradfit.train.options import DEFAULT_ALPHA, DEFAULT_EPSILON, DEFAULT_L1_RATIO, FitOptions
from gradfit.web.datasets import DataChoice

__all__ = [
    "MODES",
    "MODE_NAMES",
    "PENALTY_NAMES",
    "SESSION_OPTIONS",
    "Mode",
    "Settings",
    "rows_per_step",
]

Mode = Literal["full", "mini", "sgd"]
MODES: tuple[Mode, ...] = ("full", "mini", "sgd")
# What the page's controls call the engine's values (index.html's option labels).
MODE_NAMES = {"full": "full batch", "mini": "mini-batch", "sgd": "stochastic (1 row)"}
PENALTY_NAMES = {None: "none", "l2": "ridge (L2)", "l1": "lasso (L1)", "elasticnet": "elastic net"}

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
        penalty: Literal["l2", "l1", "elasticnet"] | None = None,
        alpha: float = DEFAULT_ALPHA,
        l1_ratio: float = DEFAULT_L1_RATIO,
        loss: Literal["squared_error", "huber"] = "squared_error",
        epsilon: float = DEFAULT_EPSILON,
    ) -> Settings:
        """The settings of the page's controls.

        The page may send every control's value; those that only count with another
        choice (beta with momentum, the strength with a penalty, the L1 share with the
        elastic net, epsilon with Huber's loss) reach ``FitOptions`` only with it.

        Raises
        ------
        InvalidInputError
            From ``FitOptions``: an option value it does not accept (``.option`` names it),
            in the page's words where the page's controls made the combination.

        Examples
        --------
        >>> s = Settings.from_page(dataset="davis", target=None, features=None,
        ...     upload_id=None, mode="mini", batch_size=16, optimizer="gd", lr=0.1,
        ...     beta=0.9, standardize=True, seed=3)
        >>> s.options.batch_size, s.options.beta, s.options.random_state
        (16, None, 3)
        """
        rule = get_rule(optimizer)
        try:
            options = FitOptions(
                lr=lr,
                optimizer=optimizer,
                # the page always sends beta, and an API client may send the penalty's and
                # the loss's numbers with any choice: each goes on only with its own
                # choice (FitOptions refuses a value that would have no effect)
                beta=beta if rule.uses_beta else None,
                penalty=penalty,
                alpha=alpha if penalty is not None else DEFAULT_ALPHA,
                l1_ratio=l1_ratio if penalty == "elasticnet" else DEFAULT_L1_RATIO,
                loss=loss,
                epsilon=epsilon if loss == "huber" else DEFAULT_EPSILON,
                batch_size=rows_per_step(mode, batch_size),
                standardize=standardize,
                fit_intercept=fit_intercept,
                random_state=seed,
                **SESSION_OPTIONS,
            )
        except InvalidInputError as err:
            raise _in_page_words(err, rule, mode, Penalty(penalty, alpha, l1_ratio)) from None
        data = DataChoice(dataset, target, tuple(features) if features else None, upload_id)
        return cls(data, options)


def _listed(names: Sequence[str]) -> str:
    """``'gd', 'svrg' or 'fista'``: names as the page's lists show them."""
    quoted = [repr(n) for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _in_page_words(
    err: InvalidInputError, rule: UpdateRule, mode: Mode, penalty: Penalty
) -> InvalidInputError:
    """``FitOptions``'s refusal of a combination of the page's controls, said with their
    labels; other refusals as they are (the page sends no value it could refuse alone).

    The engine decided; this only recognises which of its rules it applied, by the
    option it names and the registry's own attributes.
    """
    if err.option != "optimizer":
        return err
    if not penalty.smooth_in_w and not (rule.proximal or rule.uses_geometry):
        able = proximal_rule_names()
        return InvalidInputError(
            f"The update rule {rule.name!r} cannot fit the {PENALTY_NAMES[penalty.name]} "
            f"penalty: its L1 part has a kink at 0 that needs a proximal step (the soft "
            f"threshold), and {rule.name!r} takes none. Choose the update rule "
            f"{_listed(able)}, or the penalty 'none' or 'ridge (L2)'.",
            option="optimizer",
        )
    if rule.full_batch_only and mode != "full":
        others = [
            n
            for n, r in RULES.items()
            if not (r.line_search or r.full_batch_only)
            and (penalty.smooth_in_w or r.proximal or r.uses_geometry)
        ]
        return InvalidInputError(
            f"The update rule {rule.name!r} steps on all the rows at once and has no "
            f"{MODE_NAMES[mode]} form: choose the mode 'full batch', or the update rule "
            f"{_listed(others)}.",
            option="optimizer",
        )
    return err
