"""The ``clientsim`` command line, run as a real program in a real folder.

Every test starts ``python -P -m clientsim ...`` (``-P``: the current folder is not put
on ``sys.path``, so an agent module is found only through the experiment's
``runner.working_directory`` and ``python_path``, as a user's would be) with
``cwd=tmp_path`` and an environment where no model provider can be reached: no
``OPENAI_API_KEY``, and ``OPENAI_BASE_URL`` pointing at a closed port. Simulated parts
use clientsim's offline model, so the whole file runs offline in seconds.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest


CLI = (sys.executable, "-P", "-m", "clientsim")
TIMEOUT = 60  # seconds, for any one command; each takes about one second here
PROGRESS = re.compile(r"^\[(\d+)/(\d+)\] (\S+) (\w+) outcome=(\S+)$", re.MULTILINE)
STARTED = re.compile(r"^run (exp_\d{8}_\d{6}(?:_\d+)?) -> (.+)$", re.MULTILINE)
RESUME = re.compile(
    r"Resume with: (clientsim run .*? --resume (exp_\S+))$", re.MULTILINE
)
EXP_NAME = re.compile(r"exp_(\d{8}_\d{6})")


# --------------------------------------------------------------------------- helpers


def offline_env() -> dict[str, str]:
    """This process's environment, with no way to reach a model provider."""
    env = {key: value for key, value in os.environ.items() if key != "OPENAI_API_KEY"}
    env["OPENAI_BASE_URL"] = "http://127.0.0.1:9/unreachable"
    # Tests rewrite agent modules between runs; a stale .pyc must never answer.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@pytest.fixture(name="env")
def _env() -> dict[str, str]:
    return offline_env()


