"""The Slack app: ``/ask <question>`` and ``@bot question`` answered in a thread, on Bolt.

A thin adapter over ``ChatService``: a Slack thread is one conversation session
(``slack:{team}:{channel}:{thread_ts}``), so a mention inside the thread is a follow-up. Those
sessions belong to Slack (``SLACK_OWNER``): the HTTP API cannot read, continue or delete them.

Slack wants an acknowledgement within 3 seconds; answering can take longer. So every listener
is split the way Bolt's lazy listeners allow: the ``ack`` part only acknowledges, the lazy part
(run on a Bolt worker thread after the HTTP response) answers and posts. With
``process_before_response=True`` the HTTP response waits for the ``ack`` part only, so a
signed request is answered 200 before any answering starts, and never before it is verified.

Slash command: the question is posted in the channel (``<@user> asked: ...``) and answered in
that message's thread, so anyone can follow up there with a mention. Where the bot may not post
(a channel it was not invited to, a DM with someone else) the answer goes privately to the
asker through the command's ``response_url``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from slack_bolt import App, BoltResponse
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from starlette.concurrency import run_in_threadpool

from api.errors import ApiError, error_response
from api.live_answerer import LiveAnswerer
from api.request_ids import request_id_of
from api.slack_format import (
    SlackMessage,
    escape,
    format_answer,
    format_notice,
    question_from_slack_text,
    session_id_for_thread,
)
from qa.answering import Answerer, AskResponse, InvalidQuestionError
from qa.chat import ChatService
from qa.sessions import (
    SLACK_OWNER,
    SessionFullError,
    SessionPolicy,
    SessionStore,
    SessionStoreError,
    open_session_store,
)
from qa.settings import Settings

logger = logging.getLogger("api.slack")

EVENTS_PATH = "/slack/events"
USAGE = "Ask a question about the documents: `/ask Who founded the festival?`"

# Slack redelivers an event it thinks we missed up to three times within about five minutes.
_REDELIVERY_WINDOW_SECONDS = 30 * 60
_REDELIVERY_MEMORY = 10_000


class SlackNotConfiguredError(RuntimeError):
    """The tokens the asked-for Slack mode needs are not set."""


class RecentEvents:
    """Event and command ids seen lately, so a redelivered event (``X-Slack-Retry-Num``) or a
    replayed signed request (Slack's signature holds for five minutes) is not answered twice.
    In memory: with several server workers a retry may reach another worker, which then answers
    again; Slack retries only when the first delivery was not acknowledged in time, which the
    lazy listeners make rare."""

    def __init__(
        self,
        window_seconds: float = _REDELIVERY_WINDOW_SECONDS,
        capacity: int = _REDELIVERY_MEMORY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._window = window_seconds
        self._capacity = capacity
        self._clock = clock
        self._lock = threading.Lock()

    def first_time(self, event_id: str) -> bool:
        """True the first time ``event_id`` is offered (within the window), False after."""
        now = self._clock()
        with self._lock:
            while self._seen and (
                len(self._seen) >= self._capacity
                or next(iter(self._seen.values())) < now - self._window
            ):
                self._seen.popitem(last=False)
            if event_id in self._seen:
                return False
            self._seen[event_id] = now
            return True


class SlackConversations:
    """Slack's side of ``ChatService``: a question and a thread in, a Slack message out."""

    def __init__(self, answerer: Callable[[], Answerer], store: SessionStore) -> None:
        self._answerer = answerer
        self._store = store

    def reply(self, question: str, session_id: str | None) -> SlackMessage:
        """The answer (or a notice saying why there is none) for ``question`` in the session;
        ``None`` starts a session of its own (one no thread can continue)."""
        if not question:
            return format_notice(USAGE)
        try:
            answerer = self._answerer()
            if session_id is not None:
                # A no-op for a thread already talked in (an expired one starts afresh).
                self._store.create(SLACK_OWNER, session_id)
            response = ChatService(answerer, self._store, SLACK_OWNER).reply(question, session_id)
            publishers = _publishers(answerer, response)
        except InvalidQuestionError as error:
            return format_notice(f"{error}. {USAGE}")
        except SessionFullError as error:
            return format_notice(
                f"This thread holds {error.max_turns} questions, the most one may: "
                "ask in a new thread."
            )
        except SessionStoreError:
            logger.exception("could not keep the conversation (session %s)", session_id)
            return format_notice("I cannot keep this conversation right now; try again shortly.")
        except ApiError as error:  # the index is not loaded (yet)
            return format_notice(f"I cannot answer right now: {error.message}")
        except Exception:
            # The asker would otherwise wait for an answer that never comes.
            logger.exception("could not answer a Slack question (session %s)", session_id)
            return format_notice("Something went wrong while answering; it has been logged.")
        return format_answer(response, publishers)


def _publishers(answerer: Answerer, response: AskResponse) -> dict[str, str]:
    """Each cited document's publisher (citations carry the title and URL, not the publisher)."""
    publishers: dict[str, str] = {}
    for answer in response.answers:
        for citation in answer.citations:
            if citation.doc_id not in publishers:
                document = answerer.document(citation.doc_id)
                publishers[citation.doc_id] = document.publisher if document else ""
    return publishers


def build_slack_app(
    settings: Settings, conversations: SlackConversations, *, verify_requests: bool = True
) -> App:
    """The Bolt app with its listeners. ``verify_requests=False`` is for Socket Mode only,
    where Slack sends no signature (the websocket itself is authenticated by the app token)."""
    if settings.slack_bot_token is None:
        raise SlackNotConfiguredError("set SLACK_BOT_TOKEN (xoxb-...) to answer in Slack")
    signing_secret = settings.slack_signing_secret
    if verify_requests and signing_secret is None:
        raise SlackNotConfiguredError("set SLACK_SIGNING_SECRET to receive Slack's requests")
    client = WebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url
    )
    app = App(
        client=client,
        signing_secret=signing_secret.get_secret_value() if signing_secret else "",
        request_verification_enabled=verify_requests,
        # auth.test is called on the first request instead of here, so the service starts
        # (and its tests run) without reaching Slack.
        token_verification_enabled=False,
        process_before_response=True,
        logger=logging.getLogger("api.slack.bolt"),
        name="qa",
    )
    recent = RecentEvents()

    @app.middleware
    def skip_redelivered_requests(body: dict[str, Any], next_: Callable[[], Any]) -> Any:
        # Runs after Bolt's signature check: a forged request cannot fill this memory. Events
        # carry an event_id; slash commands (and interactions) a trigger_id, new each time
        # someone runs one, so a replay of a signed command is known by it.
        request_id = body.get("event_id") or body.get("trigger_id")
        if isinstance(request_id, str) and not recent.first_time(request_id):
            logger.info("request %s delivered again: already handled", request_id)
            return BoltResponse(status=200, body="")
        return next_()

    def acknowledge(ack: Callable[..., None]) -> None:
        ack()

    def answer_mention(
        event: dict[str, Any], body: dict[str, Any], context: Any, client: WebClient
    ) -> None:
        channel = event["channel"]
        thread_ts = event.get("thread_ts") or event["ts"]
        team = body.get("team_id") or event.get("team") or context.team_id or ""
        question = question_from_slack_text(event.get("text", ""), context.bot_user_id)
        message = conversations.reply(question, session_id_for_thread(team, channel, thread_ts))
        _post(client, channel, thread_ts, message)

    def acknowledge_command(ack: Callable[..., None], command: dict[str, Any]) -> None:
        if command.get("text", "").strip():
            ack()
        else:
            ack(text=USAGE)  # shown only to the asker

    def answer_command(command: dict[str, Any], client: WebClient, respond: Any) -> None:
        question = question_from_slack_text(command.get("text", ""))
        if not question:
            return  # the acknowledgement already showed the usage
        channel, team = command["channel_id"], command.get("team_id", "")
        try:
            posted = client.chat_postMessage(
                channel=channel,
                text=f"<@{command['user_id']}> asked: {escape(question)}",
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as error:
            logger.info(
                "cannot post in %s (%s): answering privately", channel, error.response.get("error")
            )
            message = conversations.reply(question, None)
            respond(text=message.text, blocks=message.blocks or None, response_type="ephemeral")
            return
        thread_ts = posted["ts"]
        message = conversations.reply(question, session_id_for_thread(team, channel, thread_ts))
        _post(client, channel, thread_ts, message)

    app.event("app_mention")(ack=acknowledge, lazy=[answer_mention])
    app.command("/ask")(ack=acknowledge_command, lazy=[answer_command])
    return app


def _post(client: WebClient, channel: str, thread_ts: str, message: SlackMessage) -> None:
    client.chat_postMessage(
        channel=channel,
        thread_ts=thread_ts,
        text=message.text,
        blocks=message.blocks or None,
        unfurl_links=False,
        unfurl_media=False,
    )


# What Slack sends: a Unix time in seconds, and "v0=" with a hex HMAC-SHA256.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def signature_problem(request: Request, body: bytes, verifier: SignatureVerifier) -> str:
    """Why a request is not one Slack signed ("" when it is). Checked here, before Bolt, so a
    malformed header is a 401 like a wrong signature (Bolt's own check fails on it with a 500)."""
    timestamp = request.headers.get("x-slack-request-timestamp", "")
    signature = request.headers.get("x-slack-signature", "")
    if not timestamp or not signature:
        return "not signed by Slack: X-Slack-Request-Timestamp and X-Slack-Signature are needed"
    if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        return "not signed by Slack: malformed X-Slack-Request-Timestamp or X-Slack-Signature"
    if not verifier.is_valid(body=body, timestamp=timestamp, signature=signature):
        return "not signed by Slack, or signed more than five minutes ago"
    return ""


def slack_events_router(bolt_app: App, signing_secret: str) -> APIRouter:
    """``POST /slack/events``: Slack's Events API and slash-command requests."""
    router = APIRouter()
    verifier = SignatureVerifier(signing_secret)

    @router.post(EVENTS_PATH, include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        # Bolt's FastAPI adapter, with two changes: the signature is checked first (above), and
        # the synchronous App dispatches on the threadpool rather than on the event loop, since
        # its first request calls auth.test.
        body = await request.body()
        request_id = request_id_of(request.scope)
        problem = signature_problem(request, body, verifier)
        if problem:
            return error_response(401, problem, request_id, "invalid_signature")
        try:
            bolt_request = to_bolt_request(request, body)
        except (ValueError, TypeError, AttributeError):
            # Signed, yet not UTF-8 JSON or a form of the shape Bolt reads: nothing Slack sends.
            bolt_request = None
        if bolt_request is None or not isinstance(bolt_request.body, dict) or not bolt_request.body:
            return error_response(
                400, "the body is not a Slack event or command", request_id, "invalid_request"
            )
        response = await run_in_threadpool(bolt_app.dispatch, bolt_request)
        return to_starlette_response(response)

    return router


def live_answerer_getter(live: LiveAnswerer) -> Callable[[], Answerer]:
    """The current ``Answerer`` of ``live``: refreshed, or ``ApiError`` (503) while none."""

    def current() -> Answerer:
        live.refresh()
        return live.require()

    return current


def mount_slack(app: FastAPI, settings: Settings, live: LiveAnswerer) -> None:
    """Serve ``/slack/events`` when Slack is configured; log either way."""
    missing = [
        name
        for name, value in (
            ("SLACK_SIGNING_SECRET", settings.slack_signing_secret),
            ("SLACK_BOT_TOKEN", settings.slack_bot_token),
        )
        if value is None
    ]
    if missing:
        level = logging.WARNING if len(missing) == 1 else logging.INFO
        logger.log(level, "Slack app off: %s not set (see slack/README.md)", " and ".join(missing))
        return
    store = open_session_store(settings.sessions_url(), SessionPolicy.of(settings))
    conversations = SlackConversations(live_answerer_getter(live), store)
    assert settings.slack_signing_secret is not None  # for mypy: checked above
    app.include_router(
        slack_events_router(
            build_slack_app(settings, conversations),
            settings.slack_signing_secret.get_secret_value(),
        )
    )
    logger.info("Slack app on: events and /ask at %s", EVENTS_PATH)
