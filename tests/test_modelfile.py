"""Model files: gradfit.save / gradfit.load, and the CLI's fit -o, predict and summary."""

import json
import os

import numpy as np
import pytest

import gradfit
from gradfit import modelfile
from gradfit.cli import main
from gradfit.modelfile import SavedModel, TrainingRecord, load, save


def _data(n=50, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * [1.0, 10.0, 0.1] + [0.0, 100.0, 5.0]
    y = X @ np.array([1.5, -0.2, 3.0]) + 0.7 + rng.normal(scale=0.1, size=n)
    return X, y


def _fit(**options):
    X, y = _data()
    source = gradfit.ArraySource(X, y, feature_names=["a", "b", "c"], target_name="t")
    return gradfit.fit(source, **options), X, y


@pytest.fixture
def saved(tmp_path):
    result, X, y = _fit()
    path = tmp_path / "m.json"
    save(result, path, options=gradfit.FitOptions(), X=X, y=y)
    return result, X, y, path


def _rewrite(path, change, sign=True):
    """Edit the file's JSON by hand (and sign it again: only the edit is wrong)."""
    payload = json.loads(path.read_text())
    change(payload)
    if sign:
        payload["checksum"] = modelfile._checksum(payload)
    path.write_text(json.dumps(payload))


def _rejects(path, *words):
    with pytest.raises(gradfit.InvalidInputError) as info:
        load(path)
    message = str(info.value)
    for word in words:
        assert word in message, message
    assert str(path) in message and "{file}" not in message
    return message


# -- round trip -------------------------------------------------------------------------


def test_round_trip_is_exact(saved):
    result, X, _, path = saved
    m = load(path)
    assert isinstance(m, SavedModel)
    assert m.model == result.model  # names, scaling, intercept; w bit for bit
    assert m.model.w.tobytes() == result.w.tobytes()
    assert np.float64(m.model.b).tobytes() == np.float64(result.b).tobytes()
    assert m.model.scaling.mean.tobytes() == result.scaling.mean.tobytes()
    assert m.model.scaling.scale.tobytes() == result.scaling.scale.tobytes()
    assert m.model.feature_names == ["a", "b", "c"] and m.model.target_name == "t"
    assert m.predict(X).tobytes() == result.predict(X).tobytes()
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"c": X[:, 2], "a": X[:, 0], "b": X[:, 1], "other": 1.0})
    # by name, in any order (the last bit may differ: BLAS on another memory layout)
    np.testing.assert_allclose(m.predict(frame), result.predict(X), rtol=1e-13)
    r = m.record
    assert r == TrainingRecord.from_report(result.report)
    assert r.n_steps == result.n_steps and r.n_epochs == result.n_epochs
    assert r.stop_code == result.stop.code and r.stop_message == result.stop.message
    assert r.stop.converged and r.converged
    assert r.grad_norm == result.grad_norm and r.gap == result.report.gap
    assert r.optimizer == result.optimizer == "cg"
    assert r.lr == result.lr.lr and isinstance(r.lr, float)
    assert m.gradfit_version == gradfit.__version__
    assert m.created.endswith("+00:00")
    assert m.options == {} and m.not_restorable == ()


def test_awkward_floats_round_trip(tmp_path):
    result, _, _ = _fit()
    w = np.array([0.1 + 0.2, -5e-324, 1.7976931348623157e308 / 3])
    model = gradfit.LinearModel(w, -0.0, ["a", "b", "c"], "t", gradfit.Scaling.identity(3))

    class Result:
        pass

    r = Result()
    r.model, r.report = model, result.report
    save(r, tmp_path / "x.json")
    back = load(tmp_path / "x.json")
    assert back.model.w.tobytes() == w.tobytes()
    assert np.float64(back.model.b).tobytes() == np.float64(-0.0).tobytes()


def test_options_saved_and_marked_not_restorable(tmp_path):
    X, y = _data()
    options = {"lr": gradfit.inverse_scaling(0.1), "max_iter": 20, "tol": 0.0, "gtol": 0.0}
    result = gradfit.fit(X, y, **options)
    save(result, tmp_path / "s.json", options=gradfit.FitOptions(**options))
    m = load(tmp_path / "s.json")
    assert m.options["max_iter"] == 20 and m.options["tol"] == 0.0
    assert m.options["lr"] == repr(gradfit.inverse_scaling(0.1))
    assert m.not_restorable == ("lr",)
    assert "lr" not in m.restorable_options() and m.restorable_options()["max_iter"] == 20
    assert m.record.lr is None and m.record.lr_schedule == repr(result.lr)
    # a Scaling given as standardize= is its repr too
    ok = modelfile._json_options({"standardize": gradfit.Scaling.identity(3), "lr": 0.5})
    assert ok == ({"standardize": repr(gradfit.Scaling.identity(3)), "lr": 0.5}, ["standardize"])


