"""GroupSimulationRunner: views, validation, failures, usage, seeding, history, steps."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from clientsim import (
    GroupMember,
    GroupSimulationRunner,
    LLMParticipant,
    Message,
    MessageDraft,
    Outcome,
    Outcomes,
    RuleBasedOutcomeEvaluator,
    ScriptedParticipant,
    Speaker,
    Timeouts,
    TurnPolicy,
    events,
)
from clientsim.errors import (
    ConfigError,
    InvalidTypeError,
    ParticipantError,
    SimulationError,
    UnknownStrategyError,
)
from clientsim.models import ErrorRecord, from_dict, to_dict
from clientsim.termination import ClosingPhrases
from tests.group_fakes import (
    AGENT,
    CUSTOMER,
    START,
    Broken,
    Gives,
    Lines,
    Stuck,
    talker,
)


POLICIES = [
    "round_robin",
    "earliest",
    {"strategy": "moderator", "moderator": "Ana"},
    "llm_selector",
    "addressed",
]


def runner(members, **options):
    options.setdefault("initial_message", "Do we launch on Monday?")
    options.setdefault("base_timestamp", START)
    return GroupSimulationRunner(members, **options)


def said(result):
    return [(m.speaker.name, m.content) for m in result.conversation.messages]


async def test_every_message_carries_its_speaker_and_the_opening_comes_first():
    ana = Lines("Ana", ["Ship it."], role="CEO")
    dana = Lines("Dana", ["Not yet."], role="Designer")
    result = await runner([ana, dana]).run()
    assert said(result) == [
        ("Facilitator", "Do we launch on Monday?"),
        ("Ana", "Ship it."),
        ("Dana", "Not yet."),
    ]
    speakers = [m.speaker for m in result.conversation.messages]
    assert speakers[1] == Speaker("Ana", "CEO")
    assert result.conversation.messages[0].timestamp == START
    assert result.ending.reason == "all_passed"
    assert result.ok


async def test_each_member_sees_its_own_messages_as_its_own_and_others_labelled():
    ana = Lines("Ana", ["Ship it.", "Agreed."], role="CEO")
    cora = Lines("Cora", ["Customers wait."], side=CUSTOMER)
    await runner([ana, cora], max_messages=4).run()
    view = ana.views[-1]
    assert [(m.sender, m.content) for m in view.messages] == [
        (CUSTOMER, "Facilitator: Do we launch on Monday?"),
        (AGENT, "Ship it."),
        (CUSTOMER, "Cora: Customers wait."),
    ]
    seen_by_cora = cora.views[-1]
    assert [(m.sender, m.content) for m in seen_by_cora.messages] == [
        (AGENT, "Facilitator: Do we launch on Monday?"),
        (AGENT, "Ana (CEO): Ship it."),
    ]
    assert seen_by_cora.messages[1].speaker == Speaker("Ana", "CEO")


async def test_views_grow_incrementally_and_labelled_messages_are_shared():
    members = [Lines(name, ["one", "two", "three"]) for name in ("A", "B", "C")]
    await runner(members, max_messages=10).run()
    first, later = members[0].views[0], members[0].views[-1]
    assert len(later) > len(first)
    # The messages it saw before are the very same objects: nothing was rebuilt.
    assert all(a is b for a, b in zip(first.messages, later.messages, strict=False))
    # Members of the same side share one labelled copy of everyone else's messages.
    opening_b = members[1].views[-1].messages[0]
    opening_c = members[2].views[-1].messages[0]
    assert opening_b is opening_c


@pytest.mark.parametrize(
    ("members", "options", "words"),
    [
        ([Lines("A", [])], {"initial_message": None}, "at least 2 members"),
        ([Lines("A", []), Lines("A", [])], {}, "'A' is taken"),
        ([Lines("A", []), 42], {}, "participants[1]"),
        ([Lines("A", []), "no such thing"], {}, "participants[1]"),
        (
            [Lines("A", []), Lines("B", [])],
            {"turn_policy": {"strategy": "moderator", "moderator": "Zed"}},
            "moderator 'Zed' is not a member",
        ),
        ([Lines("A", []), Lines("B", [])], {"turn_policy": 3}, "turn_policy must be"),
        ([Lines("A", []), Lines("B", [])], {"history": ["hi"]}, "history[0]"),
        ([Lines("A", []), Lines("B", [])], {"initial_message": 5}, "initial_message"),
        ([Lines("A", []), Lines("B", [])], {"initial_speaker": " "}, "initial_speaker"),
        ([Lines("A", []), Lines("B", [])], {"seed": "x"}, "seed must be an int"),
        (
            [Lines("A", []), Lines("B", [])],
            {"initial_message": MessageDraft("hi", CUSTOMER), "initial_speaker": "A"},
            "initial_message's sender",
        ),
        ("AB", {}, "participants must be a list"),
    ],
)
def test_bad_configurations_are_named(members, options, words):
    with pytest.raises(ConfigError) as caught:
        runner(members, **options)
    assert words in str(caught.value)


def test_one_member_and_an_opening_is_a_group():
    group = runner([Lines("A", ["hi"])])
    assert [m.name for m in group.members] == ["A"]


def test_an_unknown_policy_lists_the_known_ones():
    with pytest.raises(UnknownStrategyError) as caught:
        runner([Lines("A", []), Lines("B", [])], turn_policy="loudest")
    assert "round_robin" in str(caught.value)


def test_members_are_named_by_their_name_or_their_place():
    unnamed = ScriptedParticipant(AGENT, ["hi"])
    group = runner([GroupMember("Dana", unnamed, role="Designer"), unnamed])
    assert [(m.name, m.role) for m in group.members] == [
        ("Dana", "Designer"),
        ("member 2", ""),
    ]
    assert group.participant("member 2") is unnamed
    with pytest.raises(ConfigError, match="no member is called 'Zed'"):
        group.participant("Zed")


async def test_a_failing_member_ends_the_run_with_its_name_as_the_source():
    group = runner([Lines("Ana", ["Ship it."]), Broken("Bo", RuntimeError("boom"))])
    result = await group.run()
    assert said(result)[-1] == ("Ana", "Ship it.")
    assert result.ending.reason == "error"
    assert result.error.source == "Bo"
    assert result.error.side == "simulator"
    assert result.error.message == "boom"
    assert not result.ok


async def test_raise_on_error_raises_a_participant_error_with_the_conversation():
    group = runner(
        [Lines("Ana", ["Ship it."]), Broken("Bo", RuntimeError("boom"))],
        raise_on_error=True,
    )
    with pytest.raises(ParticipantError, match="group member 'Bo' failed") as caught:
        await group.run()
    assert caught.value.conversation is not None
    assert len(caught.value.conversation) == 2
    assert group.is_complete


async def test_a_member_past_the_turn_timeout_fails_the_run():
    group = runner(
        [Lines("Ana", ["Ship it."]), Stuck("Bo")], timeouts=Timeouts(turn=0.05)
    )
    result = await group.run()
    assert result.error.source == "Bo"
    assert result.error.type == "builtins.TimeoutError"
    assert "timeouts.turn" in result.error.message
    assert result.error.transient


async def test_the_conversation_timeout_ends_the_run_with_max_duration():
    group = runner(
        [Lines("Ana", ["Ship it."]), Stuck("Bo")],
        timeouts=Timeouts(turn=10, conversation=0.05),
    )
    result = await group.run()
    assert result.ending.reason == "max_duration"
    assert result.error is None


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("text", "returned str"),
        (Message("hi", START + timedelta(seconds=1), CUSTOMER), "sender CUSTOMER"),
        (Message("hi", START - timedelta(seconds=1), AGENT), "earlier than the last"),
    ],
)
async def test_bad_proposals_fail_the_member(value, words):
    result = await runner([Gives("Bo", value), Lines("Ana", [])]).run()
    assert result.error.source == "Bo"
    assert result.error.type == "clientsim.errors.ParticipantError"
    assert words in result.error.message


class Impostor(TurnPolicy):
    async def take_turn(self, context):
        return Message("made up", context.transcript.messages[-1].timestamp, AGENT)


async def test_a_policy_that_makes_up_a_message_fails_the_run():
    result = await runner(
        [Lines("A", ["a"]), Lines("B", ["b"])], turn_policy=Impostor()
    ).run()
    assert result.error.source == "turn_policy"
    assert "context.ask()" in result.error.message


def test_an_error_record_may_say_whose_fault_it_was():
    record = ErrorRecord(source="Bot", type="x.Y", message="m", blame="agent")
    assert record.side == "agent"
    assert ErrorRecord(source="Bot", type="x.Y", message="m").side == "simulator"
    assert "blame" not in to_dict(ErrorRecord(source="a", type="t", message="m"))
    assert from_dict(to_dict(record), ErrorRecord) == record
    with pytest.raises(InvalidTypeError, match="blame"):
        ErrorRecord(source="Bot", type="x.Y", message="m", blame="nobody")


async def test_token_usage_is_summed_per_side_and_kept_per_member():
    ana = GroupMember("Ana", LLMParticipant(AGENT, "offline"), role="CEO")
    bo = GroupMember("Bo", LLMParticipant(AGENT, "offline:2"), role="Sales")
    cy = GroupMember("Cy", LLMParticipant(CUSTOMER, "offline"), role="Customer")
    group = runner([ana, bo, cy], max_messages=7)
    result = await group.run()
    usage = group.usage_by_member
    assert set(usage) == {"Ana", "Bo", "Cy"}
    assert all(u.calls > 0 for u in usage.values())
    assert result.token_usage.agent == usage["Ana"] + usage["Bo"]
    assert result.token_usage.customer == usage["Cy"]


def llm_members():
    return [
        GroupMember("Ana", LLMParticipant(AGENT, "offline", seed=1), role="CEO"),
        GroupMember("Bo", LLMParticipant(AGENT, "offline:2", seed=2), role="Sales"),
        GroupMember("Cy", LLMParticipant(CUSTOMER, "offline", seed=3), role="Buyer"),
    ]


@pytest.mark.parametrize("policy", POLICIES, ids=str)
async def test_the_same_seed_gives_the_same_transcript(policy):
    first = await runner(
        llm_members(), turn_policy=policy, seed=4, max_messages=8
    ).run()
    second = await runner(
        llm_members(), turn_policy=policy, seed=4, max_messages=8
    ).run()
    assert first.conversation == second.conversation
    assert len(first.conversation) == 8


def talkers(seed):
    return [talker(name, seed, role=role) for name, role in _TEAM]


_TEAM = [("Ana", "CEO"), ("Bo", "Sales"), ("Cy", "Designer"), ("Di", "Support")]


@pytest.mark.parametrize("policy", POLICIES, ids=str)
async def test_a_run_given_a_prefix_as_history_continues_exactly_as_the_original(
    policy,
):
    original = await runner(talkers(7), turn_policy=policy, seed=7).run()
    messages = original.conversation.messages
    assert len(messages) > 6
    for k in (1, 3, len(messages) - 2):
        members = talkers(7)
        continued = await runner(
            members, turn_policy=policy, seed=7, history=messages[:k]
        ).run()
        assert continued.conversation.messages == messages
        assert continued.ending == original.ending
        # Nobody was asked for what the history already said.
        assert all(len(view) >= k for m in members for view in m.views)


async def test_history_is_taken_as_said_without_asking_anyone():
    first = await runner([Lines("A", ["a1", "a2"]), Lines("B", ["b1"])]).run()
    prefix = first.conversation.messages[:3]
    a, b = Lines("A", ["a1", "a2"]), Lines("B", ["b1"])
    group = runner([a, b], history=prefix)
    step = await group.step()
    assert step.messages == (first.conversation.messages[3],)
    assert [len(v) for v in a.views] == [3]
    assert b.views == []


def test_history_must_start_with_the_same_opening():
    history = [Message("Hi", START, CUSTOMER, speaker=Speaker("Facilitator"))]
    with pytest.raises(ConfigError, match="history's first message"):
        runner([Lines("A", []), Lines("B", [])], history=history, initial_message="Bye")


async def test_steps_take_one_turn_each_and_run_finishes_the_rest():
    group = runner([Lines("A", ["a1", "a2"]), Lines("B", ["b1", "b2"])])
    first = await group.step()
    assert [m.content for m in first.messages] == ["Do we launch on Monday?", "a1"]
    assert first.ending is None
    assert group.result().ending is None
    second = await group.step()
    assert [m.content for m in second.messages] == ["b1"]
    result = await group.run()
    assert [m.content for m in result.conversation.messages][3:] == ["a2", "b2"]
    with pytest.raises(SimulationError, match="has ended"):
        await group.step()
    with pytest.raises(SimulationError, match="already run"):
        await group.run()


async def test_max_messages_outcomes_progress_and_termination_work_as_in_full_runs():
    outcomes = Outcomes(outcomes=(Outcome("agreed", "They agreed"),))
    evaluator = RuleBasedOutcomeEvaluator({"agreed": {"patterns": ["agreed"]}})
    seen = []
    members = [Lines("A", ["a1", "we agreed", "a3"]), Lines("B", ["b1", "b2", "b3"])]
    result = await runner(
        members,
        outcomes=outcomes,
        outcome_evaluator=evaluator,
        progress_callback=lambda conversation, progress: seen.append(
            progress["message_count"]
        ),
        max_messages=5,
    ).run()
    assert result.outcome.name == "agreed"
    assert result.ending.reason == "max_messages"
    assert seen == [1, 2, 3, 4, 5]
    closing = runner(
        [Lines("A", ["a1", "goodbye"]), Lines("B", ["b1", "b2"])],
        termination=ClosingPhrases(["goodbye"]),
    )
    assert (await closing.run()).ending.reason == "closing_phrases"


async def test_lifecycle_events_name_the_group_runner(caplog):
    caplog.set_level(logging.DEBUG, logger="clientsim.events")
    group = runner([Lines("A", ["a1"]), Lines("B", ["b1"])], conversation_id="g-1")
    result = await group.run()
    records = [r for r in caplog.records if r.name == "clientsim.events"]
    assert [r.clientsim_event for r in records] == [
        events.CONVERSATION_STARTED,
        *[events.CONVERSATION_MESSAGE] * 3,
        events.CONVERSATION_ENDED,
    ]
    assert records[0].clientsim_fields == {"conversation_id": "g-1", "runner": "group"}
    assert records[-1].clientsim_fields["duration_seconds"] == result.duration_seconds


async def test_a_failure_is_an_event_with_the_member_as_source(caplog):
    caplog.set_level(logging.INFO, logger="clientsim.events")
    await runner([Lines("A", ["a1"]), Broken("B", ValueError("no"))]).run()
    failed = [
        r.clientsim_fields
        for r in caplog.records
        if getattr(r, "clientsim_event", None) == events.CONVERSATION_FAILED
    ]
    assert failed[0]["source"] == "B"
    assert failed[0]["side"] == "simulator"


async def test_an_opening_by_a_member_is_its_own_message():
    a, b = Lines("A", ["a1"]), Lines("B", ["b1"])
    result = await runner([a, b], initial_speaker="A", turn_policy="round_robin").run()
    assert said(result)[:2] == [("A", "Do we launch on Monday?"), ("B", "b1")]
    assert b.views[0].messages[0].content == "A: Do we launch on Monday?"


async def test_a_history_is_judged_message_by_message_as_the_original_was():
    outcomes = Outcomes(outcomes=(Outcome("agreed", "They agreed"),))

    def judged(**options):
        return runner(
            [Lines("A", ["agreed", "a2", "a3"]), Lines("B", ["b1", "b2"])],
            outcomes=outcomes,
            outcome_evaluator=RuleBasedOutcomeEvaluator(
                {"agreed": {"patterns": ["agreed"]}}
            ),
            **options,
        ).run()

    original = await judged()
    assert original.outcome.name == "agreed"
    continued = await judged(history=original.conversation.messages[:4])
    assert continued.conversation == original.conversation  # the outcome too


async def test_a_history_as_long_as_max_messages_ends_at_once():
    first = await runner([Lines("A", ["a1"]), Lines("B", ["b1"])]).run()
    a, b = Lines("A", ["a1"]), Lines("B", ["b1"])
    again = runner([a, b], history=first.conversation.messages, max_messages=3)
    result = await again.run()
    assert result.ending.reason == "max_messages"
    assert a.views == b.views == []


def test_a_group_member_needs_a_name_and_a_participant():
    with pytest.raises(ConfigError, match="name must be a non-empty string"):
        GroupMember(" ", ScriptedParticipant(AGENT, ["hi"]))
    with pytest.raises(ConfigError, match="participant must be a Participant"):
        GroupMember("Ana", 3)
