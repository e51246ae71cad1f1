"""Compiled epochs (numba) against the readable loop: the same numbers, step for step.

The readable path is the reference (the seeds' formulas); ``compiled.disabled()``
runs it in the same process. Every history entry (``history_stride=1``), the stop
reason, its message and the final coefficients must agree to 1e-12 relative.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import gradfit
from gradfit.exceptions import DivergenceError
from gradfit.optim import exponential_decay, inverse_scaling, step_decay
from gradfit.train import compiled, runners

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("numba") is None, reason="numba is not installed"
)

RTOL = 1e-12


def _data(n: int = 240, d: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # columns on different scales and offsets: standardizing matters
    X = rng.normal(size=(n, d)) * np.geomspace(0.1, 10, d) + np.linspace(-3, 50, d)
    y = X @ rng.normal(size=d) + 2.0 + rng.normal(size=n)
    return X, y


def _both(X: object, y: object, **options: object) -> tuple[object, object]:
    """The fit compiled and on the readable path (or the errors they raise)."""
    out = []
    for path in (compiled.forced, compiled.disabled):
        calls = runners.kernel_calls
        with warnings.catch_warnings(), path():
            warnings.simplefilter("ignore")
            try:
                out.append(gradfit.fit(X, y, **options))
            except DivergenceError as error:
                out.append(error)
        ran = runners.kernel_calls > calls
        assert ran == (path is compiled.forced)  # compiled steps ran, or none did
    return out[0], out[1]


def _close(a: np.ndarray, b: np.ndarray, rtol: float = RTOL) -> None:
    scale = max(float(np.abs(b).max(initial=0.0)), 1e-300)
    assert a.shape == b.shape
    assert float(np.abs(a - b).max(initial=0.0)) <= rtol * scale


def _same(a: object, b: object, gnorm_rtol: float = RTOL) -> None:
    """Two fits agree: every history entry, the epochs' losses, the stop, the answer."""
    assert type(a) is type(b)
    if isinstance(a, DivergenceError):
        assert str(a) == str(b)
        return
    assert a.stop.code == b.stop.code  # type: ignore[attr-defined]
    assert a.stop.message == b.stop.message  # type: ignore[attr-defined]
    assert a.n_steps == b.n_steps  # type: ignore[attr-defined]
    ha, hb = a.history, b.history  # type: ignore[attr-defined]
    np.testing.assert_array_equal(ha.step, hb.step)
    np.testing.assert_array_equal(ha.epoch, hb.epoch)
    _close(ha.theta, hb.theta)
    _close(ha.loss, hb.loss)
    _close(ha.grad_norm, hb.grad_norm, gnorm_rtol)
    _close(ha.epoch_loss, hb.epoch_loss)
    _close(np.append(a.w, a.b), np.append(b.w, b.b))  # type: ignore[attr-defined]


RULE_RATES = [("gd", 2e-4), ("momentum", 5e-5), ("nesterov", 5e-5), ("adam", 0.05), ("svrg", 1e-4)]


@pytest.mark.parametrize(("optimizer", "raw_lr"), RULE_RATES)
@pytest.mark.parametrize("batch_size", [1, 7, 32])
@pytest.mark.parametrize("standardize", [True, False])
def test_batches_step_for_step(
    optimizer: str, raw_lr: float, batch_size: int, standardize: bool
) -> None:
    X, y = _data()
    lr = raw_lr if not standardize or optimizer == "adam" else "auto"
    a, b = _both(
        X,
        y,
        optimizer=optimizer,
        lr=lr,
        batch_size=batch_size,
        standardize=standardize,
        max_iter=3,
        tol=0,
        random_state=1,
        history_stride=1,
    )
    _same(a, b)


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam", "svrg"])
@pytest.mark.parametrize("layout", ["weighted", "csr", "csr weighted", "through origin"])
def test_weights_sparse_rows_and_no_intercept(optimizer: str, layout: str) -> None:
    X, y = _data(seed=2)
    rng = np.random.default_rng(3)
    options: dict[str, object] = {}
    if "weighted" in layout:
        options["sample_weight"] = rng.uniform(0.2, 3.0, len(y))
    if "csr" in layout:
        X = np.where(rng.random(X.shape) < 0.5, 0.0, X)
        X = sp.csr_matrix(X)  # type: ignore[assignment]
    if layout == "through origin":
        options["fit_intercept"] = False
    a, b = _both(
        X,
        y,
        optimizer=optimizer,
        lr="auto" if optimizer != "adam" else 0.05,
        batch_size=8,
        max_iter=2,
        tol=0,
        random_state=4,
        history_stride=1,
        **options,
    )
    _same(a, b)


