"""The offline customer through the public API: how it says its intent, how it answers
each kind of agent message, and whole conversations against real agents (an async
function and an OpenAI-compatible server on 127.0.0.1) that end politely, without loops.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from clientsim import (
    Conversation,
    Intent,
    LLMParticipant,
    Message,
    OfflineChatModel,
    ParticipantRole,
)
from clientsim.runners.simulate import simulate
from clientsim.termination import DEFAULT_CLOSING_PHRASES
from tests.channels import http_servers as http


CUSTOMER, AGENT = ParticipantRole.CUSTOMER, ParticipantRole.AGENT
AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def customer_for(intent: str, *, seed: int = 3, persona: str | None = None):
    return LLMParticipant(
        CUSTOMER,
        OfflineChatModel(seed=seed),
        intent=Intent(CUSTOMER, intent),
        persona=persona,
        seed=seed,
    )


async def talk(customer, *agent_lines: str) -> list[str | None]:
    """The customer's opening, then its reply to each agent line (None: it passed)."""
    conversation = Conversation(messages=())
    said: list[str | None] = []
    opening = await customer.get_next_message(conversation)
    assert opening is not None
    conversation = conversation.with_message(opening)
    said.append(opening.content)
    for index, line in enumerate(agent_lines, start=1):
        at = AT + timedelta(minutes=index)
        conversation = conversation.with_message(Message(line, at, AGENT))
        reply = await customer.get_next_message(conversation)
        said.append(reply.content if reply else None)
        if reply is not None:
            conversation = conversation.with_message(reply)
    return said


def opening_body(text: str) -> str:
    for greeting in ("Hi! ", "Hello. "):
        text = text.removeprefix(greeting)
    return text


@pytest.mark.parametrize(
    ("intent", "said"),
    [
        ("I forgot my password", "I forgot my password. Can you help me with that?"),
        (
            "reset my password",
            "I need to reset my password. Can you help me with that?",
        ),
        (
            "refund for order 123",
            "I'd like a refund for order 123. Can you help me with that?",
        ),
        ("where is my package", "Where is my package?"),
        ("how to change my email", "How do I change my email?"),
        (
            "The customer wants to cancel their subscription.",
            "I want to cancel my subscription. Can you help me with that?",
        ),
        (
            "an update on my order",
            "I'd like an update on my order. Can you help me with that?",
        ),
        (
            "my package never arrived",
            "My package never arrived. Can you help me with that?",
        ),
    ],
)
async def test_the_opening_says_the_intent_grammatically(intent, said):
    (opening,) = await talk(customer_for(intent))
    assert opening_body(opening) == said


@pytest.mark.parametrize(
    "agent_line",
    [
        "Your refund has been issued.",
        "A specialist will contact you within 24 hours.",
        "Have a great day!",
    ],
)
async def test_every_closing_says_a_default_closing_phrase(agent_line):
    customer = customer_for("reset my password")
    said = await talk(customer, agent_line, "Hello?")
    assert said[2] is None
    assert customer.finished
    words = re.findall(r"[a-z']+", said[1].lower())
    assert any(
        phrase.split() == words[i : i + len(phrase.split())]
        for phrase in DEFAULT_CLOSING_PHRASES
        for i in range(len(words))
    ), said[1]


async def test_a_resolution_ends_the_talk_and_the_request_is_not_repeated():
    customer = customer_for("I want a refund for order 48213")
    said = await talk(
        customer,
        "Your refund has been issued.",
        "Is there anything else I can help with?",
        "Hello?",
    )
    assert said[1] is not None
    assert "bye" in said[1].lower()
    assert "refund" not in said[1].lower()
    assert said[2:] == [None, None]
    assert customer.finished


async def test_questions_get_facts_that_stay_the_same_and_no_thanks():
    customer = customer_for(
        "I was charged twice for order 5521", persona="Sam Reyes, a nurse."
    )
    said = await talk(
        customer,
        "What's your order number?",
        "Could you tell me the email address on the account?",
        "And the name on the account?",
        "Sorry, what was the email again?",
    )
    assert said[1] == "The order number is 5521."
    assert said[2] == "It's sam.reyes@example.com."
    assert said[3] == "It's Sam Reyes."
    assert said[4] == said[2]
    assert not any("thank" in line.lower() for line in said[1:] if line)


