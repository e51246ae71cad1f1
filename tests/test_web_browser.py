"""The playground in real headless Chromium (Debian's), driven by Playwright.

These run in CI; a missing browser is a failure, not a skip. Screenshots land in
test-artifacts/screenshots/.
"""

import re
from pathlib import Path

import numpy as np
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
    # the counter counts steps taken, the engine's text numbers them from 0: both said
    expect(page.locator("#explain-count")).to_have_text(
        "Step 2 of the descent: the one that took the steps taken from 1 to 2. The text below "
        'numbers steps and epochs from 0, as gradfit.explain(step=1) does, so it calls it "Step '
        '1 (epoch 1)".'
    )
    expect(page.locator("#explain")).to_contain_text("Step 1 (epoch 1)")
    shot(page, "stepped")


def test_run_to_success_then_show_me(page: Page, live_server):
    open_page(page, live_server, "?lr=0.1")
    page.click("#run-btn")
    expect(page.locator("#success")).to_be_visible(timeout=30_000)
    expect(page.locator("#success-text")).to_contain_text("Can you do it in fewer steps?")
    expect(page.locator("#fewest-text")).to_contain_text(
        "needs on this data: 1 step, at the learning rate 0.5"
    )
    # RUN stops at the step that reached the minimum: the box and the counter agree
    steps = page.locator("#success-text").text_content().split(" in ")[1].split(" step")[0]
    expect(page.locator("#step")).to_have_text(steps)
    expect(page.locator("#note")).to_have_text(
        f"RUN stopped at step {steps}: you reached the minimum."
    )
    expect(page).to_have_url(re.compile(rf"steps={steps}$"))
    shot(page, "success")
    page.click("#show-me")
    expect(page.locator("#success-text")).to_have_text(
        "You reached the least-squares minimum in 1 step: no constant learning rate of plain "
        "full-batch gradient descent does it in fewer.",
        timeout=30_000,
    )
    expect(page.locator("#lr")).to_have_value("0.5")
    # the fewest steps there are: no challenge left, nothing to show
    expect(page.locator("#show-me")).to_be_hidden()
    expect(page.locator("#fewest-text")).to_be_hidden()
    expect(page.locator("#step")).to_have_text("1")


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
    # the coefficients with their coordinates (the page standardizes by default)
    expect(surface.locator(".xtitle")).to_have_text("w[hgt], standardized")
    expect(surface.locator(".ytitle")).to_have_text("w[age], standardized")
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
    expect(surface.locator(".legendtext", has_text="w[age] = 0 (kink)")).to_have_count(1)
    expect(surface.locator(".legendtext", has_text="w[hgt] = 0 (kink)")).to_have_count(1)
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


# -- the learner's issue --------------------------------------------------------------------


