"""HTTPChannel against real scripted HTTP servers on 127.0.0.1."""

from __future__ import annotations

import doctest
import gc
import warnings
from datetime import UTC, datetime

import anyio
import pytest

from clientsim.channels import TurnEnded
from clientsim.channels import http as http_module
from clientsim.channels.http import HTTPChannel, HTTPSession
from clientsim.errors import AgentTimeoutError, ChannelError, ConfigError
from clientsim.models import Message, ParticipantRole

from .http_servers import (
    chunk,
    closed_port,
    completion,
    echo_auth,
    raw,
    reply,
    serve,
    silent_port,
    slow,
    sse,
    status,
)


KEY = "sk-test-0123456789abcdef"


def customer(text: str) -> Message:
    return Message(
        content=text, timestamp=datetime.now(UTC), sender=ParticipantRole.CUSTOMER
    )


async def turn(session: HTTPSession, text: str) -> list[str]:
    """Send ``text`` and return what the agent said, up to the end of its turn."""
    await session.send(customer(text))
    said: list[str] = []
    async for event in session.events():
        if isinstance(event, TurnEnded):
            return said
        said.append(event.content)
    raise AssertionError("the session closed before the turn ended")


async def contents(session: HTTPSession) -> list[tuple[str, str]]:
    conversation = await session.get_conversation()
    return [(m.sender.value, m.content) for m in conversation.messages]


# ----- OpenAI mode -----------------------------------------------------------------------


async def test_openai_sends_the_history_and_pushes_the_reply():
    async with (
        serve(completion("Hello! How can I help?"), completion("Done.")) as agent,
        HTTPChannel(
            base_url=f"{agent.url}/v1", model="support-bot", system_prompt="Be brief."
        ) as channel,
        await channel.create_session(session_id="conv-1") as session,
    ):
        assert await turn(session, "Hi") == ["Hello! How can I help?"]
        assert await turn(session, "Reset my password") == ["Done."]
        assert await contents(session) == [
            ("customer", "Hi"),
            ("agent", "Hello! How can I help?"),
            ("customer", "Reset my password"),
            ("agent", "Done."),
        ]
    first, second = agent.requests
    assert first.path == "/v1/chat/completions"
    assert first.headers["X-Session-Id"] == "conv-1"
    assert first.body == {
        "model": "support-bot",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
        ],
    }
    assert second.body["messages"][1:] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "Reset my password"},
    ]


async def test_openai_streaming_joins_the_deltas_into_one_message():
    events = [
        chunk(None, role=True),
        chunk("Let me "),
        chunk("check that"),
        chunk(" for you."),
        {"id": "x", "choices": [], "usage": {"total_tokens": 9}},
    ]
    async with (
        serve(sse(events, split=True), sse([chunk("Bye")], done=False)) as agent,
        HTTPChannel(
            base_url=agent.url, model="m", stream=True, extra_body={"temperature": 0}
        ) as channel,
        await channel.create_session() as session,
    ):
        assert await turn(session, "Where is my order?") == [
            "Let me check that for you."
        ]
        # A stream that ends without [DONE] still gives what it sent.
        assert await turn(session, "Thanks") == ["Bye"]
    request = agent.requests[0]
    assert request.body["stream"] is True
    assert request.body["temperature"] == 0
    assert request.headers["Accept"] == "text/event-stream"


async def test_openai_stream_with_comments_and_multiline_fields():
    body = (
        ": keep-alive\n\n"
        'event: message\ndata: {"choices": [{"delta": {"content": "One"}}]}\n\n'
        'data: {"choices": [{"delta":\ndata: {"content": " two"}}]}\n\n'
        "data: [DONE]\n\n"
    )
    async with (
        serve(raw(body, content_type="text/event-stream")) as agent,
        HTTPChannel(base_url=agent.url, stream=True) as channel,
        await channel.create_session() as session,
    ):
        assert await turn(session, "Hi") == ["One two"]
    assert "model" not in agent.requests[0].body


async def test_openai_stream_falls_back_to_a_json_answer():
    async with (
        serve(completion("Plain answer")) as agent,
        HTTPChannel(base_url=agent.url, model="m", stream=True) as channel,
        await channel.create_session() as session,
    ):
        assert await turn(session, "Hi") == ["Plain answer"]


