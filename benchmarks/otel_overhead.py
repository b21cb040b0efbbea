"""What OpenTelemetry export costs per conversation.

Run from the repository root (needs the ``otel`` extra)::

    python benchmarks/otel_overhead.py            # the full figures
    python benchmarks/otel_overhead.py --quick    # a smoke run with small N

One ``simulate()`` call of N conversations (six messages each: the offline customer
against a local function agent) is timed three ways, in alternating order, several
times:

- ``off``: no exporter registered (what every run pays when nobody asks for traces);
- ``memory``: ``instrument()`` with the SDK's in-memory exporter behind a
  ``SimpleSpanProcessor`` (every span built and exported at once);
- ``batch``: the same with a ``BatchSpanProcessor``, as a real deployment would have.

It prints CPU time (``time.process_time``) per conversation, the median over the
repetitions with its spread, the overhead over ``off``, and the spans per conversation.
The script always exits 0.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable

import anyio
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanProcessor,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

from clientsim import simulate
from clientsim.observability import otel


async def agent(message: str) -> str:
    return "Thanks, I am looking into it. Could you tell me your order number?"


def run_once(conversations: int) -> float:
    """CPU seconds of one simulate() call of ``conversations`` conversations."""
    intents = [f"my order {i} is late" for i in range(conversations)]
    gc.collect()
    start = time.process_time()
    anyio.run(
        lambda: simulate(agent, intents=intents, max_messages=6, parallel_runs=10)
    )
    return time.process_time() - start


def timed(
    conversations: int, processor: Callable[[InMemorySpanExporter], SpanProcessor]
) -> tuple[float, int]:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(processor(spans))
    exporter = otel.instrument(tracer_provider=provider)
    try:
        seconds = run_once(conversations)
    finally:
        exporter.close()
        provider.shutdown()  # flushes a batch processor (after the timing)
    return seconds, len(spans.get_finished_spans())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small N, 2 repetitions")
    args = parser.parse_args()
    conversations, repeats = (20, 2) if args.quick else (200, 7)

    run_once(10)  # warm up: imports, the offline model, the plugin manager
    results: dict[str, list[float]] = {"off": [], "memory": [], "batch": []}
    spans = {"memory": 0, "batch": 0}
    for repeat in range(repeats):
        order = ["off", "memory", "batch"]
        if repeat % 2:
            order.reverse()
        for mode in order:
            if mode == "off":
                results[mode].append(run_once(conversations))
                continue
            processor = SimpleSpanProcessor if mode == "memory" else BatchSpanProcessor
            seconds, count = timed(conversations, processor)
            results[mode].append(seconds)
            spans[mode] = count

    base = statistics.median(results["off"]) / conversations
    print(
        f"{conversations} conversations of 6 messages, {repeats} repetitions; "
        "CPU per conversation (median, min-max):"
    )
    for mode, values in results.items():
        per = [value / conversations for value in values]
        median = statistics.median(per)
        line = (
            f"  {mode:<7} {median * 1e3:7.3f} ms  "
            f"({min(per) * 1e3:.3f}-{max(per) * 1e3:.3f})"
        )
        if mode != "off":
            extra = median - base
            line += (
                f"  overhead {extra * 1e3:+.3f} ms ({extra / base:+.0%}), "
                f"{spans[mode] / conversations:.1f} spans per conversation"
            )
        print(line)


if __name__ == "__main__":
    main()
