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
from gradfit.data import file_table, stream

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
    monkeypatch.setattr(file_table, "BLOCK_BYTES", 4096)  # many record batches
    monkeypatch.setattr(file_table, "PARQUET_BATCH_ROWS", 100)
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

    monkeypatch.setattr(file_table, "BLOCK_BYTES", 8192)
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
    with pytest.raises(
        InvalidInputError,
        match=r"missing values in 'y' \(2 rows\) \(data rows 2, 4\)",
    ):
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
        (
            lambda p: p.write_text("x,y\n1,2\n2,abc\n"),
            {},
            r"column 'y' of .* is not numeric \(data row 2: 'abc'\)",
        ),
        (lambda p: p.write_text("x,y\n"), {}, "no data rows"),
        (lambda p: p.write_text("x,x,y\n1,2,3\n"), {}, "more than one column named 'x'"),
        (
            lambda p: p.write_text("x,y,w\n1,2,1\n2,3,-0.5\n"),
            {"weight": "w"},
            r"a negative weight \(-0.5\) in column 'w'",
        ),
    ],
    ids=["missing", "format", "column", "non-numeric", "header-only", "duplicate", "weight"],
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


# -- mini-batches from files: a seeded shuffle buffer -----------------------------------------


def _epoch(chunks, batch_size, buffer, seed):
    from gradfit.data.batching import cut, streamed_blocks

    rng = None if seed is None else np.random.default_rng(seed)
    return list(cut(streamed_blocks(chunks, batch_size, buffer=buffer, rng=rng), batch_size))


def _row_chunks(n, size):
    from gradfit.data.source import Batch

    rows = np.arange(float(n))
    return [Batch(rows[k : k + size, None], rows[k : k + size], None) for k in range(0, n, size)]


@pytest.mark.parametrize(("n", "size", "batch", "buffer"), [(1000, 64, 32, 200), (97, 10, 8, 13)])
def test_a_shuffle_buffer_visits_every_row_once_in_full_batches(n, size, batch, buffer):
    batches = _epoch(_row_chunks(n, size), batch, buffer, seed=3)
    assert len(batches) == -(-n // batch)
    assert all(len(b.y) == batch for b in batches[:-1])
    seen = np.concatenate([b.y for b in batches])
    assert sorted(seen.tolist()) == list(range(n))  # each row once
    assert not (seen == np.arange(n)).all()  # mixed
    again = np.concatenate([b.y for b in _epoch(_row_chunks(n, size), batch, buffer, seed=3)])
    assert (seen == again).all()  # the seed decides
    other = np.concatenate([b.y for b in _epoch(_row_chunks(n, size), batch, buffer, seed=4)])
    assert not (seen == other).all()


def test_a_shuffle_buffer_mixes_rows_only_a_buffer_apart():
    # what a buffer cannot do: a row of the file's end never comes first
    n, buffer = 10_000, 500
    seen = np.concatenate([b.y for b in _epoch(_row_chunks(n, 100), 50, buffer, seed=0)])
    position = np.empty(n)
    position[seen.astype(int)] = np.arange(n)
    assert np.abs(position - np.arange(n)).max() < 2 * buffer
    # a buffer as large as the file is a full permutation
    whole = np.concatenate([b.y for b in _epoch(_row_chunks(n, 100), 50, n, seed=0)])
    assert np.abs(np.argsort(whole) - np.arange(n)).max() > n / 2


def test_without_shuffle_batches_are_consecutive_rows():
    seen = np.concatenate([b.y for b in _epoch(_row_chunks(100, 7), 16, 1000, seed=None)])
    assert (seen == np.arange(100)).all()


@pytest.mark.parametrize("optimizer", ["svrg"])
def test_mini_batches_stream_a_file_and_reach_least_squares(tmp_path, problem, optimizer):
    X, y = problem
    path = tmp_path / "d.csv"
    write_csv(path, X, y)
    source = open_source(path, target="y", shuffle_buffer=700)
    result = gradfit.fit(
        source, batch_size=64, optimizer=optimizer, standardize=True, random_state=0, tol=1e-6
    )
    w, b = gradfit.least_squares(X, y)
    scale = np.std(y)
    assert np.sqrt(np.mean((X @ (result.w - w) + result.b - b) ** 2)) < 1e-5 * scale
    assert result.state.n_rows == 3000


def test_a_paused_mini_batch_descent_on_a_file_resumes_exactly(tmp_path, problem):
    X, y = problem
    path = tmp_path / "d.csv"
    write_csv(path, X, y)
    options = {"batch_size": 100, "lr": 0.01, "standardize": True, "random_state": 1}
    whole = gradfit.fit(open_source(path, target="y"), max_iter=2, tol=0, **options)
    source = open_source(path, target="y")
    first = gradfit.fit(source, max_steps=45, **options)  # mid-epoch
    rest = gradfit.fit(source, warm_start=first.state, max_iter=2, tol=0, **options)
    np.testing.assert_array_equal(rest.w, whole.w)
    assert rest.b == whole.b


def test_a_file_too_large_to_hold_streams_its_mini_batches(tmp_path, problem, monkeypatch):
    X, y = problem
    path = tmp_path / "d.csv"
    write_csv(path, X, y)
    monkeypatch.setattr(stream, "IN_MEMORY_VALUES", 1000)  # "larger than memory"
    source = open_source(path, target="y")
    with pytest.raises(InvalidInputError, match="too many to hold at once"):
        source.rows(None)
    result = gradfit.fit(source, batch_size=32, optimizer="svrg", standardize=True, random_state=0)
    w, _ = gradfit.least_squares(X, y)
    np.testing.assert_allclose(result.w, w, rtol=1e-4)
    full = gradfit.fit(open_source(path, target="y"))  # full batch: one pass of statistics
    np.testing.assert_allclose(full.w, w, rtol=1e-8)


# -- every front end takes a file source --------------------------------------------------------


def test_gdregressor_explain_and_plots_take_a_file_source(tmp_path, problem):
    import matplotlib

    matplotlib.use("Agg")
    from gradfit import plots

    X, y = problem
    path = tmp_path / "d.parquet"
    names = [f"x{j}" for j in range(4)]
    write_parquet(path, X, y, names)
    w, _b = gradfit.least_squares(X, y)
    est = gradfit.GDRegressor().fit(open_source(path, target="y"))
    np.testing.assert_allclose(est.coef_, w, rtol=1e-8)
    assert list(est.feature_names_in_) == names
    np.testing.assert_allclose(
        est.predict(open_source(path, target="y")), X @ est.coef_ + est.intercept_
    )
    with pytest.raises(InvalidInputError, match="leave out y"):
        gradfit.GDRegressor().fit(open_source(path, target="y"), y)
    from gradfit.explain import explain

    e = explain(open_source(path, target="y"), standardize=True)
    assert e.step == 0 and "x0" in e.to_text()
    result = gradfit.fit(open_source(path, target="y"))
    fig = plots.loss_curve(result, open_source(path, target="y"))
    assert fig.axes[0].get_lines()


def test_polars_frames_fit_by_column_name():
    pl = pytest.importorskip("polars")  # installed by the test extra: never skipped in CI
    frame = pl.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 6.0], "b": [0.0, 1.0, 0.0, 2.0, 1.0]})
    y = pl.Series("y", [1.0, 2.5, 3.0, 5.5, 6.0])
    result = gradfit.fit(frame, y)
    w, _b = gradfit.least_squares(frame.to_numpy(), y.to_numpy())
    np.testing.assert_allclose(result.w, w, rtol=1e-10)
    assert result.model.feature_names == ["a", "b"]
    np.testing.assert_allclose(result.predict(frame.select(["b", "a"])), result.predict(frame))
    est = gradfit.GDRegressor().fit(frame, y)
    assert list(est.feature_names_in_) == ["a", "b"]


