"""The document, sentence and chunk store: one SQLite file beside the vectors of each build.

Ids are positions: chunk ``i`` is row ``i`` of the FAISS index and sentence ``j`` is row ``j`` of
the sentence-vector matrix, so no id map is needed between the store and the vectors.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from qa.layout import Heading, LaidOutDocument, Location, PageSpan, locate

_SCHEMA = """
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY, file TEXT NOT NULL, format TEXT NOT NULL, title TEXT NOT NULL,
    publisher TEXT NOT NULL, published TEXT NOT NULL, source TEXT NOT NULL,
    checksum TEXT NOT NULL, text TEXT NOT NULL
);
CREATE TABLE sentences (
    id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, position INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL
);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, position INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL,
    first_sentence INTEGER NOT NULL, last_sentence INTEGER NOT NULL
);
CREATE TABLE pages (
    doc_id TEXT NOT NULL, number INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL
);
CREATE INDEX pages_by_document ON pages (doc_id, number);
CREATE TABLE headings (
    doc_id TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    level INTEGER NOT NULL, title TEXT NOT NULL
);
CREATE INDEX headings_by_document ON headings (doc_id, start);
"""

# Documents whose pages and headings the store keeps at hand for ``location``.
_CACHED_LAYOUTS = 256


@dataclass(frozen=True)
class StoredDocument:
    doc_id: str
    file: str
    format: str
    title: str
    publisher: str
    published: str
    source: str
    checksum: str
    text: str


@dataclass(frozen=True)
class DocumentMetadataRow:
    doc_id: str
    title: str
    publisher: str
    published: str
    source: str


@dataclass(frozen=True)
class StoredSentence:
    id: int
    doc_id: str
    position: int
    start: int
    end: int


@dataclass(frozen=True)
class StoredChunk:
    id: int
    doc_id: str
    position: int
    start: int
    end: int
    text: str
    first_sentence: int  # global sentence id, inclusive
    last_sentence: int


class StoreWriter:
    """Writes a new store file; used only while a build is being made."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path)
        self._db.executescript(_SCHEMA)
        self.sentence_count = 0
        self.chunk_count = 0

    def add_document(self, document: StoredDocument) -> None:
        self._db.execute(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?)",
            (
                document.doc_id,
                document.file,
                document.format,
                document.title,
                document.publisher,
                document.published,
                document.source,
                document.checksum,
                document.text,
            ),
        )

    def add_sentence(self, doc_id: str, position: int, start: int, end: int) -> int:
        sentence_id = self.sentence_count
        self._db.execute(
            "INSERT INTO sentences VALUES (?,?,?,?,?)", (sentence_id, doc_id, position, start, end)
        )
        self.sentence_count += 1
        return sentence_id

    def add_chunk(
        self,
        doc_id: str,
        position: int,
        start: int,
        end: int,
        text: str,
        first_sentence: int,
        last_sentence: int,
    ) -> int:
        chunk_id = self.chunk_count
        self._db.execute(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?)",
            (chunk_id, doc_id, position, start, end, text, first_sentence, last_sentence),
        )
        self.chunk_count += 1
        return chunk_id

    def add_layout(self, doc_id: str, layout: LaidOutDocument) -> None:
        """Where the document's pages and headings lie in its text."""
        self._db.executemany(
            "INSERT INTO pages VALUES (?,?,?,?)",
            [(doc_id, page.number, page.start, page.end) for page in layout.pages],
        )
        self._db.executemany(
            "INSERT INTO headings VALUES (?,?,?,?,?)",
            [(doc_id, h.start, h.end, h.level, h.title) for h in layout.headings],
        )

    def close(self) -> None:
        self._db.commit()
        self._db.close()


