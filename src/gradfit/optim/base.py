"""Update rules as pairs of pure functions, and the one place parameters change.

An update rule is a ``GradientTransformation``: ``init(params) -> state`` and
``update(grads, state, params) -> (updates, state)``. State lives in NamedTuples,
never hidden in ``self``, so a run can be replayed and explained step by step.
Rules compose with ``chain``; ``apply_updates`` is the only function that moves
the parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

__all__ = ["GradientTransformation", "apply_updates", "chain"]

State = Any


class GradientTransformation(NamedTuple):
    """``init`` and ``update`` of one update rule."""

    init: Callable[[np.ndarray], State]
    update: Callable[[np.ndarray, State, np.ndarray], tuple[np.ndarray, State]]


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply transformations one after another; the state is the tuple of their states.

    >>> from gradfit.optim import scale_by_learning_rate, constant
    >>> sgd = chain(scale_by_learning_rate(constant(0.1)))
    >>> u, _ = sgd.update(np.array([1.0, -2.0]), sgd.init(np.zeros(2)), np.zeros(2))
    >>> u.tolist()
    [-0.1, 0.2]
    """

    if len(transforms) == 1:  # nothing to chain: skip a layer of calls on every step
        return transforms[0]

    def init(params: np.ndarray) -> tuple[State, ...]:
        return tuple(t.init(params) for t in transforms)

    def update(
        grads: np.ndarray, state: tuple[State, ...], params: np.ndarray
    ) -> tuple[np.ndarray, tuple[State, ...]]:
        new_state = []
        for t, s in zip(transforms, state, strict=True):
            grads, s = t.update(grads, s, params)
            new_state.append(s)
        return grads, tuple(new_state)

    return GradientTransformation(init, update)


def apply_updates(params: np.ndarray, updates: np.ndarray) -> np.ndarray:
    """``theta_next = theta_now + updates`` (updates already carry ``-lr``).

    >>> apply_updates(np.array([1.0]), np.array([-0.25]))
    array([0.75])
    """
    return params + updates
