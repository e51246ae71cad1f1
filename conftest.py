"""Loaded first by pytest, before SciPy or scikit-learn is imported."""

import os

# scikit-learn's array-API conformance checks run (with NumPy) only when SciPy's
# array-API mode is on; without it they would be skipped, and CI skips nothing.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
