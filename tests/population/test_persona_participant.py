"""A Persona in every runner: PersonaParticipant, LLMParticipant(persona=Persona),
simulate(personas=[Persona]), the participant strategy "persona", and how the offline
model plays a persona."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientsim import (
    FullSimulationRunner,
    GroupMember,
    GroupSimulationRunner,
    LLMParticipant,
    simulate,
)
from clientsim.errors import ConfigError, InvalidModelOutputError
from clientsim.factory import build_participant
from clientsim.llm.offline import OfflineChatModel
from clientsim.models import (
    Conversation,
    Message,
    MessageDraft,
    Outcome,
    Outcomes,
    ParticipantRole,
)
from clientsim.models.persona import STUDY_PERSONA_MARKER, Persona
from clientsim.models.survey import Question, Variant
from clientsim.population.participant import PersonaParticipant
from clientsim.population.questions import (
    answer_schema,
    question_text,
    read_answer,
    shuffled_options,
)
from clientsim.population.survey import ask
from tests.population.persona_fakes import GREEN, HEALTH, PRICE


MARIA = Persona(
    id="maria",
    name="Maria",
    demographics={"age_band": "35-44", "household_type": "couple with children"},
    background="A nurse in Ohio with two kids.",
    message_style="short, informal, lowercase",
    fragments=(PRICE,),
    segment="parents",
)
DEAL = "Save 40% this week: our best deal, half the usual price."
HEALTHY = "Our new bar is organic, high in protein, good for your heart."


def test_the_system_prompt_is_the_marker_then_the_persona_then_instructions():
    participant = PersonaParticipant(MARIA, "offline", instructions="Be honest.")
    lines = participant.system_prompt.splitlines()
    assert lines[0] == STUDY_PERSONA_MARKER
    assert participant.system_prompt.index(MARIA.prompt()) == len(lines[0]) + 1
    assert lines[-1] == "Be honest."
    assert participant.role is ParticipantRole.CUSTOMER
    assert participant.study_persona is MARIA
    with pytest.raises(ConfigError, match="persona"):
        PersonaParticipant("Maria", "offline")


def test_the_persona_strategy_builds_from_a_mapping():
    participant = build_participant(
        {
            "strategy": "persona",
            "persona": {
                "id": "sam",
                "name": "Sam",
                "demographics": {"age_band": "65+"},
            },
            "role": "agent",
        }
    )
    assert isinstance(participant, PersonaParticipant)
    assert participant.role is ParticipantRole.AGENT
    assert "age_band: 65+" in participant.system_prompt
    with pytest.raises(ConfigError, match="'age'"):
        build_participant(
            {"strategy": "persona", "persona": {"id": "s", "name": "S", "age": 3}}
        )
    llm = build_participant(
        {"strategy": "llm", "role": "customer", "persona": {"id": "s", "name": "Sol"}}
    )
    assert "Name: Sol" in llm.system_prompt


def test_llm_participant_takes_a_persona():
    customer = LLMParticipant(ParticipantRole.CUSTOMER, "offline", persona=MARIA)
    assert MARIA.prompt() in customer.system_prompt
    assert customer.system_prompt.startswith("You are the customer")
    plain = LLMParticipant(ParticipantRole.CUSTOMER, "offline", persona="Sam, busy.")
    assert "Who you are: Sam, busy." in plain.system_prompt


async def test_simulate_takes_personas_and_persona_strings():
    agent = LLMParticipant(ParticipantRole.AGENT, "offline")
    runs = await simulate(
        agent,
        personas=[MARIA, "a calm retiree"],
        intents=["I forgot my password"],
        max_messages=4,
    )
    assert [run.persona for run in runs.runs] == [MARIA.prompt(), "a calm retiree"]
    assert all(run.result.ok for run in runs.runs)


async def test_the_offline_persona_reacts_to_what_it_is_shown():
    async def react(persona: Persona, content: str, seed: int = 3) -> str:
        participant = PersonaParticipant(persona, OfflineChatModel(seed=seed))
        shown = f"You received this message:\n---\n{content}\n---\nYour reaction?"
        conversation = Conversation((_study_message(shown),))
        message = await participant.get_next_message(conversation)
        assert message is not None
        return message.content

    to_deal = await react(MARIA, DEAL)
    assert to_deal == await react(MARIA, DEAL)  # reproducible
    assert to_deal != await react(MARIA, HEALTHY)
    assert "price" in to_deal
    assert to_deal == to_deal.lower()  # her style
    careful = Persona(id="h", name="Hana", fragments=(HEALTH,))
    assert "health" in await react(careful, HEALTHY)


def _study_message(text: str) -> Message:
    return Message(text, datetime(2026, 1, 1, tzinfo=UTC), ParticipantRole.AGENT)


async def test_ask_one_persona_one_question():
    intent = Question(id="intent", text="How likely are you to buy it?", type="scale")
    deal = await ask(MARIA, intent, content=DEAL, seed=1)
    pricey = await ask(
        MARIA, intent, content="Premium, expensive, luxury, high-end.", seed=1
    )
    assert deal.value > pricey.value
    assert deal == await ask(MARIA, intent, content=DEAL, seed=1)
    assert deal.reasoning
    assert 0 <= deal.confidence <= 1
    pick = await ask(
        MARIA,
        {
            "id": "pick",
            "text": "Which matters most?",
            "type": "choice",
            "options": ["Health", "Price", "Looks"],
        },
        content=Variant(name="v", content=DEAL),
    )
    assert pick.value == "Price"
    with pytest.raises(ConfigError, match="question"):
        await ask(MARIA, {"id": "q"})


async def test_a_topic_question_follows_the_leaning():
    important = Question(
        id="price", text="How important is the price to you?", type="scale"
    )
    thrifty = await ask(Persona(id="a", name="A", fragments=(PRICE,)), important)
    green = await ask(Persona(id="b", name="B", fragments=(GREEN,)), important)
    assert thrifty.value >= 8
    assert green.value <= 5


@settings(max_examples=60, deadline=None)
@given(
    low=st.integers(-5, 5),
    span=st.integers(1, 20),
    value=st.integers(-30, 30),
)
def test_a_scale_answer_is_read_only_within_its_bounds(low, span, value):
    question = Question(id="s", text="?", type="scale", low=low, high=low + span)
    raw = {"value": value, "text": "x", "reasoning": "", "confidence": 2}
    if low <= value <= low + span:
        answer = read_answer(question, (), raw)
        assert answer.value == value
        assert answer.confidence == 1.0
    else:
        with pytest.raises(InvalidModelOutputError, match="outside the scale"):
            read_answer(question, (), raw)


@settings(max_examples=60, deadline=None)
@given(
    options=st.lists(
        st.text(alphabet="abcdefgh ", min_size=1, max_size=6).filter(str.strip),
        min_size=2,
        max_size=6,
        unique_by=lambda text: text.strip().casefold(),
    ),
    seed=st.integers(0, 10**6),
    pick=st.integers(0, 5),
)
def test_choices_and_rankings_come_back_in_the_declared_options(options, seed, pick):
    choice = Question(id="c", text="?", type="choice", options=options)
    shown = shuffled_options(choice, seed)
    assert sorted(shown) == sorted(options)
    chosen = shown[pick % len(shown)]
    answer = read_answer(choice, shown, {"value": chosen.upper()})
    assert answer.value == chosen
    ranking = Question(id="r", text="?", type="ranking", options=options)
    shown = shuffled_options(ranking, seed)
    assert read_answer(ranking, shown, {"value": list(shown)}).value == shown
    with pytest.raises(InvalidModelOutputError, match="every option"):
        read_answer(ranking, shown, {"value": list(shown[:-1])})
    with pytest.raises(InvalidModelOutputError, match="not one of the options"):
        read_answer(choice, shown, {"value": "zzz"})
    text = question_text(choice, shown, 1, 1)
    assert text.splitlines()[2:] == [f"- {o}" for o in shown]
    schema = answer_schema(choice, shown)
    assert schema["title"] == "survey_answer"
    assert schema["properties"]["value"]["enum"] == list(shown)


async def test_a_persona_takes_a_seat_in_the_group_and_full_runners():
    ana = Persona(id="a", name="Ana", fragments=(PRICE,))
    ben = Persona(id="b", name="Ben", fragments=(HEALTH,), message_style="lowercase")
    group = GroupSimulationRunner(
        [
            GroupMember("Ana", PersonaParticipant(ana, "offline")),
            GroupMember("Ben", PersonaParticipant(ben, "offline")),
        ],
        initial_message=(
            "You received this message:\n---\nOur organic snack is 20% off.\n---\n"
            "What do you think?"
        ),
        max_messages=5,
        base_timestamp=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    )
    result = await group.run()
    said = [m.content for m in result.conversation.messages[1:]]
    assert result.ok
    assert len(said) == 4
    assert "price" in said[0]  # each reacts through its own leanings
    assert "health" in said[1]
    assert said[1] == said[1].lower()
    assert len(set(said)) == 4  # nobody repeats themselves
    full = FullSimulationRunner(
        PersonaParticipant(ana, "offline"),
        LLMParticipant(ParticipantRole.AGENT, "offline"),
        MessageDraft("I can't log in", ParticipantRole.CUSTOMER),
        None,
        Outcomes(outcomes=(Outcome(name="resolved", description="Fixed"),)),
        max_messages=4,
    )
    assert (await full.run()).ok
