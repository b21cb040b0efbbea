"""Timestamps are compared as UTC: the one rule for every value that holds a time.

A participant, a session or a store may hand clientsim a naive ``datetime`` (seed
004's own example stamps messages with ``datetime.now()``) or an aware one in any
zone. Every timestamp field of a value (:attr:`Message.timestamp
<clientsim.models.Message.timestamp>`, a request's ``created_at``, a record's
``started_at``, ...) goes through :func:`as_utc` when the value is built, so two
timestamps can always be compared and subtracted, and a round trip through JSON
gives back the same instant:

- a naive datetime is read as the machine's local time and converted to UTC (never
  refused, never taken to be UTC already);
- an aware datetime in another zone is converted to the same instant in UTC;
- an aware UTC datetime is kept as it is.

Example:
    >>> from datetime import UTC, datetime, timedelta, timezone
    >>> as_utc(datetime(2026, 1, 5, 9, 0, tzinfo=timezone(timedelta(hours=2))))
    datetime.datetime(2026, 1, 5, 7, 0, tzinfo=datetime.timezone.utc)
    >>> as_utc(datetime.now()).tzinfo is UTC
    True
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from clientsim.errors import ConfigError, InvalidTypeError


__all__ = ["as_utc", "timestamp_field", "timestamp_field_or_none"]


_PROBE: Final = timedelta(days=3)


def as_utc(value: datetime) -> datetime:
    """``value`` as a timezone-aware datetime in UTC.

    A naive ``value`` is read as the machine's local time (what ``datetime.now()``
    gives); an aware one is converted to the same instant in UTC.

    Raises:
        InvalidTypeError: ``value`` is not a ``datetime``.
        ConfigError: ``value`` in UTC falls outside the years 1 to 9999.
    """
    if not isinstance(value, datetime):
        raise InvalidTypeError(
            f"a timestamp must be a datetime; got {type(value).__name__} {value!r}"
        )
    return _utc(value)


def timestamp_field(value: datetime) -> datetime:
    """An attrs converter: :func:`as_utc` for a timestamp field.

    Anything that is not a ``datetime`` is left for the field's validator, which
    names the field.
    """
    try:
        if value.tzinfo is UTC:  # the common case, first: clientsim's own clocks
            return value
    except AttributeError:
        return value  # not a datetime: the field's validator names the field
    if not isinstance(value, datetime):
        return value  # type: ignore[unreachable]  # a time, say: the same
    return _utc(value)


def timestamp_field_or_none(value: datetime | None) -> datetime | None:
    """An attrs converter: :func:`timestamp_field` for an optional timestamp."""
    if not isinstance(value, datetime):
        return value
    return _utc(value)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is UTC:  # the common case: clientsim's own clocks
        return value
    try:
        if value.utcoffset() is None:  # naive (or a zone that gives no offset)
            return _local_to_utc(value.replace(tzinfo=None))
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ConfigError(
            f"the timestamp {value.isoformat()} is out of range once converted to "
            "UTC; timestamps must lie within the years 1 to 9999 in UTC"
        ) from None


def _local_to_utc(naive: datetime) -> datetime:
    try:
        return naive.astimezone(UTC)
    except (OverflowError, ValueError):
        # The platform looks a day either side to find the local offset, so it fails
        # at the ends of the calendar; use the offset a few days inward there.
        probe = naive + _PROBE if naive.year == 1 else naive - _PROBE
        offset = probe.astimezone().utcoffset()
        if offset is None:  # pragma: no cover - a local zone always has an offset
            raise
        return (naive - offset).replace(tzinfo=UTC)
