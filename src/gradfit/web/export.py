"""The page's "export as code": a session's descent as Python and as a command line.

Both are printed from the session's own ``FitOptions`` (``to_python`` and
``to_cli``), with ``max_steps`` set to the steps taken, so the code runs exactly
the options the page ran with (its epoch budget and tolerances included) and
reproduces the session however long it ran.
"""

from __future__ import annotations

import shlex

from gradfit.exceptions import InvalidInputError
from gradfit.train import FitOptions
from gradfit.web.datasets import SessionData

__all__ = ["command_line", "exported_code", "python_code"]


def _replayed(options: FitOptions, steps: int) -> FitOptions:
    # A session not yet stepped exports its first step: code that runs something.
    return options.replace(max_steps=max(steps, 1))


def python_code(data: SessionData, options: FitOptions, steps: int) -> str:
    """Python that loads the same rows and fits them as the session did for ``steps`` steps.

    Examples
    --------
    >>> from gradfit.data import load_dataset
    >>> d = load_dataset("davis")
    >>> print(python_code(SessionData(d, "davis", False), FitOptions(lr=0.5), 3))
    import gradfit
    d = gradfit.load_dataset('davis', target='weight', features=['height'])
    result = gradfit.fit(d.X, d.y, lr=0.5, max_steps=3)
    print(result.w, result.b, result.loss, result.stop)
    """
    d = data.dataset
    columns = f"target={d.target_name!r}, features={d.feature_names!r}"
    if data.uploaded:
        lines = [
            "import gradfit",
            "from gradfit.data import load_table",
            f"d = load_table({data.origin!r}, {columns})",
        ]
    else:
        lines = ["import gradfit", f"d = gradfit.load_dataset({data.origin!r}, {columns})"]
    lines += [
        f"result = gradfit.fit(d.X, d.y, {_replayed(options, steps).to_python()})",
        "print(result.w, result.b, result.loss, result.stop)",
    ]
    return "\n".join(lines)


def command_line(data: SessionData, options: FitOptions, steps: int) -> str:
    """The same fit as a ``gradfit fit`` command (a comment when an option has no flag).

    Examples
    --------
    >>> from gradfit.data import load_dataset
    >>> d = load_dataset("davis")
    >>> command_line(SessionData(d, "davis", False), FitOptions(lr=0.5), 3)
    'gradfit fit davis --target weight --features height --lr 0.5 --max-steps 3'
    """
    d = data.dataset
    try:
        flags = _replayed(options, steps).to_cli()
    except InvalidInputError as err:
        return f"# {err}"
    words = ["gradfit", "fit", data.origin, "--target", d.target_name, "--features"]
    return shlex.join([*words, *d.feature_names, *flags])


def exported_code(data: SessionData, options: FitOptions, steps: int) -> dict[str, str]:
    """``{"python": ..., "cli": ...}``: the session as code, both ways."""
    return {
        "python": python_code(data, options, steps),
        "cli": command_line(data, options, steps),
    }
