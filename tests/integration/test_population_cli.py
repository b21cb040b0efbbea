"""``clientsim population`` and ``clientsim init --template`` as real subprocesses:
a study run in steps on a store file, results as JSON and CSV, checkpoints and
restore, bad input exiting 2 with one line, and a process killed mid-study that
resumes with no persona asked twice and the results of an uninterrupted run."""

from __future__ import annotations

import csv
import json
import os
import signal
import sys

import anyio
import pytest
from aiohttp import web

from tests.integration.spine_agents import cli_env, explain, run_cli
from tests.openai_server import Server


pytestmark = pytest.mark.anyio

STUDY = """\
name: Bottle survey
seed: 4
model: offline
parallel_runs: 1
checkpoint_every: 4
population:
  name: Adults
  demographic_base: usa
  size: 10
  segments:
    - name: families
      size: 4
      particularities: married with children, middle income
      fragments: [loving_parent, budget_conscious]
questions:
  - id: interest
    text: How interested are you in a smart water bottle, from 1 to 10?
    type: scale
  - id: price
    text: What would you pay for it?
    type: choice
    options: [Nothing, Up to $20, More than $20]
"""


def _study(tmp_path, text=STUDY):
    path = tmp_path / "study.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _run_id(stdout: str) -> str:
    first = stdout.splitlines()[0]
    assert first.startswith("study run "), first
    return first.removeprefix("study run ").split(":")[0]


async def test_run_in_steps_show_checkpoints_and_restore(tmp_path):
    study, store = _study(tmp_path), str(tmp_path / "runs.db")
    done = await run_cli(
        "population",
        "run",
        str(study),
        "--store",
        store,
        "--max-units",
        "5",
        cwd=tmp_path,
    )
    assert done.returncode == 0, explain(done)
    run_id = _run_id(done.stdout)
    assert "5 of 10 units stored" in done.stdout
    again = await run_cli(
        "population",
        "run",
        str(study),
        "--store",
        store,
        "--run-id",
        run_id,
        "--json",
        cwd=tmp_path,
    )
    assert again.returncode == 0, explain(again)
    results = json.loads(again.stdout[again.stdout.index("{") :])
    assert results["aggregate_results"]["total_responses"] == 10
    people = [row["agent_id"] for row in results["individual_results"]]
    assert len(people) == len(set(people)) == 10  # nobody asked twice

    shown = await run_cli(
        "population",
        "show",
        run_id,
        "--store",
        store,
        "--csv",
        "answers.csv",
        cwd=tmp_path,
    )
    assert shown.returncode == 0, explain(shown)
    with (tmp_path / "answers.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["question_id"] for row in rows} >= {"interest", "price"}

    points = await run_cli(
        "population", "checkpoints", run_id, "--store", store, cwd=tmp_path
    )
    assert points.returncode == 0, explain(points)
    ids = [line.split()[0] for line in points.stdout.splitlines()]
    assert ids[0] == "ckpt-0001"
    assert len(ids) >= 3

    restored = await run_cli(
        "population",
        "restore",
        run_id,
        "ckpt-0001",
        "--store",
        store,
        "--json",
        cwd=tmp_path,
    )
    assert restored.returncode == 0, explain(restored)
    assert f"restored ckpt-0001 of {run_id} as {run_id}@ckpt-0001" in restored.stdout
    branch = json.loads(restored.stdout[restored.stdout.index("{") :])
    assert branch["individual_results"] == results["individual_results"]


async def test_profile_segments_and_individuals_run_nothing(tmp_path):
    study = _study(tmp_path)
    segments = await run_cli("population", "segments", str(study), cwd=tmp_path)
    assert segments.returncode == 0, explain(segments)
    assert "families: 4" in segments.stdout
    people = await run_cli(
        "population",
        "individuals",
        str(study),
        "--segment",
        "families",
        "--json",
        cwd=tmp_path,
    )
    assert people.returncode == 0, explain(people)
    lines = [json.loads(line) for line in people.stdout.splitlines()]
    assert len(lines) == 4
    assert {p["segment"] for p in lines} == {"families"}
    profile = await run_cli("population", "profile", str(study), cwd=tmp_path)
    assert profile.returncode == 0, explain(profile)
    assert "age" in profile.stdout.lower()
    rows = await run_cli("population", "profile", str(study), "--json", cwd=tmp_path)
    assert rows.returncode == 0, explain(rows)
    table = json.loads(rows.stdout)
    assert {row["segment"] for row in table} == {"all", "families", "general"}
    page = await run_cli(
        "population", "profile", str(study), "--html", "profile.html", cwd=tmp_path
    )
    assert page.returncode == 0, explain(page)
    text = (tmp_path / "profile.html").read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "<svg" in text
    assert "<script" not in text


@pytest.mark.parametrize(
    "template", ["market_survey", "focus_group", "ab_intervention", "customer_journey"]
)
async def test_every_template_scaffolds_and_runs_offline(tmp_path, template):
    made = await run_cli("init", "here", "--template", template, cwd=tmp_path)
    assert made.returncode == 0, explain(made)
    assert "clientsim population run" in made.stdout
    done = await run_cli(
        "population",
        "run",
        "here/study.yaml",
        "--store",
        "runs.db",
        "--json",
        cwd=tmp_path,
    )
    assert done.returncode == 0, explain(done)
    assert json.loads(done.stdout[done.stdout.index("{") :])


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["init", "x", "--template", "market_survy"], "did you mean 'market_survey'"),
        (["population", "show", "nope", "--store", "runs.db"], "no study run 'nope'"),
        (["population", "run", "missing.yaml"], "missing.yaml"),
    ],
)
async def test_bad_input_exits_2_with_one_line(tmp_path, args, says):
    done = await run_cli(*args, cwd=tmp_path)
    assert done.returncode == 2, explain(done)
    assert says in done.stderr
    assert "Traceback" not in done.stderr


