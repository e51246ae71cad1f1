"""The engine's five nouns: Source, Objective, TrainState, the UpdateRule registry, FitOptions."""

import pickle
import subprocess
import sys

import numpy as np
import pytest

import gradfit
from gradfit import DivergenceError, InvalidInputError, fit
from gradfit.data import ArraySource
from gradfit.model import Objective
from gradfit.optim import (
    RULES,
    UpdateRule,
    chain,
    constant,
    exponential_decay,
    gd,
    register,
    scale_by_learning_rate,
    step_decay,
    trace,
)
from gradfit.train import FitOptions, TrainState, run, sweep

from .conftest import make_problem


@pytest.fixture
def extra_rule():
    """A rule registered for one test: plain descent at half the rate, under a new name."""
    rule = UpdateRule(
        "halfstep",
        lambda lr, beta: gd(lambda t: 0.5 * lr(t)),
        "plain descent at half the rate",
        stable_factor=lambda beta: 2.0,
        auto_factor=lambda beta, full: 1.0,
    )
    register(rule)
    try:
        yield rule
    finally:
        del RULES["halfstep"]


# -- holes between the old copies of the options contract ------------------------------


@pytest.mark.parametrize(
    "make", [lambda: step_decay(0.1, every=0), lambda: step_decay(0.1, every=1.5)]
)
def test_schedule_periods_must_be_whole_steps(make):
    with pytest.raises(InvalidInputError, match="every must be a whole number of steps >= 1"):
        make()
    with pytest.raises(InvalidInputError, match="every must be"):
        exponential_decay(0.1, every=0)


@pytest.mark.parametrize("optimizer", ["momentum", "nesterov", "adam"])
@pytest.mark.parametrize("beta", [-0.1, 1.0, 5.0, float("nan")])
def test_beta_out_of_range_is_an_error_for_every_rule(rng, optimizer, beta):
    X, y = make_problem(rng, n=20, d=2)
    with pytest.raises(InvalidInputError, match="beta must be a number >= 0 and < 1"):
        fit(X, y, optimizer=optimizer, beta=beta)


def test_beta_for_a_rule_without_momentum_is_an_error_not_ignored(rng):
    X, y = make_problem(rng, n=20, d=2)
    with pytest.raises(InvalidInputError, match="beta has no effect with optimizer='gd'"):
        fit(X, y, optimizer="gd", beta=0.5)


def test_unknown_optimizer_has_one_wording_everywhere(rng):
    from gradfit.cli import main

    X, y = make_problem(rng, n=20, d=2)
    with pytest.raises(InvalidInputError) as from_fit:
        fit(X, y, optimizer="rmsprop")
    with pytest.raises(ValueError) as from_estimator:
        gradfit.GDRegressor(optimizer="rmsprop").fit(X, y)
    assert str(from_fit.value) == str(from_estimator.value)
    assert str(from_fit.value).startswith("unknown optimizer 'rmsprop': choose one of gd, ")
    assert main(["fit", "davis", "--optimizer", "rmsprop"]) == 2


def test_warm_start_across_rules_is_a_clear_error(rng):
    X, y = make_problem(rng, n=50, d=2)
    first = fit(X, y, lr=0.05, max_iter=5, tol=0)
    with pytest.raises(InvalidInputError, match=r"made by optimizer='gd'.*keep optimizer='gd'"):
        fit(X, y, lr=0.01, optimizer="adam", warm_start=first)
    # the estimator's warm start is scikit-learn's: the coefficients, with the new rule
    model = gradfit.GDRegressor(max_iter=5, tol=0, warm_start=True).fit(X, y)
    first_coef = model.coef_.copy()
    model.set_params(optimizer="momentum", max_iter=1, lr=1e-12).fit(X, y)
    np.testing.assert_allclose(model.coef_, first_coef, rtol=1e-6)


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda X, y, s: fit(s, y), "leave out y"),
        (lambda X, y, s: fit(s, sample_weight=np.ones(50)), "leave out sample_weight"),
        (lambda X, y, s: fit(X, y, problem=object()), "no longer takes problem="),
        (lambda X, y, s: fit(X, y, warm_start=fit(X, y, max_iter=2, tol=0), w0=[1, 2]), "leave w0"),
        (
            lambda X, y, s: fit(X, y, standardize=False, warm_start=fit(X, y, standardize=True)),
            "descended with standardize=True",
        ),
        (lambda X, y, s: fit(X, y, lr=0.1, optimizer=chain(trace(0.5))), "leave lr out"),
        (lambda X, y, s: fit(X, y, feature_names=["a"]), "1 names for 2 feature columns"),
        (
            lambda X, y, s: fit(X[:10], y[:10], batch_size=4, warm_start=_paused(X, y)),
            "rows=10 \\(it has 50\\)",
        ),
        (
            lambda X, y, s: fit(X, y, batch_size=5, warm_start=_paused(X, y)),
            "batch_size=5 \\(it has 4\\)",
        ),
        (
            lambda X, y, s: fit(X, y, batch_size=4, shuffle=False, warm_start=_paused(X, y)),
            "shuffle=False",
        ),
        (lambda X, y, s: fit(X, y, warm_start=fit(X, y).model), "must be a FitResult"),
        (lambda X, y, s: fit(X, y, foo=1), "unexpected keyword argument 'foo'"),
        (
            lambda X, y, s: fit(X, y, optimizer="adam", lr=0.1, divergence_patience=3),
            "divergence_patience has no effect",
        ),
    ],
)
def test_contradictory_arguments_are_errors_never_ignored(rng, call, fragment):
    X, y = make_problem(rng, n=50, d=2)
    source = ArraySource(X, y)
    with pytest.raises((InvalidInputError, TypeError), match=fragment):
        call(X, y, source)


