"""What ``--resume`` reads, and where it writes.

A resume finds the run where the file and the command line say it is now (the store
and the output folder under ``output_directory`` or ``--output-dir``), and finishes it
with the configuration it started with (the grid, the seed, the models), whatever the
file says now. A run id, from ``--resume`` or from the store, is a folder name inside
the output directory and nothing else.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.integration.test_cli import (
    clientsim,
    experiment_dirs,
    explain,
    offline_env,
    progress,
    read_json,
    scaffold,
    started,
    traces,
)


@pytest.fixture(name="env")
def _env() -> dict[str, str]:
    return offline_env()


def small(config: Path) -> None:
    """One iteration of the scaffold's six cells."""
    text = config.read_text(encoding="utf-8").replace("iterations: 2", "iterations: 1")
    config.write_text(text, encoding="utf-8")


def test_resume_writes_into_the_output_dir_it_is_given(tmp_path, env):
    config = scaffold(tmp_path, env)
    small(tmp_path / config)
    first = clientsim("run", config, "--output-dir", "first", cwd=tmp_path, env=env)
    assert first.returncode == 0, explain(first)
    run_id, folder = started(first)
    # Move the whole output folder (store and run folders) elsewhere ...
    shutil.move(tmp_path / "first", tmp_path / "moved")
    (tmp_path / "moved" / run_id / "summary.json").unlink()
    # ... and change the file: neither moves the resume back nor changes its grid.
    text = (tmp_path / config).read_text(encoding="utf-8")
    (tmp_path / config).write_text(
        text.replace("iterations: 1", "iterations: 3"), encoding="utf-8"
    )

    again = clientsim(
        "run",
        config,
        "--output-dir",
        "moved",
        "--resume",
        run_id,
        cwd=tmp_path,
        env=env,
    )

    assert again.returncode == 0, explain(again)
    assert started(again) == (run_id, (tmp_path / "moved" / run_id).resolve())
    assert progress(again.stdout) == []
    assert not (tmp_path / "first").exists()
    assert (tmp_path / "moved" / run_id / "summary.json").is_file()
    metadata = read_json(tmp_path / "moved" / run_id / "metadata.json")
    assert metadata["config"]["iterations"] == 1
    assert len(traces(tmp_path / "moved" / run_id)) == 6
    assert folder == (tmp_path / "first" / run_id).resolve()


@pytest.mark.parametrize("run_id", ["../../escaped", "ABSOLUTE", ".hidden", "a/b"])
def test_a_resume_id_that_is_a_path_exits_2(tmp_path, env, run_id):
    if run_id == "ABSOLUTE":
        run_id = str(tmp_path / "escaped-run")
    config = scaffold(tmp_path, env)
    done = clientsim("run", config, "--resume", run_id, cwd=tmp_path, env=env)
    assert done.returncode == 2, explain(done)
    assert done.stderr.startswith(f"error: --resume: {run_id!r} is not a run id")
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "escaped").exists()
    assert not (tmp_path / "escaped-run").exists()


def test_a_stored_run_id_that_is_a_path_never_writes_outside(tmp_path, env):
    config = scaffold(tmp_path, env)
    small(tmp_path / config)
    first = clientsim("run", config, "-q", cwd=tmp_path, env=env)
    assert first.returncode == 0, explain(first)
    output = tmp_path / "my-agent" / "experiments"
    (run,) = experiment_dirs(output)
    evil = "../../../escaped"
    with sqlite3.connect(output / "runs.sqlite") as connection:
        connection.execute(
            "UPDATE simulations SET simulation_id = ?, metadata = "
            "json_set(metadata, '$.run_id', ?)",
            (evil, evil),
        )
        connection.execute("UPDATE conversations SET run_id = ?", (evil,))
    before = sorted(path.name for path in tmp_path.iterdir())

    done = clientsim("run", config, "--resume", evil, cwd=tmp_path, env=env)

    assert done.returncode == 2, explain(done)
    assert "is not a run id" in done.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == before
    assert experiment_dirs(output) == [run]


def test_stored_metadata_naming_another_run_exits_2(tmp_path, env):
    config = scaffold(tmp_path, env)
    small(tmp_path / config)
    first = clientsim("run", config, "-q", cwd=tmp_path, env=env)
    assert first.returncode == 0, explain(first)
    output = tmp_path / "my-agent" / "experiments"
    (run,) = experiment_dirs(output)
    with sqlite3.connect(output / "runs.sqlite") as connection:
        connection.execute(
            "UPDATE simulations SET metadata = json_set(metadata, '$.run_id', ?)",
            ("../../x",),
        )

    done = clientsim("run", config, "--resume", run.name, cwd=tmp_path, env=env)

    assert done.returncode == 2, explain(done)
    assert "names the run '../../x'" in done.stderr
