"""A run store in one SQLite file: WAL mode, one connection, driven from threads.

Every call runs on a worker thread, one at a time per store, on a single connection
(:class:`~clientsim.store.sqlite_file.SQLiteFile`). Each write is its own committed
transaction, so whatever a call reported stored is on disk when the call returns and
survives the process being killed. Several stores (in one process or many) may share
a file: registration and saving are single ``INSERT`` statements, atomic in SQLite.
"""

from __future__ import annotations

import sqlite3
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self, TypeAlias, TypeVar

import anyio
import anyio.to_thread
import attrs

from clientsim.errors import ConfigError, DuplicateSimulationError, SimulationError
from clientsim.models import from_json
from clientsim.models.records import ConversationRecord
from clientsim.models.team import TeamSessionRecord
from clientsim.store.base import SimulationInfo
from clientsim.store.memory import (
    check_id,
    check_record,
    decode_metadata,
    encode_metadata,
    row_values,
    utc_now,
)
from clientsim.store.sqlite_file import SQLiteFile, transaction
from clientsim.store.team_sessions import check_session, decode_session, encode_document


__all__ = ["SCHEMA_VERSION", "SQLiteStore"]

T = TypeVar("T")

_SessionRow: TypeAlias = tuple[str, str | None, str, str, str]

SCHEMA_VERSION: Final = 2
"""The ``PRAGMA user_version`` of a clientsim store file.

1: simulations and conversations; 2: team sessions too. A file of an older version
is brought up to date when a store opens it (see ``_MIGRATIONS``).
"""

_TEAM_SESSIONS: Final = """
    CREATE TABLE team_sessions (
        session_id TEXT PRIMARY KEY,
        parent_id TEXT,
        document TEXT NOT NULL,  -- JSON object
        created_at TEXT NOT NULL,  -- UTC, ISO 8601; kept from the first save
        updated_at TEXT NOT NULL
    )
"""

_SCHEMA: Final = (
    """
    CREATE TABLE simulations (
        simulation_id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        metadata TEXT NOT NULL,  -- JSON object
        created_at TEXT NOT NULL,  -- UTC, ISO 8601
        updated_at TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE conversations (
        run_id TEXT NOT NULL,
        key TEXT NOT NULL,
        seq INTEGER NOT NULL,  -- 1, 2, ... in the order stored, per run
        status TEXT NOT NULL,
        seed INTEGER NOT NULL,
        input_id TEXT NOT NULL,
        persona_id TEXT NOT NULL,
        iteration INTEGER NOT NULL,
        outcome TEXT,
        error_type TEXT,
        started_at TEXT,
        duration_seconds REAL NOT NULL,
        record TEXT NOT NULL,  -- the ConversationRecord as JSON
        PRIMARY KEY (run_id, key)
    )
    """,
    "CREATE UNIQUE INDEX conversations_in_order ON conversations (run_id, seq)",
    _TEAM_SESSIONS,
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)

_MIGRATIONS: Final[dict[int, tuple[str, ...]]] = {
    # from version -> the statements that bring a file to the next version
    1: (_TEAM_SESSIONS, "PRAGMA user_version = 2"),
}

_UPSERT_TEAM_SESSION: Final = """
    INSERT INTO team_sessions (session_id, parent_id, document, created_at, updated_at)
    VALUES (:session_id, :parent_id, :document, :created_at, :updated_at)
    ON CONFLICT (session_id) DO UPDATE SET
        parent_id = excluded.parent_id,
        document = excluded.document,
        updated_at = excluded.updated_at
"""

_SELECT_TEAM_SESSIONS: Final = """
    SELECT session_id, parent_id, document, created_at, updated_at FROM team_sessions
"""

_SELECT_SIMULATIONS: Final = """
    SELECT simulation_id, status, metadata, created_at, updated_at FROM simulations
"""

