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
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from qa.answering import AskResponse
from qa.disk_space import is_disk_full
from qa.settings import Settings

PUBLIC_OWNER = "public"
SLACK_OWNER = "slack"

# Expired sessions are deleted at most this often per store (lookups ignore them meanwhile).
_PURGE_EVERY_SECONDS = 60.0
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


_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (session_id, position)
);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    owner TEXT NOT NULL, key TEXT NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, fingerprint TEXT NOT NULL,
    PRIMARY KEY (owner, key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_by_session ON idempotency_keys (session_id);
"""

# Columns added since the first schema: a store made before them is migrated on open. Sessions
# of that time get an owner from their id (Slack's threads) or are public, as they were.
_SQLITE_COLUMNS = {
    "owner": "ALTER TABLE sessions ADD COLUMN owner TEXT NOT NULL DEFAULT ''",
    "last_used": "ALTER TABLE sessions ADD COLUMN last_used REAL NOT NULL DEFAULT 0",
    "turn_count": "ALTER TABLE sessions ADD COLUMN turn_count INTEGER NOT NULL DEFAULT 0",
}
_SQLITE_MIGRATION = """
UPDATE sessions SET owner = CASE WHEN id LIKE 'slack:%' THEN 'slack' ELSE 'public' END
    WHERE owner = '';
UPDATE sessions SET turn_count = (SELECT COUNT(*) FROM turns WHERE session_id = sessions.id),
    last_used = :now WHERE last_used = 0;
CREATE INDEX IF NOT EXISTS sessions_by_last_use ON sessions (last_used);
"""


class SqliteSessionStore:
    """Sessions in one SQLite file (WAL mode: readers never wait for a writer)."""

    def __init__(self, path: Path, policy: SessionPolicy = DEFAULT_POLICY) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._policy = policy
        self._local = threading.local()
        self._next_purge = 0.0
        db = self._db()
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(_SQLITE_SCHEMA)  # outside a transaction: executescript commits first
        with self._transaction() as db:
            present = {row[1] for row in db.execute("PRAGMA table_info(sessions)")}
            for column, statement in _SQLITE_COLUMNS.items():
                if column not in present:
                    db.execute(statement)
            for statement in _SQLITE_MIGRATION.split(";"):
                if statement.strip():
                    db.execute(statement, {"now": time.time()} if ":now" in statement else {})

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self._path, timeout=30, isolation_level=None)
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA synchronous=FULL")
            self._local.db = db
        return db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; a full disk comes out as ``SessionStoreFullError``."""
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except sqlite3.Error as error:
            if is_disk_full(error):
                raise SessionStoreFullError("the session database's disk is full") from error
            raise

    def _live(self) -> float:
        """Sessions used since this moment are alive (unix seconds)."""
        return time.time() - self._policy.idle_limit

    def _turn_count(self, db: sqlite3.Connection, session_id: str, owner: str) -> int:
        row = db.execute(
            "SELECT turn_count FROM sessions WHERE id = ? AND owner = ? AND last_used >= ?",
            (session_id, owner, self._live()),
        ).fetchone()
        if row is None:
            raise SessionNotFoundError(session_id)
        return int(row[0])

    def create(self, owner: str, session_id: str | None = None) -> str:
        """A new session of ``owner``; a chosen id (a Slack thread's) is kept if it is alive."""
        session_id = session_id or new_session_id()
        now = time.time()
        with self._transaction() as db:
            if now >= self._next_purge:
                self._next_purge = now + _PURGE_EVERY_SECONDS
                db.execute("DELETE FROM sessions WHERE last_used < ?", (self._live(),))
            else:  # the one this id may have had, so an expired thread starts afresh
                db.execute(
                    "DELETE FROM sessions WHERE id = ? AND last_used < ?",
                    (session_id, self._live()),
                )
            db.execute(
                "INSERT OR IGNORE INTO sessions (id, created, owner, last_used, turn_count)"
                " VALUES (?, ?, ?, ?, 0)",
                (session_id, now_iso(), owner, now),
            )
        return session_id

    def exists(self, session_id: str, owner: str) -> bool:
        try:
            self._turn_count(self._db(), session_id, owner)
        except SessionNotFoundError:
            return False
        return True

    def history(self, session_id: str, owner: str, count: int) -> list[StoredTurn]:
        """The last ``count`` turns, to answer the next one with; ``SessionFullError`` when the
        session can take no more."""
        db = self._db()
        if self._turn_count(db, session_id, owner) >= self._policy.max_turns:
            raise SessionFullError(self._policy.max_turns)
        rows = db.execute(
            "SELECT position, body FROM turns WHERE session_id = ? ORDER BY position DESC LIMIT ?",
            (session_id, count),
        ).fetchall()
        return [stored_turn(body, position) for position, body in reversed(rows)]

    def turns(self, session_id: str, owner: str, start: int = 0, limit: int = 50) -> TurnPage:
        db = self._db()
        total = self._turn_count(db, session_id, owner)
        rows = db.execute(
            "SELECT position, body FROM turns WHERE session_id = ? AND position >= ?"
            " ORDER BY position LIMIT ?",
            (session_id, start, limit),
        ).fetchall()
        turns = [stored_turn(body, position) for position, body in rows]
        following = turns[-1].position + 1 if turns else start
        return TurnPage(
            turns=turns, turn_count=total, next_start=following if following < total else None
        )

    def append(
        self,
        session_id: str,
        owner: str,
        turn: StoredTurn,
        idempotency: IdempotencyKey | None = None,
    ) -> RecordedTurn:
        with self._transaction() as db:
            if idempotency is not None:
                found = self._replayed(db, owner, idempotency)
                if found is not None:
                    return found
            position = self._turn_count(db, session_id, owner)
            if position >= self._policy.max_turns:
                raise SessionFullError(self._policy.max_turns)
            db.execute(
                "INSERT INTO turns VALUES (?, ?, ?)",
                (session_id, position, turn.model_dump_json(exclude={"position"})),
            )
            db.execute(
                "UPDATE sessions SET turn_count = ?, last_used = ? WHERE id = ?",
                (position + 1, time.time(), session_id),
            )
            if idempotency is not None:
                db.execute(
                    "INSERT INTO idempotency_keys VALUES (?, ?, ?, ?, ?)",
                    (owner, idempotency.key, session_id, position, idempotency.fingerprint),
                )
        return RecordedTurn(session_id, turn.model_copy(update={"position": position}))

    def replayed(self, owner: str, idempotency: IdempotencyKey) -> RecordedTurn | None:
        """The turn an earlier request with this key recorded, if any (``IdempotencyKeyReused``
        when that request was a different one)."""
        return self._replayed(self._db(), owner, idempotency)

    def _replayed(
        self, db: sqlite3.Connection, owner: str, idempotency: IdempotencyKey
    ) -> RecordedTurn | None:
        row = db.execute(
            "SELECT k.session_id, k.fingerprint, t.position, t.body FROM idempotency_keys k"
            " JOIN sessions s ON s.id = k.session_id"
            " JOIN turns t ON t.session_id = k.session_id AND t.position = k.position"
            " WHERE k.owner = ? AND k.key = ? AND s.owner = ? AND s.last_used >= ?",
            (owner, idempotency.key, owner, self._live()),
        ).fetchone()
        if row is None:
            return None
        session_id, fingerprint, position, body = row
        found = RecordedTurn(session_id, stored_turn(body, position))
        return check_replay(found, idempotency.fingerprint, fingerprint)

    def delete(self, session_id: str, owner: str) -> bool:
        with self._transaction() as db:
            cursor = db.execute(
                "DELETE FROM sessions WHERE id = ? AND owner = ? AND last_used >= ?",
                (session_id, owner, self._live()),
            )
        return cursor.rowcount > 0

    def rate(
        self, session_id: str, owner: str, position: int, feedback: TurnFeedback
    ) -> StoredTurn:
        """Keep ``feedback`` with the turn (a second rating replaces the first)."""
        with self._transaction() as db:
            self._turn_count(db, session_id, owner)
            row = db.execute(
                "SELECT body FROM turns WHERE session_id = ? AND position = ?",
                (session_id, position),
            ).fetchone()
            if row is None:
                raise TurnNotFoundError(position)
            turn = stored_turn(row[0], position).model_copy(update={"feedback": feedback})
            db.execute(
                "UPDATE turns SET body = ? WHERE session_id = ? AND position = ?",
                (turn.model_dump_json(exclude={"position"}), session_id, position),
            )
        return turn

    def rated_turns(self) -> list[RatedTurn]:
        """Every rated turn of every owner, oldest session first: for `qa feedback export`."""
        rows = self._db().execute(
            "SELECT t.session_id, t.position, t.body FROM turns t JOIN sessions s"
            " ON s.id = t.session_id ORDER BY s.created, s.rowid, t.position"
        )
        return rated_in_order(
            (session_id, stored_turn(body, pos)) for session_id, pos, body in rows
        )

    def check(self) -> None:
        """Raise if the database cannot be read (for readiness)."""
        self._db().execute("SELECT 1 FROM sessions LIMIT 1").fetchall()


def open_session_store(url: str, policy: SessionPolicy = DEFAULT_POLICY) -> SessionStore:
    """The store for a URL: ``sqlite:///path`` (default) or ``postgresql://...``."""
    if url.startswith("sqlite:///"):
        return SqliteSessionStore(Path(url.removeprefix("sqlite:///")), policy)
    if url.startswith(("postgresql://", "postgres://")):
        from qa.sessions_postgres import PostgresSessionStore

        return PostgresSessionStore(url, policy)
    raise ValueError(f"unsupported session database URL: {url!r} (use sqlite:/// or postgresql://)")
