"""The playground's parabola, the rate slider's live preview and its keyboard: the numbers
(API, against independent computations) and the page (Chromium, 1280 and 390 px)."""

import re
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from gradfit import fit, load_dataset
from gradfit.web.app import create_app

SHOTS = Path(__file__).parents[1] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


def davis_mse(m, b, standardized=False):
    """Article A's cost J(m, b) = mean of (y - (m x + b))^2, by hand (NumPy only)."""
    d = load_dataset("davis")
    x, y = d.X[:, 0], d.y
    if standardized:
        x = (x - x.mean()) / x.std()
    return np.mean((y - (np.multiply.outer(m, x) + np.asarray(b)[..., None])) ** 2, axis=-1)


def test_the_parabola_is_the_cost_over_one_coefficient_with_the_step(client):
    s = client.post("/api/sessions", json={"lr": 0.1, "standardize": False}).json()
    sid = s["session"]
    # before any step: the curve through the start, no step
    p = client.post(f"/api/sessions/{sid}/surface", json={"coefs": [0, -1]}).json()["parabola"]
    assert p["next"] is None and p["at"] == [0.0, pytest.approx(davis_mse(0.0, 0.0))]
    lr = 1e-5
    s = client.post("/api/sessions", json={"lr": lr, "standardize": False}).json()
    sid = s["session"]
    client.post(f"/api/sessions/{sid}/step", json={"n": 2})
    p = client.post(f"/api/sessions/{sid}/surface", json={"coefs": [0, -1]}).json()["parabola"]
    d = load_dataset("davis")
    ref1 = fit(d.X, d.y, lr=lr, optimizer="gd", standardize=False, max_steps=1)
    m1, b1 = ref1.w[0], ref1.b
    # the curve is J(m) with b held where the last step started: a parabola in m
    x = np.array(p["x"])
    np.testing.assert_allclose(p["y"], davis_mse(x, b1), rtol=1e-12)
    assert np.polyfit(x, p["y"], 3)[0] == pytest.approx(0, abs=1e-9 * max(p["y"]))
    assert p["at"] == [pytest.approx(m1, rel=1e-12), pytest.approx(davis_mse(m1, b1), rel=1e-12)]
    # the tangent's slope: dJ/dm by central differences of J
    h = 1e-4
    slope = (davis_mse(m1 + h, b1) - davis_mse(m1 - h, b1)) / (2 * h)
    assert p["slope"] == pytest.approx(slope, rel=1e-7)
    # the step: plain full-batch descent moves m by -lr * slope
    assert p["next"][0] == pytest.approx(m1 - lr * slope, rel=1e-9)
    assert p["next"][1] == pytest.approx(davis_mse(p["next"][0], b1), rel=1e-12)
    assert p["name"] == "w[height]" and p["label"] == "w[height]"


def test_the_parabola_names_standardized_coordinates_and_follows_the_x_axis(client):
    s = client.post("/api/sessions", json={"lr": 0.1}).json()
    client.post(f"/api/sessions/{s['session']}/step", json={"n": 1})
    p = client.post(f"/api/sessions/{s['session']}/surface", json={"coefs": [-1, 0]}).json()
    assert p["parabola"]["name"] == "b" and p["parabola"]["label"] == "b"
    p = client.post(f"/api/sessions/{s['session']}/surface", json={"coefs": [0, -1]}).json()
    assert p["parabola"]["label"] == "w[height], standardized"
    x = np.array(p["parabola"]["x"])
    np.testing.assert_allclose(p["parabola"]["y"], davis_mse(x, 0.0, True))


def test_the_parabola_of_a_lasso_has_its_kink(client):
    s = client.post(
        "/api/sessions", json={"lr": 0.1, "penalty": "l1", "alpha": 5, "dataset": "davis"}
    ).json()
    p = client.post(f"/api/sessions/{s['session']}/surface", json={"coefs": [0, -1]}).json()
    y, x = np.array(p["parabola"]["y"]), np.array(p["parabola"]["x"])
    # J + 2 alpha |w|: J's own parabola plus a V with its point at w = 0, the penalty on w
    # in height's own units (the axis is standardized: w = x / sd(height))
    sd = load_dataset("davis").X[:, 0].std()
    np.testing.assert_allclose(y, davis_mse(x, 0.0, True) + 2 * 5 * np.abs(x) / sd, rtol=1e-12)
    # at w = 0 the slope is the mean of the two sides: J's own slope there
    assert p["parabola"]["slope"] == pytest.approx(
        (davis_mse(1e-4, 0, True) - davis_mse(-1e-4, 0, True)) / 2e-4, rel=1e-6
    )


