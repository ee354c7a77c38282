"""What a person notices on the chat page, in headless Chromium over the real models and a tiny
corpus: the pending question and its typing indicator, answers and errors in full view above the
input bar, a retry, the multi-line input and its length limit, the accessibility basics, and
rating an answer. Screenshots go to /tmp/qa-page-*.png. Sources and the document panel are in
test_chat_page_sources.py; the corpus, server and helpers both use are in chat_page_setup.py.

A few tests hand the page a reply through Playwright's routing (a 500, an abstention): those
replies are built by hand, and everything else (documents, sessions) comes from the real
server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chat_page_setup import (
    ANSWERABLE,
    PAGES,
    PORT,
    SHOTS,
    _answered,
    _browser_page,
    _reply,
    _served,
    expect,
)
from conftest import model_answerer_over
from live_server import server_in_thread
from test_chat_page import pytestmark  # noqa: F401

from api.main import create_app
from qa.answering import Answerer
from qa.embedding import Embedder
from qa.settings import Settings


@pytest.fixture(scope="module")
def small_answerer(tmp_path_factory: pytest.TempPathFactory, model_embedder: Embedder) -> Answerer:
    return model_answerer_over(tmp_path_factory.mktemp("page"), PAGES, model_embedder)


@pytest.fixture()
def url(small_answerer: Answerer, tmp_path: Path) -> Iterator[str]:
    yield from _served(small_answerer, tmp_path)


@pytest.fixture()
def page() -> Iterator[Any]:
    yield from _browser_page()


@pytest.fixture()
def phone() -> Iterator[Any]:
    yield from _browser_page(viewport={"width": 390, "height": 844}, reduced_motion="reduce")


def _above_the_input_bar(page: Any, locator: Any) -> None:
    box = locator.bounding_box()
    bar = page.locator("#ask-form").bounding_box()
    assert box is not None and bar is not None
    assert box["y"] >= 0, "its top is scrolled off the screen"
    assert box["y"] + box["height"] <= bar["y"] + 1, "it ends under the input bar"


# --- asking -----------------------------------------------------------------------------------


def test_the_question_shows_at_once_and_its_answer_in_full_view(page: Any, url: str) -> None:
    held: list[Any] = []
    page.route("**/chat", lambda route: held.append(route))
    page.goto(url + "/")
    expect(page.locator("#message")).to_be_focused()  # focus on load
    page.keyboard.type(ANSWERABLE)
    page.keyboard.press("Enter")
    pending = page.locator(".turn.pending")
    expect(pending.locator(".question")).to_have_text(ANSWERABLE)
    expect(pending.locator(".typing")).to_be_visible()
    expect(page.locator("#message")).to_have_value("")
    page.screenshot(path=str(SHOTS / "qa-page-pending.png"))
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the page sent nothing"
    held[0].continue_()
    turn = page.locator(".turn").last
    turn.locator(".reply").wait_for()
    expect(page.locator(".turn.pending")).to_have_count(0)
    page.wait_for_timeout(800)  # the smooth scroll
    _above_the_input_bar(page, turn)
    page.screenshot(path=str(SHOTS / "qa-page-answer.png"))


def test_a_stopped_server_is_an_inline_message_with_a_retry(
    page: Any, small_answerer: Answerer, tmp_path: Path
) -> None:
    settings = Settings(
        **{
            **small_answerer.settings.model_dump(),
            "database_url": f"sqlite:///{tmp_path / 's.sqlite3'}",
        }
    )
    with server_in_thread(create_app(settings, small_answerer), port=PORT + 1) as address:
        page.goto(address + "/")
    turn = _answered(page, ANSWERABLE)  # the server is gone now
    failure = turn.locator(".reply.error-reply")
    expect(failure).to_contain_text("The server could not be reached")
    expect(failure.locator("button.retry")).to_be_focused()
    assert "Failed to fetch" not in failure.inner_text()
    page.wait_for_timeout(800)
    _above_the_input_bar(page, failure)
    page.screenshot(path=str(SHOTS / "qa-page-server-down.png"))


def test_a_server_error_says_so_and_the_retry_answers(page: Any, url: str) -> None:
    page.route(
        "**/chat",
        lambda route: route.fulfill(
            status=500,
            content_type="application/json",
            body=json.dumps({"error": {"message": "the reader failed"}}),
        ),
    )
    page.goto(url + "/")
    turn = _answered(page, ANSWERABLE)
    expect(turn.locator(".error-reply")).to_contain_text("failed to answer (500)")
    expect(turn.locator(".error-reply")).to_contain_text("the reader failed")
    page.unroute("**/chat")
    turn.locator("button.retry").click()
    # The same turn, asked again: an answer or an abstention, never the error.
    expect(turn.locator(".error-reply")).to_have_count(0)
    expect(turn.locator(".reply")).to_be_visible()
    expect(page.locator(".turn")).to_have_count(1)


def test_an_abstention_reads_plainly_and_offers_to_rephrase(page: Any, url: str) -> None:
    page.route(
        "**/chat",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=_reply("Who won in 1903?", [])
        ),
    )
    page.goto(url + "/")
    turn = _answered(page, "Who won in 1903?")
    expect(turn.locator(".reply.abstained p")).to_have_text(
        "I could not find that in the documents."
    )
    turn.locator("button.retry").click()
    expect(page.locator("#message")).to_have_value("Who won in 1903?")
    expect(page.locator("#message")).to_be_focused()


def test_answered_as_is_not_shown_for_a_change_of_capitals(page: Any, url: str) -> None:
    page.goto(url + "/")
    turn = _answered(page, ANSWERABLE.lower())  # the corpus's capitals come back
    expect(turn.locator(".reply")).to_be_visible()
    expect(turn.locator(".resolved")).to_have_count(0)
    follow_up = _answered(page, "When was it completed?")
    expect(follow_up.locator(".resolved")).to_contain_text("When was")
    expect(follow_up.locator(".resolved")).not_to_contain_text(" it ")


# --- the input --------------------------------------------------------------------------------


def test_shift_enter_breaks_the_line_and_a_long_question_is_refused_in_words(
    page: Any, url: str
) -> None:
    page.goto(url + "/")
    page.keyboard.type("first line")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line")
    expect(page.locator("#message")).to_have_value("first line\nsecond line")
    expect(page.locator(".turn")).to_have_count(0)

    long_question = "Who designed the tower? " * 20  # 480 characters; the limit is 300
    page.locator("#message").fill(long_question)
    expect(page.locator("#input-hint")).to_contain_text("480 characters long; the limit is 300")
    expect(page.locator("#send")).to_be_disabled()
    page.keyboard.press("Enter")
    expect(page.locator(".turn")).to_have_count(0)
    expect(page.locator("#message")).to_have_value(long_question)  # nothing cut off
    page.screenshot(path=str(SHOTS / "qa-page-too-long.png"))


# --- accessibility ----------------------------------------------------------------------------


def _contrast(page: Any, selector: str, colour_property: str, against: str = "") -> float:
    """Contrast of a colour of ``selector`` with ``against`` (a property of the same element) or,
    by default, the background of the nearest ancestor that has one."""
    return float(
        page.evaluate(
            """([selector, property, against]) => {
              const rgb = (text) => text.match(/[\\d.]+/g).slice(0, 3).map(Number);
              const luminance = ([r, g, b]) => {
                const c = [r, g, b].map((v) => { v /= 255;
                  return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
              };
              const node = document.querySelector(selector);
              const a = luminance(rgb(getComputedStyle(node)[property]));
              let back = node;
              while (!against && back.parentElement
                     && getComputedStyle(back).backgroundColor === "rgba(0, 0, 0, 0)") {
                back = back.parentElement;
              }
              const b = luminance(rgb(getComputedStyle(back)[against || "backgroundColor"]));
              return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
            }""",
            [selector, colour_property, against],
        )
    )


def test_contrast_labels_and_focus(page: Any, url: str) -> None:
    page.goto(url + "/")
    expect(page.locator("#message")).to_be_focused()
    assert _contrast(page, "#message", "borderTopColor") >= 3.0
    assert _contrast(page, "#message", "color") >= 4.5
    assert _contrast(page, ".tagline", "color") >= 4.5
    assert _contrast(page, "#input-hint", "color") >= 4.5
    assert page.locator("label[for=message]").count() == 1
    assert page.locator("#message").get_attribute("aria-describedby") == "input-hint"


def test_on_a_phone_the_header_is_compact_and_motion_is_reduced(phone: Any, url: str) -> None:
    phone.goto(url + "/")
    header = phone.locator("header.bar").bounding_box()
    assert header is not None and header["height"] <= 0.08 * 844
    phone.route("**/chat", lambda route: None)  # held: the question stays pending
    phone.locator("#message").fill(ANSWERABLE)
    phone.keyboard.press("Enter")
    dot = phone.locator(".typing .dot").first
    expect(dot).to_be_visible()
    assert dot.evaluate("d => getComputedStyle(d).animationName") == "none"
    phone.screenshot(path=str(SHOTS / "qa-page-phone.png"))


# --- feedback ---------------------------------------------------------------------------------


def test_every_answer_can_be_rated_and_commented_and_the_rating_is_kept(
    page: Any, url: str
) -> None:
    page.goto(url + "/")
    turn = _answered(page, ANSWERABLE)
    turn.locator("button.rate-down").click()
    expect(turn.locator(".feedback-status")).to_have_text("Thanks: your rating is saved.")
    expect(turn.locator("button.rate-down")).to_have_attribute("aria-pressed", "true")
    expect(turn.locator(".feedback-comment")).to_be_focused()
    page.keyboard.type("The tower had two architects")
    page.keyboard.press("Enter")
    expect(turn.locator(".feedback-status")).to_contain_text("comment are saved")
    page.screenshot(path=str(SHOTS / "qa-page-feedback.png"))
    session_id = page.evaluate("sessionStorage.getItem('qa.session_id')")
    stored = page.evaluate(f"fetch('/sessions/{session_id}').then((r) => r.json())")
    assert stored["turns"][0]["feedback"]["rating"] == "down"
    assert stored["turns"][0]["feedback"]["comment"] == "The tower had two architects"
    page.reload()  # the rating comes back with the session
    expect(page.locator(".turn button.rate-down")).to_have_attribute("aria-pressed", "true")
