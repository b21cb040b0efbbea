"""Team sessions in the run stores: the same contract on InMemoryStore and SQLiteStore,
and what only a file can show (restarts, an older schema, a killed process)."""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientsim.errors import ConfigError, InvalidTypeError
from clientsim.models import from_dict, to_dict
from clientsim.models.frozen import FrozenDict
from clientsim.models.team import TeamSessionRecord
from clientsim.store import InMemoryStore, SimulationStore, SQLiteStore
from clientsim.store.sqlite import SCHEMA_VERSION


START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).parents[2]


def session(
    session_id: str = "s-1",
    *,
    turn: int = 0,
    parent_id: str | None = None,
    created: int = 0,
    updated: int | None = None,
) -> TeamSessionRecord:
    """A record with a document like the teams package writes: nested, unicode, floats."""
    return TeamSessionRecord(
        session_id=session_id,
        parent_id=parent_id,
        document={
            "scenario": {"title": "Launch décision 🚀", "budget": 1.5e6},
            "team": ["CEO", "Designer"],
            "seed": 7,
            "turn": turn,
            "transcript": [
                {"speaker": {"name": "CEO", "role": "CEO"}, "content": "Go?"},
                {"speaker": None, "content": "\ud800 lone surrogate", "score": -0.1},
            ],
            "memory": {"CEO": {"window": [], "summary": "", "facts": ["ship Q3"]}},
            "analysis": None,
            "confidence": 0.30000000000000004,
            "done": False,
        },
        created_at=START + timedelta(minutes=created),
        updated_at=START + timedelta(minutes=created if updated is None else updated),
    )


@pytest.fixture(name="store", params=["memory", "sqlite"])
async def _store(request, tmp_path):
    store = (
        InMemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "s.db")
    )
    async with store:
        yield store


# --- the contract, on both stores ----------------------------------------------------


async def test_both_stores_satisfy_the_protocol(store):
    assert isinstance(store, SimulationStore)


async def test_a_saved_session_comes_back_equal(store):
    record = session(parent_id="s-0")
    await store.save_team_session(record)
    loaded = await store.team_session("s-1")
    assert loaded == record
    assert isinstance(loaded.document, FrozenDict)
    assert loaded.document["transcript"][1]["content"] == "\ud800 lone surrogate"
    assert to_dict(loaded) == to_dict(record)
    assert from_dict(to_dict(loaded), TeamSessionRecord) == record


async def test_an_unknown_session_is_none(store):
    assert await store.team_session("nope") is None
    assert await store.team_sessions() == []


async def test_replacing_keeps_created_at_and_takes_the_rest(store):
    await store.save_team_session(session(turn=1, created=0))
    newer = session(turn=2, parent_id="s-0", created=30, updated=45)
    await store.save_team_session(newer)
    loaded = await store.team_session("s-1")
    assert loaded == attrs.evolve(newer, created_at=START)
    assert loaded.document["turn"] == 2
    assert loaded.updated_at == START + timedelta(minutes=45)
    assert len(await store.team_sessions()) == 1


async def test_sessions_are_listed_newest_first(store):
    await store.save_team_session(session("old", created=0))
    await store.save_team_session(session("new", created=10))
    await store.save_team_session(session("middle", created=5))
    await store.save_team_session(session("tie-1", created=7))
    await store.save_team_session(session("tie-2", created=7))
    await store.save_team_session(session("old", turn=9, created=99))  # a replace
    listed = await store.team_sessions()
    assert [r.session_id for r in listed] == ["new", "tie-2", "tie-1", "middle", "old"]
    assert listed[-1].document["turn"] == 9


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ({"scores": {1: "a"}}, r"document\['scores'\] holds the key 1"),
        ({"x": [0, math.nan]}, r"document\['x'\]\[1\] holds the number nan"),
        ({"x": math.inf}, r"document\['x'\] holds the number inf"),
        ({"tags": {"a", "b"}}, r"document\['tags'\] holds a frozenset"),
        ({"when": START}, r"document\['when'\] holds a datetime"),
    ],
)
async def test_what_json_cannot_give_back_is_refused(store, document, where):
    record = attrs.evolve(session(), document=document)
    with pytest.raises(ConfigError, match=rf"'s-1' cannot be stored: {where}"):
        await store.save_team_session(record)
    assert await store.team_session("s-1") is None


async def test_only_records_are_saved_and_ids_are_checked(store):
    with pytest.raises(InvalidTypeError, match="takes a TeamSessionRecord; got dict"):
        await store.save_team_session({"session_id": "x"})
    with pytest.raises(ConfigError, match="session_id must be a non-empty string"):
        await store.team_session("")
    with pytest.raises(ConfigError, match="valid Unicode"):
        await store.team_session("\udcff")


async def test_many_tasks_saving_at_once_all_land(store):
    async with anyio.create_task_group() as tasks:
        for n in range(120):
            tasks.start_soon(store.save_team_session, session(f"s-{n}", created=n))
        for turn in range(30):  # and one session replaced by many tasks at once
            tasks.start_soon(
                store.save_team_session, session("shared", turn=turn, created=turn)
            )
    listed = await store.team_sessions()
    assert len(listed) == 121
    shared = await store.team_session("shared")
    # whichever save came last, its whole record is there, with the first created_at
    turn = shared.document["turn"]
    assert shared == attrs.evolve(
        session("shared", turn=turn, created=turn),
        created_at=shared.created_at,
    )
    assert [r.session_id for r in listed if r.session_id != "shared"] == [
        f"s-{n}" for n in reversed(range(120))
    ]


async def test_use_after_close_is_refused(store):
    await store.aclose()
    with pytest.raises(ConfigError, match="closed"):
        await store.save_team_session(session())
    with pytest.raises(ConfigError, match="closed"):
        await store.team_sessions()


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=st.dictionaries(st.text(max_size=8), json_values, max_size=5))
def test_any_json_document_round_trips_in_both_stores(document):
    record = attrs.evolve(session(), document=document)

    async def both(folder: str) -> list[TeamSessionRecord | None]:
        loaded = []
        for store in (InMemoryStore(), SQLiteStore(Path(folder) / "s.db")):
            async with store:
                await store.save_team_session(record)
                loaded.append(await store.team_session("s-1"))
        return loaded

    with tempfile.TemporaryDirectory() as folder:
        assert anyio.run(both, folder) == [record, record]


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
