"""A channel to an agent that talks over a WebSocket, built on aiohttp's client.

The agent may push messages at any time: several in a row, unprompted, or none at all.
Each session opens one WebSocket when it is entered and reads every frame the agent
sends until the session closes.

Two wire formats are understood:

``format="json"`` (the default)
    The customer's message goes out as ``{"type": "message", "session_id": "...",
    "content": "..."}``. An incoming JSON object whose ``type`` is ``"message"`` (or
    that has no ``type``) is an agent message; its text is under ``"content"``.
    ``{"type": "end_of_turn"}`` says the agent has finished its turn. Frames of any
    other type (typing indicators, acknowledgements...) are ignored. Every field name
    and type value can be changed, see :class:`WebSocketChannel`.

``format="text"``
    Every text frame, either way, is one whole message. Nothing marks the end of a
    turn: the runner relies on the agent going quiet.

aiohttp runs on asyncio only, so this channel does too.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from types import MappingProxyType
from typing import ClassVar, Final, Literal, Self, TypeAlias
from urllib.parse import urlsplit

import aiohttp
import anyio

from clientsim._secrets import (
    Redactor,
    check_credentials,
    check_headers,
    display_url,
)
from clientsim._validators import check_seconds, check_text
from clientsim.channels._faults import transient_close, transient_connection_error
from clientsim.channels.base import Channel, QueueSession
from clientsim.errors import ChannelError, ConfigError, SessionClosedError
from clientsim.models import Message


__all__ = ["WebSocketChannel", "WebSocketSession"]

_Socket: TypeAlias = "aiohttp.ClientWebSocketResponse[Literal[True]]"

_PREVIEW_CHARS: Final = 200
"""How much of an unexpected frame an error message quotes."""

_FORMATS: Final = ("json", "text")


_ENDED: Final = frozenset(
    {
        aiohttp.WSMsgType.CLOSE,
        aiohttp.WSMsgType.CLOSING,
        aiohttp.WSMsgType.CLOSED,
        aiohttp.WSMsgType.ERROR,
    }
)


def _preview(text: str) -> str:
    """``text`` quoted for an error message, trimmed if it is long."""
    if len(text) <= _PREVIEW_CHARS:
        return repr(text)
    return f"{text[:_PREVIEW_CHARS]!r}... ({len(text)} characters)"


def _check_url(url: object) -> str:
    allowed = "a ws:// or wss:// URL such as 'ws://127.0.0.1:8000/chat'"
    if not isinstance(url, str):
        raise ConfigError(f"url must be {allowed}; got {url!r}")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # a malformed port raises ValueError
    except ValueError as exc:
        problem = str(exc)
    else:
        if parts.scheme in {"ws", "wss"} and host:
            return url
        problem = ""
    shown = display_url(url)
    hidden = " (credentials and query string not shown)" if shown != url else ""
    detail = f" ({problem})" if problem else ""
    raise ConfigError(f"url must be {allowed}; got {shown!r}{detail}{hidden}")


class WebSocketChannel(Channel):
    """Talks to an agent over a WebSocket, one connection per session.

    The channel holds one aiohttp client session, opened when the first conversation
    connects and shared by every session open at the time; it is released when the
    last of them closes, and :meth:`aclose` (or leaving ``async with``) releases it at
    once.

    A failure is a :class:`~clientsim.errors.ChannelError` that says whether it is
    ``transient`` (a refused, reset or dropped connection, a missed heartbeat, a close
    with code 1001, 1006 or 1011-1014, a handshake refused with 429 or 5xx) and keeps
    the handshake's HTTP ``status``. Its message, and the errors it was raised from,
    never show the URL's credentials or query string, nor the headers' values.

    Args:
        url: the agent's ``ws://`` or ``wss://`` URL.
        headers: HTTP headers sent with the handshake (e.g. ``Authorization``).
        format: ``"json"`` for JSON frames, ``"text"`` for plain-text frames.
        message_field: JSON field that carries the customer's text.
        reply_field: JSON field that carries the agent's text.
        type_field: JSON field that says what a frame is.
        message_type: ``type_field`` value of a message frame, both ways. A frame
            without ``type_field`` counts as a message too.
        end_of_turn_type: ``type_field`` value of the agent's end-of-turn frame.
        session_id_field: JSON field that carries the session id in outgoing frames;
            ``None`` leaves it out.
        session_id_query: query parameter that carries the session id in the URL;
            ``None`` leaves it out.
        connect_timeout_seconds: how long opening the connection may take.
        heartbeat_seconds: send a ping this often and fail the session if no pong
            comes back within half of it; ``None`` sends no pings.
        close_timeout_seconds: how long closing waits for the agent to acknowledge,
            and never past the deadline of the code that closes the session (a hybrid
            run's ``max_duration_seconds``).

    Raises:
        ConfigError: an option has a value it cannot take.

    Example:
        >>> async def ask(channel: WebSocketChannel, message: Message) -> list[str]:
        ...     replies = []
        ...     session = await channel.create_session()
        ...     async with session:
        ...         await session.send(message)
        ...         async for event in session.events():
        ...             if isinstance(event, TurnEnded):
        ...                 break
        ...             replies.append(event.content)
        ...     return replies
        >>> channel = WebSocketChannel("ws://127.0.0.1:8000/chat", format="json")
        >>> channel
        WebSocketChannel('ws://127.0.0.1:8000/chat', format='json')
    """

    _detached: ClassVar[dict[str, object]] = {"_http": None, "_users": 0}

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        format: Literal["json", "text"] = "json",  # noqa: A002 - the option's name
        message_field: str = "content",
        reply_field: str = "content",
        type_field: str = "type",
        message_type: str = "message",
        end_of_turn_type: str = "end_of_turn",
        session_id_field: str | None = "session_id",
        session_id_query: str | None = "session_id",
        connect_timeout_seconds: float = 10.0,
        heartbeat_seconds: float | None = 20.0,
        close_timeout_seconds: float = 1.0,
    ) -> None:
        self.url: Final = _check_url(url)
        self.headers: Final[Mapping[str, str]] = MappingProxyType(
            check_headers("WebSocketChannel", headers)
        )
        check_credentials("WebSocketChannel", self.url, self.headers)
        self._redactor = Redactor(self.url, self.headers)
        if format not in _FORMATS:
            raise ConfigError(f"format must be 'json' or 'text'; got {format!r}")
        self.format: Final[Literal["json", "text"]] = format
        self.message_field: Final = check_text(
            "message_field", message_field, non_empty=True
        )
        self.reply_field: Final = check_text("reply_field", reply_field, non_empty=True)
        self.type_field: Final = check_text("type_field", type_field, non_empty=True)
        self.message_type: Final = check_text(
            "message_type", message_type, non_empty=True
        )
        self.end_of_turn_type: Final = check_text(
            "end_of_turn_type", end_of_turn_type, non_empty=True
        )
        if self.end_of_turn_type == self.message_type:
            raise ConfigError(
                f"end_of_turn_type must differ from message_type "
                f"({self.message_type!r}); got {end_of_turn_type!r}"
            )
        self.session_id_field: Final = check_text(
            "session_id_field", session_id_field, non_empty=True, optional=True
        )
        self.session_id_query: Final = check_text(
            "session_id_query", session_id_query, non_empty=True, optional=True
        )
        self.connect_timeout_seconds: Final = check_seconds(
            "connect_timeout_seconds", connect_timeout_seconds
        )
        self.heartbeat_seconds: Final = check_seconds(
            "heartbeat_seconds", heartbeat_seconds, optional=True
        )
        self.close_timeout_seconds: Final = check_seconds(
            "close_timeout_seconds", close_timeout_seconds
        )
        self._http: aiohttp.ClientSession | None = None
        self._users = 0
        self._closed = False

    def __repr__(self) -> str:
        return f"WebSocketChannel({display_url(self.url)!r}, format={self.format!r})"

    async def create_session(self, session_id: str | None = None) -> WebSocketSession:
        """A new session; it connects when entered with ``async with``.

        Args:
            session_id: the id the agent sees; a random one if ``None``.

        Raises:
            ChannelError: the channel is closed.
        """
        if self._closed:
            raise ChannelError(
                f"{self!r} is closed; create a new channel", transient=False
            )
        return WebSocketSession(self, session_id)

    async def aclose(self) -> None:
        """Close the channel and its connections; closing twice is harmless.

        Sessions still open see a :class:`~clientsim.errors.ChannelError`.
        """
        self._closed = True
        http, self._http = self._http, None
        if http is not None:
            with anyio.CancelScope(shield=True):
                await http.close()

    # ----- for WebSocketSession ------------------------------------------------------

    @asynccontextmanager
    async def _connection(self, session: WebSocketSession) -> AsyncIterator[_Socket]:
        """An open WebSocket for ``session``, closed on exit by the session's
        :attr:`~clientsim.channels.QueueSession.close_deadline` at the latest."""
        if self._closed:
            raise ChannelError(
                f"{self!r} is closed; create a new channel", transient=False
            )
        http = self._http
        if http is None:
            try:
                http = self._http = aiohttp.ClientSession()
            except RuntimeError as exc:  # no asyncio loop: aiohttp cannot run
                raise ChannelError(
                    f"WebSocketChannel runs on asyncio only (aiohttp): {exc}"
                ) from exc
        self._users += 1
        try:
            socket = await self._connect(http, session.session_id)
            try:
                yield socket
            finally:
                # An agent that never acknowledges the close keeps it waiting for
                # close_timeout_seconds, or until the session's deadline if sooner;
                # cancelled, aiohttp drops the connection.
                with anyio.CancelScope(shield=True, deadline=session.close_deadline):
                    await socket.close()
        finally:
            self._users -= 1
            if self._users == 0 and self._http is http:
                self._http = None
                with anyio.CancelScope(shield=True):
                    await http.close()

    async def _connect(self, http: aiohttp.ClientSession, session_id: str) -> _Socket:
        url = self._redactor.url(self.url)
        query = {self.session_id_query: session_id} if self.session_id_query else None
        try:
            with anyio.fail_after(self.connect_timeout_seconds):
                return await http.ws_connect(
                    self.url,
                    headers=dict(self.headers),
                    params=query,
                    heartbeat=self.heartbeat_seconds,
                    timeout=aiohttp.ClientWSTimeout(
                        ws_receive=None, ws_close=self.close_timeout_seconds
                    ),
                )
        except TimeoutError as exc:
            problem: BaseException = exc
            message = (
                f"could not connect to {url} within {self.connect_timeout_seconds:g} "
                "s (connect_timeout_seconds)"
            )
            status, transient = None, True
        except aiohttp.WSServerHandshakeError as exc:
            problem = exc
            message = (
                f"the agent at {url} refused the WebSocket handshake: "
                f"HTTP {exc.status} {exc.message}"
            )
            status, transient = exc.status, None  # 429 and 5xx are transient
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            problem = exc
            message = f"cannot connect to {url}: {type(exc).__name__}: {exc}"
            status, transient = None, transient_connection_error(exc)
        # Raised here, not in an except block, so that the unredacted aiohttp error
        # (its args hold the request's headers) is not kept as the __context__.
        raise self._redactor.error(
            message, status=status, transient=transient, cause=problem
        )

    def _error(
        self, message: str, *, transient: bool, cause: BaseException | None = None
    ) -> ChannelError:
        return self._redactor.error(message, transient=transient, cause=cause)

    def _encode(self, session_id: str, content: str) -> str:
        if self.format == "text":
            return content
        frame = {self.type_field: self.message_type}
        if self.session_id_field is not None:
            frame[self.session_id_field] = session_id
        frame[self.message_field] = content
        return json.dumps(frame, ensure_ascii=False)

    def _ended(self, frame: aiohttp.WSMessage, socket: _Socket) -> ChannelError:
        """The error for a connection that ended while the session was open."""
        if frame.type is aiohttp.WSMsgType.CLOSE:
            reason = f": {_preview(frame.extra)}" if frame.extra else ""
            return self._error(
                f"the agent closed the connection (code {frame.data}{reason})",
                transient=transient_close(frame.data),
            )
        if frame.type is aiohttp.WSMsgType.ERROR:
            error = frame.data
            transient = (
                transient_close(error.code)
                if isinstance(error, aiohttp.WebSocketError)
                else transient_connection_error(error)
            )
            return self._error(
                f"the connection to the agent at {self._redactor.url(self.url)} "
                f"failed: {type(error).__name__}: {error}",
                transient=transient,
                cause=error if isinstance(error, BaseException) else None,
            )
        if self._closed:
            return self._error(
                f"{self!r} was closed while the session was open", transient=False
            )
        return self._error(
            f"the connection to the agent at {self._redactor.url(self.url)} dropped "
            f"without a close frame (code {socket.close_code})",
            transient=True,
        )


class WebSocketSession(QueueSession):
    """One conversation over one WebSocket; made by :meth:`WebSocketChannel.create_session`.

    Entering the session (``async with session:``) connects in the background; a
    :meth:`send` made before the connection is ready waits for it. A connection that
    fails, or that the agent closes with an error code, is reported as a
    :class:`~clientsim.errors.ChannelError` from :meth:`events` and from later sends;
    a normal close (code 1000) ends :meth:`events` quietly, which a runner records as
    ``"agent_closed"``. The messages exchanged before stay in :meth:`get_conversation`.

    Example:
        >>> async def listen_in(channel: WebSocketChannel) -> None:
        ...     session = await channel.create_session("order-1234")
        ...     async with session:  # connects; send() waits for the connection
        ...         async for message in session.subscribe():
        ...             print(message.content)
    """

    def __init__(
        self, channel: WebSocketChannel, session_id: str | None = None
    ) -> None:
        super().__init__(session_id)
        self.channel: Final = channel
        self._socket: _Socket | None = None
        self._settled = anyio.Event()  # the connection is open, or will never be
        self._failure: ChannelError | None = None
        self._entered = False

    async def __aenter__(self) -> Self:
        if self.closed:
            raise SessionClosedError(
                f"session {self.session_id} is closed; open a new one with create_session()"
            )
        if self._entered:
            raise ChannelError(f"session {self.session_id} was already entered")
        self._entered = True
        return await super().__aenter__()

    async def listen(self) -> None:
        try:
            async with self.channel._connection(self) as socket:  # noqa: SLF001
                self._socket = socket
                self._settled.set()
                failure = await self._read_all(socket)
                if failure is not None:
                    self._failure = failure  # before the socket closes: sends see why
                    raise failure
        except ChannelError as exc:
            self._failure = exc
            raise
        finally:
            self._settled.set()

    async def _read_all(self, socket: _Socket) -> ChannelError | None:
        """Read until the session ends; the failure that ended it, if one did."""
        try:
            await self._read(socket)
        except ChannelError as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - reported redacted, never raw
            problem = exc
        else:
            return None
        return self.channel._error(  # noqa: SLF001 - its own channel
            f"the connection to the agent failed: {type(problem).__name__}: {problem}",
            transient=False,
            cause=problem,
        )

    async def _read(self, socket: _Socket) -> None:
        while True:
            frame = await socket.receive()
            if frame.type is aiohttp.WSMsgType.TEXT:
                await self._on_text(frame.data)
            elif frame.type is aiohttp.WSMsgType.BINARY:
                await self._on_text(self._decode(frame.data))
            elif frame.type in _ENDED:
                if self.closed:  # we closed it: not a failure
                    return
                if (
                    socket.close_code == aiohttp.WSCloseCode.OK
                ):  # the agent said goodbye
                    await self.push_end_of_session()
                    return
                raise self.channel._ended(frame, socket)  # noqa: SLF001

    def _decode(self, data: bytes) -> str:
        try:
            return data.decode()
        except UnicodeDecodeError:
            pass
        raise self.channel._error(  # noqa: SLF001 - its own channel
            f"the agent sent a binary frame that is not UTF-8 text: {data[:50]!r}",
            transient=False,
        )

    async def _on_text(self, text: str) -> None:
        channel = self.channel
        if channel.format == "text":
            await self.push_text(text)
            return
        try:
            frame = json.loads(text)
        except ValueError as exc:
            problem = (
                f"a frame that is not JSON ({exc}): {_preview(text)}; use "
                "format='text' for an agent that sends plain text"
            )
        else:
            problem = (
                ""
                if isinstance(frame, dict)
                else f"JSON that is not an object: {_preview(text)}"
            )
        if problem:
            raise channel._error(  # noqa: SLF001 - its own channel
                f"the agent sent {problem}", transient=False
            )
        kind = frame.get(channel.type_field)
        if kind == channel.end_of_turn_type:
            await self.push_end_of_turn()
        elif kind is None or kind == channel.message_type:
            content = frame.get(channel.reply_field)
            if not isinstance(content, str):
                raise channel._error(  # noqa: SLF001 - its own channel
                    f"the agent sent a message frame without a string "
                    f"{channel.reply_field!r} field: {_preview(text)}; set reply_field "
                    "to the field that holds the text",
                    transient=False,
                )
            await self.push_text(content)
        # Any other type (typing indicator, acknowledgement...) carries no message.

    async def deliver(self, message: Message) -> None:
        if not self._entered:
            raise ChannelError(
                f"session {self.session_id} is not open: enter it with `async with "
                "session:` first; its WebSocket connects then"
            )
        await self._settled.wait()
        socket = self._socket
        if self.closed:
            raise SessionClosedError(
                f"session {self.session_id} closed before the message could be sent"
            )
        if socket is None or socket.closed:
            failure = self._failure
            error = ChannelError(
                f"cannot send to the agent: {failure or 'the connection is closed'}",
                status=failure.status if failure else None,
                transient=failure.transient if failure else False,
            )
            error.__cause__ = failure
            raise error
        frame = self.channel._encode(self.session_id, message.content)  # noqa: SLF001
        try:
            await socket.send_str(frame)
        except (aiohttp.ClientError, ConnectionError) as exc:
            problem: BaseException = exc
        else:
            return
        raise self.channel._error(  # noqa: SLF001 - its own channel
            f"cannot send to the agent at {self.channel._redactor.url(self.channel.url)}"  # noqa: SLF001
            f": {problem}",
            transient=True,
            cause=problem,
        )

    async def close_transport(self) -> None:
        self._settled.set()
        socket = self._socket
        if socket is not None and not socket.closed:
            with anyio.CancelScope(shield=True):
                await socket.close()
