"""Every way the ``clientsim`` command can fail on what it is given: exit 2, one or two
lines saying what is wrong and what to do, no traceback, and the run folder (where one
was made) marked failed. Exit 1 stays "some conversations failed".

Each case is a real ``python -m clientsim`` process on real files in ``tmp_path``.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.integration.test_cli import (
    clientsim,
    experiment_dirs,
    explain,
    offline_env,
    read_json,
    scaffold,
)


@pytest.fixture(name="env")
def _env() -> dict[str, str]:
    return offline_env()


@pytest.fixture(name="finished", scope="module")
def _finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with one finished run, copied by each test that damages it."""
    root = tmp_path_factory.mktemp("finished")
    env = offline_env()
    config = scaffold(root, env)
    done = clientsim("run", config, "-q", cwd=root, env=env)
    assert done.returncode == 0, explain(done)
    return root


def copy_project(finished: Path, tmp_path: Path) -> tuple[Path, Path, str]:
    """A copy of the finished project: (its root, its output folder, the run id)."""
    root = tmp_path / "project"
    shutil.copytree(finished, root)
    output = root / "my-agent" / "experiments"
    (run,) = experiment_dirs(output)
    return root, output, run.name


CONFIG = Path("my-agent", "configs", "simulation.yaml")


def assert_clean_failure(
    done: subprocess.CompletedProcess[str], *expected: str
) -> None:
    """Exit 2, one or two lines on stderr starting ``error:``, each expected phrase."""
    assert done.returncode == 2, explain(done)
    lines = done.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2, explain(done)
    assert lines[0].startswith("error: "), explain(done)
    assert "Traceback" not in done.stderr, explain(done)
    for phrase in expected:
        assert phrase in done.stderr, explain(done)


def metadata_status(folder: Path) -> str:
    return str(read_json(folder / "metadata.json")["status"])


# --------------------------------------------------------------------- the store


def damage_pages(database: Path) -> None:
    """Overwrite every page after the first: the header reads, the tables do not."""
    for extra in ("-wal", "-shm"):
        Path(f"{database}{extra}").unlink(missing_ok=True)
    data = bytearray(database.read_bytes())
    data[4096:] = b"\x5a" * (len(data) - 4096)
    database.write_bytes(bytes(data))


def test_a_store_with_corrupt_pages_exits_2_and_marks_the_new_run_failed(
    finished, tmp_path, env
):
    root, output, _ = copy_project(finished, tmp_path)
    damage_pages(output / "runs.sqlite")
    done = clientsim("run", CONFIG, "-q", cwd=root, env=env)
    assert_clean_failure(done, "runs.sqlite", "damaged", "move it away")
    new = [folder for folder in experiment_dirs(output) if folder.name != _]
    assert [metadata_status(folder) for folder in new] == ["failed"]
    assert "malformed" in read_json(new[0] / "metadata.json")["error"]


def test_resume_from_a_store_with_corrupt_pages_exits_2(finished, tmp_path, env):
    root, output, run_id = copy_project(finished, tmp_path)
    damage_pages(output / "runs.sqlite")
    done = clientsim("run", CONFIG, "-q", "--resume", run_id, cwd=root, env=env)
    assert_clean_failure(done, "damaged")


def test_store_metadata_that_is_not_json_then_resume_exits_2(finished, tmp_path, env):
    root, output, run_id = copy_project(finished, tmp_path)
    with sqlite3.connect(output / "runs.sqlite") as connection:
        connection.execute("UPDATE simulations SET metadata = '{not json'")
    done = clientsim("run", CONFIG, "-q", "--resume", run_id, cwd=root, env=env)
    assert_clean_failure(done, run_id, "not valid JSON", "restore it")


# -------------------------------------------------------------------- the folder


def test_logs_replaced_by_a_file_then_resume_exits_2_and_marks_the_run_failed(
    finished, tmp_path, env
):
    root, output, run_id = copy_project(finished, tmp_path)
    logs = output / run_id / "logs"
    shutil.rmtree(logs)
    logs.write_text("not a folder", encoding="utf-8")
    done = clientsim("run", CONFIG, "-q", "--resume", run_id, cwd=root, env=env)
    assert_clean_failure(done, "logs", "move the file away")
    assert metadata_status(output / run_id) == "failed"
    with sqlite3.connect(output / "runs.sqlite") as connection:
        (status,) = connection.execute(
            "SELECT status FROM simulations WHERE simulation_id = ?", (run_id,)
        ).fetchone()
    assert status == "failed"


