"""Data in: validation, batching, feature scaling and shipped data sets."""

from gradfit.data.batching import Batches, resolve_batch_size
from gradfit.data.datasets import Dataset, load_dataset, make_article_b
from gradfit.data.files import load_table
from gradfit.data.scaling import Scaling
from gradfit.data.validation import as_features, as_target, check_xy, feature_names_of

__all__ = [
    "Batches",
    "Dataset",
    "Scaling",
    "as_features",
    "as_target",
    "check_xy",
    "feature_names_of",
    "load_dataset",
    "load_table",
    "make_article_b",
    "resolve_batch_size",
]
