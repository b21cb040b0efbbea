"""A simulated customer tests a real LangGraph support agent, offline.

The agent is a small LangGraph graph (one node calling a chat model, with a
checkpointer, so it remembers each thread). The customer is simulated. Both run on
clientsim's offline model, so this needs no API key and no network; swap in your own
compiled graph and a real model for the customer to test your agent.

    pip install langgraph && python examples/hybrid_langgraph.py
"""

from __future__ import annotations

import anyio
from langchain_core.messages import SystemMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph

from clientsim import (
    HybridSimulationRunner,
    Intent,
    LLMParticipant,
    MessageDraft,
    OfflineChatModel,
    Outcome,
    Outcomes,
    ParticipantRole,
    RuleBasedOutcomeEvaluator,
)
from clientsim.channels import RunnableChannel
from clientsim.termination import ClosingPhrases


AGENT_PROMPT = "You are the agent: a support agent for an online shop. Be brief."


def build_support_agent():  # noqa: ANN201 - a LangGraph CompiledStateGraph
    """The agent under test: your own graph goes here."""
    model = OfflineChatModel(seed=3)

    async def respond(state: MessagesState) -> dict[str, list[object]]:
        reply = await model.ainvoke([SystemMessage(AGENT_PROMPT), *state["messages"]])
        reply.content = reply.text.replace("[END]", "").strip()
        return {"messages": [reply]}

    graph = StateGraph(MessagesState)
    graph.add_node("respond", respond)
    graph.add_edge(START, "respond")
    return graph.compile(checkpointer=InMemorySaver())


async def main() -> None:
    intent = Intent(
        ParticipantRole.CUSTOMER, "Get a refund because I was charged twice"
    )
    runner = HybridSimulationRunner(
        customer=LLMParticipant(
            ParticipantRole.CUSTOMER,
            OfflineChatModel(seed=3),
            persona="Priya, a careful customer who checks every statement.",
            intent=intent,
        ),
        # stateful: the graph gets only the new message; its checkpointer keeps the rest.
        channel=RunnableChannel(build_support_agent(), stateful=True),
        intent=intent,
        outcomes=Outcomes(
            (
                Outcome("refunded", "The agent issued a refund"),
                Outcome("escalated", "The case was handed to a specialist"),
            )
        ),
        initial_message=MessageDraft(
            "Hi, I have a problem with my bill", ParticipantRole.CUSTOMER
        ),
        outcome_evaluator=RuleBasedOutcomeEvaluator(
            {
                "refunded": {"patterns": ["issued a refund"], "sender": "agent"},
                "escalated": {"patterns": ["escalat", "specialist"], "sender": "agent"},
            }
        ),
        termination=ClosingPhrases(sender="agent"),
        reply_timeout_seconds=10,
        max_messages=20,
    )
    result = await runner.run()
    for message in result.conversation.messages:
        print(f"{message.sender.value:>8}: {message.content}")
    print()
    print(f"Outcome: {result.outcome.name if result.outcome else 'none'}")
    print(f"Ended by: {result.ending.reason if result.ending else '?'}")
    print(f"Real time: {result.duration_seconds:.3f}s")
    if not result.ok:
        print(f"Error ({result.error.side} side): {result.error.message}")
        raise SystemExit(1)


if __name__ == "__main__":
    anyio.run(main)