def _paused(X, y):
    return fit(X, y, lr=0.01, batch_size=4, max_steps=3, random_state=0)


def test_warm_starts_across_different_chains_are_refused(rng):
    X, y = make_problem(rng, n=50, d=2)
    heavy = chain(trace(0.5), scale_by_learning_rate(constant(0.05)))
    first = fit(X, y, optimizer=heavy, max_iter=3, tol=0)
    with pytest.raises(InvalidInputError, match="its state cannot drive"):
        fit(X, y, optimizer=chain(scale_by_learning_rate(constant(0.05))), warm_start=first)


def test_a_source_is_accepted_like_arrays(rng):
    X, y = make_problem(rng, n=80, d=3)
    w = rng.uniform(0.5, 2.0, 80)
    a = fit(X, y, sample_weight=w, lr="auto", standardize=True)
    b = fit(ArraySource(X, y, sample_weight=w), lr="auto", standardize=True)
    np.testing.assert_array_equal(a.w, b.w)


# -- TrainState: a paused descent is a value -----------------------------------------------

MODES = [
    pytest.param({"lr": 0.05}, id="full"),
    pytest.param({"lr": 0.02, "batch_size": 7, "random_state": 3}, id="mini-batch"),
    pytest.param({"lr": 0.01, "batch_size": 1, "optimizer": "momentum"}, id="stochastic"),
]


@pytest.mark.parametrize("options", MODES)
def test_resuming_the_same_paused_state_twice_gives_identical_results(rng, options):
    X, y = make_problem(rng, n=60, d=3)
    shared = dict(max_iter=30, tol=0, gtol=0, **options)
    paused = fit(X, y, max_steps=23, **shared)
    assert paused.stop.code == "max_steps" and paused.state.paused
    again = [fit(X, y, warm_start=paused.state, **shared) for _ in range(2)]
    np.testing.assert_array_equal(again[0].history.theta, again[1].history.theta)
    np.testing.assert_array_equal(again[0].state.theta, again[1].state.theta)
    whole = fit(X, y, **{**shared, "random_state": paused.state.seed})
    np.testing.assert_array_equal(again[0].theta, whole.theta)
    assert again[0].n_steps == whole.n_steps


CHILD = """
import pickle, sys
import numpy as np
from gradfit.data import ArraySource
from gradfit.model import Objective
from gradfit.train import FitOptions, run
X, y, state, options = pickle.load(open(sys.argv[1], "rb"))
objective = Objective(ArraySource(X, y), scaling=state.scaling)
result = run(objective, options, state)
pickle.dump((result.state.theta, result.n_steps, result.stop.code), open(sys.argv[2], "wb"))
"""


@pytest.mark.parametrize("options", MODES)
def test_a_pickled_state_resumes_in_another_process_as_if_never_paused(rng, tmp_path, options):
    X, y = make_problem(rng, n=60, d=3)
    opts = FitOptions(max_iter=30, tol=0, gtol=0, standardize=True, **options)
    objective = Objective(ArraySource(X, y), scaling=True)
    paused = run(objective, opts.replace(max_steps=17))
    assert isinstance(paused.state, TrainState)
    whole = run(objective, opts.replace(random_state=paused.state.seed))
    inbox, outbox = tmp_path / "state.pkl", tmp_path / "out.pkl"
    inbox.write_bytes(pickle.dumps((X, y, paused.state, opts)))
    subprocess.run([sys.executable, "-c", CHILD, str(inbox), str(outbox)], check=True)
    theta, n_steps, code = pickle.loads(outbox.read_bytes())
    assert code == "max_iter" and n_steps == whole.n_steps
    np.testing.assert_array_equal(theta, whole.state.theta)


