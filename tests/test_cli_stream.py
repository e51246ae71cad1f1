"""The command line on data files: streamed fits with weights and missing rows,
streamed predictions that read back exactly, the progress bar and ``--quiet``, and
nothing half-written when a file turns bad half-way."""

from __future__ import annotations

import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import gradfit
from gradfit.cli import main
from gradfit.cli_progress import progress_bar
from gradfit.data import file_table
from gradfit.data.file_table import FileTable
from gradfit.modelfile import load


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(11)
    n = 4000
    X = rng.normal(size=(n, 3)) * [1.0, 20.0, 0.5] + [3.0, -40.0, 0.0]
    y = X @ [2.0, -0.5, 4.0] + 7.0 + rng.normal(size=n)
    w = rng.uniform(0.1, 3.0, n)
    path = tmp_path / "train.csv"
    table = pa.table({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "t": y, "w": w})
    pacsv.write_csv(table, path)
    return X, y, w, path


def _coef(model_path):
    payload = json.loads(model_path.read_text())
    return np.array(payload["model"]["w"]), payload["model"]["b"]


def test_a_weight_column_fits_weighted_least_squares(data, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(file_table, "BLOCK_BYTES", 8192)  # many record batches
    statsmodels = pytest.importorskip("statsmodels.api")
    X, y, w, path = data
    model = tmp_path / "m.json"
    args = ["fit", str(path), "--target", "t", "--features", "a", "b", "c", "--weight", "w"]
    assert main([*args, "-o", str(model)]) == 0
    out = capsys.readouterr().out
    reference = statsmodels.WLS(y, statsmodels.add_constant(X), weights=w).fit()
    coef, b = _coef(model)
    np.testing.assert_allclose(coef, reference.params[1:], rtol=1e-9)
    assert b == pytest.approx(reference.params[0], rel=1e-9)
    assert f"R-squared:{reference.rsquared:>21.4f}"[-6:] in out
    # the default features leave the weight column out
    assert main(["fit", str(path), "--target", "t", "--weight", "w", "-o", str(model)]) == 0
    assert load(model).model.feature_names == ["a", "b", "c"]


def test_drop_missing_skips_and_counts_rows(tmp_path, capsys):
    path = tmp_path / "gaps.csv"
    path.write_text("x,y\n1,3\n2,\n3,7\nnan,9\n5,11\n6,13\n")
    assert main(["fit", str(path), "--target", "y"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "data rows 2, 4" in err[0]
    assert "or skip such rows with --drop-missing" in err[0] and "drop_missing=True" not in err[0]
    assert main(["fit", str(path), "--target", "y", "--drop-missing"]) == 0
    captured = capsys.readouterr()
    assert "skipped 2 rows with missing, NaN or infinite values (--drop-missing); fitted on 4" in (
        captured.err
    )
    assert captured.out.startswith("y = 2 * x + 1")


def test_predict_streams_and_reads_back_exactly(data, tmp_path, capsys, monkeypatch):
    X, y, _, path = data
    model = tmp_path / "m.json"
    assert (
        main(["fit", str(path), "--target", "t", "--features", "a", "b", "c", "-o", str(model)])
        == 0
    )
    monkeypatch.setattr(file_table, "BLOCK_BYTES", 4096)
    out = tmp_path / "p.csv"
    assert main(["predict", str(model), str(path), "-o", str(out), "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    lines = out.read_text().splitlines()
    assert lines[0] == "predicted_t" and len(lines) == len(y) + 1
    got = np.array([float(v) for v in lines[1:]])
    expected = load(model).predict(X)
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-14 * np.abs(expected).max())
    # and what was written reads back exactly: pyarrow writes the shortest round-trip digits
    values = np.random.default_rng(0).normal(size=600) * 10.0 ** np.arange(-300, 300)
    table = tmp_path / "exact.csv"
    pacsv.write_csv(pa.table({"v": values}), table)
    assert (pacsv.read_csv(table).column(0).to_numpy() == values).all()


def test_a_bad_row_half_way_leaves_no_output(data, tmp_path, capsys, monkeypatch):
    _X, _y, _, path = data
    model = tmp_path / "m.json"
    assert (
        main(["fit", str(path), "--target", "t", "--features", "a", "b", "c", "-o", str(model)])
        == 0
    )
    capsys.readouterr()
    monkeypatch.setattr(file_table, "BLOCK_BYTES", 4096)
    text = path.read_text().splitlines()
    text[3000] = "oops," + text[3000].split(",", 1)[1]
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(text) + "\n")
    for name in ("p.csv", "p.parquet"):
        assert main(["predict", str(model), str(bad), "-o", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "data row 3000: 'oops'" in err[0] and "column 'a'" in err[0]
        assert not (tmp_path / name).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "m.json", "train.csv"]
    # --drop-missing does not hide a value that is not a number
    assert main(["predict", str(model), str(bad), "--drop-missing"]) == 2


def test_predict_needs_the_models_columns_by_name(data, tmp_path, capsys):
    X, _y, _, path = data
    model = tmp_path / "m.json"
    assert main(["fit", str(path), "--target", "t", "--features", "a", "b", "-o", str(model)]) == 0
    capsys.readouterr()
    other = tmp_path / "other.parquet"
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"b": X[:5, 1], "x": X[:5, 0]}), other)
    assert main(["predict", str(model), str(other)]) == 2
    err = capsys.readouterr().err
    assert "has no column 'a' of the model's features" in err


def test_progress_bar_counts_rows_per_second(data, monkeypatch):
    from rich.console import Console

    import gradfit.cli_progress

    clock = iter(np.arange(0.0, 1e4, 0.1))  # every batch takes 0.1 s
    monkeypatch.setattr(gradfit.cli_progress.time, "perf_counter", lambda: next(clock))

    _, _, _, path = data
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    table = FileTable(path)
    with progress_bar(table, "reading", console=console) as bar:
        assert bar is not None
        for _ in table.blocks(["a", "t"]):
            pass
        bar.fit_step(gradfit.train.events.Progress(3, 3, 0.5, 0.1, 100))
    shown = screen.getvalue()
    assert "rows/s" in shown and "reading" in shown
    assert table.on_progress is None  # unhooked after


def test_no_bar_when_quiet_or_not_a_terminal(data, capsys):
    _, _, _, path = data
    with progress_bar(FileTable(path), "reading", quiet=True) as bar:
        assert bar is None
    with progress_bar(FileTable(path), "reading") as bar:  # pytest's stderr: no terminal
        assert bar is None
    assert main(["fit", str(path), "--target", "t"]) == 0
    assert capsys.readouterr().err == ""


def test_summary_streams_its_file(data, tmp_path, capsys):
    X, y, _, path = data
    model = tmp_path / "m.json"
    assert (
        main(["fit", str(path), "--target", "t", "--features", "a", "b", "c", "-o", str(model)])
        == 0
    )
    capsys.readouterr()
    assert main(["summary", str(model), str(path), "--quiet"]) == 0
    out = capsys.readouterr().out
    expected = gradfit.summarize(load(model), X, y).to_text()
    for line in expected.splitlines()[2:12]:  # the same statistics as from the arrays
        assert line in out


def test_predict_keeps_rows_with_missing_values_in_place(data, tmp_path, capsys):
    _X, _, _, path = data
    model = tmp_path / "m.json"
    assert (
        main(["fit", str(path), "--target", "t", "--features", "a", "b", "c", "-o", str(model)])
        == 0
    )
    capsys.readouterr()
    gaps = tmp_path / "gaps.csv"
    gaps.write_text("a,b,c\n1,2,3\n,2,3\n4,5,inf\n7,8,9\n")
    out = tmp_path / "p.csv"
    assert main(["predict", str(model), str(gaps), "-o", str(out), "--drop-missing"]) == 0
    assert "2 rows with missing, NaN or infinite values" in capsys.readouterr().err
    lines = out.read_text().splitlines()
    assert lines[0] == "predicted_t" and lines[2] == "" and lines[3] == "" and len(lines) == 5
    expected = load(model).predict(np.array([[1.0, 2, 3], [7, 8, 9]]))
    assert [float(lines[1]), float(lines[4])] == expected.tolist()


def test_a_weighted_model_is_summarized_with_its_weights(data, tmp_path, capsys):
    statsmodels = pytest.importorskip("statsmodels.api")
    X, y, w, path = data
    model = tmp_path / "m.json"
    args = ["fit", str(path), "--target", "t", "--weight", "w", "--features", "a", "b", "c"]
    assert main([*args, "-o", str(model)]) == 0
    assert load(model).data["weight_name"] == "w"
    capsys.readouterr()
    assert main(["summary", str(model), str(path)]) == 0
    out = capsys.readouterr().out
    reference = statsmodels.WLS(y, statsmodels.add_constant(X), weights=w).fit()
    assert f"{reference.rsquared:.4f}" in out


def test_shuffle_buffer_needs_a_batch_size(data, capsys):
    _, _, _, path = data
    assert main(["fit", str(path), "--target", "t", "--shuffle-buffer", "100"]) == 2
    assert "give --batch-size too" in capsys.readouterr().err


def test_progress_bar_starts_each_pass_afresh(data):
    from rich.console import Console

    _, _, _, path = data
    screen = io.StringIO()
    table = FileTable(path)
    with progress_bar(table, "reading", console=Console(file=screen, force_terminal=True)):
        for _ in range(2):
            for _ in table.blocks(["a", "t"]):
                pass
    assert "reading, pass 2" in screen.getvalue()


def test_file_rows_without_a_target_serve_predictions(data, tmp_path):
    X, _y, _, path = data
    est = gradfit.GDRegressor().fit(gradfit.open_source(path, target="t", features=["a", "b"]))
    new = tmp_path / "new.csv"
    pacsv.write_csv(pa.table({"b": X[:10, 1], "z": X[:10, 2], "a": X[:10, 0]}), new)
    rows = gradfit.open_source(new)  # no target: the model's features, by name
    np.testing.assert_allclose(est.predict(rows), X[:10, :2] @ est.coef_ + est.intercept_)
    with pytest.raises(gradfit.InvalidInputError, match="opened without a target"):
        gradfit.fit(rows)
    with pytest.raises(gradfit.InvalidInputError, match="has no column 'a'"):
        est.predict(gradfit.open_source(_only_b(tmp_path, X)))


def _only_b(tmp_path, X):
    path = tmp_path / "only_b.csv"
    pacsv.write_csv(pa.table({"b": X[:3, 1]}), path)
    return path


def test_a_column_of_numbers_with_a_typo_is_named_not_dropped(tmp_path, capsys):
    path = tmp_path / "typo.csv"
    path.write_text("a,b,y\n1,2,3\n4,5,6\n6,x7,9\n1,1,1\n")
    assert main(["fit", str(path), "--target", "y"]) == 2
    err = capsys.readouterr().err
    assert "column 'b'" in err and "data row 3: 'x7'" in err
    assert main(["fit", str(path), "--target", "Y"]) == 2
    assert "(did you mean 'y'?)" in capsys.readouterr().err


def test_saving_into_a_missing_folder_says_so(tmp_path):
    result = gradfit.fit(np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0]))
    with pytest.raises(gradfit.InvalidInputError, match="does not exist: create it first"):
        gradfit.save(result, tmp_path / "nowhere" / "m.json")


def test_progress_bar_over_a_compressed_file(tmp_path):
    import gzip

    from rich.console import Console

    path = tmp_path / "d.csv.gz"
    path.write_bytes(
        gzip.compress(b"x,y\n" + b"".join(b"%d,%d\n" % (i, 2 * i) for i in range(500)))
    )
    screen = io.StringIO()
    table = FileTable(path)
    with progress_bar(table, "reading", console=Console(file=screen, force_terminal=True)):
        rows = sum(len(block) for block in table.blocks(["x", "y"]))
    assert rows == 500 and "reading" in screen.getvalue()
