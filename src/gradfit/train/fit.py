"""``fit(X, y, **options)``: the public convenience that composes the engine's nouns."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gradfit.data.scaling import Scaling
from gradfit.data.source import ArraySource, Source, as_source
from gradfit.exceptions import ConvergenceWarning, InvalidInputError, RankDeficiencyWarning
from gradfit.model.objective import Objective
from gradfit.model.regularized import RegularizedObjective
from gradfit.train.advice import rank_note, shortfall, stopped_short
from gradfit.train.events import Progress, StepRecord
from gradfit.train.loop import run
from gradfit.train.options import OPTIONS, FitOptions
from gradfit.train.result import FitResult
from gradfit.train.state import TrainState

__all__ = ["fit", "objective_for", "options_of", "split_rows"]


def fit(
    X: Any,
    y: Any = None,
    *,
    sample_weight: Any = None,
    feature_names: Sequence[str] | None = None,
    w0: Sequence[float] | np.ndarray | None = None,
    b0: float = 0.0,
    warm_start: FitResult | TrainState | None = None,
    callback: Callable[[Progress], bool | None] | None = None,
    on_step: Callable[[StepRecord], None] | None = None,
    **options: Any,
) -> FitResult:
    r"""Fit ``y = X w + b`` by gradient descent on the mean squared error.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features), (n_samples,), or a Source
        The features (a 1-D array is one feature), or a data source that brings
        its own target, weights and names.
    y : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), optional
        Weights of a weighted mean squared error.
    feature_names : list of str, optional
        Names used in messages and the history (default: DataFrame columns or x0, x1...).
    w0, b0 : starting coefficients (original units), default zeros.
    warm_start : FitResult or TrainState, optional
        Continue a previous fit: its parameters, optimizer state, step count (so
        schedules carry on) and scaling. A fit paused by ``max_steps`` resumes exactly
        where it stood (batch order, stopping state); a finished one begins a new run.
    callback : callable(Progress) -> bool, optional
        Called at every epoch boundary; returning True stops the fit.
    on_step : callable(StepRecord), optional
        Called after every step with what it saw and did (``gradfit.explain`` uses it).
    **options
        The options of ``FitOptions``, checked once:

        lr : float > 0, Schedule, 'auto' or None, default=None
            Learning rate. 'auto' derives it from the curvature of this data (after
            scaling): the best constant rate :math:`2/(\mu + L)` for full-batch 'gd' and
            :math:`1/L` with momentum; for batches :math:`1/L_b` (no batch overshoots on
            average), times :math:`1 - \beta` with momentum. None: the rule's own
            ('auto'; Adam 0.01; for 'cg', which finds its own step, a factor 1 on it).
        optimizer : str, UpdateRule, GradientTransformation or None, default=None
            A registered rule ('cg', 'gd', 'momentum', 'nesterov', 'adam', 'svrg', see
            ``gradfit.optim.RULES``), a rule object, or your own ``chain(...)`` (which
            carries its own learning rate: then leave ``lr`` out). None: for full batch
            'cg' (conjugate gradients: every digit of least squares, also on
            ill-conditioned data, see ``gradfit.model.precise``), or 'gd' when ``lr`` is
            given; 'svrg' (variance-reduced, converges to least squares) with a batch size.
        beta : float in [0, 1), default=0.9
            Momentum of 'momentum' and 'nesterov'; Adam's first-moment decay. Only for
            rules that use it.
        batch_size : int >= 1 or None, default=None
            Rows per step: None for full batch, 1 for stochastic, k for mini-batches.
        max_iter : int >= 1 or None, default=None
            Maximum number of epochs (passes over the data; one step each for full
            batch). None: a budget of 100,000 steps, and at least 1,000 epochs with batches.
        tol : float >= 0, default=1e-10
            Converged when the predictions are certified within ``tol * std(y)`` of the
            least-squares ones: with ``g`` the full-data gradient and ``mu`` the
            smallest non-zero curvature, their root-mean-square distance is at most
            :math:`|g| / \sqrt{2 \mu}`. Independent of the units of X and y. 0 turns it off.
        gtol : float >= 0, default=0
            Also converged when the full-data gradient norm is at most ``gtol``
            (absolute, in descent coordinates). 0 turns it off.
        loss_tol : float >= 0, default=0
            Early stopping: stop when the loss has not improved by ``loss_tol``
            (relative) for ``n_iter_no_change`` epochs. It certifies nothing: with ``tol``
            or ``gtol`` on, stopping this way warns.
        validation_fraction : float in (0, 1) or None, default=None
            With ``loss_tol``: early stopping watches the loss of this fraction of the
            rows, held out at random (``random_state``); the fit is then least squares
            of the other rows.
        n_iter_no_change : int >= 1, default=5
        fit_intercept : bool, default=True
            False fits a line through the origin (``b = 0``).
        standardize : bool or Scaling, default=True
            Run descent on standardized features; coefficients are still reported in
            original units.
        shuffle : bool, default=True
            Reshuffle rows every epoch (mini-batch and stochastic).
        random_state : int >= 0 or None
            Seed of the shuffling; a seed reproduces a run exactly.
        path : {'auto', 'stats', 'direct'}, default='auto'
            Full-data evaluations from sufficient statistics (O(d^2) per step after one
            pass) or from the rows (O(n d)). 'auto' uses statistics when
            ``n >= 2 (d + 1)`` and ``d < 2048``. Both give the same iterates up to rounding.
        history_stride : int >= 1, optional
            Record every k-th step; by default every step for full batch and about 100
            entries per epoch otherwise.
        record_gap : bool, default=False
            Also record the relative distance of the coefficients to the least-squares
            solution (computed once with ``numpy.linalg.lstsq``).
        max_history : int >= 2, optional
            Keep at most this many history entries (evenly thinned).
        divergence_patience : int >= 1, default=5
            Epochs of growing loss, above the starting loss, that count as divergence
            (not for Adam, which counts only a blow-up).
        max_steps : int >= 1, optional
            Pause after this many steps (stop code ``'max_steps'``), even mid-epoch.

    Returns
    -------
    FitResult
        ``.model`` (the line in original units), ``.report`` (history, stop reason,
        curvature) and ``.state`` (a ``TrainState`` to resume from).

    Raises
    ------
    InvalidInputError
        Bad data or options, or options that contradict each other; the message says
        how to fix them.

    Warns
    -----
    ConvergenceWarning
        The fit stopped short of least squares: the message gives the digits reached
        and the setting that gets the rest.
    RankDeficiencyWarning
        Collinear columns or fewer rows than coefficients: many least-squares
        solutions; the one with the smallest ``|w|`` is returned.
    DivergenceError
        The loss grew without bound; the message gives the largest stable rate,
        a rate that works and whether to standardize.

    Examples
    --------
    >>> from gradfit import fit, make_article_b
    >>> d = make_article_b(500)
    >>> r = fit(d.X, d.y, lr=0.1, max_iter=500)
    >>> r.w.round(6).tolist(), round(r.b, 6)
    ([2.0, 4.0, 5.0, 9.0, 11.0], 2.0)
    >>> r.stop.code
    'converged_gradient'
    """
    if "problem" in options:
        raise InvalidInputError(
            "fit() no longer takes problem=: build an Objective once and call "
            "gradfit.train.run(objective, FitOptions(...)) for many fits of the same data"
        )
    opts = options_of(options, "fit")
    source: Source = as_source(X, y, sample_weight=sample_weight, feature_names=feature_names)
    if warm_start is not None and not isinstance(warm_start, (FitResult, TrainState)):
        raise InvalidInputError(
            f"warm_start must be a FitResult or a TrainState, got {type(warm_start).__name__}: "
            "pass the result of an earlier fit"
        )
    state = warm_start.state if isinstance(warm_start, FitResult) else warm_start
    scaling = opts.standardize
    if state is not None:
        if "standardize" in options and not _same_scaling(scaling, state.scaling):
            raise InvalidInputError(
                f"the warm start descended with standardize={not state.scaling.is_identity}: "
                "pass the same, or leave standardize out"
            )
        scaling = state.scaling
    validation = None
    if opts.validation_fraction is not None:
        source, held_out = split_rows(source, opts.validation_fraction, opts.random_state)
    objective = objective_for(source, opts, scaling)
    if opts.validation_fraction is not None:
        validation = objective_for(held_out, opts, objective.scaling)
    result = run(
        objective,
        opts,
        state,
        w0=w0,
        b0=b0,
        callback=callback,
        on_step=on_step,
        validation=validation,
    )
    warn_about(result, objective, opts)
    return result


def split_rows(source: Source, fraction: float, seed: int | None) -> tuple[Source, Source]:
    """The rows to fit and the rows held out (a ``fraction`` of them, at random)."""
    if not isinstance(source, ArraySource):
        raise InvalidInputError(
            "validation_fraction needs the rows in memory: pass arrays, or leave it out"
        )
    n = source.n_rows
    held = min(n - 1, max(1, math.ceil(fraction * n)))
    order = np.random.default_rng(seed).permutation(n)
    parts = []
    for idx in (np.sort(order[held:]), np.sort(order[:held])):
        batch = source.rows(idx)
        parts.append(
            ArraySource(
                batch.X,
                batch.y,
                sample_weight=batch.weight,
                feature_names=source.feature_names,
                target_name=source.target_name,
            )
        )
    return parts[0], parts[1]


def options_of(options: dict[str, Any], caller: str) -> FitOptions:
    """``FitOptions(**options)``, with an unknown name reported as ``caller``'s argument."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise TypeError(f"{caller}() got an unexpected keyword argument {unknown[0]!r}")
    return FitOptions(**options)


