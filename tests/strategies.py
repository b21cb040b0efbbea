"""Hypothesis strategies for every clientsim value type.

Aware datetimes use fixed UTC offsets: an ISO 8601 string carries an offset, not an
IANA zone, so a fixed offset is what a round trip through JSON can give back.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from hypothesis import strategies as st

from clientsim.models import (
    ClientFeedback,
    Conversation,
    ConversationResult,
    CriteriaVerdict,
    CriterionVerdict,
    Ending,
    ErrorRecord,
    Intent,
    Message,
    Outcome,
    Outcomes,
    ParticipantRole,
    Priority,
    ReviewStageResult,
    ReviewVerdict,
    Task,
    TaskError,
    TaskRequirement,
    TaskSource,
    TaskStatus,
    TaskTimings,
    TaskType,
    TokenUsage,
    TokenUsageReport,
    ToolCall,
)


#: The outcome-name grammar the issue specifies: lowercase words of a-z and digits,
#: joined by single '_' or '-'.
SLUG_PATTERN: Final = re.compile(r"[a-z0-9]+(?:[_-][a-z0-9]+)*")

_WORD: Final = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1)

roles = st.sampled_from(ParticipantRole)


@st.composite
def slugs(draw: st.DrawFn) -> str:
    """A valid outcome name: words joined by single separators."""
    words = draw(st.lists(_WORD, min_size=1, max_size=4))
    separators = draw(
        st.lists(st.sampled_from("_-"), min_size=len(words), max_size=len(words))
    )
    name = words[0]
    for separator, word in zip(separators[1:], words[1:], strict=True):
        name += separator + word
    return name


invalid_slugs = st.one_of(
    st.text().filter(lambda s: SLUG_PATTERN.fullmatch(s) is None),
    st.sampled_from(
        [
            "",
            "Resolved",
            "sale completed",
            "_leading",
            "trailing-",
            "double__underscore",
            "mixed_-sep",
            "resolved\n",
            "caf\u00e9",
            "\uff52esolved",  # a fullwidth letter
        ]
    ),
)

non_empty_text = st.text(min_size=1).filter(lambda s: s.strip() != "")

outcomes = st.builds(Outcome, name=slugs(), description=st.text())


@st.composite
def outcome_lists(draw: st.DrawFn, max_size: int = 6) -> list[Outcome]:
    """Outcomes with unique names."""
    names = draw(st.lists(slugs(), max_size=max_size, unique=True))
    return [Outcome(name=name, description=draw(st.text())) for name in names]


outcomes_collections = st.builds(Outcomes, outcomes=outcome_lists())

intents = st.builds(Intent, role=roles, description=non_empty_text)

# Whole-minute offsets, as real zones use. (CPython 3.11's fromisoformat reads
# "+00:00:00.000001" back as UTC, so sub-second offsets cannot round-trip anyway.)
_offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
# A value keeps its timestamps in UTC (a naive one is read as local time), so a
# timestamp must stay within years 1-9999 once moved by up to a day: keep a year clear
# of each end.
_FIRST: Final = datetime(2, 1, 1)  # noqa: DTZ001 - a bound for naive and aware alike
_LAST: Final = datetime(9998, 12, 31)  # noqa: DTZ001
naive_datetimes = st.datetimes(min_value=_FIRST, max_value=_LAST)
aware_datetimes = st.datetimes(
    min_value=_FIRST, max_value=_LAST, timezones=st.one_of(st.just(UTC), _offsets)
)
datetimes = st.one_of(naive_datetimes, aware_datetimes)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
tool_arguments = st.dictionaries(st.text(max_size=8), json_values, max_size=4)
tool_calls = st.builds(
    ToolCall,
    name=st.text(min_size=1, max_size=12).filter(str.strip),
    arguments=tool_arguments,
    id=st.none() | st.text(max_size=12),
    result=st.none() | st.text(max_size=30),
)


@st.composite
def _message(draw: st.DrawFn) -> Message:
    sender = draw(roles)
    calls = (
        draw(st.lists(tool_calls, max_size=3))
        if sender is ParticipantRole.AGENT
        else []
    )
    return Message(draw(st.text()), draw(datetimes), sender, tool_calls=calls)


messages = _message()


@st.composite
def message_lists(draw: st.DrawFn, max_size: int = 8) -> list[Message]:
    """Messages with naive, aware or mixed timestamps (all kept in UTC)."""
    return draw(
        st.lists(
            messages,
            max_size=max_size,
        )
    )


conversations = st.builds(
    Conversation, messages=message_lists(), outcome=st.none() | outcomes
)

_counts = st.integers(min_value=0, max_value=2**53)

token_usages = st.builds(
    TokenUsage,
    input_tokens=_counts,
    output_tokens=_counts,
    total_tokens=_counts,
    calls=_counts,
)

token_usage_reports = st.builds(
    TokenUsageReport, customer=token_usages, agent=token_usages, judge=token_usages
)

endings = st.builds(
    Ending,
    reason=st.text(),
    detail=st.text(),
    message_count=st.integers(min_value=0, max_value=10_000),
)

error_records = st.builds(
    ErrorRecord, source=st.text(), type=st.text(), message=st.text()
)

criteria_verdicts = st.builds(
    CriteriaVerdict,
    verdicts=st.lists(
        st.builds(
            CriterionVerdict,
            criterion=st.text(),
            passed=st.booleans(),
            reason=st.text(),
            messages=st.lists(st.integers(min_value=0, max_value=100), max_size=4),
        ),
        max_size=3,
    ),
)

conversation_results = st.builds(
    ConversationResult,
    conversation=conversations,
    duration_seconds=st.floats(min_value=0, allow_nan=False, allow_infinity=False),
    ending=st.none() | endings,
    token_usage=token_usage_reports,
    error=st.none() | error_records,
    criteria=st.none() | criteria_verdicts,
)


# -- the client simulation's values (seed 000) ----------------------------------------

_words = st.text(min_size=1, max_size=20).filter(lambda s: s.strip() != "")
_finite = st.floats(allow_nan=False, allow_infinity=False)

#: JSON-like data: what a task's free-form metadata holds to round-trip.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | _finite | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=4)

task_requirements = st.builds(
    TaskRequirement,
    title=_words,
    description=_words,
    task_type=st.sampled_from(TaskType),
    priority=st.sampled_from(Priority),
    complexity=st.integers(min_value=1, max_value=5),
    acceptance_criteria=st.lists(_words, max_size=3).map(tuple),
    domain=_words,
)

client_feedbacks = st.builds(
    ClientFeedback,
    accepted=st.booleans(),
    reason=st.text(max_size=20),
    scores=st.none()
    | st.dictionaries(st.text(max_size=8), st.floats(min_value=0, max_value=1)),
    unmet_criteria=st.lists(st.text(max_size=10), max_size=3).map(tuple),
    client_id=st.none() | _words,
)

review_stage_results = st.builds(
    ReviewStageResult,
    stage=_words,
    verdict=st.sampled_from(ReviewVerdict),
    reason=st.none() | st.text(max_size=20),
    feedback=st.none() | client_feedbacks,
)

_seconds = st.floats(min_value=0, max_value=1e6)

task_timings = st.builds(
    TaskTimings,
    work_seconds=_seconds,
    review_seconds=_seconds,
    stage_seconds=st.dictionaries(_words, _seconds, max_size=3),
)

task_errors = st.builds(
    TaskError,
    type=st.text(max_size=20),
    message=st.text(max_size=40),
    status=st.sampled_from(TaskStatus),
)

tasks = st.builds(
    Task,
    task_id=_words,
    requirement=task_requirements,
    source=st.sampled_from(TaskSource),
    project=_words,
    status=st.sampled_from(TaskStatus),
    assignee=st.none() | _words,
    deliverable=st.none() | st.text(max_size=40),
    rework_count=st.integers(min_value=0, max_value=5),
    metadata=json_objects,
    request_id=st.none() | _words,
    history=st.lists(st.sampled_from(TaskStatus), max_size=4).map(tuple),
    timings=st.none() | task_timings,
    rework_feedback=st.lists(review_stage_results, max_size=2).map(tuple),
    error=st.none() | task_errors,
    reason=st.none() | st.text(max_size=20),
)
