"""Conversation sessions, kept in a real database so they survive a restart.

One small interface (``SessionStore``); SQLite by default. Every turn is committed before the
answer is returned, so a server killed mid-conversation loses nothing it has answered.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field

from qa.answering import AskResponse


class SessionNotFoundError(KeyError):
    """No session with this id (never created, or deleted)."""


class StoredTurn(BaseModel):
    """One answered turn of a session, as stored and as `GET /sessions/{id}` shows it."""

    question: str
    resolved_question: str
    answers: list[str] = Field(default_factory=list)
    abstained: bool = False
    response: AskResponse | None = Field(default=None, description="the full answer")
    created: str = ""


class SessionStore(Protocol):
    def create(self, session_id: str | None = None) -> str: ...

    def exists(self, session_id: str) -> bool: ...

    def turns(self, session_id: str) -> list[StoredTurn]: ...

    def append(self, session_id: str, turn: StoredTurn) -> None: ...

    def delete(self, session_id: str) -> bool: ...


class SqliteSessionStore:
    """Sessions in one SQLite file (WAL mode: readers never wait for a writer)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._local = threading.local()
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(
                """
                CREATE TABLE IF NOT EXISTS sessions (
                    id TEXT PRIMARY KEY, created TEXT NOT NULL
                );
                CREATE TABLE IF NOT EXISTS turns (
                    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                    position INTEGER NOT NULL, body TEXT NOT NULL,
                    PRIMARY KEY (session_id, position)
                );
                """
            )

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self._path, timeout=30, isolation_level=None)
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA synchronous=FULL")
            self._local.db = db
        return db

    def create(self, session_id: str | None = None) -> str:
        session_id = session_id or uuid.uuid4().hex
        self._db().execute("INSERT OR IGNORE INTO sessions VALUES (?, ?)", (session_id, now_iso()))
        return session_id

    def exists(self, session_id: str) -> bool:
        row = self._db().execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return row is not None

    def turns(self, session_id: str) -> list[StoredTurn]:
        if not self.exists(session_id):
            raise SessionNotFoundError(session_id)
        rows = self._db().execute(
            "SELECT body FROM turns WHERE session_id = ? ORDER BY position", (session_id,)
        )
        return [StoredTurn.model_validate_json(body) for (body,) in rows]

    def append(self, session_id: str, turn: StoredTurn) -> None:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            if not db.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone():
                raise SessionNotFoundError(session_id)
            (position,) = db.execute(
                "SELECT COALESCE(MAX(position) + 1, 0) FROM turns WHERE session_id = ?",
                (session_id,),
            ).fetchone()
            db.execute(
                "INSERT INTO turns VALUES (?, ?, ?)",
                (session_id, position, turn.model_dump_json()),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def delete(self, session_id: str) -> bool:
        cursor = self._db().execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        return cursor.rowcount > 0


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def open_session_store(url: str) -> SessionStore:
    """The store for a URL: ``sqlite:///path`` (default) or ``postgresql://...``."""
    if url.startswith("sqlite:///"):
        return SqliteSessionStore(Path(url.removeprefix("sqlite:///")))
    if url.startswith(("postgresql://", "postgres://")):
        from qa.sessions_postgres import PostgresSessionStore

        return PostgresSessionStore(url)
    raise ValueError(f"unsupported session database URL: {url!r} (use sqlite:/// or postgresql://)")
