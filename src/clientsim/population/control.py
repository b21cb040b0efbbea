"""Session control of a long study (seed 002's ``begin``, ``checkpoint``,
``restore`` and ``end``).

Every finished unit (a persona's survey, interview or journey; a focus group) is in
the run store the moment it finishes, so a run that is killed at any point resumes
with no persona asked twice: :func:`begin` with the same ``run_id`` and store picks up
where it stopped, and because each unit's seed comes from the study's seed and the
unit's key, the results are those of an uninterrupted run.

Checkpoints name a point of the run: the units stored by then. One is taken
automatically after every ``checkpoint_every`` units and whenever you ask.
:meth:`StudySession.restore` starts a new run from a checkpoint (its units copied,
the rest run again), leaving the original run as it was.

Example:
    >>> import anyio
    >>> from clientsim.population import begin, load_study
    >>> from clientsim.store import InMemoryStore
    >>> study = load_study({
    ...     "name": "Bottle survey", "seed": 3, "checkpoint_every": 4,
    ...     "population": {"name": "Adults", "demographic_base": "usa", "size": 10},
    ...     "questions": [{"id": "interest", "text": "How interested are you in a "
    ...                    "smart water bottle?", "type": "scale"}],
    ... })
    >>> async def main():
    ...     session = await begin(study, store=InMemoryStore(), run_id="bottle")
    ...     await session.run()
    ...     points = await session.checkpoints()
    ...     results = await session.end()
    ...     return [p.units for p in points], results.aggregate_results["total_responses"]
    >>> anyio.run(main)
    ([4, 8, 10], 10)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs

from clientsim._validators import check_int
from clientsim.config.values import to_dict
from clientsim.errors import ConfigError
from clientsim.models.frozen import thaw
from clientsim.models.persona import Persona
from clientsim.population.engine import Arm, StudyRun, run_mode
from clientsim.population.study import StudyConfig, load_study
from clientsim.runners.executors import Executor, executor_for


if TYPE_CHECKING:
    from pathlib import Path

    from clientsim.population.base import PopulationMode
    from clientsim.registry import StrategyConfig
    from clientsim.store.base import SimulationStore


__all__ = ["Checkpoint", "StudySession", "begin"]

_CHECKPOINT = "checkpoint"


@attrs.frozen(kw_only=True)
class Checkpoint:
    """A named point of a study run.

    Attributes:
        id: ``ckpt-0001``, ``ckpt-0002``, ... in the order taken.
        run_id: the run.
        units: how many units were stored by then.
        keys: the stored units' keys.
        label: why it was taken (``"auto"``, ``"end"``, or yours).
        created_at: when (UTC).
    """

    id: str
    run_id: str
    units: int
    keys: tuple[str, ...]
    label: str = ""
    created_at: datetime = attrs.field(factory=lambda: datetime.now(UTC))


def _simulation_id(run_id: str, checkpoint_id: str) -> str:
    return f"{run_id}#{checkpoint_id}"


class StudySession:
    """A study being run in the run store; made by :func:`begin`.

    Attributes:
        study: the study.
        run_id: the run's id in the store.
        store: the run store.
        personas: the study's personas (generated from its population).
        executor: where :meth:`run` runs the units (``None``: the study's
            ``executor``).
    """

    def __init__(
        self,
        study: StudyConfig,
        *,
        store: SimulationStore,
        run_id: str,
        personas: Sequence[Persona],
        executor: Executor | StrategyConfig | None = None,
    ) -> None:
        self.study = study
        self.executor = executor
        self.run_id = run_id
        self.store = store
        self.personas = tuple(personas)
        self._planned: tuple[PopulationMode, list[Arm], dict[str, Any]] | None = None

    # -- running -----------------------------------------------------------------

    def _plan(self) -> tuple[PopulationMode, list[Arm], dict[str, Any]]:
        if self._planned is None:
            self._planned = _plan(self.study, self.personas)
        return self._planned

    def mode(self) -> PopulationMode:
        """The study's communication mode (built once; for an intervention study,
        the mode every arm runs)."""
        return self._plan()[0]

    def arms(self) -> list[Arm]:
        """The study's arms: one (``all``) without an intervention; else the
        intervention's arms with their seeded, segment-stratified assignment."""
        return self._plan()[1]

    async def run(
        self,
        *,
        max_units: int | None = None,
        on_checkpoint: Callable[[Checkpoint], None] | None = None,
    ) -> StudyRun:
        """Run the units not yet stored (at most ``max_units`` of them), taking a
        checkpoint after every ``study.checkpoint_every`` stored units (each passed
        to ``on_checkpoint``). The units run on :attr:`executor`, else the study's
        ``executor`` (one for the whole call)."""
        if max_units is not None:
            check_int("max_units", max_units, low=0)
        async with executor_for(self.executor or thaw(self.study.executor)) as executor:
            return await self._steps(max_units, on_checkpoint, executor)

    async def _steps(
        self,
        max_units: int | None,
        on_checkpoint: Callable[[Checkpoint], None] | None,
        executor: Executor,
    ) -> StudyRun:
        step = self.study.checkpoint_every or None
        left = max_units
        total = skipped = calls = 0
        while True:
            limit = step if left is None else min(step or left, left)
            run = await self._run(limit, executor)
            total, calls = total + run.ran, calls + run.live_model_calls
            skipped = skipped or run.skipped
            if left is not None:
                left -= run.ran
            if step is not None and run.ran:
                point = await self.checkpoint(label="auto")
                if on_checkpoint is not None:
                    on_checkpoint(point)
            if run.ran == 0 or (left is not None and left <= 0) or step is None:
                return attrs.evolve(
                    run, ran=total, skipped=skipped, live_model_calls=calls
                )

    async def _run(self, limit: int | None, executor: Executor) -> StudyRun:
        metadata = {
            **self._plan()[2],
            "study": self.study.name,
            "seed": self.study.seed,
            "config": _plain(self.study),
        }
        return await run_mode(
            self.mode(),
            self.arms(),
            run_id=self.run_id,
            seed=self.study.seed,
            store=self.store,
            parallel_runs=self.study.parallel_runs,
            metadata=metadata,
            limit=limit,
            executor=executor,
        )

    async def status(self) -> dict[str, Any]:
        """Units stored and expected, failures and checkpoints so far."""
        records = await self.store.conversations(self.run_id)
        expected = sum(
            len(list(self.mode().units(a.personas, arm=a.name, variant=a.variant)))
            for a in self.arms()
        )
        return {
            "run_id": self.run_id,
            "units": len(records),
            "expected": expected,
            "failed": sum(1 for r in records if r.status.value != "done"),
            "checkpoints": [c.id for c in await self.checkpoints()],
        }

    # -- checkpoints ---------------------------------------------------------------

    async def checkpoint(self, label: str = "") -> Checkpoint:
        """Name the current point of the run (the units stored now)."""
        keys = tuple(sorted(await self.store.stored_keys(self.run_id)))
        taken = await self.checkpoints()
        point = Checkpoint(
            id=f"ckpt-{len(taken) + 1:04d}",
            run_id=self.run_id,
            units=len(keys),
            keys=keys,
            label=label,
        )
        await self.store.register_if_absent(
            _simulation_id(self.run_id, point.id),
            {"kind": _CHECKPOINT, **to_dict(point)},
        )
        return point

    async def checkpoints(self) -> list[Checkpoint]:
        """The run's checkpoints, oldest first."""
        points = []
        for info in await self.store.runs():
            data = info.metadata
            if data.get("kind") == _CHECKPOINT and data.get("run_id") == self.run_id:
                points.append(
                    Checkpoint(
                        id=str(data["id"]),
                        run_id=self.run_id,
                        units=int(data["units"]),
                        keys=tuple(data["keys"]),
                        label=str(data.get("label", "")),
                        created_at=info.created_at,
                    )
                )
        return sorted(points, key=lambda p: p.id)

    async def restore(
        self, checkpoint_id: str, *, run_id: str | None = None
    ) -> StudySession:
        """A new run that starts from ``checkpoint_id``: the units stored by then
        are copied into it, and :meth:`run` runs the rest again (the original run is
        left as it was).

        Raises:
            ConfigError: no such checkpoint (the message lists the run's).
        """
        points = {p.id: p for p in await self.checkpoints()}
        point = points.get(checkpoint_id)
        if point is None:
            known = ", ".join(points) or "(none)"
            raise ConfigError(
                f"run {self.run_id!r} has no checkpoint {checkpoint_id!r}; its "
                f"checkpoints: {known}"
            )
        new_id = run_id or f"{self.run_id}@{checkpoint_id}"
        info = await self.store.get_simulation(self.run_id)
        metadata = dict(info.metadata) if info is not None else {}
        await self.store.register_if_absent(
            new_id,
            {
                **metadata,
                "restored_from": {"run_id": self.run_id, "checkpoint": checkpoint_id},
            },
        )
        keep = set(point.keys)
        for record in await self.store.conversations(self.run_id):
            if record.key in keep:
                await self.store.save_conversation(attrs.evolve(record, run_id=new_id))
        return StudySession(
            self.study,
            store=self.store,
            run_id=new_id,
            personas=self.personas,
            executor=self.executor,
        )

    async def end(self) -> Any:
        """Mark the run ended and return its results (a
        :class:`~clientsim.population.results.StudyResults`, or the intervention's
        results for an intervention study)."""
        await self.store.update_status(self.run_id, "ended")
        return await results_of(
            self.store, self.run_id, intervention=self.study.intervention is not None
        )


