"""Lifecycle events: logged with structured extra, and sent to clientsim_event hooks."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pytest

from clientsim import (
    FullSimulationRunner,
    Participant,
    ParticipantRole,
    RuleBasedOutcomeEvaluator,
    ScriptedParticipant,
    events,
    hookimpl,
)
from clientsim.plugins import register_plugin, unregister_plugin


CUSTOMER = ParticipantRole.CUSTOMER
AGENT = ParticipantRole.AGENT


class Recorder:
    """A clientsim_event hook implementation that keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, object]]] = []

    @hookimpl
    def clientsim_event(self, event: str, fields: Mapping[str, object]) -> None:
        assert isinstance(fields, Mapping)
        self.received.append((event, dict(fields)))


class Broken(Participant):
    async def get_next_message(self, conversation):
        raise RuntimeError("the agent crashed")


def _runner(hello, intent, outcomes, base_time, **options) -> FullSimulationRunner:
    customer = ScriptedParticipant(CUSTOMER, ["I forgot my password", "Thanks, bye"])
    agent = ScriptedParticipant(AGENT, ["I can reset it for you", "Done, it is reset"])
    options.setdefault("conversation_id", "conv-1")
    return FullSimulationRunner(
        customer, agent, hello, intent, outcomes, base_timestamp=base_time, **options
    )


def _event_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "clientsim.events"]


def test_event_names_are_stable():
    assert events.CONVERSATION_STARTED == "conversation.started"
    assert events.CONVERSATION_MESSAGE == "conversation.message"
    assert events.CONVERSATION_OUTCOME == "conversation.outcome"
    assert events.CONVERSATION_ENDED == "conversation.ended"
    assert events.CONVERSATION_FAILED == "conversation.failed"
    assert events.logger.name == "clientsim.events"


async def test_a_run_logs_each_event_with_structured_extra(
    caplog, hello, intent, outcomes, base_time
):
    caplog.set_level(logging.DEBUG, logger="clientsim.events")
    result = await _runner(hello, intent, outcomes, base_time).run()
    records = _event_records(caplog)
    count = len(result.conversation.messages)
    assert count == 5
    assert [r.clientsim_event for r in records] == [
        events.CONVERSATION_STARTED,
        *[events.CONVERSATION_MESSAGE] * count,
        events.CONVERSATION_ENDED,
    ]
    assert all(r.clientsim_fields["conversation_id"] == "conv-1" for r in records)
    assert records[0].clientsim_fields == {
        "conversation_id": "conv-1",
        "runner": "full",
    }
    messages = [r.clientsim_fields for r in records[1:-1]]
    assert [m["index"] for m in messages] == list(range(count))
    assert [m["sender"] for m in messages] == [
        m.sender.value for m in result.conversation.messages
    ]
    ended = records[-1].clientsim_fields
    assert ended["reason"] == "both_passed"
    assert ended["message_count"] == count
    assert ended["outcome"] is None
    assert ended["duration_seconds"] == result.duration_seconds


async def test_per_message_events_are_debug_and_the_rest_info(
    caplog, hello, intent, outcomes, base_time
):
    caplog.set_level(logging.DEBUG, logger="clientsim.events")
    await _runner(hello, intent, outcomes, base_time).run()
    levels = {r.clientsim_event: r.levelno for r in _event_records(caplog)}
    assert levels == {
        events.CONVERSATION_STARTED: logging.INFO,
        events.CONVERSATION_MESSAGE: logging.DEBUG,
        events.CONVERSATION_ENDED: logging.INFO,
    }


async def test_at_info_level_message_events_are_not_logged(
    caplog, hello, intent, outcomes, base_time
):
    caplog.set_level(logging.INFO, logger="clientsim.events")
    await _runner(hello, intent, outcomes, base_time).run()
    assert [r.clientsim_event for r in _event_records(caplog)] == [
        events.CONVERSATION_STARTED,
        events.CONVERSATION_ENDED,
    ]


