"""Seed 004's usage example, as written there: both participants subclass Participant."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from clientsim import (
    Conversation,
    FullSimulationRunner,
    Intent,
    Message,
    MessageDraft,
    Outcome,
    Outcomes,
    Participant,
    ParticipantRole,
)


class CustomerParticipant(Participant):
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    async def get_next_message(self, conversation: Conversation) -> Message | None:
        last = conversation.messages[-1]
        if last.sender is ParticipantRole.CUSTOMER or not self.lines:
            return None
        return Message(
            content=self.lines.pop(0),
            timestamp=last.timestamp + timedelta(seconds=5),
            sender=ParticipantRole.CUSTOMER,
        )


class AgentParticipant(Participant):
    async def get_next_message(self, conversation: Conversation) -> Message | None:
        last = conversation.messages[-1]
        if last.sender is ParticipantRole.AGENT:
            return None
        if "thanks" in last.content.lower():
            return None
        return Message(
            content=f"Sure, about '{last.content}': done.",
            timestamp=last.timestamp + timedelta(seconds=3),
            sender=ParticipantRole.AGENT,
        )


async def test_the_seed_usage_example_runs_as_written(capsys):
    # Define outcome schema
    outcomes = Outcomes(
        outcomes=(
            Outcome(name="resolved", description="Customer issue was fully resolved"),
            Outcome(name="escalated", description="Issue was escalated to supervisor"),
            Outcome(name="abandoned", description="Customer left without resolution"),
        )
    )
    support_intent = Intent(
        role=ParticipantRole.CUSTOMER, description="Set up two-factor authentication"
    )

    # Create participants
    customer = CustomerParticipant(["I want 2FA", "Thanks!"])
    agent = AgentParticipant()

    # Create and run simulation
    runner = FullSimulationRunner(
        customer=customer,
        agent=agent,
        initial_message=MessageDraft(
            content="Hello, I need help", sender=ParticipantRole.CUSTOMER
        ),
        intent=support_intent,
        outcomes=outcomes,
        max_messages=50,
    )
    result = await runner.run()

    print(f"Conversation completed in {result.duration_seconds:.2f}s")
    print(f"Messages exchanged: {len(result.conversation.messages)}")
    if result.conversation.outcome:
        print(
            f"Outcome: {result.conversation.outcome.name} - "
            f"{result.conversation.outcome.description}"
        )

    # Progress tracking example
    calls: list[dict[str, Any]] = []

    def progress_handler(conversation: Conversation, progress: dict[str, Any]) -> None:
        calls.append(progress)
        print(
            f"Progress: {progress['message_count']}/{progress['max_messages']} messages"
        )
        if progress["outcome"]:
            print(f"Outcome reached: {progress['outcome']}")

    runner_with_progress = FullSimulationRunner(
        customer=CustomerParticipant(["I want 2FA"]),
        agent=AgentParticipant(),
        initial_message=MessageDraft(
            content="Hello, I need help", sender=ParticipantRole.CUSTOMER
        ),
        intent=support_intent,
        outcomes=outcomes,
        progress_callback=progress_handler,
    )
    await runner_with_progress.run()

    printed = capsys.readouterr().out
    assert "Messages exchanged: 5" in printed
    assert [m.content for m in result.conversation.messages] == [
        "Hello, I need help",
        "Sure, about 'Hello, I need help': done.",
        "I want 2FA",
        "Sure, about 'I want 2FA': done.",
        "Thanks!",
    ]
    assert result.ending is not None
    assert result.ending.reason == "both_passed"
    assert "Progress: 1/100 messages" in printed
    assert [c["message_count"] for c in calls] == [1, 2, 3, 4]
