"""The agent's side of the cassette: :class:`CassetteChannel` and its sessions.

The module docs of :mod:`clientsim.experiments.cassette` describe how a turn is
recorded and replayed.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from types import TracebackType
from typing import Self, final

import anyio

from clientsim.channels.base import (
    AgentInterrupted,
    Channel,
    QueueSession,
    Session,
    SessionEvent,
    TurnEnded,
    now,
)
from clientsim.errors import (
    CassetteMissError,
    ChannelError,
    ClientSimError,
    ConfigError,
    InvalidTypeError,
    SessionClosedError,
)
from clientsim.experiments._cassette_turns import (
    _SEND_FAILED,
    _ErrorData,
    _event_json,
    _Reply,
    _Turn,
)
from clientsim.experiments.cassette_scope import (
    AGENT_KIND,
    AgentCassetteMissError,
    CassetteScope,
    _where,
)
from clientsim.models import Conversation, Message, ParticipantRole
from clientsim.models.conversation import stamped
from clientsim.models.tool_calls import tool_call_from_json


__all__ = ["CassetteChannel"]


class _TurnRecorder:
    """Groups what the reader read into turns and puts one entry per turn."""

    def __init__(self, scope: CassetteScope) -> None:
        self._scope = scope
        self._turn = 0
        self._sent: str | None = None
        self._events: list[dict[str, object]] = []
        self._closed = False
        self._send_error: _ErrorData | None = None
        self._finished = False
        scope.follow_agent(self.pending)

    def pending(self) -> dict[str, object] | None:
        """The turn being read, as its entry will be (``None`` once finished)."""
        return None if self._finished else self._entry()

    def event(self, event: SessionEvent) -> None:
        self._events.append(_event_json(event))

    def failure(self, exc: BaseException) -> None:
        self._events.append({"type": "failure", **_ErrorData.of(exc).to_json()})

    def closed(self) -> None:
        self._closed = True

    def send_failed(self, exc: BaseException) -> None:
        self._send_error = _ErrorData.of(exc)

    def next_turn(self, sent: str) -> None:
        self._flush()
        self._turn += 1
        self._sent = sent

    def finish(self) -> None:
        self._flush()
        self._finished = True

    def _entry(self) -> dict[str, object]:
        return {
            "turn": self._turn,
            "sent": self._sent,
            "events": list(self._events),
            "closed": self._closed,
            "send_error": None
            if self._send_error is None
            else self._send_error.to_json(),
        }

    def _flush(self) -> None:
        if self._finished:
            return
        self._scope.put(AGENT_KIND, self._entry())
        self._events = []
        self._closed = False
        self._send_error = None


def _customer_message(message: object) -> Message:
    if not isinstance(message, Message):
        raise InvalidTypeError(f"send takes a Message; got {type(message).__name__}")
    return message


class _RecordingQueueSession(QueueSession):
    """Records a real :class:`QueueSession` by forwarding every call to it."""

    def __init__(self, inner: QueueSession, scope: CassetteScope) -> None:
        super().__init__(inner.session_id, max_buffer=1)
        self.send_completes_turn = inner.send_completes_turn
        self.speaks_unprompted = inner.speaks_unprompted
        self.inner = inner
        self._recorder = _TurnRecorder(scope)
        self._pushed: list[ChannelError] = []  # failures the reader reported itself

    async def __aenter__(self) -> Self:
        await self.inner.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.inner.__aexit__(exc_type, exc, tb)
        finally:
            await self.aclose()

    async def get_conversation(self) -> Conversation:
        return await self.inner.get_conversation()

    async def send(self, message: Message) -> None:
        """Start the next turn and send ``message`` to the real agent."""
        self._recorder.next_turn(_customer_message(message).content)
        try:
            await self.deliver(message)
        except Exception as exc:
            self._recorder.send_failed(exc)
            raise

    async def deliver(self, message: Message) -> None:
        await self.inner.send(message)

    def _failed(self, exc: ChannelError) -> None:
        if any(exc is pushed for pushed in self._pushed):
            return  # the reader's own report of a failed send: recorded as send_error
        if isinstance(exc, SessionClosedError):
            self._recorder.closed()
        else:
            self._recorder.failure(exc)

    async def receive_event(self) -> SessionEvent:
        try:
            event = await self.inner.receive_event()
        except ChannelError as exc:
            self._failed(exc)
            raise
        self._recorder.event(event)
        return event

    def receive_event_nowait(self) -> SessionEvent:
        try:
            event = self.inner.receive_event_nowait()
        except ChannelError as exc:
            self._failed(exc)
            raise
        self._recorder.event(event)
        return event

    async def events(self) -> AsyncGenerator[SessionEvent, None]:
        while True:
            try:
                event = await self.receive_event()
            except SessionClosedError:
                return
            yield event

    async def push_message(self, message: Message) -> None:
        await self.inner.push_message(message)

    async def push_end_of_turn(self) -> None:
        await self.inner.push_end_of_turn()

    async def push_end_of_session(self) -> None:
        await self.inner.push_end_of_session()

    async def push_failure(self, error: ChannelError) -> None:
        self._pushed.append(error)
        await self.inner.push_failure(error)

    @property
    def closed(self) -> bool:
        return self.inner.closed

    async def close_transport(self) -> None:
        await self.inner.aclose()

    async def aclose(self) -> None:
        try:
            await super().aclose()
        finally:
            self._recorder.finish()


class _RecordingSession(Session):
    """Records a plain :class:`Session`: ``subscribe()`` wraps the real one."""

    def __init__(self, inner: Session, scope: CassetteScope) -> None:
        self.session_id = inner.session_id
        self.inner = inner
        self._recorder = _TurnRecorder(scope)

    async def __aenter__(self) -> Self:
        await self.inner.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.inner.__aexit__(exc_type, exc, tb)
        finally:
            self._recorder.finish()

    async def get_conversation(self) -> Conversation:
        return await self.inner.get_conversation()

    async def send(self, message: Message) -> None:
        self._recorder.next_turn(_customer_message(message).content)
        try:
            await self.inner.send(message)
        except Exception as exc:
            self._recorder.send_failed(exc)
            raise

    async def subscribe(self) -> AsyncGenerator[Message, None]:
        try:
            async for message in self.inner.subscribe():
                self._recorder.event(message)
                yield message
        except Exception as exc:
            self._recorder.failure(exc)
            raise
        self._recorder.closed()

    async def aclose(self) -> None:
        try:
            await self.inner.aclose()
        finally:
            self._recorder.finish()


class _ReplaySession(QueueSession):
    """Plays the recorded turns; opens a live session only after a non-strict miss."""

    send_completes_turn = True  # each send pushes its whole recorded turn
    speaks_unprompted = False

    def __init__(self, inner: Channel, scope: CassetteScope) -> None:
        super().__init__()
        self.inner = inner
        self.scope = scope
        self._turn = 0
        self._entered = False
        self._live_wanted = anyio.Event()
        self._live_ready = anyio.Event()
        self._live: Session | None = None
        self._live_error: ChannelError | None = None

    @property
    def live(self) -> bool:
        """``True`` once a non-strict miss sent the session to the live agent."""
        return self._live_wanted.is_set()

    async def __aenter__(self) -> Self:
        self._entered = True
        return await super().__aenter__()

    async def start(self) -> None:
        """Play turn 0: what the agent said before the customer's first message."""
        turn = self._next_turn(sent=None)
        if turn is None:
            return
        if turn.open_error is not None:
            raise turn.open_error.rebuild("")
        await self._play(turn)

    async def deliver(self, message: Message) -> None:
        if not self.live:
            self._turn += 1
            turn = self._next_turn(sent=message.content)
            if turn is not None:
                await self._play(turn)
                return
        await self._send_live(message)

    def _next_turn(self, *, sent: str | None) -> _Turn | None:
        """The recorded turn that fits, or ``None`` to go live (a non-strict miss)."""
        try:
            payload = self.scope.take(AGENT_KIND)
        except CassetteMissError as exc:
            raise AgentCassetteMissError(str(exc)) from exc
        if payload is None:
            self._live_wanted.set()
            return None
        try:
            turn = _Turn.parse(payload)
        except TypeError as exc:
            raise ConfigError(
                f"{_where(self.scope)}: recorded agent turn {self._turn} is malformed "
                f"({exc}); re-record the cassette"
            ) from exc
        if turn.turn != self._turn:
            problem = (
                f"it was recorded as turn {turn.turn}, where turn {self._turn} was due"
            )
        elif turn.sent != sent:
            problem = (
                f"the customer's message #{self._turn} is {sent!r}, but the recorded "
                f"customer said {turn.sent!r}"
            )
        else:
            return turn
        try:
            self.scope.mismatch(AGENT_KIND, problem)
        except CassetteMissError as exc:
            raise AgentCassetteMissError(str(exc)) from exc
        self._live_wanted.set()
        return None

    async def _play(self, turn: _Turn) -> None:
        for event in turn.events:
            if isinstance(event, str):
                await self.push_text(event)
            elif isinstance(event, _Reply):
                await self.push_message(_replayed(event))
            elif isinstance(event, AgentInterrupted):
                await self.push_interrupt(event.payload)
            elif isinstance(event, TurnEnded):
                await self.push_end_of_turn()
            else:
                await self.push_failure(event.rebuild(_SEND_FAILED))
        if turn.closed:
            await self.push_end_of_session()
        elif turn.turn > 0 and not (
            turn.events and isinstance(turn.events[-1], TurnEnded)
        ):
            await self.push_end_of_turn()
        if turn.send_error is not None:
            raise turn.send_error.rebuild(_SEND_FAILED)

    async def _send_live(self, message: Message) -> None:
        if not self._entered:
            raise ChannelError(
                f"{_where(self.scope)}: the cassette has no fitting agent turn and "
                "strict=False sends the rest to the live agent, which needs the session "
                "entered with 'async with'"
            )
        await self._live_ready.wait()
        if self._live is None:
            raise self._live_error or ChannelError("the live agent session is closed")
        await self._live.send(message)

    async def listen(self) -> None:
        """Wait for a non-strict miss; then forward a live session's events."""
        await self._live_wanted.wait()
        try:
            try:
                live = await self.inner.create_session()
            except Exception as exc:
                self._live_error = ChannelError(
                    f"{_where(self.scope)}: opening a live session after a cassette "
                    f"miss failed: {type(exc).__name__}: {exc}"
                )
                raise self._live_error from exc
            async with live:
                self._live = live
                self._live_ready.set()
                await _forward(live, self)
        finally:
            self._live_ready.set()


