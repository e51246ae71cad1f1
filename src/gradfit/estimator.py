"""``GDRegressor``: gradfit as a scikit-learn estimator (needs ``gradfit[sklearn]``)."""

from __future__ import annotations

import numbers
import warnings
from dataclasses import replace
from typing import Any

import numpy as np

from gradfit.exceptions import require

require("sklearn", "sklearn")

from sklearn.base import BaseEstimator, RegressorMixin  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.utils.validation import check_is_fitted, validate_data  # noqa: E402

from gradfit.data.dask_source import is_dask  # noqa: E402
from gradfit.data.source import ArraySource, Source, as_source, is_source  # noqa: E402
from gradfit.model import Curvature, Objective, SufficientStats  # noqa: E402
from gradfit.model.objective import STATS_MAX_FEATURES  # noqa: E402
from gradfit.model.stats import SummarySource  # noqa: E402
from gradfit.optim import Schedule, exponential_decay, inverse_scaling  # noqa: E402
from gradfit.optim.base import GradientTransformation  # noqa: E402
from gradfit.train import (  # noqa: E402
    FitOptions,
    FitResult,
    History,
    StopReason,
    resolve_schedule,
    run,
)
from gradfit.train.advice import shortfall, stopped_short  # noqa: E402
from gradfit.train.fit import objective_for, split_rows  # noqa: E402

__all__ = ["GDRegressor"]

SCHEDULES = ("constant", "invscaling", "exponential")


