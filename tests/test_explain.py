import json
import re

import numpy as np
import pytest

from gradfit import InvalidInputError, fit, load_dataset
from gradfit.explain import explain
from gradfit.train import StepRecord

NUMBER = r"(-?[0-9.]+(?:e[-+]?[0-9]+)?)"


def engine_step(X, y, k, **kwargs):
    """Step k as the engine made it, observed independently of explain."""
    seen = []
    fit(X, y, on_step=lambda r: seen.append(r) if r.step == k else None, **kwargs)
    record: StepRecord = seen[0]
    return record


def numbers_after(text, label):
    line = next(ln for ln in text.splitlines() if ln.startswith(label))
    return [float(v) for v in re.findall(NUMBER, line.split("=")[-1])]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": 0.01, "standardize": True},
        {"lr": 1e-5},
        {"lr": 0.1, "standardize": True, "batch_size": 7, "random_state": 3},
        {"lr": 0.1, "standardize": True, "batch_size": 1, "random_state": 0},
        {"lr": 0.05, "standardize": True, "optimizer": "momentum"},
        {"lr": 0.05, "standardize": True, "optimizer": "nesterov"},
        {"lr": 0.05, "standardize": True, "optimizer": "adam", "batch_size": 20, "random_state": 1},
    ],
)
def test_printed_numbers_are_the_engines(kwargs):
    d = load_dataset("davis")
    k = 3
    e = explain(d.X, d.y, step=k, feature_names=["height"], target_name="weight", **kwargs)
    r = engine_step(d.X, d.y, k, max_iter=50, tol=0, gtol=0, **kwargs)
    text = e.to_text()
    rel = 1e-5  # printed with 6 significant digits
    assert numbers_after(text, "dJ/dm")[-1] == pytest.approx(r.grad[0], rel=rel)
    assert numbers_after(text, "dJ/db")[-1] == pytest.approx(r.grad[1], rel=rel)
    assert numbers_after(text, "m1 =")[-1] == pytest.approx(r.theta_next[0], rel=rel)
    assert numbers_after(text, "b1 =")[-1] == pytest.approx(r.theta_next[1], rel=rel)
    assert float(re.search(r"J = " + NUMBER, text).group(1)) == pytest.approx(r.loss, rel=rel)
    # the numbers themselves, unrounded
    np.testing.assert_array_equal(e.grad_w, r.grad[:-1])
    np.testing.assert_array_equal(e.w_next, r.theta_next[:-1])
    assert e.rows == (None if r.rows is None else r.rows.tolist())
    if kwargs.get("batch_size"):
        assert f"({len(r.rows)} of them)" in text


def test_explanation_recomputes_the_articles_formulas():
    d = load_dataset("davis")
    e = explain(d.X, d.y, step=2, lr=0.01, standardize=True, feature_names=["height"])
    # dJ/dm = (2/N) sum error_i x_i, from the shown predictions and errors
    assert e.grad_w[0] == pytest.approx(2 / 200 * np.sum(e.errors * e.x[:, 0]), rel=1e-12)
    assert e.grad_b == pytest.approx(2 / 200 * np.sum(e.errors), rel=1e-12)
    assert e.b_next == pytest.approx(e.b - 0.01 * e.grad_b, rel=1e-14)
    assert "in original units: y = " in e.to_text() or "height" in e.to_text()


def test_many_features_are_summarised():
    b = load_dataset("bdims")
    e = explain(b.X, b.y, step=1, lr="auto", standardize=True, feature_names=b.feature_names)
    text = e.to_text()
    assert "dJ/dw = (2/N) X^T error" in text and "(20 more)" in text
    assert "(502 more rows)" in text


def test_momentum_and_adam_terms_are_shown():
    d = load_dataset("davis")
    m = explain(d.X, d.y, step=2, lr=0.1, optimizer="momentum", standardize=True)
    assert "velocity v = g + beta * v_prev" in m.to_text()
    a = explain(d.X, d.y, step=2, lr=0.1, optimizer="adam", standardize=True)
    assert "second moment" in a.to_text() and {"mu", "nu"} <= set(a.terms)


def test_output_formats():
    d = load_dataset("davis")
    e = explain(d.X, d.y, step=0, lr=0.01, standardize=True, feature_names=["height"])
    md = e._repr_markdown_()
    assert md.startswith("**Step 0") and "| i | x_i |" in md
    latex = e._repr_latex_()
    assert latex.startswith("$$\\begin{aligned}") and "\\frac{\\partial J}{\\partial m}" in latex
    data = json.loads(e.to_json())
    assert data["grad_b"] == e.grad_b and data["text"] == e.lines()


def test_divergent_step_is_explained():
    d = load_dataset("davis")
    e = explain(d.X, d.y, step=1, lr=0.01, standardize=False)  # raw centimetres: explodes
    assert e.loss_next > 1e5 * e.loss


def test_step_beyond_the_fit():
    d = load_dataset("davis")
    with pytest.raises(InvalidInputError, match="stopped after 1 step "):
        explain(d.X, d.y, step=5, lr=0.5, standardize=True)
    with pytest.raises(InvalidInputError, match="step must be"):
        explain(d.X, d.y, step=-1)
