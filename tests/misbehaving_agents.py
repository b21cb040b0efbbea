"""Agents that misbehave, on 127.0.0.1 or in process, and the matrix that runs them.

Each :class:`Case` is one misbehaving agent (an HTTP or WebSocket server started here,
or a sync/async callable) with the deadline of its run (``max_duration_seconds``) and
what the run must record when it ends: an ending reason, or an
:class:`~clientsim.models.ErrorRecord` of the agent's side with the right class and
``transient`` flag. :func:`run_case` runs one through the public API
(:func:`clientsim.simulate`, one conversation of the offline LLM customer) and returns
an :class:`Observed`: the time from the call to its return, what was recorded and, for
the cases run in a child process, the child's peak RSS.

Used by ``tests/integration/test_reliability.py`` (which asserts the promises) and
``benchmarks/misbehaving_agents.py`` (which prints the matrix).

Peak memory of a child is measured by :func:`measure`: a small launcher process starts
the child, waits for it and reads ``getrusage(RUSAGE_CHILDREN).ru_maxrss``, so the
figure is the child's own (Linux carries a process's peak RSS across ``exec``, so a
child started straight from a big test process would report at least the parent's).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import attrs
from aiohttp import web

from tests.channels import http_servers as http
from tests.channels import ws_server as ws


ROOT = Path(__file__).resolve().parent.parent
GIB = 2**30
RSS_LIMIT_MB = 100.0
"""The most a run may take (peak RSS of its process) whatever the agent sends."""
SLACK_SECONDS = 1.0
"""A run ends within its deadline plus this."""
HANG_RELEASE_SECONDS = 8.0
"""When the in-process "forever" sync agent is let go, so that a run that waits for it
still returns (late, and the promise broken) instead of hanging the test session."""


# ----- HTTP steps (see tests/channels/http_servers.py) ------------------------------


def _chunk_bytes(content: str) -> bytes:
    return f"data: {json.dumps(http.chunk(content))}\r\n\r\n".encode()


def sse_forever() -> http.Step:
    """A stream of one-character deltas that never ends (a flood of small chunks)."""

    async def step(request: web.Request, received: http.Received) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(
            f"data: {json.dumps(http.chunk('', role=True))}\r\n\r\n".encode()
        )
        block = _chunk_bytes("x") * 64
        with contextlib.suppress(ConnectionError):  # the customer left
            while True:
                await response.write(block)
        return response

    return step


def sse_then_drop(chunks: int = 3) -> http.Step:
    """A few deltas, then the TCP connection is cut mid-stream (no ``[DONE]``)."""

    async def step(request: web.Request, received: http.Received) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(
            f"data: {json.dumps(http.chunk('', role=True))}\r\n\r\n".encode()
        )
        for index in range(chunks):
            await response.write(_chunk_bytes(f"part {index} "))
        transport = request.transport
        assert transport is not None
        transport.close()
        await anyio.sleep_forever()
        return response  # pragma: no cover - cancelled with the connection

    return step


def endless_body(total: int = GIB, block: int = 2**20) -> http.Step:
    """A ``200`` JSON completion whose content is ``total`` bytes long (1 GiB)."""
    head = (
        b'{"id":"c","object":"chat.completion","choices":'
        b'[{"index":0,"message":{"role":"assistant","content":"'
    )

    async def step(request: web.Request, received: http.Received) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = total
        await response.prepare(request)
        await response.write(head)
        sent = len(head)
        payload = b"x" * block
        with contextlib.suppress(ConnectionError):  # the customer left
            while sent + block <= total:
                await response.write(payload)
                sent += block
            await response.write(b"x" * (total - sent))
            await response.write_eof()
        return response

    return step


HTML_PAGE = (
    "<!DOCTYPE html><html><head><title>{title}</title></head><body>"
    "<h1>{title}</h1><p>{filler}</p><hr><address>nginx</address></body></html>"
)


def html_page(code: int, title: str) -> http.Step:
    """An HTML page (about 8 KB), as a proxy or a web framework's fallback sends."""
    text = HTML_PAGE.format(title=title, filler="The page you asked for. " * 320)
    return http.raw(text, status=code, content_type="text/html")


