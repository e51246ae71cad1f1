"""Command line: ``gradfit demo``, ``fit``, ``lr``, ``explain`` and ``plot``.

Bad input gets one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from gradfit.data import ArraySource, Dataset, load_table
from gradfit.data.datasets import DATASETS
from gradfit.exceptions import GradfitError, InvalidInputError
from gradfit.model import Objective
from gradfit.optim import rule_names
from gradfit.train import FitOptions, fit
from gradfit.train.options import OPTIONS, Interval, flag_of

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise InvalidInputError(f"{message} (see gradfit {self.prog.split()[-1]} --help)")


def _number_or_auto(text: str) -> float | str:
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number or 'auto': {text!r}") from None


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "data", help=f"CSV or Parquet file, or a shipped data set: {', '.join(DATASETS)}"
    )
    p.add_argument("--target", help="column to predict (default: the data set's own)")
    p.add_argument("--features", nargs="+", help="feature columns (default: all numeric)")


PLOTS = ("loss", "line", "surface", "surface3d", "rates", "finder", "animation")

# Where the command line's defaults differ from fit()'s: from a shell, let the data
# choose the rate.
CLI_DEFAULTS = {"lr": "auto"}


def _fit_args(p: argparse.ArgumentParser) -> None:
    """One flag per option of ``FitOptions`` that has one, built from its table."""
    for name, option in OPTIONS.items():
        flag = flag_of(name)
        if flag is None:
            continue
        default = CLI_DEFAULTS.get(name, option.default)
        shown = f"{option.help} (default: {default})"
        if isinstance(option.default, bool):
            # a flag that flips the default (--standardize, --no-shuffle)
            action = "store_false" if option.default else "store_true"
            p.add_argument(flag, dest=name, action=action, default=None, help=option.help)
            continue
        kwargs: dict[str, Any] = {"dest": name, "default": None, "help": shown}
        interval = option.interval()
        if name == "optimizer":
            kwargs["choices"] = rule_names()
        elif name == "lr":
            kwargs["type"] = _number_or_auto
        elif isinstance(interval, Interval):
            kwargs["type"] = int if interval.kind is int else float
        else:
            kwargs["choices"] = [a for a in option.accepts if isinstance(a, str)]
        p.add_argument(flag, **kwargs)


def _load(args: argparse.Namespace) -> Dataset:
    return load_table(args.data, target=args.target, features=args.features)


def _options(args: argparse.Namespace, **overrides: Any) -> FitOptions:
    """The options the user gave (and the command line's defaults), checked once."""
    given = {name: getattr(args, name) for name in OPTIONS if getattr(args, name, None) is not None}
    values = {**CLI_DEFAULTS, **given, **overrides}
    try:
        return FitOptions(**values)
    except InvalidInputError as err:
        raise _in_flags(err) from None


def _in_flags(err: InvalidInputError) -> InvalidInputError:
    """The same error, naming the command-line flag instead of the Python argument."""
    flag = flag_of(err.option) if err.option else None
    if flag is None or err.option is None:
        return err
    return InvalidInputError(str(err).replace(err.option, flag), option=err.option)


def _fit_kwargs(args: argparse.Namespace, **overrides: Any) -> dict[str, Any]:
    """The changed options as keyword arguments of ``fit``."""
    return _options(args, **overrides).changed()


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gradfit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    demo = sub.add_parser("demo", help="reproduce both tutorial articles")
    demo.add_argument("--verbose", action="store_true", help="print every iteration of article B")
    demo.add_argument("--plots", metavar="DIR", help="also write the plots to this folder")

    f = sub.add_parser("fit", help="fit y = X w + b by gradient descent")
    _data_args(f)
    _fit_args(f)
    f.add_argument("--history", help="write the history to this .csv or .json file")

    e = sub.add_parser("explain", help="one step written out with your numbers")
    _data_args(e)
    _fit_args(e)
    e.add_argument("--step", type=int, default=0, help="which step (0 is the first update)")
    e.add_argument("--format", choices=("text", "markdown", "latex", "json"), default="text")

    pg = sub.add_parser("playground", help="the learning-rate playground in your browser")
    pg.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    pg.add_argument("--port", type=int, default=8000, help="port (0: any free port)")
    pg.add_argument("--no-browser", action="store_true", help="do not open a browser")

    p = sub.add_parser("plot", help="draw the descent: " + ", ".join(PLOTS))
    p.add_argument("kind", choices=PLOTS)
    _data_args(p)
    _fit_args(p)
    p.add_argument(
        "-o", "--output", required=True, help="a .png, .svg or .pdf file (.gif: animation)"
    )

    lr = sub.add_parser("lr", help="learning-rate theory for a data set")
    _data_args(lr)
    lr.add_argument("--standardize", action="store_true", help=OPTIONS["standardize"].help)
    return parser


def _cmd_fit(args: argparse.Namespace) -> None:
    options = _options(args)
    data = _load(args)
    result = fit(data.X, data.y, feature_names=data.feature_names, **options.changed())
    terms = " + ".join(f"{w:.6g} * {n}" for w, n in zip(result.w, data.feature_names, strict=True))
    print(f"{data.target_name} = {terms} + {result.b:.6g}")
    print(f"loss (mean squared error) = {result.loss:.6g}")
    print(f"steps: {result.n_steps}, epochs: {result.n_epochs}; {result.stop}")
    print(f"learning rate: {result.lr}")
    if result.curvature is not None:
        print(f"curvature: {result.curvature.summary()}")
    if args.history:
        path = args.history
        if path.endswith(".json"):
            result.history.to_json(path)
        elif path.endswith(".csv"):
            result.history.to_csv(path)
        else:
            raise InvalidInputError(f"--history must end in .csv or .json, got {path!r}")
        print(f"history: {len(result.history)} entries written to {path}")


def _cmd_lr(args: argparse.Namespace) -> None:
    data = _load(args)
    objective = Objective(
        ArraySource(data.X, data.y, feature_names=data.feature_names),
        scaling=bool(args.standardize),
    )
    c = objective.curvature
    print(f"{data.target_name} ~ {', '.join(data.feature_names)}; {len(data.y)} rows")
    print(f"L (Lipschitz constant of the gradient) = {c.lipschitz:.6g}")
    if c.lambda_min is not None:
        print(f"lambda_min = {c.lambda_min:.6g}; condition number = {c.condition_number:.6g}")
    print(f"largest stable rate 2/L = {c.max_stable_lr:.6g}")
    print(f"rate that never overshoots 1/L = {c.inverse_lipschitz_lr:.6g}")
    print(f"best constant rate 2/(lambda_min + L) = {c.best_lr:.6g}")
    for lr in (c.best_lr, c.inverse_lipschitz_lr, 0.1 * c.inverse_lipschitz_lr):
        print(f"  steps to shrink the error 1e8-fold at lr = {lr:.4g}: {c.steps_to_tolerance(lr)}")
    offenders = objective.badly_scaled()
    if offenders:
        names = ", ".join(f"{n} (rms {v:.3g})" for n, v in offenders)
        print(f"scales differ by orders of magnitude: {names}; try --standardize")


def _cmd_explain(args: argparse.Namespace) -> None:
    from gradfit.explain import explain

    kwargs = _fit_kwargs(args)
    data = _load(args)
    e = explain(
        data.X,
        data.y,
        step=args.step,
        feature_names=data.feature_names,
        target_name=data.target_name,
        **kwargs,
    )
    render = {"text": e.to_text, "markdown": e.to_markdown, "latex": e.to_latex, "json": e.to_json}
    print(render[args.format]())


def _cmd_plot(args: argparse.Namespace) -> None:
    from gradfit import plots

    out = args.output
    if args.kind in ("rates", "finder"):
        chosen_by_plot = ("lr", "max_iter") if args.kind == "finder" else ("lr",)
        for name in chosen_by_plot:
            if getattr(args, name) is not None:
                raise InvalidInputError(
                    f"{flag_of(name)} has no effect on the {args.kind} plot, which sweeps "
                    "learning rates itself: leave it out"
                )
        kwargs = _fit_kwargs(args, lr=None)
        data = _load(args)
        maker = plots.lr_comparison if args.kind == "rates" else plots.lr_finder
        fig = maker(
            data.X,
            data.y,
            standardize=kwargs.pop("standardize", False),
            feature_names=data.feature_names,
            **kwargs,
        )
        plots.save(fig, out)
    else:
        kwargs = _fit_kwargs(args)
        data = _load(args)
        result = fit(data.X, data.y, feature_names=data.feature_names, **kwargs)
        if args.kind == "animation":
            plots.animate(result, data.X, data.y, out)
        elif args.kind == "loss":
            plots.save(plots.loss_curve(result, data.X, data.y), out)
        elif args.kind == "line":
            plots.save(plots.fitted_line(result, data.X, data.y), out)
        else:
            kind = "3d" if args.kind == "surface3d" else "contour"
            plots.save(plots.cost_surface(result, data.X, data.y, kind=kind), out)
    print(f"{args.kind} plot written to {out}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gradfit`` command."""
    try:
        args = _parser().parse_args(argv)
        if args.command == "demo":
            from gradfit import demo

            demo.run(verbose=args.verbose, plots_dir=args.plots)
        elif args.command == "playground":
            from gradfit.web import serve

            serve(args.host, args.port, open_browser=not args.no_browser)
        else:
            {"fit": _cmd_fit, "lr": _cmd_lr, "explain": _cmd_explain, "plot": _cmd_plot}[
                args.command
            ](args)
    except GradfitError as err:
        print(f"gradfit: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(
            f"gradfit: error: {err.strerror or err}: {err.filename or ''}".rstrip(": "),
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
