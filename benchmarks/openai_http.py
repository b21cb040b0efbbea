"""CPU per model call on an OpenAI-compatible server: clientsim's lean model vs a
hand-written aiohttp loop vs LangChain's ChatOpenAI.

The server (this script again, with ``--serve``) runs in a separate process, so its
CPU is not counted; it answers ``POST /v1/chat/completions`` after 50 ms. Each side
makes N calls with C in flight at once, after a warm-up that opens the connections;
CPU is ``time.process_time()`` of this process over the N calls, divided by N. Every
side sends the same conversation (a system prompt and six turns) and reads the answer's
text and token usage.

    python benchmarks/openai_http.py             # N=4000, C=400, 3 repetitions
    python benchmarks/openai_http.py --quick     # N=400, 1 repetition
    python benchmarks/openai_http.py --profile   # then cProfile the lean side
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Self, TypeAlias


MODEL = "bench-model"
DELAY = 0.05
TARGET = 2.0  # lean <= 2x hand-written
SYSTEM = (
    "You are Sam, a customer of a parcel service. Your parcel is three days late and "
    "you need it for a market on Saturday. Be polite but firm."
)
TURNS = [
    "Hello, thank you for contacting us. How can I help you today?",
    "Hi, my parcel 48213 was due on Monday and it has not arrived yet.",
    "I'm sorry to hear that. Let me look it up. Can you confirm your postcode?",
    "Sure, it is 10115 in Berlin.",
    "Thank you. The parcel is at our hub and should be delivered tomorrow.",
    "Tomorrow is fine, but can you make sure it arrives before noon?",
]


# ----- the server (a separate process) -------------------------------------------------


def serve(delay: float) -> None:
    """``POST /v1/chat/completions`` answers after ``delay`` s; prints its port once it
    listens and ``{"requests", "cpu_seconds"}`` at SIGTERM."""
    from aiohttp import web

    stats = {"requests": 0}

    async def completions(request: web.Request) -> web.Response:
        body = await request.json()
        stats["requests"] += 1
        await asyncio.sleep(delay)
        count = len(body["messages"])
        return web.json_response(
            {
                "id": f"chatcmpl-{stats['requests']}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": f"Reply {count}: understood, let me check "
                            "that on our side for you right away.",
                        },
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": 40 * count,
                    "completion_tokens": 16,
                    "total_tokens": 40 * count + 16,
                },
            }
        )

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", completions)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        print(runner.addresses[0][1], flush=True)
        await stop.wait()
        await runner.cleanup()
        print(json.dumps({**stats, "cpu_seconds": time.process_time()}), flush=True)

    asyncio.run(main())


class Server:
    """:func:`serve` in a child process (terminate + wait on exit)."""

    def __init__(self, delay: float = DELAY) -> None:
        self.delay = delay
        self.port = 0
        self.final: dict[str, Any] = {}
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> Self:
        self._process = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(self.delay)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.strip().isdigit():
            self._process.kill()
            self._process.wait()
            raise RuntimeError(f"the server did not start: {line!r}")
        self.port = int(line)
        return self

    def __exit__(self, *_: object) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        out, _ = process.communicate(timeout=60)
        lines = out.strip().splitlines()
        if lines:
            self.final = json.loads(lines[-1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


# ----- the sides -----------------------------------------------------------------------

Call: TypeAlias = Callable[[], Awaitable[tuple[str, int]]]
Side: TypeAlias = tuple[Call, Callable[[], Awaitable[None]]]


def openai_messages() -> list[dict[str, str]]:
    roles = ["assistant", "user"]
    return [{"role": "system", "content": SYSTEM}] + [
        {"role": roles[i % 2], "content": text} for i, text in enumerate(TURNS)
    ]


def langchain_messages() -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    kinds = [AIMessage, HumanMessage]
    return [SystemMessage(SYSTEM)] + [kinds[i % 2](t) for i, t in enumerate(TURNS)]


async def hand_written(url: str) -> Side:
    """A bare aiohttp loop: post the JSON, read the JSON."""
    import aiohttp

    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1000))
    endpoint = url + "/chat/completions"
    headers = {"Authorization": "Bearer not-needed"}
    messages = openai_messages()

    async def call() -> tuple[str, int]:
        payload = {"model": MODEL, "messages": messages}
        async with session.post(endpoint, json=payload, headers=headers) as response:
            data = await response.json()
        return data["choices"][0]["message"]["content"], data["usage"]["total_tokens"]

    return call, session.close


def _through_run_model(
    model: Any, *, direct: bool, wrapper: bool = False, invoke: bool = False
) -> Call:
    from clientsim.llm.run_model import RunChatModel

    wrapped = RunChatModel(inner=model, spec=f"openai:{MODEL}", label="agent")
    messages = langchain_messages()
    if direct:
        target = wrapped if wrapper else model

        async def call() -> tuple[str, int]:
            result = await target._agenerate(messages)  # noqa: SLF001
            message = result.generations[0].message
            return message.text, message.usage_metadata["total_tokens"]

        return call

    async def call_wrapped() -> tuple[str, int]:
        # What a conversation's call is: RunChatModel.ask (LangChain's per-call
        # machinery only when something listens), or ainvoke when asked for.
        ask = wrapped.ainvoke if invoke else wrapped.ask
        message = await ask(messages)
        return message.text, message.usage_metadata["total_tokens"]

    return call_wrapped


async def lean(
    url: str, *, direct: bool = False, wrapper: bool = False, invoke: bool = False
) -> Side:
    from clientsim.llm import aclose_models
    from clientsim.llm.openai_http import OpenAIHTTPChatModel

    model = OpenAIHTTPChatModel(model=MODEL, base_url=url, api_key="not-needed")
    call = _through_run_model(model, direct=direct, wrapper=wrapper, invoke=invoke)
    return call, aclose_models


async def chat_openai(url: str, *, aiohttp: bool = False) -> Side:
    from langchain_openai import ChatOpenAI

    extra: dict[str, Any] = {}
    if aiohttp:
        from openai import DefaultAioHttpClient

        extra["http_async_client"] = DefaultAioHttpClient(timeout=60)
    model = ChatOpenAI(
        model=MODEL,
        base_url=url,
        api_key="not-needed",
        timeout=60,
        max_retries=2,
        stream_usage=True,
        **extra,
    )

    async def close() -> None:
        # The default httpx client is LangChain's, shared by every ChatOpenAI of the
        # process: only the aiohttp one is this side's to close.
        if aiohttp:
            await model.root_async_client.close()

    return _through_run_model(model, direct=False), close


SIDES: dict[
    str,
    tuple[str, Callable[[str], Awaitable[Side]]],
] = {
    "hand": ("(a) hand-written aiohttp loop", hand_written),
    "lean": ("(b) lean model via RunChatModel.ask (a conversation's call)", lean),
    "lean-ainvoke": (
        "(b0) lean model via RunChatModel.ainvoke (LangChain's full call)",
        lambda url: lean(url, invoke=True),
    ),
    "lean-direct": (
        "(b') lean model, _agenerate alone",
        lambda url: lean(url, direct=True),
    ),
    "lean-wrapper": (
        "(b'') lean model, RunChatModel._agenerate (no LangChain run)",
        lambda url: lean(url, direct=True, wrapper=True),
    ),
    "chatopenai": ("(c) ChatOpenAI, default client, via RunChatModel", chat_openai),
    "chatopenai-aiohttp": (
        "(c') ChatOpenAI on openai's aiohttp client (the old spec)",
        lambda url: chat_openai(url, aiohttp=True),
    ),
}


async def measure(side: str, url: str, n: int, concurrency: int) -> tuple[float, float]:
    """(CPU seconds per call, wall seconds) for ``n`` calls, ``concurrency`` at once."""
    _, make = SIDES[side]
    call, close = await make(url)
    try:

        async def burst(count: int) -> None:
            left = count

            async def worker() -> None:
                nonlocal left
                while left > 0:
                    left -= 1
                    text, tokens = await call()
                    assert text
                    assert tokens > 0

            await asyncio.gather(*(worker() for _ in range(min(concurrency, count))))

        await burst(concurrency)  # warm-up: open the connections, first-call costs
        gc.collect()
        cpu, wall = time.process_time(), time.perf_counter()
        await burst(n)
        return (time.process_time() - cpu) / n, time.perf_counter() - wall
    finally:
        await close()


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--strict", action="store_true", help="exit 1 on a MISS")
    parser.add_argument("--profile", action="store_true", help="cProfile the lean side")
    parser.add_argument("--calls", type=int, default=0, help="calls per side (N)")
    parser.add_argument("--concurrency", type=int, default=400, help="in flight (C)")
    parser.add_argument("--reps", type=int, default=0, help="repetitions (3)")
    parser.add_argument("--serve", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        serve(args.serve)
        return 0
    n = args.calls or (400 if args.quick else 4000)
    reps = args.reps or (1 if args.quick else 3)
    results: dict[str, list[tuple[float, float]]] = {side: [] for side in SIDES}

    async def everything(url: str) -> None:
        # One event loop for every side: LangChain shares one default httpx client
        # between all ChatOpenAI objects of the process, bound to the first loop.
        for rep in range(reps):
            order = list(SIDES) if rep % 2 == 0 else list(reversed(SIDES))
            for side in order:
                progress(f"rep {rep + 1}/{reps}: {side}")
                results[side].append(await measure(side, url, n, args.concurrency))
                cpu, wall = results[side][-1]
                progress(f"  {cpu * 1e6:.0f} us/call, {wall:.2f} s wall")
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            await measure("lean", url, n, args.concurrency)
            profiler.disable()
            stats = pstats.Stats(profiler, stream=sys.stderr)
            stats.sort_stats("tottime").print_stats(25)

    with Server() as server:
        asyncio.run(everything(server.url))
    hand = statistics.median(cpu for cpu, _ in results["hand"])
    print(
        f"CPU per model call, {n} calls, {args.concurrency} in flight, server at "
        f"{DELAY * 1000:.0f} ms in a separate process; median of {reps}"
    )
    print(f"{'side':<60} {'us/call':>8} {'x hand':>7} {'wall s':>7}")
    for side, (label, _) in SIDES.items():
        cpu = statistics.median(c for c, _ in results[side])
        wall = statistics.median(w for _, w in results[side])
        print(f"{label:<60} {cpu * 1e6:8.0f} {cpu / hand:7.2f} {wall:7.2f}")
    ratio = statistics.median(c for c, _ in results["lean"]) / hand
    verdict = "PASS" if ratio <= TARGET else "MISS"
    print(
        f"lean via RunChatModel / hand-written = {ratio:.2f} (target <= {TARGET:g}): {verdict}"
    )
    print(f"server requests: {server.final.get('requests')}")
    return 1 if args.strict and verdict == "MISS" else 0


if __name__ == "__main__":
    sys.exit(main())
