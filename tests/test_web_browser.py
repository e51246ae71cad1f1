"""The playground in real headless Chromium (Debian's), driven by Playwright.

These run in CI; a missing browser is a failure, not a skip. Screenshots land in
test-artifacts/screenshots/.
"""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser
expect.set_options(timeout=15_000)  # generous: CI machines are shared

SHOTS = Path(__file__).parents[1] / "test-artifacts" / "screenshots"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def open_page(page: Page, live_server: str, query: str = "") -> None:
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{live_server}/{query}")
    expect(page.locator("#chart-loss .main-svg").first).to_be_visible()
    expect(page.locator("#step")).to_have_text("0")


def set_lr(page: Page, value: str) -> None:
    page.fill("#lr", value)
    page.press("#lr", "Enter")
    page.locator("#lr").dispatch_event("change")


def test_page_loads_with_charts_from_the_local_server(page: Page, live_server):
    outside = []
    page.on(
        "request", lambda r: outside.append(r.url) if not r.url.startswith(live_server) else None
    )
    open_page(page, live_server)
    expect(page).to_have_title("gradfit playground")
    expect(page.locator("#chart-data .main-svg").first).to_be_visible()
    expect(page.locator("#chart-surface .main-svg").first).to_be_visible()
    assert [u for u in outside if not u.startswith("data:")] == []  # no CDN, nothing outside
    shot(page, "loaded")


def test_step_changes_counter_loss_and_explain(page: Page, live_server):
    open_page(page, live_server)
    set_lr(page, "0.05")
    expect(page).to_have_url(re.compile(r"lr=0\.05"))
    before = page.text_content("#loss")
    page.click("#step-btn")
    expect(page.locator("#step")).to_have_text("1")
    expect(page.locator("#loss")).not_to_have_text(before)
    expect(page.locator("#explain")).to_contain_text(
        "Step 0 (epoch 0): gd, learning rate alpha = 0.05"
    )
    expect(page.locator("#explain")).to_contain_text("dJ/dm = (2/N) sum error_i x_i")
    page.click("#step-btn")
    expect(page.locator("#step")).to_have_text("2")
    shot(page, "stepped")


def test_run_to_success_then_show_me(page: Page, live_server):
    open_page(page, live_server, "?lr=0.1")
    page.click("#run-btn")
    expect(page.locator("#success")).to_be_visible(timeout=30_000)
    expect(page.locator("#success-text")).to_contain_text("Can you do it in fewer steps?")
    expect(page.locator("#fewest-text")).to_contain_text("needs on this data: 1, at lr = 0.5")
    shot(page, "success")
    page.click("#show-me")
    expect(page.locator("#success-text")).to_contain_text("minimum in 1 steps", timeout=30_000)
    expect(page.locator("#lr")).to_have_value("0.5")


def test_too_large_rate_diverges_plainly(page: Page, live_server):
    open_page(page, live_server, "?lr=1.5")
    page.click("#run-btn")
    status = page.locator("#status")
    expect(status).to_contain_text("Diverged", timeout=30_000)
    expect(status).to_contain_text("The largest stable learning rate for this data is 1 (L = 2)")
    shot(page, "diverged")


def test_reset(page: Page, live_server):
    open_page(page, live_server, "?lr=0.01")
    for expected in ("1", "2", "3"):
        page.click("#step-btn")
        expect(page.locator("#step")).to_have_text(expected)
    page.click("#reset-btn")
    expect(page.locator("#step")).to_have_text("0")
    expect(page.locator("#explain")).to_have_text("Press STEP.")


def test_bad_rate_and_bad_upload_show_errors(page: Page, live_server, tmp_path):
    open_page(page, live_server)
    set_lr(page, "-1")
    expect(page.locator("#error")).to_contain_text("lr: Input should be greater than 0")
    set_lr(page, "abc")
    expect(page.locator("#error")).to_contain_text("lr: Input should be a valid number")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,comment\nann,hello\nbob,bye\n")
    page.select_option("#dataset", "upload")
    page.set_input_files("#upload", str(bad))
    expect(page.locator("#error")).to_contain_text("fewer than two numeric columns")
    shot(page, "bad-upload")
    good = tmp_path / "good.csv"
    good.write_text("x,y\n" + "\n".join(f"{i},{3 * i - 2 + (i % 2) * 0.5}" for i in range(25)))
    set_lr(page, "0.1")
    expect(page.locator("#error")).to_contain_text("choose a CSV file to upload first")
    page.set_input_files("#upload", str(good))
    expect(page.locator("#error")).to_be_hidden()
    page.click("#step-btn")
    expect(page.locator("#step")).to_have_text("1")
    expect(page.locator("#params")).to_contain_text("y = ")


