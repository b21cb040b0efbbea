"""The commands that keep a record, on PostgreSQL through ``DATABASE_URL``: a team
session continued and shown, a population study run in steps and shown; the memory a
team keeps and the study's checkpoints live in the database too."""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.integration.spine_agents import cli_env, explain, run_cli
from tests.integration.test_population_cli import STUDY, _run_id
from tests.integration.test_team_cli import TEAM_FILE, session_id_of, turn_lines
from tests.store.test_postgres import with_password


pytestmark = pytest.mark.anyio


def tables(url: str) -> dict[str, int]:
    counts = {}
    with psycopg.connect(url) as connection:
        for table in ("simulations", "conversations", "team_sessions"):
            query = "SELECT count(*) FROM " + table  # noqa: S608 (our own names)
            row = connection.execute(query).fetchone()  # type: ignore[call-overload]
            counts[table] = int(row[0])
    return counts


async def test_team_sessions_and_their_memory_live_in_postgresql(
    postgres_url, tmp_path
):
    (tmp_path / "launch.yaml").write_text(TEAM_FILE, encoding="utf-8")
    env = cli_env(DATABASE_URL=with_password(postgres_url, "hunter2"))
    started = await run_cli(
        "team", "start", "launch.yaml", "--turns", "2", cwd=tmp_path, env=env
    )
    assert started.returncode == 0, explain(started)
    session = session_id_of(started.stdout)
    more = await run_cli("team", "next", session, "--turns", "1", cwd=tmp_path, env=env)
    assert more.returncode == 0, explain(more)
    shown = await run_cli("team", "show", session, cwd=tmp_path, env=env)
    assert shown.returncode == 0, explain(shown)
    assert len(turn_lines(shown.stdout)) == 4  # the opening and three turns
    memory = await run_cli(
        "team", "memory", session, "--member", "CEO", cwd=tmp_path, env=env
    )
    assert memory.returncode == 0, explain(memory)
    assert "CEO" in json.loads(memory.stdout)
    assert tables(postgres_url)["team_sessions"] >= 1
    assert not list(tmp_path.rglob("*.sqlite"))  # nothing went to a file
    for done in (started, more, shown, memory):
        assert "hunter2" not in done.stdout + done.stderr


async def test_a_population_study_runs_in_steps_on_postgresql(postgres_url, tmp_path):
    (tmp_path / "study.yaml").write_text(STUDY, encoding="utf-8")
    env = cli_env(DATABASE_URL=postgres_url)
    done = await run_cli(
        "population", "run", "study.yaml", "--max-units", "5", cwd=tmp_path, env=env
    )
    assert done.returncode == 0, explain(done)
    run_id = _run_id(done.stdout)
    again = await run_cli(
        "population", "run", "study.yaml", "--run-id", run_id, "--json",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert again.returncode == 0, explain(again)
    results = json.loads(again.stdout[again.stdout.index("{") :])
    people = [row["agent_id"] for row in results["individual_results"]]
    assert len(people) == len(set(people)) == 10  # nobody asked twice
    points = await run_cli("population", "checkpoints", run_id, cwd=tmp_path, env=env)
    assert points.returncode == 0, explain(points)
    assert "ckpt-" in points.stdout
    counts = tables(postgres_url)
    assert counts["simulations"] >= 2  # the study and its checkpoints
    assert counts["conversations"] >= 10
    assert not list(tmp_path.rglob("*.sqlite"))
