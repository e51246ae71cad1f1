"""Loaded first by pytest, before SciPy or scikit-learn is imported."""

import os

# scikit-learn's array-API conformance checks run (with NumPy) only when SciPy's
# array-API mode is on; without it they would be skipped, and CI skips nothing.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import threading
import time

import pytest


@pytest.fixture(scope="session")
def live_server():
    """The playground on 127.0.0.1 at a free port, in a thread; stopped after the tests."""
    import uvicorn

    from gradfit.web.app import create_app

    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the playground server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, headless, with no calls home (see ENVIRONMENT.md)."""
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }
