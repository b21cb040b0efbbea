"""The Ray executor against the local one: wall time, wall over the latency bound,
and what Ray adds per conversation.

```console
python benchmarks/ray_executor.py                      # 2,000 conversations, ~1-2 min
python benchmarks/ray_executor.py --conversations 200  # a quick run
```

Every conversation is a Full simulation of an offline customer and an offline agent
(``OfflineChatModel(latency_seconds=0.05)``: each model call awaits 50 ms, as a
loopback server at 50 ms would, then answers), at most 20 messages (10 turns each
side; the offline customer often ends sooner), all conversations at once
(``parallel_runs`` = the number of conversations). Each goes through the batch
runner: seeds, per-conversation models, retries, the result to the driver.

1. ``local``: the default executor (one process, one event loop).
2. ``ray``: :class:`~clientsim.runners.ray_executor.RayExecutor` on a local Ray
   cluster of 2 worker processes (its start-up is timed apart: the cluster, then the
   actors of each map).

The latency bound is the longest conversation's model calls x 50 ms: what a run with
free CPU would take. The figure "Ray's cost per conversation" is measured apart: the
same number of units that do nothing but return a finished conversation's record
(so its pickling and transport count), on Ray and locally; the difference divided by
the number of units.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import AsyncIterator

import anyio

from clientsim import FullSimulationRunner, LLMParticipant
from clientsim.llm import OfflineChatModel
from clientsim.models import (
    ConversationRecord,
    GridCell,
    MessageDraft,
    Outcome,
    Outcomes,
    ParticipantRole,
)
from clientsim.runners.batch import BatchCell, BatchResult, BatchRunner, ConversationJob
from clientsim.runners.executors import Executor, LocalExecutor
from clientsim.runners.ray_executor import RayExecutor


LATENCY = 0.05
MAX_MESSAGES = 20
OUTCOMES = Outcomes((Outcome(name="resolved", description="Fixed"),))
INPUTS = [
    "I can't log in to my account",
    "I was charged twice this month",
    "Where is my parcel?",
    "Please cancel my subscription",
]


def build(job: ConversationJob) -> FullSimulationRunner:
    model = OfflineChatModel(latency_seconds=LATENCY)
    customer = LLMParticipant("customer", job.models.model(model, "customer"))
    agent = LLMParticipant("agent", job.models.model(model, "agent"))
    first = MessageDraft(job.input, ParticipantRole.CUSTOMER)
    return FullSimulationRunner(
        customer, agent, first, None, OUTCOMES, max_messages=MAX_MESSAGES
    )


def cells(count: int) -> list[BatchCell]:
    return [
        BatchCell(
            cell=GridCell(input_id=str(index), persona_id="p", iteration=0),
            input=INPUTS[index % len(INPUTS)],
        )
        for index in range(count)
    ]


async def timed(count: int, executor: Executor | None) -> tuple[float, BatchResult]:
    runner = BatchRunner(
        build,
        cells(count),
        run_id="bench",
        seed=1,
        parallel_runs=count,
        executor=executor,
    )
    start = time.perf_counter()
    result = await runner.run()
    return time.perf_counter() - start, result


def bound(result: BatchResult) -> tuple[float, float]:
    """The latency bound (the longest conversation's calls x 50 ms) and the mean
    model calls per conversation."""
    calls = [
        len(record.result.conversation.messages) - 1
        for record in result.records
        if record.result is not None
    ]
    return max(calls) * LATENCY, sum(calls) / len(calls)


class Echo:
    """A unit that does nothing but return a finished conversation's record."""

    def __init__(self, record: ConversationRecord) -> None:
        self.record = record

    async def __call__(self, _item: int) -> ConversationRecord:
        return self.record


async def units(count: int) -> AsyncIterator[int]:
    for index in range(count):
        yield index


async def unit_cost(
    executor: Executor, count: int, record: ConversationRecord, limit: int
) -> float:
    async def drop(_item: int, _result: ConversationRecord) -> None:
        return None

    start = time.perf_counter()
    await executor.map(Echo(record), units(count), limit=limit, on_result=drop)
    return time.perf_counter() - start


async def main(count: int, workers: int) -> None:
    print(
        f"{count} conversations, at most {MAX_MESSAGES} messages, "
        f"{LATENCY * 1000:.0f} ms per model call",
        file=sys.stderr,
    )
    local_wall, local = await timed(count, None)
    local_bound, mean_calls = bound(local)
    import ray

    start = time.perf_counter()
    ray.init(
        num_cpus=workers,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    cluster = time.perf_counter() - start
    try:
        async with RayExecutor(workers=workers) as executor:
            actors = await unit_cost(executor, workers, local.records[0], workers)
            ray_wall, remote = await timed(count, executor)
            ray_bound, _ = bound(remote)
            record = local.records[0]
            limit = min(count, 256)
            on_ray = await unit_cost(executor, count, record, limit)
            here = await unit_cost(LocalExecutor(), count, record, limit)
    finally:
        ray.shutdown()
    same = sorted(
        (r.key, tuple(m.content for m in r.result.conversation.messages))
        for r in local.records
        if r.result is not None
    ) == sorted(
        (r.key, tuple(m.content for m in r.result.conversation.messages))
        for r in remote.records
        if r.result is not None
    )
    rows = [
        ("conversations", f"{count}", f"{mean_calls:.1f} model calls each on average"),
        (
            "latency bound",
            f"{local_bound:.2f} s",
            "longest conversation's calls x 50 ms",
        ),
        (
            "local: wall",
            f"{local_wall:.2f} s",
            f"{local_wall / local_bound:.2f}x the bound",
        ),
        (
            f"ray ({workers} workers): wall",
            f"{ray_wall:.2f} s",
            f"{ray_wall / ray_bound:.2f}x the bound; {ray_wall / local_wall:.2f}x local",
        ),
        (
            "ray: cluster start",
            f"{cluster:.2f} s",
            "once per process (not in the wall above)",
        ),
        (
            "ray: actors start + first units",
            f"{actors:.2f} s",
            "per map (in the wall above)",
        ),
        (
            "ray: cost per conversation",
            f"{(on_ray - here) / count * 1e3:.3f} ms",
            f"{count} record-returning units: {on_ray:.2f} s on ray, {here:.2f} s local",
        ),
        (
            "same conversations",
            "yes" if same else "NO",
            "ray vs local, by key and transcript",
        ),
    ]
    width = max(len(name) for name, _, _ in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>10}  {note}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    arguments = parser.parse_args()
    anyio.run(main, arguments.conversations, arguments.workers)
