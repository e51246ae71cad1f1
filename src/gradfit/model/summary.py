"""Results you can trust: the statistics of a fitted line, as statsmodels' OLS and WLS give them.

For a least-squares fit of ``y = X w + b`` (or ``y = X w`` through the origin) on ``n``
rows with weights ``s_i`` (1 without weights), with ``A = [X 1]`` (``X`` through the
origin), ``p`` coefficients, ``r`` the rank of ``A`` and ``k`` = 1 with a constant (0
without):

- ``SSR = sum_i s_i e_i^2``, ``scale = sigma^2 = SSR / (n - r)``;
- ``Cov(coef) = sigma^2 (A^T S A)^-1``, standard errors its root diagonal, ``t = coef /
  se``, two-sided p-values and confidence intervals from Student's t with ``n - r``
  degrees of freedom;
- ``R^2 = 1 - SSR / TSS`` (``TSS`` centred with a constant, uncentred ``sum s_i y_i^2``
  without), ``adjusted = 1 - (n - k) / (n - r) (1 - R^2)``, ``F = (ESS / (r - k)) /
  (SSR / (n - r))``;
- ``llf = -n/2 log(SSR) - n/2 (1 + log(2 pi / n)) + 1/2 sum log s_i``, ``AIC = -2 llf +
  2 r``, ``BIC = -2 llf + r log n``;
- the condition number of the design as statsmodels reports it (``Cond. No.``): the
  square root of the eigenvalue ratio of ``A^T S A``.

All of them are functions of the sufficient statistics (``SufficientStats``) and ``n``;
``summarize`` also reads the residuals off the rows, which keeps ``SSR`` exact when the
fit is close to perfect. Student's t and F distributions are computed here from the
regularized incomplete beta function (continued fractions: the classic one, and DiDonato
and Morris' where the classic one loses digits), so the core keeps to NumPy; they agree
with SciPy to 1e-10 and with mpmath to ~1e-13, also for 1e9 degrees of freedom.

A statistic that does not apply is None, and the summary says why: the fit is not least
squares (it stopped short, or is penalized), the coefficients are not identified
(collinear columns, fewer rows than coefficients), no residual degrees of freedom are
left, or the fit is perfect (residuals at the level of rounding or of the descent's own
distance to least squares).

>>> import gradfit
>>> d = gradfit.load_dataset("davis")
>>> s = gradfit.summarize(gradfit.fit(d.X, d.y), d.X, d.y)
>>> s.params.round(4).tolist(), s.bse.round(4).tolist()
([0.2384, 25.2662], [0.0877, 14.9504])
>>> round(s.rsquared, 4), s.df_resid, s.df_model
(0.036, 198, 1)
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradfit.exceptions import InvalidInputError
from gradfit.model.distributions import (
    f_sf,
    regularized_beta,
    student_t_ppf,
    student_t_sf,
    t_tails,
)
from gradfit.model.fitted import LinearModel
from gradfit.model.objective import Objective
from gradfit.model.precise import ExactObjective
from gradfit.model.stats import SufficientStats, SummarySource
from gradfit.model.summary_text import _at, _finite, as_html, as_markdown, as_text

__all__ = [
    "Optimization",
    "Summary",
    "f_sf",
    "regularized_beta",
    "student_t_ppf",
    "student_t_sf",
]

EPS = float(np.finfo(np.float64).eps)
INTERCEPT = "b (intercept)"
# Coefficients whose predictions are within this (relative to the size of y) of the
# least-squares ones are least squares for the statistics (which then agree to ~1e-6).
LEAST_SQUARES_TOL = 1e-6
# Residuals within this factor of the distance to least squares (or of rounding) are
# indistinguishable from zero: a perfect fit.
PERFECT_FACTOR = 10.0


# -- the summary ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Optimization:
    """How the descent went: the parts of a ``TrainingReport`` a summary shows.

    ``gap`` is the certified root-mean-square distance of the predictions to the
    least-squares ones, relative to the size of ``y`` (None: not certified);
    ``curvature_condition_number`` is gradfit's ``L / mu``, the conditioning of the loss in
    the coordinates descent ran in (standardized features by default), not the design's.
    """

    steps: int
    stop_code: str
    stop_message: str
    converged: bool
    grad_norm: float
    gap: float | None
    curvature_condition_number: float | None
    optimizer: str | None = None
    epochs: int | None = None

    @classmethod
    def from_report(cls, report: Any) -> Optimization:
        """From a ``gradfit.train.TrainingReport`` (anything with its attributes)."""
        curvature = getattr(report, "curvature", None)
        kappa = None if curvature is None else curvature.condition_number
        return cls(
            steps=int(report.n_steps),
            stop_code=str(report.stop.code),
            stop_message=str(report.stop.message),
            converged=bool(report.stop.converged),
            grad_norm=float(report.grad_norm),
            gap=None if getattr(report, "gap", None) is None else float(report.gap),
            curvature_condition_number=None if kappa is None else float(kappa),
            optimizer=getattr(report, "optimizer", None),
            epochs=getattr(report, "n_epochs", None),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "epochs": self.epochs,
            "optimizer": self.optimizer,
            "stop_code": self.stop_code,
            "stop_message": self.stop_message,
            "converged": self.converged,
            "grad_norm": _finite(self.grad_norm),
            "gap": _finite(self.gap),
            "curvature_condition_number": _finite(self.curvature_condition_number),
        }


# The statistics of a summary, in the order they are shown, with their labels.
STATISTICS: dict[str, str] = {
    "rsquared": "R-squared",
    "rsquared_adj": "Adj. R-squared",
    "fvalue": "F-statistic",
    "f_pvalue": "Prob (F-statistic)",
    "llf": "Log-likelihood",
    "aic": "AIC",
    "bic": "BIC",
    "rmse": "RMSE",
    "resid_std": "Residual std",
    "scale": "Scale (sigma^2)",
    "ssr": "SSR",
    "condition_number": "Cond. No. of the design",
}
# the per-coefficient columns (None for all of them at once, with one reason)
INFERENCE = ("bse", "tvalues", "pvalues", "conf_int")


@dataclass(frozen=True)
class Summary:
    """The statistics of a fitted linear model, named as statsmodels names them.

    Coefficients are in the order ``w`` (one per feature), then the intercept ``b`` when
    the fit has one (statsmodels' ``add_constant`` puts it first). Every statistic that
    does not apply is None, and ``not_applicable[name]`` says why; ``notes`` collects those
    reasons and anything else worth knowing. Build one with ``summarize`` (from a fit and
    its rows) or ``Summary.from_stats`` (from sufficient statistics).
    """

    target_name: str
    names: tuple[str, ...]
    params: np.ndarray
    bse: np.ndarray | None
    tvalues: np.ndarray | None
    pvalues: np.ndarray | None
    ci: np.ndarray | None
    alpha: float
    weighted: bool
    fit_intercept: bool
    k_constant: int
    nobs: int
    rank: int
    df_model: int
    df_resid: int
    ssr: float
    tss: float
    rsquared: float | None
    rsquared_adj: float | None
    rmse: float
    resid_std: float | None
    scale: float | None
    fvalue: float | None
    f_pvalue: float | None
    llf: float | None
    aic: float | None
    bic: float | None
    condition_number: float | None
    least_squares_distance: float
    optimization: Optimization | None
    not_applicable: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    objective: str | None = None  # what the fit minimised when not least squares

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def from_stats(
        cls,
        stats: SufficientStats,
        n_rows: int,
        model: LinearModel,
        report: Any = None,
        fit_intercept: bool | None = None,
        *,
        ssr: float | None = None,
        weighted: bool = False,
        log_weight_sum: float = 0.0,
        alpha: float = 0.05,
        penalty: str | None = None,
        extra_notes: Sequence[str] = (),
        design: Objective | None = None,
    ) -> Summary:
        """The summary of ``model`` fitted to rows with statistics ``stats``.

        Parameters
        ----------
        stats : SufficientStats
            Of the rows the model was fitted to, in original units (weighted, when
            the fit was).
        n_rows : int
            The number of rows (with a positive weight): the degrees of freedom count
            rows, not the sum of the weights.
        model : LinearModel
            The fitted line (``w``, ``b``, names).
        report : TrainingReport or None
            How the fit went (anything with ``n_steps``, ``stop``, ``grad_norm``, ``gap``,
            ``curvature``). Without one the coefficients are checked against least
            squares from the statistics.
        fit_intercept : bool, optional
            Whether ``b`` was fitted (default: ``model.fit_intercept``).
        ssr : float, optional
            The (weighted) residual sum of squares read off the rows; by default it is
            computed from the statistics, which loses digits as ``R^2`` nears 1.
        weighted, log_weight_sum : bool, float
            WLS: the sum of ``log(s_i)`` enters statsmodels' log-likelihood.
        alpha : float
            Confidence intervals at level ``1 - alpha``.
        penalty : str, optional
            The penalty of a penalized fit (its coefficients are not least squares: no
            inference).
        design : Objective, optional
            The objective over the rows themselves, when they are at hand: the rank is
            then decided from the rows, and on an ill-conditioned design the distance to
            least squares is measured with exact gradients (float64 statistics would
            blur it).
        """
        if not 0.0 < alpha < 1.0:
            raise InvalidInputError(f"alpha must be in (0, 1), got {alpha}")
        intercept = bool(
            getattr(model, "fit_intercept", True) if fit_intercept is None else fit_intercept
        )
        d = stats.n_features
        if model.n_features != d:
            raise InvalidInputError(
                f"the model has {model.n_features} features, the statistics {d}: "
                "summarize the model with the data it was fitted to"
            )
        n = int(n_rows)
        W = float(stats.weight)
        m, ybar = np.asarray(stats.x_mean, dtype=np.float64), float(stats.y_mean)
        Sxx, Syy = np.asarray(stats.Sxx), float(stats.Syy)
        w = np.asarray(model.w, dtype=np.float64)
        b = float(model.b) if intercept else 0.0
        names = (*model.feature_names, INTERCEPT) if intercept else tuple(model.feature_names)
        params = np.append(w, b) if intercept else w.copy()
        opt = None if report is None else Optimization.from_report(report)
        reasons: dict[str, str] = {}
        notes: list[str] = list(extra_notes)

        # the design: rank (decided as the fit decides it), Gram matrix, constant columns
        objective = design or Objective(
            SummarySource(stats, n, list(model.feature_names), model.target_name),
            fit_intercept=intercept,
        )
        rank = objective.design_rank
        assert rank is not None  # from statistics it is always decided
        spread = np.diag(Sxx) / W
        constant_column = bool(np.any((spread <= (1e-12 * m) ** 2) & (m != 0.0)))
        k_const = 1 if intercept or constant_column else 0
        if not intercept and constant_column:
            notes.append(
                "a feature column is constant: it acts as the intercept (statsmodels "
                "does the same), so R^2 is centred"
            )
        gram = Sxx + W * np.outer(m, m)
        if intercept:
            gram = np.block([[gram, W * m[:, None]], [W * m[None, :], np.array([[W]])]])

        # how far the coefficients are from least squares (relative to the size of y)
        y_scale = _y_scale(Syy, W, ybar, intercept)
        star = _least_squares(stats, intercept)
        delta_w = w - star[:d]
        delta_c = float(m @ delta_w) + (b - star[d] if intercept else 0.0)
        dist2 = float(delta_w @ Sxx @ delta_w) / W + delta_c**2
        distance = math.sqrt(max(dist2, 0.0)) / y_scale
        if design is not None and design.digits_at_risk:
            exact = ExactObjective(design)
            gradient = exact.value_and_grad(np.append(w, b))[1]
            distance = exact.gradient_norm(gradient) / (math.sqrt(2.0) * y_scale)

        # residuals: read off the rows when given, else from the statistics
        if ssr is None:
            ssr = stats.residual_sum_of_squares(w, b)
            floor = math.sqrt(1e-13 * (Syy / W + ybar**2)) / y_scale
            notes.append(
                "SSR from the sufficient statistics: accurate to about "
                f"{floor:.1g} x (size of y) in root-mean-square"
            )
        else:
            floor = 64.0 * EPS * math.sqrt(Syy / W + ybar**2) / y_scale
        ssr = max(float(ssr), 0.0)
        residual = math.sqrt(ssr / W) / y_scale  # RMS residual relative to the size of y
        tss = Syy if k_const else Syy + W * ybar**2
        df_resid, df_model = n - rank, rank - k_const

        # why statistics would not apply, in order of precedence
        if penalty is not None:
            why = (
                f"not a least-squares fit ({penalty}): its coefficients are not least squares, "
                "so the least-squares standard errors, tests and likelihood do not apply"
            )
            reasons_ls: str | None = why
        elif opt is not None and not opt.converged:
            reasons_ls = f"not least squares: {opt.stop_message}"
        elif distance > LEAST_SQUARES_TOL:
            if opt is not None and opt.gap is not None and distance > 2.0 * opt.gap:
                raise InvalidInputError(
                    f"the fit converged to within {opt.gap:.2g} x std(y) of least squares, "
                    f"yet its predictions are {distance:.2g} x std(y) from least squares of "
                    "these rows: summarize with the rows (and sample_weight) the model was "
                    "fitted to"
                )
            reasons_ls = (
                f"not least squares: the predictions are {distance:.2g} x std(y) from the "
                f"least-squares ones (the statistics need {LEAST_SQUARES_TOL:g}: lower tol)"
            )
        else:
            reasons_ls = None
        unidentified = (
            f"no standard errors: the design has rank {rank} for {len(params)} coefficients "
            f"({'collinear columns' if n >= len(params) else 'fewer rows than coefficients'}), "
            "so the coefficients are not identified (the minimum-norm solution is shown)"
            if rank < len(params)
            else None
        )
        no_df = (
            f"no residual degrees of freedom: {n} rows for rank {rank}" if df_resid <= 0 else None
        )
        bound = max(floor, distance, (opt.gap or 0.0) if opt is not None else 0.0)
        perfect = (
            f"perfect fit: the residuals (RMS {residual:.2g} x std(y)) are at the level of "
            f"rounding and of the fit's distance to least squares ({bound:.2g}): standard "
            "errors, t statistics, p-values and the likelihood are undefined"
            if residual <= PERFECT_FACTOR * bound
            else None
        )
        constant_y = "y is constant: R^2 is undefined" if tss <= 0.0 else None
        no_model = (
            "no regressors beyond the constant: there is no F test" if df_model <= 0 else None
        )

        def mark(names_: Sequence[str], *why: str | None) -> bool:
            """Mark ``names_`` not applicable with the first reason given; True if marked."""
            first = next((r for r in why if r is not None), None)
            if first is None:
                return False
            for name in names_:
                reasons.setdefault(name, first)
            return True

        mark(INFERENCE, reasons_ls, unidentified, no_df, perfect)
        mark(("scale", "resid_std"), reasons_ls, no_df, perfect)
        mark(("fvalue", "f_pvalue"), reasons_ls, no_df, no_model, constant_y, perfect)
        mark(("llf", "aic", "bic"), reasons_ls, perfect)
        mark(("rsquared",), constant_y)
        mark(("rsquared_adj",), constant_y, no_df)
        if rank < len(params):
            reasons["condition_number"] = (
                "rank deficient: the design's condition number is infinite"
            )
        if reasons_ls is not None and "rsquared" not in reasons:
            notes.append("R^2 and RMSE are those of the coefficients as they stand")

        # the statistics
        scale = ssr / df_resid if "scale" not in reasons else None
        rsquared = 1.0 - ssr / tss if "rsquared" not in reasons else None
        rsquared_adj = None
        if "rsquared_adj" not in reasons and rsquared is not None:
            rsquared_adj = 1.0 - (n - k_const) / df_resid * (1.0 - rsquared)
        fvalue = f_pvalue = None
        if "fvalue" not in reasons:
            fvalue = ((tss - ssr) / df_model) / (ssr / df_resid)
            f_pvalue = float(f_sf(fvalue, df_model, df_resid))
        llf = aic = bic = None
        if "llf" not in reasons:
            half = n / 2.0
            llf = -half * math.log(ssr) - (1.0 + math.log(math.pi / half)) * half
            llf += 0.5 * log_weight_sum
            k = df_model + k_const
            aic, bic = -2.0 * llf + 2.0 * k, -2.0 * llf + math.log(n) * k
        bse = tvalues = pvalues = ci = None
        if "bse" not in reasons and scale is not None:
            bse = np.sqrt(scale * np.diag(_inverse(gram)))
            tvalues = params / bse
            pvalues = t_tails(tvalues, float(df_resid))[0]
            q = student_t_ppf(1.0 - alpha / 2.0, float(df_resid))
            ci = np.column_stack([params - q * bse, params + q * bse])
        condition_number = None
        if "condition_number" not in reasons:
            eig = np.linalg.eigvalsh(gram)
            condition_number = math.sqrt(float(eig[-1] / eig[0])) if eig[0] > 0 else math.inf
        if perfect is None and reasons_ls is None and residual < 1e4 * bound:
            # SSR = SSR* + (distance to least squares)^2: its relative error is below this
            notes.append(
                f"the residuals (RMS {residual:.2g} x std(y)) are only {residual / bound:.3g} "
                "times the certified distance to least squares: standard errors are good to "
                f"about {(bound / residual) ** 2:.1g} (relative)"
            )
        if opt is None:
            notes.append(
                "no training report: the coefficients were checked against least squares of "
                f"the statistics ({distance:.2g} x std(y) apart)"
            )
        for why in reasons.values():
            if why not in notes:
                notes.append(why)
        return cls(
            target_name=model.target_name,
            names=tuple(names),
            params=params,
            bse=bse,
            tvalues=tvalues,
            pvalues=pvalues,
            ci=ci,
            alpha=float(alpha),
            weighted=bool(weighted),
            fit_intercept=intercept,
            k_constant=k_const,
            nobs=n,
            rank=int(rank),
            df_model=int(df_model),
            df_resid=int(df_resid),
            ssr=ssr,
            tss=tss,
            rsquared=rsquared,
            rsquared_adj=rsquared_adj,
            rmse=math.sqrt(ssr / W),
            resid_std=None if scale is None else math.sqrt(scale),
            scale=scale,
            fvalue=fvalue,
            f_pvalue=f_pvalue,
            llf=llf,
            aic=aic,
            bic=bic,
            condition_number=condition_number,
            least_squares_distance=distance,
            optimization=opt,
            not_applicable=reasons,
            notes=tuple(notes),
            objective=penalty,
        )

    # -- statsmodels' names ------------------------------------------------------------------

    @property
    def method(self) -> str:
        """``'WLS'`` with sample weights, else ``'OLS'``; what was minimised when it was
        not least squares (``'lasso (alpha=0.5)'``)."""
        if self.objective is not None:
            return self.objective
        return "WLS" if self.weighted else "OLS"

    @property
    def curvature_condition_number(self) -> float | None:
        """gradfit's ``L / mu`` in the coordinates descent ran in (None: no report)."""
        return None if self.optimization is None else self.optimization.curvature_condition_number

    def conf_int(self) -> np.ndarray | None:
        """``[low, high]`` per coefficient at level ``1 - alpha`` (statsmodels' ``conf_int``)."""
        return self.ci

    # -- outputs ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values: a statistic that does not apply is None, its reason in
        ``not_applicable`` and ``notes``."""
        rows = []
        for j, name in enumerate(self.names):
            rows.append(
                {
                    "name": name,
                    "coef": _finite(self.params[j]),
                    "std_err": _at(self.bse, j),
                    "t": _at(self.tvalues, j),
                    "p_value": _at(self.pvalues, j),
                    "ci_low": None if self.ci is None else _finite(self.ci[j, 0]),
                    "ci_high": None if self.ci is None else _finite(self.ci[j, 1]),
                }
            )
        out: dict[str, Any] = {
            "method": self.method,
            "target": self.target_name,
            "fit_intercept": self.fit_intercept,
            "nobs": self.nobs,
            "rank": self.rank,
            "df_model": self.df_model,
            "df_resid": self.df_resid,
            "alpha": self.alpha,
            "coefficients": rows,
            "rsquared_kind": "centred" if self.k_constant else "uncentred",
        }
        for name in STATISTICS:
            out[name] = _finite(getattr(self, name))
        out["curvature_condition_number"] = _finite(self.curvature_condition_number)
        out["least_squares_distance"] = _finite(self.least_squares_distance)
        out["optimization"] = None if self.optimization is None else self.optimization.to_dict()
        out["not_applicable"] = dict(self.not_applicable)
        out["notes"] = list(self.notes)
        return out

    def to_json(self, **kwargs: Any) -> str:
        """``to_dict()`` as strict JSON (no NaN or infinity)."""
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)

    def to_text(self, rewrite: Callable[[str], str] | None = None) -> str:
        """A plain-text table in the manner of statsmodels' ``summary()``.

        ``rewrite`` is applied to messages (the stop reason, the notes): the command
        line uses it to name its flags.
        """
        return as_text(self, rewrite)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_markdown_(self) -> str:
        return as_markdown(self)

    def _repr_html_(self) -> str:
        return as_html(self)


def _y_scale(Syy: float, W: float, ybar: float, intercept: bool) -> float:
    """The size of y, as the fit's tolerances measure it: std(y) (root-mean-square
    through the origin)."""
    std = math.sqrt(max(Syy, 0.0) / W)
    if not intercept:
        std = math.hypot(std, ybar)
    return std if std > 0 else (abs(ybar) or 1.0)


def _scaled(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``D^-1 M D^-1`` and ``D^-1`` with ``D`` the root diagonal (1 where it is 0)."""
    diag = np.sqrt(np.maximum(np.diag(matrix), 0.0))
    inv = 1.0 / np.where(diag > 0, diag, 1.0)
    return matrix * np.outer(inv, inv), inv


def _inverse(matrix: np.ndarray) -> np.ndarray:
    """The inverse of a symmetric positive definite matrix, equilibrated first."""
    corr, inv = _scaled(matrix)
    return np.asarray(np.linalg.inv(corr) * np.outer(inv, inv))


def _least_squares(stats: SufficientStats, intercept: bool) -> np.ndarray:
    """``[w, b]`` of least squares from the statistics (minimum norm when singular)."""
    if intercept:
        corr, inv = _scaled(stats.Sxx)
        w = np.linalg.lstsq(corr, stats.Sxy * inv, rcond=None)[0] * inv
        return np.append(w, stats.y_mean - stats.x_mean @ w)
    moments = stats.Sxx + stats.weight * np.outer(stats.x_mean, stats.x_mean)
    rhs = stats.Sxy + stats.weight * stats.x_mean * stats.y_mean
    corr, inv = _scaled(moments)
    return np.append(np.linalg.lstsq(corr, rhs * inv, rcond=None)[0] * inv, 0.0)
