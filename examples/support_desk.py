"""A complete simulated support conversation: a simulated customer vs a simulated agent.

Runs offline by default on clientsim's deterministic offline model (no API key, no
network). To use a real model:

    CLIENTSIM_MODEL=openai:gpt-4o-mini OPENAI_API_KEY=... python examples/support_desk.py

``OPENAI_BASE_URL`` points it at any OpenAI-compatible server (vLLM, Ollama, LM Studio).
``CLIENTSIM_SEED`` picks another (reproducible) conversation.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import anyio

from clientsim import (
    ConversationResult,
    FullSimulationRunner,
    Intent,
    LLMParticipant,
    MessageDraft,
    Outcome,
    Outcomes,
    ParticipantRole,
    RuleBasedOutcomeEvaluator,
)
from clientsim.llm import aclose_models
from clientsim.termination import ClosingPhrases, OutcomeReached


OUTCOMES = Outcomes(
    outcomes=(
        Outcome(name="resolved", description="Customer issue was fully resolved"),
        Outcome(name="escalated", description="Issue was escalated to a specialist"),
        Outcome(name="abandoned", description="Customer left without resolution"),
    )
)

RULES = RuleBasedOutcomeEvaluator(
    {
        "resolved": {
            "patterns": [r"\bworked\b", r"fixed it", r"\bsorted\b"],
            "sender": "customer",
        },
        "escalated": {"patterns": ["escalat", "specialist"], "sender": "agent"},
        "abandoned": {"patterns": ["forget it", "never mind"], "sender": "customer"},
    }
)


async def simulate(model: str, seed: int) -> ConversationResult:
    """Run one support conversation on ``model`` and return the result."""
    intent = Intent(
        role=ParticipantRole.CUSTOMER,
        description="Reset my password because I'm locked out of my account",
    )
    customer = LLMParticipant(
        ParticipantRole.CUSTOMER,
        model,
        persona="Dana, a nurse on a night shift: polite, in a hurry, not technical.",
        intent=intent,
        seed=seed,
    )
    agent = LLMParticipant(
        ParticipantRole.AGENT,
        model,
        persona="Alex, a support agent for an online pharmacy account portal.",
        seed=seed + 1,
    )
    runner = FullSimulationRunner(
        customer=customer,
        agent=agent,
        initial_message=MessageDraft(
            content="Hello, I need help", sender=ParticipantRole.CUSTOMER
        ),
        intent=intent,
        outcomes=OUTCOMES,
        max_messages=20,
        base_timestamp=datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
        outcome_evaluator=RULES,
        termination=[
            OutcomeReached(closing_messages=2),
            ClosingPhrases(sender="agent"),
        ],
        min_messages=4,
    )
    return await runner.run()


def show(result: ConversationResult) -> None:
    """Print the transcript, the outcome and the timing."""
    start = result.conversation.messages[0].timestamp
    for message in result.conversation.messages:
        offset = (message.timestamp - start).total_seconds()
        print(f"[+{offset:6.1f}s] {message.sender.value:>8}: {message.content}")
    print()
    outcome = result.outcome
    print(
        f"Outcome: {outcome.name} - {outcome.description}"
        if outcome
        else "Outcome: none"
    )
    if result.ending is not None:
        print(f"Ended by: {result.ending.reason} ({result.ending.detail})")
    print(f"Messages exchanged: {len(result.conversation.messages)}")
    print(f"Simulated time: {result.conversation.simulated_seconds:.1f}s")
    print(f"Conversation completed in {result.duration_seconds:.3f}s")
    usage = result.token_usage
    print(
        f"Tokens: customer {usage.customer.total_tokens}, agent {usage.agent.total_tokens}"
    )
    if result.error is not None:
        print(
            f"Error: {result.error.source}: {result.error.type}: {result.error.message}"
        )


async def main() -> None:
    seed = int(os.environ.get("CLIENTSIM_SEED") or "0")
    # The offline model takes its seed in the spec ("offline:3"); real models ignore it.
    model = os.environ.get("CLIENTSIM_MODEL") or f"offline:{seed}"
    try:
        result = await simulate(model, seed)
    finally:
        await aclose_models()  # close provider HTTP connections cleanly
    show(result)
    if not result.ok:
        raise SystemExit(1)


if __name__ == "__main__":
    anyio.run(main)
