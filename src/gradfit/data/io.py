"""Files written so that nothing is ever half-written."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gradfit.exceptions import InvalidInputError

__all__ = ["atomic_path", "atomic_write_text"]


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[str]:
    """A temporary file name beside ``path``, renamed onto it once fully written.

    Readers see the old file or the new one, never half of one; on error the
    temporary file is removed and ``path`` is untouched.
    """
    target = Path(path)
    if not target.parent.is_dir():
        raise InvalidInputError(
            f"cannot write {os.fspath(path)}: the folder {str(target.parent)!r} does not "
            "exist: create it first, or write somewhere else"
        )
    if target.is_dir():
        raise InvalidInputError(f"cannot write {os.fspath(path)}: it is a folder: give a file name")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=target.suffix)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual mode
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write a text file atomically (see ``atomic_path``)."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    return Path(path)
