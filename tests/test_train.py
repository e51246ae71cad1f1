import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradfit import (
    DivergenceError,
    GDRegressor,
    InvalidInputError,
    fit,
    inverse_scaling,
    least_squares,
    load_dataset,
    make_article_b,
    step_decay,
)
from gradfit.data import ArraySource
from gradfit.exceptions import ConvergenceWarning
from gradfit.model import Objective
from gradfit.train import FitOptions, run

from .conftest import make_problem


def rel_err(a, b):
    return np.linalg.norm(np.asarray(a) - b) / np.linalg.norm(b)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(20, 300),
    d=st.integers(1, 6),
    log_scale=st.floats(-3, 3),
    offset=st.floats(-1e3, 1e3),
    path=st.sampled_from(["stats", "direct"]),
)
def test_coefficients_equal_lstsq(seed, n, d, log_scale, offset, path):
    rng = np.random.default_rng(seed)
    scales = 10.0 ** rng.uniform(log_scale - 1, log_scale + 1, d)
    X, y = make_problem(rng, n=n, d=d, scales=scales, offsets=offset * rng.uniform(size=d))
    # gtol is absolute: 1e-12 of the data's scale stays 1000x above the gradient's rounding
    # error (about 1e-15 of it), so both paths can meet it.
    gtol = 1e-12 * float(np.sqrt(np.mean(y**2)))
    r = fit(X, y, lr="auto", standardize=True, tol=0, gtol=gtol, max_iter=20000, path=path)
    w, b = least_squares(X, y)
    assert r.converged

    # The gradient rule bounds the error in the coordinates the fit works in (standardized):
    # slopes per standard deviation and the prediction at the mean. Back in raw units the
    # intercept b = mean(y) - w . mean(X) multiplies any slope error by mean/std, up to 1e7
    # here, so a raw relative error says more about the data than about the fit.
    def standardized(w, b):
        return np.append(w * X.std(axis=0), b + w @ X.mean(axis=0))

    assert rel_err(standardized(r.w, r.b), standardized(w, b)) <= 1e-8
    np.testing.assert_allclose(r.predict(X), X @ w + b, rtol=1e-8, atol=1e-8 * np.abs(y).max())


def test_unscaled_fit_converges_to_lstsq(rng):
    X, y = make_problem(rng, n=200, d=3)
    r = fit(X, y, lr="auto", tol=0, standardize=False, gtol=1e-12)
    w, b = least_squares(X, y)
    assert rel_err(np.append(r.w, r.b), np.append(w, b)) <= 1e-10


def test_stats_and_direct_paths_give_the_same_iterates(rng):
    for X, y, std in [
        (*make_problem(rng, n=500, d=5), False),
        (load_dataset("davis").X, load_dataset("davis").y, True),
    ]:
        a = fit(X, y, lr=0.05, standardize=std, max_iter=300, tol=0, gtol=0, path="stats")
        b = fit(X, y, lr=0.05, standardize=std, max_iter=300, tol=0, gtol=0, path="direct")
        assert (a.path, b.path) == ("stats", "direct")
        scale = np.abs(b.history.theta).max()
        np.testing.assert_allclose(a.history.theta, b.history.theta, rtol=0, atol=1e-10 * scale)
        np.testing.assert_allclose(a.history.loss[:50], b.history.loss[:50], rtol=1e-9)


def test_fits_sharing_an_objective_across_threads_equal_serial_fits(rng):
    """The O(d^2) evaluation keeps a work buffer per thread; one Objective serves many."""
    import copy
    import pickle
    from concurrent.futures import ThreadPoolExecutor

    X, y = make_problem(rng, n=300, d=4)
    objective = Objective(ArraySource(X, y), scaling=True)
    rates = [0.01 * (k + 1) for k in range(16)]

    def path(lr, objective=objective):
        options = FitOptions(lr=lr, max_iter=300, tol=0, gtol=0)
        return run(objective, options).history.theta

    serial = [path(lr) for lr in rates]
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(path, rates))
    for a, b in zip(serial, threaded, strict=True):
        np.testing.assert_array_equal(a, b)
    for clone in (pickle.loads(pickle.dumps(objective)), copy.deepcopy(objective)):
        np.testing.assert_array_equal(path(rates[3], clone), serial[3])


