"""The shared SQLite helper: off the event loop, one call at a time, WAL, clear errors."""

from __future__ import annotations

import sqlite3
import threading

import anyio
import pytest

from clientsim.errors import ClientSimError, ConfigError
from clientsim.store.sqlite_file import SQLiteFile, transaction


def create(connection: sqlite3.Connection) -> None:
    connection.execute("CREATE TABLE IF NOT EXISTS notes (text TEXT NOT NULL)")


async def test_calls_run_in_worker_threads_one_at_a_time(tmp_path):
    file = SQLiteFile(tmp_path / "deep" / "notes.db", what="the notes", prepare=create)
    loop_thread = threading.get_ident()
    threads: set[int] = set()
    running = 0
    most = 0

    def insert(connection: sqlite3.Connection) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        threads.add(threading.get_ident())
        connection.execute("INSERT INTO notes VALUES ('x')")
        running -= 1

    async with file:
        async with anyio.create_task_group() as group:
            for _ in range(20):
                group.start_soon(file.run, insert)
        count = await file.run(
            lambda db: db.execute("SELECT COUNT(*) FROM notes").fetchone()[0]
        )
        mode = await file.run(
            lambda db: db.execute("PRAGMA journal_mode").fetchone()[0]
        )
    assert count == 20
    assert most == 1
    assert loop_thread not in threads
    assert mode == "wal"
    assert file.closed


async def test_a_file_refused_by_prepare_is_closed_and_left_alone(tmp_path):
    path = tmp_path / "other.db"
    path.write_bytes(b"not a database" * 100)

    def prepare(connection: sqlite3.Connection) -> None:
        try:
            connection.execute("SELECT * FROM sqlite_master").fetchall()
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{path.name} is not ours: {exc}") from exc

    file = SQLiteFile(path, what="the notes", prepare=prepare)
    with pytest.raises(ConfigError, match=r"other\.db is not ours"):
        await file.run(create)
    assert path.read_bytes() == b"not a database" * 100
    assert not file.opened


async def test_errors_name_the_file(tmp_path):
    file = SQLiteFile(tmp_path / "notes.db", what="the notes 'n'", prepare=create)
    with pytest.raises(ClientSimError, match="the notes 'n' failed: no such table"):
        await file.run(lambda db: db.execute("SELECT * FROM absent"))
    custom = SQLiteFile(
        tmp_path / "notes.db",
        what="the notes",
        failed=lambda exc: ValueError(f"custom: {exc}"),
        closed=lambda: ValueError("gone"),
    )
    with pytest.raises(ValueError, match="custom: no such table"):
        await custom.run(lambda db: db.execute("SELECT * FROM absent"))
    await custom.aclose()
    await custom.aclose()  # twice is harmless
    with pytest.raises(ValueError, match="gone"):
        await custom.run(create)
    await file.aclose()
    with pytest.raises(ConfigError, match="the notes 'n' is closed"):
        await file.run(create)


async def test_before_connect_can_refuse_a_missing_file(tmp_path):
    path = tmp_path / "missing.db"

    def must_exist() -> None:
        if not path.exists():
            raise ConfigError("record it first")

    file = SQLiteFile(path, what="x", before_connect=must_exist, create_folder=False)
    with pytest.raises(ConfigError, match="record it first"):
        await file.run(create)
    assert not path.exists()


async def test_an_unopenable_file_is_a_config_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    file = SQLiteFile(blocker / "notes.db", what="the notes")
    with pytest.raises(ConfigError, match="cannot open the notes"):
        await file.run(create)


async def test_a_transaction_rolls_back_on_error(tmp_path):
    file = SQLiteFile(tmp_path / "notes.db", what="the notes", prepare=create)

    def half(connection: sqlite3.Connection) -> None:
        with transaction(connection):
            connection.execute("INSERT INTO notes VALUES ('a')")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await file.run(half)
    assert await file.run(lambda db: db.execute("SELECT * FROM notes").fetchall()) == []
    await file.aclose()


def test_one_file_serves_several_event_loops_and_blocking_callers(tmp_path):
    file = SQLiteFile(tmp_path / "notes.db", what="the notes", prepare=create)

    async def insert_many() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(
                    file.run, lambda db: db.execute("INSERT INTO notes VALUES ('x')")
                )

    anyio.run(insert_many)
    anyio.run(insert_many)
    count = file.run_blocking(
        lambda db: db.execute("SELECT COUNT(*) FROM notes").fetchone()[0]
    )
    assert count == 10
    file.close()
    assert file.closed
