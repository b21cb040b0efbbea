"""WebSocketChannel against real aiohttp WebSocket servers on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager

import anyio
import pytest

from clientsim import Message, ParticipantRole
from clientsim.channels.base import TurnEnded, now
from clientsim.channels.websocket import WebSocketChannel, WebSocketSession
from clientsim.errors import ChannelError, ConfigError, SessionClosedError
from tests.channels.ws_server import (
    answer_twice,
    close_after_reply,
    drop_mid_talk,
    echo_text,
    ignore_pings,
    listen_only,
    mute_listener,
    push_on_connect,
    send_raw,
    serve,
    unused_port,
)


DEADLINE = 5.0
"""Each exchange must finish within this many seconds (plus one for the faults)."""


def customer(content: str) -> Message:
    return Message(content=content, timestamp=now(), sender=ParticipantRole.CUSTOMER)


@asynccontextmanager
async def opened(
    channel: WebSocketChannel, session_id: str | None = None
) -> AsyncIterator[WebSocketSession]:
    session = await channel.create_session(session_id)
    async with session:
        yield session


async def turn(session: WebSocketSession) -> list[str]:
    """The agent's messages up to its end of turn."""
    contents: list[str] = []
    async with aclosing(session.events()) as events:
        async for event in events:
            if isinstance(event, TurnEnded):
                return contents
            contents.append(event.content)
    pytest.fail(f"the session ended before the turn did; got {contents}")


async def take(session: WebSocketSession, count: int) -> list[str]:
    """The next ``count`` agent messages (ends of turn skipped)."""
    contents: list[str] = []
    async with aclosing(session.subscribe()) as messages:
        async for message in messages:
            contents.append(message.content)
            if len(contents) == count:
                break
    return contents


async def read_into(contents: list[str], session: WebSocketSession) -> None:
    """Append every agent message to ``contents`` until the stream ends or fails."""
    async with aclosing(session.subscribe()) as messages:
        async for message in messages:
            contents.append(message.content)  # noqa: PERF401 - kept if it fails


def agent_contents(conversation) -> list[str]:
    return [
        m.content for m in conversation.messages if m.sender is ParticipantRole.AGENT
    ]


# ----- conversations ----------------------------------------------------------------


async def test_each_message_is_answered_with_two_messages_and_an_end_of_turn():
    async with serve(answer_twice) as server, WebSocketChannel(server.url) as channel:
        with anyio.fail_after(DEADLINE):
            async with opened(channel) as session:
                await session.send(customer("my card was charged twice"))
                first = await turn(session)
                await session.send(customer("thanks"))
                second = await turn(session)
                conversation = await session.get_conversation()

    assert first == ["You said: my card was charged twice", "Anything else?"]
    assert second == ["You said: thanks", "Anything else?"]
    assert [(m.sender, m.content) for m in conversation.messages] == [
        (ParticipantRole.CUSTOMER, "my card was charged twice"),
        (ParticipantRole.AGENT, "You said: my card was charged twice"),
        (ParticipantRole.AGENT, "Anything else?"),
        (ParticipantRole.CUSTOMER, "thanks"),
        (ParticipantRole.AGENT, "You said: thanks"),
        (ParticipantRole.AGENT, "Anything else?"),
    ]


async def test_outgoing_frames_carry_type_session_id_and_content():
    async with serve(answer_twice) as server, WebSocketChannel(server.url) as channel:
        with anyio.fail_after(DEADLINE):
            async with opened(channel, "conv-7") as session:
                await session.send(customer("hello"))
                await turn(session)
    assert [json.loads(f) for f in server.connections[0].received] == [
        {"type": "message", "session_id": "conv-7", "content": "hello"}
    ]


async def test_the_agent_may_speak_first_several_times():
    async with (
        serve(push_on_connect(3)) as server,
        WebSocketChannel(server.url) as channel,
    ):
        with anyio.fail_after(DEADLINE):
            async with opened(channel) as session:
                assert await turn(session) == ["update 0", "update 1", "update 2"]


async def test_a_flood_of_50_messages_arrives_whole_and_in_order():
    async with (
        serve(push_on_connect(50)) as server,
        WebSocketChannel(server.url) as channel,
    ):
        with anyio.fail_after(DEADLINE):
            async with opened(channel) as session:
                received = await turn(session)
                conversation = await session.get_conversation()
    expected = [f"update {index}" for index in range(50)]
    assert received == expected
    assert agent_contents(conversation) == expected


