"""``TrainState``: where a descent stands, as a plain value.

Everything needed to take the next step and nothing else: the parameters (in
descent coordinates, with the scaling that defines them), the update rule's state,
the step and epoch counters, the position inside the epoch, the seed that orders
every epoch's batches, and the stopping rules' memory. It holds no data, no
iterator and no closure, so it can be pickled, sent to another process and resumed
there, or resumed twice with the same result.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from gradfit.data.scaling import Scaling
from gradfit.train.stopping import StopMemory

__all__ = ["TrainState"]


class TrainState(NamedTuple):
    """A paused or finished descent.

    Attributes
    ----------
    theta : ndarray
        ``[w, b]`` in descent coordinates (see ``scaling``).
    opt_state : Any
        The update rule's state (NamedTuples of arrays).
    rule : str
        Name of the update rule that made ``opt_state``.
    scaling : Scaling
        The coordinates ``theta`` lives in.
    step : int
        Parameter updates so far (schedules count these).
    epoch : int
        Epochs completed in this run.
    position : int
        Batches done in epoch ``epoch`` (0 at its start; ``steps_per_epoch`` when paused
        right after its last batch, before the epoch boundary's check).
    seed : int
        Batch order of epoch ``e`` is ``epoch_order(n, seed=seed, epoch=e)``.
    n_rows : int
        Rows of the data it descends on.
    batch_size, shuffle : int, bool
        How the rows are batched: a paused descent resumes only with the same.
    stopping : StopMemory or None
        The stopping rules' memory while paused; None when the run ended, so that
        resuming begins a new run (new epoch count, new start loss).
    anchor : ndarray or None
        Where the current epoch began, for a rule with a control variate (SVRG).
    """

    theta: np.ndarray
    opt_state: Any
    rule: str
    scaling: Scaling
    step: int
    epoch: int
    position: int
    seed: int
    n_rows: int
    stopping: StopMemory | None
    batch_size: int = 0
    shuffle: bool = True
    anchor: np.ndarray | None = None

    @property
    def paused(self) -> bool:
        """True when a fit stopped by ``max_steps`` can resume exactly where it stood."""
        return self.stopping is not None

    def new_run(self) -> TrainState:
        """The same parameters and rule state, as the start of a new run (a new pass)."""
        return self._replace(epoch=0, position=0, stopping=None)
