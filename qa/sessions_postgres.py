"""Conversation sessions in PostgreSQL, so every replica of the service sees the same sessions.

The same interface as ``SqliteSessionStore`` (``qa.sessions.SessionStore``), over a small pool
of connections shared by the threads of one process. ``open_session_store`` picks this store
for a ``postgresql://`` URL (``QA_DATABASE_URL``).
"""

from __future__ import annotations

import uuid
from types import TracebackType

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from qa.sessions import SessionNotFoundError, StoredTurn

# Tables are prefixed so the store can share a database with other applications.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS qa_sessions (
    id TEXT PRIMARY KEY,
    created TIMESTAMPTZ NOT NULL DEFAULT now(),
    turn_count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS qa_turns (
    session_id TEXT NOT NULL REFERENCES qa_sessions(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    body JSON NOT NULL,
    PRIMARY KEY (session_id, position)
);
"""

# Replicas starting together would race on CREATE TABLE IF NOT EXISTS (it is not atomic with
# respect to the system catalogs); one transaction-scoped advisory lock serialises them.
_SCHEMA_LOCK_KEY = 0x71615F73  # "qa_s"


class SessionDatabaseError(RuntimeError):
    """The session database cannot be reached (wrong URL, server down, bad password)."""


class PostgresSessionStore:
    """Sessions in PostgreSQL; the tables are created on first use if missing."""

    def __init__(self, url: str, *, max_connections: int = 10, timeout: float = 10.0) -> None:
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

    def create(self, session_id: str | None = None) -> str:
        session_id = session_id or uuid.uuid4().hex
        with self._pool.connection() as db:
            db.execute(
                "INSERT INTO qa_sessions (id) VALUES (%s) ON CONFLICT (id) DO NOTHING",
                (session_id,),
            )
        return session_id

    def exists(self, session_id: str) -> bool:
        with self._pool.connection() as db:
            row = db.execute("SELECT 1 FROM qa_sessions WHERE id = %s", (session_id,)).fetchone()
        return row is not None

    def turns(self, session_id: str) -> list[StoredTurn]:
        # One statement, so the existence check and the turns come from one snapshot: a
        # session without turns gives a single row whose body is NULL.
        with self._pool.connection() as db:
            rows = db.execute(
                "SELECT t.body::text FROM qa_sessions s"
                " LEFT JOIN qa_turns t ON t.session_id = s.id"
                " WHERE s.id = %s ORDER BY t.position",
                (session_id,),
            ).fetchall()
        if not rows:
            raise SessionNotFoundError(session_id)
        return [StoredTurn.model_validate_json(body) for (body,) in rows if body is not None]

    def append(self, session_id: str, turn: StoredTurn) -> None:
        # The UPDATE takes the session row's lock until commit, so concurrent appends to one
        # session (from any replica) get consecutive positions, and none is lost; appends to
        # different sessions do not wait for each other.
        with self._pool.connection() as db, db.transaction():
            row = db.execute(
                "UPDATE qa_sessions SET turn_count = turn_count + 1"
                " WHERE id = %s RETURNING turn_count - 1",
                (session_id,),
            ).fetchone()
            if row is None:
                raise SessionNotFoundError(session_id)
            db.execute(
                "INSERT INTO qa_turns (session_id, position, body) VALUES (%s, %s, %s)",
                (session_id, row[0], turn.model_dump_json()),
            )

    def delete(self, session_id: str) -> bool:
        with self._pool.connection() as db:
            cursor = db.execute("DELETE FROM qa_sessions WHERE id = %s", (session_id,))
        return cursor.rowcount > 0

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
