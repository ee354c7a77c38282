"""Sessions over HTTP belong to whoever made them (finding 3 of the fault-injection run): each API
key reaches only its own, a server without keys hands out unguessable ids, Slack's threads are not
reachable at all; sessions expire and are capped, come back a page at a time, and a long one
answers as fast as a short one. `Idempotency-Key` makes a retried turn count once."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qa.sessions import SLACK_OWNER, SessionStore, StoredTurn

MakeClient = Callable[..., TestClient]
FIRST = "Who founded the Lantern Festival?"
FOLLOW_UP = "When did she found it?"


@pytest.fixture()
def sessions_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sessions.sqlite3'}"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def store_of(client: TestClient) -> SessionStore:
    store: SessionStore = client.app.state.session_store  # type: ignore[attr-defined]
    return store


def start(client: TestClient, headers: dict[str, str] | None = None) -> str:
    response = client.post("/chat", json={"message": FIRST}, headers=headers or {})
    assert response.status_code == 200, response.text
    return str(response.json()["session_id"])


# --- owners -----------------------------------------------------------------------------------


def test_each_api_key_reaches_only_its_own_sessions(
    make_client: MakeClient, sessions_url: str
) -> None:
    client = make_client(api_keys=["key-alice", "key-bob"], database_url=sessions_url)
    alice = start(client, bearer("key-alice"))

    as_bob = bearer("key-bob")
    assert client.get(f"/sessions/{alice}", headers=as_bob).status_code == 404
    continued = client.post(
        "/chat", json={"message": FOLLOW_UP, "session_id": alice}, headers=as_bob
    )
    assert continued.status_code == 404
    assert client.delete(f"/sessions/{alice}", headers=as_bob).status_code == 404

    mine = client.get(f"/sessions/{alice}", headers=bearer("key-alice")).json()
    assert [t["question"] for t in mine["turns"]] == [FIRST]  # nothing injected, nothing lost


def test_qa_api_key_is_one_more_key_with_sessions_of_its_own(
    make_client: MakeClient, sessions_url: str
) -> None:
    client = make_client(api_key="old-key", api_keys=["new-key"], database_url=sessions_url)
    session_id = start(client, bearer("old-key"))
    assert client.get(f"/sessions/{session_id}", headers=bearer("old-key")).status_code == 200
    assert client.get(f"/sessions/{session_id}", headers=bearer("new-key")).status_code == 404
    assert client.get(f"/sessions/{session_id}", headers=bearer("wrong")).status_code == 401


def test_without_keys_the_session_id_is_an_unguessable_capability(
    make_client: MakeClient, sessions_url: str
) -> None:
    client = make_client(database_url=sessions_url)
    ids = {start(client) for _ in range(3)}
    assert len(ids) == 3
    assert all(len(session_id) >= 43 for session_id in ids)  # 256 random bits


@pytest.mark.parametrize("keys", [[], ["k"]])
def test_slack_threads_are_not_reachable_over_http(
    make_client: MakeClient, sessions_url: str, keys: list[str]
) -> None:
    client = make_client(api_keys=keys, database_url=sessions_url)
    store = store_of(client)
    thread = "slack:T0TEAM:C0CHAN:1700000000.000100"
    store.create(SLACK_OWNER, thread)
    store.append(thread, SLACK_OWNER, StoredTurn(question=FIRST, resolved_question=FIRST))
    headers = bearer("k") if keys else {}

    assert client.get(f"/sessions/{thread}", headers=headers).status_code == 404
    injected = client.post(
        "/chat", json={"message": "Ignore that. Who?", "session_id": thread}, headers=headers
    )
    assert injected.status_code == 404
    assert client.delete(f"/sessions/{thread}", headers=headers).status_code == 404
    assert [t.question for t in store.turns(thread, SLACK_OWNER).turns] == [FIRST]


# --- expiry, the cap, pages -------------------------------------------------------------------


def test_an_idle_session_expires(make_client: MakeClient, sessions_url: str) -> None:
    client = make_client(database_url=sessions_url, session_idle_hours=1.0 / 3600)  # 1 s
    session_id = start(client)
    time.sleep(1.2)
    response = client.post("/chat", json={"message": FOLLOW_UP, "session_id": session_id})
    assert response.status_code == 404
    assert "expired" in response.json()["error"]["message"]


def test_a_session_at_its_cap_is_a_409_saying_to_start_a_new_one(
    make_client: MakeClient, sessions_url: str
) -> None:
    client = make_client(database_url=sessions_url, session_max_turns=2)
    session_id = start(client)
    body = {"message": FOLLOW_UP, "session_id": session_id}
    assert client.post("/chat", json=body).status_code == 200
    response = client.post("/chat", json=body)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "session_full"
    assert "holds 2 turns" in error["message"] and "session_id null" in error["message"]


def test_get_session_pages_its_turns(make_client: MakeClient, sessions_url: str) -> None:
    client = make_client(database_url=sessions_url)
    session_id = start(client)
    for _ in range(4):
        client.post("/chat", json={"message": FOLLOW_UP, "session_id": session_id})
    first = client.get(f"/sessions/{session_id}?limit=2").json()
    assert (first["turn_count"], first["next_start"]) == (5, 2)
    assert [t["position"] for t in first["turns"]] == [0, 1]
    assert first["turns"][0]["question"] == FIRST
    last = client.get(f"/sessions/{session_id}?start=4&limit=2").json()
    assert ([t["position"] for t in last["turns"]], last["next_start"]) == ([4], None)
    too_many = client.get(f"/sessions/{session_id}?limit=1000")
    assert too_many.status_code == 422


def test_a_long_session_answers_as_fast_as_a_short_one_and_pages_stay_small(
    make_client: MakeClient, sessions_url: str
) -> None:
    client = make_client(database_url=sessions_url, session_max_turns=10_000)
    store = store_of(client)
    short, long = start(client), start(client)
    recorded = store.turns(long, "public").turns[0]
    for _ in range(1200):  # about 8 MB of recorded answers
        store.append(long, "public", recorded)

    def seconds_for_a_turn(session_id: str) -> float:
        started = time.perf_counter()
        response = client.post("/chat", json={"message": FOLLOW_UP, "session_id": session_id})
        assert response.status_code == 200
        return time.perf_counter() - started

    seconds_for_a_turn(short)  # warm
    # Taken in turns, so a busy moment of the machine weighs on both alike.
    timings = [(seconds_for_a_turn(short), seconds_for_a_turn(long)) for _ in range(5)]
    short_seconds = statistics.median(t[0] for t in timings)
    long_seconds = statistics.median(t[1] for t in timings)
    # Reading the whole session for its context doubled the time of a turn at this length.
    assert long_seconds < 1.5 * short_seconds + 0.005, (short_seconds, long_seconds)

    page = client.get(f"/sessions/{long}")
    assert page.json()["turn_count"] == 1206
    one_turn = len(recorded.model_dump_json())
    assert len(page.content) < 25 * one_turn  # a page of 20, not the whole session


# --- Idempotency-Key --------------------------------------------------------------------------


def test_a_retry_with_the_same_key_returns_the_recorded_answer_without_a_new_turn(
    make_client: MakeClient, sessions_url: str
) -> None:
    client = make_client(database_url=sessions_url)
    key = {"Idempotency-Key": "3f1c9a52-0d7e-4b8e-9c1a-5e2f6d7a8b90"}
    first = client.post("/chat", json={"message": FIRST}, headers=key)
    retry = client.post("/chat", json={"message": FIRST}, headers=key)
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()  # the same session, the same answer
    session_id = first.json()["session_id"]

    follow = {"message": FOLLOW_UP, "session_id": session_id}
    second = client.post("/chat", json=follow, headers={"Idempotency-Key": '"turn-2"'})
    again = client.post("/chat", json=follow, headers={"Idempotency-Key": "turn-2"})
    assert again.json() == second.json()
    turns = client.get(f"/sessions/{session_id}").json()
    assert turns["turn_count"] == 2
    assert [t["question"] for t in turns["turns"]] == [FIRST, FOLLOW_UP]


def test_a_key_sent_with_another_message_is_a_409(
    make_client: MakeClient, sessions_url: str
) -> None:
    client = make_client(database_url=sessions_url)
    key = {"Idempotency-Key": "once"}
    assert client.post("/chat", json={"message": FIRST}, headers=key).status_code == 200
    response = client.post("/chat", json={"message": "Who built the bridge?"}, headers=key)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "naïve"])
def test_a_malformed_key_is_a_422(make_client: MakeClient, sessions_url: str, key: str) -> None:
    client = make_client(database_url=sessions_url)
    response = client.post(
        "/chat", json={"message": FIRST}, headers={"Idempotency-Key": key.encode()}
    )
    assert response.status_code == 422
    assert "idempotency-key" in response.json()["error"]["message"].lower()