@pytest.mark.parametrize("lr, diverges", [(0.01, False), (1.0, False), (1.2, True)])
def test_the_preview_is_the_same_descent_at_another_rate(client, lr, diverges):
    s = client.post("/api/sessions", json={"lr": 0.05}).json()
    sid = s["session"]
    client.post(f"/api/sessions/{sid}/step", json={"n": 5})
    p = client.post(f"/api/sessions/{sid}/preview", json={"lr": lr, "n": 40}).json()
    d = load_dataset("davis")
    if diverges:
        assert p["diverged"] is not None and p["diverged"] < 40
        # the path up to where the engine saw it, each point farther from the minimum
        assert len(p["theta"]) == p["diverged"]
        assert np.all(np.diff(p["loss"]) > 0)
    else:
        limits = {"tol": 0, "gtol": 1e-12, "max_iter": 10**9}  # the session's
        ref = fit(d.X, d.y, lr=lr, standardize=True, max_steps=40, **limits)
        assert p["diverged"] is None and len(p["theta"]) == 41
        np.testing.assert_allclose(p["theta"][-1], ref.theta, rtol=1e-12, atol=1e-12)
        assert p["loss"][-1] == pytest.approx(ref.loss, rel=1e-12)
    # the theory at the previewed rate; the session itself is untouched
    assert p["theory"]["edge"] is (lr >= 0.95)
    state = client.get(f"/api/sessions/{sid}").json()
    assert state["step"] == 5 and state["theory"]["edge"] is False


def test_the_preview_refuses_a_rate_that_is_not_positive(client):
    s = client.post("/api/sessions", json={}).json()
    r = client.post(f"/api/sessions/{s['session']}/preview", json={"lr": 0})
    assert r.status_code == 422 and "lr" in r.json()["error"]


# -- in Chromium ------------------------------------------------------------------------


def open_page(page: Page, live_server: str, width: int, query: str = "") -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server}/{query}")
    expect(page.locator("#chart-loss .main-svg").first).to_be_visible(timeout=15_000)
    expect(page.locator("#step")).to_have_text("0")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_the_parabola_shows_the_step_next_to_the_line(page: Page, live_server, width):
    open_page(page, live_server, width, "?dataset=davis&lr=0.1&standardize=1")
    parabola = page.locator("#chart-parabola")
    expect(parabola.locator(".main-svg").first).to_be_visible(timeout=15_000)
    page.click("#step-btn")
    expect(page.locator("#step")).to_have_text("1")
    expect(parabola).to_have_attribute("aria-label", re.compile(r"the step moved w\[height\] to "))
    # (a title broken into lines at spaces: <br> where a space was)
    title = re.compile(
        r"loss over w\[height\] \(the others held\),(<br>| )the(<br>| )last(<br>| )step"
    )
    expect(parabola.locator(".gtitle")).to_have_attribute("data-unformatted", title)
    # the chart sits beside (or, on a phone, under) the data chart
    data_box = page.locator("#chart-data").bounding_box()
    parabola_box = parabola.bounding_box()
    assert data_box and parabola_box
    if width >= 1280:
        assert abs(parabola_box["y"] - data_box["y"]) < 5  # one row
    no_sideways_scroll(page)
    shot(page, f"parabola-{width}")


