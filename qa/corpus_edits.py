"""Adding and removing corpus documents while the service runs, the index rebuilt in the
background (the admin routes ``POST /documents`` and ``DELETE /documents/{id}``).

A request only checks and stages. A new file is checked (its name stays inside the folder,
its type is one the readers know, it is under the size limit, it reads into text) and written
as a hidden file beside its place, which the corpus walk passes over. One worker thread is the
only writer of the folder: between builds it puts staged files in place and moves removed ones
aside (hidden, in the same folder), then runs the incremental ``build_index``, which embeds only
what changed; the service switches when the new build is published (``LiveAnswerer.refresh``).
A build that fails leaves the live index as it was, and the worker undoes the batch, so the
folder is as it was too: nothing is lost.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel

from qa.corpus_walk import METADATA_FILE, SUPPORTED_SUFFIXES
from qa.documents import DocumentReadError, document_ids, list_corpus_files, read_document
from qa.embedding import Embedder
from qa.index_manifest import current_build_dir, read_manifest
from qa.indexing import BuildReport, build_index
from qa.layout import lay_out
from qa.settings import Settings

logger = logging.getLogger("qa.corpus_edits")

_MAX_NAME_CHARS = 255
_KEPT_STATES = 1000  # the outcomes of the last so many changes can be looked up
# Staged files older than this (since their last rename) are a stopped server's leftovers;
# younger ones may be another worker process's change in progress.
_LEFTOVER_SECONDS = 3600.0


class CorpusEditError(Exception):
    """A change of the corpus that cannot be made as asked; the message says why."""


class DocumentNameError(CorpusEditError):
    """The name is empty, hidden, reserved, or leads outside the corpus folder."""


class UnsupportedDocumentTypeError(CorpusEditError):
    """No reader knows files of this type."""


class DocumentTooLargeError(CorpusEditError):
    """The file is over ``max_upload_bytes``."""


class UnreadableDocumentError(CorpusEditError):
    """The file is of a known type but yields no text (damaged, empty, encrypted...)."""


class DocumentExistsError(CorpusEditError):
    """A document of that name or id is in the corpus, or on its way in."""


class DocumentNotFoundError(CorpusEditError):
    """No document of the corpus has that id (or it is on its way out already)."""


ChangeStatus = Literal["queued", "indexed", "failed"]


class CorpusChange(BaseModel):
    """One addition or removal and where it stands: queued, indexed (in ``build_id``), or
    failed (``reason``; the corpus and the index are then as they were before it)."""

    change_id: str
    action: Literal["add", "remove"]
    doc_id: str
    file: str
    status: ChangeStatus = "queued"
    build_id: str = ""
    reason: str = ""


@dataclass
class _Pending:
    change: CorpusChange
    target: Path  # the document's place in the corpus
    aside: Path  # the hidden file it waits in (add) or is moved to (remove)
    created: list[Path] = field(default_factory=list)  # folders made for it, outermost first
    applied: bool = False


def checked_name(name: str) -> PurePosixPath:
    """``name`` as a path inside the corpus folder, or ``DocumentNameError``: no absolute
    path, no ``..``, no hidden part, no backslash or control character, not the sidecar."""
    if not name or len(name) > _MAX_NAME_CHARS:
        raise DocumentNameError(f"a document name is 1 to {_MAX_NAME_CHARS} characters long")
    if "\\" in name or any(ord(c) < 32 for c in name):
        raise DocumentNameError(f"{name!r}: no backslashes or control characters in a name")
    path = PurePosixPath(name)
    if path.is_absolute() or any(part in ("", ".", "..") for part in name.split("/")):
        raise DocumentNameError(f"{name!r} leads outside the corpus folder")
    if any(part.startswith(".") for part in path.parts):
        raise DocumentNameError(f"{name!r}: hidden names (a leading dot) are not documents")
    if path.name.lower() in {METADATA_FILE, "readme.md"}:
        raise DocumentNameError(f"{name!r} is reserved: it is not read as a document")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        kind = repr(path.suffix) if path.suffix else "a file without a suffix"
        raise UnsupportedDocumentTypeError(
            f"{kind} is not a document type qa reads (supported: {', '.join(SUPPORTED_SUFFIXES)})"
        )
    return path


def _require_inside(corpus: Path, target: Path, name: str) -> None:
    """The nearest existing folder above ``target`` is inside ``corpus`` (no link out)."""
    folder = target.parent
    while not folder.exists() and folder != corpus:
        folder = folder.parent
    if not folder.resolve().is_relative_to(corpus):
        raise DocumentNameError(f"{name!r} leads outside the corpus folder (through a link)")


def _make_folders(corpus: Path, folder: Path) -> list[Path]:
    """Make ``folder`` and the missing ones above it; returns those made, outermost first."""
    missing = []
    while not folder.exists() and folder != corpus:
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        made.mkdir(exist_ok=True)
    return list(reversed(missing))


def _remove_folders(created: list[Path]) -> None:
    """Remove the folders an upload made, innermost first, if they are still empty."""
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            return  # something else is in it now: keep it and those above


def _check_readable(staged: Path) -> None:
    """The staged file reads into text, as the index build will read it."""
    try:
        source = read_document(staged)
    except DocumentReadError as error:
        raise UnreadableDocumentError(f"the file cannot be read: {error}") from None
    if not lay_out(source.blocks, source.page_count).text.strip():
        raise UnreadableDocumentError("the file has no text to index")


class CorpusEditor:
    """Stages additions and removals and applies them, one batch per build, in a worker
    thread started with the first change."""

    def __init__(
        self,
        settings: Settings,
        embedder_factory: Callable[[], Embedder],
        build: Callable[..., BuildReport] = build_index,
        on_published: Callable[[], None] = lambda: None,
        leftover_seconds: float = _LEFTOVER_SECONDS,
    ) -> None:
        self.settings = settings
        self._embedder_factory = embedder_factory
        self._build = build
        self._on_published = on_published  # the service switches now, not at its next check
        self._condition = threading.Condition()
        self._queue: list[_Pending] = []
        self._busy = False
        self._worker: threading.Thread | None = None
        self._changes: OrderedDict[str, CorpusChange] = OrderedDict()
        _recover(settings.corpus_dir, leftover_seconds)

    # --- requests ------------------------------------------------------------------------------

    def add(self, name: str, data: bytes) -> CorpusChange:
        """Stage ``data`` as the document ``name``; raises a ``CorpusEditError`` saying why not."""
        relative = checked_name(name)
        limit = self.settings.max_upload_bytes
        if len(data) > limit:
            raise DocumentTooLargeError(
                f"the file is {len(data)} bytes; the limit is {limit} (QA_MAX_UPLOAD_BYTES)"
            )
        corpus = self.settings.corpus_dir.resolve()
        target = corpus / relative
        _require_inside(corpus, target, name)
        self._check_free(relative, target)
        created = _make_folders(corpus, target.parent)
        aside = target.parent / f"{_UPLOAD_PREFIX}{uuid.uuid4().hex}{relative.suffix}"
        change = CorpusChange(
            change_id=uuid.uuid4().hex, action="add", doc_id=relative.stem, file=str(relative)
        )
        try:
            _require_inside(corpus, target, name)
            aside.write_bytes(data)
            _check_readable(aside)
            with self._condition:  # checked again with the queue held: two uploads of one name
                self._check_free(relative, target)
                return self._enqueue(_Pending(change, target, aside, created=created))
        except BaseException:
            aside.unlink(missing_ok=True)
            _remove_folders(created)
            raise

    def remove(self, doc_id: str) -> CorpusChange:
        """Stage the removal of the document ``doc_id``."""
        corpus = self.settings.corpus_dir
        paths = list_corpus_files(corpus, follow_outside_links=self.settings.follow_outside_links)
        target = document_ids(corpus, paths).get(doc_id)
        with self._condition:
            leaving = {p.target for p in self._queue if p.change.action == "remove"}
            if target is None or target in leaving:
                raise DocumentNotFoundError(f"no document with id {doc_id!r} in the corpus")
            relative = target.relative_to(corpus).as_posix()
            aside = target.parent / f"{_REMOVED_PREFIX}{uuid.uuid4().hex}-{target.name}"
            change = CorpusChange(
                change_id=uuid.uuid4().hex, action="remove", doc_id=doc_id, file=relative
            )
            return self._enqueue(_Pending(change, target, aside))

    def change(self, change_id: str) -> CorpusChange | None:
        with self._condition:
            return self._changes.get(change_id)

    def wait_until_idle(self, timeout: float) -> bool:
        """Block until every staged change is applied and built; False on timeout."""
        with self._condition:
            return self._condition.wait_for(lambda: not self._queue and not self._busy, timeout)

    def _check_free(self, relative: PurePosixPath, target: Path) -> None:
        """409s: the file exists, or its stem is another document's (ids would change)."""
        corpus = self.settings.corpus_dir
        paths = list_corpus_files(corpus, follow_outside_links=self.settings.follow_outside_links)
        with self._condition:
            arriving = [p.target for p in self._queue if p.change.action == "add"]
        if target.exists() or target in arriving:
            raise DocumentExistsError(f"{str(relative)!r} is in the corpus already")
        taken = {path.stem for path in paths + arriving} | set(document_ids(corpus, paths))
        if relative.stem in taken:
            raise DocumentExistsError(
                f"a document with the id {relative.stem!r} is in the corpus already; "
                "give the file another name"
            )

    def _enqueue(self, pending: _Pending) -> CorpusChange:
        with self._condition:
            self._queue.append(pending)
            self._record(pending.change)
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._work, name="qa-corpus-edits", daemon=True
                )
                self._worker.start()
            self._condition.notify_all()
        return pending.change

    def _record(self, change: CorpusChange) -> None:
        """Keep ``change`` as the latest word on its id (the caller holds the condition)."""
        self._changes[change.change_id] = change
        self._changes.move_to_end(change.change_id)
        while len(self._changes) > _KEPT_STATES:
            self._changes.popitem(last=False)

    # --- the worker ----------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: bool(self._queue))
                batch, self._queue = self._queue, []
                self._busy = True
            try:
                self._apply_and_build(batch)
            except Exception:  # the worker must live on: log it, fail the batch
                logger.exception("applying corpus changes failed")
                self._undo(batch, "the server could not apply the change; its log says why")
            finally:
                with self._condition:
                    self._busy = False
                    self._condition.notify_all()

    def _apply_and_build(self, batch: list[_Pending]) -> None:
        applied = []
        for pending in batch:
            try:
                _apply(pending)
                applied.append(pending)
            except OSError as error:
                self._settle(pending, "failed", reason=f"the file could not be moved: {error}")
        if not applied:
            return
        try:
            report = self._build(self.settings, self._embedder_factory, progress=False)
        except Exception as error:
            logger.exception("the index build for %d corpus change(s) failed", len(applied))
            self._undo(applied, f"the index could not be rebuilt: {error}")
            return
        unindexed = self._unindexed(applied)
        if unindexed:  # read at upload, yet the build found nothing to index in it
            self._undo(unindexed, "the index build found no text to index in the file")
            applied = [p for p in applied if p not in unindexed]
            try:
                report = self._build(self.settings, self._embedder_factory, progress=False)
            except Exception:  # the build before holds the rest: they are indexed there
                logger.exception("rebuilding without the unindexed upload(s) failed")
        self._on_published()
        for pending in applied:
            if pending.change.action == "remove":
                pending.aside.unlink(missing_ok=True)
            self._settle(pending, "indexed", build_id=report.build_id)

    def _unindexed(self, applied: list[_Pending]) -> list[_Pending]:
        """The additions the live build does not hold (the build could not index them)."""
        build_dir = current_build_dir(self.settings.index_dir)
        indexed = set(read_manifest(build_dir).documents) if build_dir else set()
        return [p for p in applied if p.change.action == "add" and p.change.doc_id not in indexed]

    def _undo(self, batch: list[_Pending], reason: str) -> None:
        for pending in reversed(batch):
            if pending.applied:
                _revert(pending)
            elif pending.change.action == "add":
                pending.aside.unlink(missing_ok=True)
                _remove_folders(pending.created)
            self._settle(pending, "failed", reason=reason)

    def _settle(
        self, pending: _Pending, status: ChangeStatus, build_id: str = "", reason: str = ""
    ) -> None:
        pending.change = pending.change.model_copy(
            update={"status": status, "build_id": build_id, "reason": reason}
        )
        if status == "failed":
            logger.warning("corpus change %s failed: %s", pending.change.file, reason)
        with self._condition:
            self._record(pending.change)


