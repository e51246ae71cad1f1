"""The lessons: each screen's numbers against independent computations, and the key
interactions in Chromium (drag a line, the challenge, raw vs standardized)."""

import math
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from gradfit import load_dataset
from gradfit.web.app import create_app

SHOTS = Path(__file__).parents[1] / "test-artifacts" / "screenshots"
D = load_dataset("davis")
X, Y = D.X[:, 0], D.y


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


def cost(m, b):
    """Article A's cost, by hand."""
    return float(np.mean((Y - (m * X + b)) ** 2))


def test_guess_is_the_mean_squared_error_and_the_best_is_least_squares(client):
    out = client.post("/api/lessons/guess", json={"m": 0.5, "b": -20}).json()
    assert out["mse"] == pytest.approx(cost(0.5, -20), rel=1e-12)
    m, b = np.polyfit(X, Y, 1)
    assert out["best"]["m"] == pytest.approx(m, rel=1e-9)
    assert out["best"]["b"] == pytest.approx(b, rel=1e-9)
    assert out["best"]["mse"] == pytest.approx(cost(m, b), rel=1e-12)
    assert out["feature"] == "height" and out["target"] == "weight"


def test_the_derivative_with_the_rows_numbers(client):
    m, b = 0.3, 5.0
    out = client.post("/api/lessons/derivative", json={"m": m, "b": b}).json()
    h = 1e-5
    assert out["dJ_dm"] == pytest.approx((cost(m + h, b) - cost(m - h, b)) / (2 * h), rel=1e-6)
    assert out["dJ_db"] == pytest.approx((cost(m, b + h) - cost(m, b - h)) / (2 * h), rel=1e-6)
    assert out["engine"]["dJ_dm"] == pytest.approx(out["dJ_dm"], rel=1e-10)
    assert out["engine"]["dJ_db"] == pytest.approx(out["dJ_db"], rel=1e-10)
    first = out["rows"][0]
    assert first["x"] == X[0] and first["residual"] == pytest.approx(Y[0] - (m * X[0] + b))
    assert out["sum_residual"] == pytest.approx(np.sum(Y - (m * X + b)), rel=1e-12)


def test_one_step_is_the_update_rule(client):
    m, b, lr = 0.1, 1.0, 1e-5
    out = client.post("/api/lessons/step", json={"m": m, "b": b, "lr": lr}).json()
    gm = -2 * np.mean(X * (Y - (m * X + b)))
    gb = -2 * np.mean(Y - (m * X + b))
    assert out["after"]["m"] == pytest.approx(m - lr * gm, rel=1e-12)
    assert out["after"]["b"] == pytest.approx(b - lr * gb, rel=1e-12)
    assert out["after"]["mse"] == pytest.approx(cost(m - lr * gm, b - lr * gb), rel=1e-12)
    p = out["parabola"]
    assert p["slope"] == pytest.approx(gm, rel=1e-9) and p["next"][0] == out["after"]["m"]
    np.testing.assert_allclose(p["y"], [cost(t, b) for t in p["x"]], rtol=1e-12)
    # past 2/L the cost grows: L is the largest eigenvalue of 2/N [x 1]^T [x 1]
    A = np.column_stack([X, np.ones_like(X)])
    big = np.linalg.eigvalsh(2 / len(X) * A.T @ A)[-1]
    assert out["stable_lr"] == pytest.approx(2 / big, rel=1e-9)
    worse = client.post("/api/lessons/step", json={"m": m, "b": b, "lr": 1.2 * 2 / big}).json()
    assert worse["after"]["mse"] > worse["before"]["mse"]


def excess_steps(lr, steps=5000):
    """Plain descent on standardized height by hand: the first step whose excess over the
    minimum is within a millionth of the start's (None: none within ``steps``)."""
    z = (X - X.mean()) / X.std()
    A = np.column_stack([z, np.ones_like(z)])
    star = np.linalg.lstsq(A, Y, rcond=None)[0]
    best = np.mean((A @ star - Y) ** 2)
    theta = np.zeros(2)
    start = np.mean(Y**2) - best
    for k in range(steps + 1):
        if np.mean((A @ theta - Y) ** 2) - best <= 1e-6 * start:
            return k
        theta = theta - lr * (2 / len(Y) * A.T @ (A @ theta - Y))
    return None