async def test_openai_stream_error_event_is_a_channel_error():
    events = [chunk("Part"), {"error": {"message": "model overloaded"}}]
    async with (
        serve(sse(events)) as agent,
        HTTPChannel(base_url=agent.url, model="m", stream=True) as channel,
        await channel.create_session() as session,
    ):
        with pytest.raises(ChannelError, match="model overloaded"):
            await turn(session, "Hi")
    assert len(agent.requests) == 1


async def test_openai_content_parts_and_empty_replies():
    parts = {
        "choices": [
            {
                "message": {
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": "Part one, "},
                        {"type": "image_url", "image_url": {"url": "x"}},
                        {"type": "text", "text": "part two."},
                    ],
                }
            }
        ]
    }
    async with (
        serve(reply(parts), completion(None), completion("")) as agent,
        HTTPChannel(base_url=agent.url, model="m") as channel,
        await channel.create_session() as session,
    ):
        assert await turn(session, "one") == ["Part one, part two."]
        assert await turn(session, "two") == []  # null content: only the turn ends
        assert await turn(session, "three") == []
        assert [role for role, _ in await contents(session)] == [
            "customer",
            "agent",
            "customer",
            "customer",
        ]


# ----- webhook mode ----------------------------------------------------------------------


async def test_webhook_renders_the_template_and_reads_a_nested_reply():
    async with (
        serve(reply({"data": {"reply": "Your order ships today.", "id": 7}})) as agent,
        HTTPChannel(
            base_url=agent.url,
            mode="webhook",
            path="/sessions/{session_id}/messages",
            request_template={
                "input": {"text": "Customer says: {message}", "raw": "{message}"},
                "thread": "{session_id}",
                "transcript": "{history}",
                "options": {"lang": "en", "max": 3, "braces": "{kept}"},
            },
            reply_path="data.reply",
            session_id_field="meta.session",
            session_id_header="X-Conversation",
        ) as channel,
        await channel.create_session(session_id="a b") as session,
    ):
        assert await turn(session, "Where is {my} order?") == [
            "Your order ships today."
        ]
    (request,) = agent.requests
    assert request.path == "/sessions/a%20b/messages"
    assert request.headers["X-Conversation"] == "a b"
    assert "X-Session-Id" not in request.headers
    body = request.body
    assert body["input"] == {
        "text": "Customer says: Where is {my} order?",
        "raw": "Where is {my} order?",
    }
    assert body["thread"] == "a b"
    assert body["meta"] == {"session": "a b"}
    assert body["options"] == {"lang": "en", "max": 3, "braces": "{kept}"}
    (entry,) = body["transcript"]
    assert entry["role"] == "customer"
    assert entry["content"] == "Where is {my} order?"
    assert datetime.fromisoformat(entry["timestamp"]).tzinfo is not None


async def test_webhook_list_of_replies_becomes_several_messages():
    replies = {"messages": [{"text": "Hi!"}, {"text": "One moment."}, {"text": ""}]}
    async with (
        serve(reply({"replies": ["First", "Second"]}), reply(replies)) as agent,
        HTTPChannel(base_url=agent.url, mode="webhook", reply_path="replies") as lists,
        HTTPChannel(
            base_url=agent.url, mode="webhook", reply_path="messages.*.text"
        ) as objects,
    ):
        async with await lists.create_session() as session:
            assert await turn(session, "Hello") == ["First", "Second"]
        async with await objects.create_session() as session:
            assert await turn(session, "Hello") == ["Hi!", "One moment."]
    assert agent.requests[0].body == {"message": "Hello"}


async def test_webhook_index_paths_and_empty_replies():
    document = {"messages": [{"text": "old"}, {"text": "newest"}]}
    async with (
        serve(reply(document), reply({"reply": None}), reply({"reply": []})) as agent,
        HTTPChannel(
            base_url=agent.url, mode="webhook", reply_path="messages.-1.text"
        ) as indexed,
        HTTPChannel(base_url=agent.url, mode="webhook", reply_path="reply") as plain,
    ):
        async with await indexed.create_session() as session:
            assert await turn(session, "Hi") == ["newest"]
        async with await plain.create_session() as session:
            assert await turn(session, "Hi") == []
            assert await turn(session, "Hi") == []


async def test_whole_document_reply_path():
    async with (
        serve(reply("just text")) as agent,
        HTTPChannel(base_url=agent.url, mode="webhook", reply_path="") as channel,
        await channel.create_session() as session,
    ):
        assert await turn(session, "Hi") == ["just text"]


# ----- headers, sessions, the connection pool -------------------------------------------


