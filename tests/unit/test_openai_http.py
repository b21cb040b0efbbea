"""The lean OpenAI-compatible chat model against a loopback server (tests/openai_server.py)."""

from __future__ import annotations

import json
from typing import TypedDict

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from pydantic import BaseModel, Field

from clientsim._http import connection_limit, shared_session
from clientsim.errors import ConfigError, ModelError, RateLimitedError, is_transient
from clientsim.llm import aclose_models, resolve_model
from clientsim.llm._openai_wire import result_of, retry_after, to_openai
from clientsim.llm.openai_http import (
    OpenAIHTTPChatModel,
    OpenAIHTTPError,
    OpenAITimeoutError,
)
from tests.openai_server import Server, serve


KEY = "sk-test-3f9a1c7e5b2d4a60"  # made up: it must reach the server as a bearer only
ASKED = [SystemMessage("You are a customer."), HumanMessage("Hello, how can I help?")]


class Verdict(BaseModel):
    """Whether the customer's goal was reached."""

    reached: bool = Field(description="the goal was reached")
    reason: str


class Mood(TypedDict):
    """How the customer feels."""

    mood: str


@pytest.fixture(name="server")
async def _server(monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "CLIENTSIM_OPENAI_CLIENT"):
        monkeypatch.delenv(name, raising=False)
    async with serve() as server:
        yield server
        await aclose_models()


def lean(server: Server, **fields: object) -> OpenAIHTTPChatModel:
    settings: dict[str, object] = {
        "model": "local-model",
        "base_url": server.base_url,
        "api_key": KEY,
        "retry_base_seconds": 0.01,
        **fields,
    }
    return OpenAIHTTPChatModel(**settings)  # type: ignore[arg-type]


async def test_a_plain_call_sends_the_settings_and_reads_the_answer(server):
    model = lean(server, temperature=0.3, seed=7, max_tokens=50, stop=["\n\n"])
    reply = await model.ainvoke(ASKED)
    assert isinstance(reply, AIMessage)
    assert reply.content
    assert reply.usage_metadata == {
        "input_tokens": 11,
        "output_tokens": 7,
        "total_tokens": 18,
    }
    assert reply.response_metadata["model_name"] == "local-model"
    assert reply.response_metadata["finish_reason"] == "stop"
    (body,) = server.requests
    assert body["messages"] == [
        {"role": "system", "content": "You are a customer."},
        {"role": "user", "content": "Hello, how can I help?"},
    ]
    assert (body["temperature"], body["seed"], body["max_tokens"], body["stop"]) == (
        0.3,
        7,
        50,
        ["\n\n"],
    )
    assert server.headers[0]["Authorization"] == f"Bearer {KEY}"


async def test_a_stream_comes_in_chunks_with_the_usage_last(server):
    model = lean(server)
    whole = await model.ainvoke(ASKED)
    chunks = [chunk async for chunk in model.astream(ASKED)]
    assert len(chunks) > 3
    assert "".join(str(chunk.content) for chunk in chunks) == whole.content
    # The usage comes in the server's last chunk (LangChain may add an empty one).
    with_usage = [i for i, chunk in enumerate(chunks) if chunk.usage_metadata]
    assert with_usage[0] >= len(chunks) - 2
    assert chunks[with_usage[0]].usage_metadata == whole.usage_metadata
    assert server.requests[-1]["stream_options"] == {"include_usage": True}
    streamed = await lean(server, streaming=True).ainvoke(ASKED)
    assert streamed.content == whole.content
    assert streamed.usage_metadata == whole.usage_metadata


async def test_bound_tools_are_openai_tools_and_calls_are_parsed(server):
    model = lean(server).bind_tools([Verdict], tool_choice="Verdict")
    reply = await model.ainvoke(ASKED)
    (call,) = reply.tool_calls
    assert call["name"] == "Verdict"
    assert set(call["args"]) == {"reached", "reason"}
    body = server.requests[-1]
    assert body["tools"][0]["type"] == "function"
    assert body["tools"][0]["function"]["name"] == "Verdict"
    assert body["tool_choice"] == {"type": "function", "function": {"name": "Verdict"}}
    # The call goes back to the server as the assistant's tool call and its answer.
    later = [*ASKED, reply, ToolMessage("noted", tool_call_id=call["id"])]
    sent = to_openai(later)
    assert sent[2]["tool_calls"][0]["function"]["name"] == "Verdict"
    assert sent[2]["content"] is None
    assert sent[3] == {"role": "tool", "content": "noted", "tool_call_id": call["id"]}


