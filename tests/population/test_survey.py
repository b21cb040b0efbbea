"""Survey mode end to end: personas answer typed questions, one conversation each, on
run_mode with an SQLite store; reruns resume, failures stay in their unit."""

from __future__ import annotations

import statistics
from collections import Counter

import anyio
import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

from clientsim.errors import ConfigError, UnknownStrategyError
from clientsim.factory import build_population_mode
from clientsim.models import RunStatus
from clientsim.models.persona import STUDY_PERSONA_MARKER
from clientsim.models.survey import Question, Variant
from clientsim.population import Arm, PopulationMode, run_mode
from clientsim.population.survey import SurveyMode, shuffled_options
from clientsim.store import SQLiteStore
from tests.population.persona_fakes import PRICE, FirstOptionModel, people


QUESTIONS = [
    {"id": "intent", "text": "How likely are you to buy it?", "type": "scale"},
    {
        "id": "matters",
        "text": "Which matters most to you?",
        "type": "choice",
        "options": ["Price", "Health", "Taste", "Brand"],
    },
    {
        "id": "order",
        "text": "Rank what you look for in a snack.",
        "type": "ranking",
        "options": ["Price", "Health", "Taste"],
    },
    {"id": "say", "text": "Anything else you would like to tell us?"},
]


def answers_of(run):
    return {
        r.persona_id: {q: a.value for q, a in r.answers.items()} for r in run.responses
    }


def check_types(run, questions):
    for response in run.responses:
        assert set(response.answers) == {q.id for q in questions}
        for question in questions:
            value = response.answers[question.id].value
            if question.type == "scale":
                assert isinstance(value, int)
                assert question.low <= value <= question.high
            elif question.type == "choice":
                assert value in question.options
            elif question.type == "ranking":
                assert sorted(value) == sorted(question.options)
            else:
                assert isinstance(value, str)
                assert value


async def test_a_hundred_personas_answer_four_questions_once_each(tmp_path):
    survey = SurveyMode(QUESTIONS)
    crowd = people(100)
    async with SQLiteStore(tmp_path / "runs.sqlite") as store:
        run = await run_mode(survey, crowd, run_id="s", seed=11, store=store)
        assert run.ran == 100
        assert run.skipped == 0
        assert not run.failed
        assert Counter(r.persona_id for r in run.responses) == {p.id: 1 for p in crowd}
        check_types(run, survey.questions)
        # the same store, the same run id: nothing runs again
        again = await run_mode(survey, crowd, run_id="s", seed=11, store=store)
        assert (again.ran, again.skipped) == (0, 100)
        assert answers_of(again) == answers_of(run)
    # stored and read back after a restart
    async with SQLiteStore(tmp_path / "runs.sqlite") as store:
        records = await store.conversations("s")
        assert len(records) == 100
    # the transcript keeps every question and answer
    messages = run.records[0].result.conversation.messages
    assert len(messages) == 2 * len(QUESTIONS)
    assert [m.sender.value for m in messages] == ["agent", "customer"] * 4
    assert messages[0].content.startswith("Question 1 of 4 (scale from 1 to 10)")
    # answers vary across personas
    assert len({a["intent"] for a in answers_of(run).values()}) >= 4
    assert len({a["say"] for a in answers_of(run).values()}) >= 3


async def test_the_same_seed_gives_the_same_answers_and_another_seed_others():
    survey = SurveyMode(QUESTIONS)
    crowd = people(30)
    first = await run_mode(survey, crowd, run_id="a", seed=5)
    second = await run_mode(survey, crowd, run_id="b", seed=5)
    other = await run_mode(survey, crowd, run_id="c", seed=6)
    assert answers_of(first) == answers_of(second)
    assert answers_of(first) != answers_of(other)


class Counting(PopulationMode):
    """A survey that counts the units it builds and can signal after ``stop_after``
    finished ones."""

    name = "survey"

    def __init__(self, inner: SurveyMode, stop_after: int | None = None) -> None:
        self.inner = inner
        self.stop_after = stop_after
        self.built: list[str] = []
        self.finished = 0
        self.enough = anyio.Event()

    def units(self, personas, *, arm, variant):
        return self.inner.units(personas, arm=arm, variant=variant)

    async def build(self, job):
        self.built.append(job.cell.persona_id)
        return await self.inner.build(job)

    async def responses(self, job, result):
        found = await self.inner.responses(job, result)
        self.finished += 1
        if self.stop_after is not None and self.finished >= self.stop_after:
            self.enough.set()
        return found


