"""Tool calls and interrupts of real agents: a LangGraph ReAct graph with two tools and
a checkpointer, and an OpenAI-compatible loopback server that returns ``tool_calls``."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult

from clientsim import simulate
from clientsim.assertions import (
    assert_tool_called,
    assert_tool_not_called,
    assert_trajectory,
)
from clientsim.channels import HTTPChannel, RunnableChannel
from clientsim.errors import ConfigError
from clientsim.llm.offline import OfflineChatModel
from clientsim.models import Message, ParticipantRole, ToolCall
from tests.channels.http_servers import reply, serve
from tests.channels.targets_agents import turn
from tests.tool_agents import REFUNDED, asking_graph, build_graph


pytestmark = pytest.mark.anyio

REFUND = {"refunded": {"patterns": ["refund .* issued"], "sender": "agent"}}
INTENT = "I want a refund for order 123"
LOOKUP = ("lookup_order", {"order_id": "123"})
REFUND_CALL = ("refund_order", {"order_id": "123"})


SEEN: list[list[BaseMessage]] = []
"""Every input the recording customer model was given (cleared per test)."""


class RecordingCustomerModel(OfflineChatModel):
    """The offline customer model, keeping every input it was given in SEEN."""

    async def _agenerate(
        self, messages: list[BaseMessage], *args: Any, **kwargs: Any
    ) -> ChatResult:
        SEEN.append(list(messages))
        return await super()._agenerate(messages, *args, **kwargs)


async def _one(agent: object, **options: Any) -> Any:
    options.setdefault("max_messages", 4)
    return await simulate(agent, intents=[INTENT], outcomes=REFUND, **options)


async def test_react_graph_tool_calls_are_in_the_transcript_in_order() -> None:
    runs = await _one(build_graph())
    result = runs.runs[0].result
    assert result.outcome is not None
    assert result.outcome.name == "refunded"
    agent_messages = [
        m for m in result.conversation.messages if m.sender is ParticipantRole.AGENT
    ]
    assert agent_messages[0].content == REFUNDED
    first = agent_messages[0].tool_calls
    assert [call.name for call in first] == ["lookup_order", "refund_order"]
    assert first[0].arguments == {"order_id": "123"}
    assert first[0].id == "c1"
    assert json.loads(first[0].result or "") == {
        "order_id": "123",
        "status": "delivered",
    }
    assert first[1].result == "refunded 123"
    customer_messages = [
        m for m in result.conversation.messages if m.sender is ParticipantRole.CUSTOMER
    ]
    assert all(m.tool_calls == () for m in customer_messages)

    found = assert_tool_called(runs, "lookup_order", order_id="123")
    assert len(found) == 2  # once per agent turn
    assert_tool_called(result, "refund_order", order_id="123", reason="damaged")
    assert_tool_called(result.conversation, "refund_order")
    assert_tool_not_called(runs, "cancel_order")


async def test_the_customer_never_sees_tool_calls() -> None:
    SEEN.clear()
    runs = await _one(build_graph(), customer_model=RecordingCustomerModel(seed=1))
    assert assert_tool_called(runs, "lookup_order")
    assert SEEN
    for messages in SEEN:
        for message in messages:
            assert message.type in {"system", "human", "ai"}
            assert not getattr(message, "tool_calls", None)
            assert "lookup_order" not in message.text
            assert "delivered" not in message.text


async def test_trajectory_modes_pass_and_fail_with_a_diff() -> None:
    runs = await _one(build_graph(), max_messages=2)  # one agent turn
    assert_trajectory(runs, [LOOKUP, REFUND_CALL])
    assert_trajectory(runs, ["refund_order", "lookup_order"], mode="unordered")
    assert_trajectory(runs, ["lookup_order", "refund_order", "cancel"], mode="subset")
    assert_trajectory(runs, ["refund_order"], mode="superset")

    with pytest.raises(AssertionError) as strict:
        assert_trajectory(runs, ["refund_order", "lookup_order"])
    text = str(strict.value)
    assert "tool-call trajectory (strict): fails in 1 of 1 runs" in text
    assert f"seed={runs.runs[0].seed}" in text
    assert "1. refund_order\n" in text
    assert "1. lookup_order(order_id='123')" in text
    assert (
        "first difference at call 1: expected refund_order, got "
        "lookup_order(order_id='123')" in text
    )

    with pytest.raises(AssertionError) as superset:
        assert_trajectory(runs, ["lookup_order", "cancel_order"], mode="superset")
    assert "expected but not made: cancel_order" in str(superset.value)

    with pytest.raises(AssertionError) as subset:
        assert_trajectory(runs, ["lookup_order"], mode="subset")
    assert (
        "made but not expected: refund_order(order_id='123', reason='damaged')"
        in str(subset.value)
    )

    with pytest.raises(AssertionError) as wrong_args:
        assert_tool_called(runs, "lookup_order", order_id="999")
    assert "expected a call to lookup_order(order_id='999')" in str(wrong_args.value)
    assert "calls made: lookup_order(order_id='123')" in str(wrong_args.value)

    with pytest.raises(AssertionError, match="expected no call to refund_order"):
        assert_tool_not_called(runs, "refund_order")


async def test_bad_trajectory_arguments_are_config_errors() -> None:
    runs = await _one(build_graph(refund=False), max_messages=2)
    with pytest.raises(ConfigError, match="mode must be one of"):
        assert_trajectory(runs, ["lookup_order"], mode="loose")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="expected call 1"):
        assert_trajectory(runs, [42])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="result must be"):
        assert_tool_called("transcript", "lookup_order")  # type: ignore[arg-type]


# ----- interrupts ------------------------------------------------------------------------


async def test_an_interrupt_ends_the_conversation_with_its_payload(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="clientsim.events")
    runs = await _one(asking_graph())
    result = runs.runs[0].result
    assert result.ending is not None
    assert result.ending.reason == "agent_interrupted"
    assert json.loads(result.ending.detail) == {
        "action": "refund_order",
        "order_id": "123",
    }
    assert result.ok is False
    assert result.error is None
    assert result.outcome is None
    last = result.conversation.messages[-1]
    assert last.sender is ParticipantRole.AGENT
    assert last.content == ""
    assert [call.name for call in last.tool_calls] == ["lookup_order", "refund_order"]
    assert last.tool_calls[1].result is None  # the refund waits for the approval
    names = [getattr(r, "clientsim_event", None) for r in caplog.records]
    assert "conversation.agent_interrupted" in names
    assert "conversation.agent_silent" not in names


async def test_auto_approve_tools_resumes_and_records_the_approval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="clientsim.events")
    channel = RunnableChannel(asking_graph(), auto_approve_tools=True)
    runs = await _one(channel, max_messages=2)
    result = runs.runs[0].result
    assert result.ok
    assert result.ending is not None
    assert result.outcome is not None
    assert result.outcome.name == "refunded"
    calls = result.conversation.messages[1].tool_calls
    assert [call.name for call in calls] == [
        "lookup_order",
        "refund_order",
        "interrupt",
    ]
    approval = calls[2]
    assert approval.arguments == {
        "value": {"action": "refund_order", "order_id": "123"}
    }
    assert approval.result == "true"
    assert calls[1].result == "refunded 123"
    assert_tool_called(runs, "interrupt")
    approved = [
        r
        for r in caplog.records
        if r.clientsim_event == "conversation.interrupt_approved"
    ]
    assert len(approved) == 1
    assert approved[0].clientsim_fields["resume"] is True
    assert approved[0].clientsim_fields["session_id"]


async def test_auto_approve_reaches_a_graph_through_the_strategy_mapping() -> None:
    agent = {
        "strategy": "runnable",
        "runnable": "tests.tool_agents:asking_graph",
        "auto_approve_tools": True,
    }
    runs = await _one(agent, max_messages=2)
    assert runs.runs[0].result.ending.reason != "agent_interrupted"
    assert_tool_called(runs, "interrupt")


def test_auto_approve_tools_is_checked() -> None:
    with pytest.raises(ConfigError, match="auto_approve_tools must be True"):
        RunnableChannel(asking_graph(), auto_approve_tools="yes")  # type: ignore[arg-type]


# ----- an OpenAI-compatible agent --------------------------------------------------------


def _completion(content: str | None, calls: list[dict[str, Any]]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = calls
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
    }


def _call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }


async def test_http_agent_tool_calls_are_decoded() -> None:
    calls = [
        _call("call_1", "lookup_order", json.dumps({"order_id": "123"})),
        _call("call_2", "refund_order", "{not json"),
    ]
    async with serve(reply(_completion(REFUNDED, calls))) as agent:
        channel = HTTPChannel(base_url=f"{agent.url}/v1", model="agent")
        async with channel:
            runs = await _one(channel, max_messages=2)
    made = runs.runs[0].result.conversation.messages[1].tool_calls
    assert made == (
        ToolCall("lookup_order", {"order_id": "123"}, "call_1"),
        ToolCall("refund_order", {"_raw": "{not json"}, "call_2"),
    )
    assert_trajectory(runs, [LOOKUP, "refund_order"])


async def test_http_tool_calls_without_text_ride_on_the_next_reply() -> None:
    lookup = _completion(None, [_call("c", "lookup_order", '{"order_id": "123"}')])
    async with serve(reply(lookup), reply(_completion(REFUNDED, []))) as agent:
        channel = HTTPChannel(base_url=f"{agent.url}/v1", model="agent")
        async with channel, await channel.create_session() as session:
            assert await turn(session, "refund order 123") == []  # a silent turn
            (answer,) = await turn(session, "hello?")
    assert answer.content == REFUNDED
    assert [c.name for c in answer.tool_calls] == ["lookup_order"]


async def test_a_malformed_http_tool_call_is_a_channel_error() -> None:
    bad = _completion("ok", [{"id": "c", "type": "function", "function": "lookup"}])
    async with serve(reply(bad)) as agent:
        channel = HTTPChannel(base_url=f"{agent.url}/v1", model="agent")
        async with channel:
            runs = await _one(channel, max_messages=2)
    error = runs.runs[0].result.error
    assert error is not None
    assert error.source == "channel"
    assert "a tool call with a 'function' object" in error.message


def test_customer_messages_cannot_carry_tool_calls() -> None:
    from datetime import UTC, datetime

    with pytest.raises(ConfigError, match="only the agent's messages carry tool calls"):
        Message(
            "hi",
            datetime.now(UTC),
            ParticipantRole.CUSTOMER,
            tool_calls=[ToolCall("lookup_order")],
        )


async def test_a_cassette_replays_tool_calls_and_the_interrupt(tmp_path: Any) -> None:
    from clientsim.experiments.cassette import Cassette

    path = tmp_path / "tools.sqlite"
    results = {}
    # replay is given another agent: it must never be called, the turns come back
    for mode, agent in (("record", asking_graph()), ("replay", build_graph())):
        async with Cassette(path, mode=mode) as cassette:
            results[mode] = await _one(agent, cassette=cassette)
    recorded, replayed = (results[mode].runs[0].result for mode in ("record", "replay"))
    assert replayed.ending == recorded.ending
    assert replayed.ending.reason == "agent_interrupted"
    assert [m.tool_calls for m in replayed.conversation.messages] == [
        m.tool_calls for m in recorded.conversation.messages
    ]
    assert replayed.conversation.messages[-1].tool_calls[0].name == "lookup_order"


async def test_a_human_in_the_loop_request_is_approved_per_action() -> None:
    from langchain_core.messages import AIMessage
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import END, START, MessagesState, StateGraph
    from langgraph.types import interrupt

    def review(state: MessagesState) -> dict[str, Any]:
        request = {"action_requests": [{"name": "refund_order"}, {"name": "email"}]}
        return {"messages": [AIMessage(json.dumps(interrupt(request)))]}

    builder = StateGraph(MessagesState)
    builder.add_node("review", review)
    builder.add_edge(START, "review")
    builder.add_edge("review", END)
    graph = builder.compile(checkpointer=InMemorySaver())
    channel = RunnableChannel(graph, auto_approve_tools=True)
    async with await channel.create_session() as session:
        (answer,) = await turn(session, "refund order 123")
    decisions = {"decisions": [{"type": "approve"}, {"type": "approve"}]}
    assert json.loads(answer.content) == decisions
    (approval,) = answer.tool_calls
    assert approval.name == "interrupt"
    assert json.loads(approval.result or "") == decisions