def clientsim(
    *args: str | Path, cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def explain(done: subprocess.CompletedProcess[str]) -> str:
    """What a failed assertion shows: the command's exit code and both streams."""
    return (
        f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    )


def scaffold(tmp_path: Path, env: dict[str, str]) -> Path:
    """``clientsim init my-agent``; returns its simulation.yaml (relative to tmp_path)."""
    done = clientsim("init", "my-agent", cwd=tmp_path, env=env)
    assert done.returncode == 0, explain(done)
    return Path("my-agent", "configs", "simulation.yaml")


def write_project(
    root: Path, config: str, modules: dict[str, str] | None = None
) -> Path:
    """A project folder: ``configs/simulation.yaml`` plus agent modules (by path)."""
    for name, source in (modules or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    (root / "configs").mkdir(parents=True, exist_ok=True)
    config_file = root / "configs" / "simulation.yaml"
    config_file.write_text(textwrap.dedent(config), encoding="utf-8")
    return config_file


def started(done: subprocess.CompletedProcess[str]) -> tuple[str, Path]:
    """The run id and folder from the ``run exp_... -> folder`` line."""
    match = STARTED.search(done.stdout)
    assert match is not None, explain(done)
    return match.group(1), Path(match.group(2))


def progress(stdout: str) -> list[tuple[int, int, str, str]]:
    """The ``[i/N] key status outcome=...`` lines: (i, N, key, status)."""
    return [
        (int(m.group(1)), int(m.group(2)), m.group(3), m.group(4))
        for m in PROGRESS.finditer(stdout)
    ]


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def traces(directory: Path) -> list[dict[str, Any]]:
    text = (directory / "artifacts" / "traces.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def transcripts(directory: Path) -> dict[str, list[tuple[str, str]]]:
    """Each trace's messages as (role, content), by cell key."""
    return {
        trace["cell_key"]: [(m["role"], m["content"]) for m in trace["transcript"]]
        for trace in traces(directory)
    }


def experiment_dirs(output: Path) -> list[Path]:
    return sorted(output.glob("exp_*")) if output.is_dir() else []


# The agent modules the tests write into their projects.

ECHO_AGENT = """\
def run(message: str) -> str:
    return f"echo: {message}"
"""

FLAKY_AGENT = """\
def run(message: str) -> str:
    if "explode" in message:
        raise ValueError("cannot handle this one")
    return f"echo: {message}"
"""

REFUSING_AGENT = """\
def run(message: str) -> str:
    raise RuntimeError("the live agent was called during a replay: " + message)
"""

SLOW_AGENT = """\
import os

import anyio


async def run(message: str) -> str:
    await anyio.sleep(float(os.environ.get("SLOW_AGENT_DELAY", "0.2")))
    return f"noted: {message}"
"""


# ------------------------------------------------- 1. init, run and report, end to end


@pytest.fixture(name="scaffolded_run", scope="module")
def _scaffolded_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str], datetime, datetime]:
    """``init my-agent`` then ``run`` its config once, shared by the tests below."""
    tmp_path = tmp_path_factory.mktemp("scaffolded")
    env = offline_env()
    config = scaffold(tmp_path, env)
    before = datetime.now(UTC).replace(microsecond=0)
    done = clientsim("run", config, cwd=tmp_path, env=env)
    after = datetime.now(UTC)
    return tmp_path, done, before, after


def test_init_writes_the_example_project(tmp_path, env):
    done = clientsim("init", "my-agent", cwd=tmp_path, env=env)

    assert done.returncode == 0, explain(done)
    for name in ("agent.py", "configs/simulation.yaml", "README.md"):
        assert (tmp_path / "my-agent" / name).is_file(), name
        assert f"wrote {Path('my-agent', name)}" in done.stdout
    assert "clientsim run my-agent/configs/simulation.yaml" in done.stdout


def test_init_refuses_to_overwrite_without_force(tmp_path, env):
    scaffold(tmp_path, env)
    agent = tmp_path / "my-agent" / "agent.py"
    agent.write_text("# my own agent\n", encoding="utf-8")

    again = clientsim("init", "my-agent", cwd=tmp_path, env=env)

    assert again.returncode == 2, explain(again)
    assert again.stderr.startswith("error: ")
    for name in ("agent.py", "configs/simulation.yaml", "README.md"):
        assert str(Path("my-agent", name)) in again.stderr
    assert "--force" in again.stderr
    assert "Traceback" not in again.stderr
    assert agent.read_text(encoding="utf-8") == "# my own agent\n"

    forced = clientsim("init", "my-agent", "--force", cwd=tmp_path, env=env)

    assert forced.returncode == 0, explain(forced)
    assert "def run(" in agent.read_text(encoding="utf-8")


def test_run_of_the_scaffold_prints_progress_and_writes_the_seed_layout(
    scaffolded_run,
):
    tmp_path, done, before, after = scaffolded_run
    assert done.returncode == 0, explain(done)
    run_id, folder = started(done)
    output = tmp_path / "my-agent" / "experiments"
    assert folder == output / run_id
    assert experiment_dirs(output) == [folder]
    named = EXP_NAME.fullmatch(run_id)
    assert named is not None, run_id
    stamp = datetime.strptime(named.group(1), "%Y%m%d_%H%M%S").replace(tzinfo=UTC)
    assert before <= stamp <= after + timedelta(seconds=1)

    # Not a terminal: one plain line per conversation, counting up to the grid size
    # (3 inputs x 2 personas x 2 iterations in the scaffold).
    lines = progress(done.stdout)
    assert [line[:2] for line in lines] == [(i, 12) for i in range(1, 13)]
    assert len({line[2] for line in lines}) == 12

    # Exactly seed 003's layout.
    assert {p.name for p in folder.iterdir()} == {
        "summary.json",
        "metadata.json",
        "artifacts",
        "logs",
    }
    assert {p.name for p in (folder / "artifacts").iterdir()} == {
        "traces.jsonl",
        "observations.jsonl",
    }
    assert (folder / "logs").is_dir()

    summary = read_json(folder / "summary.json")
    lines_of_traces = traces(folder)
    assert len(lines_of_traces) == 12
    assert sum(summary["by_status"].values()) == 12 == summary["total"]
    for status, count in summary["by_status"].items():
        assert count == sum(1 for t in lines_of_traces if t["status"] == status)
    assert summary["by_status"]["done"] == 12
    assert {line[3] for line in lines} == {"done"}

    metadata = read_json(folder / "metadata.json")
    assert metadata["name"] == "my_agent"
    assert metadata["run_id"] == run_id
    assert metadata["run_seed"] == 42
    assert metadata["status"] == "done"
    assert metadata["config"]["runner"]["target"] == "agent:run"
    assert metadata["config"]["iterations"] == 2
    assert f"clientsim report {folder}" in done.stdout


def test_report_prints_the_pass_rate(scaffolded_run):
    tmp_path, done, _, _ = scaffolded_run
    _, folder = started(done)
    env = offline_env()

    shown = clientsim("report", folder, cwd=tmp_path, env=env)

    assert shown.returncode == 0, explain(shown)
    summary = read_json(folder / "summary.json")
    rate = summary["pass_rate"]
    assert "Pass rate" in shown.stdout
    assert f"{rate['value']:.1%} ({rate['passed']}/{rate['total']})" in shown.stdout
    assert "Experiment: my_agent" in shown.stdout
    assert done.stdout.count(f"pass rate {rate['value']:.1%}") == 1


def test_report_json_is_the_summary(scaffolded_run):
    tmp_path, done, _, _ = scaffolded_run
    _, folder = started(done)
    env = offline_env()

    shown = clientsim("report", "--json", folder, cwd=tmp_path, env=env)

    assert shown.returncode == 0, explain(shown)
    assert json.loads(shown.stdout) == read_json(folder / "summary.json")


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        pytest.param("my-agent", "not an experiment folder", id="project-folder"),
        pytest.param("nowhere", "does not exist", id="missing-folder"),
    ],
)
def test_report_on_a_folder_that_is_not_an_experiment_exits_2(
    scaffolded_run, where, expected
):
    tmp_path, _, _, _ = scaffolded_run
    env = offline_env()

    shown = clientsim("report", where, cwd=tmp_path, env=env)

    assert shown.returncode == 2, explain(shown)
    assert shown.stderr.startswith("error: ")
    assert expected in shown.stderr
    assert repr(where) in shown.stderr
    assert "Traceback" not in shown.stderr