async def test_an_interrupted_survey_resumes_without_asking_anyone_twice(tmp_path):
    survey = SurveyMode(QUESTIONS)
    crowd = people(100)
    path = tmp_path / "runs.sqlite"
    interrupted = Counting(survey, stop_after=7)
    async with SQLiteStore(path) as store:
        async with anyio.create_task_group() as group:

            async def go() -> None:
                await run_mode(
                    interrupted, crowd, run_id="r", seed=2, store=store, parallel_runs=3
                )

            group.start_soon(go)
            with anyio.fail_after(60):
                await interrupted.enough.wait()
            group.cancel_scope.cancel()
        stored = {r.cell.persona_id for r in await store.conversations("r")}
    assert 7 <= len(stored) < 100
    resumed = Counting(survey)
    async with SQLiteStore(path) as store:
        run = await run_mode(resumed, crowd, run_id="r", seed=2, store=store)
    assert run.skipped == len(stored)
    assert run.ran == 100 - len(stored)
    assert not set(resumed.built) & stored  # nobody stored was asked again
    assert Counter(r.persona_id for r in run.responses) == {p.id: 1 for p in crowd}
    whole = await run_mode(survey, crowd, run_id="r", seed=2)
    assert answers_of(run) == answers_of(whole)


async def test_a_failing_model_fails_its_unit_only(tmp_path):
    model = FirstOptionModel(fail_for="Person 3")
    survey = SurveyMode(QUESTIONS, model=model)
    crowd = people(6)
    async with SQLiteStore(tmp_path / "runs.sqlite") as store:
        run = await run_mode(survey, crowd, run_id="f", seed=1, store=store)
        stored = await store.conversations("f")
    assert len(stored) == 6
    (failed,) = run.failed
    assert failed.status is RunStatus.FAILED
    assert failed.cell.persona_id == "p003"
    assert "refuses to play Person 3" in failed.error.message
    assert sorted(r.persona_id for r in run.responses) == [
        "p000",
        "p001",
        "p002",
        "p004",
        "p005",
    ]
    assert set(model.tools_seen) == {"survey_answer"}


async def test_position_bias_is_spread_evenly_by_the_shuffle():
    model = FirstOptionModel()
    options = ["Price", "Health", "Taste", "Brand"]
    question = Question(id="pick", text="Which?", type="choice", options=options)
    ranking = Question(id="rank", text="Rank them.", type="ranking", options=options)
    run = await run_mode(
        SurveyMode([question, ranking], model=model), people(240), run_id="b", seed=9
    )
    picks = Counter(r.answers["pick"].value for r in run.responses)
    firsts = Counter(r.answers["rank"].value[0] for r in run.responses)
    assert set(picks) == set(options)
    # always the first shown, yet each declared option about a quarter of the time
    # (60 of 240 expected; the bounds are 3.7 standard deviations away)
    for counts in (picks, firsts):
        assert all(35 <= counts[o] <= 85 for o in options), counts
    for (
        response
    ) in run.responses:  # the value is the option the persona was shown first
        assert response.answers["pick"].text == "fine"
    # without the shuffle the bias shows
    plain = await run_mode(
        SurveyMode([question], model=model, shuffle_options=False),
        people(20),
        run_id="p",
        seed=9,
    )
    assert {r.answers["pick"].value for r in plain.responses} == {"Price"}


def test_shuffled_options_are_a_seeded_permutation():
    question = Question(id="pick", text="?", type="choice", options=list("abcdef"))
    orders = {shuffled_options(question, seed) for seed in range(50)}
    assert all(sorted(order) == list("abcdef") for order in orders)
    assert len(orders) > 30
    assert shuffled_options(question, 3) == shuffled_options(question, 3)
    scale = Question(id="s", text="?", type="scale")
    assert shuffled_options(scale, 3) == ()


