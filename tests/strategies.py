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
    Conversation,
    ConversationResult,
    Ending,
    ErrorRecord,
    Intent,
    Message,
    Outcome,
    Outcomes,
    ParticipantRole,
    TokenUsage,
    TokenUsageReport,
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

messages = st.builds(Message, content=st.text(), timestamp=datetimes, sender=roles)


@st.composite
def message_lists(draw: st.DrawFn, max_size: int = 8) -> list[Message]:
    """Messages with naive, aware or mixed timestamps (all kept in UTC)."""
    return draw(
        st.lists(
            st.builds(Message, content=st.text(), timestamp=datetimes, sender=roles),
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

conversation_results = st.builds(
    ConversationResult,
    conversation=conversations,
    duration_seconds=st.floats(min_value=0, allow_nan=False, allow_infinity=False),
    ending=st.none() | endings,
    token_usage=token_usage_reports,
    error=st.none() | error_records,
)
