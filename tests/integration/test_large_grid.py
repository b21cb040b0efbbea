"""A grid is counted, not built, until it runs; one past ``LARGE_GRID`` conversations
must be confirmed (``--yes``, ``allow_large_grid=True``).

A grid of 10**7 cells used to take 1.6 GB within 30 s before anything ran.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import anyio
import anyio.from_thread
import anyio.lowlevel
import pytest

from clientsim.errors import ConfigError
from clientsim.experiments import ExperimentConfig
from clientsim.experiments.build import LARGE_GRID, grid
from clientsim.experiments.run import run_experiment
from tests.integration.test_cli import explain, offline_env


def huge(tmp_path: Path, *, inputs: int = 100, personas: int = 100) -> Path:
    """An experiment of inputs x personas x 1000 iterations (10**7 by default)."""
    config = {
        "name": "huge",
        "description": "",
        "iterations": 1000,
        "agent": {"system_prompt": "You help."},
        "inputs": [f"question {number}" for number in range(inputs)],
        "personas": [{"id": f"p{number}"} for number in range(personas)],
        "output_directory": str(tmp_path / "out"),
    }
    file = tmp_path / "huge.json"
    file.write_text(json.dumps(config), encoding="utf-8")
    return file


_MEASURED_CLI = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(
    [sys.executable, "-m", "clientsim", "run", *sys.argv[1:]],
    capture_output=True, text=True, check=False,
)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
import json
print(json.dumps({"code": done.returncode, "stderr": done.stderr,
                  "seconds": seconds, "peak_bytes": peak}))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB is Linux's")
def test_the_cli_refuses_ten_million_cells_without_yes_quickly_and_small(tmp_path):
    file = huge(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED_CLI, str(file)],
        capture_output=True,
        text=True,
        env=offline_env(),
        cwd=tmp_path,
        timeout=120,
        check=True,
    )
    figures = json.loads(done.stdout)
    assert figures["code"] == 2, figures
    assert figures["stderr"].startswith(
        "error: the experiment has 10,000,000 conversations (100 inputs x 100 "
        "personas x 1,000 iterations), more than 100,000: confirm with --yes"
    ), figures
    assert len(figures["stderr"].strip().splitlines()) == 1
    assert figures["peak_bytes"] < 100 * 2**20, figures
    assert figures["seconds"] < 10, figures
    assert not (tmp_path / "out").exists()


def test_a_grid_at_the_bound_needs_no_confirmation(tmp_path):
    config = ExperimentConfig.from_file(huge(tmp_path, inputs=10, personas=10))
    assert config.grid_size == LARGE_GRID


def test_run_experiment_refuses_a_large_grid_before_making_anything(tmp_path):
    config = ExperimentConfig.from_file(huge(tmp_path))
    with pytest.raises(ConfigError, match=r"allow_large_grid=True"):
        anyio.run(run_experiment, config)
    assert not (tmp_path / "out").exists()


def test_a_grid_of_ten_million_cells_is_counted_and_indexed_not_built(tmp_path):
    config = ExperimentConfig.from_file(huge(tmp_path))
    tracemalloc.start()
    try:
        cells = grid(config)
        size = len(cells)
        last = cells[-1]
        some = [cell.cell.key for cell in cells[5_000_000:5_000_003]]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size == 10**7
    assert (last.cell.input_id, last.persona.id, last.cell.iteration) == (
        "99",
        "p99",
        999,
    )  # type: ignore[attr-defined]
    assert len(some) == 3
    assert peak < 2 * 2**20


def test_the_lazy_grid_is_the_same_cells_in_the_same_order(tmp_path):
    config = ExperimentConfig.from_dict(
        {
            "name": "small",
            "description": "",
            "iterations": 2,
            "agent": {"system_prompt": "You help."},
            "inputs": ["a", {"id": "x", "content": "b"}, "c"],
            "personas": [{"id": "calm"}, {"id": "busy"}],
        }
    )
    cells = grid(config)
    listed = list(cells)
    expected = [
        (str(item.id), persona.id, iteration)
        for iteration in range(2)
        for item in config.resolved_inputs()
        for persona in config.selected_personas()
    ]
    assert [
        (c.cell.input_id, c.persona.id, c.cell.iteration) for c in listed
    ] == expected  # type: ignore[attr-defined]
    assert [cells[at] for at in range(len(cells))] == listed
    assert cells[-len(cells)] == listed[0]
    with pytest.raises(IndexError):
        cells[len(cells)]


def test_yes_lets_a_large_grid_start(tmp_path):
    """Past the bound, --yes is all it takes (the run is stopped at once here: the
    check is what is tested, not a ten-million-conversation run)."""
    file = huge(tmp_path, inputs=1001, personas=1)
    text = json.loads(file.read_text(encoding="utf-8"))
    text["iterations"] = 100  # 100,100 cells
    text["runner"] = {"target": "nowhere_module:run"}
    del text["agent"]
    file.write_text(json.dumps(text), encoding="utf-8")
    env = offline_env()
    without = subprocess.run(
        [sys.executable, "-m", "clientsim", "run", str(file)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False,
    )  # fmt: skip
    assert without.returncode == 2, explain(without)
    assert "100,100 conversations" in without.stderr
    with_yes = subprocess.run(
        [sys.executable, "-m", "clientsim", "run", str(file), "--yes"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False,
    )  # fmt: skip
    # Past the grid check, the next check (the target cannot be imported) speaks.
    assert with_yes.returncode == 2, explain(with_yes)
    assert "conversations" not in with_yes.stderr
    assert "nowhere_module" in with_yes.stderr


async def stopped_after_three(file: Path) -> tuple[int, Path]:
    """Run ``file``'s experiment until 3 conversations are stored, then cancel it;
    the peak of traced memory meanwhile, and the run folder."""
    config = ExperimentConfig.from_file(file)
    token = anyio.lowlevel.current_token()
    folders: list[Path] = []
    totals: list[int] = []
    tracemalloc.start()
    try:
        with anyio.fail_after(120), anyio.CancelScope() as scope:

            def progress(record: object, done: int, total: int) -> None:
                totals.append(total)
                if done == 3:  # in a worker thread: reach the loop by its token
                    anyio.from_thread.run_sync(scope.cancel, token=token)

            await run_experiment(
                config,
                progress=progress,
                on_start=lambda _, folder: folders.append(folder),
                allow_large_grid=True,
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert scope.cancelled_caught
    assert totals[:3] == [config.grid_size] * 3
    (folder,) = folders
    return peak, folder


async def test_a_confirmed_ten_million_cell_run_holds_only_its_running_cells(tmp_path):
    """The batch runner takes cells one at a time: a confirmed 10**7-cell run stopped
    after a few conversations stays under a few MB of traced memory (it used to copy
    every cell into a tuple and every key into a list before starting: gigabytes)."""
    (tmp_path / "small").mkdir()
    # A small run first, so that what the first run imports is not counted.
    await stopped_after_three(huge(tmp_path / "small", inputs=1, personas=1))
    peak, folder = await stopped_after_three(huge(tmp_path))
    assert peak < 8 * 2**20, peak  # 0.3 MiB measured
    metadata = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    assert (metadata["status"], metadata["grid_size"]) == ("interrupted", 10**7)
    assert metadata["stored"] >= 3
