"""The race: its table against independent computations, and its page in Chromium."""

import math
import re
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from gradfit import load_dataset
from gradfit.web.app import create_app

SHOTS = Path(__file__).parents[1] / "test-artifacts" / "screenshots"
LIMITS = {"tol": 0, "gtol": 1e-12, "max_iter": 10**9}  # the playground's own


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


def davis(standardize):
    d = load_dataset("davis")
    x = d.X[:, 0]
    if standardize:
        x = (x - x.mean()) / x.std()
    return np.column_stack([x, np.ones_like(x)]), d.y


def excess_by_hand(A, y, lr, steps, beta=None):
    """Full-batch descent on J = mean (A theta - y)^2 written out: the excess loss over
    least squares after 0 .. steps steps, relative to the start's."""
    star = np.linalg.lstsq(A, y, rcond=None)[0]
    best = np.mean((A @ star - y) ** 2)
    theta, v = np.zeros(2), np.zeros(2)
    out = []
    for _ in range(steps + 1):
        out.append(np.mean((A @ theta - y) ** 2) - best)
        g = 2 / len(y) * A.T @ (A @ theta - y)
        v = g if beta is None else g + beta * v
        theta = theta - lr * v
    return np.array(out) / out[0]


def test_four_lanes_steps_and_theory_are_the_engines(client):
    lanes = [
        {"lr": 0.1},
        {"lr": 0.05, "optimizer": "momentum", "beta": 0.9},
        {"lr": 0.05, "mode": "mini", "batch_size": 16},
        {"lr": 1.2},
    ]
    out = client.post("/api/race", json={"dataset": "davis", "lanes": lanes, "max_steps": 400})
    assert out.status_code == 200, out.text
    plain, momentum, mini, fast = out.json()["lanes"]
    # the first step whose excess is within a millionth of the start's, by hand
    A, y = davis(True)
    for lane, lr, beta in ((plain, 0.1, None), (momentum, 0.05, 0.9)):
        excess = excess_by_hand(A, y, lr, 400, beta)
        assert lane["steps_to_minimum"] == int(np.flatnonzero(excess <= 1e-6)[0])
    # the theory: the slowest eigen-direction's factor, from eigvalsh of the Hessian
    lam = np.linalg.eigvalsh(2 / len(y) * A.T @ A)
    rho = np.abs(1 - 0.1 * lam).max()
    assert plain["theory_steps"] == math.ceil(math.log(1e-3) / math.log(rho))
    roots = [np.abs(np.roots([1, -(1 + 0.9 - 0.05 * v), 0.9])).max() for v in lam]
    assert momentum["theory_steps"] == math.ceil(math.log(1e-3) / math.log(max(roots)))
    assert plain["steps_to_minimum"] <= plain["theory_steps"]
    assert mini["theory_steps"] is None and "noisy estimate" in mini["theory"]
    # past 2/L: diverged, said in words, the theory saw it
    assert fast["diverged"] is not None and fast["steps_to_minimum"] is None
    assert "diverged" in fast["message"] and fast["theory"].startswith("never")
    # paths in original units: the last point of the plain lane is least squares' [w, b]
    d = load_dataset("davis")
    raw = np.linalg.lstsq(np.column_stack([d.X[:, 0], np.ones(len(d.y))]), d.y, rcond=None)[0]
    assert plain["path"][-1] == pytest.approx(raw, rel=1e-6)
    assert out.json()["contours"]["star"] == pytest.approx(raw, rel=1e-9)


def test_raw_and_standardized_lanes_share_original_units(client):
    lanes = [{"lr": 0.1, "standardize": True}, {"lr": 2e-5, "standardize": False}]
    out = client.post("/api/race", json={"lanes": lanes, "max_steps": 50}).json()
    std, raw = out["lanes"]
    A, y = davis(False)
    theta = np.zeros(2)
    for _ in range(50):
        theta = theta - 2e-5 * (2 / len(y) * A.T @ (A @ theta - y))
    assert raw["path"][-1] == pytest.approx(theta, rel=1e-9)
    assert "never" not in raw["theory"] and raw["theory_steps"] > 10**6
    assert out["contours"]["labels"] == ["w[height] (original units)", "b (original units)"]
    assert std["label"] == "rate 0.1, full batch, gd, standardized"


@pytest.mark.parametrize(
    "body, said",
    [({"lanes": []}, "lanes"), ({"lanes": [{"lr": -1}]}, "lr"),
     ({"lanes": [{"lr": 0.1, "optimizer": "foo"}]}, "lane 1: unknown optimizer"),
     ({"dataset": "foo", "lanes": [{"lr": 0.1}]}, "unknown data set"),
     ({"lanes": [{"lr": 0.1}] * 5}, "lanes")],
)  # fmt: skip
def test_bad_input_is_one_sentence(client, body, said):
    r = client.post("/api/race", json=body)
    assert r.status_code in (400, 422) and said in r.json()["error"]


# -- in Chromium ------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_a_race_of_four_settings(page: Page, live_server, width):
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server}/race")
    rows = page.locator("#table tbody tr")
    expect(rows).to_have_count(4)  # the four rates
    expect(rows.nth(0)).to_contain_text("rate 0.01, full batch, gd, standardized")
    expect(rows.nth(1)).to_contain_text("31 steps")
    expect(rows.nth(1)).to_contain_text("at most about 31 steps")
    expect(rows.nth(3)).to_contain_text("diverged at step")
    expect(page.locator("#chart-paths .main-svg").first).to_be_visible()
    expect(page.locator("#chart-loss .main-svg").first).to_be_visible()
    # four paths and the minimum over the contours
    assert page.evaluate("document.getElementById('chart-paths').data.length") == 6
    # the scrubber replays the first steps
    page.locator("#scrub").evaluate(
        "(s) => { s.value = '3'; s.dispatchEvent(new Event('input')); }"
    )
    expect(page.locator("#scrub-out")).to_have_text("3")
    # a ready-made race: raw vs standardized
    page.get_by_role("button", name="raw vs standardized").click()
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_contain_text("raw features")
    expect(page).to_have_url(re.compile(r"r2=lr%3A0\.1%2Cmode%3Afull"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"race-four-{width}.png"), full_page=True)
    assert errors == []


@pytest.mark.browser
def test_a_bad_rate_is_said_and_a_shared_link_replays(page: Page, live_server):
    page.goto(f"{live_server}/race?dataset=davis&r1=lr:0.5,mode:full,rule:gd,std:1&r2=lr:abc")
    expect(page.locator("#error")).to_contain_text("lane 2: the learning rate must be a number")
    page.locator(".lane .lr").nth(1).fill("0.2")
    page.click("#go")
    expect(page.locator("#table tbody tr")).to_have_count(2)
    first = page.locator("#table tbody tr").nth(0).locator("td")
    expect(first.nth(2)).to_have_text("1 step")
    expect(first.nth(3)).to_contain_text("1 step: every direction's error vanishes in one")