_INSERT_CONVERSATION: Final = """
    INSERT INTO conversations (
        run_id, key, seq, status, seed, input_id, persona_id, iteration,
        outcome, error_type, started_at, duration_seconds, record
    )
    VALUES (
        :run_id, :key,
        (SELECT COALESCE(MAX(seq), 0) + 1 FROM conversations WHERE run_id = :run_id),
        :status, :seed, :input_id, :persona_id, :iteration,
        :outcome, :error_type, :started_at, :duration_seconds, :record
    )
    ON CONFLICT (run_id, key) DO NOTHING
"""


def _timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _info(row: tuple[str, str, str, str, str], path: Path) -> SimulationInfo:
    simulation_id, status, metadata, created_at, updated_at = row
    return SimulationInfo(
        simulation_id=simulation_id,
        status=status,
        metadata=decode_metadata(
            metadata, f"simulation {simulation_id!r} in {str(path)!r}"
        ),
        created_at=datetime.fromisoformat(created_at),
        updated_at=datetime.fromisoformat(updated_at),
    )


@typing.final
@attrs.define(eq=False)
class SQLiteStore:
    """A :class:`~clientsim.store.SimulationStore` in one SQLite file.

    Constructing does no I/O: the file (and its parent directories) is opened, or
    created, on first use or on ``async with``. It is safe for hundreds of concurrent
    tasks, for several stores on one file, and for a process killed at any moment:
    each saved conversation is its own committed transaction.

    Args:
        path: the database file; parent directories are created.
        busy_timeout: seconds to wait for another connection's write lock before
            failing.

    Raises:
        ConfigError: (on first use) the file cannot be opened or is not a clientsim
            store: not an SQLite database, another application's database, or another
            schema version; (after :meth:`aclose`) the store is closed.
        SimulationError: (any call) SQLite failed, e.g. the file stayed locked by
            another connection for longer than ``busy_timeout``, or the disk is full.

    Example:
        >>> import anyio, tempfile
        >>> async def main(folder: str) -> list[str]:
        ...     async with SQLiteStore(f"{folder}/runs/store.db") as store:
        ...         await store.register_if_absent("run-1", {"model": "offline"})
        ...         return [info.simulation_id for info in await store.runs()]
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     anyio.run(main, folder)
        ['run-1']
    """

    path: Path = attrs.field(converter=Path)
    busy_timeout: float = attrs.field(default=30.0, kw_only=True)
    _file: SQLiteFile = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        shown = f"the clientsim store {str(self.path)!r}"
        self._file = SQLiteFile(
            self.path,
            what=shown,
            prepare=self._prepare,
            busy_timeout=self.busy_timeout,
            failed=lambda exc: SimulationError(f"{shown} failed: {exc}{_advice(exc)}"),
            closed=lambda: ConfigError(
                f"the SQLiteStore on {self.path} is closed (aclose() was called); "
                "open a new SQLiteStore on the file"
            ),
        )

    async def register_if_absent(
        self, simulation_id: str, metadata: Mapping[str, Any] | None = None
    ) -> SimulationInfo:
        """Register a simulation id with status ``"registered"``.

        Atomic across tasks, stores and processes sharing the file: of many
        concurrent registrations of one id, exactly one succeeds.

        Args:
            simulation_id: a non-empty id.
            metadata: JSON-able data to keep with it (e.g. the experiment config).

        Raises:
            DuplicateSimulationError: the id is already registered.
            ConfigError: a bad id, metadata that is not JSON-able, or a closed store.
        """
        check_id(simulation_id)
        text = encode_metadata(simulation_id, metadata)

        def insert(connection: sqlite3.Connection) -> SimulationInfo:
            now = utc_now()
            stamp = _timestamp(now)
            try:
                connection.execute(
                    "INSERT INTO simulations (simulation_id, status, metadata, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?)",
                    (simulation_id, "registered", text, stamp, stamp),
                )
            except sqlite3.IntegrityError as exc:
                raise DuplicateSimulationError(
                    f"simulation {simulation_id!r} is already registered in "
                    f"{self.path}; pick a new id or resume the registered one"
                ) from exc
            return SimulationInfo(
                simulation_id=simulation_id,
                status="registered",
                metadata=decode_metadata(text),
                created_at=now,
                updated_at=now,
            )

        return await self._run(insert)

    async def get_simulation(self, simulation_id: str) -> SimulationInfo | None:
        """The registered simulation, or ``None`` if the id is not registered."""
        check_id(simulation_id)

        def select(connection: sqlite3.Connection) -> SimulationInfo | None:
            row = connection.execute(
                _SELECT_SIMULATIONS + " WHERE simulation_id = ?",
                (simulation_id,),
            ).fetchone()
            return None if row is None else _info(row, self.path)

        return await self._run(select)

    async def update_status(self, simulation_id: str, status: str) -> None:
        """Set a registered simulation's status (and its ``updated_at``).

        Raises:
            ConfigError: the id is not registered, or the status is not a string.
        """
        check_id(simulation_id)
        check_id(status, "status")

        def update(connection: sqlite3.Connection) -> None:
            cursor = connection.execute(
                "UPDATE simulations SET status = ?, updated_at = ? "
                "WHERE simulation_id = ?",
                (status, _timestamp(utc_now()), simulation_id),
            )
            if cursor.rowcount == 0:
                raise ConfigError(
                    f"cannot update the status of simulation {simulation_id!r}: it is "
                    f"not registered in {self.path}; register it with "
                    "register_if_absent first"
                )

        await self._run(update)

    async def save_conversation(self, record: ConversationRecord) -> bool:
        """Store a finished conversation under ``(record.run_id, record.key)``.

        The row is committed before this returns.

        Returns:
            ``True`` if it was stored; ``False`` (and nothing is stored) if that cell
            of that run is already stored.
        """
        values = row_values(check_record(record))
        if record.started_at is not None:
            values["started_at"] = _timestamp(record.started_at)

        def insert(connection: sqlite3.Connection) -> bool:
            return connection.execute(_INSERT_CONVERSATION, values).rowcount == 1

        return await self._run(insert)

    async def stored_keys(self, run_id: str) -> frozenset[str]:
        """The cell keys already stored for ``run_id`` (empty for an unknown run)."""
        check_id(run_id, "run_id")

        def select(connection: sqlite3.Connection) -> frozenset[str]:
            rows = connection.execute(
                "SELECT key FROM conversations WHERE run_id = ?", (run_id,)
            )
            return frozenset(key for (key,) in rows)

        return await self._run(select)

    async def conversations(self, run_id: str) -> list[ConversationRecord]:
        """Every stored conversation of ``run_id``, in the order they were stored."""
        check_id(run_id, "run_id")

        def select(connection: sqlite3.Connection) -> list[str]:
            rows = connection.execute(
                "SELECT record FROM conversations WHERE run_id = ? ORDER BY seq",
                (run_id,),
            )
            return [text for (text,) in rows]

        texts = await self._run(select)
        # Parse outside the store's queue, so other calls need not wait for it.
        return await anyio.to_thread.run_sync(_parse_records, texts)

    async def runs(self) -> list[SimulationInfo]:
        """Every registered simulation, newest first."""

        def select(connection: sqlite3.Connection) -> list[SimulationInfo]:
            rows = connection.execute(
                _SELECT_SIMULATIONS + " ORDER BY created_at DESC, rowid DESC"
            )
            return [_info(row, self.path) for row in rows]

        return await self._run(select)

    async def save_team_session(self, record: TeamSessionRecord) -> None:
        """Store a team session, or replace the one stored under its ``session_id``
        (keeping the ``created_at`` of its first save). Committed before it returns.

        Raises:
            ConfigError: the document holds something JSON cannot give back exactly,
                or the store is closed.
        """
        values = {
            "session_id": check_session(record).session_id,
            "parent_id": record.parent_id,
            "document": await anyio.to_thread.run_sync(encode_document, record),
            "created_at": _timestamp(record.created_at),
            "updated_at": _timestamp(record.updated_at),
        }

        def upsert(connection: sqlite3.Connection) -> None:
            connection.execute(_UPSERT_TEAM_SESSION, values)

        await self._run(upsert)

    async def team_session(self, session_id: str) -> TeamSessionRecord | None:
        """The stored team session, or ``None``."""
        check_id(session_id, "session_id")

        def select(connection: sqlite3.Connection) -> list[_SessionRow]:
            return connection.execute(
                _SELECT_TEAM_SESSIONS + " WHERE session_id = ?", (session_id,)
            ).fetchall()

        rows = await self._run(select)
        if not rows:
            return None
        return (await anyio.to_thread.run_sync(self._sessions, rows))[0]

    async def team_sessions(self) -> list[TeamSessionRecord]:
        """Every stored team session, newest (by ``created_at``) first."""

        def select(connection: sqlite3.Connection) -> list[_SessionRow]:
            return connection.execute(
                _SELECT_TEAM_SESSIONS + " ORDER BY created_at DESC, rowid DESC"
            ).fetchall()

        rows = await self._run(select)
        return await anyio.to_thread.run_sync(self._sessions, rows)

    def _sessions(self, rows: list[_SessionRow]) -> list[TeamSessionRecord]:
        # Parsed outside the store's queue, so other calls need not wait for it.
        return [decode_session(*row, where=repr(str(self.path))) for row in rows]

    async def aclose(self) -> None:
        """Close the file; idempotent. Calls in flight finish first.

        Any later call raises ``ConfigError``.
        """
        await self._file.aclose()

    async def __aenter__(self) -> Self:
        await self._run(lambda _: None)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _run(self, call: Callable[[sqlite3.Connection], T]) -> T:
        return await self._file.run(call)

    # Everything below runs on a worker thread.

    def _prepare(self, connection: sqlite3.Connection) -> None:
        # Look before writing anything: a foreign file is left untouched.
        if self._schema_version(connection) != SCHEMA_VERSION:
            with transaction(connection):  # BEGIN IMMEDIATE: one writer at a time
                # Another connection may have created or migrated it since we
                # looked; the check and the change are one transaction.
                version = self._schema_version(connection)
                if version == 0:
                    for statement in _SCHEMA:
                        connection.execute(statement)
                    return
                while version < SCHEMA_VERSION:
                    for statement in _MIGRATIONS[version]:
                        connection.execute(statement)
                    version += 1

    def _schema_version(self, connection: sqlite3.Connection) -> int:
        """The file's schema version: 0 for a new (empty) database."""
        try:
            # One statement, so one snapshot: read in two, another process could
            # commit its new schema in between (tables but no version yet).
            version, tables = connection.execute(
                "SELECT (SELECT user_version FROM pragma_user_version),"
                " (SELECT count(*) FROM sqlite_master)"
            ).fetchone()
        except sqlite3.OperationalError:
            raise  # e.g. locked: says nothing about what the file is
        except sqlite3.DatabaseError as exc:
            raise ConfigError(
                f"{str(self.path)!r} is not a clientsim store: {exc}; give a new "
                "path or an existing clientsim store file"
            ) from exc
        if version == 0 and tables == 0:
            return 0
        if version > SCHEMA_VERSION:
            raise ConfigError(
                f"{str(self.path)!r} is not a clientsim store this version can read: "
                f"its schema version is {version}, newer than {SCHEMA_VERSION}; "
                "upgrade clientsim, or give another store path"
            )
        if version not in _MIGRATIONS and version != SCHEMA_VERSION:
            raise ConfigError(
                f"{str(self.path)!r} is not a clientsim store of schema version "
                f"{SCHEMA_VERSION} (its user_version is {version}); give a new path "
                "or an existing clientsim store file"
            )
        return int(version)


def _advice(exc: sqlite3.Error) -> str:
    """What to do when SQLite failed: a damaged file is not a passing lock."""
    if isinstance(exc, sqlite3.OperationalError):
        return ""
    if isinstance(exc, sqlite3.DatabaseError):
        return (
            "; the file is damaged: move it away (or restore it from a backup) and "
            "run again, or give another store path"
        )
    return ""


def _parse_records(texts: list[str]) -> list[ConversationRecord]:
    return [from_json(text, ConversationRecord) for text in texts]