async def test_a_bad_key_names_it(tmp_path):
    bad = _study(tmp_path, STUDY.replace("type: scale", "type: slider"))
    done = await run_cli("population", "run", str(bad), cwd=tmp_path)
    assert done.returncode == 2, explain(done)
    assert "slider" in done.stderr
    assert "scale, choice, ranking, free_text" in done.stderr


async def _serve(handle):
    app = web.Application()
    app.router.add_post("/v1/chat/completions", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, runner.addresses[0][1]


async def test_a_killed_run_resumes_with_the_results_of_an_uninterrupted_one(tmp_path):
    """The model hangs on a call after the second checkpoint; the process is killed
    there, rerun with the same run id, and compared with a run that was never
    killed."""
    answers = Server()
    hanging, hang = anyio.Event(), anyio.Event()
    state = {"armed": False}

    async def handle(request: web.Request) -> web.StreamResponse:
        if state["armed"]:
            hanging.set()
            await hang.wait()
        return await answers.handle(request)

    runner, port = await _serve(handle)
    study = _study(tmp_path)
    env = cli_env(
        OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1", OPENAI_API_KEY="sk-test"
    )
    base = [
        sys.executable,
        "-P",
        "-m",
        "clientsim",
        "population",
        "run",
        str(study),
        "--model",
        "openai:test-model",
        "--run-id",
        "killed",
    ]
    try:
        killed_store = str(tmp_path / "killed.db")
        command = [*base, "--store", killed_store]
        async with await anyio.open_process(command, cwd=tmp_path, env=env) as process:
            seen = ""
            with anyio.fail_after(60):
                assert process.stdout is not None
                async for chunk in process.stdout:
                    seen += chunk.decode()
                    if "checkpoint ckpt-0002" in seen and seen.endswith("\n"):
                        state["armed"] = True
                        break
                await hanging.wait()  # a call of the third step is in flight
            os.kill(process.pid, signal.SIGKILL)
        hang.set()
        state["armed"] = False
        asked_before = len(answers.requests)
        resumed = await run_cli(
            "population",
            "run",
            str(study),
            "--model",
            "openai:test-model",
            "--run-id",
            "killed",
            "--store",
            killed_store,
            "--json",
            cwd=tmp_path,
            env=env,
        )
        assert resumed.returncode == 0, explain(resumed)
        assert len(answers.requests) > asked_before
        straight = await run_cli(
            "population",
            "run",
            str(study),
            "--model",
            "openai:test-model",
            "--run-id",
            "killed",
            "--store",
            str(tmp_path / "straight.db"),
            "--json",
            cwd=tmp_path,
            env=env,
        )
        assert straight.returncode == 0, explain(straight)
    finally:
        hang.set()
        await runner.cleanup()
    first = json.loads(resumed.stdout[resumed.stdout.index("{") :])
    second = json.loads(straight.stdout[straight.stdout.index("{") :])
    people = [row["agent_id"] for row in first["individual_results"]]
    assert len(people) == len(set(people)) == 10
    by_id = lambda rows: sorted(rows, key=lambda row: row["agent_id"])  # noqa: E731
    assert by_id(first["individual_results"]) == by_id(second["individual_results"])