async def test_streamed_tool_calls_add_up_to_the_call(server):
    model = lean(server).bind_tools([Verdict], tool_choice="any")
    total = None
    async for chunk in model.astream(ASKED):
        total = chunk if total is None else total + chunk
    assert total is not None
    (call,) = total.tool_calls
    assert call["name"] == "Verdict"
    assert set(call["args"]) == {"reached", "reason"}
    assert server.requests[-1]["tool_choice"] == "required"


def test_tool_call_arguments_that_are_not_json_are_invalid_tool_calls():
    result = result_of(
        {
            "model": "m",
            "choices": [
                {
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "Verdict", "arguments": "{oops"},
                            }
                        ],
                    },
                    "finish_reason": "tool_calls",
                }
            ],
        }
    )
    message = result.generations[0].message
    assert isinstance(message, AIMessage)
    assert message.tool_calls == []
    (invalid,) = message.invalid_tool_calls
    assert (invalid["name"], invalid["args"]) == ("Verdict", "{oops")
    assert "not JSON" in str(invalid["error"])


def test_an_answer_without_choices_is_a_model_error():
    with pytest.raises(ModelError, match="no choices"):
        result_of({"choices": []})


async def test_structured_output_by_json_schema(server):
    structured = lean(server).with_structured_output(Verdict)
    verdict = await structured.ainvoke(ASKED)
    assert isinstance(verdict, Verdict)
    form = server.requests[-1]["response_format"]
    assert form["type"] == "json_schema"
    assert form["json_schema"]["name"] == "Verdict"
    assert set(form["json_schema"]["schema"]["properties"]) == {"reached", "reason"}
    schema = {
        "title": "Mood",
        "description": "How the customer feels",
        "type": "object",
        "properties": {"mood": {"type": "string"}},
        "required": ["mood"],
    }
    raw = (
        await lean(server)
        .with_structured_output(schema, include_raw=True)
        .ainvoke(ASKED)
    )
    assert isinstance(raw["raw"], AIMessage)
    assert raw["raw"].usage_metadata["total_tokens"] == 18
    assert set(raw["parsed"]) == {"mood"}
    assert raw["parsing_error"] is None


async def test_structured_output_by_function_calling(server):
    structured = lean(server).with_structured_output(
        Mood, method="function_calling", include_raw=True
    )
    answer = await structured.ainvoke(ASKED)
    assert set(answer["parsed"]) == {"mood"}
    body = server.requests[-1]
    assert "response_format" not in body
    assert body["tools"][0]["function"]["name"] == "Mood"
    assert body["parallel_tool_calls"] is False
    verdict = (
        await lean(server)
        .with_structured_output(Verdict, method="function_calling")
        .ainvoke(ASKED)
    )
    assert isinstance(verdict, Verdict)


def test_an_unknown_structured_output_method_is_refused():
    model = OpenAIHTTPChatModel(model="m", api_key=KEY)
    with pytest.raises(ConfigError, match="json_schema, function_calling, json_mode"):
        model.with_structured_output(Verdict, method="xml")


async def test_a_429_not_retried_is_a_rate_limited_error_with_retry_after(server):
    server.rate_limit_next = 1
    server.retry_after = "7"
    with pytest.raises(RateLimitedError) as caught:
        await lean(server, max_retries=0).ainvoke(ASKED)
    assert caught.value.retry_after == 7.0
    assert caught.value.provider == "openai"
    assert caught.value.status_code == 429
    assert "rate limit reached" in str(caught.value)
    assert is_transient(caught.value)


async def test_a_429_can_be_left_to_the_caller_while_5xx_are_still_retried(server):
    server.fail_next = 1
    server.rate_limit_next = 1
    model = lean(server, max_retries=3, retry_rate_limits=False)
    with pytest.raises(RateLimitedError):
        await model.ainvoke(ASKED)
    assert len(server.requests) == 1  # the 429 came first: raised at once
    assert (await model.ainvoke(ASKED)).content  # the 503 is retried
    assert len(server.requests) == 3


async def test_a_429_is_retried_after_what_the_server_asked(server):
    server.rate_limit_next = 1
    server.retry_after = "0.2"
    reply = await lean(server, max_retries=2, retry_base_seconds=5.0).ainvoke(ASKED)
    assert reply.content
    assert len(server.requests) == 2
    assert server.arrivals[1] - server.arrivals[0] >= 0.2 - 0.01


async def test_server_errors_are_retried_then_reported_with_the_status(server):
    server.fail_next = 2
    reply = await lean(server, max_retries=2).ainvoke(ASKED)
    assert reply.content
    assert len(server.requests) == 3
    server.fail_next = 3
    with pytest.raises(OpenAIHTTPError) as caught:
        await lean(server, max_retries=2).ainvoke(ASKED)
    assert caught.value.status_code == 503
    assert "HTTP 503: overloaded" in str(caught.value)
    assert is_transient(caught.value)


