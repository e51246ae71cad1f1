"""Files streamed by pyarrow (``gradfit.open_source``): the same fit as the arrays, exact
full batch from one pass of statistics, bounded chunks, and one clear error per problem."""

from __future__ import annotations

import gzip
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import gradfit
from gradfit import InvalidInputError, open_source
from gradfit.data import stream

from .conftest import make_problem


def write_csv(path, X, y, names=None, extra=None):
    names = names or [f"x{j}" for j in range(X.shape[1])]
    columns = {**{n: X[:, j] for j, n in enumerate(names)}, "y": y, **(extra or {})}
    lines = [",".join(columns)]
    lines += [",".join(repr(float(c[i])) for c in columns.values()) for i in range(len(y))]
    text = "\n".join(lines) + "\n"
    if str(path).endswith(".gz"):
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    return names


def write_parquet(path, X, y, names):
    table = pa.table({**{n: X[:, j] for j, n in enumerate(names)}, "y": y})
    pq.write_table(table, path)


@pytest.fixture
def problem(rng):
    return make_problem(rng, n=3000, d=4, scales=[1, 10, 100, 0.1], offsets=[5, -50, 0, 1])


@pytest.mark.parametrize("kind", ["csv", "csv.gz", "parquet", "folder"])
def test_a_file_fits_like_its_arrays(tmp_path, problem, kind, monkeypatch):
    monkeypatch.setattr(stream, "BLOCK_BYTES", 4096)  # many record batches
    monkeypatch.setattr(stream, "PARQUET_BATCH_ROWS", 100)
    X, y = problem
    names = [f"x{j}" for j in range(4)]
    if kind == "folder":
        path = tmp_path / "parts"
        path.mkdir()
        for k, rows in enumerate(np.array_split(np.arange(3000), 3)):
            write_parquet(path / f"part-{k}.parquet", X[rows], y[rows], names)
    elif kind == "parquet":
        path = tmp_path / "d.parquet"
        write_parquet(path, X, y, names)
    else:
        path = tmp_path / f"d.{kind}"
        write_csv(path, X, y, names)
    source = open_source(path, target="y")
    assert source.n_rows == 3000 and source.feature_names == names
    assert max(len(c.y) for c in source.chunks()) < 3000  # streamed, never whole
    from_file = gradfit.fit(source)
    w, b = gradfit.least_squares(X, y)  # both certified to 1e-10 x std(y) of these
    np.testing.assert_allclose(from_file.w, w, rtol=1e-8)
    assert from_file.b == pytest.approx(b, rel=1e-8)
    assert from_file.model.feature_names == names and from_file.model.target_name == "y"


def test_an_ill_conditioned_file_gets_every_digit_by_streaming(tmp_path, monkeypatch):
    from benchmarks.accuracy import problems, worst_lre

    monkeypatch.setattr(stream, "BLOCK_BYTES", 8192)
    problem = next(p for p in problems() if p.name == "polynomial degree 10, 300 rows")
    path = tmp_path / "poly.csv"
    write_csv(path, problem.X, problem.y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = gradfit.fit(open_source(path, target="y"))
    assert worst_lre(problem, result.w, result.b) >= 7


def test_a_weight_column_is_sample_weight(tmp_path, problem):
    X, y = problem
    s = np.random.default_rng(4).uniform(0.0, 3.0, len(y))
    path = tmp_path / "w.csv"
    write_csv(path, X, y, extra={"s": s})
    source = open_source(path, target="y", weight="s")
    assert "s" not in source.feature_names
    w, _ = gradfit.least_squares(X, y, s)
    np.testing.assert_allclose(gradfit.fit(source).w, w, rtol=1e-8)


def test_missing_values_stop_with_the_row_or_are_dropped_and_counted(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("x,y\n1,3\n2,\n3,7\n4,nan\n5,11\n6,13\n")
    with pytest.raises(InvalidInputError, match=r"data row 2: a missing, NaN or infinite value"):
        gradfit.fit(open_source(path, target="y"))
    source = open_source(path, target="y", drop_missing=True)
    result = gradfit.fit(source)
    assert source.n_rows == 4 and source.dropped == 2
    assert result.w.round(12).tolist() == [2.0] and round(result.b, 12) == 1.0


@pytest.mark.parametrize(
    ("make", "kwargs", "message"),
    [
        (lambda p: None, {}, "no such file"),
        (lambda p: p.with_suffix(".xlsx").write_text("x"), {}, "unknown format"),
        (lambda p: p.write_text("height,weight\n1,2\n"), {"target": "weigth"}, "did you mean"),
        (lambda p: p.write_text("x,y\n1,2\n2,abc\n"), {}, r"'abc' in column 'y' is not a number"),
        (lambda p: p.write_text("x,y\n"), {}, "no rows"),
        (lambda p: p.write_text("x,x,y\n1,2,3\n"), {}, "more than once"),
    ],
    ids=["missing", "format", "column", "non-numeric", "header-only", "duplicate"],
)
def test_bad_files_get_one_clear_message(tmp_path, make, kwargs, message):
    path = tmp_path / "bad.csv"
    make(path)
    if "format" in message:
        path = path.with_suffix(".xlsx")
    with pytest.raises(InvalidInputError, match=message):
        gradfit.fit(open_source(path, **{"target": "y", **kwargs}))


def test_a_folder_without_parquet_files_is_named(tmp_path):
    with pytest.raises(InvalidInputError, match=r"holds no \.parquet files"):
        open_source(tmp_path, target="y")


def test_a_source_brings_its_own_target(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x,y\n1,2\n2,4\n3,6\n")
    with pytest.raises(InvalidInputError, match="leave out y"):
        gradfit.fit(open_source(path, target="y"), [1.0, 2.0, 3.0])
