"""Feedback on answers: 👍/👎 and a comment kept with the turn (SQLite store, HTTP route), and
`qa feedback export` writing rated turns as gold candidates a person can review."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT
from fastapi.testclient import TestClient

from qa.chat import ChatService
from qa.evaluation.gold import load_gold
from qa.feedback import CANDIDATES_FILE, REVIEW_FILE, export_feedback
from qa.sessions import PUBLIC_OWNER, TurnFeedback
from qa.sessions_sqlite import SqliteSessionStore

ANSWERABLE = "Who designed the Harbour Tower?"
FOLLOW_UP = "When was it completed?"
UNRELATED = "What is the capital of Mongolia?"


def _conversation(answerer, store) -> tuple[str, list]:  # type: ignore[no-untyped-def]
    service = ChatService(answerer, store)
    first = service.reply(ANSWERABLE)
    second = service.reply(FOLLOW_UP, first.session_id)
    third = service.reply(UNRELATED, first.session_id)
    return first.session_id, [first, second, third]


def test_a_rating_is_kept_with_its_turn_and_replaced_by_a_second(answerer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = SqliteSessionStore(tmp_path / "s.sqlite3")
    session_id, replies = _conversation(answerer, store)
    assert [r.turn_position for r in replies] == [0, 1, 2]
    store.rate(session_id, PUBLIC_OWNER, 1, TurnFeedback(rating="down", comment="wrong year"))
    store.rate(session_id, PUBLIC_OWNER, 1, TurnFeedback(rating="up"))
    turns = store.turns(session_id, PUBLIC_OWNER).turns
    assert [t.feedback.rating if t.feedback else None for t in turns] == [None, "up", None]
    rated = store.rated_turns()
    assert [(r.turn.position, r.earlier_questions) for r in rated] == [(1, [ANSWERABLE])]


def test_export_writes_gold_candidates_and_turns_to_review(answerer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = SqliteSessionStore(tmp_path / "s.sqlite3")
    session_id, replies = _conversation(answerer, store)
    for position, rating in ((0, "up"), (1, "up"), (2, "down")):
        store.rate(session_id, PUBLIC_OWNER, position, TurnFeedback(rating=rating, comment="hm"))
    report = export_feedback(store, tmp_path / "out")
    assert (report.candidates, report.needs_review) == (2, 1)
    gold = load_gold(tmp_path / "out" / CANDIDATES_FILE)  # the format `qa eval` reads
    assert [item.question for item in gold] == [ANSWERABLE, FOLLOW_UP]
    for item, reply in zip(gold, replies[:2], strict=True):
        given = [a.text for a in reply.answers]
        assert item.answerable == bool(given)
        if given:
            shown = list(item.answers) if len(given) == 1 else [i[0] for i in item.items]
            assert shown == given
        assert set(item.doc_ids) == {c.doc_id for a in reply.answers for c in a.citations}
    if replies[1].resolved_question.casefold() != FOLLOW_UP.casefold():
        assert gold[1].category == "followup" and gold[1].history == (ANSWERABLE,)
    review = [
        json.loads(line) for line in (tmp_path / "out" / REVIEW_FILE).read_text().splitlines()
    ]
    assert review[0]["question"] == UNRELATED
    assert review[0]["rejected_answers"] == [a.text for a in replies[2].answers]
    assert review[0]["comment"] == "hm" and review[0]["answers"] == []


def test_the_feedback_route(client: TestClient) -> None:
    reply = client.post("/chat", json={"message": ANSWERABLE}).json()
    path = f"/sessions/{reply['session_id']}/turns/{reply['turn_position']}/feedback"
    given = client.post(path, json={"rating": "down", "comment": "  not him  "})
    assert given.status_code == 200
    assert given.json()["rating"] == "down" and given.json()["comment"] == "not him"
    turns = client.get(f"/sessions/{reply['session_id']}").json()["turns"]
    assert turns[0]["feedback"]["comment"] == "not him"
    assert client.post(path, json={"rating": "meh"}).status_code == 422
    missing = client.post(
        f"/sessions/{reply['session_id']}/turns/7/feedback", json={"rating": "up"}
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "turn_not_found"
    gone = client.post("/sessions/nope/turns/0/feedback", json={"rating": "up"})
    assert gone.status_code == 404


def test_qa_feedback_export_on_the_command_line(answerer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    index = tmp_path / "index"
    store = SqliteSessionStore(index / "sessions.sqlite3")
    session_id, _ = _conversation(answerer, store)
    store.rate(session_id, PUBLIC_OWNER, 0, TurnFeedback(rating="up"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "qa",
            "feedback",
            "export",
            "--index",
            str(index),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "1 rated 👍" in result.stderr and "0 rated 👎" in result.stderr
    assert len(load_gold(tmp_path / "out" / CANDIDATES_FILE)) == 1
