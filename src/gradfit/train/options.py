"""``FitOptions``: the one validated contract of how a descent runs.

Every option is declared once, in ``OPTIONS``, with its default, the values it
accepts and a line of help. ``FitOptions`` checks them all when it is made (and the
rules between them); ``fit``, ``GDRegressor``, the command line (its flags are built
from the table), the playground (its 422 answers and its OpenAPI bounds) and
"export as code" (printed from a ``FitOptions``) all go through it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

import numpy as np

from gradfit.data.scaling import Scaling
from gradfit.exceptions import InvalidInputError
from gradfit.model.penalty import Penalty
from gradfit.optim.base import GradientTransformation
from gradfit.optim.registry import RULES, UpdateRule, custom_rule, get_rule
from gradfit.optim.schedules import Schedule, check_lr

__all__ = [
    "DEFAULT_BETA",
    "DEFAULT_TOL",
    "OPTIONS",
    "FitOptions",
    "Interval",
    "Option",
    "flag_of",
]

DEFAULT_BETA = 0.9
DEFAULT_TOL = 1e-10
DEFAULT_PATIENCE = 5
# scikit-learn SGDRegressor's defaults
DEFAULT_ALPHA = 0.0001
DEFAULT_L1_RATIO = 0.15
DEFAULT_EPSILON = 0.1
FULL_BATCH_MAX_ITER = 100_000
BATCH_MAX_ITER = 1000


@dataclass(frozen=True)
class Interval:
    """Numbers of one ``kind`` between ``low`` and ``high`` (None: unbounded)."""

    kind: type  # int or float
    low: float | None
    high: float | None
    closed: str = "both"  # 'both', 'left', 'right' or 'neither'

    def __contains__(self, value: object) -> bool:
        if isinstance(value, bool):
            return False
        if self.kind is int:
            if not isinstance(value, (int, np.integer)):
                return False
        elif not isinstance(value, (int, float, np.integer, np.floating)):
            return False
        v = float(value)
        if not math.isfinite(v):
            return False
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        if self.low is not None and (v < self.low if left else v <= self.low):
            return False
        return not (self.high is not None and (v > self.high if right else v >= self.high))

    def describe(self) -> str:
        noun = "a whole number" if self.kind is int else "a number"
        parts = []
        if self.low is not None:
            parts.append(f"{'>=' if self.closed in ('both', 'left') else '>'} {self.low:g}")
        if self.high is not None:
            parts.append(f"{'<=' if self.closed in ('both', 'right') else '<'} {self.high:g}")
        return f"{noun} {' and '.join(parts)}".strip()

    def bounds(self) -> dict[str, float]:
        """As pydantic's ``Field`` keywords (``ge``, ``gt``, ``le``, ``lt``)."""
        out: dict[str, float] = {}
        if self.low is not None:
            out["ge" if self.closed in ("both", "left") else "gt"] = self.low
        if self.high is not None:
            out["le" if self.closed in ("both", "right") else "lt"] = self.high
        return out


@dataclass(frozen=True)
class Option:
    """One option: default, accepted values (in order of preference) and help."""

    default: Any
    accepts: tuple[Any, ...]  # Interval, a literal value, a type, or a callable predicate
    help: str
    flag: str | None = ""  # command-line flag; "" derives --name-with-dashes; None: none
    hint: str = ""

    def accepts_value(self, value: Any) -> bool:
        for kind in self.accepts:
            if isinstance(kind, Interval):
                if value in kind:
                    return True
            elif isinstance(kind, type):
                if isinstance(value, kind):
                    return True
            elif callable(kind):
                if kind(value):
                    return True
            elif value is kind or (isinstance(value, str) and value == kind):
                return True
        return False

    def describe(self) -> str:
        words = []
        for kind in self.accepts:
            if isinstance(kind, Interval):
                words.append(kind.describe())
            elif kind is None:
                words.append("None")
            elif isinstance(kind, str):
                words.append(repr(kind))
            elif isinstance(kind, type):
                words.append(f"a {kind.__name__}")
            else:
                words.append(getattr(kind, "__doc__", None) or "a valid value")
        return ", ".join(words[:-1]) + (" or " if len(words) > 1 else "") + words[-1]

    def interval(self) -> Interval | None:
        return next((k for k in self.accepts if isinstance(k, Interval)), None)