# -- reading: what pyarrow says, in gradfit's words -------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("x,y\n1,2\n3,4\n5\n", "line 4: 1 fields where the header has 2"),
        ("", "is empty"),
        ("x,y\n1,2\n1e400,3\n", "1e400 overflows float64"),
        ("x,y\n1,2\n2,-inf\n", "infinite in data row 2"),
    ],
    ids=["ragged", "empty", "overflow", "infinite"],
)
def test_file_problems_are_named(tmp_path, text, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InvalidInputError, match=fragment):
        gradfit.fit(open_source(path, target="y"))


def test_a_single_row_is_said(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("x,y\n1,2\n")
    with pytest.warns(gradfit.RankDeficiencyWarning, match="1 rows for 2 coefficients"):
        result = gradfit.fit(open_source(path, target="y"))
    assert result.predict(np.array([[1.0]]))[0] == pytest.approx(2.0)


# -- what the review found ----------------------------------------------------------------------


def test_a_rewritten_file_is_read_again(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x,y\n" + "".join(f"{i},{2 * i + 1}\n" for i in range(10)))
    source = open_source(path, target="y")
    assert gradfit.fit(source).w.round(9).tolist() == [2.0]
    path.write_text("x,y\n" + "".join(f"{i},{5 - 3 * i}\n" for i in range(20)))
    again = gradfit.fit(source)
    assert again.w.round(9).tolist() == [-3.0] and source.n_rows == 20


def test_rows_of_a_parquet_folder_are_named_within_their_file(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    write_parquet(folder / "a.parquet", np.ones((100, 1)), np.arange(100.0), ["x"])
    bad = np.ones((10, 1))
    bad[3, 0] = np.nan
    write_parquet(folder / "b.parquet", bad, np.arange(10.0), ["x"])
    with pytest.raises(InvalidInputError, match=r"b\.parquet has missing values .*data row 4\)"):
        gradfit.fit(open_source(folder, target="y"))


def test_a_failed_mini_batch_fit_leaves_no_reading_thread(tmp_path, problem):
    import threading

    X, y = problem
    path = tmp_path / "d.csv"
    write_csv(path, X, y)
    with pytest.raises(gradfit.DivergenceError):
        gradfit.fit(open_source(path, target="y"), batch_size=16, lr=1e3, optimizer="gd")
    assert not [t for t in threading.enumerate() if t.name == "gradfit-read-ahead"]


def test_fingerprints_of_centred_columns_do_not_depend_on_chunks(tmp_path, monkeypatch):
    from gradfit import modelfile
    from gradfit.data import file_table

    x = np.linspace(-1.0, 1.0, 2001)  # mean ~1e-17: only rounding
    y = 3.0 * x + 1.0 + np.sin(7.0 * x)
    path = tmp_path / "c.csv"
    path.write_text(
        "x,y\n" + "".join(f"{a!r},{b!r}\n" for a, b in zip(x.tolist(), y.tolist(), strict=True))
    )
    monkeypatch.setattr(file_table, "BLOCK_BYTES", 4096)
    streamed = modelfile.fingerprint(open_source(path, target="y"))
    assert streamed["sha256"] == modelfile.fingerprint(x[:, None], y)["sha256"]
