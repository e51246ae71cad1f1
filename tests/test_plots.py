import os

import numpy as np
import pytest
from PIL import Image

from gradfit import fit, load_dataset, make_article_b, plots

os.environ.setdefault("MPLCONFIGDIR", "/tmp/gradfit-mpl")


@pytest.fixture(scope="module")
def davis():
    d = load_dataset("davis")
    return d, fit(d.X, d.y, lr=0.1, standardize=True, feature_names=d.feature_names)


def test_loss_curve_data_is_the_history(davis, tmp_path):
    d, r = davis
    fig = plots.loss_curve(r, d.X, d.y)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), r.history.step)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), r.history.loss)
    assert ax.get_yscale() == "log"
    optimum = ax.lines[1].get_ydata()[0]
    assert optimum == pytest.approx(np.mean((d.X[:, 0] * r.w[0] + r.b - d.y) ** 2), rel=1e-9)
    out = plots.save(fig, tmp_path / "loss.png")
    with Image.open(out) as img:
        assert img.format == "PNG" and img.size == (640, 480)


def test_fitted_line_ends_at_the_fit(davis):
    d, r = davis
    fig = plots.fitted_line(r, d.X, d.y)
    final = fig.axes[0].lines[-1]
    x, yv = final.get_xdata(), final.get_ydata()
    np.testing.assert_allclose(yv, r.w[0] * x + r.b, rtol=1e-12)
    first = fig.axes[0].lines[0]
    np.testing.assert_allclose(first.get_ydata(), r.history.w[0, 0] * x + r.history.b[0])
    # the axes name the data's columns
    from gradfit import ArraySource

    named = fit(ArraySource(d.X, d.y, feature_names=["height"], target_name="weight"))
    axes = plots.fitted_line(named, d.X, d.y).axes[0]
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("height", "weight")


def test_cost_surface_path_is_the_history(davis, tmp_path):
    d, r = davis
    fig = plots.cost_surface(r, d.X, d.y)
    path = fig.axes[0].lines[0].get_xydata()
    np.testing.assert_array_equal(path, r.history.theta[:, [0, 1]])
    star = fig.axes[0].lines[1].get_xydata()[0]
    np.testing.assert_allclose(r.scaling.to_original(star), np.append(r.w, r.b), rtol=1e-6)
    plots.save(fig, tmp_path / "s.svg")
    assert (tmp_path / "s.svg").read_text().lstrip().startswith("<?xml")
    fig3 = plots.cost_surface(r, d.X, d.y, kind="3d")
    assert fig3.axes[0].name == "3d"


def test_cost_surface_for_two_of_many_coefficients():
    b = make_article_b(500)
    r = fit(b.X, b.y, lr=0.1, max_iter=50, tol=0)
    fig = plots.cost_surface(r, b.X, b.y, coefs=(4, 3))
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_xydata(), r.history.theta[:, [4, 3]])


def test_lr_comparison_shows_divergence(davis):
    d, _ = davis
    fig = plots.lr_comparison(d.X, d.y, factors=(0.5, 1.0, 2.1))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[1].startswith("1/L: 1 steps")
    assert "diverged at step" in labels[2]


