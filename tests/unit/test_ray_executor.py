"""The Ray executor's parts that need no cluster: the work of every surface travels
(pickled as the executor pickles it, it gives the same conversations), the response
cache and the rate limiter are rebuilt rather than copied, what cannot be pickled is
named, bad options are refused, and the module imports without Ray."""

from __future__ import annotations

import pickle
import subprocess
import sys
import threading
from collections.abc import AsyncIterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
import yaml
from langchain_core.rate_limiters import InMemoryRateLimiter

import clientsim
from clientsim.errors import ConfigError
from clientsim.experiments import scaffold
from clientsim.experiments.build import grid, make_build, make_finish
from clientsim.experiments.config import ExperimentConfig
from clientsim.factory import build_executor, build_population_mode
from clientsim.llm.cache import SQLiteCache
from clientsim.models import ConversationRecord
from clientsim.models.persona import Persona
from clientsim.runners._ray_parts import UnitActor, dumps_work, unpicklable_part
from clientsim.runners.batch import BatchCell, BatchRunner
from clientsim.runners.executors import Executor, LocalExecutor, OnResult, Work
from clientsim.runners.ray_executor import RayExecutor


cloudpickle = pytest.importorskip("ray.cloudpickle")

pytestmark = pytest.mark.anyio

T = TypeVar("T")
R = TypeVar("R")


class PickledExecutor(Executor):
    """The local executor on a copy of the work made as the Ray executor makes it
    (cloudpickle with its rebuilds, then unpickled): what a Ray worker runs."""

    name = "pickled"

    async def map(
        self,
        work: Work[T, R],
        items: AsyncIterable[T],
        *,
        limit: int,
        on_result: OnResult[T, R],
        delay_seconds: float = 0.0,
    ) -> None:
        data = dumps_work(work, cloudpickle=cloudpickle, workers=2)
        actor = UnitActor(data, [])
        await LocalExecutor().map(
            actor.run,  # type: ignore[arg-type]
            items,
            limit=limit,
            on_result=on_result,
            delay_seconds=delay_seconds,
        )
        await actor.flush()


def essence(record: ConversationRecord) -> tuple[object, ...]:
    result = record.result
    assert result is not None
    conversation = result.conversation
    outcome = conversation.outcome.name if conversation.outcome else None
    texts = tuple(message.content for message in conversation.messages)
    return record.key, record.status, texts, outcome, record.seed, dict(result.data)


async def same_on_both(runner_for: object) -> list[ConversationRecord]:
    local = await runner_for(None).run()  # type: ignore[operator]
    copied = await runner_for(PickledExecutor()).run()  # type: ignore[operator]
    assert sorted(map(essence, copied.records)) == sorted(map(essence, local.records))
    return list(copied.records)


async def test_an_experiment_travels_with_its_cache_and_rate_limit(
    tmp_path: Path,
) -> None:
    scaffold(tmp_path / "project")
    path = tmp_path / "project" / "configs" / "simulation.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["multi_turn"]["max_turns"] = 2
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    config = ExperimentConfig.from_file(path)
    cache = SQLiteCache(tmp_path / "cache.sqlite", flush_every=1000)

    def runner(executor: Executor | None) -> BatchRunner:
        return BatchRunner(
            make_build(config),
            grid(config),
            run_id="run",
            seed=3,
            parallel_runs=4,
            finish=make_finish(config),
            response_cache=cache,
            rate_limiter=InMemoryRateLimiter(requests_per_second=1000),
            executor=executor,
        )

    records = await same_on_both(runner)
    assert len(records) == config.grid_size
    await cache.aclose()
    # The copy wrote its answers to the same file before it was let go.
    assert len(SQLiteCache(tmp_path / "cache.sqlite")) > 0


QUESTIONS = [
    {"id": "intent", "text": "How likely are you to order?", "type": "scale"},
    {"id": "why", "text": "What would make you order?"},
]
MODES = {
    "survey": {"questions": QUESTIONS},
    "interview": {"questions": QUESTIONS, "follow_ups": 1},
    "sequence": {
        "questions": QUESTIONS,
        "touchpoints": [
            {"day": 0, "content": "Welcome to Fresh Box!", "channel": "email"},
            {"day": 3, "content": "Your cart is waiting.", "channel": "push"},
        ],
        "start": datetime(2026, 3, 2, 8, 30, tzinfo=UTC),
    },
    "focus_group": {
        "topic": "a meal-kit subscription",
        "questions": ["What would make you try it?"],
        "group_size": 5,
        "rounds": 1,
        "start": datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    },
}


