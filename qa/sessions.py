"""Conversation sessions, kept in a real database so they survive a restart.

One small interface (``SessionStore``); SQLite by default, PostgreSQL for replicas
(``qa.sessions_postgres``). Every turn is committed before the answer is returned, so a server
killed mid-conversation loses nothing it has answered.

A session belongs to its owner: an API key's digest, ``public`` for HTTP clients of a server
without keys (the session id, an unguessable token, is then the capability), or ``slack`` for
Slack threads. Every read and write names the owner, and a session that is someone else's, has
been idle past ``SessionPolicy.idle_seconds`` or was deleted is simply not found: the three are
never told apart. Reads of the context and of a page touch only the turns they return, so a long
session answers as fast as a short one.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from qa.answering import AskResponse
from qa.settings import Settings

PUBLIC_OWNER = "public"
SLACK_OWNER = "slack"

# Expired sessions are deleted at most this often per store (lookups ignore them meanwhile).
PURGE_EVERY_SECONDS = 60.0
# "No idle limit" without a special case in every query: about three centuries, which keeps
# PostgreSQL's now() - interval within its timestamp range.
_NEVER_EXPIRES = 1e10


class SessionNotFoundError(KeyError):
    """No such session for this owner: never created, deleted, expired, or someone else's."""


class SessionFullError(Exception):
    """The session holds as many turns as a session may."""

    def __init__(self, max_turns: int) -> None:
        super().__init__(
            f"this session holds {max_turns} turns, the most a session may: "
            "start a new one (session_id null)"
        )
        self.max_turns = max_turns


class IdempotencyKeyReusedError(ValueError):
    """An ``Idempotency-Key`` already used for a different request."""


class SessionStoreError(RuntimeError):
    """The session database failed; the subclasses say how."""


class SessionStoreFullError(SessionStoreError):
    """The session database's disk is full: the turn was not saved."""


class SessionStoreUnavailableError(SessionStoreError):
    """The session database cannot be reached right now."""


class TurnNotFoundError(KeyError):
    """The session has no turn at that position."""


class TurnFeedback(BaseModel):
    """A person's rating of one answer (thumbs up or down), with what they said about it."""

    rating: Literal["up", "down"]
    comment: str = Field(default="", max_length=2000)
    given: str = Field(default="", description="When it was given (UTC, ISO 8601)")


class RatedTurn(BaseModel):
    """A turn that has feedback, with the questions before it in its session (for export)."""

    session_id: str
    turn: StoredTurn
    earlier_questions: list[str] = Field(default_factory=list)


class StoredTurn(BaseModel):
    """One answered turn of a session, as stored and as `GET /sessions/{id}` shows it."""

    position: int = Field(default=0, ge=0, description="0 for a session's first turn")
    question: str
    resolved_question: str
    answers: list[str] = Field(default_factory=list)
    abstained: bool = False
    response: AskResponse | None = Field(default=None, description="the full answer")
    created: str = ""
    feedback: TurnFeedback | None = Field(default=None, description="the person's rating")


class TurnPage(BaseModel):
    """Some of a session's turns, oldest first, and where the next page starts."""

    turns: list[StoredTurn]
    turn_count: int = Field(ge=0, description="How many turns the session holds in all")
    next_start: int | None = Field(description="`start` of the next page; null on the last one")


@dataclass(frozen=True)
class SessionPolicy:
    """How long an idle session lives and how many turns one may hold (0: no idle limit)."""

    idle_seconds: float = 0.0
    max_turns: int = 500

    @classmethod
    def of(cls, settings: Settings) -> SessionPolicy:
        return cls(settings.session_idle_hours * 3600.0, settings.session_max_turns)

    @property
    def idle_limit(self) -> float:
        return self.idle_seconds if self.idle_seconds > 0 else _NEVER_EXPIRES


DEFAULT_POLICY = SessionPolicy()


@dataclass(frozen=True)
class IdempotencyKey:
    """A client's ``Idempotency-Key`` and a digest of the request it came with."""

    key: str
    fingerprint: str


@dataclass(frozen=True)
class RecordedTurn:
    """A turn as recorded: in which session, and whether it was recorded by an earlier request
    with the same idempotency key (then it is that request's turn, returned again)."""

    session_id: str
    turn: StoredTurn
    replayed: bool = False


class SessionStore(Protocol):
    def create(self, owner: str, session_id: str | None = None) -> str: ...

    def exists(self, session_id: str, owner: str) -> bool: ...

    def history(self, session_id: str, owner: str, count: int) -> list[StoredTurn]: ...

    def turns(self, session_id: str, owner: str, start: int = 0, limit: int = 50) -> TurnPage: ...

    def append(
        self,
        session_id: str,
        owner: str,
        turn: StoredTurn,
        idempotency: IdempotencyKey | None = None,
    ) -> RecordedTurn: ...

    def replayed(self, owner: str, idempotency: IdempotencyKey) -> RecordedTurn | None: ...

    def delete(self, session_id: str, owner: str) -> bool: ...

    def rate(
        self, session_id: str, owner: str, position: int, feedback: TurnFeedback
    ) -> StoredTurn: ...

    def rated_turns(self) -> list[RatedTurn]: ...

    def check(self) -> None: ...


def new_session_id() -> str:
    """256 random bits, URL-safe: knowing a session id is what lets a key-less client in."""
    return secrets.token_urlsafe(32)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def stored_turn(body: str, position: int) -> StoredTurn:
    return StoredTurn.model_validate_json(body).model_copy(update={"position": position})


def rated_in_order(turns: Iterable[tuple[str, StoredTurn]]) -> list[RatedTurn]:
    """The rated ones of a session-ordered stream of turns, each with its earlier questions."""
    rated: list[RatedTurn] = []
    asked: dict[str, list[str]] = {}
    for session_id, turn in turns:
        earlier = asked.setdefault(session_id, [])
        if turn.feedback is not None:
            rated.append(RatedTurn(session_id=session_id, turn=turn, earlier_questions=[*earlier]))
        earlier.append(turn.question)
    return rated


def check_replay(found: RecordedTurn, fingerprint: str, recorded_fingerprint: str) -> RecordedTurn:
    """The recorded turn, if the key came with the same request; else the key was reused."""
    if fingerprint != recorded_fingerprint:
        raise IdempotencyKeyReusedError(
            "this Idempotency-Key was already used for a different request: "
            "send a new key with each new message"
        )
    return RecordedTurn(found.session_id, found.turn, replayed=True)


def open_session_store(url: str, policy: SessionPolicy = DEFAULT_POLICY) -> SessionStore:
    """The store for a URL: ``sqlite:///path`` (default) or ``postgresql://...``."""
    if url.startswith("sqlite:///"):
        from qa.sessions_sqlite import SqliteSessionStore

        return SqliteSessionStore(Path(url.removeprefix("sqlite:///")), policy)
    if url.startswith(("postgresql://", "postgres://")):
        from qa.sessions_postgres import PostgresSessionStore

        return PostgresSessionStore(url, policy)
    raise ValueError(f"unsupported session database URL: {url!r} (use sqlite:/// or postgresql://)")