def objective_for(
    source: Source, options: FitOptions, scaling: bool | Scaling | None = None
) -> Objective:
    """The objective ``options`` describe over ``source`` (its scaling, path, loss and
    penalty)."""
    scaling = options.standardize if scaling is None else scaling
    if options.regularized:
        return RegularizedObjective(
            source,
            penalty=options.penalty_spec,
            loss=options.loss,
            epsilon=options.epsilon,
            scaling=scaling,
            path=options.path,
            fit_intercept=options.fit_intercept,
        )
    return Objective(
        source, scaling=scaling, path=options.path, fit_intercept=options.fit_intercept
    )


def warn_about(result: FitResult, objective: Objective, options: FitOptions) -> None:
    """Never silently wrong: say when the answer is not (the unique) least squares."""
    rank = result.report.rank
    # a penalty chooses among collinear answers itself (ridge: the unique minimum; the
    # lasso: the same predictions whichever it returns), least squares' note would mislead
    if rank is not None and rank < objective.n_coefficients and not options.penalty_spec.active:
        warnings.warn(
            rank_note(rank, objective),
            RankDeficiencyWarning,
            stacklevel=3,
        )
    if stopped_short(result, options):
        warnings.warn(shortfall(result, objective, options), ConvergenceWarning, stacklevel=3)


def _same_scaling(given: bool | Scaling, kept: Scaling) -> bool:
    if isinstance(given, Scaling):
        return given.same_as(kept)
    return bool(given) == (not kept.is_identity)
