"""OpenAI behaviour on ``/v1/*`` as the official `openai` client sees it, over the tiny corpus:
errors in OpenAI's shape and statuses (so the client raises the right class), parameters that
cannot be honoured refused by name, tools accepted and never called, structured output, real
token counts, ``/v1/models/{id}`` and the Responses API, plain and streamed.

The client talks to the app through Starlette's ``TestClient`` (an ``httpx.Client``), so no
port is opened. The reader is whatever ``QA_READER_MODEL_PATH`` names; the tests check the
protocol and the answer's invariants (a verbatim span of a cited document), not its quality.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
from conftest import hashing_embedder
from fastapi.testclient import TestClient
from live_server import free_port_between, server_in_thread
from openai import OpenAI
from pydantic import BaseModel

from api.main import create_app
from qa.answering import Answerer
from qa.settings import Settings

QUESTION = "Who designed the Harbour Tower?"
NO_LETTERS = "🙂?"
MakeClient = Callable[..., TestClient]


def openai_over(http: TestClient, api_key: str = "unused") -> OpenAI:
    return OpenAI(base_url="http://testserver/v1", api_key=api_key, http_client=http, max_retries=0)


@pytest.fixture()
def oa(client: TestClient) -> OpenAI:
    return openai_over(client)


@pytest.fixture(scope="module")
def always_answering(tiny_settings: Settings) -> Iterator[TestClient]:
    """An app whose reader never abstains (threshold 0), so every answer has spans to check."""
    settings = Settings(**{**tiny_settings.model_dump(), "min_answer_score": 0.0})
    with TestClient(create_app(settings, Answerer(settings, embedder=hashing_embedder()))) as http:
        yield http


def error_of(raised: pytest.ExceptionInfo[openai.APIStatusError]) -> dict[str, Any]:
    """The error object of the response body, checked to be exactly OpenAI's four fields."""
    body = raised.value.response.json()
    assert list(body) == ["error"]
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["message"]
    return dict(body["error"])


def ask(oa: OpenAI, question: str = QUESTION, **options: Any) -> Any:
    return oa.chat.completions.create(
        model="qa-extractive", messages=[{"role": "user", "content": question}], **options
    )


def spans_are_verbatim(http: TestClient, text: str, citations: list[dict[str, Any]]) -> None:
    """Each citation's span is, character for character, one of the answer's items."""
    items = text.split("; ")
    assert citations
    for citation in citations:
        document = http.get(f"/documents/{citation['doc_id']}").json()
        assert document["text"][citation["start"] : citation["end"]] in items


# --- errors ------------------------------------------------------------------------------------


