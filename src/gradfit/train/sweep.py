"""One data set, many learning rates: the sweep behind the rate plots, the demo's table
and the playground's "fewer steps?" answer."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from gradfit.exceptions import DivergenceError
from gradfit.model.objective import Objective
from gradfit.train.events import Progress
from gradfit.train.history import History
from gradfit.train.loop import run
from gradfit.train.options import FitOptions
from gradfit.train.result import FitResult

__all__ = ["SweepPoint", "sweep"]


class SweepPoint(NamedTuple):
    """The fit at one rate: its result, or the divergence that stopped it."""

    lr: float
    result: FitResult | None
    error: DivergenceError | None

    @property
    def history(self) -> History:
        """What was recorded, up to the end or to the divergence."""
        if self.result is not None:
            return self.result.history
        assert self.error is not None and self.error.history is not None
        return self.error.history

    @property
    def diverged(self) -> bool:
        return self.error is not None


def sweep(
    objective: Objective,
    rates: Iterable[float],
    options: FitOptions | None = None,
    *,
    until: Callable[[Progress], bool | None] | None = None,
) -> list[SweepPoint]:
    """Fit ``objective`` once per rate with the same ``options``; divergence is a result.

    The objective's statistics and curvature are computed once for all rates.
    ``until`` is each fit's callback (return True to stop it).

    Examples
    --------
    >>> from gradfit.data import ArraySource, make_article_b
    >>> d = make_article_b(100)
    >>> points = sweep(Objective(ArraySource(d.X, d.y)), [0.1, 10.0], FitOptions(max_iter=50))
    >>> [(p.lr, p.diverged) for p in points]
    [(0.1, False), (10.0, True)]
    """
    options = options or FitOptions()
    out = []
    for lr in rates:
        try:
            result = run(objective, options.replace(lr=float(lr)), callback=until)
            out.append(SweepPoint(float(lr), result, None))
        except DivergenceError as err:
            out.append(SweepPoint(float(lr), None, err))
    return out