def test_fingerprint_same_for_same_data_and_differs_otherwise(tmp_path, monkeypatch):
    result, X, y = _fit()
    save(result, tmp_path / "a.json", X=X, y=y)
    save(result, tmp_path / "b.json", X=X.copy(), y=y.copy())
    a, b = load(tmp_path / "a.json").data, load(tmp_path / "b.json").data
    assert a == b
    assert a["rows"] == 50 and a["feature_names"] == ["a", "b", "c"] and a["target_name"] == "t"
    assert len(a["sha256"]) == 64
    y2 = y.copy()
    y2[0] += 1e-6 * np.std(y)  # a change in the 7th digit of one value
    assert modelfile.fingerprint(X, y2)["sha256"] != a["sha256"]
    # the same rows read from a file in small record batches: the same digest
    from gradfit.data import file_table

    path = tmp_path / "rows.csv"
    _csv(path, X, y)
    monkeypatch.setattr(file_table, "BLOCK_BYTES", 256)
    assert modelfile.fingerprint(gradfit.open_source(path, target="t"))["sha256"] == a["sha256"]
    assert modelfile.fingerprint(X, y, np.full(50, 2.0))["sha256"] != a["sha256"]
    save(result, tmp_path / "c.json", data_fingerprint=a)
    assert load(tmp_path / "c.json").data == a
    save(result, tmp_path / "d.json")
    assert load(tmp_path / "d.json").data is None


def test_save_refuses_what_it_cannot_write(tmp_path):
    result, X, y = _fit()
    with pytest.raises(gradfit.InvalidInputError, match="result of a fit"):
        save(object(), tmp_path / "x.json")
    with pytest.raises(gradfit.InvalidInputError, match="both X and y"):
        save(result, tmp_path / "x.json", X=X)
    with pytest.raises(gradfit.InvalidInputError, match="rows"):
        save(result, tmp_path / "x.json", X=X, y=y[:-1])
    with pytest.raises(gradfit.InvalidInputError, match="data_fingerprint"):
        save(result, tmp_path / "x.json", data_fingerprint={"rows": 3})
    assert list(tmp_path.iterdir()) == []


def test_summarize_takes_a_saved_model(saved):
    result, X, y, path = saved
    before = gradfit.summarize(result, X, y).to_text()
    after = gradfit.summarize(load(path), X, y).to_text()
    assert after == before


# -- atomic writes ------------------------------------------------------------------------


