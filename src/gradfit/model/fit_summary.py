"""``summarize``: the statistical summary of a fit, from the rows it was fitted to.

It reads the rows (arrays, a DataFrame or a source), checks that they are the ones the
fit saw, reduces them to sufficient statistics and the exact residual sum of squares,
and hands those to ``Summary.from_stats``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit.data.source import ArraySource, Source, as_source
from gradfit.data.validation import feature_names_of
from gradfit.exceptions import InvalidInputError
from gradfit.model.fitted import LinearModel
from gradfit.model.linear import predict
from gradfit.model.objective import Objective
from gradfit.model.stats import SummarySource
from gradfit.model.summary import Summary

__all__ = ["summarize"]


def summarize(
    result: Any,
    X: Any,
    y: Any = None,
    *,
    sample_weight: Any = None,
    alpha: float = 0.05,
    penalty: str | None = None,
) -> Summary:
    """The statistical summary of a fit, from the rows it was fitted to.

    Parameters
    ----------
    result : FitResult
        A fit (anything with ``.model``, a ``LinearModel``, and ``.report``, a
        ``TrainingReport`` or None).
    X, y, sample_weight
        The rows (and weights) the model was fitted to; ``X`` may be a data source.
        With weights the statistics are those of weighted least squares (statsmodels'
        ``WLS(y, X, weights=sample_weight)``); rows of weight 0 do not count.
    alpha : float, default=0.05
        Confidence intervals at level ``1 - alpha``.
    penalty : str, optional
        Describes the penalty of a penalized fit (no least-squares inference then).

    Examples
    --------
    >>> import gradfit
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([1.0, 2.9, 5.2, 6.9])
    >>> s = summarize(gradfit.fit(X, y), X, y)
    >>> s.params.round(4).tolist(), s.pvalues.round(6).tolist()
    ([2.0, 1.0], [0.001497, 0.020361])
    >>> print(s.to_text())  # doctest: +ELLIPSIS
                   OLS regression results (gradfit)
    ==============================================================
    Dep. variable:         y    R-squared:            0.9970
    Model:               OLS    Adj. R-squared:       0.9955
    No. observations:      4    F-statistic:           666.7
    Df residuals:          2    Prob (F-statistic):   0.0015
    Df model:              1    Log-likelihood:      2.72366
    RMSE:             0.1225    AIC:                -1.44731
    Residual std:     0.1732    BIC:                -2.67472
    ==============================================================
                    coef  std err      t  P>|t|    [0.025   0.975]
    --------------------------------------------------------------
    x0                 2  0.07746  25.82  0.001   1.66672  2.33328
    b (intercept)      1   0.1449  6.901  0.020  0.376486  1.62351
    ==============================================================
    Cond. No. of the design ([X 1], statsmodels' definition): 3.76
    Curvature condition number L/mu (gradfit, descent coordinates): 1
    Optimization: 1 step, ... converged: predictions within ... of least squares
    """
    model = getattr(result, "model", None)
    if not isinstance(model, LinearModel):
        raise InvalidInputError(
            f"summarize takes the result of a fit (with .model), got {type(result).__name__}"
        )
    report = getattr(result, "report", None)
    if penalty is None:  # what the fit minimised, when not least squares
        penalty = getattr(report, "objective", None)
    named = None if isinstance(X, Source) else feature_names_of(X)
    if named is not None and list(named) != list(model.feature_names):
        raise InvalidInputError(
            f"X has the columns {named}, the model the features {model.feature_names}: "
            "pass the columns the model was fitted to, in the same order"
        )
    source = as_source(
        X,
        y,
        sample_weight=sample_weight,
        feature_names=None if isinstance(X, Source) else model.feature_names,
        target_name=None if isinstance(X, Source) else model.target_name,
    )
    if source.n_features != model.n_features:
        raise InvalidInputError(
            f"X has {source.n_features} feature columns, the model {model.n_features}: "
            "pass the columns the model was fitted to"
        )
    state = getattr(result, "state", None)
    fitted_rows = getattr(state, "n_rows", None)
    if fitted_rows is not None and fitted_rows != source.n_rows:
        raise InvalidInputError(
            f"the fit descended on {fitted_rows} rows, X has {source.n_rows}: summarize with "
            "the rows the model was fitted to (validation_fraction holds some out)"
        )
    intercept = bool(getattr(model, "fit_intercept", True))
    design = Objective(source, fit_intercept=intercept, path="stats")
    stats = design.stats
    b = model.b if intercept else 0.0
    ssr: float | None = None
    weighted, log_weights, n, zero = False, 0.0, source.n_rows, 0
    if _from_statistics(source, stats, model, b):
        pass  # the statistics' residual sum of squares keeps its digits: no second pass
    elif not isinstance(source, SummarySource):
        chunks = [source.rows(None)] if isinstance(source, ArraySource) else source.chunks()
        ssr = 0.0
        for chunk in chunks:
            e = chunk.y - np.asarray(predict(chunk.X, model.w, b)).ravel()
            if chunk.weight is None:
                ssr += float(e @ e)
            else:
                weighted = True
                positive = chunk.weight > 0
                zero += int(np.count_nonzero(~positive))
                ssr += float(chunk.weight @ (e * e))
                log_weights += float(np.log(chunk.weight[positive]).sum())
        n -= zero
    notes = []
    if zero:
        notes.append(
            f"{zero} rows of weight 0 do not count as observations (statsmodels' WLS would "
            "count them)"
        )
    return Summary.from_stats(
        stats,
        n,
        model,
        report,
        intercept,
        ssr=ssr,
        weighted=weighted,
        log_weight_sum=log_weights,
        alpha=alpha,
        penalty=penalty,
        extra_notes=notes,
        design=design,
    )


# -- helpers ------------------------------------------------------------------------------


def _from_statistics(source: Source, stats: Any, model: LinearModel, b: float) -> bool:
    """Whether a large streamed source's residual sum of squares may come from its
    statistics.

    ``w Sxx w - 2 w Sxy + Syy + W c^2`` cancels digits only as far as the residuals are
    small next to the spread of y: with ``R^2 < 1 - 1e-6`` it keeps about ten digits,
    and a pass over a file or a cluster is saved. Weighted rows need the pass (the
    log-likelihood sums the logs of the weights).
    """
    if (
        not getattr(source, "streamed", False)
        or getattr(source, "fits_in_memory", True)  # a second pass costs little
        or getattr(source, "weight_name", None)
    ):
        return False
    return stats.residual_sum_of_squares(model.w, b) > 1e-6 * stats.Syy
