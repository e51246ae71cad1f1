import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, SGDRegressor
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from gradfit import DivergenceError, GDRegressor, least_squares, load_dataset

from .conftest import make_problem


@parametrize_with_checks(
    [
        GDRegressor(),
        GDRegressor(batch_size=8, random_state=0),  # SVRG, the default with batches
        GDRegressor(batch_size=8, optimizer="momentum", loss_tol=1e-3, tol=0, random_state=0),
        GDRegressor(penalty="elasticnet", alpha=0.01, l1_ratio=0.5),  # FISTA's proximal steps
        GDRegressor(loss="huber", epsilon=1.0, penalty="l2"),
    ],
    expected_failed_checks=lambda estimator: (
        # Plain momentum on batches stopped early by a loss-change test stops where the
        # batches' noise happens to be small: weighted and repeated rows are other
        # batches, so they stop at other points. SVRG (the default) passes both checks.
        {
            "check_sample_weight_equivalence_on_dense_data": "stops on loss noise",
            "check_sample_weight_equivalence_on_sparse_data": "stops on loss noise",
        }
        if estimator.optimizer == "momentum"
        else {}
    ),
)
def test_sklearn_conformance(estimator, check):
    check(estimator)


def test_diabetes_equals_linear_regression():
    X, y = load_diabetes(return_X_y=True)
    ours = GDRegressor().fit(X, y)
    ref = LinearRegression().fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6)
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-6)
    assert ours.stop_reason_.converged
    assert ours.optimizer_ == "cg" and ours.lr_ == 1.0  # the whole exact step
    assert ours.curvature_.condition_number > 1
    descent = GDRegressor(lr="auto").fit(X, y)  # plain descent at the best constant rate
    assert descent.lr_ == pytest.approx(descent.curvature_.best_lr)
    np.testing.assert_allclose(descent.coef_, ref.coef_, rtol=1e-6)


@pytest.mark.parametrize(
    ("scale", "offset"), [(1.0, 0.0), (1e-4, 0.0), (1e5, 0.0), (1.0, 1e6), (1e3, -1e5)]
)
def test_exact_by_default_whatever_the_raw_scales(rng, scale, offset):
    X, y = make_problem(
        rng,
        n=300,
        d=5,
        scales=scale * 10.0 ** rng.uniform(-2, 2, 5),
        offsets=offset * rng.uniform(size=5),
    )
    model = GDRegressor().fit(X, y)
    w, b = least_squares(X, y)
    np.testing.assert_allclose(model.predict(X), X @ w + b, rtol=1e-6)
    np.testing.assert_allclose(model.coef_, w, rtol=1e-6)


def test_sgd_follows_sgdregressor_step_for_step(rng):
    X, y = make_problem(rng, n=100, d=3)
    ref = SGDRegressor(
        learning_rate="constant", eta0=0.02, penalty=None, max_iter=2, tol=None, shuffle=False
    )
    ref.fit(X, y)  # tol=None: no early stop, no warning
    ours = GDRegressor(
        lr=0.01,
        optimizer="gd",
        batch_size=1,
        shuffle=False,
        standardize=False,
        max_iter=2,
        tol=0,
    ).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-10)
    assert ours.intercept_ == pytest.approx(ref.intercept_[0], rel=1e-10)


@pytest.mark.parametrize("optimizer", ["gd", "adam"])
def test_partial_fit_over_chunks_equals_one_epoch(rng, optimizer):
    X, y = make_problem(rng, n=120, d=3)
    params = dict(
        lr=0.01,
        batch_size=10,
        shuffle=False,
        standardize=False,
        optimizer=optimizer,
        schedule="invscaling",
    )
    whole = GDRegressor(max_iter=1, tol=0, **params).fit(X, y)
    chunked = GDRegressor(tol=0, **params)  # tol=0: the passes alone, no least squares after
    for start in range(0, 120, 40):
        chunked.partial_fit(X[start : start + 40], y[start : start + 40])
    np.testing.assert_allclose(chunked.coef_, whole.coef_, rtol=1e-12)
    assert chunked.n_steps_ == whole.n_steps_ == 12


@pytest.mark.parametrize("order", [0, 1, 2])
@pytest.mark.parametrize("optimizer", ["gd", "adam", None])
def test_partial_fit_over_a_stream_reaches_least_squares_of_all_rows(rng, order, optimizer):
    X, y = make_problem(rng, n=400, d=4, scales=[1, 10, 100, 0.1], offsets=[5, -50, 0, 1])
    chunks = np.array_split(np.random.default_rng(order).permutation(400), 20)
    # an unrepresentative first chunk: the rows with the smallest first feature
    if order == 2:
        chunks = np.array_split(np.argsort(X[:, 0]), 20)
    model = GDRegressor(batch_size=8, optimizer=optimizer, lr=0.001 if optimizer else "auto")
    for idx in chunks:
        model.partial_fit(X[idx], y[idx])
    w, b = least_squares(X, y)
    gap = np.sqrt(np.mean((model.predict(X) - (X @ w + b)) ** 2)) / np.std(y)
    assert gap <= model.gap_ <= 1e-10  # the certificate holds, and it is tight enough
    np.testing.assert_allclose(model.coef_, w, rtol=1e-6)


