"""The chat endpoints: ``POST /chat`` and ``/sessions/{id}``, a thin layer over ``ChatService``.

The session store is the app's one store (built in the lifespan); a ``ChatService`` is made per
request over the live ``Answerer``, because a reindex may have swapped it since the last one,
and for the request's owner (``api.auth.request_owner``): its API key, or the public sessions of
a server without keys. Another owner's session, an expired one and one that never existed are
the same 404.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import request_owner
from api.errors import ApiError, ErrorResponse
from api.live_answerer import current_answerer
from qa.answering import Answerer, WholeNumber
from qa.chat import ChatResponse, ChatService
from qa.sessions import (
    SessionNotFoundError,
    SessionStore,
    StoredTurn,
    TurnFeedback,
    TurnNotFoundError,
    now_iso,
)

router = APIRouter(tags=["chat"])

_ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorResponse} for status in (401, 404, 413, 422, 429, 503)
}
_FULL_DISK: dict[int | str, dict[str, object]] = {
    507: {"model": ErrorResponse, "description": "The server's disk is full: nothing was saved"},
}
_CHAT_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorResponse, "description": "The body is not text"},
    **_ERRORS,
    **_FULL_DISK,
    409: {
        "model": ErrorResponse,
        "description": "The session holds as many turns as it may, or the Idempotency-Key "
        "came with another message",
    },
}

# Printable ASCII without spaces, as UUIDs and the keys client libraries make; the quoted form
# of the IETF draft ("Idempotency-Key: \"...\"") is accepted too.
IDEMPOTENCY_KEY_PATTERN = r'^(?:[!#-~]{1,255}|"[!#-~]{1,255}")$'
PAGE_LIMIT = 100
MAX_POSITION = 2**31 - 1  # a database INTEGER; no session holds that many turns


class ChatRequest(BaseModel):
    model_config = ConfigDict(strict=True)  # as AskRequest: the types the schema says

    message: str = Field(description="A question, or a follow-up of the session's earlier ones")
    session_id: str | None = Field(
        default=None, description="The session to continue; null starts a new one"
    )
    top_k: WholeNumber = Field(
        default=5, ge=1, description="How many passages to return (at most the server's max_top_k)"
    )


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    rating: Literal["up", "down"] = Field(description="Was the answer right and useful?")
    comment: str = Field(default="", max_length=2000, description="Anything to add (optional)")


class SessionView(BaseModel):
    """A page of a session's turns, oldest first; each holds the full answer it was given."""

    session_id: str
    turn_count: int = Field(ge=0, description="How many turns the session holds in all")
    turns: list[StoredTurn]
    next_start: int | None = Field(
        description="Pass as `start` for the next page; null on the last page"
    )


def session_store(request: Request) -> SessionStore:
    store: SessionStore = request.app.state.session_store
    return store


SessionStoreDep = Annotated[SessionStore, Depends(session_store)]
OwnerDep = Annotated[str, Depends(request_owner)]


def chat_service(
    answerer: Annotated[Answerer, Depends(current_answerer)],
    store: SessionStoreDep,
    owner: OwnerDep,
) -> ChatService:
    """Route dependency: a ``ChatService`` over the current ``Answerer`` and the app's store."""
    return ChatService(answerer, store, owner)


ChatServiceDep = Annotated[ChatService, Depends(chat_service)]


def _not_found(session_id: str) -> ApiError:
    return ApiError(
        404,
        "session_not_found",
        f"no session {session_id!r}: it expired, was deleted or never existed; "
        "send session_id null to start a new one",
    )


@router.post("/chat", response_model=ChatResponse, responses=_CHAT_ERRORS)
def chat(
    request: ChatRequest,
    service: ChatServiceDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            pattern=IDEMPOTENCY_KEY_PATTERN,
            description="Any unique string per message (a UUID): a retry with the same key "
            "gets the answer already recorded instead of adding a turn",
        ),
    ] = None,
) -> ChatResponse:
    """Answer a message within a session; follow-ups ("What did she say?") are resolved from
    the session's earlier turns, and ``resolved_question`` shows what was actually answered."""
    # A plain ``def``: answering is CPU-bound and the store is blocking SQLite.
    key = idempotency_key.strip('"') if idempotency_key is not None else None
    try:
        return service.reply(request.message, request.session_id, request.top_k, key)
    except SessionNotFoundError:
        raise _not_found(request.session_id or "") from None


@router.get("/sessions/{session_id}", response_model=SessionView, responses=_ERRORS)
def get_session(
    session_id: str,
    store: SessionStoreDep,
    owner: OwnerDep,
    start: Annotated[
        int, Query(ge=0, le=MAX_POSITION, description="Position of the first turn to show")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=PAGE_LIMIT, description="Turns per page")] = 20,
) -> SessionView:
    """A page of a session's turns, oldest first: follow ``next_start`` for the rest."""
    try:
        page = store.turns(session_id, owner, start, limit)
    except SessionNotFoundError:
        raise _not_found(session_id) from None
    return SessionView(
        session_id=session_id,
        turn_count=page.turn_count,
        turns=page.turns,
        next_start=page.next_start,
    )


@router.delete("/sessions/{session_id}", status_code=204, responses={**_ERRORS, **_FULL_DISK})
def delete_session(session_id: str, store: SessionStoreDep, owner: OwnerDep) -> Response:
    """Forget a session and its turns."""
    if not store.delete(session_id, owner):
        raise _not_found(session_id)
    return Response(status_code=204)


@router.post(
    "/sessions/{session_id}/turns/{position}/feedback",
    response_model=TurnFeedback,
    responses={
        400: {"model": ErrorResponse, "description": "The body is not JSON"},
        **_ERRORS,
        **_FULL_DISK,
    },
)
def give_feedback(
    session_id: str,
    position: Annotated[int, Path(ge=0, le=MAX_POSITION)],
    request: FeedbackRequest,
    store: SessionStoreDep,
    owner: OwnerDep,
) -> TurnFeedback:
    """Rate one answer of a session (👍 ``up`` / 👎 ``down``, with an optional comment); it is
    kept with the turn, and ``qa feedback export`` turns rated answers into gold candidates. A
    second rating of the same turn replaces the first."""
    feedback = TurnFeedback(rating=request.rating, comment=request.comment.strip(), given=now_iso())
    try:
        store.rate(session_id, owner, position, feedback)
    except SessionNotFoundError:
        raise _not_found(session_id) from None
    except TurnNotFoundError:
        raise ApiError(
            404, "turn_not_found", f"session {session_id!r} has no turn {position}"
        ) from None
    return feedback