# ------------------------------------------------------------------- 2. overrides


def test_overrides_change_the_grid_the_folder_and_the_recorded_config(tmp_path, env):
    config = scaffold(tmp_path, env)

    done = clientsim(
        "run",
        config,
        "--iterations",
        "1",
        "--parallel-runs",
        "3",
        "--seed",
        "7",
        "--persona",
        "patient",
        "--max-turns",
        "3",
        "--output-dir",
        "out",
        cwd=tmp_path,
        env=env,
    )

    assert done.returncode == 0, explain(done)
    run_id, folder = started(done)
    # output_directory in the file is relative to the project root; a path on the
    # command line, like any command-line path, to the current folder.
    assert folder == tmp_path / "out" / run_id
    assert experiment_dirs(tmp_path / "my-agent" / "experiments") == []
    # 3 inputs x 1 persona x 1 iteration.
    lines = progress(done.stdout)
    assert [line[:2] for line in lines] == [(1, 3), (2, 3), (3, 3)]
    assert {line[2] for line in lines} == {"0/patient/0", "1/patient/0", "2/patient/0"}

    metadata = read_json(folder / "metadata.json")
    recorded = metadata["config"]
    assert metadata["run_seed"] == 7
    assert metadata["grid_size"] == 3
    assert (recorded["iterations"], recorded["parallel_runs"], recorded["seed"]) == (
        1,
        3,
        7,
    )
    assert recorded["output_directory"] == str(tmp_path / "out")
    assert recorded["multi_turn"]["persona_override"] == "patient"
    assert recorded["multi_turn"]["max_turns"] == 3
    for trace in traces(folder):
        assert trace["persona_id"] == "patient"
        roles = [role for role, _ in transcripts(folder)[trace["cell_key"]]]
        assert roles.count("agent") <= 3
        assert roles.count("customer") <= 3


