"""The playground as a notebook widget: its state and messages in the kernel, and its
front end (widget.js) in headless Chromium against the kernel's real states."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page, expect

import gradfit
from gradfit.exceptions import InvalidInputError
from gradfit.notebook import widget

SHOTS = Path(__file__).parents[1] / "test-artifacts" / "screenshots"
ASSETS = Path(gradfit.__file__).parent / "notebook_static"


def send(w, **content):
    """What the front end's click sends, handled as the kernel handles it."""
    w._message(w, content, None)


def test_steps_are_the_engines():
    w = widget(dataset="davis", lr=0.1)
    assert w.state["step"] == 0 and w.controls["optimizer"] == "gd"
    send(w, type="step", n=1)
    send(w, type="step", n=1)
    d = gradfit.load_dataset("davis")
    with pytest.warns(gradfit.ConvergenceWarning):  # two steps are short of the minimum
        r = gradfit.fit(d.X, d.y, lr=0.1, optimizer="gd", max_iter=2, tol=0, gtol=1e-12)
    assert w.state["step"] == 2
    np.testing.assert_allclose(w.state["w"], r.w, rtol=1e-12)
    assert w.state["b"] == pytest.approx(r.b, rel=1e-12)
    assert w.state["loss"] == pytest.approx(r.loss, rel=1e-12)
    assert w.state["curve"]["step"] == [0, 1, 2]
    assert "Step 1 (epoch 1): gd, learning rate alpha = 0.1" in w.state["explain"]["text"][0]


def test_the_contours_are_the_cost_with_the_path():
    w = widget(dataset="davis", lr=0.1)
    for _ in range(3):
        send(w, type="step", n=1)
    surface = w.state["surface"]
    d = gradfit.load_dataset("davis")
    x, y = d.X[:, 0], d.y
    z = (x - x.mean()) / x.std()  # standardized height: the descent's coordinate
    grid_w, grid_b = np.meshgrid(surface["x"], surface["y"])
    cost = np.mean((y - (grid_w[..., None] * z + grid_b[..., None])) ** 2, axis=-1)
    np.testing.assert_allclose(surface["z"], cost, rtol=1e-10)
    star = np.linalg.lstsq(np.column_stack([z, np.ones_like(z)]), y, rcond=None)[0]
    np.testing.assert_allclose(surface["star"], star, rtol=1e-10)
    # the path: every step's (w, b) from the start, the last one where the widget stands
    assert len(surface["path"][0]) == 4 and surface["path"][0][0] == 0.0
    assert [surface["path"][0][-1], surface["path"][1][-1]] == pytest.approx(w.state["theta"])
    assert surface["equal_axes"] and surface["labels"] == ["w[height], standardized", "b"]
    send(w, type="reset")
    assert len(w.state["surface"]["path"][0]) == 1


def test_run_pause_reset_and_a_new_rate():
    w = widget(dataset="davis", lr=0.5)
    send(w, type="run")
    assert w.running or w.state["status"] == "converged"
    while w.running:  # the front end asks again while it runs
        send(w, type="run")
    assert w.state["status"] == "converged" and w.state["loss"] == pytest.approx(
        w.state["best_loss"], rel=1e-12
    )
    send(w, type="reset")
    assert w.state["step"] == 0 and w.state["curve"]["step"] == [0] and not w.running
    send(w, type="settings", lr="0.05")
    assert w.controls["lr"] == 0.05 and w.state["step"] == 0
    send(w, type="run")
    send(w, type="pause")
    assert not w.running and w.state["step"] == 5


def test_a_divergence_and_bad_settings_are_said_in_the_widgets_words():
    w = widget(dataset="davis", lr=3.0)
    w.step(50)
    assert w.state["status"] == "diverged" and "diverged" in w.state["message"]
    send(w, type="settings", lr="abc")
    assert w.error == "the learning rate must be a number > 0, got 'abc': type one such as 0.1"
    send(w, type="settings", lr="-1")
    assert "the learning rate must be a number > 0" in w.error and "lr=" not in w.error
    assert w.state["status"] == "diverged"  # a rejected setting changes nothing else


def test_on_your_own_arrays_and_modes():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = X @ [1.0, 2.0] + 3.0
    w = widget(X, y, feature_names=["a", "b"], target_name="t", lr=0.3)
    assert w.state["feature_names"] == ["a", "b"] and w.state["view"]["kind"] == "scatter"
    w.step(200)
    np.testing.assert_allclose(w.state["w"], [1.0, 2.0], rtol=1e-8)
    send(w, type="settings", mode="sgd")
    assert w.controls["mode"] == "sgd"
    assert w.step(3)["step"] == 3
    with pytest.raises(InvalidInputError, match="one of the two"):
        widget(X, y, dataset="davis")


