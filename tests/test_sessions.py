"""The session stores behave alike: every test runs against SQLite and against PostgreSQL.

The PostgreSQL runs need a server: ``eval "$(bash scripts/postgres-for-tests.sh)"`` starts a
throwaway one and sets ``QA_TEST_POSTGRES_URL``; without it they are skipped. Each test gets
its own schema, so the tables are created from nothing every time and tests do not see each
other's sessions.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qa.sessions import SessionNotFoundError, SessionStore, StoredTurn, open_session_store

POSTGRES_URL = os.environ.get("QA_TEST_POSTGRES_URL", "")

OpenStore = Callable[[], SessionStore]


def _with_search_path(url: str, schema: str) -> str:
    """The URL with unqualified table names resolving into ``schema`` (libpq's options)."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    """Opens a store on one database, as often as asked (each call is a new store object,
    as a restarted server or another replica would have)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'sessions.sqlite3'}"
        schema = None
    else:
        if not POSTGRES_URL:
            pytest.skip(
                "QA_TEST_POSTGRES_URL is not set; start a throwaway server with "
                'eval "$(bash scripts/postgres-for-tests.sh)"'
            )
        import psycopg

        schema = f"test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as db:
            db.execute(f"CREATE SCHEMA {schema}")
        url = _with_search_path(POSTGRES_URL, schema)

    opened: list[SessionStore] = []

    def open_() -> SessionStore:
        store = open_session_store(url)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        close = getattr(store, "close", None)
        if close is not None:
            close()
    if schema is not None:
        import psycopg

        with psycopg.connect(POSTGRES_URL, autocommit=True) as db:
            db.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture()
def store(open_store: OpenStore) -> SessionStore:
    return open_store()


def turn(question: str) -> StoredTurn:
    return StoredTurn(
        question=question,
        resolved_question=question,
        answers=[f"answer to {question}"],
        created="2024-01-01T00:00:00+00:00",
    )


def test_new_session_exists_and_has_no_turns(store: SessionStore) -> None:
    session_id = store.create()
    assert session_id
    assert store.exists(session_id)
    assert store.turns(session_id) == []


def test_sessions_get_distinct_ids(store: SessionStore) -> None:
    assert len({store.create() for _ in range(20)}) == 20


def test_a_chosen_id_is_used_and_creating_it_again_keeps_its_turns(store: SessionStore) -> None:
    assert store.create("slack-C123-1700000000.0001") == "slack-C123-1700000000.0001"
    store.append("slack-C123-1700000000.0001", turn("who built it?"))
    assert store.create("slack-C123-1700000000.0001") == "slack-C123-1700000000.0001"
    assert [t.question for t in store.turns("slack-C123-1700000000.0001")] == ["who built it?"]


def test_turns_come_back_in_the_order_they_were_added(store: SessionStore) -> None:
    session_id = store.create()
    questions = [f"question {i}" for i in range(12)]  # 10 after 9: order is numeric, not text
    for question in questions:
        store.append(session_id, turn(question))
    assert [t.question for t in store.turns(session_id)] == questions


def test_a_turn_comes_back_as_it_was_stored(store: SessionStore) -> None:
    session_id = store.create()
    original = turn("when was the tower completed?").model_copy(update={"abstained": True})
    store.append(session_id, original)
    assert store.turns(session_id) == [original]


def test_sessions_keep_their_turns_apart(store: SessionStore) -> None:
    first, second = store.create(), store.create()
    store.append(first, turn("first"))
    store.append(second, turn("second"))
    assert [t.question for t in store.turns(first)] == ["first"]
    assert [t.question for t in store.turns(second)] == ["second"]


def test_an_unknown_id_is_not_found(store: SessionStore) -> None:
    assert not store.exists("no-such-session")
    with pytest.raises(SessionNotFoundError):
        store.turns("no-such-session")
    with pytest.raises(SessionNotFoundError):
        store.append("no-such-session", turn("hello?"))
    assert not store.delete("no-such-session")


def test_delete_removes_the_session_and_its_turns(store: SessionStore) -> None:
    session_id = store.create()
    store.append(session_id, turn("one"))
    store.append(session_id, turn("two"))
    assert store.delete(session_id)
    assert not store.exists(session_id)
    with pytest.raises(SessionNotFoundError):
        store.turns(session_id)
    with pytest.raises(SessionNotFoundError):
        store.append(session_id, turn("three"))
    assert not store.delete(session_id)
    # The turns went with it: the same id made again starts empty.
    store.create(session_id)
    assert store.turns(session_id) == []


def test_concurrent_appends_lose_nothing_and_keep_each_writers_order(
    open_store: OpenStore,
) -> None:
    # Two store objects, as two replicas would have, each used by several threads.
    stores = [open_store(), open_store()]
    session_id = stores[0].create()
    writers, per_writer = 8, 25
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            start.wait()
            for i in range(per_writer):
                stores[writer % 2].append(session_id, turn(f"w{writer}-{i}"))
        except BaseException as error:  # reported by the main thread below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)

    questions = [t.question for t in stores[1].turns(session_id)]
    assert len(questions) == writers * per_writer
    assert sorted(questions) == sorted(
        f"w{w}-{i}" for w in range(writers) for i in range(per_writer)
    )
    for writer in range(writers):
        mine = [q for q in questions if q.startswith(f"w{writer}-")]
        assert mine == [f"w{writer}-{i}" for i in range(per_writer)]


def test_sessions_survive_reopening_the_store(open_store: OpenStore) -> None:
    before = open_store()
    session_id = before.create()
    before.append(session_id, turn("first"))
    before.append(session_id, turn("second"))
    close = getattr(before, "close", None)
    if close is not None:
        close()

    after = open_store()  # the schema already exists: opening again must keep the data
    assert after.exists(session_id)
    assert [t.question for t in after.turns(session_id)] == ["first", "second"]
    after.append(session_id, turn("third"))
    assert [t.question for t in after.turns(session_id)] == ["first", "second", "third"]


def test_an_unreachable_postgres_server_is_a_clear_error() -> None:
    pytest.importorskip("psycopg")
    from qa.sessions_postgres import PostgresSessionStore, SessionDatabaseError

    # Port 1 on this machine: nothing listens there, so the connection is refused at once.
    url = "postgresql://qa:secret-password@127.0.0.1:1/qa?connect_timeout=2"
    with pytest.raises(SessionDatabaseError) as raised:
        PostgresSessionStore(url, timeout=3)
    message = str(raised.value)
    assert "127.0.0.1:1" in message and "QA_DATABASE_URL" in message
    assert "secret-password" not in message
