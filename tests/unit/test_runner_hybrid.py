"""HybridSimulationRunner against an in-memory agent that the test plays."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import anyio
import anyio.lowlevel
import pytest

from clientsim import (
    Conversation,
    LLMParticipant,
    Message,
    MessageDraft,
    OfflineChatModel,
    Participant,
    ParticipantRole,
    RuleBasedOutcomeEvaluator,
    ScriptedParticipant,
)
from clientsim.channels import AgentHandle, InMemoryChannel
from clientsim.errors import ConfigError, SimulationError
from clientsim.runners import HybridSimulationRunner
from clientsim.termination import ClosingPhrases


CUSTOMER = ParticipantRole.CUSTOMER
AGENT = ParticipantRole.AGENT
Agent = Callable[[AgentHandle], Awaitable[None]]


@pytest.fixture(name="simulate")
def _simulate(intent, outcomes):
    """Run a hybrid conversation while ``agent`` plays the in-memory agent."""

    async def simulate(customer, agent: Agent, **kwargs):
        if isinstance(customer, list):
            customer = ScriptedParticipant(CUSTOMER, customer)
        channel = InMemoryChannel()
        kwargs.setdefault("quiet_period_seconds", 0.05)
        kwargs.setdefault("reply_timeout_seconds", 1.0)
        runner = HybridSimulationRunner(customer, channel, intent, outcomes, **kwargs)

        async def play() -> None:
            handle = await channel.next_agent()
            await agent(handle)

        async with anyio.create_task_group() as tg:
            tg.start_soon(play)
            with anyio.fail_after(10):
                result = await runner.run()
            tg.cancel_scope.cancel()
        return runner, result

    return simulate


def contents(result):
    return [(m.sender.value, m.content) for m in result.conversation.messages]


async def two_and_done(handle: AgentHandle) -> None:
    async for message in handle.received():
        await handle.say(f"re: {message.content}", "anything else?")
        await handle.end_turn()


async def test_bursts_end_on_end_of_turn(simulate):
    runner, result = await simulate(
        ["hi", "thanks"], two_and_done, quiet_period_seconds=None, initial_message=None
    )
    assert contents(result) == [
        ("customer", "hi"),
        ("agent", "re: hi"),
        ("agent", "anything else?"),
        ("customer", "thanks"),
        ("agent", "re: thanks"),
        ("agent", "anything else?"),
    ]
    assert result.ending.reason == "both_passed"
    assert result.ok
    stamps = [m.timestamp for m in result.conversation.messages]
    assert stamps == sorted(stamps)
    session_view = await runner.session.get_conversation()
    assert [m.content for m in session_view.messages] == [
        c for _, c in contents(result)
    ]


async def test_a_quiet_period_ends_a_burst_without_end_of_turn(simulate):
    async def chatty(handle):
        async for _ in handle.received():
            await handle.say("one", "two", "three")

    _, result = await simulate(["hello"], chatty, quiet_period_seconds=0.1)
    assert [c for _, c in contents(result)] == ["hello", "one", "two", "three"]
    assert result.ending.reason == "both_passed"


async def test_initial_message_is_sent_first(simulate):
    _, result = await simulate(
        ["second"], two_and_done, initial_message=MessageDraft("opening", CUSTOMER)
    )
    assert [c for _, c in contents(result)][:2] == ["opening", "re: opening"]
    assert [c for _, c in contents(result)][3] == "second"


async def test_a_silent_agent_is_recorded_not_a_hang(simulate):
    async def mute(handle):
        async for _ in handle.received():
            pass

    start = anyio.current_time()
    runner, result = await simulate(["hello?"], mute, reply_timeout_seconds=0.2)
    assert anyio.current_time() - start < 0.2 + 1
    assert result.ending.reason == "agent_silent"
    assert "0.2s" in result.ending.detail
    assert runner.silent_turns == 1
    assert contents(result) == [("customer", "hello?")]


async def test_agent_messages_during_composition_are_folded_in(simulate):
    late = anyio.Event()

    class Slow(Participant):
        def __init__(self):
            self.seen: list[int] = []

        async def get_next_message(self, conversation: Conversation) -> Message | None:
            self.seen.append(len(conversation.messages))
            last = conversation.messages[-1] if conversation.messages else None
            if last is not None and last.sender is CUSTOMER:
                return None
            if len(self.seen) == 2:  # composing the reply: the agent speaks meanwhile
                await late.wait()
            if len(self.seen) > 3:
                return None
            return Message(
                f"c{len(self.seen)}", last.timestamp if last else _now(), CUSTOMER
            )

    async def agent(handle):
        await handle.receive()
        await handle.say("first answer")
        await handle.end_turn()
        await handle.say("oh, and one more thing")
        late.set()
        async for _ in handle.received():
            await handle.end_turn()

    customer = Slow()
    _, result = await simulate(customer, agent, quiet_period_seconds=None)
    texts = [c for _, c in contents(result)]
    assert texts[:3] == ["c1", "first answer", "oh, and one more thing"]
    assert texts[3].startswith("c")
    assert customer.seen[1] == 2  # first try saw two messages; asked again with three
    assert customer.seen[2] == 3


def _now():
    from clientsim.channels.base import now

    return now()


async def test_queue_mode_sends_the_customer_message_first(simulate):
    late = anyio.Event()

    class Waits(Participant):
        calls = 0

        async def get_next_message(self, conversation):
            self.calls += 1
            if self.calls == 1:
                return Message("c1", _now(), CUSTOMER)
            if self.calls == 2:
                await late.wait()
                return Message("c2", _now(), CUSTOMER)
            return None

    async def agent(handle):
        await handle.receive()
        await handle.say("a1")
        await handle.end_turn()
        await handle.say("late")
        late.set()
        async for _ in handle.received():
            await handle.end_turn()

    customer = Waits()
    _, result = await simulate(
        customer, agent, overlap="queue", quiet_period_seconds=None
    )
    assert [c for _, c in contents(result)] == ["c1", "a1", "c2", "late"]
    assert customer.calls == 3
    stamps = [m.timestamp for m in result.conversation.messages]
    assert stamps == sorted(stamps)


async def test_a_dropped_connection_is_recorded_and_the_talk_kept(simulate):
    async def drops(handle):
        await handle.receive()
        await handle.say("let me look")
        await handle.end_turn()
        await handle.receive()
        await handle.fail("connection reset by peer")

    _, result = await simulate(["hi", "any news?"], drops)
    assert not result.ok
    assert result.error.source == "channel"
    assert result.error.side == "agent"
    assert "connection reset by peer" in result.error.message
    assert result.ending.reason == "error"
    assert [c for _, c in contents(result)] == ["hi", "let me look", "any news?"]


async def test_a_flood_of_fifty_messages_is_kept_in_order(simulate):
    async def flood(handle):
        await handle.receive()
        await handle.say(*(f"m{i}" for i in range(50)))
        await handle.end_turn()

    _, result = await simulate(["go"], flood, max_messages=200)
    assert [c for _, c in contents(result)] == ["go", *(f"m{i}" for i in range(50))]


async def test_max_messages_bounds_a_flood(simulate):
    async def flood(handle):
        await handle.receive()
        await handle.say(*(f"m{i}" for i in range(50)))

    _, result = await simulate(["go"], flood, max_messages=10)
    assert len(result.conversation.messages) == 10
    assert result.ending.reason == "max_messages"


async def test_max_duration_ends_an_endless_agent_in_time(simulate):
    async def endless(handle):
        await handle.receive()
        while True:
            await handle.say("still typing...")
            await anyio.sleep(0.02)

    start = anyio.current_time()
    _, result = await simulate(
        ["hi"], endless, max_duration_seconds=0.3, max_messages=1000
    )
    assert anyio.current_time() - start < 0.3 + 1
    assert result.ending.reason == "max_duration"
    assert len(result.conversation.messages) > 2  # nothing already said is lost


async def test_a_slow_reply_past_the_reply_timeout_is_silence(simulate):
    async def slow(handle):
        await handle.receive()
        await anyio.sleep(5)
        await handle.say("sorry, I was away")

    start = anyio.current_time()
    _, result = await simulate(["hello"], slow, reply_timeout_seconds=0.1)
    assert anyio.current_time() - start < 0.1 + 1
    assert result.ending.reason == "agent_silent"


async def test_closing_phrases_and_outcomes_apply(simulate, outcomes):
    async def resolves(handle):
        async for message in handle.received():
            if "worked" in message.content:
                await handle.say("Great! Have a nice day.")
            else:
                await handle.say("Try resetting it.")
            await handle.end_turn()

    rules = RuleBasedOutcomeEvaluator(
        {"resolved": {"patterns": ["worked"], "sender": "customer"}}
    )
    _, result = await simulate(
        ["I can't log in", "that worked", "more"],
        resolves,
        outcome_evaluator=rules,
        termination=ClosingPhrases(sender="agent"),
    )
    assert result.outcome.name == "resolved"
    assert result.ending.reason == "closing_phrases"
    assert contents(result)[-1] == ("agent", "Great! Have a nice day.")


async def test_the_agent_hanging_up_ends_the_talk(simulate):
    async def hangs_up(handle):
        await handle.receive()
        await handle.say("bye")
        await handle.hang_up()

    _, result = await simulate(["hi", "wait!"], hangs_up)
    assert result.ending.reason == "agent_closed"
    assert [c for _, c in contents(result)] == ["hi", "bye"]


async def test_progress_single_use_and_events(simulate):
    seen = []
    runner, _ = await simulate(
        ["hi"],
        two_and_done,
        progress_callback=lambda c, p: seen.append(p["message_count"]),
    )
    assert seen == [1, 2, 3]
    assert runner.is_complete
    assert runner.get_progress()["message_count"] == 3
    with pytest.raises(SimulationError, match="single-use"):
        await runner.run()


async def test_a_channel_that_cannot_open_a_session_is_recorded(intent, outcomes):
    class Broken(InMemoryChannel):
        async def create_session(self):
            raise OSError("connection refused")

    runner = HybridSimulationRunner(
        ScriptedParticipant(CUSTOMER, ["hi"]), Broken(), intent, outcomes
    )
    result = await runner.run()
    assert result.error.source == "channel"
    assert result.error.side == "agent"
    assert "connection refused" in result.error.message
    assert result.conversation.messages == ()


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"reply_timeout_seconds": 0}, "reply_timeout_seconds"),
        ({"quiet_period_seconds": -1}, "quiet_period_seconds"),
        ({"max_duration_seconds": "1"}, "max_duration_seconds"),
        ({"overlap": "merge"}, "'fold' or 'queue'"),
        (
            {"initial_message": MessageDraft("hi", AGENT)},
            "the real agent speaks for itself",
        ),
        ({"min_messages": 500}, "min_messages"),
    ],
)
def test_options_are_validated(options, match, intent, outcomes):
    customer = ScriptedParticipant(CUSTOMER, [])
    with pytest.raises(ConfigError, match=match):
        HybridSimulationRunner(customer, InMemoryChannel(), intent, outcomes, **options)


def test_the_channel_must_open_sessions(intent, outcomes):
    with pytest.raises(ConfigError, match="create_session"):
        HybridSimulationRunner(
            ScriptedParticipant(CUSTOMER, []), object(), intent, outcomes
        )


async def test_typing_delays_wait_in_real_time(simulate):
    from clientsim import TypingModel

    typing = TypingModel(
        typing_chars_per_second=100, think_seconds=(0.1, 0.1), jitter=0
    )
    customer = ScriptedParticipant(CUSTOMER, ["x" * 10, "y" * 10], typing=typing)
    start = anyio.current_time()
    _, result = await simulate(customer, two_and_done, typing_delays=True)
    elapsed = anyio.current_time() - start
    assert result.ok
    # The second line waits for reading, 0.1 s thinking and 0.1 s typing.
    gap = (
        result.conversation.messages[3].timestamp
        - result.conversation.messages[2].timestamp
    )
    assert gap >= timedelta(seconds=0.2)
    assert elapsed >= 0.2


async def test_a_simulated_customer_against_an_offline_model_agent(simulate, intent):
    model = OfflineChatModel(seed=2)

    async def bot(handle):
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        history = [SystemMessage("You are the agent of a support desk.")]
        async for message in handle.received():
            history.append(HumanMessage(message.content))
            reply = await model.ainvoke(history)
            history.append(AIMessage(reply.text))
            await handle.say(reply.text.replace("[END]", "").strip())
            await handle.end_turn()

    customer = LLMParticipant(CUSTOMER, OfflineChatModel(seed=2), intent=intent)
    _, result = await simulate(customer, bot, max_messages=30)
    assert result.ok
    assert result.ending.reason in {"both_passed", "max_messages"}
    assert len(result.conversation.messages) >= 4
    assert result.token_usage.customer.calls >= 2
    assert result.conversation.messages[0].sender is CUSTOMER


async def test_an_llm_judge_ends_the_talk_when_it_is_over(simulate):
    from clientsim.termination import ConversationComplete

    async def agent(handle):
        async for message in handle.received():
            if "thanks" in message.content:
                await handle.say("You're welcome, goodbye!")
            else:
                await handle.say("Here is how to do it.")
            await handle.end_turn()

    judge = ConversationComplete("offline")
    _, result = await simulate(
        ["how do I?", "thanks", "one more"], agent, termination=judge
    )
    assert result.ending.reason == "conversation_complete"
    assert contents(result)[-1] == ("agent", "You're welcome, goodbye!")
    assert result.token_usage.judge.calls == 2


async def test_a_listening_session_closes_cleanly_even_when_cancelled():
    from clientsim.channels import QueueSession

    closed = anyio.Event()

    class Listening(QueueSession):
        async def deliver(self, message):
            pass

        async def listen(self):
            await anyio.sleep_forever()

        async def close_transport(self):
            await (
                anyio.lowlevel.checkpoint()
            )  # an await that must not be cancelled away
            closed.set()

    async with Listening():
        pass
    assert closed.is_set()

    closed = anyio.Event()
    with anyio.move_on_after(0.01):
        async with Listening():
            await anyio.sleep_forever()
    assert closed.is_set()


async def test_a_plain_session_with_only_subscribe_works(intent, outcomes):
    from clientsim.channels import Channel, Session
    from clientsim.channels.base import now

    class EchoSession(Session):
        session_id = "plain"

        def __init__(self):
            self.sent: list[Message] = []
            self.replies_send, self.replies = anyio.create_memory_object_stream[
                Message
            ](10)

        async def get_conversation(self):
            return Conversation(tuple(self.sent))

        async def send(self, message):
            self.sent.append(message)
            await self.replies_send.send(
                Message(f"echo: {message.content}", now(), AGENT)
            )

        async def subscribe(self):
            async for message in self.replies:
                yield message

        async def aclose(self):
            self.replies_send.close()
            self.replies.close()

    class EchoChannel(Channel):
        async def create_session(self):
            return EchoSession()

    runner = HybridSimulationRunner(
        ScriptedParticipant(CUSTOMER, ["one", "two"]),
        EchoChannel(),
        intent,
        outcomes,
        quiet_period_seconds=0.05,
    )
    with anyio.fail_after(5):
        result = await runner.run()
    assert result.ok, result.error
    assert [m.content for m in result.conversation.messages] == [
        "one",
        "echo: one",
        "two",
        "echo: two",
    ]


async def test_a_customer_slower_than_its_timeout_is_a_simulator_fault(simulate):
    class Stuck(Participant):
        async def get_next_message(self, conversation):
            if not conversation.messages:
                return Message("hi", _now(), CUSTOMER)
            await anyio.sleep_forever()
            return None

    start = anyio.current_time()
    _, result = await simulate(Stuck(), two_and_done, customer_timeout_seconds=0.1)
    assert anyio.current_time() - start < 0.1 + 1
    assert result.error.source == "customer"
    assert result.error.side == "simulator"
    assert "longer than 0.1s" in result.error.message
    assert [c for _, c in contents(result)] == ["hi", "re: hi", "anything else?"]


async def test_an_agent_ending_its_turn_empty_is_silent_without_waiting(
    simulate, caplog
):
    import logging

    from clientsim import events

    async def empty(handle):
        async for _ in handle.received():
            await handle.end_turn()

    caplog.set_level(logging.INFO, logger="clientsim.events")
    start = anyio.current_time()
    _, result = await simulate(["hello?"], empty, reply_timeout_seconds=5)
    assert anyio.current_time() - start < 1
    assert result.ending.reason == "agent_silent"
    assert "ended its turn without a message" in result.ending.detail
    (silent,) = [r for r in caplog.records if r.clientsim_event == events.AGENT_SILENT]
    assert silent.clientsim_fields["ended_turn"] is True
    assert silent.clientsim_fields["waited_seconds"] < 1