async def test_variant_content_is_shown_first_and_moves_purchase_intent():
    intent = {"id": "intent", "text": "How likely are you to buy it?", "type": "scale"}
    crowd = people(120, fragments=(PRICE,))
    deal = Variant(
        name="deal",
        content="Save 40% this week: our best deal, half the usual price.",
        channel="email",
        timing="morning",
    )
    premium = Variant(
        name="premium",
        content="Our premium luxury range: expensive, high-end, worth it.",
        channel="sms",
    )

    async def means(run_id: str) -> tuple[float, float, object]:
        arms = [
            Arm(name="deal", personas=crowd[:60], variant=deal),
            Arm(name="premium", personas=crowd[60:], variant=premium),
        ]
        run = await run_mode(SurveyMode([intent]), arms, run_id=run_id, seed=4)
        by_arm = {
            arm: [r.answers["intent"].value for r in run.responses if r.variant == arm]
            for arm in ("deal", "premium")
        }
        return (
            statistics.mean(by_arm["deal"]),
            statistics.mean(by_arm["premium"]),
            run,
        )

    deal_mean, premium_mean, run = await means("ab1")
    assert deal_mean - premium_mean > 1.5
    assert (await means("ab2"))[:2] == (deal_mean, premium_mean)
    messages = run.records[0].result.conversation.messages
    assert messages[0].content.startswith("You received this message by email in the")
    assert deal.content in messages[0].content
    assert messages[1].sender.value == "customer"  # the persona reacts first
    assert messages[2].content.startswith("Question 1 of 1")
    response = run.responses[0]
    assert response.events[0]["type"] == "exposure"
    assert response.events[0]["reaction"] == messages[1].content
    assert response.variant == "deal"
    assert response.segment in ("young", "older")
    assert response.demographics["region"] in ("South", "West")


async def test_the_persona_is_told_who_it_is_first():
    model = FirstOptionModel()
    crowd = people(2)
    await run_mode(SurveyMode([QUESTIONS[1]], model=model), crowd, run_id="m", seed=0)
    assert len(model.systems_seen) == 2
    for system in model.systems_seen:
        assert system.startswith(STUDY_PERSONA_MARKER + "\n")
    assert any(crowd[0].prompt() in system for system in model.systems_seen)


@pytest.mark.parametrize(
    ("question", "key"),
    [
        ({"id": "q", "text": "How?", "kind": "scale"}, "kind"),
        ({"text": "How?"}, "id"),
        ({"id": "q", "text": "How?", "type": "stars"}, "type"),
        ({"id": "q", "text": "Pick", "type": "choice", "options": ["a"]}, "options"),
        ({"id": "q", "text": "How?", "type": "scale", "low": 5, "high": 2}, "low"),
    ],
)
def test_a_bad_question_is_a_config_error_naming_what_is_wrong(question, key):
    with pytest.raises(ConfigError, match=key):
        SurveyMode([question])
    with pytest.raises(ConfigError, match=key):
        build_population_mode({"strategy": "survey", "questions": [question]})


def test_survey_config_errors():
    with pytest.raises(ConfigError, match="at least one"):
        SurveyMode([])
    with pytest.raises(ConfigError, match="repeated"):
        SurveyMode([QUESTIONS[0], QUESTIONS[0]])
    with pytest.raises(ConfigError, match="list of questions"):
        SurveyMode("How likely?")
    with pytest.raises(UnknownStrategyError):
        build_population_mode({"strategy": "poll", "questions": QUESTIONS})


async def test_the_survey_is_registered_and_built_from_config():
    mode = build_population_mode(
        {"strategy": "survey", "questions": QUESTIONS, "intro": "Thanks for joining."}
    )
    assert isinstance(mode, SurveyMode)
    run = await run_mode(mode, people(2), run_id="cfg", seed=1)
    first = run.records[0].result.conversation.messages[0].content
    assert first.startswith("Thanks for joining.\n\nQuestion 1 of 4")


class Untooled(GenericFakeChatModel):
    """langchain-core's fake chat model, binding tools but answering in prose."""

    def bind_tools(self, tools, *, tool_choice=None, **kwargs):
        return self.bind(tool_choice=tool_choice, **kwargs)


async def test_a_model_without_structured_answers_fails_the_unit_with_a_clear_error():
    no_tools = GenericFakeChatModel(messages=iter(["hi"] * 10))
    run = await run_mode(
        SurveyMode([QUESTIONS[0]], model=no_tools), people(1), run_id="t", seed=0
    )
    (failed,) = run.failed
    assert "does not support structured output" in failed.error.message
    prose = Untooled(messages=iter(["I would say seven."] * 10))
    run = await run_mode(
        SurveyMode([QUESTIONS[0]], model=prose), people(1), run_id="u", seed=0
    )
    (failed,) = run.failed
    assert failed.error.type.endswith("InvalidModelOutputError")
    assert "'survey_answer' shape" in failed.error.message
