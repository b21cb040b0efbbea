"""Triggers: their forms, their checks, and the offline judge of statements."""

from __future__ import annotations

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientsim.errors import ConfigError, InvalidTypeError
from clientsim.llm.calls import judge_call
from clientsim.llm.offline import OfflineChatModel
from clientsim.llm.turns import Turn
from clientsim.models import Conversation
from clientsim.models.persona import Persona
from clientsim.population import PersonaState, SequenceMode, Trigger, run_mode
from clientsim.population.triggers import PRECONDITION_SCHEMA, triggers_of
from tests.population.journey_fakes import JourneyModel


PERSONA = Persona(id="p1", name="Dana")


def judged(statement: str, *replies: str, earlier: str = "") -> dict:
    """Ask the offline model whether ``statement`` holds, the way a journey asks."""
    latest = "\n".join(f"Persona: {reply}" for reply in replies)
    turns = [
        Turn("system", f"You judge one statement.\nStatement: {statement}\nAnswer."),
        Turn(
            "user",
            f"Persona: Dana\n{earlier}\nLatest touchpoint (day 3, day 3):\n"
            f"Sender: We miss you!\n{latest}",
        ),
    ]
    call = judge_call(OfflineChatModel(seed=3), PRECONDITION_SCHEMA)
    answer, _ = anyio.run(call, turns)
    return answer


@pytest.mark.parametrize(
    ("statement", "replies", "holds"),
    [
        ("the persona sounds frustrated", ["Stop, this is annoying."], True),
        ("the persona sounds frustrated", ["Sounds good, tell me more."], False),
        ("the persona is not interested", ["I'm not interested at all."], True),
        ("the persona is not interested", ["Interesting, tell me more!"], False),
        ("the persona is interested", ["I'm not interested."], False),
        (
            "the persona wants to unsubscribe",
            ["Please remove me from this list."],
            True,
        ),
        ("the persona mentions the price", ["Way too expensive for me."], True),
        ("the persona wants to buy", ["I'll take it, just ordered."], True),
        ("the persona sounds confused", ["What does this even mean?"], True),
        ("the persona talks about their garden", ["My garden needs rain."], True),
        ("the persona talks about their garden", ["I like cats."], False),
    ],
)
def test_the_offline_judge_reads_statements_on_the_latest_touchpoint(
    statement, replies, holds
):
    answer = judged(statement, *replies)
    assert answer["holds"] is holds
    assert answer["reason"]


def test_the_offline_judge_reads_only_the_latest_touchpoint():
    earlier = "Latest touchpoint (day 0, welcome):\nPersona: This is spam, stop.\n"
    assert (
        judged("the persona sounds frustrated", "Sounds good.", earlier=earlier)[
            "holds"
        ]
        is False
    )


@settings(max_examples=40, deadline=None)
@given(
    st.text(min_size=1, max_size=60).filter(str.strip),
    st.lists(st.text(max_size=80), max_size=3),
)
def test_the_offline_judge_is_deterministic_and_fits_the_schema(statement, replies):
    statement = " ".join(statement.split())
    first = judged(statement, *replies)
    assert first == judged(statement, *replies)
    assert set(first) == {"holds", "reason"}
    assert isinstance(first["holds"], bool)
    assert isinstance(first["reason"], str)


def test_triggers_from_python_and_from_files():
    def frustrated(state, persona, transcript):
        return state.trust < 0.3

    by_code = Trigger("calm", frustrated, lambda state: state.nudge(trust=0.2))
    assert not by_code.judged
    assert not by_code.sends_message
    assert by_code.statement == "frustrated"
    assert by_code.once
    by_file = Trigger.from_config(
        {
            "name": "calm",
            "when": "the persona sounds frustrated",
            "send": "Sorry!",
            "once": False,
        }
    )
    assert by_file.judged
    assert by_file.sends_message
    assert not by_file.once
    setting = Trigger.from_config(
        {"name": "lost", "when": "x", "set": {"opted_out": True}}
    )
    assert setting.changed(PersonaState()).opted_out is True
    assert by_file.changed(PersonaState()) == PersonaState()
    assert [
        t.name for t in triggers_of([by_code, {"name": "b", "when": "y", "send": "z"}])
    ] == [
        "calm",
        "b",
    ]


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (("t", 42, "hi"), InvalidTypeError, "precondition must be a callable"),
        (("t", "  ", "hi"), ConfigError, "precondition must not be blank"),
        (("t", "x", ""), ConfigError, "message .* must not be blank"),
        (("t", "x", {}), ConfigError, "must set at least one field"),
        (
            ("t", "x", {"awareness": 2}),
            ConfigError,
            "awareness must be a number from 0 to 1",
        ),
        (("t", "x", 3.5), InvalidTypeError, "effect must be a message"),
        (("", "x", "hi"), ConfigError, "name"),
    ],
)
def test_bad_triggers_are_refused(args, error, match):
    with pytest.raises(error, match=match):
        Trigger(*args)


def test_bad_trigger_lists_are_refused():
    with pytest.raises(InvalidTypeError, match=r"triggers\[0\] must be a Trigger"):
        triggers_of(["the persona sounds frustrated"])
    with pytest.raises(InvalidTypeError, match="triggers must be a list"):
        triggers_of({"name": "a"})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="'when' must be a statement"):
        Trigger.from_config({"name": "a", "when": 3, "send": "x"})


async def test_a_callable_precondition_may_be_async_and_sees_the_transcript():
    seen = []

    async def long_enough(state, persona, transcript: Conversation) -> bool:
        seen.append(len(transcript.messages))
        return len(transcript.messages) >= 4

    mode = SequenceMode(
        [{"day": 0, "content": "Welcome!"}, {"day": 1, "content": "A reminder."}],
        model=JourneyModel(),
        triggers=[Trigger("late", long_enough, "Still there?")],
    )
    run = await run_mode(mode, [PERSONA], run_id="async")
    assert seen == [2, 4]
    [event] = [e for e in run.responses[0].events if e["type"] == "intervention"]
    assert event["touchpoint"] == "day 1"


async def test_a_precondition_that_does_not_answer_a_bool_is_a_config_error():
    mode = SequenceMode(
        [{"day": 0, "content": "Welcome!"}],
        model=JourneyModel(),
        triggers=[Trigger("odd", lambda state, persona, transcript: "yes", "hi")],
    )
    with pytest.raises(
        ConfigError, match="trigger 'odd': its precondition must return True"
    ):
        await run_mode(mode, [PERSONA], run_id="odd")


async def test_an_effect_that_does_not_return_a_state_is_a_config_error():
    mode = SequenceMode(
        [{"day": 0, "content": "Welcome!"}],
        model=JourneyModel(),
        triggers=[
            Trigger("odd", lambda state, persona, transcript: True, lambda s: None)
        ],
    )
    with pytest.raises(
        ConfigError, match="trigger 'odd': its effect must return a PersonaState"
    ):
        await run_mode(mode, [PERSONA], run_id="odd")
