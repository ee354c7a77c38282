"""Answers as Slack messages (Block Kit) and Slack text as questions: pure functions."""

from __future__ import annotations

from api.slack_format import (
    BLOCKS_MAX,
    SECTION_TEXT_MAX,
    display_text,
    escape,
    format_answer,
    highlighted_quote,
    question_from_slack_text,
    session_id_for_thread,
)
from qa.answering import AskResponse
from qa.answers import Answer, Citation


def citation(
    quote: str, answer: str, doc_id: str = "d1", title: str = "A Title", source: str = ""
) -> Citation:
    start = quote.index(answer)
    return Citation(
        doc_id=doc_id,
        title=title,
        source=source,
        start=100 + start,
        end=100 + start + len(answer),
        quote=quote,
        quote_start=100,
        quote_end=100 + len(quote),
    )


def response_of(*answers: Answer, question: str = "Q?", resolved: str = "") -> AskResponse:
    return AskResponse(
        question=question,
        resolved_question=resolved or question,
        answers=list(answers),
        abstained=not answers,
        message="" if answers else "I could not find that in the documents.",
    )


def test_slack_text_becomes_a_plain_question() -> None:
    text = (
        "<@UBOT>  who built &lt;the&gt; bridge &amp; <https://x.org/a|this page> in <#C1|general>?"
    )
    assert question_from_slack_text(text, "UBOT") == (
        "who built <the> bridge & this page in #general?"
    )
    assert (
        question_from_slack_text("<@UOTHER|ann> and <mailto:a@b.c|a@b.c>", "UBOT")
        == "@ann and a@b.c"
    )
    assert session_id_for_thread("T1", "C1", "17.1") == "slack:T1:C1:17.1"


def test_the_answer_span_is_bold_and_markup_in_the_quote_is_inert() -> None:
    quote = "Tom & <Jerry> wrote *snake_case* in 1998, said ~Ann~ `x`."
    answer = Answer(text="1998", score=0.9, citations=[citation(quote, "1998")])
    message = format_answer(response_of(answer), {"d1": "The Press"})
    quoted = message.blocks[1]["text"]["text"]
    assert quoted.startswith("&gt; Tom &amp; &lt;Jerry&gt; wrote ")
    assert "*1998*" in quoted
    assert quoted.count("*") == 2  # only the answer's bold: the quote's own are look-alikes
    assert "_" not in quoted and "~" not in quoted and "`" not in quoted
    assert quoted.endswith("[1]")
    assert message.blocks[-1]["text"]["text"] == "*Sources*\n1. A Title · The Press"
    assert "1998" in message.text and "<" not in message.text


def test_a_source_with_a_web_address_is_a_link() -> None:
    answer = Answer(
        text="Paris",
        score=0.9,
        citations=[citation("It is in Paris.", "Paris", source="https://e.org/a?b=1&c=2|x")],
    )
    sources = format_answer(response_of(answer)).blocks[-1]["text"]["text"]
    assert "1. <https://e.org/a?b=1&amp;c=2%7Cx|A Title>" in sources


def test_a_long_quote_is_cut_around_the_answer() -> None:
    quote = "word " * 1000 + "the ANSWER is here " + "tail " * 1000
    shown = highlighted_quote(quote, [(quote.index("ANSWER"), quote.index("ANSWER") + 6)])
    assert "*ANSWER*" in shown
    assert shown.startswith("…word") and shown.endswith("tail…")
    assert len(shown) <= 510


def test_a_span_inside_a_word_stays_bold() -> None:
    assert highlighted_quote("abc1998def", [(3, 7)]) == "abc\u200b*1998*\u200bdef"


def test_many_answers_keep_within_slacks_limits() -> None:
    quote_base = "Item {} is one of the many things listed here " + "& more " * 200
    answers = [
        Answer(
            text=f"Item {i}",
            score=0.5,
            citations=[
                citation(quote_base.format(i), f"Item {i}", doc_id=f"d{i}", title="T" * 400)
            ],
        )
        for i in range(60)
    ]
    message = format_answer(response_of(*answers))
    assert len(message.blocks) <= BLOCKS_MAX
    for block in message.blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_TEXT_MAX
    assert len(message.text) <= 40_000


def test_an_abstention_is_the_plain_message() -> None:
    message = format_answer(response_of())
    assert message.text == "I could not find that in the documents."
    assert message.blocks == []


def test_escaping() -> None:
    assert escape("a & <b>") == "a &amp; &lt;b&gt;"
    assert display_text("a *b*\n_c_") == "a \u2217b\u2217 \u02cdc\u02cd"
