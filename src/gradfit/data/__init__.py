"""Data in: validation, sources of rows, batching, feature scaling and shipped data sets."""

from gradfit.data.batching import epoch_order, resolve_batch_size, steps_per_epoch
from gradfit.data.datasets import Dataset, load_dataset, make_article_b
from gradfit.data.files import load_table
from gradfit.data.scaling import Scaling
from gradfit.data.source import ArraySource, Batch, Source, as_source
from gradfit.data.stream import FileSource, open_source
from gradfit.data.validation import as_features, as_target, check_xy, feature_names_of

__all__ = [
    "ArraySource",
    "Batch",
    "Dataset",
    "FileSource",
    "Scaling",
    "Source",
    "as_features",
    "as_source",
    "as_target",
    "check_xy",
    "epoch_order",
    "feature_names_of",
    "load_dataset",
    "load_table",
    "make_article_b",
    "open_source",
    "resolve_batch_size",
    "steps_per_epoch",
]
