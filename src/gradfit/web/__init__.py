"""The browser playground (needs ``gradfit[web]``): article A's widget on real data."""

from __future__ import annotations

import threading
import webbrowser

from gradfit.exceptions import require

__all__ = ["serve"]


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = True) -> None:
    """Run the playground until interrupted; loopback only unless ``host`` says otherwise."""
    uvicorn = require("uvicorn", "web")
    from gradfit.web.app import create_app

    config = uvicorn.Config(create_app(), host=host, port=port, log_level="warning")
    server = uvicorn.Server(config)

    def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            threading.Event().wait(0.05)
        bound = server.servers[0].sockets[0].getsockname()[1]
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        url = f"http://{shown}:{bound}/"
        print(f"gradfit playground at {url} (Ctrl+C stops it)", flush=True)
        if open_browser:
            webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    server.run()