def test_a_missing_parameter_is_a_bad_request_naming_it(oa: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        oa.chat.completions.create(model="qa-extractive", messages=[])
    error = error_of(raised)
    assert raised.value.status_code == 400
    assert (error["type"], error["param"]) == ("invalid_request_error", "messages")


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"n": 2}, "n"),
        ({"logprobs": True}, "logprobs"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"modalities": ["text", "audio"]}, "modalities.1"),
        ({"extra_body": {"best_of": 3}}, "best_of"),
    ],
)
def test_what_cannot_be_honoured_is_a_400_naming_the_parameter(
    oa: OpenAI, options: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        ask(oa, **options)
    error = error_of(raised)
    assert error["param"] == param
    assert param.split(".")[0] in error["message"]


def test_an_unknown_parameter_is_called_unknown(oa: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        ask(oa, extra_body={"best_of": 3})
    assert error_of(raised)["code"] == "unknown_parameter"


def test_a_body_that_is_not_json_is_a_400_in_openai_shape(client: TestClient) -> None:
    response = client.post(
        "/v1/chat/completions", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_a_wrong_key_is_an_authentication_error(make_client: MakeClient) -> None:
    http = make_client(api_key="secret")
    with pytest.raises(openai.AuthenticationError) as raised:
        openai_over(http, "wrong").models.list()
    error = error_of(raised)
    assert (error["type"], error["code"]) == ("authentication_error", "invalid_api_key")
    assert raised.value.request_id  # from X-Request-ID
    assert [m.id for m in openai_over(http, "secret").models.list()] == ["qa-extractive"]


def test_the_rate_limit_is_a_rate_limit_error(make_client: MakeClient) -> None:
    limited = openai_over(make_client(rate_limit_per_minute=1))
    limited.models.list()
    with pytest.raises(openai.RateLimitError) as raised:
        limited.models.list()
    error = error_of(raised)
    assert (error["type"], error["code"]) == ("rate_limit_error", "rate_limit_exceeded")


def test_a_body_over_the_limit_is_a_413_in_openai_shape(make_client: MakeClient) -> None:
    small = openai_over(make_client(max_body_bytes=200))
    with pytest.raises(openai.APIStatusError) as raised:
        ask(small, "why " * 100)
    assert raised.value.status_code == 413
    assert error_of(raised)["type"] == "invalid_request_error"


def test_an_unknown_route_under_v1_is_not_found_in_openai_shape(oa: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        oa.embeddings.create(model="qa-extractive", input="hello")
    assert error_of(raised)["type"] == "invalid_request_error"


def test_routes_outside_v1_keep_their_own_error_shape(client: TestClient) -> None:
    response = client.post("/ask", json={})
    assert response.status_code == 422
    assert set(response.json()["error"]) == {"code", "message", "request_id"}


# --- models ------------------------------------------------------------------------------------


def test_the_model_is_found_by_its_id_and_no_other(oa: OpenAI) -> None:
    assert oa.models.retrieve("qa-extractive").id == "qa-extractive"
    with pytest.raises(openai.NotFoundError) as raised:
        oa.models.retrieve("gpt-4o")
    error = error_of(raised)
    assert (error["code"], error["param"]) == ("model_not_found", "model")
    assert "gpt-4o" in error["message"]


# --- chat completions --------------------------------------------------------------------------


def test_tools_are_accepted_and_never_called(oa: OpenAI) -> None:
    tool = {
        "type": "function",
        "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}},
    }
    completion = ask(oa, tools=[tool], tool_choice="auto")
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert not choice.message.tool_calls
    assert choice.message.content


def test_usage_counts_the_reader_models_tokens(oa: OpenAI, answerer: Answerer) -> None:
    from transformers import AutoTokenizer

    folder = answerer.settings.resolved_reader_path()
    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)

    def tokens(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    completion = ask(oa)
    usage = completion.usage
    content = completion.choices[0].message.content or ""
    assert usage is not None
    assert usage.prompt_tokens == tokens(QUESTION) > 0
    assert usage.completion_tokens == tokens(content) > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert answerer.count_tokens(content) == usage.completion_tokens


def test_the_streamed_usage_comes_once_when_asked_for(oa: OpenAI) -> None:
    chunks = list(ask(oa, stream=True, stream_options={"include_usage": True}))
    with_usage = [chunk for chunk in chunks if chunk.usage is not None]
    assert len(with_usage) == 1 and with_usage[0] is chunks[-1]
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0


class CitedSpan(BaseModel):
    doc_id: str
    start: int
    end: int


class StructuredReply(BaseModel):
    text: str
    citations: list[CitedSpan]
    abstained: bool


def test_structured_output_parses_into_the_clients_model(always_answering: TestClient) -> None:
    completion = openai_over(always_answering).chat.completions.parse(
        model="qa-extractive",
        messages=[{"role": "user", "content": QUESTION}],
        response_format=StructuredReply,
    )
    reply = completion.choices[0].message.parsed
    assert isinstance(reply, StructuredReply)
    assert not reply.abstained
    spans_are_verbatim(always_answering, reply.text, [c.model_dump() for c in reply.citations])


def test_json_object_is_the_whole_structured_answer(oa: OpenAI) -> None:
    content = ask(oa, NO_LETTERS, response_format={"type": "json_object"})
    reply = json.loads(content.choices[0].message.content or "")
    assert reply == {
        "text": "The question has no letters or digits: ask something about the documents.",
        "citations": [],
        "abstained": True,
    }


def test_a_schema_of_some_fields_gets_those_fields(oa: OpenAI) -> None:
    schema = {"type": "object", "properties": {"abstained": {"type": "boolean"}}}
    content = ask(
        oa,
        NO_LETTERS,
        response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema}},
    )
    assert json.loads(content.choices[0].message.content or "") == {"abstained": True}


def test_a_schema_requiring_what_the_answer_lacks_is_a_400(oa: OpenAI) -> None:
    schema = {"type": "object", "properties": {"mood": {}}, "required": ["mood"]}
    with pytest.raises(openai.BadRequestError) as raised:
        ask(
            oa,
            response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema}},
        )
    error = error_of(raised)
    assert error["param"] == "response_format"
    assert "mood" in error["message"]


