"""A state machine for the ``earliest`` turn policy with N members.

Each step hypothesis draws every member's proposal for the turn (a delay after the
last message, ties likely, or a pass) and the runner takes one turn: the message
appended is always the earliest proposal, a tie goes to the member next in order
after the last speaker, a pass is never appended, everyone passing ends the run
with ``"all_passed"``, and the transcript's timestamps never go back.
"""

from __future__ import annotations

from datetime import timedelta

import anyio
import hypothesis.strategies as st
import pytest
from hypothesis import settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from clientsim import Conversation, GroupSimulationRunner, Message, Participant
from clientsim.errors import SimulationError
from clientsim.models.conversation import stamped
from tests.group_fakes import AGENT, START


class Proposer(Participant):
    """Proposes ``next`` seconds after the last message (``None``: passes)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.role = AGENT
        self.next: int | None = None

    async def get_next_message(self, conversation: Conversation) -> Message | None:
        if self.next is None:
            return None
        last = conversation.messages[-1].timestamp
        return stamped(
            f"{self.name} at {len(conversation)}",
            last + timedelta(seconds=self.next),
            AGENT,
        )


class EarliestMachine(RuleBasedStateMachine):
    @initialize(count=st.integers(min_value=2, max_value=5))
    def start(self, count: int) -> None:
        self.members = [Proposer(f"m{index}") for index in range(count)]
        self.runner = GroupSimulationRunner(
            self.members,
            turn_policy="earliest",
            initial_message="Shall we begin?",
            base_timestamp=START,
            max_messages=10_000,
        )
        self.ended = False

    @precondition(lambda self: not self.ended)
    @rule(data=st.data())
    def take_a_turn(self, data: st.DataObject) -> None:
        names = [member.name for member in self.members]
        delays = data.draw(
            st.lists(
                st.none() | st.integers(min_value=0, max_value=3),
                min_size=len(names),
                max_size=len(names),
            ),
            label="proposals",
        )
        for member, delay in zip(self.members, delays, strict=True):
            member.next = delay
        before = self.runner.conversation.messages
        last = before[-1].speaker.name if before else "Facilitator"
        step = anyio.run(self.runner.step)
        said = [m for m in step.messages if m.speaker.name != "Facilitator"]
        if all(delay is None for delay in delays):
            assert said == []
            assert step.ending is not None
            assert step.ending.reason == "all_passed"
            self.ended = True
            return
        assert step.ending is None
        assert len(said) == 1
        message = said[0]
        turn_order = (
            names[names.index(last) + 1 :] + names[: names.index(last) + 1]
            if last in names
            else names
        )
        earliest = min(d for d in delays if d is not None)
        winner = next(
            name for name in turn_order if delays[names.index(name)] == earliest
        )
        assert message.speaker.name == winner
        assert message.content.startswith(f"{winner} at ")
        previous = before[-1].timestamp if before else START
        assert message.timestamp == previous + timedelta(seconds=earliest)

    @precondition(lambda self: self.ended)
    @rule()
    def nothing_follows_the_end(self) -> None:
        with pytest.raises(SimulationError, match="has ended"):
            anyio.run(self.runner.step)

    @invariant()
    def timestamps_never_go_back(self) -> None:
        if not hasattr(self, "runner"):
            return
        stamps = [m.timestamp for m in self.runner.conversation.messages]
        assert stamps == sorted(stamps)


EarliestMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=25, deadline=None
)
TestEarliest = EarliestMachine.TestCase
