"""The run store contract, on every store: memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import attrs
import pytest

from clientsim.errors import (
    ClientSimError,
    ConfigError,
    DuplicateSimulationError,
    InvalidTypeError,
)
from clientsim.models import (
    ConversationRecord,
)
from clientsim.store import SimulationStore
from tests.store.records import make_record


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


async def test_timestamps_are_timezone_aware_utc_and_ordered(store):
    first = await store.register_if_absent("first")
    await store.update_status("first", "running")
    again = await store.get_simulation("first")
    assert again is not None
    for moment in (first.created_at, again.created_at, again.updated_at):
        assert moment.utcoffset() == timedelta(0)
    assert again.created_at == first.created_at
    assert again.updated_at >= again.created_at


async def test_a_big_record_round_trips(store):
    record = make_record(1)
    assert record.result is not None
    words = "🚀 ünïcode \x00 nul and \ud800 lone surrogate " * 40_000  # ~1.6 MB
    messages = [
        attrs.evolve(message, content=words)
        for message in record.result.conversation.messages
    ]
    conversation = attrs.evolve(record.result.conversation, messages=messages)
    big = attrs.evolve(
        record, result=attrs.evolve(record.result, conversation=conversation)
    )
    assert await store.save_conversation(big)
    assert await store.conversations("run-1") == [big]


async def test_conversations_come_back_in_the_order_stored_not_by_key(store):
    keys = [5, 1, 9, 0, 3, 7]
    for key in keys:
        assert await store.save_conversation(make_record(key))
    stored = await store.conversations("run-1")
    assert [record.cell.input_id for record in stored] == [str(k) for k in keys]
    assert await store.stored_keys("run-1") == {make_record(k).key for k in keys}
    assert await store.stored_keys("no-such-run") == frozenset()
