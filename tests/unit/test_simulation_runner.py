"""SimulationRunner and ContinuousMode end to end, offline."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from clientsim.errors import ConfigError, DuplicateSimulationError, UnknownStrategyError
from clientsim.models.client import ReviewStageResult, Task, TaskStatus
from clientsim.simulation.config import ClientSimulationConfig, ContinuousModeConfig
from clientsim.simulation.runner import ContinuousMode, SimulationRunner
from clientsim.store import InMemoryStore
from clientsim.tasks import InMemoryTaskEngine


DOMAINS = [
    "backend",
    "frontend",
    "data",
    "infra",
    "security",
    "mobile",
    "docs",
]


def config(low: float, high: float, **runner: Any) -> ClientSimulationConfig:
    return ClientSimulationConfig.from_dict(
        {
            "pool": {
                "size": 7,
                "strictness_range": [low, high],
                "domains": DOMAINS,
                "selection_strategy": "domain_matched",
            },
            "generators": {"strategy": "dataset"},
            "runner": {
                "rounds": 2,
                "requirements_per_round": 20,
                "max_concurrent": 8,
                **runner,
            },
        }
    )


async def thorough(task: Task, feedback: Sequence[ReviewStageResult]) -> str:
    criteria = task.requirement.acceptance_criteria
    return "Delivered. " + " ".join(f"Done: {c}." for c in criteria)


async def partial(task: Task, feedback: Sequence[ReviewStageResult]) -> str:
    """Covers a seeded share of the criteria; a rework covers what review named."""
    rng = random.Random(task.task_id)
    criteria = task.requirement.acceptance_criteria
    done = [c for c in criteria if rng.random() < 0.6]
    for result in feedback:
        done += [c for c in criteria if result.reason and c in result.reason]
    return "Delivered. " + " ".join(f"Done: {c}." for c in dict.fromkeys(done))


async def test_a_thorough_agent_is_accepted():
    runner = SimulationRunner.from_config(
        config(0.2, 0.8), task_engine=InMemoryTaskEngine(thorough)
    )
    result = await runner.run()
    metrics = result.metrics
    assert metrics.requirements == 40
    assert metrics.submitted + metrics.declined == 40
    assert metrics.tasks_created == metrics.submitted
    assert metrics.tasks_completed == metrics.tasks_created
    assert metrics.acceptance_rate == 1.0
    # Strict clients are sometimes picky; a rework then satisfies them.
    assert metrics.first_pass_acceptance_rate >= 0.8
    assert metrics.rework_rounds_total <= metrics.tasks_created * 0.2
    assert metrics.stage_latency_seconds["work"]["p50"] is not None
    assert result.status == "completed"
    assert "acceptance rate 100.0%" in str(result.report("summary"))


async def test_stricter_clients_accept_less_and_ask_for_more_rework():
    lenient = await SimulationRunner.from_config(
        config(0.0, 0.1), task_engine=InMemoryTaskEngine(partial, rework_limit=0)
    ).run()
    strict = await SimulationRunner.from_config(
        config(0.9, 1.0), task_engine=InMemoryTaskEngine(partial, rework_limit=0)
    ).run()
    assert lenient.metrics.reviewed >= 10
    assert strict.metrics.reviewed >= 10
    assert strict.metrics.acceptance_rate < lenient.metrics.acceptance_rate


async def test_rejected_work_is_reworked_until_accepted_or_the_limit():
    result = await SimulationRunner.from_config(
        config(0.5, 0.9), task_engine=InMemoryTaskEngine(partial, rework_limit=2)
    ).run()
    metrics = result.metrics
    assert metrics.rework_rounds_total > 0
    assert metrics.tasks_completed + metrics.tasks_failed == metrics.tasks_created
    for outcome in result.outcomes:
        if outcome.task_status is TaskStatus.FAILED:
            assert outcome.rework_rounds == 2
            assert outcome.accepted is False
        if outcome.feedback:
            assert outcome.accepted == outcome.feedback[-1].accepted


async def test_a_simulation_id_can_be_registered_once():
    store = InMemoryStore()
    first = SimulationRunner.from_config(
        config(0.2, 0.8, rounds=1, requirements_per_round=2),
        task_engine=InMemoryTaskEngine(thorough),
        store=store,
        simulation_id="sim-1",
    )
    await first.run()
    again = SimulationRunner.from_config(
        config(0.2, 0.8, rounds=1, requirements_per_round=2),
        task_engine=InMemoryTaskEngine(thorough),
        store=store,
        simulation_id="sim-1",
    )
    with pytest.raises(DuplicateSimulationError, match="sim-1"):
        await again.run()
    info = await store.get_simulation("sim-1")
    assert info is not None
    assert info.status == "completed"


def test_the_factory_refuses_a_hybrid_generator_and_a_pool_without_a_human():
    data = config(0.2, 0.8).to_dict()
    data["generators"] = {"strategy": "hybrid"}
    with pytest.raises(UnknownStrategyError, match="hybrid"):
        SimulationRunner.from_config(
            ClientSimulationConfig.from_dict(data),
            task_engine=InMemoryTaskEngine(thorough),
        )
    data = config(0.2, 0.8).to_dict()
    data["pool"].update(ai_ratio=0.5, human_ratio=0.5)
    with pytest.raises(ConfigError, match="QueueHuman"):
        SimulationRunner.from_config(
            ClientSimulationConfig.from_dict(data),
            task_engine=InMemoryTaskEngine(thorough),
        )


async def test_continuous_mode_stops_after_the_round_in_progress():
    runner = SimulationRunner.from_config(
        config(0.2, 0.8, requirements_per_round=3),
        task_engine=InMemoryTaskEngine(thorough),
    )
    mode = ContinuousMode(
        runner, ContinuousModeConfig(interval_seconds=30, max_concurrent=2)
    )
    result: list[Any] = []

    async def run() -> None:
        result.append(await mode.run())

    async with anyio.create_task_group() as group:
        group.start_soon(run)
        with anyio.fail_after(30):
            while mode.rounds_done < 1:
                await anyio.lowlevel.checkpoint()
        mode.stop()
    (done,) = result
    assert mode.rounds_done == 1
    assert done.metrics.requirements == 3
    assert done.status == "completed"


async def test_continuous_mode_honours_max_rounds():
    runner = SimulationRunner.from_config(
        config(0.2, 0.8, requirements_per_round=2),
        task_engine=InMemoryTaskEngine(thorough),
    )
    result = await ContinuousMode(
        runner,
        ContinuousModeConfig(interval_seconds=0.01, max_concurrent=2, max_rounds=3),
    ).run()
    assert result.metrics.requirements == 6


async def test_cancelling_continuous_mode_leaves_no_half_written_state():
    stall = anyio.Event()

    async def slow(task: Task, feedback: Sequence[ReviewStageResult]) -> str:
        if task.task_id != "task-1":
            await stall.wait()  # never set: these are in flight at the cancel
        return await thorough(task, feedback)

    engine = InMemoryTaskEngine(slow)
    runner = SimulationRunner.from_config(
        config(0.0, 0.1, requirements_per_round=6), task_engine=engine
    )
    mode = ContinuousMode(
        runner, ContinuousModeConfig(interval_seconds=30, max_concurrent=6)
    )
    async with anyio.create_task_group() as group:
        group.start_soon(mode.run)
        with anyio.fail_after(30):
            while not mode.runner.outcomes:
                await anyio.lowlevel.checkpoint()
        group.cancel_scope.cancel()
    assert all(
        outcome.task_status is not None or outcome.declined or outcome.request_status
        for outcome in mode.runner.outcomes
    )
    for task in engine.tasks():
        assert task.status in {TaskStatus.COMPLETED, TaskStatus.CANCELLED}
        walked = (*task.history, task.status)
        assert walked[0] is TaskStatus.CREATED
    assert any(task.status is TaskStatus.CANCELLED for task in engine.tasks())
    info = await runner.store.get_simulation(runner.simulation_id)
    assert info is not None
    assert info.status == "cancelled"


async def test_the_configured_report_style_is_the_default():
    data = config(0.2, 0.8, rounds=1, requirements_per_round=2).to_dict()
    data["report"] = {"strategy": "metrics_only"}
    result = await SimulationRunner.from_config(
        ClientSimulationConfig.from_dict(data), task_engine=InMemoryTaskEngine(thorough)
    ).run()
    assert isinstance(result.report(), dict)
    assert isinstance(result.report("summary"), str)


async def test_a_client_that_fails_to_file_is_recorded_not_fatal():
    from clientsim.clients.ai import AIClient
    from clientsim.errors import ModelError

    class Broken(AIClient):
        async def submit_requirement(self, context: Any) -> Any:
            raise ModelError("the model is down")

    runner = SimulationRunner.from_config(
        config(0.2, 0.8, rounds=1, requirements_per_round=4),
        task_engine=InMemoryTaskEngine(thorough),
    )
    runner.clients = [Broken(client.profile) for client in runner.clients]
    result = await runner.run()
    assert result.status == "completed"
    assert len(result.outcomes) == 4
    assert all("the model is down" in (o.error or "") for o in result.outcomes)
    assert [o.requirement.title for o in result.outcomes] == [
        o.requirement.title for o in result.outcomes
    ]
