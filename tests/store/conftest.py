"""The ``store`` fixture: every test here runs on each store, PostgreSQL included."""

from __future__ import annotations

import pytest

from clientsim.store import InMemoryStore, PostgresStore, SQLiteStore


@pytest.fixture(name="store", params=["memory", "sqlite", "postgresql"])
async def _store(request, tmp_path):
    if request.param == "memory":
        store = InMemoryStore()
    elif request.param == "sqlite":
        store = SQLiteStore(tmp_path / "s.db")
    else:
        store = PostgresStore(request.getfixturevalue("postgres_url"))
    async with store:
        yield store