async def test_auth_headers_reach_the_server():
    async with (
        serve(completion("ok")) as agent,
        HTTPChannel(
            base_url=agent.url,
            model="m",
            headers={"Authorization": f"Bearer {KEY}", "X-Tenant": "acme"},
            session_id_header=None,
            session_id_field="user",
        ) as channel,
        await channel.create_session(session_id="s-9") as session,
    ):
        await turn(session, "Hi")
    (request,) = agent.requests
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["X-Tenant"] == "acme"
    assert "X-Session-Id" not in request.headers
    assert request.body["user"] == "s-9"
    assert KEY not in repr(channel)


async def test_sessions_share_one_connection_pool():
    async with (
        serve(slow(0.05, completion("ok"))) as agent,
        HTTPChannel(base_url=agent.url, model="m", max_connections=8) as channel,
    ):
        pools = []

        async def converse() -> None:
            async with await channel.create_session() as session:
                assert await turn(session, "Hi") == ["ok"]
                pools.append(channel._http)

        async with anyio.create_task_group() as group:
            for _ in range(20):
                group.start_soon(converse)
    assert len(agent.requests) == 20
    assert len({request.headers["X-Session-Id"] for request in agent.requests}) == 20
    assert len({id(pool) for pool in pools}) == 1


async def test_deliveries_in_one_session_run_in_order():
    async with (
        serve(
            slow(0.05, completion("first reply")), completion("second reply")
        ) as agent,
        HTTPChannel(base_url=agent.url, model="m") as channel,
        await channel.create_session() as session,
    ):
        async with anyio.create_task_group() as group:
            group.start_soon(session.send, customer("one"))
            await anyio.wait_all_tasks_blocked()
            group.start_soon(session.send, customer("two"))
        said = []
        async for event in session.events():
            said.append(event if isinstance(event, TurnEnded) else event.content)
            if len(said) == 4:
                break
    assert said == ["first reply", TurnEnded(), "second reply", TurnEnded()]
    # The message being delivered goes last, after the reply to the earlier one.
    assert [m["content"] for m in agent.requests[1].body["messages"]] == [
        "one",
        "first reply",
        "two",
    ]


# ----- retries -------------------------------------------------------------------------


async def test_429_with_retry_after_then_success():
    async with (
        serve(status(429, headers={"Retry-After": "0.3"}), completion("ok")) as agent,
        HTTPChannel(base_url=agent.url, model="m", backoff_seconds=0.001) as channel,
        await channel.create_session() as session,
    ):
        assert await turn(session, "Hi") == ["ok"]
        assert await contents(session) == [("customer", "Hi"), ("agent", "ok")]
    first, second = agent.requests
    assert second.at - first.at >= 0.25  # the server's Retry-After, not the backoff


async def test_retry_after_is_capped_by_max_backoff():
    limited = status(503, headers={"Retry-After": "100"}, body="busy")
    async with (
        serve(limited, limited, completion("ok")) as agent,
        HTTPChannel(base_url=agent.url, model="m", max_backoff_seconds=0.01) as channel,
        await channel.create_session() as session,
    ):
        start = anyio.current_time()
        assert await turn(session, "Hi") == ["ok"]
        assert anyio.current_time() - start < 1.0
    assert len(agent.requests) == 3


async def test_a_retry_that_would_pass_the_timeout_fails_now():
    later = status(429, headers={"Retry-After": "5"})
    async with (
        serve(later) as agent,
        HTTPChannel(base_url=agent.url, model="m", timeout_seconds=2.0) as channel,
        await channel.create_session() as session,
    ):
        start = anyio.current_time()
        with pytest.raises(ChannelError, match="would pass") as caught:
            await turn(session, "Hi")
        assert anyio.current_time() - start < 1.0
    assert not isinstance(caught.value, AgentTimeoutError)
    assert "HTTP 429" in str(caught.value)
    assert len(agent.requests) == 1


async def test_500_until_the_retries_run_out():
    async with (
        serve(status(500, body="internal error")) as agent,
        HTTPChannel(
            base_url=agent.url, model="m", max_retries=3, backoff_seconds=0.01
        ) as channel,
        await channel.create_session() as session,
    ):
        with pytest.raises(ChannelError) as caught:
            await turn(session, "Hi")
        assert await contents(session) == [("customer", "Hi")]
    message = str(caught.value)
    assert "failed 4 time(s)" in message
    assert "HTTP 500" in message
    assert "internal error" in message
    assert "max_retries=3" in message
    assert len(agent.requests) == 4


