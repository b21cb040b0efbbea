"""What the criteria judge costs per conversation, offline.

Run from the repository root::

    python benchmarks/criteria_judge.py            # the full figures
    python benchmarks/criteria_judge.py --quick    # a smoke run with small N

Three figures for a 12-message conversation judged on 6 criteria (one the offline
rules cannot judge), each the median of several repetitions, in milliseconds of CPU
per conversation (``time.process_time``):

1. the offline rules alone (``judge_offline``: what ``assert_criteria`` does for a
   result that carries no verdict);
2. ``CriteriaJudge("offline").judge(conversation)``: the prompt, the structured call
   through LangChain to the offline model, which reads the prompt back, and the
   checks of its answer;
3. ``simulate(..., criteria=...)`` minus the same ``simulate`` without criteria, per
   conversation (the judge inside a run: its model goes through the run's wrapper).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import anyio

from clientsim import CriteriaJudge, simulate
from clientsim.evaluation.offline_criteria import judge_offline
from clientsim.models import Conversation, Message, ParticipantRole


CRITERIA = [
    "the agent apologises",
    "the agent asks for the order number",
    "the agent does not promise a refund",
    "the agent says goodbye",
    "the customer thanks the agent",
    "the agent is empathetic",
]
LINES = [
    ("customer", "My order has not arrived and it has been two weeks."),
    ("agent", "Sorry to hear that. What is your order number?"),
    ("customer", "It is 4417, placed on the 3rd."),
    ("agent", "Thanks. I can see it left the warehouse on the 5th."),
    ("customer", "So where is it now?"),
    ("agent", "The carrier shows a delay at the depot; it should move today."),
    ("customer", "Can I get my money back if it does not arrive?"),
    ("agent", "I cannot promise a refund yet, but I will open a trace."),
    ("customer", "Okay, thank you."),
    ("agent", "You will get an email with the trace number within the hour."),
    ("customer", "Great, thanks for your help."),
    ("agent", "You're welcome. Have a nice day, goodbye!"),
]


def conversation() -> Conversation:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return Conversation(
        tuple(
            Message(text, start + timedelta(seconds=i), ParticipantRole(role))
            for i, (role, text) in enumerate(LINES)
        )
    )


def cpu_ms(work: Callable[[], object], n: int, repeats: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(n):
            work()
        samples.append((time.process_time() - start) * 1000 / n)
    return statistics.median(samples), max(samples) - min(samples)


async def async_cpu_ms(
    work: Callable[[], Awaitable[object]], n: int, repeats: int
) -> tuple[float, float]:
    samples = []
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(n):
            await work()
        samples.append((time.process_time() - start) * 1000 / n)
    return statistics.median(samples), max(samples) - min(samples)


async def agent(message: str) -> str:
    return "Sorry about that! What is your order number?"


async def simulate_ms(runs: int, repeats: int) -> tuple[float, float]:
    """CPU per conversation that criteria add to simulate()."""
    differences = []
    for _ in range(repeats):
        timings = []
        for criteria in (None, CRITERIA):
            start = time.process_time()
            await simulate(
                agent,
                intents=["my order is late"],
                runs=runs,
                max_messages=6,
                criteria=criteria,
            )
            timings.append((time.process_time() - start) * 1000 / runs)
        differences.append(timings[1] - timings[0])
    return statistics.median(differences), max(differences) - min(differences)


async def main(quick: bool) -> None:
    n, repeats, runs = (20, 3, 10) if quick else (300, 7, 100)
    chat = conversation()
    pairs = [(m.sender.value, m.content) for m in chat.messages]
    rules = cpu_ms(lambda: judge_offline(CRITERIA, pairs), n, repeats)
    judge = CriteriaJudge(CRITERIA)
    await judge.judge(chat)  # builds the structured call once, as a run would
    through_model = await async_cpu_ms(lambda: judge.judge(chat), n, repeats)
    in_simulate = await simulate_ms(runs, repeats)
    print(f"criteria judge, offline: {len(LINES)} messages, {len(CRITERIA)} criteria")
    for label, (median, spread) in (
        ("offline rules alone (judge_offline)", rules),
        ("CriteriaJudge('offline').judge()", through_model),
        ("added to simulate() per conversation", in_simulate),
    ):
        print(f"  {label:<40} {median:7.3f} ms CPU (spread {spread:.3f})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small N, for a smoke run")
    arguments = parser.parse_args()
    anyio.run(main, arguments.quick)
