"""Client simulations in batches (run_simulations): whole replicates through an
executor, the same results as one by one in-process, faults kept on their result,
the store written in the driver, and work that pickles."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientsim import factory, hookimpl
from clientsim.errors import ConfigError, DuplicateSimulationError, UnknownStrategyError
from clientsim.participants import LLMParticipant
from clientsim.plugins import register_plugin, unregister_plugin
from clientsim.requirements.template import TemplateGenerator
from clientsim.runners.executors import LocalExecutor
from clientsim.simulation import (
    ClientSimulationConfig,
    SimulationReplicate,
    SimulationResult,
    SimulationRunner,
    SimulationWork,
    run_simulations,
)
from clientsim.store import InMemoryStore
from clientsim.tasks import InMemoryTaskEngine
from tests.executor_fakes import ExecutorPlugin, RecordingExecutor, round_trip


pytestmark = pytest.mark.anyio

CONFIG = ClientSimulationConfig.from_dict(
    {
        "pool": {"size": 3},
        "runner": {"rounds": 2, "requirements_per_round": 3, "seed": 11},
    }
)


def journey(result: SimulationResult) -> list[tuple[Any, ...]]:
    """A result without its wall-clock parts (timings, timestamps)."""
    return [
        (
            outcome.client_id,
            outcome.requirement,
            outcome.declined,
            outcome.request_id,
            outcome.request_status,
            outcome.task_id,
            outcome.task_status,
            outcome.accepted,
            outcome.rework_rounds,
            outcome.feedback,
            outcome.error,
        )
        for outcome in result.outcomes
    ] + [(result.simulation_id, result.status, result.error)]


async def one_by_one(config: ClientSimulationConfig, seed: int, simulation_id: str):
    """Today's path: one SimulationRunner in this process."""
    seeded = ClientSimulationConfig.from_dict(
        {**config.to_dict(), "runner": {**config.to_dict()["runner"], "seed": seed}}
    )
    engine = InMemoryTaskEngine(
        LLMParticipant.from_config(role="agent", model="offline")
    )
    runner = SimulationRunner.from_config(
        seeded, task_engine=engine, simulation_id=simulation_id
    )
    return await runner.run()


async def test_local_replicates_equal_the_same_runs_one_by_one_in_process():
    results = await run_simulations(
        CONFIG, replicates=3, executor="local", parallel=3, batch_id="rep"
    )
    assert [r.simulation_id for r in results] == ["rep-1", "rep-2", "rep-3"]
    for index, result in enumerate(results):
        alone = await one_by_one(CONFIG, 11 + index, f"rep-{index + 1}")
        assert journey(result) == journey(alone)
        assert result.metrics.requirements == 6
    # Different seeds, different simulations.
    assert journey(results[0])[:-1] != journey(results[1])[:-1]


async def test_explicit_seeds_come_back_in_seed_order_and_the_store_gets_each():
    store = InMemoryStore()
    seen: list[str] = []
    results = await run_simulations(
        CONFIG,
        seeds=[7, 3, 5],
        store=store,
        parallel=2,
        batch_id="seeds",
        on_result=lambda result: seen.append(result.simulation_id),
    )
    assert [r.simulation_id for r in results] == ["seeds-1", "seeds-2", "seeds-3"]
    assert sorted(seen) == ["seeds-1", "seeds-2", "seeds-3"]
    for index, seed in enumerate([7, 3, 5]):
        info = await store.get_simulation(f"seeds-{index + 1}")
        assert info is not None
        assert info.status == "completed"
        assert info.metadata["seed"] == seed
        assert info.metadata["replicates"] == 3
    with pytest.raises(DuplicateSimulationError, match="seeds-1"):
        await run_simulations(CONFIG, seeds=[1], store=store, batch_id="seeds")


async def test_the_replicates_go_through_a_plugin_executor_named_in_the_config():
    plugin = ExecutorPlugin()
    register_plugin(plugin)
    RecordingExecutor.units.clear()
    RecordingExecutor.limits.clear()
    try:
        config = ClientSimulationConfig.from_dict(
            {**CONFIG.to_dict(), "executor": "recording"}
        )
        results = await run_simulations(
            config, replicates=2, batch_id="plug", parallel=1
        )
    finally:
        unregister_plugin(plugin)
    assert [unit.simulation_id for unit in RecordingExecutor.units] == [
        "plug-1",
        "plug-2",
    ]
    assert RecordingExecutor.limits == [1]
    local = await run_simulations(CONFIG, replicates=2, batch_id="plug")
    assert [journey(r) for r in results] == [journey(r) for r in local]
    assert "recording" not in factory.executors


class FlakyGenerator:
    """Fails the whole simulation whose runner seed is ``bad`` (outside any task)."""

    def __init__(self, *, bad: int, config: bool = False) -> None:
        self.bad = bad
        self.config = config
        self.inner = TemplateGenerator()

    async def generate(self, count: int, *, seed: int | None = None):
        if seed is not None and seed // 1_000_003 == self.bad:
            if self.config:
                raise ConfigError("the flaky generator was told to fail")
            raise RuntimeError("the generator broke")
        return await self.inner.generate(count, seed=seed)


