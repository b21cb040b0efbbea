"""Timestamps meet as UTC: a naive one is local time, whatever the machine's zone.

Each test that depends on the local zone sets it (``TZ`` and ``time.tzset()``) to a
fixed offset east or west of UTC, so what it checks does not depend on the machine.
POSIX zone strings count west as positive: ``"UTC-10"`` is ten hours *ahead* of UTC.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone, tzinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientsim import (
    FullSimulationRunner,
    Message,
    MessageDraft,
    Outcome,
    Outcomes,
    Participant,
    ParticipantRole,
    simulate,
)
from clientsim.errors import ConfigError, InvalidTypeError
from clientsim.models import (
    ClientRequest,
    Conversation,
    ConversationRecord,
    ConversationResult,
    GridCell,
    RunStatus,
    TaskRequirement,
    as_utc,
    from_json,
    to_json,
)
from clientsim.store import InMemoryStore, SimulationInfo, SQLiteStore


CUSTOMER = ParticipantRole.CUSTOMER
AGENT = ParticipantRole.AGENT

#: POSIX zone -> its offset from UTC. No daylight saving, so the offset is fixed.
ZONES = {
    "UTC-10": timedelta(hours=10),
    "UTC+05": timedelta(hours=-5),
    "UTC-05:30": timedelta(hours=5, minutes=30),
    "UTC0": timedelta(0),
}


def _set_zone(zone: str | None) -> None:
    if zone is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = zone
    time.tzset()


@pytest.fixture(name="zone", params=sorted(ZONES), scope="module")
def _zone(request: pytest.FixtureRequest) -> Iterator[timedelta]:
    """The process's local zone set to a fixed offset; gives that offset."""
    before = os.environ.get("TZ")
    _set_zone(request.param)
    try:
        yield ZONES[request.param]
    finally:
        _set_zone(before)


# -- the converter ---------------------------------------------------------------------

# A year clear of each end of the calendar, so a shift of up to a day stays in range.
_naive = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31))  # noqa: DTZ001
_offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@given(naive=_naive)
def test_a_naive_timestamp_is_local_time(zone, naive):
    stamp = as_utc(naive)
    assert stamp.tzinfo is UTC
    assert stamp == naive.replace(tzinfo=timezone(zone))
    assert stamp.replace(tzinfo=None) == naive - zone


@given(naive=_naive, offset=_offsets)
def test_an_aware_timestamp_keeps_its_instant(zone, naive, offset):
    aware = naive.replace(tzinfo=offset)
    stamp = as_utc(aware)
    assert stamp.tzinfo is UTC
    assert stamp == aware
    assert stamp.replace(tzinfo=None) == naive - offset.utcoffset(None)
    assert as_utc(stamp) is stamp


@given(first=_naive, second=_naive, offset=_offsets, naive_first=st.booleans())
def test_naive_and_aware_compare_as_the_instants_they_are(
    zone, first, second, offset, naive_first
):
    """One naive, one aware: they compare and subtract as the instants they name."""
    local = timezone(zone)
    a = first if naive_first else first.replace(tzinfo=offset)
    b = second.replace(tzinfo=offset) if naive_first else second
    instant_a = a.replace(tzinfo=local) if a.tzinfo is None else a
    instant_b = b.replace(tzinfo=local) if b.tzinfo is None else b
    one, two = Message("a", a, CUSTOMER), Message("b", b, AGENT)
    assert (one.timestamp < two.timestamp) == (instant_a < instant_b)
    assert (one.timestamp == two.timestamp) == (instant_a == instant_b)
    assert two.timestamp - one.timestamp == instant_b - instant_a
    assert from_json(to_json(one), Message) == one


def test_a_zone_that_gives_no_offset_is_read_as_local_time(zone):
    class NoOffset(tzinfo):  # a tzinfo that does not know its offset
        def utcoffset(self, dt: datetime | None) -> None:
            return None

    stamp = as_utc(datetime(2026, 3, 1, 12, tzinfo=NoOffset()))
    assert stamp == datetime(2026, 3, 1, 12, tzinfo=timezone(zone))


def test_the_ends_of_the_calendar(zone):
    first, last = datetime.min, datetime.max  # noqa: DTZ901 - the case under test
    # Local time at the first instant is before it in UTC east of Greenwich, and at
    # the last instant after it west of Greenwich: out of range, refused by name.
    for naive, fits in ((first, zone <= timedelta(0)), (last, zone >= timedelta(0))):
        if fits:
            assert as_utc(naive) == naive.replace(tzinfo=timezone(zone))
        else:
            with pytest.raises(ConfigError, match="out of range once converted to UTC"):
                as_utc(naive)
    ahead = datetime.min.replace(tzinfo=timezone(timedelta(hours=3)))
    with pytest.raises(ConfigError, match="years 1 to 9999 in UTC"):
        Message("x", ahead, CUSTOMER)