async def test_send_before_the_connection_is_ready_waits_for_it():
    async with serve(answer_twice) as server, WebSocketChannel(server.url) as channel:
        with anyio.fail_after(DEADLINE):
            session = await channel.create_session()
            async with session:
                # The listener has not even started: the socket does not exist yet.
                assert session._socket is None
                await session.send(customer("first"))
                assert await turn(session) == ["You said: first", "Anything else?"]


async def test_text_mode_sends_and_receives_plain_frames():
    async with (
        serve(echo_text) as server,
        WebSocketChannel(server.url, format="text") as channel,
    ):
        with anyio.fail_after(DEADLINE):
            async with opened(channel) as session:
                await session.send(customer("plain words"))
                assert await take(session, 2) == ["echo: plain words", "done"]
    assert server.connections[0].received == ["plain words"]


async def test_custom_json_fields():
    async def agent(connection):
        send = connection.socket.send_str
        await send(json.dumps({"kind": "reply", "text": "hi there"}))
        await send(json.dumps({"kind": "typing"}))
        await send(json.dumps({"kind": "done"}))
        async for _ in connection.frames():
            await send(json.dumps({"kind": "done"}))

    async with serve(agent) as server:
        channel = WebSocketChannel(
            server.url,
            type_field="kind",
            message_type="reply",
            reply_field="text",
            message_field="text",
            end_of_turn_type="done",
            session_id_field=None,
        )
        async with channel:
            with anyio.fail_after(DEADLINE):
                async with opened(channel) as session:
                    assert await turn(session) == ["hi there"]
                    await session.send(customer("ok"))
                    assert await turn(session) == []
    received = server.connections[0].received
    assert [json.loads(frame) for frame in received] == [
        {"kind": "reply", "text": "ok"}
    ]


async def test_frames_of_other_types_are_ignored():
    frames = (
        json.dumps({"type": "typing"}),
        json.dumps({"type": "ack", "content": "not a message"}),
        json.dumps({"content": "a message without a type"}),
        json.dumps({"type": "end_of_turn"}),
    )
    async with (
        serve(send_raw(*frames)) as server,
        WebSocketChannel(server.url) as channel,
    ):
        with anyio.fail_after(DEADLINE):
            async with opened(channel) as session:
                assert await turn(session) == ["a message without a type"]


# ----- handshake: query string and headers --------------------------------------------


async def test_the_session_id_goes_in_the_query_and_headers_are_sent():
    async with serve(listen_only) as server:
        channel = WebSocketChannel(
            server.url + "?tenant=acme",
            headers={"Authorization": "Bearer s3cret", "X-Client": "clientsim"},
        )
        async with channel:
            with anyio.fail_after(DEADLINE):
                async with opened(channel, "conv-42"):
                    connection = await server.next_connection()
    request = connection.request
    assert request.query["session_id"] == "conv-42"
    assert request.query["tenant"] == "acme"
    assert request.headers["Authorization"] == "Bearer s3cret"
    assert request.headers["X-Client"] == "clientsim"


async def test_the_query_parameter_can_be_renamed_or_left_out():
    async with serve(listen_only) as server:
        renamed = WebSocketChannel(server.url, session_id_query="thread")
        plain = WebSocketChannel(server.url, session_id_query=None)
        async with renamed, plain:
            with anyio.fail_after(DEADLINE):
                async with opened(renamed, "t-1"):
                    first = await server.next_connection()
                async with opened(plain, "t-2"):
                    second = await server.next_connection()
    assert dict(first.request.query) == {"thread": "t-1"}
    assert dict(second.request.query) == {}


# ----- faults ---------------------------------------------------------------------------


async def test_a_dropped_connection_raises_and_keeps_what_was_said():
    async with serve(drop_mid_talk) as server, WebSocketChannel(server.url) as channel:
        with anyio.fail_after(DEADLINE + 1):
            async with opened(channel) as session:
                await session.send(customer("where is my parcel?"))
                received: list[str] = []
                with pytest.raises(ChannelError, match="dropped without a close frame"):
                    await read_into(received, session)
                conversation = await session.get_conversation()
                with pytest.raises(ChannelError, match="cannot send to the agent"):
                    await session.send(customer("hello?"))
    assert received == ["one", "two"]
    assert [m.content for m in conversation.messages] == [
        "where is my parcel?",
        "one",
        "two",
    ]


