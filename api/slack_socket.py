"""Socket Mode: the Slack app over a websocket, for workspaces that cannot reach a public URL.

``qa slack --socket`` runs it; Slack then needs no request URL (and sends no signatures:
the connection is authenticated by the app-level token, ``SLACK_APP_TOKEN``).
"""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient

from api.live_answerer import LiveAnswerer
from api.slack_app import (
    SlackConversations,
    SlackNotConfiguredError,
    build_slack_app,
    live_answerer_getter,
)
from qa.answering import Answerer
from qa.sessions import SessionPolicy, open_session_store
from qa.settings import Settings

logger = logging.getLogger("api.slack")


def require_socket_mode_settings(settings: Settings) -> None:
    """Raise ``SlackNotConfiguredError`` unless both tokens Socket Mode needs are set."""
    if settings.slack_app_token is None or settings.slack_bot_token is None:
        raise SlackNotConfiguredError(
            "set SLACK_APP_TOKEN (xapp-..., with the connections:write scope) and "
            "SLACK_BOT_TOKEN (xoxb-...) for Socket Mode"
        )


def run_socket_mode(settings: Settings) -> None:
    """Answer Slack over Socket Mode until interrupted."""
    require_socket_mode_settings(settings)
    if not logging.getLogger().hasHandlers():  # a CLI process: show what the app is doing
        logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(name)s %(message)s")
    assert settings.slack_app_token is not None  # for mypy: checked above
    live = LiveAnswerer(lambda: Answerer(settings), settings.index_dir)
    live.start()
    conversations = SlackConversations(
        live_answerer_getter(live),
        open_session_store(settings.sessions_url(), SessionPolicy.of(settings)),
    )
    app = build_slack_app(settings, conversations, verify_requests=False)
    app_token = settings.slack_app_token.get_secret_value()
    handler = SocketModeHandler(
        app, app_token, web_client=WebClient(token=app_token, base_url=settings.slack_api_url)
    )
    logger.info("Slack app on: Socket Mode")
    handler.start()