async def test_a_client_error_is_not_retried_and_never_shows_the_key(server):
    server.echo_error = f"with key {KEY}"
    with pytest.raises(OpenAIHTTPError) as caught:
        await lean(server, model="bad-request").ainvoke(ASKED)
    assert caught.value.status_code == 400
    assert not is_transient(caught.value)
    assert "invalid request with key" in str(caught.value)
    assert KEY not in str(caught.value)
    assert KEY not in repr(lean(server))
    assert KEY not in str(lean(server).model_dump())
    assert len(server.requests) == 1


async def test_an_unreachable_server_is_transient_and_never_shows_the_key(server):
    with anyio.fail_after(10):
        with pytest.raises(OpenAIHTTPError) as caught:
            await OpenAIHTTPChatModel(
                model="m",
                base_url="http://127.0.0.1:9/v1",
                api_key=KEY,
                max_retries=1,
                retry_base_seconds=0.01,
            ).ainvoke(ASKED)
    assert caught.value.status_code is None
    assert is_transient(caught.value)
    assert KEY not in str(caught.value)


async def test_an_attempt_that_takes_too_long_times_out_and_is_retried(server):
    server.stall_next = 1
    with pytest.raises(OpenAITimeoutError, match=r"within 0\.2s"):
        await lean(server, timeout=0.2, max_retries=0).ainvoke(ASKED)
    server.stall_next = 1
    reply = await lean(server, timeout=0.2, max_retries=1).ainvoke(ASKED)
    assert reply.content


async def test_one_session_per_loop_shared_by_every_model_and_closed(
    server, monkeypatch
):
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    first, second = resolve_model("openai:model-a"), resolve_model("openai:model-b")
    assert isinstance(first, OpenAIHTTPChatModel)
    await first.ainvoke(ASKED)
    session = shared_session()
    await second.ainvoke(ASKED)
    await lean(server).ainvoke(ASKED)
    assert shared_session() is session
    assert {r["model"] for r in server.requests} == {
        "model-a",
        "model-b",
        "local-model",
    }
    await aclose_models()
    assert session.closed
    assert shared_session() is not session  # a later call opens a new one
    await resolve_model("openai:model-a").ainvoke(ASKED)


def test_a_synchronous_call_says_to_await_instead():
    model = OpenAIHTTPChatModel(model="m", api_key=KEY)
    with pytest.raises(ModelError, match="asynchronous: use ainvoke"):
        model.invoke(ASKED)
    with pytest.raises(ModelError, match="need a running asyncio event loop"):
        shared_session()


async def test_the_langchain_client_is_one_setting_away(server, monkeypatch):
    from langchain_openai import ChatOpenAI

    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("CLIENTSIM_OPENAI_CLIENT", "langchain")
    model = resolve_model("openai:local-model")
    assert isinstance(model, ChatOpenAI)
    reply = await model.ainvoke(ASKED)
    assert reply.usage_metadata["total_tokens"] == 18
    monkeypatch.setenv("CLIENTSIM_OPENAI_CLIENT", "sdk")
    with pytest.raises(ConfigError, match="CLIENTSIM_OPENAI_CLIENT must be one of"):
        resolve_model("openai:other-model")


def test_retry_after_reads_seconds_milliseconds_and_http_dates():
    assert retry_after({"Retry-After": "1.5"}) == 1.5
    assert retry_after({"retry-after-ms": "20", "Retry-After": "9"}) == 0.02
    assert retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after({"Retry-After": "-3"}) == 0.0


def test_a_call_log_is_plain_json():
    sent = to_openai([HumanMessage("hi", name="sam")])
    assert json.loads(json.dumps(sent)) == [
        {"role": "user", "content": "hi", "name": "sam"}
    ]


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_retry_after_in_seconds_is_read_back(seconds):
    assert retry_after({"retry-after": repr(seconds)}) == seconds
    assert (
        retry_after({"Retry-After-Ms": repr(seconds * 1000)}) == seconds * 1000 / 1000
    )


@given(
    st.one_of(
        st.sampled_from(["", " ", "0", "1", "64 ", "²", "-3", "1e3", "١٢"]),
        st.text(
            alphabet=st.characters(
                blacklist_categories=("Cs",), blacklist_characters="\x00"
            ),
            max_size=8,
        ),
    )
)
def test_the_connection_limit_is_a_positive_integer_or_refused(raw):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLIENTSIM_HTTP_CONNECTIONS", raw)
        text = raw.strip()
        if not text:
            assert connection_limit() == 1000
        elif text.isdigit() and text.isascii() and int(text) > 0:
            assert connection_limit() == int(text)
        else:
            with pytest.raises(ConfigError, match="CLIENTSIM_HTTP_CONNECTIONS"):
                connection_limit()
