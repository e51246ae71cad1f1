"""Command line: ``gradfit demo``, ``fit``, ``predict``, ``summary``, ``lr``, ``explain``,
``plot`` and ``path``.

Bad input gets one line on stderr and exit code 2, never a traceback; output paths are
checked before any fit runs; a fit that stops short of the least-squares solution says
so (``gradfit: warning: ...``) and exits with status 3.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from gradfit import __version__
from gradfit.cli_dask import DASK_HELP
from gradfit.cli_flags import (
    _cli_words,
    _fit_args,
    _fit_kwargs,
    _in_flags,
    _options,
    _whole,
)
from gradfit.cli_io import (
    ANIMATION_SUFFIXES,
    PLOT_SUFFIXES,
    _check_output,
    _data_args,
    _load,
    _stream_args,
)
from gradfit.cli_path import add_path_args
from gradfit.data import ArraySource
from gradfit.data.datasets import DATASETS
from gradfit.data.stream import SHUFFLE_BUFFER_ROWS
from gradfit.data.validation import close_matches
from gradfit.exceptions import (
    ConvergenceWarning,
    GradfitError,
    GradfitWarning,
    InvalidInputError,
)
from gradfit.model import Objective
from gradfit.train import fit
from gradfit.train.options import OPTIONS, flag_of

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PIPE_CLOSED",
    "EXIT_STOPPED_SHORT",
    "main",
]

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_STOPPED_SHORT = 3
EXIT_INTERRUPTED = 130
EXIT_PIPE_CLOSED = 141  # 128 + SIGPIPE, as the shell reports a command killed by it

EPILOG = f"""\
exit status:
  {EXIT_OK}    done
  {EXIT_BAD_INPUT}    bad input: one line on stderr says what is wrong and how to fix it
  {EXIT_STOPPED_SHORT}    the fit stopped short of the least-squares solution: the results are
       printed, and a warning line on stderr says how far it got and what to change
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C)
  {EXIT_PIPE_CLOSED}  the output was closed before it was all written (gradfit ... | head)

