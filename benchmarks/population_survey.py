"""What a population survey costs at model latency: 1,000 personas x 10 questions.

Run from the repository root::

    python benchmarks/population_survey.py            # the full figures
    python benchmarks/population_survey.py --quick    # a smoke run with small N

Each persona's survey is one unit of the batch runner; its model calls run one after
another (each question waits for the answer before), and units run ``parallel_runs``
at a time. The offline model waits 50 ms per call (``anyio.sleep``), so the ideal
wall time is ``ceil(units / parallel_runs) x calls per unit x 50 ms``; the figure is
the measured wall time over that ideal (target: at most 1.2) and the peak RSS of the
process. CPU time (``time.process_time``) is printed too: when it approaches the
ideal wall time, the run is bound by the CPU, not by the model's latency.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time

import anyio

from clientsim import OfflineChatModel
from clientsim.models.persona import Persona
from clientsim.models.survey import Question
from clientsim.population import run_mode
from clientsim.population.survey import SurveyMode


LATENCY = 0.05


def personas(n: int) -> list[Persona]:
    bands = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
    return [
        Persona(
            id=f"p{i:05d}",
            name=f"Person {i}",
            demographics={"age_band": bands[i % len(bands)], "region": f"R{i % 4}"},
            background="Lives in a mid-sized town.",
        )
        for i in range(n)
    ]


def questions(n: int) -> list[Question]:
    made = []
    for i in range(n):
        if i % 3 == 0:
            made.append(
                Question(id=f"q{i}", text=f"Rate idea {i} from 1 to 10.", type="scale")
            )
        elif i % 3 == 1:
            made.append(
                Question(
                    id=f"q{i}",
                    text=f"Which option for idea {i}?",
                    type="choice",
                    options=("Yes", "No", "Maybe"),
                )
            )
        else:
            made.append(Question(id=f"q{i}", text=f"What do you think of idea {i}?"))
    return made


def measure(n_personas: int, n_questions: int, parallel: int) -> dict[str, float]:
    mode = SurveyMode(
        questions(n_questions), model=OfflineChatModel(latency_seconds=LATENCY)
    )
    people = personas(n_personas)

    async def main() -> int:
        run = await run_mode(
            mode, people, run_id="bench", seed=1, parallel_runs=parallel
        )
        assert len(run.responses) == n_personas, len(run.responses)
        return run.live_model_calls

    cpu, wall = time.process_time(), time.perf_counter()
    calls = anyio.run(main)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    per_unit = calls / n_personas
    ideal = math.ceil(n_personas / parallel) * per_unit * LATENCY
    return {
        "calls": calls,
        "per_unit": per_unit,
        "wall": wall,
        "ideal": ideal,
        "ratio": wall / ideal,
        "cpu": cpu,
        "cpu_per_call_ms": 1000 * cpu / calls,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run with small N")
    args = parser.parse_args()
    n, q = (50, 3) if args.quick else (1000, 10)
    print(
        f"{n} personas x {q} questions, offline model at {LATENCY * 1000:.0f} ms a call"
    )
    print(
        f"{'parallel':>8} {'calls':>7} {'wall s':>8} {'ideal s':>8} {'wall/ideal':>10} "
        f"{'cpu s':>7} {'cpu/call':>9}"
    )
    for parallel in (10, 25, 50) if not args.quick else (10,):
        f = measure(n, q, parallel)
        print(
            f"{parallel:>8} {f['calls']:>7.0f} {f['wall']:>8.2f} {f['ideal']:>8.2f} "
            f"{f['ratio']:>10.3f} {f['cpu']:>7.2f} {f['cpu_per_call_ms']:>7.2f}ms"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
