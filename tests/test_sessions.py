"""The session stores behave alike: every test runs against SQLite and against PostgreSQL.

Sessions are owned (another owner's session is not found), expire when idle, hold a bounded
number of turns, come back a page at a time, and record a turn once per idempotency key.

The PostgreSQL runs need a server: ``eval "$(bash scripts/postgres-for-tests.sh)"`` starts a
throwaway one and sets ``QA_TEST_POSTGRES_URL``; without it they are skipped. Each test gets
its own schema, so the tables are created from nothing every time and tests do not see each
other's sessions.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qa.sessions import (
    DEFAULT_POLICY,
    IdempotencyKey,
    IdempotencyKeyReusedError,
    SessionFullError,
    SessionNotFoundError,
    SessionPolicy,
    SessionStore,
    StoredTurn,
    open_session_store,
)

POSTGRES_URL = os.environ.get("QA_TEST_POSTGRES_URL", "")

OpenStore = Callable[..., SessionStore]
ALICE, BOB = "key:alice", "key:bob"


def _with_search_path(url: str, schema: str) -> str:
    """The URL with unqualified table names resolving into ``schema`` (libpq's options)."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty session database of each kind (PostgreSQL: a schema of its own)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sessions.sqlite3'}"
        return
    if not POSTGRES_URL:
        pytest.skip(
            "QA_TEST_POSTGRES_URL is not set; start a throwaway server with "
            'eval "$(bash scripts/postgres-for-tests.sh)"'
        )
    import psycopg

    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")
    yield _with_search_path(POSTGRES_URL, schema)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as db:
        db.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture()
def open_store(database: str) -> Iterator[OpenStore]:
    """Opens a store on one database, as often as asked (each call is a new store object,
    as a restarted server or another replica would have)."""
    opened: list[SessionStore] = []

    def open_(policy: SessionPolicy = DEFAULT_POLICY) -> SessionStore:
        store = open_session_store(database, policy)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        close = getattr(store, "close", None)
        if close is not None:
            close()


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


def questions(turns: list[StoredTurn]) -> list[str]:
    return [t.question for t in turns]


def all_turns(store: SessionStore, session_id: str, owner: str = ALICE) -> list[StoredTurn]:
    return store.turns(session_id, owner, 0, 1000).turns


# --- the basics -------------------------------------------------------------------------------


def test_new_session_exists_and_has_no_turns(store: SessionStore) -> None:
    session_id = store.create(ALICE)
    assert session_id
    assert store.exists(session_id, ALICE)
    page = store.turns(session_id, ALICE)
    assert (page.turns, page.turn_count, page.next_start) == ([], 0, None)


def test_session_ids_are_distinct_and_unguessable(store: SessionStore) -> None:
    ids = {store.create(ALICE) for _ in range(20)}
    assert len(ids) == 20
    assert all(len(i) >= 43 and i.replace("-", "").replace("_", "").isalnum() for i in ids)


def test_a_chosen_id_is_used_and_creating_it_again_keeps_its_turns(store: SessionStore) -> None:
    thread = "slack:T1:C123:1700000000.0001"
    assert store.create("slack", thread) == thread
    store.append(thread, "slack", turn("who built it?"))
    assert store.create("slack", thread) == thread
    assert questions(all_turns(store, thread, "slack")) == ["who built it?"]


def test_turns_come_back_in_the_order_they_were_added(store: SessionStore) -> None:
    session_id = store.create(ALICE)
    asked = [f"question {i}" for i in range(12)]  # 10 after 9: order is numeric, not text
    for question in asked:
        store.append(session_id, ALICE, turn(question))
    assert questions(all_turns(store, session_id)) == asked
    assert [t.position for t in all_turns(store, session_id)] == list(range(12))


def test_a_turn_comes_back_as_it_was_stored(store: SessionStore) -> None:
    session_id = store.create(ALICE)
    original = turn("when was the tower completed?").model_copy(update={"abstained": True})
    recorded = store.append(session_id, ALICE, original)
    assert (recorded.session_id, recorded.turn, recorded.replayed) == (session_id, original, False)
    assert all_turns(store, session_id) == [original]