def test_seed_none_single_turn_and_model_offline(tmp_path, env):
    config = scaffold(tmp_path, env)
    # A supervisor model that cannot be reached here: --model offline replaces it.
    path = tmp_path / config
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "model: offline", "model: openai:gpt-4o-mini"
        ),
        encoding="utf-8",
    )
    options = ["--seed", "none", "--single-turn", "--model", "offline"]
    options += ["--iterations", "1", "--persona", "impatient"]

    first = clientsim("run", config, *options, cwd=tmp_path, env=env)
    second = clientsim("run", config, *options, cwd=tmp_path, env=env)

    seeds = []
    for done in (first, second):
        assert done.returncode == 0, explain(done)
        _, folder = started(done)
        metadata = read_json(folder / "metadata.json")
        assert metadata["config"]["seed"] is None
        assert isinstance(metadata["run_seed"], int)
        seeds.append(metadata["run_seed"])
        assert metadata["config"]["model"] == "offline"
        assert metadata["config"]["multi_turn"]["supervisor"]["model"] == "offline"
        assert metadata["config"]["multi_turn"]["enabled"] is False
        found = transcripts(folder)
        assert len(found) == 3
        for messages in found.values():
            assert [role for role, _ in messages] == ["customer", "agent"]
    assert seeds[0] != seeds[1]  # two random seeds; equal 1 time in 2**31


def test_the_support_desk_example_runs_small(tmp_path, env):
    example = (
        Path(__file__).parents[2] / "examples" / "support_desk" / "simulation.yaml"
    )

    done = clientsim(
        "run",
        example,
        "--iterations",
        "1",
        "--persona",
        "patient",
        "--max-turns",
        "2",
        "--output-dir",
        tmp_path / "out",
        cwd=tmp_path,
        env=env,
    )

    assert done.returncode == 0, explain(done)
    _, folder = started(done)
    assert folder.parent == tmp_path / "out"
    assert len(traces(folder)) == 3
    assert read_json(folder / "summary.json")["by_status"]["done"] == 3


# ------------------------------------------------------------------ 3. bad configs

GOOD_CONFIG = """\
name: checks
description: a config the tests break one key at a time
iterations: 1
parallel_runs: 1
runner:
  target: "echo_agent:run"
  working_directory: .
multi_turn:
  enabled: false
inputs:
  - Hello
"""


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        pytest.param(
            "iterations: 1",
            "iteratons: 1",
            ["iteratons: unknown key", "did you mean 'iterations'?"],
            id="unknown-key",
        ),
        pytest.param(
            "iterations: 1",
            "iterations: 0",
            ["iterations: expected an integer from 1 to 1000", "got 0"],
            id="out-of-range",
        ),
        pytest.param(
            "parallel_runs: 1",
            'parallel_runs: "4"',
            ["parallel_runs: expected an integer", "'4' (a string)"],
            id="wrong-type",
        ),
        pytest.param(
            "  enabled: false",
            "  enabled: false\n  max_turns: lots",
            ["multi_turn.max_turns: expected an integer from 2 to 50", "'lots'"],
            id="nested-wrong-type",
        ),
        pytest.param(
            '"echo_agent:run"',
            '"no_such_agent_module:run"',
            ["no_such_agent_module:run", "no module named 'no_such_agent_module'"],
            id="target-module-missing",
        ),
        pytest.param(
            "description: a config",
            "description: [a config",
            [
                (
                    "experiment config proj/configs/simulation.yaml is not valid "
                    "YAML at line 3, column 11"
                )
            ],
            id="invalid-yaml",
        ),
    ],
)
def test_a_bad_config_exits_2_naming_the_key(tmp_path, env, before, after, expected):
    config = write_project(
        tmp_path / "proj",
        GOOD_CONFIG.replace(before, after, 1),
        {"echo_agent.py": ECHO_AGENT},
    )

    done = clientsim("run", config.relative_to(tmp_path), cwd=tmp_path, env=env)

    assert done.returncode == 2, explain(done)
    assert done.stderr.startswith("error: "), explain(done)
    for text in expected:
        assert text in done.stderr, explain(done)
    assert "Traceback" not in done.stderr
    assert "run exp_" not in done.stdout
    assert not (tmp_path / "proj" / "experiments").exists()


