"""An example third-party clientsim plugin: a termination strategy, a participant and an
outcome evaluator.

All are registered under namespaced names (``clientsim-example-plugin/...``), through
the same hooks clientsim's built-ins use.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import clientsim
from clientsim import (
    Conversation,
    Ending,
    Message,
    Outcome,
    Outcomes,
    Participant,
    ParticipantRole,
)


__all__ = ["ECHO", "KEYWORD", "POLITENESS", "Echo", "Keyword", "Politeness"]

POLITENESS = "clientsim-example-plugin/politeness"
ECHO = "clientsim-example-plugin/echo"
KEYWORD = "clientsim-example-plugin/keyword"


class Politeness:
    """Ends the conversation once ``phrase`` has been said ``times`` times.

    Args:
        phrase: what counts as polite, matched case-insensitively.
        times: how many messages must contain it.
    """

    def __init__(self, *, phrase: str = "thank you", times: int = 1) -> None:
        if not isinstance(phrase, str) or not phrase.strip():
            raise ValueError(f"phrase must be a non-empty string; got {phrase!r}")
        if not isinstance(times, int) or times < 1:
            raise ValueError(f"times must be an int >= 1; got {times!r}")
        self.phrase = phrase.strip().lower()
        self.times = times

    async def check(self, context: Any) -> Ending | None:
        messages = context.conversation.messages
        said = sum(self.phrase in message.content.lower() for message in messages)
        if said < self.times:
            return None
        return Ending(
            reason=POLITENESS,
            detail=f"{self.phrase!r} was said {said} time(s)",
            message_count=len(messages),
        )


class Echo(Participant):
    """An agent (or customer) that repeats the other side's last message."""

    def __init__(self, role: ParticipantRole, prefix: str = "You said: ") -> None:
        self.role = role
        self.prefix = prefix

    @classmethod
    def from_config(cls, *, role: str = "agent", prefix: str = "You said: ") -> Echo:
        return cls(ParticipantRole(role), prefix)

    async def get_next_message(self, conversation: Conversation) -> Message | None:
        last = conversation.last_message
        if last is None or last.sender is self.role:
            return None
        return Message(
            content=f"{self.prefix}{last.content}",
            timestamp=last.timestamp + timedelta(seconds=1),
            sender=self.role,
        )


class Keyword:
    """Reaches the outcome ``outcome`` once an agent message contains ``keyword``.

    Args:
        outcome: the name of the outcome reached (one of the run's outcomes).
        keyword: what an agent message must contain, matched case-insensitively.
    """

    def __init__(self, *, outcome: str, keyword: str) -> None:
        if not isinstance(outcome, str) or not outcome.strip():
            raise ValueError(f"outcome must be a non-empty string; got {outcome!r}")
        if not isinstance(keyword, str) or not keyword.strip():
            raise ValueError(f"keyword must be a non-empty string; got {keyword!r}")
        self.outcome = outcome.strip()
        self.keyword = keyword.strip().lower()

    async def evaluate(
        self, conversation: Conversation, outcomes: Outcomes
    ) -> Outcome | None:
        outcome = outcomes.get_outcome_by_name(self.outcome)
        if outcome is None:
            raise ValueError(
                f"{KEYWORD}: {self.outcome!r} is not an outcome of this run; "
                f"outcomes: {', '.join(outcomes.names)}"
            )
        for message in conversation.messages:
            if (
                message.sender is ParticipantRole.AGENT
                and self.keyword in message.content.lower()
            ):
                return outcome
        return None


@clientsim.hookimpl
def clientsim_register_termination(register: Any) -> None:
    register(POLITENESS, Politeness)


@clientsim.hookimpl
def clientsim_register_participants(register: Any) -> None:
    register(ECHO, Echo.from_config)


@clientsim.hookimpl
def clientsim_register_outcome_evaluators(register: Any) -> None:
    register(KEYWORD, Keyword)
