"""What only the PostgreSQL store shows: several processes on one database, a schema
that is versioned, a run killed and resumed through ``DATABASE_URL``, and a password
that never shows."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import anyio
import psycopg
import pytest

import clientsim
from clientsim.errors import ConfigError, DuplicateSimulationError, SimulationError
from clientsim.store import PostgresStore, open_store
from clientsim.store.postgres import SCHEMA_VERSION
from tests.store.records import make_record


ROOT = Path(__file__).parents[2]
SRC = str(Path(clientsim.__file__).parents[1])  # the clientsim under test


def child_env(**extra: str) -> dict[str, str]:
    path = os.pathsep.join([SRC, str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path.rstrip(os.pathsep), **extra}


def with_password(url: str, password: str) -> str:
    scheme, _, rest = url.partition("://")
    user, _, host = rest.partition("@")
    return f"{scheme}://{user}:{password}@{host}"


REGISTER = """
import sys
import anyio
from clientsim.errors import DuplicateSimulationError
from clientsim.store import PostgresStore


async def main() -> None:
    won = []

    async def register(n: int) -> None:
        try:
            await store.register_if_absent(f"id-{n}", {"pid": sys.argv[2]})
        except DuplicateSimulationError:
            return
        won.append(n)

    async with PostgresStore(sys.argv[1], max_size=10) as store:
        print("ready", flush=True)
        sys.stdin.readline()  # the start line: every process begins together
        async with anyio.create_task_group() as tg:
            for n in range(50):
                tg.start_soon(register, n)
    print(" ".join(map(str, won)), flush=True)


anyio.run(main)
"""


def test_fifty_ids_registered_at_once_by_five_processes_each_win_once(
    postgres_url, tmp_path
):
    script = tmp_path / "register.py"
    script.write_text(REGISTER)
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), postgres_url, str(n)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        for n in range(5)
    ]
    try:
        for process in processes:  # every store is open (the schema made once)
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready"
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        outputs = [process.communicate(timeout=120) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert [process.returncode for process in processes] == [0] * 5, outputs
    won = [int(n) for out, _ in outputs for n in out.split()]
    assert sorted(won) == list(range(50))  # each id once, by exactly one process

    async def check() -> None:
        async with PostgresStore(postgres_url) as store:
            runs = await store.runs()
            assert sorted(info.simulation_id for info in runs) == sorted(
                f"id-{n}" for n in range(50)
            )

    anyio.run(check)


async def test_many_stores_opening_a_new_database_at_once_create_it_once(
    postgres_url,
):
    stores = [PostgresStore(postgres_url, min_size=0, max_size=2) for _ in range(12)]
    try:
        async with anyio.create_task_group() as tg:
            for n, store in enumerate(stores):
                tg.start_soon(store.register_if_absent, f"s-{n}")
        assert len(await stores[0].runs()) == 12
    finally:
        for store in stores:
            await store.aclose()
    with psycopg.connect(postgres_url) as connection:
        rows = connection.execute("SELECT version FROM clientsim_schema").fetchall()
    assert rows == [(SCHEMA_VERSION,)]


async def test_a_database_of_a_newer_schema_is_refused_naming_both_versions(
    postgres_url,
):
    async with PostgresStore(postgres_url) as store:
        await store.register_if_absent("run-1")
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("UPDATE clientsim_schema SET version = 99")
    with pytest.raises(ConfigError) as caught:
        async with PostgresStore(postgres_url):
            pass
    message = str(caught.value)
    assert f"schema version 99, newer than this clientsim's {SCHEMA_VERSION}" in message
    assert "upgrade clientsim" in message


async def test_another_applications_tables_are_left_alone(postgres_url):
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("CREATE TABLE simulations (id int)")
    with pytest.raises(ConfigError, match="not a clientsim store"):
        async with PostgresStore(postgres_url):
            pass


async def test_the_password_never_shows(postgres_url):
    url = with_password(postgres_url, "hunter2")  # trust auth: any password works
    store = open_store(url)
    assert "hunter2" not in repr(store)
    async with store:
        await store.register_if_absent("run-1")
        with pytest.raises(DuplicateSimulationError) as duplicate:
            await store.register_if_absent("run-1")
        with pytest.raises(ConfigError) as unknown:
            await store.update_status("nope", "done")
    for error in (duplicate.value, unknown.value):
        assert "hunter2" not in str(error)
        assert ":***@" in str(error)
    missing = url.rsplit("/", 1)[0] + "/no_such_database"
    with pytest.raises(ConfigError) as caught:
        async with PostgresStore(missing, timeout=10):
            pass
    assert "cannot connect" in str(caught.value)
    assert "hunter2" not in str(caught.value)
    assert "no_such_database" in str(caught.value)


async def test_a_closed_store_refuses_calls_and_closing_twice_is_harmless(
    postgres_url,
):
    store = PostgresStore(postgres_url)
    await store.aclose()  # never opened
    store = PostgresStore(postgres_url)
    await store.save_conversation(make_record())
    await store.aclose()
    await store.aclose()
    with pytest.raises(ConfigError, match="closed"):
        await store.stored_keys("run-1")


@pytest.mark.parametrize(
    ("options", "what"),
    [
        ({"max_size": 0}, "max_size must be >= 1"),
        ({"min_size": 5, "max_size": 2}, "max_size must be >= 1 and >= min_size"),
        ({"min_size": -1}, "min_size must be an integer >= 0"),
        ({"timeout": 0}, "timeout must be a number > 0"),
    ],
)
def test_bad_pool_options_are_refused(options, what):
    with pytest.raises(ConfigError, match=what):
        PostgresStore("postgresql://db/sims", **options)


def test_without_psycopg_the_message_names_the_extra(tmp_path):
    code = textwrap.dedent(
        """
        import sys
        sys.modules["psycopg"] = None  # as if it were not installed
        from clientsim.errors import ConfigError
        from clientsim.store import open_store
        try:
            open_store("postgresql://bot:hunter2@db/sims")
        except ConfigError as exc:
            print(exc)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "pip install 'clientsim[postgresql]'" in done.stdout
    assert "hunter2" not in done.stdout
    assert done.stdout.startswith("the store URL 'postgresql://bot:***@db/sims'")


