"""POST /chat and /sessions: follow-ups answered from the session's earlier turns, sessions that
survive a restart (and a SIGKILL of `qa serve`), and the 404s for unknown sessions."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import INDEX_BACKEND
from fastapi.testclient import TestClient
from live_server import QaServe

from api.main import create_app
from qa.answering import Answerer
from qa.settings import Settings


def assert_cited(answer: dict[str, Any], answerer: Answerer) -> None:
    """Every citation points at the answer's exact text, inside its quote, in the cleaned text."""
    assert answer["citations"], answer
    for citation in answer["citations"]:
        document = answerer.document(citation["doc_id"])
        assert document is not None
        text = document.text
        assert text[citation["start"] : citation["end"]] == answer["text"]
        assert text[citation["quote_start"] : citation["quote_end"]] == citation["quote"]
        assert citation["quote_start"] <= citation["start"] <= citation["end"]
        assert citation["end"] <= citation["quote_end"]


@pytest.fixture()
def sessions_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sessions.sqlite3'}"


@pytest.fixture()
def chat_client(make_client: Callable[..., TestClient], sessions_url: str) -> TestClient:
    return make_client(database_url=sessions_url)


# --- the tiny index ---------------------------------------------------------------------------


def test_a_new_session_is_made_and_its_id_returned(chat_client: TestClient) -> None:
    response = chat_client.post("/chat", json={"message": "Who founded the Lantern Festival?"})
    assert response.status_code == 200
    body = response.json()
    assert body["session_id"]
    assert [a["text"] for a in body["answers"]] == ["Anne Whitby"]
    assert body["resolved_question"] == "Who founded the Lantern Festival?"


def test_a_follow_up_is_answered_from_the_session(
    chat_client: TestClient, answerer: Answerer
) -> None:
    first = chat_client.post("/chat", json={"message": "Who founded the Lantern Festival?"})
    session_id = first.json()["session_id"]
    second = chat_client.post(
        "/chat", json={"message": "When did she found it?", "session_id": session_id}
    ).json()
    assert second["session_id"] == session_id
    assert "Anne Whitby" in second["resolved_question"]
    assert [a["text"] for a in second["answers"]] == ["1975"]
    assert_cited(second["answers"][0], answerer)

    turns = chat_client.get(f"/sessions/{session_id}").json()["turns"]
    assert [t["question"] for t in turns] == [
        "Who founded the Lantern Festival?",
        "When did she found it?",
    ]
    assert turns[1]["answers"] == ["1975"]
    assert turns[1]["response"]["answers"][0]["citations"]


def test_the_same_follow_up_without_a_session_is_not_resolved(chat_client: TestClient) -> None:
    body = chat_client.post("/chat", json={"message": "When did she found it?"}).json()
    assert body["resolved_question"] == "When did she found it?"


def test_sessions_survive_an_app_restart(answerer: Answerer, sessions_url: str) -> None:
    settings = Settings(**{**answerer.settings.model_dump(), "database_url": sessions_url})
    with TestClient(create_app(settings, answerer)) as first_app:
        session_id = first_app.post(
            "/chat", json={"message": "Who founded the Lantern Festival?"}
        ).json()["session_id"]
    with TestClient(create_app(settings, answerer)) as second_app:
        body = second_app.post(
            "/chat", json={"message": "When did she found it?", "session_id": session_id}
        ).json()
        assert "Anne Whitby" in body["resolved_question"]
        assert len(second_app.get(f"/sessions/{session_id}").json()["turns"]) == 2


def test_an_unknown_session_is_a_404_in_the_error_shape(chat_client: TestClient) -> None:
    response = chat_client.post("/chat", json={"message": "Who?", "session_id": "nope"})
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "session_not_found"
    assert "nope" in error["message"]
    assert error["request_id"]
    assert chat_client.get("/sessions/nope").json()["error"]["code"] == "session_not_found"
    assert chat_client.delete("/sessions/nope").status_code == 404


def test_a_deleted_session_is_gone(chat_client: TestClient) -> None:
    session_id = chat_client.post(
        "/chat", json={"message": "How tall is the Harbour Tower?"}
    ).json()["session_id"]
    response = chat_client.delete(f"/sessions/{session_id}")
    assert response.status_code == 204
    assert response.content == b""
    assert chat_client.get(f"/sessions/{session_id}").status_code == 404
    follow_up = chat_client.post("/chat", json={"message": "When?", "session_id": session_id})
    assert follow_up.status_code == 404


def test_an_empty_message_is_a_422(chat_client: TestClient) -> None:
    response = chat_client.post("/chat", json={"message": "   "})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_question"


