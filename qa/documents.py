"""Reading documents: a folder of .txt/.md/.html/.pdf/.docx files -> blocks plus metadata.

This is the first stage of the pipeline. ``qa.corpus_walk`` says which entries of the folder
are documents; ``qa.formats`` reads each by its format into blocks (headings, paragraphs, list
items, table rows, and scraped text whose structure is unknown); ``qa.layout`` then makes the
indexed text of them. Nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from qa.blocks import Block
from qa.corpus_walk import (
    METADATA_FILE,
    SUPPORTED_SUFFIXES,
    require_directory,
    walk_corpus,
)
from qa.formats import FORMATS, DocumentMetadata, DocumentReadError, read_content

__all__ = [
    "METADATA_FILE",
    "SUPPORTED_SUFFIXES",
    "CorpusLoad",
    "DocumentMetadata",
    "DocumentReadError",
    "LoadFailure",
    "SourceDocument",
    "document_ids",
    "file_checksum",
    "list_corpus_files",
    "load_corpus",
    "read_document",
    "read_metadata",
]

_METADATA_FIELDS = ("title", "publisher", "published", "source")
_MAX_TITLE_CHARS = 200


@dataclass(frozen=True)
class SourceDocument:
    """One file of the corpus, read into blocks but not yet laid out as indexed text."""

    doc_id: str
    path: Path
    format: str  # "txt" | "md" | "html" | "pdf" | "docx"
    blocks: tuple[Block, ...]
    checksum: str  # sha256 hex of the file bytes
    metadata: DocumentMetadata
    page_count: int | None = None  # paged formats (PDF) only

    @property
    def raw_text(self) -> str:
        """The blocks' text joined by blank lines, before any cleaning."""
        return "\n\n".join(block.text for block in self.blocks)


@dataclass(frozen=True)
class LoadFailure:
    """A file or folder entry that could not be read, and why, in words a user can act on."""

    path: Path
    reason: str


@dataclass(frozen=True)
class CorpusLoad:
    """The result of reading a corpus folder: what loaded and what did not."""

    documents: list[SourceDocument]
    failures: list[LoadFailure]


