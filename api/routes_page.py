"""The chat page at ``/``: static HTML, JS and CSS served by the app itself (no build step,
nothing from a CDN). The page talks to ``/chat``, ``/sessions`` and ``/documents`` like any
other client."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
def chat_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})
