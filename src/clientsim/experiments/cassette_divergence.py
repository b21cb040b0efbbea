"""Where a live agent went another way than its recording, told side by side.

A ``replay="simulator"`` cassette calls the agent live and replays the simulated
side. When a replayed model call is asked something else than in the recording, this
module finds the first agent turn whose reply differs from the recorded one and
writes the recorded and the new reply in two columns. It reads the recorded turns
leniently (the message contents, failures and hang-ups of each turn), so a turn
recorded with more detail than it looks at compares the same.

Example:
    >>> recorded = [{"turn": 1, "sent": "hi", "events": [
    ...     {"type": "message", "content": "Your refund is on its way."}]}]
    >>> live = [{"turn": 1, "sent": "hi", "events": [
    ...     {"type": "message", "content": "Let me transfer you..."}]}]
    >>> turn = first_divergence(recorded, live)
    >>> turn.number, turn.sent
    (1, 'hi')
    >>> print(side_by_side(turn.recorded, turn.now, width=26))
        recorded                   | now
        ---------------------------+---------------------------
        Your refund is on its way. | Let me transfer you...
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Mapping, Sequence
from typing import Final

import attrs


__all__ = ["DivergedTurn", "first_divergence", "reply_text", "side_by_side"]

_WIDTH: Final = 38
_MAX_LINES: Final = 6
_NOTHING: Final = "(no turn)"


@attrs.frozen
class DivergedTurn:
    """The first agent turn whose reply differs from the recorded one.

    Attributes:
        number: the turn's number (0: before the customer's first message; *k*: the
            reply to the customer's *k*-th message), or its position among model
            answers for a simulated agent.
        sent: what the customer sent before it, if known.
        recorded: the recorded reply, as text (``"(no turn)"`` if none was).
        now: the new reply, as text (``"(no turn)"`` if the run has none).
    """

    number: int
    sent: str | None
    recorded: str
    now: str


def reply_text(entry: object) -> str:
    """What an agent's turn (or a model's answer) said, as readable text."""
    return "\n".join(_said(entry)) or "(nothing)"


def _said(entry: object) -> list[str]:
    """What an agent's turn (or a model's answer) said, one line per event."""
    if not isinstance(entry, Mapping):
        return [repr(entry)]
    if "events" in entry or "open_error" in entry or "closed" in entry:
        return _turn_said(entry)
    data = entry.get("data")  # a recorded model answer (LangChain's message dict)
    if isinstance(data, Mapping):
        content = data.get("content")
        return [content if isinstance(content, str) else repr(content)]
    return [repr(dict(entry))]


def _turn_said(turn: Mapping[object, object]) -> list[str]:
    said: list[str] = []
    events = turn.get("events")
    for event in events if isinstance(events, list) else []:
        if not isinstance(event, Mapping):
            continue
        kind = event.get("type")
        if kind == "message":
            said.append(str(event.get("content", "")))
        elif kind == "failure":
            said.append(f"[the agent failed: {event.get('message', '')}]")
    for key, what in (
        ("open_error", "opening the session failed"),
        ("send_error", "sending failed"),
    ):
        error = turn.get(key)
        if isinstance(error, Mapping):
            said.append(f"[{what}: {error.get('message', '')}]")
    if turn.get("closed") is True:
        said.append("[the agent closed the session]")
    return said


def _sent(entry: object) -> str | None:
    if isinstance(entry, Mapping):
        sent = entry.get("sent")
        return sent if isinstance(sent, str) else None
    return None


def _number(entry: object, position: int) -> int:
    if isinstance(entry, Mapping):
        turn = entry.get("turn")
        if isinstance(turn, int) and not isinstance(turn, bool):
            return turn
    return position


def first_divergence(
    recorded: Sequence[object], live: Sequence[object], *, partial_last: bool = False
) -> DivergedTurn | None:
    """The first turn of ``live`` whose reply differs from ``recorded``'s, or ``None``.

    Args:
        recorded: the recorded turns (or model answers), in order.
        live: the turns of the run so far, in order.
        partial_last: the last live turn is still being read: it differs only if it
            is not the beginning of the recorded one.
    """
    for position, entry in enumerate(live):
        now = _said(entry)
        last = partial_last and position == len(live) - 1
        if position >= len(recorded):
            if last and not now:
                return None  # nothing read yet of a turn the recording lacks
            return DivergedTurn(
                _number(entry, position), _sent(entry), _NOTHING, reply_text(entry)
            )
        then = _said(recorded[position])
        same = then[: len(now)] == now if last else then == now
        if not same:
            return DivergedTurn(
                _number(entry, position),
                _sent(entry),
                reply_text(recorded[position]),
                reply_text(entry),
            )
    return None


def _column(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines.extend(textwrap.wrap(paragraph, width) or [""])
    if len(lines) > _MAX_LINES:
        lines = [*lines[: _MAX_LINES - 1], "[...]"]
    return lines


def side_by_side(recorded: str, now: str, *, width: int = _WIDTH) -> str:
    """The two replies in two columns of ``width`` characters, wrapped and trimmed."""
    left, right = _column(recorded, width), _column(now, width)
    rows = [
        f"    {'recorded':<{width}} | now",
        f"    {'-' * (width + 1)}+{'-' * (width + 1)}",
    ]
    rows.extend(
        f"    {a:<{width}} | {b}".rstrip()
        for a, b in itertools.zip_longest(left, right, fillvalue="")
    )
    return "\n".join(rows)
