"""Run an intervention test: assign, run every arm through a communication mode on the
batch runner, read the responses back, analyse.

The run is seeded (the assignment and every unit), bounded by ``parallel_runs``,
written to the store unit by unit, and resumable: running again with the same
``run_id`` and store asks no persona twice and gives the same figures.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import attrs

from clientsim.errors import ConfigError
from clientsim.interventions.analysis import ScoreTest
from clientsim.interventions.assignment import assign
from clientsim.interventions.results import (
    InterventionResults,
    build_metrics,
    study_questions,
)
from clientsim.models import DEFAULT_TIMEOUTS, Timeouts
from clientsim.models.conversation import ConversationResult
from clientsim.models.frozen import thaw
from clientsim.models.intervention import (
    Intervention,
    intervention_to_dict,
    load_intervention,
)
from clientsim.models.persona import Persona
from clientsim.models.survey import Response, Variant
from clientsim.population.base import PopulationMode, unit_personas
from clientsim.population.engine import Arm, run_mode
from clientsim.runners.base import Runner
from clientsim.runners.batch import BatchCell, ConversationJob


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.rate_limiters import BaseRateLimiter

    from clientsim.llm.cache import SQLiteCache
    from clientsim.registry import StrategyConfig
    from clientsim.runners.executors import Executor
    from clientsim.store.base import SimulationStore

__all__ = [
    "ArmMode",
    "InterventionPlan",
    "check_resumable",
    "plan_intervention",
    "run_intervention",
]

KIND: Final = "intervention"


class ArmMode(PopulationMode):
    """A mode as an intervention runs it: each response carries its arm (``variant``)
    and its persona's segment and demographics, whatever the mode filled in."""

    name = "intervention"

    def __init__(self, inner: PopulationMode) -> None:
        if not isinstance(inner, PopulationMode):
            raise ConfigError(
                f"mode must be a PopulationMode (e.g. build_population_mode('survey', "
                f"questions=...)); got {type(inner).__name__}"
            )
        self.inner = inner

    def units(
        self, personas: Sequence[Persona], *, arm: str, variant: Variant | None
    ) -> Iterable[BatchCell]:
        return self.inner.units(personas, arm=arm, variant=variant)

    async def build(self, job: ConversationJob) -> Runner:
        return await self.inner.build(job)

    async def responses(
        self, job: ConversationJob, result: ConversationResult
    ) -> list[Response]:
        found = await self.inner.responses(job, result)
        people = {p.id: p for p in unit_personas(job)}
        chosen = []
        for response in found:
            persona = people.get(response.persona_id)
            changes: dict[str, Any] = {"variant": job.cell.input_id}
            if response.segment is None and persona is not None:
                changes["segment"] = persona.segment
            if not response.demographics and persona is not None:
                changes["demographics"] = persona.demographics
            chosen.append(attrs.evolve(response, **changes))
        return chosen


def _personas(population: object) -> tuple[Persona, ...]:
    if isinstance(population, Persona) or not isinstance(population, Iterable):
        raise ConfigError(
            "population must be a Population or a list of Persona values; got "
            f"{type(population).__name__}"
        )
    people = tuple(population)
    for item in people:
        if not isinstance(item, Persona):
            raise ConfigError(
                f"population must hold Persona values; got {type(item).__name__}"
            )
    return people


def _mode_config(
    intervention: Intervention, questions: Sequence[Any], model: object
) -> tuple[str | Mapping[str, Any], dict[str, object]]:
    """The mode's config, and what the caller adds that the config does not give."""
    config = intervention.mode
    given = set(config) if isinstance(config, Mapping) else set()
    context: dict[str, object] = {}
    if questions and "questions" not in given:
        context["questions"] = tuple(questions)
    if "model" not in given:
        context["model"] = model
    return config, context


def _same(stored: object, plain: object) -> bool:
    def canonical(value: object) -> str:
        return json.dumps(thaw(value), sort_keys=True, default=str)

    return canonical(stored) == canonical(plain)


@attrs.frozen(kw_only=True)
class InterventionPlan:
    """What running an intervention takes, before anything runs: the mode (each
    response stamped with its arm), the arms with their seeded, stratified
    assignment, and the run metadata that lets :meth:`InterventionResults.load`
    analyse the stored run.

    Attributes:
        intervention: the intervention.
        mode: the mode every arm runs (fields extracted when declared).
        arms: one per variant (the control included).
        assignment: arm -> persona id -> segment.
        metadata: the run's metadata.
    """

    intervention: Intervention
    mode: PopulationMode
    arms: tuple[Arm, ...]
    assignment: Mapping[str, Mapping[str, str | None]]
    metadata: Mapping[str, Any]