def test_dense_and_sparse_batches_give_the_same_iterates(rng):
    """Dense batches are scaled themselves; sparse ones map the coefficients instead."""
    import scipy.sparse as sp

    X, y = make_problem(rng, n=120, d=4, scales=[1, 10, 100, 0.1], offsets=[5, -50, 0, 1])
    X[rng.random(X.shape) < 0.3] = 0.0
    args = dict(lr=0.02, batch_size=7, standardize=True, random_state=3, max_iter=5, tol=0)
    dense = fit(X, y, **args).history.theta
    sparse = fit(sp.csr_matrix(X), y, **args).history.theta
    np.testing.assert_allclose(dense, sparse, rtol=0, atol=1e-12 * np.abs(dense).max())


def test_auto_path_choice(rng):
    X, y = make_problem(rng, n=200, d=3)
    assert Objective(ArraySource(X, y)).path == "stats"
    # n < 2 (d + 1): rows are cheaper
    assert Objective(ArraySource(X[:5], y[:5])).path == "direct"
    # batches use the statistics for the epoch-end loss
    assert fit(X, y, batch_size=10, max_iter=1, tol=0).path == "stats"


def test_full_mini_batch_and_sgd_agree(rng):
    X, y = make_problem(rng, n=400, d=3, noise=0.0)  # consistent: constant-rate SGD converges
    w, b = least_squares(X, y)
    ref = np.append(w, b)
    full = fit(X, y, lr="auto", standardize=True, tol=0, gtol=1e-12, max_iter=5000)
    mini = fit(
        X,
        y,
        lr="auto",
        batch_size=16,
        standardize=True,
        random_state=0,
        max_iter=500,
        tol=0,
        gtol=1e-9,
    )
    sgd = fit(
        X,
        y,
        lr="auto",
        batch_size=1,
        standardize=True,
        random_state=0,
        max_iter=500,
        tol=0,
        gtol=1e-8,
    )
    assert rel_err(np.append(full.w, full.b), ref) < 1e-10
    assert rel_err(np.append(mini.w, mini.b), ref) < 1e-8
    assert rel_err(np.append(sgd.w, sgd.b), ref) < 1e-7
    assert mini.converged and sgd.converged


def test_noisy_sgd_approaches_the_optimum_with_a_decaying_rate(rng):
    X, y = make_problem(rng, n=500, d=3, noise=0.5)
    w, b = least_squares(X, y)
    r = fit(
        X,
        y,
        lr=inverse_scaling(0.05, power=0.6),
        batch_size=1,
        standardize=True,
        random_state=1,
        max_iter=60,
        tol=0,
        gtol=0,
    )
    assert rel_err(np.append(r.w, r.b), np.append(w, b)) < 1e-2


def test_batch_of_all_rows_is_full_batch(rng):
    X, y = make_problem(rng, n=50, d=2)
    a = fit(X, y, lr=0.1, max_iter=30, tol=0, standardize=False)
    b = fit(
        X,
        y,
        lr=0.1,
        max_iter=30,
        tol=0,
        standardize=False,
        optimizer="gd",
        batch_size=50,
        path="direct",
    )
    np.testing.assert_allclose(a.history.theta, b.history.theta, rtol=1e-12, atol=1e-12)


def test_mini_batch_steps_are_the_gradient_of_each_batch(rng):
    # One-vs-many: k-row steps in order equal steps written out by hand.
    X, y = make_problem(rng, n=10, d=2)
    r = fit(
        X,
        y,
        lr=0.05,
        optimizer="gd",
        batch_size=4,
        shuffle=False,
        max_iter=2,
        tol=0,
        standardize=False,
        history_stride=1,
    )
    theta = np.zeros(3)
    for _ in range(2):
        for start in (0, 4, 8):
            xb, yb = X[start : start + 4], y[start : start + 4]
            e = xb @ theta[:2] + theta[2] - yb
            theta = theta - 0.05 * np.append(2 * xb.T @ e / len(e), 2 * e.mean())
    np.testing.assert_allclose(np.append(r.w, r.b), theta, rtol=1e-12)
    assert r.n_steps == 6 and r.n_epochs == 2


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sgd_steps_equal_sklearn_sgdregressor(rng):
    from sklearn.linear_model import SGDRegressor

    X, y = make_problem(rng, n=300, d=4)
    eta = 0.01
    ref = SGDRegressor(
        loss="squared_error",
        penalty=None,
        learning_rate="constant",
        eta0=eta,
        max_iter=3,
        tol=None,
        shuffle=False,
        average=False,
    )
    ref.fit(X, y)
    # sklearn's squared loss is e^2 / 2: its rate eta is our lr = eta / 2
    r = fit(
        X,
        y,
        lr=eta / 2,
        optimizer="gd",
        batch_size=1,
        shuffle=False,
        max_iter=3,
        tol=0,
        standardize=False,
    )
    np.testing.assert_allclose(r.w, ref.coef_, rtol=1e-10)
    assert r.b == pytest.approx(ref.intercept_[0], rel=1e-10)


