"""HybridSimulationRunner end to end over real HTTP and WebSocket agents on 127.0.0.1.

Each fault ends within its deadline plus one second, with the right recorded reason,
and keeps every message already exchanged.
"""

from __future__ import annotations

import anyio
import pytest

from clientsim import (
    HybridSimulationRunner,
    MessageDraft,
    ParticipantRole,
    ScriptedParticipant,
)
from clientsim.channels import HTTPChannel, WebSocketChannel
from tests.channels import http_servers as http
from tests.channels import ws_server as ws


CUSTOMER = ParticipantRole.CUSTOMER


@pytest.fixture(name="hybrid")
def _hybrid(intent, outcomes):
    async def hybrid(channel, lines, *, deadline=10.0, **kwargs):
        kwargs.setdefault("quiet_period_seconds", 0.2)
        runner = HybridSimulationRunner(
            ScriptedParticipant(CUSTOMER, lines[1:]),
            channel,
            intent,
            outcomes,
            initial_message=MessageDraft(lines[0], CUSTOMER),
            **kwargs,
        )
        start = anyio.current_time()
        with anyio.fail_after(deadline + 1):
            result = await runner.run()
        return result, anyio.current_time() - start

    return hybrid


def texts(result):
    return [m.content for m in result.conversation.messages]


async def test_http_agent_conversation(hybrid):
    async with (
        http.serve(
            http.completion("Sure, what's your order number?"),
            http.completion("Found it."),
        ) as agent,
        HTTPChannel(base_url=f"{agent.url}/v1", model="bot") as channel,
    ):
        result, _ = await hybrid(channel, ["Where is my order?", "It's 4417"])
    assert result.ok, result.error
    assert texts(result) == [
        "Where is my order?",
        "Sure, what's your order number?",
        "It's 4417",
        "Found it.",
    ]
    assert result.ending.reason == "both_passed"
    second = agent.requests[1].body["messages"]
    assert [m["role"] for m in second] == ["user", "assistant", "user"]


async def test_http_429_then_success(hybrid):
    script = (http.status(429, headers={"Retry-After": "0"}), http.completion("Hello!"))
    async with (
        http.serve(*script) as agent,
        HTTPChannel(base_url=f"{agent.url}/v1", backoff_seconds=0.01) as channel,
    ):
        result, _ = await hybrid(channel, ["hi"])
    assert result.ok
    assert texts(result) == ["hi", "Hello!"]
    assert len(agent.requests) == 2


async def test_http_500_until_retries_run_out(hybrid):
    async with (
        http.serve(http.status(500, body="boom")) as agent,
        HTTPChannel(
            base_url=f"{agent.url}/v1",
            max_retries=2,
            backoff_seconds=0.01,
            timeout_seconds=2,
        ) as channel,
    ):
        result, elapsed = await hybrid(channel, ["hi", "hello?"], deadline=2)
    assert elapsed < 2 + 1
    assert result.ending.reason == "error"
    assert result.error.source == "channel"
    assert result.error.side == "agent"
    assert "500" in result.error.message
    assert texts(result) == ["hi"]
    assert len(agent.requests) == 3


async def test_http_reply_slower_than_the_channel_deadline(hybrid):
    async with (
        http.serve(http.slow(5, http.completion("too late"))) as agent,
        HTTPChannel(base_url=f"{agent.url}/v1", timeout_seconds=0.3) as channel,
    ):
        result, elapsed = await hybrid(channel, ["hi"], deadline=0.3)
    assert elapsed < 0.3 + 1
    assert result.error is not None
    assert result.error.type == "clientsim.errors.AgentTimeoutError"
    assert texts(result) == ["hi"]


async def test_http_agent_slower_than_the_reply_timeout_is_silent(hybrid):
    async with (
        http.serve(http.slow(5, http.completion("too late"))) as agent,
        HTTPChannel(base_url=f"{agent.url}/v1", timeout_seconds=10) as channel,
    ):
        result, elapsed = await hybrid(
            channel, ["hi"], reply_timeout_seconds=0.3, deadline=0.3
        )
    assert elapsed < 0.3 + 1
    assert result.ending.reason == "agent_silent"
    assert texts(result) == ["hi"]


async def test_http_agent_that_never_answers(hybrid):
    with http.silent_port() as port:
        async with HTTPChannel(
            base_url=f"http://127.0.0.1:{port}/v1", timeout_seconds=0.3
        ) as channel:
            result, elapsed = await hybrid(channel, ["anyone there?"], deadline=0.3)
    assert elapsed < 0.3 + 1
    assert result.error is not None
    assert result.error.side == "agent"
    assert texts(result) == ["anyone there?"]


async def test_websocket_agent_conversation(hybrid):
    async with (
        ws.serve(ws.answer_twice) as server,
        WebSocketChannel(server.url) as channel,
    ):
        result, _ = await hybrid(channel, ["hi", "bye"])
    assert result.ok, result.error
    assert texts(result) == [
        "hi",
        "You said: hi",
        "Anything else?",
        "bye",
        "You said: bye",
        "Anything else?",
    ]


async def test_websocket_flood_of_fifty(hybrid):
    async with (
        ws.serve(ws.push_on_connect(50)) as server,
        WebSocketChannel(server.url) as channel,
    ):
        result, _ = await hybrid(channel, ["hi"], max_messages=100)
    assert result.ok, result.error
    assert [t for t in texts(result) if t.startswith("update")] == [
        f"update {i}" for i in range(50)
    ]


async def test_websocket_disconnect_mid_talk(hybrid):
    async with (
        ws.serve(ws.drop_mid_talk) as server,
        WebSocketChannel(server.url) as channel,
    ):
        result, elapsed = await hybrid(channel, ["hi", "still there?"], deadline=5)
    assert elapsed < 5 + 1
    assert result.ending.reason == "error"
    assert result.error.source == "channel"
    assert result.error.side == "agent"
    assert texts(result)[:3] == ["hi", "one", "two"]


async def test_websocket_agent_closing_normally_ends_the_talk(hybrid):
    async with (
        ws.serve(ws.close_after_reply(1000, b"goodbye")) as server,
        WebSocketChannel(server.url) as channel,
    ):
        result, _ = await hybrid(channel, ["hi", "are you still there?"])
    assert result.ok, result.error
    assert result.ending.reason == "agent_closed"
    assert texts(result)[0] == "hi"
    assert len(texts(result)) >= 2
