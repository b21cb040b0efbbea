"""PersonaState: levels stay in [0, 1], updates are pure, the JSON round trip is exact."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientsim.errors import ConfigError, InvalidTypeError
from clientsim.population import PersonaState
from clientsim.population.state import MEMORY_LIMIT, NOTE_CHARS


levels = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
deltas = st.floats(min_value=-5.0, max_value=5.0, allow_nan=False)
clocks = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis adds the zones
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-7, minutes=-30))]
    ),
)
notes = st.text(min_size=0, max_size=300)
states = st.builds(
    PersonaState,
    awareness=levels,
    interest=levels,
    trust=levels,
    purchased=st.booleans(),
    opted_out=st.booleans(),
    memory=st.lists(st.text(max_size=40), max_size=5).map(tuple),
    clock=clocks,
)


@given(states, st.lists(st.tuples(deltas, deltas, deltas, notes), max_size=20))
def test_levels_stay_in_range_and_memory_stays_bounded(state, steps):
    for awareness, interest, trust, note in steps:
        before = state
        state = state.nudge(awareness=awareness, interest=interest, trust=trust)
        state = state.remember(note).later(0.5)
        assert before.clock < state.clock  # the old value is untouched
        for name in ("awareness", "interest", "trust"):
            assert 0.0 <= getattr(state, name) <= 1.0
        assert len(state.memory) <= max(MEMORY_LIMIT, len(before.memory))
        assert all(len(n) <= NOTE_CHARS for n in state.memory[len(before.memory) :])


@given(states, st.lists(notes, max_size=15))
def test_the_json_round_trip_is_exact(state, remembered):
    for note in remembered:
        state = state.remember(note)
    data = json.loads(json.dumps(state.to_dict()))
    again = PersonaState.from_dict(data)
    assert again == state
    assert again.clock.tzinfo is UTC


def test_updates_are_pure_and_clipped():
    state = PersonaState()
    moved = state.nudge(interest=0.7, trust=0.9)
    assert (state.interest, state.trust) == (0.0, 0.5)
    assert (moved.interest, moved.trust) == (0.7, 1.0)
    assert moved.nudge(interest=-3).interest == 0.0
    assert PersonaState(trust=1).trust == 1.0
    assert isinstance(PersonaState(trust=1).trust, float)


def test_memory_keeps_the_latest_notes_and_cuts_long_ones():
    state = PersonaState()
    for index in range(MEMORY_LIMIT + 3):
        state = state.remember(f"note {index}")
    assert state.memory[0] == "note 3"
    assert state.memory[-1] == f"note {MEMORY_LIMIT + 2}"
    assert state.remember("   ").memory == state.memory
    long = PersonaState().remember("word " * 100).memory[0]
    assert len(long) == NOTE_CHARS
    assert long.endswith("\N{HORIZONTAL ELLIPSIS}")


def test_the_summary_shows_clock_levels_flags_and_memory():
    state = PersonaState(purchased=True).remember("saw a welcome email")
    text = state.summary()
    assert "Monday 05 January 2026, 09:00 UTC" in text
    assert "interest: 0.00" in text
    assert "already bought" in text
    assert "- saw a welcome email" in text


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        (
            {"interset": 0.5},
            "unknown persona state field 'interset'; allowed: .*did you mean 'interest'",
        ),
        ({"trust": 1.5}, "trust must be a number from 0 to 1; got 1.5"),
        ({"trust": True}, "trust must be a number from 0 to 1"),
        ({"purchased": "yes"}, "purchased must be true or false"),
    ],
)
def test_bad_changes_name_the_field(changes, match):
    with pytest.raises(ConfigError, match=match):
        PersonaState().evolve(changes)


def test_bad_values_are_refused():
    with pytest.raises(ConfigError, match="awareness"):
        PersonaState(awareness=-0.1)
    with pytest.raises(InvalidTypeError, match="memory"):
        PersonaState(memory="one note")
    with pytest.raises(ConfigError, match="clock must be an ISO 8601 timestamp"):
        PersonaState.from_dict({"clock": "next tuesday"})
    with pytest.raises(InvalidTypeError, match="interest must be a number"):
        PersonaState().nudge(interest="a lot")  # type: ignore[arg-type]
