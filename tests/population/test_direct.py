"""Direct messages and thoughts: recorded in the transcript, never in others' views."""

from __future__ import annotations

from datetime import timedelta

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientsim import GroupMember, GroupSimulationRunner, Message, ScriptedParticipant
from clientsim.errors import ConfigError, InvalidTypeError, SimulationError
from clientsim.models import Speaker, from_dict, to_dict
from clientsim.models.persona import Persona
from clientsim.population import talk_to, think
from clientsim.render.notebook import conversation_html
from tests.group_fakes import AGENT, START, Lines
from tests.population.persona_model import PersonaEcho


NAMES = ("Ana", "Ben", "Dana")


def group(**options):
    members = [Lines(name, [f"{name} says {k}" for k in range(1, 6)]) for name in NAMES]
    options.setdefault("initial_message", "What do we do about the launch?")
    options.setdefault("base_timestamp", START)
    options.setdefault("max_messages", 12)
    return GroupSimulationRunner(members, **options), members


def private_texts(messages):
    return {m.content for m in messages if m.audience is not None}


async def test_direct_messages_and_thoughts_never_reach_the_others():
    runner, (ana, ben, dana) = group()
    await runner.step()
    await runner.step()
    said = await talk_to(
        "Ana", "Dana", "Between us: I'd wait.", runner=runner, replies=2
    )
    thought = await think("Ben", runner=runner, text="They are both wrong.")
    result = await runner.run()
    transcript = result.conversation.messages
    assert [m.speaker.name for m in said] == ["Ana", "Dana", "Ana"]
    assert all(m.audience == ("Ana", "Dana") for m in said)
    assert said[0].content == "Between us: I'd wait."
    assert thought.is_thought
    assert thought.audience == ("Ben",)
    assert set(said) | {thought} <= set(transcript)  # recorded
    # Every view any member was ever shown, and the views the runner gives now.
    secret = {m.content for m in said}
    for member, hidden in (
        (ben, secret),
        (ana, {thought.content}),
        (dana, {thought.content}),
    ):
        for view in [*member.views, runner.view(member.name)]:
            shown = " ".join(m.content for m in view.messages)
            assert not any(text in shown for text in hidden), member.name
    assert any(
        "to you privately: Between us" in m.content
        for m in runner.view("Dana").messages
    )
    assert thought in runner.view("Ben").messages
    assert runner.view("Ben").messages[-1].timestamp <= transcript[-1].timestamp


async def test_a_member_with_an_audience_is_heard_by_it_only():
    members = [
        GroupMember("Chair", Lines("Chair", ["Q1?", "Q2?"])),
        GroupMember("Ana", Lines("Ana", ["a1", "a2"]), audience=("Chair",)),
        GroupMember("Ben", Lines("Ben", ["b1", "b2"]), audience=["Chair"]),
    ]
    runner = GroupSimulationRunner(
        members, max_messages=6, base_timestamp=START, turn_policy="round_robin"
    )
    result = await runner.run()
    contents = [m.content for m in result.conversation.messages]
    assert contents == ["Q1?", "a1", "b1", "Q2?", "a2", "b2"]
    assert [m.content for m in runner.view("Ben").messages] == [
        "Chair: Q1?",
        "b1",
        "Chair: Q2?",
        "b2",
    ]
    assert "Ana, to you privately: a1" in [
        m.content for m in runner.view("Chair").messages
    ]
    stamps = [m.timestamp for m in result.conversation.messages]
    assert stamps == sorted(stamps)  # a member that saw less is timed after the rest


async def test_a_standalone_exchange_between_two_personas():
    ana = Persona(id="ana", name="Ana", background="A nurse.")
    ben = Persona(id="ben", name="Ben", background="A baker.")
    said = await talk_to(
        ana, ben, "Have you tried the meal kit?", replies=3, model=PersonaEcho(), seed=1
    )
    assert [m.speaker.name for m in said] == ["Ana", "Ben", "Ana", "Ben"]
    assert all(m.audience == ("Ana", "Ben") for m in said)
    assert said[1].content.startswith("Ben here:")
    assert "(re: Ana: Have you tried" in said[1].content
    again = await talk_to(
        ana, ben, "Have you tried the meal kit?", replies=3, model=PersonaEcho(), seed=1
    )
    assert [m.content for m in again] == [m.content for m in said]


async def test_a_standalone_thought_is_the_persona_answering_a_private_note():
    ana = Persona(id="ana", name="Ana")
    thought = await think(ana, "Would you pay $60?", model=PersonaEcho())
    assert thought.is_thought
    assert thought.speaker == Speaker("Ana")
    assert thought.content.startswith("Ana here:")
    assert "Only you can see this" in thought.content  # the note it answered


