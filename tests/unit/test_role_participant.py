"""RoleParticipant on its own: its prompt, its view of the discussion, when it passes,
its timing (no state kept between turns), its memory, its timeouts, and the
``team_role`` participant strategy. The group runner builds each member's view; here
the tests build it by hand: own messages as the agent's, others' as the customer's,
labelled ``"Name (Role): text"``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import anyio
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from clientsim import (
    Conversation,
    Message,
    ParticipantRole,
    RoleParticipant,
    RoleTemplate,
    Speaker,
    Timeouts,
    TokenUsage,
    build_participant,
)
from clientsim.errors import ConfigError, ModelError
from clientsim.models import MemoryState
from clientsim.teams import get_role
from clientsim.turns.base import MemberInfo


AGENT = ParticipantRole.AGENT
CUSTOMER = ParticipantRole.CUSTOMER
SCENARIO = "Decide whether to launch the mobile app on March 1 with a $50,000 budget."
TEAM = (
    MemberInfo("Avery", "CEO", "Sets the direction."),
    MemberInfo("Sam", "Engineering Lead", "Knows what can be built."),
    MemberInfo("Dana", "Designer", "Speaks for the users."),
)


class Recording(BaseChatModel):
    """Answers with its replies in turn and keeps every prompt it was given."""

    replies: list[str] = Field(default_factory=lambda: ["Sounds good to me."])
    prompts: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "recording"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: Any = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.prompts.append(list(messages))
        text = self.replies[(len(self.prompts) - 1) % len(self.replies)]
        message = AIMessage(content=text)
        message.usage_metadata = {
            "input_tokens": 10,
            "output_tokens": 5,
            "total_tokens": 15,
        }
        return ChatResult(generations=[ChatGeneration(message=message)])


class Silent(BaseChatModel):
    """Never answers (until the call's timeout cancels it)."""

    @property
    def _llm_type(self) -> str:
        return "silent"

    def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
        raise NotImplementedError

    async def _agenerate(self, *args: Any, **kwargs: Any) -> ChatResult:
        await anyio.Event().wait()
        raise AssertionError("unreachable")


def said(speaker: Speaker, text: str, at, me: str) -> Message:
    """A message as member ``me`` sees it."""
    if speaker.name == me:
        return Message(text, at, AGENT, speaker=speaker)
    return Message(f"{speaker.label}: {text}", at, CUSTOMER, speaker=speaker)


def view(lines: Sequence[tuple[Speaker, str]], base_time, me: str) -> Conversation:
    return Conversation(
        tuple(
            said(speaker, text, base_time + timedelta(seconds=30 * index), me)
            for index, (speaker, text) in enumerate(lines)
        )
    )


FACILITATOR = Speaker("Facilitator")
AVERY = Speaker("Avery", "CEO")
DANA = Speaker("Dana", "Designer")


def designer(model: BaseChatModel | str = "offline", **options: Any) -> RoleParticipant:
    template = RoleTemplate(
        name="Designer",
        description="Speaks for the users.",
        goals=("ship something users understand",),
        expertise=("usability testing",),
        style="user-centred",
        cares_about=("users", "UX debt"),
        persona="Dana, eight years in product design",
        prompt="Mention the last usability test when it helps.",
    )
    return RoleParticipant(
        template, model, name="Dana", scenario=SCENARIO, team=TEAM, **options
    )


def test_the_system_prompt_says_who_it_is_and_who_else_is_there():
    prompt = designer().system_prompt()
    assert "in a team discussion" in prompt
    for text in (
        "You are Dana, the Designer of the team",
        "Who you are: Dana, eight years in product design",
        f"The scenario the team is discussing: {SCENARIO}",
        "Your goals: ship something users understand",
        "Your expertise: usability testing",
        "Your style: user-centred",
        "What you weigh in a decision: users, UX debt",
        "- Avery (CEO): Sets the direction.",
        "- Sam (Engineering Lead): Knows what can be built.",
        "Mention the last usability test when it helps.",
        '"@Name" or "Name, ..."',
        "one short message",
    ):
        assert text in prompt
    assert "- Dana (Designer)" not in prompt  # not itself


def test_a_member_named_as_its_role_is_told_so():
    prompt = RoleParticipant(get_role("CEO")).system_prompt()
    assert prompt.startswith(
        "You are the CEO of the team, taking part in a team discussion."
    )


def test_without_a_team_it_names_those_who_have_spoken(base_time):
    member = RoleParticipant(get_role("Sales"), name="Leo")
    conversation = view([(FACILITATOR, "Launch?"), (AVERY, "Yes.")], base_time, "Leo")
    prompt = member.system_prompt(conversation)
    assert "- Facilitator\n" in prompt
    assert "- Avery (CEO): Sets the company's direction" in prompt


def test_info_and_speaker():
    member = designer()
    assert member.info == MemberInfo("Dana", "Designer", "Speaks for the users.")
    assert member.speaker == Speaker("Dana", "Designer")
    assert member.role is AGENT
    assert RoleParticipant("Product Manager").name == "Product Manager"


async def test_the_model_sees_the_discussion_from_the_members_side(base_time):
    model = Recording(replies=["Dana (Designer): @Avery, users first."])
    member = designer(model)
    conversation = view(
        [
            (FACILITATOR, "Launch on March 1?"),
            (DANA, "Users first."),
            (AVERY, "Revenue."),
        ],
        base_time,
        "Dana",
    )
    message = await member.get_next_message(conversation)
    (prompt,) = model.prompts
    assert isinstance(prompt[0], SystemMessage)
    assert [type(m) for m in prompt[1:]] == [HumanMessage, AIMessage, HumanMessage]
    assert [m.text for m in prompt[1:]] == [
        "Facilitator: Launch on March 1?",
        "Users first.",
        "Avery (CEO): Revenue.",
    ]
    assert message is not None
    assert message.content == "@Avery, users first."  # its own label is dropped
    assert message.sender is AGENT
    assert message.speaker == Speaker("Dana", "Designer")
    assert message.timestamp > conversation.messages[-1].timestamp
    assert member.token_usage == TokenUsage(
        input_tokens=10, output_tokens=5, total_tokens=15, calls=1
    )


async def test_it_passes_while_its_own_message_is_last(base_time):
    model = Recording()
    member = designer(model)
    conversation = view(
        [(FACILITATOR, "Launch?"), (DANA, "Users first.")], base_time, "Dana"
    )
    assert await member.get_next_message(conversation) is None
    assert model.prompts == []


async def test_an_empty_answer_passes(base_time):
    member = designer(Recording(replies=["   "]))
    assert (
        await member.get_next_message(view([(AVERY, "Go?")], base_time, "Dana")) is None
    )


async def test_it_keeps_no_state_between_turns(base_time):
    # Asked about the same view, a member that has seen more of the discussion and a
    # fresh one give the same message at the same time: a fork at turn k continues
    # exactly as the original.
    lines = [
        (FACILITATOR, "Launch on March 1?"),
        (AVERY, "I want revenue this quarter."),
    ]
    early = view(lines, base_time, "Dana")
    later = view([*lines, (DANA, "Users first."), (AVERY, "Fine.")], base_time, "Dana")
    used = designer(seed=3)
    await used.get_next_message(later)
    first = await used.get_next_message(early)
    fresh = await designer(seed=3).get_next_message(early)
    assert first == fresh
    other_seed = await designer(seed=4).get_next_message(early)
    assert other_seed is not None
    assert fresh is not None
    assert other_seed.content == fresh.content
    assert other_seed.timestamp != fresh.timestamp


def test_the_role_prompt_model_wins_over_the_teams():
    template = RoleTemplate(name="Legal", model="offline")
    member = RoleParticipant(template, Recording())
    assert member.model == "offline"


class Remembers:
    """A stand-in memory: keeps the last two messages, summarises the rest."""

    def __init__(self) -> None:
        self.seen: list[int] = []
        self.usage = TokenUsage(
            input_tokens=7, output_tokens=3, total_tokens=10, calls=1
        )

    async def observe(self, conversation: Conversation) -> MemoryState:
        messages = conversation.messages
        self.seen.append(len(messages))
        return MemoryState(
            window=messages[-2:],
            summary="The CEO wants revenue; the designer wants tested onboarding.",
            facts=("The launch date under discussion is March 1.",),
            summarized=len(messages) - 2,
        )


async def test_with_a_memory_it_prompts_with_the_summary_facts_and_window(base_time):
    model = Recording()
    memory = Remembers()
    member = designer(model, memory=memory)
    conversation = view(
        [
            (FACILITATOR, "Launch on March 1?"),
            (AVERY, "Revenue first."),
            (DANA, "Users first."),
            (AVERY, "Can we agree on March 1?"),
        ],
        base_time,
        "Dana",
    )
    message = await member.get_next_message(conversation)
    assert message is not None
    assert memory.seen == [4]
    (prompt,) = model.prompts
    system = prompt[0].text
    assert (
        "What you remember of the 2 earlier messages: The CEO wants revenue; the "
        "designer wants tested onboarding." in system
    )
    assert (
        "Facts you keep in mind:\n- The launch date under discussion is March 1."
        in system
    )
    assert [m.text for m in prompt[1:]] == [
        "Users first.",
        "Avery (CEO): Can we agree on March 1?",
    ]
    assert member.token_usage.calls == 2  # its own call and the memory's
    assert member.token_usage.total_tokens == 25


def test_a_memory_needs_an_observe_method():
    with pytest.raises(ConfigError, match="async observe"):
        designer(memory=object())


async def test_timeouts_bound_each_model_call(base_time):
    member = designer(Silent(), timeouts=Timeouts(model_call=0.05))
    with pytest.raises(ModelError, match=r"timeouts\.model_call"):
        await member.get_next_message(view([(AVERY, "Go?")], base_time, "Dana"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeouts": 5}, "timeouts must be a Timeouts"),
        ({"name": ""}, "name"),
        ({"team": ["Avery"]}, "team must hold MemberInfo values"),
        ({"typing": 3}, "typing must be a TypingModel"),
        ({"seed": "3"}, "seed must be an integer"),
        ({"model": 3}, "model must be None, a model spec"),
        ({"model": " "}, "model must be a non-blank spec"),
    ],
)
def test_bad_arguments_are_refused(options, message):
    with pytest.raises(ConfigError, match=message):
        RoleParticipant(get_role("CEO"), **options)


def test_an_unknown_role_name_is_refused():
    with pytest.raises(ConfigError, match="unknown role 'CFO'; known roles: 'CEO'"):
        RoleParticipant("CFO")


# ----------------------------------------------------------------- from config


def test_the_team_role_strategy_builds_a_member():
    member = build_participant(
        {
            "strategy": "team_role",
            "role": "Engineering Lead",
            "name": "Sam",
            "seed": 5,
            "scenario": SCENARIO,
            "persona": "Sam, ten years in payments",
            "goal": "ship nothing untested",
            "prompt": "Give estimates in weeks.",
        }
    )
    assert isinstance(member, RoleParticipant)
    assert member.name == "Sam"
    assert member.seed == 5
    assert member.template.persona == "Sam, ten years in payments"
    assert member.template.goals == ("ship nothing untested",)
    assert member.template.prompt == "Give estimates in weeks."
    assert member.template.cares_about == get_role("engineering lead").cares_about
    assert member.scenario == SCENARIO


def test_the_team_role_strategy_takes_a_mapping_and_context():
    model = Recording()
    member = build_participant(
        {"strategy": "team_role", "role": {"role": "CEO", "goals": ["grow"]}},
        model=model,
        team=TEAM,
    )
    assert isinstance(member, RoleParticipant)
    assert member.model is model
    assert member.template.goals == ("grow",)
    assert member.team == TEAM


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"strategy": "team_role", "role": "CFO"}, "unknown role 'CFO'"),
        ({"strategy": "team_role", "role": "CEO", "mood": "x"}, "unknown option"),
        ({"strategy": "team_role"}, "needs option"),
    ],
)
def test_the_team_role_strategy_refuses_bad_configs(config, message):
    with pytest.raises(ConfigError, match=message):
        build_participant(config)