class GeneratorPlugin:
    @hookimpl
    def clientsim_register_requirement_generators(self, register):
        register("flaky", FlakyGenerator)


async def test_a_fault_in_one_replicate_is_kept_on_its_result_the_others_finish():
    plugin = GeneratorPlugin()
    register_plugin(plugin)
    try:
        config = ClientSimulationConfig.from_dict(
            {
                **CONFIG.to_dict(),
                "generators": {"strategy": "flaky", "options": {"bad": 12}},
            }
        )
        store = InMemoryStore()
        results = await run_simulations(
            config, replicates=3, store=store, batch_id="fault"
        )
        assert [r.status for r in results] == ["completed", "failed", "completed"]
        assert results[1].error == "RuntimeError: the generator broke"
        assert results[0].error is None
        assert "error: RuntimeError" in str(results[1].report("summary"))
        assert results[1].report("json_export")["error"].startswith("RuntimeError")
        assert (await store.get_simulation("fault-2")).status == "failed"
        assert (await store.get_simulation("fault-3")).status == "completed"

        stops = ClientSimulationConfig.from_dict(
            {
                **CONFIG.to_dict(),
                "generators": {
                    "strategy": "flaky",
                    "options": {"bad": 11, "config": True},
                },
            }
        )
        with pytest.raises(ConfigError, match="told to fail"):
            await run_simulations(stops, replicates=3, parallel=1)
    finally:
        unregister_plugin(plugin)


async def test_a_pool_with_human_clients_cannot_be_replicated():
    config = ClientSimulationConfig.from_dict(
        {"pool": {"size": 2, "ai_ratio": 0.5, "human_ratio": 0.5}}
    )
    with pytest.raises(ConfigError, match="human"):
        await run_simulations(config, replicates=2)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"seeds": [1], "replicates": 2}, "not both"),
        ({"seeds": []}, "non-empty list"),
        ({"seeds": "12"}, "non-empty list"),
        ({"replicates": 0}, "replicates"),
        ({"parallel": 0}, "parallel"),
        ({"seeds": [-1]}, "seed"),
    ],
)
async def test_bad_arguments_are_refused_before_anything_runs(options, message):
    with pytest.raises(ConfigError, match=message):
        await run_simulations(CONFIG, **options)


async def test_an_unknown_executor_lists_the_known_ones():
    with pytest.raises(UnknownStrategyError, match="local"):
        await run_simulations(CONFIG, executor="nope")
    with pytest.raises(ConfigError, match="config"):
        await run_simulations("config.yaml", replicates=1)  # type: ignore[arg-type]


def test_the_work_and_its_results_pickle():
    work = SimulationWork(config=CONFIG.to_dict(), worker="tests.fakes:Timed")
    unit = SimulationReplicate(index=0, seed=3, simulation_id="p-1")
    assert round_trip(work) == work
    assert round_trip(unit) == unit
    (result,) = anyio.run(lambda: run_simulations(CONFIG, seeds=[3]))
    assert round_trip(result) == result


def test_the_work_round_trips_through_cloudpickle():
    cloudpickle = pytest.importorskip("ray.cloudpickle")
    work = SimulationWork(config=CONFIG.to_dict())
    again = cloudpickle.loads(cloudpickle.dumps(work))
    assert again == work
    unit = SimulationReplicate(index=1, seed=12, simulation_id="c-2")
    shipped = anyio.run(again, cloudpickle.loads(cloudpickle.dumps(unit)))
    assert shipped.status == "completed"


names = st.text(min_size=1, max_size=20).filter(lambda text: text.strip())
executor_values = names | st.fixed_dictionaries(
    {"strategy": names},
    optional={"workers": st.integers(1, 8), "address": st.text(max_size=10)},
)


@given(executor_values)
def test_the_executor_key_round_trips(value):
    config = ClientSimulationConfig.from_dict({"executor": value})
    assert config.executor == value
    assert ClientSimulationConfig.from_dict(config.to_dict()) == config


@given(
    st.integers()
    | st.lists(st.text(), max_size=2)
    | st.just("  ")
    | st.fixed_dictionaries({"workers": st.integers()})
)
def test_a_bad_executor_key_is_refused(value):
    with pytest.raises(ConfigError, match="executor"):
        ClientSimulationConfig.from_dict({"executor": value})


def test_a_config_without_an_executor_dumps_as_before():
    assert "executor" not in ClientSimulationConfig().to_dict()


async def test_no_more_than_parallel_replicates_run_at_once():
    running = 0
    most = 0
    gate = anyio.Event()

    def count(result: SimulationResult) -> None:
        gate.set()

    class Counting(LocalExecutor):
        async def map(self, work, items, *, limit, on_result, delay_seconds=0.0):
            async def counted(item):
                nonlocal running, most
                running += 1
                most = max(most, running)
                try:
                    return await work(item)
                finally:
                    running -= 1

            await super().map(
                counted, items, limit=limit, on_result=on_result,
                delay_seconds=delay_seconds,
            )  # fmt: skip

    results = await run_simulations(
        CONFIG, replicates=5, parallel=2, executor=Counting(), on_result=count
    )
    assert len(results) == 5
    assert most == 2
    assert gate.is_set()
