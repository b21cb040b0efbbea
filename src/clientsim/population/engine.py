"""Run a communication mode over the arms of a population study, on the batch runner.

Every unit (a persona's survey, interview or journey; one focus group) is one
conversation of a :class:`~clientsim.runners.batch.BatchRunner` run: seeded from the
run seed and its key, bounded by ``parallel_runs``, timed out, retried on transient
errors, and written to the run store as it finishes with its individual results in
``result.data["responses"]``. Rerunning with the same ``run_id`` and store asks no
persona twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from clientsim._validators import check_int
from clientsim.config.values import from_dict, to_dict
from clientsim.errors import ConfigError
from clientsim.models import DEFAULT_TIMEOUTS, ConversationRecord, RunStatus, Timeouts
from clientsim.models.conversation import ConversationResult
from clientsim.models.persona import Persona
from clientsim.models.survey import Response, Variant
from clientsim.population.base import PopulationMode
from clientsim.runners.batch import BatchCell, BatchRunner, ConversationJob


if TYPE_CHECKING:
    from langchain_core.rate_limiters import BaseRateLimiter

    from clientsim.llm.cache import SQLiteCache
    from clientsim.registry import StrategyConfig
    from clientsim.runners.executors import Executor
    from clientsim.store.base import SimulationStore


__all__ = ["Arm", "StudyRun", "record_responses", "run_mode"]

RESPONSES_KEY = "responses"


def _personas(value: Iterable[Persona]) -> tuple[Persona, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class Arm:
    """One arm of a study: who is in it and what it shows.

    Attributes:
        name: the arm's name (``"all"`` for a study with no intervention).
        personas: its personas.
        variant: what it shows (``None``: nothing beyond the mode's own questions).
    """

    name: str
    personas: tuple[Persona, ...] = attrs.field(converter=_personas)
    variant: Variant | None = None


def record_responses(record: ConversationRecord) -> list[Response]:
    """The individual results a stored unit holds (none for a failed unit)."""
    if record.result is None:
        return []
    items = record.result.data.get(RESPONSES_KEY, ())
    return [from_dict(dict(item), Response) for item in items]


@attrs.frozen(kw_only=True)
class StudyRun:
    """What a mode run stored: every unit's record, this call's and earlier ones'.

    Attributes:
        run_id: the run.
        mode: the mode's name.
        records: every stored unit of the run, in the order they were stored
            (units a resumed run skipped included).
        ran: how many units this call ran.
        skipped: how many it skipped because they were already stored.
        live_model_calls: model calls that reached a real model in this call.
    """

    run_id: str
    mode: str
    records: tuple[ConversationRecord, ...]
    ran: int = 0
    skipped: int = 0
    live_model_calls: int = 0

    @property
    def responses(self) -> list[Response]:
        """Every individual result, in the order the units were stored."""
        return [r for record in self.records for r in record_responses(record)]

    @property
    def failed(self) -> tuple[ConversationRecord, ...]:
        """The units that ended in an error or a timeout."""
        return tuple(r for r in self.records if r.status is not RunStatus.DONE)

    def __iter__(self) -> Iterator[Response]:
        return iter(self.responses)

    def __len__(self) -> int:
        return len(self.responses)


async def run_mode(
    mode: PopulationMode,
    arms: Sequence[Arm] | Sequence[Persona],
    *,
    run_id: str,
    seed: int = 0,
    store: SimulationStore | None = None,
    parallel_runs: int = 8,
    timeout_seconds: float | None = None,
    timeouts: Timeouts = DEFAULT_TIMEOUTS,
    max_retries: int = 3,
    response_cache: SQLiteCache | None = None,
    rate_limiter: BaseRateLimiter | None = None,
    metadata: Mapping[str, Any] | None = None,
    limit: int | None = None,
    executor: Executor | StrategyConfig | None = None,
) -> StudyRun:
    """Run ``mode`` over ``arms`` (or over a list of personas, as one arm ``"all"``).

    The run is registered in ``store`` (with ``metadata``) the first time; a run id
    the store already has is resumed: stored units are skipped. ``limit`` runs at
    most that many of the units not yet stored (in order), so a long study can be
    run, and checkpointed, in steps. ``executor`` is where the units run
    (``"local"``, the default; ``"ray"``; a plugin's; or an
    :class:`~clientsim.runners.executors.Executor`, yours to close).

    Raises:
        ConfigError: ``mode`` is not a :class:`PopulationMode`, or two arms share a
            name.
    """
    if not isinstance(mode, PopulationMode):
        raise ConfigError(
            f"mode must be a PopulationMode (e.g. build_population_mode('survey', "
            f"questions=...)); got {type(mode).__name__}"
        )
    chosen = _arms(arms)
    cells: list[BatchCell] = []
    for arm in chosen:
        cells.extend(mode.units(arm.personas, arm=arm.name, variant=arm.variant))
    already = 0
    if limit is not None:
        check_int("limit", limit, low=0)
        done = await store.stored_keys(run_id) if store is not None else frozenset()
        pending = [cell for cell in cells if cell.cell.key not in done]
        already = len(cells) - len(pending)
        cells = pending[:limit]
    if store is not None and await store.get_simulation(run_id) is None:
        info = {"kind": "population", "mode": mode.name, **(metadata or {})}
        await store.register_if_absent(run_id, info)

    async def finish(
        job: ConversationJob, result: ConversationResult
    ) -> ConversationResult:
        responses = await mode.responses(job, result)
        data = {**result.data, RESPONSES_KEY: [to_dict(r) for r in responses]}
        return attrs.evolve(result, data=data)

    runner = BatchRunner(
        mode.build,
        cells,
        run_id=run_id,
        seed=seed,
        parallel_runs=parallel_runs,
        timeout_seconds=timeout_seconds,
        timeouts=timeouts,
        max_retries=max_retries,
        store=store,
        response_cache=response_cache,
        rate_limiter=rate_limiter,
        finish=finish,
        executor=executor,
    )
    result = await runner.run()
    stored = await store.conversations(run_id) if store is not None else None
    records = tuple(stored) if stored is not None else result.records
    return StudyRun(
        run_id=run_id,
        mode=mode.name,
        records=records,
        ran=len(result.records),
        skipped=result.skipped + already,
        live_model_calls=result.live_model_calls,
    )


def _arms(arms: Sequence[Arm] | Sequence[Persona]) -> list[Arm]:
    items = list(arms)
    if items and all(isinstance(item, Persona) for item in items):
        return [Arm(name="all", personas=tuple(items))]  # type: ignore[arg-type]
    chosen: list[Arm] = []
    for item in items:
        if not isinstance(item, Arm):
            raise ConfigError(
                f"arms must be Arm values or a list of Persona values; got "
                f"{type(item).__name__}"
            )
        chosen.append(item)
    names = [arm.name for arm in chosen]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ConfigError(f"arm names must be distinct; repeated: {duplicated}")
    return chosen