async def test_a_refused_connection_is_retried_then_reported():
    port = closed_port()
    async with (
        HTTPChannel(
            base_url=f"http://127.0.0.1:{port}/v1", backoff_seconds=0.01
        ) as channel,
        await channel.create_session() as session,
    ):
        with pytest.raises(ChannelError, match=r"failed 3 time.*connection error"):
            await turn(session, "Hi")


async def test_401_is_not_retried():
    async with (
        serve(status(401, body="invalid api key")) as agent,
        HTTPChannel(base_url=agent.url, model="m", backoff_seconds=0.01) as channel,
        await channel.create_session() as session,
    ):
        with pytest.raises(ChannelError, match="HTTP 401") as caught:
            await turn(session, "Hi")
    assert "credentials" in str(caught.value)
    assert "invalid api key" in str(caught.value)
    assert len(agent.requests) == 1


# ----- timeouts ------------------------------------------------------------------------


async def test_a_reply_slower_than_the_timeout():
    async with (
        serve(slow(5.0, completion("too late"))) as agent,
        HTTPChannel(base_url=agent.url, model="m", timeout_seconds=0.3) as channel,
        await channel.create_session() as session,
    ):
        start = anyio.current_time()
        with pytest.raises(AgentTimeoutError) as caught:
            await turn(session, "Hi")
        assert anyio.current_time() - start < 0.3 + 1.0
    message = str(caught.value)
    assert f"{agent.url}/chat/completions" in message
    assert "timeout_seconds=0.3" in message
    assert isinstance(caught.value, TimeoutError)
    assert len(agent.requests) == 1  # a timeout is not retried


async def test_an_agent_that_never_answers():
    with silent_port() as port:
        async with (
            HTTPChannel(
                base_url=f"http://127.0.0.1:{port}",
                mode="webhook",
                reply_path="reply",
                timeout_seconds=0.3,
            ) as channel,
            await channel.create_session() as session,
        ):
            start = anyio.current_time()
            with pytest.raises(AgentTimeoutError, match="did not answer"):
                await turn(session, "Hi")
            assert anyio.current_time() - start < 0.3 + 1.0


async def test_a_stream_that_stalls_times_out():
    async with (
        serve(sse([chunk("Let me"), chunk(" see")], stall=5.0)) as agent,
        HTTPChannel(
            base_url=agent.url, model="m", stream=True, timeout_seconds=0.3
        ) as channel,
        await channel.create_session() as session,
    ):
        start = anyio.current_time()
        with pytest.raises(AgentTimeoutError):
            await turn(session, "Hi")
        assert anyio.current_time() - start < 0.3 + 1.0
        assert await contents(session) == [("customer", "Hi")]


async def test_a_timeout_keeps_the_messages_already_exchanged():
    async with (
        serve(completion("Hello!"), slow(5.0, completion("too late"))) as agent,
        HTTPChannel(base_url=agent.url, model="m", timeout_seconds=0.3) as channel,
        await channel.create_session() as session,
    ):
        assert await turn(session, "Hi") == ["Hello!"]
        with pytest.raises(AgentTimeoutError):
            await turn(session, "Are you there?")
        assert await contents(session) == [
            ("customer", "Hi"),
            ("agent", "Hello!"),
            ("customer", "Are you there?"),
        ]


# ----- malformed replies -----------------------------------------------------------------


async def test_a_reply_that_is_not_json():
    async with (
        serve(raw("<html>Bad gateway page</html>", content_type="text/html")) as agent,
        HTTPChannel(base_url=agent.url, model="m") as channel,
        await channel.create_session() as session,
    ):
        with pytest.raises(ChannelError) as caught:
            await turn(session, "Hi")
    message = str(caught.value)
    assert "malformed reply" in message
    assert "expected a JSON body" in message
    assert "<html>Bad gateway page</html>" in message
    assert len(agent.requests) == 1


async def test_a_long_malformed_reply_is_trimmed():
    async with (
        serve(raw("x" * 5000)) as agent,
        HTTPChannel(base_url=agent.url, model="m") as channel,
        await channel.create_session() as session,
    ):
        with pytest.raises(ChannelError, match=r"\(5000 chars\)") as caught:
            await turn(session, "Hi")
    assert len(str(caught.value)) < 500


async def test_a_missing_reply_path():
    async with (
        serve(reply({"data": {"text": "hi", "id": 1}})) as agent,
        HTTPChannel(
            base_url=agent.url, mode="webhook", reply_path="data.reply"
        ) as channel,
        await channel.create_session() as session,
    ):
        with pytest.raises(ChannelError) as caught:
            await turn(session, "Hi")
    message = str(caught.value)
    assert "'data.reply'" in message
    assert "'text', 'id'" in message
    assert '{"data": {"text": "hi", "id": 1}}' in message