@pytest.mark.parametrize("optimizer", ["momentum", "nesterov", "adam"])
def test_every_optimizer_reaches_lstsq(rng, optimizer):
    X, y = make_problem(rng, n=200, d=3)
    w, b = least_squares(X, y)
    lr = 0.05 if optimizer == "adam" else "auto"
    r = fit(X, y, lr=lr, optimizer=optimizer, standardize=True, max_iter=20000, tol=0, gtol=1e-10)
    assert r.converged, r.stop
    assert rel_err(np.append(r.w, r.b), np.append(w, b)) < 1e-8


def test_schedules_are_recorded(rng):
    X, y = make_problem(rng, n=50, d=2)
    r = fit(X, y, lr=step_decay(0.1, factor=0.5, every=3), max_iter=7, tol=0, standardize=False)
    np.testing.assert_allclose(r.history.lr[:7], [0.1] * 3 + [0.05] * 3 + [0.025])


def test_article_b_lr_auto_needs_few_steps():
    d = make_article_b()
    r = fit(d.X, d.y, lr="auto")
    c = r.curvature
    assert r.converged and r.n_steps <= 12
    assert r.lr(0) == pytest.approx(c.best_lr)
    assert c.condition_number < 1.2


# --- divergence ---------------------------------------------------------------------


def test_divergence_on_raw_heights_is_caught_and_explained():
    d = load_dataset("davis")
    with pytest.raises(DivergenceError) as err:
        fit(d.X, d.y, lr=0.01, standardize=False, feature_names=["height"])
    e = err.value
    A = np.column_stack([d.X, np.ones(200)])
    L = np.linalg.eigvalsh(2 / 200 * A.T @ A)[-1]
    assert e.step <= 3
    assert e.stable_lr == pytest.approx(2 / L, rel=1e-9)
    assert e.suggested_lr == pytest.approx(1 / L, rel=1e-9)
    assert e.badly_scaled == ["height"]
    msg = str(e)
    assert "lr=0.01" in msg and f"{2 / L:.3g}" in msg and "standardize=True" in msg
    assert np.isfinite(e.history.theta).all()
    # the suggestion works
    r = fit(d.X, d.y, lr=e.suggested_lr, max_iter=50, tol=0, standardize=False)
    assert np.isfinite(r.w).all()


@pytest.mark.parametrize(
    ("kwargs", "max_step"),
    [
        ({"lr": 2.2, "standardize": True}, 40),  # slightly above 2/L = 1: slow growth
        ({"lr": 50.0, "standardize": True}, 3),
        ({"lr": 5.0, "standardize": True, "optimizer": "momentum"}, 40),
        ({"lr": 5.0, "standardize": True, "batch_size": 1}, 10),
        ({"lr": 2.0, "standardize": True, "batch_size": 8}, 100),
    ],
)
def test_divergence_detected_quickly_never_nan(rng, kwargs, max_step):
    X, y = make_problem(rng, n=200, d=3)
    with pytest.raises(DivergenceError) as err:
        fit(X, y, max_iter=1000, random_state=0, **kwargs)
    assert err.value.step <= max_step
    assert np.isfinite(err.value.history.theta).all() or err.value.step <= 3
    assert "Try lr=" in str(err.value)


def test_well_scaled_divergence_does_not_advise_scaling(rng):
    X, y = make_problem(rng, n=200, d=3)
    with pytest.raises(DivergenceError) as err:
        fit(X, y, lr=5.0, standardize=True)
    assert "standardize" not in str(err.value) and err.value.badly_scaled == []


# --- stopping -----------------------------------------------------------------------


