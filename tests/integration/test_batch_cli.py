"""``clientsim run CONFIG --replicates N --executor local`` and ``clientsim team batch``
as real subprocesses: the replicates and sessions run, the store gets them, a bad
executor exits 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clientsim.store import SQLiteStore
from tests.integration.spine_agents import explain, run_cli


pytestmark = pytest.mark.anyio

SIMULATION = """\
pool: {size: 2}
runner: {requirements_per_round: 2, seed: 8}
report: {strategy: json_export}
"""

TEAM = """\
scenario: {title: Pricing, brief: Churn doubled.}
team: [CEO, Sales, Simulation Analyst]
max_turns: 3
seed: 4
"""


async def test_client_simulation_replicates_on_the_local_executor(tmp_path: Path):
    config = tmp_path / "clients.yaml"
    config.write_text(SIMULATION, encoding="utf-8")
    done = await run_cli(
        "run", config, "--replicates", "3", "--executor", "local", cwd=tmp_path
    )
    assert done.returncode == 0, explain(done)
    reports = json.loads(done.stdout)
    assert [report["status"] for report in reports] == ["completed"] * 3
    assert [len(report["outcomes"]) for report in reports] == [2, 2, 2]
    ids = [report["simulation_id"] for report in reports]
    assert [i.rsplit("-", 1)[1] for i in ids] == ["1", "2", "3"]
    # The same replicates again: the same journeys (seeded from runner.seed up).
    again = json.loads(
        (await run_cli("run", config, "--replicates", "3", cwd=tmp_path)).stdout
    )
    strip = {"request_id", "intake_seconds", "work_seconds", "review_seconds"}

    def outcomes(items):
        return [
            [{k: v for k, v in o.items() if k not in strip} for o in r["outcomes"]]
            for r in items
        ]

    assert outcomes(again) == outcomes(reports)


async def test_a_bad_executor_or_replicates_exits_2_with_one_line(tmp_path: Path):
    config = tmp_path / "clients.yaml"
    config.write_text(SIMULATION, encoding="utf-8")
    done = await run_cli("run", config, "--executor", "nope", cwd=tmp_path)
    assert done.returncode == 2, explain(done)
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: unknown executor 'nope'; available: 'local'")
    experiment = tmp_path / "simulation.yaml"
    experiment.write_text("name: x\ninputs: [hi]\n", encoding="utf-8")
    done = await run_cli("run", experiment, "--replicates", "2", cwd=tmp_path)
    assert done.returncode == 2, explain(done)
    assert "--replicates applies to client simulation configs only" in done.stderr


async def test_team_batch_runs_sessions_into_the_store(tmp_path: Path):
    team = tmp_path / "team.yaml"
    team.write_text(TEAM, encoding="utf-8")
    store = tmp_path / "teams.db"
    done = await run_cli(
        "team", "batch", team, "--sessions", "2", "--executor", "local",
        "--what-if", "2:scenario.brief=Churn halved.", "--batch-id", "cli",
        "--store", store, "--json", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, explain(done)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(line["session_id"], line["seed"], line["turns"]) for line in lines] == [
        ("cli-1", 4, 3),
        ("cli-2", 5, 3),
    ]
    assert all(line["error"] is None and len(line["branches"]) == 1 for line in lines)
    async with SQLiteStore(store) as opened:
        stored = {record.session_id for record in await opened.team_sessions()}
    assert {"cli-1", "cli-2", *lines[0]["branches"], *lines[1]["branches"]} == stored
    shown = await run_cli("team", "show", "cli-2", "--store", store, cwd=tmp_path)
    assert shown.returncode == 0, explain(shown)
    assert "Pricing" in shown.stdout


async def test_team_batch_refuses_a_bad_executor_with_one_line(tmp_path: Path):
    team = tmp_path / "team.yaml"
    team.write_text(TEAM, encoding="utf-8")
    done = await run_cli(
        "team", "batch", team, "--executor", "nope", "--store", tmp_path / "t.db",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, explain(done)
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: unknown executor 'nope'; available: 'local'")
