"""``clientsim team`` as real subprocesses: start, next, what-if, show, memory, roles,
on a store file shared by the processes; bad input exits 2 with one line; a killed
process loses no finished turn."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import anyio
import pytest
from aiohttp import web

from tests.integration.spine_agents import cli_env, explain, run_cli
from tests.openai_server import Server


pytestmark = pytest.mark.anyio

TEAM_FILE = """\
scenario:
  title: Mobile app v2 launch
  brief: Version 2 is feature-complete; QA has 14 open crash bugs.
  decision: Should we launch v2 on March 1?
  parameters: {launch_date: March 1, budget: 250000}
team: [CEO, Product Manager, Engineering Lead, Designer, Simulation Analyst]
max_turns: 12
memory_window: 4
seed: 3
"""


@pytest.fixture(name="team_file")
def _team_file(tmp_path: Path) -> Path:
    path = tmp_path / "launch.yaml"
    path.write_text(TEAM_FILE, encoding="utf-8")
    return path


def session_id_of(stdout: str) -> str:
    first = stdout.splitlines()[0]
    assert first.startswith("started session "), first
    return first.removeprefix("started session ")


def turn_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("[")]


async def test_start_next_show_what_if_and_memory_share_the_store(tmp_path, team_file):
    store = str(tmp_path / "teams.db")
    started = await run_cli(
        "team", "start", team_file, "--turns", "3", "--store", store, cwd=tmp_path
    )
    assert started.returncode == 0, explain(started)
    session = session_id_of(started.stdout)
    assert [line[:5] for line in turn_lines(started.stdout)] == [
        "[  0]",
        "[  1]",
        "[  2]",
        "[  3]",
    ]
    assert "[  1] CEO: " in started.stdout
    assert f"session {session}: turn 3, open" in started.stdout

    more = await run_cli(
        "team", "next", session, "--turns", "2", "--store", store, cwd=tmp_path
    )
    assert more.returncode == 0, explain(more)
    assert [line[:5] for line in turn_lines(more.stdout)] == ["[  4]", "[  5]"]

    shown = await run_cli("team", "show", session, "--store", store, cwd=tmp_path)
    assert shown.returncode == 0, explain(shown)
    assert len(turn_lines(shown.stdout)) == 6  # the opening and five turns
    assert shown.stdout.count("Analysis after turn") == 5
    assert "Positions:" in shown.stdout

    as_json = await run_cli(
        "team", "show", session, "--json", "--store", store, cwd=tmp_path
    )
    document = json.loads(as_json.stdout)
    assert len(document["transcript"]) == 6
    assert document["transcript"][1]["speaker"] == {"name": "CEO", "role": "CEO"}

    what_if = await run_cli(
        "team",
        "what-if",
        session,
        "--at-turn",
        "2",
        "--set",
        "CEO.goal=Protect the brand: never ship known crash bugs",
        "--store",
        store,
        "--json",
        cwd=tmp_path,
    )
    assert what_if.returncode == 0, explain(what_if)
    comparison = json.loads(what_if.stdout)
    assert comparison["at_turn"] == 2
    assert [row["turn"] for row in comparison["rows"]] == [2, 3, 4, 5]
    assert comparison["change"]["sets"] == {
        "CEO.goal": "Protect the brand: never ship known crash bugs"
    }
    branch = comparison["branch_id"]
    fork = await run_cli("team", "show", branch, "--store", store, cwd=tmp_path)
    assert f"Fork of {session} at turn 2" in fork.stdout

    text = await run_cli(
        "team", "what-if", session, "--at-turn", "4", "--store", store, cwd=tmp_path
    )
    assert text.returncode == 0, explain(text)
    assert "What if no change (from turn 4)" in text.stdout
    assert "≠" not in text.stdout

    memory = await run_cli(
        "team", "memory", session, "--member", "CEO", "--store", store, cwd=tmp_path
    )
    assert memory.returncode == 0, explain(memory)
    state = json.loads(memory.stdout)["CEO"]
    assert state["summarized"] + len(state["window"]) >= 5


async def test_database_url_names_the_store_when_store_is_not_given(
    tmp_path, team_file
):
    env = cli_env(DATABASE_URL=f"sqlite:///{tmp_path / 'env.db'}")
    started = await run_cli(
        "team", "start", team_file, "--turns", "1", cwd=tmp_path, env=env
    )
    assert started.returncode == 0, explain(started)
    assert (tmp_path / "env.db").exists()
    shown = await run_cli(
        "team", "show", session_id_of(started.stdout), cwd=tmp_path, env=env
    )
    assert shown.returncode == 0, explain(shown)


async def test_roles_lists_the_seven_templates(tmp_path):
    done = await run_cli("team", "roles", cwd=tmp_path)
    assert done.returncode == 0, explain(done)
    keys = [line.split()[0] for line in done.stdout.splitlines()]
    assert keys[:7] == [
        "ceo",
        "product_manager",
        "engineering_lead",
        "designer",
        "sales",
        "support",
        "simulation_analyst",
    ]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["team", "next", "nope"], "no team session 'nope'"),
        (["team", "show", "nope"], "no team session 'nope'"),
        (["team", "start", "missing.yaml"], "missing.yaml"),
    ],
)
async def test_bad_input_exits_2_with_one_line(tmp_path, args, says):
    done = await run_cli(*args, "--store", str(tmp_path / "s.db"), cwd=tmp_path)
    assert done.returncode == 2, explain(done)
    assert says in done.stderr
    assert "Traceback" not in done.stderr


async def test_a_bad_what_if_exits_2_naming_the_problem(tmp_path, team_file):
    store = str(tmp_path / "teams.db")
    started = await run_cli(
        "team", "start", team_file, "--turns", "2", "--store", store, cwd=tmp_path
    )
    session = session_id_of(started.stdout)
    for args, says in (
        (["--at-turn", "9"], "from 1 to 2"),
        (["--at-turn", "1", "--set", "CEO.goal"], "'target.field=value'"),
        (["--at-turn", "1", "--set", "Legal.goal=x"], "who is not in the team"),
        (["--at-turn", "1", "--remove-role", "Astronaut"], "who is not in the team"),
    ):
        done = await run_cli(
            "team", "what-if", session, *args, "--store", store, cwd=tmp_path
        )
        assert done.returncode == 2, explain(done)
        assert says in done.stderr
        assert "Traceback" not in done.stderr


async def test_a_postgresql_database_url_is_refused_naming_the_variable(tmp_path):
    env = cli_env(DATABASE_URL="postgresql://me:secret@db.example/teams")
    done = await run_cli("team", "show", "x", cwd=tmp_path, env=env)
    assert done.returncode == 2, explain(done)
    assert "DATABASE_URL" in done.stderr
    assert "secret" not in done.stderr


async def test_a_killed_process_loses_no_finished_turn(tmp_path, team_file):
    """The model answers three calls, then hangs; the process is killed mid-turn 4."""
    answers = Server()
    fourth, hang = anyio.Event(), anyio.Event()

    async def handle(request: web.Request) -> web.StreamResponse:
        if len(answers.requests) >= 3:
            fourth.set()
            await hang.wait()
        return await answers.handle(request)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    quiet = tmp_path / "quiet.yaml"
    quiet.write_text(
        TEAM_FILE.replace(", Simulation Analyst", "").replace(
            "memory_window: 4", "memory_window: 50"
        ),
        encoding="utf-8",
    )
    store = tmp_path / "teams.db"
    env = cli_env(
        OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1", OPENAI_API_KEY="sk-test"
    )
    command = [
        sys.executable,
        "-P",
        "-m",
        "clientsim",
        "team",
        "start",
        str(quiet),
        "--model",
        "openai:test-model",
        "--store",
        str(store),
    ]
    try:
        async with await anyio.open_process(command, cwd=tmp_path, env=env) as process:
            seen = ""
            with anyio.fail_after(60):
                assert process.stdout is not None
                async for chunk in process.stdout:
                    seen += chunk.decode()
                    if "[  3] " in seen and seen.endswith("\n"):
                        break
                await fourth.wait()  # the fourth call is in flight
            os.kill(process.pid, signal.SIGKILL)
            await process.wait()
    finally:
        hang.set()
        await runner.cleanup()
    session = session_id_of(seen)
    shown = await run_cli(
        "team", "show", session, "--json", "--store", store, cwd=tmp_path
    )
    assert shown.returncode == 0, explain(shown)
    document = json.loads(shown.stdout)
    assert len(document["transcript"]) == 4  # the opening and turns 1-3
    assert document["ending"] is None
