"""Sequence mode end to end: a 14-day journey through run_mode with an SQLite store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clientsim.errors import ConfigError
from clientsim.factory import build_population_mode
from clientsim.models import ParticipantRole, RunStatus
from clientsim.models.persona import STUDY_PERSONA_MARKER, Persona
from clientsim.models.survey import Touchpoint, Variant
from clientsim.population import Arm, SequenceMode, Trigger, run_mode
from clientsim.population.engine import record_responses
from clientsim.store import SQLiteStore
from tests.population.journey_fakes import JourneyModel


START = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
JOURNEY = [
    {
        "day": 0,
        "content": "Welcome to Fresh Box!",
        "channel": "email",
        "name": "welcome",
    },
    {"day": 3, "content": "A reminder: your cart is waiting.", "channel": "push"},
    {
        "day": 14,
        "content": "Last chance: 20% discount ends today.",
        "channel": "sms",
        "questions": ["intent"],
    },
]
QUESTIONS = [
    {"id": "intent", "text": "How likely are you to order?", "type": "scale"},
    {"id": "why", "text": "What would make you order?"},
]


def personas(count: int = 2) -> list[Persona]:
    return [
        Persona(id=f"p{index}", name=f"Person {index}", segment="parents")
        for index in range(count)
    ]


def interested(state, persona, transcript) -> bool:
    return state.interest >= 0.3


def mode(model: JourneyModel, **options) -> SequenceMode:
    return SequenceMode(
        JOURNEY,
        questions=QUESTIONS,
        model=model,
        judge="offline",
        start=START,
        **{"triggers": [Trigger("hot_lead", interested, {"trust": 0.9})], **options},
    )


async def test_a_journey_walks_the_touchpoints_in_simulated_time(tmp_path):
    model = JourneyModel()
    async with SQLiteStore(tmp_path / "runs.sqlite") as store:
        run = await run_mode(mode(model), personas(1), run_id="j", seed=5, store=store)
    assert run.ran == 1
    assert not run.failed
    [record] = run.records
    messages = record.result.conversation.messages
    opened = [m for m in messages if m.content in {j["content"] for j in JOURNEY}]
    assert [m.timestamp for m in opened] == [
        START,
        START + timedelta(days=3),
        START + timedelta(days=14),
    ]
    stamps = [m.timestamp for m in messages]
    assert stamps == sorted(stamps)
    assert record.result.ending.reason == "journey_complete"
    assert record.result.ending.detail == "3 touchpoints over 14 days"
    [response] = run.responses
    assert response.persona_id == "p0"
    assert response.segment == "parents"
    assert response.variant is None
    touchpoints = [e for e in response.events if e["type"] == "touchpoint"]
    assert [(e["day"], e["name"], e["channel"]) for e in touchpoints] == [
        (0, "welcome", "email"),
        (3, "day 3", "push"),
        (14, "day 14", "sms"),
    ]
    assert touchpoints[0]["at"] == START.isoformat()
    # the answers: 'intent' after day 14, 'why' (named by no touchpoint) at the end
    assert response.answers["intent"].value == 7
    assert touchpoints[2]["answers"] == {"intent": 7}
    assert response.answers["why"].text == "Okay."
    assert {"awareness", "interest", "trust", "purchased", "opted_out"} <= set(
        response.fields
    )
    assert response.fields["clock"] == (START + timedelta(days=14)).isoformat()


async def test_the_state_carries_from_one_touchpoint_to_the_next():
    model = JourneyModel()
    run = await run_mode(mode(model, triggers=()), personas(1), run_id="carry")
    [response] = run.responses
    levels = [e["state"] for e in response.events if e["type"] == "touchpoint"]
    awareness = [level["awareness"] for level in levels]
    assert awareness == sorted(awareness)
    assert awareness[0] > 0
    # welcome: "sounds good, tell me more" (up); reminder: "annoying" (down)
    assert levels[0]["interest"] > 0
    assert levels[1]["interest"] < levels[0]["interest"]
    # the persona's prompt at day 14 shows what it saw and said on days 0 and 3
    day14 = next(p for p in model.prompts if "Monday 16 March 2026" in p)
    assert day14.startswith(STUDY_PERSONA_MARKER)
    assert "Name: Person 0" in day14
    assert 'day 0, email: they wrote "Welcome to Fresh Box!"' in day14
    assert 'you replied "Stop, this is annoying. Too many emails."' in day14
    # what it reads: the content between --- lines, the question in the study's form
    assert model.shown[0] == (
        "On day 0 of your journey you received this message by email:\n---\n"
        "Welcome to Fresh Box!\n---\nWhat is your reaction?"
    )
    assert (
        "Question 1 of 1 (scale from 1 to 10): How likely are you to order?"
        in model.shown
    )
    first = next(p for p in model.prompts if "Monday 02 March 2026" in p)
    assert "What you remember" not in first
    assert len(response.fields["memory"]) == 3


async def test_a_callable_trigger_fires_once_where_it_first_holds(tmp_path):
    calls = []

    def interested_and_counted(state, persona, transcript) -> bool:
        calls.append((state.interest, len(transcript.messages), persona.id))
        return state.interest >= 0.3

    trigger = Trigger("hot_lead", interested_and_counted, {"trust": 0.95})
    model = JourneyModel()
    async with SQLiteStore(tmp_path / "runs.sqlite") as store:
        await run_mode(
            mode(model, triggers=[trigger]), personas(1), run_id="t", store=store
        )
        [record] = await store.conversations("t")  # read back from the file
    [response] = record_responses(record)
    fired = [e for e in response.events if e["type"] == "intervention"]
    assert len(fired) == 1
    assert fired[0]["trigger"] == "hot_lead"
    assert fired[0]["touchpoint"] == "welcome"  # interest 0.3 after day 0
    assert fired[0]["day"] == 0
    assert fired[0]["reason"] == "interested_and_counted held"
    assert fired[0]["effect"] == "state"
    assert fired[0]["state"]["trust"] == 0.95  # the state right after its effect
    assert len(calls) == 1  # once fired, never checked again
    # where it fired, in the transcript: a system-side message the persona never sees
    system = [
        m
        for m in record.result.conversation.messages
        if m.speaker is not None and m.speaker.name == "system"
    ]
    assert len(system) == 1
    assert system[0].sender is ParticipantRole.AGENT
    assert "hot_lead fired after welcome (day 0)" in system[0].content
    assert all("[intervention]" not in p for p in model.prompts)
    # its effect: trust set, then moved on by the later replies
    events = response.events
    after = events[events.index(fired[0]) + 1]["state"]
    assert after["trust"] < 0.95  # day 3's "annoying" lowered it from 0.95
    assert after["trust"] > 0.6


async def test_a_trigger_that_is_not_once_fires_after_every_touchpoint_it_holds():
    trigger = Trigger(
        "aware",
        lambda state, persona, transcript: state.awareness > 0.3,
        {"trust": 0.5},
        once=False,
    )
    run = await run_mode(
        mode(JourneyModel(), triggers=[trigger]), personas(1), run_id="n"
    )
    fired = [e["day"] for e in run.responses[0].events if e["type"] == "intervention"]
    assert fired == [3, 14]


async def test_a_model_judged_trigger_sends_a_message_and_the_persona_reacts():
    triggers = [
        {
            "name": "win_back",
            "when": "the persona sounds frustrated",
            "send": "We are sorry. Fewer emails from now on.",
        },
        {"name": "never", "when": "the persona sounds confused", "set": {"trust": 0.0}},
    ]
    model = JourneyModel()
    run = await run_mode(mode(model, triggers=triggers), personas(1), run_id="m")
    [record] = run.records
    [response] = run.responses
    fired = [e for e in response.events if e["type"] == "intervention"]
    assert [(e["trigger"], e["day"], e["effect"]) for e in fired] == [
        ("win_back", 3, "message")
    ]
    assert "'annoy'" in fired[0]["reason"]
    texts = [m.content for m in record.result.conversation.messages]
    sent = texts.index("We are sorry. Fewer emails from now on.")
    assert texts[sent + 1] == "Fair enough, I appreciate that. I will buy one then."
    assert response.fields["purchased"] is True
    # both statements after days 0 and 3; only the one not yet fired after day 14
    assert record.result.token_usage.judge.calls == 5


async def test_each_arm_walks_its_own_sequence():
    short = Variant(
        name="short",
        channel="email",
        sequence=[
            Touchpoint(day=0, content="Welcome! Here is a discount."),
            Touchpoint(day=2, content="Last chance for the discount.", channel="sms"),
        ],
    )
    arms = [
        Arm(name="control", personas=personas(2)[:1]),
        Arm(name="short", personas=personas(2)[1:], variant=short),
    ]
    run = await run_mode(mode(JourneyModel(), triggers=()), arms, run_id="arms")
    by_arm = {r.persona_id: r for r in run.responses}
    control = [e for e in by_arm["p0"].events if e["type"] == "touchpoint"]
    variant = [e for e in by_arm["p1"].events if e["type"] == "touchpoint"]
    assert [e["day"] for e in control] == [0, 3, 14]
    assert [(e["day"], e["channel"]) for e in variant] == [(0, "email"), (2, "sms")]
    assert by_arm["p0"].variant is None
    assert by_arm["p1"].variant == "short"


async def test_the_same_seed_gives_the_same_journeys(tmp_path):
    triggers = [
        {"name": "win_back", "when": "the persona sounds frustrated", "send": "Sorry!"}
    ]

    async def once(name: str, parallel_runs: int):
        async with SQLiteStore(tmp_path / f"{name}.sqlite") as store:
            await run_mode(
                SequenceMode(
                    JOURNEY,
                    questions=QUESTIONS,
                    triggers=triggers,
                    model=JourneyModel(),
                    judge="offline",
                ),
                personas(3),
                run_id="same",
                seed=11,
                store=store,
                parallel_runs=parallel_runs,
            )
            records = await store.conversations("same")
        return sorted(
            (
                r.key,
                r.seed,
                [
                    (m.content, m.timestamp, m.sender)
                    for m in r.result.conversation.messages
                ],
                record_responses(r),
            )
            for r in records
        )

    assert await once("a", 1) == await once("b", 3)


async def test_a_rerun_resumes_and_asks_no_persona_twice(tmp_path):
    path = tmp_path / "runs.sqlite"
    first_model = JourneyModel()
    async with SQLiteStore(path) as store:
        first = await run_mode(mode(first_model), personas(2), run_id="r", store=store)
    assert (first.ran, first.skipped) == (2, 0)
    again = JourneyModel()
    async with SQLiteStore(path) as store:
        second = await run_mode(mode(again), personas(3), run_id="r", store=store)
    assert (second.ran, second.skipped) == (1, 2)
    assert sorted(r.persona_id for r in second.responses) == ["p0", "p1", "p2"]
    assert all("Name: Person 2" in p for p in again.prompts)


async def test_an_opted_out_persona_is_sent_nothing_more():
    model = JourneyModel(
        rules=(("welcome", "Please unsubscribe me, I never signed up."),)
    )
    run = await run_mode(mode(model, triggers=()), personas(1), run_id="out")
    [response] = run.responses
    touchpoints = [e for e in response.events if e["type"] == "touchpoint"]
    assert [e["delivered"] for e in touchpoints] == [True, False, False]
    assert response.fields["opted_out"] is True
    assert "intent" not in response.answers  # not asked: day 14 never reached them
    [record] = run.records
    assert "opted out" in record.result.ending.detail
    texts = [m.content for m in record.result.conversation.messages]
    assert "A reminder: your cart is waiting." not in texts


async def test_reactions_judged_by_a_model():
    run = await run_mode(
        mode(JourneyModel(), triggers=(), judge_reactions=True),
        personas(1),
        run_id="judged",
    )
    [record] = run.records
    [response] = run.responses
    levels = [e["state"] for e in response.events if e["type"] == "touchpoint"]
    assert levels[0]["interest"] > 0
    assert levels[1]["interest"] < levels[0]["interest"]
    assert record.result.token_usage.judge.calls == 3


async def test_a_failing_persona_model_fails_its_unit_not_the_run():
    class Broken(JourneyModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            raise RuntimeError("provider down")

    run = await run_mode(
        mode(Broken(), triggers=()), personas(1), run_id="broken", max_retries=0
    )
    [record] = run.failed
    assert record.status is RunStatus.FAILED
    assert "provider down" in record.error.message
    assert run.responses == []


def test_the_mode_is_registered_as_sequence():
    built = build_population_mode(
        {"strategy": "sequence", "touchpoints": JOURNEY, "questions": QUESTIONS}
    )
    assert isinstance(built, SequenceMode)
    assert built.name == "sequence"
    assert [t.day for t in built.touchpoints] == [0, 3, 14]


@pytest.mark.parametrize(
    ("options", "match"),
    [
        (
            {"touchpoints": [{"dya": 1, "content": "x"}]},
            r"touchpoints\[0\]: unknown key 'dya'; allowed: .*did you mean 'day'",
        ),
        ({"touchpoints": [{"content": "x"}]}, r"touchpoints\[0\]: 'day' is required"),
        (
            {"touchpoints": [{"day": -1, "content": "x"}]},
            r"touchpoints\[0\]: touchpoint day must be >= 0",
        ),
        (
            {"touchpoints": [{"day": 1, "content": "x", "questions": ["nope"]}]},
            r"touchpoints\[0\].questions: no question 'nope'",
        ),
        ({"touchpoints": "day 1: hello"}, "touchpoints must be a list"),
        (
            {"triggers": [{"name": "a", "when": "x", "sned": "hi"}]},
            r"triggers\[0\]: unknown trigger key 'sned'; allowed: .*did you mean 'send'",
        ),
        (
            {"triggers": [{"name": "a", "when": "x"}]},
            r"triggers\[0\]: a trigger needs exactly one of 'send'",
        ),
        (
            {"triggers": [{"name": "a", "when": "x", "set": {"intrest": 1}}]},
            r"triggers\[0\]: set: unknown persona state field 'intrest'",
        ),
        (
            {"triggers": [{"when": "x", "send": "hi"}]},
            r"triggers\[0\]: a trigger needs 'name'",
        ),
        (
            {
                "triggers": [
                    {"name": "a", "when": "x", "send": "hi"},
                    {"name": "a", "when": "y", "send": "ho"},
                ]
            },
            "trigger names must be distinct",
        ),
        (
            {"questions": [{"id": "q", "text": "?", "typ": "scale"}]},
            r"questions\[0\]: unknown key 'typ'; allowed: .*did you mean 'type'",
        ),
        ({"start": "next monday"}, "start must be an ISO 8601 date"),
    ],
)
def test_bad_configuration_names_the_key(options, match):
    config = {"touchpoints": [{"day": 0, "content": "hi"}], **options}
    with pytest.raises(ConfigError, match=match):
        SequenceMode(**config)


async def test_an_arm_without_touchpoints_is_refused_before_anything_runs():
    with pytest.raises(
        ConfigError, match="sequence mode needs touchpoints for variant 'b'"
    ):
        await run_mode(
            SequenceMode(model=JourneyModel()),
            [Arm(name="b", personas=personas(1), variant=Variant(name="b"))],
            run_id="none",
        )
    bad = Variant(name="c", sequence=[{"day": 0, "content": "x", "questions": ["q9"]}])
    with pytest.raises(
        ConfigError, match=r"variant 'c' sequence\[0\].questions: no question 'q9'"
    ):
        await run_mode(
            SequenceMode(model=JourneyModel()),
            [Arm(name="c", personas=personas(1), variant=bad)],
            run_id="none",
        )
