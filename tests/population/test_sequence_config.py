"""Journey configuration from plain data: what parses, and errors that name the key."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientsim.errors import ConfigError
from clientsim.models.survey import Variant
from clientsim.population import SequenceMode, Trigger
from clientsim.population.sequence import touchpoints_of
from clientsim.population.triggers import triggers_of


TOUCHPOINT_KEYS = {"day", "content", "channel", "name", "questions"}
TRIGGER_KEYS = {"name", "when", "send", "set", "once"}
texts = st.text(string.ascii_letters + " ", min_size=1, max_size=30).filter(str.strip)
keys = st.text(string.ascii_lowercase + "_", min_size=1, max_size=12)
touchpoints = st.fixed_dictionaries(
    {
        "day": st.one_of(
            st.integers(0, 365),
            st.floats(0, 365, allow_nan=False, allow_infinity=False),
        ),
        "content": texts,
    },
    optional={"channel": st.sampled_from(["email", "sms", "push"]), "name": texts},
)


@given(st.lists(touchpoints, max_size=8))
def test_touchpoints_from_mappings_keep_their_values_in_day_order(items):
    points = touchpoints_of(items)
    assert [p.day for p in points] == sorted(item["day"] for item in items)
    assert sorted(p.content for p in points) == sorted(i["content"] for i in items)
    assert SequenceMode(items or [{"day": 0, "content": "x"}]).touchpoints


@given(st.lists(touchpoints, min_size=1, max_size=4), st.data())
def test_an_unknown_touchpoint_key_is_named(items, data):
    key = data.draw(keys.filter(lambda k: k not in TOUCHPOINT_KEYS))
    index = data.draw(st.integers(0, len(items) - 1))
    items[index] = {**items[index], key: "x"}
    with pytest.raises(ConfigError, match=rf"\[{index}\]: unknown key '{key}'"):
        SequenceMode(items)
    with pytest.raises(ConfigError, match=rf"sequence\[{index}\]: unknown key '{key}'"):
        Variant(name="v", sequence=items)


@given(texts, texts, st.sampled_from(["send", "set"]), st.data())
def test_trigger_mappings_parse_or_name_the_key(name, when, kind, data):
    effect = "Sorry!" if kind == "send" else {"trust": data.draw(st.floats(0, 1))}
    config = {"name": name, "when": when, kind: effect}
    [trigger] = triggers_of([config])
    assert isinstance(trigger, Trigger)
    assert (trigger.name, trigger.statement, trigger.sends_message) == (
        name,
        when,
        kind == "send",
    )
    extra = data.draw(keys.filter(lambda k: k not in TRIGGER_KEYS))
    with pytest.raises(
        ConfigError, match=rf"triggers\[0\]: unknown trigger key '{extra}'"
    ):
        triggers_of([{**config, extra: 1}])


@given(st.floats(allow_nan=True), st.sampled_from(["awareness", "interest", "trust"]))
def test_a_set_level_outside_zero_to_one_is_refused(value, level):
    config = {"name": "t", "when": "x", "set": {level: value}}
    if 0.0 <= value <= 1.0:
        assert triggers_of([config])[0].effect == {level: value}
    else:
        with pytest.raises(
            ConfigError, match=rf"set: {level} must be a number from 0 to 1"
        ):
            triggers_of([config])


def test_a_variant_sequence_with_a_missing_key_is_named():
    with pytest.raises(ConfigError, match=r"sequence\[0\]: 'content' is required"):
        Variant(name="v", sequence=[{"day": 1}])
