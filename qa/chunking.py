"""Chunks: runs of whole sentences, up to a word budget, overlapping by whole sentences."""

from __future__ import annotations

from dataclasses import dataclass

from qa.sentences import Sentence


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
