"""A persistent LLM response cache on SQLite, through LangChain's cache interface.

Opt-in: ``enable_cache("llm-cache.sqlite")`` caches every non-streaming model call in
the process; or pass ``SQLiteCache(path)`` as a model's ``cache=``. The file is shared
safely by several processes (WAL mode). Streaming calls bypass LangChain caches.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.caches import BaseCache
from langchain_core.globals import set_llm_cache
from langchain_core.messages import message_to_dict, messages_from_dict
from langchain_core.outputs import ChatGeneration, Generation


__all__ = ["SQLiteCache", "enable_cache"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS llm_cache (
    prompt TEXT NOT NULL,
    llm TEXT NOT NULL,
    generations TEXT NOT NULL,
    PRIMARY KEY (prompt, llm)
)
"""


class SQLiteCache(BaseCache):
    """LangChain cache kept in an SQLite file.

    Args:
        path: the database file; created with its folder if missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30.0)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
            self._db.commit()

    def lookup(self, prompt: str, llm_string: str) -> Sequence[Generation] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT generations FROM llm_cache WHERE prompt = ? AND llm = ?",
                (prompt, llm_string),
            ).fetchone()
        if row is None:
            return None
        return [_load(item) for item in json.loads(row[0])]

    def update(
        self, prompt: str, llm_string: str, return_val: Sequence[Generation]
    ) -> None:
        payload = json.dumps([_dump(generation) for generation in return_val])
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO llm_cache (prompt, llm, generations) "
                "VALUES (?, ?, ?)",
                (prompt, llm_string, payload),
            )
            self._db.commit()

    def clear(self, **kwargs: object) -> None:  # noqa: ARG002 - BaseCache's signature
        with self._lock:
            self._db.execute("DELETE FROM llm_cache")
            self._db.commit()

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM llm_cache").fetchone()
        return int(count)


def _dump(generation: Generation) -> dict[str, Any]:
    if isinstance(generation, ChatGeneration):
        return {
            "message": message_to_dict(generation.message),
            "info": generation.generation_info,
        }
    return {"text": generation.text, "info": generation.generation_info}


def _load(item: dict[str, Any]) -> Generation:
    if "message" in item:
        (message,) = messages_from_dict([item["message"]])
        return ChatGeneration(message=message, generation_info=item.get("info"))
    return Generation(text=item["text"], generation_info=item.get("info"))


def enable_cache(path: str | Path) -> SQLiteCache:
    """Cache every model call of this process in the SQLite file at ``path``.

    Returns the cache, so it can be inspected, cleared or closed; undo with
    ``langchain_core.globals.set_llm_cache(None)``.
    """
    cache = SQLiteCache(path)
    set_llm_cache(cache)
    return cache
