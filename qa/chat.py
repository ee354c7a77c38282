"""The chat core: one conversation turn, answered with the earlier turns of its session.

Every chat surface (`POST /chat`, the OpenAI-compatible endpoint, the chat page, Slack) is a thin
adapter over ``ChatService``, so there is one answering path for all of them.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from qa.answering import Answerer, AskResponse, InvalidQuestionError
from qa.conversation import Turn
from qa.sessions import SessionNotFoundError, SessionStore, StoredTurn, now_iso

# Follow-ups lean on the last few turns; older ones only add noise to resolution.
HISTORY_TURNS = 6


class ChatResponse(AskResponse):
    """An answer in a session: what `/ask` returns, plus the session it belongs to."""

    session_id: str = Field(description="Send it back to continue the conversation")


class ChatService:
    """Answers a message within a session and records the turn before returning."""

    def __init__(self, answerer: Answerer, store: SessionStore) -> None:
        self.answerer = answerer
        self.store = store

    def reply(self, message: str, session_id: str | None = None, top_k: int = 5) -> ChatResponse:
        """Answer ``message``; a new session is made when ``session_id`` is None.

        Raises ``SessionNotFoundError`` for an unknown id, ``InvalidQuestionError`` for an
        empty or oversized message.
        """
        earlier = [] if session_id is None else self.store.turns(session_id)
        # Answer before making a session, so a refused message leaves no empty session behind.
        response = self.answerer.ask(message, top_k=top_k, history=as_history(earlier))
        if session_id is None:
            session_id = self.store.create()
        self.store.append(session_id, _stored(response))
        return ChatResponse(**response.model_dump(), session_id=session_id)

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
