"""Errors raised by gradfit.

Every error names the problem and the fix. Input errors subclass ``ValueError`` so
that code written for NumPy or scikit-learn catches them as it always has.
"""

from __future__ import annotations

from typing import Any


class GradfitError(Exception):
    """Base class of every error gradfit raises on purpose."""


class InvalidInputError(GradfitError, ValueError):
    """Data or a parameter that gradfit cannot use; the message says how to fix it.

    ``option`` names the option at fault, when one is (front ends name it their way:
    the command line as its flag).
    """

    def __init__(self, message: str, *, option: str | None = None) -> None:
        super().__init__(message)
        self.option = option


class DivergenceError(GradfitError, ArithmeticError):
    """Gradient descent diverged: the loss grew without bound or became non-finite.

    The fit stops at the step where this was seen; no NaN or infinite coefficients
    are ever returned. The attributes carry the diagnosis shown in the message.

    Attributes
    ----------
    step : int
        The step at which divergence was detected.
    lr : float
        The learning rate of that step.
    stable_lr : float or None
        The largest stable constant learning rate for plain gradient descent, ``2 / L``.
    suggested_lr : float or None
        A rate that converges on this data.
    badly_scaled : list of str
        Features whose scale differs from the others by orders of magnitude.
    history : gradfit.train.History or None
        What was recorded up to the divergence.
    """

    def __init__(
        self,
        message: str,
        *,
        step: int,
        lr: float,
        stable_lr: float | None = None,
        suggested_lr: float | None = None,
        badly_scaled: list[str] | None = None,
        history: Any = None,
    ) -> None:
        super().__init__(message)
        self.step = step
        self.lr = lr
        self.stable_lr = stable_lr
        self.suggested_lr = suggested_lr
        self.badly_scaled = badly_scaled or []
        self.history = history


class GradfitWarning(UserWarning):
    """Base class of gradfit's warnings: something about a result worth knowing."""


class ConvergenceWarning(GradfitWarning):
    """A fit stopped before reaching the least-squares solution.

    The message says how far it got (digits reached, or the gradient relative to its
    start) and which setting gets the rest.
    """


class RankDeficiencyWarning(GradfitWarning):
    """The least-squares solution is not unique (collinear columns, or fewer rows than
    coefficients): the message says the rank and which minimiser is returned."""


class MissingExtraError(GradfitError, ImportError):
    """An optional dependency is missing; the message gives the pip command."""


def require(module: str, extra: str) -> Any:
    """Import an optional dependency or explain which extra installs it.

    >>> require("math", "core").sqrt(4.0)
    2.0
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"this feature needs {module.split('.')[0]!r}, which is not installed: "
            f"pip install 'gradfit[{extra}]'"
        ) from exc
