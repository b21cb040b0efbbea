"""Scripted HTTP agents on 127.0.0.1 for the HTTP channel's tests.

:func:`serve` starts an aiohttp server on a free port that records every request and
answers it with the next step of a script (the last step repeats); it stops the server
when the ``async with`` block ends. Steps build responses: :func:`completion`,
:func:`sse`, :func:`reply`, :func:`status`, :func:`slow`.
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import anyio
import attrs
from aiohttp import web


Step = Callable[[web.Request, "Received"], Awaitable[web.StreamResponse]]


@attrs.frozen
class Received:
    """One request as the server got it."""

    path: str
    headers: Mapping[str, str]
    body: Any
    at: float


@attrs.define
class Agent:
    """A running scripted server: its URL and what it received."""

    url: str
    requests: list[Received] = attrs.field(factory=list)


@asynccontextmanager
async def serve(*script: Step) -> AsyncIterator[Agent]:
    steps = list(script)
    agent = Agent(url="")

    async def handle(request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        received = Received(
            path=request.path_qs,
            headers=dict(request.headers),
            body=body,
            at=anyio.current_time(),
        )
        agent.requests.append(received)
        step = steps[min(len(agent.requests), len(steps)) - 1]
        return await step(request, received)

    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", handle)
    runner = web.AppRunner(
        app, handler_cancellation=True, shutdown_timeout=0.1, access_log=None
    )
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    agent.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield agent
    finally:
        with anyio.CancelScope(shield=True):
            await runner.cleanup()


@contextmanager
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel does) but never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def closed_port() -> int:
    """A port nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ----- steps -------------------------------------------------------------------------


def reply(
    document: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> Step:
    """Answer with ``document`` as JSON."""

    async def step(request: web.Request, received: Received) -> web.StreamResponse:
        return web.json_response(document, status=status, headers=headers)

    return step


def completion(text: str | None) -> Step:
    """Answer like an OpenAI chat completion whose message content is ``text``."""
    return reply(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": "agent",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
        }
    )


def raw(text: str, *, status: int = 200, content_type: str = "text/plain") -> Step:
    """Answer with ``text`` as it is."""

    async def step(request: web.Request, received: Received) -> web.StreamResponse:
        return web.Response(text=text, status=status, content_type=content_type)

    return step


def status(
    code: int, *, body: str = "", headers: Mapping[str, str] | None = None
) -> Step:
    """Answer with an HTTP status and an optional body."""

    async def step(request: web.Request, received: Received) -> web.StreamResponse:
        return web.Response(text=body, status=code, headers=headers)

    return step


def echo_auth(code: int) -> Step:
    """Answer with ``code`` and a body that quotes the request's Authorization header."""

    async def step(request: web.Request, received: Received) -> web.StreamResponse:
        auth = request.headers.get("Authorization", "")
        return web.Response(text=f"bad credentials {auth!r}", status=code)

    return step


def slow(seconds: float, then: Step) -> Step:
    """Wait ``seconds`` before answering as ``then`` does (an agent slower than that)."""

    async def step(request: web.Request, received: Received) -> web.StreamResponse:
        await anyio.sleep(seconds)
        return await then(request, received)

    return step


def chunk(content: str | None, *, role: bool = False) -> dict[str, Any]:
    delta: dict[str, Any] = {"role": "assistant"} if role else {}
    if content is not None:
        delta["content"] = content
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
    }


def sse(
    events: list[Any], *, done: bool = True, stall: float = 0.0, split: bool = False
) -> Step:
    """Stream ``events`` (JSON values, or raw strings) as server-sent events.

    ``done`` ends with ``data: [DONE]``; ``stall`` waits that long after the first
    event; ``split`` sends every event in two writes, cut mid-line.
    """

    async def step(request: web.Request, received: Received) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        payloads = [e if isinstance(e, str) else json.dumps(e) for e in events]
        if done:
            payloads.append("[DONE]")
        for index, payload in enumerate(payloads):
            data = f"data: {payload}\r\n\r\n".encode()
            if split:
                await response.write(data[:7])
                await anyio.sleep(0.01)  # so that the client reads the halves apart
                await response.write(data[7:])
            else:
                await response.write(data)
            if index == 0 and stall:
                await anyio.sleep(stall)
        await response.write_eof()
        return response

    return step


def every(n: int, fault: Step, then: Step) -> Step:
    """Answer every ``n``-th request (the 5th, the 10th...) as ``fault`` does and the
    others as ``then``; ``step.faults`` counts the faults served."""
    seen = [0]

    async def step(request: web.Request, received: Received) -> web.StreamResponse:
        seen[0] += 1
        if seen[0] % n == 0:
            step.faults += 1  # type: ignore[attr-defined]
            return await fault(request, received)
        return await then(request, received)

    step.faults = 0  # type: ignore[attr-defined]
    return step


def endless(
    *, content_type: str = "application/json", length: int | None = None
) -> Step:
    """Stream 64 KiB chunks for ever (or announce ``length`` bytes and send them all):
    a reply no client should hold in memory."""
    block = b"x" * 65536

    async def step(request: web.Request, received: Received) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": content_type})
        if length is not None:
            response.content_length = length
        await response.prepare(request)
        if content_type == "text/event-stream":
            block_ = (
                b'data: {"choices": [{"delta": {"content": "' + block + b'"}}]}\n\n'
            )
        else:
            block_ = block
        sent = 0
        try:
            while length is None or sent < length:
                await response.write(block_)
                sent += len(block_)
        except (ConnectionError, RuntimeError):  # the client gave up: as it should
            pass
        return response

    return step
