"""``gradfit path``: the regularization path of a data set, as a table and a picture."""

from __future__ import annotations

import argparse
import csv
import sys

import numpy as np

from gradfit.cli_flags import _check_needs, _whole
from gradfit.cli_io import PLOT_SUFFIXES, _check_output, _source_of
from gradfit.data.io import atomic_path
from gradfit.exceptions import InvalidInputError
from gradfit.model.penalty import Penalty
from gradfit.train import FitOptions, RegularizationPath, regularization_path
from gradfit.train.options import DEFAULT_L1_RATIO, OPTIONS, flag_of

__all__ = ["PATH_SUFFIXES", "add_path_args", "path_command"]

PATH_SUFFIXES = (".csv",)
DEFAULT_N_ALPHAS = 50
DEFAULT_MIN_RATIO = 1e-3
# the path's own default share of L1 for the elastic net (gradfit.regularization_path)
DEFAULT_PATH_L1_RATIO = DEFAULT_L1_RATIO  # fit's (SGDRegressor's)
# options a path has no use for: it keeps no history, runs every fit to its end, and
# holds no rows out (regularization_path would accept and ignore them)
_UNUSED = {
    "history_stride": "it keeps no history",
    "max_history": "it keeps no history",
    "record_gap": "it keeps no history",
    "max_steps": "each strength is fitted to its end",
    "validation_fraction": "it fits every row",
}


def _ratio(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1), got {text!r}")
    return value


def _strength(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (np.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def add_path_args(p: argparse.ArgumentParser) -> None:
    """The flags of ``gradfit path`` beyond the data and the fit's options."""
    p.add_argument(
        "--alphas",
        nargs="+",
        type=_strength,
        metavar="ALPHA",
        help="fit these strengths (from the largest) instead of the grid",
    )
    p.add_argument(
        "--n-alphas",
        type=_whole(1),
        metavar="N",
        help=f"strengths on the grid, evenly spaced in log (default {DEFAULT_N_ALPHAS})",
    )
    p.add_argument(
        "--min-ratio",
        type=_ratio,
        metavar="R",
        help="the grid ends at R * alpha_max, where alpha_max holds every coefficient at 0 "
        f"(default {DEFAULT_MIN_RATIO:g}: scikit-learn's eps)",
    )
    p.add_argument("--plot", metavar="FILE", help="draw the path to this .png, .svg or .pdf file")
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the path to this .csv file (alpha, nonzero, steps, intercept, one column "
        "per feature; coefficients in original units)",
    )


def path_command(args: argparse.Namespace) -> None:
    """``gradfit path DATA [...]``: fit every strength, print the table, draw and save it."""
    if args.plot:
        _check_output(args.plot, "--plot", PLOT_SUFFIXES)
    if args.output:
        _check_output(args.output, "-o/--output", PATH_SUFFIXES)
    if args.alpha is not None:
        raise InvalidInputError(
            "--alpha: a path fits many strengths itself: give them with --alphas, or set "
            "the grid with --n-alphas and --min-ratio"
        )
    if args.alphas is not None and (args.n_alphas is not None or args.min_ratio is not None):
        raise InvalidInputError(
            "--alphas gives the strengths, and --n-alphas and --min-ratio set a grid of them: "
            "leave one or the other out"
        )
    given = {n: getattr(args, n) for n in OPTIONS if getattr(args, n, None) is not None}
    for name, why in _UNUSED.items():
        if name in given:
            raise InvalidInputError(
                f"{flag_of(name)} has no effect on a path ({why}): leave it out", option=name
            )
    penalty = given.pop("penalty", "l1")
    _check_needs({**given, "penalty": penalty})
    l1_ratio = given.pop("l1_ratio", DEFAULT_PATH_L1_RATIO)
    given.pop("alpha", None)
    options = FitOptions(**given).changed()
    source = _source_of(args)
    path = regularization_path(
        source,
        penalty=penalty,
        alphas=args.alphas,
        n_alphas=args.n_alphas or DEFAULT_N_ALPHAS,
        eps=args.min_ratio or DEFAULT_MIN_RATIO,
        l1_ratio=l1_ratio,
        **options,
    )
    dropped = getattr(source, "dropped", 0)
    if dropped:
        print(
            f"gradfit: note: skipped {dropped} rows with missing, NaN or infinite values "
            f"(--drop-missing); fitted on {source.n_rows}",
            file=sys.stderr,
        )
    for line in _table(path, source.target_name, source.n_rows, given):
        print(line)
    if args.output:
        _write_csv(path, args.output)
        print(f"path written to {args.output}")
    if args.plot:
        from gradfit import plots

        plots.save(plots.coefficient_path(path), args.plot)
        print(f"path plot written to {args.plot}")


def _table(
    path: RegularizationPath, target: str, n_rows: int, options: dict[str, object]
) -> list[str]:
    """The head lines and one row per strength: alpha, non-zero count, steps, coefficients."""
    ratio = {"l1": 1.0, "l2": 0.0}.get(path.penalty, path.l1_ratio)
    unit = Penalty(path.penalty, 1.0, path.l1_ratio)  # type: ignore[arg-type]
    terms = [f"{unit.l1:g} alpha |w|_1"] * bool(unit.l1) + [f"{unit.l2:g} alpha |w|^2"] * bool(
        unit.l2
    )
    loss = "mean Huber loss" if options.get("loss") == "huber" else "mean squared error"
    mix = f", l1_ratio {path.l1_ratio:g}" if path.penalty == "elasticnet" else ""
    d = len(path.feature_names)
    out = [
        f"{unit.title} path{mix} of {target} on {d} feature{'s' * (d != 1)}, {n_rows} rows: "
        f"{loss} + {' + '.join(terms)} (w in original units)",
    ]
    if ratio > 0:
        out.append(f"alpha_max = {path.alpha_max:.6g}: the L1 part holds every coefficient at 0")
    else:
        out.append(
            f"ridge sets no coefficient to 0; the grid starts at {path.alpha_max:.6g} "
            "(where an elastic net with l1_ratio 0.001 would)"
        )
    names = ["alpha", "nonzero", "steps", "intercept", *path.feature_names]
    cells = [
        [
            f"{a:.4g}",
            str(int(k)),
            str(int(s)),
            f"{b:.6g}",
            *(f"{w:.6g}" for w in coef),
        ]
        for a, k, s, b, coef in zip(
            path.alphas, path.nonzero(), path.n_steps, path.intercept, path.coef, strict=True
        )
    ]
    widths = [max(len(n), *(len(row[i]) for row in cells)) for i, n in enumerate(names)]
    out.append("  ".join(n.rjust(w) for n, w in zip(names, widths, strict=True)))
    out += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return out


def _write_csv(path: RegularizationPath, target: str) -> None:
    """The path as CSV, whole or not at all (every digit: repr of the floats)."""
    with atomic_path(target) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["alpha", "nonzero", "steps", "intercept", *path.feature_names])
        for a, k, s, b, coef in zip(
            path.alphas, path.nonzero(), path.n_steps, path.intercept, path.coef, strict=True
        ):
            writer.writerow(
                [repr(float(a)), int(k), int(s), repr(float(b)), *map(repr, coef.tolist())]
            )
