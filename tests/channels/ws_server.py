"""Real WebSocket agents on 127.0.0.1 for the channel tests (aiohttp's server).

``serve(behaviour)`` starts an aiohttp server on a free port whose ``/agent`` route
accepts a WebSocket and hands it to ``behaviour``; it yields a :class:`AgentServer`
recording what each connection sent, and stops the server on exit.
"""

from __future__ import annotations

import json
import math
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

import anyio
import attrs
from aiohttp import WSMsgType, web
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream


@attrs.define
class Connection:
    """One WebSocket the agent accepted."""

    request: web.Request
    socket: web.WebSocketResponse
    received: list[str] = attrs.Factory(list)

    async def say(self, *contents: str) -> None:
        for content in contents:
            await self.socket.send_str(
                json.dumps({"type": "message", "content": content})
            )

    async def end_turn(self) -> None:
        await self.socket.send_str(json.dumps({"type": "end_of_turn"}))

    async def frames(self) -> AsyncIterator[str]:
        """Every text frame the customer sends, recorded, until the connection ends."""
        async for frame in self.socket:
            if frame.type is WSMsgType.TEXT:
                self.received.append(frame.data)
                yield frame.data

    async def customer_messages(self) -> AsyncIterator[str]:
        """The content of every JSON message frame the customer sends."""
        async for frame in self.frames():
            yield json.loads(frame)["content"]

    async def drain(self) -> None:
        """Read (and record) until the customer closes the connection."""
        async for _ in self.frames():
            pass

    def drop(self) -> None:
        """Cut the TCP connection without a WebSocket close frame."""
        transport = self.request.transport
        assert transport is not None
        transport.close()


Behaviour = Callable[[Connection], Awaitable[None]]


class AgentServer:
    """A running agent: its URL and the connections it accepted, in order."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.connections: list[Connection] = []
        self._accepted_send: MemoryObjectSendStream[Connection]
        self._accepted: MemoryObjectReceiveStream[Connection]
        self._accepted_send, self._accepted = anyio.create_memory_object_stream[
            Connection
        ](math.inf)  # every connection is kept, however many

    def accept(self, connection: Connection) -> None:
        self.connections.append(connection)
        self._accepted_send.send_nowait(connection)

    async def next_connection(self) -> Connection:
        """Wait for the agent to accept the next connection."""
        return await self._accepted.receive()

    def close(self) -> None:
        self._accepted_send.close()
        self._accepted.close()


@asynccontextmanager
async def serve(
    behaviour: Behaviour, *, autoping: bool = True, autoclose: bool = True
) -> AsyncIterator[AgentServer]:
    """Run ``behaviour`` for every WebSocket opened on ``/agent``; with
    ``autoclose=False`` the server does not acknowledge the customer's close."""
    server: AgentServer | None = None

    async def agent(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=autoping, autoclose=autoclose)
        await ws.prepare(request)
        connection = Connection(request, ws)
        assert server is not None
        server.accept(connection)
        await behaviour(connection)
        return ws

    app = web.Application()
    app.router.add_get("/agent", agent)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        server = AgentServer(f"ws://127.0.0.1:{port}/agent")
        try:
            yield server
        finally:
            server.close()
    finally:
        await runner.cleanup()


@contextmanager
def unused_port() -> Iterator[int]:
    """A port on 127.0.0.1 that nothing listens on: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield port


@contextmanager
def mute_listener() -> Iterator[int]:
    """A port that accepts TCP connections but never answers the handshake."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


# ----- agent behaviours ------------------------------------------------------------


async def answer_twice(connection: Connection) -> None:
    """Answer each customer message with two messages and an end of turn."""
    async for content in connection.customer_messages():
        await connection.say(f"You said: {content}", "Anything else?")
        await connection.end_turn()


def push_on_connect(count: int, *, end_turn: bool = True) -> Behaviour:
    """Send ``count`` messages unprompted as soon as the customer connects."""

    async def behaviour(connection: Connection) -> None:
        await connection.say(*(f"update {index}" for index in range(count)))
        if end_turn:
            await connection.end_turn()
        await connection.drain()

    return behaviour


def greet_first(*greeting: str, end_turn: bool = True) -> Behaviour:
    """Push ``greeting`` as soon as the customer connects, then answer each customer
    message with ``Noted: <message>`` and an end of turn."""

    async def behaviour(connection: Connection) -> None:
        await connection.say(*greeting)
        if end_turn:
            await connection.end_turn()
        async for content in connection.customer_messages():
            await connection.say(f"Noted: {content}")
            await connection.end_turn()

    return behaviour


async def drop_mid_talk(connection: Connection) -> None:
    """Answer the first message twice, then cut the connection."""
    async for _ in connection.customer_messages():
        await connection.say("one", "two")
        connection.drop()
        return


def close_after_reply(code: int, reason: bytes) -> Behaviour:
    """Answer the first message, then close the WebSocket with ``code``."""

    async def behaviour(connection: Connection) -> None:
        async for _ in connection.customer_messages():
            await connection.say("let me check")
            await connection.socket.close(code=code, message=reason)
            return

    return behaviour


def send_raw(*frames: str) -> Behaviour:
    """Send these text frames as they are on connect, then listen."""

    async def behaviour(connection: Connection) -> None:
        for frame in frames:
            await connection.socket.send_str(frame)
        await connection.drain()

    return behaviour


async def echo_text(connection: Connection) -> None:
    """Plain text: answer each frame with an echo and a second line."""
    async for frame in connection.frames():
        await connection.socket.send_str(f"echo: {frame}")
        await connection.socket.send_str("done")


async def listen_only(connection: Connection) -> None:
    """Say nothing; read until the customer leaves."""
    await connection.drain()


async def ignore_pings(connection: Connection) -> None:
    """Read without answering pings (serve with ``autoping=False``): a hung agent."""
    async for frame in connection.socket:
        if frame.type is WSMsgType.CLOSE:
            return


def drop_every(n: int) -> Behaviour:
    """Answer like :func:`answer_twice`, but cut every ``n``-th connection (the 5th,
    the 10th...) at its first message; ``behaviour.drops`` counts the cuts."""
    seen = [0]

    async def behaviour(connection: Connection) -> None:
        seen[0] += 1
        if seen[0] % n == 0:
            async for _ in connection.customer_messages():
                behaviour.drops += 1  # type: ignore[attr-defined]
                connection.drop()
                return
        await answer_twice(connection)

    behaviour.drops = 0  # type: ignore[attr-defined]
    return behaviour


async def never_ack_close(connection: Connection) -> None:
    """Say nothing, and never answer the customer's close frame (serve with
    ``autoclose=False``): the connection stays open until the customer drops it."""
    while True:
        frame = await connection.socket.receive()
        if frame.type is WSMsgType.CLOSE:
            connection.received.append("CLOSE")
            await anyio.sleep_forever()