def watch_errors(page: Page) -> list[str]:
    """JavaScript errors the page raises (none is ever expected)."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def test_a_bad_link_falls_back_and_says_so(page: Page, live_server):
    errors = watch_errors(page)
    page.goto(f"{live_server}/?dataset=foo&mode=turbo&lr=fast&steps=3")
    expect(page.locator("#step")).to_have_text("3")  # the link's steps, on what it could
    notice = page.locator("#notice")
    expect(notice).to_contain_text("This link asks for the data set 'foo' (not offered here")
    expect(notice).to_contain_text("the mode 'turbo'")
    expect(notice).to_contain_text("the learning rate 'fast'")
    expect(page.locator("#dataset")).to_have_value("davis")
    expect(page.locator("#error")).to_be_hidden()
    page.click("#step-btn")  # every button works
    expect(page.locator("#step")).to_have_text("4")
    expect(page).to_have_url(re.compile(r"dataset=davis.*steps=4"))
    shot(page, "bad-link")
    page.reload()  # the link was rewritten: a reload is a working page
    expect(page.locator("#step")).to_have_text("4")
    expect(notice).to_be_hidden()
    # a link's columns the data does not have, and the target among the features
    page.goto(f"{live_server}/?dataset=davis&target=shoe&features=weight,repwt")
    expect(notice).to_contain_text("the target 'shoe'")
    expect(notice).to_contain_text("the features 'weight'")
    expect(page.locator("#params")).to_have_text(re.compile(r"^weight = .* \* repwt \+ "))
    assert errors == []


def test_a_refused_setting_leaves_no_old_descent_on_screen(page: Page, live_server, tmp_path):
    errors = watch_errors(page)
    open_page(page, live_server, "?lr=0.05")
    page.click("#step-btn")
    expect(page.locator("#step")).to_have_text("1")
    set_lr(page, "-1")
    expect(page.locator("#error")).to_contain_text("lr: Input should be greater than 0")
    expect(page.locator("#step")).to_have_text("-")
    expect(page.locator("#params")).to_have_text("")
    expect(page.locator("#chart-loss .main-svg")).to_have_count(0)
    expect(page.locator("#status")).to_contain_text("No descent")
    page.click("#step-btn")  # not silent: it says why nothing moves
    expect(page.locator("#note")).to_have_text(
        "Nothing to step: lr: Input should be greater than 0"
    )
    set_lr(page, "0.05")
    expect(page.locator("#step")).to_have_text("0")
    expect(page.locator("#chart-loss .main-svg").first).to_be_visible()
    bad = tmp_path / "bad.csv"
    bad.write_text("name,comment\nann,hello\nbob,bye\n")
    page.select_option("#dataset", "upload")
    page.set_input_files("#upload", str(bad))
    expect(page.locator("#error")).to_contain_text("fewer than two numeric columns")
    expect(page.locator("#step")).to_have_text("-")
    expect(page.locator("#chart-data .main-svg")).to_have_count(0)
    page.click("#run-btn")
    expect(page.locator("#note")).to_contain_text("Nothing to step: bad.csv has fewer than two")
    expect(page.locator("#run-btn")).to_have_text("RUN")
    assert errors == []


def test_pause_then_run_keeps_one_run_loop(page: Page, live_server):
    open_page(page, live_server, "?lr=0.0001")
    in_flight, most = [0], [0]

    def sent(request):
        if request.url.endswith("/step"):
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])

    def done(request):
        if request.url.endswith("/step"):
            in_flight[0] -= 1

    page.on("request", sent)
    page.on("requestfinished", done)
    page.on("requestfailed", done)
    page.click("#run-btn")
    expect(page.locator("#step")).not_to_have_text("0")
    for _ in range(5):  # PAUSE and RUN at once, while a request is under way
        page.wait_for_timeout(150)
        page.evaluate(
            "() => { const b = document.getElementById('run-btn'); b.click(); b.click(); }"
        )
    page.wait_for_timeout(1000)
    expect(page.locator("#run-btn")).to_have_text("PAUSE")  # running, once
    assert most[0] == 1  # one run loop: never two requests for steps at once
    page.click("#run-btn")
    expect(page.locator("#run-btn")).to_have_text("RUN")
    expect(page.locator("#note")).to_have_text(re.compile(r"^Paused at step \d+: press RUN"))


def test_the_export_box_follows_the_descent(page: Page, live_server):
    open_page(page, live_server, "?lr=0.05")
    page.click("#step-btn")
    expect(page.locator("#step")).to_have_text("1")
    page.click("#code-btn")
    code = page.locator("#code")
    expect(code).to_contain_text("lr=0.05, optimizer='gd'")
    expect(code).to_contain_text("max_steps=1)")
    page.click("#step-btn")
    expect(code).to_contain_text("max_steps=2)")
    set_lr(page, "0.2")  # a new descent: the code is its own
    expect(code).to_contain_text("lr=0.2, optimizer='gd'")
    expect(code).to_contain_text("max_steps=1)")
    expect(code).not_to_contain_text("lr=0.05")
    set_lr(page, "-1")  # no descent: no code
    expect(code).to_be_hidden()


def test_run_at_two_over_l_stops_and_says_why(page: Page, live_server):
    open_page(page, live_server, "?lr=1")
    page.click("#run-btn")
    note = page.locator("#note")
    expect(note).to_contain_text("RUN stopped at step", timeout=30_000)
    expect(note).to_contain_text("At the learning rate 1 = 2/L (L = 2)")
    expect(note).to_contain_text("the line bounces for ever")
    expect(note).to_contain_text("Choose a learning rate below 2/L = 1")
    expect(page.locator("#run-btn")).to_have_text("RUN")
    assert int(page.text_content("#step")) < 1000  # stopped at once, not at 20,000 steps
    shot(page, "two-over-l")


def test_run_at_a_hopelessly_slow_rate_stops_and_says_why(page: Page, live_server):
    open_page(page, live_server, "?lr=1.72e-05&standardize=0")
    page.click("#run-btn")
    note = page.locator("#note")
    expect(note).to_contain_text("more steps to reach the minimum", timeout=30_000)
    expect(note).to_contain_text("plain descent needs about 1.")
    expect(note).to_contain_text("tick 'standardize features'")
    expect(page.locator("#run-btn")).to_have_text("RUN")


def test_divergence_is_said_in_the_pages_words(page: Page, live_server):
    open_page(page, live_server, "?lr=0.01&standardize=0")
    page.click("#run-btn")
    status = page.locator("#status")
    expect(status).to_contain_text("Diverged. Gradient descent diverged at step 2", timeout=30_000)
    expect(status).to_contain_text("tick 'standardize features'")
    expect(status).not_to_contain_text("lr=")
    expect(status).not_to_contain_text("standardize=True")
    expect(page.locator("#step")).to_have_text("2")
    expect(page.locator("#note")).to_have_text(
        "RUN stopped at step 2: the descent diverged (why, below)."
    )


def test_a_shared_link_to_a_diverged_session(page: Page, live_server):
    open_page(page, live_server, "?lr=1.5")
    page.click("#run-btn")
    expect(page.locator("#status")).to_contain_text("Diverged", timeout=30_000)
    steps, message = page.text_content("#step"), page.text_content("#status")
    assert int(steps) > 1
    expect(page).to_have_url(re.compile(rf"steps={steps}$"))
    page.goto(page.url)  # the shared link: the same step, the same words
    expect(page.locator("#status")).to_have_text(message)
    expect(page.locator("#step")).to_have_text(steps)
    # a link asking for more steps than the descent survives stops where it diverged
    page.goto(f"{live_server}/?lr=1.5&steps=500")
    expect(page.locator("#status")).to_have_text(message)
    expect(page.locator("#step")).to_have_text(steps)
    expect(page).to_have_url(re.compile(rf"steps={steps}$"))


def test_the_target_is_never_a_feature(page: Page, live_server):
    open_page(page, live_server)
    expect(page.locator("#features option[value=weight]")).to_be_disabled()
    page.select_option("#target", "height")
    expect(page.locator("#features option[value=height]")).to_be_disabled()
    expect(page.locator("#features option[value=weight]")).to_be_enabled()
    expect(page.locator("#params")).to_have_text(re.compile(r"^height = .* \* weight \+ "))
    # even forced into the list, the target is not sent as a feature
    page.evaluate(
        "() => { for (const o of document.getElementById('features').options) o.selected = "
        "true; document.getElementById('features').dispatchEvent(new Event('change')); }"
    )
    expect(page.locator("#params")).to_contain_text("* repht")
    expect(page.locator("#params")).not_to_contain_text("* height")
    expect(page.locator("#error")).to_be_hidden()


def test_no_mode_bar_and_a_chart_without_scrolling(page: Page, live_server):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server}/?lr=0.1")
    expect(page.locator("#chart-surface .main-svg").first).to_be_visible()
    expect(page.locator(".modebar")).to_have_count(0)  # no share button, no Tab stops
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    for chart in ("#chart-data", "#chart-loss"):
        box = page.locator(chart).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 800, chart  # seen at once
    shot(page, "laptop-1280")


def test_mini_batch_loss_chart_is_the_full_data_loss(page: Page, live_server):
    open_page(page, live_server, "?lr=0.02&mode=mini&batch=32")
    expect(page.locator("#chart-loss")).to_contain_text("loss on all rows, every 7 steps")
    page.click("#run-btn")
    expect(page.locator("#step")).not_to_have_text(re.compile(r"^[0-9]$"))
    page.click("#run-btn")
    # a batch of 32 rows, or the 8 left at an epoch's end (200 rows)
    expect(page.locator("#explain")).to_contain_text(re.compile(r"\((32|8) of them\)"))


PHONE_PAGES = {
    "mini-batch": "?lr=0.02&mode=mini&batch=16",
    "long-titles": "?dataset=bdims&features=hgt,age&penalty=elasticnet&alpha=1&l1_ratio=0.5"
    "&loss=huber&epsilon=2&lr=0.1",
}


@pytest.mark.parametrize("name", list(PHONE_PAGES))
def test_a_phone_never_scrolls_sideways(page: Page, live_server, name):
    query = PHONE_PAGES[name]
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/{query}")
    expect(page.locator("#chart-surface .main-svg").first).to_be_visible()
    page.click("#step-btn")
    expect(page.locator("#step")).to_have_text("1")
    expect(page.locator("#explain")).to_contain_text("Step 0")
    page.wait_for_timeout(500)  # the contours are redrawn after a step
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for part in ("#readout", "#charts", "#explain-panel", "#controls"):
        box = page.locator(part).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, part
    # the readout is lines of text, not a column of single words
    assert page.locator("#readout").bounding_box()["width"] > 300
    params = page.locator("#params").bounding_box()
    assert params["width"] > 250 and params["height"] < 80
    # every chart title inside its chart
    for chart in ("#chart-data", "#chart-loss", "#chart-surface"):
        frame = page.locator(chart).bounding_box()
        title = page.locator(f"{chart} .gtitle").bounding_box()
        right = frame["x"] + frame["width"]
        assert frame["x"] <= title["x"] and title["x"] + title["width"] <= right, chart
    shot(page, f"phone-390-{name}")


def test_a_shared_link_to_an_upload_keeps_its_columns(page: Page, live_server, tmp_path):
    data = tmp_path / "three.csv"
    rows = [f"{i},{2 * i + (i % 3)},{5 - i + (i % 2)}" for i in range(30)]
    data.write_text("x,y,z\n" + "\n".join(rows) + "\n")
    open_page(page, live_server, "?lr=0.1")
    page.select_option("#dataset", "upload")
    page.set_input_files("#upload", str(data))
    expect(page.locator("#params")).to_have_text(re.compile(r"^z = .* \* x \+ "))
    page.select_option("#target", "y")
    page.select_option("#features", ["z"])
    expect(page.locator("#params")).to_have_text(re.compile(r"^y = .* \* z \+ "))
    page.click("#step-btn")
    expect(page.locator("#step")).to_have_text("1")
    url, params = page.url, page.text_content("#params")
    page.goto(url)
    expect(page.locator("#params")).to_have_text(params)
    expect(page.locator("#target")).to_have_value("y")
    expect(page.locator("#notice")).to_be_hidden()
    # on a server that no longer holds the file: said, and its columns come back with it
    page.goto(re.sub(r"upload=[0-9a-f]+", "upload=0123", url))
    expect(page.locator("#notice")).to_contain_text("the uploaded file of this link is gone")
    page.set_input_files("#upload", str(data))
    expect(page.locator("#params")).to_have_text(re.compile(r"^y = .* \* z \+ "))


def test_every_way_run_ends_is_said(page: Page, live_server):
    """The page's own rule for RUN's end (``runEnded`` in app.js), at each way it ends."""
    open_page(page, live_server)
    outlook = {"message": "The loss is 300; the minimum is 219.", "hopeless": False}
    cases = [
        ({"status": "running", "step": 20000, "outlook": outlook}, False),
        ({"status": "running", "step": 60, "outlook": {**outlook, "hopeless": True}}, False),
        ({"status": "running", "step": 31, "success": {"steps": 31}}, False),
        ({"status": "diverged", "step": 4}, False),
        ({"status": "converged", "step": 90, "message": "converged: predictions within"}, True),
        ({"status": "running", "step": 100, "outlook": outlook}, False),
    ]
    said = [
        page.evaluate("([s, had]) => runEnded(s, 0, had)", [state, had]) for state, had in cases
    ]
    assert said == [
        "RUN stopped after 20,000 steps, its limit for one press: press RUN to go on. The loss "
        "is 300; the minimum is 219.",
        "RUN stopped at step 60. The loss is 300; the minimum is 219.",
        "RUN stopped at step 31: you reached the minimum.",
        "RUN stopped at step 4: the descent diverged (why, below).",
        "RUN stopped at step 90: the descent converged (converged: predictions within).",
        None,  # it goes on
    ]


def test_the_rate_slider_carries_the_theorys_marks(page: Page, live_server):
    open_page(page, live_server, "?dataset=davis&lr=0.1&standardize=1")
    marks = page.locator("#lr-marks option")
    expect(marks).to_have_count(2)
    assert [float(v) for v in marks.evaluate_all("os => os.map(o => o.value)")] == pytest.approx(
        [np.log10(0.5), np.log10(1.0)], abs=1e-9
    )  # the best rate and 2/L on standardized Davis
    expect(page.locator("#lr-theory")).to_contain_text("best rate 0.5, stable limit 2/L = 1")
    set_lr(page, "1")
    expect(page.locator("#lr-theory")).to_contain_text("at the edge of stability")
    shot(page, "rate-theory")
