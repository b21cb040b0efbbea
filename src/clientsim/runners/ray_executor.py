"""The Ray executor: a batch's units on Ray async actors (the ``ray`` extra).

Each map starts ``workers`` Ray actors (one worker process each); every actor is an
event loop running many units at once, ``limit`` in flight in total, shared out over
the actors. ``work`` is pickled once (cloudpickle), put in Ray's object store and
given to each actor when it starts; items go one at a time as slots free, and each
result comes back to this process as it finishes, where ``on_result`` is awaited (the
batch runner writes the store here, never on a worker).

Faults: a unit whose worker process dies (killed, out of memory, a crashed node) is
run again on a fresh actor, up to ``max_unit_attempts`` times in all, so no unit is
lost; work is deterministic per item, so the rerun gives the same result. A
:class:`~clientsim.errors.ConfigError` raised by ``work`` on a worker stops the map
and comes out here as itself.

Cancellation (Ctrl-C, a caller's deadline): the units in flight are cancelled on
their workers, the map's actors are killed, and the cancellation propagates; what
finished before it went through ``on_result``.

Importing this module does not import Ray; a map does, and says how to install it.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import anyio

from clientsim._runtime import task_group
from clientsim._validators import check_int, check_seconds
from clientsim.errors import ConfigError, SimulationError
from clientsim.runners._ray_parts import UnitActor, dumps_work, unpicklable_part
from clientsim.runners.executors import Executor, OnResult, Work


if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["RayExecutor"]

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger("clientsim.ray")

_INSTALL = "pip install 'clientsim[ray]'"


def _ray() -> ModuleType:
    try:
        import ray  # noqa: PLC0415
    except ImportError as exc:
        raise ConfigError(
            f"the ray executor needs Ray ({exc}); install it with {_INSTALL}, or use "
            "executor 'local'"
        ) from exc
    return ray


class RayExecutor(Executor):
    """Units on Ray async actors; see the module docstring.

    Example:
        >>> executor = RayExecutor(workers=2)  # nothing starts until a map does
        >>> executor
        RayExecutor(address=None, workers=2)

    Args:
        address: the Ray cluster to join (``"ray://host:10001"``, ``"auto"``, or a
            GCS address); ``None``: the ``RAY_ADDRESS`` environment variable, and
            without it a local cluster started for this executor (and shut down
            by :meth:`aclose`). If Ray is already initialised in this process, that
            connection is used as it is, and left open.
        workers: how many actors (worker processes) a map uses; also the CPUs of a
            local cluster. Default: 2 on a local cluster, else the cluster's CPUs.
        runtime_env: Ray's ``runtime_env`` for the connection this executor makes
            (e.g. ``{"pip": ["clientsim"]}`` or ``{"env_vars": {...}}``).
        max_unit_attempts: how many times a unit is started in all when the worker
            running it dies.
        start_timeout_seconds: how long a map waits for its actors to start.
    """

    name: ClassVar[str] = "ray"

    def __init__(
        self,
        *,
        address: str | None = None,
        workers: int | None = None,
        runtime_env: Mapping[str, object] | None = None,
        max_unit_attempts: int = 3,
        start_timeout_seconds: float = 120.0,
    ) -> None:
        if address is not None and (not isinstance(address, str) or not address):
            raise ConfigError(
                "address must be a Ray address such as 'ray://host:10001' or "
                f"'auto'; got {address!r}"
            )
        if workers is not None:
            check_int("workers", workers, low=1)
        if runtime_env is not None and not isinstance(runtime_env, Mapping):
            raise ConfigError(
                f"runtime_env must be a mapping (Ray's runtime_env); got {runtime_env!r}"
            )
        self.address = address
        self.workers = workers
        self.runtime_env = dict(runtime_env) if runtime_env is not None else None
        self.max_unit_attempts = check_int(
            "max_unit_attempts", max_unit_attempts, low=1
        )
        self.start_timeout_seconds = check_seconds(
            "start_timeout_seconds", start_timeout_seconds
        )
        self._started = False  # this executor called ray.init (and shuts it down)
        self._actors: list[Any] = []
        self.restarts = 0
        """Actors started again after their worker died (over every map)."""

    def __repr__(self) -> str:
        return f"RayExecutor(address={self.address!r}, workers={self.workers!r})"

    # ----- the connection ----------------------------------------------------------

    def _connect(self) -> ModuleType:
        ray = _ray()
        if ray.is_initialized():
            return ray
        address = self.address or os.environ.get("RAY_ADDRESS") or None
        options: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,
            "configure_logging": False,
        }
        if self.runtime_env is not None:
            options["runtime_env"] = self.runtime_env
        try:
            if address is not None:
                ray.init(address=address, **options)
            else:
                ray.init(num_cpus=self.workers or 2, **options)
        except ConnectionError as exc:
            raise ConfigError(
                f"cannot reach the Ray cluster at {address!r}: {exc}; check the address "
                "(or RAY_ADDRESS), or leave it out to start a local cluster"
            ) from exc
        self._started = True
        return ray

    def _worker_count(self, ray: ModuleType, limit: int) -> int:
        workers = self.workers
        if workers is None:
            workers = max(1, int(ray.cluster_resources().get("CPU", 2)))
        return max(1, min(workers, limit))

    async def aclose(self) -> None:
        """Kill this executor's actors; shut Ray down if this executor started it."""
        self._kill_actors()
        if self._started:
            self._started = False
            import ray  # noqa: PLC0415 - started, so importable

            ray.shutdown()

    def _kill_actors(self) -> None:
        actors, self._actors = self._actors, []
        if not actors:
            return
        import ray  # noqa: PLC0415 - there are actors, so importable

        for actor in actors:
            try:
                ray.kill(actor, no_restart=True)
            except Exception as exc:  # noqa: BLE001 - gone already, or unreachable
                log.debug("could not kill a Ray actor: %s", exc)

    async def worker_pids(self) -> list[int]:
        """The process ids of the actors of the running map (empty between maps)."""
        actors = list(self._actors)
        return [int(await actor.pid.remote()) for actor in actors]

    # ----- a map -------------------------------------------------------------------

    async def map(
        self,
        work: Work[T, R],
        items: AsyncIterable[T],
        *,
        limit: int,
        on_result: OnResult[T, R],
        delay_seconds: float = 0.0,
    ) -> None:
        check_int("limit", limit, low=1)
        check_seconds("delay_seconds", delay_seconds, zero=True)
        _refuse_what_cannot_travel(work)
        ray = _ray()
        if self.workers is not None:  # refuse work that cannot travel before connecting
            workers = min(self.workers, limit)
            data = _pickled(work, ray, workers)
            ray = self._connect()
        else:
            ray = self._connect()
            workers = self._worker_count(ray, limit)
            data = _pickled(work, ray, workers)
        work_ref = ray.put(data)
        pool = _Pool(self, ray, work_ref, workers, limit)
        try:
            await pool.start()
            async with task_group() as group:
                started = 0
                async for item in items:
                    if started and delay_seconds:
                        await anyio.sleep(delay_seconds)
                    started += 1
                    index = await pool.acquire()
                    group.start_soon(pool.unit, index, item, on_result)
            await pool.flush()
        finally:
            self._kill_actors()


