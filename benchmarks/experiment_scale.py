"""Experiments at scale: the batch machinery next to a hand-written asyncio loop.

Run from the repository root::

    python benchmarks/experiment_scale.py             # 10,000 conversations x 10 turns
    python benchmarks/experiment_scale.py --quick     # 500 conversations, a smoke run

Every conversation: an input, then ``turns`` rounds of (customer message, agent reply),
the agent being the offline chat model with 50 ms of latency per call; the customer is
the seed's scripted (``mock``) supervisor, so only the agent calls a model and both
sides make exactly the same calls. Figures (each run in its own process, so peak RSS is
that run's):

1. wall time of ``run_experiment`` (SQLite store, traces and summary on, no response
   cache) over the hand-written loop's (same model, same concurrency; target <= 1.15),
   and peak RSS (target < 1 GB); the same with the response cache on (the default);
2. the same run replayed from its cassette: wall time and live model calls (target 0);
3. a run killed with SIGKILL at about half way, then resumed: conversations rerun
   (target: only those in flight at the kill, i.e. at most ``parallel_runs``).

The script prints the figures and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


LATENCY = 0.05
QUESTIONS = [
    "Could you check that for me?",
    "What is the next step?",
    "How long will it take?",
    "Is there anything I need to do?",
    "Will I get an email about it?",
    "Can you confirm the details?",
    "What if it happens again?",
    "Is there a reference number?",
    "Can I track the progress?",
    "Anything else I should know?",
]
AGENT_PROMPT = "You are a support agent for an online shop. Be brief and helpful."


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def config_text(args: argparse.Namespace, *, cache: bool) -> str:
    inputs = [f"I need help with order {index}" for index in range(args.inputs)]
    questions = QUESTIONS[: args.turns - 1]
    return json.dumps(
        {
            "name": "scale",
            "description": "batch machinery benchmark",
            "iterations": args.conversations // args.inputs,
            "parallel_runs": args.parallel,
            "seed": 42,
            "model": "bench-offline",
            "agent": {"system_prompt": AGENT_PROMPT},
            "multi_turn": {
                "enabled": True,
                "max_turns": max(2, args.turns),
                "supervisor": {
                    "provider": "mock",
                    "metadata": {"scripted_questions": questions, "mock_closing": ""},
                },
            },
            "inputs": inputs,
            "cache": cache,
            "output_directory": "experiments",
            "save_traces": True,
            "save_aggregated_metrics": True,
        }
    )


def register_model() -> None:
    from clientsim.llm import model_providers
    from clientsim.llm.offline import OfflineChatModel

    model_providers.register(
        "bench-offline", lambda _name: OfflineChatModel(latency_seconds=LATENCY)
    )


# --- children: each measurement runs in a fresh interpreter -------------------------


async def hand_written(args: argparse.Namespace) -> dict[str, Any]:
    """The same conversations as a plain asyncio loop: no runner, no store, no files.

    ``parallel`` workers take conversations from one shared iterator, the way you
    would write it by hand (no task per conversation waiting on a semaphore).
    """
    from langchain_core.messages import HumanMessage, SystemMessage

    from clientsim.llm.offline import OfflineChatModel

    base = OfflineChatModel(latency_seconds=LATENCY)
    questions = QUESTIONS[: args.turns - 1]
    todo = iter(range(args.conversations))
    done: list[list[Any]] = []
    calls = 0

    async def worker() -> None:
        nonlocal calls
        for index in todo:
            model = base.model_copy(update={"seed": index})
            messages: list[Any] = [
                SystemMessage(AGENT_PROMPT),
                HumanMessage(f"I need help with order {index % args.inputs}"),
            ]
            for turn in range(args.turns):
                reply = await model.ainvoke(messages)
                calls += 1
                messages.append(reply)
                if turn < len(questions):
                    messages.append(HumanMessage(questions[turn]))
            done.append(messages)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(args.parallel)))
    wall = time.perf_counter() - start
    return {"wall": wall, "calls": calls, "conversations": len(done)}


async def clientsim_run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from clientsim.experiments import ExperimentConfig, run_experiment

    register_model()
    config = ExperimentConfig.from_file(folder / "simulation.json")
    cassette = folder / "tape.sqlite" if args.cassette else None
    progress = None
    if args.progress:

        def progress(record: Any, finished: int, total: int) -> None:
            print(f"[{finished}/{total}]", flush=True)

    start = time.perf_counter()
    result = await run_experiment(
        config,
        cassette=cassette,
        cassette_mode=args.cassette or "record",
        resume=args.resume,
        progress=progress,
    )
    wall = time.perf_counter() - start
    messages = sum(
        len(r.result.conversation.messages) for r in result.records if r.result
    )
    return {
        "wall": wall,
        "calls": result.live_model_calls,
        "conversations": result.ran,
        "stored": len(result.records),
        "failed": result.failed,
        "messages": messages,
        "run_id": result.run_id,
    }


def child(args: argparse.Namespace) -> None:
    folder = Path(args.folder)
    start_cpu = time.process_time()
    if args.child == "hand":
        figures = asyncio.run(hand_written(args))
    else:
        figures = asyncio.run(clientsim_run(args, folder))
    figures["cpu"] = time.process_time() - start_cpu
    figures["rss_mib"] = peak_rss_mib()
    print("RESULT " + json.dumps(figures), flush=True)


# --- the parent: runs the children and prints the figures -------------------------


def spawn(
    args: argparse.Namespace, folder: Path, mode: str, *extra: str
) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--folder",
        str(folder),
        "--conversations",
        str(args.conversations),
        "--turns",
        str(args.turns),
        "--parallel",
        str(args.parallel),
        "--inputs",
        str(args.inputs),
        *extra,
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    return result


def kill_and_resume(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child",
        "clientsim",
        "--folder",
        str(folder),
        "--conversations",
        str(args.conversations),
        "--turns",
        str(args.turns),
        "--parallel",
        str(args.parallel),
        "--inputs",
        str(args.inputs),
        "--progress",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    seen = 0
    while seen < args.conversations // 2:
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith("["):
            seen += 1
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stdout.close()
    import sqlite3

    store = folder / "experiments" / "runs.sqlite"
    with sqlite3.connect(store) as db:
        (run_id,) = db.execute(
            "SELECT simulation_id FROM simulations ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
        (stored,) = db.execute(
            "SELECT COUNT(*) FROM conversations WHERE run_id = ?", (run_id,)
        ).fetchone()
    resumed = spawn(args, folder, "clientsim", "--resume", run_id)
    with sqlite3.connect(store) as db:
        rows, distinct = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT key) FROM conversations WHERE run_id = ?",
            (run_id,),
        ).fetchone()
    return {
        "stored_at_kill": stored,
        "reported_at_kill": seen,
        "ran_on_resume": resumed["conversations"],
        "rows": rows,
        "distinct": distinct,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--parallel", type=int, default=1_000)
    parser.add_argument("--inputs", type=int, default=100)
    parser.add_argument("--child", choices=["hand", "clientsim"])
    parser.add_argument("--folder")
    parser.add_argument("--cassette", choices=["record", "replay"])
    parser.add_argument("--resume")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.quick:
        args.conversations, args.parallel, args.inputs = 500, 100, 50
    print(
        f"{args.conversations} conversations x {args.turns} turns, parallel_runs "
        f"{args.parallel}, offline model with {LATENCY * 1000:.0f} ms latency "
        f"({os.cpu_count()} CPUs)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folders = {}
        for name, cache in (
            ("plain", False),
            ("cached", True),
            ("tape", False),
            ("kill", False),
        ):
            folders[name] = root / name
            folders[name].mkdir()
            text = config_text(args, cache=cache)
            (folders[name] / "simulation.json").write_text(text)
        hand = spawn(args, folders["plain"], "hand")
        ours = spawn(args, folders["plain"], "clientsim")
        hand_again = spawn(args, folders["plain"], "hand")
        cached = spawn(args, folders["cached"], "clientsim")
        recorded = spawn(args, folders["tape"], "clientsim", "--cassette", "record")
        replayed = spawn(args, folders["tape"], "clientsim", "--cassette", "replay")
        resumed = kill_and_resume(args, folders["kill"])
    hand_wall = min(hand["wall"], hand_again["wall"])
    ratio = ours["wall"] / hand_wall
    print(
        f"hand-written loop: {hand['wall']:.2f} s / {hand_again['wall']:.2f} s wall, "
        f"{hand['cpu']:.1f} s CPU, {hand['calls']} model calls, "
        f"peak RSS {hand['rss_mib']:.0f} MiB"
    )
    print(
        f"1. run_experiment (store + traces, no cache): {ours['wall']:.2f} s wall, "
        f"{ours['cpu']:.1f} s CPU, {ours['calls']} calls, {ours['stored']} stored -> "
        f"{ratio:.3f}x the hand-written loop (target <= 1.15) "
        f"{'PASS' if ratio <= 1.15 else 'MISS'}; peak RSS {ours['rss_mib']:.0f} MiB "
        f"(target < 1024) {'PASS' if ours['rss_mib'] < 1024 else 'MISS'}"
    )
    print(
        f"   with the response cache on (default): {cached['wall']:.2f} s wall "
        f"({cached['wall'] / hand_wall:.3f}x), peak RSS {cached['rss_mib']:.0f} MiB"
    )
    print(
        f"   recording a cassette: {recorded['wall']:.2f} s wall "
        f"({recorded['wall'] / hand_wall:.3f}x)"
    )
    print(
        f"2. replayed from the cassette: {replayed['wall']:.2f} s wall, "
        f"{replayed['calls']} live model calls (target 0) "
        f"{'PASS' if replayed['calls'] == 0 else 'MISS'}, {replayed['failed']} failed"
    )
    not_stored = args.conversations - resumed["stored_at_kill"]
    rerun_stored = resumed["ran_on_resume"] - not_stored
    complete = resumed["rows"] == resumed["distinct"] == args.conversations
    verdict = "PASS" if rerun_stored == 0 and complete else "MISS"
    print(
        f"3. killed with {resumed['stored_at_kill']} of {args.conversations} stored; "
        f"the resume ran {resumed['ran_on_resume']}: the {not_stored} not stored (those "
        f"in flight at the kill, at most {args.parallel}, and those not yet started), "
        f"stored ones run again: {rerun_stored}; rows {resumed['rows']}, distinct "
        f"{resumed['distinct']} -> {verdict}"
    )


if __name__ == "__main__":
    main()