async def test_the_agent_closing_the_socket_names_the_code_and_reason():
    async with (
        serve(close_after_reply(1011, b"agent crashed")) as server,
        WebSocketChannel(server.url) as channel,
    ):
        with anyio.fail_after(DEADLINE + 1):
            async with opened(channel) as session:
                await session.send(customer("hi"))
                assert await take(session, 1) == ["let me check"]
                with pytest.raises(ChannelError) as caught:
                    await take(session, 1)
                conversation = await session.get_conversation()
    assert str(caught.value) == (
        "the agent closed the connection (code 1011: 'agent crashed')"
    )
    assert [m.content for m in conversation.messages] == ["hi", "let me check"]


async def test_a_frame_that_is_not_json_is_reported_trimmed():
    garbage = "<html>" + "x" * 500
    async with (
        serve(send_raw(json.dumps({"content": "hello"}), garbage)) as server,
        WebSocketChannel(server.url) as channel,
    ):
        with anyio.fail_after(DEADLINE + 1):
            async with opened(channel) as session:
                assert await take(session, 1) == ["hello"]
                with pytest.raises(ChannelError, match="not JSON") as caught:
                    await take(session, 1)
    message = str(caught.value)
    assert "'<html>xxx" in message
    assert "(506 characters)" in message
    assert len(message) < 400
    assert "format='text'" in message


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ("[1, 2]", "not an object"),
        ('{"type": "message", "text": "hi"}', "without a string 'content' field"),
        ('{"content": 42}', "without a string 'content' field"),
    ],
)
async def test_json_that_does_not_fit_is_reported(frame, expected):
    async with (
        serve(send_raw(frame)) as server,
        WebSocketChannel(server.url) as channel,
    ):
        with anyio.fail_after(DEADLINE + 1):
            async with opened(channel) as session:
                with pytest.raises(ChannelError, match=expected):
                    await take(session, 1)


async def test_an_agent_that_stops_answering_pings_fails_the_session():
    async with (
        serve(ignore_pings, autoping=False) as server,
        WebSocketChannel(server.url, heartbeat_seconds=0.2) as channel,
    ):
        start = time.monotonic()
        with anyio.fail_after(0.2 + 1):
            async with opened(channel) as session:
                with pytest.raises(ChannelError, match="PONG"):
                    await take(session, 1)
    assert time.monotonic() - start < 0.2 + 1


async def test_a_closed_port_fails_within_the_connect_timeout():
    with unused_port() as port:
        channel = WebSocketChannel(
            f"ws://127.0.0.1:{port}/agent", connect_timeout_seconds=2
        )
        async with channel:
            with anyio.fail_after(2 + 1):
                async with opened(channel) as session:
                    with pytest.raises(
                        ChannelError, match="cannot connect to ws://127"
                    ):
                        await take(session, 1)
                    with pytest.raises(ChannelError, match="cannot send"):
                        await session.send(customer("anyone?"))
                    assert (await session.get_conversation()).messages[0].content == (
                        "anyone?"
                    )


async def test_an_agent_that_never_answers_the_handshake_times_out():
    with mute_listener() as port:
        channel = WebSocketChannel(
            f"ws://127.0.0.1:{port}/agent", connect_timeout_seconds=0.3
        )
        async with channel:
            start = time.monotonic()
            with anyio.fail_after(0.3 + 1):
                async with opened(channel) as session:
                    with pytest.raises(ChannelError, match=r"within 0.3 s"):
                        await session.send(customer("hello?"))
                    with pytest.raises(ChannelError, match=r"within 0.3 s"):
                        await take(session, 1)
            assert time.monotonic() - start < 0.3 + 1


async def test_a_refused_handshake_names_the_http_status():
    async with serve(listen_only) as server:
        url = server.url.replace("/agent", "/nowhere")
        async with WebSocketChannel(url) as channel:
            with anyio.fail_after(DEADLINE):
                async with opened(channel) as session:
                    with pytest.raises(ChannelError, match="HTTP 404"):
                        await take(session, 1)


