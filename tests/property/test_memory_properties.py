"""Invariants of the per-participant memory, for any messages, window and observation
points: the window never exceeds its size, nothing is lost or counted twice, observing
again changes nothing, the state round-trips through plain data, and a memory restored
from that data goes on exactly like the original; the offline summary stays within its
bounds whatever it is given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
from hypothesis import given, settings
from hypothesis import strategies as st

from clientsim.llm._offline_notes import SUMMARY_CHARS, SUMMARY_ITEMS, Said, summarise
from clientsim.models import (
    Conversation,
    MemoryState,
    Message,
    ParticipantRole,
    Speaker,
    from_dict,
    to_dict,
)
from clientsim.teams.memory import MemoryManager


SETTINGS = settings(deadline=None, max_examples=60)
START = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
SPEAKERS = (Speaker("Ana", "CEO"), Speaker("Priya", "Product Manager"), Speaker("Eli"))
SENTENCES = (
    "Proposal: launch on March 1.",
    "Agreed.",
    "The budget is 250k.",
    "My concern is the payment bug.",
    "@Priya can you check the plan?",
    "I'll ship the fix by Friday.",
    "Nice weather today.",
)

lines = st.tuples(
    st.sampled_from(range(len(SPEAKERS))),
    st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=3)
    | st.text(max_size=40).map(lambda text: [text]),
)


@st.composite
def observations(draw: st.DrawFn) -> tuple[Conversation, list[int]]:
    """A conversation and the growing prefix lengths at which it is observed."""
    said = draw(st.lists(lines, max_size=30))
    conversation = Conversation(
        tuple(
            Message(
                " ".join(texts),
                START + timedelta(seconds=i),
                ParticipantRole.AGENT,
                speaker=SPEAKERS[who],
            )
            for i, (who, texts) in enumerate(said)
        )
    )
    points = draw(st.lists(st.integers(min_value=0, max_value=len(said)), max_size=8))
    return conversation, [*sorted(points), len(said)]


def prefix(conversation: Conversation, count: int) -> Conversation:
    return Conversation(conversation.messages[:count])


@SETTINGS
@given(
    observed=observations(),
    window=st.integers(min_value=1, max_value=8),
    max_facts=st.integers(min_value=0, max_value=6),
)
def test_memory_invariants(
    observed: tuple[Conversation, list[int]], window: int, max_facts: int
) -> None:
    conversation, points = observed

    async def check() -> None:
        memory = MemoryManager(window=window, max_facts=max_facts)
        for count in points:
            state = await memory.observe(prefix(conversation, count))
            assert len(state.window) <= window
            assert state.summarized + len(state.window) == count
            assert state.window == conversation.messages[state.summarized : count]
            assert len(state.facts) <= max_facts

            calls = memory.calls
            assert await memory.observe(prefix(conversation, count)) == state
            assert memory.calls == calls

            data = to_dict(state)
            assert from_dict(data, MemoryState) == state
            restored = MemoryManager(window=window, max_facts=max_facts)
            restored.restore(from_dict(data, MemoryState))
            assert await restored.observe(conversation) == await memory.observe(
                conversation
            )
            memory.restore(state)  # back to this point for the next observation

    anyio.run(check)


@SETTINGS
@given(
    folds=st.lists(
        st.lists(
            st.tuples(
                st.sampled_from(["Ana (CEO)", "Eli", "Dana (Designer)"]),
                st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=4).map(
                    " ".join
                )
                | st.text(max_size=300),
            ),
            max_size=12,
        ),
        max_size=6,
    )
)
def test_the_offline_summary_is_bounded_and_deterministic(
    folds: list[list[tuple[str, str]]],
) -> None:
    summary = ""
    for fold in folds:
        said = [Said(label, label.split(" (")[0], text) for label, text in fold]
        new, facts = summarise(summary, said)
        assert (new, facts) == summarise(summary, said)
        assert len(new) <= SUMMARY_CHARS
        assert len(new.splitlines()) <= SUMMARY_ITEMS
        assert len(set(facts)) == len(facts)
        summary = new