def flaky(rate: float, seed: int, then: http.Step, faults: Counter[str]) -> http.Step:
    """Answer 503 on ``rate`` of the requests (counted in ``faults["http"]``)."""
    rng = random.Random(seed)
    fail = http.status(503, body="Service Unavailable")

    async def step(request: web.Request, received: http.Received) -> web.StreamResponse:
        if rng.random() < rate:
            faults["http"] += 1
            return await fail(request, received)
        return await then(request, received)

    return step


# ----- WebSocket behaviours (see tests/channels/ws_server.py) ------------------------


async def ws_flood(connection: ws.Connection) -> None:
    """Send messages as fast as the socket takes them, forever."""
    index = 0
    with contextlib.suppress(ConnectionError):  # the customer left
        while True:
            await connection.say(f"update {index}")
            index += 1


async def ws_no_close_ack(connection: ws.Connection) -> None:
    """Accept the WebSocket, then never read a frame: no reply, no close ack."""
    await anyio.sleep_forever()


@asynccontextmanager
async def serve_ws_many(behaviour: ws.Behaviour) -> AsyncIterator[list[str]]:
    """Like ``ws_server.serve``, for any number of connections (that one queues the
    first 100 for a test to take); yields a list that gets ``"connection"`` for each."""
    connections: list[str] = []

    async def agent(request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        connections.append("connection")
        with contextlib.suppress(ConnectionError):
            await behaviour(ws.Connection(request, socket))
        return socket

    app = web.Application()
    app.router.add_get("/agent", agent)
    runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"ws://127.0.0.1:{runner.addresses[0][1]}/agent"
        connections.insert(0, url)
        yield connections
    finally:
        await runner.cleanup()


def ws_dropping(rate: float, seed: int, faults: Counter[str]) -> ws.Behaviour:
    """Answer each message, except ``rate`` of them: then cut the connection."""
    rng = random.Random(seed)

    async def behaviour(connection: ws.Connection) -> None:
        async for content in connection.customer_messages():
            if rng.random() < rate:
                faults["ws"] += 1
                connection.drop()
                return
            await connection.say(f"Noted: {content[:40]}")
            await connection.end_turn()

    return behaviour


def ws_dropping_sessions(rate: float, seed: int, faults: Counter[str]) -> ws.Behaviour:
    """Cut ``rate`` of the connections, each at one of its first four messages; answer
    every message of the others."""
    rng = random.Random(seed)

    async def behaviour(connection: ws.Connection) -> None:
        cut_at = rng.randrange(4) if rng.random() < rate else None
        count = 0
        async for content in connection.customer_messages():
            if count == cut_at:
                faults["ws-sessions"] += 1
                connection.drop()
                return
            count += 1
            await connection.say(f"Noted: {content[:40]}")
            await connection.end_turn()

    return behaviour


# ----- callables -----------------------------------------------------------------------


class Release:
    """Lets a "forever" sync agent go at last, so that no test leaves a thread behind.

    The agent blocks on :attr:`event`; a timer sets it ``after`` seconds (far past the
    run's deadline), and :meth:`close` sets it at once.
    """

    def __init__(self, after: float) -> None:
        self.event = threading.Event()
        self.timer = threading.Timer(after, self.event.set)
        self.timer.daemon = True
        self.timer.start()

    def close(self) -> None:
        self.timer.cancel()
        self.event.set()


def sync_hang(release: Release) -> Callable[[str], str]:
    def agent(message: str) -> str:
        release.event.wait()  # forever, as far as the run can tell
        return "I am back."

    return agent


def sync_slow(seconds: float) -> Callable[[str], str]:
    def agent(message: str) -> str:
        time.sleep(seconds)
        return "Sorry for the wait."

    return agent


async def async_hang(message: str) -> str:
    await anyio.sleep_forever()
    return "never"  # pragma: no cover


async def async_flood(message: str) -> AsyncIterator[str]:
    index = 0
    while True:
        yield f"more {index}"
        index += 1
        await anyio.lowlevel.checkpoint()


# ----- the matrix ------------------------------------------------------------------------


@attrs.frozen
class Error:
    """An acceptable error record: always the agent's side; its class (a clientsim
    error class or a subclass) and whether it is transient."""

    kind: str = "clientsim.errors.ChannelError"
    transient: bool | None = None


@attrs.frozen
class Case:
    """One misbehaving agent and what its run must record."""

    name: str
    what: str
    agent: Callable[[], AbstractAsyncContextManager[object]]
    deadline: float
    endings: frozenset[str] = frozenset()
    errors: tuple[Error, ...] = ()
    mention: str | None = None
    hybrid: Mapping[str, float] = attrs.field(factory=dict)
    child: bool = False
    rss_limit_mb: float | None = None

    def settings(self) -> dict[str, float]:
        return {
            "reply_timeout_seconds": 1.0,
            "quiet_period_seconds": 0.2,
            "max_duration_seconds": self.deadline,
            **self.hybrid,
        }


@attrs.frozen
class Observed:
    """What one run did: how long it took and what it recorded."""

    case: str
    seconds: float
    reason: str | None
    detail: str = ""
    error_source: str | None = None
    error_side: str | None = None
    error_type: str | None = None
    error_message: str = ""
    transient: bool | None = None
    messages: int = 0
    peak_rss_mb: float | None = None
    process: str = ""
    note: str = ""

    def recorded(self) -> str:
        if self.error_type is None:
            return f"{self.reason}"
        short = self.error_type.rsplit(".", 1)[-1]
        return f"{self.reason}: {short}, {self.error_side}, transient={self.transient}"


def problems(case: Case, seen: Observed) -> list[str]:
    """How ``seen`` breaks the promises for ``case`` (empty: it keeps them)."""
    found: list[str] = []
    if seen.note:
        found.append(seen.note)
    if seen.seconds > case.deadline + SLACK_SECONDS:
        found.append(
            f"ended after {seen.seconds:.2f} s, past its deadline {case.deadline:g} s "
            f"+ {SLACK_SECONDS:g} s"
        )
    if seen.error_type is None:
        if seen.reason not in case.endings:
            found.append(
                f"ended {seen.reason!r}; expected one of {sorted(case.endings)} "
                f"or an error {[(e.kind, e.transient) for e in case.errors]}"
            )
    elif not any(_matches(e, seen) for e in case.errors):
        found.append(
            f"recorded {seen.error_type} (source {seen.error_source}, side "
            f"{seen.error_side}, transient {seen.transient}): {seen.error_message[:200]!r}; "
            f"expected {[(e.kind, e.transient) for e in case.errors]} on the agent's side"
        )
    if case.mention is not None:
        text = f"{seen.detail} {seen.error_message}"
        if case.mention not in text:
            found.append(
                f"neither the ending nor the error mentions {case.mention!r} "
                f"(ending {seen.reason!r}: {seen.detail!r})"
            )
    if len(seen.error_message) > 2000:
        found.append(f"the error message is {len(seen.error_message)} characters long")
    if case.rss_limit_mb is not None and (
        seen.peak_rss_mb is None or seen.peak_rss_mb > case.rss_limit_mb
    ):
        found.append(f"peak RSS {seen.peak_rss_mb} MB, over {case.rss_limit_mb:g} MB")
    return found


def _matches(expected: Error, seen: Observed) -> bool:
    if seen.error_side != "agent" or seen.error_type is None:
        return False
    if expected.transient is not None and seen.transient is not expected.transient:
        return False
    return _is_subclass(seen.error_type, expected.kind)


def _is_subclass(name: str, base: str) -> bool:
    def load(qualified: str) -> type | None:
        module, _, attr = qualified.rpartition(".")
        try:
            found = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError, ValueError):
            return None
        return found if isinstance(found, type) else None

    kind, parent = load(name), load(base)
    if kind is None or parent is None:
        return name == base
    return issubclass(kind, parent)