_UPLOAD_PREFIX = ".upload-"
_REMOVED_PREFIX = ".removed-"


def _recover(corpus: Path, older_than: float) -> None:
    """What a server stopped mid-change left behind: staged uploads (never applied) are
    dropped, documents moved aside for a removal that was never confirmed are put back."""
    if not corpus.is_dir():
        return
    cutoff = time.time() - older_than
    for path in sorted(corpus.rglob(".*")):
        if not path.is_file() or path.is_symlink() or path.stat().st_ctime > cutoff:
            continue
        if path.name.startswith(_UPLOAD_PREFIX):
            path.unlink(missing_ok=True)
        elif path.name.startswith(_REMOVED_PREFIX):
            original = path.with_name(path.name.removeprefix(_REMOVED_PREFIX).partition("-")[2])
            if original.name and not original.exists():
                os.replace(path, original)
                logger.warning("put back %s: its removal was never indexed", original)


def _apply(pending: _Pending) -> None:
    """Put a staged file in place, or move a removed one aside (a rename in its folder)."""
    if pending.change.action == "add":
        if pending.target.exists():
            raise FileExistsError(f"{pending.change.file} appeared in the corpus meanwhile")
        os.replace(pending.aside, pending.target)
    else:
        os.replace(pending.target, pending.aside)
    pending.applied = True


def _revert(pending: _Pending) -> None:
    """Undo ``_apply``: an added file is dropped, a removed one put back."""
    if pending.change.action == "add":
        pending.target.unlink(missing_ok=True)
        _remove_folders(pending.created)
    else:
        os.replace(pending.aside, pending.target)
    pending.applied = False
