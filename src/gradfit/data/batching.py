"""Which rows form each step's batch.

A *step* is one parameter update, computed from one batch of rows. An *epoch* is
one pass over all rows: ``ceil(n / batch_size)`` steps. Full batch (``batch_size=n``),
mini-batch and stochastic descent (``batch_size=1``) differ only in the batches
this module hands out; the training loop is the same for all three.

The order of an epoch is a pure function of ``(seed, epoch)``: a paused descent
resumes on exactly the batches it would have met, in any process.
"""

from __future__ import annotations

import numpy as np

from gradfit.exceptions import InvalidInputError

__all__ = ["epoch_order", "new_seed", "resolve_batch_size", "steps_per_epoch"]


def resolve_batch_size(batch_size: int | None, n: int) -> int:
    """Return the batch size in rows; ``None`` means full batch.

    >>> resolve_batch_size(None, 10), resolve_batch_size(32, 10)
    (10, 10)
    """
    if batch_size is None:
        return n
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise InvalidInputError(
            f"batch_size must be a whole number of rows or None, got {batch_size!r}: "
            f"use None for full batch, 1 for stochastic, or k for mini-batches of k rows"
        )
    if batch_size < 1:
        raise InvalidInputError(
            f"batch_size must be at least 1, got {batch_size}: "
            f"use None for full batch, 1 for stochastic, or k for mini-batches of k rows"
        )
    return min(int(batch_size), n)


def steps_per_epoch(n: int, batch_size: int) -> int:
    """``ceil(n / batch_size)``.

    >>> steps_per_epoch(5, 2)
    3
    """
    return -(-n // batch_size)


def new_seed(random_state: int | None) -> int:
    """The seed a run keeps: ``random_state`` itself, or fresh entropy drawn once."""
    if random_state is None:
        return int(np.random.SeedSequence().entropy % 2**63)  # type: ignore[operator]
    return int(random_state)


def epoch_order(n: int, *, shuffle: bool, seed: int, epoch: int) -> np.ndarray:
    """The order in which epoch ``epoch`` visits the rows; batch ``k`` is the ``k``-th slice.

    >>> epoch_order(5, shuffle=False, seed=0, epoch=3).tolist()
    [0, 1, 2, 3, 4]
    >>> a = epoch_order(6, shuffle=True, seed=7, epoch=1)
    >>> bool((a == epoch_order(6, shuffle=True, seed=7, epoch=1)).all())
    True
    >>> bool((a == epoch_order(6, shuffle=True, seed=7, epoch=2)).all())
    False
    """
    if not shuffle:
        return np.arange(n)
    return np.random.default_rng([seed, epoch]).permutation(n)
