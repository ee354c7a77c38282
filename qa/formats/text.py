"""Plain text: decoded, and handed on whole as one scraped block (its structure is unknown)."""

from __future__ import annotations

import codecs

from qa.blocks import Block, BlockKind
from qa.formats import DocumentMetadata, DocumentReadError, Reading


def read_plain_text(data: bytes) -> Reading:
    """A .txt file: the scraped-page rules of ``qa.cleaning`` decide what of it is article."""
    return Reading((Block(BlockKind.SCRAPED, decode_text(data)),), DocumentMetadata(title=""))


def decode_text(data: bytes) -> str:
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
