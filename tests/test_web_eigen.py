"""The eigen view: its numbers against independent computations, and its page in Chromium."""

import re
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from gradfit import load_dataset
from gradfit.web.app import create_app
from gradfit.web.eigen import direction_factors, theory_errors

SHOTS = Path(__file__).parents[1] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


def design(name, standardize, features=None):
    """[Z 1] of a shipped data set, in the descent's coordinates (by hand)."""
    d = load_dataset(name, features=features) if features else load_dataset(name)
    X = d.X
    if standardize:
        X = (X - X.mean(axis=0)) / X.std(axis=0)
    return np.column_stack([X, np.ones(len(d.y))]), d.y


@pytest.mark.parametrize(
    "name, standardize, features",
    [("davis", True, None), ("davis", False, None), ("article_b", False, None),
     ("bdims", True, ["hgt", "age", "che_de"])],
)  # fmt: skip
def test_eigenvalues_and_the_engines_errors_follow_the_theory(client, name, standardize, features):
    A, y = design(name, standardize, features)
    H = 2 / len(y) * A.T @ A
    lam, V = np.linalg.eigh(H)
    lr = 1.0 / lam[-1]  # stable: every factor |1 - lr lambda| < 1
    body = {"dataset": name, "standardize": standardize, "lr": lr, "steps": 60}
    if features:
        body["features"] = features
    view = client.post("/api/eigen", json=body).json()
    np.testing.assert_allclose(view["eigenvalues"], lam, rtol=1e-9, atol=1e-12 * lam[-1])
    np.testing.assert_allclose(view["factors"], np.abs(1 - lr * lam), rtol=1e-9, atol=1e-12)
    # the engine's path, projected on the eigenvectors: the theory's numbers
    star = np.linalg.lstsq(A, y, rcond=None)[0]
    engine, theory = np.array(view["engine"]), np.array(view["theory"])
    scale = np.abs(engine[:, 0]).max()
    np.testing.assert_allclose(engine, theory, rtol=0, atol=1e-9 * scale)
    # the error at theta = 0: its size, and along each direction where the eigenvalues
    # are apart (a repeated one, as on standardized Davis, has any basis of its plane)
    assert np.linalg.norm(engine[:, 0]) == pytest.approx(np.linalg.norm(star), rel=1e-9)
    apart = np.diff(lam) > 1e-6 * lam[-1]
    distinct = np.concatenate([[True], apart]) & np.concatenate([apart, [True]])
    start = np.abs(V.T @ (0 - star))
    np.testing.assert_allclose(np.abs(engine[distinct, 0]), start[distinct], rtol=1e-8)
    assert view["stable_lr"] == pytest.approx(2 / lam[-1], rel=1e-9)
    assert view["best_lr"] == pytest.approx(2 / (lam[0] + lam[-1]), rel=1e-9)


def test_momentum_factors_and_recurrence():
    lam = np.array([0.01, 1.0])
    lr, beta = 1.0, 0.8
    factors = direction_factors(lam, lr, beta)
    for value, factor in zip(lam, factors, strict=True):
        # heavy ball: roots of z^2 - (1 + beta - lr lambda) z + beta
        roots = np.roots([1, -(1 + beta - lr * value), beta])
        assert factor == pytest.approx(np.abs(roots).max(), rel=1e-12)
    assert factors.min() >= np.sqrt(beta) - 1e-12  # never below sqrt(beta)
    # the recurrence, step by step by hand: v = lambda e + beta v, e = e - lr v
    e, v = np.array([1.0, -2.0]), np.zeros(2)
    out = theory_errors(e, lam, lr, 5, beta)
    for k in range(1, 6):
        v = lam * e + beta * v
        e = e - lr * v
        np.testing.assert_allclose(out[k], e, rtol=1e-14)


