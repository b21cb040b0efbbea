"""10,000 conversations of 10 turns against an OpenAI-compatible server at 50 ms.

Both sides of every conversation are played by an ``openai:`` spec (the lean model on
the shared aiohttp session) pointed at a loopback server in a separate process
(``benchmarks/openai_http.py --serve``), so its CPU is not counted. The conversations
run through :func:`clientsim.simulate` (BatchRunner, local executor), 10 turns each: the
customer's opening (its intent, no model call) and 19 model calls. Printed: wall time
over the latency bound (the calls one after another, ``ceil(N / parallel_runs)`` rounds
of 19 x 50 ms), CPU per model call (``time.process_time()`` of this process over the
run, divided by the requests the server counted), and peak RSS (``VmHWM``).

    python benchmarks/conversations_10k.py                         # 10,000
    python benchmarks/conversations_10k.py --conversations 1000    # smaller
    python benchmarks/conversations_10k.py --quick                 # 200
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path


sys.path.insert(0, str(Path(__file__).parent))

from openai_http import DELAY, MODEL, Server


TURNS = 10
MESSAGES = 2 * TURNS


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")  # pragma: no cover - not Linux


async def run(n: int, parallel: int) -> tuple[int, float, float]:
    from clientsim import LLMParticipant, ParticipantRole, simulate
    from clientsim.llm import aclose_models

    spec = f"openai:{MODEL}"
    agent = LLMParticipant(
        ParticipantRole.AGENT, spec, persona="Support agent at a parcel service."
    )
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        runs = await simulate(
            agent,
            intents=["My parcel 48213 is three days late"],
            personas=["Sam, a shop owner who needs the parcel for Saturday"],
            runs=n,
            customer_model=spec,
            max_messages=MESSAGES,
            parallel_runs=parallel,
        )
    finally:
        await aclose_models()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    results = [r.result for r in runs.runs]
    lengths = [len(r.conversation.messages) for r in results if r.ok]
    failed = [r.error for r in results if not r.ok]
    if failed or set(lengths) != {MESSAGES}:
        print(
            f"warning: {len(failed)} failed (first: {failed[:1]}); "
            f"lengths {sorted(set(lengths))}",
            file=sys.stderr,
        )
    return len(lengths), cpu, wall


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--parallel-runs", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="200 conversations")
    parser.add_argument("--strict", action="store_true", help="(no targets here)")
    args = parser.parse_args(argv)
    n = 200 if args.quick else args.conversations
    parallel = min(args.parallel_runs, n)
    with Server(DELAY) as server:
        os.environ["OPENAI_BASE_URL"] = server.url
        os.environ.pop("CLIENTSIM_OPENAI_CLIENT", None)
        done, cpu, wall = asyncio.run(run(n, parallel))
    calls = int(server.final.get("requests", 0))
    bound = math.ceil(n / parallel) * (MESSAGES - 1) * DELAY
    print(
        f"{n} conversations x {TURNS} turns ({MESSAGES - 1} model calls each), "
        f"{parallel} at once, server at {DELAY * 1000:.0f} ms in a separate process"
    )
    print(f"  finished conversations       {done}")
    print(f"  model calls (server count)   {calls}")
    print(f"  wall                         {wall:.1f} s")
    print(
        f"  latency bound                {bound:.2f} s  -> wall / bound = {wall / bound:.1f}"
    )
    print(
        f"  CPU (this process)           {cpu:.1f} s  -> "
        f"{cpu / max(calls, 1) * 1e6:.0f} us per model call"
    )
    print(f"  CPU bound on wall            wall / CPU = {wall / cpu:.2f}")
    print(f"  server CPU                   {server.final.get('cpu_seconds', 0):.1f} s")
    print(f"  peak RSS                     {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
