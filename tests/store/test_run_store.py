"""Which store ``clientsim run`` writes to: the file's ``store``, a PostgreSQL
``DATABASE_URL``, or the SQLite file next to the run folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from clientsim.experiments import ExperimentConfig
from clientsim.experiments._run_store import run_store
from clientsim.store import PostgresStore, SQLiteStore


def config(tmp_path: Path, store: str | None = None) -> ExperimentConfig:
    data = {
        "name": "where",
        "description": "which store",
        "inputs": ["hi"],
        "runner": {"target": "agent:run"},
        "store": store,
    }
    return ExperimentConfig.from_dict(data, base_dir=tmp_path)


@pytest.fixture(name="env")
def _env(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return monkeypatch


def test_by_default_the_store_is_the_file_next_to_the_runs(env, tmp_path):
    store = run_store(config(tmp_path))
    assert isinstance(store, SQLiteStore)
    assert store.path == tmp_path / "experiments" / "runs.sqlite"


def test_a_postgresql_database_url_is_followed(env, tmp_path):
    env.setenv("DATABASE_URL", "postgresql://bot:hunter2@db/sims")
    store = run_store(config(tmp_path))
    assert isinstance(store, PostgresStore)
    assert repr(store) == "PostgresStore('postgresql://bot:***@db/sims')"


def test_an_sqlite_database_url_does_not_move_an_experiments_store(env, tmp_path):
    env.setenv("DATABASE_URL", "sqlite:////elsewhere/runs.db")
    store = run_store(config(tmp_path))
    assert isinstance(store, SQLiteStore)
    assert store.path == tmp_path / "experiments" / "runs.sqlite"


def test_the_files_store_wins_path_or_url(env, tmp_path):
    env.setenv("DATABASE_URL", "postgresql://bot:hunter2@db/sims")
    by_path = run_store(config(tmp_path, "data/runs.db"))
    assert isinstance(by_path, SQLiteStore)
    assert by_path.path == tmp_path / "data" / "runs.db"
    by_url = run_store(config(tmp_path, "postgres://other@db2/x"))
    assert isinstance(by_url, PostgresStore)
    assert "db2" in by_url.url