def test_sessions_keep_their_turns_apart(store: SessionStore) -> None:
    first, second = store.create(ALICE), store.create(ALICE)
    store.append(first, ALICE, turn("first"))
    store.append(second, ALICE, turn("second"))
    assert questions(all_turns(store, first)) == ["first"]
    assert questions(all_turns(store, second)) == ["second"]


def test_an_unknown_id_is_not_found(store: SessionStore) -> None:
    assert not store.exists("no-such-session", ALICE)
    with pytest.raises(SessionNotFoundError):
        store.turns("no-such-session", ALICE)
    with pytest.raises(SessionNotFoundError):
        store.history("no-such-session", ALICE, 6)
    with pytest.raises(SessionNotFoundError):
        store.append("no-such-session", ALICE, turn("hello?"))
    assert not store.delete("no-such-session", ALICE)


def test_delete_removes_the_session_and_its_turns(store: SessionStore) -> None:
    session_id = store.create(ALICE)
    store.append(session_id, ALICE, turn("one"))
    store.append(session_id, ALICE, turn("two"))
    assert store.delete(session_id, ALICE)
    assert not store.exists(session_id, ALICE)
    with pytest.raises(SessionNotFoundError):
        store.turns(session_id, ALICE)
    with pytest.raises(SessionNotFoundError):
        store.append(session_id, ALICE, turn("three"))
    assert not store.delete(session_id, ALICE)
    # The turns went with it: the same id made again starts empty.
    store.create(ALICE, session_id)
    assert all_turns(store, session_id) == []


# --- owners -----------------------------------------------------------------------------------


def test_another_owners_session_is_not_found_in_any_way(store: SessionStore) -> None:
    session_id = store.create(ALICE)
    store.append(session_id, ALICE, turn("alice's question"))
    for owner in (BOB, "public", "slack"):
        assert not store.exists(session_id, owner)
        with pytest.raises(SessionNotFoundError):
            store.turns(session_id, owner)
        with pytest.raises(SessionNotFoundError):
            store.history(session_id, owner, 6)
        with pytest.raises(SessionNotFoundError):
            store.append(session_id, owner, turn("injected"))
        assert not store.delete(session_id, owner)
    assert questions(all_turns(store, session_id)) == ["alice's question"]


def test_creating_another_owners_id_does_not_take_it_over(store: SessionStore) -> None:
    thread = "slack:T1:C1:1700000000.0002"
    store.create("slack", thread)
    store.append(thread, "slack", turn("in the thread"))
    assert store.create(BOB, thread) == thread
    with pytest.raises(SessionNotFoundError):
        store.append(thread, BOB, turn("injected"))
    assert questions(all_turns(store, thread, "slack")) == ["in the thread"]


# --- expiry and the cap -----------------------------------------------------------------------


def test_an_idle_session_expires_and_a_used_one_does_not(open_store: OpenStore) -> None:
    store = open_store(SessionPolicy(idle_seconds=1.0))
    idle, used = store.create(ALICE), store.create(ALICE)
    store.append(idle, ALICE, turn("asked once"))
    for _ in range(3):
        time.sleep(0.45)
        store.append(used, ALICE, turn("asked again"))
    assert not store.exists(idle, ALICE)
    with pytest.raises(SessionNotFoundError):
        store.append(idle, ALICE, turn("too late"))
    assert store.exists(used, ALICE)
    # A thread's id, expired, starts afresh when its thread is talked in again.
    store.create(ALICE, idle)
    assert all_turns(store, idle) == []


def test_a_session_holds_at_most_the_cap_of_turns(open_store: OpenStore) -> None:
    store = open_store(SessionPolicy(max_turns=3))
    session_id = store.create(ALICE)
    for i in range(3):
        store.history(session_id, ALICE, 6)  # there is room for the next turn
        store.append(session_id, ALICE, turn(f"q{i}"))
    with pytest.raises(SessionFullError):
        store.history(session_id, ALICE, 6)
    with pytest.raises(SessionFullError, match="holds 3 turns"):
        store.append(session_id, ALICE, turn("one too many"))
    assert store.turns(session_id, ALICE).turn_count == 3


# --- reading a long session -------------------------------------------------------------------


