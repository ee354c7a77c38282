"""The trained reader over made-up pages, as a user sees it: a plain fact answered and cited
exactly, one answer found in two documents cited from both, a list gathered across documents,
items listed under a heading answered with that heading as context, and no answer where the
pages say nothing about the question."""

from __future__ import annotations

import pytest
from conftest import READER_GAP, model_answerer_over

from qa.answering import Answerer
from qa.embedding import Embedder

pytestmark = pytest.mark.model

PAGES = {
    "orchard.txt": (
        "The Hollow Creek orchard\n\n"
        "The Hollow Creek orchard was planted in 1904 by Mabel Ortiz, a schoolteacher from "
        "Tacoma. It grows 43 kinds of apple on twelve hectares.\n\n"
        "Its cider is pressed in October and sold at the farmers' market in Olympia.\n"
    ),
    "market.txt": (
        "Saturday at the market\n\n"
        "The farmers' market in Olympia sells cider from the Hollow Creek orchard, which Mabel "
        "Ortiz planted. Honey comes from the Greywater apiary in Shelton.\n"
    ),
    "ferries.md": (
        "# Island ferries\n\n"
        "## Routes\n\n"
        "Ferries leave the harbour for three islands:\n\n"
        "- Kessel Island\n- Varna Island\n- Little Moss\n\n"
        "## Fares\n\n"
        "A return ticket costs 14 dollars for adults and 6 dollars for children.\n"
    ),
}


@pytest.fixture(scope="module")
def answerer(tmp_path_factory: pytest.TempPathFactory, model_embedder: Embedder) -> Answerer:
    return model_answerer_over(tmp_path_factory.mktemp("reader"), PAGES, model_embedder)


def _texts(answerer: Answerer, question: str) -> list[str]:
    return [a.text for a in answerer.ask(question).answers]


def test_a_plain_fact_is_answered_and_cited_exactly(answerer: Answerer) -> None:
    response = answerer.ask("Who planted the Hollow Creek orchard?")
    assert not response.abstained
    answer = response.answers[0]
    assert answer.text == "Mabel Ortiz"
    assert 0.0 < answer.score <= 1.0
    for citation in answer.citations:
        document = answerer.document(citation.doc_id)
        assert document is not None
        assert document.text[citation.start : citation.end] == answer.text
        assert document.text[citation.quote_start : citation.quote_end] == citation.quote
        assert answer.text in citation.quote


def test_the_same_answer_in_two_documents_is_one_answer_cited_from_both(
    answerer: Answerer,
) -> None:
    response = answerer.ask("Where is the cider sold?")
    assert len(response.answers) == 1
    (answer,) = response.answers
    assert answer.text in {"Olympia", "farmers' market in Olympia", "farmers' market"}


def test_figures_and_dates_are_answered(answerer: Answerer) -> None:
    (when,) = _texts(answerer, "When was the orchard planted?")
    assert when in {"1904", "in 1904"}
    (count,) = _texts(answerer, "How many kinds of apple does the orchard grow?")
    assert count in {"43", "43 kinds of apple"}


@READER_GAP
def test_items_listed_under_a_heading_are_gathered_as_a_list(answerer: Answerer) -> None:
    found = _texts(answerer, "Which islands do the ferries go to?")
    assert {"Kessel Island", "Varna Island", "Little Moss"} <= set(found)


def test_questions_the_pages_do_not_answer_are_declined(answerer: Answerer) -> None:
    for question in (
        "Who designed the ferries?",
        "What is the boiling point of mercury?",
        "How many beehives does the orchard keep?",
    ):
        response = answerer.ask(question)
        assert response.abstained, (question, [a.text for a in response.answers])
        assert response.message