@pytest.mark.parametrize(
    ("document", "reply_path", "expected"),
    [
        ({"reply": {"text": "hi"}}, "reply", "a string or a list of strings"),
        ({"reply": ["hi", 3]}, "reply", "a string or a list of strings"),
        ({"reply": 42}, "reply", "a string or a list of strings"),
        ({"items": ["a"]}, "items.3", "the list has 1"),
        ({"items": "abc"}, "items.0", "is a string"),
    ],
)
async def test_a_reply_of_the_wrong_shape(document, reply_path, expected):
    async with (
        serve(reply(document)) as agent,
        HTTPChannel(
            base_url=agent.url, mode="webhook", reply_path=reply_path
        ) as channel,
        await channel.create_session() as session,
    ):
        with pytest.raises(ChannelError, match=expected):
            await turn(session, "Hi")


@pytest.mark.parametrize(
    "document",
    [
        {"error": {"message": "no such model"}},
        {"choices": []},
        {"choices": [{"message": {"content": 5}}]},
        ["not", "an", "object"],
    ],
)
async def test_an_openai_reply_of_the_wrong_shape(document):
    async with (
        serve(reply(document)) as agent,
        HTTPChannel(base_url=agent.url, model="m") as channel,
        await channel.create_session() as session,
    ):
        with pytest.raises(ChannelError, match=r"malformed reply.*expected"):
            await turn(session, "Hi")


async def test_a_stream_event_that_is_not_json():
    async with (
        serve(sse(["{not json"])) as agent,
        HTTPChannel(base_url=agent.url, model="m", stream=True) as channel,
        await channel.create_session() as session,
    ):
        with pytest.raises(ChannelError, match="JSON in each stream event"):
            await turn(session, "Hi")


# ----- secrets ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", [401, 500])
async def test_the_api_key_never_appears_in_an_error(code):
    async with (
        serve(echo_auth(code)) as agent,
        HTTPChannel(
            base_url=agent.url,
            model="m",
            headers={"Authorization": f"Bearer {KEY}"},
            max_retries=1,
            backoff_seconds=0.01,
        ) as channel,
        await channel.create_session() as session,
    ):
        with pytest.raises(ChannelError) as caught:
            await turn(session, "Hi")
    assert agent.requests[0].headers["Authorization"] == f"Bearer {KEY}"
    assert "bad credentials" in str(caught.value)
    assert KEY not in str(caught.value)
    assert "[redacted]" in str(caught.value)


async def test_url_credentials_and_query_never_appear():
    secret = "hunter2-password"  # noqa: S105 - a fake credential
    with silent_port() as port:
        async with HTTPChannel(
            base_url=f"http://user:{secret}@127.0.0.1:{port}/v1?key={KEY}",
            model="m",
            timeout_seconds=0.2,
        ) as channel:
            assert secret not in repr(channel)
            assert KEY not in repr(channel)
            async with await channel.create_session() as session:
                with pytest.raises(AgentTimeoutError) as caught:
                    await turn(session, "Hi")
    assert secret not in str(caught.value)
    assert KEY not in str(caught.value)
    with pytest.raises(ConfigError) as config_error:
        HTTPChannel(base_url=f"ftp://user:{secret}@host/?key={KEY}")
    assert secret not in str(config_error.value)
    assert KEY not in str(config_error.value)


def test_a_bad_header_never_shows_its_value():
    with pytest.raises(ConfigError, match="Authorization") as caught:
        HTTPChannel(base_url="http://h", headers={"Authorization": KEY.encode()})
    assert KEY not in str(caught.value)


# ----- the channel's life ----------------------------------------------------------------


