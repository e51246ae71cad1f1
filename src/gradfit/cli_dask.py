"""``--dask``: the command's rows on a Dask cluster (one started here, or one running).

``local:N`` starts a ``LocalCluster`` of N worker processes on 127.0.0.1 (its dashboard
on loopback too) for the length of the command; ``tcp://HOST:PORT`` connects to a
running scheduler. The data file is read by ``dask.dataframe`` on the workers, in
partitions: only the sufficient statistics come back.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import numpy as np

from gradfit.data.dask_source import DaskSource
from gradfit.data.stream import FileSource
from gradfit.exceptions import InvalidInputError, require

__all__ = ["DASK_HELP", "dask_client", "dask_source"]

DASK_HELP = (
    "fit on a Dask cluster: local:N starts N worker processes on 127.0.0.1 for this "
    "command; tcp://HOST:PORT uses a running scheduler"
)
_LOCAL = re.compile(r"local:(\d+)")
_SCHEDULER = re.compile(r"tcp://([^:/\s]+):(\d+)")


@contextmanager
def dask_client(spec: str | None) -> Iterator[Any]:
    """A ``distributed.Client`` for ``--dask`` (None: no cluster), closed on exit."""
    if spec is None:
        yield None
        return
    local, remote = _LOCAL.fullmatch(spec), _SCHEDULER.fullmatch(spec)
    if not (local or (remote and 1 <= int(remote[2]) <= 65535)):
        raise InvalidInputError(
            f"--dask must be local:N (N worker processes here) or tcp://HOST:PORT (a running "
            f"scheduler, PORT from 1 to 65535), got {spec!r}"
        )
    distributed = require("distributed", "dask")
    with ExitStack() as stack:
        if local:
            workers = int(local[1])
            if not 1 <= workers <= 256:
                raise InvalidInputError(f"--dask local:N needs 1 to 256 workers, got {workers}")
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="gradfit-dask-"))
            cluster = stack.enter_context(
                distributed.LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",
                    local_directory=folder,
                )
            )
            client = stack.enter_context(distributed.Client(cluster))
        else:
            try:
                client = stack.enter_context(distributed.Client(spec, timeout="10s"))
            except (OSError, TimeoutError) as exc:
                raise InvalidInputError(
                    f"cannot reach the Dask scheduler at {spec} ({exc}): start one (dask "
                    "scheduler), or use --dask local:N"
                ) from None
        yield client


def dask_source(rows: FileSource) -> DaskSource:
    """The columns ``rows`` chose, read by ``dask.dataframe`` in partitions."""
    dd = require("dask.dataframe", "dask")
    names = [*rows.feature_names, rows.target_name]
    if rows.weight_name:
        names.append(rows.weight_name)
    path = str(rows.path)
    if rows.table.format == "parquet":
        frame = dd.read_parquet(path, columns=names)
    else:
        frame = dd.read_csv(
            path,
            usecols=names,
            dtype=dict.fromkeys(names, "float64"),
            blocksize=None if path.endswith(".gz") else "64MB",
        )
    frame = frame[names]
    if rows.drop_missing:  # missing, NaN and infinite values, as FileSource skips them
        frame = frame.replace([np.inf, -np.inf], np.nan).dropna()
    # one array of every used column: features, target and weights partitioned alike
    try:
        values = frame.to_dask_array().compute_chunk_sizes()
    except ValueError as exc:  # pandas on a worker: a value that is not a number
        detail = " ".join(str(exc).split())[:200]
        raise InvalidInputError(
            f"{rows.table.shown} cannot be read as numbers on the cluster ({detail}): fix the "
            "value, or choose numeric columns"
        ) from None
    d = len(rows.feature_names)
    return DaskSource(
        values[:, :d],
        values[:, d],
        sample_weight=values[:, d + 1] if rows.weight_name else None,
        feature_names=rows.feature_names,
        target_name=rows.target_name,
        weight_name=rows.weight_name,
        shuffle_buffer=rows.shuffle_buffer,
    )
