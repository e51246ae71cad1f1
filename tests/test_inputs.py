"""Bad input and column mix-ups from Python: one clear error, or a plain note, never a
silently different fit (the command line's side is in test_cli.py)."""

import numpy as np
import pytest

import gradfit
from gradfit import LinearModel, Scaling
from gradfit.data import ArraySource, as_features, as_target, check_xy, load_table
from gradfit.data.files import numeric_columns, parse_csv, read_table, table_from_columns
from gradfit.data.source import check_weights
from gradfit.exceptions import InvalidInputError


def write(tmp_path, text, name="t.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def error_of(call, *args, **kwargs):
    with pytest.raises(InvalidInputError) as err:
        call(*args, **kwargs)
    return str(err.value)


# -- 1. duplicate column names -----------------------------------------------------------


def test_duplicate_header_names_the_columns_and_the_fix(tmp_path):
    path = write(tmp_path, "x,x,y\n1,2,3\n4,5,6\n")
    message = error_of(load_table, path, target="y")
    assert "more than one column named 'x' (columns 1, 2)" in message
    assert "rename them" in message


def test_duplicate_header_is_an_error_for_uploads_too():
    # parse_csv is what the playground's uploads go through
    with pytest.raises(InvalidInputError, match="more than one column named 'a'"):
        parse_csv("a,b,a\n1,2,3\n", "up.csv")


def test_duplicate_parquet_columns(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "d.parquet"
    table = pa.table(
        [pa.array([1.0, 2.0]), pa.array([3.0, 4.0]), pa.array([5.0, 6.0])], names=["x", "x", "y"]
    )
    pq.write_table(table, path)
    assert "more than one column named 'x'" in error_of(load_table, path, target="y")


# -- 2. the target as a feature, a feature twice -------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"target": "y", "features": ["y"]}, "the target 'y' of"),
        ({"target": "y", "features": ["x", "y"]}, "cannot predict itself"),
        ({"target": "y", "features": ["x", "x"]}, "features name 'x' more than once"),
    ],
)
def test_target_among_features_or_feature_twice(tmp_path, kwargs, fragment):
    path = write(tmp_path, "x,z,y\n1,2,3\n2,3,5\n3,5,8\n")
    assert fragment in error_of(load_table, path, **kwargs)


def test_shipped_data_set_target_among_features():
    # the data set's own target (weight) named as a feature
    assert "cannot predict itself" in error_of(load_table, "davis", features=["weight"])
    assert "more than once" in error_of(load_table, "davis", features=["height", "height"])


# -- 3. a row index written by pandas ------------------------------------------------------


@pytest.mark.parametrize("first", ["", "Unnamed: 0"])
def test_pandas_row_index_is_left_out_and_said(tmp_path, first):
    rows = "\n".join(f"{i},{i * 0.5},{3 * i * 0.5 + 1}" for i in range(6))
    path = write(tmp_path, f"{first},x,y\n{rows}\n")
    loaded = read_table(path, target="y")
    assert loaded.dataset.feature_names == ["x"]
    assert loaded.index_column == first
    assert loaded.dataset.X.shape == (6, 1)
    (note,) = loaded.notes()
    assert "left out the first column" in note and "row index" in note
    # load_table says it too, in the description
    assert "row index" in load_table(path, target="y").description


def test_pandas_written_csv_round_trip(tmp_path):
    import pandas as pd

    path = tmp_path / "p.csv"
    pd.DataFrame({"x": [1.0, 2.0, 4.0], "y": [2.0, 4.0, 9.0]}).to_csv(path)  # index=True
    t = load_table(path, target="y")
    assert t.feature_names == ["x"]
    np.testing.assert_array_equal(t.X[:, 0], [1, 2, 4])


def test_index_counting_from_one_is_an_index_too(tmp_path):
    # R's write.csv writes row names 1..n under an empty header cell
    path = write(tmp_path, ',x,y\n"1",1,2\n"2",2,4\n"3",3,7\n')
    assert load_table(path, target="y").feature_names == ["x"]


def test_nameless_first_column_that_is_not_an_index_is_an_error(tmp_path):
    path = write(tmp_path, ",x,y\n5,1,2\n1,2,4\n2,3,7\n")
    message = error_of(load_table, path, target="y")
    assert "the first column of" in message and "has no name" in message
    assert "name it in the header line" in message