def test_the_good_config_of_the_bad_config_tests_runs(tmp_path, env):
    config = write_project(
        tmp_path / "proj", GOOD_CONFIG, {"echo_agent.py": ECHO_AGENT}
    )

    done = clientsim("run", config, "-q", cwd=tmp_path, env=env)

    assert done.returncode == 0, explain(done)
    assert "1 of 1 stored (done 1, failed 0, timeout 0)" in done.stdout


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param(
            ["--iterations", "0"],
            ["(after overrides): iterations: expected an integer from 1 to 1000"],
            id="iterations-0",
        ),
        pytest.param(
            ["--max-turns", "1"],
            ["multi_turn.max_turns: expected an integer from 2 to 50"],
            id="max-turns-1",
        ),
        pytest.param(
            ["--persona", "pateint"],
            ["multi_turn.persona_override: 'pateint' names no persona"],
            id="unknown-persona",
        ),
        pytest.param(
            ["--record-cassette", "X", "--replay-cassette", "Y"],
            ["--record-cassette or --replay-cassette, not both"],
            id="both-cassettes",
        ),
        pytest.param(
            ["--rate-limit", "0"],
            ["--rate-limit must be > 0"],
            id="rate-limit-0",
        ),
    ],
)
def test_a_bad_override_exits_2(tmp_path, env, options, expected):
    config = scaffold(tmp_path, env)

    done = clientsim("run", config, *options, cwd=tmp_path, env=env)

    assert done.returncode == 2, explain(done)
    assert done.stderr.startswith("error: ")
    for text in expected:
        assert text in done.stderr, explain(done)
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "my-agent" / "experiments").exists()


def test_a_missing_config_file_exits_2(tmp_path, env):
    done = clientsim("run", "configs/simulation.yaml", cwd=tmp_path, env=env)

    assert done.returncode == 2, explain(done)
    assert done.stderr == (
        "error: experiment config configs/simulation.yaml does not exist\n"
    )


def test_a_replay_cassette_that_does_not_exist_exits_2(tmp_path, env):
    config = scaffold(tmp_path, env)

    done = clientsim(
        "run",
        config,
        "--replay-cassette",
        tmp_path / "none.sqlite",
        cwd=tmp_path,
        env=env,
    )

    assert done.returncode == 2, explain(done)
    assert done.stderr.startswith("error: ")
    assert "none.sqlite" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_replay_cassette_leaves_no_run_behind(tmp_path, env):
    config = scaffold(tmp_path, env)

    done = clientsim(
        "run",
        config,
        "--replay-cassette",
        tmp_path / "none.sqlite",
        cwd=tmp_path,
        env=env,
    )

    assert done.returncode == 2, explain(done)
    assert experiment_dirs(tmp_path / "my-agent" / "experiments") == []


def test_a_missing_working_directory_is_named(tmp_path, env):
    config = write_project(
        tmp_path / "proj",
        GOOD_CONFIG.replace("working_directory: .", "working_directory: agent_code"),
        {"echo_agent.py": ECHO_AGENT},
    )

    done = clientsim("run", config, cwd=tmp_path, env=env)

    assert done.returncode == 2, explain(done)
    assert "runner.working_directory 'agent_code'" in done.stderr


def test_resume_never_adds_cells_outside_the_run_s_grid(tmp_path, env):
    config = write_project(
        tmp_path / "proj", GOOD_CONFIG, {"echo_agent.py": ECHO_AGENT}
    )
    first = clientsim("run", config, cwd=tmp_path, env=env)
    assert first.returncode == 0, explain(first)
    run_id, folder = started(first)

    again = clientsim(
        "run", config, "--resume", run_id, "--iterations", "2", cwd=tmp_path, env=env
    )

    # Refusing the changed grid (exit 2) or finishing the stored one (exit 0) are
    # both fine; growing the run past what its metadata describes is not.
    if again.returncode == 2:
        assert again.stderr.startswith("error: ")
        assert "iterations" in again.stderr
    else:
        assert again.returncode == 0, explain(again)
        assert progress(again.stdout) == []
    store = tmp_path / "proj" / "experiments" / "runs.sqlite"
    assert store_counts(store, run_id) == (1, 1)
    assert len(traces(folder)) == 1
    metadata = read_json(folder / "metadata.json")
    assert (metadata["grid_size"], metadata["config"]["iterations"]) == (1, 1)


