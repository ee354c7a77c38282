"""Reading files by format: each file's bytes -> its blocks and the metadata it states itself.

One module per format, each over a maintained library that knows the format's structure:
Markdown through markdown-it-py, HTML through trafilatura's main-content extraction (tables and
lists kept), PDF through pdfplumber (page by page, with its tables and font sizes), Word through
python-docx. Plain text has no structure to read: it is one scraped block. Nothing here touches
the network: every library is handed bytes or a string, never a URL.
"""

from __future__ import annotations

from dataclasses import dataclass

from qa.blocks import Block

# File suffix -> format name.
FORMATS = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}


class DocumentReadError(Exception):
    """A file (or the metadata sidecar) could not be read; the message is the reason."""


@dataclass(frozen=True)
class DocumentMetadata:
    """What is known about a document besides its text; empty strings mean unknown."""

    title: str
    publisher: str = ""
    published: str = ""  # a date as the document states it, e.g. "2022-12-22"; never guessed
    source: str = ""  # URL if known


@dataclass(frozen=True)
class Reading:
    """A file as its format reader understood it."""

    blocks: tuple[Block, ...]
    metadata: DocumentMetadata
    page_count: int | None = None  # paged formats only


def read_content(file_format: str, data: bytes) -> Reading:
    """The blocks and own metadata of a file's bytes; ``DocumentReadError`` says why not."""
    if file_format == "md":
        from qa.formats.markdown import read_markdown

        return read_markdown(data)
    if file_format == "html":
        from qa.formats.html import read_html

        return read_html(data)
    if file_format == "pdf":
        from qa.formats.pdf import read_pdf

        return read_pdf(data)
    if file_format == "docx":
        from qa.formats.word import read_docx

        return read_docx(data)
    from qa.formats.text import read_plain_text

    return read_plain_text(data)
