"""What a hybrid run costs over HTTP, next to a hand-written aiohttp loop.

Run from the repository root::

    python benchmarks/hybrid_overhead.py            # the full figures
    python benchmarks/hybrid_overhead.py --quick    # a smoke run with small N
    python benchmarks/hybrid_overhead.py --profile  # then cProfile one clientsim run

200 conversations run concurrently, each 10 turns of a zero-cost scripted customer
(``ScriptedParticipant``) against an OpenAI-compatible agent server that answers every
``POST /v1/chat/completions`` after 50 ms. The agent server is an aiohttp web server in
a separate process (this script, started again with ``--serve``), so that it does not
share the client's event loop. Both sides make the same 2,000 POSTs with the same
client library (aiohttp) and the same connection limit:

* clientsim: 200 ``HybridSimulationRunner`` runs in one anyio task group, all through
  one shared ``HTTPChannel`` (``max_connections=200``);
* the floor: one ``aiohttp.ClientSession`` (``TCPConnector(limit=200)``) and 200
  asyncio tasks, each a loop that posts the growing history and appends the reply.

Figures (see ``benchmarks/README.md`` for the method):

1. wall time of both, and their ratio (target: clientsim at most 1.2x the floor); the
   ideal, 10 x 50 ms = 0.5 s, for context;
2. client-process CPU (``time.process_time``) per customer message, i.e. per POST and
   its reply, for both;
3. the requests (and the messages in their bodies) that the server counted during each
   run, to show that both sides did the same work, and the server's CPU per request.

Every figure is the median of 5 repetitions (3 with ``--quick``, which also runs fewer
conversations). clientsim and the floor run in pairs, back to back and in alternating
order; a ratio is the median of the per-pair ratios. The script exits 0 whatever the
figures are, unless ``--strict`` is given, in which case a MISS exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any, Self

import aiohttp
import anyio

import clientsim
from clientsim import (
    ConversationResult,
    HybridSimulationRunner,
    Outcome,
    Outcomes,
    ParticipantRole,
    ScriptedParticipant,
)
from clientsim.channels.http import HTTPChannel


CUSTOMER = ParticipantRole.CUSTOMER
AGENT = ParticipantRole.AGENT
DELAY_SECONDS = 0.05
TURNS = 10
MODEL = "m"
OUTCOMES = Outcomes(
    outcomes=(
        Outcome(name="resolved", description="The customer's issue was resolved"),
        Outcome(name="escalated", description="The issue went to a specialist"),
    )
)
# The customer's ten lines, about 80 characters each; the same for every conversation.
LINES = tuple(
    f"Message {turn} of {TURNS}: I still cannot sign in to my account, here is what I see."
    for turn in range(1, TURNS + 1)
)


# ----- the agent server (a separate process) -----------------------------------------


def serve(delay: float) -> None:
    """An OpenAI-compatible agent: ``POST /v1/chat/completions`` answers after
    ``delay`` seconds; ``GET /stats`` returns what it has counted. Prints its port on
    stdout once it listens, and its final counts on stdout when it gets SIGTERM."""
    from aiohttp import web

    stats = {"requests": 0, "messages": 0, "bytes": 0, "bad": 0}

    async def completions(request: web.Request) -> web.Response:
        raw = await request.read()
        body = json.loads(raw)
        messages = body["messages"]
        stats["requests"] += 1
        stats["messages"] += len(messages)
        stats["bytes"] += len(raw)
        roles = [m["role"] for m in messages]
        if (
            body.get("model") != MODEL
            or len(roles) % 2 != 1
            or roles != ["user", "assistant"] * (len(roles) // 2) + ["user"]
        ):
            stats["bad"] += 1
        await asyncio.sleep(delay)
        count = stats["requests"]
        return web.json_response(
            {
                "id": f"chatcmpl-{count}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": MODEL,
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": f"Reply to message {len(messages) // 2 + 1}: "
                            "understood, let me check that on our side for you.",
                        },
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": len(raw) // 4,
                    "completion_tokens": 16,
                    "total_tokens": len(raw) // 4 + 16,
                },
            }
        )

    async def get_stats(_: web.Request) -> web.Response:
        return web.json_response({**stats, "cpu_seconds": time.process_time()})

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", completions)
        app.router.add_get("/stats", get_stats)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        # A deep backlog: 200 clients connect at once at the start of every run.
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        port = runner.addresses[0][1]
        print(port, flush=True)
        await stop.wait()
        await runner.cleanup()
        print(json.dumps({**stats, "cpu_seconds": time.process_time()}), flush=True)

    asyncio.run(main())


class AgentServer:
    """Starts :func:`serve` in a child process; stops it (terminate + wait) on exit."""

    def __init__(self, delay: float) -> None:
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
        line = self._process.stdout.readline()  # blocks until the server listens
        if not line.strip().isdigit():
            self._process.kill()
            self._process.wait()
            raise RuntimeError(f"the agent server did not start: {line!r}")
        self.port = int(line)
        return self

    def __exit__(self, *_: object) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        out, _ = process.communicate(timeout=30)
        lines = out.strip().splitlines()
        if lines:
            self.final = json.loads(lines[-1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stats(self) -> dict[str, Any]:
        address = f"http://127.0.0.1:{self.port}/stats"
        with urllib.request.urlopen(address, timeout=10) as response:
            return json.loads(response.read())


# ----- the two clients ---------------------------------------------------------------


@dataclass
class Measured:
    """One run of one side: what it produced and what it cost."""

    transcripts: list[list[tuple[ParticipantRole, str]]]
    cpu: float
    wall: float
    server: dict[str, float] = field(default_factory=dict)


async def clientsim_side(url: str, n: int) -> Measured:
    """``n`` hybrid runs at once in one task group, through one shared channel."""
    results: list[ConversationResult | None] = [None] * n

    async def one(channel: HTTPChannel, index: int) -> None:
        runner = HybridSimulationRunner(
            customer=ScriptedParticipant(CUSTOMER, LINES),
            channel=channel,
            intent=None,
            outcomes=OUTCOMES,
            initial_message=None,  # the customer's ten lines are the ten turns
            max_messages=4 * TURNS,
            reply_timeout_seconds=60.0,
            quiet_period_seconds=None,  # the channel ends each turn itself
        )
        results[index] = await runner.run()

    cpu, wall = time.process_time(), time.perf_counter()
    channel = HTTPChannel(
        base_url=url,
        model=MODEL,
        max_connections=max(n, 200),
        timeout_seconds=60.0,
    )
    async with channel, anyio.create_task_group() as tg:
        for index in range(n):
            tg.start_soon(one, channel, index)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    transcripts = []
    for result in results:
        assert result is not None
        assert result.ok, result.error
        assert result.ending is not None
        assert result.ending.reason == "both_passed", result.ending
        transcripts.append(
            [(m.sender, m.content) for m in result.conversation.messages]
        )
    return Measured(transcripts, cpu, wall)


async def floor_conversation(
    http: aiohttp.ClientSession, url: str
) -> list[tuple[ParticipantRole, str]]:
    """One conversation by hand: post the growing history, append the reply."""
    headers = {"X-Session-Id": uuid.uuid4().hex}  # as HTTPChannel sends
    history: list[dict[str, str]] = []
    for line in LINES:
        history.append({"role": "user", "content": line})
        body = {"messages": history, "model": MODEL}
        async with http.post(url, json=body, headers=headers) as response:
            response.raise_for_status()
            document = json.loads(await response.read())
        reply = document["choices"][0]["message"]["content"]
        history.append({"role": "assistant", "content": reply})
    roles = {"user": CUSTOMER, "assistant": AGENT}
    return [(roles[m["role"]], m["content"]) for m in history]


async def floor_side(url: str, n: int) -> Measured:
    """``n`` hand-written conversations as asyncio tasks on one ClientSession."""
    cpu, wall = time.process_time(), time.perf_counter()
    async with (
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max(n, 200)),
            timeout=aiohttp.ClientTimeout(total=60.0),
        ) as http,
        asyncio.TaskGroup() as tg,
    ):
        tasks = [
            tg.create_task(floor_conversation(http, url + "/chat/completions"))
            for _ in range(n)
        ]
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return Measured([task.result() for task in tasks], cpu, wall)


def run_clientsim(server: AgentServer, n: int) -> Measured:
    return measure(server, lambda: anyio.run(clientsim_side, server.url, n))


def run_floor(server: AgentServer, n: int) -> Measured:
    return measure(server, lambda: asyncio.run(floor_side(server.url, n)))


def measure(server: AgentServer, run: Callable[[], Measured]) -> Measured:
    """One run, with what the server counted during it."""
    gc.collect()
    before = server.stats()
    measured = run()
    after = server.stats()
    measured.server = {key: after[key] - before[key] for key in after}
    return measured


def check(measured: Measured, n: int, side: str) -> None:
    """Each conversation: 10 customer + 10 agent messages, in turn; 10 POSTs each."""
    assert len(measured.transcripts) == n, side
    for transcript in measured.transcripts:
        senders = [sender for sender, _ in transcript]
        assert senders == [CUSTOMER, AGENT] * TURNS, (side, senders)
        assert [text for _, text in transcript[::2]] == list(LINES), side
    assert measured.server["requests"] == n * TURNS, (side, measured.server)
    assert measured.server["bad"] == 0, (side, measured.server)


# ----- reporting ---------------------------------------------------------------------


@dataclass
class Row:
    figure: str
    value: str
    spread: str = ""
    target: str = ""
    result: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, figure: str, value: str, spread: str = "") -> None:
        self.rows.append(Row(figure, value, spread))

    def check(
        self, figure: str, value: str, target: str, ok: bool, spread: str = ""
    ) -> None:
        self.rows.append(Row(figure, value, spread, target, "PASS" if ok else "MISS"))

    @property
    def misses(self) -> list[Row]:
        return [row for row in self.rows if row.result == "MISS"]

    def print(self) -> None:
        header = Row("figure", "median", "min-max", "target", "result")
        rows = [header, *self.rows]
        widths = [
            max(len(getattr(row, name)) for row in rows)
            for name in ("figure", "value", "spread", "target")
        ]
        print()
        for index, row in enumerate(rows):
            print(
                f"{row.figure:<{widths[0]}}  {row.value:>{widths[1]}}  "
                f"{row.spread:>{widths[2]}}  {row.target:<{widths[3]}}  {row.result}"
            )
            if index == 0:
                print("-" * (sum(widths) + 14))
        for note in self.notes:
            print(f"  {note}")


def spread(values: Sequence[float], fmt: str) -> str:
    return f"{min(values):{fmt}}-{max(values):{fmt}}"


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ----- the benchmark -----------------------------------------------------------------


def bench(report: Report, server: AgentServer, n: int, reps: int) -> None:
    posts = n * TURNS
    ideal = TURNS * DELAY_SECONDS
    warm = min(n, 20)
    check(run_clientsim(server, warm), warm, "clientsim warm-up")
    check(run_floor(server, warm), warm, "floor warm-up")
    ours: list[Measured] = []
    theirs: list[Measured] = []
    for rep in range(reps):
        if rep % 2:
            theirs.append(run_floor(server, n))
            ours.append(run_clientsim(server, n))
        else:
            ours.append(run_clientsim(server, n))
            theirs.append(run_floor(server, n))
        check(ours[-1], n, "clientsim")
        check(theirs[-1], n, "floor")
        progress(
            f"  rep {rep + 1}: wall {ours[-1].wall:.3f} vs {theirs[-1].wall:.3f} s, "
            f"CPU {ours[-1].cpu:.3f} vs {theirs[-1].cpu:.3f} s (clientsim vs floor)"
        )

    walls = [m.wall for m in ours]
    floor_walls = [m.wall for m in theirs]
    ratios = [a.wall / b.wall for a, b in zip(ours, theirs, strict=True)]
    report.add(
        f"1. clientsim wall time ({n} x {TURNS} turns, agent 50 ms)",
        f"{statistics.median(walls):.3f} s",
        spread(walls, ".3f"),
    )
    report.add(
        "   hand-written aiohttp loop wall time",
        f"{statistics.median(floor_walls):.3f} s",
        spread(floor_walls, ".3f"),
    )
    ratio = statistics.median(ratios)
    report.check(
        "   ratio clientsim / hand-written",
        f"{ratio:.3f}x",
        "<= 1.2x",
        ratio <= 1.2,
        spread(ratios, ".3f"),
    )
    to_ideal = [w / ideal for w in walls]
    floor_to_ideal = [w / ideal for w in floor_walls]
    report.add(
        f"   clientsim / ideal {ideal:.1f} s",
        f"{statistics.median(to_ideal):.3f}",
        spread(to_ideal, ".3f"),
    )
    report.add(
        f"   hand-written / ideal {ideal:.1f} s",
        f"{statistics.median(floor_to_ideal):.3f}",
        spread(floor_to_ideal, ".3f"),
    )

    cpu = [m.cpu / posts * 1e3 for m in ours]
    floor_cpu = [m.cpu / posts * 1e3 for m in theirs]
    added = [(a - b) * 1e3 for a, b in zip(cpu, floor_cpu, strict=True)]
    report.add(
        "2. clientsim CPU per customer message (1 POST + reply)",
        f"{statistics.median(cpu):.3f} ms",
        spread(cpu, ".3f"),
    )
    report.add(
        "   hand-written CPU per customer message",
        f"{statistics.median(floor_cpu):.3f} ms",
        spread(floor_cpu, ".3f"),
    )
    report.add(
        "   clientsim minus hand-written, per message",
        f"{statistics.median(added):.0f} us",
        spread(added, ".0f"),
    )
    load = [m.cpu / m.wall for m in ours]
    floor_load = [m.cpu / m.wall for m in theirs]
    report.add(
        "   client process busy, clientsim (CPU s / wall s)",
        f"{statistics.median(load):.2f}",
        spread(load, ".2f"),
    )
    report.add(
        "   client process busy, hand-written (CPU s / wall s)",
        f"{statistics.median(floor_load):.2f}",
        spread(floor_load, ".2f"),
    )

    requests = sorted({int(m.server["requests"]) for m in ours})
    floor_requests = sorted({int(m.server["requests"]) for m in theirs})
    messages = sorted({int(m.server["messages"]) for m in ours})
    floor_messages = sorted({int(m.server["messages"]) for m in theirs})
    same = requests == floor_requests == [posts] and messages == floor_messages
    report.check(
        "3. server-counted requests per run, clientsim / hand-written",
        f"{'|'.join(map(str, requests))} / {'|'.join(map(str, floor_requests))}",
        f"{posts} each",
        same,
    )
    report.add(
        "   messages in the request bodies per run",
        f"{'|'.join(map(str, messages))} / {'|'.join(map(str, floor_messages))}",
    )
    body = [m.server["bytes"] / m.server["requests"] for m in ours]
    floor_body = [m.server["bytes"] / m.server["requests"] for m in theirs]
    report.add(
        "   mean request body, clientsim / hand-written",
        f"{statistics.median(body):.0f} / {statistics.median(floor_body):.0f} B",
    )
    server_cpu = [
        m.server["cpu_seconds"] / m.server["requests"] * 1e3 for m in ours + theirs
    ]
    report.add(
        "   server CPU per request (both sides' runs)",
        f"{statistics.median(server_cpu):.3f} ms",
        spread(server_cpu, ".3f"),
    )
    report.notes.append(
        f"CPU per message is client-process CPU over the run / {posts} customer "
        f"messages; each conversation holds {TURNS} customer + {TURNS} agent messages."
    )


def profile_clientsim(server: AgentServer, n: int) -> str:
    """One more clientsim run under cProfile: where its CPU goes, by own time."""
    import cProfile
    import io
    import pstats

    gc.collect()
    profiler = cProfile.Profile()
    profiler.enable()
    measured = anyio.run(clientsim_side, server.url, n)
    profiler.disable()
    out = io.StringIO()
    out.write(
        f"\ncProfile of one more clientsim run ({n} x {TURNS}; {measured.wall:.3f} s "
        "wall under the profiler), by own time:\n"
    )
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(30)
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--strict", action="store_true", help="exit 1 on any MISS")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="then profile one clientsim run with cProfile and print the hot spots",
    )
    parser.add_argument("--serve", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        serve(args.serve)
        return 0
    n, reps = (50, 3) if args.quick else (200, 5)
    print(
        f"clientsim {clientsim.__version__} hybrid overhead "
        f"({'quick' if args.quick else 'full'} run): Python {platform.python_version()}, "
        f"aiohttp {version('aiohttp')}, anyio {version('anyio')} (asyncio), "
        f"{os.cpu_count()} CPUs"
    )
    report = Report()
    with AgentServer(DELAY_SECONDS) as server:
        progress(f"agent server on port {server.port}; {n} conversations x {TURNS}")
        bench(report, server, n, reps)
        profile = profile_clientsim(server, n) if args.profile else ""
    total = server.final.get("requests", "?")
    report.notes.append(
        f"the agent server reported {total} requests in all at shutdown (warm-up runs "
        f"included), {server.final.get('bad', '?')} malformed."
    )
    report.print()
    misses = report.misses
    print(
        f"\n{len(misses)} target(s) missed"
        + (": " + "; ".join(r.figure.strip() for r in misses) if misses else "")
    )
    if args.quick:
        print("quick run: too few repetitions to judge a target; run without --quick")
    print(profile, end="")
    return 1 if args.strict and misses else 0


if __name__ == "__main__":
    sys.exit(main())
