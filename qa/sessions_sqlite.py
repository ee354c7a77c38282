"""Sessions in one SQLite file: the default ``SessionStore`` (``qa.sessions``)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qa.disk_space import is_disk_full
from qa.sessions import (
    DEFAULT_POLICY,
    PURGE_EVERY_SECONDS,
    IdempotencyKey,
    RatedTurn,
    RecordedTurn,
    SessionFullError,
    SessionNotFoundError,
    SessionPolicy,
    SessionStoreFullError,
    StoredTurn,
    TurnFeedback,
    TurnNotFoundError,
    TurnPage,
    check_replay,
    new_session_id,
    now_iso,
    rated_in_order,
    stored_turn,
)

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
                self._next_purge = now + PURGE_EVERY_SECONDS
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
