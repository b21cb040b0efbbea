"""Study files and session control through the public API: begin, run in steps,
resume, checkpoint, restore, end; bad files; the templates."""

from __future__ import annotations

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientsim import factory, hookimpl
from clientsim.errors import ConfigError, UnknownStrategyError
from clientsim.models.survey import Answer, Response
from clientsim.plugins import register_plugin, unregister_plugin
from clientsim.population import begin, load_study
from clientsim.population.base import PopulationMode, unit_personas
from clientsim.population.templates import TEMPLATES, scaffold_study, template_text
from clientsim.store import InMemoryStore, SQLiteStore


STUDY = {
    "name": "Bottle survey",
    "seed": 3,
    "checkpoint_every": 4,
    "population": {"name": "Adults", "demographic_base": "usa", "size": 10},
    "questions": [
        {
            "id": "interest",
            "text": "How interested are you in a smart water bottle, from 1 to 10?",
            "type": "scale",
        },
        {
            "id": "price",
            "text": "What would you pay?",
            "type": "choice",
            "options": ["Nothing", "Up to $20", "More"],
        },
    ],
}


def _individuals(results):
    return sorted(results.to_dict()["individual_results"], key=lambda r: r["agent_id"])


async def _whole(store):
    session = await begin(STUDY, store=store, run_id="whole")
    await session.run()
    return await session.end()


async def test_a_run_in_steps_gives_the_results_of_a_run_straight_through(tmp_path):
    whole = await _whole(InMemoryStore())
    store = SQLiteStore(tmp_path / "runs.db")
    try:
        first = await begin(STUDY, store=store, run_id="steps")
        ran = await first.run(max_units=3)
        assert ran.ran == 3
        assert (await first.status())["units"] == 3
        second = await begin(STUDY, store=store, run_id="steps")  # a new process
        rest = await second.run()
        assert rest.ran == 7
        assert rest.skipped == 3
        assert (await second.status()) | {"checkpoints": []} == {
            "run_id": "steps",
            "units": 10,
            "expected": 10,
            "failed": 0,
            "checkpoints": [],
        }
        assert _individuals(await second.end()) == _individuals(whole)
        info = await store.get_simulation("steps")
        assert info is not None
        assert info.status == "ended"
    finally:
        await store.aclose()


async def test_checkpoints_are_taken_automatically_and_on_demand():
    store = InMemoryStore()
    session = await begin(STUDY, store=store, run_id="c")
    await session.run()
    points = await session.checkpoints()
    assert [(p.id, p.units, p.label) for p in points] == [
        ("ckpt-0001", 4, "auto"),
        ("ckpt-0002", 8, "auto"),
        ("ckpt-0003", 10, "auto"),
    ]
    mine = await session.checkpoint("before the report")
    assert (mine.id, mine.units, mine.label) == ("ckpt-0004", 10, "before the report")


async def test_restore_starts_a_new_run_from_a_checkpoint_and_leaves_the_old_one():
    store = InMemoryStore()
    session = await begin(STUDY, store=store, run_id="orig")
    await session.run()
    original = await session.end()
    first = (await session.checkpoints())[0]
    branch = await session.restore(first.id)
    assert branch.run_id == "orig@ckpt-0001"
    assert (await branch.status())["units"] == 4
    again = await branch.run()
    assert again.ran == 6
    assert _individuals(await branch.end()) == _individuals(original)
    assert len(await store.conversations("orig")) == 10
    with pytest.raises(ConfigError, match=r"no checkpoint 'ckpt-9'.*ckpt-0001"):
        await session.restore("ckpt-9")


def test_study_errors_name_the_key():
    with pytest.raises(ConfigError, match="questions"):
        load_study({**STUDY, "questions": "How much?"})
    with pytest.raises(ConfigError, match="checkpoint_every"):
        load_study({**STUDY, "checkpoint_every": -1})
    with pytest.raises(ConfigError, match="population"):
        load_study({k: v for k, v in STUDY.items() if k != "population"})
    with pytest.raises(ConfigError, match="a study is a file path or a mapping"):
        load_study(42)  # type: ignore[arg-type]


async def test_an_unknown_mode_lists_the_known_ones():
    session = await begin({**STUDY, "mode": "telepathy"}, store=InMemoryStore())
    with pytest.raises(UnknownStrategyError, match=r"telepathy.*survey"):
        await session.run()


