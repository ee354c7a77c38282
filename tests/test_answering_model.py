"""End to end with the real model over the bundled corpus: what every answer must keep.

The invariants are checked over every answer to a batch of questions (the gold questions, asked
as a user would after their history, and some of our own), so a new reader rule cannot break
them on a question nobody looked at.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import READER_GAP

from qa.answering import ABSTAIN_MESSAGE, Answerer, AskResponse
from qa.conversation import Turn
from qa.questions import analyse_question

pytestmark = pytest.mark.model

GOLD = Path(__file__).resolve().parent.parent / "eval" / "gold.jsonl"

# Our own questions, of forms the gold set has few of: broad lists, definitions, off-topic.
OWN_QUESTIONS = [
    "Which cities have Chinese police stations?",
    "Which Italian cities had joint patrols with Chinese police?",
    "Which countries have closed Chinese police stations?",
    "Who is Laura Harth?",
    "What is Safeguard Defenders?",
    "How many overseas police stations were reported in total?",
    "When did the RCMP open its investigation?",
    "Which newspaper reported the RCMP investigation?",
    "Which broadcaster did Harth tell about luring or entrapment of individuals?",
    "What is the boiling point of mercury?",
    "Who won the 1966 World Cup?",
    "How many moons does Jupiter have?",
]

OFF_TOPIC = [
    "What is the boiling point of mercury?",
    "Who won the 1966 World Cup?",
    "How many moons does Jupiter have?",
]


@dataclass(frozen=True)
class Asked:
    question: str
    history: tuple[str, ...]
    response: AskResponse


def _gold_conversations() -> list[tuple[str, tuple[str, ...]]]:
    rows = [json.loads(line) for line in GOLD.read_text().splitlines() if line.strip()]
    return [(row["question"], tuple(row["history"])) for row in rows]


def _ask_after(answerer: Answerer, question: str, history: tuple[str, ...]) -> AskResponse:
    turns: list[Turn] = []
    for earlier in history:
        response = answerer.ask(earlier, history=turns)
        turns.append(
            Turn(
                question=earlier,
                resolved_question=response.resolved_question,
                answers=[a.text for a in response.answers],
            )
        )
    return answerer.ask(question, history=turns)


@pytest.fixture(scope="module")
def asked(real_answerer: Answerer) -> list[Asked]:
    batch = _gold_conversations() + [(q, ()) for q in OWN_QUESTIONS]
    return [Asked(q, h, _ask_after(real_answerer, q, h)) for q, h in batch]


def test_every_citation_points_at_its_answer_verbatim(
    asked: list[Asked], real_answerer: Answerer
) -> None:
    texts: dict[str, str] = {}
    answers = [(item.question, answer) for item in asked for answer in item.response.answers]
    assert len(answers) > 50  # the batch really exercises the reader
    for question, answer in answers:
        assert answer.text.strip() == answer.text and answer.text, question
        assert 0.0 <= answer.score <= 1.0, question
        assert answer.citations, f"{question!r}: answer {answer.text!r} cites nothing"
        for citation in answer.citations:
            if citation.doc_id not in texts:
                document = real_answerer.document(citation.doc_id)
                assert document is not None, citation.doc_id
                texts[citation.doc_id] = document.text
            text = texts[citation.doc_id]
            assert text[citation.start : citation.end] == answer.text, question
            assert text[citation.quote_start : citation.quote_end] == citation.quote, question
            assert citation.quote_start <= citation.start <= citation.end <= citation.quote_end
            assert answer.text in citation.quote, question


def test_an_abstention_has_no_answers_and_says_so(asked: list[Asked]) -> None:
    abstained = [item for item in asked if item.response.abstained]
    answered = [item for item in asked if not item.response.abstained]
    assert abstained and answered
    for item in abstained:
        assert item.response.answers == [] and item.response.message == ABSTAIN_MESSAGE
    for item in answered:
        assert item.response.answers and item.response.message == "", item.question


def test_list_answers_are_distinct(asked: list[Asked]) -> None:
    lists = [
        item
        for item in asked
        if analyse_question(item.response.resolved_question).is_list and item.response.answers
    ]
    assert len(lists) >= 5
    for item in lists:
        keys = [answer.text.casefold() for answer in item.response.answers]
        assert len(keys) == len(set(keys)), f"{item.question!r} repeats an answer: {keys}"


def test_a_question_the_documents_do_not_touch_is_not_answered(asked: list[Asked]) -> None:
    by_question = {item.question: item.response for item in asked if not item.history}
    for question in OFF_TOPIC:
        assert by_question[question].abstained, (question, by_question[question].answers)


@READER_GAP
def test_the_newspaper_that_reported_the_rcmp_investigation_is_named(
    real_answerer: Answerer,
) -> None:
    response = real_answerer.ask("Which newspaper reported the RCMP investigation?")
    first = response.answers[0]
    assert "Journal de Montreal" in first.text
    assert "Journal de Montreal" in first.citations[0].quote


@READER_GAP
def test_a_name_at_the_end_of_a_sentence_is_answered_without_the_full_stop(
    real_answerer: Answerer,
) -> None:
    response = real_answerer.ask(
        "Which broadcaster did Harth tell about luring or entrapment of individuals?"
    )
    assert response.answers and response.answers[0].text == "CNN"