def test_history_is_the_last_turns_in_order(store: SessionStore) -> None:
    session_id = store.create(ALICE)
    for i in range(10):
        store.append(session_id, ALICE, turn(f"q{i}"))
    assert questions(store.history(session_id, ALICE, 3)) == ["q7", "q8", "q9"]
    assert [t.position for t in store.history(session_id, ALICE, 3)] == [7, 8, 9]


def test_turns_come_a_page_at_a_time(store: SessionStore) -> None:
    session_id = store.create(ALICE)
    for i in range(12):
        store.append(session_id, ALICE, turn(f"q{i}"))
    pages, start = [], 0
    while start is not None:
        page = store.turns(session_id, ALICE, start, 5)
        assert page.turn_count == 12
        pages.append(questions(page.turns))
        start = page.next_start
    assert [len(p) for p in pages] == [5, 5, 2]
    assert sum(pages, []) == [f"q{i}" for i in range(12)]
    assert store.turns(session_id, ALICE, 12, 5).turns == []


# --- idempotency keys -------------------------------------------------------------------------


def test_a_key_records_its_turn_once(store: SessionStore) -> None:
    session_id = store.create(ALICE)
    key = IdempotencyKey("retry-me", "fingerprint-1")
    first = store.append(session_id, ALICE, turn("asked once"), key)
    again = store.append(session_id, ALICE, turn("asked once"), key)
    assert (first.replayed, again.replayed) == (False, True)
    assert again.turn == first.turn and again.session_id == session_id
    assert store.replayed(ALICE, key) == again
    assert questions(all_turns(store, session_id)) == ["asked once"]


def test_a_key_with_another_request_is_refused(store: SessionStore) -> None:
    session_id = store.create(ALICE)
    store.append(session_id, ALICE, turn("first"), IdempotencyKey("k", "fingerprint-1"))
    with pytest.raises(IdempotencyKeyReusedError):
        store.append(session_id, ALICE, turn("other"), IdempotencyKey("k", "fingerprint-2"))
    with pytest.raises(IdempotencyKeyReusedError):
        store.replayed(ALICE, IdempotencyKey("k", "fingerprint-2"))
    assert questions(all_turns(store, session_id)) == ["first"]


def test_keys_are_each_owners_own(store: SessionStore) -> None:
    key = IdempotencyKey("same-key", "fingerprint")
    alice, bob = store.create(ALICE), store.create(BOB)
    store.append(alice, ALICE, turn("alice"), key)
    assert store.replayed(BOB, key) is None
    assert not store.append(bob, BOB, turn("bob"), key).replayed
    assert store.replayed(ALICE, key).turn.question == "alice"  # type: ignore[union-attr]


def test_a_key_recorded_in_another_session_returns_that_turn(store: SessionStore) -> None:
    # Two first turns with one key, each in the session it made: the one recorded wins.
    key = IdempotencyKey("first-turn", "fingerprint")
    winner, loser = store.create(ALICE), store.create(ALICE)
    store.append(winner, ALICE, turn("asked"), key)
    again = store.append(loser, ALICE, turn("asked"), key)
    assert (again.session_id, again.replayed) == (winner, True)
    assert all_turns(store, loser) == []


def test_concurrent_appends_lose_nothing_and_keep_each_writers_order(
    open_store: OpenStore,
) -> None:
    # Two store objects, as two replicas would have, each used by several threads.
    stores = [open_store(), open_store()]
    session_id = stores[0].create(ALICE)
    writers, per_writer = 8, 25
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            start.wait()
            for i in range(per_writer):
                stores[writer % 2].append(session_id, ALICE, turn(f"w{writer}-{i}"))
        except BaseException as error:  # reported by the main thread below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)

    asked = questions(all_turns(stores[1], session_id))
    assert len(asked) == writers * per_writer
    assert sorted(asked) == sorted(f"w{w}-{i}" for w in range(writers) for i in range(per_writer))
    for writer in range(writers):
        mine = [q for q in asked if q.startswith(f"w{writer}-")]
        assert mine == [f"w{writer}-{i}" for i in range(per_writer)]


