"""Dask arrays and DataFrames on a real LocalCluster (worker processes on 127.0.0.1):
statistics reduced on the workers equal the in-memory fit, mini-batches go partition by
partition, data larger than a worker's memory limit still fits, and ``--dask`` on the
command line starts and stops its own cluster."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import gradfit
from gradfit import InvalidInputError

da = pytest.importorskip("dask.array")  # installed by the test extra: never skipped in CI
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            local_directory=str(tmp_path_factory.mktemp("dask")),
            memory_limit="600MB",  # a worker process takes about 300 MB before any task
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        assert all(addr.startswith("tcp://127.0.0.1:") for addr in c.scheduler_info()["workers"])
        yield c


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(5)
    n = 20_000
    X = rng.normal(size=(n, 4)) * [1, 10, 100, 0.1] + [5, -50, 0, 1]
    y = X @ [1.5, -2.0, 0.25, 4.0] + 3.0 + rng.normal(size=n)
    w = rng.uniform(0.5, 2.0, n)
    return X, y, w


def test_full_batch_on_dask_arrays_equals_the_in_memory_fit(client, problem):
    X, y, _ = problem
    result = gradfit.fit(da.from_array(X, chunks=3000), da.from_array(y, chunks=3000))
    memory = gradfit.fit(X, y)
    scale = np.abs(memory.w).max()
    assert np.abs(result.w - memory.w).max() <= 1e-10 * scale
    assert result.b == pytest.approx(memory.b, rel=1e-10)
    w_ref, _b_ref = gradfit.least_squares(X, y)
    np.testing.assert_allclose(result.w, w_ref, rtol=1e-9)


def test_only_statistics_travel(client, problem):
    from gradfit.data.dask_source import DaskSource
    from gradfit.model.stats import SufficientStats

    X, y, _ = problem
    source = DaskSource(da.from_array(X, chunks=2500), da.from_array(y, chunks=2500))
    assert source.n_partitions == 8
    returned = source.map_reduce(
        lambda b: SufficientStats.from_arrays(b.X, b.y, b.weight), SufficientStats.merge
    )
    direct = SufficientStats.from_arrays(X, y)
    np.testing.assert_allclose(returned.Sxx, direct.Sxx, atol=1e-12 * np.abs(direct.Sxx).max())
    assert returned.weight == len(y)


def test_dask_dataframes_with_weights_and_names(client, problem):
    import pandas as pd

    X, y, w = problem
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"]).assign(y=y, w=w)
    ddf = dd.from_pandas(frame, npartitions=5)
    result = gradfit.fit(ddf[["a", "b", "c", "d"]], ddf["y"], sample_weight=ddf["w"])
    memory = gradfit.fit(X, y, sample_weight=w)
    np.testing.assert_allclose(result.w, memory.w, rtol=1e-10)
    assert result.model.feature_names == ["a", "b", "c", "d"]
    est = gradfit.GDRegressor().fit(ddf[["a", "b", "c", "d"]], ddf["y"])
    np.testing.assert_allclose(est.coef_, gradfit.least_squares(X, y)[0], rtol=1e-9)
    assert list(est.feature_names_in_) == ["a", "b", "c", "d"]


def test_mini_batches_go_partition_by_partition(client, problem):
    X, y, _ = problem
    dX, dy = da.from_array(X, chunks=4000), da.from_array(y, chunks=4000)
    result = gradfit.fit(dX, dy, batch_size=128, standardize=True, random_state=0, tol=1e-6)
    assert result.optimizer == "svrg"
    w_ref, b_ref = gradfit.least_squares(X, y)
    rms = np.sqrt(np.mean((X @ (result.w - w_ref) + result.b - b_ref) ** 2))
    assert rms < 1e-5 * np.std(y)
    from gradfit.data.dask_source import DaskSource

    source = DaskSource(dX, dy, shuffle_buffer=1000)
    first = [b.y for b in source.batches(128, shuffle=True, seed=3, epoch=0)]
    again = [b.y for b in source.batches(128, shuffle=True, seed=3, epoch=0)]
    other = [b.y for b in source.batches(128, shuffle=True, seed=3, epoch=1)]
    assert len(first) == -(-len(y) // 128)
    assert all((a == b).all() for a, b in zip(first, again, strict=True))  # the seed decides
    assert not all((a == b).all() for a, b in zip(first, other, strict=True))
    assert sorted(np.concatenate(first)) == sorted(y)  # every row once an epoch


def test_data_larger_than_a_workers_memory_limit_still_fits(client):
    # 8.4M rows x 10 columns = 672 MB of X (and 67 MB of y), on workers limited to 600 MB
    # each: only a few partitions at a time live anywhere, and only statistics come back
    n = 8_400_000
    state = da.random.RandomState(1)
    X = state.normal(size=(n, 10), chunks=(300_000, 10))
    w = np.arange(1.0, 11.0)
    y = X @ w + 2.0 + state.normal(size=n, chunks=300_000) * 0.1
    assert X.nbytes > 600e6
    result = gradfit.fit(X, y)
    assert result.stop.code.startswith("converged")
    np.testing.assert_allclose(result.w, w, atol=1e-3)


def test_nan_in_a_partition_is_one_clear_error(client):
    X = np.ones((100, 2))
    X[:, 1] = np.arange(100.0)
    X[57, 0] = np.nan
    with pytest.raises(InvalidInputError, match="NaN or infinite"):
        gradfit.fit(da.from_array(X, chunks=25), da.from_array(np.arange(100.0), chunks=25))


def test_mismatched_rows_and_names_are_errors():
    X = da.from_array(np.ones((10, 2)), chunks=5)
    with pytest.raises(InvalidInputError, match="X has 10 rows and y 9"):
        gradfit.fit(X, da.from_array(np.ones(9), chunks=5))
    with pytest.raises(InvalidInputError, match="not a dask array"):
        gradfit.fit(X, np.ones(10))


def _cli(*args, timeout=240):
    return subprocess.run(
        [sys.executable, "-m", "gradfit.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_cli_dask_local_starts_and_stops_its_own_cluster(tmp_path, problem):
    import pandas as pd

    X, y, _ = problem
    path = tmp_path / "d.parquet"
    pd.DataFrame(X, columns=["a", "b", "c", "d"]).assign(y=y).to_parquet(path)
    local = _cli("fit", str(path), "--target", "y", "-o", str(tmp_path / "local.json"))
    on_cluster = _cli(
        "fit", str(path), "--target", "y", "--dask", "local:2", "-o", str(tmp_path / "d.json")
    )
    assert on_cluster.returncode == 0, on_cluster.stderr
    assert "Traceback" not in on_cluster.stderr
    coef = [
        json.loads((tmp_path / name).read_text())["model"]["w"] for name in ("local.json", "d.json")
    ]
    np.testing.assert_allclose(coef[1], coef[0], rtol=1e-10)
    assert local.stdout.splitlines()[0] == on_cluster.stdout.splitlines()[0]


def test_cli_dask_uses_a_running_scheduler(client, tmp_path, problem):
    X, y, _ = problem
    path = tmp_path / "d.csv"
    path.write_text(
        "a,b,c,d,y\n"
        + "".join(
            ",".join(repr(float(v)) for v in [*x, t]) + "\n" for x, t in zip(X, y, strict=True)
        )
    )
    address = client.scheduler.address
    assert address.startswith("tcp://127.0.0.1:")
    out = _cli("fit", str(path), "--target", "y", "--dask", address, "-o", str(tmp_path / "m.json"))
    assert out.returncode == 0, out.stderr
    coef, _ = gradfit.least_squares(X, y)
    np.testing.assert_allclose(
        json.loads((tmp_path / "m.json").read_text())["model"]["w"], coef, rtol=1e-9
    )


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("local", "--dask must be local:N"),
        ("local:0", "needs 1 to 256 workers"),
        ("tcp://127.0.0.1:9", "cannot reach the Dask scheduler at tcp://127.0.0.1:9"),
    ],
)
def test_cli_bad_dask_spec_is_one_line_exit_2(tmp_path, spec, fragment):
    path = tmp_path / "d.csv"
    path.write_text("x,y\n1,2\n2,4\n3,7\n")
    out = _cli("fit", str(path), "--target", "y", "--dask", spec, timeout=120)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], out.stderr


def test_a_folder_of_parquet_files_on_the_cluster(client, problem, tmp_path):
    import pandas as pd

    from gradfit.cli_dask import dask_source

    X, y, w = problem
    folder = tmp_path / "parts"
    folder.mkdir()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"]).assign(y=y, w=w)
    for k, rows in enumerate(np.array_split(np.arange(len(y)), 4)):
        frame.iloc[rows].to_parquet(folder / f"part-{k}.parquet")
    rows = gradfit.open_source(folder, target="y", weight="w")
    source = dask_source(rows)  # the columns the file source chose, read by dask
    assert source.feature_names == ["a", "b", "c", "d"] and source.target_name == "y"
    result = gradfit.fit(source)
    np.testing.assert_allclose(result.w, gradfit.fit(X, y, sample_weight=w).w, rtol=1e-10)


def test_predictions_on_dask_collections_stay_lazy(client, problem):
    import pandas as pd

    X, y, _ = problem
    ddf = dd.from_pandas(pd.DataFrame(X, columns=["a", "b", "c", "d"]).assign(y=y), npartitions=3)
    est = gradfit.GDRegressor().fit(ddf[["a", "b", "c", "d"]], ddf["y"])
    predicted = est.predict(ddf[["a", "b", "c", "d"]])
    assert hasattr(predicted, "dask")  # not computed yet
    np.testing.assert_allclose(predicted.compute(), X @ est.coef_ + est.intercept_, rtol=1e-12)


def test_nan_names_its_column(client):
    import pandas as pd

    frame = pd.DataFrame({"a": np.arange(40.0), "b": np.ones(40), "y": np.arange(40.0)})
    frame.loc[30, "b"] = np.nan
    ddf = dd.from_pandas(frame, npartitions=4)
    with pytest.raises(InvalidInputError, match="NaN or infinite values in column 'b'"):
        gradfit.fit(ddf[["a", "b"]], ddf["y"])


def test_a_partition_left_empty_by_dropna_adds_nothing(client):
    import pandas as pd

    x = np.arange(40.0)
    frame = pd.DataFrame({"x": x, "y": 2.0 * x + 1.0})
    frame.loc[10:19, "y"] = np.nan  # the whole second partition
    ddf = dd.from_pandas(frame, npartitions=4).dropna()
    result = gradfit.fit(ddf[["x"]], ddf["y"])
    assert result.w.round(9).tolist() == [2.0] and round(result.b, 9) == 1.0


def test_a_weight_column_on_the_cluster_keeps_its_name(client, problem, tmp_path):
    import pandas as pd

    from gradfit.cli_dask import dask_source

    X, y, w = problem
    path = tmp_path / "d.parquet"
    pd.DataFrame(X, columns=["a", "b", "c", "d"]).assign(y=y, wt=w).to_parquet(path)
    source = dask_source(gradfit.open_source(path, target="y", weight="wt"))
    assert source.weight_name == "wt"
    assert gradfit.modelfile.fingerprint(source)["weight_name"] == "wt"


def test_projections_of_a_parquet_folder_partitioned_otherwise(client, tmp_path):
    import pandas as pd

    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 3))
    y = X @ [1.0, 2.0, 3.0] + 4.0
    folder = tmp_path / "parts"
    folder.mkdir()
    for k, rows in enumerate(np.array_split(np.arange(4000), 4)):
        part = pd.DataFrame(X[rows], columns=["a", "b", "c"]).assign(y=y[rows], w=1.0)
        part.to_parquet(folder / f"p{k}.parquet")
    ddf = dd.read_parquet(str(folder))  # dask may fuse the small files of a projection
    result = gradfit.fit(ddf[["a", "b", "c"]], ddf["y"], sample_weight=ddf["w"])
    np.testing.assert_allclose(result.w, [1.0, 2.0, 3.0], rtol=1e-10)
