"""Reading documents: a folder of .txt/.md/.html/.pdf files -> raw text plus metadata.

This is the first stage of the pipeline. It only gets text out of files; removing menus, share
buttons and other page furniture is the job of ``qa.cleaning``. Nothing here touches the
network: trafilatura is only ever handed the file's content, never a URL.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import lxml.html
import pypdf
import trafilatura
from lxml import etree

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
METADATA_FILE = "metadata.json"

_FORMATS = {".txt": "txt", ".md": "md", ".html": "html", ".htm": "html", ".pdf": "pdf"}
_SKIPPED_NAMES = {"readme.md", METADATA_FILE}
_METADATA_FIELDS = ("title", "publisher", "published", "source")
_MAX_TITLE_CHARS = 200

# Elements whose text a reader never sees, and block elements that end a line of visible text.
_INVISIBLE_TAGS = ("script", "style", "noscript", "template", "head")
_BLOCK_TAGS = (
    "p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6",
    "section", "article", "header", "footer", "nav", "blockquote", "pre", "table", "ul", "ol",
)  # fmt: skip


@dataclass(frozen=True)
class DocumentMetadata:
    """What is known about a document besides its text; empty strings mean unknown."""

    title: str
    publisher: str = ""
    published: str = ""  # free text date as known, e.g. "2022-12-22"
    source: str = ""  # URL if known


@dataclass(frozen=True)
class SourceDocument:
    """One file of the corpus, read but not yet cleaned."""

    doc_id: str
    path: Path
    format: str  # "txt" | "md" | "html" | "pdf"
    raw_text: str
    checksum: str  # sha256 hex of the file bytes
    metadata: DocumentMetadata


@dataclass(frozen=True)
class LoadFailure:
    """A file that could not be read, and why, in words a user can act on."""

    path: Path
    reason: str


@dataclass(frozen=True)
class CorpusLoad:
    """The result of reading a corpus folder: what loaded and what did not."""

    documents: list[SourceDocument]
    failures: list[LoadFailure]


class DocumentReadError(Exception):
    """A file (or the metadata sidecar) could not be read; the message is the reason."""


def file_checksum(path: Path) -> str:
    """SHA-256 hex digest of the file's bytes, read in blocks so large PDFs stay cheap."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def list_corpus_files(corpus_dir: Path) -> list[Path]:
    """The readable files under ``corpus_dir``, recursively, sorted by relative path.

    Skips unsupported suffixes, README.md, metadata.json and anything hidden (a name, or a
    folder on the way to it, starting with a dot).
    """
    _require_directory(corpus_dir)
    files = []
    for path in corpus_dir.rglob("*"):
        relative = path.relative_to(corpus_dir)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.name.lower() in _SKIPPED_NAMES or path.suffix.lower() not in _FORMATS:
            continue
        if path.is_file():
            files.append(path)
    return sorted(files, key=lambda path: path.relative_to(corpus_dir).as_posix())


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
    file_format = _FORMATS.get(path.suffix.lower())
    if file_format is None:
        supported = ", ".join(SUPPORTED_SUFFIXES)
        raise DocumentReadError(f"unsupported file type {path.suffix!r} (supported: {supported})")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DocumentReadError(f"could not be read: {error.strerror or error}") from error
    if not data.strip():
        raise DocumentReadError("empty file")

    if file_format == "pdf":
        raw_text, own = _read_pdf(data)
    elif file_format == "html":
        raw_text, own = _read_html(_decode_text(data))
    else:
        # Markdown is kept verbatim: its syntax carries structure that cleaning may use.
        raw_text, own = _decode_text(data), DocumentMetadata(title="")

    given = metadata or DocumentMetadata(title="")
    title = given.title or own.title or _first_line_title(raw_text, file_format) or path.stem
    return SourceDocument(
        doc_id=path.stem,
        path=path,
        format=file_format,
        raw_text=raw_text,
        checksum=hashlib.sha256(data).hexdigest(),
        metadata=DocumentMetadata(
            title=title,
            publisher=given.publisher or own.publisher,
            published=given.published or own.published,
            source=given.source or own.source,
        ),
    )


