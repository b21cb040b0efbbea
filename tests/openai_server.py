"""A small OpenAI-compatible chat completions server on 127.0.0.1, for tests.

It answers like clientsim's offline model (so conversations make sense), supports tool
calls for structured output, reports token usage, and records every request it gets.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from clientsim.llm import Turn
from clientsim.llm._offline_brain import judge, respond


class Server:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []  # each request's, in arrival order
        self.arrivals: list[float] = []  # time.monotonic() as each request arrived
        self.fail_next = 0
        self.base_url = ""
        # Additions for the lean OpenAI model's tests: the next N requests answer 429
        # (with `Retry-After: retry_after` when it is set), `delay` seconds of latency
        # before each answer, `stall_next` requests that never answer, `echo_error`
        # puts this text into the 400 of requests whose model is "bad-request".
        self.rate_limit_next = 0
        self.retry_after: str | None = None
        self.delay = 0.0
        self.stall_next = 0
        self.echo_error = ""
        self.stalled = asyncio.Event()
        self.usage = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.arrivals.append(time.monotonic())
        self.headers.append(dict(request.headers))
        body = await request.json()
        self.requests.append(body)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.stall_next:
            self.stall_next -= 1
            await self.stalled.wait()  # until the server stops
        if self.rate_limit_next:
            self.rate_limit_next -= 1
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            return web.json_response(
                {"error": {"message": "rate limit reached", "type": "requests"}},
                status=429,
                headers=headers,
            )
        if body.get("model") == "bad-request":
            return web.json_response(
                {"error": {"message": f"invalid request {self.echo_error}"}},
                status=400,
            )
        if self.fail_next:
            self.fail_next -= 1
            return web.json_response({"error": {"message": "overloaded"}}, status=503)
        turns = [Turn(m["role"], m.get("content") or "") for m in body["messages"]]
        tools = body.get("tools") or []
        response_format = body.get("response_format") or {}
        message: dict[str, Any]
        if response_format.get("type") == "json_schema":
            schema = response_format["json_schema"].get("schema", {})
            message = {
                "role": "assistant",
                "content": json.dumps(judge(schema, turns, 0)),
            }
            finish = "stop"
        elif tools:
            function = tools[0]["function"]
            args = judge(function.get("parameters", {}), turns, 0)
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": f"call_{len(self.requests)}",
                        "type": "function",
                        "function": {
                            "name": function["name"],
                            "arguments": json.dumps(args),
                        },
                    }
                ],
            }
            finish = "tool_calls"
        else:
            message = {"role": "assistant", "content": respond(turns, 0)}
            finish = "stop"
        if body.get("stream"):
            return await self._stream(request, body, message, finish)
        return web.json_response(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "test"),
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": self.usage,
            }
        )

    async def _stream(
        self,
        request: web.Request,
        body: dict[str, Any],
        message: dict[str, Any],
        finish: str,
    ) -> web.StreamResponse:
        """The answer as server-sent events: the content word by word, a tool call's
        arguments in two pieces, then (with stream_options.include_usage) the usage."""
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        base = {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion.chunk",
            "model": body.get("model", "test"),
        }

        async def send(choices: list[Any], **extra: Any) -> None:
            data = json.dumps({**base, "choices": choices, **extra})
            await response.write(f"data: {data}\n\n".encode())

        await send([{"index": 0, "delta": {"role": "assistant", "content": ""}}])
        words = (message.get("content") or "").split(" ")
        for piece in [word + " " for word in words[:-1]] + words[-1:]:
            if piece:
                await send([{"index": 0, "delta": {"content": piece}}])
        for index, call in enumerate(message.get("tool_calls") or ()):
            arguments = call["function"]["arguments"]
            half = len(arguments) // 2
            head = {
                "index": index,
                "id": call["id"],
                "type": "function",
                "function": {"name": call["function"]["name"], "arguments": ""},
            }
            await send([{"index": 0, "delta": {"tool_calls": [head]}}])
            for part in (arguments[:half], arguments[half:]):
                tail = {"index": index, "function": {"arguments": part}}
                await send([{"index": 0, "delta": {"tool_calls": [tail]}}])
        await send([{"index": 0, "delta": {}, "finish_reason": finish}])
        if (body.get("stream_options") or {}).get("include_usage"):
            await send([], usage=self.usage)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


@asynccontextmanager
async def serve() -> AsyncIterator[Server]:
    server = Server()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    server.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield server
    finally:
        server.stalled.set()
        await runner.cleanup()
