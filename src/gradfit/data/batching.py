"""Which rows form each step's batch.

A *step* is one parameter update, computed from one batch of rows. An *epoch* is
one pass over all rows: ``ceil(n / batch_size)`` steps. Full batch (``batch_size=n``),
mini-batch and stochastic descent (``batch_size=1``) differ only in the batches
this module hands out; the training loop is the same for all three.

The order of an epoch is a pure function of ``(seed, epoch)``: a paused descent
resumes on exactly the batches it would have met, in any process.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, NamedTuple, Union

import numpy as np

if TYPE_CHECKING:
    from gradfit.data.source import Batch

from gradfit.exceptions import InvalidInputError

__all__ = [
    "BatchStream",
    "Block",
    "MixedRows",
    "cut",
    "epoch_order",
    "new_seed",
    "resolve_batch_size",
    "steps_per_epoch",
    "streamed_blocks",
]


class MixedRows(NamedTuple):
    """A shuffle buffer's rows as read, and the mixed order in which they are visited.

    The mixed rows are never gathered as a whole (a random gather of a buffer costs
    more than descending on it): a batch gathers its own rows (``cut``,
    ``BatchStream``), and the compiled kernels walk ``order`` over ``rows`` directly.
    """

    rows: Batch
    order: np.ndarray

    @property
    def n_rows(self) -> int:
        return len(self.order)


# What a stream's ``blocks`` yield: rows in their order, or rows with an order of visits.
Block = Union["Batch", MixedRows]


def block_rows(block: Block) -> int:
    """How many rows ``block`` visits."""
    return block.n_rows if isinstance(block, MixedRows) else len(block.y)


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


def streamed_blocks(
    chunks: Iterable[Batch], batch_size: int, *, buffer: int, rng: np.random.Generator | None
) -> Iterator[Block]:
    """Rows streamed in order, mixed by a buffer, in blocks of whole batches.

    With ``rng``, rows gather in a buffer of at least ``buffer`` rows, which is permuted;
    its first rows, a whole number of batches, are the next block (``MixedRows``: the
    buffer and its permuted order), and the rows left over (fewer than a batch) wait
    for the next buffer-full. Without it, blocks are
    consecutive rows. Every block but the stream's last is a whole number of batches:
    cut into ``batch_size`` rows (``cut``), an epoch of ``n`` rows has
    ``ceil(n / batch_size)`` batches.

    >>> from gradfit.data.source import Batch
    >>> parts = [Batch(np.arange(3.0)[:, None], np.arange(3.0), None)] * 3
    >>> [block_rows(b) for b in streamed_blocks(parts, 4, buffer=5, rng=None)]
    [4, 4, 1]
    >>> [block_rows(b) for b in streamed_blocks(parts, 2, buffer=5, rng=np.random.default_rng(0))]
    [6, 3]
    """
    size = max(buffer, batch_size) if rng is not None else batch_size
    pending: list[Batch] = []
    held = 0
    for chunk in chunks:
        pending.append(chunk)
        held += len(chunk.y)
        if held < size:
            continue
        mixed = _mix(pending, held, rng)
        keep = held - held % batch_size
        yield _first(mixed, keep) if keep < held else mixed
        pending = [_take(mixed, slice(keep, held))] if keep < held else []
        held -= keep
    if held:
        yield _mix(pending, held, rng)


def cut(blocks: Iterable[Block], batch_size: int) -> Iterator[Batch]:
    """The batches of ``batch_size`` rows that blocks of whole batches hold, in order."""
    for block in blocks:
        for start in range(0, block_rows(block), batch_size):
            yield _take(block, slice(start, start + batch_size))


class BatchStream:
    """One epoch's batches from blocks of whole batches: batch by batch (``next``), or
    a block at a time for code that walks its batches itself (``block``, ``advance``).

    >>> from gradfit.data.source import Batch
    >>> rows = Batch(np.arange(5.0)[:, None], np.arange(5.0), None)
    >>> stream = BatchStream(iter([rows]), 2)
    >>> next(stream).y.tolist(), stream.block()[1:]
    ([0.0, 1.0], (1, 2))
    """

    def __init__(self, blocks: Iterator[Block], batch_size: int) -> None:
        self._blocks = blocks
        self.batch_size = batch_size
        self._block: Block | None = None
        self._at = 0  # batches of the current block already taken
        self._count = 0

    def block(self) -> tuple[Block, int, int]:
        """The current block (the next one when this one is used up), the index of its
        next batch and how many batches it has left."""
        if self._block is None or self._at == self._count:
            self._block = next(self._blocks)
            self._at = 0
            self._count = -(-block_rows(self._block) // self.batch_size)
        return self._block, self._at, self._count - self._at

    def advance(self, batches: int) -> None:
        """Mark ``batches`` of the current block as taken."""
        self._at += batches

    def __iter__(self) -> BatchStream:
        return self

    def __next__(self) -> Batch:
        block, at, _ = self.block()
        self._at += 1
        return _take(block, slice(at * self.batch_size, (at + 1) * self.batch_size))

    def close(self) -> None:
        """End the stream (a file's reader, a cluster's partitions)."""
        close = getattr(self._blocks, "close", None)
        if close is not None:
            close()


def _mix(parts: list[Batch], held: int, rng: np.random.Generator | None) -> Block:
    from gradfit.data.source import Batch

    if len(parts) == 1:
        whole = parts[0]
    else:
        weight = None if parts[0].weight is None else np.concatenate([p.weight for p in parts])
        # rows after rows (C order), as batches and the kernels read them: one copy
        X = np.empty((held, parts[0].X.shape[1]))
        np.concatenate([p.X for p in parts], out=X)
        whole = Batch(X, np.concatenate([p.y for p in parts]), weight)
    return whole if rng is None else MixedRows(whole, rng.permutation(held))


def _first(block: Block, k: int) -> Block:
    """The first ``k`` rows ``block`` visits (no copy)."""
    if isinstance(block, MixedRows):
        return MixedRows(block.rows, block.order[:k])
    return _take(block, slice(0, k))


def _take(block: Block, idx: np.ndarray | slice) -> Batch:
    """The rows ``idx`` of the rows ``block`` visits, in that order."""
    if isinstance(block, MixedRows):
        return _take(block.rows, block.order[idx])
    weight = None if block.weight is None else block.weight[idx]
    return type(block)(block.X[idx], block.y[idx], weight)
