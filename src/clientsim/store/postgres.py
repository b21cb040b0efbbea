"""A run store in PostgreSQL: psycopg 3, async, one connection pool per store.

Runs, conversations, checkpoints (registered simulations) and team sessions live in
four tables the store creates (and migrates) on first use; see
:mod:`clientsim.store._pg_schema`. Every write is one autocommitted statement, so what
a call reported stored is committed when the call returns. Registration and saving are
``INSERT ... ON CONFLICT DO NOTHING``: of many concurrent writers (tasks, processes or
machines) of one id or one cell, exactly one stores it.

Needs the ``postgresql`` extra (``pip install 'clientsim[postgresql]'``); psycopg is
imported on first use.
"""

from __future__ import annotations

import typing
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self, TypeVar

import anyio
import anyio.lowlevel
import anyio.to_thread

from clientsim._secrets import redact_url
from clientsim.errors import ConfigError, DuplicateSimulationError, SimulationError
from clientsim.models import from_json
from clientsim.models.records import ConversationRecord
from clientsim.models.team import TeamSessionRecord
from clientsim.store import _pg_schema as sql
from clientsim.store._pg_writes import Pending, insert_many
from clientsim.store.base import SimulationInfo
from clientsim.store.memory import (
    check_id,
    check_record,
    decode_metadata,
    encode_metadata,
    row_values,
    utc_now,
)
from clientsim.store.team_sessions import check_session, decode_session, encode_document


if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool


__all__ = ["SCHEMA_VERSION", "PostgresStore"]

T = TypeVar("T")

SCHEMA_VERSION: Final = sql.SCHEMA_VERSION

_INSTALL: Final = "pip install 'clientsim[postgresql]'"
_SCHEMES: Final = ("postgresql+psycopg://", "postgres://", "postgresql://")