def test_lr_finder_marks_the_theory(davis):
    d, _ = davis
    fig = plots.lr_finder(d.X, d.y, n_rates=12)
    ax = fig.axes[0]
    marks = [ln.get_xdata()[0] for ln in ax.lines[1:]]
    assert marks == pytest.approx([0.5, 1.0])  # 1/L and 2/L with standardized heights
    losses = ax.lines[0].get_ydata()
    assert losses[-1] > losses[len(losses) // 2]  # rates beyond 2/L blow up


def test_animation_gif(davis, tmp_path):
    d, r = davis
    out = plots.animate(r, d.X, d.y, tmp_path / "descent.gif", frames=6)
    with Image.open(out) as img:
        assert img.format == "GIF" and img.n_frames == 6 and img.size == (1280, 480)


def test_bad_plot_requests(davis, tmp_path):
    from gradfit import InvalidInputError

    _, r = davis
    with pytest.raises(InvalidInputError, match=r"use a \.png"):
        plots.save(plots.loss_curve(r), tmp_path / "x.jpg")
    b = load_dataset("bdims")
    rb = fit(b.X, b.y, lr="auto", standardize=True, max_iter=5, tol=0)
    with pytest.raises(InvalidInputError, match="line plot needs one feature, this fit has"):
        plots.fitted_line(rb, b.X, b.y)
    assert not list(tmp_path.iterdir())


# -- penalties and Huber's loss: the objective the fit minimised, and the path ---------------


@pytest.fixture(scope="module")
def lasso_davis():
    d = load_dataset("davis")
    kwargs = {"penalty": "l1", "alpha": 5.0, "lr": 0.1, "standardize": True}
    return d, kwargs, fit(d.X, d.y, **kwargs)


def test_penalized_surface_is_the_penalized_objective(lasso_davis):
    from sklearn.linear_model import Lasso

    from gradfit import FitOptions, InvalidInputError

    d, kwargs, r = lasso_davis
    # least squares' surface would be wrong for this fit: refused, not drawn
    with pytest.raises(InvalidInputError, match=r"this fit minimised lasso \(alpha=5\)"):
        plots.cost_surface(r, d.X, d.y)
    with pytest.raises(InvalidInputError, match="this fit minimised lasso"):
        plots.loss_curve(r, d.X, d.y)
    with pytest.raises(InvalidInputError, match=r"these options describe lasso \(alpha=1\)"):
        plots.cost_surface(r, d.X, d.y, options={**kwargs, "alpha": 1.0})
    fig = plots.cost_surface(r, d.X, d.y, options=kwargs)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_xydata(), r.history.theta[:, [0, 1]])
    # the star is the lasso's minimum (scikit-learn's Lasso minimises half gradfit's J)
    ref = Lasso(alpha=5.0, tol=1e-12, max_iter=100_000).fit(d.X, d.y)
    star = r.scaling.to_original(ax.lines[1].get_xydata()[0])
    np.testing.assert_allclose(star, [ref.coef_[0], ref.intercept_], rtol=1e-7)
    assert "lasso (alpha=5)" in ax.get_title()
    # the surface's heights along the path are the objective descent recorded: the squared
    # error plus the penalty (least squares' surface would miss the penalty)
    fig3 = plots.cost_surface(r, d.X, d.y, kind="3d", options=FitOptions(**kwargs))
    z = fig3.axes[0].lines[0].get_data_3d()[2]
    np.testing.assert_allclose(z, r.history.loss, rtol=1e-9)
    w = r.history.w[:, 0]
    mse = np.mean((np.outer(w, d.X[:, 0]) + r.history.b[:, None] - d.y) ** 2, axis=1)
    np.testing.assert_allclose(z, mse + 2 * 5.0 * np.abs(w), rtol=1e-9)
    # the loss curve's minimum is the lasso's: twice scikit-learn's objective at its answer
    line = plots.loss_curve(r, d.X, d.y, options=kwargs).axes[0].lines[1]
    sk = np.mean((ref.predict(d.X) - d.y) ** 2) + 2 * 5.0 * abs(ref.coef_[0])
    assert line.get_ydata()[0] == pytest.approx(sk, rel=1e-9)


