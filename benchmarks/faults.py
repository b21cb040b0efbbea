"""Conversations lost to transient faults, and memory for hostile inputs.

Run from the repository root::

    python benchmarks/faults.py            # 300 conversations per fault (about 2 minutes)
    python benchmarks/faults.py --quick    # 60 conversations per fault
    python benchmarks/faults.py --only model http ws-sessions ws laughs gib

Figures (Markdown tables on stdout, progress on stderr; exits 0 unless ``--strict``):

1. Conversations lost out of 300 with 20% transient faults, each an experiment run by
   ``run_experiment`` (3 inputs x 100 iterations, ``parallel_runs`` 50, the scripted
   ``mock`` supervisor as the customer: the input and three follow-ups, so four agent
   exchanges per conversation; no response cache; seeded):

   * **model**: a simulated agent on a chat model (the offline model) that raises
     ``ConnectionError`` on 20% of its calls;
   * **http**: an OpenAI-compatible agent on 127.0.0.1 that answers ``503`` to 20% of
     requests (the channel's defaults: 2 retries, 0.5 s backoff);
   * **ws-sessions**: a WebSocket agent on 127.0.0.1 that cuts 20% of its
     connections, each at one of its first four messages;
   * **ws**: a WebSocket agent on 127.0.0.1 that cuts the connection instead of
     answering on 20% of the customer's messages (so about 59% of the sessions).

   For each: faults injected, conversations retried (attempts beyond the first),
   conversations lost (stored with a status other than ``done``), the lost ones'
   error types, and wall time. Target: 0 lost.
2. A billion laughs: an experiment file of about 1 KB whose YAML aliases expand to
   10^9 leaves, run by ``clientsim run`` in a child process (address space capped at
   2 GiB, killed after 60 s): exit code, time, peak RSS. Target: refused (exit 2), under
   100 MB.
3. A 1 GiB HTTP reply: ``clientsim run`` on an experiment whose agent (on 127.0.0.1)
   answers with a 1 GiB chat completion (``hybrid.max_duration_seconds`` 3, reply
   timeout 1 s): exit code, time, peak RSS, what the conversation recorded. Target:
   refused, under 100 MB.

Peak RSS is ``ru_maxrss`` of the child, read by a small launcher process (see
``tests/misbehaving_agents.measure``) so that it is the child's own.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any


ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

import anyio  # noqa: E402
from tests import misbehaving_agents as matrix  # noqa: E402
from tests.channels import http_servers as http  # noqa: E402


RATE = 0.2
TURNS = 4
"""Agent exchanges per conversation: the input, then the supervisor's questions."""
QUESTIONS = [
    "Is there a reference number?",
    "How long will it take?",
    "Will I get an email about it?",
]
FAULTS: Counter[str] = Counter()


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ----- 1. transient faults ---------------------------------------------------------------


def register_flaky_model() -> None:
    """The model provider ``bench-flaky``: the offline model, failing 20% of calls."""
    from langchain_core.language_models import BaseChatModel
    from langchain_core.outputs import ChatResult

    from clientsim.llm import model_providers
    from clientsim.llm.offline import OfflineChatModel

    rng = random.Random(2026)

    class FlakyModel(BaseChatModel):
        seed: int = 0

        @property
        def _llm_type(self) -> str:
            return "bench-flaky"

        def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
            raise NotImplementedError

        async def _agenerate(
            self, messages: Any, stop: Any = None, **kwargs: Any
        ) -> ChatResult:
            if rng.random() < RATE:
                FAULTS["model"] += 1
                raise ConnectionError("connection dropped (injected fault)")
            return await OfflineChatModel(seed=self.seed)._agenerate(  # noqa: SLF001
                messages, stop, **kwargs
            )

    if "bench-flaky" not in model_providers:
        model_providers.register("bench-flaky", lambda _name: FlakyModel())


