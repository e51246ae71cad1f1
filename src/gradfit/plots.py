"""Pictures of the descent (needs ``gradfit[plot]``: matplotlib).

Every function returns a ``matplotlib.figure.Figure`` built without pyplot (no
global state, no display needed); ``save`` writes PNG, SVG or PDF atomically and
``animate`` a GIF. Coefficient paths are drawn in the coordinates descent ran in
(standardized features when ``standardize`` was on), where the cost surface has
the shape the learning rate meets.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gradfit.data.batching import resolve_batch_size
from gradfit.data.io import atomic_path
from gradfit.data.source import as_source, in_memory, is_source
from gradfit.exceptions import InvalidInputError, require
from gradfit.model import Objective
from gradfit.surface import optimum, surface_grid
from gradfit.train import FitOptions, FitResult, sweep
from gradfit.train.fit import objective_for, options_of

__all__ = [
    "animate",
    "cost_surface",
    "fitted_line",
    "loss_curve",
    "lr_comparison",
    "lr_finder",
    "save",
]

FIGSIZE = (6.4, 4.8)
DPI = 100


def _figure(ncols: int = 1, projection: str | None = None) -> Any:
    figure_mod = require("matplotlib.figure", "plot")
    fig = figure_mod.Figure(figsize=(FIGSIZE[0] * ncols, FIGSIZE[1]), dpi=DPI, layout="tight")
    kw = {"projection": projection} if projection else {}
    for i in range(ncols):
        fig.add_subplot(1, ncols, i + 1, **kw)
    return fig


def save(fig: Any, path: str | os.PathLike[str]) -> Path:
    """Write a figure as PNG, SVG or PDF (by suffix), atomically."""
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg", "pdf"):
        raise InvalidInputError(f"cannot write {target.name!r}: use a .png, .svg or .pdf name")
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format=fmt)
    return target


def _objective(X: Any, y: Any, result: FitResult) -> Objective:
    """The objective ``result`` descended on, for the surface and the optimum."""
    # a streamed file stays streamed: the surface and the optimum need its statistics only
    source = as_source(X, y, feature_names=None if is_source(X) else result.model.feature_names)
    return Objective(source, scaling=result.scaling, fit_intercept=result.model.fit_intercept)


def _needs_intercept(objective: Objective, what: str, instead: str) -> None:
    """The intercept is a coordinate of the picture: a fit through the origin has none."""
    if not objective.fit_intercept:
        raise InvalidInputError(
            f"{what} draws the intercept b, and this fit goes through the origin (b = 0): "
            f"use {instead}"
        )


def _rate(result: FitResult) -> str:
    return "its own rate" if result.lr is None else f"lr {result.lr(0):.3g}"


def loss_curve(result: FitResult, X: Any = None, y: Any = None) -> Any:
    """Loss per recorded step (log scale), with the least-squares minimum when data is given.

    >>> from gradfit import load_dataset, fit
    >>> d = load_dataset("davis")
    >>> r = fit(d.X, d.y, lr=0.05, standardize=True)
    >>> fig = loss_curve(r, d.X, d.y)
    >>> bool((fig.axes[0].lines[0].get_ydata() == r.history.loss).all())
    True
    """
    fig = _figure()
    ax = fig.axes[0]
    h = result.history
    ax.plot(h.step, h.loss, marker=".", markersize=3, label="loss J")
    if X is not None and (y is not None or is_source(X)):
        best = optimum(_objective(X, y, result))[1]
        ax.axhline(best, color="k", linestyle="--", label=f"least-squares minimum {best:.4g}")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("mean squared error")
    ax.set_title(f"{result.optimizer}, {_rate(result)}: {result.stop.message}", fontsize=9)
    ax.legend()
    return fig


def fitted_line(result: FitResult, X: Any, y: Any, *, n_lines: int = 8) -> Any:
    """The data and the fitted line, with the lines of earlier steps fading in (one feature)."""
    objective = _objective(X, y, result)
    data_X, data_y, _ = objective.source.rows(None)
    if objective.n_params != 2:
        raise InvalidInputError(
            f"the line plot needs one feature, this fit has {objective.n_params - 1}: choose "
            "one with --features (features= in Python)"
        )
    fig = _figure()
    ax = fig.axes[0]
    x = np.asarray(data_X[:, 0]).ravel()
    ax.scatter(x, data_y, s=10, color="0.5", label="data")
    grid = np.linspace(x.min(), x.max(), 2)
    h = result.history
    picks = np.unique(np.linspace(0, len(h) - 1, min(n_lines, len(h))).round().astype(int))
    for rank, k in enumerate(picks):
        last = k == len(h) - 1
        ax.plot(
            grid,
            h.w[k, 0] * grid + h.b[k],
            color="C3" if last else "C0",
            alpha=1.0 if last else 0.15 + 0.6 * rank / max(1, len(picks) - 1),
            linewidth=2.0 if last else 1.0,
            label=f"step {h.step[k]}" if last or rank == 0 else None,
        )
    name = h.feature_names[0]
    ax.set_xlabel(name)
    ax.set_ylabel(result.model.target_name)
    ax.set_ylim(data_y.min() - 0.1 * np.ptp(data_y), data_y.max() + 0.1 * np.ptp(data_y))
    ax.set_title(f"y = {h.w[-1, 0]:.4g} * {name} + {h.b[-1]:.4g}", fontsize=10)
    ax.legend()
    return fig


def _coef_label(objective: Objective, index: int) -> str:
    if index in (-1, objective.n_params - 1):
        return "b (intercept)"
    name = objective.feature_names[index]
    return f"w[{name}]" + (" (standardized)" if not objective.scaling.is_identity else "")


def cost_surface(
    result: FitResult, X: Any, y: Any, *, coefs: Sequence[int] = (0, -1), kind: str = "contour"
) -> Any:
    """The cost J over two coefficients (others at their optimum) with the descent path.

    ``coefs`` are indices into ``[w_0, ..., w_{d-1}, b]`` (-1 is the intercept).
    ``kind`` is 'contour' or '3d'.
    """
    objective = _objective(X, y, result)
    d = objective.n_params - 1
    i, j = (c % (d + 1) for c in coefs)
    if i == j:
        raise InvalidInputError("coefs must name two different coefficients")
    if d in (i, j):
        _needs_intercept(objective, "cost_surface", "coefs=(0, 1)")
    if kind not in ("contour", "3d"):
        raise InvalidInputError(f"kind must be 'contour' or '3d', got {kind!r}")
    star, best = optimum(objective)
    path = result.history.theta
    A, C, J = surface_grid(objective, path, star, i, j)
    fig = _figure(projection="3d" if kind == "3d" else None)
    ax = fig.axes[0]
    if kind == "3d":
        ax.plot_surface(A, C, J, cmap="viridis", alpha=0.6, linewidth=0)
        ax.plot(path[:, i], path[:, j], objective.loss_at(path), color="C3", marker=".", zorder=5)
        ax.set_zlabel("J")
    else:
        levels = best + (J.max() - best) * np.linspace(0, 1, 25) ** 2
        ax.contour(A, C, J, levels=np.unique(levels), cmap="viridis", linewidths=0.8)
        ax.plot(path[:, i], path[:, j], color="C3", marker=".", markersize=4, label="descent")
        ax.plot(*star[[i, j]], marker="*", color="k", markersize=12, linestyle="", label="minimum")
        ax.legend()
    ax.set_xlabel(_coef_label(objective, i))
    ax.set_ylabel(_coef_label(objective, j))
    ax.set_title(f"cost surface, {len(path) - 1} steps at {_rate(result)}", fontsize=10)
    return fig


def _sweep_setup(
    X: Any, y: Any, standardize: bool, fit_args: dict[str, Any], chosen_here: tuple[str, ...]
) -> tuple[Objective, FitOptions, float]:
    """The objective, the shared options and the curvature of a sweep over rates.

    The options the plot chooses itself (the rates, and the budget of the finder) are
    refused rather than silently replaced.
    """
    given = sorted(set(fit_args) & {"lr", *chosen_here})
    if given:
        raise InvalidInputError(
            f"{', '.join(given)} cannot be given to this plot, which sets them itself: "
            "leave them out"
        )
    source = in_memory(X, y, feature_names=fit_args.pop("feature_names", None))
    options = options_of({"standardize": standardize, **fit_args}, "the plot")
    objective = objective_for(source, options)
    return (
        objective,
        options,
        objective.batch_lipschitz(resolve_batch_size(options.batch_size, objective.n_rows)),
    )


def lr_comparison(
    X: Any,
    y: Any,
    *,
    factors: Sequence[float] = (0.1, 0.5, 1.0, 1.9, 2.1),
    standardize: bool = True,
    max_iter: int = 300,
    **fit_args: Any,
) -> Any:
    """Article A's lesson on your data: the same descent at rates ``factor / L``.

    Each curve is labelled with the steps it needed; a divergent rate is drawn
    until it was caught and marked with a cross.
    """
    objective, options, L = _sweep_setup(X, y, standardize, fit_args, ())
    fig = _figure()
    ax = fig.axes[0]
    for point in sweep(objective, [f / L for f in factors], options.replace(max_iter=max_iter)):
        h, factor = point.history, point.lr * L
        if point.error is not None:
            label = f"{factor:g}/L: diverged at step {point.error.step}"
            ax.plot(h.step[-1:], h.loss[-1:], marker="x", color="k", markersize=10)
        else:
            assert point.result is not None
            label = f"{factor:g}/L: {point.result.n_steps} steps ({point.result.stop.code})"
        ax.plot(h.step, h.loss, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("mean squared error")
    c = objective.curvature
    ax.set_title(
        f"learning rates around 1/L = {1 / L:.3g} (stable below 2/L = {2 / L:.3g})", fontsize=10
    )
    if c.condition_number is not None:
        ax.text(
            0.99,
            0.98,
            f"condition number {c.condition_number:.3g}",
            ha="right",
            va="top",
            transform=ax.transAxes,
            fontsize=8,
        )
    ax.legend(fontsize=8)
    return fig


def lr_finder(
    X: Any,
    y: Any,
    *,
    steps: int = 10,
    n_rates: int = 40,
    standardize: bool = True,
    **fit_args: Any,
) -> Any:
    """Loss after ``steps`` steps against the learning rate, with 1/L and 2/L marked.

    Rates that diverge are drawn at the loss where divergence was caught.
    """
    objective, options, L = _sweep_setup(
        X, y, standardize, fit_args, ("max_iter", "tol", "gtol", "loss_tol")
    )
    rates = np.geomspace(1e-3 / L, 4.0 / L, n_rates)
    points = sweep(objective, rates, options.replace(max_iter=steps, tol=0, gtol=0))
    losses = np.array([p.result.loss if p.result else p.history.loss[-1] for p in points])
    fig = _figure()
    ax = fig.axes[0]
    ax.plot(rates, losses, marker=".")
    for value, name in ((1 / L, "1/L"), (2 / L, "2/L (stable limit)")):
        ax.axvline(
            value,
            linestyle="--",
            color="k" if name == "1/L" else "C3",
            label=f"{name} = {value:.3g}",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel(f"loss after {steps} steps")
    ax.set_title("learning-rate finder", fontsize=10)
    ax.legend(fontsize=8)
    return fig


def animate(
    result: FitResult,
    X: Any,
    y: Any,
    path: str | os.PathLike[str],
    *,
    frames: int = 30,
    fps: int = 8,
) -> Path:
    """An animated GIF of the descent: the path on the cost surface and the line on the data."""
    animation = require("matplotlib.animation", "plot")
    objective = _objective(X, y, result)
    data_X, data_y, _ = objective.source.rows(None)
    if objective.n_params != 2:
        raise InvalidInputError(
            f"the animation needs one feature, this fit has {objective.n_params - 1}: choose "
            "one with --features (features= in Python)"
        )
    target = Path(path)
    if target.suffix.lower() != ".gif":
        raise InvalidInputError(f"cannot write {target.name!r} as an animation: use a .gif name")
    star, _ = optimum(objective)
    theta = result.history.theta
    _needs_intercept(objective, "animate", "a loss curve or the fitted line")
    A, C, J = surface_grid(objective, theta, star, 0, 1, n=60)
    fig = _figure(ncols=2)
    surf, data = fig.axes
    surf.contour(A, C, J, levels=20, cmap="viridis", linewidths=0.7)
    surf.plot(*star, marker="*", color="k", markersize=12, linestyle="")
    surf.set_xlabel(_coef_label(objective, 0))
    surf.set_ylabel(_coef_label(objective, 1))
    (trail,) = surf.plot([], [], color="C3", marker=".")
    x = np.asarray(data_X[:, 0]).ravel()
    data.scatter(x, data_y, s=8, color="0.5")
    grid = np.linspace(x.min(), x.max(), 2)
    (line,) = data.plot([], [], color="C3", linewidth=2)
    data.set_xlim(x.min(), x.max())
    data.set_ylim(data_y.min() - 0.1 * np.ptp(data_y), data_y.max() + 0.1 * np.ptp(data_y))
    data.set_xlabel(objective.feature_names[0])
    h = result.history
    picks = np.unique(np.linspace(0, len(h) - 1, min(frames, len(h))).round().astype(int))

    def draw(k: int) -> tuple[Any, Any]:
        trail.set_data(theta[: k + 1, 0], theta[: k + 1, 1])
        line.set_data(grid, h.w[k, 0] * grid + h.b[k])
        data.set_title(f"step {h.step[k]}: loss {h.loss[k]:.4g}", fontsize=10)
        return trail, line

    movie = animation.FuncAnimation(fig, draw, frames=picks, blit=False)
    with atomic_path(target) as tmp:
        movie.save(tmp, writer=animation.PillowWriter(fps=fps))
    return target