def test_chat_needs_the_api_key_when_one_is_set(
    make_client: Callable[..., TestClient], sessions_url: str
) -> None:
    client = make_client(api_key="k", database_url=sessions_url)
    assert client.post("/chat", json={"message": "Who?"}).status_code == 401
    assert client.get("/sessions/x").status_code == 401
    response = client.post("/chat", json={"message": "Who?"}, headers={"Authorization": "Bearer k"})
    assert response.status_code == 200
    assert client.get("/").status_code == 200  # the chat page itself is public


# --- the real model ---------------------------------------------------------------------------

FIRST = "Which Canadian police force is investigating Chinese-run police stations in Canada?"
FOLLOW_UP = "Which newspaper reported it?"


@pytest.fixture()
def real_client(real_answerer: Answerer, sessions_url: str) -> Iterator[TestClient]:
    settings = Settings(**{**real_answerer.settings.model_dump(), "database_url": sessions_url})
    with TestClient(create_app(settings, real_answerer)) as client:
        yield client


@pytest.mark.model
def test_real_follow_up_is_answered_with_the_first_answer(
    real_client: TestClient, real_answerer: Answerer
) -> None:
    first = real_client.post("/chat", json={"message": FIRST}).json()
    assert [a["text"] for a in first["answers"]] == ["Royal Canadian Mounted Police"]

    second = real_client.post(
        "/chat", json={"message": FOLLOW_UP, "session_id": first["session_id"]}
    ).json()
    assert "Royal Canadian Mounted Police" in second["resolved_question"]
    assert [a["text"] for a in second["answers"]] == ["Le Journal de Montreal"]
    assert_cited(second["answers"][0], real_answerer)
    # Asked alone, "it" is nothing in particular, and the answer is another newspaper.
    alone = real_client.post("/chat", json={"message": FOLLOW_UP}).json()
    assert alone["resolved_question"] == FOLLOW_UP
    assert "Le Journal de Montreal" not in [a["text"] for a in alone["answers"]]


@pytest.mark.model
def test_real_pronoun_follow_up_names_the_person_answered(real_client: TestClient) -> None:
    first = real_client.post(
        "/chat", json={"message": "Who is the campaign director of Safeguard Defenders?"}
    ).json()
    assert [a["text"] for a in first["answers"]] == ["Laura Harth"]
    second = real_client.post(
        "/chat", json={"message": "What did she tell CNN?", "session_id": first["session_id"]}
    ).json()
    assert second["resolved_question"] == "What did Laura Harth tell CNN?"


@pytest.mark.model
@pytest.mark.skipif(
    INDEX_BACKEND == "milvus",
    reason="Milvus Lite opens an index in one process at a time; this runs servers beside the "
    "test's own answerer, and two workers",
)
def test_a_conversation_survives_sigkill_of_qa_serve(
    real_answerer: Answerer, tmp_path: Path
) -> None:
    """The first turn is committed before it is answered, so a server killed without warning
    loses nothing: a new server (two workers this time) on the same files continues it."""
    settings = real_answerer.settings
    env = {
        "QA_DATABASE_URL": f"sqlite:///{tmp_path / 'sessions.sqlite3'}",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    args = ["--index", str(settings.index_dir), "--corpus", str(settings.corpus_dir)]
    log = tmp_path / "serve.log"

    server = QaServe(args, env, log)
    try:
        server.wait_ready()
        first = httpx.post(f"{server.url}/chat", json={"message": FIRST}, timeout=60).json()
        answered_first = [a["text"] for a in first["answers"]]
    finally:
        server.kill(signal.SIGKILL)
    assert server.process.returncode == -signal.SIGKILL

    restarted = QaServe([*args, "--workers", "2"], env, log)
    try:
        restarted.wait_ready()
        session_id = first["session_id"]
        second = httpx.post(
            f"{restarted.url}/chat",
            json={"message": FOLLOW_UP, "session_id": session_id},
            timeout=60,
        )
        assert second.status_code == 200, log.read_text()
        # Several requests, so both workers serve some: each sees the same session file.
        for _ in range(4):
            turns = httpx.get(f"{restarted.url}/sessions/{session_id}", timeout=30).json()
            assert [t["question"] for t in turns["turns"]] == [FIRST, FOLLOW_UP]
            stored = turns["turns"][0]["response"]["answers"]
            assert [a["text"] for a in stored] == answered_first
    finally:
        restarted.kill(signal.SIGTERM)
    assert os.path.exists(tmp_path / "sessions.sqlite3")
