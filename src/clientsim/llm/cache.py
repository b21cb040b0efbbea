"""The LLM response cache: one SQLite file, through LangChain's cache interface.

:class:`SQLiteCache` is a LangChain ``BaseCache``: pass it as a model's ``cache=``
(or ``model.cache = ...``), or make it the process-wide cache with
:func:`enable_cache` (``set_llm_cache``). Experiments use the same class for their
persistent cache (``cache: true``), through the run's model wrapper
(:class:`~clientsim.llm.run_model.RunChatModel`), which looks answers up by its own
key (:meth:`SQLiteCache.aget`, :meth:`SQLiteCache.aput`). Streaming calls bypass
LangChain caches.

It never blocks the event loop: the keys in the file are read once, in a worker
thread, into memory, so a miss costs no query; hits are read in a worker thread,
those asked for together in one query; writes made through the async methods wait
in memory and are written in batches of ``flush_every``, in a worker thread
(:class:`~clientsim.store.sqlite_file.SQLiteFile`).
The synchronous methods LangChain calls from synchronous code block the calling
thread, as LangChain expects.

Several processes can share one file (WAL mode): each sees the answers that were in
it when it first used it, and its own.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import anyio
from langchain_core.caches import BaseCache
from langchain_core.globals import set_llm_cache
from langchain_core.messages import message_to_dict, messages_from_dict
from langchain_core.outputs import ChatGeneration, Generation

from clientsim._validators import check_int
from clientsim.errors import ConfigError
from clientsim.store.sqlite_file import SQLiteFile, transaction


__all__ = ["SQLiteCache", "enable_cache"]

# ``message`` holds a JSON list of generations (an older file's JSON object is one
# chat message): the column keeps its name so that those files still answer.
_CREATE: Final = (
    "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, message TEXT NOT NULL)"
)


class SQLiteCache(BaseCache):
    """LangChain cache of model answers kept in an SQLite file.

    Args:
        path: the database file; created with its folder if missing. Nothing is
            read or written until the cache is first used.
        flush_every: how many answers added through :meth:`aupdate` (or
            :meth:`aput`) wait in memory before they are written in one
            transaction; ``1`` writes each at once. Unwritten answers are written
            by :meth:`flush`, :meth:`aclose` and :meth:`close`; a crash loses them,
            which only costs those calls again.

    Raises:
        ConfigError: (on first use) the file is not an SQLite database, or cannot
            be opened.

    Attributes:
        hits: look-ups answered from the cache.
        misses: look-ups that were not.

    Example:
        >>> from clientsim.llm import OfflineChatModel
        >>> model = OfflineChatModel(cache=SQLiteCache(".clientsim/llm-cache.sqlite"))
    """

    def __init__(self, path: str | Path, *, flush_every: int = 1) -> None:
        self.path = Path(path)
        self.flush_every = check_int("flush_every", flush_every, low=1)
        self.hits = 0
        self.misses = 0
        self._file = SQLiteFile(
            self.path,
            what=f"the response cache {str(self.path)!r}",
            prepare=functools.partial(_prepare, path=self.path),
        )
        self._known: set[int] | None = None  # hashes of the keys in the file
        self._pending: dict[str, str] = {}
        # Hits are read in batches: one read in flight, the next one gathering.
        self._reading: _ReadBatch | None = None
        self._gathering: _ReadBatch | None = None

    def __repr__(self) -> str:
        return f"SQLiteCache({str(self.path)!r})"

    def __reduce__(self) -> tuple[type[SQLiteCache], tuple[Path], dict[str, int]]:
        """A copy in another process (a Ray worker) opens the same file itself, on
        first use; the answers waiting here stay here (:meth:`flush` writes them)."""
        return SQLiteCache, (self.path,), {"flush_every": self.flush_every}

    def __setstate__(self, state: dict[str, int]) -> None:
        self.flush_every = state["flush_every"]

    @staticmethod
    def key(prompt: str, llm_string: str) -> str:
        """The cache key LangChain's ``(prompt, llm_string)`` is stored under."""
        text = json.dumps([llm_string, prompt], ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()

    # ----- LangChain's interface ------------------------------------------------------

    def lookup(self, prompt: str, llm_string: str) -> Sequence[Generation] | None:
        """The cached answer, or ``None`` (blocking; LangChain's synchronous path)."""
        return self.get(self.key(prompt, llm_string))

    def update(
        self, prompt: str, llm_string: str, return_val: Sequence[Generation]
    ) -> None:
        """Store an answer, written at once (blocking; LangChain's synchronous path)."""
        self.put(self.key(prompt, llm_string), return_val)

    def clear(self, **kwargs: Any) -> None:  # noqa: ARG002 - BaseCache's signature
        """Remove every answer (blocking)."""
        self._pending.clear()
        self._file.run_blocking(_delete_all)
        self._known = set()

    async def alookup(
        self, prompt: str, llm_string: str
    ) -> Sequence[Generation] | None:
        """The cached answer, or ``None``; a miss costs no query."""
        return await self.aget(self.key(prompt, llm_string))

    async def aupdate(
        self, prompt: str, llm_string: str, return_val: Sequence[Generation]
    ) -> None:
        """Store an answer; written with the next batch (see ``flush_every``)."""
        await self.aput(self.key(prompt, llm_string), return_val)

    async def aclear(self, **kwargs: Any) -> None:  # noqa: ARG002 - BaseCache's signature
        """Remove every answer."""
        self._pending.clear()
        await self._file.run(_delete_all)
        self._known = set()

    # ----- by key ---------------------------------------------------------------------

    def get(self, key: str) -> list[Generation] | None:
        """The answer stored under ``key``, or ``None`` (blocking)."""
        text = self._pending.get(key)
        if text is None:
            if hash(key) not in self._known_blocking():
                self.misses += 1
                return None
            rows = self._file.run_blocking(functools.partial(_select, keys=[key]))
            text = rows.get(key)
        return self._answer(text)

    async def aget(self, key: str) -> list[Generation] | None:
        """The answer stored under ``key``, or ``None``, never blocking the loop."""
        text = self._pending.get(key)
        if text is None:
            known = self._known if self._known is not None else await self._load()
            if hash(key) not in known:
                self.misses += 1
                return None
            text = await self._read(key)
        return self._answer(text)

    def put(self, key: str, generations: Sequence[Generation]) -> None:
        """Store ``generations`` under ``key``, written at once (blocking)."""
        text = _dumps(generations)
        known = self._known_blocking()
        self._file.run_blocking(functools.partial(_write, rows=[(key, text)]))
        known.add(hash(key))

    async def aput(self, key: str, generations: Sequence[Generation]) -> None:
        """Store ``generations`` under ``key``; written with the next batch."""
        known = self._known if self._known is not None else await self._load()
        self._pending[key] = _dumps(generations)
        known.add(hash(key))
        if len(self._pending) >= self.flush_every:
            await self.flush()

    async def open(self) -> None:
        """Open the file and read its keys now (it happens on first use otherwise).

        Raises:
            ConfigError: the file is not a response cache, or cannot be opened.
        """
        if self._known is None:
            await self._load()

    async def flush(self) -> None:
        """Write the answers waiting in memory, in one transaction, in a worker thread.

        Concurrent flushes each take the answers waiting when they start, and are
        written one after the other. A flush that has started finishes even if its
        caller is cancelled, so no answer taken out of memory is lost.
        """
        if not self._pending:
            return
        batch, self._pending = self._pending, {}
        with anyio.CancelScope(shield=True):
            await self._file.run(functools.partial(_write, rows=list(batch.items())))

    async def aclose(self) -> None:
        """Write what waits in memory and close the file; closing twice is harmless."""
        if self._file.closed:
            return
        await self.flush()
        await self._file.aclose()

    def close(self) -> None:
        """Write what waits in memory and close the file (blocking)."""
        if self._file.closed:
            return
        if self._pending:
            batch, self._pending = self._pending, {}
            self._file.run_blocking(functools.partial(_write, rows=list(batch.items())))
        self._file.close()

    def __len__(self) -> int:
        """How many answers it holds: those in the file when first used, and those
        added since."""
        return len(self._known_blocking())

    # ----- helpers --------------------------------------------------------------------

    async def _read(self, key: str) -> str | None:
        """The stored text of ``key``, read with the other hits asked for meanwhile.

        One read is in flight at a time; keys asked for while it runs gather in the
        next batch, read in one worker-thread call when it ends. The task that
        started a batch reads it, shielded, so the others never wait in vain.
        """
        batch = self._gathering
        if batch is not None:
            batch.keys.add(key)
            await batch.done.wait()
            return batch.result(key)
        batch = self._gathering = _ReadBatch({key})
        with anyio.CancelScope(shield=True):
            try:
                while self._reading is not None:
                    await self._reading.done.wait()
                self._gathering, self._reading = None, batch
                batch.rows = await self._file.run(
                    functools.partial(_select, keys=sorted(batch.keys))
                )
            except Exception as exc:
                batch.error = exc
                raise
            finally:
                self._reading = None
                batch.done.set()
        return batch.result(key)

    def _answer(self, text: str | None) -> list[Generation] | None:
        if text is None:
            self.misses += 1
            return None
        self.hits += 1
        return _loads(text)

    async def _load(self) -> set[int]:
        keys = await self._file.run(_hashes)
        if self._known is None:
            self._known = keys
        return self._known

    def _known_blocking(self) -> set[int]:
        if self._known is None:
            self._known = self._file.run_blocking(_hashes)
        return self._known


class _ReadBatch:
    """Keys read together, and what the read found."""

    __slots__ = ("done", "error", "keys", "rows")

    def __init__(self, keys: set[str]) -> None:
        self.keys = keys
        self.done = anyio.Event()
        self.rows: dict[str, str] = {}
        self.error: Exception | None = None

    def result(self, key: str) -> str | None:
        if self.error is not None:
            raise self.error
        return self.rows.get(key)


def enable_cache(path: str | Path) -> SQLiteCache:
    """Cache every model call of this process in the SQLite file at ``path``.

    Returns the cache, so it can be inspected, cleared or closed; undo with
    ``langchain_core.globals.set_llm_cache(None)``.
    """
    cache = SQLiteCache(path)
    set_llm_cache(cache)
    return cache


# ----- worker-thread side ---------------------------------------------------------------


def _prepare(connection: sqlite3.Connection, *, path: Path) -> None:
    try:
        connection.execute(_CREATE)
        connection.execute("SELECT key, message FROM responses LIMIT 1").fetchall()
    except sqlite3.OperationalError:
        raise  # e.g. locked: says nothing about what the file is
    except sqlite3.DatabaseError as exc:
        raise ConfigError(
            f"cannot use {str(path)!r} as a response cache: {exc}; delete it or "
            "point the cache elsewhere"
        ) from exc


def _hashes(connection: sqlite3.Connection) -> set[int]:
    return {hash(key) for (key,) in connection.execute("SELECT key FROM responses")}


def _select(connection: sqlite3.Connection, *, keys: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for start in range(0, len(keys), 500):  # SQLite's limit on parameters is higher
        chunk = keys[start : start + 500]
        marks = ", ".join("?" * len(chunk))  # placeholders only: no value in the SQL
        rows = connection.execute(
            f"SELECT key, message FROM responses WHERE key IN ({marks})",  # noqa: S608
            chunk,
        )
        found.update((str(key), str(text)) for key, text in rows)
    return found


def _write(connection: sqlite3.Connection, *, rows: list[tuple[str, str]]) -> None:
    with transaction(connection):
        connection.executemany(
            "INSERT OR REPLACE INTO responses (key, message) VALUES (?, ?)", rows
        )


def _delete_all(connection: sqlite3.Connection) -> None:
    connection.execute("DELETE FROM responses")


# ----- the stored form ------------------------------------------------------------------


def _dumps(generations: Sequence[Generation]) -> str:
    items: list[dict[str, Any]] = []
    for generation in generations:
        item: dict[str, Any] = (
            {"message": message_to_dict(generation.message)}
            if isinstance(generation, ChatGeneration)
            else {"text": generation.text}
        )
        if generation.generation_info:
            item["info"] = generation.generation_info
        items.append(item)
    return json.dumps(items, default=repr, ensure_ascii=False)


def _loads(text: str) -> list[Generation]:
    data = json.loads(text)
    if isinstance(data, dict):  # an older file: one chat message
        data = [{"message": data}]
    generations: list[Generation] = []
    for item in data:
        if "message" in item:
            (message,) = messages_from_dict([item["message"]])
            generations.append(
                ChatGeneration(message=message, generation_info=item.get("info"))
            )
        else:
            generations.append(
                Generation(text=item["text"], generation_info=item.get("info"))
            )
    return generations
