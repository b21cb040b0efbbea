"""One SQLite file driven from worker threads: the helper every SQLite user shares.

An :class:`SQLiteFile` holds one connection (``sqlite3``, autocommit, a busy
timeout) that it opens on first use, in a worker thread: it creates the file's
folder, lets its owner check and prepare the file, then switches it to WAL mode
(readers never wait for the writer; several processes may share the file). Every
call runs on a worker thread (``anyio.to_thread.run_sync``), one at a time: waiting
callers queue on a one-slot ``CapacityLimiter`` on the event loop instead of each
holding a thread of anyio's pool, and a lock guards the connection in the thread, so
the event loop never blocks on SQLite.

The run store (:class:`~clientsim.store.SQLiteStore`), the cassette
(:class:`~clientsim.experiments.Cassette`) and the LLM response cache
(:class:`~clientsim.llm.SQLiteCache`) use it.

Example:
    >>> import anyio, tempfile
    >>> def create(connection: sqlite3.Connection) -> None:
    ...     connection.execute("CREATE TABLE IF NOT EXISTS notes (text TEXT)")
    >>> async def main(folder: str) -> int:
    ...     notes = SQLiteFile(f"{folder}/notes.db", what="the notes", prepare=create)
    ...     async with notes:
    ...         await notes.run(lambda db: db.execute("INSERT INTO notes VALUES ('hi')"))
    ...         return await notes.run(
    ...             lambda db: db.execute("SELECT COUNT(*) FROM notes").fetchone()[0]
    ...         )
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     anyio.run(main, folder)
    1
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Final, Self, TypeVar, final

import anyio
import anyio.lowlevel
import anyio.to_thread

from clientsim.errors import ClientSimError, ConfigError


__all__ = ["SQLiteFile", "transaction"]

T = TypeVar("T")


@contextmanager
def transaction(
    connection: sqlite3.Connection, *, immediate: bool = True
) -> Iterator[sqlite3.Connection]:
    """One transaction on an autocommit connection: committed, or rolled back on error.

    ``immediate`` takes the write lock at the start (``BEGIN IMMEDIATE``), so two
    writers never deadlock halfway.
    """
    connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


@final
class SQLiteFile:
    """One SQLite file, one connection, one call at a time, off the event loop.

    Constructing does no I/O. The file opens on the first call (or ``async with``).

    Args:
        path: the database file.
        what: how messages name the file, e.g. ``"the clientsim store 'runs.db'"``.
        prepare: called with the new connection before any call: check that the file
            is what its owner expects and create its tables; raise
            :class:`~clientsim.errors.ConfigError` to refuse it (the connection is
            then closed). An ``sqlite3.Error`` it raises is an opening error.
        before_connect: called (in the worker thread) before connecting, e.g. to
            refuse a file that must exist and does not.
        wal: after ``prepare``, switch to WAL mode with ``synchronous=NORMAL``.
        create_folder: create the file's folder if missing.
        busy_timeout: seconds to wait for another connection's write lock.
        failed: the error for an ``sqlite3.Error`` raised by a call (locked past
            ``busy_timeout``, disk full, ...); by default a
            :class:`~clientsim.errors.ClientSimError` naming the file.
        closed: the error for a call after :meth:`aclose`; by default a
            :class:`~clientsim.errors.ConfigError` naming the file.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        what: str,
        prepare: Callable[[sqlite3.Connection], None] | None = None,
        before_connect: Callable[[], None] | None = None,
        wal: bool = True,
        create_folder: bool = True,
        busy_timeout: float = 30.0,
        failed: Callable[[sqlite3.Error], Exception] | None = None,
        closed: Callable[[], Exception] | None = None,
    ) -> None:
        self.path = Path(path)
        self.what = what
        self.busy_timeout = busy_timeout
        self._prepare = prepare
        self._before_connect = before_connect
        self._wal = wal
        self._create_folder = create_folder
        self._failed = failed or self._default_failed
        self._closed_error = closed or self._default_closed
        self._connection: sqlite3.Connection | None = None
        self._closed = False
        self._lock = threading.Lock()
        # One call at a time: waiting callers queue here, on the event loop, instead
        # of each holding a thread from anyio's shared pool. One per event loop.
        self._limiter: anyio.CapacityLimiter | None = None
        self._loop: object = None

    def __repr__(self) -> str:
        return f"SQLiteFile({str(self.path)!r})"

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` (or :meth:`close`) was called."""
        return self._closed

    @property
    def opened(self) -> bool:
        """Whether the connection is open (it opens on the first call)."""
        return self._connection is not None

    async def run(self, call: Callable[[sqlite3.Connection], T]) -> T:
        """``call(connection)`` in a worker thread, after the calls queued before it.

        Raises:
            ConfigError: the file cannot be opened or was refused by ``prepare``;
                the file is closed (see ``closed``).
            ClientSimError: SQLite failed (see ``failed``).
        """
        if self._closed:
            raise self._closed_error()
        return await anyio.to_thread.run_sync(
            self.run_blocking, call, limiter=self._current_limiter()
        )

    def run_blocking(self, call: Callable[[sqlite3.Connection], T]) -> T:
        """``call(connection)`` on this thread, waiting for any call in progress.

        For synchronous APIs and worker threads only: never from the event loop.
        """
        with self._lock:
            if self._closed:  # aclose() may have run while this call queued
                raise self._closed_error()
            if self._connection is None:
                self._connection = self._open()
            try:
                return call(self._connection)
            except sqlite3.Error as exc:
                raise self._failed(exc) from exc

    async def aclose(self) -> None:
        """Close the file; calls in flight finish first. Closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(
                self._close_connection, limiter=self._current_limiter()
            )

    def close(self) -> None:
        """Close the file on this thread (blocking; never from the event loop)."""
        self._closed = True
        self._close_connection()

    async def __aenter__(self) -> Self:
        await self.run(_nothing)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ----- helpers ------------------------------------------------------------------

    def _current_limiter(self) -> anyio.CapacityLimiter:
        loop = anyio.lowlevel.current_token().native_token
        if self._limiter is None or self._loop is not loop:
            self._limiter, self._loop = anyio.CapacityLimiter(1), loop
        return self._limiter

    def _close_connection(self) -> None:
        with self._lock:
            connection, self._connection = self._connection, None
            if connection is not None:
                connection.close()

    def _open(self) -> sqlite3.Connection:
        if self._before_connect is not None:
            self._before_connect()
        try:
            if self._create_folder:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,  # autocommit: every statement commits
                check_same_thread=False,  # used from worker threads, one at a time
            )
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open {self.what}: {exc}") from exc
        try:
            if self._prepare is not None:
                self._prepare(connection)
            if self._wal:
                _switch_to_wal(connection, self.busy_timeout)
                connection.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            connection.close()
            raise ConfigError(f"cannot open {self.what}: {exc}") from exc
        except BaseException:
            connection.close()
            raise
        return connection

    def _default_failed(self, exc: sqlite3.Error) -> Exception:
        return ClientSimError(f"{self.what} failed: {exc}")

    def _default_closed(self) -> Exception:
        return ConfigError(f"{self.what} is closed; open it again to use it")


_BUSY: Final = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def _switch_to_wal(connection: sqlite3.Connection, timeout: float) -> None:
    """``PRAGMA journal_mode = WAL``, tried again while another connection holds the
    file (up to ``timeout`` seconds).

    The switch needs the file to itself, and SQLite may answer "database is locked"
    at once instead of waiting its busy timeout (it does, to avoid a deadlock, when
    many connections open a new file together); once one connection has switched,
    the file stays in WAL mode and the others' switch is a no-op.
    """
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        try:
            connection.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode not in _BUSY or time.monotonic() >= deadline:
                raise
        else:
            return
        time.sleep(pause)  # a back-off between tries, not a wait for an event
        pause = min(pause * 2, 0.05)


def _nothing(_: sqlite3.Connection) -> None:
    """Used to open the file."""