def test_shared_url_reproduces_the_session(page: Page, live_server):
    open_page(page, live_server, "?lr=0.02&mode=mini&batch=16&seed=4")
    for expected in ("1", "2", "3", "4", "5"):
        page.click("#step-btn")
        expect(page.locator("#step")).to_have_text(expected)
    expect(page).to_have_url(re.compile(r"steps=5"))
    url, loss, params = page.url, page.text_content("#loss"), page.text_content("#params")
    page.goto(url)
    expect(page.locator("#step")).to_have_text("5")
    expect(page.locator("#loss")).to_have_text(loss)
    expect(page.locator("#params")).to_have_text(params)
    expect(page.locator("#mode")).to_have_value("mini")
    shot(page, "shared-url")


def test_export_as_code(page: Page, live_server):
    open_page(page, live_server, "?lr=0.05&optimizer=momentum")
    page.click("#step-btn")
    expect(page.locator("#step")).to_have_text("1")
    page.click("#code-btn")
    code = page.locator("#code")
    expect(code).to_contain_text("gradfit.fit(d.X, d.y, lr=0.05, optimizer='momentum'")
    expect(code).to_contain_text("gradfit fit davis --target weight --features height")


def test_many_features_show_predicted_against_actual(page: Page, live_server):
    open_page(page, live_server, "?dataset=article_b&lr=0.3&standardize=0")
    page.click("#step-btn")
    expect(page.locator("#step")).to_have_text("1")
    expect(page.locator("#chart-data")).to_contain_text("predicted against actual")
    expect(page.locator("#explain")).to_contain_text("dJ/dw = (2/N) X^T error")


def test_contours_over_two_chosen_coefficients(page: Page, live_server):
    open_page(page, live_server, "?dataset=bdims&features=hgt,age&lr=0.1")
    page.click("#step-btn")
    expect(page.locator("#step")).to_have_text("1")
    page.select_option("#coef-x", "1")  # w[age]
    page.select_option("#coef-y", "0")  # w[hgt]
    expect(page).to_have_url(re.compile(r"coefs=1%2C0|coefs=1,0"))
    surface = page.locator("#chart-surface")
    expect(surface.locator(".xtitle")).to_have_text("hgt")
    expect(surface.locator(".ytitle")).to_have_text("age")
    expect(page.locator("#step")).to_have_text("1")
    shot(page, "two-coefficients")


def test_a_line_through_the_origin(page: Page, live_server):
    open_page(page, live_server, "?lr=0.1")
    page.uncheck("#intercept")
    expect(page).to_have_url(re.compile(r"intercept=0"))
    page.click("#step-btn")
    expect(page.locator("#step")).to_have_text("1")
    expect(page.locator("#params")).to_contain_text("(through the origin)")
    expect(page.locator("#explain")).to_contain_text("(no intercept)")
    expect(page.locator("#explain")).not_to_contain_text("dJ/db")
    shot(page, "through-the-origin")


def shown(v: float) -> str:
    """A number as the page shows it (JavaScript's toPrecision(6))."""
    return f"{v:#.6g}"