def test_sample_weights_equal_row_duplication(rng):
    X, y = make_problem(rng, n=40, d=3)
    counts = rng.integers(0, 4, 40)
    a = GDRegressor().fit(X, y, sample_weight=counts)
    b = GDRegressor().fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-8)


def test_sparse_input_matches_dense(rng):
    X, y = make_problem(rng, n=200, d=6)
    X[np.abs(X) < 1] = 0
    Xs = sp.csr_matrix(X)
    for path in ("stats", "direct"):
        model = GDRegressor(path=path).fit(Xs, y)
        w, _ = least_squares(X, y)
        np.testing.assert_allclose(model.coef_, w, rtol=1e-6)
        np.testing.assert_allclose(model.predict(Xs), model.predict(X))


def test_sparse_input_is_not_densified():
    import tracemalloc

    # 5000 x 100000: 3.7 GiB dense, 0.6 MiB as CSR
    X = sp.random(5000, 100_000, density=1e-4, format="csr", random_state=0)
    y = X @ np.random.default_rng(0).normal(size=100_000) + 1.0
    tracemalloc.start()
    model = GDRegressor(standardize=False, max_iter=30, tol=0).fit(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 200 * 2**20  # the history holds 31 coefficient vectors of 0.8 MB
    assert np.isfinite(model.coef_).all()
    assert np.all(np.diff(model.loss_curve_) < 0)  # descending at lr = 1/L


def test_pipeline_gridsearch_cross_val_and_clone():
    import pandas as pd

    d = load_dataset("bdims", features=["hgt", "age", "sex", "che_gi"])
    df = pd.DataFrame(d.X, columns=d.feature_names)
    pipe = make_pipeline(
        ColumnTransformer(
            [("num", StandardScaler(), ["hgt", "age", "che_gi"])], remainder="passthrough"
        ),
        GDRegressor(standardize=False),
    )
    scores = cross_val_score(pipe, df, d.y, cv=3)
    reference = cross_val_score(make_pipeline(StandardScaler(), LinearRegression()), df, d.y, cv=3)
    np.testing.assert_allclose(scores, reference, rtol=1e-6)
    grid = GridSearchCV(GDRegressor(), {"optimizer": ["gd", "nesterov"]}, cv=3).fit(df, d.y)
    assert grid.best_estimator_.feature_names_in_.tolist() == d.feature_names
    assert clone(grid.best_estimator_).get_params() == grid.best_estimator_.get_params()


def test_history_and_theory_attributes():
    d = load_dataset("davis")
    model = GDRegressor().fit(d.X, d.y)
    assert model.n_iter_ == 1 and len(model.history_) == 2
    assert model.curvature_.best_lr == pytest.approx(0.5)
    assert model.loss_curve_[-1] == pytest.approx(model.history_.loss[-1])


def test_max_iter_warns_with_reason():
    d = load_dataset("davis")
    with pytest.warns(ConvergenceWarning, match=r"max_iter reached.*std\(y\).*Try .*lr='auto'"):
        GDRegressor(lr=0.001, max_iter=3).fit(d.X, d.y)


def test_divergence_raises():
    d = load_dataset("davis")
    with pytest.raises(DivergenceError, match="standardize=True"):
        GDRegressor(lr=0.01, standardize=False).fit(d.X, d.y)


def test_two_dimensional_target_rejected_clearly(rng):
    X, y = make_problem(rng, n=20, d=2)
    with pytest.raises(ValueError, match="1d array"):
        GDRegressor().fit(X, np.column_stack([y, y]))


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"lr": -1.0}, "finite number > 0"),
        ({"schedule": "cosine"}, "schedule must be"),
        ({"optimizer": "lbfgs"}, "unknown optimizer 'lbfgs': choose one of gd"),
        ({"tol": -1}, "tol must be"),
        ({"max_iter": 0}, "max_iter must be"),
    ],
)
def test_bad_hyper_parameters(rng, params, fragment):
    X, y = make_problem(rng, n=20, d=2)
    with pytest.raises(ValueError, match=fragment):
        GDRegressor(**params).fit(X, y)


def test_theory_is_reported_for_a_numeric_rate_too():
    d = load_dataset("davis")
    model = GDRegressor(lr=0.1).fit(d.X, d.y)
    assert model.curvature_.max_stable_lr == pytest.approx(1.0)
    assert model.lr_ == 0.1
