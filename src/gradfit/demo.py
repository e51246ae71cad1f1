"""The main job: both tutorial articles reproduced and explained (``gradfit demo``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from gradfit import train
from gradfit.data import load_dataset, make_article_b
from gradfit.data.source import ArraySource
from gradfit.exceptions import DivergenceError, require
from gradfit.model import Curvature, Objective, least_squares, predict
from gradfit.train import FitOptions, FitResult, Progress, fit, sweep

__all__ = ["article_a", "article_b", "run", "write_plots"]

ARTICLE_B_ROWS = (0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 750, 999)


def _fmt(values: Any, digits: int = 6) -> str:
    return "[" + ", ".join(f"{v:.{digits}f}" for v in np.atleast_1d(values)) + "]"


def _with_progress(console: Any, description: str, **kwargs: Any) -> FitResult:
    """Run ``fit`` under a rich progress bar advanced from the epoch callback."""
    progress_mod = require("rich.progress", "cli")
    max_iter = kwargs["max_iter"]
    with progress_mod.Progress(console=console, transient=False) as bar:
        task = bar.add_task(description, total=max_iter)

        def advance(p: Progress) -> bool:
            if p.epoch % 25 == 0:
                bar.update(task, completed=p.epoch)
            return False

        result = fit(callback=advance, **kwargs)
        bar.update(task, completed=max_iter)
    return result


def article_b(console: Any, verbose: bool = False) -> FitResult:
    """Article B: 5000 x 5, w = [2, 4, 5, 9, 11], b = 2, lr 0.01, 1000 full-batch iterations."""
    table_mod = require("rich.table", "cli")
    data = make_article_b(5000, seed=0)
    true_w, true_b = np.array([2.0, 4.0, 5.0, 9.0, 11.0]), 2.0
    console.rule("[bold]Article B: d = 5 features, N = 5000 points, learning rate 0.01")
    console.print(
        "y = w . x + b with w = [2, 4, 5, 9, 11], b = 2, x ~ N(0, I), no noise; "
        "start at w = 0, b = 0; 1000 full-batch iterations."
    )
    result = _with_progress(
        console,
        "gradient descent",
        X=data.X,
        y=data.y,
        lr=0.01,
        max_iter=1000,
        tol=0,
        standardize=False,
    )
    h = result.history
    shown = range(len(h) - 1) if verbose else ARTICLE_B_ROWS
    # The article computes every loss from the rows; so do the lines printed here. The
    # O(d^2) statistics the fit ran on agree down to about 1e-13 of mean(y^2) (2.5e-11
    # here) and are rounding noise below it, where this noise-free fit is from about 750 on.
    loss = {k: float(np.mean((predict(data.X, h.w[k], h.b[k]) - data.y) ** 2)) for k in shown}
    if verbose:
        for k in shown:
            line = f"iteration {h.step[k]}: w = {_fmt(h.w[k])}, b = {h.b[k]:.6f}"
            # one line each, however narrow the terminal: the article's format, greppable
            console.print(f"{line}, loss = {loss[k]:.6g}", highlight=False, soft_wrap=True)
    else:
        table = table_mod.Table(title="selected iterations (--verbose prints all 1000)")
        for col in ("iteration", "w", "b", "loss"):
            table.add_column(col, justify="right")
        for k in shown:
            table.add_row(str(h.step[k]), _fmt(h.w[k], 4), f"{h.b[k]:.4f}", f"{loss[k]:.4g}")
        console.print(table)
    console.print(f"final w = {_fmt(result.w)}   true w = {_fmt(true_w, 0)}", highlight=False)
    console.print(f"final b = {result.b:.6f}   true b = {true_b:g}", highlight=False)
    console.print(
        f"final loss = {result.loss:.3g}; {result.n_steps} steps in "
        f"{result.seconds * 1e3:.1f} ms ({result.path} path: every step costs O(d^2), not O(N d))",
        highlight=False,
    )
    near = int(np.argmax(np.abs(h.w - true_w).max(axis=1) < 0.01))
    console.print(
        f"As the article reports, the weights approach the true ones: within 0.01 of them "
        f"from iteration {h.step[near]} on, loss {h.loss[near]:.2g}.",
        highlight=False,
    )

    auto = fit(data.X, data.y, lr="auto", standardize=False)
    c = auto.curvature
    assert c is not None and c.condition_number is not None
    at_001 = c.steps_to_tolerance(0.01, 1e-8)
    console.print()
    console.print("[bold]Fewer steps?[/] lr='auto' reads the curvature of this data:")
    console.print(
        f"  L = {c.lipschitz:.4f} (largest eigenvalue of (2/N) [X 1]^T [X 1]), "
        f"lambda_min = {c.lambda_min:.4f}, condition number {c.condition_number:.3f}",
        highlight=False,
    )
    console.print(
        f"  stable for lr < 2/L = {c.max_stable_lr:.4f}; best constant rate 2/(lambda_min + L) "
        f"= {c.best_lr:.4f}",
        highlight=False,
    )
    console.print(
        f"  lr='auto' converged in {auto.n_steps} steps ({auto.stop}); "
        f"theory predicts {c.steps_to_tolerance(c.best_lr, 1e-8)} steps to shrink the error "
        f"1e8-fold at the best rate, and {at_001} at lr = 0.01.",
        highlight=False,
    )
    return result


def article_a(console: Any) -> FitResult:
    """Article A on real data: weight from height, divergence caught, then scaled and solved."""
    table_mod = require("rich.table", "cli")
    davis = load_dataset("davis")
    X, y = davis.X, davis.y
    console.rule("[bold]Article A: predict weight (kg) from height (cm), Davis data")
    console.print(f"{davis.description}", highlight=False)
    console.print()
    console.print("[bold]1.[/] lr = 0.01 on raw centimetres, as in the article:")
    try:
        fit(X, y, lr=0.01, standardize=False, feature_names=davis.feature_names)
    except DivergenceError as err:
        console.print(f"  [red]DivergenceError[/]: {err}", highlight=False)
    else:  # pragma: no cover - the data guarantees divergence
        raise AssertionError("lr = 0.01 on raw heights should diverge")

    console.print()
    console.print(
        "[bold]2.[/] the same rate with standardized heights (results in original units):"
    )
    result = fit(X, y, lr=0.01, standardize=True)
    m_ls, b_ls = least_squares(X, y)
    console.print(
        f"  weight = {result.w[0]:.4f} * height + {result.b:.3f}   after {result.n_steps} steps "
        f"({result.stop})",
        highlight=False,
    )
    console.print(
        f"  least squares (numpy.linalg.lstsq): weight = {m_ls[0]:.4f} * height + {b_ls:.3f}",
        highlight=False,
    )

    objective = Objective(ArraySource(X, y), scaling=True)
    c: Curvature = objective.curvature
    console.print()
    console.print("[bold]3.[/] is it possible to achieve similar results with fewer steps?")
    table = table_mod.Table(title=f"learning rates on standardized heights ({c.summary()})")
    for col in ("lr", "x 1/L", "steps to converge", "outcome"):
        table.add_column(col, justify="right")
    factors = (0.02, 0.2, 0.5, 1.0, 1.5, 1.9, 2.1)
    rates = [f / c.lipschitz for f in factors]
    points = sweep(objective, rates, FitOptions(max_iter=5000))
    for factor, point in zip(factors, points, strict=True):
        if point.error is not None:
            steps, outcome = "-", f"[red]diverged at step {point.error.step}[/]"
        else:
            assert point.result is not None
            steps, outcome = str(point.result.n_steps), str(point.result.stop).split(":")[0]
        table.add_row(f"{point.lr:.4g}", f"{factor:g}", steps, outcome)
    console.print(table)
    console.print(
        f"  The best constant rate 2/(lambda_min + L) = {c.best_lr:.4g} reaches the minimum in "
        f"{train.run(objective, FitOptions(lr=c.best_lr)).n_steps} step: "
        "standardized, this problem's cost surface is a perfectly round bowl.",
        highlight=False,
    )
    outlier_table(console, davis.X, davis.y)
    return result


# Huber's threshold for the Davis demo: errors past 5 kg pull with a fixed force
DAVIS_EPSILON = 5.0


def davis_fits(X: np.ndarray, y: np.ndarray) -> dict[tuple[str, bool], FitResult]:
    """Least squares and Huber (epsilon 5 kg), with and without row 12 (index 11)."""
    keep = np.ones(len(y), dtype=bool)
    keep[11] = False
    out = {}
    for loss in ("squared_error", "huber"):
        options: dict[str, Any] = {"loss": loss}
        if loss == "huber":
            options["epsilon"] = DAVIS_EPSILON
        out[loss, True] = fit(X, y, **options)
        out[loss, False] = fit(X[keep], y[keep], **options)
    return out


def outlier_table(console: Any, X: np.ndarray, y: np.ndarray) -> None:
    """Part 4 of article A: one outlier bends least squares; Huber's loss holds."""
    table_mod = require("rich.table", "cli")
    fits = davis_fits(X, y)
    console.print()
    console.print(
        "[bold]4.[/] Row 12 is a data-entry error (weight 166, height 57: swapped). "
        f"Least squares next to Huber's loss (squared errors up to {DAVIS_EPSILON:g} kg, "
        "linear beyond: a far-off row pulls with a fixed force):"
    )
    table = table_mod.Table(title="weight = slope * height + intercept")
    for col in ("loss", "rows", "slope (kg/cm)", "intercept (kg)", "steps"):
        table.add_column(col, justify="right")
    for (loss, with_row), r in fits.items():
        huber = f"Huber, epsilon {DAVIS_EPSILON:g} kg"
        name = "least squares" if loss == "squared_error" else huber
        rows = "all 200" if with_row else "without row 12"
        table.add_row(name, rows, f"{r.w[0]:.4f}", f"{r.b:.2f}", str(r.n_steps))
    console.print(table)
    ls, hub = fits["squared_error", True].w[0], fits["huber", True].w[0]
    clean = fits["squared_error", False].w[0]
    console.print(
        f"  One row takes the least-squares slope from {clean:.3f} to {ls:.3f}; with Huber's "
        f"loss it stays at {hub:.3f}. The rest of the gap is leverage: a height of 57 cm is "
        "far from the others, and Huber bounds the pull of a large error, not of an "
        "unusual x.",
        highlight=False,
    )


