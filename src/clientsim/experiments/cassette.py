"""The two-sided cassette: record every model call and agent reply, replay them offline.

A :class:`Cassette` is one SQLite file of recorded *entries*. For each conversation it
holds one ordered stream per *kind*: ``"agent"`` for the agent's turns (written by
:class:`CassetteChannel`), and the kinds the chat-model wrapper uses for model calls.
A run opens one :class:`CassetteScope` per conversation with :meth:`Cassette.scope`,
and everything the conversation needs from outside goes through it:

* ``mode="record"``: every call is made live and its result is
  :meth:`CassetteScope.put`; when the conversation is over, :meth:`Cassette.commit`
  writes the scope in one transaction, replacing what that conversation had before
  (a retried or re-run conversation never leaves a mix of two runs).
* ``mode="replay"``: every call :meth:`CassetteScope.take`\\ s the next recorded result
  instead, and nothing is called live. A call the cassette has no entry for raises
  :class:`~clientsim.errors.CassetteMissError` (``strict=True``) or is made live
  (``strict=False``, counted in :attr:`CassetteScope.misses`).

The agent's side (:class:`CassetteChannel`) records by *forwarding*: the recording
session passes every call straight to the real session (no extra task, no extra hop),
so the runner sees the real session's behaviour. If the real session is a
:class:`~clientsim.channels.QueueSession`, so is the recording one, with the same
``send_completes_turn`` (the hybrid runner keeps its inline fast path and its turn
endings); otherwise it is a plain :class:`~clientsim.channels.Session` whose
``subscribe()`` wraps the real one. What is recorded is what the reader *read*: turn
*k* is every agent event read after the *k*-th customer ``send`` and before the next
one (turn 0: what the agent said before the first send, e.g. a greeting). One entry
per turn::

    {"turn": 1, "sent": "my order is late",
     "events": [{"type": "message", "content": "Sorry!"}, {"type": "end_of_turn"}],
     "closed": false, "send_error": null}

Replay opens no session on the real agent while the cassette has a fitting turn. The
replaying session is a ``QueueSession`` with ``send_completes_turn = True`` that plays
turn 0 when it is created and turn *k* on the *k*-th ``send``: the messages (stamped
now), end-of-turn events, failures (clientsim's channel errors keep their class; the
message is kept) and the agent closing the session, then an end of turn if a turn
after the first did not end with one. Replay checks that the customer says what was
recorded. If not, or if the cassette has no turn left, a strict replay raises
:class:`AgentCassetteMissError` (from ``create_session`` when the conversation has
no turn at all, else from ``send``; a runner ends the run with it as a channel
failure). A non-strict one talks to the real agent from there: from the start, the
session simply forwards to a live session; from a later turn, it opens a live session
in its own task and moves the live events into its queue (the live agent has not
seen the replayed turns).

Example:
    >>> async with Cassette("run.cassette", mode="record") as cassette:
    ...     scope = await cassette.scope("conversation-1")
    ...     channel = CassetteChannel(TargetChannel(my_agent), scope)
    ...     result = await HybridSimulationRunner(customer, channel, intent, outcomes).run()
    ...     await cassette.commit(scope)  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Final, Literal, Self, TypeVar, final

import anyio
import anyio.to_thread
import attrs

from clientsim.channels.base import (
    Channel,
    QueueSession,
    Session,
    SessionEvent,
    TurnEnded,
)
from clientsim.errors import (
    AgentTimeoutError,
    CassetteMissError,
    ChannelError,
    ClientSimError,
    ConfigError,
    InvalidTypeError,
    SessionClosedError,
)
from clientsim.models import Conversation, Message


__all__ = [
    "AGENT_KIND",
    "SCHEMA_VERSION",
    "AgentCassetteMissError",
    "Cassette",
    "CassetteChannel",
    "CassetteMode",
    "CassetteScope",
]

CassetteMode = Literal["record", "replay"]
"""``"record"``: call live and keep the results; ``"replay"``: answer from the file."""

SCHEMA_VERSION: Final = 1
"""The version of the cassette file's tables this module reads and writes."""