environment:
  GRADFIT_COMPILED  1 (default): compiled steps where numba is installed (loading them
                    costs about 0.5 s a process); 0: the readable loop"""


class _Parser(argparse.ArgumentParser):
    """Errors as ``InvalidInputError`` (one line, exit 2), with close matches suggested."""

    known_flags: Sequence[str] = ()

    def error(self, message: str) -> None:  # type: ignore[override]
        message += self._suggestion(message)
        see = self.prog if self.prog.startswith("gradfit") else f"gradfit {self.prog}"
        raise InvalidInputError(f"{message} (see {see} --help)")

    def _suggestion(self, message: str) -> str:
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            return close_matches(choice[1], re.findall(r"'([^']*)'", choice[2]))
        unknown = re.match(r"unrecognized arguments: (.*)", message)
        if unknown:
            flags = [t.split("=")[0] for t in unknown[1].split() if t.startswith("--")]
            if flags:
                return close_matches(flags[0], self.known_flags)
        return ""


PLOTS = ("loss", "line", "surface", "surface3d", "rates", "finder", "animation")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gradfit",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"gradfit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=text, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
        )

    demo = command("demo", "reproduce both tutorial articles")
    demo.add_argument("--verbose", action="store_true", help="print every iteration of article B")
    demo.add_argument("--plots", metavar="DIR", help="also write the plots to this folder")

    f = command("fit", "fit y = X w + b by gradient descent")
    _data_args(f)
    _fit_args(f)
    _stream_args(f)
    f.add_argument(
        "--shuffle-buffer",
        type=_whole(1),
        metavar="ROWS",
        help=f"rows that mini-batch epochs over a file mix at once (default "
        f"{SHUFFLE_BUFFER_ROWS}; a row only meets rows at most this far away in the file)",
    )
    f.add_argument("--dask", metavar="local:N|tcp://HOST:PORT", help=DASK_HELP)
    f.add_argument("--history", help="write the history to this .csv or .json file")
    f.add_argument("-o", "--output", help="save the fitted model to this .json file (a model file)")

    pr = command("predict", "predictions of a saved model for new rows")
    pr.add_argument("model", help="a model file written by gradfit fit -o MODEL.json")
    pr.add_argument(
        "data", help=f"CSV or Parquet file, or a shipped data set: {', '.join(DATASETS)}"
    )
    pr.add_argument(
        "-o",
        "--output",
        help="write the predictions to this .csv or .parquet file, whole or not at all "
        "(default: CSV on stdout, block by block: a bad row part-way ends it there)",
    )
    _stream_args(pr, weight=False)

    sm = command("summary", "the statistical summary of a saved model on its training rows")
    sm.add_argument("model", help="a model file written by gradfit fit -o MODEL.json")
    sm.add_argument(
        "data", help=f"CSV or Parquet file, or a shipped data set: {', '.join(DATASETS)}"
    )
    sm.add_argument("--target", help="the target column (default: the model's target)")
    _stream_args(sm)

    e = command("explain", "one step written out with your numbers")
    _data_args(e)
    _fit_args(e, line_search=False)
    e.add_argument("--step", type=_whole(0), default=0, help="which step (0 is the first update)")
    e.add_argument("--format", choices=("text", "markdown", "latex", "json"), default="text")

    pg = command("playground", "the learning-rate playground in your browser")
    pg.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    pg.add_argument("--port", type=_whole(0, 65535), default=8000, help="port (0: any free port)")
    pg.add_argument("--no-browser", action="store_true", help="do not open a browser")

    p = command("plot", "draw the descent: " + ", ".join(PLOTS))
    p.add_argument("kind", choices=PLOTS)
    _data_args(p)
    _fit_args(p)
    p.add_argument(
        "-o", "--output", required=True, help="a .png, .svg or .pdf file (.gif: animation)"
    )

    rp = command("path", "the regularization path: coefficients at many penalty strengths")
    _data_args(rp)
    _fit_args(rp)
    _stream_args(rp, progress=False)
    add_path_args(rp)

    lr = command("lr", "learning-rate theory for a data set")
    _data_args(lr)
    lr.add_argument(
        "--standardize",
        action=argparse.BooleanOptionalAction,
        default=bool(OPTIONS["standardize"].default),  # as gradfit fit
        help=OPTIONS["standardize"].help,
    )
    lr.add_argument(
        "--intercept",
        dest="fit_intercept",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=OPTIONS["fit_intercept"].help,
    )

    parser.known_flags = sorted(
        {s for p in sub.choices.values() for a in p._actions for s in a.option_strings}
    )
    return parser


def _cmd_lr(args: argparse.Namespace) -> None:
    data = _load(args)
    objective = Objective(
        ArraySource(data.X, data.y, feature_names=data.feature_names),
        scaling=bool(args.standardize),
        fit_intercept=args.fit_intercept,
    )
    c = objective.curvature
    print(f"{data.target_name} ~ {', '.join(data.feature_names)}; {len(data.y)} rows")
    print(f"L (Lipschitz constant of the gradient) = {c.lipschitz:.6g}")
    if c.rank_deficient:
        print(
            f"rank {c.rank} of {objective.n_coefficients} "
            f"({'[X 1]' if objective.fit_intercept else 'X'}): collinear columns or fewer rows "
            "than coefficients, so many least-squares solutions; condition number = inf "
            f"({c.effective_condition_number:.6g} over the directions that move)"
        )
        print(f"smallest non-zero curvature lambda_min = {c.lambda_min:.6g}")
    elif c.lambda_min is not None:
        print(f"lambda_min = {c.lambda_min:.6g}; condition number = {c.condition_number:.6g}")
    print(f"largest stable rate 2/L = {c.max_stable_lr:.6g}")
    print(f"rate that never overshoots 1/L = {c.inverse_lipschitz_lr:.6g}")
    print(f"best constant rate 2/(lambda_min + L) = {c.best_lr:.6g}")
    for lr in (c.best_lr, c.inverse_lipschitz_lr, 0.1 * c.inverse_lipschitz_lr):
        print(f"  steps to shrink the error 1e8-fold at lr = {lr:.4g}: {c.steps_to_tolerance(lr)}")
    offenders = objective.badly_scaled()
    if offenders and not args.standardize:
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
    animation = args.kind == "animation"
    _check_output(out, "-o/--output", ANIMATION_SUFFIXES if animation else PLOT_SUFFIXES)
    if args.kind in ("rates", "finder"):
        chosen_by_plot = ("lr", "max_iter") if args.kind == "finder" else ("lr",)
        for name in chosen_by_plot:
            if getattr(args, name) is not None:
                raise InvalidInputError(
                    f"{flag_of(name)} has no effect on the {args.kind} plot, which sweeps "
                    "learning rates itself: leave it out"
                )
        options = _options(args, lr=None)
        kwargs = options.changed()
        kwargs.pop("standardize", None)
        data = _load(args)
        maker = plots.lr_comparison if args.kind == "rates" else plots.lr_finder
        fig = maker(
            data.X,
            data.y,
            standardize=bool(options.standardize),
            feature_names=data.feature_names,
            **kwargs,
        )
        plots.save(fig, out)
    else:
        options = _options(args)
        data = _load(args)
        result = fit(data.X, data.y, feature_names=data.feature_names, **options.changed())
        if animation:
            plots.animate(result, data.X, data.y, out, options=options)
        elif args.kind == "loss":
            plots.save(plots.loss_curve(result, data.X, data.y, options=options), out)
        elif args.kind == "line":
            plots.save(plots.fitted_line(result, data.X, data.y), out)
        else:
            kind = "3d" if args.kind == "surface3d" else "contour"
            surface = plots.cost_surface(result, data.X, data.y, kind=kind, options=options)
            plots.save(surface, out)
    print(f"{args.kind} plot written to {out}")


def _cmd_fit(args: argparse.Namespace) -> None:
    from gradfit.cli_fit import fit_command

    fit_command(args)


def _cmd_path(args: argparse.Namespace) -> None:
    from gradfit.cli_path import path_command

    path_command(args)


def _cmd_predict(args: argparse.Namespace) -> None:
    from gradfit.cli_models import predict  # the model-file commands, on first use

    predict(args)


def _cmd_summary(args: argparse.Namespace) -> None:
    from gradfit.cli_models import summary

    summary(args)


def _cmd_demo(args: argparse.Namespace) -> None:
    from gradfit import demo

    if args.plots is not None and Path(args.plots).exists() and not Path(args.plots).is_dir():
        raise InvalidInputError(f"--plots {args.plots} is a file: give a folder")
    demo.run(verbose=args.verbose, plots_dir=args.plots)


COMMANDS: dict[str, Callable[[argparse.Namespace], None]] = {
    "demo": _cmd_demo,
    "fit": _cmd_fit,
    "predict": _cmd_predict,
    "summary": _cmd_summary,
    "lr": _cmd_lr,
    "explain": _cmd_explain,
    "plot": _cmd_plot,
    "path": _cmd_path,
}


def _report(caught: Sequence[warnings.WarningMessage]) -> bool:
    """Print gradfit's warnings, one line each; pass others on. True: a fit stopped short."""
    stopped_short = False
    seen: set[str] = set()
    for w in caught:
        if not issubclass(w.category, GradfitWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
            continue
        stopped_short |= issubclass(w.category, ConvergenceWarning)
        line = _one_line(_cli_words(str(w.message)))
        if line not in seen:
            seen.add(line)
            print(f"gradfit: warning: {line}", file=sys.stderr)
    return stopped_short


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gradfit`` command; returns the exit status (see ``EPILOG``)."""
    caught: list[warnings.WarningMessage] = []
    error: str | None = None
    status = EXIT_OK
    try:
        args = _parser().parse_args(argv)
        if args.command == "playground":
            from gradfit.web import serve

            serve(args.host, args.port, open_browser=not args.no_browser)
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", GradfitWarning)
                COMMANDS[args.command](args)
    except InvalidInputError as err:
        error, status = str(_in_flags(err)), EXIT_BAD_INPUT
    except GradfitError as err:
        error, status = _cli_words(str(err)), EXIT_BAD_INPUT
    except BrokenPipeError:
        # the reader stopped reading (| head): nothing more to say, and nothing to flush
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = EXIT_PIPE_CLOSED
    except OSError as err:
        where = f"{err.strerror or err}: {err.filename or ''}".rstrip(": ")
        error, status = f"{where}: check the path and its permissions", EXIT_BAD_INPUT
    except KeyboardInterrupt:
        status = EXIT_INTERRUPTED
    stopped_short = _report(caught)
    if error is not None:
        print(f"gradfit: error: {_one_line(error)}", file=sys.stderr)
    if status == EXIT_OK and stopped_short:
        status = EXIT_STOPPED_SHORT
    return status


if __name__ == "__main__":
    sys.exit(main())
