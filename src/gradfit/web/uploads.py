"""Uploaded CSV files: checked once when they arrive, kept as columns of text.

An upload is parsed and validated here (size, encoding, CSV shape, number of
columns, enough numeric columns); choosing its target and features, and turning
them into numbers, happens when a session is made from it (``gradfit.web.datasets``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from gradfit.data.files import numeric_columns, parse_csv
from gradfit.exceptions import InvalidInputError

__all__ = ["MAX_COLUMNS", "MAX_UPLOAD_BYTES", "Upload", "parse_upload"]

MAX_UPLOAD_BYTES = 20 * 2**20
MAX_COLUMNS = 200


@dataclass(frozen=True)
class Upload:
    """An uploaded file: its name and its columns, as the text it held.

    Attributes
    ----------
    name : str
        The file's name on the user's machine (what the exported code loads).
    columns : dict of str to list of str
        Every column by its header, values as strings.
    """

    name: str
    columns: dict[str, list[str]]

    @cached_property
    def numeric(self) -> list[str]:
        """Names of the columns whose values are all numbers (or missing)."""
        return numeric_columns(self.columns)

    @property
    def first_target(self) -> str:
        """The column the page predicts until the user chooses: the last numeric one."""
        return self.numeric[-1]

    def first_features(self, target: str) -> list[str]:
        """The feature the page starts with: the first numeric column but ``target``."""
        return [c for c in self.numeric if c != target][:1]


def parse_upload(name: str, content: bytes) -> Upload:
    """Check an uploaded file (size, text, CSV, columns) and keep its columns.

    Parameters
    ----------
    name : str
        The file's name, used in messages.
    content : bytes
        The file's bytes, as received.

    Returns
    -------
    Upload

    Raises
    ------
    InvalidInputError
        The file is too large, empty, not UTF-8 text, not CSV, too wide, or has
        fewer than two numeric columns; the message says what to do.

    Examples
    --------
    >>> parse_upload("a.csv", b"x,y\\n1,2\\n3,4\\n").numeric
    ['x', 'y']
    """
    if len(content) > MAX_UPLOAD_BYTES:
        raise InvalidInputError(f"{name} is larger than 20 MB: upload a smaller CSV file")
    if not content.strip():
        raise InvalidInputError(f"{name} is empty: upload a CSV file with a header and data")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{name} is not a text CSV file: save it as UTF-8 CSV") from None
    columns = parse_csv(text, name)
    if len(columns) > MAX_COLUMNS:
        raise InvalidInputError(
            f"{name} has {len(columns)} columns, more than {MAX_COLUMNS}: keep the ones you need"
        )
    upload = Upload(name, columns)
    if len(upload.numeric) < 2:
        raise InvalidInputError(
            f"{name} has fewer than two numeric columns: a regression needs a feature and a target"
        )
    return upload
