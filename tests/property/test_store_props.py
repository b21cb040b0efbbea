"""Invariants of the run stores: one row per cell, the first save wins, order is kept."""

from __future__ import annotations

import tempfile
from pathlib import Path

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientsim.models import ConversationRecord, GridCell, RunStatus
from clientsim.store import InMemoryStore, SQLiteStore
from tests import strategies


cells = st.builds(
    GridCell,
    input_id=st.sampled_from(["0", "1", "q-ü"]),
    persona_id=st.sampled_from(["calm", "angry"]),
    iteration=st.integers(min_value=0, max_value=1),
)

records = st.builds(
    ConversationRecord,
    run_id=st.sampled_from(["run-a", "run-b"]),
    cell=cells,
    seed=st.integers(min_value=-(2**63), max_value=2**63 - 1),
    status=st.sampled_from(RunStatus),
    input=st.text(max_size=20),
    result=st.none() | strategies.conversation_results,
    error=st.none() | strategies.error_records,
    attempts=st.integers(min_value=0, max_value=5),
    started_at=st.none() | strategies.datetimes,
    duration_seconds=st.floats(min_value=0, max_value=1e6),
)


def first_per_key(
    saved: list[ConversationRecord], run_id: str
) -> list[ConversationRecord]:
    firsts: dict[str, ConversationRecord] = {}
    for record in saved:
        if record.run_id == run_id:
            firsts.setdefault(record.key, record)
    return list(firsts.values())


async def save_all(store, saved: list[ConversationRecord]) -> None:
    seen: set[tuple[str, str]] = set()
    async with store:
        for record in saved:
            cell = (record.run_id, record.key)
            assert await store.save_conversation(record) is (cell not in seen)
            seen.add(cell)
        for run_id in ("run-a", "run-b"):
            expected = first_per_key(saved, run_id)
            assert await store.conversations(run_id) == expected
            assert await store.stored_keys(run_id) == {r.key for r in expected}


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@settings(max_examples=30, deadline=None)
@given(saved=st.lists(records, max_size=25))
def test_one_row_per_cell_and_the_first_save_wins(kind, saved):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "store.db"
        store = InMemoryStore() if kind == "memory" else SQLiteStore(path)
        anyio.run(save_all, store, saved)
        if kind == "sqlite":  # and it is all still there in a fresh store

            async def reread() -> None:
                async with SQLiteStore(path) as again:
                    for run_id in ("run-a", "run-b"):
                        expected = first_per_key(saved, run_id)
                        assert await again.conversations(run_id) == expected

            anyio.run(reread)