def test_resume_of_a_finished_run_runs_nothing(tmp_path, env):
    config = write_project(
        tmp_path / "proj", GOOD_CONFIG, {"echo_agent.py": ECHO_AGENT}
    )
    first = clientsim("run", config, cwd=tmp_path, env=env)
    assert first.returncode == 0, explain(first)
    run_id, folder = started(first)

    again = clientsim("run", config, "--resume", run_id, cwd=tmp_path, env=env)

    assert again.returncode == 0, explain(again)
    assert started(again) == (run_id, folder)
    assert progress(again.stdout) == []
    assert f"{run_id}: 1 of 1 stored" in again.stdout
    assert experiment_dirs(tmp_path / "proj" / "experiments") == [folder]


def test_resume_of_an_unknown_run_exits_2(tmp_path, env):
    config = write_project(
        tmp_path / "proj", GOOD_CONFIG, {"echo_agent.py": ECHO_AGENT}
    )

    done = clientsim(
        "run", config, "--resume", "exp_20000101_000000", cwd=tmp_path, env=env
    )

    assert done.returncode == 2, explain(done)
    assert done.stderr.startswith("error: cannot resume run 'exp_20000101_000000'")
    assert "Traceback" not in done.stderr


# -------------------------------------------------------- 4. failing conversations

FLAKY_CONFIG = """\
name: flaky
description: the agent raises for one input
iterations: 1
parallel_runs: 2
seed: 7
runner:
  target: "flaky_agent:run"
  working_directory: .
  python_path: [agents]
  max_retries: 0
multi_turn:
  enabled: true
  max_turns: 2
  supervisor:
    provider: mock
    metadata:
      scripted_questions: ["And one more thing?"]
inputs:
  - {id: a, content: "hello there"}
  - {id: b, content: "please explode now"}
  - {id: c, content: "good day"}
"""


def test_failed_conversations_exit_1(tmp_path, env):
    config = write_project(
        tmp_path / "proj", FLAKY_CONFIG, {"agents/flaky_agent.py": FLAKY_AGENT}
    )

    done = clientsim("run", config.relative_to(tmp_path), cwd=tmp_path, env=env)

    assert done.returncode == 1, explain(done)
    _, folder = started(done)
    assert "1 conversation(s) failed or timed out" in done.stderr
    assert str(folder / "artifacts" / "traces.jsonl") in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(line[2:] for line in progress(done.stdout)) == [
        ("a/default/0", "done"),
        ("b/default/0", "failed"),
        ("c/default/0", "done"),
    ]
    summary = read_json(folder / "summary.json")
    assert summary["by_status"] == {"done": 2, "failed": 1, "timeout": 0}
    by_key = {trace["cell_key"]: trace for trace in traces(folder)}
    failed = by_key["b/default/0"]
    assert failed["status"] == "failed"
    assert failed["error"]["side"] == "agent"
    assert "ValueError: cannot handle this one" in failed["error"]["message"]
    assert failed["attempts"] == 1
    for key in ("a/default/0", "c/default/0"):
        assert by_key[key]["status"] == "done"
        reply = by_key[key]["transcript"][1]
        assert (reply["role"], reply["content"]) == (
            "agent",
            f"echo: {by_key[key]['input']}",
        )


# ------------------------------------------------------------------ 5. Ctrl-C, resume


def slow_config(inputs: int) -> str:
    lines = "\n".join(
        f"  - {{id: q{index:02d}, content: 'question number {index}'}}"
        for index in range(inputs)
    )
    return f"""\
name: slow
description: a slow agent, to be interrupted
iterations: 1
parallel_runs: 1
seed: 7
runner:
  target: "slow_agent:run"
  working_directory: .
multi_turn:
  enabled: true
  max_turns: 2
  supervisor:
    provider: mock
    metadata:
      scripted_questions: ["And then?"]
inputs:
{lines}
"""


