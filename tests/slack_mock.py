"""A local mock of Slack's Web API and of response URLs, and signed Slack requests, for the
tests of the Slack app (nothing reaches Slack)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi.testclient import TestClient

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


# --- signed requests ----------------------------------------------------------------------------


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
