"""Answers that sit only in a bullet, a table row or a later page of a PDF are found, and every
citation says where it is: exact offsets, the page (PDF, 1-based) and the nearest heading.

The real model over the made-up documents (a PDF written by fpdf2, a .docx by python-docx).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import READER_GAP
from fastapi.testclient import TestClient

from api.main import create_app
from api.routes_openai import format_reply
from api.slack_format import format_answer
from qa.answering import Answerer
from qa.answers import Citation, citation_place

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def client(made_answerer: Answerer) -> Iterator[TestClient]:
    with TestClient(create_app(made_answerer.settings, made_answerer)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "question, answer, doc_id, page, section",
    [
        ("How much do tickets cost?", "12 dollars", "festival", None, "Tickets"),  # a bullet
        ("What was the attendance in 2019?", "11,800", "festival", None, "Attendance"),  # a row
        pytest.param(  # a PDF row
            "How much did mooring fees bring in?",
            "820,000",
            "report",
            2,
            "Finances",
            marks=READER_GAP,
        ),
        ("How much did income rise to?", "1.2 million dollars", "report", 2, "Finances"),
        ("How many times did the board meet?", "six", "report", 3, "Board"),
        pytest.param(  # a Word table
            "When is the bench order due?", "April", "minutes", None, "Actions", marks=READER_GAP
        ),
    ],
)
def test_the_answer_is_cited_where_it_is(
    client: TestClient,
    question: str,
    answer: str,
    doc_id: str,
    page: int | None,
    section: str,
) -> None:
    body = client.post("/ask", json={"question": question}).json()

    assert not body["abstained"], question
    first = body["answers"][0]
    assert first["text"] == answer
    citation = first["citations"][0]
    assert (citation["doc_id"], citation["page"], citation["section"]) == (doc_id, page, section)
    document = client.get(f"/documents/{doc_id}").json()
    assert document["text"][citation["start"] : citation["end"]] == answer
    assert document["text"][citation["quote_start"] : citation["quote_end"]] == citation["quote"]
    if page is not None:
        bounds = document["pages"][page - 1]
        assert bounds["page"] == page
        assert bounds["start"] <= citation["start"] < citation["end"] <= bounds["end"]


def test_a_pdf_document_shows_its_page_boundaries(client: TestClient) -> None:
    document = client.get("/documents/report").json()

    pages = document["pages"]
    assert [p["page"] for p in pages] == [1, 2, 3]
    texts = [document["text"][p["start"] : p["end"]] for p in pages]
    assert texts[0].startswith("Annual report 2023") and "four piers" in texts[0]
    assert texts[1].startswith("Finances") and "Mooring fees — Amount: 820,000" in texts[1]
    assert texts[2].startswith("Board") and texts[2].endswith("Margaret Osei, Chair")
    assert pages[0]["end"] < pages[1]["start"] < pages[1]["end"] < pages[2]["start"]


@READER_GAP
def test_slack_and_the_openai_footnotes_say_where_the_quote_is(made_answerer: Answerer) -> None:
    response = made_answerer.ask("How much did mooring fees bring in?")

    slack = format_answer(response)
    quotes = [b["text"]["text"] for b in slack.blocks if b["text"]["text"].startswith("&gt;")]
    assert quotes[0].endswith("[1] · p. 2, § Finances")
    assert "(Annual report 2023, p. 2, § Finances)" in slack.text
    reply = format_reply(response)
    assert "[1] Annual report 2023, p. 2, § Finances — “Mooring fees — Amount: 820,000”" in reply


def test_a_place_leaves_out_what_is_unknown_or_only_repeats_the_title() -> None:
    def place(page: int | None, section: str | None, title: str = "Annual report") -> str:
        return citation_place(
            Citation(
                doc_id="r",
                title=title,
                start=0,
                end=1,
                quote="x",
                quote_start=0,
                quote_end=1,
                page=page,
                section=section,
            )
        )

    assert place(2, "Finances") == "p. 2, § Finances"
    assert place(2, "Annual report") == "p. 2"
    assert place(None, "Tickets") == "§ Tickets"
    assert place(None, None) == ""
