"""The update rules gradfit knows by name, and everything it knows about each.

One ``UpdateRule`` per rule: how to build it from a schedule, whether it uses
``beta``, its largest stable rate and the rate ``lr='auto'`` picks (as factors of
the curvature ``L``), how many epochs of growing loss count as divergence, and what
``explain`` shows of its state. The command line's choices, the playground's
allowed values, ``GDRegressor`` and ``fit`` all read ``RULES``; a rule added with
``register`` appears in all of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from gradfit.exceptions import InvalidInputError
from gradfit.optim.alias import adam, gd, momentum, nesterov
from gradfit.optim.base import GradientTransformation, chain
from gradfit.optim.conjugate import conjugate_gradients
from gradfit.optim.schedules import Schedule
from gradfit.optim.transforms import fista, proximal_step

__all__ = [
    "RULES",
    "ExplainTerm",
    "Geometry",
    "UpdateRule",
    "get_rule",
    "proximal_rule_names",
    "register",
    "rule_names",
    "stepped_rule_names",
]


class Geometry(Protocol):
    """What a line-search rule asks of the loss (an ``Objective`` answers both)."""

    def curvature_along(self, p: np.ndarray) -> float: ...

    def precondition(self, g: np.ndarray) -> np.ndarray: ...

    @property
    def restart(self) -> int | None: ...

    # the non-smooth part of the loss (an L1 penalty): its proximal map, and whether it
    # has one at all
    def prox(self, theta: np.ndarray, step: float) -> np.ndarray: ...

    smooth: bool


@dataclass(frozen=True)
class ExplainTerm:
    """A vector of a rule's state that ``explain`` writes out: ``label = [values]``."""

    key: str
    label: str
    value: Callable[[Any, np.ndarray], np.ndarray]  # (state after the step, direction)


@dataclass(frozen=True)
class UpdateRule:
    """A named update rule and its theory.

    Parameters
    ----------
    name : str
    build : callable(schedule, beta) -> GradientTransformation
        (``callable(schedule, beta, geometry)`` for a line-search rule).
    summary : str
        One line for help texts.
    uses_beta : bool
        Whether ``beta`` means something to this rule.
    stable_factor : callable(beta) -> float, or None
        The largest stable constant rate is ``stable_factor(beta) * 2 / L`` on a
        quadratic (None: no such bound is known).
    auto_factor : callable(beta, full_batch) -> float, or None
        ``lr='auto'`` is ``auto_factor / L`` (full batch: ``2 / (mu + L)`` when
        ``auto_factor`` returns 0). None: the rule needs a number.
    patience : float or None
        Epochs of growing loss that count as divergence; None: the fit's
        ``divergence_patience``; ``inf``: only a blow-up is divergence.
    default_lr : float or 'auto'
        The learning rate when none is given.
    line_search : bool
        The rule finds its own step along each direction from the loss's curvature
        (``Geometry``): ``lr`` is then a factor on that step, 1 by default, and the
        rule needs the full-data loss (no batches).
    control_variate : bool
        SVRG's variance reduction: the loop replaces a batch's gradient ``g_B(theta)``
        by ``g_B(theta) - g_B(anchor) + g(anchor)``, where ``anchor`` is where the
        epoch began and ``g(anchor)`` its full-data gradient (computed at the epoch
        boundary anyway). The estimate stays unbiased and its noise vanishes at the
        optimum, so constant-rate steps converge to least squares.
    direction : str
        How the per-parameter step direction is written, with ``{p}`` for the name.
    terms : tuple of ExplainTerm
        State vectors ``explain`` shows (none: it shows the gradient).
    proximal : bool
        The rule takes a non-smooth part of the objective (an L1 penalty) by its proximal
        map after each step (``gd`` is then ISTA). Rules that do not cannot fit one.
    uses_geometry : bool
        The rule is built with the objective (``Geometry``), as ``fista`` needs its
        proximal map.
    full_batch_only : bool
        The rule has no mini-batch form.
    answer : callable(state, theta) -> theta, or None
        Where a finished run stands, when not at ``theta`` (FISTA steps from
        extrapolated points; its answer is the last proximal point, whose zeros are
        exact). None: ``theta``.
    """

    name: str
    build: Callable[..., GradientTransformation]
    summary: str
    uses_beta: bool = False
    stable_factor: Callable[[float], float] | None = None
    auto_factor: Callable[[float, bool], float] | None = None
    patience: float | None = None
    direction: str = "dJ/d{p}"
    terms: tuple[ExplainTerm, ...] = ()
    default_lr: float | str = "auto"
    control_variate: bool = False
    line_search: bool = False
    proximal: bool = False
    uses_geometry: bool = False
    full_batch_only: bool = False
    answer: Callable[[Any, np.ndarray], np.ndarray] | None = None

    def make(
        self, schedule: Schedule, beta: float = 0.9, geometry: Geometry | None = None
    ) -> GradientTransformation:
        smooth = geometry is None or getattr(geometry, "smooth", True)
        if not smooth and not (self.proximal or self.uses_geometry):
            raise InvalidInputError(
                f"optimizer={self.name!r} has no proximal step for the L1 penalty: choose "
                f"one of {', '.join(repr(n) for n in proximal_rule_names())}"
            )
        if not (self.line_search or self.uses_geometry):
            rule = self.build(schedule, beta)
            if not smooth:
                assert geometry is not None
                rule = chain(rule, proximal_step(schedule, geometry.prox))
            return rule
        if geometry is None:
            raise InvalidInputError(
                f"optimizer={self.name!r} takes its steps from the objective itself: give "
                "it the objective (gradfit.fit and gradfit.train.run do)"
            )
        return self.build(schedule, beta, geometry)

    def stable_lr(self, lipschitz: float, beta: float) -> float | None:
        """Largest stable constant rate for curvature ``lipschitz`` (None: unknown)."""
        if self.stable_factor is None:
            return None
        return self.stable_factor(beta) * 2.0 / lipschitz

    def auto_lr(self, lipschitz: float, best_lr: float, beta: float, full_batch: bool) -> float:
        """The rate ``lr='auto'`` picks; ``best_lr`` is ``2 / (mu + L)``."""
        if self.auto_factor is None:
            raise InvalidInputError(
                f"lr='auto' is derived from the curvature for {', '.join(auto_rule_names())}; "
                f"{self.name}'s rate is a distance in parameter space: pass a number, e.g. lr=0.01"
            )
        factor = self.auto_factor(beta, full_batch)
        if self.line_search:  # a factor on the exact step, not a rate
            return factor
        return best_lr if factor == 0.0 else factor / lipschitz


