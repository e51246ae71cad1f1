"""``gradfit fit``: a file streamed (or read on a Dask cluster), fitted, summarized and saved."""

from __future__ import annotations

import argparse
import sys

from gradfit.cli_dask import dask_client, dask_source
from gradfit.cli_flags import _cli_words, _options
from gradfit.cli_io import HISTORY_SUFFIXES, MODEL_SUFFIXES, _check_output, _progress, _source_of
from gradfit.data.stream import FileSource
from gradfit.exceptions import InvalidInputError
from gradfit.model.fit_summary import summarize
from gradfit.modelfile import save
from gradfit.train import FitResult, fit
from gradfit.train.options import FitOptions

__all__ = ["fit_command"]


def fit_command(args: argparse.Namespace) -> None:
    """``gradfit fit DATA [...]``: fit, print the line, the summary, and save."""
    if args.history:
        _check_output(args.history, "--history", HISTORY_SUFFIXES)
    if args.output:
        _check_output(args.output, "-o/--output", MODEL_SUFFIXES)
    options = _options(args)
    if args.shuffle_buffer is not None and options.batch_size is None:
        raise InvalidInputError(
            "--shuffle-buffer mixes the rows of mini-batches; a full-batch fit reads every "
            "row each step: give --batch-size too, or leave --shuffle-buffer out"
        )
    with dask_client(args.dask):
        _fit_and_report(args, options)


def _fit_and_report(args: argparse.Namespace, options: FitOptions) -> None:
    source = _source_of(args)
    if args.dask:
        if not isinstance(source, FileSource):
            raise InvalidInputError(
                "--dask reads a data file on the cluster: give a CSV or Parquet file, or "
                "leave --dask out for a shipped data set"
            )
        source = dask_source(source)
    table = getattr(source, "table", None)
    with _progress(args, table, "fitting") as bar:
        kwargs = options.changed()
        if bar is not None:
            kwargs["callback"] = bar.fit_step
        result = fit(source, **kwargs)
    dropped = getattr(source, "dropped", 0)
    if dropped:
        print(
            f"gradfit: note: skipped {dropped} rows with missing, NaN or infinite values "
            "(--drop-missing); "
            f"fitted on {source.n_rows}",
            file=sys.stderr,
        )
    names, target = source.feature_names, source.target_name
    terms = "".join(
        (f"{' - ' if w < 0 else ' + '}{abs(w):.6g}" if k else f"{w:.6g}") + f" * {n}"
        for k, (w, n) in enumerate(zip(result.w, names, strict=True))
    )
    sign = " - " if result.b < 0 else " + "
    intercept = f"{sign}{abs(result.b):.6g}" if options.fit_intercept else " (through the origin)"
    print(f"{target} = {terms}{intercept}")
    for line in _objective_lines(result, options, names):
        print(line)
    print(f"steps: {result.n_steps}, epochs: {result.n_epochs}; {_cli_words(str(result.stop))}")
    if options.rule.line_search:
        factor = result.lr(0) if result.lr is not None else 1.0
        print(f"step: the exact minimum along each direction ({options.rule.name}) x {factor:g}")
    else:
        print(f"learning rate: {result.lr}")
    if result.curvature is not None:
        print(f"curvature: {result.curvature.summary()}")
    if args.history:
        path = args.history
        if path.lower().endswith(".json"):
            result.history.to_json(path)
        else:
            result.history.to_csv(path)
        print(f"history: {len(result.history)} entries written to {path}")
    # worked out under the bar, printed after it is gone (lines never mix with it)
    with _progress(args, table, "summarizing"):
        if args.output:
            save(result, args.output, options=options, X=source)
        if result.state.n_rows != source.n_rows:
            report = (
                f"summary: left out: the fit descended on {result.state.n_rows} of the "
                f"{source.n_rows} rows (--validation-fraction holds the others out)"
            )
        else:
            report = summarize(result, source).to_text(rewrite=_cli_words)
    if args.output:
        print(f"model written to {args.output}")
    print()
    print(report)


def _objective_lines(result: FitResult, options: FitOptions, names: list[str]) -> list[str]:
    """What was minimised and its value: the loss, and the penalty's part of it."""
    loss_name = "mean Huber loss" if options.loss == "huber" else "mean squared error"
    if not options.regularized:
        return [f"loss ({loss_name}) = {result.loss:.6g}"]
    penalty = options.penalty_spec
    minimised = _cli_words(result.report.objective or "least squares")
    if not penalty.active:
        return [f"minimised: {minimised}", f"loss ({loss_name}) = {result.loss:.6g}"]
    terms = [f"{penalty.l1:.6g} |w|_1"] * bool(penalty.l1)
    terms += [f"{penalty.l2:.6g} |w|^2"] * bool(penalty.l2)
    part = penalty.value(result.w)  # on w in original units, as descent minimised it
    out = [
        f"minimised: {loss_name} + {' + '.join(terms)} ({minimised}; w in original units)",
        f"objective = {loss_name} + penalty = {result.loss - part:.6g} + {part:.6g} "
        f"= {result.loss:.6g}",
    ]
    if not penalty.smooth_in_w:
        zeros = [n for n, w in zip(names, result.w, strict=True) if w == 0]
        held = f": {', '.join(zeros)}" if zeros else ""
        out.append(f"coefficients at 0 (the L1 penalty's): {len(zeros)} of {len(names)}{held}")
    return out