def test_nameless_column_elsewhere_is_an_error(tmp_path):
    path = write(tmp_path, "x,,y\n1,2,3\n2,3,4\n")
    assert "column 2 of" in error_of(load_table, path, target="y")
    path = write(tmp_path, "x,Unnamed: 1,y\n1,2,3\n2,3,4\n")
    message = error_of(load_table, path, target="y")
    assert "column 2 of" in message and "pandas calls it 'Unnamed: 1'" in message


def test_an_index_can_still_be_chosen_by_name(tmp_path):
    path = write(tmp_path, "Unnamed: 0,x,y\n0,1,2\n1,2,4\n2,3,7\n")
    t = load_table(path, target="y", features=["Unnamed: 0", "x"])
    assert t.feature_names == ["Unnamed: 0", "x"]


def test_uploads_never_offer_the_row_index():
    columns = parse_csv(",x,y\n0,1,2\n1,2,4\n2,3,7\n", "up.csv")
    assert numeric_columns(columns) == ["x", "y"]
    t = table_from_columns(columns, "up.csv", target="y")
    assert t.feature_names == ["x"] and "row index" in t.description


def test_parquet_pandas_index_is_left_out(tmp_path):
    import pandas as pd
    import pyarrow  # noqa: F401  (the Parquet reader needs it installed)

    path = tmp_path / "i.parquet"
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [2.0, 4.0, 7.0]}, index=[10, 20, 30])
    frame.to_parquet(path)  # a non-range index is stored as a column
    loaded = read_table(path, target="y")
    assert loaded.dataset.feature_names == ["x"]
    assert loaded.index_column == "__index_level_0__" and "row index" in loaded.notes()[0]


# -- 4. non-numeric columns left out by default: said -------------------------------------


def test_non_numeric_columns_left_out_are_named(tmp_path):
    path = write(tmp_path, "a,name,b,sex,y\n1,p,2,m,3\n2,q,3,f,5\n4,r,1,m,7\n")
    loaded = read_table(path, target="y")
    assert loaded.dataset.feature_names == ["a", "b"]
    assert loaded.non_numeric == ("name", "sex")
    assert loaded.notes() == [f"left out the non-numeric columns of {path}: 'name', 'sex'"]
    t = load_table(path, target="y")
    assert "'name', 'sex'" in t.description
    # still the five fields every caller unpacks
    X, y, names, target, description = t
    assert X.shape == (3, 2) and y.tolist() == [3, 5, 7]
    assert names == ["a", "b"] and target == "y" and description == t.description


def test_nothing_left_out_nothing_said(tmp_path):
    path = write(tmp_path, "a,y\n1,2\n2,4\n")
    loaded = read_table(path, target="y")
    assert loaded.notes() == [] and loaded.dataset.description == str(path)


def test_only_non_numeric_features_is_an_error(tmp_path):
    path = write(tmp_path, "name,y\np,1\nq,2\n")
    assert "no numeric column besides the target 'y'" in error_of(load_table, path, target="y")


# -- 5. unreadable files ---------------------------------------------------------------


def test_csv_renamed_parquet(tmp_path):
    path = write(tmp_path, "x,y\n1,2\n2,4\n", "t.parquet")
    message = error_of(load_table, path, target="y")
    assert f"{path} is not a valid Parquet file" in message and "give it a .csv name" in message


def test_truncated_parquet(tmp_path):
    import pandas as pd
    import pyarrow  # noqa: F401  (the Parquet reader needs it installed)

    path = tmp_path / "t.parquet"
    pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [2.0, 4.0, 6.0]}).to_parquet(path)
    path.write_bytes(path.read_bytes()[:-40])
    message = error_of(load_table, path, target="y")
    assert f"{path} is not a valid Parquet file" in message and "truncated or corrupt" in message
    assert "\n" not in message


def test_binary_junk_parquet(tmp_path):
    path = tmp_path / "j.parquet"
    path.write_bytes(bytes(range(256)) * 4)
    assert f"{path} is not a valid Parquet file" in error_of(load_table, path, target="y")


def test_parquet_renamed_csv(tmp_path):
    import pandas as pd
    import pyarrow  # noqa: F401  (the Parquet reader needs it installed)

    path = tmp_path / "t.csv"
    pd.DataFrame({"x": [1.0], "y": [2.0]}).to_parquet(path)
    assert "is a Parquet file, not CSV: give it a .parquet name" in error_of(
        load_table, path, target="y"
    )


