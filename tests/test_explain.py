import json
import re

import numpy as np
import pytest

from gradfit import ArraySource, FitOptions, InvalidInputError, fit, load_dataset
from gradfit.explain import explain
from gradfit.train import StepRecord
from gradfit.train.fit import objective_for

NUMBER = r"(-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[-+]?[0-9]+)?)"


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
    own = r.grad
    if r.rows is not None and kwargs.get("optimizer", "svrg") == "svrg":
        # SVRG: the batch's own gradient, then the correction the engine added to it
        objective = objective_for(ArraySource(d.X, d.y), FitOptions(**kwargs))
        own = objective.batch_value_and_grad(r.theta, r.rows)[1]
        assert numbers_after(text, "SVRG correction") == pytest.approx(r.grad - own, rel=rel)
        assert numbers_after(text, "gradient g") == pytest.approx(r.grad, rel=rel)
    assert numbers_after(text, "dJ/dm")[-1] == pytest.approx(own[0], rel=rel)
    assert numbers_after(text, "dJ/db")[-1] == pytest.approx(own[1], rel=rel)
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


# -- penalties and Huber's loss: the proximal step and the clipped errors, with the engine's
# numbers ---------------------------------------------------------------------------------

THRESHOLD_LINE = re.compile(
    rf"^  (w1|x)\[(\w+)\] = sign\({NUMBER}\) max\({NUMBER} - {NUMBER}, 0\) = {NUMBER}"
    r"( \(held at 0 by the kink\))?$"
)


def threshold_lines(text):
    return [m.groups() for ln in text.splitlines() if (m := THRESHOLD_LINE.match(ln))]


@pytest.fixture(scope="module")
def bdims():
    return load_dataset("bdims")


def test_ista_soft_threshold_is_the_next_step(bdims):
    # alpha = 1 with the oscillating best rate: step 3 sets 8 coefficients to exactly 0
    kwargs = {"penalty": "l1", "alpha": 1.0, "lr": "auto", "optimizer": "gd"}
    X, y, names = bdims.X[:, :8], bdims.y, bdims.feature_names[:8]
    e = explain(X, y, step=3, feature_names=names, **kwargs)
    r = engine_step(X, y, 3, feature_names=names, max_iter=10, tol=0, **kwargs)
    text = e.to_text()
    assert text.startswith("Step 3 (epoch 3): gd with the soft threshold (ISTA), learning rate lr")
    lam = 2 * 1.0 / np.std(X, axis=0)  # 2 alpha l1_ratio / scale_j: the penalty is on w
    v = r.theta - r.lr * r.grad  # the gradient step
    rows = threshold_lines(text)
    assert [row[1] for row in rows] == names
    for j, (_, _, v_j, abs_v, t_j, out, held) in enumerate(rows):
        assert float(v_j) == pytest.approx(v[j], rel=1e-5)
        assert float(abs_v) == pytest.approx(abs(v[j]), rel=1e-5)
        assert float(t_j) == pytest.approx(r.lr * lam[j], rel=1e-5)
        assert float(out) == pytest.approx(r.theta_next[j], rel=1e-5, abs=0)  # 0 exactly
        assert (held is not None) == (r.theta_next[j] == 0)
    # unrounded: the soft threshold explain computes is the engine's next step
    np.testing.assert_allclose(e.thresholded[:-1], r.theta_next[:-1], rtol=1e-12)
    np.testing.assert_array_equal(e.thresholded[:-1] == 0, r.theta_next[:-1] == 0)
    held = [n for n, w in zip(names, r.theta_next[:-1], strict=True) if w == 0]
    assert len(held) >= 2
    assert (
        f"the kink holds {len(held)} of 8 coefficients at 0 (|v_j| <= lr * lam_j): "
        + ", ".join(held)
        in text
    )
    assert numbers_after(text, "w1 =")[:4] == pytest.approx(r.theta_next[:4], rel=1e-5)
    # the intercept is not penalized: a plain gradient step
    assert numbers_after(text, "b1 =")[0] == pytest.approx(r.theta_next[-1], rel=1e-5)
    assert "(not penalized: no threshold)" in text
    # the objective is the loss plus the penalty, both printed
    assert "lasso (alpha = 1) = 2 |w|_1, on w in original units" in text
    w_orig = r.theta[:-1] / np.std(X, axis=0)
    mse = np.mean((X @ w_orig + r.theta[-1] - (np.mean(X, axis=0) @ w_orig) - y) ** 2)
    line = next(ln for ln in text.splitlines() if ln.startswith("objective J = L + penalty = "))
    shown = [float(v) for v in re.findall(NUMBER, line)[:3]]  # L, penalty, J
    assert shown == pytest.approx([mse, 2 * np.abs(w_orig).sum(), r.loss], rel=1e-5)