def interrupt_after(
    args: list[str | Path], progress_lines: int, *, cwd: Path, env: dict[str, str]
) -> tuple[int, str, str]:
    """Start ``clientsim *args``; send SIGINT once ``progress_lines`` were printed.

    Returns the exit code, all of stdout and stderr.
    """
    process = subprocess.Popen(
        [*CLI, *map(str, args)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        seen: list[str] = []
        for line in process.stdout:
            seen.append(line)
            if len(progress("".join(seen))) >= progress_lines:
                break
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=TIMEOUT)
    return process.returncode, "".join(seen) + out, err


def store_counts(database: Path, run_id: str) -> tuple[int, int]:
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT COUNT(*), COUNT(DISTINCT key) FROM conversations WHERE run_id = ?",
            (run_id,),
        ).fetchone()
    return int(row[0]), int(row[1])


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX")
def test_ctrl_c_stores_what_finished_and_the_printed_command_resumes(tmp_path, env):
    # 15 conversations of 2 agent calls at 0.2 s: 6 s if left alone.
    config = write_project(
        tmp_path / "proj", slow_config(15), {"slow_agent.py": SLOW_AGENT}
    ).relative_to(tmp_path)
    output = tmp_path / "proj" / "experiments"

    code, out, err = interrupt_after(["run", config], 2, cwd=tmp_path, env=env)

    assert code == 130, f"exit {code}\n{out}\n{err}"
    assert "Traceback" not in err
    assert "Interrupted: finished conversations are stored." in err
    match = RESUME.search(err)
    assert match is not None, err
    command, run_id = match.group(1), match.group(2)
    assert shlex.split(command) == ["clientsim", "run", str(config), "--resume", run_id]
    [folder] = experiment_dirs(output)
    assert folder.name == run_id
    metadata = read_json(folder / "metadata.json")
    assert metadata["status"] == "interrupted"
    stored, distinct = store_counts(output / "runs.sqlite", run_id)
    assert stored == distinct
    assert 2 <= stored < 15
    assert metadata["stored"] == stored
    assert len(traces(folder)) == stored

    # The printed command, as printed; the agent answers at once this time.
    resumed = clientsim(
        *shlex.split(command)[1:], cwd=tmp_path, env=env | {"SLOW_AGENT_DELAY": "0"}
    )

    assert resumed.returncode == 0, explain(resumed)
    assert started(resumed) == (run_id, folder)
    lines = progress(resumed.stdout)
    assert [line[:2] for line in lines] == [(i, 15) for i in range(stored + 1, 16)]
    assert store_counts(output / "runs.sqlite", run_id) == (15, 15)
    assert experiment_dirs(output) == [folder]
    metadata = read_json(folder / "metadata.json")
    assert (metadata["status"], metadata["stored"], metadata["run_seed"]) == (
        "done",
        15,
        7,
    )
    assert sorted(trace["cell_key"] for trace in traces(folder)) == [
        f"q{index:02d}/default/0" for index in range(15)
    ]
    assert read_json(folder / "summary.json")["by_status"]["done"] == 15


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX")
def test_the_printed_resume_command_keeps_the_overrides(tmp_path, env):
    config = write_project(
        tmp_path / "proj", slow_config(8), {"slow_agent.py": SLOW_AGENT}
    ).relative_to(tmp_path)

    code, _, err = interrupt_after(
        ["run", config, "--output-dir", "elsewhere"], 1, cwd=tmp_path, env=env
    )

    assert code == 130
    match = RESUME.search(err)
    assert match is not None, err
    resumed = clientsim(
        *shlex.split(match.group(1))[1:],
        cwd=tmp_path,
        env=env | {"SLOW_AGENT_DELAY": "0"},
    )
    assert resumed.returncode == 0, explain(resumed)
    assert store_counts(tmp_path / "elsewhere" / "runs.sqlite", match.group(2)) == (
        8,
        8,
    )


# ------------------------------------------------------------ 6. record and replay