class Store:
    """Read-only access to a published build's store, safe to share across threads."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise FileNotFoundError(f"no store at {path}")
        # A published build is never written again, so SQLite may skip all locking.
        self._uri = f"file:{path.resolve()}?mode=ro&immutable=1"
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
            self._local.db = db
        return db

    def documents(self) -> list[StoredDocument]:
        rows = self._db().execute("SELECT * FROM documents ORDER BY doc_id").fetchall()
        return [StoredDocument(*row) for row in rows]

    def document(self, doc_id: str) -> StoredDocument | None:
        row = self._db().execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return StoredDocument(*row) if row else None

    def titles(self) -> dict[str, str]:
        """Every document's title by id (read once; a build never changes)."""
        cached: dict[str, str] | None = getattr(self, "_titles", None)
        if cached is None:
            rows = self._db().execute("SELECT doc_id, title FROM documents")
            cached = {doc_id: title for doc_id, title in rows}
            self._titles = cached
        return cached

    def metadata(self, doc_id: str) -> DocumentMetadataRow | None:
        """Title, publisher, date and source of a document, without its text (cached)."""
        cached: dict[str, DocumentMetadataRow] | None = getattr(self, "_metadata", None)
        if cached is None:
            rows = self._db().execute(
                "SELECT doc_id, title, publisher, published, source FROM documents"
            )
            cached = {row[0]: DocumentMetadataRow(*row) for row in rows}
            self._metadata = cached
        return cached.get(doc_id)

    def chunk_count(self) -> int:
        return int(self._db().execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    def chunks(self, ids: Iterable[int]) -> list[StoredChunk]:
        """Chunks by id, in the order asked."""
        wanted = list(ids)
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        rows = self._db().execute(f"SELECT * FROM chunks WHERE id IN ({marks})", wanted)
        by_id = {row[0]: StoredChunk(*row) for row in rows}
        return [by_id[i] for i in wanted if i in by_id]

    def sentences(self, ids: Iterable[int]) -> list[StoredSentence]:
        """Sentences by id, in id order (kept once read: a build never
        changes, and the same sentences come back question after question)."""
        wanted = sorted(set(ids))
        cache: dict[int, StoredSentence] = self.__dict__.setdefault("_sentence_cache", {})
        # Threads share the cache: each keeps what it found or read in its own dict, so another
        # thread clearing the cache meanwhile cannot lose a sentence from this answer.
        found = {i: s for i in wanted if (s := cache.get(i)) is not None}
        missing = [i for i in wanted if i not in found]
        if missing:
            if len(cache) > 200_000:
                cache.clear()
            for sentence in self._read_sentences(missing):
                found[sentence.id] = sentence
                cache[sentence.id] = sentence
        return [found[i] for i in wanted if i in found]

    def _read_sentences(self, wanted: list[int]) -> list[StoredSentence]:
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        rows = self._db().execute(
            f"SELECT * FROM sentences WHERE id IN ({marks}) ORDER BY id", wanted
        )
        return [StoredSentence(*row) for row in rows]

    def document_sentence_ids(self, doc_id: str) -> list[int]:
        rows = self._db().execute(
            "SELECT id FROM sentences WHERE doc_id = ? ORDER BY position", (doc_id,)
        )
        return [row[0] for row in rows]

    def document_chunks(self, doc_id: str) -> list[StoredChunk]:
        rows = self._db().execute(
            "SELECT * FROM chunks WHERE doc_id = ? ORDER BY position", (doc_id,)
        )
        return [StoredChunk(*row) for row in rows]

    def pages(self, doc_id: str) -> list[PageSpan]:
        """Where each page of a paged document lies in its text; empty for other formats."""
        rows = self._db().execute(
            'SELECT number, start, "end" FROM pages WHERE doc_id = ? ORDER BY number', (doc_id,)
        )
        return [PageSpan(*row) for row in rows]

    def headings(self, doc_id: str) -> list[Heading]:
        rows = self._db().execute(
            'SELECT start, "end", level, title FROM headings WHERE doc_id = ? ORDER BY start',
            (doc_id,),
        )
        return [Heading(*row) for row in rows]

    def location(self, doc_id: str, offset: int) -> Location:
        """The page (1-based, paged formats) and nearest heading at ``offset`` of a document's
        text: what a citation says about where it is."""
        cache: dict[str, LaidOutDocument] = self.__dict__.setdefault("_layout_cache", {})
        layout = cache.get(doc_id)
        if layout is None:
            if len(cache) >= _CACHED_LAYOUTS:
                cache.clear()
            layout = LaidOutDocument("", tuple(self.pages(doc_id)), tuple(self.headings(doc_id)))
            cache[doc_id] = layout
        return locate(layout, offset)