def _is_bool(value: Any) -> bool:
    """True or False"""
    return isinstance(value, (bool, np.bool_))


def _is_schedule(value: Any) -> bool:
    """a schedule (a function of the step)"""
    return callable(value) and not isinstance(value, (type, GradientTransformation, UpdateRule))


def _is_rule(value: Any) -> bool:
    """an UpdateRule or a chain of transforms"""
    return isinstance(value, (UpdateRule, GradientTransformation))


def _rule_name(value: Any) -> bool:
    """the name of a registered update rule"""
    return isinstance(value, str) and value in RULES


def _describe_rules() -> str:
    return ", ".join(repr(n) for n in RULES)


POSITIVE = Interval(float, 0, None, "neither")
NONNEGATIVE = Interval(float, 0, None, "both")

OPTIONS: dict[str, Option] = {
    "lr": Option(
        None,
        (POSITIVE, "auto", _is_schedule, None),
        "learning rate: a number > 0, 'auto' (from the curvature of the data) or a "
        "schedule; default: the rule's own ('auto' for gd, momentum, nesterov, svrg; "
        "for cg a factor on its exact step, 1)",
        hint="try lr='auto' to derive it from the data, or a number such as lr=0.01",
    ),
    "optimizer": Option(
        None,
        (_rule_name, _is_rule, None),
        "update rule; default: full batch 'cg' (conjugate gradients, every digit of least "
        "squares), or 'gd' when lr is given; with a batch size 'svrg' (variance-reduced, "
        "converges to least squares)",
        hint="choose a registered name, or pass an UpdateRule or a chain of transforms",
    ),
    "beta": Option(
        None,
        (Interval(float, 0, 1, "left"), None),
        f"momentum of 'momentum' and 'nesterov', Adam's b1; default {DEFAULT_BETA}",
        hint="try beta=0.9",
    ),
    "penalty": Option(
        None,
        (None, "l2", "l1", "elasticnet"),
        "penalty on the coefficients (original units, never the intercept): 'l2' (ridge), "
        "'l1' (lasso, by proximal steps), 'elasticnet'; the objective is the loss plus "
        "2 * alpha * R(w), twice scikit-learn's, so alpha means what it means there",
        hint="choose penalty='l2', 'l1' or 'elasticnet', or leave it out",
    ),
    "alpha": Option(
        DEFAULT_ALPHA,
        (NONNEGATIVE,),
        "strength of the penalty (scikit-learn's alpha: the same coefficients as Lasso, "
        "ElasticNet and SGDRegressor; Ridge's alpha is n_samples times it)",
    ),
    "l1_ratio": Option(
        DEFAULT_L1_RATIO,
        (Interval(float, 0, 1),),
        "the elastic net's share of L1 (1: lasso, 0: ridge)",
    ),
    "loss": Option(
        "squared_error",
        ("squared_error", "huber"),
        "'squared_error' (least squares) or 'huber': squared within epsilon of the "
        "target, linear beyond, so outliers pull with a bounded force",
    ),
    "epsilon": Option(
        DEFAULT_EPSILON,
        (Interval(float, 0, None, "neither"),),
        "Huber's threshold, in the target's units (scikit-learn SGDRegressor's epsilon)",
    ),
    "batch_size": Option(
        None,
        (Interval(int, 1, None), None),
        "rows per step: all rows when not given, 1 for stochastic, k for mini-batches",
    ),
    "max_iter": Option(
        None,
        (Interval(int, 1, None), None),
        f"maximum number of epochs; default: a budget of {FULL_BATCH_MAX_ITER:,} steps "
        f"(full batch: a step costs O(d^2) there), and at least {BATCH_MAX_ITER:,} epochs "
        "with a batch size",
    ),
    "tol": Option(
        DEFAULT_TOL,
        (NONNEGATIVE,),
        "converged when the predictions are certified within tol * std(y) of the "
        "least-squares ones (root-mean-square, bounded by |gradient| / sqrt(2 mu)); 0: off",
    ),
    "gtol": Option(
        0.0,
        (NONNEGATIVE,),
        "also converged when the full-data gradient norm is at most gtol (absolute, in the "
        "units descent runs in; 0: off)",
    ),
    "loss_tol": Option(
        0.0,
        (NONNEGATIVE,),
        "early stopping: stop when the full-data loss has not improved by loss_tol "
        "(relative) for n_iter_no_change epochs; not a convergence certificate (0: off)",
    ),
    "validation_fraction": Option(
        None,
        (Interval(float, 0, 1, "neither"), None),
        "early stopping watches the loss of this fraction of the rows, held out (chosen "
        "with random_state); the fit is then least squares of the other rows",
    ),
    "n_iter_no_change": Option(
        5, (Interval(int, 1, None),), "epochs without improvement before early stopping"
    ),
    "fit_intercept": Option(
        True,
        (_is_bool,),
        "fit the intercept b (without it the line goes through the origin)",
        "--intercept",
    ),
    "standardize": Option(
        True,
        (_is_bool, Scaling),
        "descend on standardized features (results stay in original units)",
    ),
    "shuffle": Option(True, (_is_bool,), "reshuffle rows every epoch (mini-batch and stochastic)"),
    "random_state": Option(
        None,
        (Interval(int, 0, 2**63 - 1), None),
        "seed of the shuffling: a seed reproduces a run exactly",
        "--seed",
    ),
    "path": Option(
        "auto",
        ("auto", "stats", "direct"),
        "full-data evaluations from sufficient statistics ('stats', O(d^2) per step) or "
        "the rows ('direct'); 'auto' picks",
    ),
    "history_stride": Option(
        None,
        (Interval(int, 1, None), None),
        "record every k-th step (default: every step for full batch, ~100 per epoch otherwise)",
    ),
    "max_history": Option(
        None,
        (Interval(int, 2, None), None),
        "keep at most this many history entries, evenly thinned (None: all recorded)",
    ),
    "record_gap": Option(
        False, (_is_bool,), "also record the distance to the least-squares solution"
    ),
    "divergence_patience": Option(
        None,
        (Interval(int, 1, None), None),
        f"epochs of growing loss that count as divergence; default {DEFAULT_PATIENCE} "
        "(Adam: only a blow-up counts, its loss may oscillate)",
    ),
    "max_steps": Option(
        None,
        (Interval(int, 1, None), None),
        "pause after this many steps, even mid-epoch (resume with warm_start)",
    ),
}


