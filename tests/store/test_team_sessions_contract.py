"""Team sessions: the same contract on every store (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import math
import tempfile
from datetime import timedelta
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
from clientsim.store import InMemoryStore, PostgresStore, SimulationStore, SQLiteStore
from tests.store.records import SESSION_START as START
from tests.store.records import session


ROOT = Path(__file__).parents[2]


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


@pytest.fixture(name="shared_postgres", scope="module")
def _shared_postgres(postgres_server):
    from tests.services.postgres import create_database, drop_database

    url = create_database(postgres_server)
    yield url
    drop_database(postgres_server, url)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=st.dictionaries(st.text(max_size=8), json_values, max_size=5))
def test_any_json_document_round_trips_in_postgresql(shared_postgres, document):
    record = attrs.evolve(session(), document=document)

    async def save_and_load() -> TeamSessionRecord | None:
        async with PostgresStore(shared_postgres, min_size=0, max_size=1) as store:
            await store.save_team_session(record)  # replaces the last example's
            return await store.team_session("s-1")

    assert anyio.run(save_and_load) == record
