"""The run stores: InMemoryStore and SQLiteStore through one contract, and SQLite's files."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import anyio
import attrs
import pytest

from clientsim.errors import (
    ClientSimError,
    ConfigError,
    DuplicateSimulationError,
    InvalidTypeError,
    SimulationError,
)
from clientsim.models import (
    Conversation,
    ConversationRecord,
    ConversationResult,
    Ending,
    ErrorRecord,
    GridCell,
    Message,
    Outcome,
    ParticipantRole,
    RunStatus,
    TokenUsage,
    TokenUsageReport,
    ToolCall,
)
from clientsim.store import InMemoryStore, SimulationStore, SQLiteStore
from clientsim.store.sqlite import SCHEMA_VERSION


START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def make_record(
    key: int = 0,
    *,
    run_id: str = "run-1",
    seed: int = 7,
    failed: bool = False,
) -> ConversationRecord:
    """A record with a real result: two messages, an ending, usage, maybe an error."""
    messages = [
        Message("My parcel is late", START, ParticipantRole.CUSTOMER),
        Message(
            "Sorry! It ships today.",
            START + timedelta(seconds=9),
            ParticipantRole.AGENT,
            # kept by both stores: nested JSON arguments, an id and a result
            tool_calls=[
                ToolCall("ship_status", {"order": ["A1", {"n": 2}]}, "c1", result="ok")
            ],
        ),
    ]
    error = (
        ErrorRecord(
            source="channel",
            type="builtins.TimeoutError",
            message="no reply in 30 s",
            transient=True,
        )
        if failed
        else None
    )
    outcome = None if failed else Outcome("resolved", "The customer's issue was fixed")
    result = ConversationResult(
        Conversation(messages, outcome),
        2.5,
        ending=Ending(
            reason="error" if failed else "outcome_reached",
            detail="the agent stopped answering" if failed else "resolved",
            message_count=2,
        ),
        token_usage=TokenUsageReport(
            customer=TokenUsage(
                input_tokens=40, output_tokens=9, total_tokens=49, calls=1
            )
        ),
        error=error,
    )
    return ConversationRecord(
        run_id=run_id,
        cell=GridCell(input_id=str(key), persona_id="impatient", iteration=key % 3),
        seed=seed,
        status=RunStatus.FAILED if failed else RunStatus.DONE,
        input="Where is my parcel?",
        result=result,
        error=error,
        attempts=2 if failed else 1,
        started_at=START + timedelta(minutes=key),
        duration_seconds=2.5,
        models={
            "offline": TokenUsage(input_tokens=40, output_tokens=9, total_tokens=49)
        },
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


async def test_register_keeps_the_id_status_and_metadata(store):
    before = datetime.now(UTC)
    info = await store.register_if_absent("exp-1", {"model": "offline", "n": [1, 2]})
    assert info.simulation_id == "exp-1"
    assert info.status == "registered"
    assert info.metadata == {"model": "offline", "n": [1, 2]}
    assert info.created_at == info.updated_at
    assert info.created_at.tzinfo is not None
    assert before <= info.created_at <= datetime.now(UTC)
    assert await store.get_simulation("exp-1") == info


async def test_metadata_defaults_to_empty(store):
    info = await store.register_if_absent("exp-1")
    assert info.metadata == {}


async def test_a_second_registration_is_refused_naming_the_id(store):
    await store.register_if_absent("exp-1", {"first": True})
    with pytest.raises(DuplicateSimulationError, match="'exp-1'"):
        await store.register_if_absent("exp-1", {"first": False})
    info = await store.get_simulation("exp-1")
    assert info is not None
    assert info.metadata == {"first": True}


async def test_an_unknown_simulation_is_none(store):
    assert await store.get_simulation("nobody") is None


async def test_update_status_changes_status_and_updated_at(store):
    registered = await store.register_if_absent("exp-1")
    await store.update_status("exp-1", "done")
    info = await store.get_simulation("exp-1")
    assert info is not None
    assert info.status == "done"
    assert info.created_at == registered.created_at
    assert info.updated_at >= registered.updated_at


async def test_update_status_of_an_unknown_id_names_it(store):
    with pytest.raises(ConfigError, match=r"'ghost'.*not registered"):
        await store.update_status("ghost", "done")


@pytest.mark.parametrize("bad", ["", 5, None])
async def test_a_bad_id_is_refused(store, bad):
    with pytest.raises(ConfigError, match="simulation_id must be a non-empty string"):
        await store.register_if_absent(bad)


async def test_metadata_must_be_json_able(store):
    with pytest.raises(ConfigError, match=r"'exp-1'.*JSON-able"):
        await store.register_if_absent("exp-1", {"when": datetime.now(UTC)})
    with pytest.raises(InvalidTypeError, match="must be a mapping"):
        await store.register_if_absent("exp-1", ["not", "a", "mapping"])
    assert await store.get_simulation("exp-1") is None


async def test_runs_lists_every_simulation_newest_first(store):
    for name in ["a", "b", "c"]:
        await store.register_if_absent(name)
    await store.update_status("a", "done")
    runs = await store.runs()
    assert [info.simulation_id for info in runs] == ["c", "b", "a"]
    assert runs[2].status == "done"


async def test_saved_conversations_come_back_equal_and_in_order(store):
    records = [make_record(3), make_record(1, failed=True), make_record(2)]
    for record in records:
        assert await store.save_conversation(record) is True
    assert await store.stored_keys("run-1") == {r.key for r in records}
    assert await store.conversations("run-1") == records


async def test_a_cell_is_stored_once(store):
    first = make_record(0, seed=1)
    again = make_record(0, seed=2)  # same cell, different content
    assert await store.save_conversation(first) is True
    assert await store.save_conversation(again) is False
    assert await store.conversations("run-1") == [first]
    assert await store.stored_keys("run-1") == {first.key}


async def test_runs_keep_their_conversations_apart(store):
    await store.save_conversation(make_record(0, run_id="a"))
    await store.save_conversation(make_record(0, run_id="b", seed=99))
    assert [r.seed for r in await store.conversations("a")] == [7]
    assert [r.seed for r in await store.conversations("b")] == [99]
    assert await store.stored_keys("unknown") == frozenset()
    assert await store.conversations("unknown") == []


async def test_text_utf8_cannot_hold_still_round_trips(store):
    # A lone surrogate: what json.loads gives for a reply containing "\ud800".
    record = attrs.evolve(make_record(), input="odd \ud800 text ü")
    info = await store.register_if_absent("exp-1", {"note": "\udfff ü"})
    assert info.metadata == {"note": "\udfff ü"}
    assert await store.save_conversation(record)
    assert await store.conversations("run-1") == [record]
    stored = await store.get_simulation("exp-1")
    assert stored is not None
    assert stored.metadata == {"note": "\udfff ü"}


async def test_ids_must_be_valid_unicode(store):
    with pytest.raises(ConfigError, match="simulation_id must be valid Unicode"):
        await store.register_if_absent("exp-\ud800")
    record = make_record(run_id="run-\ud800")
    with pytest.raises(ConfigError, match=r"record\.run_id must be valid Unicode"):
        await store.save_conversation(record)


async def test_only_records_can_be_saved(store):
    with pytest.raises(InvalidTypeError, match="ConversationRecord; got dict"):
        await store.save_conversation({"run_id": "run-1"})


async def test_fifty_concurrent_registrations_one_wins(store):
    winners: list[str] = []
    losers: list[DuplicateSimulationError] = []

    async def register(n: int) -> None:
        try:
            await store.register_if_absent("shared", {"caller": n})
        except DuplicateSimulationError as exc:
            losers.append(exc)
        else:
            winners.append(str(n))

    async with anyio.create_task_group() as tg:
        for n in range(50):
            tg.start_soon(register, n)
    assert len(winners) == 1
    assert len(losers) == 49
    info = await store.get_simulation("shared")
    assert info is not None
    assert info.metadata == {"caller": int(winners[0])}


async def test_hundreds_of_concurrent_saves_each_land_once(store):
    records = [make_record(n, seed=n) for n in range(100)]
    results: list[bool] = []

    async def save(record: ConversationRecord) -> None:
        results.append(await store.save_conversation(record))

    async with anyio.create_task_group() as tg:
        for record in records + records:  # every cell twice
            tg.start_soon(save, record)
    assert sorted(results) == [False] * 100 + [True] * 100
    stored = await store.conversations("run-1")
    assert sorted(stored, key=lambda r: r.seed) == records


async def test_use_after_close_is_refused(store):
    await store.register_if_absent("exp-1")
    await store.aclose()
    await store.aclose()  # idempotent
    with pytest.raises(ClientSimError, match="closed"):
        await store.get_simulation("exp-1")
    with pytest.raises(ClientSimError, match="closed"):
        await store.save_conversation(make_record())
    with pytest.raises(ClientSimError, match="closed"):
        await store.runs()


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
