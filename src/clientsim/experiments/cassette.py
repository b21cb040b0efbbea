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
  instead. With ``replay="all"`` (the default) nothing is called live, the agent
  included. With ``replay="simulator"`` the simulated side (the customer's, the
  judges', the supervisor's model calls) is replayed and the agent is called live;
  each model call hands in a digest of what it is asked
  (:func:`~clientsim.llm.run_model.input_digest`, recorded in the stream
  ``"input:" + kind``), and a call asked something else than in the recording means
  the agent answered otherwise. A
  call the cassette has no (fitting) entry for raises
  :class:`~clientsim.errors.CassetteMissError` (``on_miss="fail"``; a simulator
  replay raises :class:`~clientsim.errors.CassetteDivergenceError`, naming the
  first diverging agent turn and showing both replies) or is made live
  (``on_miss="live"``, counted in :attr:`CassetteScope.misses`; a simulator replay
  then records the rest of the run and :meth:`Cassette.commit` writes it back).

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
message, the HTTP status and whether the failure is transient are kept, so a replayed
503 is retried as the live one was) and the agent closing the session, then an end of
turn if a turn after the first did not end with one. Replay checks that the customer says what was
recorded. If not, or if the cassette has no turn left, a strict replay raises
:class:`AgentCassetteMissError` (from ``create_session`` when the conversation has
no turn at all, else from ``send``; a runner ends the run with it as a channel
failure). A non-strict one talks to the real agent from there: from the start, the
session simply forwards to a live session; from a later turn, it opens a live session
in its own task and moves the live events into its queue (the live agent has not
seen the replayed turns).

Example:
    >>> import anyio
    >>> import tempfile
    >>> from pathlib import Path
    >>> from clientsim import (HybridSimulationRunner, LLMParticipant, MessageDraft,
    ...     Outcome, Outcomes, ParticipantRole, TargetChannel)
    >>> from clientsim.experiments import Cassette, CassetteChannel
    >>> calls = []
    >>> async def my_agent(message):
    ...     calls.append(message)
    ...     return f"You said: {message}"
    >>> async def talk(mode, path, replay="all"):
    ...     customer = LLMParticipant(ParticipantRole.CUSTOMER, "offline")
    ...     outcomes = Outcomes(outcomes=(Outcome(name="resolved", description="Fixed"),))
    ...     first = MessageDraft("Hi", ParticipantRole.CUSTOMER)
    ...     async with Cassette(path, mode=mode, replay=replay) as cassette:
    ...         scope = await cassette.scope("conversation-1")
    ...         channel = CassetteChannel(TargetChannel(my_agent), scope)
    ...         result = await HybridSimulationRunner(
    ...             customer, channel, None, outcomes, first, max_messages=4
    ...         ).run()
    ...         await cassette.commit(scope)
    ...     return len(result.conversation.messages)
    >>> path = Path(tempfile.mkdtemp()) / "run.cassette"
    >>> anyio.run(talk, "record", path), len(calls)
    (4, 2)
    >>> anyio.run(talk, "replay", path), len(calls)  # the agent is not called again
    (4, 2)
    >>> anyio.run(talk, "replay", path, "simulator"), len(calls)  # the agent is live
    (4, 4)
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Final, Self, TypeVar, final

from clientsim.channels.base import Channel
from clientsim.errors import (
    ClientSimError,
    ConfigError,
    InvalidTypeError,
)
from clientsim.experiments.cassette_channel import CassetteChannel
from clientsim.experiments.cassette_scope import (
    AGENT_KIND,
    INPUT_PREFIX,
    SCHEMA_VERSION,
    AgentCassetteMissError,
    CassetteMode,
    CassetteScope,
    OnMiss,
    ReplayMode,
    _check_mode,
    _check_name,
    _check_replay,
    _resolve_on_miss,
)
from clientsim.store.sqlite_file import SQLiteFile, transaction


