"""The frozen values of clientsim.models and their plain-data conversions."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientsim.errors import ClientSimError, ConfigError
from clientsim.models import (
    Conversation,
    ConversationResult,
    Ending,
    ErrorRecord,
    Intent,
    Message,
    MessageDraft,
    Outcome,
    Outcomes,
    ParticipantRole,
    TokenUsage,
    TokenUsageReport,
    from_dict,
    from_json,
    to_dict,
    to_json,
)
from clientsim.models.conversation import stamped


CUSTOMER = ParticipantRole.CUSTOMER
AGENT = ParticipantRole.AGENT


@pytest.fixture(name="talk")
def _talk(base_time) -> Conversation:
    return Conversation(
        [
            Message("My order is late", base_time, CUSTOMER),
            Message("Let me check", base_time + timedelta(seconds=30), AGENT),
            Message("Thanks", base_time + timedelta(seconds=95), CUSTOMER),
        ]
    )


# --- roles -----------------------------------------------------------------------


def test_each_role_has_the_other_as_its_opposite():
    assert CUSTOMER.other is AGENT
    assert AGENT.other is CUSTOMER


# --- outcomes --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["resolved", "sale_completed", "no-show", "tier2", "a1_b2-c3"]
)
def test_lowercase_slugs_are_valid_outcome_names(name):
    assert Outcome(name=name, description="d").name == name


@pytest.mark.parametrize(
    "name",
    ["", "Resolved", "sale completed", "_x", "x_", "a__b", "a_-b", "résolu", "ok\n"],
)
def test_an_invalid_outcome_name_is_a_config_error_naming_it(name):
    with pytest.raises(ConfigError) as caught:
        Outcome(name=name, description="d")
    message = str(caught.value)
    assert repr(name) in message
    assert "lowercase slug" in message
    assert "sale_completed" in message  # an example of what is allowed


def test_outcome_is_frozen():
    outcome = Outcome("resolved", "fixed")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        outcome.name = "other"  # type: ignore[misc]


def test_outcomes_look_up_by_name(outcomes):
    resolved = outcomes.get_outcome_by_name("resolved")
    assert resolved is outcomes.outcomes[0]
    assert outcomes.get_outcome_by_name("missing") is None
    assert outcomes.names == ("resolved", "escalated", "abandoned")
    assert "escalated" in outcomes
    assert "missing" not in outcomes
    assert len(outcomes) == 3
    assert [o.name for o in outcomes] == list(outcomes.names)


def test_outcomes_take_any_iterable_and_keep_a_tuple():
    listed = [Outcome("a", ""), Outcome("b", "")]
    outcomes = Outcomes(outcome for outcome in listed)
    assert outcomes.outcomes == tuple(listed)
    assert outcomes == Outcomes(listed)
    assert hash(outcomes) == hash(Outcomes(listed))


def test_outcomes_refuse_duplicate_names_naming_the_duplicate():
    with pytest.raises(ConfigError, match=r"unique.*'resolved'") as caught:
        Outcomes([Outcome("resolved", "one"), Outcome("resolved", "two")])
    assert isinstance(caught.value, ValueError)


def test_outcomes_refuse_items_that_are_not_outcomes():
    with pytest.raises(ConfigError, match="Outcome objects; got str"):
        Outcomes(["resolved"])  # type: ignore[list-item]


def test_outcomes_lookup_is_not_part_of_equality_or_repr(outcomes):
    copy = Outcomes(list(outcomes))
    assert copy == outcomes
    assert "by_name" not in repr(outcomes)
    assert to_dict(outcomes) == {
        "outcomes": [{"name": o.name, "description": o.description} for o in outcomes]
    }


# --- intents and messages --------------------------------------------------------


@pytest.mark.parametrize("description", ["", "   ", "\n\t"])
def test_an_intent_needs_a_description(description):
    with pytest.raises(ConfigError, match="description must be a non-empty string"):
        Intent(role=CUSTOMER, description=description)


def test_an_intent_needs_a_role_not_a_string():
    with pytest.raises(TypeError, match="role"):
        Intent(role="customer", description="Reset my password")  # type: ignore[arg-type]


def test_message_fields_are_validated(base_time):
    with pytest.raises(TypeError, match="content"):
        Message(content=1, timestamp=base_time, sender=CUSTOMER)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="timestamp"):
        Message(content="x", timestamp="now", sender=CUSTOMER)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="sender"):
        MessageDraft(content="x", sender="agent")  # type: ignore[arg-type]


# --- conversations ---------------------------------------------------------------


def test_conversation_keeps_its_messages_as_a_tuple(talk):
    assert isinstance(talk.messages, tuple)
    assert len(talk) == 3
    assert talk.outcome is None
    assert talk.last_message == talk.messages[-1]
    assert Conversation(()).last_message is None


def test_conversation_refuses_what_is_not_a_message():
    with pytest.raises(TypeError, match="Message objects; got str"):
        Conversation(["hello"])  # type: ignore[list-item]


def test_with_message_returns_a_new_longer_conversation(talk, base_time):
    message = Message("Found it", base_time + timedelta(minutes=2), AGENT)
    longer = talk.with_message(message)
    assert longer.messages == (*talk.messages, message)
    assert len(talk) == 3
    assert longer.outcome is talk.outcome


def test_with_outcome_keeps_the_messages(talk, outcomes):
    resolved = outcomes.get_outcome_by_name("resolved")
    ended = talk.with_outcome(resolved)
    assert ended.outcome is resolved
    assert ended.messages is talk.messages
    assert talk.outcome is None
    assert ended.with_outcome(None) == talk


def test_simulated_seconds_spans_first_to_last_message(talk, base_time):
    assert talk.simulated_seconds == 95.0
    assert Conversation([Message("hi", base_time, CUSTOMER)]).simulated_seconds == 0.0
    assert Conversation(()).simulated_seconds == 0.0


# --- token usage -----------------------------------------------------------------


def test_token_usage_adds_and_subtracts_field_by_field():
    a = TokenUsage(input_tokens=10, output_tokens=5, total_tokens=15, calls=1)
    b = TokenUsage(input_tokens=3, output_tokens=7, total_tokens=10, calls=1)
    assert a + b == TokenUsage(
        input_tokens=13, output_tokens=12, total_tokens=25, calls=2
    )
    assert (a + b) - b == a
    assert a - b == TokenUsage(input_tokens=7, output_tokens=0, total_tokens=5, calls=0)


@pytest.mark.parametrize(
    "field", ["input_tokens", "output_tokens", "total_tokens", "calls"]
)
@pytest.mark.parametrize("value", [-1, 1.5, "3"])
def test_token_counts_must_be_non_negative_ints(field, value):
    # A wrong type is an InvalidTypeError (a TypeError too); -1 is out of range.
    error = ConfigError if value == -1 else TypeError
    with pytest.raises(error, match=f"{field} must be an int >= 0; got {value!r}"):
        TokenUsage(**{field: value})


def test_token_usage_report_per_participant_and_total():
    customer = TokenUsage(input_tokens=1, total_tokens=1, calls=1)
    agent = TokenUsage(output_tokens=2, total_tokens=2, calls=1)
    judge = TokenUsage(input_tokens=4, total_tokens=4, calls=2)
    report = TokenUsageReport(customer=customer, agent=agent, judge=judge)
    assert report[CUSTOMER] is customer
    assert report[AGENT] is agent
    assert report.total == TokenUsage(
        input_tokens=5, output_tokens=2, total_tokens=7, calls=4
    )
    assert TokenUsageReport().total == TokenUsage()


# --- endings, errors, results ----------------------------------------------------


def test_ending_defaults():
    ending = Ending(reason="max_messages")
    assert (ending.detail, ending.message_count) == ("", 0)
    with pytest.raises(TypeError):
        Ending("max_messages")  # type: ignore[misc]  # keyword-only


def test_error_record_from_exception_names_the_qualified_type():
    record = ErrorRecord.from_exception("agent", ConfigError("bad option"))
    assert record == ErrorRecord(
        source="agent", type="clientsim.errors.ConfigError", message="bad option"
    )


def test_conversation_result_exposes_outcome_and_ok(talk, outcomes):
    resolved = outcomes.get_outcome_by_name("resolved")
    result = ConversationResult(talk.with_outcome(resolved), 1.5)
    assert result.outcome is resolved
    assert result.ok
    assert result.ending is None
    assert result.token_usage == TokenUsageReport()
    failed = attrs.evolve(
        result, error=ErrorRecord(source="agent", type="builtins.OSError", message="x")
    )
    assert not failed.ok


def test_conversation_result_needs_a_conversation():
    with pytest.raises(TypeError, match="conversation"):
        ConversationResult(None)  # type: ignore[arg-type]


# --- plain data ------------------------------------------------------------------


def test_to_dict_writes_iso_timestamps_and_role_values(base_time):
    message = Message("hi", base_time, CUSTOMER)
    assert to_dict(message) == {
        "content": "hi",
        "timestamp": "2026-01-01T12:00:00+00:00",
        "sender": "customer",
    }
    assert json.loads(to_json(message)) == to_dict(message)


def test_from_dict_accepts_a_datetime_object(base_time):
    data = {"content": "hi", "timestamp": base_time, "sender": "agent"}
    assert from_dict(data, Message) == Message("hi", base_time, AGENT)


def test_to_json_keeps_non_ascii_text(base_time):
    text = to_json(Message("grüße 👋", base_time, CUSTOMER))
    assert "grüße 👋" in text


def test_a_naive_timestamp_is_read_as_local_time_and_kept_in_utc():
    local = datetime(2026, 1, 1, 12)  # noqa: DTZ001 - the case under test
    naive = Message("x", local, AGENT)
    assert naive.timestamp.tzinfo is UTC
    assert naive.timestamp == local.astimezone(UTC)
    assert from_json(to_json(naive), Message) == naive
    aware = Message("x", datetime(2026, 1, 1, 12, tzinfo=UTC), AGENT)
    assert from_json(to_json(aware), Message).timestamp.utcoffset() == timedelta(0)
    # A naive ISO string in the data is local time too.
    data = {"content": "x", "timestamp": "2026-01-01T12:00:00", "sender": "agent"}
    assert from_dict(data, Message) == naive


def test_to_dict_takes_only_attrs_values():
    with pytest.raises(TypeError, match="to_dict takes an attrs value; got int"):
        to_dict(5)


def test_from_dict_refuses_unknown_keys_naming_them():
    with pytest.raises(ConfigError, match="extra") as caught:
        from_dict({"name": "resolved", "description": "", "colour": "red"}, Outcome)
    assert "colour" in str(caught.value)


def test_from_dict_reports_missing_fields_with_their_path():
    with pytest.raises(ConfigError, match=r"Message\.timestamp"):
        from_dict({"content": "x", "sender": "agent"}, Message)


def test_from_dict_reports_nested_errors_with_their_path():
    data = {"messages": [{"content": "x", "timestamp": 3, "sender": "agent"}]}
    with pytest.raises(ConfigError, match=r"Conversation\.messages\[0\]\.timestamp"):
        from_dict(data, Conversation)


def test_from_dict_keeps_clientsim_validation_messages():
    with pytest.raises(ConfigError, match="'  '") as caught:
        from_dict({"role": "customer", "description": "  "}, Intent)
    assert "description must be a non-empty string" in str(caught.value)


def test_from_json_refuses_invalid_json():
    with pytest.raises(ConfigError, match="cannot build Message: not valid JSON"):
        from_json("{", Message)


@pytest.mark.parametrize("data", [None, "text", [1, 2], 5])
def test_from_dict_refuses_data_that_is_not_a_mapping(data):
    # from_dict promises ConfigError when the data does not fit; no other error
    # type may escape.
    with pytest.raises(ConfigError, match="cannot build Message"):
        from_dict(data, Message)


def test_from_json_refuses_json_that_is_not_an_object():
    with pytest.raises(ConfigError, match="cannot build TokenUsage"):
        from_json("[1, 2]", TokenUsage)


@pytest.mark.parametrize(
    ("data", "named", "allowed"),
    [
        (
            {"content": "x", "timestamp": "2026-01-01T12:00:00", "sender": "bogus"},
            "'bogus'",
            ["'agent'", "'customer'"],
        ),
        (
            {"content": "x", "timestamp": "yesterday", "sender": "agent"},
            "'yesterday'",
            ["ISO 8601"],
        ),
    ],
    ids=["role", "timestamp"],
)
def test_from_dict_errors_name_the_bad_value_and_what_is_allowed(data, named, allowed):
    with pytest.raises(ConfigError) as caught:
        from_dict(data, Message)
    message = str(caught.value)
    assert named in message
    for word in allowed:
        assert word in message


def test_from_dict_does_not_truncate_fractional_token_counts():
    # 1.5 tokens is not a count; silently building input_tokens=1 loses data.
    with pytest.raises(ConfigError, match="input_tokens"):
        from_dict({"input_tokens": 1.5}, TokenUsage)


def test_config_errors_from_models_are_clientsim_errors():
    with pytest.raises(ClientSimError):
        from_json("not json", Outcomes)


# ----- stamped: Message's fast path gives what Message gives --------------------------

_LOW = datetime(1000, 1, 1)  # noqa: DTZ001 - hypothesis takes naive bounds
_HIGH = datetime(9000, 1, 1)  # noqa: DTZ001 - hypothesis takes naive bounds
_ANY_TIMESTAMP = st.one_of(
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(min_value=_LOW, max_value=_HIGH),
    st.datetimes(
        min_value=_LOW,
        max_value=_HIGH,
        timezones=st.builds(
            timezone, st.timedeltas(timedelta(hours=-23), timedelta(hours=23))
        ),
    ),
    st.just("2026-01-05"),
    st.none(),
)


@given(
    content=st.one_of(st.text(), st.integers(), st.none()),
    timestamp=_ANY_TIMESTAMP,
    sender=st.one_of(st.sampled_from(list(ParticipantRole)), st.just("customer")),
)
def test_stamped_is_message_built_faster(
    content: object, timestamp: object, sender: object
) -> None:
    try:
        expected = Message(content, timestamp, sender)  # type: ignore[arg-type]
    except ClientSimError as exc:
        with pytest.raises(type(exc), match=re.escape(str(exc))):
            stamped(content, timestamp, sender)  # type: ignore[arg-type]
        return
    got = stamped(content, timestamp, sender)  # type: ignore[arg-type]
    assert got == expected
    assert type(got) is Message
    assert got.timestamp.tzinfo is UTC
    assert hash(got) == hash(expected)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        got.content = "changed"  # type: ignore[misc]