def test_stop_reasons(rng):
    X, y = make_problem(rng, n=100, d=2)
    g = fit(X, y, lr="auto", gtol=1e-6, tol=0, standardize=False)
    assert g.stop.code == "converged_gradient" and g.grad_norm <= 1e-6
    t = fit(X, y, tol=1e-9)
    assert t.stop.code == "converged_gradient" and "std(y) of least squares" in t.stop.message
    assert t.report.gap <= 1e-9 and t.report.digits >= 9
    with pytest.warns(ConvergenceWarning, match="stopped early"):
        early = fit(X, y, lr=1e-4, loss_tol=0.5, n_iter_no_change=2)
    assert early.stop.code == "no_improvement" and not early.converged
    with pytest.warns(ConvergenceWarning, match="max_iter reached"):
        m = fit(X, y, lr=0.001, max_iter=5)
    assert m.stop.code == "max_iter" and m.n_steps == 5 and not m.converged
    c = fit(X, y, lr=0.001, callback=lambda p: p.epoch >= 3)
    assert c.stop.code == "callback" and c.n_steps == 3


def test_starting_at_the_optimum_takes_no_step(rng):
    X, y = make_problem(rng, n=100, d=2)
    w, b = least_squares(X, y)
    r = fit(X, y, w0=w, b0=b, gtol=1e-6)
    assert r.n_steps == 0 and r.converged


# --- reproducibility, history, warm start -------------------------------------------


def test_seed_reproduces_a_run_exactly(rng):
    X, y = make_problem(rng, n=100, d=3)
    options = dict(lr=0.01, optimizer="gd", batch_size=7, max_iter=5, tol=0, standardize=False)
    a, b, c = (fit(X, y, random_state=seed, **options) for seed in (3, 3, 4))
    np.testing.assert_array_equal(a.history.theta, b.history.theta)
    assert not np.array_equal(a.history.theta, c.history.theta)


def test_history_stride_export_and_gap(rng, tmp_path):
    X, y = make_problem(rng, n=100, d=2)
    r = fit(
        X,
        y,
        lr=0.1,
        max_iter=100,
        tol=0,
        gtol=0,
        history_stride=10,
        record_gap=True,
        feature_names=["a", "c"],
    )
    h = r.history
    assert h.step.tolist() == [*range(0, 100, 10), 100]
    assert np.all(np.diff(h.gap) < 0) and h.gap[-1] < 1e-6
    np.testing.assert_allclose(h.w[-1], r.w) and np.testing.assert_allclose(h.b[-1], r.b)
    df = h.to_pandas()
    assert list(df.columns) == [
        "step",
        "epoch",
        "w[a]",
        "w[c]",
        "b",
        "loss",
        "grad_norm",
        "lr",
        "gap",
    ]
    h.to_csv(tmp_path / "h.csv")
    back = np.genfromtxt(tmp_path / "h.csv", delimiter=",", names=True)
    np.testing.assert_array_equal(back["loss"], h.loss)  # full precision
    h.to_json(tmp_path / "h.json")
    assert json.loads((tmp_path / "h.json").read_text())["w[a]"] == h.w[:, 0].tolist()
    assert not list(tmp_path.glob(".*tmp"))  # atomic writes leave nothing behind


def test_default_stride_bounds_sgd_history(rng):
    X, y = make_problem(rng, n=1000, d=2)
    r = fit(
        X,
        y,
        lr=0.001,
        optimizer="gd",
        batch_size=1,
        max_iter=3,
        random_state=0,
        tol=0,
        standardize=False,
    )
    assert len(r.history) <= 3 * 100 + 1
    assert len(r.history.epoch_loss) == 4


def test_warm_start_continues_exactly(rng):
    X, y = make_problem(rng, n=100, d=2)
    for opt in ("gd", "adam"):
        sched = inverse_scaling(0.05)
        whole = fit(X, y, lr=sched, optimizer=opt, max_iter=20, tol=0, standardize=False)
        half = fit(X, y, lr=sched, optimizer=opt, max_iter=10, tol=0, standardize=False)
        rest = fit(
            X, y, lr=sched, optimizer=opt, max_iter=10, tol=0, standardize=False, warm_start=half
        )
        np.testing.assert_allclose(rest.theta, whole.theta, rtol=1e-13)
        assert rest.n_steps == 20 and rest.history.lr[0] == sched(10)