def test_lasso_holds_a_coefficient_at_zero(page: Page, live_server):
    from gradfit import fit, load_dataset

    open_page(page, live_server, "?dataset=bdims&features=age,hgt&lr=0.1")
    expect(page.locator("#alpha")).to_be_hidden()  # no penalty: no strength to set
    page.select_option("#penalty", "l1")
    expect(page.locator("#alpha")).to_be_visible()
    expect(page.locator("#l1-ratio")).to_be_hidden()  # the L1 share is the elastic net's
    page.fill("#alpha", "30")
    page.locator("#alpha").dispatch_event("change")
    expect(page).to_have_url(re.compile(r"penalty=l1&alpha=30"))
    expect(page.locator("#objective")).to_have_text("lasso (alpha=30)")
    page.click("#run-btn")
    expect(page.locator("#success")).to_be_visible(timeout=30_000)
    expect(page.locator("#success-text")).to_contain_text(
        "You reached the minimum of the squared error + the lasso penalty"
    )
    # the engine's own numbers: the same descent by gradfit.fit (the soft threshold
    # holds age's coefficient at exactly 0), and the lasso's minimum
    d = load_dataset("bdims", features=["age", "hgt"])  # the page lists columns in order
    steps = int(page.text_content("#step"))
    session_run = {"max_iter": 10**9, "tol": 0, "gtol": 1e-12, "random_state": 0}
    ref = fit(
        d.X, d.y, lr=0.1, optimizer="gd", penalty="l1", alpha=30.0, max_steps=steps, **session_run
    )
    assert ref.w[0] == 0.0
    expect(page.locator("#params")).to_have_text(
        f"wgt = {shown(0.0)} * age + {shown(ref.w[1])} * hgt + {shown(ref.b)}"
    )
    expect(page.locator("#loss")).to_have_text(shown(ref.loss))
    expect(page.locator("#best")).to_have_text(shown(fit(d.X, d.y, penalty="l1", alpha=30.0).loss))
    kinks = page.locator("#kinks")
    expect(kinks).to_contain_text("Now w[age] = 0, held at the L1 kink.")
    expect(kinks).to_contain_text("At the minimum the kink holds w[age] at 0.")
    # the contours: the objective's, the minimum, least squares beside it, the kinks
    surface = page.locator("#chart-surface")
    expect(surface).to_contain_text("contours of lasso (alpha=30)")
    page.select_option("#coef-x", "1")  # w[hgt]
    page.select_option("#coef-y", "0")  # w[age]
    expect(surface.locator(".legendtext", has_text="age = 0 (kink)")).to_have_count(1)
    expect(surface.locator(".legendtext", has_text="hgt = 0 (kink)")).to_have_count(1)
    expect(surface.locator(".legendtext", has_text="least squares")).to_have_count(1)
    expect(surface.locator(".legendtext", has_text="minimum")).to_have_count(1)
    shot(page, "lasso")
    page.click("#code-btn")
    expect(page.locator("#code")).to_contain_text("penalty='l1', alpha=30")
    expect(page.locator("#code")).to_contain_text("--penalty l1 --alpha 30")
    # a shared link brings the penalty back, and the same numbers
    url, params = page.url, page.text_content("#params")
    page.goto(url)
    expect(page.locator("#params")).to_have_text(params)
    expect(page.locator("#penalty")).to_have_value("l1")
    expect(page.locator("#alpha")).to_have_value("30")


def test_a_rule_without_a_proximal_step_is_refused_in_the_pages_words(page: Page, live_server):
    open_page(page, live_server, "?lr=0.1")
    page.select_option("#penalty", "l1")
    expect(page.locator("#objective")).to_contain_text("lasso")
    page.select_option("#optimizer", "momentum")
    error = page.locator("#error")
    expect(error).to_contain_text("The update rule 'momentum' cannot fit the lasso (L1) penalty")
    expect(error).to_contain_text(
        "Choose the update rule 'gd', 'svrg' or 'fista', or the penalty 'none' or 'ridge (L2)'."
    )
    expect(error).not_to_contain_text("optimizer=")
    shot(page, "lasso-momentum-refused")
    page.select_option("#penalty", "l2")  # ridge is smooth: momentum fits it
    expect(error).to_be_hidden()
    page.click("#step-btn")
    expect(page.locator("#step")).to_have_text("1")
    expect(page.locator("#kinks")).to_be_hidden()


def test_huber_and_the_elastic_net_show_their_controls(page: Page, live_server):
    open_page(page, live_server, "?lr=0.1")
    expect(page.locator("#epsilon")).to_be_hidden()
    page.select_option("#loss-fn", "huber")
    expect(page.locator("#epsilon")).to_be_visible()
    page.fill("#epsilon", "2")
    page.locator("#epsilon").dispatch_event("change")
    page.select_option("#penalty", "elasticnet")
    expect(page.locator("#l1-ratio")).to_be_visible()
    page.fill("#l1-ratio", "0.5")
    page.locator("#l1-ratio").dispatch_event("change")
    expect(page.locator("#objective")).to_have_text(
        "Huber's loss (epsilon=2) + elastic net (alpha=1, l1_ratio=0.5)"
    )
    expect(page).to_have_url(re.compile(r"l1_ratio=0\.5.*loss=huber&epsilon=2"))
    page.click("#step-btn")
    expect(page.locator("#step")).to_have_text("1")
    expect(page.locator("#chart-loss")).to_contain_text("objective per step")
    page.select_option("#loss-fn", "squared_error")
    expect(page.locator("#epsilon")).to_be_hidden()
    expect(page.locator("#objective")).to_have_text("elastic net (alpha=1, l1_ratio=0.5)")
    shot(page, "elastic-net")