# Agents, each an async context manager yielding what ``simulate`` is given.


def _http(*script: http.Step, **options: object) -> Callable[[], Any]:
    @asynccontextmanager
    async def agent() -> AsyncIterator[object]:
        async with http.serve(*script) as server:
            yield {"strategy": "http", "base_url": f"{server.url}/v1", **options}

    return agent


def _silent_http(**options: object) -> Callable[[], Any]:
    @asynccontextmanager
    async def agent() -> AsyncIterator[object]:
        with http.silent_port() as port:
            yield {
                "strategy": "http",
                "base_url": f"http://127.0.0.1:{port}/v1",
                **options,
            }

    return agent


def _ws(behaviour: ws.Behaviour, *, autoping: bool = True) -> Callable[[], Any]:
    @asynccontextmanager
    async def agent() -> AsyncIterator[object]:
        async with ws.serve(behaviour, autoping=autoping) as server:
            yield server.url

    return agent


def _callable(make: Callable[[], object]) -> Callable[[], Any]:
    @asynccontextmanager
    async def agent() -> AsyncIterator[object]:
        yield make()

    return agent


def _hanging() -> Callable[[], Any]:
    @asynccontextmanager
    async def agent() -> AsyncIterator[object]:
        release = Release(after=HANG_RELEASE_SECONDS)
        try:
            yield sync_hang(release)
        finally:
            release.close()

    return agent


