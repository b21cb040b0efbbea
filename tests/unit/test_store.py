"""The run stores: SQLite's files (the contract on every store: tests/store/)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import anyio
import pytest

from clientsim.errors import (
    ConfigError,
    DuplicateSimulationError,
    SimulationError,
)
from clientsim.models import (
    ConversationRecord,
)
from clientsim.store import SQLiteStore
from clientsim.store.sqlite import SCHEMA_VERSION
from tests.store.records import make_record


# --- SQLite: files, processes, crashes -----------------------------------------------


async def test_constructing_touches_no_file_and_first_use_makes_dirs(tmp_path):
    path = tmp_path / "deep" / "er" / "store.db"
    store = SQLiteStore(path)
    assert not path.parent.exists()
    async with store:
        assert path.exists()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    connection.close()


async def test_records_persist_across_stores(tmp_path):
    path = tmp_path / "store.db"
    records = [make_record(n, seed=n, failed=n % 2 == 1) for n in range(5)]
    async with SQLiteStore(path) as store:
        await store.register_if_absent("run-1", {"inputs": 5})
        for record in records:
            await store.save_conversation(record)
        await store.update_status("run-1", "done")
    async with SQLiteStore(str(path)) as reopened:
        assert await reopened.conversations("run-1") == records
        info = await reopened.get_simulation("run-1")
        assert info is not None
        assert (info.status, info.metadata) == ("done", {"inputs": 5})
        assert not await reopened.save_conversation(records[0])


async def test_two_stores_on_one_file_register_atomically(tmp_path):
    path = tmp_path / "store.db"
    async with SQLiteStore(path) as first, SQLiteStore(path) as second:
        outcomes: list[str] = []

        async def register(store: SQLiteStore) -> None:
            try:
                await store.register_if_absent("shared")
            except DuplicateSimulationError:
                outcomes.append("duplicate")
            else:
                outcomes.append("registered")

        async with anyio.create_task_group() as tg:
            for n in range(50):
                tg.start_soon(register, first if n % 2 else second)
        assert sorted(outcomes) == ["duplicate"] * 49 + ["registered"]
        assert (await first.runs()) == (await second.runs())


async def test_a_text_file_is_not_a_store(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("shopping list\n" * 100, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"notes.txt.*not a clientsim store"):
        async with SQLiteStore(path):
            pass
    assert path.read_text(encoding="utf-8") == "shopping list\n" * 100


@pytest.mark.parametrize(
    "setup",
    [
        ["CREATE TABLE invoices (id INTEGER)"],
        ["CREATE TABLE simulations (x)", "PRAGMA user_version = 7"],
    ],
    ids=["foreign-db", "other-version"],
)
async def test_another_sqlite_database_is_not_a_store(tmp_path, setup):
    path = tmp_path / "other.db"
    connection = sqlite3.connect(path)
    for statement in setup:
        connection.execute(statement)
    connection.commit()
    connection.close()
    store = SQLiteStore(path)
    with pytest.raises(ConfigError, match=r"other.db.*not a clientsim store"):
        await store.runs()
    await store.aclose()


async def test_a_directory_is_not_a_store(tmp_path):
    store = SQLiteStore(tmp_path)
    with pytest.raises(ConfigError, match="cannot open the clientsim store"):
        await store.get_simulation("x")
    await store.aclose()


async def test_an_empty_file_becomes_a_store(tmp_path):
    path = tmp_path / "empty.db"
    path.touch()
    async with SQLiteStore(path) as store:
        await store.register_if_absent("exp-1")
    async with SQLiteStore(path) as store:
        assert await store.get_simulation("exp-1") is not None


async def test_a_file_locked_too_long_is_a_clientsim_error(tmp_path):
    path = tmp_path / "store.db"
    async with SQLiteStore(path, busy_timeout=0.05) as store:
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # holds the write lock
            with pytest.raises(SimulationError, match=r"store\.db.*locked"):
                await store.register_if_absent("exp-1")
            assert await store.get_simulation("exp-1") is None  # reads still work
            other.execute("ROLLBACK")
            await store.register_if_absent("exp-1")
        finally:
            other.close()


async def test_calls_queued_behind_aclose_are_refused(tmp_path):
    store = SQLiteStore(tmp_path / "store.db")
    await store.register_if_absent("exp-1")
    errors: list[Exception] = []

    async def read() -> None:
        try:
            await store.get_simulation("exp-1")
        except ConfigError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(read)
        tg.start_soon(store.aclose)
    assert all("closed" in str(exc) for exc in errors)


async def test_a_cancelled_batch_leaves_the_store_consistent(tmp_path):
    path = tmp_path / "store.db"
    records = [make_record(n, seed=n) for n in range(60)]
    reported: list[str] = []
    async with SQLiteStore(path) as store:
        enough = anyio.Event()

        async def save(record: ConversationRecord) -> None:
            if await store.save_conversation(record):
                reported.append(record.key)
                if len(reported) == 10:
                    enough.set()

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for record in records:
                    tg.start_soon(save, record)
                await enough.wait()
                tg.cancel_scope.cancel()
    async with SQLiteStore(path) as store:
        stored = await store.conversations("run-1")
        assert {r.key for r in stored} == await store.stored_keys("run-1")
        assert set(reported) <= {r.key for r in stored}
        assert len(stored) < len(records)


CHILD = """
import sys

import anyio
import attrs

from clientsim.models import ConversationRecord, GridCell, RunStatus
from clientsim.store import SQLiteStore


async def main(path: str) -> None:
    async with SQLiteStore(path) as store:
        await store.register_if_absent("crash")
        n = 0
        while True:
            record = ConversationRecord(
                run_id="crash",
                cell=GridCell(input_id=str(n), persona_id="p", iteration=0),
                seed=n,
                status=RunStatus.DONE,
                input="x" * 500,
            )
            assert await store.save_conversation(record)
            print(record.key, flush=True)
            n += 1


anyio.run(main, sys.argv[1])
"""


def test_every_reported_save_survives_sigkill(tmp_path):
    path = tmp_path / "crash" / "store.db"
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        reported = [process.stdout.readline().strip() for _ in range(40)]
    finally:
        process.kill()  # SIGKILL: no cleanup, no atexit, no close
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == -9, stderr
    assert all(reported), f"the child stopped early:\n{stderr}"

    async def read_back() -> tuple[list[ConversationRecord], list[str]]:
        async with SQLiteStore(path) as store:
            runs = [info.simulation_id for info in await store.runs()]
            return await store.conversations("crash"), runs

    stored, runs = anyio.run(read_back)
    assert runs == ["crash"]
    keys = [record.key for record in stored]
    assert keys[: len(reported)] == reported
    assert [record.seed for record in stored] == list(range(len(stored)))
