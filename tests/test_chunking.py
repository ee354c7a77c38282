"""Chunking: runs of whole sentences within a word budget, overlapping by whole sentences."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.chunking import Chunk, chunk_document, without_wordless_sentences
from qa.sentences import Sentence, split_many, split_sentences

ARTICLE = (
    "The Copper Lantern Inn\n\n"
    "The Copper Lantern Inn opened in 1911 on the quay at Port Ellery. It was built by the "
    "shipwright Hollis Mabry, who had retired from the yards the year before.\n\n"
    "During the long winter of 1947 the inn sheltered the crew of a grounded trawler for "
    "eleven days while the harbour stayed frozen and no boat could reach the mainland. "
    "The landlady, Edith Corran, kept a diary of those days. It is now held by the county "
    "museum.\n\n"
    "Today the inn has nine rooms and a small restaurant."
)


def _words(text: str) -> int:
    return len(text.split())


def assert_well_formed(text: str, sentences: list[Sentence], chunks: list[Chunk]) -> None:
    """The invariants every chunking must keep, whatever the text and the settings."""
    starts = {s.start for s in sentences}
    ends = {s.end for s in sentences}
    covered: set[int] = set()
    for position, chunk in enumerate(chunks):
        assert chunk.index == position
        assert chunk.text == text[chunk.start : chunk.end]
        assert chunk.start in starts and chunk.end in ends, "a chunk cut a sentence"
        assert chunk.start == sentences[chunk.first_sentence].start
        assert chunk.end == sentences[chunk.last_sentence].end
        covered.update(range(chunk.first_sentence, chunk.last_sentence + 1))
    assert covered == set(range(len(sentences))), "a sentence is in no chunk"


def test_chunks_of_a_real_article_are_whole_sentences_and_cover_the_text() -> None:
    sentences = split_sentences(ARTICLE)
    chunks = chunk_document("inn", ARTICLE, sentences, max_words=30)

    assert len(chunks) > 1
    assert all(c.doc_id == "inn" for c in chunks)
    assert_well_formed(ARTICLE, sentences, chunks)
    assert chunks[-1].text.endswith("a small restaurant.")


def test_the_word_budget_holds_except_for_a_single_long_sentence() -> None:
    sentences = split_sentences(ARTICLE)
    long_sentence = max(sentences, key=lambda s: _words(ARTICLE[s.start : s.end]))
    budget = _words(ARTICLE[long_sentence.start : long_sentence.end]) - 1

    chunks = chunk_document("inn", ARTICLE, sentences, max_words=budget)

    over = [c for c in chunks if _words(c.text) > budget]
    assert [(c.start, c.end) for c in over] == [(long_sentence.start, long_sentence.end)]
    assert over[0].first_sentence == over[0].last_sentence


def test_consecutive_chunks_share_one_sentence() -> None:
    sentences = split_sentences(ARTICLE)
    chunks = chunk_document("inn", ARTICLE, sentences, max_words=30, overlap_sentences=1)

    for before, after in zip(chunks, chunks[1:], strict=False):
        if before.first_sentence < before.last_sentence:
            assert after.first_sentence == before.last_sentence
            assert ARTICLE[sentences[before.last_sentence].start : before.end] in after.text


def test_a_short_document_is_one_chunk() -> None:
    text = "The inn has nine rooms. It serves fish."
    sentences = split_sentences(text)
    assert [c.text for c in chunk_document("inn", text, sentences)] == [text]


def test_no_sentences_make_no_chunks_and_a_zero_budget_is_refused() -> None:
    assert chunk_document("empty", "", []) == []
    with pytest.raises(ValueError, match="max_words"):
        chunk_document("inn", ARTICLE, split_sentences(ARTICLE), max_words=0)


# --- property: any list of sentences, any budget, any overlap ---------------------------------

_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzäé", min_size=1, max_size=8)
_sentence = st.lists(_word, min_size=1, max_size=25).map(lambda ws: " ".join(ws) + ".")
_separator = st.sampled_from([" ", "  ", "\n", "\n\n"])


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, list[Sentence]]:
    """A text made of sentences, with the sentence offsets a splitter would report."""
    pieces = draw(st.lists(_sentence, min_size=0, max_size=30))
    text, sentences = draw(st.sampled_from(["", "Title\n\n"])), []
    for piece in pieces:
        start = len(text)
        text += piece
        sentences.append(Sentence(start, len(text)))
        text += draw(_separator)
    return text, sentences


@settings(max_examples=200, deadline=None)
@given(documents(), st.integers(1, 60), st.integers(0, 3))
def test_chunking_invariants_hold_for_any_sentences(
    document: tuple[str, list[Sentence]], max_words: int, overlap: int
) -> None:
    text, sentences = document
    chunks = chunk_document("doc", text, sentences, max_words, overlap)

    assert_well_formed(text, sentences, chunks)
    for chunk in chunks:
        assert _words(chunk.text) <= max_words or chunk.first_sentence == chunk.last_sentence
        # Greedy: the next sentence would not have fitted (chunks are not needlessly small).
        following = chunk.last_sentence + 1
        if following < len(sentences) and chunk is not chunks[-1]:
            grown = text[chunk.start : sentences[following].end]
            assert _words(grown) > max_words
    for before, after in zip(chunks, chunks[1:], strict=False):
        # Exactly ``overlap`` shared sentences, but always moving forward.
        assert after.first_sentence == max(
            before.first_sentence + 1, before.last_sentence + 1 - overlap
        )


NOISY = (
    "The Ferry\n\n"
    'The captain said: "The ferry leaves at noon."\n\n"\n\n'
    "The ferry was built in 1961 by Ada Brooks. It carries forty cars.\n\n"
    "— — —\n\n"
    "It was sold in 2001."
)


def test_wordless_sentences_go_and_the_chunks_stay_as_they_were() -> None:
    sentences = split_sentences(NOISY)
    assert '"' in [NOISY[s.start : s.end] for s in sentences]  # spaCy split the mark off
    chunks = chunk_document("ferry", NOISY, sentences, max_words=8, overlap_sentences=1)
    kept, pointed = without_wordless_sentences(NOISY, sentences, chunks)

    texts = [NOISY[s.start : s.end] for s in kept]
    assert all(any(c.isalnum() for c in t) for t in texts) and "— — —" not in texts
    # What retrieval ranks is unchanged, but for chunks of nothing but punctuation; each chunk
    # now points at the sentences it still holds.
    assert [(c.start, c.end, c.text) for c in pointed] == [
        (c.start, c.end, c.text) for c in chunks if any(ch.isalnum() for ch in c.text)
    ]
    assert len(pointed) >= 3
    for position, chunk in enumerate(pointed):
        assert chunk.index == position
        assert chunk.start <= kept[chunk.first_sentence].start
        assert kept[chunk.last_sentence].end <= chunk.end
    covered = {i for c in pointed for i in range(c.first_sentence, c.last_sentence + 1)}
    assert covered == set(range(len(kept)))


def test_a_chunk_of_wordless_sentences_alone_is_dropped() -> None:
    text = "— — —\n\nThe ferry was built in 1961."
    sentences = split_sentences(text)
    chunks = chunk_document("ferry", text, sentences, max_words=3, overlap_sentences=0)
    assert len(chunks) == 2
    kept, pointed = without_wordless_sentences(text, sentences, chunks)
    assert [c.text for c in pointed] == ["The ferry was built in 1961."]
    assert [text[s.start : s.end] for s in kept] == ["The ferry was built in 1961."]


def test_many_texts_parsed_as_one_stream_split_as_each_alone() -> None:
    """split_many batches texts (and a long text's blocks) through the parser together; every
    text still gets exactly its own sentences, offsets into its own text."""
    long_text = "\n\n".join(
        f"Paragraph {n} opens here. It closes with a date." for n in range(1500)
    )
    texts = [ARTICLE, "", "Just one sentence", long_text, NOISY]
    together = list(split_many(texts))
    assert len(together) == len(texts)
    for text, sentences in zip(texts, together, strict=True):
        assert sentences == split_sentences(text)
        assert all(text[s.start : s.end].strip() for s in sentences)
    assert len(together[3]) == 3000


def test_texts_parsed_on_several_threads_get_the_same_sentences_in_order() -> None:
    # Enough text for several batches, so the threads really share the work.
    texts = [
        "\n\n".join(f"Text {t}, paragraph {n}. Dr. Ames said so in 1961." for n in range(400))
        for t in range(8)
    ]
    texts.insert(3, ARTICLE)
    alone = list(split_many(texts))
    assert list(split_many(texts, threads=3)) == alone
    assert [len(found) for found in alone[:3]] == [800, 800, 800]