# --- the Responses API -------------------------------------------------------------------------


def test_a_response_answers_the_input(always_answering: TestClient) -> None:
    response = openai_over(always_answering).responses.create(model="qa-extractive", input=QUESTION)
    assert response.id.startswith("resp_") and response.status == "completed"
    assert response.output_text
    assert response.usage is not None and response.usage.input_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    qa = (response.model_extra or {})["qa"]
    assert qa["answers"]
    for answer in qa["answers"]:
        spans_are_verbatim(always_answering, answer["text"], answer["citations"])
        assert answer["text"] in response.output_text


def test_a_response_reads_the_conversation_from_the_input_messages(oa: OpenAI) -> None:
    response = oa.responses.create(
        model="qa-extractive",
        instructions="Answer from the documents.",
        input=[
            {"role": "user", "content": "Tell me about the Harbour Tower."},
            {"role": "assistant", "content": "It is in Halifax."},
            {"role": "user", "content": [{"type": "input_text", "text": "Who designed it?"}]},
        ],
    )
    qa = (response.model_extra or {})["qa"]
    assert qa["question"] == "Who designed it?"
    assert "Harbour Tower" in qa["resolved_question"]


def test_a_streamed_response_sends_openais_events(oa: OpenAI) -> None:
    whole = oa.responses.create(model="qa-extractive", input=QUESTION)
    events = list(oa.responses.create(model="qa-extractive", input=QUESTION, stream=True))
    types = [event.type for event in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert "response.output_text.delta" in types and "response.output_text.done" in types
    assert [event.sequence_number for event in events] == list(range(len(events)))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    (done,) = [e for e in events if e.type == "response.output_text.done"]
    assert deltas == done.text == events[-1].response.output_text == whole.output_text


def test_the_stream_helper_assembles_the_final_response(oa: OpenAI) -> None:
    with oa.responses.stream(model="qa-extractive", input=NO_LETTERS) as stream:
        final = stream.get_final_response()
    assert final.output_text.startswith("The question has no letters or digits")


def test_a_response_in_json_is_the_structured_answer(oa: OpenAI) -> None:
    response = oa.responses.create(
        model="qa-extractive", input=NO_LETTERS, text={"format": {"type": "json_object"}}
    )
    assert json.loads(response.output_text)["abstained"] is True


def test_a_stored_response_cannot_be_continued(oa: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        oa.responses.create(model="qa-extractive", input=QUESTION, previous_response_id="resp_1")
    assert error_of(raised)["param"] == "previous_response_id"


def test_a_stream_that_fails_after_it_began_ends_in_response_failed(
    oa: OpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("the reader fell over")

    monkeypatch.setattr("api.routes_responses.answer_conversation", broken)
    events = list(oa.responses.create(model="qa-extractive", input=QUESTION, stream=True))
    assert [event.type for event in events] == [
        "response.created",
        "response.in_progress",
        "response.failed",
    ]
    assert events[-1].response.status == "failed"
    assert events[-1].response.error is not None


def test_over_a_real_socket_each_event_is_framed_as_openai_frames_it(
    answerer: Answerer,
) -> None:
    with server_in_thread(
        create_app(answerer.settings, answerer), free_port_between(18100, 18199)
    ) as url:
        body = {"model": "qa-extractive", "input": QUESTION, "stream": True}
        with httpx.stream("POST", f"{url}/v1/responses", json=body, timeout=60) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            blocks = response.read().decode().strip().split("\n\n")
        streamed = list(
            openai_over_url(url).responses.create(
                model="qa-extractive", input=QUESTION, stream=True
            )
        )
    for block in blocks:
        event, data = block.split("\n")
        assert event.startswith("event: ") and data.startswith("data: ")
        assert json.loads(data.removeprefix("data: "))["type"] == event.removeprefix("event: ")
    assert len(blocks) == len(streamed) and streamed[-1].type == "response.completed"


def openai_over_url(url: str) -> OpenAI:
    return OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=60)
