"""A full disk, told apart from other write failures, so the error names the folder and what to do.

numpy says "79872 requested and 19424 written", SQLite "database or disk is full", FAISS names a
C++ source line and PostgreSQL a SQLSTATE: each is the same fault for whoever has to free space.
"""

from __future__ import annotations

import errno
import re
import sqlite3
from pathlib import Path

_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# numpy's short write (no errno), FAISS's RuntimeError carrying strerror(ENOSPC).
_FULL_MESSAGES = re.compile(r"\d+ requested and \d+ written|No space left on device|Disk quota")
_SQLITE_FULL = 13  # SQLITE_FULL: "database or disk is full"
_POSTGRES_DISK_FULL = "53100"  # SQLSTATE disk_full


class DiskFullError(Exception):
    """A write failed because the disk (or the user's quota) is full."""

    def __init__(self, folder: Path, doing: str) -> None:
        super().__init__(
            f"the disk holding {folder} is full ({doing}): free some space there and try again"
        )
        self.folder = folder


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error``, or an error it was raised from, is a full disk."""
    seen: BaseException | None = error
    visited: set[int] = set()
    # A chain can loop (an error raised from one that has it as its context): each link once.
    while seen is not None and id(seen) not in visited:
        visited.add(id(seen))
        if isinstance(seen, OSError) and seen.errno in _FULL_ERRNOS:
            return True
        if isinstance(seen, sqlite3.Error) and getattr(seen, "sqlite_errorcode", None) == (
            _SQLITE_FULL
        ):
            return True
        if getattr(seen, "sqlstate", None) == _POSTGRES_DISK_FULL:  # psycopg's errors.DiskFull
            return True
        if isinstance(seen, OSError | RuntimeError) and _FULL_MESSAGES.search(str(seen)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