# --- bad parameters -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"lr": 0}, "finite number > 0"),
        ({"lr": -1}, "finite number > 0"),
        ({"lr": float("nan")}, "finite number > 0"),
        ({"lr": float("inf")}, "finite number > 0"),
        ({"lr": "fast"}, "'auto'"),
        ({"lr": "auto", "optimizer": "adam"}, "pass a number"),
        ({"batch_size": 0}, "batch_size must be a whole number >= 1 or None"),
        ({"batch_size": 2.5}, "batch_size must be a whole number >= 1 or None"),
        ({"max_iter": 0}, "max_iter must be a whole number >= 1"),
        ({"tol": -1}, "tol must be a number >= 0"),
        ({"optimizer": "rmsprop"}, "unknown optimizer"),
        ({"beta": 1.0, "optimizer": "momentum"}, "beta must be a number >= 0 and < 1"),
        ({"path": "fast"}, "path must be"),
        ({"sample_weight": [1.0, 2.0]}, "one weight per row"),
        ({"sample_weight": -np.ones(20)}, "sample_weight must be >= 0"),
        ({"sample_weight": np.zeros(20)}, "zero for every row"),
    ],
)
def test_bad_parameters(rng, kwargs, fragment):
    X, y = make_problem(rng, n=20, d=2)
    with pytest.raises(InvalidInputError) as err:
        fit(X, y, **kwargs)
    assert fragment in str(err.value)


def test_sample_weight_equals_duplicated_rows(rng):
    X, y = make_problem(rng, n=30, d=2)
    counts = rng.integers(1, 4, 30)
    a = fit(X, y, sample_weight=counts.astype(float), lr=0.1, max_iter=50, tol=0, standardize=False)
    b = fit(
        np.repeat(X, counts, axis=0),
        np.repeat(y, counts),
        lr=0.1,
        max_iter=50,
        tol=0,
        standardize=False,
    )
    np.testing.assert_allclose(a.history.theta, b.history.theta, rtol=1e-10, atol=1e-12)


def test_no_warnings_from_a_diverging_fit(rng):
    X, y = make_problem(rng, n=50, d=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DivergenceError):
            fit(X * 1e150, y, lr=1.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": 0.05},
        {"lr": 0.05, "batch_size": 7, "random_state": 2},
        {"lr": 0.01, "batch_size": 1, "random_state": 5, "optimizer": "adam"},
    ],
)
def test_pausing_with_max_steps_resumes_exactly(rng, kwargs):
    X, y = make_problem(rng, n=40, d=2)
    whole = fit(X, y, max_iter=4, tol=0, standardize=False, **kwargs)
    paused, thetas = None, []
    for _ in range(1000):
        paused = fit(
            X, y, max_iter=4, tol=0, standardize=False, max_steps=3, warm_start=paused, **kwargs
        )
        thetas.append(paused.history.theta[:-1])
        if paused.stop.code != "max_steps":
            break
    assert paused.stop.code == "max_iter" and paused.n_steps == whole.n_steps
    np.testing.assert_array_equal(paused.theta, whole.theta)
    np.testing.assert_array_equal(np.concatenate(thetas), whole.history.theta[:-1])


def test_divergence_is_caught_across_paused_steps(rng):
    X, y = make_problem(rng, n=100, d=2)
    paused = None
    with pytest.raises(DivergenceError):
        for _ in range(100):
            paused = fit(X, y, lr=1.05, standardize=True, max_steps=1, warm_start=paused)
    assert paused.n_steps < 60


def test_early_stopping_can_watch_held_out_rows():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    options = dict(optimizer="gd", batch_size=8, loss_tol=1e-3, random_state=0, tol=0)
    r = fit(X, y, validation_fraction=0.2, **options)
    assert r.stop.code == "no_improvement" and "held-out rows' loss" in r.stop.message
    assert r.history.epoch_loss.size == r.n_epochs + 1
    # the held-out rows are not fitted: the same fit on the other 80% of the rows
    keep = np.sort(np.random.default_rng(0).permutation(len(y))[89:])
    again = fit(X[keep], y[keep], max_iter=r.n_epochs, **options)
    np.testing.assert_allclose(r.w, again.w, rtol=1e-12)
    with pytest.raises(InvalidInputError, match="set loss_tol"):
        fit(X, y, validation_fraction=0.2)
    model = GDRegressor(
        batch_size=8, optimizer="gd", loss_tol=1e-3, validation_fraction=0.2, tol=0, random_state=0
    ).fit(X, y)
    assert model.stop_reason_.code == "no_improvement"
