"""The offline model as a team member, through RoleParticipant: deterministic, in role,
reacting to colleagues by name, and converging over a long discussion.

A tiny round-robin loop stands in for the group runner: it builds each member's view
(own messages as the agent's, others' labelled ``"Name (Role): text"``).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import anyio
import pytest

from clientsim import (
    Conversation,
    Message,
    OfflineChatModel,
    ParticipantRole,
    RoleParticipant,
    RoleTemplate,
    Speaker,
)
from clientsim.models import MemoryState
from clientsim.teams import builtin_roles, get_role
from clientsim.turns.base import MemberInfo


NAMES = ("Avery", "Priya", "Sam", "Dana", "Leo", "Mia", "Ana")
SCENARIO = (
    "Decide whether to launch the mobile app on March 1 with a budget of $50,000."
)
OPENING = "Today we decide whether to launch the mobile app on March 1."
FACILITATOR = Speaker("Facilitator")

Said = tuple[Speaker, str]


def member_view(said: Sequence[Said], me: str, base_time) -> Conversation:
    messages = []
    for index, (speaker, text) in enumerate(said):
        at = base_time + timedelta(seconds=20 * index)
        if speaker.name == me:
            messages.append(Message(text, at, ParticipantRole.AGENT, speaker=speaker))
        else:
            messages.append(
                Message(
                    f"{speaker.label}: {text}",
                    at,
                    ParticipantRole.CUSTOMER,
                    speaker=speaker,
                )
            )
    return Conversation(tuple(messages))


def team(
    scenario: str = SCENARIO, templates: Sequence[RoleTemplate] | None = None, **options
) -> list[RoleParticipant]:
    chosen = list(templates or builtin_roles())
    info = [
        MemberInfo(n, r.name, r.description)
        for n, r in zip(NAMES, chosen, strict=False)
    ]
    return [
        RoleParticipant(role, name=name, scenario=scenario, team=info, **options)
        for name, role in zip(NAMES, chosen, strict=False)
    ]


async def discuss(
    members: Sequence[RoleParticipant], turns: int, base_time, opening: str = OPENING
) -> list[Said]:
    """Round robin: each member in turn, until ``turns`` messages are said."""
    said: list[Said] = [(FACILITATOR, opening)]
    asked = 0
    while len(said) - 1 < turns:
        member = members[asked % len(members)]
        asked += 1
        message = await member.get_next_message(
            member_view(said, member.name, base_time)
        )
        if message is not None:
            assert message.speaker is not None
            said.append((message.speaker, message.content))
        assert asked < turns * 3, "the members keep passing"
    return said[1:]


def texts_of(said: Sequence[Said], role: str) -> list[str]:
    return [text for speaker, text in said if speaker.role == role]


@pytest.fixture(name="fifty", scope="module")
def _fifty():
    from datetime import UTC, datetime

    import anyio

    base_time = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    return anyio.run(discuss, team(), 50, base_time)


def test_fifty_turns_of_seven_members_rarely_repeat(fifty):
    texts = [text for _, text in fifty]
    assert len(texts) == 50
    assert len(set(texts)) / len(texts) >= 0.8
    for (_, before), (_, after) in itertools.pairwise(fifty):
        assert after != before
        assert before not in after  # never an echo of the last message
    for name in NAMES:
        own = [text for speaker, text in fifty if speaker.name == name]
        assert len(own) == len(set(own)), f"{name} repeated itself"


def test_each_member_speaks_in_role(fifty):
    cues = {
        "CEO": ("revenue", "strateg", "market", "board", "competit"),
        "Product Manager": ("scope", "timeline", "roadmap", "priorit", "owner"),
        "Engineering Lead": ("capacity", "engineers", "test", "quality", "estimate"),
        "Designer": ("users", "usability", "ux", "onboarding", "accessib"),
        "Sales": ("customers", "deal", "pipeline", "competitors", "sell"),
        "Support": ("ticket", "help articles", "support", "response times", "training"),
    }
    for role, words in cues.items():
        own = texts_of(fifty, role)
        assert own
        in_role = [text for text in own if any(word in text.lower() for word in words)]
        assert len(in_role) / len(own) >= 0.7, (role, own)


def test_members_react_to_colleagues_by_name_and_address_them(fifty):
    reacting = 0
    for (before, _), (speaker, text) in itertools.pairwise(fifty):
        if before.name in text.split(".")[0] and speaker.role != "Simulation Analyst":
            reacting += 1
    assert reacting >= 20
    addressed = [
        text
        for _, text in fifty
        if re.search(rf"@(?:{'|'.join(NAMES)})\b|\b(?:{'|'.join(NAMES)}), [a-z]", text)
    ]
    assert len(addressed) >= 5
    assert sum("?" in text for _, text in fifty) >= 10


def test_it_uses_the_scenarios_numbers_and_dates(fifty):
    everything = " ".join(text for _, text in fifty)
    assert "March 1" in everything
    assert "$50,000" in everything
    assert "launching the mobile app on March 1" in everything


def test_the_discussion_raises_risks_then_converges(fifty):
    first, last = fifty[:15], fifty[25:]
    assert sum("risk" in text.lower() for _, text in fifty) >= 5
    assert not any(text.startswith("Agreed") for _, text in first)
    positions = [
        text for _, text in fifty if "I support launching the mobile app" in text
    ]
    assert len(positions) >= 5
    assert any(" if " in text for text in positions)
    proposals = [
        text for _, text in fifty if "Proposal: we launch the mobile app" in text
    ]
    assert proposals
    agreed = [text for _, text in last if "Agreed" in text]
    assert len(agreed) >= 10
    # a proposal gathers the conditions others put on their support
    conditions = re.findall(
        r"I support [^.]*? if ([^.;]+)", " ".join(t for _, t in fifty)
    )
    assert any(
        condition in proposal for condition in conditions for proposal in proposals
    )


def test_the_analyst_records_where_the_team_stands(fifty):
    notes = texts_of(fifty, "Simulation Analyst")
    assert notes
    assert all(
        text.startswith(("Where we stand:", "I'll keep the record")) for text in notes
    )
    assert any("supports it with conditions" in text for text in notes)
    assert any("Decision taking shape:" in text for text in notes)


async def test_the_same_discussion_twice(base_time):
    first = await discuss(team(), 16, base_time)
    second = await discuss(team(), 16, base_time)
    assert first == second


async def test_another_scenario_changes_what_they_say(base_time):
    said = await discuss(
        team("Should we move the Q3 pricing change to June 15 for $20k?"),
        14,
        base_time,
        opening="Pricing change: June 15?",
    )
    everything = " ".join(text for _, text in said)
    assert "June 15" in everything
    assert "March 1" not in everything


async def test_a_member_asked_by_name_answers_the_one_who_asked(base_time):
    (sam,) = [m for m in team() if m.name == "Sam"]
    said = [
        (FACILITATOR, OPENING),
        (Speaker("Sam", "Engineering Lead"), "We need to talk about capacity."),
        (
            Speaker("Priya", "Product Manager"),
            "@Sam how many weeks for the core scope?",
        ),
    ]
    message = await sam.get_next_message(member_view(said, "Sam", base_time))
    assert message is not None
    assert message.content.startswith("Priya, ")
    assert "@Sam" not in message.content


async def test_a_role_without_a_profile_speaks_from_what_it_cares_about(base_time):
    legal = RoleTemplate(
        name="Legal Counsel",
        description="Reviews contracts.",
        cares_about=("liability", "compliance"),
    )
    members = team(templates=[legal, get_role("CEO")])
    said = await discuss(members, 10, base_time)
    own = texts_of(said, "Legal Counsel")
    assert len(own) == 5
    assert all(("liability" in t.lower() or "compliance" in t.lower()) for t in own)
    assert len(set(own)) == len(own)


class Remembered:
    """A stand-in memory that says the discussion is long past its window."""

    async def observe(self, conversation: Conversation) -> MemoryState:
        return MemoryState(
            window=conversation.messages[-3:],
            summary="Most of the team supports launching on March 1 with conditions.",
            summarized=40,
        )


async def test_with_a_long_memory_the_member_converges(base_time):
    (priya,) = [m for m in team(memory=Remembered()) if m.name == "Priya"]
    said = [
        (FACILITATOR, OPENING),
        (
            Speaker("Sam", "Engineering Lead"),
            "I support launching on March 1 if we cut scope.",
        ),
        (
            Speaker("Dana", "Designer"),
            "I support launching on March 1 if onboarding is tested.",
        ),
    ]
    message = await priya.get_next_message(member_view(said, "Priya", base_time))
    assert message is not None
    assert "Proposal: we launch the mobile app on March 1" in message.content


async def test_the_offline_model_answers_a_member_the_same_for_the_same_input(
    base_time,
):
    model = OfflineChatModel(seed=9)
    said = [(FACILITATOR, OPENING), (Speaker("Avery", "CEO"), "Revenue matters most.")]
    answers = set()
    for _ in range(3):
        member = RoleParticipant(
            get_role("Sales"), model, name="Leo", scenario=SCENARIO
        )
        message = await member.get_next_message(member_view(said, "Leo", base_time))
        assert message is not None
        answers.add(message.content)
    assert len(answers) == 1
    (answer,) = answers
    assert "Avery" in answer
    assert OPENING not in answer


@pytest.mark.parametrize(
    "dialogue",
    [
        [],
        [("user", "What do we do about the launch?")],
        [
            ("user", "Kim (Legal): Should we sign the contract by May 3?"),
            ("assistant", "Yes."),
        ],
    ],
)
async def test_any_team_prompt_gets_a_sensible_answer(dialogue):
    # A system prompt written by someone else, which only says it is a team discussion.
    model = OfflineChatModel()
    turns = [("system", "You are in a team discussion about contracts."), *dialogue]
    first = await model.ainvoke(turns)
    second = await model.ainvoke(turns)
    assert first.text == second.text
    assert first.text.strip()
    assert all(first.text != content for _, content in dialogue)


def test_the_same_discussion_in_another_process(base_time):
    # Nothing depends on the process (hash seeds, object ids): a what-if replays in any.
    code = (
        "import anyio, json\n"
        "from datetime import UTC, datetime\n"
        "from tests.unit.test_offline_team import discuss, team\n"
        "said = anyio.run(discuss, team(), 12, datetime(2026, 1, 1, 12, 0, tzinfo=UTC))\n"
        "print(json.dumps([[s.name, s.role, text] for s, text in said]))\n"
    )
    root = Path(__file__).parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root / "src"), str(root)]),
        "PYTHONHASHSEED": "12345",
        "CLIENTSIM_DISABLE_PLUGINS": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    here = anyio.run(discuss, team(), 12, base_time)
    assert json.loads(done.stdout) == [[s.name, s.role, text] for s, text in here]
