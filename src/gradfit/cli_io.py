"""What the commands read and write: their data arguments, the rows of a file or a shipped
data set, the progress bar of a file's passes, and output paths checked before any work.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from gradfit.cli_progress import ProgressBar, progress_bar
from gradfit.data import ArraySource, Dataset
from gradfit.data.datasets import DATASETS
from gradfit.data.file_table import FileTable
from gradfit.data.files import open_file, read_table
from gradfit.data.source import Source
from gradfit.data.stream import SHUFFLE_BUFFER_ROWS
from gradfit.exceptions import InvalidInputError

HISTORY_SUFFIXES = (".csv", ".json")
PLOT_SUFFIXES = (".png", ".svg", ".pdf")
ANIMATION_SUFFIXES = (".gif",)
MODEL_SUFFIXES = (".json",)
PREDICTION_SUFFIXES = (".csv", ".parquet")

__all__ = [
    "ANIMATION_SUFFIXES",
    "HISTORY_SUFFIXES",
    "MODEL_SUFFIXES",
    "PLOT_SUFFIXES",
    "PREDICTION_SUFFIXES",
    "_check_output",
    "_data_args",
    "_load",
    "_progress",
    "_source_of",
    "_stream_args",
]


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "data", help=f"CSV or Parquet file, or a shipped data set: {', '.join(DATASETS)}"
    )
    p.add_argument("--target", help="column to predict (default: the data set's own)")
    p.add_argument(
        "--features",
        nargs="+",
        help="feature columns (default: every numeric column but the target; a row index "
        "that pandas wrote is left out)",
    )


def _stream_args(p: argparse.ArgumentParser, weight: bool = True, progress: bool = True) -> None:
    """Flags of the commands that stream a data file (``progress``: it shows a bar)."""
    if weight:
        p.add_argument("--weight", metavar="COL", help="a column of sample weights (>= 0)")
    p.add_argument(
        "--drop-missing",
        action="store_true",
        help="skip rows with a missing, NaN or infinite value in a used column (predict: "
        "give them an empty prediction), and say how many, instead of stopping at the first",
    )
    if progress:
        p.add_argument(
            "--quiet", action="store_true", help="no progress bar on stderr (shown on terminals)"
        )


# -- checks before any work ----------------------------------------------------------


def _shipped(args: argparse.Namespace) -> str | None:
    """The shipped data set ``args.data`` names (None: a file)."""
    key = str(args.data).lower()
    return key if key in DATASETS else None


def _check_columns(args: argparse.Namespace) -> None:
    """--target and --features that can be meant: no feature twice, none the target."""
    features = list(args.features or [])
    twice = sorted({c for c in features if features.count(c) > 1})
    if twice:
        raise InvalidInputError(
            f"--features lists {', '.join(map(repr, twice))} more than once: give each feature once"
        )
    key = _shipped(args)
    target = args.target or (DATASETS[key].target if key else None)
    if target is not None and target in features:
        given = "--target" if args.target else f"the target of {key!r}"
        raise InvalidInputError(
            f"--features includes {target!r}, which is {given}: a column cannot predict "
            "itself, leave it out of --features"
        )


def _check_output(path: str, flag: str, suffixes: Sequence[str]) -> None:
    """An output file that can be written: its extension, its folder, nothing in the way."""
    target = Path(path)
    if target.suffix.lower() not in suffixes:
        names = ", ".join(suffixes[:-1]) + (" or " if len(suffixes) > 1 else "") + suffixes[-1]
        raise InvalidInputError(f"{flag} must end in {names}, got {path!r}: use a {names} name")
    if target.is_dir():
        raise InvalidInputError(f"{flag} {path} is a folder: give a file name inside it")
    folder = target.parent
    if not folder.is_dir():
        raise InvalidInputError(
            f"{flag} {path}: the folder {str(folder)!r} does not exist: create it first, "
            "or write somewhere else"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidInputError(
            f"{flag} {path}: the folder {str(folder)!r} is not writable: write somewhere else"
        )


def _source_of(args: argparse.Namespace) -> Source:
    """The rows of ``args.data``: a file streamed (``FileSource``), a shipped data set in
    memory; a note on stderr for anything left out unasked."""
    _check_columns(args)
    weight = getattr(args, "weight", None)
    if _shipped(args):
        if weight is not None:
            raise InvalidInputError(
                f"--weight: the shipped data set {args.data!r} has no weight column; leave "
                "--weight out, or give a file with one"
            )
        data = _load(args)
        return ArraySource(
            data.X, data.y, feature_names=data.feature_names, target_name=data.target_name
        )
    source = open_file(
        args.data,
        args.target,
        args.features,
        weight,
        drop_missing=getattr(args, "drop_missing", False),
        shuffle_buffer=getattr(args, "shuffle_buffer", None) or SHUFFLE_BUFFER_ROWS,
    )
    _say_left_out(source.notes())
    return source


def _say_left_out(notes: Sequence[str]) -> None:
    for note in notes:
        if note.startswith("left out the non-numeric"):
            note += " (choose the columns with --features)"
        print(f"gradfit: note: {note}", file=sys.stderr)


@contextlib.contextmanager
def _progress(
    args: argparse.Namespace, table: FileTable | None, what: str
) -> Iterator[ProgressBar | None]:
    """The progress bar of a command that streams ``table`` (see ``progress_bar``)."""
    with progress_bar(table, what, quiet=getattr(args, "quiet", False)) as bar:
        yield bar


def _load(args: argparse.Namespace) -> Dataset:
    """The rows to fit, with a note on stderr for anything left out unasked."""
    _check_columns(args)
    loaded = read_table(args.data, target=args.target, features=args.features)
    _say_left_out(loaded.notes())
    return loaded.dataset