def test_huber_surface_and_animation(tmp_path):
    d = load_dataset("davis")
    kwargs = {"loss": "huber", "epsilon": 5.0, "optimizer": "fista"}
    r = fit(d.X, d.y, **kwargs)
    fig = plots.cost_surface(r, d.X, d.y, kind="3d", options=kwargs)
    z = fig.axes[0].lines[0].get_data_3d()[2]
    np.testing.assert_allclose(z, r.history.loss, rtol=1e-9)
    e = np.outer(r.history.w[:, 0], d.X[:, 0]) + r.history.b[:, None] - d.y
    c = np.clip(e, -5, 5)
    np.testing.assert_allclose(z, np.mean(c * (2 * e - c), axis=1), rtol=1e-9)
    out = plots.animate(r, d.X, d.y, tmp_path / "h.gif", frames=4, options=kwargs)
    with Image.open(out) as img:
        assert img.n_frames == 4
    # the fitted line needs no options (it draws the data and the line)
    assert "Huber's loss" in plots.fitted_line(r, d.X, d.y).axes[0].get_title()


def test_coefficient_path_draws_the_path(tmp_path):
    from gradfit import regularization_path

    b = load_dataset("bdims")
    names = b.feature_names[:6]
    p = regularization_path(b.X[:, :6], b.y, n_alphas=12, feature_names=names)
    fig = plots.coefficient_path(p)
    ax = fig.axes[0]
    coefficient_lines = ax.lines[:6]
    for j, line in enumerate(coefficient_lines):
        np.testing.assert_array_equal(line.get_xdata(), p.alphas)
        np.testing.assert_array_equal(line.get_ydata(), p.coef[:, j])
        assert line.get_label() == names[j]
    assert ax.get_xscale() == "log" and ax.xaxis_inverted()  # strongest on the left
    left, right = ax.get_xlim()
    assert left >= p.alphas[0] and right <= p.alphas[-1]
    marker = ax.lines[-1]
    assert marker.get_xdata()[0] == p.alpha_max == p.alphas[0]
    assert "alpha_max" in marker.get_label()
    assert "original units" in ax.get_ylabel()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:6] == names
    assert ax.get_title().startswith("lasso path: 0 to ")
    out = plots.save(fig, tmp_path / "path.png")
    with Image.open(out) as img:
        assert img.format == "PNG"
    assert [f.name for f in tmp_path.iterdir()] == ["path.png"]  # no temporary file left


def test_coefficient_path_many_features_and_ridge():
    from gradfit import InvalidInputError, regularization_path

    b = load_dataset("bdims")
    p = regularization_path(b.X, b.y, n_alphas=6, feature_names=b.feature_names)
    ax = plots.coefficient_path(p, label_top=5).axes[0]
    # too many for a legend: the names of the 5 largest at the weak end of their lines
    named = sorted(t.get_text() for t in ax.texts)
    largest = np.argsort(np.abs(p.coef[-1]))[::-1][:5]
    assert named == sorted(b.feature_names[j] for j in largest)
    ridge = regularization_path(b.X[:, :3], b.y, penalty="l2", n_alphas=4)
    ax = plots.coefficient_path(ridge).axes[0]
    assert "start of the grid" in ax.lines[-1].get_label()
    assert ax.get_title().startswith("ridge path")
    with pytest.raises(InvalidInputError, match="draws a RegularizationPath"):
        plots.coefficient_path(ridge.coef)


def test_a_drawing_of_a_fit_that_stopped_short_says_so():
    """Plots that tell the truth: a line or a surface of a fit short of its answer carries a
    visible note; standardized contours have equal axis scales (the bowl's real shape)."""
    import warnings

    import gradfit
    from gradfit import plots

    d = gradfit.load_dataset("davis")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        short = gradfit.fit(d.X, d.y, lr=0.01, max_iter=5)
    done = gradfit.fit(d.X, d.y, lr=0.5)
    for make in (plots.fitted_line, plots.cost_surface):
        notes = [t.get_text() for t in make(short, d.X, d.y).axes[0].texts]
        assert any(n.startswith("not converged: max_iter reached") for n in notes), notes
        assert not make(done, d.X, d.y).axes[0].texts
    ax = plots.cost_surface(done, d.X, d.y).axes[0]
    assert ax.get_aspect() == 1.0
