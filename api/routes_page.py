"""The chat page at ``/``: static HTML, JS and CSS served by the app itself (no build step,
nothing from a CDN). The page talks to ``/chat``, ``/sessions`` and ``/documents`` like any
other client."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

STATIC_DIR = Path(__file__).resolve().parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
def chat_page(request: Request) -> HTMLResponse:
    # The page says "too long" at the server's own limit, rather than truncating silently.
    limit = request.app.state.settings.max_question_chars
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    html = html.replace("__MAX_QUESTION_CHARS__", str(int(limit)))
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})