def test_failed_write_leaves_nothing_and_keeps_an_old_file(saved, monkeypatch):
    result, _, _, path = saved
    old = path.read_bytes()
    real_write = modelfile.atomic_write_text

    def half_then_fail(target, text):
        from gradfit.data.io import atomic_path

        with atomic_path(target) as tmp:
            with open(tmp, "w") as fh:
                fh.write(text[: len(text) // 2])
            raise OSError("disk full")

    monkeypatch.setattr(modelfile, "atomic_write_text", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        save(result, path)
    with pytest.raises(OSError, match="disk full"):
        save(result, path.parent / "new.json")
    assert path.read_bytes() == old
    assert sorted(p.name for p in path.parent.iterdir()) == ["m.json"]

    monkeypatch.setattr(modelfile, "atomic_write_text", real_write)

    def fail(*args, **kwargs):
        raise ValueError("cannot serialize")

    monkeypatch.setattr(modelfile.json, "dumps", fail)
    with pytest.raises(ValueError, match="cannot serialize"):
        save(result, path)
    assert path.read_bytes() == old
    assert sorted(p.name for p in path.parent.iterdir()) == ["m.json"]


# -- rejections ---------------------------------------------------------------------------


def test_rejects_missing_file_and_folder(tmp_path):
    _rejects(tmp_path / "none.json", "no such model file")
    _rejects(tmp_path, "is a folder")


def test_rejects_truncated_and_non_json(saved):
    path = saved[3]
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    _rejects(path, "not valid JSON", "truncated")
    path.write_bytes(b"\xff\xfe\x00garbage")
    _rejects(path, "not valid JSON")


def test_rejects_other_json(tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"w": [1, 2]}')
    _rejects(path, "not a gradfit model file")
    path.write_text("[1, 2, 3]")
    _rejects(path, "not a gradfit model file")


def test_rejects_future_version(saved):
    path = saved[3]
    _rewrite(path, lambda p: p.update(format_version=99))
    _rejects(path, "newer gradfit", "upgrade", "99")
    _rewrite(path, lambda p: p.update(format_version="1"))
    _rejects(path, "format_version")


def test_rejects_edited_coefficient_by_checksum(saved):
    path = saved[3]

    def edit(p):
        p["model"]["w"][0] += 1.0

    _rewrite(path, edit, sign=False)
    _rejects(path, "modified after it was written", "refit or restore")


def test_rejects_missing_and_wrong_typed_fields(saved):
    path = saved[3]
    original = path.read_text()
    path.write_text(original)
    _rewrite(path, lambda p: p.pop("checksum"), sign=False)
    _rejects(path, "no field 'checksum'")
    cases = [
        (lambda p: p["model"].pop("w"), "'model.w'"),
        (lambda p: p["training"].pop("stop_code"), "'training.stop_code'"),
        (lambda p: p["model"]["scaling"].pop("scale"), "'model.scaling.scale'"),
        (lambda p: p["model"].update(w=["1.0", 2.0, 3.0]), "list of numbers"),
        (lambda p: p["model"].update(b=True), "'model.b' must be a number"),
        (lambda p: p["training"].update(n_steps=1.5), "'training.n_steps' must be a whole"),
        (lambda p: p["model"].update(feature_names="abc"), "'model.feature_names'"),
        (lambda p: p["data"].update(sha256="x"), "'data.sha256'"),
    ]
    for change, words in cases:
        path.write_text(original)
        _rewrite(path, change)
        _rejects(path, words)
    path.write_text(original)
    assert load(path).model == saved[0].model


def test_rejects_non_finite_coefficients(saved):
    path = saved[3]
    original = path.read_text()
    for value in (float("nan"), float("inf")):
        path.write_text(original)

        def edit(p, value=value):
            p["model"]["w"][1] = value

        _rewrite(path, edit)
        assert "NaN" in path.read_text() or "Infinity" in path.read_text()
        _rejects(path, "not all finite")
    path.write_text(original)
    _rewrite(path, lambda p: p["model"]["scaling"].update(scale=[1.0, 0.0, 1.0]))
    _rejects(path, "scaling is not finite and positive")


def test_rejects_lengths_that_disagree(saved):
    path = saved[3]
    original = path.read_text()
    for change in (
        lambda p: p["model"]["w"].pop(),
        lambda p: p["model"]["feature_names"].append("d"),
        lambda p: p["model"]["scaling"]["mean"].pop(),
    ):
        path.write_text(original)
        _rewrite(path, change)
        _rejects(path, "lengths disagree", "feature_names")


# -- the command line ---------------------------------------------------------------------


def _same_predictions(got, expected):
    """The file's predictions: those of the model to the last bits (the streamed blocks are
    column-major: BLAS sums each row in another order than on the C-ordered arrays)."""
    assert got.shape == expected.shape
    scale = np.abs(expected).max()
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-14 * scale)


def _csv(path, X, y=None, names=("a", "b", "c"), target="t"):
    header = list(names) + ([] if y is None else [target])
    rows = [
        ",".join(repr(float(v)) for v in [*x, *([] if y is None else [y[i]])])
        for i, x in enumerate(X)
    ]
    path.write_text("\n".join([",".join(header), *rows]) + "\n")


@pytest.fixture
def fitted(tmp_path, capsys):
    X, y = _data()
    data = tmp_path / "train.csv"
    _csv(data, X, y)
    model = tmp_path / "model.json"
    assert main(["fit", str(data), "--target", "t", "-o", str(model)]) == 0
    out = capsys.readouterr().out
    assert f"model written to {model}" in out
    return X, y, data, model


def test_cli_fit_then_predict_csv(fitted, tmp_path, capsys):
    X, _, data, model = fitted
    saved = load(model)
    assert saved.data == modelfile.fingerprint(
        X, fitted[1], feature_names=["a", "b", "c"], target_name="t"
    )
    new = tmp_path / "new.csv"
    Xn = X[:7][:, [2, 0, 1]] * 1.5  # other rows, columns in another order, no target
    _csv(new, Xn, names=("c", "a", "b"))
    out = tmp_path / "pred.csv"
    assert main(["predict", str(model), str(new), "-o", str(out)]) == 0
    assert "7 predictions of t written to" in capsys.readouterr().out
    lines = out.read_text().splitlines()
    assert lines[0] == "predicted_t" and len(lines) == 8
    expected = saved.model.predict(np.ascontiguousarray(Xn[:, [1, 2, 0]]))
    _same_predictions(np.array([float(v) for v in lines[1:]]), expected)
    # without -o: CSV on stdout
    assert main(["predict", str(model), str(data)]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown[0] == "predicted_t" and len(shown) == 51
    _same_predictions(np.array([float(v) for v in shown[1:]]), saved.predict(X))


def test_cli_predict_parquet(fitted, tmp_path, capsys):
    pq = pytest.importorskip("pyarrow.parquet")
    X, _, data, model = fitted
    out = tmp_path / "pred.parquet"
    assert main(["predict", str(model), str(data), "-o", str(out)]) == 0
    table = pq.read_table(out)
    assert table.column_names == ["predicted_t"]
    got = np.asarray(table.column(0).to_pylist())
    _same_predictions(got, load(model).predict(X))


def test_cli_predict_parquet_without_pyarrow(fitted, tmp_path, capsys, monkeypatch):
    import gradfit.cli_models as cli  # where the model-file commands live

    def missing(module, extra):
        raise gradfit.MissingExtraError(f"{module} is needed: pip install 'gradfit[{extra}]'")

    monkeypatch.setattr(cli, "require", missing)
    out = tmp_path / "p.parquet"
    assert main(["predict", str(fitted[3]), str(fitted[2]), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install" in err[0]
    assert not out.exists()


def test_cli_summary_prints_the_table(fitted, capsys):
    X, y, data, model = fitted
    assert main(["summary", str(model), str(data)]) == 0
    out = capsys.readouterr().out
    assert "OLS regression results (gradfit)" in out and "Dep. variable:" in out
    assert "b (intercept)" in out and "Optimization:" in out
    expected = gradfit.summarize(load(model), X, y).to_text()
    assert out.rstrip("\n").endswith(expected.splitlines()[-1])
    assert main(["summary", str(model), str(data), "--target", "a"]) == 2
    assert "features" in capsys.readouterr().err


def _one_error(capsys, *words):
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gradfit: error: "), captured.err
    for word in words:
        assert word in err[0], err[0]


def test_cli_bad_inputs_exit_2_with_one_line(fitted, tmp_path, capsys):
    _, _, data, model = fitted
    before = sorted(p.name for p in tmp_path.iterdir())
    # missing columns, with close names suggested
    bad = tmp_path / "bad.csv"
    bad.write_text("aa,b,x\n1,2,3\n")
    before.append("bad.csv")
    out = tmp_path / "p.csv"
    assert main(["predict", str(model), str(bad), "-o", str(out)]) == 2
    _one_error(capsys, "'a'", "'c'", "did you mean 'aa'")
    # wrong extensions: checked before any work
    assert main(["predict", str(model), str(data), "-o", str(tmp_path / "p.txt")]) == 2
    _one_error(capsys, ".csv or .parquet")
    assert main(["fit", str(data), "--target", "t", "-o", str(tmp_path / "m.txt")]) == 2
    _one_error(capsys, ".json")
    assert capsys.readouterr().out == ""
    # not a model file
    other = tmp_path / "other.json"
    other.write_text('{"a": 1}')
    before.append("other.json")
    assert main(["predict", str(other), str(data), "-o", str(out)]) == 2
    _one_error(capsys, "not a gradfit model file")
    assert main(["summary", str(other), str(data)]) == 2
    _one_error(capsys, "not a gradfit model file")
    # a model file that was edited
    _rewrite(model, lambda p: p["model"].update(b=p["model"]["b"] + 1), sign=False)
    assert main(["predict", str(model), str(data), "-o", str(out)]) == 2
    _one_error(capsys, "modified after it was written")
    assert main(["predict", str(tmp_path / "none.json"), str(data)]) == 2
    _one_error(capsys, "no such model file")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(before)


def test_cli_shipped_data_set(tmp_path, capsys):
    model = tmp_path / "davis.json"
    assert main(["fit", "davis", "-o", str(model)]) == 0
    assert main(["predict", str(model), "davis", "-o", str(tmp_path / "p.csv")]) == 0
    d = gradfit.load_dataset("davis")
    got = np.loadtxt(tmp_path / "p.csv", skiprows=1)
    _same_predictions(got, load(model).predict(d.X))
    assert main(["summary", str(model), "davis"]) == 0
    assert "weight" in capsys.readouterr().out
    assert os.path.getsize(model) > 0


def test_a_penalized_fit_is_saved_as_one(tmp_path):
    """The objective a fit minimised travels with it: a loaded lasso is no least-squares
    fit to its summary (no standard errors), and its options say how to refit it."""
    import gradfit

    d = gradfit.load_dataset("bdims")
    r = gradfit.fit(d.X, d.y, penalty="l1", alpha=0.5)
    path = gradfit.save(
        r, tmp_path / "lasso.json", X=d.X, y=d.y, options={"penalty": "l1", "alpha": 0.5}
    )
    m = gradfit.load(path)
    assert m.record.objective == "lasso (alpha=0.5)"
    assert m.restorable_options() == {"penalty": "l1", "alpha": 0.5}
    s = gradfit.summarize(m, d.X, d.y)
    assert "not a least-squares fit (lasso (alpha=0.5))" in s.not_applicable["bse"]
    np.testing.assert_array_equal(m.model.w, r.w)