@pytest.mark.parametrize(
    "schedule",
    [
        inverse_scaling(0.05, power=0.5),
        exponential_decay(0.05, rate=0.9, every=10),
        step_decay(0.05, factor=0.5, every=25),
        lambda t: 0.05 / (1.0 + 0.01 * t),
    ],
    ids=["inverse_scaling", "exponential_decay", "step_decay", "own function"],
)
@pytest.mark.parametrize("batch_size", [None, 16])
def test_schedules(schedule: object, batch_size: int | None) -> None:
    X, y = _data(seed=5)
    a, b = _both(
        X,
        y,
        optimizer="momentum",
        lr=schedule,
        batch_size=batch_size,
        max_iter=60 if batch_size is None else 3,
        tol=0,
        random_state=0,
        history_stride=1,
    )
    _same(a, b)


@pytest.mark.parametrize(
    "options",
    [
        {"optimizer": "gd", "lr": "auto"},
        {"optimizer": "momentum", "lr": "auto"},
        {"optimizer": "nesterov", "lr": "auto"},
        {"optimizer": "adam", "lr": 0.05, "max_iter": 400},
        {"optimizer": "gd", "lr": 1e-5, "standardize": False, "max_iter": 300},
        {"optimizer": "gd", "lr": 0.3, "loss_tol": 1e-3},
        {"optimizer": "gd", "lr": 0.01, "max_history": 17, "max_iter": 90, "tol": 0},
        {"optimizer": "gd", "lr": "auto", "fit_intercept": False},
        {"optimizer": "momentum", "lr": lambda t: 0.3 / (1 + 0.001 * t), "max_iter": 40},
    ],
    ids=[
        "gd",
        "momentum",
        "nesterov",
        "adam",
        "raw",
        "loss_tol",
        "max_history",
        "origin",
        "rate function",
    ],
)
def test_full_batch_step_for_step(options: dict[str, object]) -> None:
    X, y = _data(n=500, seed=6)
    a, b = _both(X, y, **options)
    _same(a, b)
    assert a.stop.code in (  # type: ignore[attr-defined]
        "converged_gradient",
        "converged_rounding",
        "rounding_floor",
        "max_iter",
        "no_improvement",
    )


PENALTIES = [
    {"penalty": "l2", "alpha": 0.05},
    {"penalty": "l1", "alpha": 0.05},
    {"penalty": "elasticnet", "alpha": 0.05, "l1_ratio": 0.3},
    {"loss": "huber", "epsilon": 0.5},
    {"loss": "huber", "epsilon": 0.5, "penalty": "l1", "alpha": 0.05},
]


# rules x objectives: momentum and Adam have no proximal step (FitOptions refuses them
# with an L1 part, tests/test_penalty.py)
# Adam's raw rate is smaller here: at 0.05 in raw units its steps on Huber's clipped
# errors are chaotic (the two paths' rounding grows from 1e-16 to 1e-1 in 700 steps)
PENALTY_RULES = [
    (objective, optimizer, 0.01 if optimizer == "adam" else raw_lr)
    for objective in PENALTIES
    for optimizer, raw_lr in RULE_RATES
    if objective.get("penalty") in (None, "l2") or optimizer in ("gd", "svrg")
]