async def results_of(
    store: SimulationStore, run_id: str, *, intervention: bool = False
) -> Any:
    """The results of a stored study run."""
    if intervention:
        from clientsim.interventions import InterventionResults  # noqa: PLC0415

        return await InterventionResults.load(store, run_id)
    from clientsim.population.results import StudyResults  # noqa: PLC0415

    return await StudyResults.from_store(store, run_id)


async def begin(
    study: StudyConfig | str | Path | Mapping[str, Any],
    *,
    store: SimulationStore | None = None,
    run_id: str | None = None,
    personas: Sequence[Persona] | None = None,
    executor: Executor | StrategyConfig | None = None,
) -> StudySession:
    """Begin (or resume) a study run.

    Args:
        study: a :class:`StudyConfig`, a study file or a mapping.
        store: the run store (default: an in-memory store).
        run_id: the run's id (default: the study's name as a slug and its seed). A
            run id the store already has is resumed.
        personas: use these personas instead of generating the study's population.
        executor: where the units run, instead of the study's ``executor``: a name,
            a mapping with ``strategy``, or an
            :class:`~clientsim.runners.executors.Executor` (yours to close).
    """
    from clientsim.models.persona import persona_id  # noqa: PLC0415
    from clientsim.store import InMemoryStore  # noqa: PLC0415

    config = study if isinstance(study, StudyConfig) else load_study(study)
    chosen = personas if personas is not None else _personas(config)
    return StudySession(
        config,
        store=store if store is not None else InMemoryStore(),
        run_id=run_id or f"{persona_id(config.name) or 'study'}-{config.seed}",
        personas=chosen,
        executor=executor,
    )