SILENT = frozenset({"agent_silent", "max_duration"})
TIMEOUT = Error("clientsim.errors.AgentTimeoutError", transient=True)
DROPPED = Error("clientsim.errors.ChannelError", transient=True)
MALFORMED = Error("clientsim.errors.ChannelError", transient=False)

CASES: tuple[Case, ...] = (
    Case(
        "http-never-answers",
        "HTTP: accepts the connection, never answers",
        _silent_http(),
        deadline=2,
        endings=SILENT,
        errors=(TIMEOUT,),
    ),
    Case(
        "http-slow",
        "HTTP: answers after 10 s (reply timeout 1 s)",
        _http(http.slow(10, http.completion("Sorry for the wait."))),
        deadline=2,
        endings=SILENT,
        errors=(TIMEOUT,),
    ),
    Case(
        "http-sse-flood",
        "HTTP: an endless SSE stream of 1-character deltas",
        _http(sse_forever(), stream=True),
        deadline=2,
        endings=SILENT,
        errors=(MALFORMED, TIMEOUT),
    ),
    Case(
        "http-sse-disconnect",
        "HTTP: 3 SSE deltas, then the connection is cut",
        _http(sse_then_drop(), stream=True, max_retries=0),
        deadline=2,
        errors=(DROPPED,),
    ),
    Case(
        "http-invalid-json",
        "HTTP: 200 with a body that is not JSON",
        _http(http.raw('{"choices": [', content_type="application/json")),
        deadline=2,
        errors=(MALFORMED,),
    ),
    Case(
        "http-html-200",
        "HTTP: 200 with an 8 KB HTML page",
        _http(html_page(200, "Welcome")),
        deadline=2,
        errors=(MALFORMED,),
    ),
    Case(
        "http-html-502",
        "HTTP: 502 with an 8 KB HTML error page, forever",
        _http(html_page(502, "502 Bad Gateway"), backoff_seconds=0.05),
        deadline=2,
        errors=(DROPPED,),
        mention="502",
    ),
    Case(
        "http-5xx-forever",
        "HTTP: 500 on every request (channel retries 2)",
        _http(http.status(500, body="boom")),
        deadline=3,
        hybrid={"reply_timeout_seconds": 3.0},
        errors=(DROPPED,),
        mention="500",
    ),
    Case(
        "http-429-retry-after",
        "HTTP: 429 with Retry-After: 30, forever (reply timeout 1 s)",
        _http(http.status(429, headers={"Retry-After": "30"})),
        deadline=3,
        endings=SILENT,
        errors=(DROPPED,),
        mention="429",
    ),
    Case(
        "http-1gib-body",
        "HTTP: a 200 reply of 1 GiB (in a child process)",
        _http(endless_body()),
        deadline=3,
        endings=SILENT,
        errors=(MALFORMED,),
        child=True,
        rss_limit_mb=RSS_LIMIT_MB,
    ),
    Case(
        "ws-never-answers",
        "WebSocket: accepts, reads, never answers",
        _ws(ws.listen_only),
        deadline=2,
        endings=SILENT,
    ),
    Case(
        "ws-flood",
        "WebSocket: sends messages as fast as it can, forever",
        _ws(ws_flood),
        deadline=2,
        endings=frozenset({"max_messages", "max_duration"}),
    ),
    Case(
        "ws-disconnect",
        "WebSocket: answers twice, then cuts the connection",
        _ws(ws.drop_mid_talk),
        deadline=2,
        errors=(DROPPED,),
    ),
    Case(
        "ws-no-close-ack",
        "WebSocket: never reads a frame, never acknowledges the close",
        _ws(ws_no_close_ack, autoping=False),
        deadline=2,
        endings=SILENT,
    ),
    Case(
        "sync-hang",
        "sync callable that never returns (the test lets it go after 8 s)",
        _hanging(),
        deadline=2,
        endings=SILENT,
        errors=(TIMEOUT,),
    ),
    Case(
        "sync-slow",
        "sync callable that takes 5 s (reply timeout 1 s)",
        _callable(lambda: sync_slow(5.0)),
        deadline=2,
        endings=SILENT,
        errors=(TIMEOUT,),
    ),
    Case(
        "async-hang",
        "async callable that never returns",
        _callable(lambda: async_hang),
        deadline=2,
        endings=SILENT,
        errors=(TIMEOUT,),
    ),
    Case(
        "async-flood",
        "async generator that yields forever",
        _callable(lambda: async_flood),
        deadline=2,
        endings=frozenset({"max_messages", "max_duration"}),
    ),
)
BY_NAME: Mapping[str, Case] = {case.name: case for case in CASES}