def load_corpus(corpus_dir: Path) -> CorpusLoad:
    """Read every supported file under ``corpus_dir``; bad files become ``LoadFailure``s.

    Never raises for a bad file or a broken metadata.json (that is reported as a failure and
    loading goes on without sidecar metadata). A missing folder raises ``FileNotFoundError``.
    """
    _require_directory(corpus_dir)
    failures: list[LoadFailure] = []
    try:
        sidecar = read_metadata(corpus_dir)
    except DocumentReadError as error:
        failures.append(LoadFailure(corpus_dir / METADATA_FILE, str(error)))
        sidecar = {}

    documents: list[SourceDocument] = []
    paths = list_corpus_files(corpus_dir)
    stems = Counter(path.stem for path in paths)
    relatives = {path.relative_to(corpus_dir).as_posix() for path in paths}
    for path in paths:
        relative = path.relative_to(corpus_dir).as_posix()
        try:
            document = read_document(path, sidecar.get(relative))
        except DocumentReadError as error:
            failures.append(LoadFailure(path, str(error)))
            continue
        # A stem no other file shares (and no file's path spells) is the id; otherwise the
        # path, which no two files share.
        shared = stems[path.stem] > 1 or path.stem in relatives
        doc_id = relative if shared else path.stem
        documents.append(replace(document, doc_id=doc_id))
    return CorpusLoad(documents=documents, failures=failures)


def _require_directory(corpus_dir: Path) -> None:
    if not corpus_dir.exists():
        raise FileNotFoundError(f"corpus folder not found: {corpus_dir}")
    if not corpus_dir.is_dir():
        raise NotADirectoryError(f"corpus path is not a folder: {corpus_dir}")


def _field_list() -> str:
    return ", ".join(_METADATA_FIELDS)


def _decode_text(data: bytes) -> str:
    """Decode a text file: UTF-8 (BOM tolerated), UTF-16 with a BOM, else cp1252.

    cp1252 rather than charset detection: on short Western text, detectors guess neighbouring
    code pages (cp1250) and garble accented letters, while cp1252 is what non-UTF-8 English
    and Western European files almost always are. NUL bytes mean binary, which is refused.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise DocumentReadError("not valid UTF-16 text") from error
    elif b"\x00" in data:
        raise DocumentReadError("binary file (contains NUL bytes), not text")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError as error:
                raise DocumentReadError("not valid UTF-8 text (nor cp1252)") from error
    if not text.strip():
        raise DocumentReadError("empty file")
    return text


def _read_html(html: str) -> tuple[str, DocumentMetadata]:
    """Main content via trafilatura, or the visible text when it finds no main content."""
    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True)
    if not text or not text.strip():
        text = _visible_html_text(html)
    if not text.strip():
        raise DocumentReadError("no text found in HTML")

    found = trafilatura.extract_metadata(html)
    own = DocumentMetadata(
        title=(found.title or "").strip(),
        publisher=(found.sitename or "").strip(),
        published=(found.date or "").strip(),
        source=(found.url or "").strip(),
    )
    return text, own


def _visible_html_text(html: str) -> str:
    """All text a browser would show, one line per block element."""
    # The text is already decoded, so the parser is told the encoding instead of trusting a
    # <meta charset> (or an XML declaration, which lxml refuses on str input).
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
    try:
        root = lxml.html.fromstring(html.encode("utf-8"), parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError) as error:
        raise DocumentReadError(f"HTML could not be parsed: {error}") from error
    for element in list(root.iter(*_INVISIBLE_TAGS)):
        element.drop_tree()
    for element in root.iter(*_BLOCK_TAGS):
        element.tail = "\n" + (element.tail or "")
    return str(root.text_content())


def _read_pdf(data: bytes) -> tuple[str, DocumentMetadata]:
    """Text of the pages joined by blank lines, and the title from the PDF's info dictionary."""
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        # Many PDFs are "encrypted" with an empty user password only; those open without one.
        if reader.is_encrypted and reader.decrypt("") == pypdf.PasswordType.NOT_DECRYPTED:
            raise DocumentReadError("PDF is encrypted with a password")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
        title = info.title if info is not None else None
    except DocumentReadError:
        raise
    except Exception as error:
        # pypdf raises many exception types on malformed files (PdfReadError, ValueError,
        # KeyError, zlib errors...); each is this file's failure, reported with its cause.
        raise DocumentReadError(
            f"PDF could not be parsed: {type(error).__name__}: {error}"
        ) from error

    text = "\n\n".join(page.strip("\n") for page in pages if page.strip())
    if not text:
        raise DocumentReadError("no text found in PDF (scanned pages need OCR first)")
    return text, DocumentMetadata(title=title.strip() if isinstance(title, str) else "")


def _first_line_title(text: str, file_format: str) -> str:
    """The first non-empty line, trimmed; for Markdown without its heading marks."""
    for line in text.splitlines():
        line = line.strip()
        if file_format == "md":
            line = line.lstrip("#").strip()
        if line:
            return line[:_MAX_TITLE_CHARS].rstrip()
    return ""