async def test_closing_the_channel_closes_its_aiohttp_session():
    async with serve(completion("ok")) as agent:
        channel = HTTPChannel(base_url=agent.url, model="m")
        assert channel._http is None  # opened lazily, on first use
        session = await channel.create_session()
        async with session:
            await turn(session, "Hi")
            http = channel._http
            assert http is not None
            assert not http.closed
        await channel.aclose()
        assert http.closed
        assert channel.closed
        await channel.aclose()  # twice is harmless
        with pytest.raises(ChannelError, match="closed"):
            await channel.create_session()
        with pytest.raises(ChannelError, match="closed"):
            await session.deliver(customer("again"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del channel, http, session
        gc.collect()
    assert not [w for w in caught if "Unclosed" in str(w.message)]


async def test_an_unclosed_channel_would_be_noticed():
    # The check of the test above works: a channel left open does warn.
    channel = HTTPChannel(base_url="http://127.0.0.1:9", model="m")
    channel._client()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del channel
        gc.collect()
    assert [w for w in caught if "Unclosed" in str(w.message)]


# ----- configuration ---------------------------------------------------------------------


def test_config_values_build_a_channel():
    config = {
        "base_url": "http://127.0.0.1:8000",
        "mode": "webhook",
        "path": "chat",
        "headers": {"X-Api-Key": "k"},
        "request_template": {"q": "{message}", "history": "{history}", "n": [1, None]},
        "reply_path": "answer",
        "session_id_field": "session.id",
        "timeout_seconds": 5,
        "max_retries": 0,
    }
    channel = HTTPChannel(**config)
    assert channel.mode == "webhook"
    assert channel._url == "http://127.0.0.1:8000/chat"


@pytest.mark.parametrize(
    ("options", "option"),
    [
        ({"base_url": "127.0.0.1:8000"}, "base_url"),
        ({"base_url": "http://h/v1/chat/completions"}, "base_url"),
        ({"mode": "grpc"}, "mode"),
        ({"model": ""}, "model"),
        ({"stream": "yes"}, "stream"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"timeout_seconds": float("inf")}, "timeout_seconds"),
        ({"timeout_seconds": True}, "timeout_seconds"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"backoff_seconds": -0.1}, "backoff_seconds"),
        ({"max_backoff_seconds": "1"}, "max_backoff_seconds"),
        ({"max_connections": 0}, "max_connections"),
        ({"session_id_header": ""}, "session_id_header"),
        ({"session_id_field": "a..b"}, "session_id_field"),
        ({"session_id_field": "messages.x"}, "session_id_field"),
        ({"headers": ["Authorization"]}, "headers"),
        ({"extra_body": {"x": object()}}, "extra_body"),
        ({"reply_path": "reply"}, "reply_path"),
        ({"request_template": {"q": "{message}"}}, "request_template"),
        ({"path": "/chat"}, "path"),
        ({"mode": "webhook"}, "reply_path"),
        ({"mode": "webhook", "reply_path": "r", "stream": True}, "stream"),
        ({"mode": "webhook", "reply_path": "r", "system_prompt": "x"}, "system_prompt"),
        (
            {"mode": "webhook", "reply_path": "r", "request_template": {1: "x"}},
            "request_template",
        ),
        (
            {"mode": "webhook", "reply_path": "r", "request_template": "{message}"},
            "request_template",
        ),
        (
            {"mode": "webhook", "reply_path": "r", "request_template": {"a": b"x"}},
            "request_template",
        ),
    ],
)
def test_bad_options_are_config_errors(options, option):
    options = {"base_url": "http://127.0.0.1:8000/v1", **options}
    with pytest.raises(ConfigError, match=option):
        HTTPChannel(**options)


def test_the_docstring_examples_run():
    result = doctest.testmod(http_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 2
    assert result.failed == 0


# ----- a base_url with a query string (Azure's api-version) -------------------------------


async def test_a_query_string_in_base_url_stays_at_the_end_of_the_url():
    async with (
        serve(completion("Hi")) as agent,
        HTTPChannel(
            base_url=f"{agent.url}/openai/v1?api-version=2024-06-01"
        ) as channel,
    ):
        session = await channel.create_session()
        async with session:
            assert await turn(session, "hello") == ["Hi"]
    (request,) = agent.requests
    assert request.path == "/openai/v1/chat/completions?api-version=2024-06-01"


async def test_a_webhook_path_goes_before_the_base_url_query_string():
    async with (
        serve(reply({"reply": "ok"})) as agent,
        HTTPChannel(
            base_url=f"{agent.url}/hooks/?tenant=acme",
            mode="webhook",
            path="/chat/{session_id}?v=2",
            reply_path="reply",
        ) as channel,
    ):
        session = await channel.create_session("s1")
        async with session:
            assert await turn(session, "hello") == ["ok"]
    (request,) = agent.requests
    assert request.path == "/hooks/chat/s1?tenant=acme&v=2"


def test_a_base_url_ending_in_chat_completions_is_refused_even_with_a_query():
    with pytest.raises(ConfigError, match="'/chat/completions' is added"):
        HTTPChannel(base_url="http://h/v1/chat/completions?api-version=1")