@pytest.mark.parametrize(
    ("objective", "optimizer", "raw_lr"),
    PENALTY_RULES,
    ids=["-".join(map(str, [*o.values(), r])) for o, r, _ in PENALTY_RULES],
)
@pytest.mark.parametrize("batch_size", [1, 7])
@pytest.mark.parametrize("standardize", [True, False])
def test_penalties_and_huber_step_for_step(
    objective: dict[str, object], optimizer: str, raw_lr: float, batch_size: int, standardize: bool
) -> None:
    """The soft threshold after each step (ISTA, proximal SVRG), the ridge gradient and
    Huber's clipped errors, compiled, equal the readable path's."""
    X, y = _data(seed=11)
    a, b = _both(
        X,
        y,
        optimizer=optimizer,
        lr=raw_lr if not standardize or optimizer == "adam" else "auto",
        batch_size=batch_size,
        standardize=standardize,
        max_iter=3,
        tol=0,
        random_state=2,
        history_stride=1,
        **objective,
    )
    # A one-row gradient of Huber's loss is the error itself inside epsilon: near a fit,
    # a difference of predictions in the last digit (the two paths sum x . w in other
    # orders) is a larger part of that small error (5e-12 of the norms seen here)
    _same(a, b, gnorm_rtol=1e-10 if "loss" in objective else RTOL)


@pytest.mark.parametrize("layout", ["weighted", "csr weighted"])
def test_penalties_on_weighted_and_sparse_rows(layout: str) -> None:
    X, y = _data(seed=12)
    rng = np.random.default_rng(4)
    weight = rng.uniform(0.2, 3.0, len(y))
    if "csr" in layout:
        X = sp.csr_matrix(np.where(rng.random(X.shape) < 0.5, 0.0, X))  # type: ignore[assignment]
    for objective in PENALTIES:
        a, b = _both(
            X, y, sample_weight=weight, optimizer="svrg", lr="auto", batch_size=5,
            max_iter=2, tol=0, random_state=0, history_stride=1, **objective,
        )  # fmt: skip
        _same(a, b)


def test_ridge_full_batch_runs_compiled() -> None:
    """Ridge is a quadratic: full-batch steps on the statistics with its curvature added."""
    X, y = _data(n=500, seed=13)
    a, b = _both(X, y, optimizer="gd", lr="auto", penalty="l2", alpha=0.3)
    _same(a, b)
    assert a.stop.code == "converged_gradient"  # type: ignore[attr-defined]


@pytest.mark.parametrize("batch_size", [None, 1, 32])
def test_divergence_is_diagnosed_the_same(batch_size: int | None) -> None:
    X, y = _data(seed=7)
    a, b = _both(X, y, optimizer="gd", lr=5.0, batch_size=batch_size, random_state=0)
    assert isinstance(a, DivergenceError)
    _same(a, b)


@pytest.mark.parametrize("batch_size", [None, 10])
def test_pause_and_resume(batch_size: int | None) -> None:
    X, y = _data(seed=8)
    options = {"optimizer": "momentum", "lr": "auto", "batch_size": batch_size, "random_state": 3}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # stopped short (by design)
        with compiled.forced():
            paused = gradfit.fit(X, y, max_steps=37, **options)
            done = gradfit.fit(X, y, warm_start=paused, max_iter=6, **options)
        with compiled.disabled():
            paused_r = gradfit.fit(X, y, max_steps=37, **options)
            done_r = gradfit.fit(X, y, warm_start=paused_r, max_iter=6, **options)
    assert paused.stop.code == paused_r.stop.code == "max_steps"
    _close(paused.state.theta, paused_r.state.theta)
    assert paused.state.position == paused_r.state.position
    _same(done, done_r)


