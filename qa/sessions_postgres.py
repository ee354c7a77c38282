"""Conversation sessions in PostgreSQL, so every replica of the service sees the same sessions.

The same interface as ``SqliteSessionStore`` (``qa.sessions.SessionStore``), over a small pool
of connections shared by the threads of one process. ``open_session_store`` picks this store
for a ``postgresql://`` URL (``QA_DATABASE_URL``).

When the server cannot be reached, every call fails with ``SessionStoreUnavailableError``; for a
few seconds after such a failure calls fail at once instead of each waiting out the pool's
timeout, so a replica whose database is down answers 503 quickly (and ``/ready`` says so).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

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
    SessionStoreUnavailableError,
    StoredTurn,
    TurnFeedback,
    TurnNotFoundError,
    TurnPage,
    check_replay,
    new_session_id,
    rated_in_order,
    stored_turn,
)

# Tables are prefixed so the store can share a database with other applications. The ALTERs
# bring tables made by earlier versions up to date (their sessions: Slack's by their id, the
# rest public, as they were).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS qa_sessions (
    id TEXT PRIMARY KEY,
    created TIMESTAMPTZ NOT NULL DEFAULT now(),
    turn_count INTEGER NOT NULL DEFAULT 0
);
ALTER TABLE qa_sessions ADD COLUMN IF NOT EXISTS owner TEXT;
UPDATE qa_sessions SET owner = CASE WHEN id LIKE 'slack:%' THEN 'slack' ELSE 'public' END
    WHERE owner IS NULL;
ALTER TABLE qa_sessions ALTER COLUMN owner SET NOT NULL;
ALTER TABLE qa_sessions ADD COLUMN IF NOT EXISTS last_used TIMESTAMPTZ NOT NULL DEFAULT now();
CREATE INDEX IF NOT EXISTS qa_sessions_by_last_use ON qa_sessions (last_used);
CREATE TABLE IF NOT EXISTS qa_turns (
    session_id TEXT NOT NULL REFERENCES qa_sessions(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    body JSON NOT NULL,
    PRIMARY KEY (session_id, position)
);
CREATE TABLE IF NOT EXISTS qa_idempotency_keys (
    owner TEXT NOT NULL,
    key TEXT NOT NULL,
    session_id TEXT NOT NULL REFERENCES qa_sessions(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (owner, key)
);
CREATE INDEX IF NOT EXISTS qa_idempotency_keys_by_session ON qa_idempotency_keys (session_id);
"""

# Replicas starting together would race on CREATE TABLE IF NOT EXISTS (it is not atomic with
# respect to the system catalogs); one transaction-scoped advisory lock serialises them.
_SCHEMA_LOCK_KEY = 0x71615F73  # "qa_s"

# A session is alive while it was used within the idle limit, by the database's clock (replicas'
# clocks may differ; the database has one).
_ALIVE = "s.last_used >= now() - make_interval(secs => %(idle)s)"
# After a failure to reach the server, calls fail at once for this long.
_UNREACHABLE_FOR_SECONDS = 5.0
_CHECK_TIMEOUT_SECONDS = 2.0
_UNREACHABLE = "the session database cannot be reached"


class SessionDatabaseError(SessionStoreUnavailableError):
    """The session database cannot be reached at startup (wrong URL, server down, password)."""


