"""Client simulation replicates and team sessions on the Ray executor (a local cluster
of 2 worker CPUs): the same results as the local executor."""

from __future__ import annotations

from typing import Any

import pytest

from clientsim.models.frozen import thaw
from clientsim.simulation import (
    ClientSimulationConfig,
    SimulationResult,
    run_simulations,
)
from clientsim.store import InMemoryStore
from clientsim.teams import TeamConfig, TeamScenario, run_sessions


pytestmark = [pytest.mark.anyio, pytest.mark.xdist_group("ray")]


def journey(result: SimulationResult) -> list[Any]:
    steps: list[Any] = [
        (o.client_id, o.requirement, o.declined, o.task_id, o.task_status, o.accepted)
        for o in result.outcomes
    ]
    steps += [(o.rework_rounds, o.feedback, o.error) for o in result.outcomes]
    return [*steps, result.simulation_id, result.status]


def without_clock(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: without_clock(item)
            for key, item in value.items()
            if key not in {"timestamp", "started_at"}
        }
    if isinstance(value, list | tuple):
        return [without_clock(item) for item in value]
    return value


async def test_client_simulation_replicates_on_ray_equal_local(ray_cluster: str):
    config = ClientSimulationConfig.from_dict(
        {"pool": {"size": 3}, "runner": {"requirements_per_round": 3, "seed": 2}}
    )
    store = InMemoryStore()
    on_ray = await run_simulations(
        config,
        replicates=3,
        executor={"strategy": "ray", "address": ray_cluster},
        store=store,
        batch_id="ray",
    )
    local = await run_simulations(config, replicates=3, batch_id="ray")
    assert [journey(r) for r in on_ray] == [journey(r) for r in local]
    assert [(await store.get_simulation(r.simulation_id)).status for r in on_ray] == [
        "completed"
    ] * 3


async def test_team_sessions_on_ray_equal_local(ray_cluster: str):
    config = TeamConfig(
        scenario=TeamScenario(title="Launch", brief="Ship v2?"),
        team=["CEO", "Designer", "Simulation Analyst"],
        max_turns=4,
        seed=6,
    )
    store = InMemoryStore()
    plans = [{"change": "CEO.goal=Ship now", "at_turn": 2}]
    on_ray = await run_sessions(
        config,
        sessions=3,
        what_ifs=plans,
        executor={"strategy": "ray", "address": ray_cluster},
        store=store,
        batch_id="ray",
    )
    local = await run_sessions(config, sessions=3, what_ifs=plans, batch_id="ray")
    assert [run.error for run in on_ray] == [None] * 3

    def documents(runs):
        return [
            [without_clock(thaw(record.document)) for record in run.records]
            for run in runs
        ]

    assert documents(on_ray) == documents(local)
    assert {r.session_id for r in await store.team_sessions()} == {
        record.session_id for run in on_ray for record in run.records
    }