def outlier_plot(X: np.ndarray, y: np.ndarray) -> Any:
    """Davis with the four lines of ``davis_fits``: least squares bent by row 12, Huber's
    loss next to it (a figure, built without pyplot)."""
    figure_mod = require("matplotlib.figure", "plot")
    fig = figure_mod.Figure(figsize=(6.4, 4.8), dpi=100, layout="tight")
    ax = fig.add_subplot()
    ax.scatter(X[:, 0], y, s=10, color="0.6", label="Davis: 200 adults")
    ax.annotate("row 12 (swapped)", (X[11, 0], y[11]), xytext=(8, -4), textcoords="offset points")
    grid = np.linspace(X[:, 0].min(), X[:, 0].max(), 2)
    styles = {
        ("squared_error", True): ("C3", "-", "least squares, all rows"),
        ("squared_error", False): ("C3", ":", "least squares, without row 12"),
        ("huber", True): ("C0", "-", f"Huber (epsilon {DAVIS_EPSILON:g} kg), all rows"),
        ("huber", False): ("C0", ":", f"Huber (epsilon {DAVIS_EPSILON:g} kg), without row 12"),
    }
    for key, result in davis_fits(X, y).items():
        color, line, label = styles[key]
        ax.plot(grid, result.w[0] * grid + result.b, color=color, linestyle=line, label=label)
    ax.set_xlabel("height (cm)")
    ax.set_ylabel("weight (kg)")
    ax.set_title("One swapped row bends least squares; Huber's loss holds")
    ax.legend(fontsize="small")
    return fig