class PostgresSessionStore:
    """Sessions in PostgreSQL; the tables are created (or brought up to date) on first use."""

    def __init__(
        self,
        url: str,
        policy: SessionPolicy = DEFAULT_POLICY,
        *,
        max_connections: int = 10,
        timeout: float = 10.0,
    ) -> None:
        self._policy = policy
        self._timeout = timeout
        self._unreachable_until = 0.0
        self._next_purge = 0.0
        self._lock = threading.Lock()
        # autocommit: a single statement commits by itself; the multi-statement operations
        # open an explicit transaction.
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            kwargs={"autocommit": True},
            # A connection the server dropped (restart, failover) is replaced, not handed out.
            check=ConnectionPool.check_connection,
            timeout=timeout,
            name="qa-sessions",
            open=False,
        )
        try:
            # One plain connection first: a wrong URL or password fails at once with the
            # server's own words, where the pool would retry until its timeout.
            with psycopg.connect(url, autocommit=True) as db, db.transaction():
                db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))
                db.execute(_SCHEMA)
            self._pool.open(wait=True, timeout=timeout)
        except (PoolTimeout, psycopg.OperationalError) as error:
            self._pool.close()
            raise SessionDatabaseError(
                f"cannot reach the session database {_describe(url)}: {error}. "
                "Check QA_DATABASE_URL and that the server is running."
            ) from error

    @contextmanager
    def _connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection]:
        """A pooled connection; the database's failures come out as the store's errors."""
        if time.monotonic() < self._unreachable_until:
            raise SessionStoreUnavailableError(_UNREACHABLE)
        try:
            with self._pool.connection(timeout=timeout or self._timeout) as db:
                yield db
        except psycopg.Error as error:
            if is_disk_full(error):
                raise SessionStoreFullError("the session database's disk is full") from error
            if not isinstance(error, psycopg.OperationalError):
                raise
            self._unreachable_until = time.monotonic() + _UNREACHABLE_FOR_SECONDS
            raise SessionStoreUnavailableError(_UNREACHABLE) from error
        except PoolTimeout as error:
            self._unreachable_until = time.monotonic() + _UNREACHABLE_FOR_SECONDS
            raise SessionStoreUnavailableError(_UNREACHABLE) from error

    def _params(self, **values: object) -> dict[str, object]:
        return {"idle": self._policy.idle_limit, **values}

    def _turn_count(self, db: psycopg.Connection, session_id: str, owner: str, lock: bool) -> int:
        row = db.execute(
            f"SELECT turn_count FROM qa_sessions s WHERE id = %(id)s AND owner = %(owner)s"
            f" AND {_ALIVE}{' FOR UPDATE' if lock else ''}",
            self._params(id=session_id, owner=owner),
        ).fetchone()
        if row is None:
            raise SessionNotFoundError(session_id)
        return int(row[0])

    def create(self, owner: str, session_id: str | None = None) -> str:
        """A new session of ``owner``; a chosen id (a Slack thread's) is kept if it is alive."""
        session_id = session_id or new_session_id()
        with self._lock:
            purge = time.monotonic() >= self._next_purge
            if purge:
                self._next_purge = time.monotonic() + PURGE_EVERY_SECONDS
        with self._connection() as db, db.transaction():
            expired = "NOT (" + _ALIVE + ")"
            if purge:
                db.execute(f"DELETE FROM qa_sessions s WHERE {expired}", self._params())
            else:  # the one this id may have had, so an expired thread starts afresh
                db.execute(
                    f"DELETE FROM qa_sessions s WHERE id = %(id)s AND {expired}",
                    self._params(id=session_id),
                )
            db.execute(
                "INSERT INTO qa_sessions (id, owner) VALUES (%s, %s) ON CONFLICT (id) DO NOTHING",
                (session_id, owner),
            )
        return session_id

    def exists(self, session_id: str, owner: str) -> bool:
        try:
            with self._connection() as db:
                self._turn_count(db, session_id, owner, lock=False)
        except SessionNotFoundError:
            return False
        return True

    def history(self, session_id: str, owner: str, count: int) -> list[StoredTurn]:
        # One transaction, so the count and the turns come from one snapshot.
        with self._connection() as db, db.transaction():
            if self._turn_count(db, session_id, owner, lock=False) >= self._policy.max_turns:
                raise SessionFullError(self._policy.max_turns)
            rows = db.execute(
                "SELECT position, body::text FROM qa_turns WHERE session_id = %s"
                " ORDER BY position DESC LIMIT %s",
                (session_id, count),
            ).fetchall()
        return [stored_turn(body, position) for position, body in reversed(rows)]

    def turns(self, session_id: str, owner: str, start: int = 0, limit: int = 50) -> TurnPage:
        with self._connection() as db, db.transaction():
            total = self._turn_count(db, session_id, owner, lock=False)
            rows = db.execute(
                "SELECT position, body::text FROM qa_turns WHERE session_id = %s"
                " AND position >= %s ORDER BY position LIMIT %s",
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
        # The session row is locked until commit, so concurrent appends to one session (from
        # any replica) get consecutive positions and none is lost; appends to different
        # sessions do not wait for each other.
        try:
            with self._connection() as db, db.transaction():
                if idempotency is not None:
                    found = self._replayed(db, owner, idempotency)
                    if found is not None:
                        return found
                position = self._turn_count(db, session_id, owner, lock=True)
                if position >= self._policy.max_turns:
                    raise SessionFullError(self._policy.max_turns)
                db.execute(
                    "INSERT INTO qa_turns (session_id, position, body) VALUES (%s, %s, %s)",
                    (session_id, position, turn.model_dump_json(exclude={"position"})),
                )
                db.execute(
                    "UPDATE qa_sessions SET turn_count = %s, last_used = now() WHERE id = %s",
                    (position + 1, session_id),
                )
                recorded = (
                    idempotency is None
                    or db.execute(
                        "INSERT INTO qa_idempotency_keys VALUES (%s, %s, %s, %s, %s)"
                        " ON CONFLICT (owner, key) DO NOTHING RETURNING 1",
                        (owner, idempotency.key, session_id, position, idempotency.fingerprint),
                    ).fetchone()
                )
                if not recorded:
                    # Another request with this key (in another session: both were first
                    # turns) committed meanwhile: undo this turn and return that one.
                    raise _LostTheRace
        except _LostTheRace:
            assert idempotency is not None
            found = self.replayed(owner, idempotency)
            if found is None:  # that session was deleted meanwhile
                raise SessionNotFoundError(session_id) from None
            return found
        return RecordedTurn(session_id, turn.model_copy(update={"position": position}))

    def replayed(self, owner: str, idempotency: IdempotencyKey) -> RecordedTurn | None:
        with self._connection() as db:
            return self._replayed(db, owner, idempotency)

    def _replayed(
        self, db: psycopg.Connection, owner: str, idempotency: IdempotencyKey
    ) -> RecordedTurn | None:
        row = db.execute(
            "SELECT k.session_id, k.fingerprint, t.position, t.body::text"
            " FROM qa_idempotency_keys k JOIN qa_sessions s ON s.id = k.session_id"
            " JOIN qa_turns t ON t.session_id = k.session_id AND t.position = k.position"
            f" WHERE k.owner = %(owner)s AND k.key = %(key)s AND s.owner = %(owner)s AND {_ALIVE}",
            self._params(owner=owner, key=idempotency.key),
        ).fetchone()
        if row is None:
            return None
        session_id, fingerprint, position, body = row
        found = RecordedTurn(session_id, stored_turn(body, position))
        return check_replay(found, idempotency.fingerprint, fingerprint)

    def delete(self, session_id: str, owner: str) -> bool:
        with self._connection() as db:
            cursor = db.execute(
                f"DELETE FROM qa_sessions s WHERE id = %(id)s AND owner = %(owner)s AND {_ALIVE}",
                self._params(id=session_id, owner=owner),
            )
        return cursor.rowcount > 0

    def rate(
        self, session_id: str, owner: str, position: int, feedback: TurnFeedback
    ) -> StoredTurn:
        """Keep ``feedback`` with the turn (a second rating replaces the first)."""
        with self._connection() as db, db.transaction():
            self._turn_count(db, session_id, owner, lock=True)
            row = db.execute(
                "SELECT body::text FROM qa_turns WHERE session_id = %s AND position = %s",
                (session_id, position),
            ).fetchone()
            if row is None:
                raise TurnNotFoundError(position)
            turn = stored_turn(row[0], position).model_copy(update={"feedback": feedback})
            db.execute(
                "UPDATE qa_turns SET body = %s WHERE session_id = %s AND position = %s",
                (turn.model_dump_json(exclude={"position"}), session_id, position),
            )
        return turn

    def rated_turns(self) -> list[RatedTurn]:
        """Every rated turn of every owner, oldest session first: for `qa feedback export`."""
        with self._connection() as db:
            rows = db.execute(
                "SELECT t.session_id, t.position, t.body::text FROM qa_turns t JOIN qa_sessions s"
                " ON s.id = t.session_id ORDER BY s.created, t.session_id, t.position"
            ).fetchall()
        return rated_in_order((sid, stored_turn(body, pos)) for sid, pos, body in rows)

    def check(self) -> None:
        """Raise ``SessionStoreUnavailableError`` within seconds when the server is down."""
        with self._connection(timeout=_CHECK_TIMEOUT_SECONDS) as db:
            db.execute("SELECT 1").fetchall()

    def close(self) -> None:
        """Closes the pool's connections (the store cannot be used afterwards)."""
        self._pool.close()

    def __enter__(self) -> PostgresSessionStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class _LostTheRace(Exception):
    """Raised inside a transaction to roll it back: the idempotency key went to another turn."""


def _describe(url: str) -> str:
    """The URL's server and database, never its password (it ends up in logs)."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(unparsable URL)"
    host = parts.get("host") or "localhost"
    port = parts.get("port") or 5432
    database = parts.get("dbname") or parts.get("user") or "?"
    return f"{database!r} at {host}:{port}"