def test_a_finished_state_starts_a_new_run(rng):
    X, y = make_problem(rng, n=50, d=2)
    first = fit(X, y, lr=0.05, max_iter=3, tol=0, gtol=0)
    assert not first.state.paused
    more = fit(X, y, lr=0.05, max_iter=3, tol=0, gtol=0, warm_start=first)
    assert more.n_epochs == 3 and more.n_steps == 6
    assert more.history.lr[0] == 0.05


# -- the registry --------------------------------------------------------------------------


def test_a_registered_rule_reaches_fit_the_cli_and_the_estimator(rng, extra_rule, capsys):
    from gradfit.cli import _parser, main

    X, y = make_problem(rng, n=60, d=2)
    ours = fit(X, y, lr=0.1, optimizer="halfstep", max_iter=40, tol=0, gtol=0)
    plain = fit(X, y, lr=0.05, max_iter=40, tol=0, gtol=0)
    np.testing.assert_allclose(ours.w, plain.w, rtol=1e-12)
    fit_parser = _parser()._subparsers._group_actions[0].choices["fit"]
    choices = next(a.choices for a in fit_parser._actions if a.dest == "optimizer")
    assert tuple(choices) == tuple(RULES) and "halfstep" in choices
    assert main(["fit", "davis", "--standardize", "--optimizer", "halfstep"]) == 0
    assert "steps" in capsys.readouterr().out
    model = gradfit.GDRegressor(optimizer="halfstep").fit(X, y)
    assert model.stop_reason_.converged


def test_rule_theory_lives_in_the_registry(rng):
    X, y = make_problem(rng, n=200, d=3)
    objective = Objective(ArraySource(X, y), scaling=True)
    L = objective.curvature.lipschitz
    assert RULES["gd"].stable_lr(L, 0.9) == pytest.approx(2 / L)
    assert RULES["momentum"].stable_lr(L, 0.5) == pytest.approx(3 / L)
    assert RULES["adam"].stable_lr(L, 0.9) is None
    with pytest.raises(InvalidInputError, match="pass a number"):
        FitOptions(lr="auto", optimizer="adam")
    with pytest.raises(DivergenceError, match=r"largest stable learning rate for this data is"):
        run(objective, FitOptions(lr=2.2 / L))


def test_a_users_own_chain_reaches_fit(rng):
    X, y = make_problem(rng, n=60, d=2)
    mine = chain(trace(0.5), scale_by_learning_rate(constant(0.05)))
    ours = fit(X, y, optimizer=mine, max_iter=50, tol=0, gtol=0)
    ref = fit(X, y, lr=0.05, optimizer="momentum", beta=0.5, max_iter=50, tol=0, gtol=0)
    np.testing.assert_array_equal(ours.theta, ref.theta)
    assert ours.optimizer == "custom" and np.isnan(ours.history.lr).all()


# -- FitOptions: one contract, printed back as code -----------------------------------------


def test_options_round_trip_through_code_and_flags():
    from gradfit.cli import _options, _parser

    options = FitOptions(
        lr=0.05,
        optimizer="nesterov",
        beta=0.8,
        batch_size=16,
        max_iter=50,
        tol=0.0,
        standardize=True,
        shuffle=False,
        random_state=4,
    )
    assert eval(f"dict({options.to_python()})") == options.changed()
    args = _parser().parse_args(["fit", "davis", *options.to_cli()])
    assert _options(args) == options


def test_every_option_is_declared_once_with_help():
    from dataclasses import fields

    from gradfit.train import OPTIONS

    assert [f.name for f in fields(FitOptions)] == list(OPTIONS)
    for f in fields(FitOptions):
        assert f.default == OPTIONS[f.name].default and OPTIONS[f.name].help


def test_sweep_reports_divergence_as_a_result(rng):
    X, y = make_problem(rng, n=100, d=2)
    objective = Objective(ArraySource(X, y), scaling=True)
    L = objective.curvature.lipschitz
    points = sweep(objective, [0.5 / L, 3.0 / L], FitOptions(max_iter=200))
    assert points[0].result is not None and points[0].result.converged
    assert points[1].diverged and len(points[1].history) > 0
