"""README.md's Python examples run as written, in order, in one namespace."""

import re
import warnings
from pathlib import Path

import pytest

from gradfit.exceptions import ConvergenceWarning

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples write their files here
    text = README.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 3
    namespace: dict[str, object] = {}
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for block in blocks:
            exec(compile(block, str(README), "exec"), namespace)
    # the one warning the README shows, and no other
    assert [w.category for w in seen] == [ConvergenceWarning]
    assert "Try optimizer='svrg'" in str(seen[0].message)
    r = namespace["r"]
    assert r.stop.message.startswith("converged: predictions within")  # type: ignore[attr-defined]
    assert r.report.gap < 1e-13 and r.n_steps == 1 and r.optimizer == "cg"  # type: ignore[attr-defined]
    done, paused = namespace["done"], namespace["paused"]
    assert done.converged and done.n_steps > paused.n_steps  # type: ignore[attr-defined]
    assert namespace["source"].n_rows == 50  # type: ignore[attr-defined]
    batches = namespace["batches"]
    assert batches.converged and batches.optimizer == "svrg"  # type: ignore[attr-defined]
    assert batches.w[0] == pytest.approx(2.0, rel=1e-8)  # type: ignore[attr-defined]
    points = namespace["points"]
    assert [p.diverged for p in points] == [False, False, True]  # type: ignore[attr-defined]
    lasso, path, huber = namespace["lasso"], namespace["path"], namespace["huber"]
    assert int((lasso.w == 0).sum()) == 10  # type: ignore[attr-defined]
    assert path.alpha_max == pytest.approx(132.6, abs=0.05)  # type: ignore[attr-defined]
    assert path.nonzero()[:4].tolist() == [0, 1, 1, 1]  # type: ignore[attr-defined]
    assert huber.w[0] == pytest.approx(1.057, abs=5e-4)  # type: ignore[attr-defined]
    assert namespace["net"].optimizer_ == "fista"  # type: ignore[attr-defined]
