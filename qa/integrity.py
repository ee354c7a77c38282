"""Build integrity: every file of a build is checksummed as it is published, and verified before the
build is served, reused or called up to date, so a truncated or overwritten file is found and named
instead of surfacing as a failed answer.

Hashing a large build takes seconds, so a file's digest is kept for as long as the file is
unchanged on disk (same inode, size, modification and change times): verifying an unchanged build
again costs one ``stat`` per file, which is what lets ``/ready`` verify on every probe.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from pathlib import Path

_CHUNK_BYTES = 1 << 20
_CACHED_DIGESTS = 4096


class DamagedBuildError(Exception):
    """A build's files are not the ones it was published with (missing, changed, unreadable)."""

    def __init__(self, build: str, problem: str) -> None:
        super().__init__(f"the index build {build} is damaged ({problem})")
        self.build = build
        self.problem = problem


_StatKey = tuple[str, int, int, int, int, int]
_digests: dict[_StatKey, str] = {}
_digests_lock = threading.Lock()


def _stat_key(path: Path) -> _StatKey:
    status = path.stat()
    return (
        str(path),
        status.st_dev,
        status.st_ino,
        status.st_size,
        status.st_mtime_ns,
        status.st_ctime_ns,
    )


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes, read again only when the file has changed on disk."""
    key = _stat_key(path)
    with _digests_lock:
        known = _digests.get(key)
    if known is not None:
        return known
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK_BYTES):
            digest.update(block)
    found = digest.hexdigest()
    with _digests_lock:
        if len(_digests) >= _CACHED_DIGESTS:
            _digests.clear()
        _digests[key] = found
    return found


def build_files(folder: Path, leave_out: frozenset[str]) -> list[str]:
    """Every file under ``folder`` by its path relative to it, in a stable order."""
    return sorted(
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and path.relative_to(folder).as_posix() not in leave_out
    )


def checksums_of(folder: Path, leave_out: frozenset[str] = frozenset()) -> dict[str, str]:
    """What a build records when it is published: each of its files and that file's digest."""
    return {name: file_digest(folder / name) for name in build_files(folder, leave_out)}


def verify_build(
    folder: Path, checksums: Mapping[str, str], leave_out: frozenset[str] = frozenset()
) -> None:
    """Raise ``DamagedBuildError`` unless ``folder`` holds exactly the files of ``checksums``,
    byte for byte (the ``leave_out`` files, such as the manifest itself, are not counted)."""
    if not checksums:
        raise DamagedBuildError(folder.name, "it records no checksums of its files")
    try:
        present = set(build_files(folder, leave_out))
    except OSError as error:
        raise DamagedBuildError(
            folder.name, f"its folder cannot be read: {error.strerror}"
        ) from error
    missing = sorted(set(checksums) - present)
    if missing:
        raise DamagedBuildError(folder.name, _listed(missing, "is missing", "are missing"))
    changed: list[str] = []
    for name, expected in checksums.items():
        try:
            if file_digest(folder / name) != expected:
                changed.append(name)
        except OSError as error:
            raise DamagedBuildError(
                folder.name, f"{name} cannot be read: {error.strerror or error}"
            ) from error
    if changed:
        raise DamagedBuildError(
            folder.name,
            _listed(
                changed, "has changed since it was built", "have changed since they were built"
            ),
        )


def _listed(names: list[str], one: str, many: str) -> str:
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"{shown} {one if len(names) == 1 else many}"
