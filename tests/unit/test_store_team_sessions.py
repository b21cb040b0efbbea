"""Team sessions in SQLite: what only a file can show (restarts, an older schema, a
killed process); the contract on every store is in tests/store/."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import anyio

from clientsim.store import SQLiteStore
from clientsim.store.sqlite import SCHEMA_VERSION
from tests.store.records import session


ROOT = Path(__file__).parents[2]


# --- SQLite files ----------------------------------------------------------------------


async def test_a_reopened_file_keeps_its_sessions(tmp_path):
    path = tmp_path / "store.db"
    async with SQLiteStore(path) as store:
        await store.save_team_session(session("a", created=0))
        await store.save_team_session(session("b", parent_id="a", created=1))
    async with SQLiteStore(path) as store:  # a restart
        assert await store.team_sessions() == [
            session("b", parent_id="a", created=1),
            session("a", created=0),
        ]


# The schema of a store file written before team sessions existed (version 1).
VERSION_1 = (
    """CREATE TABLE simulations (simulation_id TEXT PRIMARY KEY, status TEXT NOT NULL,
    metadata TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE conversations (run_id TEXT NOT NULL, key TEXT NOT NULL,
    seq INTEGER NOT NULL, status TEXT NOT NULL, seed INTEGER NOT NULL,
    input_id TEXT NOT NULL, persona_id TEXT NOT NULL, iteration INTEGER NOT NULL,
    outcome TEXT, error_type TEXT, started_at TEXT, duration_seconds REAL NOT NULL,
    record TEXT NOT NULL, PRIMARY KEY (run_id, key))""",
    "CREATE UNIQUE INDEX conversations_in_order ON conversations (run_id, seq)",
    (
        "INSERT INTO simulations VALUES ('old-run', 'done', '{\"n\": 1}', "
        "'2025-12-01T10:00:00.000000+00:00', '2025-12-01T11:00:00.000000+00:00')"
    ),
    "PRAGMA user_version = 1",
)


def _version_1_file(path: Path) -> None:
    connection = sqlite3.connect(path)
    for statement in VERSION_1:
        connection.execute(statement)
    connection.commit()
    connection.close()


async def test_a_file_of_the_older_schema_gains_team_sessions(tmp_path):
    path = tmp_path / "old.db"
    _version_1_file(path)
    async with SQLiteStore(path) as store:
        [run] = await store.runs()
        assert (run.simulation_id, run.status, run.metadata) == (
            "old-run",
            "done",
            {"n": 1},
        )
        await store.save_team_session(session())
        assert await store.team_session("s-1") == session()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    connection.close()
    async with SQLiteStore(path) as store:  # opening it again changes nothing
        assert [r.session_id for r in await store.team_sessions()] == ["s-1"]


async def test_many_stores_opening_an_older_file_at_once_migrate_it_once(tmp_path):
    path = tmp_path / "old.db"
    _version_1_file(path)
    stores = [SQLiteStore(path) for _ in range(8)]
    async with anyio.create_task_group() as tasks:
        for n, store in enumerate(stores):
            tasks.start_soon(store.save_team_session, session(f"s-{n}", created=n))
    for store in stores:
        await store.aclose()
    async with SQLiteStore(path) as store:
        assert len(await store.team_sessions()) == 8
        assert [r.simulation_id for r in await store.runs()] == ["old-run"]


CHILD = """
import sys
from datetime import UTC, datetime

import anyio

from clientsim.models.team import TeamSessionRecord
from clientsim.store import SQLiteStore


async def main(path: str) -> None:
    async with SQLiteStore(path) as store:
        n = 0
        while True:
            now = datetime.now(UTC)
            record = TeamSessionRecord(
                session_id=f"s-{n % 25}",  # new sessions, then replacing them
                document={"turn": n, "transcript": ["x" * 300] * (n % 7)},
                created_at=now,
                updated_at=now,
            )
            await store.save_team_session(record)
            print(record.session_id, n, flush=True)
            n += 1


anyio.run(main, sys.argv[1])
"""


def test_a_killed_process_loses_no_saved_session(tmp_path):
    path = tmp_path / "crash" / "store.db"
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""},
    )
    try:
        assert process.stdout is not None
        reported = [process.stdout.readline().split() for _ in range(60)]
    finally:
        process.kill()  # SIGKILL by pid: no cleanup, no atexit, no close
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == -9, stderr
    assert all(reported), f"the child stopped early:\n{stderr}"
    latest = {session_id: int(turn) for session_id, turn in reported}

    async def read_back() -> dict[str, int]:
        async with SQLiteStore(path) as store:
            return {
                r.session_id: r.document["turn"] for r in await store.team_sessions()
            }

    stored = anyio.run(read_back)
    assert set(latest) <= set(stored)
    # each session holds the last save reported, or one the child made after it
    assert all(stored[key] >= turn for key, turn in latest.items())
