"""The command line's flags, built from the ``FitOptions`` table, and its words: errors
and warnings name flags (``--max-iter``), never Python's arguments (``max_iter``)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import Any

from gradfit.exceptions import InvalidInputError
from gradfit.optim import rule_names
from gradfit.optim.registry import stepped_rule_names
from gradfit.train import FitOptions
from gradfit.train.options import OPTIONS, Interval, flag_of

__all__ = ["_cli_words", "_fit_args", "_fit_kwargs", "_in_flags", "_options", "_whole"]


def _typed(name: str, interval: Interval) -> Callable[[str], float]:
    """The argparse type of a numeric option: the expected values named when it fails."""
    kind: Callable[[str], float] = int if interval.kind is int else float

    def convert(text: str) -> float:
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be {interval.describe()}, got {text!r}"
            ) from None

    convert.__name__ = name
    return convert


def _number_or_auto(text: str) -> float | str:
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number or 'auto': {text!r}") from None


def _whole(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type for whole numbers in ``[low, high]``."""
    interval = Interval(int, low, high)

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value not in interval:
            raise argparse.ArgumentTypeError(f"must be {interval.describe()}, got {text!r}")
        return value

    return convert


def _fit_args(p: argparse.ArgumentParser, line_search: bool = True) -> None:
    """One flag per option of ``FitOptions`` that has one, built from its table
    (``line_search=False``: only the rules a learning rate drives, for ``explain``)."""
    for name, option in OPTIONS.items():
        flag = flag_of(name)
        if flag is None:
            continue
        default = option.default
        # the table's help says the default where it is not a plain value
        shown = option.help if "default" in option.help else f"{option.help} (default: {default})"
        if isinstance(option.default, bool):
            # --standardize / --no-standardize: both spellings, whatever the default
            on = "on" if option.default else "off"
            p.add_argument(
                _bool_flag(flag),
                dest=name,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=f"{option.help} (default: {on})",
            )
            continue
        kwargs: dict[str, Any] = {"dest": name, "default": None, "help": shown}
        interval = option.interval()
        if name == "optimizer":
            kwargs["choices"] = rule_names() if line_search else stepped_rule_names()
        elif name == "lr":
            kwargs["type"] = _number_or_auto
        elif isinstance(interval, Interval):
            kwargs["type"] = _typed(name, interval)
        else:
            kwargs["choices"] = [a for a in option.accepts if isinstance(a, str)]
        # the option's own name is a spelling too (--seed and --random-state)
        spelled = "--" + name.replace("_", "-")
        p.add_argument(flag, *([spelled] if spelled != flag else []), **kwargs)


def _bool_flag(flag: str) -> str:
    """The positive spelling of a yes/no flag (``--no-shuffle``: ``--shuffle``)."""
    return "--" + flag[len("--no-") :] if flag.startswith("--no-") else flag


# -- words: the command line names its flags, never Python's arguments ----------------

# Data arguments of load_table that are flags here.
_DATA_FLAGS = {
    "target": "--target",
    "features": "--features",
    "shuffle_buffer": "--shuffle-buffer",
    "sample_weight": "--weight",
}
# Option names safe to rewrite where they stand alone: no English word is spelt so.
_BARE = re.compile(r"_|^(lr|tol|gtol)$")


def _flags() -> dict[str, str]:
    out = {name: flag for name in OPTIONS if (flag := flag_of(name)) is not None}
    return {**out, **_DATA_FLAGS}


def _cli_words(text: str, option: str | None = None) -> str:
    """``text`` with Python's option names as command-line flags.

    ``lr=0.01`` becomes ``--lr 0.01``, ``standardize=True`` ``--standardize``,
    ``max_iter`` ``--max-iter``; ``option`` (the option an error is about) is replaced
    wherever it stands alone. Quoted names (columns, paths) are left as they are.

    >>> _cli_words("Try lr=0.5 or lr='auto'. standardize=True helps; raise max_iter.")
    'Try --lr 0.5 or --lr auto. --standardize helps; raise --max-iter.'
    >>> _cli_words("alpha has no effect without penalty='l2', 'l1' or 'elasticnet'")
    'alpha has no effect without --penalty l2, l1 or elasticnet'
    """
    # a Python spelling followed by its flag: the flag alone
    text = re.sub(r"\b(\w+)=True \((--[\w-]+)\)", r"\2", text)
    flags = _flags()
    names = "|".join(sorted(map(re.escape, flags), key=len, reverse=True))
    before = r"(?<![\w/.\\'\"-])"
    after = r"(?![\w/'\"-]|\.\w)"

    def assignment(m: re.Match[str]) -> str:
        name, value = m[1], m[2]
        flag = flags[name]
        if value in ("True", "False") and name in OPTIONS:
            on = _bool_flag(flag)
            return on if value == "True" else "--no-" + on[2:]
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        return f"{flag} {value}"

    # name='a', 'b' or 'c': the flag and its values, unquoted
    quoted = r"'[^']*'"
    text = re.sub(
        rf"{before}({names})=({quoted}(?:(?:, | or ){quoted})+)",
        lambda m: f"{flags[m[1]]} " + m[2].replace("'", ""),
        text,
    )
    value = r"('[^']*'|\"[^\"]*\"|[^\s,;:)'\"]*[^\s,;:)'\".])"
    text = re.sub(rf"{before}({names})={value}", assignment, text)

    def bare(m: re.Match[str]) -> str:
        return flags[m[1]]

    alone = [n for n in flags if _BARE.search(n) or n == option]
    if alone:
        pattern = "|".join(sorted(map(re.escape, alone), key=len, reverse=True))
        text = re.sub(rf"{before}({pattern}){after}", bare, text)
    return text


# Options that mean something only with another one. FitOptions refuses them when they
# differ from their default; a flag given at its default value is refused here too (a
# command line knows what was typed).
_NEEDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "alpha": ("penalty", ("l2", "l1", "elasticnet")),
    "l1_ratio": ("penalty", ("elasticnet",)),
    "epsilon": ("loss", ("huber",)),
}


def _check_needs(given: dict[str, Any]) -> None:
    for name, (other, values) in _NEEDS.items():
        if name in given and given.get(other) not in values:
            flag, needs = flag_of(name), flag_of(other)
            allowed = " or ".join([", ".join(values[:-1]), values[-1]] if values[:-1] else values)
            raise InvalidInputError(
                f"{flag} has no effect without {needs} {allowed}: give {needs}, or leave "
                f"{flag} out",
                option=name,
            )


def _options(args: argparse.Namespace, **overrides: Any) -> FitOptions:
    """The options the user gave, checked once."""
    given = {name: getattr(args, name) for name in OPTIONS if getattr(args, name, None) is not None}
    _check_needs(given)
    return FitOptions(**{**given, **overrides})


def _in_flags(err: InvalidInputError) -> InvalidInputError:
    """The same error, naming command-line flags instead of Python's arguments.

    >>> str(_in_flags(InvalidInputError("max_iter must be >= 1 or None, got 0", option="max_iter")))
    '--max-iter must be >= 1, got 0'
    """
    text = str(err)
    if err.option is not None:
        text = re.sub(r"(,| or) None\b", "", text)  # a command line cannot say None
    return InvalidInputError(_cli_words(text, err.option), option=err.option)


def _fit_kwargs(args: argparse.Namespace, **overrides: Any) -> dict[str, Any]:
    """The changed options as keyword arguments of ``fit``."""
    return _options(args, **overrides).changed()