def test_elastic_net_shows_the_ridge_term(bdims):
    X, y = bdims.X[:, :3], bdims.y
    kwargs = {"penalty": "elasticnet", "alpha": 0.5, "l1_ratio": 0.25, "lr": 0.1}
    e = explain(X, y, step=2, **kwargs)
    r = engine_step(X, y, 2, max_iter=5, tol=0, **kwargs)
    # with a ridge part, standardizing divides by sqrt(var + alpha (1 - l1_ratio)): the scale
    # that gives every coordinate the same curvature (model/regularized.py)
    scale = np.sqrt(np.var(X, axis=0) + 0.5 * (1 - 0.25))
    l2 = 0.5 * (1 - 0.25) / scale**2
    ridge = 2 * l2 * r.theta[:-1]
    text = e.to_text()
    assert numbers_after(text, "ridge term 2 * l2_j * w_j") == pytest.approx(ridge, rel=1e-5)
    # the loss's gradient (from the rows shown) plus the ridge term is the engine's gradient
    np.testing.assert_allclose(e.loss_grad + e.ridge_grad, r.grad, rtol=1e-10)
    np.testing.assert_allclose(e.ridge_grad[:-1], ridge, rtol=1e-12)
    assert numbers_after(text, "gradient g = dL/d[w, b] + 2 l2 w") == pytest.approx(r.grad)
    weights = next(ln for ln in text.splitlines() if ln.startswith("in standardized coordinates"))
    lam, l2_shown = (re.findall(NUMBER, part.split("= ")[-1]) for part in weights.split(";"))
    assert [float(v) for v in lam] == pytest.approx(2 * 0.5 * 0.25 / scale, rel=1e-5)
    assert [float(v) for v in l2_shown] == pytest.approx(l2, rel=1e-5)
    np.testing.assert_allclose(e.thresholded[:-1], r.theta_next[:-1], rtol=1e-12)


def test_fista_momentum_and_restart_are_the_engines(bdims):
    kwargs = {"penalty": "l1", "alpha": 1.0, "optimizer": "fista"}
    X, y = bdims.X, bdims.y
    seen = []
    fit(X, y, max_iter=60, tol=0, on_step=seen.append, **kwargs)
    restarts = [r.step for r in seen if r.state_after.t == 1.0]
    assert restarts and restarts[0] > 2  # the data restarts FISTA's momentum
    for k in (2, restarts[0]):
        r = seen[k]
        e = explain(X, y, step=k, feature_names=bdims.feature_names, **kwargs)
        text = e.to_text()
        x = r.state_after.previous  # FISTA's proximal point x_k
        np.testing.assert_array_equal(e.fista.x, x)
        # the soft threshold of the gradient step from the extrapolated point is x_k
        np.testing.assert_array_equal(e.thresholded[:-1], x[:-1])
        rows = threshold_lines(text)
        assert [float(row[5]) for row in rows] == pytest.approx(x[:8], rel=1e-5, abs=0)
        assert numbers_after(text, "w1 =")[:4] == pytest.approx(r.theta_next[:4], rel=1e-5)
        assert numbers_after(text, "b1 =")[-1] == pytest.approx(r.theta_next[-1], rel=1e-5)
        if k == restarts[0]:
            assert "restart: the step y -> x points against the last move" in text
            assert "w1 = x =" in text
            np.testing.assert_allclose(r.theta_next, x, rtol=1e-12)
        else:
            t, t_next = r.state_before.t, r.state_after.t
            assert t_next == pytest.approx((1 + np.sqrt(1 + 4 * t * t)) / 2, rel=1e-15)
            factor = (t - 1) / t_next
            line = next(ln for ln in text.splitlines() if ln.startswith("w1 = x + "))
            assert float(line.split()[4]) == pytest.approx(factor, rel=1e-5)
            np.testing.assert_allclose(
                r.theta_next, x + factor * (x - r.state_before.previous), rtol=1e-12
            )
    # every format renders FISTA's step
    assert "\\operatorname{sign}" in e.to_latex() and "restart" in e.to_latex()
    assert json.loads(e.to_json())["fista"]["restart"] is True


def test_fista_without_a_penalty_is_explained():
    d = load_dataset("davis")
    e = explain(d.X, d.y, step=1, optimizer="fista", loss="huber", epsilon=5.0)
    r = engine_step(d.X, d.y, 1, optimizer="fista", loss="huber", epsilon=5.0, max_iter=5, tol=0)
    text = e.to_text()
    assert "no L1 part: the proximal step keeps x = v" in text
    assert numbers_after(text, "m1 =")[-1] == pytest.approx(r.theta_next[0], rel=1e-5)
    assert numbers_after(text, "b1 =")[-1] == pytest.approx(r.theta_next[1], rel=1e-5)