AGENT_KIND: Final = "agent"
"""The stream :class:`CassetteChannel` keeps the agent's turns in."""

_FORMAT: Final = "clientsim-cassette"
_MODES: Final = ("record", "replay")
_FIX: Final = (
    "re-record the cassette (mode='record'), or replay with strict=False to call "
    "live where it has no entry"
)
_SEND_FAILED: Final = "sending to the agent failed: "
_T = TypeVar("_T")


def _check_name(what: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidTypeError(f"{what} must be a str; got {type(value).__name__}")
    if not value:
        raise ConfigError(f"{what} must be a non-empty string; got ''")
    return value


def _dump(kind: str, payload: object) -> str:
    try:
        return json.dumps(payload, allow_nan=False, ensure_ascii=False)
    except TypeError as exc:
        raise InvalidTypeError(
            f"a cassette entry of kind {kind!r} must be JSON-able (dicts, lists, str, "
            f"numbers, bools, None); {exc}"
        ) from exc
    except ValueError as exc:  # a circular reference, NaN or infinity
        raise ConfigError(
            f"a cassette entry of kind {kind!r} must be JSON-able (finite numbers, no "
            f"circular references); {exc}"
        ) from exc


# ----- the scope: one conversation's entries ---------------------------------------------


@final
class CassetteScope:
    """One conversation's entries: what it recorded, or what it replays.

    Used from the event loop only; it does no I/O (the :class:`Cassette` loads and
    writes it). Each kind is its own stream with its own counter, starting at 0.

    Example:
        >>> scope = CassetteScope("c1", mode="replay", entries={"model:customer": [{"a": 1}]})
        >>> scope.take("model:customer")
        {'a': 1}
        >>> scope.hits
        1

    Args:
        conversation: the conversation the entries belong to.
        mode: ``"record"`` or ``"replay"``.
        strict: in replay, whether a missing entry raises (``True``) or lets the caller
            call live (``False``).
        path: the cassette file, for messages (``None`` for a scope made by hand).
        entries: in replay, the recorded payloads of each kind, in order (taken as
            they are: each is handed out once).

    Raises:
        ConfigError: a bad mode, conversation or kind (InvalidTypeError for a wrong
            type).

    Attributes:
        hits: entries handed out by :meth:`take`.
        misses: non-strict replays that found no fitting entry (the caller called
            live).
    """

    def __init__(
        self,
        conversation: str,
        *,
        mode: CassetteMode,
        strict: bool = True,
        path: str | Path | None = None,
        entries: Mapping[str, Sequence[object]] | None = None,
    ) -> None:
        self.conversation = _check_name("conversation", conversation)
        self.mode: CassetteMode = _check_mode(mode)
        self.strict = _check_strict(strict)
        self.path = Path(path) if path is not None else None
        self.hits = 0
        self.misses = 0
        self._taken: dict[str, int] = {}
        self._recorded: dict[str, list[str]] = {}
        self._entries: dict[str, list[object]] = {}
        for kind, payloads in (entries or {}).items():
            _check_name("a cassette entry kind", kind)
            if isinstance(payloads, str | bytes) or not isinstance(payloads, Sequence):
                raise InvalidTypeError(
                    f"entries[{kind!r}] must be a sequence of payloads; got "
                    f"{type(payloads).__name__}"
                )
            self._entries[kind] = list(payloads)

    def __repr__(self) -> str:
        return (
            f"CassetteScope({self.conversation!r}, mode={self.mode!r}, "
            f"strict={self.strict!r}, hits={self.hits}, misses={self.misses})"
        )

    def take(self, kind: str) -> object | None:
        """The next recorded payload of stream ``kind`` (replay), or ``None``.

        Returns:
            The payload; ``None`` in record mode (call live and :meth:`put` the
            result), and in a non-strict replay that has no entry left (call live).

        Raises:
            CassetteMissError: a strict replay has no entry left for ``kind``; the
                message names the cassette, the conversation, the kind and the index.
        """
        _check_name("a cassette entry kind", kind)
        if self.mode == "record":
            return None
        recorded = self._entries.get(kind, [])
        index = self._taken.get(kind, 0)
        if index < len(recorded):
            self._taken[kind] = index + 1
            self.hits += 1
            return recorded[index]
        if self.strict:
            raise CassetteMissError(
                f"{_where(self)}: no recorded {kind!r} entry #{index} (it holds "
                f"{len(recorded)}); the run asked for more than the recorded run did: "
                f"{_FIX}"
            )
        self._taken[kind] = index + 1
        self.misses += 1
        return None

    def mismatch(self, kind: str, detail: str) -> None:
        """Report that the entry just taken from ``kind`` does not fit the run.

        For a caller that checks what it replays (e.g. the customer's message of an
        agent turn): the run went another way than the recorded one.

        Args:
            kind: the stream the entry came from.
            detail: what does not fit, for the message.

        Raises:
            CassetteMissError: in a strict replay.
        """
        _check_name("a cassette entry kind", kind)
        if self.mode == "record":
            return
        index = max(self._taken.get(kind, 0) - 1, 0)
        if self.strict:
            raise CassetteMissError(
                f"{_where(self)}: recorded {kind!r} entry #{index} does not fit the "
                f"run: {detail}; the run went another way than the recorded one: {_FIX}"
            )
        self.hits = max(self.hits - 1, 0)
        self.misses += 1

    def put(self, kind: str, payload: object) -> None:
        """Append ``payload`` to stream ``kind`` (record mode; a no-op in replay).

        The payload is turned into JSON now, so a later change to the object is not
        recorded and a payload that is not JSON-able fails here.

        Raises:
            InvalidTypeError: the payload holds something JSON cannot hold.
            ConfigError: the payload has a circular reference, NaN or infinity.
        """
        _check_name("a cassette entry kind", kind)
        if self.mode == "replay":
            return
        self._recorded.setdefault(kind, []).append(_dump(kind, payload))

    @property
    def kinds(self) -> tuple[str, ...]:
        """The streams that hold entries, sorted."""
        held = self._recorded if self.mode == "record" else self._entries
        return tuple(sorted(kind for kind, payloads in held.items() if payloads))

    def payloads(self, kind: str) -> list[object]:
        """Every payload of stream ``kind``: recorded so far, or loaded to replay."""
        if self.mode == "record":
            return [json.loads(text) for text in self._recorded.get(kind, [])]
        return list(self._entries.get(kind, []))

    def rows(self) -> list[tuple[str, int, str]]:
        """What :meth:`Cassette.commit` writes: ``(kind, index, json)`` per entry."""
        return [
            (kind, index, text)
            for kind, texts in sorted(self._recorded.items())
            for index, text in enumerate(texts)
        ]


def _where(scope: CassetteScope) -> str:
    cassette = f"cassette {str(scope.path)!r}" if scope.path else "cassette"
    return f"{cassette}, conversation {scope.conversation!r}"


def _check_mode(mode: object) -> CassetteMode:
    if mode == "record":
        return "record"
    if mode == "replay":
        return "replay"
    raise ConfigError(f"mode must be 'record' or 'replay'; got {mode!r}")


def _check_strict(strict: object) -> bool:
    if not isinstance(strict, bool):
        raise InvalidTypeError(f"strict must be True or False; got {strict!r}")
    return strict


# ----- the file ---------------------------------------------------------------------------

_CREATE: Final = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    (
        "CREATE TABLE IF NOT EXISTS entries (conversation TEXT NOT NULL, kind TEXT "
        "NOT NULL, idx INTEGER NOT NULL, payload TEXT NOT NULL, PRIMARY KEY "
        "(conversation, kind, idx))"
    ),
)


