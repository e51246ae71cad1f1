"""Loaded first by pytest, before SciPy or scikit-learn is imported."""

import os

# scikit-learn's array-API conformance checks run (with NumPy) only when SciPy's
# array-API mode is on; without it they would be skipped, and CI skips nothing.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pytest


@pytest.fixture(scope="session")
def live_server():
    """The playground on 127.0.0.1 at a free port, in a thread; stopped after the tests."""
    from gradfit.web import running

    with running() as url:
        yield url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, headless (see ../shared/ENVIRONMENT.md)."""
    from gradfit.web import HEADLESS_CHROMIUM_ARGS

    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": HEADLESS_CHROMIUM_ARGS,
    }