async def test_invented_facts_come_from_the_seed():
    first = await talk(
        customer_for("I forgot my password", seed=1), "What's your email?"
    )
    again = await talk(
        customer_for("I forgot my password", seed=1), "What's your email?"
    )
    other = await talk(
        customer_for("I forgot my password", seed=2), "What's your email?"
    )
    assert first == again
    assert first[1] != other[1]
    assert first[1].endswith("@example.com.")


async def test_a_refusal_gets_one_request_for_another_way_then_a_goodbye():
    customer = customer_for("Cancel my subscription")
    said = await talk(
        customer,
        "I'm sorry, we can't do that.",
        "Unfortunately that's not possible.",
        "No.",
    )
    assert said[1] == "I see. Is there another option, or someone else I could talk to?"
    assert said[2] == "Okay, I understand. Goodbye."
    assert said[3] is None


async def test_a_transfer_is_waited_for_once_and_a_hand_off_ends_the_talk():
    waiting = await talk(
        customer_for("reset my password"),
        "Let me transfer you to a colleague.",
        "Let me transfer you to a colleague.",
    )
    assert waiting[1] in {"Okay, I'll wait.", "Sure, I'll hold."}
    assert waiting[2] == "Okay, I'll wait to hear from them. Goodbye."
    handed_off = await talk(
        customer_for("reset my password"),
        "A specialist will contact you within 24 hours.",
        "Anything else?",
    )
    assert handed_off[1] in {
        "Okay, thank you. I'll wait to hear from them. Bye!",
        "Fine, thanks. Goodbye.",
    }
    assert handed_off[2] is None


async def test_nonsense_gets_one_clarification_then_the_request_restated_then_a_goodbye():
    said = await talk(
        customer_for("Where is my package?"), *["Banana window purple."] * 4
    )
    assert said[1:] == [
        "Sorry, I don't understand. Could you clarify?",
        "Let me put it another way. Where is my package?",
        "I don't think we're getting anywhere. I'll try again later. Goodbye.",
        None,
    ]


# ----- against real agents ----------------------------------------------------------


async def test_a_function_agent_that_resolves_on_the_second_turn():
    turns: Counter[str] = Counter()

    async def agent(message: str, *, session_id: str) -> str:
        turns[session_id] += 1
        if turns[session_id] == 1:
            return "Sure, I can help. What's your order number?"
        if turns[session_id] == 2:
            return "Thanks. Your refund has been issued."
        return "Is there anything else I can help with?"

    results = await simulate(
        agent,
        intents=["refund for order 123", "I forgot my password"],
        runs=3,
        max_messages=20,
    )
    for run in results:
        result = run.result
        lines = [(m.sender, m.content) for m in result.conversation.messages]
        assert result.ending.reason == "both_passed", lines
        assert len(lines) == 6, lines
        assert lines[2][1].startswith("The order number is ")
        if "123" in run.intent:
            assert lines[2][1] == "The order number is 123."
        closing = lines[4][1].lower()
        assert "bye" in closing
        assert "refund" not in closing
        assert "password" not in closing
    assert sum(turns.values()) == 3 * 3 * 2


async def test_an_openai_compatible_agent_on_loopback():
    async with http.serve(
        http.completion("Hi! Could you give me the email on the account?"),
        http.completion("Done: I've reset your password. Is there anything else?"),
        http.completion("Have a great day!"),
    ) as server:
        results = await simulate(
            f"{server.url}/v1", intents=["I forgot my password"], max_messages=20
        )
    (run,) = list(results)
    lines = [(m.sender.value, m.content) for m in run.result.conversation.messages]
    assert lines[0] == ("customer", "I forgot my password")
    assert lines[1][0] == "agent"
    assert lines[2][1].startswith("It's ")
    assert lines[2][1].endswith("@example.com.")
    assert lines[4] == (
        "customer",
        "No, that's all, it worked out. Thank you so much! Bye!",
    )
    assert len(lines) == 6
    assert run.result.ending.reason == "both_passed"
    assert len(server.requests) == 3


async def test_an_impatient_customer_asks_for_a_manager_when_refused():
    customer = customer_for("Cancel my subscription", persona="Jo, impatient and busy.")
    said = await talk(customer, "Unfortunately that's not possible.")
    assert said[1] == "That's not good enough. Can I talk to a manager, please?"


async def test_an_agent_that_asks_the_same_thing_three_times_is_left_politely():
    said = await talk(
        customer_for("reset my password"), *["Hmm, can you rephrase?"] * 4
    )
    assert said[3] == "We're going round in circles. I'll try again later. Goodbye."
    assert said[4] is None
    assert not any("thank" in line.lower() for line in said[1:] if line)