@pytest.mark.parametrize("lr", [0.1, 0.03, 0.9])
def test_the_challenge_counts_the_engines_steps(client, lr):
    out = client.post("/api/lessons/challenge", json={"lr": lr}).json()
    assert out["steps"] == excess_steps(lr) and out["diverged"] is None


def test_the_challenge_says_divergence_and_gives_the_answer(client):
    out = client.post("/api/lessons/challenge", json={"lr": 1.5, "answer": True}).json()
    assert out["steps"] is None and out["diverged"] is not None
    assert out["answer"]["steps"] == 1 and out["answer"]["lr"] == pytest.approx(0.5)


def test_raw_and_standardized_bowls(client):
    out = client.post("/api/lessons/bowls", json={}).json()
    assert out["std"]["steps"] == 1 and out["std"]["condition_number"] == pytest.approx(1)
    A = np.column_stack([X, np.ones_like(X)])
    lam = np.linalg.eigvalsh(2 / len(X) * A.T @ A)
    kappa = lam[-1] / lam[0]
    assert out["raw"]["condition_number"] == pytest.approx(kappa, rel=1e-6)
    assert out["raw"]["steps"] is None  # not within the 5,000 searched
    rho = (kappa - 1) / (kappa + 1)  # at the best rate 2 / (mu + L)
    assert out["raw"]["theory_steps"] == pytest.approx(math.log(1e-3) / math.log(rho), rel=1e-3)


def test_the_lasso_path_against_scikit_learn(client):
    from sklearn.linear_model import Lasso

    out = client.post("/api/lessons/penalty", json={"penalty": "l1"}).json()
    xc = X - X.mean()
    assert out["alpha_max"] == pytest.approx(abs(xc @ (Y - Y.mean())) / len(Y), rel=1e-9)
    assert out["m"][0] == 0.0
    for alpha, m in zip(out["alphas"][::7], out["m"][::7], strict=True):
        ref = Lasso(alpha=alpha, tol=1e-12, max_iter=100_000).fit(X[:, None], Y).coef_[0]
        assert m == pytest.approx(ref, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("body", [{"m": "x"}, {"lr": 0}, {"dataset": "foo"}])
def test_bad_input_is_one_sentence(client, body):
    r = client.post("/api/lessons/step", json={"m": 0, "b": 0, "lr": 0.1, **body})
    assert r.status_code in (400, 422) and r.json()["error"]


# -- in Chromium ------------------------------------------------------------------------


def open_lesson(page: Page, live_server: str, width: int, lesson: int) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server}/lessons?dataset=davis&lesson={lesson}")
    expect(page.locator("#lesson-title")).to_contain_text(f"{lesson}.")
    return errors


def fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_drag_a_line_and_watch_the_mse(page: Page, live_server, width):
    errors = open_lesson(page, live_server, width, 1)
    expect(page.locator("#mse")).to_have_text(f"{cost(0, 0):.6g}")  # the line y = 0 to start
    chart = page.locator("#chart-guess")
    expect(chart.locator(".main-svg").first).to_be_visible()
    # the right handle, dragged up by 120 pixels
    x, y = page.evaluate(
        """() => { const d = document.getElementById('chart-guess'), l = d._fullLayout;
        const r = d.getBoundingClientRect(), t = d.data[2];
        return [r.left + l.xaxis._offset + l.xaxis.l2p(t.x[1]),
                r.top + l.yaxis._offset + l.yaxis.l2p(t.y[1])]; }"""
    )
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y - 60, steps=5)
    page.mouse.move(x, y - 120, steps=5)
    page.mouse.up()
    m, b = float(page.input_value("#m")), float(page.input_value("#b"))
    assert m > 0
    shown = page.locator("#mse")
    expect(shown).not_to_have_text(f"{cost(0, 0):.6g}")
    # the MSE shown is the engine's for the line shown (to the 6 digits shown)
    page.wait_for_function(
        "([want]) => Math.abs(Number(document.getElementById('mse').textContent) - want)"
        " <= 1e-5 * want",
        arg=[cost(m, b)],
    )
    page.click("#best-btn")
    expect(page.locator("#best-readout")).to_contain_text("The best line: m = ")
    fits(page)
    shot(page, f"lessons-drag-{width}")
    assert errors == []


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_the_learning_rate_challenge(page: Page, live_server, width):
    errors = open_lesson(page, live_server, width, 4)
    page.fill("#challenge-lr", "0.1")
    page.click("#try-btn")
    expect(page.locator("#challenge-verdict")).to_have_text(
        f"Rate 0.1: the minimum in {excess_steps(0.1)} steps. Can you do it in fewer steps?"
    )
    page.fill("#challenge-lr", "1.5")
    page.click("#try-btn")
    expect(page.locator("#challenge-verdict")).to_contain_text("diverged at step")
    page.fill("#challenge-lr", "abc")
    page.click("#try-btn")
    expect(page.locator("#error")).to_contain_text('The learning rate must be a number, not "abc"')
    page.fill("#challenge-lr", "0.1")
    page.click("#answer-btn")
    expect(page.locator("#challenge-answer")).to_contain_text("The answer: 1 step at the rate 0.5")
    # free play opens on the answer's rate
    free = page.locator("#free-play")
    expect(free).to_have_attribute("href", "/?dataset=davis&standardize=1&lr=0.5")
    fits(page)
    shot(page, f"lessons-challenge-{width}")
    assert errors == []


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_raw_against_standardized(page: Page, live_server, width):
    errors = open_lesson(page, live_server, width, 5)
    text = page.locator("#bowls-text")
    expect(text).to_contain_text("Best constant rate on raw units: more than 5,000 steps")
    expect(text).to_contain_text("the bowl is round (condition number 1): 1 step")
    expect(page.locator("#chart-raw .main-svg").first).to_be_visible()
    expect(page.locator("#chart-std .main-svg").first).to_be_visible()
    fits(page)
    shot(page, f"lessons-standardize-{width}")
    # every other lesson opens without an error, and free play is one click away
    for k in range(8):
        page.locator("#lesson-list button").nth(k).click()
        expect(page.locator("#lesson-title")).to_contain_text(f"{k + 1}.")
        expect(page.locator("#lesson-body")).not_to_be_empty()
        expect(page.locator("#error")).to_be_hidden()
        fits(page)
    expect(page.locator("#penalty-readout")).to_contain_text("alpha_max = ")
    page.click("#free-play")
    expect(page.locator("#chart-loss .main-svg").first).to_be_visible()
    assert errors == []


@pytest.mark.browser
def test_click_the_point_on_the_cost_surface(page: Page, live_server):
    errors = open_lesson(page, live_server, 1280, 1)
    expect(page.locator("#chart-cost .main-svg").first).to_be_visible()
    m, b = np.polyfit(X, Y, 1)
    # a click where the best (m, b) is on the contour plot: the guess moves there
    x, y = page.evaluate(
        """([m, b]) => { const d = document.getElementById('chart-cost'), l = d._fullLayout;
        const r = d.getBoundingClientRect();
        return [r.left + l.xaxis._offset + l.xaxis.l2p(m),
                r.top + l.yaxis._offset + l.yaxis.l2p(b)]; }""",
        [m, b],
    )
    page.mouse.click(x, y)
    shown_m, shown_b = float(page.input_value("#m")), float(page.input_value("#b"))
    assert shown_m == pytest.approx(m, abs=0.01) and shown_b == pytest.approx(b, abs=2)
    page.wait_for_function(
        "([want]) => Math.abs(Number(document.getElementById('mse').textContent) - want)"
        " <= 1e-5 * want",
        arg=[cost(shown_m, shown_b)],
    )
    assert errors == []
