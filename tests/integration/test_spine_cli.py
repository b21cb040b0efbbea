"""``clientsim run`` on a client simulation config (seed 000), as a real subprocess:
the file's kind told from its keys or forced with ``--kind``, ``--worker`` naming the
agent doing the work, and the files and flags it refuses (exit 2, one line)."""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from pathlib import Path

import pytest

from tests.integration.spine_agents import cli_env, explain, run_cli


EXAMPLE = Path(__file__).parents[2] / "examples" / "client_simulation" / "config.yaml"
REPORT = re.compile(
    r"^Client simulation \S+: completed in [\d.]+s\n"
    r"  requirements (?P<requirements>\d+): submitted (?P<submitted>\d+), declined "
    r"(?P<declined>\d+), cancelled at intake \d+\n"
    r"  tasks created (?P<created>\d+): completed (?P<completed>\d+), failed "
    r"(?P<failed>\d+)\n"
    r"  acceptance rate (?P<rate>[\d.]+)% of \d+ reviewed",
)

WORKER = """
from pathlib import Path

CALLS = Path(__file__).with_name("worker_calls.txt")


async def work(task, feedback):
    with CALLS.open("a", encoding="utf-8") as calls:
        calls.write(task.task_id + "\\n")
    criteria = task.requirement.acceptance_criteria
    done = "\\n".join(f"- Done: {criterion}." for criterion in criteria)
    return f"Delivered: {task.requirement.title}.\\n{done}"
"""


def report_of(stdout: str) -> dict[str, int | float]:
    match = REPORT.match(stdout)
    assert match is not None, stdout
    return {key: float(value) for key, value in match.groupdict().items()}


@pytest.fixture(name="example")
def _example(tmp_path: Path) -> Path:
    shutil.copy(EXAMPLE, tmp_path / "config.yaml")
    return tmp_path / "config.yaml"


async def test_the_client_simulation_example_runs_and_prints_its_report(tmp_path):
    done = await run_cli("run", EXAMPLE, cwd=tmp_path)

    assert done.returncode == 0, explain(done)
    report = report_of(done.stdout)
    # runner: rounds 2 x requirements_per_round 12
    assert report["requirements"] == 24
    assert report["submitted"] + report["declined"] == 24
    assert report["created"] == report["submitted"]
    assert report["completed"] + report["failed"] == report["created"]
    assert "estimated cost $" in done.stdout
    assert list(tmp_path.iterdir()) == []  # no experiment folder


async def test_a_worker_named_with_worker_does_the_work(tmp_path, example):
    (tmp_path / "agents").mkdir()
    (tmp_path / "agents" / "my_worker.py").write_text(textwrap.dedent(WORKER))
    env = cli_env()
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "agents"), env["PYTHONPATH"]])

    done = await run_cli(
        "run", example, "--worker", "my_worker:work", cwd=tmp_path, env=env
    )

    assert done.returncode == 0, explain(done)
    report = report_of(done.stdout)
    calls = (tmp_path / "agents" / "worker_calls.txt").read_text().splitlines()
    # every criterion is done: each task accepted at the first delivery
    assert report["created"] > 0
    assert sorted(calls) == sorted({*calls})
    assert len(calls) == report["created"] == report["completed"]
    assert report["failed"] == 0
    assert report["rate"] == 100.0


async def test_a_worker_module_in_the_current_folder_is_found(tmp_path, example):
    # Run from the project folder that holds the worker, as a user would, with no
    # PYTHONPATH of their own (the console script does not put "." on sys.path).
    (tmp_path / "my_worker.py").write_text(textwrap.dedent(WORKER))

    done = await run_cli(
        "run", "config.yaml", "--worker", "my_worker:work", cwd=tmp_path
    )

    assert done.returncode == 0, explain(done)
    calls = (tmp_path / "worker_calls.txt").read_text().splitlines()
    assert len(calls) == report_of(done.stdout)["created"]


ONLY_RUNNER = """
runner:
  rounds: 1
  requirements_per_round: 3
  seed: 5
"""


async def test_kind_forces_a_file_whose_keys_say_neither(tmp_path):
    (tmp_path / "sim.yaml").write_text(ONLY_RUNNER)

    told = await run_cli("run", "sim.yaml", cwd=tmp_path)
    assert told.returncode == 2, explain(told)
    assert "is neither an experiment file" in told.stderr

    forced = await run_cli(
        "run", "sim.yaml", "--kind", "client-simulation", cwd=tmp_path
    )
    assert forced.returncode == 0, explain(forced)
    assert report_of(forced.stdout)["requirements"] == 3


async def test_kind_experiment_reads_a_client_simulation_as_an_experiment(example):
    done = await run_cli("run", example, "--kind", "experiment", cwd=example.parent)

    assert done.returncode == 2, explain(done)
    assert done.stderr.startswith(f"error: invalid experiment config {example}")
    assert "name: required key missing" in done.stderr


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("colour: red\nshape: [round]\n", "it has: colour, shape"),
        ("{}\n", "it has: (no keys)"),
        ("name: t\npool: {size: 2}\n", "--kind experiment or --kind client-simulation"),
    ],
    ids=["unknown-keys", "empty", "both-kinds"],
)
async def test_a_file_of_neither_kind_exits_2_with_one_line(tmp_path, text, says):
    (tmp_path / "what.yaml").write_text(text)

    done = await run_cli("run", "what.yaml", cwd=tmp_path)

    assert done.returncode == 2, explain(done)
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: what.yaml ")
    assert says in line
    assert list(tmp_path.iterdir()) == [tmp_path / "what.yaml"]


@pytest.mark.parametrize(
    "flags",
    [
        ("--iterations", "3"),
        ("--seed", "4"),
        ("--multi-turn",),
        ("--resume", "exp_20260101_000000"),
        ("--iterations", "3", "--model", "offline"),
    ],
    ids=["iterations", "seed", "multi-turn", "resume", "two"],
)
async def test_an_experiment_only_flag_with_a_client_simulation_exits_2(example, flags):
    done = await run_cli("run", example, *flags, cwd=example.parent)

    assert done.returncode == 2, explain(done)
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    named = sorted(flag for flag in flags if flag.startswith("--"))
    assert line == (
        f"error: {', '.join(named)}: for experiment files only, not client simulations"
    )


async def test_worker_with_an_experiment_file_exits_2(tmp_path):
    (tmp_path / "sim.yaml").write_text(
        'name: t\ndescription: d\nagent: "http://127.0.0.1:9/v1"\ninputs: [hi]\n'
    )

    done = await run_cli("run", "sim.yaml", "--worker", "my_worker:work", cwd=tmp_path)

    assert done.returncode == 2, explain(done)
    assert done.stderr == "error: --worker applies to client simulation configs only\n"