def _state_of(state: Any, field: str) -> Any:
    """The first transform state in a chain that has ``field``."""
    for part in state if isinstance(state, tuple) and not hasattr(state, "_fields") else (state,):
        if hasattr(part, field):
            return getattr(part, field)
    raise KeyError(field)


def _momentum_auto(beta: float, full_batch: bool) -> float:
    # Momentum multiplies a step by up to 1 / (1 - beta): with noisy batches, keep
    # the long-run step of plain descent at 1 / L_b.
    return 1.0 if full_batch else 1.0 - beta


_VELOCITY = ExplainTerm(
    "velocity", "velocity v = g + beta * v_prev", lambda s, d: _state_of(s, "velocity")
)

RULES: dict[str, UpdateRule] = {}


def register(rule: UpdateRule) -> UpdateRule:
    """Make ``rule`` known by its name everywhere (CLI, playground, estimator, ``fit``)."""
    RULES[rule.name] = rule
    return rule


def rule_names() -> tuple[str, ...]:
    return tuple(RULES)


def stepped_rule_names() -> tuple[str, ...]:
    """Rules whose step is set by a learning rate (what a rate slider can drive)."""
    return tuple(name for name, rule in RULES.items() if not rule.line_search)


def proximal_rule_names() -> tuple[str, ...]:
    """Rules that can fit an L1 penalty (by its proximal map)."""
    return tuple(name for name, rule in RULES.items() if rule.proximal or rule.uses_geometry)


def auto_rule_names() -> tuple[str, ...]:
    return tuple(name for name, rule in RULES.items() if rule.auto_factor is not None)


def get_rule(name: str) -> UpdateRule:
    """The rule called ``name``, or an error listing the known ones.

    >>> get_rule("momentum").stable_lr(2.0, beta=0.5)
    1.5
    """
    rule = RULES.get(name) if isinstance(name, str) else None
    if rule is None:
        raise InvalidInputError(
            f"unknown optimizer {name!r}: choose one of {', '.join(RULES)}, "
            "or pass an UpdateRule or a chain of transforms"
        )
    return rule