def test_binary_junk_csv(tmp_path):
    path = tmp_path / "j.csv"
    path.write_bytes(bytes(range(128, 256)) * 8)
    assert "is not a text CSV file" in error_of(load_table, path, target="y")


def test_folder_given_as_data(tmp_path):
    folder = tmp_path / "data.csv"
    folder.mkdir()
    assert f"the folder {folder} holds no .parquet files" in error_of(
        load_table, folder, target="y"
    )


def test_unreadable_file(tmp_path, monkeypatch):
    path = write(tmp_path, "x,y\n1,2\n")

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(type(path), "open", denied)
    message = error_of(load_table, path, target="y")
    assert f"cannot read {path}: Permission denied" in message


def test_other_separators_are_named(tmp_path):
    path = write(tmp_path, "x;y\n1;2\n2;4\n")
    assert "separated by semicolons" in error_of(load_table, path, target="y")


# -- 6. overflow, infinity and non-numeric values in files ----------------------------------


def test_overflowing_value_is_not_called_missing(tmp_path):
    path = write(tmp_path, "x,y\n1,2\n1e400,3\n")
    message = error_of(load_table, path, target="y")
    assert "column 'x'" in message and "data row 2" in message
    assert "1e400 overflows float64" in message and "missing" not in message


def test_infinite_value_in_a_file(tmp_path):
    path = write(tmp_path, "x,y\n1,2\n2,-inf\n")
    message = error_of(load_table, path, target="y")
    assert "column 'y'" in message and "infinite in data row 2" in message


def test_non_numeric_value_names_column_and_row(tmp_path):
    path = write(tmp_path, "x,y\n1,2\n2,3\nabc,4\n")
    message = error_of(load_table, path, target="y", features=["x"])
    assert "column 'x'" in message and "data row 3: 'abc'" in message


def test_missing_values_name_the_columns(tmp_path):
    path = write(tmp_path, "a,b,y\n1,2,3\n,3,4\n2,NA,5\n")
    message = error_of(load_table, path, target="y")
    assert "'a' (1 row), 'b' (1 row)" in message and "data rows 2, 3" in message


def test_huge_finite_values_are_kept(tmp_path):
    path = write(tmp_path, "x,y\n1e200,2e200\n2e200,3e200\n")
    t = load_table(path, target="y")
    np.testing.assert_array_equal(t.X[:, 0], [1e200, 2e200])


# -- 7. validation: huge is fine, inf and NaN are not --------------------------------------


def test_validation_accepts_finite_huge_values():
    X, y = check_xy([[1e200], [-3e300]], [1e250, 1.7e308])
    assert np.isfinite(X).all() and np.isfinite(y).all()


@pytest.mark.parametrize(
    ("X", "y", "fragment"),
    [
        (
            [[1.0], [np.inf]],
            [1.0, 2.0],
            "X has 1 NaN or infinite value(s) (first at row 1, column 0: inf)",
        ),
        ([[1.0], [2.0]], [np.nan, 1.0], "y has 1 NaN or infinite value(s) (first at row 0: nan)"),
        ([[1e308 * 10], [1.0]], [1.0, 2.0], "inf)"),
        ([[10**400], [1]], [1.0, 2.0], "X has a value too large for float64"),
    ],
)
def test_validation_rejects_non_finite_values(X, y, fragment):
    assert fragment in error_of(check_xy, X, y)


# -- 8. complex values ------------------------------------------------------------------


@pytest.mark.parametrize(
    "X",
    [
        np.array([[1.0 + 2.0j], [2.0]]),
        np.array([[1.0 + 0.0j], [2.0]]),  # even with zero imaginary parts: say so, no cast
        [[1.0], [2.0 + 1.0j]],
        np.array([[1.0], [2.0 + 1.0j]], dtype=object),
    ],
)
def test_complex_features_are_an_error(X):
    message = error_of(as_features, X)
    assert message.startswith("X has complex values")


def test_complex_target_and_weights_are_errors():
    assert error_of(as_target, np.array([1.0 + 1.0j, 2.0])).startswith("y has complex values")
    message = error_of(check_weights, np.array([1.0, 1.0 + 0.5j]), 2)
    assert message.startswith("sample_weight has complex values")
    with pytest.raises(InvalidInputError, match="sample_weight has complex values"):
        gradfit.fit([[1.0], [2.0]], [1.0, 2.0], sample_weight=np.array([1.0, 1.0j]))


