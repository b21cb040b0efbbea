"""The ``sqlite:PATH`` rate budget backend: every process on one machine shares the
budgets kept in one SQLite file (a ``rate_budget`` table, one row per budget).

Each step is one ``BEGIN IMMEDIATE`` transaction (read the row, run the step, write
it back), so the processes take turns and none sees a half-made booking. It runs on a
worker thread, never on the event loop. Without a path it is the file next to the run
store that ``DATABASE_URL`` names (``runs.sqlite`` -> ``runs.rate-budget.sqlite``),
else ``.clientsim/rate-budget.sqlite``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final, TypeVar

import anyio.to_thread

from clientsim.errors import ConfigError
from clientsim.llm._budget_core import BudgetState
from clientsim.llm.budget import StateBudgetBackend


__all__ = ["SQLiteBudgetBackend"]

T = TypeVar("T")

_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS rate_budget "
    "(key TEXT PRIMARY KEY, state TEXT NOT NULL, updated REAL NOT NULL)"
)
DEFAULT_PATH: Final = Path(".clientsim/rate-budget.sqlite")


def default_path() -> Path:
    """The file next to the SQLite run store ``DATABASE_URL`` names, else
    ``.clientsim/rate-budget.sqlite``."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url.startswith("sqlite:///"):
        store = Path(url.removeprefix("sqlite:///"))
        return store.with_name(f"{store.stem}.rate-budget.sqlite")
    return DEFAULT_PATH


class SQLiteBudgetBackend(StateBudgetBackend):
    """Budgets in an SQLite file, shared by the processes of one machine.

    Args:
        path: the file (created with its folder when missing).
    """

    name = "sqlite"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SQLiteBudgetBackend({str(self.path)!r})"

    @classmethod
    def from_target(cls, target: str) -> SQLiteBudgetBackend:
        """``sqlite:PATH`` (one backend per file and process); ``sqlite`` alone is
        :func:`default_path`."""
        path = Path(target) if target else default_path()
        key = str(path.resolve())
        with _opened_lock:
            backend = _opened.get(key)
            if backend is None:
                backend = _opened[key] = cls(path)
            return backend

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(
                    self.path,
                    timeout=30.0,
                    isolation_level=None,
                    check_same_thread=False,
                )
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.execute(_SCHEMA)
            except (OSError, sqlite3.Error) as exc:
                raise ConfigError(
                    f"cannot open the rate budget file {str(self.path)!r}: {exc}; "
                    "set RATE_LIMIT_BACKEND=sqlite:PATH to a file you can write"
                ) from exc
            self._connection = connection
        return self._connection

    def step(self, key: str, step: Callable[[BudgetState, float], T]) -> T:
        """Run ``step`` on ``key``'s state in one immediate transaction."""
        with self._lock:
            db = self._connect()
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT state FROM rate_budget WHERE key = ?", (key,)
                ).fetchone()
                state = BudgetState.load(json.loads(row[0]) if row else None)
                now = time.time()
                result = step(state, now)
                db.execute(
                    "INSERT INTO rate_budget (key, state, updated) VALUES (?, ?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET state = excluded.state, "
                    "updated = excluded.updated",
                    (key, json.dumps(state.dump()), now),
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return result

    def peek(self, key: str) -> tuple[BudgetState, float]:
        """``key``'s state without taking the write lock."""
        with self._lock:
            row = (
                self._connect()
                .execute("SELECT state FROM rate_budget WHERE key = ?", (key,))
                .fetchone()
            )
        return BudgetState.load(json.loads(row[0]) if row else None), time.time()

    async def update(self, key: str, step: Callable[[BudgetState, float], T]) -> T:
        return await anyio.to_thread.run_sync(self.step, key, step)

    async def read(self, key: str) -> tuple[BudgetState, float]:
        return await anyio.to_thread.run_sync(self.peek, key)

    async def aclose(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


_opened: dict[str, SQLiteBudgetBackend] = {}
_opened_lock = threading.Lock()