async def test_standalone_participants_with_names():
    ana = GroupMember("Ana", ScriptedParticipant(AGENT, ["Free at noon?", "Great."]))
    dana = ScriptedParticipant(AGENT, ["Yes, see you."])
    dana.name = "Dana"
    said = await talk_to(ana, dana, replies=2)
    assert [(m.speaker.name, m.content) for m in said] == [
        ("Ana", "Free at noon?"),
        ("Dana", "Yes, see you."),
        ("Ana", "Great."),
    ]


async def test_bad_calls_are_refused_with_what_is_allowed():
    runner, _ = group()
    with pytest.raises(SimulationError, match="between turns"):
        await talk_to("Ana", "Dana", "hi", runner=runner)
    await runner.step()
    with pytest.raises(ConfigError, match="no member is called 'Zoe'"):
        await talk_to("Ana", "Zoe", "hi", runner=runner)
    with pytest.raises(ConfigError, match="both 'Ana'"):
        await talk_to("Ana", "Ana", "hi", runner=runner)
    with pytest.raises(ConfigError, match="replies must be an int >= 0"):
        await talk_to("Ana", "Dana", "hi", runner=runner, replies=-1)
    with pytest.raises(ConfigError, match="member's name"):
        await think(Persona(id="x", name="X"), runner=runner)
    late = Message("x", START - timedelta(days=1), AGENT, speaker=Speaker("Ana"))
    with pytest.raises(ConfigError, match="earlier than the last message"):
        runner.post(late)
    stranger = Message(
        "x", START + timedelta(hours=1), AGENT, audience=["Zoe"], speaker=Speaker("Ana")
    )
    with pytest.raises(ConfigError, match="'Zoe', who are not members"):
        runner.post(stranger)
    with pytest.raises(ConfigError, match="speaker is a member"):
        runner.post(Message("x", START + timedelta(hours=1), AGENT))
    with pytest.raises(ConfigError, match="not members of the group"):
        GroupSimulationRunner(
            [GroupMember("A", Lines("A", ["a"]), audience=("B",)), Lines("C", ["c"])]
        )
    with pytest.raises(InvalidTypeError, match="audience"):
        Message("x", START, AGENT, audience="Ana")


def test_audience_round_trips_and_public_messages_keep_their_plain_data():
    public = Message("hi", START, AGENT, speaker=Speaker("Ana"))
    private = Message("psst", START, AGENT, speaker=Speaker("Ana"), audience=["Dana"])
    assert "audience" not in to_dict(public)
    assert to_dict(private)["audience"] == ["Dana"]
    assert from_dict(to_dict(private), Message) == private
    assert private.visible_to("Ana")
    assert private.visible_to("Dana")
    assert not private.visible_to("Ben")
    assert not private.is_thought
    assert Message(
        "me", START, AGENT, speaker=Speaker("Ana"), audience=["Ana"]
    ).is_thought


async def test_notebook_transcripts_mark_thoughts_and_private_messages():
    runner, _ = group()
    await runner.step()
    await talk_to("Ana", "Dana", "Between us.", runner=runner, replies=0)
    await think("Ben", runner=runner, text="Hmm.")
    html = conversation_html(runner.result().conversation)
    assert "Ana \u2192 Dana (private)" in html
    assert "Ben (thinking)" in html


@settings(max_examples=40, deadline=None)
@given(
    posts=st.lists(
        st.tuples(st.sampled_from(NAMES), st.none() | st.sets(st.sampled_from(NAMES))),
        max_size=8,
    )
)
def test_every_view_holds_exactly_what_its_member_may_see(posts):
    async def main():
        runner, _ = group()
        await runner.step()
        for index, (name, audience) in enumerate(posts):
            stamp = START + timedelta(minutes=index + 1)
            runner.post(
                Message(
                    f"post {index}",
                    stamp,
                    AGENT,
                    speaker=Speaker(name),
                    audience=None if audience is None else sorted(audience),
                )
            )
        for member in NAMES:
            shown = [
                m.content.rpartition(": ")[2] for m in runner.view(member).messages
            ]
            expected = [
                f"post {index}"
                for index, (name, audience) in enumerate(posts)
                if audience is None or member in audience or member == name
            ]
            assert [text for text in shown if text.startswith("post")] == expected

    anyio.run(main)


async def test_text_reports_label_group_messages_and_private_ones():
    from clientsim.experiments._traces import trace_line
    from clientsim.models import ConversationRecord, GridCell, RunStatus
    from clientsim.render.text import _failure

    runner, _ = group()
    await runner.step()
    await talk_to("Ana", "Dana", "Between us.", runner=runner, replies=0)
    await think("Ben", runner=runner, text="Hmm.")
    record = ConversationRecord(
        run_id="r",
        cell=GridCell(input_id="i", persona_id="p", iteration=0),
        seed=0,
        status=RunStatus.DONE,
        result=runner.result(),
    )
    lines: list[str] = []
    _failure(lines, 1, trace_line(record), 200)
    text = "\n".join(lines)
    assert "Ana \u2192 Dana (private): Between us." in text
    assert "Ben (thinking): Hmm." in text
    assert "Facilitator: What do we do about the launch?" in text
