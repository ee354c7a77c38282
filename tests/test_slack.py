"""Slack: signed requests to /slack/events answered in the right thread, exactly once, through a
local mock of Slack's Web API (nothing reaches Slack); and the pure Block Kit formatting."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from fastapi.testclient import TestClient
from slack_bolt import BoltRequest

from api.main import create_app
from api.slack_app import RecentEvents, SlackConversations, build_slack_app
from api.slack_format import (
    BLOCKS_MAX,
    SECTION_TEXT_MAX,
    display_text,
    escape,
    format_answer,
    highlighted_quote,
    question_from_slack_text,
    session_id_for_thread,
)
from qa.answering import Answerer, AskResponse
from qa.answers import Answer, Citation
from qa.cli import main as cli_main
from qa.sessions import SLACK_OWNER, open_session_store
from qa.settings import Settings

SIGNING_SECRET = "test-signing-secret"
BOT_USER = "UBOT"
TEAM = "T0TEAM"
WAIT_SECONDS = 30.0  # bounded wait for a lazy listener's post (the real model is slower)

# --- a mock of Slack's Web API and of response URLs ------------------------------------------


@dataclass(frozen=True)
class SlackCall:
    path: str  # "/api/chat.postMessage", "/response/1"
    body: dict[str, Any]

    @property
    def method(self) -> str:
        return self.path.rsplit("/", 1)[-1]


class MockSlack:
    """A tiny HTTP server on 127.0.0.1 that records every call and answers like Slack."""

    def __init__(self) -> None:
        self.calls: list[SlackCall] = []
        self.no_post_channels: set[str] = set()  # chat.postMessage answers not_in_channel
        self._changed = threading.Condition()
        self._ts = itertools.count(1)
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    body = json.loads(raw or "{}")
                else:
                    body = dict(parse_qsl(raw))
                reply = mock._reply(self.path, body)
                payload = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _reply(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        call = SlackCall(path, body)
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        if call.method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": "BBOT", "team_id": TEAM}
        if call.method == "chat.postMessage":
            if body.get("channel") in self.no_post_channels:
                return {"ok": False, "error": "not_in_channel"}
            ts = f"1800000000.{next(self._ts):06d}"
            return {"ok": True, "channel": body.get("channel"), "ts": ts, "message": body}
        return {"ok": True}

    def posts(self, **matching: Any) -> list[SlackCall]:
        """Successful-looking chat.postMessage calls whose body has these values."""
        return [
            c
            for c in list(self.calls)
            if c.method == "chat.postMessage"
            and all(c.body.get(k) == v for k, v in matching.items())
        ]

    def wait_for(
        self, found: Callable[[], list[SlackCall]], count: int = 1, timeout: float = WAIT_SECONDS
    ) -> list[SlackCall]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(found()) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"Slack got no such call in {timeout}s: {self.calls}")
                self._changed.wait(left)
        return found()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture()
def slack() -> Iterator[MockSlack]:
    mock = MockSlack()
    yield mock
    mock.close()


def slack_settings(base: Settings, slack: MockSlack, tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(
        **{
            **base.model_dump(),
            "slack_signing_secret": SIGNING_SECRET,
            "slack_bot_token": "xoxb-test",
            "slack_api_url": f"{slack.url}/api/",
            "database_url": f"sqlite:///{tmp_path / 'sessions.sqlite3'}",
            **overrides,
        }
    )


@pytest.fixture()
def slack_client(answerer: Answerer, slack: MockSlack, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(slack_settings(answerer.settings, slack, tmp_path), answerer)
    with TestClient(app) as client:
        yield client


# --- signed requests --------------------------------------------------------------------------


def signed_headers(
    body: str, content_type: str, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """Slack's v0 signature: HMAC-SHA256 of ``v0:{timestamp}:{body}`` with the signing secret."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
    }


def post_event(client: TestClient, payload: dict[str, Any], **headers: str) -> Any:
    body = json.dumps(payload)
    return client.post(
        "/slack/events",
        content=body,
        headers={**signed_headers(body, "application/json"), **headers},
    )


def post_command(client: TestClient, slack: MockSlack, text: str, channel: str = "C0ASK") -> Any:
    body = urlencode(
        {
            "token": "legacy",
            "team_id": TEAM,
            "channel_id": channel,
            "user_id": "U0ASKER",
            "command": "/ask",
            "text": text,
            "response_url": f"{slack.url}/response/1",
            "trigger_id": "1.2.3",
        }
    )
    headers = signed_headers(body, "application/x-www-form-urlencoded")
    return client.post("/slack/events", content=body, headers=headers)


_event_ids = itertools.count(1)


