"""How much clientsim itself costs per conversation, next to hand-written loops.

Run from the repository root::

    python benchmarks/conversation_overhead.py            # the full figures
    python benchmarks/conversation_overhead.py --quick    # a smoke run with small N

Five figures, each with its target (see ``benchmarks/README.md`` for the method):

1. runner CPU per message with zero-latency participants (no LangChain), next to a
   hand-written loop making the same participant calls and appending to a list
   (target: at most 2x);
2. CPU per turn of ``LLMParticipant`` on the offline model, next to a hand-written loop
   calling ``model.ainvoke`` on the same message lists, kept by appending to them
   (target: at most 1.15x);
3. wall time of 1,000 concurrent conversations of 20 replies, each reply 50 ms away,
   over the ideal 1.0 s (target: at most 1.2);
4. peak RSS, and memory retained per finished 20-message conversation (target: at most
   40 KB);
5. ``import clientsim`` time in a fresh interpreter (target: at most 0.3 s), and that it
   does not import ``langchain_core``.

The machine this runs on is noisy: every figure is the median of several repetitions
(the spread is printed next to it). Framework and hand-written runs go in pairs, back to
back and in alternating order, and a ratio is the median of the per-pair ratios, so that
drift hits both sides alike. CPU is ``time.process_time``; wall time is
``time.perf_counter``. The script exits 0 whatever the figures are, unless ``--strict``
is given, in which case a MISS exits 1.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import anyio

import clientsim
from clientsim import (
    ConversationResult,
    FullSimulationRunner,
    Intent,
    LLMParticipant,
    Message,
    MessageDraft,
    Outcome,
    Outcomes,
    Participant,
    ParticipantRole,
)


CUSTOMER = ParticipantRole.CUSTOMER
AGENT = ParticipantRole.AGENT
BASE_TIMESTAMP = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
STEP = timedelta(seconds=2)
OPENING = "Hello, I need help with my account, I cannot sign in since this morning."
OUTCOMES = Outcomes(
    outcomes=(
        Outcome(name="resolved", description="The customer's issue was resolved"),
        Outcome(name="escalated", description="The issue went to a specialist"),
    )
)
# What a zero-latency participant says: about 90 characters, a new string each time
# (as a model's answer would be), so that figure 4 counts realistic message sizes.
_SAYS = {
    CUSTOMER: "Thanks. I tried that on my phone and on my laptop, and here is what happened",
    AGENT: "Understood. Let me check that on our side and come back to you with next steps",
}
LLM_INTENTS = (
    "Reset my password because I'm locked out of my account",
    "Get a refund, I was charged twice for my order",
    "Cancel my subscription",
    "Find out where my package is, the delivery is late",
    "Set up two-factor authentication with an authenticator app",
    "Understand a charge on my last invoice",
)
SLEEP_SECONDS = 0.05
SLEEPY_REPLIES = 20  # 10 turns: 20 replies after the opening, each 50 ms away


# ----- participants ----------------------------------------------------------------


class ZeroLatency(Participant):
    """Answers at once with a stamped message; passes while the last message is its own."""

    __slots__ = ("role", "says")

    def __init__(self, role: ParticipantRole) -> None:
        self.role = role
        self.says = _SAYS[role]

    async def get_next_message(self, conversation: Any) -> Message | None:
        messages = conversation.messages
        last = messages[-1]
        if last.sender is self.role:
            return None
        return Message(
            content=f"{self.says} (#{len(messages)}).",
            timestamp=last.timestamp + STEP,
            sender=self.role,
        )


class Sleepy(ZeroLatency):
    """Like :class:`ZeroLatency`, but waits 50 ms (``anyio.sleep``) before each message."""

    __slots__ = ()

    async def get_next_message(self, conversation: Any) -> Message | None:
        messages = conversation.messages
        last = messages[-1]
        if last.sender is self.role:
            return None
        await anyio.sleep(SLEEP_SECONDS)
        return Message(
            content=f"{self.says} (#{len(messages)}).",
            timestamp=last.timestamp + STEP,
            sender=self.role,
        )


# ----- the framework path and the hand-written floor ---------------------------------


async def framework_conversation(
    make: Callable[[ParticipantRole], Participant], max_messages: int
) -> ConversationResult:
    runner = FullSimulationRunner(
        customer=make(CUSTOMER),
        agent=make(AGENT),
        initial_message=MessageDraft(OPENING, CUSTOMER),
        intent=None,
        outcomes=OUTCOMES,
        max_messages=max_messages,
        base_timestamp=BASE_TIMESTAMP,
    )
    return await runner.run()


class Transcript:
    """All the hand-written loop hands a participant: the messages so far (a list)."""

    __slots__ = ("messages",)

    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages


async def floor_conversation(
    make: Callable[[ParticipantRole], Participant], max_messages: int
) -> list[Message]:
    """The floor: ask both sides each step, append the earliest proposal to a list,
    stop at N. The same participant calls as the runner, and nothing more."""
    customer, agent = make(CUSTOMER), make(AGENT)
    messages = [Message(content=OPENING, timestamp=BASE_TIMESTAMP, sender=CUSTOMER)]
    view = Transcript(messages)
    while len(messages) < max_messages:
        if messages[-1].sender is CUSTOMER:
            first, second = agent, customer
        else:
            first, second = customer, agent
        proposal = await first.get_next_message(view)  # type: ignore[arg-type]
        other = await second.get_next_message(view)  # type: ignore[arg-type]
        if proposal is None:
            if other is None:
                break
            proposal = other
        elif other is not None and other.timestamp < proposal.timestamp:
            proposal = other
        messages.append(proposal)
    return messages


async def run_concurrently(
    n: int, conversation: Callable[[int], Awaitable[object]]
) -> tuple[list[object], float, float]:
    """Run ``n`` conversations in one task group: (results, CPU seconds, wall seconds)."""
    results: list[object] = [None] * n

    async def one(index: int) -> None:
        results[index] = await conversation(index)

    cpu, wall = time.process_time(), time.perf_counter()
    async with anyio.create_task_group() as tg:
        for index in range(n):
            tg.start_soon(one, index)
    return results, time.process_time() - cpu, time.perf_counter() - wall


def run(n: int, conversation: Callable[[int], Awaitable[object]]) -> Any:
    gc.collect()
    return anyio.run(run_concurrently, n, conversation, backend="asyncio")


def run_pair(
    rep: int,
    n: int,
    framework: Callable[[int], Awaitable[object]],
    floor: Callable[[int], Awaitable[object]],
) -> tuple[Any, Any]:
    """Run the framework and the floor back to back, alternating which goes first, so
    that drift and ordering effects fall on both alike."""
    if rep % 2:
        theirs = run(n, floor)
        return run(n, framework), theirs
    ours = run(n, framework)
    return ours, run(n, floor)


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
    """The table, kept in figure order whatever order the figures are measured in."""

    sections: dict[int, list[Row]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    current: int = 0

    def begin(self, figure: int, title: str) -> None:
        self.current = figure
        self.sections[figure] = []
        progress(f"{figure}. {title}")

    def add(self, figure: str, value: str, spread: str = "") -> None:
        self.sections[self.current].append(Row(figure, value, spread))

    def check(
        self, figure: str, value: str, target: str, ok: bool, spread: str = ""
    ) -> None:
        row = Row(figure, value, spread, target, "PASS" if ok else "MISS")
        self.sections[self.current].append(row)

    @property
    def rows(self) -> list[Row]:
        return [row for key in sorted(self.sections) for row in self.sections[key]]

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
        for note in sorted(self.notes, key=lambda note: note[:2]):
            print(f"  {note}")


def spread(values: Sequence[float], fmt: str) -> str:
    return f"{min(values):{fmt}}-{max(values):{fmt}}"


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ----- 1. framework overhead per message ---------------------------------------------


def bench_overhead(report: Report, n: int, reps: int) -> None:
    messages = 20

    def framework(_: int) -> Awaitable[ConversationResult]:
        return framework_conversation(ZeroLatency, messages)

    def floor(_: int) -> Awaitable[list[Message]]:
        return floor_conversation(ZeroLatency, messages)

    run(min(n, 50), framework)  # warm up: plugin manager, first-call imports
    run(min(n, 50), floor)
    ours: list[float] = []
    theirs: list[float] = []
    for rep in range(reps):
        (results, cpu, _), (transcripts, floor_cpu, _) = run_pair(
            rep, n, framework, floor
        )
        assert all(len(r.conversation) == messages for r in results), "short run"
        assert all(len(t) == messages for t in transcripts), "short floor run"
        ours.append(cpu / (n * messages) * 1e6)
        theirs.append(floor_cpu / (n * messages) * 1e6)
        progress(f"  1. rep {rep + 1}: {ours[-1]:.2f} vs {theirs[-1]:.2f} us/message")
    ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
    mine, floor_us = statistics.median(ours), statistics.median(theirs)
    report.add(
        f"1. runner CPU per message ({n} x {messages}, zero-latency)",
        f"{mine:.2f} us",
        spread(ours, ".2f"),
    )
    report.add(
        "   hand-written loop CPU per message",
        f"{floor_us:.2f} us",
        spread(theirs, ".2f"),
    )
    ratio = statistics.median(ratios)
    report.check(
        "   ratio runner / hand-written",
        f"{ratio:.2f}x",
        "<= 2x",
        ratio <= 2.0,
        spread(ratios, ".2f"),
    )


# ----- 2. CPU per turn with LLMParticipant on the offline model ----------------------


@dataclass
class PairResult:
    """CPU per turn (ms) of the framework and of the hand-written loop, per repetition."""

    ours: list[float]
    theirs: list[float]
    turns: int
    lengths: list[int]
    same: bool


def measure_llm(model: Any, n: int, reps: int, label: str) -> PairResult:
    """Run ``n`` conversations of two ``LLMParticipant`` on ``model``, then the same
    conversations as a hand-written ``model.ainvoke`` loop, ``reps`` times each."""
    from langchain_core.messages import (
        AIMessage,
        BaseMessage,
        HumanMessage,
        SystemMessage,
    )

    max_messages = 20
    end = "[END]"

    def parts(index: int) -> tuple[Intent, LLMParticipant, LLMParticipant]:
        intent = Intent(CUSTOMER, LLM_INTENTS[index % len(LLM_INTENTS)])
        customer = LLMParticipant(CUSTOMER, model, intent=intent, seed=index)
        agent = LLMParticipant(AGENT, model, seed=index)
        return intent, customer, agent

    async def framework(index: int) -> ConversationResult:
        intent, customer, agent = parts(index)
        return await FullSimulationRunner(
            customer=customer,
            agent=agent,
            initial_message=MessageDraft(OPENING, CUSTOMER),
            intent=intent,
            outcomes=OUTCOMES,
            max_messages=max_messages,
            base_timestamp=BASE_TIMESTAMP,
        ).run()

    # The prompts are the participants' own: the floor only skips clientsim's plumbing.
    prompts = [
        {CUSTOMER: customer.system_prompt, AGENT: agent.system_prompt}
        for _, customer, agent in map(parts, range(len(LLM_INTENTS)))
    ]

    async def floor(index: int) -> tuple[list[str], int]:
        """Alternate sides. Each side keeps its own LangChain message list (its system
        prompt, then its messages as AI and the other side's as Human), appends each
        new message to both lists and hands its list to ``model.ainvoke``."""
        prompt = prompts[index % len(prompts)]
        views: dict[ParticipantRole, list[BaseMessage]] = {
            CUSTOMER: [SystemMessage(content=prompt[CUSTOMER]), AIMessage(OPENING)],
            AGENT: [SystemMessage(content=prompt[AGENT]), HumanMessage(OPENING)],
        }
        texts = [OPENING]
        done = {CUSTOMER: False, AGENT: False}
        side, calls = AGENT, 0
        while len(texts) < max_messages and not done[side]:
            reply = await model.ainvoke(views[side])
            calls += 1
            text = reply.text.strip()
            done[side] = end in text
            text = text.replace(end, "").strip()
            if not text:
                break
            texts.append(text)
            views[side].append(AIMessage(content=text))
            side = side.other
            views[side].append(HumanMessage(content=text))
        return texts, calls

    run(min(n, 20), framework)  # warm up: LangChain imports, caches
    run(min(n, 20), floor)
    result = PairResult([], [], 0, [], same=True)
    for rep in range(reps):
        (results, cpu, _), (floors, floor_cpu, _) = run_pair(rep, n, framework, floor)
        assert all(r.ok for r in results), [r.error for r in results if not r.ok][:1]
        result.turns = sum(r.token_usage.total.calls for r in results)
        result.lengths = [len(r.conversation) for r in results]
        result.ours.append(cpu / result.turns * 1e3)
        floor_turns = sum(calls for _, calls in floors)
        result.theirs.append(floor_cpu / floor_turns * 1e3)
        if rep == 0:
            result.same = floor_turns == result.turns and all(
                [m.content for m in r.conversation.messages] == texts
                for r, (texts, _) in zip(results, floors, strict=True)
            )
        progress(
            f"  2. {label} rep {rep + 1}: {result.ours[-1]:.3f} vs "
            f"{result.theirs[-1]:.3f} ms/turn"
        )
    return result


def canned_model() -> Any:
    """A chat model that costs nothing: ``ainvoke`` returns one prepared answer.

    It skips LangChain's whole ``ainvoke`` pipeline, so what remains of a turn is the
    caller's own work (clientsim's, or the hand-written loop's): a steady figure that
    the offline model's LangChain cost and its garbage do not blur.
    """
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage

    answer = AIMessage(
        content="Could you tell me a bit more about that, and what you tried so far?",
        usage_metadata={"input_tokens": 100, "output_tokens": 16, "total_tokens": 116},
    )

    class CannedChatModel(BaseChatModel):
        @property
        def _llm_type(self) -> str:
            return "canned"

        def _generate(self, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError

        async def ainvoke(self, *args: Any, **kwargs: Any) -> AIMessage:  # noqa: ARG002
            return answer

    return CannedChatModel()


def bench_llm(report: Report, n: int, reps: int) -> None:
    from clientsim.llm import OfflineChatModel

    offline = measure_llm(OfflineChatModel(), n, reps, "offline")
    mine, floor_ms = statistics.median(offline.ours), statistics.median(offline.theirs)
    ratios = [a / b for a, b in zip(offline.ours, offline.theirs, strict=True)]
    report.add(
        f"2. LLMParticipant CPU per turn ({n} conversations, offline model)",
        f"{mine:.3f} ms",
        spread(offline.ours, ".3f"),
    )
    report.add(
        "   hand-written ainvoke loop CPU per turn",
        f"{floor_ms:.3f} ms",
        spread(offline.theirs, ".3f"),
    )
    ratio = statistics.median(ratios)
    report.check(
        "   ratio LLMParticipant / hand-written",
        f"{ratio:.3f}x",
        "<= 1.15x",
        ratio <= 1.15,
        spread(ratios, ".3f"),
    )
    report.notes.append(
        f"2. offline model: {offline.turns} model calls per repetition; it ends its "
        f"talks early ({statistics.mean(offline.lengths):.1f} messages per conversation "
        "on average, max 20)."
    )
    canned = measure_llm(canned_model(), n, reps, "zero-cost")
    added = [(a - b) * 1e3 for a, b in zip(canned.ours, canned.theirs, strict=True)]
    report.add(
        "   LLMParticipant minus hand-written (zero-cost model, 20-msg talks)",
        f"{statistics.median(added):.1f} us",
        spread(added, ".1f"),
    )
    report.notes.append(
        "2. zero-cost model (ainvoke returns a prepared answer): LLMParticipant "
        f"{statistics.median(canned.ours) * 1e3:.1f} us vs hand-written "
        f"{statistics.median(canned.theirs) * 1e3:.1f} us CPU per turn; the difference "
        "is what clientsim adds to each model call, LangChain's pipeline excluded."
    )
    for name, pair in (("offline", offline), ("zero-cost", canned)):
        if not pair.same:
            report.notes.append(
                f"2. WARNING: with the {name} model the hand-written loop did not "
                "replay the same conversations"
            )


# ----- 3. wall time with 50 ms participants ------------------------------------------


def bench_latency(report: Report, n: int, reps: int) -> None:
    max_messages = SLEEPY_REPLIES + 1  # the runner's opening, then 20 replies
    ideal = SLEEPY_REPLIES * SLEEP_SECONDS

    def framework(_: int) -> Awaitable[ConversationResult]:
        return framework_conversation(Sleepy, max_messages)

    def floor(_: int) -> Awaitable[list[Message]]:
        return floor_conversation(Sleepy, max_messages)

    ours: list[float] = []
    theirs: list[float] = []
    cpus: list[float] = []
    for rep in range(reps):
        (results, cpu, wall), (_, _, floor_wall) = run_pair(rep, n, framework, floor)
        assert all(len(r.conversation) == max_messages for r in results), "short run"
        ours.append(wall / ideal)
        cpus.append(cpu)
        theirs.append(floor_wall / ideal)
        progress(f"  3. rep {rep + 1}: {ours[-1]:.3f} vs {theirs[-1]:.3f} of ideal")
    mine = statistics.median(ours)
    report.add(
        f"3. wall time, {n} conversations x {SLEEPY_REPLIES} replies of 50 ms",
        f"{mine * ideal:.3f} s",
        spread([r * ideal for r in ours], ".3f"),
    )
    report.check(
        f"   ratio to the ideal {ideal:.1f} s",
        f"{mine:.3f}",
        "<= 1.2",
        mine <= 1.2,
        spread(ours, ".3f"),
    )
    report.add(
        "   hand-written loop, same participants (ratio)",
        f"{statistics.median(theirs):.3f}",
        spread(theirs, ".3f"),
    )
    report.add("   runner CPU during the run", f"{statistics.median(cpus):.3f} s", "")


# ----- 4. memory ---------------------------------------------------------------------


def _hwm_kib() -> int | None:
    """Peak RSS of this process image (Linux ``VmHWM``), ``None`` elsewhere."""
    try:
        with Path("/proc/self/status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def rss_child(n: int) -> None:
    """In a fresh process: peak RSS before and after keeping ``n`` results (KiB).

    ``getrusage``'s ``ru_maxrss`` survives ``exec`` on Linux, so a child starts with
    its parent's peak; ``VmHWM`` belongs to the new process image only, and is the
    figure reported where it exists.
    """
    before = _hwm_kib() or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results, _, _ = run(n, lambda _: framework_conversation(ZeroLatency, 20))
    after = _hwm_kib() or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert len(results) == n
    print(json.dumps({"before_kib": before, "peak_kib": after, "maxrss_kib": maxrss}))


def bench_memory(report: Report, n: int, reps: int) -> None:
    messages = 20

    def framework(_: int) -> Awaitable[ConversationResult]:
        return framework_conversation(ZeroLatency, messages)

    run(min(n, 50), framework)  # warm up, so that first-use caches are not counted
    per: list[float] = []
    peaks: list[float] = []
    for _ in range(reps):
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        results, _, _ = run(n, framework)
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert all(len(r.conversation) == messages for r in results)
        per.append((current - base) / n / 1024)
        peaks.append((peak - base) / n / 1024)
        del results
    rss: list[dict[str, int]] = []
    for _ in range(reps):
        out = subprocess.run(
            [sys.executable, __file__, "--rss-child", str(n)],
            check=True,
            capture_output=True,
            text=True,
        )
        rss.append(json.loads(out.stdout.strip().splitlines()[-1]))
    peak_mib = [r["peak_kib"] / 1024 for r in rss]
    base_mib = [r["before_kib"] / 1024 for r in rss]
    report.add(
        f"4. peak RSS, fresh process keeping {n} results",
        f"{statistics.median(peak_mib):.1f} MiB",
        spread(peak_mib, ".1f"),
    )
    report.add(
        "   of which after import clientsim",
        f"{statistics.median(base_mib):.1f} MiB",
        spread(base_mib, ".1f"),
    )
    maxrss = statistics.median(r["maxrss_kib"] for r in rss) / 1024
    report.notes.append(
        f"4. peak RSS is the child's VmHWM; its getrusage ru_maxrss reads {maxrss:.1f} "
        "MiB because on Linux it carries the parent's peak across exec."
    )
    value = statistics.median(per)
    report.check(
        f"   retained per finished {messages}-message conversation",
        f"{value:.2f} KiB",
        "<= 40 KB",
        value * 1024 <= 40_000,
        spread(per, ".2f"),
    )
    report.add(
        "   traced peak during the run, per conversation",
        f"{statistics.median(peaks):.2f} KiB",
        spread(peaks, ".2f"),
    )


# ----- 5. import time ----------------------------------------------------------------


def _seconds(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def bench_import(report: Report, reps: int) -> None:
    heavy = ("langchain_core", "langchain_openai", "pydantic", "langsmith", "httpx")
    probe = (
        "import json, sys; import clientsim; "
        f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", probe], check=True, capture_output=True, text=True
        ).stdout
    )
    _seconds("import clientsim")  # warm the file cache
    empty: list[float] = []
    full: list[float] = []
    for _ in range(reps):
        empty.append(_seconds("pass"))
        full.append(_seconds("import clientsim"))
    costs = [f - e for f, e in zip(full, empty, strict=True)]
    value = statistics.median(full) - statistics.median(empty)
    report.check(
        "5. import clientsim (fresh interpreter, minus startup)",
        f"{value:.3f} s",
        "<= 0.3 s",
        value <= 0.3,
        spread(costs, ".3f"),
    )
    report.check(
        "   langchain_core in sys.modules after import",
        "yes" if "langchain_core" in loaded else "no",
        "no",
        "langchain_core" not in loaded,
    )
    if loaded:
        report.notes.append(f"5. heavy modules loaded by import clientsim: {loaded}")


# ----- main --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--strict", action="store_true", help="exit 1 on any MISS")
    parser.add_argument(
        "--figures",
        default="1,2,3,4,5",
        help="which figures to measure, comma-separated (default: all)",
    )
    parser.add_argument("--rss-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_child:
        rss_child(args.rss_child)
        return 0
    if args.quick:
        n, llm_n, sleepy_n, reps, slow_reps = 100, 100, 200, 3, 1
    else:
        n, llm_n, sleepy_n, reps, slow_reps = 1000, 500, 1000, 5, 3
    print(
        f"clientsim {clientsim.__version__} conversation overhead "
        f"({'quick' if args.quick else 'full'} run): Python {platform.python_version()}, "
        f"anyio {version('anyio')} (asyncio), langchain-core {version('langchain-core')}, "
        f"{os.cpu_count()} CPUs"
    )
    report = Report()
    figures = {int(figure) for figure in args.figures.split(",")}
    # LangChain loads last (figure 2), so that its many objects do not slow the
    # garbage collector during the other figures.
    if 1 in figures:
        report.begin(1, "framework overhead per message")
        bench_overhead(report, n, reps)
    if 3 in figures:
        report.begin(3, "wall time with 50 ms participants")
        bench_latency(report, sleepy_n, slow_reps)
    if 4 in figures:
        report.begin(4, "memory")
        bench_memory(report, n, slow_reps)
    if 5 in figures:
        report.begin(5, "import time")
        bench_import(report, 3 if args.quick else 5)
    if 2 in figures:
        report.begin(2, "LLMParticipant CPU per turn")
        bench_llm(report, llm_n, 2 if args.quick else 7)
    report.print()
    misses = report.misses
    print(
        f"\n{len(misses)} target(s) missed"
        + (": " + "; ".join(r.figure.strip() for r in misses) if misses else "")
    )
    if args.quick:
        print("quick run: too few repetitions to judge a target; run without --quick")
    return 1 if args.strict and misses else 0


if __name__ == "__main__":
    sys.exit(main())