def test_a_timestamp_that_is_not_a_datetime_is_refused_by_name():
    with pytest.raises(
        InvalidTypeError, match="a timestamp must be a datetime; got str"
    ):
        as_utc("2026-01-01")  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="timestamp must be datetime; got int"):
        Message("x", 5, CUSTOMER)  # type: ignore[arg-type]
    requirement = TaskRequirement(title="t", description="d")
    with pytest.raises(InvalidTypeError, match="created_at must be datetime or None"):
        ClientRequest(
            request_id="r",
            client_id="c",
            requirement=requirement,
            created_at="yesterday",  # type: ignore[arg-type]
        )


def test_every_timestamp_field_of_a_value_is_kept_in_utc(zone):
    naive = datetime(2026, 1, 5, 9, 0)  # noqa: DTZ001 - the case under test
    expected = naive.replace(tzinfo=timezone(zone))
    request = ClientRequest(
        request_id="r",
        client_id="c",
        requirement=TaskRequirement(title="t", description="d"),
        created_at=naive,
        updated_at=naive,
    )
    assert (request.created_at, request.updated_at) == (expected, expected)
    assert request.transition(
        request.status.TRIAGING, at=naive + timedelta(hours=1)
    ).updated_at == expected + timedelta(hours=1)
    record = ConversationRecord(
        run_id="run",
        cell=GridCell(input_id="i", persona_id="p", iteration=0),
        seed=1,
        status=RunStatus.DONE,
        started_at=naive,
    )
    assert record.started_at == expected
    assert record.started_at.tzinfo is UTC
    info = SimulationInfo(
        simulation_id="s",
        status="done",
        metadata={},
        created_at=naive,
        updated_at=naive,
    )
    assert (info.created_at.tzinfo, info.updated_at) == (UTC, expected)


async def test_a_store_round_trip_keeps_the_instant(zone, tmp_path):
    naive = datetime(2026, 1, 5, 9, 0)  # noqa: DTZ001 - the case under test
    message = Message("hi", naive, CUSTOMER)
    record = ConversationRecord(
        run_id="run",
        cell=GridCell(input_id="i", persona_id="p", iteration=0),
        seed=1,
        status=RunStatus.DONE,
        started_at=naive,
        result=ConversationResult(Conversation((message,))),
    )
    for store in (InMemoryStore(), SQLiteStore(tmp_path / "runs.db")):
        async with store:
            await store.register_if_absent("run")
            await store.save_conversation(record)
            (back,) = await store.conversations("run")
        assert back == record
        assert back.started_at == naive.replace(tzinfo=timezone(zone))
        assert back.result is not None
        assert back.result.conversation.messages[0].timestamp.tzinfo is UTC


# -- a participant that stamps with datetime.now(), as seed 004's example does ----------


class NaiveNow(Participant):
    """Says its lines in turn, each stamped with the naive local ``datetime.now()``."""

    def __init__(self, role: ParticipantRole, lines: list[str]) -> None:
        self.role = role
        self.lines = lines

    def _next_line(self, conversation: Conversation) -> str | None:
        said = sum(1 for m in conversation.messages if m.content in self.lines)
        return self.lines[said] if said < len(self.lines) else None

    async def get_next_message(self, conversation: Conversation) -> Message | None:
        line = self._next_line(conversation)
        if line is None:
            return None
        return Message(line, datetime.now(), self.role)  # noqa: DTZ005


class AwareNow(NaiveNow):
    """The same, stamped with the aware ``datetime.now(UTC)``."""

    async def get_next_message(self, conversation: Conversation) -> Message | None:
        line = self._next_line(conversation)
        if line is None:
            return None
        return Message(line, datetime.now(UTC), self.role)


OUTCOMES = Outcomes((Outcome("resolved", "The customer's issue was resolved"),))


async def test_a_naive_participant_runs_to_the_end_against_the_default_clock(zone):
    """Mixed with an aware participant, off by hours if naive were taken as UTC."""
    before = datetime.now(UTC)
    runner = FullSimulationRunner(
        customer=AwareNow(CUSTOMER, ["My card was charged twice", "Thanks, bye"]),
        agent=NaiveNow(AGENT, ["Let me look at that", "I refunded one charge"]),
        initial_message=MessageDraft("Hello, I need help", CUSTOMER),
        intent=None,
        outcomes=OUTCOMES,
    )
    result = await runner.run()
    after = datetime.now(UTC)
    assert result.error is None
    assert result.ending is not None
    assert result.ending.reason == "both_passed"
    messages = result.conversation.messages
    assert [m.content for m in messages] == [
        "Hello, I need help",
        "Let me look at that",
        "My card was charged twice",
        "I refunded one charge",
        "Thanks, bye",
    ]
    stamps = [m.timestamp for m in messages]
    assert all(stamp.tzinfo is UTC for stamp in stamps)
    assert stamps == sorted(stamps)
    assert before <= stamps[0]
    assert stamps[-1] <= after


async def test_a_naive_agent_through_simulate(zone):
    runs = await simulate(
        NaiveNow(AGENT, ["Happy to help", "Done", "Anything else?"]),
        intents=["reset my password"],
        runs=2,
        max_messages=6,
    )
    for result in runs.results:
        assert result.error is None, result.error
        stamps = [m.timestamp for m in result.conversation.messages]
        assert all(stamp.tzinfo is UTC for stamp in stamps)
        assert stamps == sorted(stamps)