def test_sessions_survive_reopening_the_store(open_store: OpenStore) -> None:
    before = open_store()
    session_id = before.create(ALICE)
    before.append(session_id, ALICE, turn("first"))
    before.append(session_id, ALICE, turn("second"))
    close = getattr(before, "close", None)
    if close is not None:
        close()

    after = open_store()  # the schema already exists: opening again must keep the data
    assert after.exists(session_id, ALICE)
    assert questions(all_turns(after, session_id)) == ["first", "second"]
    after.append(session_id, ALICE, turn("third"))
    assert questions(all_turns(after, session_id)) == ["first", "second", "third"]


# Sessions made before they had owners: what the earlier versions' tables looked like.
_OLD_SQLITE = """
CREATE TABLE sessions (id TEXT PRIMARY KEY, created TEXT NOT NULL);
CREATE TABLE turns (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (session_id, position)
);
"""
_OLD_POSTGRES = """
CREATE TABLE qa_sessions (
    id TEXT PRIMARY KEY, created TIMESTAMPTZ NOT NULL DEFAULT now(),
    turn_count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE qa_turns (
    session_id TEXT NOT NULL REFERENCES qa_sessions(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, body JSON NOT NULL, PRIMARY KEY (session_id, position)
);
"""


def _write_old_sessions(url: str, sessions: dict[str, list[str]]) -> None:
    if url.startswith("sqlite:///"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        db.executescript(_OLD_SQLITE)
        for session_id, asked in sessions.items():
            db.execute(
                "INSERT INTO sessions VALUES (?, '2024-01-01T00:00:00+00:00')", (session_id,)
            )
            for position, question in enumerate(asked):
                db.execute(
                    "INSERT INTO turns VALUES (?, ?, ?)",
                    (session_id, position, turn(question).model_dump_json(exclude={"position"})),
                )
        db.commit()
        db.close()
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        db.execute(_OLD_POSTGRES)
        for session_id, asked in sessions.items():
            db.execute(
                "INSERT INTO qa_sessions (id, turn_count) VALUES (%s, %s)",
                (session_id, len(asked)),
            )
            for position, question in enumerate(asked):
                db.execute(
                    "INSERT INTO qa_turns VALUES (%s, %s, %s)",
                    (session_id, position, turn(question).model_dump_json(exclude={"position"})),
                )


def test_sessions_of_an_earlier_version_are_kept_and_get_owners(
    database: str, open_store: OpenStore
) -> None:
    thread, page = "slack:T1:C1:1700000000.0003", uuid.uuid4().hex
    _write_old_sessions(database, {thread: ["in a thread", "and again"], page: ["on the page"]})
    store = open_store(SessionPolicy(idle_seconds=3600))
    assert questions(all_turns(store, thread, "slack")) == ["in a thread", "and again"]
    assert questions(all_turns(store, page, "public")) == ["on the page"]
    assert not store.exists(thread, "public") and not store.exists(page, ALICE)
    store.append(thread, "slack", turn("a third"))
    assert [t.position for t in all_turns(store, thread, "slack")] == [0, 1, 2]
    open_store()  # opening the migrated store again changes nothing
    assert store.turns(thread, "slack").turn_count == 3


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


# --- feedback ---------------------------------------------------------------------------------


def test_feedback_is_kept_with_its_turn_and_listed_for_export(store: SessionStore) -> None:
    from qa.sessions import TurnFeedback, TurnNotFoundError

    first = store.create(ALICE)
    second = store.create(BOB)
    for question in ("Who built it?", "When?"):
        store.append(first, ALICE, turn(question))
    store.append(second, BOB, turn("Where?"))
    store.rate(first, ALICE, 1, TurnFeedback(rating="down", comment="not then"))
    store.rate(second, BOB, 0, TurnFeedback(rating="up"))
    assert [t.feedback for t in all_turns(store, first)][0] is None
    assert all_turns(store, first)[1].feedback == TurnFeedback(rating="down", comment="not then")
    rated = store.rated_turns()  # every owner's, for the person who exports them
    assert sorted((r.turn.question, r.earlier_questions) for r in rated) == [
        ("When?", ["Who built it?"]),
        ("Where?", []),
    ]
    with pytest.raises(SessionNotFoundError):
        store.rate(first, BOB, 0, TurnFeedback(rating="up"))  # someone else's session
    with pytest.raises(TurnNotFoundError):
        store.rate(first, ALICE, 5, TurnFeedback(rating="up"))