def test_momentum_through_the_api_follows_the_engine(client):
    view = client.post(
        "/api/eigen", json={"dataset": "article_b", "optimizer": "momentum", "lr": 0.02,
                            "beta": 0.9, "steps": 80, "standardize": False},
    ).json()  # fmt: skip
    engine, theory = np.array(view["engine"]), np.array(view["theory"])
    np.testing.assert_allclose(engine, theory, rtol=0, atol=1e-9 * np.abs(engine).max())
    assert view["beta"] == 0.9 and any("sqrt(beta)" in w or "momentum" in w for w in view["words"])


def test_a_rate_past_two_over_lambda_max_grows_and_is_said(client):
    view = client.post("/api/eigen", json={"dataset": "davis", "lr": 1.5, "steps": 40}).json()
    assert view["diverged"] is not None
    assert max(view["factors"]) == pytest.approx(2.0)  # |1 - 1.5 * 2|
    assert any("never shrinks" in w for w in view["words"])


def test_collinear_features_have_a_zero_eigenvalue(client):
    # bdims' wgt and a column equal to it would be collinear: use chest depth and its copy?
    # The shipped data have no exact copies; an upload does.
    rng = np.random.default_rng(0)
    x = rng.normal(size=50)
    rows = "\n".join(
        f"{a},{2 * a},{3 * a + 1 + 0.1 * b}" for a, b in zip(x, rng.normal(size=50), strict=True)
    )
    r = client.post("/api/uploads", files={"file": ("c.csv", f"a,b,y\n{rows}\n", "text/csv")})
    upload = r.json()["upload_id"]
    view = client.post(
        "/api/eigen",
        json={"dataset": "upload", "upload_id": upload, "target": "y", "features": ["a", "b"],
              "lr": 0.1, "steps": 30},
    ).json()  # fmt: skip
    assert view["null"] == [True, False, False]
    assert any("collinear" in w for w in view["words"])


@pytest.mark.parametrize(
    "body, said",
    [({"dataset": "foo"}, "unknown data set 'foo'"), ({"lr": 0}, "lr"),
     ({"optimizer": "adam"}, "optimizer"), ({"steps": 0}, "steps")],
)  # fmt: skip
def test_bad_input_is_one_sentence(client, body, said):
    r = client.post("/api/eigen", json=body)
    assert r.status_code in (400, 422) and said in r.json()["error"]


# -- in Chromium ------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_the_slider_moves_the_bars_and_the_words(page: Page, live_server, width):
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server}/eigen?dataset=article_b&std=0&lr=0.01")
    words = page.locator("#words")
    expect(words).to_contain_text("lambda_max = 2.074")
    expect(words).to_contain_text("about 728 steps")
    expect(page.locator("#chart-errors .main-svg").first).to_be_visible()
    bars = page.locator("#chart-factors .bars .point")
    expect(bars).to_have_count(6)
    # the slider past 2 / lambda_max: the steepest direction's bar above 1, said in words
    page.locator("#lr-slider").evaluate(
        "(s) => { s.value = String(Math.log10(1.0)); s.dispatchEvent(new Event('input')); }"
    )
    expect(words).to_contain_text("never shrinks")
    expect(page.locator("#table tr.grows").first).to_be_visible()
    expect(page).to_have_url(re.compile(r"lr=1"))
    # momentum: its own factors and words
    page.select_option("#optimizer", "momentum")
    page.fill("#lr", "0.02")
    page.locator("#lr").dispatch_event("change")
    expect(words).to_contain_text("Without momentum the slowest direction would shrink by")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"eigen-{width}.png"), full_page=True)
    assert errors == []


@pytest.mark.browser
def test_a_bad_link_is_said_and_the_page_works(page: Page, live_server):
    page.goto(f"{live_server}/eigen?dataset=foo&lr=abc")
    expect(page.locator("#error")).to_contain_text("The learning rate must be a number above 0")
    page.fill("#lr", "0.1")
    page.locator("#lr").dispatch_event("change")
    expect(page.locator("#words")).to_contain_text("lambda_max")
    expect(page.locator("#error")).to_be_hidden()