def _aware(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def libpq_url(url: str) -> str:
    """The URL libpq takes: ``postgresql+psycopg://`` becomes ``postgresql://``.

    Example:
        >>> libpq_url("postgresql+psycopg://bot@db/sims")
        'postgresql://bot@db/sims'
    """
    if url.lower().startswith("postgresql+psycopg://"):
        return "postgresql://" + url[len("postgresql+psycopg://") :]
    return url


@typing.final
class PostgresStore:
    """A :class:`~clientsim.store.SimulationStore` in a PostgreSQL database.

    Constructing does no I/O: the pool connects, and the tables are created or
    migrated, on first use or on ``async with``. Safe for thousands of concurrent
    tasks (they queue for the pool's connections) and for many processes and
    machines on one database.

    Args:
        url: ``postgresql://user:password@host:port/database`` (also
            ``postgres://`` and ``postgresql+psycopg://``; libpq query parameters
            such as ``?sslmode=require`` or ``?host=/run/postgresql`` are kept).
        min_size: connections the pool keeps open.
        max_size: the most connections the pool opens.
        timeout: seconds to wait for a connection (to connect, or for a free one).

    Raises:
        ConfigError: (constructing) psycopg is not installed, a bad URL or pool
            size; (on first use) the server cannot be reached, or the database holds
            a clientsim schema newer than this version of clientsim; (after
            :meth:`aclose`) the store is closed.
        SimulationError: (any call) PostgreSQL failed.

    Example:
        >>> store = PostgresStore("postgresql://bot:hunter2@db.example/sims")
        >>> store
        PostgresStore('postgresql://bot:***@db.example/sims')
    """

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 30.0,
    ) -> None:
        if not isinstance(url, str) or not url.lower().startswith(_SCHEMES):
            raise ConfigError(
                f"a PostgreSQL store URL starts with postgresql://, postgres:// or "
                f"postgresql+psycopg://; got {redact_url(str(url))!r}"
            )
        for name, value in (("min_size", min_size), ("max_size", max_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{name} must be an integer >= 0; got {value!r}")
        if max_size < max(1, min_size):
            raise ConfigError(
                f"max_size must be >= 1 and >= min_size ({min_size}); got {max_size}"
            )
        if not isinstance(timeout, int | float) or not timeout > 0:
            raise ConfigError(f"timeout must be a number > 0; got {timeout!r}")
        _require_psycopg()
        self._url = libpq_url(url)
        self.url = redact_url(url)
        """The URL with its password hidden (safe to show)."""
        self.min_size = min_size
        self.max_size = max_size
        self.timeout = float(timeout)
        self._pool: AsyncConnectionPool[Any] | None = None
        self._loop: object = None
        self._lock: anyio.Lock | None = None
        self._closed = False
        self._pending: list[Pending] = []
        self._writers = 0

    def __repr__(self) -> str:
        return f"PostgresStore({self.url!r})"

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._closed

    async def register_if_absent(
        self, simulation_id: str, metadata: Mapping[str, Any] | None = None
    ) -> SimulationInfo:
        """Register a simulation id with status ``"registered"``.

        Atomic across tasks, processes and machines: of many concurrent
        registrations of one id, exactly one succeeds.

        Raises:
            DuplicateSimulationError: the id is already registered.
            ConfigError: a bad id, metadata that is not JSON-able, or a closed store.
        """
        check_id(simulation_id)
        text = encode_metadata(simulation_id, metadata)
        now = utc_now()

        async def insert(connection: AsyncConnection[Any]) -> int:
            cursor = await connection.execute(
                sql.INSERT_SIMULATION, (simulation_id, text, now, now)
            )
            return cursor.rowcount

        if await self._run(insert) != 1:
            raise DuplicateSimulationError(
                f"simulation {simulation_id!r} is already registered in {self.url}; "
                "pick a new id or resume the registered one"
            )
        return SimulationInfo(
            simulation_id=simulation_id,
            status="registered",
            metadata=decode_metadata(text),
            created_at=now,
            updated_at=now,
        )

    async def get_simulation(self, simulation_id: str) -> SimulationInfo | None:
        """The registered simulation, or ``None`` if the id is not registered."""
        check_id(simulation_id)
        rows = await self._fetch(
            sql.SELECT_SIMULATIONS + " WHERE simulation_id = %s", (simulation_id,)
        )
        return self._info(rows[0]) if rows else None

    async def update_status(self, simulation_id: str, status: str) -> None:
        """Set a registered simulation's status (and its ``updated_at``).

        Raises:
            ConfigError: the id is not registered, or the status is not a string.
        """
        check_id(simulation_id)
        check_id(status, "status")

        async def update(connection: AsyncConnection[Any]) -> int:
            cursor = await connection.execute(
                "UPDATE simulations SET status = %s, updated_at = %s "
                "WHERE simulation_id = %s",
                (status, utc_now(), simulation_id),
            )
            return cursor.rowcount

        if await self._run(update) == 0:
            raise ConfigError(
                f"cannot update the status of simulation {simulation_id!r}: it is not "
                f"registered in {self.url}; register it with register_if_absent first"
            )

    async def save_conversation(self, record: ConversationRecord) -> bool:
        """Store a finished conversation under ``(record.run_id, record.key)``.

        Committed before this returns. Conversations saved at the same moment go to
        the server together: while one call's batch is being written, the calls that
        come in queue up, and the next free connection writes them all in one
        transaction (one round trip), so 1,000 concurrent savers need not take
        1,000 turns.

        Returns:
            ``True`` if it was stored; ``False`` (and nothing is stored) if that cell
            of that run is already stored.
        """
        pending = Pending(row_values(check_record(record)))
        self._bind_loop()
        self._pending.append(pending)
        try:
            while not pending.done:
                if not pending.taken and self._writers < self.max_size:
                    await self._write_pending()
                else:  # a writer takes it; wake when it is written (or to retry)
                    await pending.wait()
        except BaseException:
            if not pending.taken:  # never sent: leave no trace
                self._pending.remove(pending)
            raise
        if pending.error is not None:
            raise SimulationError(
                f"the clientsim store {self.url} failed: {pending.error}"
            ) from pending.error
        return pending.stored

    async def stored_keys(self, run_id: str) -> frozenset[str]:
        """The cell keys already stored for ``run_id`` (empty for an unknown run)."""
        check_id(run_id, "run_id")
        rows = await self._fetch(
            "SELECT key FROM conversations WHERE run_id = %s", (run_id,)
        )
        return frozenset(str(key) for (key,) in rows)

    async def conversations(self, run_id: str) -> list[ConversationRecord]:
        """Every stored conversation of ``run_id``, in the order they were stored."""
        check_id(run_id, "run_id")
        rows = await self._fetch(
            "SELECT record FROM conversations WHERE run_id = %s ORDER BY seq",
            (run_id,),
        )
        texts = [str(text) for (text,) in rows]
        return await anyio.to_thread.run_sync(_parse_records, texts)

    async def runs(self) -> list[SimulationInfo]:
        """Every registered simulation, newest first."""
        rows = await self._fetch(
            sql.SELECT_SIMULATIONS + " ORDER BY created_at DESC, position DESC", ()
        )
        return [self._info(row) for row in rows]

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
            "created_at": record.created_at,
            "updated_at": record.updated_at,
        }

        async def upsert(connection: AsyncConnection[Any]) -> None:
            await connection.execute(sql.UPSERT_TEAM_SESSION, values)

        await self._run(upsert)

    async def team_session(self, session_id: str) -> TeamSessionRecord | None:
        """The stored team session, or ``None``."""
        check_id(session_id, "session_id")
        rows = await self._fetch(
            sql.SELECT_TEAM_SESSIONS + " WHERE session_id = %s", (session_id,)
        )
        if not rows:
            return None
        return (await anyio.to_thread.run_sync(self._sessions, rows))[0]

    async def team_sessions(self) -> list[TeamSessionRecord]:
        """Every stored team session, newest (by ``created_at``) first."""
        rows = await self._fetch(
            sql.SELECT_TEAM_SESSIONS + " ORDER BY created_at DESC, position DESC", ()
        )
        return await anyio.to_thread.run_sync(self._sessions, rows)

    async def aclose(self) -> None:
        """Close the pool; idempotent. Any later call raises ``ConfigError``."""
        self._closed = True
        pool, self._pool = self._pool, None
        here = anyio.lowlevel.current_token().native_token
        if pool is not None and self._loop is here:  # another loop's pool is gone
            with anyio.CancelScope(shield=True):
                await pool.close()

    async def __aenter__(self) -> Self:
        await self._connected()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ----- helpers ------------------------------------------------------------------

    async def _write_pending(self) -> None:
        """Write the waiting conversations, batch after batch, until none waits.

        At most ``max_size`` calls write at once (each on its own connection); the
        others wait for theirs. A writer that fails before it took everything wakes
        the waiting calls when it was the last, so that one of them writes.
        """
        self._writers += 1
        writing = True

        async def drain(connection: AsyncConnection[Any]) -> None:
            nonlocal writing
            while self._pending:
                batch, self._pending = self._pending, []
                for item in batch:
                    item.taken = True
                # Shielded: the other callers in the batch wait for its outcome.
                with anyio.CancelScope(shield=True):
                    try:
                        stored = await insert_many(connection, batch)
                    except BaseException as exc:
                        for item in batch:
                            item.settle(error=exc)
                        raise
                    for item, was_stored in zip(batch, stored, strict=True):
                        item.settle(stored=was_stored)
            # No await between finding nothing to write and stopping: a call that
            # queues after this sees one writer fewer and writes itself.
            self._writers -= 1
            writing = False

        try:
            await self._run(drain)
        finally:
            if writing:
                self._writers -= 1
                if self._writers == 0:
                    for item in self._pending:
                        item.wake()

    def _info(self, row: tuple[Any, ...]) -> SimulationInfo:
        simulation_id, status, metadata, created_at, updated_at = row
        return SimulationInfo(
            simulation_id=simulation_id,
            status=status,
            metadata=decode_metadata(
                metadata, f"simulation {simulation_id!r} in {self.url!r}"
            ),
            created_at=_aware(created_at),
            updated_at=_aware(updated_at),
        )

    def _sessions(self, rows: list[tuple[Any, ...]]) -> list[TeamSessionRecord]:
        return [
            decode_session(
                session_id,
                parent_id,
                document,
                _aware(created_at),
                _aware(updated_at),
                where=repr(self.url),
            )
            for session_id, parent_id, document, created_at, updated_at in rows
        ]

    async def _fetch(
        self, query: str, params: tuple[object, ...]
    ) -> list[tuple[Any, ...]]:
        async def select(connection: AsyncConnection[Any]) -> list[tuple[Any, ...]]:
            cursor = await connection.execute(query, params)
            rows: list[tuple[Any, ...]] = await cursor.fetchall()
            return rows

        return await self._run(select)

    async def _run(self, call: Callable[[AsyncConnection[Any]], Awaitable[T]]) -> T:
        import psycopg  # noqa: PLC0415
        import psycopg_pool  # noqa: PLC0415

        pool = await self._connected()
        try:
            async with pool.connection() as connection:
                return await call(connection)
        except psycopg_pool.PoolTimeout as exc:
            raise SimulationError(
                f"the clientsim store {self.url} failed: no connection within "
                f"{self.timeout:g} s ({exc}); raise max_size or timeout, or check "
                "the server"
            ) from exc
        except psycopg.Error as exc:
            raise SimulationError(
                f"the clientsim store {self.url} failed: {exc}"
            ) from exc

    async def _connected(self) -> AsyncConnectionPool[Any]:
        if self._closed:
            raise ConfigError(
                f"the PostgresStore on {self.url} is closed (aclose() was called); "
                "open a new PostgresStore"
            )
        lock = self._bind_loop()
        if self._pool is not None:
            return self._pool
        async with lock:
            if self._pool is None:
                self._pool = await self._open_pool()
            return self._pool

    def _bind_loop(self) -> anyio.Lock:
        """The lock of this event loop's pool: a pool (and the saves waiting for
        it) belongs to one event loop, so a new loop starts afresh."""
        loop = anyio.lowlevel.current_token().native_token
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop, self._pool = anyio.Lock(), loop, None
            self._pending, self._writers = [], 0
        return self._lock

    async def _open_pool(self) -> AsyncConnectionPool[Any]:
        import psycopg  # noqa: PLC0415
        from psycopg_pool import AsyncConnectionPool  # noqa: PLC0415

        try:
            connection = await psycopg.AsyncConnection.connect(
                self._url, connect_timeout=max(1, round(self.timeout))
            )
        except psycopg.Error as exc:
            raise ConfigError(
                f"cannot connect to the clientsim store {self.url}: "
                f"{_safe(exc, self._url)}; check the URL (or DATABASE_URL) and that "
                "the server is running"
            ) from exc
        try:
            await self._prepare(connection)
        except psycopg.Error as exc:
            raise ConfigError(
                f"cannot prepare the clientsim store {self.url}: {exc}"
            ) from exc
        finally:
            await connection.close()
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            self._url,
            min_size=self.min_size,
            max_size=self.max_size,
            timeout=self.timeout,
            kwargs={"autocommit": True},
            open=False,
            name="clientsim-store",
        )
        await pool.open(wait=self.min_size > 0, timeout=self.timeout)
        return pool

    async def _prepare(self, connection: AsyncConnection[Any]) -> None:
        """Create the tables, or migrate them, or refuse a newer schema."""
        async with connection.transaction():
            await connection.execute(sql.LOCK)  # one preparer per database at a time
            cursor = await connection.execute(sql.SELECT_VERSION)
            row = await cursor.fetchone()
            has_version, has_tables = row if row is not None else (False, False)
            if not has_version:
                if has_tables:
                    raise ConfigError(
                        f"the database {self.url} holds a 'simulations' table but no "
                        "clientsim_schema table: it is not a clientsim store; give "
                        "another database (or schema, with ?options=-csearch_path=...)"
                    )
                for statement in sql.CREATE:
                    await connection.execute(statement)
                return
            cursor = await connection.execute("SELECT version FROM clientsim_schema")
            found = await cursor.fetchone()
            version = int(found[0]) if found is not None else 0
            if version > SCHEMA_VERSION:
                raise ConfigError(
                    f"the clientsim store {self.url} has schema version {version}, "
                    f"newer than this clientsim's {SCHEMA_VERSION}; upgrade clientsim "
                    "(every process writing to it must run the same version), or "
                    "give another database"
                )
            if version != SCHEMA_VERSION and version not in sql.MIGRATIONS:
                raise ConfigError(
                    f"the clientsim store {self.url} has schema version {version}, "
                    f"which this clientsim cannot migrate to {SCHEMA_VERSION}; give "
                    "another database"
                )
            while version < SCHEMA_VERSION:
                for statement in sql.MIGRATIONS[version]:
                    await connection.execute(statement)
                version += 1
                await connection.execute(
                    "UPDATE clientsim_schema SET version = %s", (version,)
                )


def _safe(exc: BaseException, url: str) -> str:
    """An error's text, with the URL's password (if it shows up) hidden."""
    text = str(exc).strip()
    if url in text:
        text = text.replace(url, redact_url(url))
    return text


def _require_psycopg() -> None:
    try:
        import psycopg  # noqa: F401, PLC0415
        import psycopg_pool  # noqa: F401, PLC0415
    except ImportError as exc:
        raise ConfigError(
            f"a PostgreSQL store needs psycopg 3 and psycopg_pool ({exc}); install "
            f"them with: {_INSTALL}"
        ) from exc


def _parse_records(texts: list[str]) -> list[ConversationRecord]:
    return [from_json(text, ConversationRecord) for text in texts]