def plan_intervention(
    intervention: Intervention | Mapping[str, Any] | str | Path,
    population: Iterable[Persona],
    *,
    seed: int = 0,
    model: str | BaseChatModel = "offline",
    mode: PopulationMode | None = None,
    stratify_by: str | None = "segment",
    confidence: float = 0.95,
    alpha: float = 0.05,
    score_test: ScoreTest = "welch",
) -> InterventionPlan:
    """Plan ``intervention`` on ``population`` (see :func:`run_intervention`, whose
    arguments these are): assign the personas and build the mode, running nothing.

    Raises:
        ConfigError: a bad intervention or population, or no persona in the target
            segments.
        UnknownStrategyError: a metric or mode name that is not registered.
    """
    if not isinstance(intervention, Intervention):
        intervention = load_intervention(intervention)
    metrics = build_metrics(intervention)
    questions = study_questions(intervention, metrics)
    people = _personas(population)
    split = assign(
        people,
        intervention.arm_names,
        seed=seed,
        stratify_by=stratify_by,
        weights=intervention.allocation,
        target_segments=intervention.target_segments,
    )
    present = sorted({p.segment for p in people if p.segment})
    missing = [s for s in intervention.target_segments if s not in present]
    if missing or not any(split.values()):
        raise ConfigError(
            f"intervention {intervention.name!r}: no persona is in the target "
            f"segments {missing or list(intervention.target_segments)}; the "
            f"population's segments: {present or 'none'}"
        )
    if mode is None:
        from clientsim.factory import build_population_mode  # noqa: PLC0415

        config, context = _mode_config(intervention, questions, model)
        mode = build_population_mode(config, **context)
    assignment = {
        arm: {p.id: p.segment for p in members} for arm, members in split.items()
    }
    plain = intervention_to_dict(intervention)
    arms = [
        Arm(name=variant.name, personas=split[variant.name], variant=variant)
        for variant in intervention.arms
    ]
    arm_mode: PopulationMode = ArmMode(mode)
    if intervention.fields:
        from clientsim.population.extract import with_extraction  # noqa: PLC0415

        arm_mode = with_extraction(arm_mode, intervention.fields, model)
    return InterventionPlan(
        intervention=intervention,
        mode=arm_mode,
        arms=tuple(arms),
        assignment=assignment,
        metadata={
            "kind": KIND,
            "mode": mode.name,
            "intervention": plain,
            "assignment": assignment,
            "seed": seed,
            "analysis": {
                "confidence": confidence,
                "alpha": alpha,
                "score_test": score_test,
            },
        },
    )


async def check_resumable(
    store: SimulationStore, run_id: str, plan: InterventionPlan
) -> None:
    """Refuse to resume ``run_id`` if the store holds it for another intervention,
    population or seed.

    Raises:
        ConfigError: it does.
    """
    info = await store.get_simulation(run_id)
    if info is not None and not (
        _same(info.metadata.get("intervention"), plan.metadata["intervention"])
        and _same(info.metadata.get("assignment"), plan.assignment)
    ):
        raise ConfigError(
            f"run {run_id!r} is already in the store for another intervention, "
            "population or seed; resume it with the same ones or choose a new run_id"
        )


async def run_intervention(
    intervention: Intervention | Mapping[str, Any] | str | Path,
    population: Iterable[Persona],
    *,
    run_id: str,
    store: SimulationStore | None = None,
    seed: int = 0,
    parallel_runs: int = 8,
    model: str | BaseChatModel = "offline",
    mode: PopulationMode | None = None,
    stratify_by: str | None = "segment",
    confidence: float = 0.95,
    alpha: float = 0.05,
    score_test: ScoreTest = "welch",
    timeout_seconds: float | None = None,
    timeouts: Timeouts = DEFAULT_TIMEOUTS,
    max_retries: int = 3,
    response_cache: SQLiteCache | None = None,
    rate_limiter: BaseRateLimiter | None = None,
    executor: Executor | StrategyConfig | None = None,
) -> InterventionResults:
    """Run ``intervention`` on ``population`` and analyse it.

    Args:
        intervention: an :class:`Intervention`, or a mapping or file it loads from.
        population: a ``Population`` (``clientsim.population``) or personas.
        run_id: the run; an id the store has is resumed (no persona asked twice).
        store: where every unit is kept as it finishes.
        seed: seeds the assignment and every unit.
        parallel_runs: units at a time.
        model: the model the mode and the field extraction use.
        mode: a built mode, instead of building ``intervention.mode``.
        stratify_by: ``"segment"``, a demographic dimension, or ``None``.
        confidence: the intervals' level.
        alpha: the significance level, after Holm's adjustment.
        score_test: ``welch`` (ANOVA with more arms) or ``mann_whitney``
            (Kruskal-Wallis).
        timeout_seconds: bounds each unit (``None``: no bound).
        timeouts: the per-turn and per-conversation timeouts.
        max_retries: retries of a unit after a transient error.
        response_cache: a model response cache.
        rate_limiter: bounds the model calls per second.
        executor: where the units run: ``"local"`` (the default), ``"ray"``, a
            plugin's, or an :class:`~clientsim.runners.executors.Executor`.

    Raises:
        ConfigError: a bad intervention or population, no persona in the target
            segments, or a stored run of that id that is another intervention.
        UnknownStrategyError: a metric or mode name that is not registered.
    """
    plan = plan_intervention(
        intervention,
        population,
        seed=seed,
        model=model,
        mode=mode,
        stratify_by=stratify_by,
        confidence=confidence,
        alpha=alpha,
        score_test=score_test,
    )
    if store is not None:
        await check_resumable(store, run_id, plan)
    study = await run_mode(
        plan.mode,
        plan.arms,
        run_id=run_id,
        seed=seed,
        store=store,
        parallel_runs=parallel_runs,
        timeout_seconds=timeout_seconds,
        timeouts=timeouts,
        max_retries=max_retries,
        response_cache=response_cache,
        rate_limiter=rate_limiter,
        metadata=plan.metadata,
        executor=executor,
    )
    return InterventionResults.from_responses(
        plan.intervention,
        plan.assignment,
        study.responses,
        run_id=run_id,
        failed=len(study.failed),
        confidence=confidence,
        alpha=alpha,
        score_test=score_test,
    )
