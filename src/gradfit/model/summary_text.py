"""The summary as a table: plain text, Markdown and HTML (what ``Summary`` shows)."""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from gradfit.model.summary import Summary

__all__ = ["as_html", "as_markdown", "as_text"]


def header_rows(s: Summary) -> list[tuple[str, str, str, str]]:
    kind = "" if s.k_constant else " (uncentred)"
    left = [
        ("Dep. variable:", s.target_name),
        ("Model:", s.method + ("" if s.fit_intercept else ", through the origin")),
        ("No. observations:", str(s.nobs)),
        ("Df residuals:", str(s.df_resid)),
        ("Df model:", str(s.df_model)),
        ("RMSE:", _fmt(s.rmse)),
        ("Residual std:", _fmt(s.resid_std)),
    ]
    right = [
        (f"R-squared{kind}:", _fmt(s.rsquared, 4, fixed=True)),
        (f"Adj. R-squared{kind}:", _fmt(s.rsquared_adj, 4, fixed=True)),
        ("F-statistic:", _fmt(s.fvalue)),
        ("Prob (F-statistic):", _fmt(s.f_pvalue, 3)),
        ("Log-likelihood:", _fmt(s.llf, 6)),
        ("AIC:", _fmt(s.aic, 6)),
        ("BIC:", _fmt(s.bic, 6)),
    ]
    return [(a, b, c, d) for (a, b), (c, d) in zip(left, right, strict=True)]


def column_rows(s: Summary) -> tuple[list[str], list[list[str]]]:
    low, high = s.alpha / 2.0, 1.0 - s.alpha / 2.0
    heads = ["coef", "std err", "t", "P>|t|", f"[{low:.3g}", f"{high:.3g}]"]
    rows = []
    for j, name in enumerate(s.names):
        rows.append(
            [
                name,
                _fmt(s.params[j], 6),
                _fmt(_at(s.bse, j)),
                _fmt(_at(s.tvalues, j)),
                _fmt_p(_at(s.pvalues, j)),
                _fmt(None if s.ci is None else float(s.ci[j, 0]), 6),
                _fmt(None if s.ci is None else float(s.ci[j, 1]), 6),
            ]
        )
    return heads, rows


def footer_lines(s: Summary, rewrite: Callable[[str], str]) -> list[str]:
    lines = []
    if s.condition_number is not None:
        lines.append(
            f"Cond. No. of the design ({'[X 1]' if s.fit_intercept else 'X'}, "
            f"statsmodels' definition): {s.condition_number:.3g}"
        )
    opt = s.optimization
    if opt is not None:
        if opt.curvature_condition_number is not None:
            lines.append(
                "Curvature condition number L/mu (gradfit, descent coordinates): "
                f"{opt.curvature_condition_number:.4g}"
            )
        gap = "not certified" if opt.gap is None else f"{opt.gap:.2g} x std(y)"
        lines.append(
            f"Optimization: {opt.steps} step{'s' * (opt.steps != 1)}, "
            f"gradient norm {opt.grad_norm:.2g}, "
            f"distance to {'least squares' if s.objective is None else 'its minimum'} {gap}; "
            f"{rewrite(opt.stop_message)}"
        )
    if not s.fit_intercept:
        lines.append("b = 0 (fitted through the origin)")
    for i, note in enumerate(s.notes, 1):
        lines.append(f"[{i}] {rewrite(note)}")
    return lines


def as_text(s: Summary, rewrite: Callable[[str], str] | None = None) -> str:
    """A plain-text table in the manner of statsmodels' ``summary()``.

    ``rewrite`` is applied to messages (the stop reason, the notes): the command
    line uses it to name its flags.
    """
    rewrite = rewrite or (lambda s: s)
    header = header_rows(s)
    wa = max(len(a) for a, _, _, _ in header)
    wb = max(len(b) for _, b, _, _ in header)
    wc = max(len(c) for _, _, c, _ in header)
    wd = max(len(d) for _, _, _, d in header)
    heads, rows = column_rows(s)
    wn = max(14, *(len(r[0]) for r in rows))
    widths = [max(len(h), *(len(r[k + 1]) for r in rows)) for k, h in enumerate(heads)]
    table = [" " * wn + "".join(f"  {h:>{w}}" for h, w in zip(heads, widths, strict=True))]
    table += [
        f"{r[0]:<{wn}}" + "".join(f"  {v:>{w}}" for v, w in zip(r[1:], widths, strict=True))
        for r in rows
    ]
    top = [f"{a:<{wa}} {b:>{wb}}    {c:<{wc}} {d:>{wd}}" for a, b, c, d in header]
    width = max(len(line) for line in top + table)
    title = f"{s.method} regression results (gradfit)"
    lines = [title.center(width).rstrip(), "=" * width, *top, "=" * width]
    lines += [table[0], "-" * width, *table[1:], "=" * width]
    lines += footer_lines(s, rewrite)
    return "\n".join(lines)


def as_markdown(s: Summary) -> str:
    def cell(text: str) -> str:
        return html.escape(text, quote=False).replace("|", "\\|")

    lines = [f"**{s.method} regression results** (gradfit): {cell(s.target_name)}", ""]
    lines += ["| statistic | value | statistic | value |", "|---|---:|---|---:|"]
    lines += [f"| {a} | {cell(b)} | {c} | {d} |" for a, b, c, d in header_rows(s)]
    heads, rows = column_rows(s)
    lines += ["", "| | " + " | ".join(cell(h) for h in heads) + " |"]
    lines.append("|---|" + "---:|" * len(heads))
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    lines += [""] + [cell(line) + "  " for line in footer_lines(s, lambda s: s)]
    return "\n".join(lines)


def as_html(s: Summary) -> str:
    e = html.escape
    parts = [f"<table><caption>{e(s.method)} regression results (gradfit)</caption>"]
    for a, b, c, d in header_rows(s):
        parts.append(f"<tr><th>{e(a)}</th><td>{e(b)}</td><th>{e(c)}</th><td>{e(d)}</td></tr>")
    parts.append("</table><table><tr><th></th>")
    heads, rows = column_rows(s)
    parts += [f"<th>{e(h)}</th>" for h in heads]
    parts.append("</tr>")
    for r in rows:
        parts.append(
            f"<tr><th>{e(r[0])}</th>" + "".join(f"<td>{e(v)}</td>" for v in r[1:]) + "</tr>"
        )
    parts.append("</table>")
    footer = footer_lines(s, lambda s: s)
    if footer:
        parts.append("<p>" + "<br>".join(e(line) for line in footer) + "</p>")
    return "".join(parts)


def _at(values: np.ndarray | None, j: int) -> float | None:
    return None if values is None else _finite(values[j])


def _fmt(value: float | None, digits: int = 4, fixed: bool = False) -> str:
    if value is None:
        return "n/a"
    if not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}f}" if fixed else f"{value:.{digits}g}"


def _fmt_p(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if value >= 1e-3 else f"{value:.2g}"


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None