__all__ = [
    "AGENT_KIND",
    "INPUT_PREFIX",
    "SCHEMA_VERSION",
    "AgentCassetteMissError",
    "Cassette",
    "CassetteChannel",
    "CassetteMode",
    "CassetteScope",
    "OnMiss",
    "ReplayMode",
]
_FORMAT: Final = "clientsim-cassette"
_T = TypeVar("_T")


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

    Blocking work runs in worker threads (one connection, one call at a time:
    :class:`~clientsim.store.sqlite_file.SQLiteFile`), never on the event loop.
    The file opens on ``async with`` or on first use; close it with :meth:`aclose`.
    A record-mode cassette on an existing cassette file keeps the
    conversations it already holds (a resumed run goes on recording); a conversation
    committed again replaces its entries.

    Example:
        >>> import anyio
        >>> import tempfile
        >>> from pathlib import Path
        >>> from clientsim.experiments import Cassette
        >>> path = Path(tempfile.mkdtemp()) / "cassettes" / "run.cassette"
        >>> async def record_nothing():
        ...     async with Cassette(path, mode="record") as cassette:
        ...         scope = await cassette.scope("conversation-1")
        ...         await cassette.commit(scope)
        >>> anyio.run(record_nothing)
        >>> path.is_file()
        True

    Args:
        path: the cassette file (created with its folder when recording).
        mode: ``"record"`` or ``"replay"``.
        replay: what a replay answers from the file. ``"all"`` (the default): every
            model call and the agent's turns, so nothing is called live (it tests
            everything around the agent, not the agent). ``"simulator"`` (the
            recommended mode to test an agent): the simulated side's model calls
            (customer, judges, supervisor) are replayed and the agent is called
            live; each replayed call checks that it is asked what it was asked in
            the recording, so an agent that answers otherwise is caught (see
            ``on_miss``).
        on_miss: in replay, what happens when the cassette has no fitting entry.
            ``"fail"`` (the default): raise
            :class:`~clientsim.errors.CassetteMissError` (in a simulator replay
            whose agent answered otherwise:
            :class:`~clientsim.errors.CassetteDivergenceError`, naming the first
            diverging turn and showing both replies). ``"live"``: call live from
            there; a simulator replay then records the new run and :meth:`commit`
            writes it over the conversation's recording, so the next replay replays
            it (a ``replay="all"`` replay calls live but writes nothing).
        strict: the older spelling of ``on_miss``: ``True`` is ``"fail"``,
            ``False`` is ``"live"``. Give one of the two (both only if they agree).

    Raises:
        ConfigError: a bad argument (``strict`` and ``on_miss`` that contradict
            each other among them); when the file opens: replaying a file that
            does not exist, or a file that is not a cassette (of this schema
            version).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        mode: CassetteMode,
        replay: ReplayMode = "all",
        on_miss: OnMiss | None = None,
        strict: bool | None = None,
    ) -> None:
        if not isinstance(path, str | Path):
            raise InvalidTypeError(
                f"path must be a str or a Path; got {type(path).__name__}"
            )
        if not str(path):
            raise ConfigError("path must name a file; got ''")
        self.path = Path(path)
        self.mode: CassetteMode = _check_mode(mode)
        self.replay: ReplayMode = _check_replay(replay)
        self.on_miss: OnMiss = _resolve_on_miss(on_miss, strict)
        shown = str(self.path)
        self._file = SQLiteFile(
            self.path,
            what=f"cassette {shown!r}",
            prepare=self._prepare,
            before_connect=self._check_exists,
            wal=self.mode == "record",
            create_folder=self.mode == "record",
            failed=lambda exc: ClientSimError(
                f"cassette {shown!r}: the database failed: {type(exc).__name__}: {exc}"
            ),
            closed=lambda: ClientSimError(
                f"cassette {shown!r} is closed; open a new Cassette to use it"
            ),
        )

    def __repr__(self) -> str:
        return (
            f"Cassette({str(self.path)!r}, mode={self.mode!r}, "
            f"replay={self.replay!r}, on_miss={self.on_miss!r})"
        )

    @property
    def strict(self) -> bool:
        """``on_miss == "fail"``."""
        return self.on_miss == "fail"

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
        if not self._file.opened:
            await self._call(_nothing)

    async def aclose(self) -> None:
        """Close the file; closing twice is harmless."""
        await self._file.aclose()

    async def scope(self, conversation: str) -> CassetteScope:
        """The scope of ``conversation``: empty to record, or loaded to replay.

        Raises:
            ConfigError: a bad conversation name; the file cannot be opened.
        """
        _check_name("conversation", conversation)
        if self.mode == "record":
            await self.open()
            return CassetteScope(conversation, mode="record", path=self.path)
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
            replay=self.replay,
            on_miss=self.on_miss,
            path=self.path,
            entries=entries,
        )

    def wrap_channel(self, channel: Channel, scope: CassetteScope) -> Channel:
        """``channel`` as the conversation of ``scope`` reaches it: recorded or replayed.

        The batch runner calls this for each conversation's agent channel.
        """
        return CassetteChannel(channel, scope)

    async def commit(self, scope: CassetteScope) -> None:
        """Write ``scope``'s entries, replacing its conversation's, in one transaction.

        In replay mode, only a scope that went live and recorded the new run is
        written (:attr:`CassetteScope.changed`: a ``replay="simulator"``,
        ``on_miss="live"`` replay that diverged or missed); otherwise it is a
        no-op. A cancelled commit still finishes (it runs in a worker thread): the
        conversation is either all old or all new.

        Raises:
            InvalidTypeError: ``scope`` is not a :class:`CassetteScope`.
            ConfigError: the scope is not a scope of this cassette, in its mode.
        """
        if not isinstance(scope, CassetteScope):
            raise InvalidTypeError(
                f"commit takes a CassetteScope; got {type(scope).__name__}"
            )
        if self.mode == "replay" and not scope.changed:
            return
        if scope.mode != self.mode or (
            scope.path is not None and scope.path != self.path
        ):
            raise ConfigError(
                f"cassette {str(self.path)!r} commits the {self.mode}-mode scopes it "
                f"made; got {scope!r} of {str(scope.path)!r}"
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
        return await self._file.run(function)

    def _check_exists(self) -> None:
        if self.mode == "replay" and not self.path.is_file():
            raise ConfigError(
                f"cannot replay cassette {str(self.path)!r}: no such file; record it "
                "first with mode='record'"
            )

    def _prepare(self, connection: sqlite3.Connection) -> None:
        shown = str(self.path)
        # One read transaction: the tables and the meta rows are one snapshot, even
        # while another connection creates the file.
        try:
            connection.execute("BEGIN")
        except sqlite3.DatabaseError as exc:
            raise self._not_a_cassette(f"not an SQLite database: {exc}") from exc
        try:
            tables, meta = self._look(connection)
        finally:
            connection.execute("ROLLBACK")
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
                _create(connection)
            except sqlite3.Error as exc:
                raise ConfigError(
                    f"cannot record to cassette {shown!r}: {exc}"
                ) from exc

    def _look(self, connection: sqlite3.Connection) -> tuple[set[str], dict[str, str]]:
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
        return tables, meta

    def _not_a_cassette(self, why: str) -> ConfigError:
        also = " or of a new file to record" if self.mode == "record" else ""
        return ConfigError(
            f"{str(self.path)!r} is not a clientsim cassette ({why}); give the path of "
            f"a cassette file{also}"
        )


def _nothing(_: sqlite3.Connection) -> None:
    """Used to open the file."""


def _create(connection: sqlite3.Connection) -> None:
    with transaction(connection):
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
    with transaction(connection):
        connection.execute(
            "DELETE FROM entries WHERE conversation = ?", (conversation,)
        )
        connection.executemany(
            "INSERT INTO entries (conversation, kind, idx, payload) VALUES (?, ?, ?, ?)",
            rows,
        )


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
