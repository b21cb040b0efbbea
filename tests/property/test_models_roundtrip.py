"""Invariants of the frozen values: round trips, ``with_message``, outcome lookup, slugs."""

from __future__ import annotations

import json

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientsim.errors import ConfigError
from clientsim.models import (
    Conversation,
    ConversationResult,
    Ending,
    ErrorRecord,
    Intent,
    Message,
    Outcome,
    Outcomes,
    TokenUsage,
    TokenUsageReport,
    from_dict,
    from_json,
    to_dict,
    to_json,
)
from tests import strategies


VALUE_TYPES = [
    pytest.param(Outcome, strategies.outcomes, id="Outcome"),
    pytest.param(Outcomes, strategies.outcomes_collections, id="Outcomes"),
    pytest.param(Intent, strategies.intents, id="Intent"),
    pytest.param(Message, strategies.messages, id="Message"),
    pytest.param(Conversation, strategies.conversations, id="Conversation"),
    pytest.param(TokenUsage, strategies.token_usages, id="TokenUsage"),
    pytest.param(
        TokenUsageReport, strategies.token_usage_reports, id="TokenUsageReport"
    ),
    pytest.param(Ending, strategies.endings, id="Ending"),
    pytest.param(ErrorRecord, strategies.error_records, id="ErrorRecord"),
    pytest.param(
        ConversationResult, strategies.conversation_results, id="ConversationResult"
    ),
]


def _plain(data: object) -> bool:
    """Only dicts with str keys, lists, str, int, float, bool and None."""
    if isinstance(data, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in data.items())
    if isinstance(data, list):
        return all(_plain(item) for item in data)
    return data is None or isinstance(data, str | int | float | bool)


@pytest.mark.parametrize(("cls", "values"), VALUE_TYPES)
@given(data=st.data())
def test_dict_round_trip(cls, values, data):
    value = data.draw(values)
    plain = to_dict(value)
    assert _plain(plain)
    back = from_dict(plain, cls)
    assert type(back) is cls
    assert back == value


@pytest.mark.parametrize(("cls", "values"), VALUE_TYPES)
@given(data=st.data())
def test_json_round_trip(cls, values, data):
    value = data.draw(values)
    text = to_json(value)
    assert isinstance(json.loads(text), dict)
    back = from_json(text, cls)
    assert back == value
    assert to_json(back) == text


@given(outcomes=strategies.outcomes_collections)
def test_outcomes_lookup_survives_the_round_trip(outcomes):
    back = from_json(to_json(outcomes), Outcomes)
    for outcome in outcomes:
        assert back.get_outcome_by_name(outcome.name) == outcome
    assert back.names == outcomes.names


@given(conversation=strategies.conversations, message=strategies.messages)
def test_with_message_appends_and_leaves_the_original_untouched(conversation, message):
    before = to_dict(conversation)
    longer = conversation.with_message(message)
    assert longer.messages == (*conversation.messages, message)
    assert longer.last_message is message
    assert len(longer) == len(conversation) + 1
    assert longer.outcome == conversation.outcome
    assert to_dict(conversation) == before
    assert longer is not conversation


@given(conversation=strategies.conversations, outcome=st.none() | strategies.outcomes)
def test_with_outcome_replaces_only_the_outcome(conversation, outcome):
    changed = conversation.with_outcome(outcome)
    assert changed.outcome == outcome
    assert changed.messages == conversation.messages
    assert changed == attrs.evolve(conversation, outcome=outcome)


@given(
    listed=strategies.outcome_lists(),
    name=st.one_of(strategies.slugs(), st.text()),
)
def test_outcomes_lookup_agrees_with_a_linear_scan(listed, name):
    outcomes = Outcomes(outcomes=listed)
    expected = next((o for o in listed if o.name == name), None)
    assert outcomes.get_outcome_by_name(name) == expected
    assert (name in outcomes) is (expected is not None)
    for outcome in listed:
        assert outcomes.get_outcome_by_name(outcome.name) is outcome
    assert outcomes.names == tuple(o.name for o in listed)
    assert list(outcomes) == listed
    assert len(outcomes) == len(listed)


@given(listed=strategies.outcome_lists(), data=st.data())
def test_duplicate_outcome_names_are_refused(listed, data):
    if not listed:
        listed = [Outcome(name="resolved", description="")]
    duplicate = data.draw(st.sampled_from(listed))
    again = Outcome(name=duplicate.name, description="another description")
    position = data.draw(st.integers(min_value=0, max_value=len(listed)))
    with pytest.raises(ConfigError, match="unique") as caught:
        Outcomes(outcomes=[*listed[:position], again, *listed[position:]])
    assert repr(duplicate.name) in str(caught.value)


@given(name=strategies.slugs(), description=st.text())
def test_valid_slugs_are_accepted(name, description):
    assert strategies.SLUG_PATTERN.fullmatch(name)
    assert Outcome(name=name, description=description).name == name


@given(name=strategies.invalid_slugs)
def test_invalid_slugs_always_raise_config_error(name):
    with pytest.raises(ConfigError) as caught:
        Outcome(name=name, description="anything")
    assert repr(name) in str(caught.value)
    assert "slug" in str(caught.value)


@given(name=strategies.invalid_slugs)
def test_invalid_slugs_are_refused_from_plain_data_too(name):
    with pytest.raises(ConfigError) as caught:
        from_dict({"name": name, "description": ""}, Outcome)
    assert repr(name) in str(caught.value)


@given(name=st.one_of(st.none(), st.integers(), st.binary(), st.lists(st.text())))
def test_non_string_names_raise_config_error(name):
    with pytest.raises(ConfigError, match="slug"):
        Outcome(name=name, description="anything")