def test_huber_names_the_rows_past_epsilon():
    d = load_dataset("davis")
    # from the least-squares line, row 12 (index 11, weight and height swapped) is far off
    w0, b0 = [0.2384], 25.266
    kwargs = {"loss": "huber", "epsilon": 5.0, "lr": 0.1, "w0": w0, "b0": b0}
    e = explain(d.X, d.y, step=0, **kwargs)
    errors = d.X[:, 0] * w0[0] + b0 - d.y
    past = np.flatnonzero(np.abs(errors) > 5.0)
    assert 11 in past and 0 < len(past) < 200
    text = e.to_text()
    assert f"Huber: {len(past)} of 200 rows have |error_i| > epsilon = 5 (rows " in text
    assert "their force is clipped to 2 epsilon = 10" in text
    assert ", ".join(map(str, past[:12])) in text
    # the table's clipped errors, and the gradient from them, are the engine's
    assert "| clip(error_i, -eps, eps)" in text
    np.testing.assert_allclose(e.forces, np.clip(errors, -5, 5), rtol=1e-9, atol=1e-9)
    seen = []
    fit(d.X, d.y, max_iter=1, tol=0, on_step=seen.append, **kwargs)
    np.testing.assert_allclose(e.loss_grad, seen[0].grad, rtol=1e-10)
    assert numbers_after(text, "dJ/db = (2/N) sum clip(error_i)")[-1] == pytest.approx(
        seen[0].grad[1], rel=1e-5
    )
    data = json.loads(e.to_json())
    assert data["huber"]["rows_past_epsilon"] == past.tolist()


def test_penalized_outputs_and_one_feature():
    d = load_dataset("davis")
    e = explain(d.X, d.y, step=1, penalty="l1", alpha=3.0, lr=0.1, feature_names=["height"])
    r = engine_step(d.X, d.y, 1, penalty="l1", alpha=3.0, lr=0.1, max_iter=5, tol=0)
    text = e.to_text()
    line = next(ln for ln in text.splitlines() if ln.startswith("m1 = sign(v) max(|v| - lr"))
    assert float(line.rsplit("= ", 1)[1]) == pytest.approx(r.theta_next[0], rel=1e-5)
    assert numbers_after(text, "gradient step v =")[-1] == pytest.approx(
        r.theta[0] - 0.1 * r.grad[0], rel=1e-5
    )
    md = e.to_markdown()
    assert "| i | x_i | y_i |" in md and "- `m1 = sign(v) max(|v| - lr * lam, 0)" in md
    data = json.loads(e.to_json())
    assert data["penalty"]["name"] == "l1" and data["proximal"]["held"] == []
    assert data["text"] == e.lines()
    # a large strength: the kink holds the slope at 0 from the first step
    big = explain(d.X, d.y, step=0, penalty="l1", alpha=1000.0, lr=0.1)
    assert big.w_next[0] == 0 and "the kink holds m at 0" in big.to_text()


def test_fit_through_the_origin_with_a_penalty():
    d = load_dataset("davis")
    e = explain(d.X, d.y, step=0, optimizer="fista", penalty="l1", alpha=1.0, fit_intercept=False)
    text = e.to_text()
    assert "b1" not in text and "x_b" not in text and "y = m0 above" in text
    assert "partial b" not in e.to_latex()


def test_weighted_huber_ridge_batches_add_up_to_the_engines_gradient(bdims):
    # mini-batches of weighted rows: the loss's part (clipped errors, weighted) plus the
    # ridge part is the engine's batch gradient
    rng = np.random.default_rng(0)
    weights = rng.uniform(0.5, 2.0, len(bdims.y))
    kwargs = {
        "loss": "huber",
        "epsilon": 3.0,
        "penalty": "l2",
        "alpha": 0.3,
        "lr": 0.05,
        "optimizer": "gd",
        "batch_size": 50,
        "random_state": 1,
    }
    X = bdims.X[:, :4]
    e = explain(X, bdims.y, step=3, sample_weight=weights, w0=[0.5] * 4, b0=10.0, **kwargs)
    seen = []
    fit(
        X,
        bdims.y,
        sample_weight=weights,
        w0=[0.5] * 4,
        b0=10.0,
        max_iter=1,
        tol=0,
        on_step=lambda r: seen.append(r) if r.step == 3 else None,
        **kwargs,
    )
    r = seen[0]
    assert e.rows == r.rows.tolist()
    np.testing.assert_allclose(e.loss_grad + e.ridge_grad, r.grad, rtol=1e-10, atol=1e-12)
    assert 0 < e.past_epsilon.sum() < 50 and e.correction is None
    np.testing.assert_allclose(e.w_next, r.theta_next[:-1], rtol=0)
