"""What a team session costs: the group runner, a team at model latency, and what-if.

Run from the repository root::

    python benchmarks/team_session.py            # the full figures
    python benchmarks/team_session.py --quick    # a smoke run with small N

Three figures, each with its target (see ``benchmarks/README.md``):

1. group runner CPU per message: a 7-member team, 50 turns, round robin, members that
   answer at once (no model), next to a hand-written loop making the same member calls
   on one shared transcript (target: at most 2x);
2. wall time of a 7-role team session of 50 turns on the offline model with 50 ms per
   call, over the ideal (every model call one after another, 50 ms each; target: at
   most 1.2), for the group runner alone and for the whole session (memory and the
   Simulation Analyst included);
3. ``what_if`` at turn 40 of 50: the model calls it makes (target: only those the
   original made from turn 40 on) and its wall time next to a full rerun.

Each figure is the median of several repetitions; CPU is ``time.process_time``, wall
``time.perf_counter``. Exits 0 whatever the figures are, unless ``--strict`` is given.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import anyio

from clientsim import (
    Conversation,
    GroupMember,
    GroupSimulationRunner,
    Message,
    Participant,
    ParticipantRole,
    teams,
)
from clientsim.llm.offline import OfflineChatModel
from clientsim.teams import TeamScenario


ROLES = [
    "CEO",
    "Product Manager",
    "Engineering Lead",
    "Designer",
    "Sales",
    "Support",
]
SCENARIO = TeamScenario(
    title="Mobile app v2 launch",
    brief="Version 2 is feature-complete; QA has 14 open crash bugs.",
    decision="Should we launch v2 on March 1?",
    parameters={"launch_date": "March 1", "budget": 250000},
)
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
STEP = timedelta(seconds=5)


class Instant(Participant):
    """A member that answers at once with a prepared line (no model)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.text = f"{name} has a point about the launch date and the budget."

    async def get_next_message(self, conversation: Conversation) -> Message | None:
        last = conversation.messages[-1]
        return Message(self.text, last.timestamp + STEP, ParticipantRole.AGENT)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def median_spread(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


async def runner_conversations(count: int, turns: int) -> int:
    messages = 0

    async def one() -> None:
        nonlocal messages
        members = [
            GroupMember(name, Instant(name), name) for name in [*ROLES, "Analyst"]
        ]
        runner = GroupSimulationRunner(
            members,
            initial_message="Do we launch on March 1?",
            max_messages=turns + 1,
            base_timestamp=START,
        )
        result = await runner.run()
        messages += len(result.conversation.messages) - 1

    async with anyio.create_task_group() as group:
        for _ in range(count):
            group.start_soon(one)
    return messages


async def hand_conversations(count: int, turns: int) -> int:
    messages = 0

    async def one() -> None:
        nonlocal messages
        members = [Instant(name) for name in [*ROLES, "Analyst"]]
        opening = Message("Do we launch on March 1?", START, ParticipantRole.CUSTOMER)
        conversation = Conversation((opening,))
        for turn in range(turns):
            member = members[turn % len(members)]
            reply = await member.get_next_message(conversation)
            assert reply is not None
            conversation = conversation.with_message(reply)
        messages += len(conversation.messages) - 1

    async with anyio.create_task_group() as group:
        for _ in range(count):
            group.start_soon(one)
    return messages


async def guarded_conversations(count: int, turns: int) -> int:
    """The hand-written loop as the house rules want it: every call bounded by a
    timeout, and each member shown the transcript from its own side (its own messages
    as its own, the others' labelled with their names), kept up to date by appending."""
    messages = 0

    async def one() -> None:
        nonlocal messages
        names = [*ROLES, "Analyst"]
        members = [Instant(name) for name in names]
        opening = Message("Do we launch on March 1?", START, ParticipantRole.CUSTOMER)
        views = {name: Conversation((opening,)) for name in names}
        for turn in range(turns):
            name = names[turn % len(names)]
            with anyio.move_on_after(300):
                reply = await members[turn % len(names)].get_next_message(views[name])
            assert reply is not None
            label = Message(
                f"{name}: {reply.content}", reply.timestamp, ParticipantRole.CUSTOMER
            )
            for other in names:
                views[other] = views[other].with_message(
                    reply if other == name else label
                )
            messages += 1

    async with anyio.create_task_group() as group:
        for _ in range(count):
            group.start_soon(one)
    return messages


def cpu_per_message(work: Callable[[], Awaitable[int]]) -> float:
    gc.collect()
    before = time.process_time()
    messages = anyio.run(work)
    return (time.process_time() - before) / messages


def figure_1(
    repeats: int, count: int, loop: Callable[[int, int], Awaitable[int]]
) -> tuple[float, float, float, float, float]:
    ratios, ours, floors = [], [], []
    for index in range(repeats):
        pair = [
            lambda: runner_conversations(count, 50),
            lambda: loop(count, 50),
        ]
        if index % 2:
            floor = cpu_per_message(pair[1])
            mine = cpu_per_message(pair[0])
        else:
            mine = cpu_per_message(pair[0])
            floor = cpu_per_message(pair[1])
        ours.append(mine)
        floors.append(floor)
        ratios.append(mine / floor)
    ratio, low, high = median_spread(ratios)
    return ratio, low, high, statistics.median(ours), statistics.median(floors)


async def latency_runner(turns: int, latency: float) -> tuple[float, int]:
    model = OfflineChatModel(latency_seconds=latency, seed=3)
    members = [
        GroupMember(name, teams.RoleParticipant(teams.get_role(name), model, seed=3))
        for name in ROLES
    ]
    runner = GroupSimulationRunner(
        members, initial_message=SCENARIO.opening_message(), max_messages=turns + 1
    )
    start = time.perf_counter()
    result = await runner.run()
    return time.perf_counter() - start, result.token_usage.total.calls


async def latency_session(turns: int, latency: float) -> tuple[float, int]:
    model = OfflineChatModel(latency_seconds=latency, seed=3)
    session = await teams.start(
        SCENARIO,
        team=[*ROLES, "Simulation Analyst"],
        seed=3,
        model=model,
        max_turns=turns,
        memory_window=12,
    )
    start = time.perf_counter()
    await session.run()
    return time.perf_counter() - start, session.token_usage.calls


def figure_2(
    repeats: int, turns: int, latency: float
) -> list[tuple[str, float, float, float, int]]:
    rows = []
    for label, work in (("runner", latency_runner), ("session", latency_session)):
        ratios, calls = [], 0
        for _ in range(repeats):
            wall, calls = anyio.run(work, turns, latency)
            ratios.append(wall / (calls * latency))
        ratio, low, high = median_spread(ratios)
        rows.append((label, ratio, low, high, calls))
    return rows


async def what_if_figures(turns: int, at: int) -> tuple[int, int, float, float]:
    session = await teams.start(
        SCENARIO, team=[*ROLES, "Simulation Analyst"], seed=5, max_turns=turns
    )
    calls_at: dict[int, int] = {}
    start = time.perf_counter()
    while not session.is_complete:
        calls_at[session.turn + 1] = session.token_usage.calls
        await session.next()
    full = time.perf_counter() - start
    expected = session.token_usage.calls - calls_at[at]
    start = time.perf_counter()
    comparison = await session.what_if(None, at_turn=at)
    fork = time.perf_counter() - start
    assert comparison.first_difference is None, "a fork without change must repeat"
    return comparison.model_calls, expected, fork, full


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small N, smoke only")
    parser.add_argument("--strict", action="store_true", help="exit 1 on a MISS")
    args = parser.parse_args()
    repeats = 2 if args.quick else 5
    count = 10 if args.quick else 100
    turns = 10 if args.quick else 50
    at = 8 if args.quick else 40
    misses = 0
    print(f"{'figure':<58} {'median':>9} {'spread':>17} {'target':>8}  result")

    log("figure 1: group runner CPU per message ...")
    for title, loop in (
        (
            "1a runner CPU/message vs loop with timeouts and views",
            guarded_conversations,
        ),
        (
            "1b runner CPU/message vs bare loop (no timeout, no view)",
            hand_conversations,
        ),
    ):
        ratio, low, high, ours, floor = figure_1(repeats, count, loop)
        ok = ratio <= 2.0
        misses += not ok
        print(
            f"{title:<58} {ratio:>9.2f} {f'{low:.2f}-{high:.2f}':>17} {'<= 2.0':>8}  "
            f"{'PASS' if ok else 'MISS'}"
        )
        print(
            f"{'   runner / hand-written, microseconds per message':<58} "
            f"{ours * 1e6:>9.1f} {f'{floor * 1e6:.1f}':>17}"
        )

    log("figure 2: 50 ms per model call ...")
    for label, ratio, low, high, calls in figure_2(repeats, turns, 0.05):
        ok = ratio <= 1.2
        misses += not ok
        title = f"2  {label}: wall / ideal ({calls} calls x 50 ms)"
        print(
            f"{title:<58} {ratio:>9.3f} {f'{low:.3f}-{high:.3f}':>17} {'<= 1.2':>8}  "
            f"{'PASS' if ok else 'MISS'}"
        )

    log("figure 3: what-if ...")
    made, expected, fork, full = anyio.run(what_if_figures, turns, at)
    ok = made == expected
    misses += not ok
    title = f"3  what_if at turn {at} of {turns}: model calls made"
    print(
        f"{title:<58} {made:>9} {f'expected {expected}':>17} {'= after':>8}  "
        f"{'PASS' if ok else 'MISS'}"
    )
    print(
        f"{'   what_if wall / full run wall (s)':<58} {fork / full:>9.2f} "
        f"{f'{fork:.2f} / {full:.2f}':>17}"
    )
    if args.strict and misses:
        sys.exit(1)


if __name__ == "__main__":
    main()
