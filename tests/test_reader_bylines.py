"""Who wrote a news story: the reader reads the byline of the page that matches the question."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.answering import Answerer
from qa.embedding import Embedder, load_embedder
from qa.indexing import build_index
from qa.settings import Settings

pytestmark = pytest.mark.model

PAGES = {
    "pier.txt": (
        "Harbour opens its new pier\n\n"
        "By Ann Writer\n\n"
        "The harbour authority opened a new pier on Monday. The pier cost two million dollars "
        "and took three years to build, the authority said.\n"
    ),
    "market.txt": (
        "Market moves to the square\n\n"
        "By Tom Reporter\n\n"
        "The weekly farmers market moved to the town square on Saturday, where stalls now line "
        "the fountain.\n"
    ),
}


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return load_embedder(Settings().resolved_model_path())


def answerer_over(tmp_path: Path, embedder: Embedder) -> Answerer:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in PAGES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    build_index(settings, lambda: embedder, progress=False)
    return Answerer(settings, embedder=embedder)


def test_who_wrote_a_story_is_answered_by_that_pages_byline(
    tmp_path: Path, embedder: Embedder
) -> None:
    answerer = answerer_over(tmp_path, embedder)
    pier = answerer.ask("Who wrote the story about the new pier at the harbour?")
    market = answerer.ask("Who wrote the article about the farmers market moving?")
    assert [a.text for a in pier.answers][:1] == ["Ann Writer"]
    assert [a.text for a in market.answers][:1] == ["Tom Reporter"]
    citation = pier.answers[0].citations[0]
    text = answerer.document(citation.doc_id).text  # type: ignore[union-attr]
    assert text[citation.start : citation.end] == "Ann Writer"