def _open(page: Page, w, width: int) -> None:
    """widget.js rendered in a page, with a model that holds the kernel's values and
    queues what the front end sends."""
    page.set_viewport_size({"width": width, "height": 900})
    html = """<!doctype html><html><head><meta name="viewport" content="width=device-width">
<style>%CSS%</style></head><body><div id="root"></div><script type="module">
const data = %MODEL%;
const handlers = {};
window.gfModel = {
  sent: [],
  get: (k) => data[k],
  set(k, v) { data[k] = v; (handlers["change:" + k] || []).forEach((f) => f()); },
  on(event, f) { (handlers[event] ||= []).push(f); },
  send(content) { this.sent.push(content); },
  save_changes() {},
};
const widget = await import("http://widget.test/widget.js");
widget.default.render({ model: window.gfModel, el: document.getElementById("root") });
window.rendered = true;
</script></body></html>"""
    model = {"state": w.state, "controls": w.controls, "error": "", "running": False}
    html = html.replace("%CSS%", (ASSETS / "widget.css").read_text(), 1)
    html = html.replace("%MODEL%", json.dumps(model), 1)
    page.route(
        "http://widget.test/index.html",
        lambda route: route.fulfill(body=html, content_type="text/html"),
    )
    page.route(
        "http://widget.test/widget.js",
        lambda route: route.fulfill(
            body=(ASSETS / "widget.js").read_text(), content_type="application/javascript"
        ),
    )
    page.goto("http://widget.test/index.html")
    page.wait_for_function("window.rendered === true")


def _relay(page: Page, w) -> None:
    """The front end's queued messages to the kernel, the kernel's state back."""
    sent = page.evaluate("window.gfModel.sent.splice(0)")
    for content in sent:
        w._message(w, content, None)
    page.evaluate(
        "([state, running, error]) => { window.gfModel.set('running', running);"
        " window.gfModel.set('error', error); window.gfModel.set('state', state); }",
        [w.state, w.running, w.error],
    )


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_front_end_in_chromium(page: Page, width: int):
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    w = widget(dataset="davis", lr=0.1)
    _open(page, w, width)
    readout = page.locator(".gf-readout")
    expect(readout).to_contain_text("step 0")
    expect(page.locator(".gf-chart circle").first).to_be_attached()
    page.get_by_role("button", name="STEP").click()
    _relay(page, w)
    expect(readout).to_contain_text("step 1")
    shown = float(readout.text_content().split("loss ")[1].split()[0])  # type: ignore[union-attr]
    assert shown == pytest.approx(w.state["loss"], rel=1e-5)  # 6 significant digits shown
    expect(page.locator(".gf-explain")).to_contain_text("Step 0 (epoch 0): gd")
    # keyboard: 's' steps, with the widget focused
    page.locator(".gf-playground").focus()
    page.keyboard.press("s")
    _relay(page, w)
    expect(readout).to_contain_text("step 2")
    # a bad rate typed in: the widget's own words
    page.get_by_label("learning rate").fill("-1")
    page.get_by_label("learning rate").dispatch_event("change")
    _relay(page, w)
    expect(page.locator(".gf-error")).to_contain_text("the learning rate must be a number > 0")
    # RUN until converged (the front end asks again while running)
    page.get_by_label("learning rate").fill("0.5")
    page.get_by_label("learning rate").dispatch_event("change")
    _relay(page, w)
    page.get_by_role("button", name="RUN").click()
    for _ in range(100):
        _relay(page, w)
        if w.state["status"] == "converged":
            break
        page.wait_for_timeout(40)
    _relay(page, w)
    expect(readout).to_contain_text("converged")
    expect(readout).to_contain_text(w.state["success"]["message"])
    assert page.locator(".gf-curve").get_attribute("d").count("L") >= 1  # the loss curve
    # the contours: filled bands, the path to the minimum's star
    assert page.locator(".gf-contours rect").count() == len(w.state["surface"]["z"]) ** 2
    steps_drawn = page.locator(".gf-path").get_attribute("d").count("L")  # type: ignore[union-attr]
    assert steps_drawn == len(w.state["surface"]["path"][0]) - 1 >= 1
    expect(page.locator(".gf-star")).to_be_attached()
    expect(page.get_by_role("button", name="RUN")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"widget-{width}.png"), full_page=True)
    assert errors == []
