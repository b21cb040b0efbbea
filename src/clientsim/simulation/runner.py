"""``SimulationRunner`` and ``ContinuousMode``: seed 000's batch and always-on runs.

A run: spawn the client pool, generate requirements, let the chosen client file each
one (or decline it), walk it through intake to a task in the task engine (the system
under test), wait for the task, have the client review the actual deliverable (a
failed review sends the task back for rework), collect :class:`SimulationMetrics`,
and report.

Example:
    >>> import anyio
    >>> from clientsim.simulation import ClientSimulationConfig, SimulationRunner
    >>> from clientsim.tasks import InMemoryTaskEngine
    >>> async def my_agent(task, feedback):  # the system under test
    ...     return "Done: " + "; ".join(task.requirement.acceptance_criteria)
    >>> config = ClientSimulationConfig.from_dict(  # or .from_file("config.yaml")
    ...     {"runner": {"rounds": 1, "requirements_per_round": 3, "seed": 7}}
    ... )
    >>> engine = InMemoryTaskEngine(worker=my_agent)
    >>> result = anyio.run(SimulationRunner.from_config(config, task_engine=engine).run)
    >>> print(result.report("summary"))
    Client simulation ...: completed in ...s
      requirements 3: submitted 2, declined 1, cancelled at intake 0
      tasks created 2: completed 2, failed 0
    ...
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import anyio
import attrs

from clientsim import events
from clientsim._runtime import task_group
from clientsim._validators import check_int
from clientsim.clients.base import ClientInterface, SubmitContext
from clientsim.clients.pool import ClientSelectionStrategy, RoundRobinStrategy
from clientsim.errors import ConfigError
from clientsim.models import TokenUsage
from clientsim.models.client import (
    ClientProfile,
    RequestStatus,
    TaskRequirement,
    TaskSource,
    TaskStatus,
)
from clientsim.review.pipeline import ReviewStage
from clientsim.simulation.config import (
    ClientSimulationConfig,
    ContinuousModeConfig,
    SimulationRunnerConfig,
)
from clientsim.simulation.metrics import SimulationMetrics, TaskOutcome
from clientsim.simulation.result import SimulationResult
from clientsim.simulation.review import (
    PoolReview,
    attach_review,
    build_review_stages,
    check_stages,
)
from clientsim.store.base import SimulationStore


__all__ = ["ContinuousMode", "SimulationRunner", "build_clients"]

_PERSONAS = (
    "A pragmatic product manager who wants working software soon.",
    "A detail-minded engineering lead who reads every line.",
    "A busy founder who cares about outcomes, not process.",
    "A careful compliance officer who checks every requirement.",
    "A friendly designer who values clarity and polish.",
)


def build_clients(
    config: ClientSimulationConfig,
    *,
    model: Any = "offline",
    human: Any = None,
) -> list[ClientInterface]:
    """The client pool ``config.pool`` describes, with ``config.feedback`` reviews.

    Profiles get strictness levels spread over ``pool.strictness_range`` and
    expertise domains in turn from ``pool.domains``.

    Args:
        config: the simulation configuration.
        model: the model AI clients write and (with a model-judged feedback) review
            with.
        human: a ``QueueHuman`` or ``ConsoleHuman`` that answers for human and hybrid
            clients; needed when the pool has any.

    Raises:
        ConfigError: the pool has human or hybrid clients and no ``human`` is given.
        UnknownStrategyError: the feedback strategy name is unknown.
    """
    from clientsim.clients.ai import AIClient  # noqa: PLC0415
    from clientsim.clients.hybrid import HybridClient  # noqa: PLC0415
    from clientsim.factory import build_feedback_strategy  # noqa: PLC0415

    pool = config.pool
    counts = pool.counts()
    if (counts["human"] or counts["hybrid"]) and human is None:
        raise ConfigError(
            f"the pool has {counts['human']} human and {counts['hybrid']} hybrid "
            "clients: pass human=QueueHuman() (an application or notebook answers) "
            "or human=ConsoleHuman(), or set human_ratio and hybrid_ratio to 0"
        )
    kinds = ["ai"] * counts["ai"] + ["human"] * counts["human"]
    kinds += ["hybrid"] * counts["hybrid"]
    levels = pool.strictness_levels()
    clients: list[ClientInterface] = []
    for index, (kind, level) in enumerate(zip(kinds, levels, strict=True)):
        client_id = f"{kind}-{index + 1}"
        profile = ClientProfile(
            client_id=client_id,
            name=f"Client {index + 1}",
            persona=_PERSONAS[index % len(_PERSONAS)],
            expertise_domains=(pool.domains[index % len(pool.domains)], "general"),
            strictness_level=level,
        )
        feedback = build_feedback_strategy(config.feedback, client_id=client_id)
        if kind == "human":
            clients.append(human.client(profile))
            continue
        ai = AIClient(profile, model=model, feedback=feedback)
        clients.append(ai if kind == "ai" else HybridClient(ai, human.client(profile)))
    return clients


class SimulationRunner:
    """Runs a client simulation against a task engine (the system under test).

    Args:
        clients: the client pool.
        generator: drafts the requirements (a ``RequirementGenerator``).
        task_engine: the system under test. An ``InMemoryTaskEngine`` gets the
            client review stage appended to its review pipeline (so a rejection sends
            the task back for rework); any other engine's finished tasks are reviewed
            once after they complete. The runner starts and stops the engine if it
            is an async context manager: pass one that is not running.
        intake: the intake strategy (default ``DirectIntake``).
        selection: who files each requirement (default round robin).
        config: rounds, concurrency, timeouts and seed.
        report: the report style of :meth:`SimulationResult.report` by default.
        store: where the run is registered (default: a new ``InMemoryStore``).
        default_project: the project tasks are filed into.
        simulation_id: the run's id (default: a new UUID); registering the same id
            twice in one store raises ``DuplicateSimulationError``.
        review_stages: more review stages (a ``StakeholderPanel``, your own), put in
            the engine's review pipeline ahead of the client's review; the engine
            needs a ``review_pipeline``.
    """

    def __init__(
        self,
        *,
        clients: Sequence[ClientInterface],
        generator: Any,
        task_engine: Any,
        intake: Any = None,
        selection: ClientSelectionStrategy | None = None,
        config: SimulationRunnerConfig | None = None,
        report: str = "summary",
        store: SimulationStore | None = None,
        default_project: str = "default",
        simulation_id: str | None = None,
        review_stages: Sequence[ReviewStage] = (),
    ) -> None:
        if not clients or not all(isinstance(c, ClientInterface) for c in clients):
            raise ConfigError(
                "clients must be a non-empty list of ClientInterface objects (AIClient, "
                "HumanClient, HybridClient or your own)"
            )
        if not callable(getattr(generator, "generate", None)):
            raise ConfigError(
                "generator must be a RequirementGenerator (async generate(count, *, "
                f"seed)); got {type(generator).__name__}"
            )
        for method in ("create_task", "wait_for"):
            if not callable(getattr(task_engine, method, None)):
                raise ConfigError(
                    f"task_engine must be a TaskEngine with async {method}(...); got "
                    f"{type(task_engine).__name__}"
                )
        if intake is None:
            from clientsim.intake import DirectIntake  # noqa: PLC0415

            intake = DirectIntake()
        self.clients = list(clients)
        self.generator = generator
        self.task_engine = task_engine
        self.intake = intake
        self.selection = selection or RoundRobinStrategy()
        self.config = config or SimulationRunnerConfig()
        self.report_style = report
        if store is None:
            from clientsim.store import InMemoryStore  # noqa: PLC0415

            store = InMemoryStore()
        self.store = store
        self.default_project = default_project
        self.simulation_id = simulation_id or str(uuid.uuid4())
        self.review_stages = check_stages(task_engine, review_stages)
        self._outcomes: dict[tuple[int, int], TaskOutcome] = {}
        self._review = PoolReview(self.config.review_timeout_seconds)
        self._review.seed = self.config.seed
        self._intake_engine: Any = None

    @classmethod
    def from_config(
        cls,
        config: ClientSimulationConfig,
        *,
        task_engine: Any,
        model: Any = "offline",
        human: Any = None,
        clients: Sequence[ClientInterface] | None = None,
        store: SimulationStore | None = None,
        simulation_id: str | None = None,
    ) -> SimulationRunner:
        """Build every part from ``config``.

        Raises:
            UnknownStrategyError: a strategy name is unknown (the message lists the
                known ones; ``hybrid`` generators are built by hand, as the seed
                says).
            ConfigError: the pool needs a ``human`` helper, or an option is wrong.
        """
        from clientsim import factory  # noqa: PLC0415

        generator = factory.build_requirement_generator(config.generators)
        intake = factory.build_intake_strategy(
            config.intake,
            task_engine=task_engine,
            default_project=config.intake.default_project,
        )
        selection_config: dict[str, Any] = {"strategy": config.pool.selection_strategy}
        if config.pool.selection_strategy == "weighted_random":
            selection_config["seed"] = config.runner.seed
        selection = factory.build_client_pool_strategy(selection_config)
        return cls(
            clients=clients or build_clients(config, model=model, human=human),
            generator=generator,
            task_engine=task_engine,
            intake=intake,
            selection=selection,
            config=config.runner,
            report=config.report.strategy,
            store=store,
            default_project=config.intake.default_project,
            simulation_id=simulation_id,
            review_stages=build_review_stages(
                config.review_stages, model=model, seed=config.runner.seed
            ),
        )

    def copy(self, *, config: SimulationRunnerConfig | None = None) -> SimulationRunner:
        """A new runner with the same parts (clients, generator, task engine, intake,
        selection, store, id) and no outcomes yet; ``config`` replaces the config."""
        return SimulationRunner(
            clients=self.clients,
            generator=self.generator,
            task_engine=self.task_engine,
            intake=self.intake,
            selection=self.selection,
            config=config or self.config,
            report=self.report_style,
            store=self.store,
            default_project=self.default_project,
            simulation_id=self.simulation_id,
            review_stages=self.review_stages,
        )

    def prune(self, keep: int) -> None:
        """Between rounds: forget what finished requests and tasks left behind, and
        all but the ``keep`` most recent outcomes (memory stays bounded however long
        it runs). The engines are pruned too if they can be (``prune()``)."""
        for key in sorted(self._outcomes)[: max(0, len(self._outcomes) - keep)]:
            del self._outcomes[key]
        self._review.client_of.clear()  # every request of the round is final
        self._review.feedback.clear()  # kept on the outcomes
        for engine in (self._intake_engine, self.task_engine):
            prune = getattr(engine, "prune", None)
            if callable(prune):
                prune()

    async def run(self) -> SimulationResult:
        """Run every round and return the result.

        Raises:
            DuplicateSimulationError: the simulation id is already registered.
        """
        return await self._session(self._rounds)

    async def _rounds(self) -> None:
        for round_index in range(self.config.rounds):
            await self.run_round(round_index)

    async def _session(self, body: Any) -> SimulationResult:
        started = datetime.now(UTC)
        await self.store.register_if_absent(
            self.simulation_id, {"clients": len(self.clients)}
        )
        await self.store.update_status(self.simulation_id, "running")
        events.emit(
            events.SIMULATION_STARTED,
            simulation_id=self.simulation_id,
            clients=len(self.clients),
        )
        attach_review(self.task_engine, self._review, self.review_stages)
        from clientsim.intake import IntakeEngine  # noqa: PLC0415

        status = "cancelled"
        try:
            async with contextlib.AsyncExitStack() as stack:
                if hasattr(self.task_engine, "__aenter__"):
                    await stack.enter_async_context(self.task_engine)
                self._intake_engine = await stack.enter_async_context(
                    IntakeEngine(
                        self.intake,
                        self.task_engine,
                        default_project=self.default_project,
                        source=TaskSource.SIMULATION,
                    )
                )
                await body()
            status = "completed"
        except Exception:
            status = "failed"
            raise
        finally:
            with anyio.CancelScope(shield=True):
                await self.store.update_status(self.simulation_id, status)
            events.emit(
                events.SIMULATION_COMPLETED,
                simulation_id=self.simulation_id,
                status=status,
            )
        return self.result(started, status)

    @property
    def outcomes(self) -> list[TaskOutcome]:
        """Every finished outcome so far, in the order the drafts were made."""
        return [self._outcomes[key] for key in sorted(self._outcomes)]

    def result(self, started: datetime, status: str = "completed") -> SimulationResult:
        """The result so far (every outcome that finished)."""
        usage = self._usage()
        outcomes = self.outcomes
        return SimulationResult(
            simulation_id=self.simulation_id,
            outcomes=tuple(outcomes),
            metrics=SimulationMetrics.from_outcomes(
                outcomes, token_usage=usage, estimated_cost_usd=self._cost(usage)
            ),
            started_at=started,
            finished_at=datetime.now(UTC),
            status=status,
            report_style=self.report_style,
        )

    def _usage(self) -> TokenUsage:
        total = TokenUsage()
        parts: list[object] = [self.generator, self.intake, *self.clients]
        parts += self.review_stages
        parts += [getattr(c, "ai", None) for c in self.clients]
        for part in parts:
            usage = getattr(part, "token_usage", None)
            if isinstance(usage, TokenUsage):
                total = total + usage
        return total

    def _cost(self, usage: TokenUsage) -> float | None:
        if not usage.calls:
            return 0.0
        from clientsim.analysis.stats import estimate_cost  # noqa: PLC0415

        specs = {
            getattr(c, "model_spec", None) or getattr(c, "model", None)
            for c in self.clients
        }
        names = [spec for spec in specs if isinstance(spec, str)]
        if len(names) != 1:
            return None
        return estimate_cost(names[0], usage)

    async def run_round(self, round_index: int) -> None:
        """Draft ``requirements_per_round`` requirements and take each one through."""
        count = self.config.requirements_per_round
        drafts = await self.generator.generate(
            count, seed=self.config.seed * 1_000_003 + round_index
        )
        limiter = anyio.CapacityLimiter(self.config.max_concurrent)
        async with task_group() as group:  # a ConfigError comes out as itself
            for index, draft in enumerate(drafts):
                group.start_soon(self._one, limiter, round_index, index, draft)
        events.emit(
            events.SIMULATION_ROUND_COMPLETED,
            simulation_id=self.simulation_id,
            round=round_index,
        )

    async def _one(
        self,
        limiter: anyio.CapacityLimiter,
        round_index: int,
        index: int,
        draft: TaskRequirement,
    ) -> None:
        async with limiter:
            client = self.selection.select(self.clients, draft)
            client_id = client.profile.client_id
            context = SubmitContext(
                round=round_index,
                project=self.default_project,
                proposal=draft,
                seed=self.config.seed * 1_000_003 + round_index * 10_007 + index,
            )
            key = (round_index, index)
            try:
                requirement = await client.submit_requirement(context)
            except ConfigError:
                raise
            except Exception as exc:  # noqa: BLE001 - recorded on the outcome, not lost
                self._outcomes[key] = TaskOutcome(
                    client_id=client_id,
                    requirement=draft,
                    error=f"the client could not file: {type(exc).__name__}: {exc}",
                )
                return
            if requirement is None:
                self._outcomes[key] = TaskOutcome(
                    client_id=client_id, requirement=draft, declined=True
                )
                return
            self._outcomes[key] = await self._through_intake(
                client, requirement, f"req-{round_index + 1}-{index + 1}"
            )

    async def _through_intake(
        self, client: ClientInterface, requirement: TaskRequirement, request_id: str
    ) -> TaskOutcome:
        client_id = client.profile.client_id
        self._review.client_of[request_id] = client
        start = anyio.current_time()
        request = await self._intake_engine.submit(
            client_id, requirement, request_id=request_id
        )
        intake_seconds = anyio.current_time() - start
        if request.status is not RequestStatus.TASK_CREATED or request.task_id is None:
            return TaskOutcome(
                client_id=client_id,
                requirement=requirement,
                request_id=request.request_id,
                request_status=request.status,
                intake_seconds=intake_seconds,
                error=request.reason,
            )
        try:
            task = await self.task_engine.wait_for(
                request.task_id, timeout=self.config.task_timeout_seconds
            )
        except TimeoutError as exc:
            return TaskOutcome(
                client_id=client_id,
                requirement=requirement,
                request_id=request.request_id,
                request_status=request.status,
                task_id=request.task_id,
                task_status=TaskStatus.FAILED,
                intake_seconds=intake_seconds,
                error=f"the task did not finish in time: {exc}",
            )
        if (
            task.status is TaskStatus.COMPLETED
            and task.task_id not in self._review.feedback
        ):
            # An engine without our review stage: the client reviews the result once.
            await self._review.review(task)
        feedback = tuple(self._review.feedback.get(task.task_id, ()))
        timings = task.timings
        return TaskOutcome(
            client_id=client_id,
            requirement=requirement,
            request_id=request.request_id,
            request_status=request.status,
            task_id=task.task_id,
            task_status=task.status,
            accepted=feedback[-1].accepted if feedback else None,
            rework_rounds=task.rework_count,
            feedback=feedback,
            intake_seconds=intake_seconds,
            work_seconds=timings.work_seconds if timings is not None else None,
            review_seconds=timings.review_seconds if timings is not None else None,
            error=task.error.message
            if task.status is TaskStatus.FAILED and task.error is not None
            else None,
        )


class ContinuousMode:
    """Always-on simulation: a round every ``interval_seconds`` until stopped.

    :meth:`stop` lets the round in progress finish, then :meth:`run` returns the
    result; cancelling :meth:`run` instead cancels what is in flight (the engines
    mark unfinished tasks cancelled) and keeps only finished outcomes, so nothing is
    half-written.

    It runs a copy of ``runner`` (:meth:`SimulationRunner.copy`, with the mode's
    concurrency): the runner given is left as it was; :attr:`runner` is the copy.
    Memory stays bounded however long it runs: after each round, what finished
    requests and tasks left in the runner and the engines is dropped, and only the
    ``keep_outcomes`` most recent outcomes are kept (the result covers those).

    Args:
        runner: the simulation to repeat (its ``config.rounds`` is ignored).
        config: interval, concurrency and an optional round limit.
        keep_outcomes: how many of the most recent outcomes to keep.
    """

    def __init__(
        self,
        runner: SimulationRunner,
        config: ContinuousModeConfig | None = None,
        *,
        keep_outcomes: int = 1000,
    ) -> None:
        if not isinstance(runner, SimulationRunner):
            raise ConfigError(
                f"ContinuousMode repeats a SimulationRunner; got {type(runner).__name__}"
            )
        check_int("keep_outcomes", keep_outcomes, low=1)
        self.config = config or ContinuousModeConfig()
        limit = self.config.max_concurrent
        self.runner = runner.copy(
            config=attrs.evolve(runner.config, max_concurrent=limit)
        )
        self.keep_outcomes = keep_outcomes
        self._stop = anyio.Event()
        self.rounds_done = 0

    def stop(self) -> None:
        """Finish the round in progress, then return from :meth:`run`."""
        self._stop.set()

    async def run(self) -> SimulationResult:
        """Run rounds until :meth:`stop` or ``max_rounds``."""
        return await self.runner._session(self._loop)  # noqa: SLF001 - same package

    async def _loop(self) -> None:
        limit = self.config.max_rounds
        while not self._stop.is_set() and (limit is None or self.rounds_done < limit):
            await self.runner.run_round(self.rounds_done)
            self.rounds_done += 1
            self.runner.prune(self.keep_outcomes)
            if limit is not None and self.rounds_done >= limit:
                break
            with anyio.move_on_after(self.config.interval_seconds):
                await self._stop.wait()
