"""Pictures of the descent (needs ``gradfit[plot]``: matplotlib).

Every function returns a ``matplotlib.figure.Figure`` built without pyplot (no
global state, no display needed); ``save`` writes PNG, SVG or PDF atomically and
``animate`` a GIF. Coefficient paths are drawn in the coordinates descent ran in
(standardized features when ``standardize`` was on), where the cost surface has
the shape the learning rate meets.

A fit with a penalty or Huber's loss minimised something else than least squares: the
loss curve, the cost surface and the animation draw that objective (its kinks, its
minimum) when given the fit's ``options``, and refuse to draw least squares' instead.
``coefficient_path`` draws the coefficients of a ``RegularizationPath`` against the
penalty's strength.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gradfit.data.batching import resolve_batch_size
from gradfit.data.io import atomic_path
from gradfit.data.source import as_source, in_memory, is_source
from gradfit.exceptions import InvalidInputError, require
from gradfit.model import Objective
from gradfit.surface import optimum, surface_grid
from gradfit.train import FitOptions, FitResult, RegularizationPath, sweep
from gradfit.train.fit import objective_for, options_of

__all__ = [
    "animate",
    "coefficient_path",
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


Options = FitOptions | Mapping[str, Any] | None


def _objective(X: Any, y: Any, result: FitResult, options: Options = None) -> Objective:
    """The objective ``result`` descended on, for the surface and the optimum.

    A fit with a penalty or Huber's loss needs its ``options`` (a ``FitOptions``, or the
    keyword arguments given to ``fit``): the result names what it minimised, not how.
    """
    # a streamed file stays streamed: the surface and the optimum need its statistics only
    source = as_source(X, y, feature_names=None if is_source(X) else result.model.feature_names)
    minimised = result.report.objective  # None: least squares
    if options is None:
        if minimised is not None:
            raise InvalidInputError(
                f"this fit minimised {minimised}, not least squares: pass the options it ran "
                "with (options=FitOptions(...), or the dict of fit's keyword arguments) to "
                "draw that objective"
            )
        return Objective(source, scaling=result.scaling, fit_intercept=result.model.fit_intercept)
    opts = options if isinstance(options, FitOptions) else options_of(dict(options), "the plot")
    opts = opts.replace(fit_intercept=result.model.fit_intercept)
    objective = objective_for(source, opts, result.scaling)
    if objective.describe() != minimised:
        given = objective.describe() or "least squares"
        raise InvalidInputError(
            f"these options describe {given}, and this fit minimised "
            f"{minimised or 'least squares'}: pass the options the fit ran with"
        )
    return objective


def _minimised(objective: Objective) -> str:
    """What the objective is, for labels: 'least squares' or the penalty and loss."""
    return objective.describe() or "least squares"


def _loss_label(objective: Objective | None, result: FitResult) -> str:
    if result.report.objective is None:
        return "mean squared error"
    what = result.report.objective if objective is None else _minimised(objective)
    return f"objective J: {what}"


def _needs_intercept(objective: Objective, what: str, instead: str) -> None:
    """The intercept is a coordinate of the picture: a fit through the origin has none."""
    if not objective.fit_intercept:
        raise InvalidInputError(
            f"{what} draws the intercept b, and this fit goes through the origin (b = 0): "
            f"use {instead}"
        )


def _rate(result: FitResult) -> str:
    return "its own rate" if result.lr is None else f"lr {result.lr(0):.3g}"


def loss_curve(result: FitResult, X: Any = None, y: Any = None, *, options: Options = None) -> Any:
    """Loss per recorded step (log scale), with the minimum when data is given.

    With a penalty or Huber's loss the curve is the objective the fit minimised (the
    history's own numbers), and its minimum needs ``options`` (see ``cost_surface``).

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
    objective = None
    if X is not None and (y is not None or is_source(X)):
        objective = _objective(X, y, result, options)
        best = optimum(objective)[1]
        where = "least-squares minimum" if objective.describe() is None else "minimum"
        ax.axhline(best, color="k", linestyle="--", label=f"{where} {best:.4g}")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(_loss_label(objective, result))
    title = f"{result.optimizer}, {_rate(result)}: {result.stop.message}"
    ax.set_title("\n".join(textwrap.wrap(title, 100)), fontsize=9)
    ax.legend()
    return fig


def fitted_line(result: FitResult, X: Any, y: Any, *, n_lines: int = 8) -> Any:
    """The data and the fitted line, with the lines of earlier steps fading in (one feature)."""
    source = as_source(X, y, feature_names=None if is_source(X) else result.model.feature_names)
    objective = Objective(source, scaling=result.scaling, fit_intercept=result.model.fit_intercept)
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
    minimised = "" if result.report.objective is None else f" ({result.report.objective})"
    ax.set_title(f"y = {h.w[-1, 0]:.4g} * {name} + {h.b[-1]:.4g}{minimised}", fontsize=10)
    ax.legend()
    _note_if_short(ax, result)
    return fig


def _coef_label(objective: Objective, index: int) -> str:
    if index in (-1, objective.n_params - 1):
        return "b (intercept)"
    name = objective.feature_names[index]
    return f"w[{name}]" + (" (standardized)" if not objective.scaling.is_identity else "")


