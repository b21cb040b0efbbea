"""Many connections opening one new SQLite file at once: none fails spuriously.

The store, the cassette and the response cache each check (and create) their schema
as they open; the check and the creation are one snapshot, one transaction.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import pytest

from clientsim.experiments import Cassette
from clientsim.llm import SQLiteCache
from clientsim.store import SQLiteStore


OPENS = 1_000
THREADS = 50


def _open_from_threads(open_once: Callable[[], Awaitable[object]]) -> list[str]:
    """``OPENS`` opens from ``THREADS`` threads released together; the failures."""
    failures: list[str] = []
    start = threading.Barrier(THREADS)
    lock = threading.Lock()

    def worker(count: int) -> None:
        start.wait()
        for _ in range(count):
            try:
                anyio.run(open_once)
            except Exception as exc:  # every failure is counted
                with lock:
                    failures.append(repr(exc))

    threads = [
        threading.Thread(target=worker, args=(OPENS // THREADS,))
        for _ in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def test_a_thousand_stores_open_one_new_file_from_threads(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"

    async def open_once() -> object:
        async with SQLiteStore(path) as store:
            return await store.runs()

    assert _open_from_threads(open_once) == []


def test_a_thousand_cassettes_open_one_new_file_from_threads(tmp_path: Path) -> None:
    path = tmp_path / "calls.cassette"

    async def open_once() -> object:
        async with Cassette(path, mode="record") as cassette:
            return await cassette.conversations()

    assert _open_from_threads(open_once) == []


def test_a_thousand_caches_open_one_new_file_from_threads(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"

    async def open_once() -> object:
        cache = SQLiteCache(path)
        try:
            await cache.open()
        finally:
            await cache.aclose()
        return None

    assert _open_from_threads(open_once) == []


_PROCESS = """
import sys, anyio
from clientsim.store import SQLiteStore
async def main():
    for _ in range(50):
        async with SQLiteStore(sys.argv[1]) as store:
            await store.runs()
anyio.run(main)
"""


@pytest.mark.parametrize("processes", [4])
def test_processes_open_one_new_store_file_together(
    tmp_path: Path, processes: int
) -> None:
    path = tmp_path / "runs.db"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _PROCESS, str(path)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    outcomes = []
    for child in children:
        _, errors = child.communicate(timeout=120)
        outcomes.append((child.returncode, errors))
    assert outcomes == [(0, "")] * processes