@pytest.mark.parametrize("flags", [[], ["--json"], ["--html"]])
def test_a_traces_file_that_is_not_utf8_exits_2(finished, tmp_path, env, flags):
    root, output, run_id = copy_project(finished, tmp_path)
    traces = output / run_id / "artifacts" / "traces.jsonl"
    traces.write_bytes(b'\xff\xfe{"cell_key": "x"}\n')
    (output / run_id / "summary.json").unlink()  # --json then reads the traces
    done = clientsim("report", output / run_id, *flags, cwd=root, env=env)
    assert_clean_failure(done, "traces.jsonl", "not UTF-8")


def test_an_unwritable_output_directory_exits_2(finished, tmp_path, env):
    root, _, _ = copy_project(finished, tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    done = clientsim(
        "run", CONFIG, "-q", "--output-dir", blocker / "out", cwd=root, env=env
    )
    assert_clean_failure(done, "output_directory", "--output-dir")


def test_an_unwritable_report_output_exits_2(finished, tmp_path, env):
    root, output, run_id = copy_project(finished, tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    done = clientsim(
        "report", output / run_id, "--output", blocker / "report.html",
        cwd=root, env=env,
    )  # fmt: skip
    assert_clean_failure(done, str(blocker))


def test_an_unwritable_init_path_exits_2(tmp_path, env):
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    done = clientsim("init", blocker / "project", cwd=tmp_path, env=env)
    assert_clean_failure(done, "project", "write to")


# ------------------------------------------------------------------- a plugin


def broken_plugin(root: Path) -> Path:
    """A folder holding an installed distribution whose ``clientsim`` entry point
    names a module that raises on import; put it on ``PYTHONPATH``."""
    info = root / "broken_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[clientsim]\nbroken = broken_plugin_module\n", encoding="utf-8"
    )
    (root / "broken_plugin_module.py").write_text(
        textwrap.dedent(
            """
            raise RuntimeError("the plugin's settings are incomplete")
            """
        ),
        encoding="utf-8",
    )
    return root


def test_a_broken_installed_plugin_exits_2_and_leaves_no_running_run(
    finished, tmp_path, env
):
    root, output, run_id = copy_project(finished, tmp_path)
    plugins = broken_plugin(tmp_path / "site")
    env = {
        **env,
        "PYTHONPATH": os.pathsep.join(
            path for path in (str(plugins), env.get("PYTHONPATH", "")) if path
        ),
    }
    env.pop("CLIENTSIM_DISABLE_PLUGINS", None)
    done = clientsim("run", CONFIG, "-q", cwd=root, env=env)
    assert_clean_failure(
        done, "broken_plugin_module", "settings are incomplete", "uninstall"
    )
    statuses = {
        folder.name: metadata_status(folder) for folder in experiment_dirs(output)
    }
    assert statuses == {run_id: "done"}  # found before a run folder was made
    done = clientsim("run", CONFIG, "-q", "--resume", run_id, cwd=root, env=env)
    assert_clean_failure(done, "settings are incomplete")
    assert metadata_status(output / run_id) == "done"


def test_failed_conversations_still_exit_1_not_2(tmp_path, env):
    """Exit 1 stays "some conversations failed" (the agent raises every time)."""
    scaffold(tmp_path, env)
    (tmp_path / "my-agent" / "agent.py").write_text(
        "def run(message):\n    raise RuntimeError('the agent broke')\n",
        encoding="utf-8",
    )
    config = tmp_path / CONFIG
    text = config.read_text(encoding="utf-8")
    text = text.replace("iterations: 2", "iterations: 1").replace(
        "max_retries: 3", "max_retries: 0"
    )
    config.write_text(text, encoding="utf-8")
    done = clientsim("run", CONFIG, "-q", cwd=tmp_path, env=env)
    assert done.returncode == 1, explain(done)
    (folder,) = experiment_dirs(tmp_path / "my-agent" / "experiments")
    assert json.loads((folder / "metadata.json").read_text())["status"] == "done"
