"""Chunks: runs of whole sentences, up to a word budget, overlapping by whole sentences."""

from __future__ import annotations

from dataclasses import dataclass, replace

from qa.sentences import Sentence
from qa.terms import has_letter_or_digit


@dataclass(frozen=True)
class Chunk:
    """A passage of one document; ``text == cleaned_text[start:end]``."""

    doc_id: str
    index: int  # position of the chunk within its document
    start: int
    end: int
    text: str
    first_sentence: int  # index into the document's sentence list, inclusive
    last_sentence: int  # inclusive


def chunk_document(
    doc_id: str,
    text: str,
    sentences: list[Sentence],
    max_words: int = 120,
    overlap_sentences: int = 1,
) -> list[Chunk]:
    """Group sentences into chunks of at most ``max_words`` words (a longer sentence stands alone).

    Consecutive chunks share ``overlap_sentences`` sentences so an answer that needs the sentence
    before it still finds it in one chunk.
    """
    if max_words < 1:
        raise ValueError("max_words must be at least 1")
    words = [len(text[s.start : s.end].split()) for s in sentences]
    chunks: list[Chunk] = []
    first = 0
    while first < len(sentences):
        last = first
        total = words[first]
        while last + 1 < len(sentences) and total + words[last + 1] <= max_words:
            last += 1
            total += words[last]
        start, end = sentences[first].start, sentences[last].end
        chunks.append(Chunk(doc_id, len(chunks), start, end, text[start:end], first, last))
        if last + 1 >= len(sentences):
            break
        # Step forward, keeping the overlap but always advancing by at least one sentence.
        first = max(first + 1, last + 1 - overlap_sentences)
    return chunks


def without_wordless_sentences(
    text: str, sentences: list[Sentence], chunks: list[Chunk]
) -> tuple[list[Sentence], list[Chunk]]:
    """The sentences that hold a letter or digit, and the chunks pointed at them again.

    A closing quote mark spaCy split off, or a row of dashes, is no sentence: nothing is answered
    or quoted from it. It stays in its chunk's text, so the chunks (and what retrieval ranks) are
    those the whole sentence list made; a chunk left without any sentence is dropped.
    """
    kept = [i for i, s in enumerate(sentences) if has_letter_or_digit(text[s.start : s.end])]
    renumbered = {old: new for new, old in enumerate(kept)}
    pointed: list[Chunk] = []
    for chunk in chunks:
        inside = [
            renumbered[i]
            for i in range(chunk.first_sentence, chunk.last_sentence + 1)
            if i in renumbered
        ]
        if inside:
            pointed.append(
                replace(
                    chunk, index=len(pointed), first_sentence=inside[0], last_sentence=inside[-1]
                )
            )
    return [sentences[i] for i in kept], pointed