# ----- running a case ---------------------------------------------------------------------


async def _fine(message: str) -> str:
    return "Fine."


_warm: list[bool] = []


async def warm_up() -> None:
    """One quick conversation, so that the first timed one does not pay for imports
    that clientsim makes on first use (the offline model, LangChain): seconds on a
    busy machine, before any deadline starts."""
    import clientsim

    if not _warm:
        await clientsim.simulate(
            _fine, intents=["hello"], max_messages=2, run_id="warm"
        )
        _warm.append(True)


async def simulate_once(agent: object, case: Case) -> Observed:
    """One conversation of the offline LLM customer against ``agent``, timed."""
    import clientsim

    await warm_up()
    start = time.monotonic()
    runs = await clientsim.simulate(
        agent,
        intents=["Where is my order 4417?"],
        hybrid=case.settings(),
        max_messages=6,
        run_id=case.name,
    )
    seconds = time.monotonic() - start
    result = runs.runs[0].result
    error = result.error
    ending = result.ending
    return Observed(
        case=case.name,
        seconds=seconds,
        reason=ending.reason if ending is not None else None,
        detail=ending.detail if ending is not None else "",
        error_source=None if error is None else error.source,
        error_side=None if error is None else error.side,
        error_type=None if error is None else error.type,
        error_message="" if error is None else error.message,
        transient=None if error is None else error.transient,
        messages=len(result.conversation.messages),
    )


async def run_case(case: Case) -> Observed:
    """Start the case's agent, run one conversation against it, stop the agent."""
    async with case.agent() as agent:
        if not case.child:
            return await simulate_once(agent, case)
        return await run_in_child(case, agent)


async def run_in_child(case: Case, agent: object) -> Observed:
    """Run the conversation in a fresh interpreter; add its peak RSS."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "observed.json"
        command = [
            sys.executable,
            "-m",
            "tests.misbehaving_agents",
            "child",
            case.name,
            json.dumps(agent),
            str(out),
        ]
        measured = await anyio.to_thread.run_sync(
            lambda: measure(command, timeout=case.deadline + 30)
        )
        if not out.exists():
            return Observed(
                case=case.name,
                seconds=measured.seconds,
                reason=None,
                peak_rss_mb=measured.peak_rss_mb,
                note=f"the child {'was killed' if measured.killed else 'exited'} "
                f"(code {measured.returncode}) without a result: "
                f"{measured.stderr[-500:]!r}",
            )
        data = json.loads(out.read_text())
    return attrs.evolve(Observed(**data), peak_rss_mb=measured.peak_rss_mb)


def _child_main(name: str, agent_json: str, out: str) -> None:
    case = BY_NAME[name]
    seen = asyncio.run(simulate_once(json.loads(agent_json), case))
    Path(out).write_text(json.dumps(attrs.asdict(seen)))


# ----- measuring a child process -----------------------------------------------------------


@attrs.frozen
class Measured:
    """A child process: its exit code, wall time, peak RSS and output."""

    returncode: int
    seconds: float
    peak_rss_mb: float
    killed: bool
    stdout: str
    stderr: str


_LAUNCHER = """
import json, resource, subprocess, sys, threading, time
out, timeout, memory, command = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
if memory:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
start = time.monotonic()
child = subprocess.Popen(command)
killed = []
def kill():
    killed.append(True)
    child.kill()
timer = threading.Timer(timeout, kill)
timer.start()
code = child.wait()
seconds = time.monotonic() - start
timer.cancel()
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(out, "w") as file:
    json.dump(
        {"returncode": code, "seconds": seconds, "peak_kb": peak, "killed": bool(killed)},
        file,
    )
"""


def measure(
    command: Sequence[str],
    *,
    timeout: float,
    memory_limit: int = 0,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Measured:
    """Run ``command``; kill it after ``timeout`` seconds; its peak RSS in MB.

    ``memory_limit`` (bytes, 0 for none) caps the child's address space, so that a
    runaway input cannot take the machine's memory.
    """
    import subprocess

    environment = dict(os.environ if env is None else env)
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), str(ROOT), environment.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "launcher.json"
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                _LAUNCHER,
                str(report),
                str(timeout),
                str(memory_limit),
                *command,
            ],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=environment,
            check=False,
        )
        data = json.loads(report.read_text())
    return Measured(
        returncode=data["returncode"],
        seconds=data["seconds"],
        peak_rss_mb=data["peak_kb"] / 1024,
        killed=data["killed"],
        stdout=done.stdout,
        stderr=done.stderr,
    )


# ----- an experiment with a sync agent that hangs, through `clientsim run` ----------------------

HANGING_AGENT = """\
import threading


def reply(message):
    threading.Event().wait()  # never returns
    return "never"
"""


def hanging_experiment(folder: Path, deadline: float) -> Path:
    """A project whose runner target is a sync function that never returns."""
    (folder / "agents").mkdir(parents=True)
    (folder / "agents" / "hanging_agent.py").write_text(HANGING_AGENT)
    config = folder / "simulation.json"
    config.write_text(
        json.dumps(
            {
                "name": "hang",
                "description": "a sync agent that never returns",
                "runner": {
                    "target": "hanging_agent:reply",
                    "python_path": ["agents"],
                    "timeout_seconds": 10,
                    "max_retries": 0,
                },
                "hybrid": {
                    "reply_timeout_seconds": 1,
                    "max_duration_seconds": deadline,
                },
                "inputs": ["Where is my order 4417?"],
                "cache": False,
            }
        )
    )
    return config


def read_traces(folder: Path) -> list[dict[str, Any]]:
    """Every line of every ``traces.jsonl`` under ``folder``."""
    lines: list[dict[str, Any]] = []
    for path in sorted(folder.glob("**/traces.jsonl")):
        lines.extend(json.loads(line) for line in path.read_text().splitlines() if line)
    return lines


CLI_HANG = Case(
    "cli-sync-hang",
    "`clientsim run`: a runner target (sync) that never returns",
    _callable(lambda: None),
    deadline=2,
    endings=SILENT,
    errors=(TIMEOUT,),
)
"""The sync hang through an experiment file and a real ``clientsim run`` process."""
CLI_EXIT_SECONDS = 15.0
"""How long ``clientsim run`` may take from its start to its exit, start-up included,
for :data:`CLI_HANG`; it is killed then."""


def observe_cli_hang(folder: Path, case: Case = CLI_HANG) -> Observed:
    """``clientsim run`` on :func:`hanging_experiment`: what its one conversation
    recorded (time to end: the conversation's own duration), and the process."""
    config = hanging_experiment(folder, case.deadline)
    process = measure(
        [sys.executable, "-m", "clientsim", "run", "-q", str(config)],
        timeout=CLI_EXIT_SECONDS,
        cwd=folder,
    )
    exit_note = (
        f"killed after {process.seconds:.1f} s"
        if process.killed
        else f"exit {process.returncode} after {process.seconds:.1f} s"
    )
    traces = read_traces(folder)
    if process.killed or len(traces) != 1:
        return Observed(
            case=case.name,
            seconds=process.seconds,
            reason=None,
            peak_rss_mb=process.peak_rss_mb,
            process=exit_note,
            note=f"clientsim run {exit_note} with {len(traces)} conversation(s) "
            f"recorded; stderr: {process.stderr[-300:]!r}",
        )
    trace = traces[0]
    ending, error = trace["ending"] or {}, trace["error"] or {}
    return Observed(
        case=case.name,
        seconds=float(trace["conversation_seconds"] or trace["duration_seconds"]),
        reason=ending.get("reason"),
        detail=ending.get("detail", ""),
        error_source=error.get("source"),
        error_side=error.get("side"),
        error_type=error.get("type"),
        error_message=error.get("message", ""),
        transient=error.get("transient"),
        peak_rss_mb=process.peak_rss_mb,
        process=exit_note,
        note="" if process.returncode in {0, 1} else f"clientsim run {exit_note}",
    )


def iter_table(rows: Sequence[tuple[Case, Observed]]) -> Iterator[str]:
    """The matrix as a Markdown table (the format the reliability page uses)."""
    yield (
        "| case | agent | deadline | time to end | ending | error (type, side, transient) "
        "| child process | promise |"
    )
    yield "|---|---|---|---|---|---|---|---|"
    for case, seen in rows:
        error = (
            "-"
            if seen.error_type is None
            else f"`{seen.error_type.rsplit('.', 1)[-1]}`, {seen.error_side}, "
            f"{seen.transient}"
        )
        child = ", ".join(
            part
            for part in (
                seen.process,
                None
                if seen.peak_rss_mb is None
                else f"peak RSS {seen.peak_rss_mb:.0f} MB",
            )
            if part
        )
        kept = "kept" if not problems(case, seen) else "**broken**"
        reason = "-" if seen.reason is None else f"`{seen.reason}`"
        yield (
            f"| `{case.name}` | {case.what} | {case.deadline:g} s | {seen.seconds:.2f} s "
            f"| {reason} | {error} | {child or '-'} | {kept} |"
        )


# ----- inputs that expand: a billion laughs ------------------------------------------------

LAUGHS = "\n".join(
    f"{indent}a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]"
    if level
    else f"{indent}a0: &a0 [{', '.join(['lol'] * 10)}]"
    for indent in ["{indent}"]
    for level in range(9)
)
"""Nine levels of ten aliases each: 10^9 leaves in about 1 KB."""

LAUGHING_FILES = {
    "experiment": (
        "laughs.yaml",
        "name: laughs\ndescription: ''\nagent: {system_prompt: You help.}\n"
        "inputs:\n  - content: hi\n    metadata:\n" + LAUGHS.format(indent="      "),
    ),
    "client-simulation": (
        "laughs.yaml",
        "generators:\n  options:\n" + LAUGHS.format(indent="    "),
    ),
    "inputs-file": (
        "inputs.yaml",
        "- content: hi\n  metadata:\n" + LAUGHS.format(indent="    "),
    ),
}


def billion_laughs(folder: Path, kind: str) -> Path:
    """A file of ``kind`` whose aliases expand to 10^9 leaves; the file to run."""
    name, text = LAUGHING_FILES[kind]
    (folder / name).write_text(text)
    if kind != "inputs-file":
        return folder / name
    config = folder / "simulation.yaml"
    config.write_text(
        "name: laughs\ndescription: ''\nagent: {system_prompt: You help.}\n"
        "inputs_file: inputs.yaml\n"
    )
    return config


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        _child_main(*sys.argv[2:5])
