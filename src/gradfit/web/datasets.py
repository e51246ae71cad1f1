"""Which rows a playground session descends on: a shipped data set or an uploaded file.

Everything known about the shipped data sets (their columns, targets, the features
the playground starts with, their descriptions) comes from
``gradfit.data.datasets.DATASETS``; this module only dispatches between them and the
uploads, and lists them for the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from gradfit.data.datasets import DATASETS, Dataset, dataset_columns, load_dataset
from gradfit.data.files import table_from_columns
from gradfit.exceptions import InvalidInputError
from gradfit.web.uploads import Upload

__all__ = [
    "FIRST_DATASET",
    "UPLOAD",
    "DataChoice",
    "SessionData",
    "catalogue",
    "dataset_names",
    "load_data",
]

# The name the page gives "the file you uploaded" among the data sets.
UPLOAD = "upload"
# The page opens on article A's data.
FIRST_DATASET = "davis"


@dataclass(frozen=True)
class DataChoice:
    """The data the page chose (None: the data set's own choice).

    Attributes
    ----------
    dataset : str
        A shipped data set's name, or ``UPLOAD``.
    target : str or None
        The column to predict.
    features : tuple of str, or None
        The feature columns.
    upload_id : str or None
        Which upload, when ``dataset`` is ``UPLOAD``.
    """

    dataset: str = FIRST_DATASET
    target: str | None = None
    features: tuple[str, ...] | None = None
    upload_id: str | None = None


class SessionData(NamedTuple):
    """The rows a session descends on, and where they came from.

    Attributes
    ----------
    dataset : Dataset
        Features, target and their names.
    origin : str
        A shipped data set's name, or the uploaded file's name: what
        ``gradfit.data.load_table`` and ``gradfit fit`` take to load the same rows.
    uploaded : bool
        Whether ``origin`` names an uploaded file.
    """

    dataset: Dataset
    origin: str
    uploaded: bool


def dataset_names() -> tuple[str, ...]:
    """The names the page may choose: every shipped data set, then ``UPLOAD``."""
    return (*DATASETS, UPLOAD)


def load_data(choice: DataChoice, uploads: Mapping[str, Upload]) -> SessionData:
    """The rows ``choice`` names.

    Parameters
    ----------
    choice : DataChoice
    uploads : mapping of upload id to Upload
        The uploads kept by the server.

    Returns
    -------
    SessionData

    Raises
    ------
    InvalidInputError
        An unknown data set or column, a non-numeric column, missing values in an
        upload's chosen columns, or an upload the server no longer holds.
    """
    features = list(choice.features) if choice.features else None
    if choice.dataset == UPLOAD:
        upload = uploads.get(choice.upload_id or "")
        if upload is None:
            raise InvalidInputError(
                "the uploaded file is gone (server restarted?): upload it again"
            )
        target = choice.target or upload.first_target
        table = table_from_columns(
            upload.columns,
            upload.name,
            target=target,
            features=features or upload.first_features(target),
        )
        return SessionData(table, upload.name, uploaded=True)
    info = DATASETS.get(choice.dataset)
    if info is None:
        raise InvalidInputError(
            f"unknown data set {choice.dataset!r}: choose one of {', '.join(dataset_names())}"
        )
    data = load_dataset(
        choice.dataset, target=choice.target, features=features or list(info.first_features)
    )
    return SessionData(data, choice.dataset, uploaded=False)


def catalogue() -> dict[str, dict[str, Any]]:
    """The shipped data sets for the page: numeric columns, target, first features, description.

    Examples
    --------
    >>> catalogue()["davis"]["features"]
    ['height']
    """
    return {
        name: {
            "columns": dataset_columns(name),
            "target": info.target,
            "features": list(info.first_features),
            "description": info.description,
        }
        for name, info in DATASETS.items()
    }
