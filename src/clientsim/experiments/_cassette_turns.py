"""What a cassette keeps of the agent's turns: the events read, the failures, and
their JSON form. Private to the cassette modules of :mod:`clientsim.experiments`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import attrs

from clientsim.channels.base import (
    AgentInterrupted,
    SessionEvent,
    TurnEnded,
)
from clientsim.errors import (
    AgentTimeoutError,
    ChannelError,
    SessionClosedError,
    is_transient,
)
from clientsim.models.tool_calls import tool_call_json


_SEND_FAILED: Final = "sending to the agent failed: "
_CHANNEL_ERRORS: Final[Mapping[str, type[ChannelError]]] = {
    f"{kind.__module__}.{kind.__qualname__}": kind
    for kind in (ChannelError, SessionClosedError, AgentTimeoutError)
}


@attrs.frozen
class _ErrorData:
    """A failure as a cassette keeps it: the class's qualified name, the message, the
    HTTP status it came with and whether it was transient.

    ``status`` and ``transient`` are ``None`` when read from a cassette recorded before
    they were kept: the replayed error is then classified as it always was.
    """

    name: str
    message: str
    channel: bool
    status: int | None = None
    transient: bool | None = None

    @classmethod
    def of(cls, exc: BaseException) -> _ErrorData:
        kind = type(exc)
        status = exc.status if isinstance(exc, ChannelError) else None
        return cls(
            name=f"{kind.__module__}.{kind.__qualname__}",
            message=str(exc),
            channel=isinstance(exc, ChannelError),
            status=status,
            transient=is_transient(exc),
        )

    @classmethod
    def parse(cls, data: object) -> _ErrorData:
        if not isinstance(data, Mapping):
            raise TypeError("an error must be an object")
        name, message, channel = (
            data.get("error"),
            data.get("message"),
            data.get("channel"),
        )
        if not (
            isinstance(name, str)
            and isinstance(message, str)
            and isinstance(channel, bool)
        ):
            raise TypeError(
                "an error needs 'error' and 'message' strings and 'channel'"
            )
        status, transient = data.get("status"), data.get("transient")
        if status is not None and (
            not isinstance(status, int) or isinstance(status, bool)
        ):
            raise TypeError("an error's 'status' must be an int or null")
        if transient is not None and not isinstance(transient, bool):
            raise TypeError("an error's 'transient' must be a bool or null")
        return cls(
            name=name,
            message=message,
            channel=channel,
            status=status,
            transient=transient,
        )

    def to_json(self) -> dict[str, object]:
        return {
            "error": self.name,
            "message": self.message,
            "channel": self.channel,
            "status": self.status,
            "transient": self.transient,
        }

    def rebuild(self, prefix: str) -> ChannelError:
        """The error to raise in replay: clientsim's channel errors keep their class;
        others become a ChannelError worded as the runner words them. The status and
        the transient flag are the recorded ones."""
        kind = _CHANNEL_ERRORS.get(self.name)
        if kind is None and self.channel:
            kind = ChannelError
        if kind is not None:
            return kind(self.message, status=self.status, transient=self.transient)
        return ChannelError(
            f"{prefix}{self.name.rpartition('.')[2]}: {self.message}",
            status=self.status,
            transient=self.transient,
        )


@attrs.frozen
class _Reply:
    """A replayed agent message that carried tool calls (kept as their JSON)."""

    content: str
    tool_calls: tuple[dict[str, object], ...]


_Event = str | _Reply | TurnEnded | AgentInterrupted | _ErrorData
"""A replayed event: a message's content (with its tool calls, if it had any), an
end of turn, an interrupt, a failure."""


@attrs.frozen
class _Turn:
    """One recorded agent turn, checked."""

    turn: int
    sent: str | None
    events: tuple[_Event, ...]
    closed: bool
    send_error: _ErrorData | None
    open_error: _ErrorData | None

    @classmethod
    def parse(cls, data: object) -> _Turn:
        if not isinstance(data, Mapping):
            raise TypeError("a turn must be an object")
        turn, sent, closed = (
            data.get("turn"),
            data.get("sent"),
            data.get("closed", False),
        )
        if not isinstance(turn, int) or isinstance(turn, bool) or turn < 0:
            raise TypeError("'turn' must be an int >= 0")
        if sent is not None and not isinstance(sent, str):
            raise TypeError("'sent' must be a string or null")
        if not isinstance(closed, bool):
            raise TypeError("'closed' must be a bool")
        raw_events = data.get("events", [])
        if not isinstance(raw_events, list):
            raise TypeError("'events' must be a list")
        send_error, open_error = data.get("send_error"), data.get("open_error")
        return cls(
            turn=turn,
            sent=sent,
            events=tuple(_parse_event(event) for event in raw_events),
            closed=closed,
            send_error=None if send_error is None else _ErrorData.parse(send_error),
            open_error=None if open_error is None else _ErrorData.parse(open_error),
        )


def _parse_event(data: object) -> _Event:
    if not isinstance(data, Mapping):
        raise TypeError("an event must be an object")
    kind = data.get("type")
    if kind == "end_of_turn":
        return TurnEnded()
    if kind == "failure":
        return _ErrorData.parse(data)
    if kind == "interrupt":
        return AgentInterrupted(data.get("payload"))
    content, calls = data.get("content"), data.get("tool_calls")
    if kind == "message" and isinstance(content, str):
        if calls is None:
            return content
        if isinstance(calls, list) and all(isinstance(c, Mapping) for c in calls):
            return _Reply(content, tuple(dict(call) for call in calls))
        raise TypeError("a message's 'tool_calls' must be a list of objects")
    raise TypeError(
        "an event must be a 'message' with a 'content' string, an 'end_of_turn', an "
        "'interrupt' or a 'failure'"
    )


def _event_json(event: SessionEvent) -> dict[str, object]:
    if isinstance(event, TurnEnded):
        return {"type": "end_of_turn"}
    if isinstance(event, AgentInterrupted):
        return {"type": "interrupt", "payload": event.payload}
    if event.tool_calls:
        return {
            "type": "message",
            "content": event.content,
            "tool_calls": [tool_call_json(call) for call in event.tool_calls],
        }
    return {"type": "message", "content": event.content}
