"""What the chat page behaviour tests share: a tiny corpus, a real server over it, a browser
tab, and replies made by hand. The tests themselves are in test_chat_page_behaviour.py (asking,
the input, accessibility, feedback) and test_chat_page_sources.py (sources, the document panel)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from live_server import server_in_thread
from test_chat_page import CHROMIUM, CHROMIUM_ARGS, playwright_api

from api.main import create_app
from qa.answering import Answerer
from qa.settings import Settings

expect = playwright_api.expect
SHOTS = Path("/tmp")
PORT = 18230  # the tests' own range

PAGES = {
    "tower.txt": (
        "The Harbour Tower\n\n"
        "The Harbour Tower was completed in 1998 in the city of Halifax. It stands 112 metres "
        "tall and was designed by the architect Maria Lopez.\n"
    ),
    "fair.txt": (
        "The Spring Fair\n\n"
        "Stalls came from the towns of Windsor, Lunenburg and Truro to the fair in 2019.\n"
    ),
    "notes.txt": ("Roof notes\n\n## Costs\n\nThe new roof cost 5,000 dollars.\n"),
    "guide.md": (
        "# Harbour guide\n\n"
        "An introduction to the harbour.\n\n"
        "## Fees\n\n"
        "Mooring fees brought in 820,000 dollars in 2023.\n"
    ),
}
ANSWERABLE = "Who designed the Harbour Tower?"


def _served(small_answerer: Answerer, tmp_path: Path) -> Iterator[str]:
    """A server over the small corpus with its own session store, at the tests' port."""
    settings = Settings(
        **{
            **small_answerer.settings.model_dump(),
            "database_url": f"sqlite:///{tmp_path / 'sessions.sqlite3'}",
            "max_question_chars": 300,
        }
    )
    with server_in_thread(create_app(settings, small_answerer), port=PORT) as address:
        yield address


def _browser_page(**context: Any) -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(**{"viewport": {"width": 1280, "height": 800}, **context})
        tab = page.new_page()
        tab.set_default_timeout(60_000)
        yield tab
        browser.close()


def _answered(page: Any, question: str) -> Any:
    page.locator("#message").fill(question)
    page.locator("#message").press("Enter")
    turn = page.locator(".turn").last
    turn.locator(".reply").wait_for()
    return turn


def _reply(question: str, answers: list[dict[str, Any]], **fields: Any) -> str:
    body = {
        "question": question,
        "resolved_question": question,
        "answers": answers,
        "abstained": not answers,
        "message": "" if answers else "I could not find that in the documents.",
        "passages": [],
        "session_id": "s" * 32,
        **fields,
    }
    return json.dumps(body)
