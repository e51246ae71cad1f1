"""Which rows form each step's batch.

A *step* is one parameter update, computed from one batch of rows. An *epoch* is
one pass over all rows: ``ceil(n / batch_size)`` steps. Full batch (``batch_size=n``),
mini-batch and stochastic descent (``batch_size=1``) differ only in the batches
this module hands out; the training loop is the same for all three.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from gradfit.exceptions import InvalidInputError

__all__ = ["Batches", "resolve_batch_size"]


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


class Batches:
    """The batches of one epoch after another.

    Rows are reshuffled at the start of every epoch from ``seed`` (so a seed
    reproduces a run exactly) unless ``shuffle`` is False or the batch is full.

    >>> b = Batches(5, 2, shuffle=False)
    >>> [r.tolist() for r in b.epoch()]
    [[0, 1], [2, 3], [4]]
    >>> list(Batches(5, 5).epoch())
    [None]
    """

    def __init__(self, n: int, batch_size: int, *, shuffle: bool = True, seed: int | None = None):
        self.n = n
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self._rng: np.random.Generator | None = None
        self.steps_per_epoch = -(-n // batch_size)
        self.full = batch_size >= n

    @property
    def rng(self) -> np.random.Generator:
        """The shuffling generator, made on first use (full-batch fits never shuffle)."""
        if self._rng is None:
            self._rng = np.random.default_rng(self.seed)
        return self._rng

    def epoch(self) -> Iterable[np.ndarray | None]:
        """The row indices of each batch of one epoch (None: all rows)."""
        if self.full:
            return (None,)  # a tuple, not a generator: full-batch steps are microseconds
        return self._shuffled()

    def _shuffled(self) -> Iterator[np.ndarray]:
        order = self.rng.permutation(self.n) if self.shuffle else np.arange(self.n)
        for start in range(0, self.n, self.batch_size):
            yield order[start : start + self.batch_size]
