"""A channel to an agent served over HTTP: one POST per customer message.

Two kinds of endpoint:

* ``mode="openai"``: an OpenAI-compatible ``POST {base_url}/chat/completions``. Each
  request carries the whole conversation (the customer as ``user``, the agent as
  ``assistant``); with ``stream=True`` the reply comes as server-sent events whose
  deltas are joined into one agent message.
* ``mode="webhook"``: any JSON endpoint. ``request_template`` says how to build the
  body and ``reply_path`` where the reply sits in the response.

One ``aiohttp.ClientSession`` per channel, opened on first use inside the running event
loop and shared by all the channel's sessions; close it with :meth:`HTTPChannel.aclose`
or ``async with``. aiohttp runs on asyncio only, so this channel does too.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import ClassVar, Final, Literal
from urllib.parse import quote, urlsplit

import aiohttp
import anyio
import attrs

from clientsim._secrets import (
    Redactor,
    check_credentials,
    check_headers,
    display_url,
)
from clientsim.channels._faults import transient_connection_error
from clientsim.channels._http_options import (
    HINTS,
    count,
    dot_path,
    endpoint,
    is_text,
    json_of,
    number,
    only_with,
    require,
    url_path,
)
from clientsim.channels._http_replies import (
    MalformedError,
    Reply,
    TooLargeError,
    parse_retry_after,
    peek,
    read_replies,
    render,
    set_path,
    trim,
)
from clientsim.channels.base import Channel, QueueSession, now
from clientsim.errors import AgentTimeoutError, ChannelError, ConfigError
from clientsim.models import Conversation, Message, ParticipantRole


__all__ = ["HTTPChannel", "HTTPSession"]

_MAX_REPLY_BYTES: Final = 4 * 1024 * 1024  # the WebSocket channel's frame limit


@attrs.frozen
class _Retry:
    """A failed attempt that may be retried: why, the server's ``Retry-After``, and
    the status or the exception it failed with."""

    reason: str
    retry_after: float | None = None
    status: int | None = None
    cause: BaseException | None = None


@attrs.define
class _Tries:
    """The attempts at one exchange: where to, until when, and how many so far."""

    url: str
    shown: str
    deadline: float
    count: int = 0


class HTTPChannel(Channel):
    """Reaches an agent over HTTP: an OpenAI-compatible endpoint or a JSON webhook.

    Each customer message is one POST; its reply becomes zero, one or several agent
    messages and then the end of the agent's turn. Failed attempts are retried on HTTP
    429, 5xx and connection errors, with exponential backoff (honouring ``Retry-After``);
    never on other 4xx answers, and never after a timeout. A malformed reply raises
    :class:`~clientsim.errors.ChannelError`; an agent slower than ``timeout_seconds``
    raises :class:`~clientsim.errors.AgentTimeoutError`. Every error says whether it is
    ``transient`` (429, 5xx and connection errors once the retries are spent, a dropped
    stream, a timeout) and keeps the HTTP ``status``. Error messages, and the errors
    they were raised from, never show the values of ``headers`` (API keys), nor
    credentials or query strings of the URL.

    Webhook templates: a string value of ``request_template`` may contain ``{message}``
    (the customer's message) and ``{session_id}``; a value that is exactly
    ``"{history}"`` becomes the whole transcript, a list of
    ``{"role": "customer" | "agent", "content": ..., "timestamp": ISO 8601}``. Other
    braces are left alone. ``path`` may contain ``{session_id}`` too.

    Dot paths (``reply_path``, ``session_id_field``): keys separated by dots; an integer
    indexes a list (``messages.-1.text``); in ``reply_path``, ``*`` maps the rest of the
    path over a list (``messages.*.text``); ``""`` is the whole document. The reply may
    be a string, ``null`` (no message) or a list of strings (one message each).

    Args:
        base_url: e.g. ``"http://127.0.0.1:8000/v1"``; in OpenAI mode the request goes
            to ``{base_url}/chat/completions``. A query string stays at the end:
            ``".../v1?api-version=2024-06-01"`` posts to
            ``".../v1/chat/completions?api-version=2024-06-01"``.
        model: the model name put in OpenAI request bodies (left out if ``None``).
        mode: ``"openai"`` or ``"webhook"``.
        stream: OpenAI mode only: ask for a server-sent-event stream.
        system_prompt: OpenAI mode only: a system message sent first in every request.
        extra_body: OpenAI mode only: more fields for the body, e.g.
            ``{"temperature": 0}``.
        headers: sent with every request, e.g. ``{"Authorization": "Bearer ..."}``.
        session_id_header: the header carrying the session id; ``None`` for none.
        session_id_field: a dot path in the request body to put the session id at
            (created if missing); ``None`` for none.
        path: webhook mode: appended to ``base_url``.
        request_template: webhook mode: the JSON body; by default
            ``{"message": "{message}"}``.
        reply_path: webhook mode (required there): where the reply sits.
        timeout_seconds: the most one customer message may take, from the request to
            the end of the reply, retries and their waits included.
        max_retries: attempts after the first one.
        backoff_seconds: the wait before the first retry; it doubles each retry (with
            jitter, between half and all of it).
        max_backoff_seconds: the longest wait between attempts, ``Retry-After`` included.
        max_connections: the size of the connection pool shared by all sessions.
        max_reply_bytes: the longest reply read, a stream's included (4 MiB by
            default, as a WebSocket frame); a longer one is refused as soon as it
            passes the limit, with a :class:`~clientsim.errors.ChannelError` that is
            not retried.

    Raises:
        ConfigError: an option has a value that is not allowed; the message names the
            option, the value (never a header's) and what is allowed.

    Example:
        >>> channel = HTTPChannel(base_url="http://127.0.0.1:8000/v1", model="agent")
        >>> channel
        HTTPChannel(base_url='http://127.0.0.1:8000/v1', mode='openai', model='agent', stream=False)

        A webhook whose reply is ``{"data": {"replies": ["Hi!", "How can I help?"]}}``::

            async with HTTPChannel(
                base_url="https://agent.example.com",
                mode="webhook",
                path="/chat",
                request_template={"text": "{message}", "conversation": "{session_id}"},
                reply_path="data.replies",
                headers={"X-Api-Key": key},
            ) as channel:
                async with await channel.create_session() as session:
                    await session.send(message)
                    async for event in session.events():
                        ...
    """

    _detached: ClassVar[dict[str, object]] = {"_http": None}

    def __init__(
        self,
        *,
        base_url: str,
        model: str | None = None,
        mode: Literal["openai", "webhook"] = "openai",
        stream: bool = False,
        system_prompt: str | None = None,
        extra_body: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        session_id_header: str | None = "X-Session-Id",
        session_id_field: str | None = None,
        path: str = "",
        request_template: Mapping[str, object] | None = None,
        reply_path: str | None = None,
        timeout_seconds: float = 30.0,
        max_retries: int = 2,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 10.0,
        max_connections: int = 100,
        max_reply_bytes: int = _MAX_REPLY_BYTES,
    ) -> None:
        require(
            isinstance(base_url, str)
            and urlsplit(base_url).scheme in {"http", "https"}
            and bool(urlsplit(base_url).hostname),
            "base_url",
            display_url(base_url) if isinstance(base_url, str) else base_url,
            "an http:// or https:// URL with a host",
        )
        require(mode in {"openai", "webhook"}, "mode", mode, "'openai' or 'webhook'")
        openai = mode == "openai"
        require(model is None or is_text(model), "model", model, "a non-empty string")
        require(isinstance(stream, bool), "stream", stream, "True or False")
        require(
            system_prompt is None or isinstance(system_prompt, str),
            "system_prompt",
            system_prompt,
            "a string or None",
        )
        require(
            extra_body is None or isinstance(extra_body, Mapping),
            "extra_body",
            extra_body,
            "a mapping of body fields",
        )
        require(
            session_id_header is None or is_text(session_id_header),
            "session_id_header",
            session_id_header,
            "a header name or None",
        )
        require(isinstance(path, str), "path", path, "a string")
        require(
            request_template is None or isinstance(request_template, Mapping),
            "request_template",
            request_template,
            "a mapping (the JSON body)",
        )
        self._headers = check_headers("HTTPChannel", headers)
        check_credentials("HTTPChannel", base_url, self._headers)
        self.timeout_seconds: Final = number(
            "timeout_seconds", timeout_seconds, positive=True
        )
        self._backoff = number("backoff_seconds", backoff_seconds)
        self._max_backoff = number("max_backoff_seconds", max_backoff_seconds)
        self._max_retries = count("max_retries", max_retries, minimum=0)
        self._max_connections = count("max_connections", max_connections, minimum=1)
        self.max_reply_bytes: Final = count(
            "max_reply_bytes", max_reply_bytes, minimum=1
        )
        self._session_id_path = dot_path("session_id_field", session_id_field)
        if openai:
            only_with(
                "webhook",
                path=path or None,
                request_template=request_template,
                reply_path=reply_path,
            )
            require(
                not url_path(base_url).rstrip("/").endswith("/chat/completions"),
                "base_url",
                display_url(base_url),
                "the API root, such as 'http://host:port/v1'; "
                "'/chat/completions' is added",
            )
            self._extra_body: dict[str, object] = json_of(
                "extra_body", extra_body or {}
            )
            self._template: dict[str, object] = {}
            self._reply_path: tuple[str, ...] = ()
            self._url = endpoint(base_url, "chat/completions")
        else:
            only_with(
                "openai",
                stream=stream or None,
                system_prompt=system_prompt,
                extra_body=extra_body,
            )
            require(
                reply_path is not None,
                "reply_path",
                reply_path,
                "a dot path to the reply in the response, e.g. 'data.reply'",
            )
            self._reply_path = dot_path("reply_path", reply_path) or ()
            self._extra_body = {}
            self._template = json_of(
                "request_template",
                {"message": "{message}"}
                if request_template is None
                else request_template,
            )
            self._url = endpoint(base_url, path)
        self.base_url: Final = base_url
        self.mode: Final = mode
        self.model: Final = model
        self.stream: Final = stream
        self._system_prompt = system_prompt
        self._session_id_header = session_id_header
        self._redactor = Redactor(base_url, self._headers)
        self._shown_url = self._redactor.url(self._url)
        self._http: aiohttp.ClientSession | None = None
        self._full_timeout = aiohttp.ClientTimeout(total=self.timeout_seconds)
        self._closed = False
        try:  # a dry run, so that a session_id_field that cannot be set fails now
            sample = Message(
                content="", timestamp=now(), sender=ParticipantRole.CUSTOMER
            )
            self._body("", Conversation((sample,)), sample)
        except MalformedError as exc:
            raise ConfigError(
                f"HTTPChannel option session_id_field={session_id_field!r} cannot be "
                f"set in the request body: {exc}"
            ) from None

    def __repr__(self) -> str:
        return (
            f"HTTPChannel(base_url={display_url(self.base_url)!r}, mode={self.mode!r}, "
            f"model={self.model!r}, stream={self.stream!r})"
        )

    # ----- the channel -----------------------------------------------------------------

    async def create_session(self, session_id: str | None = None) -> HTTPSession:
        """Open a conversation; ``session_id`` is random if ``None``.

        Raises:
            ChannelError: the channel is closed.
        """
        if self._closed:
            raise ChannelError(
                f"{self!r} is closed; create a new channel", transient=False
            )
        return HTTPSession(self, session_id)

    @property
    def closed(self) -> bool:
        """``True`` once :meth:`aclose` was called."""
        return self._closed

    async def aclose(self) -> None:
        """Close the connection pool; closing twice is harmless."""
        self._closed = True
        http, self._http = self._http, None
        if http is not None:
            with anyio.CancelScope(shield=True):
                await http.close()

    # ----- one exchange ----------------------------------------------------------------

    def _client(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ChannelError(
                f"{self!r} is closed; create a new channel", transient=False
            )
        if self._http is None:
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections),
                headers=self._headers,
                timeout=self._full_timeout,
            )
        return self._http

    def _address(self, session_id: str) -> tuple[str, str, dict[str, str]]:
        """A session's URL, its display form and its extra headers (built once)."""
        if "{session_id}" in self._url:
            url = self._url.replace("{session_id}", quote(session_id, safe=""))
            shown = self._redactor.url(url)
        else:  # the same for every session: redacted once
            url, shown = self._url, self._shown_url
        headers = {"Accept": "text/event-stream"} if self.stream else {}
        if self._session_id_header is not None:
            headers[self._session_id_header] = session_id
        return url, shown, headers

    async def _exchange(self, session: HTTPSession, message: Message) -> list[Reply]:
        """POST the request for ``message``, with retries; return the reply texts.

        ``session.last_error`` follows the exchange: each failed attempt, ``None``
        once a reply came.
        """
        url, shown, headers = session._address  # noqa: SLF001 - its own session
        body = self._body(
            session.session_id,
            session._conversation,  # noqa: SLF001 - its own session
            message,
        )
        tries = _Tries(url, shown, anyio.current_time() + self.timeout_seconds)
        session.last_error = None
        try:
            # Each attempt's ClientTimeout(total=remaining) and the deadline check before
            # each retry keep the exchange within timeout_seconds; aiohttp's timeouts
            # are TimeoutErrors.
            replies = await self._with_retries(session, tries, body, headers)
        except ChannelError as exc:
            session.last_error = exc
            raise
        except TimeoutError as exc:
            timed_out = exc
        else:
            return replies
        error = self._redactor.error(
            f"{tries.shown} did not answer within timeout_seconds="
            f"{self.timeout_seconds:g} (attempt {tries.count})",
            kind=AgentTimeoutError,
            cause=timed_out,
        )
        session.last_error = error
        raise error

    async def _with_retries(
        self,
        session: HTTPSession,
        tries: _Tries,
        body: dict[str, object],
        headers: dict[str, str],
    ) -> list[Reply]:
        while True:
            tries.count += 1
            outcome = await self._attempt(tries, body, headers)
            if not isinstance(outcome, _Retry):
                return outcome
            failed = (
                f"{tries.shown} failed {tries.count} time(s); last: {outcome.reason}"
            )
            if tries.count > self._max_retries:
                raise self._failed(
                    outcome,
                    f"{failed}; no retries left (max_retries={self._max_retries})",
                )
            wait = self._wait(tries.count, outcome.retry_after)
            if anyio.current_time() + wait >= tries.deadline:
                raise self._failed(
                    outcome,
                    f"{failed}; the next retry, in {wait:.3g} s, would pass "
                    f"timeout_seconds={self.timeout_seconds:g}",
                )
            session.last_error = self._failed(
                outcome, f"{failed}; retrying in {wait:.3g} s"
            )
            await anyio.sleep(wait)

    def _failed(self, outcome: _Retry, message: str) -> ChannelError:
        """The error for retries that came to nothing: transient, status kept."""
        return self._redactor.error(
            message, status=outcome.status, transient=True, cause=outcome.cause
        )

    async def _attempt(
        self, tries: _Tries, body: dict[str, object], headers: dict[str, str]
    ) -> list[Reply] | _Retry:
        if tries.count == 1:  # the deadline was set just now: all of it is left
            timeout = self._full_timeout
        else:
            remaining = max(tries.deadline - anyio.current_time(), 0.001)
            timeout = aiohttp.ClientTimeout(total=remaining)
        try:
            async with self._client().post(
                tries.url, json=body, headers=headers, timeout=timeout
            ) as response:
                return await self._read(response, tries.shown)
        except aiohttp.ClientError as exc:
            if isinstance(exc, TimeoutError):
                raise
            transient = transient_connection_error(exc)
            what = f"{type(exc).__name__}: {trim(str(exc))}"
            if transient and isinstance(exc, aiohttp.ClientConnectionError):
                return _Retry(f"connection error: {what}", cause=exc)
            problem: BaseException = exc
        # Raised here, not in the except block, so that the unredacted aiohttp error
        # is not kept as the __context__.
        raise self._redactor.error(
            f"{tries.shown} failed: {what}", transient=transient, cause=problem
        )

    async def _read(
        self, response: aiohttp.ClientResponse, shown: str
    ) -> list[Reply] | _Retry:
        status = response.status
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return _Retry(
                f"HTTP {status} {response.reason or ''}: {await peek(response)}",
                retry_after,
                status=status,
            )
        if not 200 <= status < 300:
            raise self._redactor.error(
                f"{shown} answered HTTP {status} {response.reason or ''}: "
                f"{await peek(response)}{HINTS.get(status, '')} (not retried)",
                status=status,
                transient=False,
            )
        try:
            return await read_replies(
                response,
                stream=self.stream,
                limit=self.max_reply_bytes,
                reply_path=None if self.mode == "openai" else self._reply_path,
            )
        except MalformedError as exc:
            problem: Exception = exc
            message = f"malformed reply from {shown}: expected {exc}"
        except TooLargeError as exc:
            response.close()  # drop the connection rather than read the rest
            problem = exc
            message = (
                f"the reply from {shown} is larger than max_reply_bytes="
                f"{self.max_reply_bytes} ({exc}); raise the HTTPChannel option "
                "max_reply_bytes if the agent's replies can be that long"
            )
        raise self._redactor.error(
            f"{message} (not retried)", status=status, transient=False, cause=problem
        )

    def _wait(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self._max_backoff)
        wait = min(self._backoff * 2.0 ** (attempt - 1), self._max_backoff)
        return wait * random.uniform(0.5, 1.0)

    # ----- request bodies --------------------------------------------------------------

    def _body(
        self, session_id: str, conversation: Conversation, message: Message
    ) -> dict[str, object]:
        # The message being delivered goes last, after replies to earlier ones.
        history = [m for m in conversation.messages if m is not message]
        history.append(message)
        body = (
            self._openai_body(history)
            if self.mode == "openai"
            else self._webhook_body(session_id, history)
        )
        if self._session_id_path:
            set_path(body, self._session_id_path, session_id)
        return body

    def _openai_body(self, history: list[Message]) -> dict[str, object]:
        messages = []
        if self._system_prompt:
            messages.append({"role": "system", "content": self._system_prompt})
        customer = (
            ParticipantRole.CUSTOMER
        )  # an identity test: no Enum hashing per message
        messages += [
            {
                "role": "user" if m.sender is customer else "assistant",
                "content": m.content,
            }
            for m in history
        ]
        body: dict[str, object] = {**self._extra_body, "messages": messages}
        if self.model is not None:
            body["model"] = self.model
        if self.stream:
            body["stream"] = True
        return body

    def _webhook_body(
        self, session_id: str, history: list[Message]
    ) -> dict[str, object]:
        transcript = [
            {
                "role": m.sender.value,
                "content": m.content,
                "timestamp": m.timestamp.isoformat(),
            }
            for m in history
        ]
        values = {"message": history[-1].content, "session_id": session_id}
        body = render(self._template, values, transcript)
        assert isinstance(body, dict)  # noqa: S101 - a mapping renders as a dict
        return body


class HTTPSession(QueueSession):
    """A conversation over an :class:`HTTPChannel`: one request per customer message.

    :meth:`deliver` posts the message (its whole history in OpenAI mode), pushes the
    reply's messages and then the end of the turn; an empty reply pushes only the end
    of the turn. Deliveries in one session run one at a time, in order.
    """

    send_completes_turn = True  # each message is one POST; the reply ends the turn
    speaks_unprompted = False

    def __init__(self, channel: HTTPChannel, session_id: str | None = None) -> None:
        super().__init__(session_id)
        self.channel = channel
        self._lock = anyio.Lock(fast_acquire=True)
        self._address = channel._address(self.session_id)  # noqa: SLF001 - its channel

    async def deliver(self, message: Message) -> None:
        """Post ``message`` and push the reply.

        Raises:
            AgentTimeoutError: no complete reply within the channel's timeout.
            ChannelError: the request failed (after retries) or the reply is malformed.
        """
        async with self._lock:
            replies = await self.channel._exchange(self, message)  # noqa: SLF001
            for text, calls in replies:
                await self.push_reply(text, calls)
            await self.push_end_of_turn()