def experiment(agent: object, conversations: int, **extra: object) -> dict[str, Any]:
    return {
        "name": "faults",
        "description": "20% transient faults",
        "iterations": conversations // 3,
        "parallel_runs": 50,
        "seed": 7,
        "agent": agent,
        "multi_turn": {
            "enabled": True,
            "max_turns": TURNS,
            "supervisor": {
                "provider": "mock",
                "metadata": {
                    "scripted_questions": QUESTIONS[: TURNS - 1],
                    "mock_closing": "",
                },
            },
        },
        "inputs": [
            "I forgot my password",
            "I was charged twice",
            "My parcel is late",
        ],
        "cache": False,
        "output_directory": "experiments",
        **extra,
    }


async def run(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    from clientsim.experiments import ExperimentConfig, run_experiment
    from clientsim.models import RunStatus

    config = ExperimentConfig.from_dict(data, base_dir=folder)
    start = time.perf_counter()
    result = await run_experiment(config)
    wall = time.perf_counter() - start
    final: dict[str, Any] = {}
    for record in result.records:  # the last attempt of each cell
        if record.key not in final or record.attempts >= final[record.key].attempts:
            final[record.key] = record
    lost = [r for r in final.values() if r.status is not RunStatus.DONE]
    kinds = Counter(
        f"{(r.error.type.rsplit('.', 1)[-1])} (transient={r.error.transient})"
        if r.error
        else r.status.value
        for r in lost
    )
    return {
        "conversations": len(final),
        "lost": len(lost),
        "retried": sum(r.attempts - 1 for r in final.values()),
        "lost_as": ", ".join(f"{n} {kind}" for kind, n in kinds.most_common()) or "-",
        "wall": wall,
    }


async def model_faults(conversations: int, folder: Path) -> dict[str, Any]:
    register_flaky_model()
    data = experiment({"system_prompt": "You help customers."}, conversations)
    data["model"] = "bench-flaky"
    return await run(data, folder)


async def http_faults(conversations: int, folder: Path) -> dict[str, Any]:
    step = matrix.flaky(RATE, 11, http.completion("Done: it is sorted."), FAULTS)
    async with http.serve(step) as agent:
        figures = await run(experiment(f"{agent.url}/v1", conversations), folder)
        figures["requests"] = len(agent.requests)
    return figures


async def ws_faults(conversations: int, folder: Path) -> dict[str, Any]:
    async with matrix.serve_ws_many(matrix.ws_dropping(RATE, 13, FAULTS)) as server:
        data = experiment(server[0], conversations)
        data["hybrid"] = {"quiet_period_seconds": 0.5}
        figures = await run(data, folder)
        figures["requests"] = len(server) - 1
    return figures


async def ws_session_faults(conversations: int, folder: Path) -> dict[str, Any]:
    behaviour = matrix.ws_dropping_sessions(RATE, 17, FAULTS)
    async with matrix.serve_ws_many(behaviour) as server:
        data = experiment(server[0], conversations)
        data["hybrid"] = {"quiet_period_seconds": 0.5}
        figures = await run(data, folder)
        figures["requests"] = len(server) - 1
    return figures


# ----- 2 and 3. hostile inputs -------------------------------------------------------------


def laughs(folder: Path) -> dict[str, Any]:
    config = matrix.billion_laughs(folder, "experiment")
    measured = matrix.measure(
        [sys.executable, "-m", "clientsim", "run", "-q", str(config)],
        timeout=60,
        memory_limit=2 * matrix.GIB,
        cwd=folder,
    )
    return {
        "size": config.stat().st_size,
        "exit": "killed" if measured.killed else measured.returncode,
        "seconds": measured.seconds,
        "rss": measured.peak_rss_mb,
        "said": (measured.stderr.strip().splitlines() or [""])[-1]
        .replace(f"{folder}/", "")
        .replace(str(folder), ".")[:160],
    }


async def gib_reply(folder: Path) -> dict[str, Any]:
    async with http.serve(matrix.endless_body()) as agent:
        config = folder / "simulation.json"
        config.write_text(
            json.dumps(
                {
                    "name": "gib",
                    "description": "a 1 GiB reply",
                    "agent": f"{agent.url}/v1",
                    "hybrid": {
                        "reply_timeout_seconds": 1,
                        "max_duration_seconds": 3,
                    },
                    "inputs": ["Where is my order 4417?"],
                    "cache": False,
                }
            )
        )
        measured = await anyio.to_thread.run_sync(
            lambda: matrix.measure(
                [sys.executable, "-m", "clientsim", "run", "-q", str(config)],
                timeout=120,
                memory_limit=8 * matrix.GIB,
                cwd=folder,
            )
        )
    traces = matrix.read_traces(folder)
    recorded = "-"
    if traces:
        trace = traces[-1]
        error = trace.get("error")
        recorded = f"{trace['status']}, {(trace.get('ending') or {}).get('reason')}" + (
            f", {error['type'].rsplit('.', 1)[-1]} transient={error['transient']}"
            if error
            else ""
        )
    return {
        "exit": "killed" if measured.killed else measured.returncode,
        "seconds": measured.seconds,
        "rss": measured.peak_rss_mb,
        "recorded": recorded,
        "requests": len(agent.requests),
    }


# ----- the report ------------------------------------------------------------------------------


async def main_async(args: argparse.Namespace) -> list[str]:
    lines: list[str] = []
    n = args.conversations
    runs = [
        ("model", "model: `ConnectionError` on 20% of calls", model_faults),
        ("http", "HTTP: `503` on 20% of requests", http_faults),
        ("ws-sessions", "WebSocket: 20% of sessions cut", ws_session_faults),
        ("ws", "WebSocket: connection cut on 20% of messages", ws_faults),
    ]
    chosen = [run for run in runs if run[0] in args.only]
    if chosen:
        lines += [
            (
                "| 20% transient faults | faults injected | conversations retried "
                f"| lost (of {n}) | lost as | wall |"
            ),
            "|---|---|---|---|---|---|",
        ]
        for key, label, function in chosen:
            progress(f"{key} faults, {n} conversations ...")
            with tempfile.TemporaryDirectory() as folder:
                figures = await function(n, Path(folder))
            lines.append(
                f"| {label} | {FAULTS[key]} | {figures['retried']} "
                f"| **{figures['lost']}** | {figures['lost_as']} | {figures['wall']:.1f} s |"
            )
        lines.append("")
    if "laughs" in args.only or "gib" in args.only:
        lines += [
            "| hostile input | exit | time | peak RSS | recorded |",
            "|---|---|---|---|---|",
        ]
    if "laughs" in args.only:
        progress("billion laughs ...")
        with tempfile.TemporaryDirectory() as folder:
            found = await anyio.to_thread.run_sync(laughs, Path(folder))
        lines.append(
            f"| billion laughs: {found['size']} B experiment file, 10^9 leaves "
            f"| {found['exit']} | {found['seconds']:.2f} s | {found['rss']:.0f} MB "
            f"| {found['said']} |"
        )
    if "gib" in args.only:
        progress("1 GiB reply ...")
        with tempfile.TemporaryDirectory() as folder:
            found = await gib_reply(Path(folder))
        lines.append(
            f"| 1 GiB HTTP reply (`clientsim run`, deadline 3 s, {found['requests']} "
            f"request(s)) | {found['exit']} | {found['seconds']:.2f} s "
            f"| {found['rss']:.0f} MB | {found['recorded']} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="60 conversations per fault"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        default=["model", "http", "ws-sessions", "ws", "laughs", "gib"],
        choices=["model", "http", "ws-sessions", "ws", "laughs", "gib"],
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 if a target is missed"
    )
    args = parser.parse_args()
    args.conversations = 60 if args.quick else 300
    lines = anyio.run(main_async, args)
    print("\n".join(lines))
    if args.strict and any("| **0** |" not in line for line in lines if "20%" in line):
        sys.exit(1)


if __name__ == "__main__":
    main()
