"""The OpenAI-compatible endpoint, driven by the official `openai` client against a real server:
plain and streamed replies, and a conversation whose second answer needs the first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live_server import server_in_thread
from openai import OpenAI
from openai.types.chat import ChatCompletionMessageParam

from api.main import create_app
from qa.answering import ABSTAIN_MESSAGE, Answerer
from qa.settings import Settings

pytestmark = pytest.mark.model

FIRST = "Which Canadian police force is investigating Chinese-run police stations in Canada?"
FOLLOW_UP = "Which newspaper reported it?"


@pytest.fixture(scope="module")
def base_url(real_answerer: Answerer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    sessions = tmp_path_factory.mktemp("openai") / "sessions.sqlite3"
    settings = Settings(
        **{**real_answerer.settings.model_dump(), "database_url": f"sqlite:///{sessions}"}
    )
    with server_in_thread(create_app(settings, real_answerer)) as url:
        yield url


@pytest.fixture()
def client(base_url: str) -> OpenAI:
    return OpenAI(base_url=f"{base_url}/v1", api_key="x", max_retries=0, timeout=60)


def test_the_one_model_is_listed(client: OpenAI) -> None:
    assert [model.id for model in client.models.list()] == ["qa-extractive"]


def test_a_question_is_answered_with_numbered_sources(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="qa-extractive", messages=[{"role": "user", "content": FIRST}]
    )
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.usage is not None and completion.usage.total_tokens > 0
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    content = choice.message.content or ""
    assert content.startswith("Royal Canadian Mounted Police [1]")
    assert "\n\n[1] " in content
    # The structured answer rides along as extras the client keeps.
    citations = (choice.message.model_extra or {})["citations"]
    assert citations[0]["quote"] in content
    qa = (completion.model_extra or {})["qa"]
    assert qa["answers"][0]["text"] == "Royal Canadian Mounted Police"


def test_the_follow_up_is_answered_from_the_earlier_messages(client: OpenAI) -> None:
    first = client.chat.completions.create(
        model="qa-extractive", messages=[{"role": "user", "content": FIRST}]
    )
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "Answer from the documents."},
        {"role": "user", "content": FIRST},
        {"role": "assistant", "content": first.choices[0].message.content or ""},
        {"role": "user", "content": FOLLOW_UP},
    ]
    second = client.chat.completions.create(model="qa-extractive", messages=messages)
    assert (second.choices[0].message.content or "").startswith("Le Journal de Montreal [1]")
    assert "Royal Canadian Mounted Police" in (second.model_extra or {})["qa"]["resolved_question"]

    alone = client.chat.completions.create(
        model="qa-extractive", messages=[{"role": "user", "content": FOLLOW_UP}]
    )
    assert not (alone.choices[0].message.content or "").startswith("Le Journal de Montreal")


def test_a_streamed_reply_is_the_same_text_in_chunks(client: OpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": FIRST},
        {"role": "user", "content": FOLLOW_UP},
    ]
    whole = client.chat.completions.create(model="qa-extractive", messages=messages)
    stream = client.chat.completions.create(model="qa-extractive", messages=messages, stream=True)
    chunks = list(stream)
    assert len(chunks) >= 3
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    assert len({chunk.id for chunk in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text == whole.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert (chunks[-1].model_extra or {})["qa"]["answers"][0]["text"] == "Le Journal de Montreal"


def test_the_stream_is_server_sent_events_ending_in_done(base_url: str) -> None:
    body = {
        "model": "qa-extractive",
        "stream": True,
        "messages": [{"role": "user", "content": FIRST}],
    }
    with httpx.stream("POST", f"{base_url}/v1/chat/completions", json=body, timeout=60) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line]
    assert all(event.startswith("data: ") for event in events)
    assert events[-1] == "data: [DONE]"


def test_an_unanswerable_question_reads_as_the_abstention(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="qa-extractive",
        messages=[{"role": "user", "content": "What is the boiling point of tungsten on Mars?"}],
    )
    assert completion.choices[0].message.content == ABSTAIN_MESSAGE
    assert (completion.choices[0].message.model_extra or {})["citations"] == []


@pytest.mark.parametrize(
    ("messages", "reply"),
    [
        ([{"role": "system", "content": "Hi"}], "There is no question to answer"),
        ([{"role": "user", "content": "🙂?"}], "The question has no letters or digits"),
        ([{"role": "user", "content": "why " * 300}], "The question is 1200 characters long"),
    ],
)
def test_a_conversation_without_a_question_to_ask_is_told_why(
    base_url: str, messages: list[dict[str, str]], reply: str
) -> None:
    # As a chat would: a reply saying what is wrong, where /ask and /chat answer 422.
    response = httpx.post(
        f"{base_url}/v1/chat/completions", json={"model": "qa-extractive", "messages": messages}
    )
    assert response.status_code == 200
    content = response.json()["choices"][0]["message"]["content"]
    assert content.startswith(reply)
    assert response.json()["qa"]["abstained"] is True


def test_the_bearer_key_is_what_the_client_sends(real_answerer: Answerer, tmp_path: Path) -> None:
    settings = Settings(
        **{
            **real_answerer.settings.model_dump(),
            "api_key": "secret",
            "database_url": f"sqlite:///{tmp_path / 's.sqlite3'}",
        }
    )
    with server_in_thread(create_app(settings, real_answerer)) as url:
        refused = OpenAI(base_url=f"{url}/v1", api_key="wrong", max_retries=0)
        with pytest.raises(Exception, match="wrong API key"):
            refused.models.list()
        allowed = OpenAI(base_url=f"{url}/v1", api_key="secret", max_retries=0)
        assert [model.id for model in allowed.models.list()] == ["qa-extractive"]
