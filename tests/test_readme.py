"""README.md's Python examples run as written, in order, in one namespace."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 3
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    done, paused = namespace["done"], namespace["paused"]
    assert done.converged and done.n_steps > paused.n_steps  # type: ignore[attr-defined]
    points = namespace["points"]
    assert [p.diverged for p in points] == [False, False, True]  # type: ignore[attr-defined]
