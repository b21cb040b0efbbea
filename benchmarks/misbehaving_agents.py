"""The misbehaving-agent matrix: how each run ends, and how long it takes to.

Run from the repository root::

    python benchmarks/misbehaving_agents.py            # every case once (about 1 minute)
    python benchmarks/misbehaving_agents.py --repeat 3 # each case 3 times, the slowest shown
    python benchmarks/misbehaving_agents.py http-slow sync-hang   # only these cases

Each case (``tests/misbehaving_agents.py``) starts an agent that misbehaves (an HTTP or
WebSocket server on 127.0.0.1, or a sync/async callable) and runs one conversation of
the offline LLM customer against it through ``clientsim.simulate``, with a deadline
(``max_duration_seconds``) of 2 or 3 s and a reply timeout of 1 s. The 1 GiB reply runs
in a child process, so its peak RSS is its own; ``cli-sync-hang`` is an experiment
file whose runner target never returns, run by ``clientsim run`` in a child process.

The table (Markdown, on stdout; progress on stderr) gives per case: the deadline, the
measured time from the call to its return (for ``cli-sync-hang``, the conversation's
recorded duration, and the process's exit apart), the ending reason, the error record
(class, side, transient) and, for child processes, the exit and peak RSS. "promise" is
"kept" when the run ended within its deadline + 1 s with the reason the case expects
(and under 100 MB where measured): what ``tests/integration/test_reliability.py``
asserts. The script exits 0 whatever the figures are, unless ``--strict`` is given.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

import anyio  # noqa: E402
from tests import misbehaving_agents as matrix  # noqa: E402


async def run_all(
    names: list[str], repeat: int
) -> list[tuple[matrix.Case, matrix.Observed]]:
    cases = [*matrix.CASES, matrix.CLI_HANG]
    chosen = [case for case in cases if not names or case.name in names]
    rows: list[tuple[matrix.Case, matrix.Observed]] = []
    for case in chosen:
        seen_all = []
        for _ in range(repeat):
            print(f"{case.name} ...", file=sys.stderr, flush=True)
            if case is matrix.CLI_HANG:
                with tempfile.TemporaryDirectory() as folder:
                    seen = await anyio.to_thread.run_sync(
                        matrix.observe_cli_hang, Path(folder)
                    )
            else:
                seen = await matrix.run_case(case)
            seen_all.append(seen)
        worst = max(
            seen_all, key=lambda seen: (bool(matrix.problems(case, seen)), seen.seconds)
        )
        rows.append((case, worst))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help="case names (default: all)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 if a promise is broken"
    )
    args = parser.parse_args()
    known = {case.name for case in (*matrix.CASES, matrix.CLI_HANG)}
    unknown = sorted(set(args.cases) - known)
    if unknown:
        parser.error(f"unknown case(s) {unknown}; known: {sorted(known)}")
    rows = anyio.run(run_all, args.cases, args.repeat)
    for line in matrix.iter_table(rows):
        print(line)
    broken = [(case, seen) for case, seen in rows if matrix.problems(case, seen)]
    print(f"\n{len(rows) - len(broken)} of {len(rows)} kept the promise.")
    for case, seen in broken:
        print(f"- {case.name}: {'; '.join(matrix.problems(case, seen))[:300]}")
    if args.strict and broken:
        sys.exit(1)


if __name__ == "__main__":
    main()