TAPE_CONFIG = """\
name: taped
description: record the agent and the supervisor, then replay them
iterations: 1
parallel_runs: 2
seed: 11
runner:
  target: "tape_agent:run"
  working_directory: .
multi_turn:
  enabled: true
  max_turns: 3
  supervisor:
    provider: openai
    model: offline
personas:
  - {id: calm, description: A calm customer.}
inputs:
  - {id: pw, content: "I forgot my password", intent: "Get back into the account"}
  - {id: hours, content: "When are you open?", intent: "Learn the opening hours"}
"""


def test_a_recorded_cassette_replays_without_calling_the_agent(tmp_path, env):
    config = write_project(
        tmp_path / "proj", TAPE_CONFIG, {"tape_agent.py": ECHO_AGENT}
    ).relative_to(tmp_path)
    tape = tmp_path / "tape.sqlite"

    recorded = clientsim(
        "run", config, "--record-cassette", tape, cwd=tmp_path, env=env
    )

    assert recorded.returncode == 0, explain(recorded)
    assert tape.is_file()
    _, first = started(recorded)

    # The live agent is gone: any call to it fails the conversation.
    (tmp_path / "proj" / "tape_agent.py").write_text(REFUSING_AGENT, encoding="utf-8")
    replayed = clientsim(
        "run", config, "--replay-cassette", tape, cwd=tmp_path, env=env
    )

    assert replayed.returncode == 0, explain(replayed)
    _, second = started(replayed)
    assert second != first
    assert transcripts(second) == transcripts(first)
    assert len(transcripts(first)) == 2
    for messages in transcripts(first).values():
        assert messages[1] == ("agent", f"echo: {messages[0][1]}")

    # Cells the tape does not hold fail (strict replay); the live agent is not called.
    beyond = clientsim(
        "run",
        config,
        "--replay-cassette",
        tape,
        "--iterations",
        "2",
        cwd=tmp_path,
        env=env,
    )

    assert beyond.returncode == 1, explain(beyond)
    _, third = started(beyond)
    by_key = {trace["cell_key"]: trace for trace in traces(third)}
    assert {key: t["status"] for key, t in by_key.items()} == {
        "pw/calm/0": "done",
        "hours/calm/0": "done",
        "pw/calm/1": "failed",
        "hours/calm/1": "failed",
    }
    for key in ("pw/calm/1", "hours/calm/1"):
        assert "CassetteMiss" in by_key[key]["error"]["type"]
        assert "live agent was called" not in json.dumps(by_key[key])


def test_a_relative_cassette_path_is_relative_to_the_current_folder(tmp_path, env):
    config = write_project(
        tmp_path / "proj", TAPE_CONFIG, {"tape_agent.py": ECHO_AGENT}
    ).relative_to(tmp_path)

    recorded = clientsim(
        "run", config, "--record-cassette", "tape.sqlite", "-q", cwd=tmp_path, env=env
    )

    assert recorded.returncode == 0, explain(recorded)
    assert (tmp_path / "tape.sqlite").is_file()


# --------------------------------------------------------------------------- 7. help

SEED_OPTIONS = (
    "--iterations",
    "--parallel-runs",
    "--seed",
    "--multi-turn",
    "--max-turns",
    "--auto-approve",
    "--supervisor-model",
    "--supervisor-temperature",
    "--persona",
    "--output-dir",
    "--model",
    "--resume",
)


def test_help_lists_the_commands_and_the_seed_options(tmp_path, env):
    top = clientsim("--help", cwd=tmp_path, env=env)
    run = clientsim("run", "--help", cwd=tmp_path, env=env)

    assert top.returncode == 0, explain(top)
    for command in ("run", "init", "report"):
        assert re.search(rf"^\s+{command}\s", top.stdout, re.MULTILINE), top.stdout
    assert run.returncode == 0, explain(run)
    for option in SEED_OPTIONS:
        assert re.search(rf"^\s+{re.escape(option)}\b", run.stdout, re.MULTILINE), (
            option
        )
    assert "--single-turn" in run.stdout
    assert "--record-cassette" in run.stdout
    assert "--replay-cassette" in run.stdout


def test_version(tmp_path, env):
    from importlib.metadata import version

    done = clientsim("--version", cwd=tmp_path, env=env)

    assert done.returncode == 0, explain(done)
    assert version("clientsim") in done.stdout
