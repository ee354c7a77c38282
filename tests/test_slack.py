"""Slack: signed requests to /slack/events answered in the right thread, exactly once, through a
local mock of Slack's Web API (nothing reaches Slack)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from slack_bolt import BoltRequest
from slack_mock import (
    TEAM,
    MockSlack,
    all_text,
    mention,
    post_command,
    post_event,
    signed_headers,
    slack_settings,
)

from api.main import create_app
from api.slack_app import RecentEvents, SlackConversations, build_slack_app
from api.slack_format import session_id_for_thread
from qa.answering import Answerer
from qa.cli import main as cli_main
from qa.sessions import SLACK_OWNER, open_session_store
from qa.settings import Settings


@pytest.fixture()
def slack() -> Iterator[MockSlack]:
    mock = MockSlack()
    yield mock
    mock.close()


@pytest.fixture()
def slack_client(answerer: Answerer, slack: MockSlack, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(slack_settings(answerer.settings, slack, tmp_path), answerer)
    with TestClient(app) as client:
        yield client


# --- the HTTP endpoint ------------------------------------------------------------------------


def test_url_verification_echoes_the_challenge(slack_client: TestClient) -> None:
    response = post_event(
        slack_client, {"token": "t", "challenge": "abc123", "type": "url_verification"}
    )
    assert response.status_code == 200
    assert response.json() == {"challenge": "abc123"}


def test_a_mention_is_answered_once_in_its_thread_with_a_citation(
    slack_client: TestClient, slack: MockSlack
) -> None:
    started = time.monotonic()
    response = post_event(slack_client, mention("Who founded the Lantern Festival?", "1700.000100"))
    assert response.status_code == 200
    assert time.monotonic() - started < 3  # acknowledged within Slack's 3 seconds

    (answer,) = slack.wait_for(lambda: slack.posts(thread_ts="1700.000100"))
    assert answer.body["channel"] == "C0CHAN"
    assert "Anne Whitby" in answer.body["text"]
    blocks = answer.body["blocks"]
    assert blocks[0]["text"]["text"] == "*Anne Whitby*"
    shown = all_text(answer)
    assert "founded in 1975 by the teacher *Anne Whitby*" in shown  # the quote, answer in bold
    assert "The Lantern Festival" in shown  # the numbered source
    time.sleep(0.3)
    assert len(slack.posts()) == 1


def test_a_redelivered_event_is_not_answered_twice(
    slack_client: TestClient, slack: MockSlack
) -> None:
    event = mention("Who built the Old Stone Bridge?", "1700.000200")
    assert post_event(slack_client, event).status_code == 200
    slack.wait_for(lambda: slack.posts(thread_ts="1700.000200"))

    retry = post_event(
        slack_client, event, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert retry.status_code == 200
    # A later event is answered; by then a second answer to the retry would have come too.
    post_event(slack_client, mention("Who founded the Lantern Festival?", "1700.000300"))
    slack.wait_for(lambda: slack.posts(thread_ts="1700.000300"))
    time.sleep(0.3)
    assert len(slack.posts(thread_ts="1700.000200")) == 1


def test_a_mention_in_a_thread_continues_that_threads_conversation(
    slack_client: TestClient, slack: MockSlack
) -> None:
    post_event(slack_client, mention("Who founded the Lantern Festival?", "1700.000400"))
    slack.wait_for(lambda: slack.posts(thread_ts="1700.000400"))
    post_event(
        slack_client, mention("When did she found it?", "1700.000500", thread_ts="1700.000400")
    )
    replies = slack.wait_for(lambda: slack.posts(thread_ts="1700.000400"), count=2)
    assert "Anne Whitby" in all_text(replies[1])  # the resolved question names her
    assert "1975" in replies[1].body["text"]


def test_the_slash_command_posts_the_question_and_answers_in_its_thread(
    slack_client: TestClient, slack: MockSlack
) -> None:
    response = post_command(slack_client, slack, "Who founded the Lantern Festival?")
    assert response.status_code == 200
    assert response.text == ""  # nothing but the acknowledgement

    (question,) = slack.wait_for(lambda: [p for p in slack.posts() if "thread_ts" not in p.body])
    assert question.body["channel"] == "C0ASK"
    assert question.body["text"] == "<@U0ASKER> asked: Who founded the Lantern Festival?"
    (answer,) = slack.wait_for(lambda: slack.posts(thread_ts="1800000000.000001"))
    assert answer.body["channel"] == "C0ASK"
    assert "Anne Whitby" in answer.body["text"]
    time.sleep(0.3)
    assert len(slack.posts()) == 2
    assert not [c for c in slack.calls if c.path.startswith("/response/")]


def test_the_slash_command_answers_privately_where_the_bot_may_not_post(
    slack_client: TestClient, slack: MockSlack
) -> None:
    slack.no_post_channels.add("C0CLOSED")
    post_command(slack_client, slack, "Who founded the Lantern Festival?", channel="C0CLOSED")
    (private,) = slack.wait_for(lambda: [c for c in slack.calls if c.path.startswith("/response/")])
    assert private.body["response_type"] == "ephemeral"
    assert "Anne Whitby" in private.body["text"]
    assert private.body["blocks"]


def test_an_empty_slash_command_shows_the_usage(slack_client: TestClient, slack: MockSlack) -> None:
    response = post_command(slack_client, slack, "   ")
    assert response.status_code == 200
    assert "/ask" in response.text  # shown to the asker only
    time.sleep(0.3)
    assert slack.posts() == []


def test_an_unanswerable_question_gets_the_plain_abstention(
    slack_client: TestClient, slack: MockSlack
) -> None:
    post_event(slack_client, mention("What is the airspeed of an unladen swallow?", "1700.000600"))
    (answer,) = slack.wait_for(lambda: slack.posts(thread_ts="1700.000600"))
    assert answer.body["text"] == "I could not find that in the documents."
    assert not answer.body.get("blocks")


def test_a_forged_signature_is_refused(slack_client: TestClient, slack: MockSlack) -> None:
    body = json.dumps(mention("Who founded the Lantern Festival?", "1700.000700"))
    headers = signed_headers(body, "application/json", secret="not-the-secret")
    response = slack_client.post("/slack/events", content=body, headers=headers)
    assert response.status_code == 401
    time.sleep(0.3)
    assert slack.calls == []


def test_a_stale_timestamp_is_refused(slack_client: TestClient, slack: MockSlack) -> None:
    body = json.dumps(mention("Who founded the Lantern Festival?", "1700.000800"))
    stale = int(time.time()) - 6 * 60
    headers = signed_headers(body, "application/json", timestamp=stale)
    response = slack_client.post("/slack/events", content=body, headers=headers)
    assert response.status_code == 401
    time.sleep(0.3)
    assert slack.calls == []


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Slack-Request-Timestamp": "not-a-number", "X-Slack-Signature": "v0=" + "0" * 64},
        {"X-Slack-Request-Timestamp": "9" * 400, "X-Slack-Signature": "v0=" + "0" * 64},
        {"X-Slack-Request-Timestamp": "1700000000", "X-Slack-Signature": "v0=é".encode()},
        {"X-Slack-Request-Timestamp": "1700000000", "X-Slack-Signature": "v1=abc"},
        {"X-Slack-Request-Timestamp": "1700000000"},
        {},
    ],
)
def test_malformed_signature_headers_are_a_401_never_a_500(
    slack_client: TestClient, slack: MockSlack, headers: dict[str, str | bytes]
) -> None:
    body = json.dumps(mention("Who founded the Lantern Festival?", "1700.001200"))
    response = slack_client.post(
        "/slack/events", content=body, headers={"Content-Type": "application/json", **headers}
    )
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "invalid_signature"
    time.sleep(0.3)
    assert slack.calls == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ('"a string"', "application/json"),
        ("", "application/json"),
        ("payload=%7Bnot+json", "application/x-www-form-urlencoded"),
    ],
)
def test_a_signed_body_slack_would_never_send_is_a_400(
    slack_client: TestClient, slack: MockSlack, body: str, content_type: str
) -> None:
    headers = signed_headers(body, content_type)
    response = slack_client.post("/slack/events", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_request"
    time.sleep(0.3)
    assert slack.calls == []


def test_a_replayed_signed_slash_command_is_answered_once(
    slack_client: TestClient, slack: MockSlack
) -> None:
    body = urlencode(
        {
            "team_id": TEAM,
            "channel_id": "C0REPLAY",
            "user_id": "U0ASKER",
            "command": "/ask",
            "text": "Who founded the Lantern Festival?",
            "response_url": f"{slack.url}/response/1",
            "trigger_id": "1.2.replayed",
        }
    )
    headers = signed_headers(body, "application/x-www-form-urlencoded")
    assert slack_client.post("/slack/events", content=body, headers=headers).status_code == 200
    slack.wait_for(lambda: slack.posts(channel="C0REPLAY"), count=2)  # the question, the answer
    # The same bytes, signature and all, sent again within Slack's five minutes.
    assert slack_client.post("/slack/events", content=body, headers=headers).status_code == 200
    time.sleep(1.0)
    assert len(slack.posts(channel="C0REPLAY")) == 2


def test_slack_needs_no_api_key_but_its_signature(
    answerer: Answerer, slack: MockSlack, tmp_path: Path
) -> None:
    settings = slack_settings(answerer.settings, slack, tmp_path, api_key="k")
    with TestClient(create_app(settings, answerer)) as client:
        ok = post_event(client, {"token": "t", "challenge": "c", "type": "url_verification"})
        assert ok.status_code == 200
        assert client.post("/ask", json={"question": "Who?"}).status_code == 401


def test_slack_is_off_without_its_settings(
    client: TestClient, caplog: pytest.LogCaptureFixture, answerer: Answerer
) -> None:
    assert client.post("/slack/events", content="{}").status_code == 404
    with caplog.at_level(logging.INFO, logger="api.slack"):
        create_app(answerer.settings, answerer)
    assert "Slack app off" in caplog.text


def test_the_plain_slack_environment_names_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "plain-secret")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-plain")
    monkeypatch.setenv("QA_SLACK_BOT_TOKEN", "xoxb-prefixed")
    settings = Settings()
    assert settings.slack_signing_secret is not None
    assert settings.slack_signing_secret.get_secret_value() == "plain-secret"
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-prefixed"


def test_recent_events_forget_after_their_window() -> None:
    now = [0.0]
    recent = RecentEvents(window_seconds=10, capacity=2, clock=lambda: now[0])
    assert recent.first_time("a") and not recent.first_time("a")
    now[0] = 11.0
    assert recent.first_time("a")  # Slack stopped retrying long ago
    assert recent.first_time("b") and recent.first_time("c")  # capacity 2: "a" dropped
    assert recent.first_time("a")


def test_socket_mode_answers_unsigned_requests_from_its_websocket(
    answerer: Answerer, slack: MockSlack, tmp_path: Path
) -> None:
    # What SocketModeHandler does with each websocket message, without the websocket.
    settings = slack_settings(answerer.settings, slack, tmp_path, slack_signing_secret=None)
    store = open_session_store(settings.sessions_url())
    app = build_slack_app(
        settings, SlackConversations(lambda: answerer, store), verify_requests=False
    )
    payload = mention("Who founded the Lantern Festival?", "1700.001100")
    response = app.dispatch(BoltRequest(body=payload, mode="socket_mode"))
    assert response.status == 200
    (answer,) = slack.wait_for(lambda: slack.posts(thread_ts="1700.001100"))
    assert "Anne Whitby" in answer.body["text"]


def test_qa_slack_says_what_socket_mode_needs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("SLACK_APP_TOKEN", "QA_SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "QA_SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert cli_main(["slack", "--socket"]) == 2
    assert "SLACK_APP_TOKEN" in capsys.readouterr().err
    assert cli_main(["slack"]) == 2
    assert "qa serve" in capsys.readouterr().err


# --- the real model ---------------------------------------------------------------------------


@pytest.mark.model
def test_real_follow_up_in_a_thread_is_answered_with_the_first_answer(
    real_answerer: Answerer, slack: MockSlack, tmp_path: Path
) -> None:
    settings = slack_settings(real_answerer.settings, slack, tmp_path)
    first_question = (
        "Which Canadian police force is investigating Chinese-run police stations in Canada?"
    )
    with TestClient(create_app(settings, real_answerer)) as client:
        post_event(client, mention(first_question, "1700.000900"))
        (first,) = slack.wait_for(lambda: slack.posts(thread_ts="1700.000900"))
        assert first.body["blocks"][0]["text"]["text"] == "*Royal Canadian Mounted Police*"
        post_event(
            client, mention("Which newspaper reported it?", "1700.001000", thread_ts="1700.000900")
        )
        replies = slack.wait_for(lambda: slack.posts(thread_ts="1700.000900"), count=2)
    second = replies[1]
    assert second.body["text"].startswith("Le Journal de Montreal")
    context = [b for b in second.body["blocks"] if b["type"] == "context"]
    assert "Royal Canadian Mounted Police" in context[0]["elements"][0]["text"]
    assert "*Le Journal de Montreal*" in all_text(second)  # bold in its quote
    assert "Sources" in all_text(second)
    # The thread is one stored session, its two turns in order.
    store = open_session_store(settings.sessions_url())
    page = store.turns(session_id_for_thread(TEAM, "C0CHAN", "1700.000900"), SLACK_OWNER)
    assert [t.question for t in page.turns] == [first_question, "Which newspaper reported it?"]
