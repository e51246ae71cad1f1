"""Playground latency: STEP round trips through the HTTP API, and RUN's pace in Chromium."""

from __future__ import annotations

import os
import statistics
import time

import httpx

from gradfit.web import HEADLESS_CHROMIUM_ARGS, running


def step_round_trip(url: str, n: int = 300) -> list[float]:
    with httpx.Client(base_url=url) as http:
        sid = http.post("/api/sessions", json={"lr": 0.001}).json()["session"]
        times = []
        for _ in range(n):
            start = time.perf_counter()
            http.post(f"/api/sessions/{sid}/step", json={"n": 1}).raise_for_status()
            times.append(time.perf_counter() - start)
    return times


def run_pace(url: str, seconds: float = 4.0) -> float:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            args=HEADLESS_CHROMIUM_ARGS,
        )
        page = browser.new_page()
        page.goto(f"{url}/?lr=0.0001")
        page.wait_for_selector("#chart-loss .main-svg")
        page.click("#run-btn")
        page.wait_for_timeout(500)
        first = int(page.text_content("#step") or 0)
        page.wait_for_timeout(seconds * 1000)
        last = int(page.text_content("#step") or 0)
        page.click("#run-btn")
        browser.close()
    return (last - first) / seconds


def measure(rows: list[str]) -> None:
    with running() as url:
        times = step_round_trip(url)
        pace = run_pace(url)
    median = statistics.median(times) * 1e3
    p95 = sorted(times)[int(0.95 * len(times))] * 1e3
    rows.append("### Playground (Davis, full batch, loopback)\n")
    rows.append("| measurement | value | target |")
    rows.append("|---|---:|---:|")
    rows.append(
        f"| STEP round trip through the API, median (p95) | {median:.1f} ms ({p95:.1f} ms) "
        "| < 20 ms |"
    )
    rows.append(f"| RUN in headless Chromium, steps per second | {pace:.0f} | >= 30 |")
    rows.append("")


if __name__ == "__main__":
    out: list[str] = []
    measure(out)
    print("\n".join(out))