def _personas(study: StudyConfig) -> tuple[Persona, ...]:
    from clientsim.population.generate import generate_population  # noqa: PLC0415
    from clientsim.population.spec import load_population_spec  # noqa: PLC0415

    source = study.population
    spec = load_population_spec(
        study.path(source) if isinstance(source, str) else source
    )
    return tuple(generate_population(spec, seed=study.seed))


def _plan(
    study: StudyConfig, personas: Sequence[Persona]
) -> tuple[PopulationMode, list[Arm], dict[str, Any]]:
    """The mode, the arms and the run metadata of ``study``."""
    if study.intervention is not None:
        import attrs as _attrs  # noqa: PLC0415

        from clientsim.interventions import (  # noqa: PLC0415
            load_intervention,
            plan_intervention,
        )

        source = study.intervention
        intervention = load_intervention(
            study.path(source) if isinstance(source, str) else dict(source)
        )
        # The study's mode, questions and fields apply to every arm, with the
        # intervention's own (and those its metrics need) added.
        intervention = _attrs.evolve(
            intervention,
            mode=study.mode,
            questions=_merged(study.questions, intervention.questions, "id"),
            fields=_merged(study.fields, intervention.fields, "name"),
        )
        plan = plan_intervention(
            intervention, personas, seed=study.seed, model=study.model
        )
        return plan.mode, list(plan.arms), dict(plan.metadata)
    arm = Arm(name="all", personas=personas)
    return _build_mode(study), [arm], {}


def _merged(first: Sequence[Any], second: Sequence[Any], key: str) -> tuple[Any, ...]:
    seen = {getattr(item, key) for item in first}
    return tuple(first) + tuple(i for i in second if getattr(i, key) not in seen)


def _build_mode(study: StudyConfig) -> PopulationMode:
    from clientsim.factory import build_population_mode  # noqa: PLC0415

    context: dict[str, object] = {"model": study.model}
    if study.questions:
        context["questions"] = study.questions
    mode = build_population_mode(study.mode, **context)
    if study.fields:
        from clientsim.population.extract import with_extraction  # noqa: PLC0415

        mode = with_extraction(mode, study.fields, study.model)
    return mode


def _plain(study: StudyConfig) -> dict[str, Any]:
    return to_dict(study)