def flag_of(name: str) -> str | None:
    """The command-line flag of option ``name`` (None: not on the command line)."""
    flag = OPTIONS[name].flag
    return None if flag is None else (flag or "--" + name.replace("_", "-"))


@dataclass(frozen=True)
class FitOptions:
    """How a descent runs, checked once: every value and the rules between them.

    Parameters are those of ``OPTIONS`` (see ``gradfit.fit`` for each).

    Examples
    --------
    >>> FitOptions(lr=0.1, optimizer="momentum").beta_value
    0.9
    >>> FitOptions(optimizer="gd", beta=0.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gradfit.exceptions.InvalidInputError: beta has no effect with optimizer='gd': ...
    >>> FitOptions(lr=0.5, max_iter=20).to_python()
    'lr=0.5, max_iter=20'
    """

    lr: float | str | Schedule | None = None
    optimizer: str | UpdateRule | GradientTransformation | None = None
    beta: float | None = None
    penalty: Literal["l2", "l1", "elasticnet"] | None = None
    alpha: float = DEFAULT_ALPHA
    l1_ratio: float = DEFAULT_L1_RATIO
    loss: Literal["squared_error", "huber"] = "squared_error"
    epsilon: float = DEFAULT_EPSILON
    batch_size: int | None = None
    max_iter: int | None = None
    tol: float = DEFAULT_TOL
    gtol: float = 0.0
    loss_tol: float = 0.0
    validation_fraction: float | None = None
    n_iter_no_change: int = 5
    fit_intercept: bool = True
    standardize: bool | Scaling = True
    shuffle: bool = True
    random_state: int | None = None
    path: Literal["auto", "stats", "direct"] = "auto"
    history_stride: int | None = None
    max_history: int | None = None
    record_gap: bool = False
    divergence_patience: int | None = None
    max_steps: int | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            option = OPTIONS[f.name]
            if f.name == "lr" and isinstance(value, (int, float, np.number)):
                check_lr(value)  # the learning rate's own words (finite, > 0)
            if f.name == "optimizer" and isinstance(value, str):
                get_rule(value)  # the registry's own words, listing the known rules
            if not option.accepts_value(value):
                raise InvalidInputError(
                    f"{f.name} must be {option.describe()}, got {value!r}"
                    + (f": {option.hint}" if option.hint else ""),
                    option=f.name,
                )
        rule = self.rule
        chain = isinstance(self.optimizer, GradientTransformation)
        if self.beta is not None and not rule.uses_beta:
            users = ", ".join(repr(n) for n, r in RULES.items() if r.uses_beta)
            raise InvalidInputError(
                f"beta has no effect with optimizer={rule.name!r}: leave it out, "
                f"or choose one of {users}",
                option="beta",
            )
        self._check_objective(rule)
        if (rule.line_search or rule.full_batch_only) and self.batch_size is not None:
            kink = not self.penalty_spec.smooth_in_w  # then only proximal rules fit it
            others = ", ".join(
                repr(n)
                for n, r in RULES.items()
                if not (r.line_search or r.full_batch_only) and (r.proximal or not kink)
            )
            what = "takes exact steps on" if rule.line_search else "steps on"
            raise InvalidInputError(
                f"optimizer={rule.name!r} {what} the full-data loss and has no "
                f"mini-batch form: leave batch_size out, or choose one of {others}",
                option="optimizer",
            )
        if chain and self.lr is not None:
            raise InvalidInputError(
                "a chain of transforms carries its own learning rate: leave lr out, or pass "
                "an UpdateRule, which takes lr",
                option="lr",
            )
        if self.validation_fraction is not None and self.loss_tol == 0:
            raise InvalidInputError(
                "validation_fraction holds rows out for early stopping, which loss_tol turns "
                "on: set loss_tol (e.g. 1e-4), or leave validation_fraction out",
                option="validation_fraction",
            )
        if self.divergence_patience is not None and rule.patience is not None:
            raise InvalidInputError(
                f"divergence_patience has no effect with optimizer={rule.name!r}, which "
                "counts only a blow-up as divergence: leave it out",
                option="divergence_patience",
            )
        if not chain and self.lr_value == "auto" and rule.auto_factor is None:
            rule.auto_lr(1.0, 1.0, 0.0, True)  # raises the rule's own explanation

    def _check_objective(self, rule: UpdateRule) -> None:
        """The penalty's and the loss's options, and the rules that can minimise them."""
        unused = [
            (
                self.penalty is None and self.alpha != DEFAULT_ALPHA,
                "alpha",
                "penalty='l2', 'l1' or 'elasticnet'",
            ),
            (
                self.penalty != "elasticnet" and self.l1_ratio != DEFAULT_L1_RATIO,
                "l1_ratio",
                "penalty='elasticnet'",
            ),
            (self.loss != "huber" and self.epsilon != DEFAULT_EPSILON, "epsilon", "loss='huber'"),
        ]
        for unset, name, needs in unused:
            if unset:
                raise InvalidInputError(
                    f"{name} has no effect without {needs}: set it, or leave {name} out",
                    option=name,
                )
        if rule.name == "custom":
            return
        if not self.penalty_spec.smooth_in_w and not (rule.proximal or rule.uses_geometry):
            able = ", ".join(repr(n) for n, r in RULES.items() if r.proximal or r.uses_geometry)
            raise InvalidInputError(
                f"optimizer={rule.name!r} has no proximal step for the L1 part of "
                f"penalty={self.penalty!r}: choose one of {able}",
                option="optimizer",
            )
        if self.loss == "huber" and rule.line_search:
            raise InvalidInputError(
                f"optimizer={rule.name!r} takes exact steps on a quadratic, and Huber's loss "
                "is not one: choose 'fista' or 'gd'",
                option="optimizer",
            )

    # -- derived values -----------------------------------------------------------------

    @property
    def penalty_spec(self) -> Penalty:
        """The penalty these options describe (inactive without one)."""
        return Penalty(self.penalty, float(self.alpha), float(self.l1_ratio))

    @property
    def regularized(self) -> bool:
        """Not plain least squares: a penalty, or Huber's loss."""
        return self.penalty_spec.active or self.loss == "huber"

    @property
    def rule(self) -> UpdateRule:
        """The update rule these options name (the default depends on the batch size)."""
        if isinstance(self.optimizer, UpdateRule):
            return self.optimizer
        if isinstance(self.optimizer, GradientTransformation):
            return custom_rule(self.optimizer)
        if self.optimizer is None:
            if self.batch_size is not None:
                return get_rule("svrg")
            # a learning rate is gradient descent's parameter: asking for one asks for it
            if self.lr is not None:
                return get_rule("gd")
            # conjugate gradients for quadratics; FISTA for an L1 kink or Huber's loss
            quadratic = self.penalty_spec.smooth_in_w and self.loss == "squared_error"
            return get_rule("cg" if quadratic else "fista")
        return get_rule(self.optimizer)

    @property
    def lr_value(self) -> float | str | Schedule:
        """The learning rate, the rule's default when not given."""
        return self.rule.default_lr if self.lr is None else self.lr

    @property
    def beta_value(self) -> float:
        return DEFAULT_BETA if self.beta is None else float(self.beta)

    @property
    def patience(self) -> float:
        """Epochs of growing loss that count as divergence, for this rule."""
        if self.rule.patience is not None:
            return self.rule.patience
        return self.divergence_patience or DEFAULT_PATIENCE

    def max_iter_for(self, steps_per_epoch: int) -> int:
        """The epoch limit: as given, or by default a budget of 100,000 steps, and at least
        1,000 epochs with batches (a few large batches per epoch need many epochs)."""
        if self.max_iter is not None:
            return self.max_iter
        if steps_per_epoch <= 1:
            return FULL_BATCH_MAX_ITER
        return max(BATCH_MAX_ITER, -(-FULL_BATCH_MAX_ITER // steps_per_epoch))

    def replace(self, **changes: Any) -> FitOptions:
        """A copy with some options changed (checked again)."""
        return replace(self, **changes)

    def changed(self) -> dict[str, Any]:
        """The options that differ from their defaults, in declaration order."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if not _same(value, OPTIONS[f.name].default):
                out[f.name] = value
        return out

    # -- the same options as code -------------------------------------------------------

    def to_python(self) -> str:
        """The changed options as keyword arguments of ``gradfit.fit``."""
        return ", ".join(f"{k}={_python_value(v)}" for k, v in self.changed().items())

    def to_cli(self) -> list[str]:
        """The changed options as ``gradfit fit`` flags."""
        out: list[str] = []
        for name, value in self.changed().items():
            flag = flag_of(name)
            if flag is None or not _cli_value_ok(value):
                raise InvalidInputError(
                    f"{name}={value!r} has no command-line form: use the Python API"
                )
            if isinstance(value, (bool, np.bool_)):
                out.append(flag if value else "--no-" + flag[2:])  # --name / --no-name
            else:
                out += [flag, _cli_value(value)]
        return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Scaling) or isinstance(b, Scaling):
        return a is b
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return False


def _python_value(value: Any) -> str:
    if isinstance(value, UpdateRule):
        return repr(value.name)
    if _is_schedule(value) and type(value).__module__.startswith("gradfit."):
        return f"gradfit.{value!r}"  # a schedule prints as its constructor
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    return repr(value)


def _cli_value_ok(value: Any) -> bool:
    if isinstance(value, UpdateRule):
        return RULES.get(value.name) is value  # registered: the command line knows its name
    return isinstance(value, (bool, int, float, str, np.number)) and not _is_schedule(value)


def _cli_value(value: Any) -> str:
    if isinstance(value, UpdateRule):
        return value.name
    return str(value.item() if isinstance(value, np.number) else value)