def _bdims_path() -> Any:
    """The lasso path of weight on the 24 body measurements (bdims)."""
    bdims = load_dataset("bdims")
    return train.regularization_path(bdims.X, bdims.y, feature_names=bdims.feature_names)


def write_plots(folder: str | os.PathLike[str], console: Any = None) -> list[Path]:
    """The pictures of both reproductions, written to ``folder``."""
    from gradfit import plots

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    b = make_article_b(5000, seed=0)
    davis = load_dataset("davis")
    X, y, names = davis.X, davis.y, davis.feature_names
    article_b_fit = fit(b.X, b.y, lr=0.01, max_iter=1000, tol=0, standardize=False)
    article_a_fit = fit(X, y, lr=0.1, standardize=True, feature_names=names)
    jobs = [
        ("article_b_loss.png", lambda: plots.loss_curve(article_b_fit, b.X, b.y)),
        (
            "article_b_surface.png",
            lambda: plots.cost_surface(article_b_fit, b.X, b.y, coefs=(4, 3)),
        ),
        ("article_a_line.png", lambda: plots.fitted_line(article_a_fit, X, y)),
        ("article_a_surface.png", lambda: plots.cost_surface(article_a_fit, X, y)),
        ("article_a_surface3d.png", lambda: plots.cost_surface(article_a_fit, X, y, kind="3d")),
        ("article_a_rates.png", lambda: plots.lr_comparison(X, y, feature_names=names)),
        ("article_a_finder.png", lambda: plots.lr_finder(X, y)),
        ("davis_huber.png", lambda: outlier_plot(X, y)),
        ("bdims_lasso_path.png", lambda: plots.coefficient_path(_bdims_path())),
    ]
    written = [plots.save(make(), out / name) for name, make in jobs]
    written.append(plots.animate(article_a_fit, X, y, out / "article_a_descent.gif"))
    if console is not None:
        console.print(f"plots written to {out}/: " + ", ".join(p.name for p in written))
    return written


def run(verbose: bool = False, console: Any = None, plots_dir: str | None = None) -> None:
    """Reproduce both articles (and write their plots to ``plots_dir``)."""
    if console is None:
        console = require("rich.console", "cli").Console()
    article_b(console, verbose)
    console.print()
    article_a(console)
    if plots_dir is not None:
        console.print()
        write_plots(plots_dir, console)
