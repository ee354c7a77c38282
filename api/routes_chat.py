"""The chat endpoints: ``POST /chat`` and ``/sessions/{id}``, a thin layer over ``ChatService``.

The session store is the app's one store (built in the lifespan); a ``ChatService`` is made per
request over the live ``Answerer``, because a reindex may have swapped it since the last one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from api.errors import ApiError, ErrorResponse
from api.live_answerer import current_answerer
from qa.answering import Answerer
from qa.chat import ChatResponse, ChatService
from qa.sessions import SessionNotFoundError, SessionStore, StoredTurn

router = APIRouter(tags=["chat"])

_ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorResponse} for status in (401, 404, 413, 422, 429, 503)
}


class ChatRequest(BaseModel):
    message: str = Field(description="A question, or a follow-up of the session's earlier ones")
    session_id: str | None = Field(
        default=None, description="The session to continue; null starts a new one"
    )
    top_k: int = Field(
        default=5, ge=1, description="How many passages to return (at most the server's max_top_k)"
    )


class SessionView(BaseModel):
    """A session's turns, oldest first; each holds the full answer it was given."""

    session_id: str
    turns: list[StoredTurn]


def session_store(request: Request) -> SessionStore:
    store: SessionStore = request.app.state.session_store
    return store


SessionStoreDep = Annotated[SessionStore, Depends(session_store)]


def chat_service(
    answerer: Annotated[Answerer, Depends(current_answerer)], store: SessionStoreDep
) -> ChatService:
    """Route dependency: a ``ChatService`` over the current ``Answerer`` and the app's store."""
    return ChatService(answerer, store)


ChatServiceDep = Annotated[ChatService, Depends(chat_service)]


def _not_found(session_id: str) -> ApiError:
    return ApiError(
        404,
        "session_not_found",
        f"no session {session_id!r}: it was deleted or never existed; "
        "send session_id null to start a new one",
    )


@router.post("/chat", response_model=ChatResponse, responses=_ERRORS)
def chat(request: ChatRequest, service: ChatServiceDep) -> ChatResponse:
    """Answer a message within a session; follow-ups ("What did she say?") are resolved from
    the session's earlier turns, and ``resolved_question`` shows what was actually answered."""
    # A plain ``def``: answering is CPU-bound and the store is blocking SQLite.
    try:
        return service.reply(request.message, request.session_id, request.top_k)
    except SessionNotFoundError:
        raise _not_found(request.session_id or "") from None


@router.get("/sessions/{session_id}", response_model=SessionView, responses=_ERRORS)
def get_session(session_id: str, store: SessionStoreDep) -> SessionView:
    """A session's turns, oldest first."""
    try:
        return SessionView(session_id=session_id, turns=store.turns(session_id))
    except SessionNotFoundError:
        raise _not_found(session_id) from None


@router.delete("/sessions/{session_id}", status_code=204, responses=_ERRORS)
def delete_session(session_id: str, store: SessionStoreDep) -> Response:
    """Forget a session and its turns."""
    if not store.delete(session_id):
        raise _not_found(session_id)
    return Response(status_code=204)