def mention(
    text: str, ts: str, thread_ts: str | None = None, channel: str = "C0CHAN"
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": "U0ASKER",
        "text": f"<@{BOT_USER}> {text}",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return {
        "token": "legacy",
        "team_id": TEAM,
        "api_app_id": "A0APP",
        "type": "event_callback",
        "event_id": f"Ev{next(_event_ids):08d}",
        "event_time": int(time.time()),
        "event": event,
    }


def all_text(call: SlackCall) -> str:
    """Everything a person would read in a posted message."""
    return json.dumps([call.body.get("text"), call.body.get("blocks")], ensure_ascii=False)


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


# --- formatting (pure) ------------------------------------------------------------------------


def citation(
    quote: str, answer: str, doc_id: str = "d1", title: str = "A Title", source: str = ""
) -> Citation:
    start = quote.index(answer)
    return Citation(
        doc_id=doc_id,
        title=title,
        source=source,
        start=100 + start,
        end=100 + start + len(answer),
        quote=quote,
        quote_start=100,
        quote_end=100 + len(quote),
    )


def response_of(*answers: Answer, question: str = "Q?", resolved: str = "") -> AskResponse:
    return AskResponse(
        question=question,
        resolved_question=resolved or question,
        answers=list(answers),
        abstained=not answers,
        message="" if answers else "I could not find that in the documents.",
    )


def test_slack_text_becomes_a_plain_question() -> None:
    text = (
        "<@UBOT>  who built &lt;the&gt; bridge &amp; <https://x.org/a|this page> in <#C1|general>?"
    )
    assert question_from_slack_text(text, "UBOT") == (
        "who built <the> bridge & this page in #general?"
    )
    assert (
        question_from_slack_text("<@UOTHER|ann> and <mailto:a@b.c|a@b.c>", "UBOT")
        == "@ann and a@b.c"
    )
    assert session_id_for_thread("T1", "C1", "17.1") == "slack:T1:C1:17.1"


def test_the_answer_span_is_bold_and_markup_in_the_quote_is_inert() -> None:
    quote = "Tom & <Jerry> wrote *snake_case* in 1998, said ~Ann~ `x`."
    answer = Answer(text="1998", score=0.9, citations=[citation(quote, "1998")])
    message = format_answer(response_of(answer), {"d1": "The Press"})
    quoted = message.blocks[1]["text"]["text"]
    assert quoted.startswith("&gt; Tom &amp; &lt;Jerry&gt; wrote ")
    assert "*1998*" in quoted
    assert quoted.count("*") == 2  # only the answer's bold: the quote's own are look-alikes
    assert "_" not in quoted and "~" not in quoted and "`" not in quoted
    assert quoted.endswith("[1]")
    assert message.blocks[-1]["text"]["text"] == "*Sources*\n1. A Title · The Press"
    assert "1998" in message.text and "<" not in message.text


def test_a_source_with_a_web_address_is_a_link() -> None:
    answer = Answer(
        text="Paris",
        score=0.9,
        citations=[citation("It is in Paris.", "Paris", source="https://e.org/a?b=1&c=2|x")],
    )
    sources = format_answer(response_of(answer)).blocks[-1]["text"]["text"]
    assert "1. <https://e.org/a?b=1&amp;c=2%7Cx|A Title>" in sources


def test_a_long_quote_is_cut_around_the_answer() -> None:
    quote = "word " * 1000 + "the ANSWER is here " + "tail " * 1000
    shown = highlighted_quote(quote, [(quote.index("ANSWER"), quote.index("ANSWER") + 6)])
    assert "*ANSWER*" in shown
    assert shown.startswith("…word") and shown.endswith("tail…")
    assert len(shown) <= 510


def test_a_span_inside_a_word_stays_bold() -> None:
    assert highlighted_quote("abc1998def", [(3, 7)]) == "abc\u200b*1998*\u200bdef"


def test_many_answers_keep_within_slacks_limits() -> None:
    quote_base = "Item {} is one of the many things listed here " + "& more " * 200
    answers = [
        Answer(
            text=f"Item {i}",
            score=0.5,
            citations=[
                citation(quote_base.format(i), f"Item {i}", doc_id=f"d{i}", title="T" * 400)
            ],
        )
        for i in range(60)
    ]
    message = format_answer(response_of(*answers))
    assert len(message.blocks) <= BLOCKS_MAX
    for block in message.blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_TEXT_MAX
    assert len(message.text) <= 40_000


def test_an_abstention_is_the_plain_message() -> None:
    message = format_answer(response_of())
    assert message.text == "I could not find that in the documents."
    assert message.blocks == []


def test_escaping() -> None:
    assert escape("a & <b>") == "a &amp; &lt;b&gt;"
    assert display_text("a *b*\n_c_") == "a \u2217b\u2217 \u02cdc\u02cd"
