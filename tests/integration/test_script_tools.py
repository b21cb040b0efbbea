"""Scripts against a LangGraph agent with tools: the agent's tool calls stay in the
scripted transcript (so a check or the tool assertions see them), and an agent that
stops to ask (``interrupt()``) ends the script as the hybrid runner ends a talk."""

from __future__ import annotations

import json

from clientsim import run_script
from clientsim.assertions import assert_tool_called, assert_trajectory
from clientsim.models import ParticipantRole
from clientsim.script import agent, check, succeed, user
from tests.tool_agents import REFUNDED, asking_graph, build_graph


async def test_a_scripted_turn_keeps_the_agents_tool_calls() -> None:
    def refunded_after_lookup(conversation: object) -> None:
        last = conversation.messages[-1]  # type: ignore[attr-defined]
        assert [call.name for call in last.tool_calls] == [
            "lookup_order",
            "refund_order",
        ]

    result = await run_script(
        build_graph(),
        [
            user("My order 123 arrived broken"),
            agent(),
            check(refunded_after_lookup),
            succeed(),
        ],
    )
    assert result.verdict == "passed", result.describe()
    reply = result.conversation.messages[-1]
    assert reply.sender is ParticipantRole.AGENT
    assert reply.content == REFUNDED
    assert reply.tool_calls[0].arguments == {"order_id": "123"}
    assert reply.tool_calls[0].result is not None
    assert_tool_called(result, "refund_order", order_id="123")
    assert_trajectory(result, ["lookup_order", "refund_order"], mode="strict")


async def test_an_interrupt_ends_the_script_with_its_payload() -> None:
    result = await run_script(
        asking_graph(),
        [user("My order 123 arrived broken"), agent(), succeed()],
    )
    assert result.ending is not None
    assert result.ending.reason == "agent_interrupted"
    assert json.loads(result.ending.detail) == {
        "action": "refund_order",
        "order_id": "123",
    }
    assert result.verdict == "failed"
    assert "stopped to ask" in result.reason
    assert [call.name for call in result.conversation.messages[-1].tool_calls] == [
        "lookup_order",
        "refund_order",
    ]
