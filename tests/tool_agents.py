"""Real LangGraph agents with tools, for the tool-call and interrupt tests.

A ReAct-style graph: an ``agent`` node calls a chat model with two tools bound
(``lookup_order``, ``refund_order``); when the model asks for tools, a ``ToolNode``
runs them and the model is called again, until it answers in text. The chat model is
langchain-core's ``GenericFakeChatModel`` with ``bind_tools`` (it has none), so each
customer turn plays the same script: look the order up, refund it, say so.

``refund_order`` may stop to ask first (``interrupt()``), as a human-approval step.
The graphs are compiled with an ``InMemorySaver`` checkpointer: interrupts need one.

Importable by target string, e.g. ``"tests.tool_agents:build_graph"``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from langgraph.types import interrupt


REFUNDED = "Your refund for order 123 has been issued."


class ToolCallingFakeModel(GenericFakeChatModel):
    """``GenericFakeChatModel`` that accepts ``bind_tools`` (the script holds the
    tool calls already)."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ToolCallingFakeModel:
        return self


def script(*, refund: bool = True, order_id: str = "123") -> list[AIMessage]:
    """One customer turn: look the order up, maybe refund it, then answer."""
    turn = [
        AIMessage(
            "",
            tool_calls=[
                {"name": "lookup_order", "args": {"order_id": order_id}, "id": "c1"}
            ],
        )
    ]
    if refund:
        turn.append(
            AIMessage(
                "",
                tool_calls=[
                    {
                        "name": "refund_order",
                        "args": {"order_id": order_id, "reason": "damaged"},
                        "id": "c2",
                    }
                ],
            )
        )
    turn.append(AIMessage(REFUNDED if refund else f"Order {order_id} has shipped."))
    return turn


def _turns(*, refund: bool, order_id: str) -> Iterator[AIMessage]:
    """The script, again and again, as new messages (the graph's state gives each
    message an id in place: a message used twice would replace itself)."""
    while True:
        yield from script(refund=refund, order_id=order_id)


@tool
def lookup_order(order_id: str) -> str:
    """Look an order up."""
    return f'{{"order_id": "{order_id}", "status": "delivered"}}'


def _refund(*, ask: bool) -> Callable[..., str]:
    @tool
    def refund_order(order_id: str, reason: str) -> str:
        """Refund an order."""
        if ask:
            answer = interrupt({"action": "refund_order", "order_id": order_id})
            if answer is not True:
                return f"refund of {order_id} declined"
        return f"refunded {order_id}"

    return refund_order  # type: ignore[return-value]


def build_graph(
    *, ask: bool = False, refund: bool = True, order_id: str = "123"
) -> Any:
    """The ReAct graph with a checkpointer; ``ask``: refunds need approval."""
    model = ToolCallingFakeModel(messages=_turns(refund=refund, order_id=order_id))
    tools = [lookup_order, _refund(ask=ask)]
    bound = model.bind_tools(tools)

    async def agent(state: MessagesState) -> dict[str, list[BaseMessage]]:
        return {"messages": [await bound.ainvoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("agent", agent)
    builder.add_node("tools", ToolNode(tools))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition)
    builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=InMemorySaver(), name="refund_agent")


def asking_graph() -> Any:
    """The graph whose refunds stop to ask for approval."""
    return build_graph(ask=True)


def markup_graph() -> Any:
    """The graph with an order id holding markup, for the escaping tests."""
    return build_graph(order_id="<b>123</b>")


# Graph objects for target strings that name an agent (an experiment's runner.target):
# each serves one conversation at a time (its fake model plays one script).
MARKUP_GRAPH = markup_graph()
ASKING_GRAPH = asking_graph()
