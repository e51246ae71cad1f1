"""Command line: ``gradfit demo``, ``gradfit fit`` and ``gradfit lr``.

Bad input gets one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gradfit.data import load_table
from gradfit.exceptions import GradfitError, InvalidInputError
from gradfit.optim import OPTIMIZERS
from gradfit.train import Problem, fit

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise InvalidInputError(f"{message} (see gradfit {self.prog.split()[-1]} --help)")


def _lr(text: str) -> float | str:
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number or 'auto': {text!r}") from None


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help="CSV or Parquet file, or a shipped data set: davis, bdims")
    p.add_argument("--target", help="column to predict (default: the data set's own)")
    p.add_argument("--features", nargs="+", help="feature columns (default: all numeric)")
    p.add_argument("--standardize", action="store_true", help="descend on standardized features")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gradfit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    demo = sub.add_parser("demo", help="reproduce both tutorial articles")
    demo.add_argument("--verbose", action="store_true", help="print every iteration of article B")

    f = sub.add_parser("fit", help="fit y = X w + b by gradient descent")
    _data_args(f)
    f.add_argument("--lr", type=_lr, default="auto", help="learning rate or 'auto' (default)")
    f.add_argument("--optimizer", choices=OPTIMIZERS, default="gd")
    f.add_argument("--batch-size", type=int, default=None, help="rows per step (default: all)")
    f.add_argument("--max-iter", type=int, default=1000, help="maximum epochs")
    f.add_argument("--tol", type=float, default=1e-12)
    f.add_argument("--gtol", type=float, default=1e-8)
    f.add_argument("--seed", type=int, default=None)
    f.add_argument("--history", help="write the history to this .csv or .json file")

    lr = sub.add_parser("lr", help="learning-rate theory for a data set")
    _data_args(lr)
    return parser


def _cmd_fit(args: argparse.Namespace) -> None:
    data = load_table(args.data, target=args.target, features=args.features)
    result = fit(
        data.X,
        data.y,
        lr=args.lr,
        optimizer=args.optimizer,
        batch_size=args.batch_size,
        max_iter=args.max_iter,
        tol=args.tol,
        gtol=args.gtol,
        standardize=args.standardize,
        random_state=args.seed,
        feature_names=data.feature_names,
    )
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
    data = load_table(args.data, target=args.target, features=args.features)
    problem = Problem(
        data.X, data.y, standardize=args.standardize, feature_names=data.feature_names
    )
    c = problem.curvature
    print(f"{data.target_name} ~ {', '.join(data.feature_names)}; {len(data.y)} rows")
    print(f"L (Lipschitz constant of the gradient) = {c.lipschitz:.6g}")
    if c.lambda_min is not None:
        print(f"lambda_min = {c.lambda_min:.6g}; condition number = {c.condition_number:.6g}")
    print(f"largest stable rate 2/L = {c.max_stable_lr:.6g}")
    print(f"rate that never overshoots 1/L = {c.inverse_lipschitz_lr:.6g}")
    print(f"best constant rate 2/(lambda_min + L) = {c.best_lr:.6g}")
    for lr in (c.best_lr, c.inverse_lipschitz_lr, 0.1 * c.inverse_lipschitz_lr):
        print(f"  steps to shrink the error 1e8-fold at lr = {lr:.4g}: {c.steps_to_tolerance(lr)}")
    offenders = problem.badly_scaled()
    if offenders:
        names = ", ".join(f"{n} (rms {v:.3g})" for n, v in offenders)
        print(f"scales differ by orders of magnitude: {names}; try --standardize")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gradfit`` command."""
    try:
        args = _parser().parse_args(argv)
        if args.command == "demo":
            from gradfit import demo

            demo.run(verbose=args.verbose)
        elif args.command == "fit":
            _cmd_fit(args)
        else:
            _cmd_lr(args)
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