def cost_surface(
    result: FitResult,
    X: Any,
    y: Any,
    *,
    coefs: Sequence[int] = (0, -1),
    kind: str = "contour",
    options: Options = None,
) -> Any:
    """The cost J over two coefficients (others at their optimum) with the descent path.

    ``coefs`` are indices into ``[w_0, ..., w_{d-1}, b]`` (-1 is the intercept).
    ``kind`` is 'contour' or '3d'. ``options``: the options the fit ran with (a
    ``FitOptions`` or the dict of ``fit``'s keyword arguments), needed when it minimised
    a penalty or Huber's loss: the surface is then that objective (an L1 penalty's kinks
    along ``w_j = 0``) and the star its minimum.
    """
    objective = _objective(X, y, result, options)
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
    # standardized coordinates share the target's units: a square frame on equal scales
    equal = kind == "contour" and not objective.scaling.is_identity
    A, C, J = surface_grid(objective, path, star, i, j, square=equal)
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
        if equal:  # a round bowl looks round
            ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel(_coef_label(objective, i))
    ax.set_ylabel(_coef_label(objective, j))
    what = "" if objective.describe() is None else f" of {_minimised(objective)}"
    ax.set_title(f"cost surface{what}, {len(path) - 1} steps at {_rate(result)}", fontsize=10)
    _note_if_short(ax, result)
    return fig


def _note_if_short(ax: Any, result: FitResult) -> None:
    """A visible note on a drawing of a fit that stopped short of its answer."""
    if result.converged:
        return
    ax.text(
        0.02,
        0.02,
        f"not converged: {result.stop}"[:110],
        transform=ax.transAxes,
        fontsize=8,
        color="C3",
        bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "C3"},
    )


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
    ax.set_ylabel(
        "mean squared error" if objective.describe() is None else f"J: {_minimised(objective)}"
    )
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
    options: Options = None,
) -> Path:
    """An animated GIF of the descent: the path on the cost surface and the line on the data.

    ``options``: as ``cost_surface`` (needed for a penalty or Huber's loss).
    """
    animation = require("matplotlib.animation", "plot")
    objective = _objective(X, y, result, options)
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


def coefficient_path(path: RegularizationPath, *, label_top: int = 10) -> Any:
    """The coefficients of a regularization path against the penalty's strength.

    One line per feature, in original units, over ``alpha`` on a log axis with the
    strongest penalty on the left (the order the path is fitted in: from every
    coefficient at 0 towards least squares); ``alpha_max``, where the L1 part first lets
    a coefficient move, is marked. Lines are labelled by feature name: a legend for up to
    ``label_top`` features, else a name at the end of the ``label_top`` largest.

    >>> import gradfit
    >>> d = gradfit.load_dataset("bdims")
    >>> p = gradfit.regularization_path(d.X, d.y, n_alphas=10, feature_names=d.feature_names)
    >>> ax = coefficient_path(p).axes[0]
    >>> ax.get_xscale(), bool(ax.xaxis_inverted())
    ('log', True)
    >>> bool((ax.lines[0].get_ydata() == p.coef[:, 0]).all())
    True
    """
    if not isinstance(path, RegularizationPath):
        raise InvalidInputError(
            f"coefficient_path draws a RegularizationPath, got {type(path).__name__}: pass "
            "the result of gradfit.regularization_path"
        )
    shown = path.alphas > 0  # a log axis has no alpha = 0 (least squares itself)
    if not shown.any():
        raise InvalidInputError("this path has no alpha > 0 to draw on a log axis")
    alphas, coef = path.alphas[shown], path.coef[shown]
    fig = _figure()
    ax = fig.axes[0]
    d = coef.shape[1]
    legend = d <= label_top
    if d > 10:  # the default cycle repeats after 10 colours
        cmap = require("matplotlib", "plot").colormaps["tab20"]
        ax.set_prop_cycle(color=[cmap(j % 20) for j in range(d)])
    for j in range(d):
        ax.plot(alphas, coef[:, j], label=path.feature_names[j], linewidth=1.2)
    if not legend:  # names at the weak end of the largest ones
        end = np.abs(coef[-1])
        for j in np.argsort(end)[::-1][:label_top]:
            ax.annotate(
                path.feature_names[j],
                (alphas[-1], coef[-1, j]),
                xytext=(3, 0),
                textcoords="offset points",
                fontsize=7,
                va="center",
            )
    ax.axhline(0.0, color="0.6", linewidth=0.6)
    kink = path.penalty != "l2"
    name = "alpha_max" if kink else "start of the grid"
    ax.axvline(
        path.alpha_max,
        color="k",
        linestyle="--",
        linewidth=0.9,
        label=f"{name} = {path.alpha_max:.3g}" + (" (all 0 from here)" if kink else ""),
    )
    ax.set_xscale("log")
    # strongest on the left (limits from large to small), with room for the names
    decades = max(float(np.log10(max(alphas.max(), path.alpha_max) / alphas.min())), 1.0)
    room = 10 ** ((0.04 if legend else 0.14) * decades)
    ax.set_xlim(max(alphas.max(), path.alpha_max) * 10 ** (0.04 * decades), alphas.min() / room)
    title = {"l1": "lasso", "l2": "ridge", "elasticnet": "elastic net"}[path.penalty]
    mix = f", l1_ratio {path.l1_ratio:g}" if path.penalty == "elasticnet" else ""
    ax.set_xlabel("alpha (penalty strength, log scale; stronger to the left)")
    ax.set_ylabel("coefficient w_j (original units)")
    nonzero = path.nonzero()[shown]
    ax.set_title(
        f"{title} path{mix}: {nonzero[0]} to {nonzero[-1]} of {d} coefficients non-zero",
        fontsize=10,
    )
    if legend:
        ax.legend(fontsize=7, ncol=2 if d > 5 else 1)
    else:  # the names are on the lines: the legend says where alpha_max is
        ax.legend(handles=ax.lines[-1:], fontsize=7)
    return fig