def _refuse_what_cannot_travel(work: object) -> None:
    cassette = getattr(work, "cassette", None)
    if cassette is not None:
        raise ConfigError(
            "a cassette cannot be recorded or replayed on the ray executor (its file "
            "is written and read by one process); run with executor 'local' to use "
            "a cassette, or drop the cassette"
        )


def _pickled(work: object, ray: ModuleType, workers: int) -> bytes:
    cloudpickle = ray.cloudpickle
    try:
        return dumps_work(work, cloudpickle=cloudpickle, workers=workers)
    except Exception as exc:  # any pickling failure is explained
        part = unpicklable_part(work, cloudpickle=cloudpickle, workers=workers)
        where = f" {part}" if part else f" {type(work).__name__}"
        raise ConfigError(
            f"the ray executor sends the work to other processes, and{where} cannot "
            f"be pickled ({type(exc).__name__}: {exc}); build what holds a live "
            "handle (a lock, a connection, an open file, a client session) inside "
            "build(job) instead of capturing it, or run with executor 'local'"
        ) from exc


class _Pool:
    """The actors of one map, their free slots, and the units in flight."""

    def __init__(
        self,
        executor: RayExecutor,
        ray: ModuleType,
        work_ref: object,
        workers: int,
        limit: int,
    ) -> None:
        self.executor = executor
        self.ray = ray
        self.work_ref = work_ref
        share, extra = divmod(limit, workers)
        self.capacity = [share + (index < extra) for index in range(workers)]
        self.free = list(self.capacity)
        self.changed = anyio.Event()
        self.remote = ray.remote(num_cpus=0)(UnitActor)
        self.paths = [path for path in sys.path if path]
        self.actors: list[Any] = []

    def make(self, slots: int) -> Any:
        """A new actor with ``slots`` units at once (and room for its other calls),
        spread over the cluster's nodes."""
        options = self.remote.options(
            max_concurrency=slots + 2,
            scheduling_strategy="SPREAD",
            runtime_env={"env_vars": travelling_env()},
        )
        return options.remote(self.work_ref, self.paths)

    async def start(self) -> None:
        self.actors = [self.make(slots) for slots in self.capacity]
        self.executor._actors = list(self.actors)  # noqa: SLF001 - its own pool
        await self._ready(self.actors)

    async def _ready(self, actors: list[Any]) -> None:
        """Wait until ``actors`` answer (their work unpickled), or fail clearly."""
        limit = self.executor.start_timeout_seconds
        with anyio.fail_after(limit):
            for actor in actors:
                try:
                    await actor.pid.remote()
                except self.ray.exceptions.RayActorError as exc:
                    raise ConfigError(
                        "a Ray worker could not start or could not unpickle the work "
                        f"({_cause(exc)}); every worker needs clientsim and what the "
                        "work imports installed (see runtime_env)"
                    ) from exc

    async def acquire(self) -> int:
        """The actor with the most free slots, once one has a free slot."""
        while True:
            index = max(range(len(self.free)), key=self.free.__getitem__)
            if self.free[index] > 0:
                self.free[index] -= 1
                return index
            self.changed = anyio.Event()
            await self.changed.wait()

    def release(self, index: int) -> None:
        self.free[index] += 1
        self.changed.set()

    async def unit(self, index: int, item: T, on_result: OnResult[T, R]) -> None:
        try:
            result: R = await self._run(index, item)
            await on_result(item, result)
        finally:
            self.release(index)

    async def _run(self, index: int, item: T) -> R:
        errors = self.ray.exceptions
        lost = (errors.RayActorError, errors.WorkerCrashedError, errors.ObjectLostError)
        attempts = self.executor.max_unit_attempts
        for attempt in range(1, attempts + 1):
            actor = self.actors[index]
            ref = actor.run.remote(item)
            try:
                result: R = await ref
            except lost as exc:
                log.warning(
                    "a Ray worker died running a unit (attempt %d of %d): %s",
                    attempt,
                    attempts,
                    _cause(exc),
                )
                if attempt == attempts:
                    raise SimulationError(
                        f"a unit of work was lost: the Ray worker running it died "
                        f"{attempts} times (max_unit_attempts={attempts}); last: "
                        f"{_cause(exc)}"
                    ) from exc
                await self._replace(index, actor)
                continue
            except errors.RayTaskError as exc:
                raise _unwrapped(exc) from None
            except BaseException:  # cancelled (Ctrl-C, a deadline): stop it there too
                self._cancel(ref)
                raise
            else:
                return result
        raise AssertionError("unreachable")  # pragma: no cover

    async def _replace(self, index: int, dead: object) -> None:
        """A fresh actor in place of ``dead`` (once, however many units saw it die)."""
        if self.actors[index] is not dead:
            return
        actor = self.actors[index] = self.make(self.capacity[index])
        self.executor._actors = list(self.actors)  # noqa: SLF001 - its own pool
        self.executor.restarts += 1
        log.warning("started a new Ray worker in place of one that died")
        await self._ready([actor])

    def _cancel(self, ref: object) -> None:
        try:
            self.ray.cancel(ref)
        except Exception as exc:  # noqa: BLE001 - finished or gone meanwhile
            log.debug("could not cancel a Ray task: %s", exc)

    async def flush(self) -> None:
        """Let every actor write what it keeps in memory, before they are killed."""
        for actor in self.actors:
            try:
                await actor.flush.remote()
            except self.ray.exceptions.RayError as exc:
                log.warning("a Ray worker could not flush its response cache: %s", exc)


def _cause(exc: BaseException) -> str:
    """Ray's error in one line: the last line of the worker's traceback, which names
    the error that killed it (``ModuleNotFoundError: No module named 'agent'``)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def _unwrapped(exc: BaseException) -> BaseException:
    """The exception ``work`` raised on the worker, out of Ray's wrapper."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, Exception):
        return cause
    as_cause = getattr(exc, "as_instanceof_cause", None)
    return as_cause() if as_cause is not None else exc


_TRAVELS = ("CLIENTSIM_", "RATE_LIMIT_", "OPENAI_", "GROQ_")
_TRAVELS_WHOLE = frozenset({"REDIS_URL", "DATABASE_URL"})


def travelling_env() -> dict[str, str]:
    """The driver's settings its actors need to run units as it would: clientsim's
    and the rate budget's variables, ``REDIS_URL`` and ``DATABASE_URL`` (so every
    process shares one budget) and the model providers' (``OPENAI_*``, ``GROQ_*``).

    A cluster's own value of a variable the driver does not set is left alone.
    """
    return {
        name: value
        for name, value in os.environ.items()
        if name in _TRAVELS_WHOLE or name.startswith(_TRAVELS)
    }
