"""The Ray executor on a local Ray cluster of 2 CPUs (the session's one cluster).

An experiment on the offline model gives the same conversations on Ray as locally; a
worker process killed mid-run loses none; Ctrl-C stops the driver and its workers with
what finished stored; a ConfigError from the work comes out as itself; work that
cannot travel is refused, naming what could not be pickled.
"""

from __future__ import annotations

import collections
import functools
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import pytest
import yaml

import clientsim
from clientsim.errors import ConfigError, SimulationError
from clientsim.experiments import scaffold
from clientsim.experiments.build import grid, make_build, make_finish
from clientsim.experiments.cassette import Cassette
from clientsim.experiments.config import ExperimentConfig
from clientsim.models import ConversationRecord
from clientsim.runners.batch import BatchRunner
from clientsim.runners.executors import Executor
from clientsim.runners.ray_executor import RayExecutor
from clientsim.store import SQLiteStore


pytestmark = [pytest.mark.xdist_group("ray"), pytest.mark.anyio]

EXTRA_INPUTS = [
    {"content": "My parcel has not arrived", "intent": "Find the parcel"},
    {"content": "Please cancel my subscription", "intent": "Cancel it"},
]


def experiment(folder: Path, *, iterations: int) -> ExperimentConfig:
    """The scaffolded experiment (offline model, a target agent imported from the
    project folder), with 5 inputs x 2 personas x ``iterations``."""
    scaffold(folder)
    path = folder / "configs" / "simulation.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["inputs"] += EXTRA_INPUTS
    data["iterations"] = iterations
    data["multi_turn"]["max_turns"] = 3
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return ExperimentConfig.from_file(path)


def batch(
    config: ExperimentConfig,
    executor: Executor | None,
    *,
    run_id: str = "run",
    store: SQLiteStore | None = None,
    on_record: Callable[[ConversationRecord], None] | None = None,
) -> BatchRunner:
    """The batch the experiment runs, as ``run_experiment`` builds it."""
    return BatchRunner(
        make_build(config),
        grid(config),
        run_id=run_id,
        seed=7,
        parallel_runs=32,
        finish=make_finish(config),
        store=store,
        executor=executor,
        on_record=on_record,
    )


def essence(record: ConversationRecord) -> tuple[object, ...]:
    result = record.result
    assert result is not None
    conversation = result.conversation
    outcome = conversation.outcome.name if conversation.outcome else None
    texts = tuple((str(m.sender), m.content) for m in conversation.messages)
    return record.key, record.status, texts, outcome, record.seed


async def test_same_conversations_as_local(ray_cluster: str, tmp_path: Path) -> None:
    config = experiment(tmp_path / "project", iterations=50)
    assert config.grid_size == 500
    local = await batch(config, None).run()
    async with RayExecutor(address=ray_cluster, workers=2) as executor:
        remote = await batch(config, executor).run()
    assert len(remote.records) == 500
    assert sorted(map(essence, remote.records)) == sorted(map(essence, local.records))
    assert {record.status.value for record in remote.records} == {"done"}


async def test_a_killed_worker_loses_no_conversation(
    ray_cluster: str, tmp_path: Path
) -> None:
    config = experiment(tmp_path / "project", iterations=12)
    store = SQLiteStore(tmp_path / "runs.sqlite")
    executor = RayExecutor(address=ray_cluster, workers=2)
    twenty = threading.Event()
    runner = batch(
        config,
        executor,
        store=store,
        on_record=lambda _record: len(runner.finished) < 20 or twenty.set(),
    )
    killed: list[int] = []

    async def kill_one() -> None:
        assert await anyio.to_thread.run_sync(twenty.wait, 120)
        pids = await executor.worker_pids()
        assert len(pids) == 2
        assert os.getpid() not in pids
        os.kill(pids[0], signal.SIGKILL)
        killed.append(pids[0])

    async with executor, store:
        async with anyio.create_task_group() as group:
            group.start_soon(kill_one)
            result = await runner.run()
        keys = [record.key for record in runner.finished]
        assert killed
        assert len(result.records) == config.grid_size == 120
        assert all(count == 1 for count in collections.Counter(keys).values())
        assert set(keys) == {cell.cell.key for cell in grid(config)}
        assert await store.stored_keys("run") == set(keys)
        assert {record.status.value for record in result.records} == {"done"}
        assert executor.restarts >= 1


async def _items(count: int) -> AsyncIterator[int]:
    for number in range(count):
        yield number


async def refuse_seven(number: int) -> int:
    if number == 7:
        raise ConfigError("model spec 'nowhere:x' is not known")
    return number


async def test_a_config_error_from_work_comes_out_as_itself(ray_cluster: str) -> None:
    seen: list[int] = []

    async def keep(_number: int, result: int) -> None:
        seen.append(result)

    async with RayExecutor(address=ray_cluster, workers=2) as executor:
        with pytest.raises(ConfigError, match="nowhere:x") as caught:
            await executor.map(refuse_seven, _items(50), limit=4, on_result=keep)
    assert type(caught.value) is ConfigError
    assert 7 not in seen


