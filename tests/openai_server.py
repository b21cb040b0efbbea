"""A small OpenAI-compatible chat completions server on 127.0.0.1, for tests.

It answers like clientsim's offline model (so conversations make sense), supports tool
calls for structured output, reports token usage, and records every request it gets.
"""

from __future__ import annotations

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

    async def handle(self, request: web.Request) -> web.Response:
        self.arrivals.append(time.monotonic())
        self.headers.append(dict(request.headers))
        body = await request.json()
        self.requests.append(body)
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
        return web.json_response(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "test"),
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {
                    "prompt_tokens": 11,
                    "completion_tokens": 7,
                    "total_tokens": 18,
                },
            }
        )


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
        await runner.cleanup()
