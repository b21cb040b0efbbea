"""Team sessions in batches (run_sessions): whole sessions (with their what-ifs)
through an executor, the same records as one by one in-process, the store written in
the driver, faults kept on their run, and work that pickles."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.outputs import ChatResult

from clientsim import factory, hookimpl
from clientsim.errors import ConfigError, DuplicateSimulationError, UnknownStrategyError
from clientsim.models.frozen import thaw
from clientsim.plugins import register_plugin, unregister_plugin
from clientsim.store import InMemoryStore, SQLiteStore
from clientsim.teams import (
    SessionRun,
    TeamConfig,
    TeamScenario,
    TeamSession,
    WhatIfPlan,
    load_team_config,
    run_sessions,
    start,
)
from clientsim.teams.batch import SessionUnit, SessionWork
from tests.executor_fakes import ExecutorPlugin, RecordingExecutor, round_trip


pytestmark = pytest.mark.anyio

SCENARIO = TeamScenario(
    title="Launch", brief="Ship v2 with open bugs?", parameters={"budget": 5000}
)
TEAM = ["CEO", "Engineering Lead", "Designer", "Simulation Analyst"]
CONFIG = TeamConfig(scenario=SCENARIO, team=TEAM, max_turns=5, seed=20)


def without_clock(value: Any) -> Any:
    """A stored document without its wall-clock parts (timestamps, start time)."""
    if isinstance(value, dict):
        return {
            key: without_clock(item)
            for key, item in value.items()
            if key not in {"timestamp", "started_at", "created_at"}
        }
    if isinstance(value, list | tuple):
        return [without_clock(item) for item in value]
    return value


def document(record: Any) -> Any:
    return without_clock(thaw(record.document))


async def test_local_sessions_equal_the_same_sessions_one_by_one_in_process():
    store = InMemoryStore()
    runs = await run_sessions(
        CONFIG, sessions=3, executor="local", store=store, batch_id="b"
    )
    assert [(run.session_id, run.seed) for run in runs] == [
        ("b-1", 20),
        ("b-2", 21),
        ("b-3", 22),
    ]
    for run in runs:
        assert run.error is None
        assert run.turns == 5
        assert run.ending == "max_messages"
        alone = await start(CONFIG, seed=run.seed, session_id=run.session_id)
        await alone.run()
        assert run.record is not None
        assert document(run.record) == without_clock(alone.to_data())
        stored = await store.team_session(run.session_id)
        assert stored is not None
        assert document(stored) == document(run.record)
    assert (
        document(runs[0].record)["transcript"] != document(runs[1].record)["transcript"]
    )


async def test_what_ifs_run_as_branches_of_every_session_and_are_stored(tmp_path):
    plan = {"change": "scenario.budget=100", "at_turn": 2}
    async with SQLiteStore(tmp_path / "teams.db") as store:
        runs = await run_sessions(
            CONFIG,
            seeds=[4, 9],
            turns=4,
            what_ifs=[plan, WhatIfPlan(at_turn=3, turns=4)],
            store=store,
            batch_id="w",
        )
        for run in runs:
            assert run.turns == 4
            assert len(run.branches) == 2
            here = InMemoryStore()
            alone = await start(
                CONFIG, seed=run.seed, session_id=run.session_id, store=here
            )
            await alone.run(until=4)
            changed = await alone.what_if("scenario.budget=100", at_turn=2)
            same = await alone.what_if(None, at_turn=3, turns=4)
            assert same.first_difference is None
            for record, comparison in zip(run.branches, [changed, same], strict=True):
                assert record.parent_id == run.session_id
                expected = await here.team_session(comparison.branch_id)
                assert expected is not None
                assert document(record) == document(expected)
                stored = await store.team_session(record.session_id)
                assert stored is not None
                assert document(stored) == document(record)
            assert (
                document(run.branches[0])["transcript"]
                != document(run.record)["transcript"]
            )
            loaded = await TeamSession.load(run.session_id, store)
            assert loaded.turn == 4


async def test_the_sessions_go_through_a_plugin_executor_named_in_the_team_file(
    tmp_path,
):
    (tmp_path / "team.yaml").write_text(
        "scenario: {title: Pricing, brief: Churn doubled.}\n"
        "team: [CEO, Sales]\nmax_turns: 3\nseed: 2\nexecutor: recording\n",
        encoding="utf-8",
    )
    plugin = ExecutorPlugin()
    register_plugin(plugin)
    RecordingExecutor.units.clear()
    RecordingExecutor.limits.clear()
    try:
        runs = await run_sessions(tmp_path / "team.yaml", sessions=2, batch_id="p")
    finally:
        unregister_plugin(plugin)
    assert RecordingExecutor.units == [
        SessionUnit(index=0, seed=2, session_id="p-1"),
        SessionUnit(index=1, seed=3, session_id="p-2"),
    ]
    assert RecordingExecutor.limits == [2]  # all of them, at most 16
    local = await run_sessions(
        tmp_path / "team.yaml", sessions=2, batch_id="p", executor="local"
    )
    assert [document(r.record) for r in runs] == [document(r.record) for r in local]
    assert "recording" not in factory.executors


class BrokenModel(BaseChatModel):
    """A chat model whose every call fails (a provider outage)."""

    @property
    def _llm_type(self) -> str:
        return "broken"

    def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
        raise RuntimeError("the provider is down")


class BrokenModelPlugin:
    @hookimpl
    def clientsim_register_models(self, register):
        register("broken", lambda _name: BrokenModel())


async def test_a_fault_is_kept_on_its_run_and_the_finished_turns_are_stored():
    plugin = BrokenModelPlugin()
    register_plugin(plugin)
    try:
        store = InMemoryStore()
        team = ["CEO", {"role": "Designer", "model": "broken:x"}]
        runs = await run_sessions(
            SCENARIO, team=team, sessions=2, store=store, batch_id="f"
        )
    finally:
        unregister_plugin(plugin)
    for run in runs:
        assert run.error is not None
        assert "the provider is down" in run.error
        assert run.turns == 1  # the CEO spoke; the Designer's call failed
        stored = await store.team_session(run.session_id)
        assert stored is not None
        assert stored.document["error"] is not None


async def test_a_config_error_stops_the_batch():
    with pytest.raises(ConfigError, match="at_turn"):
        await run_sessions(
            CONFIG, sessions=2, turns=2, what_ifs=[{"at_turn": 5}], parallel=1
        )


async def test_ids_the_store_already_has_are_refused():
    store = InMemoryStore()
    await run_sessions(CONFIG, sessions=1, turns=1, store=store, batch_id="d")
    with pytest.raises(DuplicateSimulationError, match="d-1"):
        await run_sessions(CONFIG, sessions=1, turns=1, store=store, batch_id="d")


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"seeds": [1], "sessions": 2}, ConfigError, "not both"),
        ({"seeds": []}, ConfigError, "non-empty list"),
        ({"sessions": 0}, ConfigError, "sessions"),
        ({"turns": 0}, ConfigError, "turns"),
        ({"parallel": 0}, ConfigError, "parallel"),
        ({"what_ifs": ["CEO.goal=x"]}, ConfigError, "what-if plan"),
        ({"what_ifs": [{"at": 2}]}, ConfigError, "at_turn"),
        ({"what_ifs": [{"at_turn": 0}]}, ConfigError, "at_turn"),
        ({"executor": "nope"}, UnknownStrategyError, "local"),
    ],
)
async def test_bad_arguments_are_refused_before_anything_runs(options, error, message):
    with pytest.raises(error, match=message):
        await run_sessions(CONFIG, **options)


def test_the_executor_key_of_a_team_file_is_read_and_left_out_of_records():
    config = load_team_config(
        {"scenario": {"title": "X"}, "executor": {"strategy": "ray", "workers": 2}}
    )
    assert thaw(config.executor) == {"strategy": "ray", "workers": 2}
    from clientsim.models import to_dict

    assert "executor" not in to_dict(TeamConfig(scenario=SCENARIO))
    with pytest.raises(ConfigError, match="executor"):
        load_team_config({"scenario": {"title": "X"}, "executor": 3})


def test_the_work_and_its_runs_pickle():
    work = SessionWork(
        config=CONFIG, turns=2, what_ifs=(WhatIfPlan(change="CEO.goal=Win", at_turn=1),)
    )
    assert round_trip(work) == work
    run = SessionRun(session_id="s", seed=1, turns=2, error="x")
    assert round_trip(run) == run


async def test_the_work_round_trips_through_cloudpickle():
    cloudpickle = pytest.importorskip("ray.cloudpickle")
    work = SessionWork(config=CONFIG, turns=2)
    again = cloudpickle.loads(cloudpickle.dumps(work))
    assert again == work
    run = await again(SessionUnit(index=0, seed=5, session_id="c-1"))
    shipped = cloudpickle.loads(cloudpickle.dumps(run))
    assert shipped == run
    assert shipped.turns == 2
