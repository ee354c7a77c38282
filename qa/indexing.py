"""Building the index: corpus -> cleaned text -> sentences -> chunks -> vectors, published atomically.

Each build is written to its own folder under ``index/builds/`` and becomes live when the file
``index/CURRENT`` is replaced (an atomic rename), so a running server or a second ``qa index``
never sees a half-written build. Its manifest records a checksum of every other file
(``qa.integrity``): a damaged live build is rebuilt from scratch, never reused or called up to date. A file lock makes concurrent builds take turns; the second one
then finds the index up to date. Documents whose file, cleaning, chunking and model are unchanged
are copied from the previous build with their vectors: only what changed is embedded again.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from filelock import FileLock

from qa.chunking import chunk_document, without_wordless_sentences
from qa.disk_space import DiskFullError, is_disk_full
from qa.documents import SourceDocument, load_corpus
from qa.embedding import Embedder
from qa.index_backends import remove_search, search_problem, write_search
from qa.index_manifest import (
    BUILDS_DIR,
    CASED_WORDS_FILE,
    CHUNK_VECTORS_FILE,
    CURRENT_FILE,
    FORMAT_VERSION,
    MANIFEST_FILE,
    PROCESSING_VERSION,
    STORE_FILE,
    Manifest,
    ManifestDocument,
    ManifestFailure,
    OutdatedBuildError,
    corpus_fingerprint,
    current_build_dir,
    model_name_of,
    read_manifest,
    staleness,
    verified_manifest,
)
from qa.integrity import DamagedBuildError, checksums_of
from qa.layout import LaidOutDocument, lay_out
from qa.progress import ProgressMode, progress_mode, tracked
from qa.sentences import Sentence, split_many
from qa.settings import Settings
from qa.store import Store, StoredDocument, StoreWriter
from qa.truecase import cased_forms, save_cased_forms

_OLD_BUILD_GRACE_SECONDS = 600


class EmptyCorpusError(Exception):
    """No document in the corpus could be read."""


@dataclass
class BuildReport:
    """What a call of ``build_index`` did."""

    built: bool
    build_id: str
    documents: int
    chunks: int
    reused_documents: int = 0
    embedded_chunks: int = 0
    seconds: float = 0.0
    failures: list[ManifestFailure] = field(default_factory=list)
    reason: str = ""
    # Where the seconds went: reading the files, preparing them (cleaning, sentences, chunks),
    # embedding the new chunks, writing the build (vectors, BM25, the store).
    stage_seconds: dict[str, float] = field(default_factory=dict)


# --- building -------------------------------------------------------------------------------


@dataclass
class _PreparedDocument:
    source: SourceDocument
    layout: LaidOutDocument
    sentences: list[Sentence]
    chunk_rows: list[tuple[int, int, str, int, int]]  # start, end, text, first, last (local)
    chunk_vectors: np.ndarray | None = None


def build_index(
    settings: Settings,
    embedder_factory: Callable[[], Embedder],
    *,
    force: bool = False,
    progress: bool | None = None,
) -> BuildReport:
    """Bring the index in ``settings.index_dir`` up to date with ``settings.corpus_dir``."""
    index_dir = settings.index_dir
    (index_dir / BUILDS_DIR).mkdir(parents=True, exist_ok=True)
    show = progress_mode(progress)
    started = time.perf_counter()
    with FileLock(str(index_dir / ".build.lock")):
        model_name = model_name_of(settings)
        reason = "forced" if force else staleness(settings, model_name)
        previous_dir = current_build_dir(index_dir)
        if not reason and previous_dir is not None:
            manifest = read_manifest(previous_dir)
            return BuildReport(
                False,
                manifest.build_id,
                len(manifest.documents),
                manifest.chunk_count,
                failures=manifest.failures,
                reason="up to date",
            )
        stages: dict[str, float] = {}
        clock = time.perf_counter()
        loaded = load_corpus(
            settings.corpus_dir,
            follow_outside_links=settings.follow_outside_links,
            max_file_bytes=settings.max_file_bytes,
        )
        failures = [
            ManifestFailure(file=_relative(f.path, settings.corpus_dir), reason=f.reason)
            for f in loaded.failures
        ]
        # Forced means from scratch: a damaged build must not lend its vectors to the next.
        previous = None if force else _PreviousBuild.open(previous_dir, model_name, settings)
        stages["read"], clock = time.perf_counter() - clock, time.perf_counter()
        prepared, reused = _prepare(loaded.documents, previous, failures, settings, show)
        stages["prepare"], clock = time.perf_counter() - clock, time.perf_counter()
        if not prepared:
            raise EmptyCorpusError(
                f"no readable document in {settings.corpus_dir}"
                + "".join(f"\n  {f.file}: {f.reason}" for f in failures)
            )
        embedded = _embed_new(prepared, embedder_factory, settings.embed_batch_size, show)
        stages["embed"], clock = time.perf_counter() - clock, time.perf_counter()
        build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        staging = index_dir / BUILDS_DIR / f".staging-{build_id}"
        try:
            try:
                staging.mkdir()
                manifest = _write_build(staging, build_id, prepared, failures, settings, model_name)
                staging.rename(index_dir / BUILDS_DIR / build_id)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            _publish(index_dir, build_id)
            stages["write"] = time.perf_counter() - clock
        except Exception as error:
            # numpy, SQLite and FAISS each word a full disk their own way; say it once, plainly.
            if is_disk_full(error):
                raise DiskFullError(index_dir, f"writing index build {build_id}") from error
            raise
        _remove_old_builds(settings, keep={build_id, previous_dir.name if previous_dir else ""})
        return BuildReport(
            True,
            build_id,
            len(prepared),
            manifest.chunk_count,
            reused,
            embedded,
            time.perf_counter() - started,
            failures,
            reason,
            {name: round(seconds, 3) for name, seconds in stages.items()},
        )


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


class _PreviousBuild:
    """The live build, as a source of documents that need no processing again."""

    def __init__(self, folder: Path, manifest: Manifest) -> None:
        self.manifest = manifest
        self.store = Store(folder / STORE_FILE)
        self.chunk_vectors = np.load(folder / CHUNK_VECTORS_FILE, mmap_mode="r")

    @classmethod
    def open(
        cls, folder: Path | None, model_name: str, settings: Settings
    ) -> _PreviousBuild | None:
        if folder is None:
            return None
        try:
            manifest = verified_manifest(folder)  # a damaged build lends nothing to the next
        except (OSError, DamagedBuildError, OutdatedBuildError):
            return None
        if search_problem(manifest, settings):
            return None  # nor does one whose Milvus collection has gone
        same_recipe = (
            manifest.format_version == FORMAT_VERSION
            and manifest.processing_version == PROCESSING_VERSION
            and manifest.model == model_name
            and manifest.chunk_max_words == settings.chunk_max_words
            and manifest.chunk_overlap_sentences == settings.chunk_overlap_sentences
        )
        return cls(folder, manifest) if same_recipe else None

    def reuse(self, source: SourceDocument) -> _PreparedDocument | None:
        stored = self.store.document(source.doc_id)
        if stored is None or stored.checksum != source.checksum:
            return None
        if _metadata_row(source, stored.text) != stored:
            return None  # only the metadata changed: cheap to redo, keep it simple
        layout = LaidOutDocument(
            stored.text,
            tuple(self.store.pages(source.doc_id)),
            tuple(self.store.headings(source.doc_id)),
        )
        sentence_ids = self.store.document_sentence_ids(source.doc_id)
        sentences = self.store.sentences(sentence_ids)
        chunks = self.store.document_chunks(source.doc_id)
        first_id = sentence_ids[0] if sentence_ids else 0
        return _PreparedDocument(
            source=source,
            layout=layout,
            sentences=[Sentence(s.start, s.end) for s in sentences],
            chunk_rows=[
                (c.start, c.end, c.text, c.first_sentence - first_id, c.last_sentence - first_id)
                for c in chunks
            ],
            chunk_vectors=np.asarray(self.chunk_vectors[[c.id for c in chunks]]),
        )


def _metadata_row(source: SourceDocument, text: str) -> StoredDocument:
    meta = source.metadata
    return StoredDocument(
        source.doc_id,
        source.path.name,
        source.format,
        meta.title,
        meta.publisher,
        meta.published,
        meta.source,
        source.checksum,
        text,
    )


def _prepare(
    documents: list[SourceDocument],
    previous: _PreviousBuild | None,
    failures: list[ManifestFailure],
    settings: Settings,
    show: ProgressMode,
) -> tuple[list[_PreparedDocument], int]:
    prepared: list[_PreparedDocument] = []
    fresh: list[tuple[SourceDocument, LaidOutDocument]] = []
    for source in documents:
        kept = previous.reuse(source) if previous else None
        if kept is not None:
            prepared.append(kept)
            continue
        layout = lay_out(source.blocks, source.page_count)
        if not layout.text.strip():
            failures.append(
                ManifestFailure(file=source.path.name, reason="no article text left after cleaning")
            )
            continue
        fresh.append((source, layout))
    reused = len(prepared)
    threads = settings.sentence_threads or os.cpu_count() or 1
    annotated = split_many((layout.text for _, layout in fresh), threads=threads)
    bar = tracked(zip(fresh, annotated, strict=True), show, "reading sentences", len(fresh), "docs")
    for (source, layout), sentences in bar:
        chunks = chunk_document(
            source.doc_id,
            layout.text,
            sentences,
            max_words=settings.chunk_max_words,
            overlap_sentences=settings.chunk_overlap_sentences,
        )
        sentences, chunks = without_wordless_sentences(layout.text, sentences, chunks)
        if not sentences:
            failures.append(
                ManifestFailure(file=source.path.name, reason="no sentence with a word in it")
            )
            continue
        prepared.append(
            _PreparedDocument(
                source=source,
                layout=layout,
                sentences=sentences,
                chunk_rows=[
                    (c.start, c.end, c.text, c.first_sentence, c.last_sentence) for c in chunks
                ],
            )
        )
    prepared.sort(key=lambda d: d.source.doc_id)
    return prepared, reused


def _embed_new(
    prepared: list[_PreparedDocument],
    embedder_factory: Callable[[], Embedder],
    batch_size: int,
    show: ProgressMode,
) -> int:
    """Embed the chunks of documents that were not reused; returns how many."""
    todo = [d for d in prepared if d.chunk_vectors is None]
    if not todo:
        return 0
    embedder = embedder_factory()
    texts = [row[2] for doc in todo for row in doc.chunk_rows]
    vectors = _encode_with_progress(embedder, texts, batch_size, show)
    row = 0
    for doc in todo:
        doc.chunk_vectors = vectors[row : row + len(doc.chunk_rows)]
        row += len(doc.chunk_rows)
    return sum(len(d.chunk_rows) for d in todo)


def _encode_with_progress(
    embedder: Embedder, texts: list[str], batch_size: int, show: ProgressMode
) -> np.ndarray:
    step = max(batch_size * 8, 1)
    batches = (texts[i : i + step] for i in range(0, len(texts), step))
    parts = [
        embedder.encode(batch)
        for batch in tracked(batches, show, "embedding", len(texts), "chunks", size=len)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dimensions), np.float32)


def _write_build(
    folder: Path,
    build_id: str,
    prepared: list[_PreparedDocument],
    failures: list[ManifestFailure],
    settings: Settings,
    model_name: str,
) -> Manifest:
    writer = StoreWriter(folder / STORE_FILE)
    documents: dict[str, ManifestDocument] = {}
    chunk_texts: list[str] = []
    for doc in prepared:
        writer.add_document(_metadata_row(doc.source, doc.layout.text))
        writer.add_layout(doc.source.doc_id, doc.layout)
        sentence_ids = [
            writer.add_sentence(doc.source.doc_id, position, sentence.start, sentence.end)
            for position, sentence in enumerate(doc.sentences)
        ]
        for position, (start, end, text, first, last) in enumerate(doc.chunk_rows):
            writer.add_chunk(
                doc.source.doc_id,
                position,
                start,
                end,
                text,
                sentence_ids[first],
                sentence_ids[last],
            )
            chunk_texts.append(text)
        documents[doc.source.doc_id] = ManifestDocument(
            file=doc.source.path.name,
            checksum=doc.source.checksum,
            sentences=len(sentence_ids),
            chunks=len(doc.chunk_rows),
        )
    writer.close()
    chunk_vectors = np.concatenate(
        [d.chunk_vectors for d in prepared if d.chunk_vectors is not None]
    )
    np.save(folder / CHUNK_VECTORS_FILE, chunk_vectors.astype(np.float32))
    search = write_search(folder, build_id, chunk_vectors, chunk_texts, settings)
    save_cased_forms(folder / CASED_WORDS_FILE, cased_forms(d.layout.text for d in prepared))
    manifest = Manifest(
        build_id=build_id,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        model=model_name,
        dimensions=int(chunk_vectors.shape[1]),
        chunk_max_words=settings.chunk_max_words,
        chunk_overlap_sentences=settings.chunk_overlap_sentences,
        index_kind=search.index_kind,
        backend=search.backend,
        milvus_collection=search.milvus_collection,
        chunk_count=len(chunk_texts),
        sentence_count=sum(len(d.sentences) for d in prepared),
        files=corpus_fingerprint(
            settings.corpus_dir,
            follow_outside_links=settings.follow_outside_links,
            max_file_bytes=settings.max_file_bytes,
        ),
        documents=documents,
        failures=failures,
        checksums=checksums_of(folder),
    )
    (folder / MANIFEST_FILE).write_text(manifest.model_dump_json(indent=2))
    return manifest


def _publish(index_dir: Path, build_id: str) -> None:
    """Point CURRENT at the new build with one atomic rename."""
    pending = index_dir / f".{CURRENT_FILE}.{uuid.uuid4().hex}"
    pending.write_text(build_id + "\n")
    with open(pending, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(pending, index_dir / CURRENT_FILE)


def _remove_old_builds(settings: Settings, keep: set[str]) -> None:
    """Keep the live build, the one before it, and any published in the last ten minutes (a
    server process that has not asked a question since may still be reading one). Staging
    folders are leftovers of killed builds: the build lock is held, so none is in progress."""
    cutoff = time.time() - _OLD_BUILD_GRACE_SECONDS
    for folder in (settings.index_dir / BUILDS_DIR).iterdir():
        if folder.name in keep:
            continue
        if folder.name.startswith(".staging-") or folder.stat().st_mtime < cutoff:
            remove_search(folder, settings)
            shutil.rmtree(folder, ignore_errors=True)
