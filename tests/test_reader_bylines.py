"""Who wrote a news story: the reader reads the byline of the page that matches the question."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import READER_GAP, model_answerer_over

from qa.embedding import Embedder

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


@READER_GAP
def test_who_wrote_a_story_is_answered_by_that_pages_byline(
    tmp_path: Path, model_embedder: Embedder
) -> None:
    answerer = model_answerer_over(tmp_path, PAGES, model_embedder)
    pier = answerer.ask("Who wrote the story about the new pier at the harbour?")
    market = answerer.ask("Who wrote the article about the farmers market moving?")
    assert [a.text for a in pier.answers][:1] == ["Ann Writer"]
    assert [a.text for a in market.answers][:1] == ["Tom Reporter"]
    citation = pier.answers[0].citations[0]
    text = answerer.document(citation.doc_id).text  # type: ignore[union-attr]
    assert text[citation.start : citation.end] == "Ann Writer"