async def test_a_password_in_the_url_is_not_shown():
    with unused_port() as port:
        channel = WebSocketChannel(f"ws://bot:hunter2@127.0.0.1:{port}/agent")
        assert "hunter2" not in repr(channel)
        async with channel:
            with anyio.fail_after(DEADLINE):
                async with opened(channel) as session:
                    with pytest.raises(ChannelError) as caught:
                        await take(session, 1)
    assert "hunter2" not in str(caught.value)
    assert f"ws://127.0.0.1:{port}/agent" in str(
        caught.value
    )  # as HTTPChannel shows it


# ----- closing --------------------------------------------------------------------------


async def test_closing_our_own_session_is_not_a_failure():
    async with (
        serve(push_on_connect(2, end_turn=False)) as server,
        WebSocketChannel(server.url) as channel,
    ):
        with anyio.fail_after(DEADLINE):
            async with opened(channel) as session:
                assert await take(session, 2) == ["update 0", "update 1"]
            # closed: the stream ends quietly, with no ChannelError
            assert [event async for event in session.events()] == []
            with pytest.raises(SessionClosedError):
                await session.send(customer("still there?"))
            await session.aclose()  # twice is harmless


async def test_the_last_session_to_close_releases_the_http_client():
    async with serve(listen_only) as server, WebSocketChannel(server.url) as channel:
        with anyio.fail_after(DEADLINE):
            async with opened(channel, "a") as first, opened(channel, "b") as second:
                await first.send(customer("from a"))
                await second.send(customer("from b"))
                assert channel._http is not None
            assert channel._http is None
    assert sorted(c.request.query["session_id"] for c in server.connections) == [
        "a",
        "b",
    ]


async def test_closing_the_channel_ends_its_open_sessions():
    async with serve(listen_only) as server:
        channel = WebSocketChannel(server.url)
        with anyio.fail_after(DEADLINE + 1):
            async with opened(channel) as session:
                await session.send(customer("hello"))
                await channel.aclose()
                with pytest.raises(ChannelError, match="was closed while the session"):
                    await take(session, 1)
            await channel.aclose()
            with pytest.raises(ChannelError, match="is closed"):
                await channel.create_session()


async def test_sending_outside_async_with_is_an_error():
    channel = WebSocketChannel("ws://127.0.0.1:9/agent")
    session = await channel.create_session()
    try:
        with pytest.raises(ChannelError, match="async with session"):
            await session.send(customer("hi"))
    finally:
        await session.aclose()
    assert channel._http is None


# ----- options ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"url": "http://127.0.0.1/agent"}, "url"),
        ({"url": "ws://"}, "url"),
        ({"url": "ws://127.0.0.1:99999/"}, "url"),
        ({"url": 42}, "url"),
        ({"format": "xml"}, "format"),
        ({"headers": ["Authorization"]}, "headers"),
        ({"headers": {"X-Retries": 3}}, "headers"),
        ({"message_field": ""}, "message_field"),
        ({"reply_field": None}, "reply_field"),
        ({"end_of_turn_type": "message"}, "end_of_turn_type"),
        ({"session_id_query": ""}, "session_id_query"),
        ({"connect_timeout_seconds": 0}, "connect_timeout_seconds"),
        ({"connect_timeout_seconds": True}, "connect_timeout_seconds"),
        ({"heartbeat_seconds": -1}, "heartbeat_seconds"),
        ({"close_timeout_seconds": float("inf")}, "close_timeout_seconds"),
    ],
)
def test_bad_options_are_config_errors_naming_the_option(options, named):
    options = {"url": "ws://127.0.0.1:8000/agent", **options}
    with pytest.raises(ConfigError, match=named) as caught:
        WebSocketChannel(**options)
    assert "got" in str(caught.value)


def test_good_options_are_kept():
    channel = WebSocketChannel(
        "wss://agent.example.com/chat",
        headers={"X-Key": "k"},
        format="text",
        session_id_query=None,
        connect_timeout_seconds=3,
        heartbeat_seconds=None,
    )
    assert channel.url == "wss://agent.example.com/chat"
    assert dict(channel.headers) == {"X-Key": "k"}
    assert channel.format == "text"
    assert channel.session_id_query is None
    assert channel.connect_timeout_seconds == 3.0
    assert channel.heartbeat_seconds is None
    assert (
        repr(channel)
        == "WebSocketChannel('wss://agent.example.com/chat', format='text')"
    )
