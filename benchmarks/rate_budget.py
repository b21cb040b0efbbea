"""Requests per minute one rate budget achieves against its limit, with 1 and with 4
processes sharing it.

A loopback OpenAI-compatible server stands for a provider allowing 600 requests a
minute (at most 10 accepted in any 1-second window; a 429 with ``Retry-After``
beyond). The processes (``tests/integration/rate_budget_worker.py``) make their calls
all at once through a run's model, with ``RATE_LIMIT_REQUESTS=600`` and
``RATE_LIMIT_WINDOW=60`` (and again with the budget at 95% of the limit, 570) on
one shared backend (an SQLite file, and Redis when
``REDIS_URL`` is set). Printed per case: calls, seconds from the first accepted call
to the last, requests per minute achieved (``(calls - 1) / seconds x 60``), that as a
share of 600, and the 429s the server answered.

    python benchmarks/rate_budget.py            # 200 calls a case (~20 s each)
    python benchmarks/rate_budget.py --quick    # 40 calls a case
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import anyio


ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.integration import test_rate_budget_processes as scenario  # noqa: E402


LIMIT_PER_MINUTE = 600


async def case(processes: int, calls: int, backend: dict[str, str], budget: int) -> str:
    scenario.PROCESSES = processes
    scenario.CALLS = calls // processes
    server = await scenario._run_processes(  # noqa: SLF001 - the test's own scenario
        {**backend, "RATE_LIMIT_WINDOW": "60"}, requests=budget, seconds=600
    )
    accepted = sorted(server.accepted)
    seconds = accepted[-1] - accepted[0]
    per_minute = (len(accepted) - 1) / seconds * 60
    return (
        f"{budget:>6} | {processes:>9} | {len(accepted):>5} | {seconds:>7.2f} | {per_minute:>7.0f} "
        f"| {per_minute / LIMIT_PER_MINUTE:>6.1%} | {len(server.refused):>4}"
    )


async def main(calls: int) -> None:
    backends = {}
    with tempfile.TemporaryDirectory() as folder:
        backends["sqlite"] = {"RATE_LIMIT_BACKEND": f"sqlite:{folder}/budget.sqlite"}
        if os.environ.get("REDIS_URL"):
            backends["redis"] = {"REDIS_URL": os.environ["REDIS_URL"]}
        print(f"limit {LIMIT_PER_MINUTE} requests a minute (10 in any second)")
        print(
            "backend | budget | processes | calls | seconds | per min | of lim | 429s"
        )
        for name, backend in backends.items():
            for budget in (LIMIT_PER_MINUTE, LIMIT_PER_MINUTE * 95 // 100):
                for processes in (1, 4):
                    figures = await case(processes, calls, backend, budget)
                    print(f"{name:>7} | {figures}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 calls a case")
    parser.add_argument("--strict", action="store_true", help="(no targets here)")
    args = parser.parse_args()
    anyio.run(main, 40 if args.quick else 200)