async def die_on(folder: Path, doomed: int, once: bool, number: int) -> int:
    """Kill this worker process at ``number == doomed``: the first time only
    (``once``; a marker file remembers it), or every time."""
    if number == doomed:
        marker = folder / f"died-{number}"
        if not (once and marker.exists()):
            marker.touch()
            os._exit(1)
    return number


async def test_a_unit_whose_worker_dies_runs_again(
    ray_cluster: str, tmp_path: Path
) -> None:
    seen: list[int] = []

    async def keep(_number: int, result: int) -> None:
        seen.append(result)

    work = functools.partial(die_on, tmp_path, 5, True)
    async with RayExecutor(address=ray_cluster, workers=2) as executor:
        await executor.map(work, _items(20), limit=4, on_result=keep)
        assert executor.restarts == 1
    assert sorted(seen) == list(range(20))
    assert (tmp_path / "died-5").exists()


async def test_a_unit_that_kills_every_worker_stops_the_run(
    ray_cluster: str, tmp_path: Path
) -> None:
    async def keep(_number: int, _result: int) -> None:
        return None

    work = functools.partial(die_on, tmp_path, 3, False)
    async with RayExecutor(
        address=ray_cluster, workers=2, max_unit_attempts=2
    ) as executor:
        with pytest.raises(SimulationError, match="died 2 times"):
            await executor.map(work, _items(10), limit=2, on_result=keep)


async def test_unpicklable_work_is_refused_by_name(ray_cluster: str) -> None:
    lock = threading.Lock()

    async def locked(number: int) -> int:
        with lock:
            return number

    async def keep(_number: int, _result: int) -> None:
        raise AssertionError("nothing runs")

    async with RayExecutor(address=ray_cluster, workers=2) as executor:
        with pytest.raises(ConfigError) as caught:
            await executor.map(locked, _items(3), limit=2, on_result=keep)
    message = str(caught.value)
    assert "<closure 'lock'>" in message
    assert "cannot be pickled" in message
    assert "executor 'local'" in message


async def test_a_cassette_is_refused(tmp_path: Path) -> None:
    config = experiment(tmp_path / "project", iterations=1)
    runner = BatchRunner(
        make_build(config),
        grid(config),
        run_id="run",
        seed=1,
        cassette=Cassette(tmp_path / "tape.jsonl", mode="record"),
        executor=RayExecutor(workers=2),
    )
    with pytest.raises(ConfigError, match="cassette"):
        await runner.run()


DRIVER = """
import sys

import anyio
import yaml

from clientsim.experiments.build import grid, make_build, make_finish
from clientsim.experiments.config import ExperimentConfig
from clientsim.runners.batch import BatchRunner
from clientsim.runners.ray_executor import RayExecutor
from clientsim.store import SQLiteStore

address, config_path, store_path = sys.argv[1:4]
config = ExperimentConfig.from_file(config_path)


async def main() -> None:
    executor = RayExecutor(address=address, workers=2)
    store = SQLiteStore(store_path)
    runner = BatchRunner(
        make_build(config), grid(config), run_id="run", seed=7, parallel_runs=8,
        finish=make_finish(config), store=store, executor=executor,
    )

    async def announce() -> None:
        with anyio.fail_after(120):
            while len(runner.finished) < 10:
                await anyio.sleep(0.01)
        pids = await executor.worker_pids()
        print("PIDS", *pids, flush=True)

    async with executor, store:
        async with anyio.create_task_group() as group:
            group.start_soon(announce)
            await runner.run()
    print("FINISHED", flush=True)


anyio.run(main)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    try:  # a zombie has exited
        return status.read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


async def test_ctrl_c_stops_the_driver_and_its_workers(
    ray_cluster: str, tmp_path: Path
) -> None:
    experiment(tmp_path / "project", iterations=200)  # 2,000: far more than it runs
    script = tmp_path / "driver.py"
    script.write_text(textwrap.dedent(DRIVER), encoding="utf-8")
    here = str(Path(clientsim.__file__).parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([here, os.environ.get("PYTHONPATH", "")]),
    }
    store_path = tmp_path / "runs.sqlite"
    config_path = tmp_path / "project" / "configs" / "simulation.yaml"
    driver = subprocess.Popen(  # noqa: ASYNC220 - read in threads below
        [sys.executable, str(script), ray_cluster, str(config_path), str(store_path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert driver.stdout is not None
        line = await anyio.to_thread.run_sync(driver.stdout.readline)
        assert line.startswith("PIDS"), (
            line,
            driver.stderr.read() if driver.stderr else "",
        )
        pids = [int(pid) for pid in line.split()[1:]]
        driver.send_signal(signal.SIGINT)
        out, err = await anyio.to_thread.run_sync(
            lambda: driver.communicate(timeout=60)
        )
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    assert "FINISHED" not in out
    assert driver.returncode != 0
    assert "KeyboardInterrupt" in err
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:  # noqa: ASYNC110 - no event tells another process's exit
        await anyio.sleep(0.05)
    assert not [pid for pid in pids if _alive(pid)]
    async with SQLiteStore(store_path) as store:
        stored = await store.conversations("run")
    assert 10 <= len(stored) < 2000
    assert {record.status.value for record in stored} == {"done"}
