"""Invariants of the Timeouts value and the experiment keys that make it.

(a) any value for any field either gives a Timeouts holding that value as a float (a
    finite number > 0) or raises ``ConfigError`` naming the field, never another
    exception;
(b) valid Timeouts are frozen, hashable and equal to a copy built from their fields;
(c) the runner section of an experiment file maps its three keys onto one Timeouts,
    and a bad value is refused at load time naming its key.
"""

from __future__ import annotations

import math

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientsim import Timeouts
from clientsim.errors import ConfigError
from clientsim.experiments.config import ExperimentConfig, RunnerConfig


FIELDS = ("model_call", "turn", "conversation")

anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
)
valid = st.one_of(
    st.integers(min_value=1, max_value=10**6),
    st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False),
)


def _is_valid(value: object) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and value > 0
    )


@given(field=st.sampled_from(FIELDS), value=anything)
def test_any_value_is_taken_or_refused_naming_its_field(field, value):
    if not _is_valid(value):
        with pytest.raises(ConfigError, match=rf"timeouts\.{field}"):
            Timeouts(**{field: value})
        return
    stored = getattr(Timeouts(**{field: value}), field)
    assert isinstance(stored, float)
    assert stored == float(value)


@given(model_call=valid, turn=valid, conversation=valid)
def test_valid_timeouts_are_frozen_hashable_values(model_call, turn, conversation):
    timeouts = Timeouts(model_call=model_call, turn=turn, conversation=conversation)
    assert Timeouts(**attrs.asdict(timeouts)) == timeouts
    assert hash(Timeouts(**attrs.asdict(timeouts))) == hash(timeouts)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        timeouts.turn = 1.0  # type: ignore[misc]


def test_the_defaults_are_finite_and_documented():
    assert Timeouts() == Timeouts(model_call=120, turn=300, conversation=1800)


@given(
    conversation=st.integers(min_value=10, max_value=3600),
    turn=st.integers(min_value=1, max_value=3600),
    model=st.integers(min_value=1, max_value=3600),
)
def test_the_runner_keys_make_the_runs_timeouts(conversation, turn, model):
    runner = RunnerConfig(
        target="os:getcwd",
        timeout_seconds=conversation,
        turn_timeout_seconds=turn,
        model_timeout_seconds=model,
    )
    assert runner.timeouts == Timeouts(
        model_call=model, turn=turn, conversation=conversation
    )


def _file(**runner: object) -> dict[str, object]:
    return {
        "name": "t",
        "description": "timeouts",
        "runner": {"target": "os:getcwd", **runner},
    }


def test_the_experiment_file_keys_load_into_the_runs_timeouts():
    config = ExperimentConfig.from_dict(
        _file(timeout_seconds=60, turn_timeout_seconds=20, model_timeout_seconds=5)
    )
    assert config.runner is not None
    assert config.runner.timeouts == Timeouts(model_call=5, turn=20, conversation=60)


@pytest.mark.parametrize("key", ["turn_timeout_seconds", "model_timeout_seconds"])
@pytest.mark.parametrize("bad", [0, -5, 3601, "fast", 1.5, True])
def test_a_bad_timeout_key_is_refused_at_load_time_by_name(key, bad):
    with pytest.raises(ConfigError, match=f"runner.{key}") as caught:
        ExperimentConfig.from_dict(_file(**{key: bad}))
    assert "description" not in str(caught.value)
