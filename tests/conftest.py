import os

import numpy as np
import pytest
from hypothesis import settings

# `make test` draws the same examples every run, so CI cannot fail on a lucky draw;
# `make fuzz` explores new ones (HYPOTHESIS_PROFILE=explore).
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def make_problem(rng, n=200, d=4, noise=0.1, scales=None, offsets=None):
    """A well-conditioned regression problem with optional raw feature scales/offsets."""
    X = rng.standard_normal((n, d))
    if scales is not None:
        X = X * scales
    if offsets is not None:
        X = X + offsets
    w = rng.uniform(-3, 3, d)
    y = X @ w + 1.5 + noise * rng.standard_normal(n)
    return X, y
