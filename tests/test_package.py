import subprocess
import sys

import pytest

from gradfit.exceptions import MissingExtraError, require


def test_core_imports_numpy_only():
    code = (
        "import sys, gradfit; heavy = {'sklearn', 'matplotlib', 'pandas', 'scipy', 'rich', "
        "'fastapi', 'pyarrow', 'uvicorn', 'plotly'}; print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_missing_extra_names_the_pip_command():
    with pytest.raises(MissingExtraError, match=r"pip install 'gradfit\[web\]'"):
        require("gradfit_no_such_module", "web")


def test_estimator_is_reachable_lazily():
    import gradfit

    assert gradfit.GDRegressor.__name__ == "GDRegressor"
    with pytest.raises(AttributeError):
        gradfit.NoSuchThing  # noqa: B018
