"""A client simulation, offline: simulated clients against a small "agent".

The agent does a seeded share of each requirement's acceptance criteria and, when a
client rejects the work, does what the review named. The same agent runs against a
lenient and a strict client pool: the strict pool accepts less and asks for more
rework.

    python examples/client_simulation/run.py
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import anyio
import attrs

from clientsim.models.client import ReviewStageResult, Task
from clientsim.simulation import ClientSimulationConfig, SimulationRunner
from clientsim.tasks import InMemoryTaskEngine


CONFIG = Path(__file__).with_name("config.yaml")


async def my_agent(task: Task, feedback: Sequence[ReviewStageResult]) -> str:
    """The system under test: returns the deliverable for ``task``."""
    criteria = task.requirement.acceptance_criteria
    rng = random.Random(task.task_id)
    done = [criterion for criterion in criteria if rng.random() < 0.7]
    for review in feedback:  # rework: do what the client said was missing
        done += [c for c in criteria if review.reason and c in review.reason]
    lines = [f"Delivered: {task.requirement.title}."]
    lines += [f"- Done: {criterion}." for criterion in dict.fromkeys(done)]
    return "\n".join(lines)


async def main() -> None:
    config = ClientSimulationConfig.from_file(CONFIG)
    runner = SimulationRunner.from_config(
        config, task_engine=InMemoryTaskEngine(worker=my_agent, rework_limit=2)
    )
    result = await runner.run()
    print(result.report("summary"))
    print()
    for low, high in ((0.0, 0.2), (0.8, 1.0)):
        pool = attrs.evolve(config.pool, strictness_range=(low, high))
        strictness = attrs.evolve(config, pool=pool)
        run = await SimulationRunner.from_config(
            strictness, task_engine=InMemoryTaskEngine(worker=my_agent, rework_limit=2)
        ).run()
        metrics = run.metrics
        print(
            f"strictness {low:.1f}-{high:.1f}: first-pass acceptance "
            f"{metrics.first_pass_acceptance_rate:.0%}, rework rounds "
            f"{metrics.rework_rounds_total}, declined {metrics.declined} of "
            f"{metrics.requirements}"
        )


if __name__ == "__main__":
    anyio.run(main)
