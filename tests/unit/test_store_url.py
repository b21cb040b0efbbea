"""open_store: a run store from a URL or from DATABASE_URL."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientsim.errors import ConfigError
from clientsim.models.team import TeamSessionRecord
from clientsim.store import (
    DEFAULT_STORE_URL,
    InMemoryStore,
    PostgresStore,
    SQLiteStore,
    open_store,
)


@pytest.fixture(name="env")
def _env(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return monkeypatch


@pytest.mark.parametrize("url", ["memory://", "sqlite://", "sqlite:///:memory:"])
def test_memory_urls_give_an_in_memory_store(url):
    assert isinstance(open_store(url), InMemoryStore)


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///runs/store.db", "runs/store.db"),
        ("sqlite:///store.db", "store.db"),
        ("sqlite:////srv/sims/store.db", "/srv/sims/store.db"),
        ("sqlite:///my%20runs/store.db", "my runs/store.db"),
        ("SQLite:///store.db", "store.db"),
        ("runs/store.db", "runs/store.db"),
        ("/srv/sims/store.db", "/srv/sims/store.db"),
    ],
)
def test_sqlite_urls_and_bare_paths_name_a_file(url, path):
    store = open_store(url)
    assert isinstance(store, SQLiteStore)
    assert store.path == Path(path)


def test_a_path_object_is_a_file(tmp_path):
    assert open_store(tmp_path / "s.db").path == tmp_path / "s.db"


def test_without_a_url_database_url_is_read(env, tmp_path):
    env.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/from-env.db")
    assert open_store().path == tmp_path / "from-env.db"
    assert isinstance(open_store("memory://"), InMemoryStore)  # a URL given wins


@pytest.mark.parametrize("value", [None, "", "   "])
def test_without_either_the_default_store_is_used(env, value):
    if value is not None:
        env.setenv("DATABASE_URL", value)
    assert DEFAULT_STORE_URL == "sqlite:///experiments/runs.sqlite"
    assert open_store().path == Path("experiments/runs.sqlite")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://bot:hunter2@db.example.com:5432/sims",
        "postgres://bot:hunter2@db/sims",
        "postgresql+psycopg://bot:hunter2@db/sims?sslmode=require",
    ],
)
def test_postgresql_urls_give_a_postgres_store_that_hides_the_password(env, url):
    env.setenv("DATABASE_URL", url)
    for store in (open_store(), open_store(url)):
        assert isinstance(store, PostgresStore)
        assert "hunter2" not in repr(store)
        assert "hunter2" not in store.url
        assert "bot:***@db" in repr(store)


def test_another_postgresql_driver_is_refused_naming_the_forms(env):
    env.setenv("DATABASE_URL", "postgresql+asyncpg://bot:hunter2@db/sims")
    with pytest.raises(ConfigError) as caught:
        open_store()
    message = str(caught.value)
    assert message.startswith("DATABASE_URL 'postgresql+asyncpg://bot:***@db/sims'")
    assert "postgresql+psycopg://" in message
    assert "hunter2" not in message


@pytest.mark.parametrize(
    ("url", "what"),
    [
        ("mysql://root:hunter2@db/sims", "names a store clientsim does not know"),
        ("redis://:hunter2@cache:6379/0", "names a store clientsim does not know"),
        ("sqlite://db.example.com/x.db", "has a host ('db.example.com')"),
        ("sqlite:///x.db?password=hunter2", "has a query or fragment"),
        ("sqlite:///", "names no file"),
        ("sqlite:///runs/", "names no file"),
        ("", "must be a non-empty string"),
    ],
)
def test_other_forms_are_refused_listing_what_is_allowed(url, what):
    with pytest.raises(ConfigError, match=re.escape(what)) as caught:
        open_store(url)
    message = str(caught.value)
    assert "hunter2" not in message
    assert "sqlite:///relative/path.db" in message


async def test_a_store_from_database_url_keeps_sessions_across_opens(env, tmp_path):
    env.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/team.db")
    now = datetime.now(UTC)
    record = TeamSessionRecord(
        session_id="s", document={"turn": 3}, created_at=now, updated_at=now
    )
    async with open_store() as store:
        await store.save_team_session(record)
    async with open_store() as store:
        assert await store.team_session("s") == record
    assert (tmp_path / "team.db").is_file()


segments = st.text(
    st.characters(
        codec="utf-8", exclude_characters="/\\\x00", exclude_categories=("Cs",)
    ),
    min_size=1,
    max_size=12,
).filter(lambda s: s not in {".", ".."} and s.strip() == s)


@given(st.lists(segments, min_size=1, max_size=4), st.booleans())
def test_any_quoted_file_path_comes_back(parts, absolute):
    path = ("/" if absolute else "") + "/".join(parts)
    if path == ":memory:" or path.startswith("~"):
        return
    assert open_store("sqlite:///" + quote(path)).path == Path(path)


@given(st.text(min_size=4, max_size=30).filter(lambda s: s.strip() == s))
def test_a_password_never_shows_in_an_error(password):
    url = f"mysql://user:{quote(password, safe='')}@db/sims"
    with pytest.raises(ConfigError) as caught:
        open_store(url)
    assert quote(password, safe="") not in str(caught.value)
    assert "user:***@db" in str(caught.value)