@pytest.mark.parametrize("name", sorted(MODES))
async def test_population_modes_travel(name: str) -> None:
    mode = build_population_mode({"strategy": name, **MODES[name]})
    people = [Persona(id=f"p{i}", name=f"Person {i}", segment="x") for i in range(10)]
    cells: list[BatchCell] = list(mode.units(people, arm="all", variant=None))

    def runner(executor: Executor | None) -> BatchRunner:
        return BatchRunner(
            mode.build,
            cells,
            run_id="study",
            seed=5,
            parallel_runs=3,
            executor=executor,
        )

    records = await same_on_both(runner)
    assert {record.status.value for record in records} == {"done"}


def test_the_rate_limit_is_shared_out_between_workers() -> None:
    limiter = InMemoryRateLimiter(requests_per_second=10, max_bucket_size=4)
    copy = pickle.loads(dumps_work(limiter, cloudpickle=cloudpickle, workers=4))  # noqa: S301
    assert isinstance(copy, InMemoryRateLimiter)
    assert copy is not limiter
    assert copy.requests_per_second == 2.5
    assert copy.max_bucket_size == 4


async def test_a_response_cache_copy_reopens_its_file(tmp_path: Path) -> None:
    cache = SQLiteCache(tmp_path / "cache.sqlite", flush_every=7)
    await cache.open()  # a live connection: not copied, reopened
    copy = pickle.loads(pickle.dumps(cache))  # noqa: S301
    assert copy.path == cache.path
    assert copy.flush_every == 7
    assert len(copy) == 0
    await copy.aclose()
    await cache.aclose()


class Holder:
    def __init__(self) -> None:
        self.name = "fine"
        self.parts = [1, threading.Lock()]


def test_what_cannot_be_pickled_is_named() -> None:
    holder = Holder()

    async def work(number: int) -> int:
        return number + len(holder.name)

    part = unpicklable_part(work, cloudpickle=cloudpickle)
    assert part == "work.<closure 'holder'>.parts[1] (lock)"
    assert unpicklable_part(len, cloudpickle=cloudpickle) is None


async def test_unpicklable_work_is_refused_before_ray_starts() -> None:
    lock = threading.Lock()

    async def work(number: int) -> int:
        with lock:
            return number

    async def items() -> AsyncIterable[int]:
        yield 1

    async def keep(_item: int, _result: int) -> None:
        raise AssertionError("nothing runs")

    executor = RayExecutor(workers=1)
    with pytest.raises(ConfigError, match=r"work\.<closure 'lock'> \(lock\) cannot be"):
        await executor.map(work, items(), limit=1, on_result=keep)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"workers": 0}, "workers"),
        ({"address": ""}, "address"),
        ({"max_unit_attempts": 0}, "max_unit_attempts"),
        ({"runtime_env": "pip"}, "runtime_env"),
        ({"start_timeout_seconds": -1}, "start_timeout_seconds"),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        RayExecutor(**options)  # type: ignore[arg-type]


def test_built_by_name_with_options() -> None:
    executor = build_executor({"strategy": "ray", "workers": 3, "max_unit_attempts": 2})
    assert isinstance(executor, RayExecutor)
    assert (executor.workers, executor.max_unit_attempts) == (3, 2)


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    here = str(Path(clientsim.__file__).parents[1])
    return subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {here!r})\n{code}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_module_imports_without_ray_and_a_map_says_how_to_install_it() -> None:
    done = run_python(
        "sys.modules['ray'] = None  # as if Ray were not installed\n"
        "import anyio\n"
        "from clientsim.runners.ray_executor import RayExecutor\n"
        "async def items():\n"
        "    yield 1\n"
        "async def work(n):\n"
        "    return n\n"
        "async def keep(n, r):\n"
        "    pass\n"
        "anyio.run(lambda: RayExecutor().map(work, items(), limit=1, on_result=keep))\n"
    )
    assert done.returncode == 1
    assert "ConfigError" in done.stderr
    assert "pip install 'clientsim[ray]'" in done.stderr
    done = run_python(
        "import clientsim.runners.ray_executor\nassert 'ray' not in sys.modules"
    )
    assert done.returncode == 0, done.stderr


async def test_a_used_channel_travels_without_its_session() -> None:
    from clientsim.channels import HTTPChannel, WebSocketChannel

    http = HTTPChannel(base_url="http://127.0.0.1:9/v1")
    socket = WebSocketChannel("ws://127.0.0.1:9/ws")
    http._client()
    socket._http = http._client()
    try:
        for channel in (http, socket):
            copy = pickle.loads(dumps_work(channel, cloudpickle=cloudpickle, workers=2))  # noqa: S301
            assert type(copy) is type(channel)
            assert copy._http is None
            assert channel._http is not None
    finally:
        socket._http = None
        await http.aclose()
        await socket.aclose()
