import numpy as np
import pytest

from gradfit.data import (
    Scaling,
    check_xy,
    epoch_order,
    load_dataset,
    load_table,
    make_article_b,
    steps_per_epoch,
)
from gradfit.exceptions import InvalidInputError


@pytest.mark.parametrize(
    ("X", "y", "fragment"),
    [
        ([[1.0], [np.nan]], [1.0, 2.0], "NaN or infinite"),
        ([[1.0], [np.inf]], [1.0, 2.0], "row 1, column 0"),
        ([[1.0], [2.0]], [1.0, np.nan], "y has 1 NaN"),
        ([[1.0], ["a"]], [1.0, 2.0], "non-numeric values (for example 'a')"),
        (np.zeros((0, 2)), [], "empty"),
        (np.zeros((3, 0)), [1, 2, 3], "0 features"),
        (np.zeros((2, 2, 2)), [1, 2], "must be 2-D"),
        ([[1.0], [2.0]], [1.0, 2.0, 3.0], "X has 2 rows but y has 3"),
        ([[1.0], [2.0]], [[1.0, 2.0], [3.0, 4.0]], "y must be 1-D"),
    ],
)
def test_bad_input_names_problem_and_fix(X, y, fragment):
    with pytest.raises(InvalidInputError) as err:
        check_xy(X, y)
    assert fragment in str(err.value)
    assert ":" in str(err.value)  # problem: fix


def test_dataframe_column_named_in_message():
    import pandas as pd

    df = pd.DataFrame({"height": [1.0, 2.0], "age": [3.0, np.nan]})
    with pytest.raises(InvalidInputError, match="column 'age'"):
        check_xy(df, [1.0, 2.0])


def test_one_dimensional_x_is_one_feature():
    X, _ = check_xy([1, 2, 3], [2, 4, 6])
    assert X.shape == (3, 1) and X.dtype == np.float64


def test_every_epoch_visits_every_row_once():
    for epoch in range(3):
        order = epoch_order(10, shuffle=True, seed=0, epoch=epoch)
        assert sorted(order.tolist()) == list(range(10))
    assert steps_per_epoch(10, 3) == 4


def test_batch_order_reshuffles_each_epoch_and_is_a_function_of_seed_and_epoch():
    first = epoch_order(50, shuffle=True, seed=7, epoch=0)
    assert first.tolist() == epoch_order(50, shuffle=True, seed=7, epoch=0).tolist()
    assert first.tolist() != epoch_order(50, shuffle=True, seed=7, epoch=1).tolist()
    assert first.tolist() != epoch_order(50, shuffle=True, seed=8, epoch=0).tolist()
    assert epoch_order(5, shuffle=False, seed=7, epoch=4).tolist() == [0, 1, 2, 3, 4]


def test_scaling_round_trip_and_constant_column(rng):
    X = np.column_stack([rng.normal(170, 10, 50), np.full(50, 3.0)])
    s = Scaling.standardize(X)
    assert s.scale[1] == 1.0
    theta = rng.normal(size=3)
    np.testing.assert_allclose(s.to_scaled(s.to_original(theta)), theta, rtol=1e-12)
    # The same line in both coordinate systems.
    wb = s.to_original(theta)
    Z = (X - s.mean) / s.scale
    np.testing.assert_allclose(Z @ theta[:2] + theta[2], X @ wb[:2] + wb[2], rtol=1e-10)


def test_shipped_datasets():
    d = load_dataset("davis")
    assert d.X.shape == (200, 1) and d.target_name == "weight"
    assert d.X[11, 0] == 57 and d.y[11] == 166  # the known data-entry error
    b = load_dataset("bdims")
    assert b.X.shape == (507, 24) and "hgt" in b.feature_names
    assert "Heinz" in b.description


def test_shipped_datasets_errors():
    with pytest.raises(InvalidInputError, match="choose one of article_b, bdims, davis"):
        load_dataset("iris")
    with pytest.raises(InvalidInputError, match="not numeric"):
        load_dataset("davis", features=["sex"])
    with pytest.raises(InvalidInputError, match="has no column 'shoe'"):
        load_dataset("davis", features=["shoe"])


def test_article_b_data_is_noiseless():
    d = make_article_b()
    assert d.X.shape == (5000, 5)
    np.testing.assert_allclose(d.X @ [2, 4, 5, 9, 11] + 2, d.y)


def test_load_table_csv(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,name,y\n1,2,x,3\n2,3,y,5\n4,1,z,7\n")
    t = load_table(path, target="y")
    assert t.feature_names == ["a", "b"] and t.X.shape == (3, 2)


@pytest.mark.parametrize(
    ("content", "kwargs", "fragment"),
    [
        ("a,y\n1,2\n2,\n", {"target": "y"}, "missing values"),
        (
            "a,y\n1,2\nq,3\n",
            {"target": "y", "features": ["a"]},
            "t.csv is not numeric (data row 2: 'q')",
        ),
        ("a,y\n", {"target": "y"}, "no data rows"),
        ("a,y\n1,2,3\n", {"target": "y"}, "line 2: 3 fields"),
        ("a,y\n1,2\n", {"target": "z"}, "no column 'z'"),
        ("a,y\n1,2\n", {}, "to predict: target='NAME' (one of 'a', 'y')"),
    ],
)
def test_load_table_errors(tmp_path, content, kwargs, fragment):
    path = tmp_path / "t.csv"
    path.write_text(content)
    with pytest.raises(InvalidInputError) as err:
        load_table(path, **kwargs)
    assert fragment in str(err.value)


def test_load_table_parquet(tmp_path):
    import pandas as pd

    path = tmp_path / "t.parquet"
    pd.DataFrame({"a": [1.0, 2.0, 3.0], "y": [2.0, 4.0, 6.0]}).to_parquet(path)
    t = load_table(path, target="y")
    np.testing.assert_array_equal(t.X[:, 0], [1, 2, 3])


def test_load_table_missing_file():
    with pytest.raises(InvalidInputError, match="no such file or data set"):
        load_table("/nonexistent.csv", target="y")
