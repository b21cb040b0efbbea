"""Properties of FullSimulationRunner's ordering, checked against a reference model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
from hypothesis import given, settings
from hypothesis import strategies as st

from clientsim import (
    FullSimulationRunner,
    Intent,
    MessageDraft,
    Outcome,
    Outcomes,
    ParticipantRole,
)
from tests.fakes import Timed


CUSTOMER = ParticipantRole.CUSTOMER
AGENT = ParticipantRole.AGENT
START = datetime(2026, 1, 1, tzinfo=UTC)
OUTCOMES = Outcomes((Outcome("resolved", "done"),))
INTENT = Intent(CUSTOMER, "Get help")

delays = st.lists(st.integers(min_value=0, max_value=5), max_size=8)


def reference(customer, agent, answer_only, max_messages, opener):
    """The seed's rule in its plainest form: the earliest proposal goes next."""
    queues = {CUSTOMER: list(customer), AGENT: list(agent)}
    transcript = [(opener, 0)]
    while len(transcript) < max_messages:
        last_sender, last_time = transcript[-1]
        order = [last_sender.other, last_sender]
        proposals = [
            (last_time + queues[role][0], role)
            for role in order
            if queues[role] and not (answer_only[role] and last_sender is role)
        ]
        if not proposals:
            break
        # min() keeps the first of equal times: the side that did not speak last.
        time, role = min(proposals, key=lambda p: p[0])
        queues[role].pop(0)
        transcript.append((role, time))
    return transcript


@settings(max_examples=150, deadline=None)
@given(
    customer=delays,
    agent=delays,
    customer_answers_only=st.booleans(),
    agent_answers_only=st.booleans(),
    max_messages=st.integers(min_value=1, max_value=12),
    opener=st.sampled_from([CUSTOMER, AGENT]),
)
def test_order_follows_the_earliest_proposal(
    customer, agent, customer_answers_only, agent_answers_only, max_messages, opener
):
    answer_only = {CUSTOMER: customer_answers_only, AGENT: agent_answers_only}

    async def run():
        runner = FullSimulationRunner(
            Timed(
                CUSTOMER,
                [("c", d) for d in customer],
                answer_only=customer_answers_only,
            ),
            Timed(AGENT, [("a", d) for d in agent], answer_only=agent_answers_only),
            MessageDraft("start", opener),
            INTENT,
            OUTCOMES,
            max_messages=max_messages,
            base_timestamp=START,
        )
        return await runner.run()

    result = anyio.run(run)
    messages = result.conversation.messages
    got = [(m.sender, (m.timestamp - START) // timedelta(seconds=1)) for m in messages]
    assert got == reference(customer, agent, answer_only, max_messages, opener)

    stamps = [m.timestamp for m in messages]
    assert stamps == sorted(stamps)
    assert len(messages) <= max_messages
    assert result.ending is not None
    assert result.ending.message_count == len(messages)
    if len(messages) == max_messages:
        assert result.ending.reason == "max_messages"
    else:
        assert result.ending.reason == "both_passed"
    assert result.ok
