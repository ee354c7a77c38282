"""Which entries of the corpus folder are documents, and why every other one is skipped.

The folder is the boundary: a symbolic link that leads outside it is not followed unless the
settings allow it (``follow_outside_links``), so a link to ``/etc`` never ends up served over
``GET /documents``. A symlink loop, a FIFO (which would block whoever opened it), a socket, a
folder that cannot be listed, a link to nowhere and a file of a type no reader knows are each
named with the reason, never dropped in silence. Hidden entries (a name starting with a dot),
``README.md`` and the ``metadata.json`` sidecar are not documents and are passed over quietly.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from qa.formats import FORMATS

METADATA_FILE = "metadata.json"
_NOT_DOCUMENTS = {"readme.md", METADATA_FILE}
SUPPORTED_SUFFIXES = tuple(FORMATS)


@dataclass(frozen=True)
class SkippedEntry:
    """An entry of the corpus folder that is not read, and why, in words a user can act on."""

    path: Path
    reason: str


@dataclass(frozen=True)
class CorpusEntries:
    """The files to read (sorted by their path in the folder) and the entries skipped."""

    files: list[Path]
    skipped: list[SkippedEntry]


def require_directory(corpus_dir: Path) -> None:
    if not corpus_dir.exists():
        raise FileNotFoundError(f"corpus folder not found: {corpus_dir}")
    if not corpus_dir.is_dir():
        raise NotADirectoryError(f"corpus path is not a folder: {corpus_dir}")


def walk_corpus(
    corpus_dir: Path, *, follow_outside_links: bool = False, max_file_bytes: int | None = None
) -> CorpusEntries:
    """Every document file under ``corpus_dir``, recursively, and every entry skipped (a file
    over ``max_file_bytes`` among them: skipped whole and named, never cut short).

    Raises only when ``corpus_dir`` itself is missing or cannot be listed; anything below it
    that cannot be read is a ``SkippedEntry``.
    """
    require_directory(corpus_dir)
    walk = _Walk(corpus_dir, follow_outside_links, max_file_bytes)
    walk.visit(corpus_dir, frozenset({corpus_dir.resolve()}))
    files = sorted(walk.files, key=lambda path: path.relative_to(corpus_dir).as_posix())
    skipped = sorted(walk.skipped, key=lambda entry: entry.path.relative_to(corpus_dir).as_posix())
    return CorpusEntries(files, skipped)


class _Walk:
    def __init__(
        self, corpus_dir: Path, follow_outside_links: bool, max_file_bytes: int | None
    ) -> None:
        self.corpus_dir = corpus_dir
        self.max_file_bytes = max_file_bytes
        self.root = corpus_dir.resolve()
        self.follow_outside_links = follow_outside_links
        self.files: list[Path] = []
        self.skipped: list[SkippedEntry] = []

    def skip(self, path: Path, reason: str) -> None:
        self.skipped.append(SkippedEntry(path, reason))

    def visit(self, folder: Path, ancestors: frozenset[Path]) -> None:
        """Read one folder; ``ancestors`` are the real paths of the folders it sits in."""
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as error:
            if folder == self.corpus_dir:
                raise
            self.skip(folder, f"unreadable folder ({_why(error)})")
            return
        for entry in entries:
            if not entry.name.startswith("."):
                self.consider(Path(entry.path), entry.is_symlink(), ancestors)

    def consider(self, path: Path, is_link: bool, ancestors: frozenset[Path]) -> None:
        target = path
        if is_link:
            try:
                target = path.resolve(strict=True)
            except FileNotFoundError:
                return self.skip(path, "broken symlink (its target does not exist)")
            except (OSError, RuntimeError) as error:
                if isinstance(error, RuntimeError) or error.errno == errno.ELOOP:
                    return self.skip(path, "symlink loop")
                return self.skip(path, f"symlink could not be followed ({_why(error)})")
            if not target.is_relative_to(self.root) and not self.follow_outside_links:
                return self.skip(
                    path,
                    "symlink to outside the corpus folder, not followed "
                    "(set QA_FOLLOW_OUTSIDE_LINKS=true to follow it)",
                )
        try:
            status = os.stat(path)
            mode = status.st_mode
        except OSError as error:
            return self.skip(path, f"could not be read ({_why(error)})")

        if stat.S_ISDIR(mode):
            real = target.resolve() if not is_link else target
            if real in ancestors:
                return self.skip(path, "symlink loop (leads back to a folder it is in)")
            if is_link and real.is_relative_to(self.root):
                return self.skip(path, "symlink to a folder of the corpus, read where it is")
            return self.visit(path, ancestors | {real})
        if stat.S_ISFIFO(mode):
            return self.skip(path, "a FIFO (named pipe), not a file")
        if stat.S_ISSOCK(mode):
            return self.skip(path, "a socket, not a file")
        if not stat.S_ISREG(mode):
            return self.skip(path, "a device, not a file")
        if path.name.lower() in _NOT_DOCUMENTS:
            return None
        if path.suffix.lower() not in FORMATS:
            kind = repr(path.suffix) if path.suffix else "(no suffix)"
            supported = ", ".join(SUPPORTED_SUFFIXES)
            return self.skip(path, f"unsupported file type {kind} (supported: {supported})")
        if self.max_file_bytes is not None and status.st_size > self.max_file_bytes:
            return self.skip(
                path,
                f"too large ({_megabytes(status.st_size)}, the limit is "
                f"{_megabytes(self.max_file_bytes)}; raise QA_MAX_FILE_BYTES to read it)",
            )
        self.files.append(path)
        return None


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


def _why(error: OSError) -> str:
    """The reason an OS call gave, in words ("permission denied")."""
    if isinstance(error, PermissionError):
        return "permission denied"
    return (error.strerror or str(error)).lower()