def test_complex_dataframe_column_is_named():
    import pandas as pd

    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, 2.0 + 3.0j]})
    assert "column 'b'" in error_of(as_features, frame)


def test_complex_sparse_features():
    import scipy.sparse as sparse

    assert "X has complex values" in error_of(
        as_features, sparse.csr_matrix(np.array([[1.0 + 1.0j], [2.0]]))
    )


def test_dates_are_not_numbers():
    dates = np.array(["2020-01-01", "2020-01-02"], dtype="datetime64[D]")
    assert "dates or times" in error_of(as_features, dates)


def test_rows_of_different_lengths():
    assert "rows of different lengths" in error_of(as_features, [[1.0, 2.0], [3.0]])


# -- 9. feature names of the wrong length --------------------------------------------------


def test_fit_with_feature_names_of_the_wrong_length():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    with pytest.raises(InvalidInputError, match="feature_names has 1 names for 2 feature columns"):
        gradfit.fit(X, [1.0, 2.0, 3.0], feature_names=["a"])
    with pytest.raises(InvalidInputError, match="feature_names has 3 names"):
        ArraySource(X, [1.0, 2.0, 3.0], feature_names=["a", "b", "c"])


# -- 10. predict matches DataFrame columns by name -----------------------------------------


def _model(names=("a", "b")):
    return LinearModel(np.array([2.0, -1.0]), 0.5, list(names), "y", Scaling.identity(2))


def test_predict_reorders_dataframe_columns_by_name():
    import pandas as pd

    model = _model()
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [10.0, 20.0]})
    expected = [2.0 - 10.0 + 0.5, 4.0 - 20.0 + 0.5]
    np.testing.assert_allclose(model.predict(frame), expected)
    np.testing.assert_allclose(model.predict(frame[["b", "a"]]), expected)  # reordered
    extra = frame.assign(c=[7.0, 8.0])[["c", "b", "a"]]  # other columns are not used
    np.testing.assert_allclose(model.predict(extra), expected)
    np.testing.assert_allclose(model.predict(frame.to_numpy()), expected)  # arrays: by position


def test_predict_names_missing_dataframe_columns():
    import pandas as pd

    frame = pd.DataFrame({"a": [1.0], "c": [2.0]})
    message = error_of(_model().predict, frame)
    assert "X has no column 'b'" in message and "'a', 'c'" in message
    # a model fitted without names says how to predict by position
    message = error_of(_model(("x0", "x1")).predict, pd.DataFrame({"a": [1.0], "b": [2.0]}))
    assert "fitted without feature names" in message and "to_numpy()" in message


def test_predict_with_duplicate_dataframe_columns():
    import pandas as pd

    frame = pd.DataFrame([[1.0, 2.0, 3.0]], columns=["a", "b", "a"])
    assert "more than one column named 'a'" in error_of(_model().predict, frame)


def test_fit_result_predict_uses_names(rng):
    import pandas as pd

    X = rng.standard_normal((50, 2))
    y = X @ [3.0, -2.0] + 1.0
    frame = pd.DataFrame(X, columns=["height", "age"])
    result = gradfit.fit(frame, y)
    assert result.model.feature_names == ["height", "age"]
    np.testing.assert_allclose(result.predict(frame[["age", "height"]]), y, atol=1e-6)


# -- 11. close names suggested -------------------------------------------------------------


def test_close_column_names_are_suggested(tmp_path):
    path = write(tmp_path, "height,weight,age\n1,2,3\n2,3,5\n")
    assert "no column 'weigth' (did you mean 'weight'" in error_of(
        load_table, path, target="weigth"
    )
    assert "(did you mean 'height'" in error_of(
        load_table, path, target="weight", features=["hieght"]
    )
    assert "did you mean" not in error_of(load_table, path, target="shoe")


def test_close_names_for_shipped_data_sets_and_files(tmp_path):
    assert "no column 'weigth' (did you mean 'weight'" in error_of(
        load_table, "davis", target="weigth"
    )
    assert "no such file or data set: davsi (did you mean 'davis'?)" in error_of(
        load_table, "davsi"
    )
    write(tmp_path, "x,y\n1,2\n", "measurements.csv")
    message = error_of(load_table, tmp_path / "measurments.csv", target="y")
    assert f"did you mean '{tmp_path / 'measurements.csv'}'" in message
