"""The browser playground (needs ``gradfit[web]``): article A's widget on real data.

One job per module:

- ``uploads``: uploaded CSV files, checked once (``Upload``, ``parse_upload``);
- ``datasets``: which rows a session descends on (shipped data sets via
  ``gradfit.data.datasets``, or an upload) and the list the page offers;
- ``settings``: the page's choices as a ``DataChoice`` and a ``FitOptions``;
- ``sessions``: a ``Session`` stepped by ``gradfit.train.run``, and what the page shows;
- ``views``: the page's charts as JSON-ready values (points, data, contours);
- ``yardstick``: the minimum to reach, when it counts as reached (the full-data loss,
  checked every step of full batch and at each epoch's end with batches), and the
  fewest steps any constant rate needs;
- ``advice``: what the page says in its own words (the controls' labels): why a descent
  diverged, whether more steps reach the minimum, the congratulation and its challenge;
- ``export``: a session as Python and as a command line, from its ``FitOptions``;
- ``store``: sessions and uploads by id, least recently used dropped;
- ``schemas`` and ``app``: the HTTP API (FastAPI) and its request bodies.

This module serves it: ``running`` (in a background thread) and ``serve``.
"""

from __future__ import annotations

import threading
import time
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from gradfit.exceptions import require

__all__ = ["HEADLESS_CHROMIUM_ARGS", "running", "serve"]

# Debian's Chromium, headless, with no calls home (../shared/ENVIRONMENT.md): what the
# browser tests and the playground benchmark launch.
HEADLESS_CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def running(host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """The playground served from a background thread; yields its URL, stops on exit.

    Port 0 picks a free port.
    """
    uvicorn = require("uvicorn", "web")
    from gradfit.web.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(), host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError(f"the playground could not start on {host}:{port}")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    try:
        yield f"http://{shown}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = True) -> None:
    """Run the playground until interrupted; loopback only unless ``host`` says otherwise."""
    with running(host, port) as url:
        print(f"gradfit playground at {url}/ (Ctrl+C stops it)", flush=True)
        if open_browser:
            webbrowser.open(f"{url}/")
        with suppress(KeyboardInterrupt):
            threading.Event().wait()
