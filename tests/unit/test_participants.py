"""ScriptedParticipant and LLMParticipant through a real runner and on their own."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clientsim import (
    Conversation,
    FullSimulationRunner,
    Intent,
    LLMParticipant,
    Message,
    OfflineChatModel,
    ParticipantRole,
    ScriptedParticipant,
    TypingModel,
)
from clientsim.errors import ConfigError
from clientsim.participants import END_MARKER
from tests.fakes import Timed


CUSTOMER = ParticipantRole.CUSTOMER
AGENT = ParticipantRole.AGENT


def start(base_time, sender=CUSTOMER, content="Hello"):
    return Conversation((Message(content, base_time, sender),))


async def test_scripted_says_lines_in_answer_then_passes_for_good(base_time):
    agent = ScriptedParticipant(AGENT, ["first", "second"])
    conversation = start(base_time)
    first = await agent.get_next_message(conversation)
    assert first is not None
    assert first.content == "first"
    conversation = conversation.with_message(first)
    assert await agent.get_next_message(conversation) is None  # its own message is last
    reply = Message("ok", first.timestamp + timedelta(seconds=1), CUSTOMER)
    conversation = conversation.with_message(reply)
    second = await agent.get_next_message(conversation)
    assert second is not None
    assert second.content == "second"
    conversation = conversation.with_message(second)
    more = conversation.with_message(
        Message("again", second.timestamp + timedelta(seconds=1), CUSTOMER)
    )
    assert await agent.get_next_message(more) is None
    assert agent.finished


async def test_scripted_does_not_lose_a_line_whose_proposal_was_discarded(
    hello, intent, outcomes, base_time
):
    # The customer double-texts before the scripted agent's first line would land.
    customer = Timed(CUSTOMER, [("hello??", 0.5)])
    agent = ScriptedParticipant(AGENT, ["line one", "line two"], typing=TypingModel())
    result = await FullSimulationRunner(
        customer, agent, hello, intent, outcomes, base_timestamp=base_time
    ).run()
    assert [m.content for m in result.conversation.messages] == [
        hello.content,
        "hello??",
        "line one",
    ]


async def test_scripted_accepts_role_strings_from_config():
    participant = ScriptedParticipant.from_config(role="agent", lines=["x"])
    assert participant.role is AGENT
    with pytest.raises(ConfigError, match="'customer' or 'agent'"):
        ScriptedParticipant.from_config(role="robot", lines=["x"])


async def test_typing_model_delays_follow_reading_thinking_typing(base_time):
    typing = TypingModel(
        reading_words_per_minute=60,
        typing_chars_per_second=10,
        think_seconds=(2, 2),
        jitter=0,
    )
    agent = ScriptedParticipant(AGENT, ["0123456789"], typing=typing)
    message = await agent.get_next_message(start(base_time, content="one two three"))
    assert message is not None
    # 3 words at 1 word/s + 2 s thinking + 10 chars at 10 chars/s
    assert message.timestamp - base_time == timedelta(seconds=6)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"reading_words_per_minute": 0}, "reading_words_per_minute"),
        ({"typing_chars_per_second": -1}, "typing_chars_per_second"),
        ({"think_seconds": (3, 1)}, "think_seconds"),
        ({"jitter": 1.5}, "jitter"),
    ],
)
def test_typing_model_validates(options, match):
    with pytest.raises(ConfigError, match=match):
        TypingModel(**options)


def test_an_agent_never_gets_the_customers_intent():
    with pytest.raises(ConfigError, match="must never see the customer's goal"):
        LLMParticipant(AGENT, "offline", intent=Intent(CUSTOMER, "Cancel my plan"))


def test_prompts_keep_persona_intent_and_outcomes_apart():
    intent = Intent(CUSTOMER, "Cancel my subscription today")
    customer = LLMParticipant(
        CUSTOMER, "offline", persona="Kim, a student", intent=intent
    )
    agent = LLMParticipant(AGENT, "offline", persona="Lee, billing support")
    assert "Kim, a student" in customer.system_prompt
    assert intent.description in customer.system_prompt
    assert intent.description not in agent.system_prompt
    assert "Lee, billing support" in agent.system_prompt
    for prompt in (customer.system_prompt, agent.system_prompt):
        assert "resolved" not in prompt
        assert "outcome" not in prompt.lower()


async def test_llm_participant_sees_the_conversation_from_its_own_side(base_time):
    customer = LLMParticipant(CUSTOMER, "offline")
    conversation = start(base_time).with_message(
        Message("How can I help?", base_time + timedelta(seconds=3), AGENT)
    )
    turns = customer.turns(conversation)
    assert [t.role for t in turns] == ["system", "assistant", "user"]
    agent = LLMParticipant(AGENT, "offline")
    assert [t.role for t in agent.turns(conversation)] == [
        "system",
        "user",
        "assistant",
    ]


async def test_llm_participant_passes_without_a_model_call_while_last_is_its_own(
    base_time,
):
    model = OfflineChatModel()
    customer = LLMParticipant(CUSTOMER, model)
    assert await customer.get_next_message(start(base_time)) is None
    assert customer.token_usage.calls == 0


async def test_llm_participant_counts_tokens_and_stamps_later(base_time):
    agent = LLMParticipant(AGENT, "offline", seed=3)
    message = await agent.get_next_message(
        start(base_time, content="I forgot my password")
    )
    assert message is not None
    assert message.sender is AGENT
    assert message.timestamp > base_time
    assert agent.token_usage.calls == 1
    assert agent.token_usage.total_tokens > 0


async def test_end_marker_finishes_the_participant(base_time):
    customer = LLMParticipant(
        CUSTOMER, "offline", intent=Intent(CUSTOMER, "Reset my password")
    )
    conversation = start(base_time, AGENT, "I'm escalating your case to a specialist.")
    message = await customer.get_next_message(conversation)
    assert message is not None
    assert END_MARKER not in message.content
    assert not customer.finished
    conversation = conversation.with_message(message)
    reply = Message("Anything else?", message.timestamp + timedelta(seconds=2), AGENT)
    assert await customer.get_next_message(conversation.with_message(reply)) is None
    assert customer.finished


async def test_same_seed_same_conversation(hello, intent, outcomes, base_time):
    async def run(seed):
        customer = LLMParticipant(
            CUSTOMER, OfflineChatModel(seed=seed), intent=intent, seed=seed
        )
        agent = LLMParticipant(AGENT, OfflineChatModel(seed=seed), seed=seed + 1)
        runner = FullSimulationRunner(
            customer,
            agent,
            hello,
            intent,
            outcomes,
            max_messages=30,
            base_timestamp=base_time,
        )
        return await runner.run()

    first, again = await run(11), await run(11)
    assert first.conversation == again.conversation
    assert first.token_usage == again.token_usage
    contents = [m.content for m in first.conversation.messages]
    assert len(contents) >= 5
    assert len(set(contents)) == len(contents)  # not an echo, no loops


async def test_offline_conversations_reach_different_outcomes_across_seeds(
    hello, intent, outcomes, base_time
):
    from clientsim import RuleBasedOutcomeEvaluator

    rules = RuleBasedOutcomeEvaluator(
        {
            "resolved": {"patterns": [r"\bworked\b", "fixed it"], "sender": "customer"},
            "escalated": {"patterns": ["escalat"], "sender": "agent"},
        }
    )
    names = set()
    for seed in range(12):
        customer = LLMParticipant(
            CUSTOMER,
            f"offline:{seed}",
            intent=intent,
            persona="busy and impatient",
            seed=seed,
        )
        agent = LLMParticipant(AGENT, f"offline:{seed}", seed=seed)
        result = await FullSimulationRunner(
            customer,
            agent,
            hello,
            intent,
            outcomes,
            max_messages=30,
            base_timestamp=base_time,
            outcome_evaluator=rules,
        ).run()
        assert result.ok
        assert result.ending is not None
        assert result.ending.reason in {"both_passed", "max_messages"}
        assert result.outcome is not None
        names.add(result.outcome.name)
    assert names == {"resolved", "escalated"}


def test_from_config_builds_the_intent_for_the_role():
    customer = LLMParticipant.from_config(role="customer", intent="Get a refund")
    assert customer.intent == Intent(CUSTOMER, "Get a refund")
    assert customer.role is CUSTOMER