def file_checksum(path: Path) -> str:
    """SHA-256 hex digest of the file's bytes, read in blocks so large PDFs stay cheap."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def list_corpus_files(
    corpus_dir: Path, *, follow_outside_links: bool = False, max_file_bytes: int | None = None
) -> list[Path]:
    """The document files under ``corpus_dir``, recursively, sorted by relative path (what
    ``qa.corpus_walk`` keeps: no hidden entries, README.md, sidecar, links leading out or files
    over the size limit)."""
    return walk_corpus(
        corpus_dir, follow_outside_links=follow_outside_links, max_file_bytes=max_file_bytes
    ).files


def read_metadata(corpus_dir: Path) -> dict[str, DocumentMetadata]:
    """The sidecar ``metadata.json``, keyed by file name relative to ``corpus_dir``.

    A missing sidecar is an empty mapping. A sidecar that is not a JSON object of objects with
    string fields raises ``DocumentReadError``; unknown fields are refused so that a typo
    ("titel") is reported instead of silently ignored. A field may be null (unknown).
    """
    path = corpus_dir / METADATA_FILE
    if not path.exists():
        return {}
    try:
        entries = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as error:
        raise DocumentReadError(f"could not be read: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise DocumentReadError("not valid UTF-8 text") from error
    except json.JSONDecodeError as error:
        raise DocumentReadError(
            f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from error
    if not isinstance(entries, dict):
        raise DocumentReadError("expected a JSON object mapping file names to metadata")

    metadata = {}
    for name, entry in entries.items():
        if not isinstance(entry, dict):
            raise DocumentReadError(f"entry {name!r}: expected an object with {_field_list()}")
        unknown = sorted(set(entry) - set(_METADATA_FIELDS))
        if unknown:
            raise DocumentReadError(
                f"entry {name!r}: unknown field(s) {', '.join(unknown)} (allowed: {_field_list()})"
            )
        values = {}
        for field in _METADATA_FIELDS:
            value = entry.get(field)
            if value is not None and not isinstance(value, str):
                raise DocumentReadError(f"entry {name!r}: {field!r} must be a string")
            values[field] = (value or "").strip()
        metadata[name] = DocumentMetadata(**values)
    return metadata


def read_document(path: Path, metadata: DocumentMetadata | None = None) -> SourceDocument:
    """Read one file into a ``SourceDocument``, or raise ``DocumentReadError`` with the reason.

    Fields of ``metadata`` (from the sidecar) win; empty ones are filled from the file's own
    metadata (HTML title/site/date/URL, PDF title) and the title finally falls back to the
    first non-empty line of the text, then to the file stem. ``doc_id`` is the file stem;
    ``load_corpus`` keeps it where no other file has that stem, and uses the path relative to
    the corpus ("sub/a.txt") where several do: ids never depend on the order of the files, and
    a file added later never gets an id another file had.
    """
    file_format = FORMATS.get(path.suffix.lower())
    if file_format is None:
        supported = ", ".join(SUPPORTED_SUFFIXES)
        raise DocumentReadError(f"unsupported file type {path.suffix!r} (supported: {supported})")
    try:
        data = path.read_bytes()
    except OSError as error:
        reason = "permission denied" if isinstance(error, PermissionError) else error.strerror
        raise DocumentReadError(f"could not be read ({reason or error})") from error
    if not data.strip():
        raise DocumentReadError("empty file")

    reading = read_content(file_format, data)
    own = reading.metadata
    given = metadata or DocumentMetadata(title="")
    title = given.title or own.title or _first_line_title(reading.blocks, file_format) or path.stem
    return SourceDocument(
        doc_id=path.stem,
        path=path,
        format=file_format,
        blocks=reading.blocks,
        checksum=hashlib.sha256(data).hexdigest(),
        metadata=DocumentMetadata(
            title=title,
            publisher=given.publisher or own.publisher,
            published=given.published or own.published,
            source=given.source or own.source,
        ),
        page_count=reading.page_count,
    )


def load_corpus(
    corpus_dir: Path, *, follow_outside_links: bool = False, max_file_bytes: int | None = None
) -> CorpusLoad:
    """Read every document under ``corpus_dir``; bad files and skipped entries become
    ``LoadFailure``s, each named with its reason.

    Never raises for a bad file, an entry that is not a file, or a broken metadata.json (that
    is reported as a failure and loading goes on without sidecar metadata). A missing folder
    raises ``FileNotFoundError``.
    """
    require_directory(corpus_dir)
    failures: list[LoadFailure] = []
    try:
        sidecar = read_metadata(corpus_dir)
    except DocumentReadError as error:
        failures.append(LoadFailure(corpus_dir / METADATA_FILE, str(error)))
        sidecar = {}

    entries = walk_corpus(
        corpus_dir, follow_outside_links=follow_outside_links, max_file_bytes=max_file_bytes
    )
    failures += [LoadFailure(entry.path, entry.reason) for entry in entries.skipped]
    documents: list[SourceDocument] = []
    for doc_id, path in document_ids(corpus_dir, entries.files).items():
        relative = path.relative_to(corpus_dir).as_posix()
        try:
            document = read_document(path, sidecar.get(relative))
        except DocumentReadError as error:
            failures.append(LoadFailure(path, str(error)))
            continue
        documents.append(replace(document, doc_id=doc_id))
    return CorpusLoad(documents=documents, failures=failures)


def document_ids(corpus_dir: Path, paths: list[Path]) -> dict[str, Path]:
    """Each document file of ``corpus_dir`` by its id, in the order of ``paths``: a stem no
    other file shares (and no file's path spells) is the id; otherwise the path relative to
    the folder ("sub/a.txt"), which no two files share."""
    stems = Counter(path.stem for path in paths)
    relatives = {path.relative_to(corpus_dir).as_posix() for path in paths}
    ids = {}
    for path in paths:
        shared = stems[path.stem] > 1 or path.stem in relatives
        ids[path.relative_to(corpus_dir).as_posix() if shared else path.stem] = path
    return ids


def _field_list() -> str:
    return ", ".join(_METADATA_FIELDS)


def _first_line_title(blocks: tuple[Block, ...], file_format: str) -> str:
    """The first non-empty line, trimmed; for Markdown without its heading marks."""
    for block in blocks:
        for line in block.text.splitlines():
            line = line.strip()
            if file_format == "md":
                line = line.lstrip("#").strip()
            if line:
                return line[:_MAX_TITLE_CHARS].rstrip()
    return ""