def _replayed(reply: _Reply) -> Message:
    """A recorded message with tool calls, stamped now."""
    try:
        calls = tuple(tool_call_from_json(call) for call in reply.tool_calls)
    except ClientSimError as exc:
        raise ChannelError(f"a recorded tool call is malformed: {exc}") from exc
    return stamped(reply.content, now(), ParticipantRole.AGENT, calls)


async def _forward(live: Session, sink: QueueSession) -> None:
    """Move a live session's agent events into ``sink`` until the live one ends."""
    if isinstance(live, QueueSession):
        while True:
            try:
                event = await live.receive_event()
            except SessionClosedError:
                break
            except ChannelError as exc:
                await sink.push_failure(exc)
                continue
            if isinstance(event, TurnEnded):
                await sink.push_end_of_turn()
            elif isinstance(event, AgentInterrupted):
                await sink.push_interrupt(event.payload)
            else:
                await sink.push_message(event)
    else:
        async for message in live.subscribe():
            await sink.push_message(message)
    await sink.push_end_of_session()


@final
class CassetteChannel(Channel):
    """A channel that records the agent's replies to a scope, or replays them.

    Recording opens a real session on ``inner`` and forwards every call to it; what
    the runner reads is recorded one entry per turn (see the module docs). So does a
    ``replay="simulator"`` replay: the agent is called live, and its turns are
    recorded so that the scope can tell where they differ from the recorded ones.
    A ``replay="all"`` replay never opens a session on ``inner`` while the cassette
    has a fitting turn: the agent is not contacted. A strict miss raises
    :class:`AgentCassetteMissError` from ``create_session`` (no turn recorded at
    all) or from ``send``; after a non-strict miss the session opens a live session
    on ``inner`` and sends the rest of the conversation to it (the live agent has not
    seen the replayed turns; the session must be used as ``async with``).

    A scope records or replays its sessions one after another (e.g. the attempts of
    a run): do not interleave two sessions of one scope. Replay reproduces what was
    read, turn by turn, not when: messages are stamped when they are replayed, and a
    turn that did not end with an end-of-turn event gets one (a turn that ended on a
    timeout ends at once, with the same messages).

    Example:
        >>> import anyio
        >>> import tempfile
        >>> from pathlib import Path
        >>> from clientsim import TargetChannel
        >>> from clientsim.experiments import Cassette, CassetteChannel
        >>> async def my_agent(message):
        ...     return f"You said: {message}"
        >>> async def main():
        ...     path = Path(tempfile.mkdtemp()) / "run.cassette"
        ...     async with Cassette(path, mode="record") as cassette:
        ...         scope = await cassette.scope("conversation-1")
        ...         channel = CassetteChannel(TargetChannel(my_agent), scope)
        ...         ...  # run a conversation on channel, then:
        ...         await cassette.commit(scope)
        >>> anyio.run(main)

    Args:
        inner: the channel to the real agent.
        scope: the conversation's cassette scope; its mode says record or replay.

    Raises:
        InvalidTypeError: ``inner`` is not a channel or ``scope`` not a scope.
    """

    def __init__(self, inner: Channel, scope: CassetteScope) -> None:
        if not callable(getattr(inner, "create_session", None)):
            raise InvalidTypeError(
                "inner must be a Channel (an object with an async create_session() "
                f"method); got {type(inner).__name__}"
            )
        if not isinstance(scope, CassetteScope):
            raise InvalidTypeError(
                f"scope must be a CassetteScope; got {type(scope).__name__}"
            )
        self.inner = inner
        self.scope = scope

    async def create_session(self) -> Session:
        """Open a recording session on ``inner``, or a replaying one.

        Raises:
            AgentCassetteMissError: a strict replay of a conversation with no agent
                turn recorded.
            ChannelError: a recorded failure to open the session, replayed.
        """
        if not self.scope.agent_live:  # a replay="all" replay
            session = _ReplaySession(self.inner, self.scope)
            try:
                await session.start()
            except BaseException:
                await session.aclose()
                raise
            if not session.live:
                return session
            await session.aclose()  # a non-strict miss at the start: all of it is live
        try:
            inner = await self.inner.create_session()
        except ConfigError:
            raise
        except Exception as exc:
            self.scope.put(
                AGENT_KIND, {"turn": 0, "open_error": _ErrorData.of(exc).to_json()}
            )
            raise
        if isinstance(inner, QueueSession):
            return _RecordingQueueSession(inner, self.scope)
        return _RecordingSession(inner, self.scope)

    async def aclose(self) -> None:
        """Close ``inner``."""
        await self.inner.aclose()
