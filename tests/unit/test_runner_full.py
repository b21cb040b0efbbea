"""FullSimulationRunner: ordering, endings, outcomes, failures, progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import pytest

from clientsim import (
    FullSimulationRunner,
    LLMOutcomeEvaluator,
    Message,
    MessageDraft,
    ParticipantRole,
    RuleBasedOutcomeEvaluator,
    ScriptedParticipant,
)
from clientsim.errors import ConfigError, ParticipantError, SimulationError
from clientsim.termination import (
    ClosingPhrases,
    Deadline,
    GoalReached,
    MaxMessages,
    OutcomeReached,
)
from tests.fakes import Failing, Returns, Timed


CUSTOMER = ParticipantRole.CUSTOMER
AGENT = ParticipantRole.AGENT


@pytest.fixture(name="build")
def _build(hello, intent, outcomes, base_time):
    """A runner for the test: lists of lines become ScriptedParticipants."""

    def build(customer, agent, **kwargs):
        if isinstance(customer, list):
            customer = ScriptedParticipant(CUSTOMER, customer)
        if isinstance(agent, list):
            agent = ScriptedParticipant(AGENT, agent)
        kwargs.setdefault("initial_message", hello)
        kwargs.setdefault("intent", intent)
        kwargs.setdefault("base_timestamp", base_time)
        return FullSimulationRunner(
            customer=customer, agent=agent, outcomes=outcomes, **kwargs
        )

    return build


def contents(result):
    return [m.content for m in result.conversation.messages]


async def test_alternation_is_the_common_case(
    build, hello, intent, outcomes, base_time
):
    customer = ScriptedParticipant(CUSTOMER, ["c1", "c2"])
    agent = ScriptedParticipant(AGENT, ["a1", "a2", "a3"])
    result = await build(customer, agent).run()
    assert contents(result) == [hello.content, "a1", "c1", "a2", "c2", "a3"]
    assert result.ending is not None
    assert result.ending.reason == "both_passed"
    assert result.ending.message_count == 6
    assert result.ok


async def test_earliest_proposal_wins_and_allows_a_double_message(
    build, hello, intent, outcomes, base_time
):
    # The customer follows up after 2 s, before the agent's reply at 10 s.
    customer = Timed(CUSTOMER, [("are you there?", 2.0)])
    agent = Timed(AGENT, [("hi, looking now", 10.0)])
    result = await build(customer, agent).run()
    assert contents(result) == [hello.content, "are you there?", "hi, looking now"]
    senders = [m.sender for m in result.conversation.messages]
    assert senders == [CUSTOMER, CUSTOMER, AGENT]
    stamps = [m.timestamp - base_time for m in result.conversation.messages]
    assert stamps == [timedelta(0), timedelta(seconds=2), timedelta(seconds=12)]


async def test_a_tie_goes_to_the_side_that_did_not_send_the_last_message(
    build, hello, intent, outcomes, base_time
):
    customer = Timed(CUSTOMER, [("double text", 3.0)])
    agent = Timed(AGENT, [("reply", 3.0)])
    result = await build(customer, agent).run()
    assert contents(result)[1] == "reply"
    assert contents(result)[2] == "double text"


async def test_both_passing_at_once_ends_the_talk(
    build, hello, intent, outcomes, base_time
):
    customer = Timed(CUSTOMER, [])
    agent = Timed(AGENT, [])
    result = await build(customer, agent).run()
    assert contents(result) == [hello.content]
    assert result.ending is not None
    assert result.ending.reason == "both_passed"
    assert (customer.calls, agent.calls) == (1, 1)


async def test_timestamps_are_monotonic_and_reproducible(
    build, hello, intent, outcomes, base_time
):
    async def once():
        customer = ScriptedParticipant(CUSTOMER, ["one", "two", "three"], seed=5)
        agent = ScriptedParticipant(AGENT, ["a", "b", "c", "d"], seed=6)
        return await build(customer, agent).run()

    first, second = await once(), await once()
    stamps = [m.timestamp for m in first.conversation.messages]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)
    assert first.conversation == second.conversation


async def test_another_seed_gives_other_timestamps(
    build, hello, intent, outcomes, base_time
):
    async def run(seed):
        customer = ScriptedParticipant(CUSTOMER, ["one"], seed=seed)
        agent = ScriptedParticipant(AGENT, ["a"], seed=seed)
        return await build(customer, agent).run()

    a, b = await run(1), await run(2)
    assert contents(a) == contents(b)
    assert a.conversation.messages[1].timestamp != b.conversation.messages[1].timestamp


async def test_without_base_timestamp_the_run_starts_now(hello, intent, outcomes):
    runner = FullSimulationRunner(
        ScriptedParticipant(CUSTOMER, []),
        ScriptedParticipant(AGENT, ["a"]),
        hello,
        intent,
        outcomes,
    )
    before = datetime.now(tz=runner.conversation.messages[0].timestamp.tzinfo)
    result = await runner.run()
    assert result.conversation.messages[0].timestamp >= before


async def test_progress_callback_is_called_once_per_message(
    build, hello, intent, outcomes, base_time
):
    seen = []

    def progress(conversation, progress):
        seen.append((len(conversation.messages), dict(progress)))

    customer = ScriptedParticipant(CUSTOMER, ["c1"])
    agent = ScriptedParticipant(AGENT, ["a1", "a2"])
    runner = build(customer, agent, progress_callback=progress)
    result = await runner.run()
    assert [count for count, _ in seen] == [1, 2, 3, 4]
    assert len(result.conversation.messages) == 4
    assert set(seen[0][1]) == {
        "message_count",
        "max_messages",
        "is_complete",
        "outcome",
        "elapsed_seconds",
    }
    assert seen[-1][1]["message_count"] == 4
    assert seen[-1][1]["max_messages"] == 100
    assert seen[-1][1]["is_complete"] is False
    assert runner.get_progress()["is_complete"] is True


async def test_runner_is_single_use(build, hello, intent, outcomes, base_time):
    runner = build([], [])
    assert not runner.is_complete
    assert runner.get_progress()["elapsed_seconds"] == 0
    await runner.run()
    assert runner.is_complete
    with pytest.raises(SimulationError, match="single-use"):
        await runner.run()


async def test_max_messages_ends_the_talk(build, hello, intent, outcomes, base_time):
    customer = ScriptedParticipant(CUSTOMER, ["c"] * 50)
    agent = ScriptedParticipant(AGENT, ["a"] * 50)
    result = await build(customer, agent, max_messages=7).run()
    assert len(result.conversation.messages) == 7
    assert result.ending is not None
    assert result.ending.reason == "max_messages"
    assert "7" in result.ending.detail


async def test_max_messages_of_one_keeps_only_the_first(
    build, hello, intent, outcomes, base_time
):
    result = await build(
        ["c"],
        ["a"],
        max_messages=1,
    ).run()
    assert contents(result) == [hello.content]
    assert result.ending is not None
    assert result.ending.reason == "max_messages"


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
def test_max_messages_must_be_a_positive_int(bad, hello, intent, outcomes):
    customer = ScriptedParticipant(CUSTOMER, [])
    with pytest.raises(ConfigError, match="max_messages"):
        FullSimulationRunner(
            customer, customer, hello, intent, outcomes, max_messages=bad
        )


def test_participants_must_have_get_next_message(hello, intent, outcomes):
    with pytest.raises(ConfigError, match="customer must be a Participant"):
        FullSimulationRunner(object(), object(), hello, intent, outcomes)  # type: ignore[arg-type]


async def test_closing_phrases_end_the_talk_with_the_phrase(
    build, hello, intent, outcomes, base_time
):
    customer = ScriptedParticipant(CUSTOMER, ["it works, thanks", "ok"])
    agent = ScriptedParticipant(AGENT, ["try again", "Great, have a nice day!", "more"])
    result = await build(
        customer,
        agent,
        termination=ClosingPhrases(sender="agent"),
    ).run()
    assert contents(result)[-1] == "Great, have a nice day!"
    assert result.ending is not None
    assert result.ending.reason == "closing_phrases"
    assert "have a nice day" in result.ending.detail.lower()
    assert result.ending.message_count == 4


async def test_closing_phrases_match_whole_words_only(
    build, hello, intent, outcomes, base_time
):
    customer = ScriptedParticipant(CUSTOMER, ["can I bypass this?"])
    agent = ScriptedParticipant(AGENT, ["no"])
    result = await build(
        customer,
        agent,
        termination=ClosingPhrases(),
    ).run()
    assert result.ending is not None
    assert result.ending.reason == "both_passed"


RULES = {
    "resolved": {"patterns": [r"\bworked\b"], "sender": "customer"},
    "escalated": {"patterns": ["escalat"], "sender": "agent"},
}


async def test_rule_based_outcome_is_recorded(
    build, hello, intent, outcomes, base_time
):
    customer = ScriptedParticipant(CUSTOMER, ["my password", "that worked!"])
    agent = ScriptedParticipant(AGENT, ["which account?", "reset sent", "bye"])
    result = await build(
        customer,
        agent,
        outcome_evaluator=RuleBasedOutcomeEvaluator(RULES),
    ).run()
    assert result.outcome is not None
    assert result.outcome.name == "resolved"
    assert result.conversation.outcome == outcomes.get_outcome_by_name("resolved")


async def test_outcome_reached_ends_after_closing_messages(
    build, hello, intent, outcomes, base_time
):
    customer = ScriptedParticipant(CUSTOMER, ["it worked", "bye", "extra"])
    agent = ScriptedParticipant(AGENT, ["reset sent", "glad to help", "more", "more"])
    result = await build(
        customer,
        agent,
        outcome_evaluator=RuleBasedOutcomeEvaluator(RULES),
        termination=OutcomeReached(closing_messages=2),
    ).run()
    # The outcome is reached at message 3; two closing messages follow.
    assert len(result.conversation.messages) == 5
    assert result.ending is not None
    assert result.ending.reason == "outcome_reached"
    assert "'resolved' reached at message 3" in result.ending.detail


async def test_outcome_reached_can_wait_for_named_outcomes(
    build, hello, intent, outcomes, base_time
):
    customer = ScriptedParticipant(CUSTOMER, ["it worked", "but now this", "ok"])
    agent = ScriptedParticipant(AGENT, ["reset sent", "hm", "escalating now", "x"])
    result = await build(
        customer,
        agent,
        outcome_evaluator=RuleBasedOutcomeEvaluator(RULES),
        termination=OutcomeReached(["escalated"]),
    ).run()
    # The first outcome sticks ("resolved"), so "escalated" is never reached.
    assert result.outcome is not None
    assert result.outcome.name == "resolved"
    assert result.ending is not None
    assert result.ending.reason == "both_passed"


async def test_outcome_reached_rejects_unknown_outcome_names(
    build, hello, intent, outcomes, base_time
):
    runner = build(
        ["x"],
        ["y"],
        termination=OutcomeReached(["solved"]),
    )
    with pytest.raises(ConfigError, match="'solved'"):
        await runner.run()


async def test_rules_naming_unknown_outcomes_are_a_config_error(
    build, hello, intent, outcomes, base_time
):
    runner = build(
        ["x"],
        ["y"],
        outcome_evaluator=RuleBasedOutcomeEvaluator({"fixed": "x"}),
    )
    with pytest.raises(
        ConfigError, match=r"'fixed'.*'resolved', 'escalated', 'abandoned'"
    ):
        await runner.run()


async def test_min_messages_holds_back_other_strategies(
    build, hello, intent, outcomes, base_time
):
    customer = ScriptedParticipant(CUSTOMER, ["bye", "bye", "bye"])
    agent = ScriptedParticipant(AGENT, ["bye", "bye", "bye"])
    result = await build(
        customer,
        agent,
        termination=ClosingPhrases(),
        min_messages=4,
    ).run()
    assert len(result.conversation.messages) == 4
    assert result.ending is not None
    assert result.ending.reason == "closing_phrases"


async def test_min_messages_does_not_hold_back_max_messages(
    build, hello, intent, outcomes, base_time
):
    customer = ScriptedParticipant(CUSTOMER, ["c"] * 5)
    agent = ScriptedParticipant(AGENT, ["a"] * 5)
    result = await build(
        customer,
        agent,
        max_messages=3,
        min_messages=3,
        termination=[MaxMessages(10)],
    ).run()
    assert result.ending is not None
    assert result.ending.reason == "max_messages"
    assert len(result.conversation.messages) == 3


def test_min_messages_above_max_messages_is_refused(hello, intent, outcomes):
    customer = ScriptedParticipant(CUSTOMER, [])
    with pytest.raises(ConfigError, match="min_messages"):
        FullSimulationRunner(
            customer, customer, hello, intent, outcomes, max_messages=3, min_messages=4
        )


async def test_deadline_ends_a_slow_conversation(
    build, hello, intent, outcomes, base_time
):
    class Slow(Timed):
        async def get_next_message(self, conversation):
            await anyio.sleep(0.02)
            return await super().get_next_message(conversation)

    customer = Slow(CUSTOMER, [("c", 1.0)] * 100, answer_only=True)
    agent = Slow(AGENT, [("a", 1.0)] * 100, answer_only=True)
    result = await build(customer, agent, termination=Deadline(0.1)).run()
    assert result.ending is not None
    assert result.ending.reason == "deadline"
    assert 1 < len(result.conversation.messages) < 20


async def test_goal_reached_uses_an_llm_judge(
    build, hello, intent, outcomes, base_time
):
    customer = ScriptedParticipant(
        CUSTOMER, ["my password", "That worked, thanks!", "x"]
    )
    agent = ScriptedParticipant(AGENT, ["which email?", "reset link sent", "bye", "y"])
    judge = GoalReached("offline")
    result = await build(customer, agent, termination=judge).run()
    assert result.ending is not None
    assert result.ending.reason == "goal_reached"
    assert contents(result)[-1] == "That worked, thanks!"
    assert (
        result.token_usage.judge.calls == 3
    )  # after each customer message, the first too
    assert result.token_usage.judge.total_tokens > 0


async def test_goal_reached_needs_the_intent(build, hello, outcomes, base_time):
    runner = build(
        ["x"],
        ["y"],
        intent=None,
        termination=GoalReached("offline"),
    )
    with pytest.raises(ConfigError, match="intent"):
        await runner.run()


async def test_llm_outcome_evaluator_picks_an_allowed_outcome(
    build, hello, intent, outcomes, base_time
):
    customer = ScriptedParticipant(CUSTOMER, ["nothing works", "please"])
    agent = ScriptedParticipant(
        AGENT, ["checking", "I'm escalating this to a specialist"]
    )
    evaluator = LLMOutcomeEvaluator("offline")
    result = await build(
        customer,
        agent,
        outcome_evaluator=evaluator,
        termination=OutcomeReached(),
    ).run()
    assert result.outcome is not None
    assert result.outcome.name == "escalated"
    assert result.ending is not None
    assert result.ending.reason == "outcome_reached"
    assert result.token_usage.judge.calls == len(result.conversation.messages)


@pytest.mark.parametrize("role", [CUSTOMER, AGENT])
async def test_a_failing_participant_is_recorded_and_the_talk_kept(
    build, role, hello, intent, outcomes, base_time
):
    failing = Failing(role, RuntimeError("model exploded"), after=3)
    other = ScriptedParticipant(role.other, ["x", "y", "z"])
    customer, agent = (failing, other) if role is CUSTOMER else (other, failing)
    result = await build(customer, agent).run()
    assert not result.ok
    assert result.error is not None
    assert result.error.source == role.value
    assert result.error.type == "builtins.RuntimeError"
    assert result.error.message == "model exploded"
    assert result.ending is not None
    assert result.ending.reason == "error"
    assert len(result.conversation.messages) >= 2  # what was said is kept


async def test_raise_on_error_propagates_with_the_conversation(
    build, hello, intent, outcomes, base_time
):
    customer = ScriptedParticipant(CUSTOMER, ["c1", "c2"])
    agent = Failing(AGENT, ValueError("boom"), after=3)
    runner = build(customer, agent, raise_on_error=True)
    with pytest.raises(ParticipantError, match="agent participant failed") as info:
        await runner.run()
    assert isinstance(info.value.__cause__, ValueError)
    assert info.value.conversation is not None
    assert len(info.value.conversation.messages) >= 2
    assert info.value.conversation == runner.conversation
    assert runner.is_complete


async def test_a_failing_evaluator_is_recorded(
    build, hello, intent, outcomes, base_time
):
    class Broken:
        async def evaluate(self, conversation, outcomes):
            raise RuntimeError("judge down")

    result = await build(
        ["c"],
        ["a"],
        outcome_evaluator=Broken(),
    ).run()
    assert result.error is not None
    assert result.error.source == "evaluator"
    assert contents(result) == [hello.content]


async def test_a_proposal_earlier_than_the_last_message_is_an_error(
    build, hello, intent, outcomes, base_time
):
    early = Message("too early", base_time - timedelta(seconds=1), AGENT)
    result = await build([], Returns(early)).run()
    assert result.error is not None
    assert result.error.source == "agent"
    assert "earlier than the last message" in result.error.message
    assert result.error.type == "clientsim.errors.ParticipantError"


async def test_a_message_from_the_wrong_side_is_an_error(
    build, hello, intent, outcomes, base_time
):
    wrong = Message("I am the customer", base_time + timedelta(seconds=1), CUSTOMER)
    result = await build([], Returns(wrong)).run()
    assert result.error is not None
    assert "sender CUSTOMER" in result.error.message
    assert "must have sender AGENT" in result.error.message


async def test_a_non_message_is_an_error(build, hello, intent, outcomes, base_time):
    result = await build([], Returns("just a string")).run()
    assert result.error is not None
    assert "returned str" in result.error.message


async def test_a_naive_timestamp_meets_aware_ones_as_local_time(
    build, hello, intent, outcomes, base_time
):
    later = (base_time + timedelta(seconds=5)).astimezone().replace(tzinfo=None)
    naive = Message("naive", later, AGENT)  # local wall time, as datetime.now() gives
    result = await build([], Returns(naive)).run()
    assert result.error is None
    stamps = [m.timestamp for m in result.conversation.messages]
    assert stamps == [base_time, base_time + timedelta(seconds=5)]
    assert all(stamp.tzinfo is UTC for stamp in stamps)


async def test_cancellation_propagates(build, hello, intent, outcomes, base_time):
    class Forever(Timed):
        async def get_next_message(self, conversation):
            await anyio.sleep_forever()

    runner = build([], Forever(AGENT, []))
    with anyio.move_on_after(0.05) as scope:
        await runner.run()
    assert scope.cancelled_caught
    assert not runner.is_complete
    assert runner.conversation.messages[0].content == hello.content


async def test_a_failing_progress_callback_is_recorded(
    build, hello, intent, outcomes, base_time
):
    def progress(conversation, progress):
        if progress["message_count"] == 2:
            raise RuntimeError("display broke")

    result = await build(
        ["c"],
        ["a"],
        progress_callback=progress,
    ).run()
    assert result.error is not None
    assert result.error.source == "progress_callback"
    assert len(result.conversation.messages) == 2


async def test_the_agent_can_open_the_conversation(build, intent, outcomes, base_time):
    opener = MessageDraft("Hi! How can I help?", AGENT)
    customer = ScriptedParticipant(CUSTOMER, ["my password"])
    agent = ScriptedParticipant(AGENT, ["sure"])
    result = await build(customer, agent, initial_message=opener).run()
    assert contents(result) == ["Hi! How can I help?", "my password", "sure"]


async def test_raise_on_error_keeps_the_conversation_on_a_contract_breach(
    build, hello, intent, outcomes, base_time
):
    early = Message("too early", base_time - timedelta(seconds=1), AGENT)
    runner = build(
        [],
        Returns(early),
        raise_on_error=True,
    )
    with pytest.raises(ParticipantError, match="earlier than the last message") as info:
        await runner.run()
    assert info.value.conversation == runner.conversation
    assert [m.content for m in info.value.conversation.messages] == [hello.content]


def test_wrong_types_in_values_are_clientsim_errors_and_type_errors(base_time):
    from clientsim.errors import InvalidTypeError

    with pytest.raises(InvalidTypeError, match="content must be str; got int 5"):
        Message(5, base_time, CUSTOMER)  # type: ignore[arg-type]
    assert issubclass(InvalidTypeError, TypeError)
    assert issubclass(InvalidTypeError, ConfigError)