@pytest.mark.browser
def test_moving_the_rate_slider_previews_the_path(page: Page, live_server):
    open_page(page, live_server, 1280, "?dataset=davis&lr=0.1&standardize=1")
    page.click("#step-btn")
    expect(page.locator("#step")).to_have_text("1")
    expect(page.locator("#chart-surface .main-svg").first).to_be_visible()
    slider = page.locator("#lr-slider")
    # an input event alone (the slider moving, not yet released)
    slider.evaluate(
        "(s) => { s.value = String(Math.log10(1.1)); s.dispatchEvent(new Event('input')); }"
    )
    expect(page.locator("#preview-text")).to_contain_text("Preview at rate 1.1")
    expect(page.locator("#preview-text")).to_contain_text("diverging at step")
    expect(page.locator("#lr-theory")).to_contain_text("edge of stability")
    names = page.evaluate(
        "() => document.getElementById('chart-surface').data.map((t) => t.name || '')"
    )
    assert any(n.startswith("rate 1.1 (diverges at step") for n in names)
    # nothing was started: the descent on screen is the same
    expect(page.locator("#step")).to_have_text("1")
    shot(page, "rate-preview")
    # released: the new rate starts a new descent, the preview is gone
    slider.evaluate("(s) => s.dispatchEvent(new Event('change'))")
    expect(page.locator("#lr")).to_have_value("1.1")
    expect(page.locator("#step")).to_have_text("0")
    expect(page.locator("#preview-text")).to_have_text("")


@pytest.mark.browser
def test_keyboard_shortcuts_and_visible_focus(page: Page, live_server):
    open_page(page, live_server, 1280, "?dataset=davis&lr=0.01&standardize=1")
    page.locator("body").press("s")
    expect(page.locator("#step")).to_have_text("1")
    page.keyboard.press("s")
    expect(page.locator("#step")).to_have_text("2")
    page.keyboard.press("0")
    expect(page.locator("#step")).to_have_text("0")
    # typing in the rate box is typing, not a shortcut
    page.click("#lr")
    page.keyboard.press("End")
    page.keyboard.press("s")
    expect(page.locator("#lr")).to_have_value("0.01s")
    expect(page.locator("#step")).to_have_text("0")
    page.fill("#lr", "0.01")
    page.locator("#lr").dispatch_event("change")
    # r runs, r again pauses
    page.locator("#step-btn").focus()
    page.keyboard.press("r")
    expect(page.locator("#run-btn")).to_have_text("PAUSE")
    page.keyboard.press("r")
    expect(page.locator("#run-btn")).to_have_text("RUN")
    expect(page.locator("#note")).to_contain_text("Paused at step")
    # the focused button shows it (a keyboard focus: Tab from the button before it)
    page.locator("#step-btn").focus()
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert page.evaluate("document.activeElement.id") == "run-btn" and outline == "solid"
    for button in ("step-btn", "run-btn", "reset-btn"):
        assert page.get_attribute(f"#{button}", "aria-keyshortcuts")
    for chart in ("chart-data", "chart-parabola", "chart-loss", "chart-surface"):
        assert page.get_attribute(f"#{chart}", "aria-label")


@pytest.mark.browser
def test_a_360_px_phone_scrolls_only_down(page: Page, live_server):
    # the narrowest phones: one column, long words and the explanation wrap or scroll inside
    open_page(page, live_server, 360, "?dataset=bdims&mode=mini&lr=0.01")
    page.click("#step-btn")
    expect(page.locator("#step")).to_have_text("1")
    expect(page.locator("#chart-parabola .main-svg").first).to_be_visible()
    no_sideways_scroll(page)
    controls, charts = (
        page.locator("#controls").bounding_box(),
        page.locator("#charts").bounding_box(),
    )
    assert controls and charts and charts["y"] > controls["y"] + controls["height"] - 1
    shot(page, "phone-360")


@pytest.mark.browser
def test_a_phones_controls_collapse(page: Page, live_server):
    open_page(page, live_server, 390, "?dataset=davis&lr=0.1")
    objective = page.get_by_role("button", name="What is minimised")
    expect(objective).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#penalty")).to_be_hidden()
    expect(page.locator("#lr")).to_be_visible()  # the descent's controls stay open
    objective.click()
    expect(objective).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#penalty")).to_be_visible()
    page.get_by_role("button", name="Descent").click()
    expect(page.locator("#lr")).to_be_hidden()
    no_sideways_scroll(page)
    shot(page, "phone-390-collapsed")
    # a link that sets a penalty opens its group; a laptop shows every group, no toggles
    open_page(page, live_server, 390, "?dataset=davis&lr=0.1&penalty=l2&alpha=1")
    expect(page.locator("#penalty")).to_be_visible()
    open_page(page, live_server, 1280, "?dataset=davis&lr=0.1")
    expect(page.locator("#controls legend .fold")).to_have_count(0)
    expect(page.locator("#penalty")).to_be_visible()
