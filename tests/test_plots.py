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
