"""run_intervention end to end on a test mode whose arms truly differ (or not)."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import attrs
import pytest

from clientsim.errors import ConfigError
from clientsim.interventions import (
    Intervention,
    InterventionResults,
    required_sample_size,
    run_intervention,
)
from clientsim.population.base import PopulationMode
from clientsim.runners.base import Runner
from clientsim.runners.batch import ConversationJob
from clientsim.store import InMemoryStore, SQLiteStore
from tests.interventions.modes import ConvertMode, people


TWO_ARMS = Intervention(
    name="Subject line",
    control="control",
    variants=[{"name": "bold", "content": "Half price, today only"}],
    success_metrics=["conversion", "question:satisfaction"],
)
THREE_ARMS = Intervention(
    name="Three offers",
    control="control",
    variants=[
        {"name": "bold", "content": "Half price"},
        {"name": "calm", "content": "A note"},
    ],
    success_metrics=["conversion", "question:satisfaction", "response_rate"],
)


async def test_a_variant_that_truly_converts_more_is_significant():
    mode = ConvertMode({"control": 0.15, "bold": 0.45}, {"bold": 6.5})
    results = await run_intervention(
        TWO_ARMS, people(400), run_id="ab", mode=mode, seed=1
    )
    assert [len(ids) for ids in results.assignment.values()] == [200, 200]
    conversion = results.comparison("conversion", "bold")
    assert conversion.significant
    assert conversion.difference is not None
    assert conversion.difference > 0.2
    assert conversion.low is not None
    assert conversion.low > 0
    assert conversion.effect_name == "cohens_h"
    assert conversion.effect
    assert conversion.effect > 0
    assert conversion.test in {"chi_square", "fisher_exact"}
    score = results.comparison("question:satisfaction", "bold")
    assert score.significant
    assert score.effect_name == "cohens_d"
    rows = {(r["arm"], r["metric"]): r for r in results.table()}
    control = rows["control", "conversion"]
    assert control["n"] == 200
    assert control["low"] < control["value"] < control["high"]
    assert results.omnibus == ()


async def test_identical_arms_are_not_significant():
    mode = ConvertMode({"control": 0.3, "bold": 0.3})
    results = await run_intervention(
        TWO_ARMS, people(400), run_id="aa", mode=mode, seed=1
    )
    assert results.significant() == []
    for c in results.comparisons:
        assert c.p_value is not None
        assert c.p_value > 0.05
        assert c.low is not None
        assert c.high is not None
        assert c.low < 0 < c.high


async def test_three_arms_run_an_omnibus_test_and_holm_adjusts_every_p():
    mode = ConvertMode({"control": 0.2, "bold": 0.5, "calm": 0.2}, {"bold": 6.5})
    results = await run_intervention(THREE_ARMS, people(600), run_id="abc", mode=mode)
    omnibus = {o.metric: o for o in results.omnibus}
    assert set(omnibus) == {"conversion", "question:satisfaction", "response_rate"}
    assert omnibus["conversion"].significant
    assert omnibus["conversion"].test
    assert omnibus["question:satisfaction"].test == "anova"
    # response_rate: every persona answered in every arm, nothing to test
    assert not omnibus["response_rate"].significant
    tested = [c for c in results.comparisons if c.p_value is not None]
    assert len(tested) == 6
    ordered = sorted(tested, key=lambda c: c.p_value or 0)
    assert ordered[0].p_adjusted == pytest.approx(
        min(1.0, 6 * (ordered[0].p_value or 0))
    )
    for c in tested:
        assert c.p_adjusted is not None
        assert c.p_adjusted >= c.p_value - 1e-12
    assert results.comparison("conversion", "bold").significant
    assert not results.comparison("conversion", "calm").significant
    assert not results.comparison("response_rate", "bold").significant


async def test_only_target_segments_are_run_and_segments_are_broken_down():
    test = Intervention(
        name="Young only",
        variants=[{"name": "a"}, {"name": "b"}],
        target_segments=["young"],
        success_metrics=["conversion"],
    )
    mode = ConvertMode({"a": 0.5, "b": 0.5})
    results = await run_intervention(
        test, people(90, ("young", "family", "retired")), run_id="seg", mode=mode
    )
    assert {r.segment for r in results.responses} == {"young"}
    assert len(mode.built) == 30
    assert {row["segment"] for row in results.segments()} == {"young"}
    with pytest.raises(ConfigError, match="no persona is in the target segments"):
        await run_intervention(test, people(4, ("family",)), run_id="none", mode=mode)
    typo = attrs.evolve(test, target_segments=("young", "familes"))
    with pytest.raises(ConfigError, match=r"\['familes'\]; the population's segments"):
        await run_intervention(typo, people(4), run_id="typo", mode=mode)


class Blocking(ConvertMode):
    """Hangs in every unit after the first ``after``, so the run can be killed."""

    def __init__(self, after: int) -> None:
        super().__init__({"control": 0.2, "bold": 0.5})
        self.after = after
        self.reached = anyio.Event()

    async def build(self, job: ConversationJob) -> Runner:
        if len(self.built) >= self.after:
            self.reached.set()
            await anyio.Event().wait()
        return await super().build(job)


async def test_a_killed_run_resumes_without_asking_anyone_twice(tmp_path: Path):
    crowd = people(60)
    async with SQLiteStore(tmp_path / "runs.sqlite") as store:
        first = Blocking(after=25)
        async with anyio.create_task_group() as group:

            async def run() -> None:
                await run_intervention(
                    TWO_ARMS,
                    crowd,
                    run_id="r",
                    store=store,
                    mode=first,
                    parallel_runs=1,
                )

            group.start_soon(run)
            await first.reached.wait()
            group.cancel_scope.cancel()
        stored = {r.cell.persona_id for r in await store.conversations("r")}
        assert 0 < len(stored) <= 25
        second = ConvertMode({"control": 0.2, "bold": 0.5})
        resumed = await run_intervention(
            TWO_ARMS, crowd, run_id="r", store=store, mode=second
        )
        assert not stored & set(second.built)
        assert len(stored) + len(second.built) == 60
        again = ConvertMode({"control": 0.2, "bold": 0.5})
        await run_intervention(TWO_ARMS, crowd, run_id="r", store=store, mode=again)
        assert again.built == []
        loaded = await InterventionResults.load(store, "r")
    whole = await run_intervention(
        TWO_ARMS, crowd, run_id="r", mode=ConvertMode({"control": 0.2, "bold": 0.5})
    )
    assert resumed.table() == whole.table() == loaded.table()
    assert resumed.significance() == loaded.significance()


async def test_a_stored_run_of_another_intervention_is_refused():
    store = InMemoryStore()
    mode = ConvertMode({"control": 0.2, "bold": 0.5, "calm": 0.2})
    await run_intervention(TWO_ARMS, people(10), run_id="x", store=store, mode=mode)
    with pytest.raises(ConfigError, match="another intervention, population or seed"):
        await run_intervention(
            THREE_ARMS, people(10), run_id="x", store=store, mode=mode
        )
    with pytest.raises(ConfigError, match="another intervention, population or seed"):
        await run_intervention(
            TWO_ARMS, people(10), run_id="x", store=store, mode=mode, seed=9
        )


async def test_load_refuses_other_runs():
    store = InMemoryStore()
    with pytest.raises(ConfigError, match="no run 'nope'"):
        await InterventionResults.load(store, "nope")
    await store.register_if_absent("plain", {"kind": "population"})
    with pytest.raises(ConfigError, match="not an intervention run"):
        await InterventionResults.load(store, "plain")


async def test_views_json_text_html_and_pandas(tmp_path: Path):
    mode = ConvertMode({"control": 0.2, "bold": 0.5, "calm": 0.2})
    results = await run_intervention(
        THREE_ARMS, people(60), run_id="views<script>", mode=mode
    )
    data = json.loads(results.to_json())
    assert data["baseline"] == "control"
    assert data["arms"] == {
        "control": 20,
        "bold": 20,
        "calm": 20,
    }
    assert len(data["responses"]) == 60
    assert data["omnibus"]
    text = results.render()
    assert "Omnibus conversion" in text
    assert "bold vs control" in text
    page = results._repr_html_()
    assert page.count("<svg") == 3
    assert "p (Holm)" in page
    assert "By segment" in page
    assert "<script>" not in page
    assert "views&lt;script&gt;" in page
    assert "Individual responses (60)" in page
    assert "<main>" in results.html()
    written = results.write_html(tmp_path / "out" / "ab.html")
    assert written.read_text(encoding="utf-8") == results.html()
    frame = results.to_pandas()
    assert list(frame.columns[:4]) == ["arm", "metric", "kind", "n"]
    assert len(frame) == 9


async def test_power_before_and_after_a_run():
    per_arm = required_sample_size(0.1, baseline_rate=0.2)
    assert per_arm > 100
    assert (
        required_sample_size(0.1, baseline_rate=0.2, intervention=THREE_ARMS) > per_arm
    )
    assert required_sample_size(0.5, kind="score") < required_sample_size(
        0.2, kind="score"
    )
    with pytest.raises(ConfigError, match="min_effect must not be 0"):
        required_sample_size(0)
    mode = ConvertMode({"control": 0.2, "bold": 0.5})
    results = await run_intervention(TWO_ARMS, people(200), run_id="pw", mode=mode)
    small, large = results.power(0.05)["bold"], results.power(0.3)["bold"]
    assert 0 <= small < large <= 1
    assert large > 0.9


async def test_a_bad_population_or_mode_fails_clearly():
    with pytest.raises(ConfigError, match="Persona values"):
        await run_intervention(TWO_ARMS, ["not a persona"], run_id="bad")  # type: ignore[list-item]

    class NotAMode:
        name = "x"

    with pytest.raises(ConfigError, match="PopulationMode"):
        await run_intervention(TWO_ARMS, people(4), run_id="bad", mode=NotAMode())  # type: ignore[arg-type]
    assert issubclass(ConvertMode, PopulationMode)


async def test_declared_fields_are_extracted_from_each_transcript():
    test = Intervention(
        name="With fields",
        variants=[{"name": "a", "content": "New flavour"}, {"name": "b"}],
        fields=[
            {
                "name": "sentiment",
                "type": "choice",
                "options": ["positive", "negative", "neutral"],
            }
        ],
        success_metrics=["conversion", "field:sentiment=positive"],
    )
    mode = ConvertMode({"a": 0.5, "b": 0.5})
    results = await run_intervention(test, people(8), run_id="fields", mode=mode)
    assert all("sentiment" in r.fields for r in results.responses)
    assert all("converted" in r.fields for r in results.responses)
    assert {r.variant for r in results.responses} == {"a", "b"}
    shares = [r for r in results.estimates if r.metric == "field:sentiment=positive"]
    assert [r.kind for r in shares] == ["rate", "rate"]
    assert sum(r.n for r in shares) == 8
