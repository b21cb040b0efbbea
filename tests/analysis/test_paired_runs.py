"""compare_runs on a real store, and the paired experiment on a real experiment."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import attrs
import pytest

from clientsim.analysis.runs import (
    CRITERIA_SCORE,
    RunComparison,
    compare_records,
    compare_runs,
)
from clientsim.errors import ConfigError, StatisticsError
from clientsim.experiments import scaffold
from clientsim.experiments.config import ExperimentConfig
from clientsim.experiments.paired import apply_variant, run_paired
from clientsim.experiments.schema import AgentConfig
from clientsim.models import (
    Conversation,
    ConversationRecord,
    ConversationResult,
    CriteriaVerdict,
    CriterionVerdict,
    GridCell,
    Outcome,
    RunStatus,
)
from clientsim.models.survey import Variant
from clientsim.store import InMemoryStore, SQLiteStore


def record(
    run: str,
    persona: str,
    outcome: str | None,
    *,
    met: Sequence[bool] = (),
    data: dict[str, object] | None = None,
    status: RunStatus = RunStatus.DONE,
) -> ConversationRecord:
    result = ConversationResult(
        conversation=Conversation(
            messages=(),
            outcome=Outcome(outcome, "") if outcome is not None else None,
        ),
        criteria=CriteriaVerdict(
            tuple(CriterionVerdict(f"c{i}", ok, "") for i, ok in enumerate(met))
        )
        if met
        else None,
        data=data or {},
    )
    return ConversationRecord(
        run_id=run,
        cell=GridCell(input_id="0", persona_id=persona, iteration=0),
        seed=1,
        status=status,
        result=result,
    )


async def store_runs(
    store: InMemoryStore | SQLiteStore, runs: dict[str, list[ConversationRecord]]
) -> None:
    for run_id, records in runs.items():
        await store.register_if_absent(
            run_id, {"name": "demo", "config": {"pass_outcomes": ["resolved"]}}
        )
        for item in records:
            assert await store.save_conversation(item)


async def test_pass_outcomes_come_from_the_stored_configuration(tmp_path: Path) -> None:
    before = [record("a", f"p{i}", "resolved") for i in range(6)]
    after = [
        record("b", f"p{i}", "resolved" if i % 2 else "escalated") for i in range(6)
    ]
    async with SQLiteStore(tmp_path / "runs.sqlite") as store:
        await store_runs(store, {"a": before, "b": after})
        found = await compare_runs(store, "a", "b")
        every_ending = await compare_runs(store, "a", "b", pass_outcomes=())
    assert found.pass_outcomes == ("resolved",)
    assert (found.rates.a_only, found.rates.b_only) == (3, 0)
    assert [pair.key for pair in found.flipped] == ["0/p0/0", "0/p2/0", "0/p4/0"]
    assert not found.regression  # 3 flips: p = 0.25
    assert found.exit_code == 0
    # With no pass outcomes, a pass is any ending without an error.
    assert every_ending.rates.a_only == 0
    assert every_ending.pass_definition.endswith("no error")


async def test_flips_list_regressions_first_and_grids_may_differ() -> None:
    before = [record("a", f"p{i}", "resolved" if i < 4 else "x") for i in range(8)]
    after = [record("b", f"p{i}", "x" if i < 2 else "resolved") for i in range(10)]
    async with InMemoryStore() as store:
        await store_runs(store, {"a": before, "b": after})
        found = await compare_runs(store, "a", "b")
    assert [pair.flip for pair in found.flipped] == [
        "pass->fail",
        "pass->fail",
        "fail->pass",
        "fail->pass",
        "fail->pass",
        "fail->pass",
    ]
    assert found.rates.n == 8
    assert found.unpaired_b == ("0/p8/0", "0/p9/0")
    assert found.unpaired_a == ()
    assert any("grids differ" in note for note in found.notes)
    data = found.to_dict()
    assert data["unpaired_b"] == ["0/p8/0", "0/p9/0"]


async def test_numeric_scores_are_compared_with_the_paired_bootstrap() -> None:
    before = [
        record("a", f"p{i}", "resolved", met=(True, i % 2 == 0), data={"rating": i})
        for i in range(20)
    ]
    after = [
        record("b", f"p{i}", "resolved", met=(True, True), data={"rating": i + 2})
        for i in range(20)
    ]
    async with InMemoryStore() as store:
        await store_runs(store, {"a": before, "b": after})
        found = await compare_runs(store, "a", "b", n_resamples=500)
    assert set(found.scores) == {CRITERIA_SCORE, "rating"}
    assert found.scores["rating"].value == 2.0
    assert found.scores["rating"].low == found.scores["rating"].high == 2.0
    criteria = found.scores[CRITERIA_SCORE]
    assert criteria.value == pytest.approx(0.25)
    assert 0 < criteria.low < 0.25 < criteria.high


async def test_failed_conversations_count_as_failures() -> None:
    before = [record("a", f"p{i}", "resolved") for i in range(12)]
    after = [
        record("b", f"p{i}", None, status=RunStatus.FAILED)
        if i < 10
        else record("b", f"p{i}", "resolved")
        for i in range(12)
    ]
    async with InMemoryStore() as store:
        await store_runs(store, {"a": before, "b": after})
        found = await compare_runs(store, "a", "b")
    assert found.regression
    assert found.exit_code == 1
    assert found.rates.change.value == pytest.approx(-10 / 12)


async def test_unknown_runs_and_disjoint_runs_are_refused() -> None:
    async with InMemoryStore() as store:
        await store_runs(
            store,
            {
                "a": [record("a", "p1", "resolved")],
                "b": [record("b", "p2", "resolved")],
            },
        )
        with pytest.raises(
            ConfigError, match=r"no run 'zz' in the store; runs there: "
        ):
            await compare_runs(store, "zz", "a")
        with pytest.raises(StatisticsError, match="share no cell"):
            await compare_runs(store, "a", "b")
        await store.register_if_absent("empty", {})
        with pytest.raises(StatisticsError, match="no stored conversations"):
            await compare_runs(store, "a", "empty")


def test_compare_records_notes_different_experiments_and_pass_outcomes() -> None:
    found: RunComparison = compare_records(
        [record("a", "p1", "resolved"), record("a", "p2", "x")],
        [record("b", "p1", "resolved"), record("b", "p2", "x")],
        metadata_a={"name": "one", "pass_outcomes": ["resolved"]},
        metadata_b={"name": "two", "pass_outcomes": ["x"]},
    )
    assert found.pass_outcomes == ("resolved",)
    assert len(found.notes) == 2


# -- the paired experiment ------------------------------------------------------------


BROKEN = 'def run(message):\n    return "Sorry, I am not sure I follow."\n'


async def test_run_paired_runs_every_variant_on_the_same_grid(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    scaffold(folder)
    (folder / "broken_agent.py").write_text(BROKEN, encoding="utf-8")
    config = ExperimentConfig.from_file(folder / "configs" / "simulation.yaml")
    config = attrs.evolve(config, seed=None)  # one random seed, shared by both
    result = await run_paired(
        config,
        [Variant(name="current"), Variant(name="candidate", agent="broken_agent:run")],
        n_resamples=500,
    )
    assert result.baseline == "current"
    assert result.regressions == ("candidate",)
    current, candidate = result.runs["current"], result.runs["candidate"]
    seeds = {(r.key, r.seed) for r in current.records}
    assert seeds == {(r.key, r.seed) for r in candidate.records}  # same cells and seeds
    comparison = result.comparisons["candidate"]
    assert comparison.rates.n == 12
    assert (comparison.rates.a_only, comparison.rates.b_only) == (8, 0)
    rows = result.table()
    assert [row["variant"] for row in rows] == ["current", "candidate"]
    assert rows[1]["regression"] is True
    assert rows[1]["p_value"] == pytest.approx(2 / 256)


def test_apply_variant_sets_the_agent_or_the_prompt() -> None:
    simulated = ExperimentConfig(
        name="t",
        description="",
        agent=AgentConfig(system_prompt="Help."),
        inputs=["hi"],
    )
    prompted = apply_variant(simulated, Variant(name="terse", prompt="Be terse."))
    assert isinstance(prompted.agent, AgentConfig)
    assert prompted.agent.system_prompt == "Be terse."
    coded = ExperimentConfig.from_dict(
        {"name": "t", "description": "", "runner": {"target": "a:run"}, "inputs": ["x"]}
    )
    swapped = apply_variant(coded, Variant(name="b", agent="b:run"))
    assert swapped.runner is not None
    assert swapped.runner.resolved_target == "b:run"
    with pytest.raises(ConfigError, match="only a simulated agent"):
        apply_variant(coded, Variant(name="c", prompt="Be terse."))


async def test_run_paired_refuses_too_few_or_repeated_variants(tmp_path: Path) -> None:
    config = ExperimentConfig(
        name="t", description="", agent=AgentConfig(system_prompt="Help."), inputs=["x"]
    )
    with pytest.raises(ConfigError, match="at least 2 variants"):
        await run_paired(config, [Variant(name="a")])
    with pytest.raises(ConfigError, match="repeated"):
        await run_paired(config, [Variant(name="a"), Variant(name="a")])
    with pytest.raises(ConfigError, match="baseline 'z'"):
        await run_paired(config, [Variant(name="a"), Variant(name="b")], baseline="z")
