"""The offline model as a focus group's moderator: opens, asks, follows up, closes."""

from __future__ import annotations

import random

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from clientsim.llm import resolve_model
from clientsim.llm._offline_moderator import reply
from clientsim.llm.turns import Turn
from clientsim.population._focus_parts import moderator_prompt


SYSTEM = moderator_prompt(
    "a meal-kit subscription",
    ["What would make you try it?", "How much would you pay?"],
    rounds=4,
    members=["Ana", "Ben"],
    material="A weekly box of five meals.",
)


def say(*turns):
    """Turns as (role, text): 'm' is the moderator's own, anything else a member's."""
    return [Turn("assistant" if who == "m" else "user", text) for who, text in turns]


def answer(dialogue, seed=0):
    return reply(SYSTEM, dialogue, random.Random(seed), seed)


def test_it_opens_with_the_topic_the_material_and_the_first_question():
    opening = answer([])
    assert "a meal-kit subscription" in opening
    assert "A weekly box of five meals." in opening
    assert opening.endswith("To start:\nWhat would make you try it?")


def test_it_asks_the_next_question_thanking_the_last_speaker_by_name():
    text = answer(
        say(("m", "Welcome..."), ("u", "Ana: Cheaper."), ("u", "Ben: Faster."))
    )
    assert "Ben" in text
    assert text.endswith("How much would you pay?")


def test_it_follows_up_by_name_on_what_a_member_said_then_closes_then_passes():
    heard = say(
        ("m", "Welcome..."),
        ("u", "Ana: It would save me time. And money."),
        ("u", "Ben, to you privately: Too expensive for me."),
        ("m", "Next..."),
        ("u", "Ana: Forty dollars."),
        ("u", "Ben: Thirty at most."),
        ("m", "Next..."),
    )
    follow_up = answer(heard)
    # two prompts, so this is follow-up 2: the second member to have spoken, Ben
    assert follow_up.startswith(("Ben", "I'd like to come back to something Ben said"))
    assert '"Thirty at most"' in follow_up
    closing = answer([*heard, *say(("u", "Ana: yes"), ("m", follow_up))])
    assert "thank" in closing.lower()
    assert answer([*heard, *say(("m", "a"), ("m", "closing"))]) == ""


def test_it_is_deterministic_and_varies_with_the_seed():
    assert answer([], seed=1) == answer([], seed=1)
    assert len({answer([], seed=s) for s in range(12)}) > 1


def test_an_interview_prompt_without_members_is_followed_up_without_names():
    system = (
        "You are the moderator of this study's discussion.\n"
        "Topic: coffee\nQuestions:\n- Why?"
    )
    dialogue = say(("m", "Why?"), ("u", "Because it tastes good. Mostly."))
    assert reply(system, [], random.Random(0), 0).endswith("To start:\nWhy?")
    assert "thank" in reply(system, dialogue, random.Random(0), 0).lower()


async def test_the_offline_model_routes_a_moderator_prompt_here():
    model = resolve_model("offline")
    first = await model.ainvoke([SystemMessage(SYSTEM)])
    assert "To start:\nWhat would make you try it?" in first.content
    second = await model.ainvoke(
        [
            SystemMessage(SYSTEM),
            AIMessage(first.content),
            HumanMessage("Ana: Cheaper meals."),
        ]
    )
    assert second.content.endswith("How much would you pay?")
