"""Many client simulations at once: replicates of one config, each on an executor.

A client simulation's requirements share its clients, engines and review state, so the
unit that runs independently (and gives the same result wherever it runs, given its
seed) is a whole simulation: :func:`run_simulations` hands one
:class:`SimulationReplicate` per seed to an
:class:`~clientsim.runners.executors.Executor` (``local`` by default, ``ray`` for a
cluster). Each replicate is built inside the worker from plain data (the config as a
mapping, the seed, the id, the worker target), never from live engines, and the store
is written here, in the caller's process, as each one finishes.

Example:
    >>> import anyio
    >>> from clientsim.simulation import ClientSimulationConfig, run_simulations
    >>> config = ClientSimulationConfig.from_dict(
    ...     {"runner": {"requirements_per_round": 2, "seed": 3}}
    ... )
    >>> results = anyio.run(lambda: run_simulations(config, replicates=3))
    >>> [result.status for result in results]
    ['completed', 'completed', 'completed']
    >>> [result.metrics.requirements for result in results]
    [2, 2, 2]
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs

from clientsim._validators import check_int
from clientsim.errors import ConfigError, DuplicateSimulationError
from clientsim.simulation.config import ClientSimulationConfig
from clientsim.simulation.result import SimulationResult


if TYPE_CHECKING:
    from clientsim.runners.executors import ExecutorArg
    from clientsim.store.base import SimulationStore

__all__ = ["SimulationReplicate", "SimulationWork", "run_simulations"]

_DEFAULT_PARALLEL = 16
"""Replicates in flight at once when ``parallel`` is not given (at most)."""

WorkerSpec = str | Callable[..., Any] | None
"""The agent doing the work: ``None`` (a simulated agent on ``model``), a
``"module:function"`` target, or a picklable async ``worker(task, feedback)``."""


@attrs.frozen(kw_only=True)
class SimulationReplicate:
    """One unit of a batch: which replicate, its seed and its simulation id."""

    index: int
    seed: int
    simulation_id: str


@attrs.frozen(kw_only=True)
class SimulationWork:
    """What an executor runs for each :class:`SimulationReplicate`: plain data only
    (it is pickled to reach another process), turned into a client pool, engines and a
    :class:`~clientsim.simulation.SimulationRunner` inside the worker.

    Attributes:
        config: the client simulation config as plain data
            (:meth:`ClientSimulationConfig.to_dict`).
        worker: the system under test: ``None`` (a simulated agent on ``model``),
            a ``"module:function"`` target, or a picklable async
            ``worker(task, feedback)``.
        model: the model the simulated clients (and a simulated agent) use.
    """

    config: Mapping[str, Any]
    worker: WorkerSpec = None
    model: str = "offline"

    async def __call__(self, replicate: SimulationReplicate) -> SimulationResult:
        """Run one replicate to its end. A fault is kept on the result (``status
        "failed"``, ``error``, the outcomes finished before it); a ``ConfigError``
        propagates."""
        from clientsim.simulation.runner import SimulationRunner  # noqa: PLC0415
        from clientsim.tasks import InMemoryTaskEngine  # noqa: PLC0415

        config = ClientSimulationConfig.from_dict(self.config)
        config = attrs.evolve(
            config, runner=attrs.evolve(config.runner, seed=replicate.seed)
        )
        engine = InMemoryTaskEngine(self._worker())
        runner = SimulationRunner.from_config(
            config,
            task_engine=engine,
            model=self.model,
            simulation_id=replicate.simulation_id,
        )
        started = datetime.now(UTC)
        try:
            return await runner.run()
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - kept on the result, not lost
            failed = runner.result(started, "failed")
            return attrs.evolve(failed, error=f"{type(exc).__name__}: {exc}")

    def _worker(self) -> object:
        if self.worker is None:
            from clientsim.participants import LLMParticipant  # noqa: PLC0415

            return LLMParticipant.from_config(role="agent", model=self.model)
        if isinstance(self.worker, str):
            from clientsim.channels.target import import_target  # noqa: PLC0415

            return import_target(self.worker, instantiate=True)
        return self.worker


def _seeds(
    config: ClientSimulationConfig,
    seeds: Sequence[int] | None,
    replicates: int | None,
) -> list[int]:
    if seeds is not None and replicates is not None:
        raise ConfigError(
            "give seeds (one replicate per seed) or replicates (that many, seeded "
            "from the config's runner.seed up), not both"
        )
    if seeds is None:
        count = 1 if replicates is None else replicates
        check_int("replicates", count, low=1)
        return [config.runner.seed + index for index in range(count)]
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence) or not seeds:
        raise ConfigError(f"seeds must be a non-empty list of ints; got {seeds!r}")
    for seed in seeds:
        check_int("a seed", seed, low=0)
    return list(seeds)


async def run_simulations(
    config: ClientSimulationConfig,
    *,
    seeds: Sequence[int] | None = None,
    replicates: int | None = None,
    executor: ExecutorArg = None,
    parallel: int | None = None,
    store: SimulationStore | None = None,
    worker: WorkerSpec = None,
    model: str = "offline",
    batch_id: str | None = None,
    on_result: Callable[[SimulationResult], object] | None = None,
) -> list[SimulationResult]:
    """Run one client simulation per seed on an executor; every result, in seed order.

    Args:
        config: the simulation to replicate (its ``runner.seed`` is replaced by each
            replicate's seed).
        seeds: one replicate per seed.
        replicates: or this many, seeded ``runner.seed``, ``runner.seed + 1``, ...
            (default 1).
        executor: where they run: ``"local"`` (an anyio task group here), ``"ray"``,
            a config such as ``{"strategy": "ray", "workers": 2}``, or an
            :class:`~clientsim.runners.executors.Executor` (yours to close). Default:
            the config's ``executor``, else ``local``.
        parallel: replicates in flight at once (default: all of them, at most 16).
        store: where each replicate is registered (as it is handed out) and gets its
            final status (as it finishes); nothing is stored by default.
        worker: the system under test: a ``"module:function"`` target, a picklable
            async ``worker(task, feedback)``, or ``None`` for a simulated agent.
        model: the model the simulated clients (and a simulated agent) use.
        batch_id: replicate ``i`` (from 1) is simulation ``"<batch_id>-<i>"``
            (default: a fresh ``sim-<hex>``).
        on_result: called with each result as it finishes (in this process).

    Raises:
        ConfigError: a bad argument, an unknown executor, or a replicate that could
            not be built (for example a pool with human clients: they cannot answer
            from another process); nothing more is started after it.
        DuplicateSimulationError: the store already has one of the ids.
    """
    from clientsim.runners.executors import (  # noqa: PLC0415 - light import
        check_executor,
        executor_for,
    )

    if not isinstance(config, ClientSimulationConfig):
        raise ConfigError(
            f"config must be a ClientSimulationConfig; got {type(config).__name__}"
        )
    chosen = _seeds(config, seeds, replicates)
    limit = min(len(chosen), _DEFAULT_PARALLEL) if parallel is None else parallel
    check_int("parallel", limit, low=1)
    executor = executor if executor is not None else config.executor
    check_executor(executor)
    prefix = batch_id or f"sim-{secrets.token_hex(4)}"
    units = [
        SimulationReplicate(
            index=index, seed=seed, simulation_id=f"{prefix}-{index + 1}"
        )
        for index, seed in enumerate(chosen)
    ]
    work = SimulationWork(config=config.to_dict(), worker=worker, model=model)
    results: dict[int, SimulationResult] = {}

    async def items() -> AsyncIterator[SimulationReplicate]:
        for unit in units:
            if store is not None:
                await _register(store, unit, len(units))
            yield unit

    async def finished(unit: SimulationReplicate, result: SimulationResult) -> None:
        results[unit.index] = result
        if store is not None:
            await store.update_status(unit.simulation_id, result.status)
        if on_result is not None:
            outcome = on_result(result)
            if hasattr(outcome, "__await__"):
                await outcome

    async with executor_for(executor) as running:
        await running.map(work, items(), limit=limit, on_result=finished)
    return [results[index] for index in sorted(results)]


async def _register(
    store: SimulationStore, unit: SimulationReplicate, replicates: int
) -> None:
    metadata = {
        "kind": "client-simulation",
        "replicate": unit.index + 1,
        "replicates": replicates,
        "seed": unit.seed,
    }
    try:
        await store.register_if_absent(unit.simulation_id, metadata)
    except DuplicateSimulationError as exc:
        raise DuplicateSimulationError(
            f"the store already has simulation {unit.simulation_id!r}; give another "
            f"batch_id: {exc}"
        ) from exc
    await store.update_status(unit.simulation_id, "running")
