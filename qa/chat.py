"""The chat core: one conversation turn, answered with the earlier turns of its session.

Every chat surface (`POST /chat`, the OpenAI-compatible endpoint, the chat page, Slack) is a thin
adapter over ``ChatService``, so there is one answering path for all of them. A service acts for
one owner (``qa.sessions``): it reaches that owner's sessions and no one else's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from pydantic import Field

from qa.answering import Answerer, AskResponse, InvalidQuestionError
from qa.conversation import Turn
from qa.sessions import (
    PUBLIC_OWNER,
    IdempotencyKey,
    RecordedTurn,
    SessionNotFoundError,
    SessionStore,
    StoredTurn,
    now_iso,
)

# Follow-ups lean on the last few turns; older ones only add noise to resolution. Only these
# are read from the store, however long the session.
HISTORY_TURNS = 6


class ChatResponse(AskResponse):
    """An answer in a session: what `/ask` returns, plus the session it belongs to."""

    session_id: str = Field(description="Send it back to continue the conversation")
    turn_position: int = Field(
        default=0,
        ge=0,
        description="The turn's place in its session (0 for the first), for feedback",
    )


class ChatService:
    """Answers a message within a session of ``owner`` and records the turn before returning."""

    def __init__(self, answerer: Answerer, store: SessionStore, owner: str = PUBLIC_OWNER) -> None:
        self.answerer = answerer
        self.store = store
        self.owner = owner

    def reply(
        self,
        message: str,
        session_id: str | None = None,
        top_k: int = 5,
        idempotency_key: str | None = None,
    ) -> ChatResponse:
        """Answer ``message``; a new session is made when ``session_id`` is None.

        With an ``idempotency_key`` already recorded for the same request, the recorded answer
        comes back and no turn is added (a client retrying after a lost response).

        Raises ``SessionNotFoundError`` for an unknown id, ``SessionFullError`` for a session
        at its cap, ``InvalidQuestionError`` for an empty or oversized message and
        ``IdempotencyKeyReusedError`` for a key that came with another request.
        """
        key = None
        if idempotency_key is not None:
            key = IdempotencyKey(idempotency_key, _fingerprint(message, session_id, top_k))
            replayed = self.store.replayed(self.owner, key)
            if replayed is not None:
                return _chat_response(replayed)
        earlier = (
            [] if session_id is None else self.store.history(session_id, self.owner, HISTORY_TURNS)
        )
        # Answer before making a session, so a refused message leaves no empty session behind.
        response = self.answerer.ask(message, top_k=top_k, history=as_history(earlier))
        made = session_id is None
        if session_id is None:
            session_id = self.store.create(self.owner)
        recorded = self.store.append(session_id, self.owner, _stored(response), key)
        if made and recorded.session_id != session_id:
            self.store.delete(session_id, self.owner)  # a retry recorded its turn first
        return _chat_response(recorded, response)

    def reply_to_transcript(self, questions: Sequence[str], top_k: int = 5) -> AskResponse:
        """Answer the last of ``questions`` with the others as its conversation (stateless:
        for clients, such as OpenAI-style ones, that send the whole conversation each time)."""
        history: list[Turn] = []
        for earlier in questions[:-1][-HISTORY_TURNS:]:
            try:
                response = self.answerer.ask(earlier, top_k=top_k, history=history)
            except InvalidQuestionError:
                continue  # an earlier message that is no question does not stop the last one
            history.append(_turn(response))
        return self.answerer.ask(questions[-1], top_k=top_k, history=history)


def as_history(turns: Sequence[StoredTurn]) -> list[Turn]:
    return [
        Turn(question=t.question, resolved_question=t.resolved_question, answers=t.answers)
        for t in turns[-HISTORY_TURNS:]
    ]


def _fingerprint(message: str, session_id: str | None, top_k: int) -> str:
    """What makes two requests the same request, for an idempotency key."""
    request = json.dumps([message, session_id, top_k], ensure_ascii=False)
    return hashlib.sha256(request.encode("utf-8", "surrogatepass")).hexdigest()


def _chat_response(recorded: RecordedTurn, fresh: AskResponse | None = None) -> ChatResponse:
    response = fresh if fresh is not None and not recorded.replayed else recorded.turn.response
    assert response is not None, "turns recorded by ChatService keep their full answer"
    return ChatResponse(
        **response.model_dump(),
        session_id=recorded.session_id,
        turn_position=recorded.turn.position,
    )


def _turn(response: AskResponse) -> Turn:
    return Turn(
        question=response.question,
        resolved_question=response.resolved_question,
        answers=[a.text for a in response.answers],
    )


def _stored(response: AskResponse) -> StoredTurn:
    return StoredTurn(
        question=response.question,
        resolved_question=response.resolved_question,
        answers=[a.text for a in response.answers],
        abstained=response.abstained,
        response=response,
        created=now_iso(),
    )


__all__ = ["ChatService", "ChatResponse", "SessionNotFoundError", "as_history"]