class GDRegressor(RegressorMixin, BaseEstimator):
    r"""Linear regression by gradient descent on the (weighted) mean squared error.

    Exact by default: full-batch descent on standardized features with the best
    constant learning rate for the data, iterated on sufficient statistics until its
    predictions are certified within ``tol * std(y)`` of the least-squares ones; with a
    ``batch_size``, variance-reduced steps (SVRG) that converge to the same answer.
    With ``standardize`` descent starts at ``w = 0`` and ``b = mean(y)`` (the
    intercept's optimum for centred features), otherwise at zero, as ``SGDRegressor``
    does. Stopping short warns (``ConvergenceWarning``, saying how far and what to
    change); divergence raises (``DivergenceError``): never silently wrong. With
    collinear columns the minimum-norm solution is returned, as ``LinearRegression``
    does, and ``rank_`` says so.

    Parameters
    ----------
    lr : float > 0, Schedule, 'auto' or None, default=None
        Learning rate (in the standardized coordinates when ``standardize``).
        'auto' is derived from the curvature of the data: ``2 / (mu + L)`` for
        full-batch 'gd', ``1 / L_b`` otherwise. Adam needs a number. None: the rule's
        own ('auto'; for 'cg' the whole exact step).
    schedule : {'constant', 'invscaling', 'exponential'}, default='constant'
        How a numeric or 'auto' ``lr`` decays with the step ``t``: constant;
        ``lr / (t + 1) ** power_t``; ``lr * decay ** t``.
    power_t : float >= 0, default=0.25
        Exponent of 'invscaling'.
    decay : float in (0, 1], default=0.999
        Factor per step of 'exponential'.
    optimizer : str, UpdateRule, chain or None, default=None
        Update rule: a name registered in ``gradfit.optim.RULES`` ('gd', 'momentum',
        'nesterov', 'adam', 'svrg', ...), a rule object, or a chain of transforms.
        None: 'cg' (conjugate gradients: every digit of least squares) for full batch
        without ``lr`` ('fista' with an L1 penalty or Huber's loss), 'gd' with one,
        'svrg' with a ``batch_size``.
    beta : float in [0, 1) or None, default=None
        Momentum of 'momentum' and 'nesterov'; Adam's first-moment decay. None: 0.9
        for the rules that use it; setting it for a rule that does not is an error.
    penalty : {None, 'l2', 'l1', 'elasticnet'}, default=None
        A penalty on ``coef_`` (never the intercept), in the units of ``X`` whatever
        ``standardize`` says: standardizing changes the path, not the answer (glmnet's
        ``standardize=TRUE`` penalizes standardized coefficients instead). The L1 part
        is taken by proximal steps (soft threshold): 'gd' is then ISTA, 'fista' its
        accelerated form, 'svrg' proximal SVRG. None: least squares.
    alpha : float >= 0, default=0.0001
        The penalty's strength. gradfit minimises the loss plus ``2 alpha R(w)`` with
        ``R(w) = l1_ratio |w|_1 + (1 - l1_ratio) |w|^2 / 2``: twice scikit-learn's
        objective, so the same ``alpha`` gives the coefficients of ``Lasso``,
        ``ElasticNet`` and ``SGDRegressor``; ``Ridge(alpha=n_samples * alpha)``.
    l1_ratio : float in [0, 1], default=0.15
        The elastic net's share of L1 (only with ``penalty='elasticnet'``; as ``alpha``
        without a penalty and ``epsilon`` without Huber's loss, ignored otherwise, as in
        scikit-learn).
    loss : {'squared_error', 'huber'}, default='squared_error'
        'huber': ``e^2`` while the error ``|e| <= epsilon``, then ``2 epsilon |e| -
        epsilon^2`` (twice ``SGDRegressor``'s Huber loss): an outlier pulls with a
        bounded force. Unlike ``HuberRegressor``, which also estimates a scale and
        reads ``epsilon`` in its units, ``epsilon`` here is fixed, in the target's units.
    epsilon : float > 0, default=0.1
        Huber's threshold (only with ``loss='huber'``).
    batch_size : int >= 1 or None, default=None
        Rows per step: None for full batch, 1 for stochastic, k for mini-batches.
    max_iter : int >= 1 or None, default=None
        Maximum number of epochs (passes over the data). None: 100000 for full
        batch (a step costs O(d^2) there); with batches at least 1000, and a budget of
        100000 steps when an epoch has few. Stopping there warns
        (``ConvergenceWarning``) unless ``tol`` and ``loss_tol`` are 0.
    tol : float >= 0, default=1e-10
        Converged when the predictions are certified within ``tol * std(y)`` of the
        least-squares ones (root-mean-square; the bound is ``|g| / sqrt(2 mu)`` with
        ``g`` the full-data gradient and ``mu`` the smallest curvature), the same
        meaning as in ``gradfit.fit`` and ``gradfit fit --tol``. 0 turns it off.
    loss_tol : float >= 0, default=0.0
        Early stopping: stop when the full-data loss has not improved by
        ``loss_tol`` (relative) for ``n_iter_no_change`` epochs. It certifies nothing,
        so stopping this way warns with the distance reached. 0 turns it off.
    n_iter_no_change : int >= 1, default=5
        Epochs without improvement before early stopping.
    validation_fraction : float in (0, 1) or None, default=None
        With ``loss_tol``: early stopping watches this fraction of the rows, held out
        at random (``random_state``); the coefficients are then least squares of the
        other rows, as in ``SGDRegressor(early_stopping=True)``.
    fit_intercept : bool, default=True
        False fits a line through the origin (``intercept_ = 0``); standardizing then
        divides by the root-mean-square of each feature without centring it.
    standardize : bool, default=True
        Descend on standardized features (weighted moments); ``coef_`` and
        ``intercept_`` are always in original units.
    shuffle : bool, default=True
        Reshuffle rows every epoch (mini-batch and stochastic).
    random_state : int or None, default=None
        Seed of the shuffling.
    warm_start : bool, default=False
        Start ``fit`` from the previous coefficients (as scikit-learn does), with the
        current parameters: a new rate, rule or scaling applies.
    path : {'auto', 'stats', 'direct'}, default='auto'
        Full-data evaluations from sufficient statistics or from the rows.
    history_stride : int >= 1 or None, default=None
        Record every k-th step in ``history_`` (None: every step for full batch,
        about 100 per epoch otherwise).
    max_history : int >= 2 or None, default=1000
        Keep at most this many entries in ``history_`` (evenly thinned), so that the
        fitted estimator's size does not grow with the number of steps. None: all.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
        Epochs run by the last ``fit`` (cumulated over ``partial_fit`` calls).
    n_steps_ : int
        Parameter updates so far (schedules count these).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had string column names.
    history_ : gradfit.History
        Recorded steps of the last ``fit`` or ``partial_fit``.
    loss_curve_ : list of float
        Full-data loss at every epoch boundary (all ``partial_fit`` calls).
    stop_reason_ : gradfit.StopReason
        Why the last fit stopped.
    lr_ : float
        The learning rate of the first step (``lr='auto'`` resolved).
    optimizer_ : str
        The update rule that ran (``optimizer=None`` chooses by ``lr`` and ``batch_size``).
    rank_ : int or None
        Rank of the (centred) features, as ``LinearRegression.rank_``; below
        ``n_features_in_`` the least-squares solution is not unique and ``coef_`` is the
        one with the smallest norm (``LinearRegression`` also reports it without warning).
    gap_ : float or None
        Certified bound on the root-mean-square distance of the predictions to the
        least-squares ones, relative to ``std(y)``.
    curvature_ : gradfit.Curvature or None
        Learning-rate theory for the fitted data: ``lipschitz``, ``max_stable_lr``,
        ``condition_number``... Always there when the fit used sufficient statistics
        (``n >= 2 (d + 1)``, ``d < 2048``); on the row path only when ``lr='auto'``
        needed it (power iteration would cost passes over the data).

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from gradfit import GDRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = GDRegressor().fit(X, y)
    >>> round(model.score(X, y), 4), model.stop_reason_.code
    (0.5177, 'converged_rounding')
    """

    def __init__(
        self,
        *,
        lr: float | Schedule | str | None = None,
        schedule: str = "constant",
        power_t: float = 0.25,
        decay: float = 0.999,
        optimizer: Any = None,
        beta: float | None = None,
        penalty: str | None = None,
        alpha: float = 0.0001,
        l1_ratio: float = 0.15,
        loss: str = "squared_error",
        epsilon: float = 0.1,
        batch_size: int | None = None,
        max_iter: int | None = None,
        tol: float = 1e-10,
        loss_tol: float = 0.0,
        n_iter_no_change: int = 5,
        validation_fraction: float | None = None,
        fit_intercept: bool = True,
        standardize: bool = True,
        shuffle: bool = True,
        random_state: int | None = None,
        warm_start: bool = False,
        path: str = "auto",
        history_stride: int | None = None,
        max_history: int | None = 1000,
    ) -> None:
        self.lr = lr
        self.schedule = schedule
        self.power_t = power_t
        self.decay = decay
        self.optimizer = optimizer
        self.beta = beta
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.loss = loss
        self.epsilon = epsilon
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.loss_tol = loss_tol
        self.n_iter_no_change = n_iter_no_change
        self.validation_fraction = validation_fraction
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.path = path
        self.history_stride = history_stride
        self.max_history = max_history

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = False
        return tags

    # -- parameters -------------------------------------------------------------------

    def _check_params(self, max_iter: int | None = None) -> FitOptions:
        """The estimator's own constraints, then the engine's contract (``FitOptions``)."""
        if self.schedule not in SCHEDULES:
            raise ValueError(
                f"schedule must be one of {SCHEDULES}, got {self.schedule!r}: "
                "or pass a gradfit schedule as lr"
            )
        for name in ("power_t",):
            value = getattr(self, name)
            if (
                not isinstance(value, numbers.Real)
                or isinstance(value, bool)
                or not float(value) >= 0
            ):
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        if not isinstance(self.decay, numbers.Real) or not 0 < float(self.decay) <= 1:
            raise ValueError(f"decay must be in (0, 1], got {self.decay!r}")
        if self.max_iter is not None and (
            not isinstance(self.max_iter, numbers.Integral) or self.max_iter < 1
        ):
            raise ValueError(f"max_iter must be an integer >= 1 or None, got {self.max_iter!r}")
        chain = isinstance(self.optimizer, GradientTransformation)
        own_rate = chain or callable(self.lr)
        if own_rate and self.schedule != "constant":
            raise ValueError(
                f"schedule={self.schedule!r} shapes a numeric or 'auto' lr; "
                + ("the chain carries its own rate" if chain else "lr is already a schedule")
                + ": leave schedule at 'constant'"
            )
        if chain and self.lr is not None:
            raise ValueError(
                "a chain of transforms carries its own learning rate: leave lr at None"
            )
        return FitOptions(
            lr=None if chain else self.lr,
            optimizer=self.optimizer,
            beta=self.beta,
            penalty=self.penalty,
            loss=self.loss,
            # as in scikit-learn, a parameter of a penalty or loss not chosen is ignored
            # (GridSearchCV and the estimator checks set alpha on any estimator with one)
            **self._used("alpha", self.penalty is not None),
            **self._used("l1_ratio", self.penalty == "elasticnet"),
            **self._used("epsilon", self.loss == "huber"),
            batch_size=self.batch_size,
            max_iter=max_iter,
            tol=self.tol,
            loss_tol=self.loss_tol,
            n_iter_no_change=self.n_iter_no_change,
            validation_fraction=self.validation_fraction,
            fit_intercept=self.fit_intercept,
            standardize=self.standardize,
            shuffle=self.shuffle,
            random_state=self.random_state,
            path=self.path,
            history_stride=self.history_stride,
            max_history=self.max_history,
        )

    def _used(self, name: str, applies: bool) -> dict[str, Any]:
        return {name: getattr(self, name)} if applies else {}

    def _schedule(self, objective: Objective, options: FitOptions) -> Schedule | None:
        """The learning rate as a schedule; 'auto' resolved on ``objective``."""
        base = resolve_schedule(objective, options)
        if base is None or self.schedule == "constant" or callable(self.lr):
            return base
        lr = base(0)
        if self.schedule == "invscaling":
            return inverse_scaling(lr, power=float(self.power_t))
        return exponential_decay(lr, rate=float(self.decay))

    # -- fitting ----------------------------------------------------------------------

    def _validate(self, X: Any, y: Any, sample_weight: Any, reset: bool) -> tuple[Any, Any, Any]:
        X, y = validate_data(
            self, X, y, reset=reset, accept_sparse="csr", dtype=np.float64, y_numeric=True
        )
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            if sample_weight.ndim != 1 or sample_weight.shape[0] != X.shape[0]:
                raise ValueError(
                    f"sample_weight must have shape ({X.shape[0]},), got "
                    f"{sample_weight.shape}: pass one weight per row"
                )
        return X, y, sample_weight

    def _run(
        self,
        X: Any,
        y: np.ndarray,
        sample_weight: np.ndarray | None,
        *,
        previous: FitResult | None,
        max_iter: int | None,
        stopping: bool,
        start: tuple[np.ndarray, float] | None = None,
    ) -> tuple[FitResult, Objective, FitOptions]:
        """One run of the engine: a new fit (from ``start``, coefficients in original
        units, when given), or the next pass of ``partial_fit`` from ``previous``."""
        options = self._check_params(max_iter)
        source: Source = (
            X
            if is_source(X)
            else ArraySource(
                X,
                y,
                sample_weight=sample_weight,
                feature_names=[str(c) for c in getattr(self, "feature_names_in_", [])] or None,
            )
        )
        held_out = None
        if stopping and options.validation_fraction is not None:
            source, held_out = split_rows(source, options.validation_fraction, options.random_state)
        objective = objective_for(
            source, options, previous.scaling if previous is not None else None
        )
        validation = (
            None if held_out is None else objective_for(held_out, options, objective.scaling)
        )
        schedule = previous.lr if previous is not None else self._schedule(objective, options)
        # Standardized features are centred, so the intercept's optimum is exactly the
        # mean of y: start there.
        b0 = 0.0
        if self.standardize and self.fit_intercept:
            b0 = (
                objective.stats_of_rows.y_mean
                if is_source(X)
                else float(np.average(y, weights=sample_weight))
            )
        if objective.path == "stats":
            objective.curvature  # noqa: B018  (cheap here: the theory becomes curvature_)
        # the rule the options chose without a rate keeps being chosen with one
        options = options.replace(lr=schedule, optimizer=options.optimizer or options.rule.name)
        if not stopping:
            options = options.replace(tol=0.0, loss_tol=0.0, validation_fraction=None)
        if previous is not None:
            return run(objective, options, previous.state.new_run()), objective, options
        w0, b0 = start if start is not None else (None, b0)
        if not self.fit_intercept:
            b0 = 0.0
        result = run(objective, options, w0=w0, b0=b0, validation=validation)
        return result, objective, options

    def _store(self, result: FitResult, *, accumulate: bool) -> None:
        self._result = result
        self.coef_ = result.w.copy()
        self.intercept_ = float(result.b)
        self.n_steps_ = result.n_steps
        self.n_iter_: int = (getattr(self, "n_iter_", 0) if accumulate else 0) + result.n_epochs
        self.history_: History = result.history
        curve = result.history.epoch_loss.tolist()
        self.loss_curve_: list[float] = (
            getattr(self, "loss_curve_", []) + curve[1:] if accumulate else curve
        )
        self.stop_reason_: StopReason = result.stop
        self.lr_ = float(result.lr(0)) if result.lr is not None else float("nan")
        self.optimizer_: str = result.optimizer
        self.curvature_: Curvature | None = result.curvature
        rank = result.report.rank  # of [X 1]; scikit-learn's rank_ is that of centred X
        self.rank_: int | None = None if rank is None else rank - int(self.fit_intercept)
        self.gap_: float | None = result.report.gap

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> GDRegressor:
        """Fit by gradient descent until converged (or ``max_iter`` epochs, with a warning).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or a data source
            A source (``gradfit.open_source``: a file streamed) brings its own target and
            weights; dask arrays or DataFrames (with a dask ``y``) stay on their workers.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional
            Weights of the weighted mean squared error; integer weights equal
            repeating rows.

        Returns
        -------
        self
        """
        self._check_params()
        if is_source(X) or is_dask(X):  # a file or dask collections: streamed, never whole
            X = self._take_source(X, y, sample_weight)
        else:
            X, y, sample_weight = self._validate(X, y, sample_weight, reset=True)
        # warm_start: the previous coefficients are the starting point, as in scikit-learn;
        # every parameter set since (rate, rule, scaling) applies
        start = None
        if self.warm_start and getattr(self, "coef_", np.empty(0)).shape == (self.n_features_in_,):
            start = (self.coef_, self.intercept_)
        result, objective, options = self._run(
            X,
            y,
            sample_weight,
            previous=None,
            max_iter=self.max_iter,
            stopping=True,
            start=start,
        )
        self._store(result, accumulate=False)
        self._warn_if_short(result, objective, options)
        return self

    def _take_source(self, source: Any, y: Any, sample_weight: Any) -> Any:
        """A data source as ``X`` (it brings its own target, weights and names), or dask
        collections (which become one)."""
        source = as_source(source, y, sample_weight=sample_weight)  # a source's given twice: error
        self.n_features_in_ = source.n_features
        self.feature_names_in_ = np.asarray(source.feature_names, dtype=object)
        return source

    def _warn_if_short(self, result: FitResult, objective: Objective, options: FitOptions) -> None:
        if stopped_short(result, options):
            warnings.warn(
                f"GDRegressor {shortfall(result, objective, options)}",
                ConvergenceWarning,
                stacklevel=3,
            )

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> GDRegressor:
        """One pass over these rows with the chosen batching, then least squares of all
        rows seen so far.

        The pass makes the visible steps: unlike ``SGDRegressor.partial_fit``, the
        learning-rate schedule and the optimizer state (momentum, Adam's moments) carry
        on across calls. The feature scaling is fixed by the first call (from its rows
        when ``standardize=True``). Then, when ``tol > 0`` and there are fewer than 2048
        features, full-batch steps on the merged sufficient statistics of every row
        seen so far bring the coefficients to their least-squares solution (certified
        within ``tol * std(y)``, whatever order the chunks came in; a warning says how
        far it got otherwise). With ``tol=0`` only the pass is made: k calls on k
        chunks then make the same steps as one epoch over the concatenated rows when the
        scaling is the same (``standardize=False``, or a ``Scaling`` given).

        Returns
        -------
        self
        """
        first = not hasattr(self, "_result")
        if first:
            self._check_params()
        X, y, sample_weight = self._validate(X, y, sample_weight, reset=first)
        chunk = (
            SufficientStats.from_arrays(X, y, sample_weight)
            if X.shape[1] + 1 <= STATS_MAX_FEATURES
            else None
        )
        seen = getattr(self, "_seen", None)
        if first or seen is None or chunk is None:
            self._seen = None if chunk is None else (chunk, X.shape[0])
        else:
            self._seen = (seen[0].merge(chunk), seen[1] + X.shape[0])
        previous = None if first else self._result
        result, _, _ = self._run(
            X,
            y,
            sample_weight,
            previous=previous,
            max_iter=1,
            stopping=False,
        )
        if self.tol > 0 and self._seen is not None:
            result = self._least_squares_of_all_seen(result)
        self._store(result, accumulate=not first)
        return self

    def _least_squares_of_all_seen(self, result: FitResult) -> FitResult:
        """Full-batch descent on the statistics of every row seen, from where the pass
        left the coefficients; the rule's own state carries on for the next pass."""
        assert self._seen is not None
        stats, n_rows = self._seen
        summary = SummarySource(stats, n_rows, result.model.feature_names)
        # the same penalty (Huber's loss needs rows: its passes are all there is)
        same = self._check_params(self.max_iter)
        if same.loss != "squared_error":
            return result
        options = FitOptions(
            tol=self.tol,
            max_iter=self.max_iter,
            max_history=self.max_history,
            fit_intercept=self.fit_intercept,
            penalty=same.penalty,
            alpha=same.alpha,
            l1_ratio=same.l1_ratio,
        )
        objective = objective_for(summary, options, result.scaling)
        refined = run(objective, options, w0=result.w, b0=result.b)
        self._warn_if_short(refined, objective, options)
        state = result.state._replace(theta=refined.state.theta)
        # the report of the least-squares steps, with the pass's rate (what lr_ shows)
        report = replace(refined.report, lr=result.report.lr)
        return replace(result, model=refined.model, report=report, state=state)

    def predict(self, X: Any) -> np.ndarray:
        """``X @ coef_ + intercept_`` (X may be a data source: streamed, by feature name)."""
        check_is_fitted(self)
        if is_source(X):
            return self._result.model.predict(X)
        if is_dask(X):  # lazy, partition by partition (a DataFrame's columns as fitted)
            names = getattr(self, "feature_names_in_", None)
            if hasattr(X, "columns") and names is not None:
                X = X[[str(n) for n in names]]
            values = X.to_dask_array() if hasattr(X, "to_dask_array") else X
            return values @ self.coef_ + self.intercept_
        X = validate_data(self, X, reset=False, accept_sparse="csr", dtype=np.float64)
        return np.asarray(X @ self.coef_).ravel() + self.intercept_