async def test_an_outcome_is_an_event(caplog, hello, intent, outcomes, base_time):
    caplog.set_level(logging.INFO, logger="clientsim.events")
    evaluator = RuleBasedOutcomeEvaluator(
        {"resolved": {"patterns": [r"\breset\b"], "sender": "agent"}}
    )
    result = await _runner(
        hello, intent, outcomes, base_time, outcome_evaluator=evaluator
    ).run()
    assert result.outcome is not None
    assert result.outcome.name == "resolved"
    records = {r.clientsim_event: r.clientsim_fields for r in _event_records(caplog)}
    assert records[events.CONVERSATION_OUTCOME] == {
        "conversation_id": "conv-1",
        "outcome": "resolved",
        "message_count": 2,  # the greeting, then the agent's "I can reset it"
    }
    assert records[events.CONVERSATION_ENDED]["outcome"] == "resolved"


async def test_a_failure_is_an_event(caplog, hello, intent, outcomes, base_time):
    caplog.set_level(logging.INFO, logger="clientsim.events")
    runner = FullSimulationRunner(
        ScriptedParticipant(CUSTOMER, ["hello?"]),
        Broken(),
        hello,
        intent,
        outcomes,
        base_timestamp=base_time,
        conversation_id="conv-2",
    )
    result = await runner.run()
    assert result.error is not None
    records = _event_records(caplog)
    assert [r.clientsim_event for r in records] == [
        events.CONVERSATION_STARTED,
        events.CONVERSATION_FAILED,
        events.CONVERSATION_ENDED,
    ]
    assert records[1].clientsim_fields == {
        "conversation_id": "conv-2",
        "source": "agent",
        "side": "agent",
        "error": "builtins.RuntimeError: the agent crashed",
    }
    assert records[2].clientsim_fields["reason"] == "error"


async def test_a_registered_hook_receives_every_event_of_a_run(
    caplog, hello, intent, outcomes, base_time
):
    caplog.set_level(logging.DEBUG, logger="clientsim.events")
    recorder = Recorder()
    register_plugin(recorder)
    try:
        result = await _runner(hello, intent, outcomes, base_time).run()
    finally:
        unregister_plugin(recorder)
    logged = [(r.clientsim_event, r.clientsim_fields) for r in _event_records(caplog)]
    assert recorder.received == logged
    assert [event for event, _ in recorder.received] == [
        events.CONVERSATION_STARTED,
        *[events.CONVERSATION_MESSAGE] * len(result.conversation.messages),
        events.CONVERSATION_ENDED,
    ]


async def test_hooks_receive_events_even_when_logging_is_off(
    caplog, hello, intent, outcomes, base_time
):
    caplog.set_level(logging.CRITICAL, logger="clientsim.events")
    recorder = Recorder()
    register_plugin(recorder)
    try:
        await _runner(hello, intent, outcomes, base_time).run()
    finally:
        unregister_plugin(recorder)
    assert _event_records(caplog) == []
    assert recorder.received[0] == (
        events.CONVERSATION_STARTED,
        {"conversation_id": "conv-1", "runner": "full"},
    )
    assert recorder.received[-1][0] == events.CONVERSATION_ENDED


async def test_an_unregistered_hook_receives_nothing_more(
    hello, intent, outcomes, base_time
):
    recorder = Recorder()
    register_plugin(recorder)
    try:
        events.emit("test.ping", n=1)
    finally:
        unregister_plugin(recorder)
    await _runner(hello, intent, outcomes, base_time).run()
    events.emit("test.ping", n=2)
    assert recorder.received == [("test.ping", {"n": 1})]


def test_emit_sends_any_event_to_log_and_hooks(caplog):
    caplog.set_level(logging.INFO, logger="clientsim.events")
    first, second = Recorder(), Recorder()
    register_plugin(first)
    register_plugin(second)
    try:
        events.emit("test.custom", answer=42, label="x")
    finally:
        unregister_plugin(second)
        unregister_plugin(first)
    expected = ("test.custom", {"answer": 42, "label": "x"})
    assert first.received == [expected]
    assert second.received == [expected]
    (record,) = _event_records(caplog)
    assert record.levelno == logging.INFO
    assert (record.clientsim_event, record.clientsim_fields) == expected
    assert record.getMessage() == "test.custom {'answer': 42, 'label': 'x'}"