@final
class Cassette:
    """One SQLite file that records, or replays, what conversations needed from outside.

    Blocking work runs in worker threads (one connection, one lock), never on the
    event loop. The file opens on ``async with`` or on first use; close it with
    :meth:`aclose`. A record-mode cassette on an existing cassette file keeps the
    conversations it already holds (a resumed run goes on recording); a conversation
    committed again replaces its entries.

    Example:
        >>> async with Cassette("run.cassette", mode="replay") as cassette:
        ...     scope = await cassette.scope("conversation-1")
        ...     scope.take("agent")  # doctest: +SKIP

    Args:
        path: the cassette file (created with its folder when recording).
        mode: ``"record"`` or ``"replay"``.
        strict: in replay, whether a call the cassette has no entry for raises
            :class:`~clientsim.errors.CassetteMissError` (``True``) or is made live.

    Raises:
        ConfigError: a bad argument; when the file opens: replaying a file that does
            not exist, or a file that is not a cassette (of this schema version).
    """

    def __init__(
        self, path: str | Path, *, mode: CassetteMode, strict: bool = True
    ) -> None:
        if not isinstance(path, str | Path):
            raise InvalidTypeError(
                f"path must be a str or a Path; got {type(path).__name__}"
            )
        if not str(path):
            raise ConfigError("path must name a file; got ''")
        self.path = Path(path)
        self.mode: CassetteMode = _check_mode(mode)
        self.strict = _check_strict(strict)
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"Cassette({str(self.path)!r}, mode={self.mode!r}, strict={self.strict!r})"
        )

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def open(self) -> None:
        """Open the file now (it opens on first use otherwise); opening twice is harmless.

        Raises:
            ConfigError: see the class.
        """
        if self._connection is None:
            await self._call(_nothing)

    async def aclose(self) -> None:
        """Close the file; closing twice is harmless."""
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(self._close)

    async def scope(self, conversation: str) -> CassetteScope:
        """The scope of ``conversation``: empty to record, or loaded to replay.

        Raises:
            ConfigError: a bad conversation name; the file cannot be opened.
        """
        _check_name("conversation", conversation)
        if self.mode == "record":
            await self.open()
            return CassetteScope(
                conversation, mode="record", strict=self.strict, path=self.path
            )
        rows = await self._call(functools.partial(_load, conversation=conversation))
        entries: dict[str, list[object]] = {}
        for kind, index, text in rows:
            try:
                payload = json.loads(text)
            except ValueError as exc:
                raise ConfigError(
                    f"cassette {str(self.path)!r}: conversation {conversation!r}, "
                    f"{kind!r} entry #{index} is not valid JSON ({exc}); re-record it"
                ) from exc
            entries.setdefault(kind, []).append(payload)
        return CassetteScope(
            conversation,
            mode="replay",
            strict=self.strict,
            path=self.path,
            entries=entries,
        )

    async def commit(self, scope: CassetteScope) -> None:
        """Write ``scope``'s entries, replacing its conversation's, in one transaction.

        A no-op in replay mode. A cancelled commit still finishes (it runs in a
        worker thread): the conversation is either all old or all new.

        Raises:
            InvalidTypeError: ``scope`` is not a :class:`CassetteScope`.
            ConfigError: the scope is not a record-mode scope of this cassette.
        """
        if not isinstance(scope, CassetteScope):
            raise InvalidTypeError(
                f"commit takes a CassetteScope; got {type(scope).__name__}"
            )
        if self.mode == "replay":
            return
        if scope.mode != "record" or (
            scope.path is not None and scope.path != self.path
        ):
            raise ConfigError(
                f"cassette {str(self.path)!r} commits the record-mode scopes it made; "
                f"got {scope!r} of {str(scope.path)!r}"
            )
        rows = [
            (scope.conversation, kind, index, text)
            for kind, index, text in scope.rows()
        ]
        await self._call(
            functools.partial(_replace, conversation=scope.conversation, rows=rows)
        )

    async def entry_count(self, conversation: str | None = None) -> int:
        """How many entries the file holds: for one conversation, or for all."""
        if conversation is not None:
            _check_name("conversation", conversation)
        return await self._call(functools.partial(_count, conversation=conversation))

    async def conversations(self) -> list[str]:
        """The conversations the file holds entries for, sorted."""
        return await self._call(_conversations)

    # ----- worker-thread side -----------------------------------------------------------

    async def _call(self, function: Callable[[sqlite3.Connection], _T]) -> _T:
        return await anyio.to_thread.run_sync(self._locked, function)

    def _locked(self, function: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._lock:
            connection = self._connect()
            try:
                return function(connection)
            except sqlite3.Error as exc:
                raise ClientSimError(
                    f"cassette {str(self.path)!r}: the database failed: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise ClientSimError(
                f"cassette {str(self.path)!r} is closed; open a new Cassette to use it"
            )
        if self._connection is None:
            self._connection = self._open_file()
        return self._connection

    def _open_file(self) -> sqlite3.Connection:
        shown = str(self.path)
        if self.mode == "replay" and not self.path.is_file():
            raise ConfigError(
                f"cannot replay cassette {shown!r}: no such file; record it first "
                "with mode='record'"
            )
        try:
            if self.mode == "record":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None
            )
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open cassette {shown!r}: {exc}") from exc
        try:
            self._prepare(connection)
        except BaseException:
            connection.close()
            raise
        return connection

    def _prepare(self, connection: sqlite3.Connection) -> None:
        shown = str(self.path)
        try:
            tables = {
                row[0]
                for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                )
            }
        except sqlite3.DatabaseError as exc:
            raise self._not_a_cassette(f"not an SQLite database: {exc}") from exc
        try:
            meta = dict(connection.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError:  # no meta table, or someone else's
            meta = {}
        if meta.get("format") == _FORMAT and "entries" in tables:
            version = meta.get("schema_version")
            if version != str(SCHEMA_VERSION):
                raise ConfigError(
                    f"cassette {shown!r} has schema version {version}; this clientsim "
                    f"reads version {SCHEMA_VERSION}: re-record it"
                )
        elif tables or self.mode == "replay":
            held = ", ".join(sorted(tables)) or "no tables"
            raise self._not_a_cassette(f"an SQLite database with {held}")
        if self.mode == "record":
            try:
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = NORMAL")
                _create(connection)
            except sqlite3.Error as exc:
                raise ConfigError(
                    f"cannot record to cassette {shown!r}: {exc}"
                ) from exc

    def _not_a_cassette(self, why: str) -> ConfigError:
        also = " or of a new file to record" if self.mode == "record" else ""
        return ConfigError(
            f"{str(self.path)!r} is not a clientsim cassette ({why}); give the path of "
            f"a cassette file{also}"
        )

    def _close(self) -> None:
        with self._lock:
            self._closed = True
            connection, self._connection = self._connection, None
            if connection is not None:
                connection.close()


def _nothing(_: sqlite3.Connection) -> None:
    """Used to open the file."""


def _create(connection: sqlite3.Connection) -> None:
    connection.execute("BEGIN IMMEDIATE")
    try:
        for statement in _CREATE:
            connection.execute(statement)
        connection.executemany(
            "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
            [
                ("format", _FORMAT),
                ("schema_version", str(SCHEMA_VERSION)),
                ("created_at", datetime.now(UTC).isoformat()),
            ],
        )
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _load(
    connection: sqlite3.Connection, *, conversation: str
) -> list[tuple[str, int, str]]:
    return connection.execute(
        "SELECT kind, idx, payload FROM entries WHERE conversation = ? "
        "ORDER BY kind, idx",
        (conversation,),
    ).fetchall()


def _replace(
    connection: sqlite3.Connection,
    *,
    conversation: str,
    rows: list[tuple[str, str, int, str]],
) -> None:
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute(
            "DELETE FROM entries WHERE conversation = ?", (conversation,)
        )
        connection.executemany(
            "INSERT INTO entries (conversation, kind, idx, payload) VALUES (?, ?, ?, ?)",
            rows,
        )
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _count(connection: sqlite3.Connection, *, conversation: str | None) -> int:
    if conversation is None:
        row = connection.execute("SELECT COUNT(*) FROM entries").fetchone()
    else:
        row = connection.execute(
            "SELECT COUNT(*) FROM entries WHERE conversation = ?", (conversation,)
        ).fetchone()
    return int(row[0])


def _conversations(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute(
        "SELECT DISTINCT conversation FROM entries ORDER BY conversation"
    ).fetchall()
    return [str(row[0]) for row in rows]


# ----- the agent's side -------------------------------------------------------------------


class AgentCassetteMissError(CassetteMissError, ChannelError):
    """A replaying session had no recorded agent turn for the run, or the run differs.

    Both a :class:`~clientsim.errors.CassetteMissError` (what happened) and a
    :class:`~clientsim.errors.ChannelError` (where): a runner ends the run with it as
    a channel failure (``result.error.source == "channel"``), and the agent is never
    called.
    """


_CHANNEL_ERRORS: Final[Mapping[str, type[ChannelError]]] = {
    f"{kind.__module__}.{kind.__qualname__}": kind
    for kind in (ChannelError, SessionClosedError, AgentTimeoutError)
}


@attrs.frozen
class _ErrorData:
    """A failure as a cassette keeps it: the class's qualified name and the message."""

    name: str
    message: str
    channel: bool

    @classmethod
    def of(cls, exc: BaseException) -> _ErrorData:
        kind = type(exc)
        return cls(
            name=f"{kind.__module__}.{kind.__qualname__}",
            message=str(exc),
            channel=isinstance(exc, ChannelError),
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
        return cls(name=name, message=message, channel=channel)

    def to_json(self) -> dict[str, object]:
        return {"error": self.name, "message": self.message, "channel": self.channel}

    def rebuild(self, prefix: str) -> ChannelError:
        """The error to raise in replay: clientsim's channel errors keep their class;
        others become a ChannelError worded as the runner words them."""
        kind = _CHANNEL_ERRORS.get(self.name)
        if kind is not None:
            return kind(self.message)
        if self.channel:
            return ChannelError(self.message)
        return ChannelError(f"{prefix}{self.name.rpartition('.')[2]}: {self.message}")


_Event = str | TurnEnded | _ErrorData
"""A replayed event: a message's content, an end of turn, a failure."""


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
    content = data.get("content")
    if kind == "message" and isinstance(content, str):
        return content
    raise TypeError(
        "an event must be a 'message' with a 'content' string, an 'end_of_turn' or a "
        "'failure'"
    )


def _event_json(event: SessionEvent) -> dict[str, object]:
    if isinstance(event, TurnEnded):
        return {"type": "end_of_turn"}
    return {"type": "message", "content": event.content}


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

    def _flush(self) -> None:
        if self._finished:
            return
        self._scope.put(
            AGENT_KIND,
            {
                "turn": self._turn,
                "sent": self._sent,
                "events": self._events,
                "closed": self._closed,
                "send_error": None
                if self._send_error is None
                else self._send_error.to_json(),
            },
        )
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
    the runner reads is recorded one entry per turn (see the module docs). Replay
    never opens a session on ``inner`` while the cassette has a fitting turn: the
    agent is not contacted. A strict miss raises :class:`AgentCassetteMissError`
    from ``create_session`` (no turn recorded at all) or from ``send``; after a
    non-strict miss the session opens a live session on ``inner`` and sends the rest
    of the conversation to it (the live agent has not seen the replayed turns; the
    session must be used as ``async with``).

    A scope records or replays its sessions one after another (e.g. the attempts of
    a run): do not interleave two sessions of one scope. Replay reproduces what was
    read, turn by turn, not when: messages are stamped when they are replayed, and a
    turn that did not end with an end-of-turn event gets one (a turn that ended on a
    timeout ends at once, with the same messages).

    Example:
        >>> scope = await cassette.scope("conversation-1")  # doctest: +SKIP
        >>> channel = CassetteChannel(TargetChannel(my_agent), scope)  # doctest: +SKIP

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
        if self.scope.mode == "replay":
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