def test_streamed_file_batches(tmp_path: object) -> None:
    pytest.importorskip("pyarrow")
    X, y = _data(n=3000, seed=9)
    path = tmp_path / "rows.csv"  # type: ignore[operator]
    lines = ["a,b,c,d,y"] + [
        ",".join(map(repr, [*x.tolist(), float(t)])) for x, t in zip(X, y, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    source = gradfit.open_source(path, target="y", shuffle_buffer=512)
    a, b = _both(
        source, None, optimizer="gd", lr="auto", batch_size=32, max_iter=2, tol=0, random_state=0
    )
    _same(a, b)


def test_on_step_runs_the_readable_path() -> None:
    """Front ends that watch every step see the readable loop's records."""
    X, y = _data(n=50, seed=10)
    seen: list[int] = []
    with pytest.warns(gradfit.ConvergenceWarning):
        r = gradfit.fit(
            X, y, lr="auto", batch_size=5, max_iter=1, on_step=lambda s: seen.append(s.step)
        )
    assert seen == list(range(r.n_steps))


def test_compile_time_is_reported() -> None:
    X, y = _data(n=60, seed=11)
    with warnings.catch_warnings(), compiled.forced():
        warnings.simplefilter("ignore")
        gradfit.fit(X, y, lr="auto", batch_size=4, max_iter=1, tol=0)
    seconds = compiled.compile_seconds()
    assert seconds is not None and seconds > 0


def test_switched_off_by_environment() -> None:
    code = (
        "import gradfit.train.compiled as c, sys; print(c.is_available(), 'numba' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"GRADFIT_COMPILED": "0", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["False", "False"]


def test_import_does_not_load_numba() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import gradfit, sys; print('numba' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"


def test_a_loss_level_stops_like_the_callback_it_stands_for() -> None:
    """``LossBelow`` runs compiled and stops where the readable loop's callback does."""
    X, y = _data(n=400, seed=12)
    level = 1.2 * float(np.var(y - X @ np.linalg.lstsq(X, y, rcond=None)[0]))
    options = {"optimizer": "gd", "lr": 0.05, "max_iter": 5000, "tol": 0}
    with compiled.forced():
        a = gradfit.fit(X, y, callback=gradfit.train.LossBelow(level), **options)
    with compiled.disabled():
        b = gradfit.fit(X, y, callback=lambda p: p.loss <= level, **options)
    assert a.stop.code == "callback"
    _same(a, b)


def test_fewest_steps_search_is_the_same_compiled() -> None:
    from gradfit.data import ArraySource
    from gradfit.data.datasets import load_dataset
    from gradfit.model import Objective
    from gradfit.surface import optimum
    from gradfit.web.yardstick import Yardstick, fewest_steps

    d = load_dataset("davis")
    objective = Objective(ArraySource(d.X, d.y), scaling=True)
    star, best = optimum(objective)
    yardstick = Yardstick(star, best, objective.value_and_grad(np.zeros(2))[0])
    with compiled.forced():
        fast = fewest_steps(objective, yardstick)
    with compiled.disabled():
        slow = fewest_steps(objective, yardstick)
    assert fast == slow
    assert fast["steps"] is not None


def test_streamed_pause_mid_epoch_resumes_the_same(tmp_path: object) -> None:
    pytest.importorskip("pyarrow")
    X, y = _data(n=2000, seed=13)
    path = tmp_path / "rows.csv"  # type: ignore[operator]
    lines = ["a,b,c,d,y"] + [
        ",".join(map(repr, [*x.tolist(), float(t)])) for x, t in zip(X, y, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    options = {"optimizer": "momentum", "lr": "auto", "batch_size": 16, "random_state": 5}
    results = []
    for path_of in (compiled.forced, compiled.disabled):
        source = gradfit.open_source(path, target="y", shuffle_buffer=300)
        with warnings.catch_warnings(), path_of():
            warnings.simplefilter("ignore")
            paused = gradfit.fit(source, max_steps=77, **options)
            results.append(gradfit.fit(source, warm_start=paused, max_iter=2, **options))
    _same(*results)


def test_a_bad_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADFIT_COMPILED", "maybe")
    with pytest.raises(gradfit.InvalidInputError, match="GRADFIT_COMPILED='maybe'"):
        compiled.mode()
    monkeypatch.setenv("GRADFIT_COMPILED", " Off ")
    assert compiled.mode() == "off"
    monkeypatch.setenv("GRADFIT_COMPILED", "1")
    with compiled.disabled():
        assert compiled.mode() == "off"
    assert compiled.mode() == "on"


def test_a_rate_function_is_called_for_the_steps_that_run_only() -> None:
    X, y = _data(n=300, seed=15)
    table = [0.05] * 41  # a rate for each step of max_iter=40, and no more
    with compiled.forced():
        r = gradfit.fit(X, y, optimizer="gd", lr=lambda t: table[t], max_iter=40, tol=0)
    assert r.n_steps == 40


def test_a_subclass_of_loss_below_keeps_its_own_rule() -> None:
    class Early(gradfit.train.LossBelow):
        def __call__(self, progress: gradfit.train.Progress) -> bool:
            return super().__call__(progress) or progress.epoch >= 10

    X, y = _data(n=300, seed=16)
    with warnings.catch_warnings(), compiled.forced():
        warnings.simplefilter("ignore")
        r = gradfit.fit(X, y, optimizer="gd", lr=1e-6, callback=Early(0.0), max_iter=500, tol=0)
    assert r.stop.code == "callback" and r.n_steps == 10


@pytest.mark.parametrize("batch_size", [None, 3])
def test_mini_batch_history_thinning(batch_size: int | None) -> None:
    X, y = _data(n=120, seed=17)
    a, b = _both(
        X, y, optimizer="adam", lr=0.05, batch_size=batch_size, max_iter=60, tol=0,
        max_history=25, random_state=1,
    )  # fmt: skip
    _same(a, b)
    assert len(a.history) <= 26  # type: ignore[attr-defined]


def test_adam_pauses_resume_to_the_last_bit() -> None:
    X, y = _data(n=80, seed=18)
    options = {"optimizer": "adam", "lr": 0.01, "batch_size": 1, "random_state": 5, "tol": 0}
    with warnings.catch_warnings(), compiled.forced():
        warnings.simplefilter("ignore")
        whole = gradfit.fit(X, y, max_iter=3, **options)
        paused = None
        while paused is None or paused.stop.code == "max_steps":
            paused = gradfit.fit(X, y, max_iter=3, max_steps=7, warm_start=paused, **options)
    np.testing.assert_array_equal(paused.state.theta, whole.state.theta)


@pytest.mark.hypothesis
@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(12, 80),  # full batch on the statistics: n >= 2 (d + 1)
    d=st.integers(1, 4),
    rule=st.sampled_from(["gd", "momentum", "nesterov", "adam"]),
    rate=st.floats(0.05, 2.5),  # times the stable limit's 2/L share (beyond 1: may diverge)
    batch_size=st.sampled_from([None, None, 1, 5]),
    loss_tol=st.sampled_from([0.0, 0.0, 1e-3]),
    max_iter=st.integers(1, 400),
    scaled=st.booleans(),
)
def test_any_fit_ends_alike_on_both_paths(
    seed: int,
    n: int,
    d: int,
    rule: str,
    rate: float,
    batch_size: int | None,
    loss_tol: float,
    max_iter: int,
    scaled: bool,
) -> None:
    """The stopping rules exist twice (``Stopping.check`` and the full-batch kernel) and
    the steps too: random problems, rules, rates (diverging ones included) and stopping
    options end with the same reason, words, step and history on both paths."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * 10.0 ** rng.uniform(-1, 1, d)
    y = X @ rng.normal(size=d) + rng.normal(size=n)
    from gradfit.data import ArraySource
    from gradfit.model import Objective

    lipschitz = Objective(ArraySource(X, y), scaling=scaled).curvature.lipschitz
    lr = 0.05 if rule == "adam" else rate / lipschitz
    options = dict(optimizer=rule, lr=lr, batch_size=batch_size, loss_tol=loss_tol)
    options |= dict(max_iter=max_iter, standardize=scaled, random_state=seed % 1000)
    a, b = _both(X, y, **options)
    _same(a, b)