@given(
    seed=st.integers(0, 2**31 - 1), every=st.integers(0, 500), runs=st.integers(1, 64)
)
@settings(max_examples=50, deadline=None)
def test_any_valid_numbers_load(seed, every, runs):
    study = load_study(
        {**STUDY, "seed": seed, "checkpoint_every": every, "parallel_runs": runs}
    )
    assert (study.seed, study.checkpoint_every, study.parallel_runs) == (
        seed,
        every,
        runs,
    )


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_is_a_valid_study(name, tmp_path):
    (path,) = scaffold_study(tmp_path, name)
    study = load_study(path)
    assert study.name
    assert template_text(name) == path.read_text(encoding="utf-8")
    with pytest.raises(ConfigError, match="already exists"):
        scaffold_study(tmp_path, name)


async def test_a_study_file_reads_its_population_file_beside_it(tmp_path):
    (tmp_path / "people.yaml").write_text(
        "name: Adults\ndemographic_base: uk\nsize: 6\n", encoding="utf-8"
    )
    (tmp_path / "study.yaml").write_text(
        "name: Uk survey\npopulation: people.yaml\nquestions:\n"
        "  - {id: q, text: 'Would you try it?', type: free_text}\n",
        encoding="utf-8",
    )
    session = await begin(tmp_path / "study.yaml", store=InMemoryStore())
    assert len(session.personas) == 6
    await session.run()
    assert (await session.status())["units"] == 6


def test_the_run_study_fixture(pytester):
    pytester.makefile(
        ".yaml",
        survey=(
            "name: Fixture survey\n"
            "population: {name: Adults, demographic_base: usa, size: 8}\n"
            "questions:\n"
            "  - id: interest\n"
            "    text: How interested are you, from 1 to 10?\n"
            "    type: scale\n"
        ),
    )
    pytester.makeini("[pytest]\nanyio_mode = auto\n")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.clientsim(seed=5)
        async def test_survey(run_study):
            results = await run_study("survey.yaml")
            assert results.aggregate_results["total_responses"] == 8

        async def test_same_seed_same_answers(run_study):
            a = await run_study("survey.yaml", seed=1)
            b = await run_study("survey.yaml", seed=1)
            assert a.to_dict()["individual_results"] == b.to_dict()["individual_results"]
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:langsmith_plugin", "-p", "no:cacheprovider", "-p", "clientsim"
    )
    result.assert_outcomes(passed=2)


def test_module_runs_without_an_event_loop_of_its_own():
    study = load_study(STUDY)
    session = anyio.run(lambda: begin(study, store=InMemoryStore()))
    assert session.run_id == "bottle_survey-3"


class EchoMode(PopulationMode):
    """A plugin's communication mode: the persona's answer is its segment's name."""

    name = "echo"

    def __init__(self, *, greeting: str = "hello") -> None:
        self.greeting = greeting

    async def build(self, job):
        from clientsim import FullSimulationRunner, ScriptedParticipant
        from clientsim.models import MessageDraft, Outcome, Outcomes, ParticipantRole

        persona = unit_personas(job)[0]
        customer = ScriptedParticipant("customer", [f"{self.greeting} {persona.name}"])
        agent = ScriptedParticipant("agent", ["noted"])
        first = MessageDraft(self.greeting, ParticipantRole.AGENT)
        outcomes = Outcomes(outcomes=(Outcome(name="done", description="Done"),))
        return FullSimulationRunner(
            customer, agent, first, None, outcomes, max_messages=3
        )

    async def responses(self, job, result):
        persona = unit_personas(job)[0]
        said = [m.content for m in result.conversation.messages]
        return [
            Response(
                persona_id=persona.id,
                segment=persona.segment,
                answers=[Answer(question_id="greeting", value=said[1], text=said[1])],
            )
        ]


class EchoPlugin:
    @hookimpl
    def clientsim_register_population_modes(self, register):
        register("echo", EchoMode)


async def test_a_plugin_mode_is_chosen_by_name_from_a_study_file(tmp_path):
    (tmp_path / "study.yaml").write_text(
        "name: Echo study\n"
        "population: {name: Adults, demographic_base: usa, size: 5}\n"
        "mode: {strategy: echo, greeting: hi}\n",
        encoding="utf-8",
    )
    plugin = EchoPlugin()
    register_plugin(plugin)
    try:
        session = await begin(tmp_path / "study.yaml", store=InMemoryStore())
        run = await session.run()
        results = await session.end()
    finally:
        unregister_plugin(plugin)
    assert run.mode == "echo"
    assert len(run.responses) == 5
    assert all(r.answers["greeting"].value.startswith("hi ") for r in run.responses)
    assert results.aggregate_results["total_responses"] == 5
    assert "echo" not in factory.population_modes