async def test_a_thousand_concurrent_saves_through_a_small_pool_each_land_once(
    postgres_url,
):
    records = [make_record(n, seed=n) for n in range(500)]
    results: dict[str, list[bool]] = {}

    async def save(record) -> None:
        results.setdefault(record.key, []).append(await store.save_conversation(record))

    async with PostgresStore(postgres_url, max_size=3) as store:
        with anyio.fail_after(120):
            async with anyio.create_task_group() as tg:
                for record in records + records:
                    tg.start_soon(save, record)
        assert all(sorted(found) == [False, True] for found in results.values())
        assert len(await store.conversations("run-1")) == 500


async def test_a_failed_write_fails_every_save_in_it_and_none_hangs(postgres_url):
    async with PostgresStore(postgres_url, max_size=2) as store:
        await store.save_conversation(make_record(0))
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute("DROP TABLE conversations")
        failures: list[BaseException] = []

        async def save(n: int) -> None:
            try:
                await store.save_conversation(make_record(n))
            except SimulationError as exc:
                failures.append(exc)

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                for n in range(1, 101):
                    tg.start_soon(save, n)
    assert len(failures) == 100
    assert all("conversations" in str(exc) for exc in failures)


async def test_saves_cancelled_while_queued_leave_the_store_consistent(postgres_url):
    reported: set[str] = set()

    async def save(record) -> None:
        if await store.save_conversation(record):
            reported.add(record.key)

    async with PostgresStore(postgres_url, max_size=2) as store:
        with anyio.move_on_after(0.05):
            async with anyio.create_task_group() as tg:
                for n in range(2000):
                    tg.start_soon(save, make_record(n, seed=n))
        stored = await store.stored_keys("run-1")
        assert reported <= stored  # what was reported stored is stored
        more = make_record(5000)
        assert await store.save_conversation(more)  # and the store still works
        assert more.key in await store.stored_keys("run-1")


# --- a run killed and resumed, with its record in PostgreSQL -------------------------

AGENT = """
import anyio


async def run(message: str) -> str:
    await anyio.sleep(0.05)
    return "I've sent a password reset link to your email."
"""

CONFIG = """
name: pg_resume
description: a run whose record is in PostgreSQL
iterations: 2
parallel_runs: 3
runner:
  target: "pg_agent:run"
  python_path: [src]
  timeout_seconds: 30
  max_retries: 0
inputs: {inputs}
outcomes:
  - name: resolved
    patterns: ["reset link"]
    sender: agent
pass_outcomes: [resolved]
"""


def stored_rows(url: str, run_id: str) -> tuple[int, int]:
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT count(*), count(DISTINCT key) FROM conversations WHERE run_id = %s",
            (run_id,),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_a_run_killed_with_sigkill_resumes_from_database_url(postgres_url, tmp_path):
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "src" / "pg_agent.py").write_text(AGENT)
    inputs = json.dumps([f"I forgot my password ({i})" for i in range(12)])
    path = root / "simulation.yaml"
    path.write_text(CONFIG.format(inputs=inputs))
    url = with_password(postgres_url, "hunter2")
    env = child_env(DATABASE_URL=url, OPENAI_BASE_URL="http://127.0.0.1:9/unreachable")
    env.pop("OPENAI_API_KEY", None)
    command = [sys.executable, "-c", "from clientsim.cli import main; main()", "run"]
    process = subprocess.Popen(
        [*command, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    try:
        first = process.stdout.readline()
        run_id = first.split()[1] if first.strip() else ""
        assert run_id.startswith("exp_"), first + process.stderr.read()
        for _ in range(12):  # half of the 24 cells
            assert process.stdout.readline().startswith("[")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
    stored, distinct = stored_rows(postgres_url, run_id)
    assert stored == distinct
    assert 12 <= stored < 24
    assert not (root / "experiments" / "runs.sqlite").exists()  # not in SQLite
    resumed = subprocess.run(
        [*command, str(path), "--resume", run_id],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "hunter2" not in resumed.stdout + resumed.stderr
    progress = [line for line in resumed.stdout.splitlines() if line.startswith("[")]
    assert len(progress) == 24 - stored  # only what was missing ran
    assert stored_rows(postgres_url, run_id) == (24, 24)

    async def check() -> None:
        async with PostgresStore(postgres_url) as store:
            info = await store.get_simulation(run_id)
            assert info is not None
            assert info.status == "done"
            assert "hunter2" not in json.dumps(dict(info.metadata))

    anyio.run(check)
    folder = root / "experiments" / run_id
    assert "hunter2" not in (folder / "metadata.json").read_text()


def test_one_store_serves_two_event_loops_one_after_the_other(postgres_url):
    store = PostgresStore(postgres_url)

    async def save(n: int) -> frozenset[str]:
        assert await store.save_conversation(make_record(n))
        return await store.stored_keys("run-1")

    assert len(anyio.run(save, 1)) == 1
    assert len(anyio.run(save, 2)) == 2  # a new loop: a new pool
    anyio.run(store.aclose)
