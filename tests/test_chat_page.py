"""The chat page end to end in headless Chromium (Debian's, driven by Playwright): a question,
a follow-up that needs it, the answer highlighted in its quote, numbered sources, and a source
opened beside the conversation at the cited span. Saves a screenshot to tests/artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import READER_GAP
from live_server import server_in_thread

from api.main import create_app
from qa.answering import Answerer
from qa.settings import Settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
)
pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="Chromium is not installed: apt-get install -y chromium",
    ),
]

FIRST = "Which Canadian police force is investigating Chinese-run police stations in Canada?"
FOLLOW_UP = "Which newspaper reported it?"


def _server(real_answerer: Answerer, tmp_path: Path, **overrides: Any) -> Any:
    settings = Settings(
        **{
            **real_answerer.settings.model_dump(),
            "database_url": f"sqlite:///{tmp_path / 'sessions.sqlite3'}",
            **overrides,
        }
    )
    return server_in_thread(create_app(settings, real_answerer))


@pytest.fixture()
def page() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)
        yield page
        browser.close()


def _ask(page: Any, question: str) -> Any:
    before = page.locator(".turn").count()
    page.fill("#message", question)
    page.click("#send")
    # The question shows at once, waiting; its reply comes when the server has answered.
    page.locator(".turn").nth(before).locator(".reply").wait_for()
    return page.locator(".turn").nth(before)


def test_a_conversation_on_the_chat_page(
    page: Any, real_answerer: Answerer, tmp_path: Path
) -> None:
    expect = playwright_api.expect
    with _server(real_answerer, tmp_path) as url:
        page.goto(url + "/")
        expect(page).to_have_title("Ask the documents")

        first = _ask(page, FIRST)
        expect(first.locator(".answer-text")).to_contain_text("Royal Canadian Mounted Police")

        second = _ask(page, FOLLOW_UP)
        expect(second.locator(".resolved")).to_contain_text("Royal Canadian Mounted Police")
        expect(second.locator(".answer-text")).to_contain_text("Le Journal de Montreal")
        expect(second.locator(".quote mark")).to_have_text("Le Journal de Montreal")
        sources = second.locator(".sources li")
        expect(sources).to_have_count(1)
        expect(sources.first.locator(".number")).to_have_text("1")
        expect(sources.first.locator(".title")).to_have_text(
            "CCP’s overseas policing draws international condemnation"
        )

        sources.first.locator("button.source").click()
        panel = page.locator("#document-panel")
        expect(panel).to_be_visible()
        expect(panel.locator("#cited-span")).to_have_text("Le Journal de Montreal")
        expect(panel.locator(".quoted")).to_contain_text("Royal Canadian Mounted Police confirmed")
        expect(panel.locator("#cited-span")).to_be_in_viewport()

        # The session is the page's: a reload shows the same conversation.
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "chat_page.png"))
        page.reload()
        expect(page.locator(".turn")).to_have_count(2)


def test_the_page_asks_for_the_key_only_when_the_server_wants_one(
    page: Any, real_answerer: Answerer, tmp_path: Path
) -> None:
    expect = playwright_api.expect
    with _server(real_answerer, tmp_path, api_key="letmein") as url:
        page.goto(url + "/")
        expect(page.locator("#key-form")).to_be_hidden()
        page.fill("#message", FIRST)
        page.click("#send")
        expect(page.locator("#key-form")).to_be_visible()
        page.fill("#key", "letmein")
        page.click("#key-form button")
        expect(page.locator(".turn .answer-text")).to_contain_text("Royal Canadian Mounted Police")
        assert page.evaluate("localStorage.getItem('qa.api_key')") == "letmein"


def test_an_unanswerable_question_reads_plainly(
    page: Any, real_answerer: Answerer, tmp_path: Path
) -> None:
    with _server(real_answerer, tmp_path) as url:
        page.goto(url + "/")
        turn = _ask(page, "What is the boiling point of tungsten on Mars?")
        playwright_api.expect(turn.locator(".reply.abstained p")).to_have_text(
            "I could not find that in the documents."
        )
        assert turn.locator(".sources").count() == 0


@READER_GAP
def test_a_source_says_on_which_page_and_under_which_heading_it_is(
    page: Any, made_answerer: Answerer, tmp_path: Path
) -> None:
    expect = playwright_api.expect
    with _server(made_answerer, tmp_path) as url:
        page.goto(url + "/")
        turn = _ask(page, "How much did mooring fees bring in?")
        expect(turn.locator(".answer-text")).to_contain_text("820,000")
        source = turn.locator(".sources li").first
        expect(source.locator(".title")).to_have_text("Annual report 2023")
        expect(source.locator(".place")).to_have_text(", p. 2, § Finances")