register(
    UpdateRule(
        "gd",
        lambda lr, beta: gd(lr),
        "plain gradient descent: theta <- theta - lr * g (with an L1 penalty, ISTA: "
        "then the soft threshold)",
        stable_factor=lambda beta: 1.0,
        auto_factor=lambda beta, full: 0.0 if full else 1.0,
        proximal=True,
    )
)
register(
    UpdateRule(
        "momentum",
        momentum,
        "heavy ball: v <- g + beta v; theta <- theta - lr * v",
        uses_beta=True,
        stable_factor=lambda beta: 1.0 + beta,
        auto_factor=_momentum_auto,
        direction="v_{p}",
        terms=(_VELOCITY,),
    )
)
register(
    UpdateRule(
        "nesterov",
        nesterov,
        "Nesterov momentum: v <- g + beta v; theta <- theta - lr * (g + beta v)",
        uses_beta=True,
        stable_factor=lambda beta: (1.0 + beta) / (1.0 + 2.0 * beta),
        auto_factor=_momentum_auto,
        direction="(g + beta v)_{p}",
        terms=(
            _VELOCITY,
            ExplainTerm("direction", "look-ahead direction g + beta * v", lambda s, d: d),
        ),
    )
)
register(
    UpdateRule(
        "adam",
        lambda lr, beta: adam(lr, b1=beta),
        # mu and nu, beta1 and beta2: article A's m is the slope and b the intercept
        "Adam: theta <- theta - lr * mu_hat / (sqrt(nu_hat) + eps); beta is beta1",
        uses_beta=True,
        # Adam's steps are bounded by lr: its loss may oscillate above the start,
        # but only a blow-up is divergence.
        patience=math.inf,
        default_lr=0.01,
        direction="direction_{p}",
        terms=(
            ExplainTerm(
                "mu",
                "first moment mu = beta1 mu_prev + (1 - beta1) g",
                lambda s, d: _state_of(s, "mu"),
            ),
            ExplainTerm(
                "nu",
                "second moment nu = beta2 nu_prev + (1 - beta2) g^2",
                lambda s, d: _state_of(s, "nu"),
            ),
            ExplainTerm("direction", "direction mu_hat / (sqrt(nu_hat) + eps)", lambda s, d: d),
        ),
    )
)

register(
    UpdateRule(
        "svrg",
        lambda lr, beta: gd(lr),
        "SVRG (Johnson and Zhang, 2013): batch gradient corrected by the anchor's, "
        "g_B(theta) - g_B(anchor) + g(anchor); converges to least squares",
        # 1/L_b: the corrected estimate converged at batch 1, 8 and 32 on diabetes,
        # bdims, Davis and 40 random heavy-tailed designs (tests/test_trust.py), in
        # fewer epochs than 0.5/L_b; full batch is plain descent at 2/(mu + L).
        stable_factor=lambda beta: 1.0,
        auto_factor=lambda beta, full: 0.0 if full else 1.0,
        control_variate=True,
        proximal=True,
    )
)

register(
    UpdateRule(
        "fista",
        lambda lr, beta, geometry: fista(lr, geometry.prox),
        "FISTA: accelerated proximal gradient with restarts (lasso and elastic net; full batch)",
        # its extrapolated steps are stable up to 1/L (Beck and Teboulle's step)
        stable_factor=lambda beta: 0.5,
        auto_factor=lambda beta, full: 1.0,
        uses_geometry=True,
        full_batch_only=True,
        answer=lambda state, theta: state.previous,
    )
)

register(
    UpdateRule(
        "cg",
        lambda lr, beta, geometry: conjugate_gradients(
            lr, geometry.curvature_along, geometry.precondition, geometry.restart
        ),
        "conjugate gradients: the exact step along directions that do not undo each "
        "other (full batch; with every digit on ill-conditioned data)",
        auto_factor=lambda beta, full: 1.0,
        direction="p_{p}",
        terms=(
            ExplainTerm(
                "direction",
                "direction p = -g + beta_k p_prev",
                lambda s, d: _state_of(s, "direction"),
            ),
        ),
        line_search=True,
    )
)


def custom_rule(transform: GradientTransformation) -> UpdateRule:
    """A user's own chain as a rule: no theory, and it carries its own learning rate."""
    return UpdateRule(
        "custom", lambda lr, beta: transform, "a chain of transforms given by the user"
    )
