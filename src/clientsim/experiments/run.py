"""Running an experiment file: the grid, the conversations, the store and the output.

:func:`run_experiment` is what ``clientsim run`` calls: it turns an
:class:`~clientsim.experiments.config.ExperimentConfig` into grid cells (inputs x
personas x iterations), builds each conversation (a simulated agent in a Full
simulation, or the runner target over a channel in a Hybrid one; a single turn, or a
multi-turn conversation driven by the supervisor), runs them through the
:class:`~clientsim.runners.batch.BatchRunner`, and writes seed 003's folder.
"""

from __future__ import annotations

import functools
import inspect
import logging
import platform
import random
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anyio
import attrs

from clientsim import events
from clientsim.errors import ConfigError
from clientsim.experiments.config import ExperimentConfig, InputItem, PersonaConfig
from clientsim.models import (
    Conversation,
    ConversationRecord,
    ConversationResult,
    GridCell,
    Intent,
    MessageDraft,
    Outcome,
    Outcomes,
    ParticipantRole,
    RunStatus,
)
from clientsim.runners.batch import (
    BatchCell,
    BatchRunner,
    Build,
    ConversationJob,
    Finish,
)


if TYPE_CHECKING:
    from langchain_core.rate_limiters import BaseRateLimiter

    from clientsim.channels.base import Channel
    from clientsim.evaluation.base import OutcomeEvaluator
    from clientsim.experiments.cassette import Cassette
    from clientsim.llm.cache import SQLiteCache
    from clientsim.notebook import DataFrame
    from clientsim.runners.base import Runner
    from clientsim.store.base import SimulationStore

__all__ = ["ExperimentResult", "Progress", "grid", "run_experiment"]

log = logging.getLogger("clientsim.experiments")

Progress = Callable[[ConversationRecord, int, int], None]
"""``progress(record, finished, total)``: called as each conversation is stored."""

_CUSTOMER = ParticipantRole.CUSTOMER
_AGENT = ParticipantRole.AGENT
_DEFAULT_OUTCOMES = Outcomes((Outcome("completed", "The conversation ran to its end"),))


@attrs.frozen(kw_only=True)
class ExperimentResult:
    """What :func:`run_experiment` did.

    Attributes:
        run_id: the run's id, also its folder name (``exp_<timestamp>``).
        directory: the experiment folder.
        config: the configuration it ran with.
        records: every conversation stored for the run (earlier attempts included).
        summary: the aggregate figures (as in ``summary.json``).
        ran: conversations this call ran.
        skipped: conversations skipped because they were already stored.
        live_model_calls: model calls that reached a real model.
        interrupted: the run was stopped before every conversation ran.
    """

    run_id: str
    directory: Path
    config: ExperimentConfig
    records: tuple[ConversationRecord, ...]
    summary: Mapping[str, Any]
    ran: int
    skipped: int
    live_model_calls: int
    interrupted: bool = False

    @property
    def failed(self) -> int:
        """Conversations that failed or timed out."""
        return sum(1 for record in self.records if record.status is not RunStatus.DONE)

    @property
    def total(self) -> int:
        """Conversations in the grid."""
        return self.config.grid_size

    @property
    def exit_code(self) -> int:
        """The CLI's exit code: 0 all done, 1 some failed, 130 interrupted."""
        if self.interrupted:
            return 130
        return 1 if self.failed else 0

    def to_pandas(self) -> DataFrame:
        """One row per conversation; see ``clientsim.notebook.to_pandas``.

        Raises:
            ImportError: pandas is not installed (``pip install 'clientsim[pandas]'``).
        """
        from clientsim.notebook import to_pandas  # noqa: PLC0415

        return to_pandas(self.records)

    def _repr_html_(self) -> str:
        """A table of the conversations, the outcome chart and the pass rate."""
        from clientsim.render.notebook import experiment_result_html  # noqa: PLC0415

        return experiment_result_html(self)


def grid(config: ExperimentConfig) -> list[BatchCell]:
    """The experiment's cells: every input x persona x iteration, in that nesting.

    ``multi_turn.persona_override`` narrows the personas to the one it names.
    """
    inputs = config.resolved_inputs()
    personas = config.selected_personas()
    return [
        BatchCell(
            cell=GridCell(
                input_id=str(item.id), persona_id=persona.id, iteration=iteration
            ),
            input=item.content,
            persona=persona,
            item=item,
        )
        for iteration in range(config.iterations)
        for item in inputs
        for persona in personas
    ]


def _outcomes(config: ExperimentConfig) -> Outcomes:
    if not config.outcomes:
        return _DEFAULT_OUTCOMES
    return Outcomes(
        tuple(Outcome(item.name, item.description) for item in config.outcomes)
    )


def _evaluator(
    config: ExperimentConfig, job: ConversationJob
) -> OutcomeEvaluator | None:
    if not config.outcomes:
        return None
    if any(item.patterns for item in config.outcomes):
        from clientsim.evaluation.rules import (  # noqa: PLC0415
            OutcomeRule,
            RuleBasedOutcomeEvaluator,
        )

        return RuleBasedOutcomeEvaluator(
            [
                OutcomeRule(
                    item.name,
                    item.patterns,
                    sender=ParticipantRole(item.sender) if item.sender else None,
                )
                for item in config.outcomes
                if item.patterns
            ]
        )
    from clientsim.evaluation.llm import LLMOutcomeEvaluator  # noqa: PLC0415

    return LLMOutcomeEvaluator(job.models.model(config.model, "judge"))


def make_finish(config: ExperimentConfig) -> Finish | None:
    """Judge each finished conversation's outcome on its whole transcript.

    Rules: the latest message that matches a rule decides (a refund offered and then
    an escalation is an escalation). An LLM judge: one call on the whole transcript.
    Without outcomes in the config: ``None`` (no outcome is judged).
    """
    if not config.outcomes:
        return None
    outcomes = _outcomes(config)

    async def finish(
        job: ConversationJob, result: ConversationResult
    ) -> ConversationResult:
        evaluator = _evaluator(config, job)
        if evaluator is None:  # pragma: no cover - outcomes imply an evaluator
            return result
        conversation = result.conversation
        messages = conversation.messages
        outcome = None
        if any(item.patterns for item in config.outcomes):
            for end in range(len(messages), 0, -1):
                outcome = await evaluator.evaluate(
                    Conversation(messages[:end]), outcomes
                )
                if outcome is not None:
                    break
        else:
            outcome = await evaluator.evaluate(conversation, outcomes)
        usage = getattr(evaluator, "token_usage", None)
        report = result.token_usage
        if usage is not None:
            report = attrs.evolve(report, judge=report.judge + usage)
        return attrs.evolve(
            result, conversation=conversation.with_outcome(outcome), token_usage=report
        )

    return finish


def _add_import_paths(config: ExperimentConfig) -> None:
    runner = config.runner
    if runner is None:
        return
    root = config.resolve_path(runner.working_directory)
    paths = [root, *(config.resolve_path(entry) for entry in runner.python_path or ())]
    for path in reversed(paths):
        text = str(path.resolve())
        if text not in sys.path:
            sys.path.insert(0, text)


def _with_tool_approval(function: object, auto_approve: bool) -> object:
    """Pass ``multi_turn.auto_approve_tools`` to a target that declares it."""
    if not callable(function):
        return function
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without signatures
        return function
    if "auto_approve_tools" not in parameters:
        return function
    return functools.partial(function, auto_approve_tools=auto_approve)


def _agent_source(
    config: ExperimentConfig,
) -> Callable[[ConversationJob], Channel] | None:
    """How each conversation reaches the runner target (``None`` for a simulated agent)."""
    runner = config.runner
    if runner is None or config.agent is not None:
        return None
    target = runner.resolved_target
    if target is None:  # pragma: no cover - the config refuses this
        raise ConfigError(
            "runner.target (or module_path and function_name) is required"
        )
    _add_import_paths(config)
    from clientsim.channels.target import TargetChannel, import_target  # noqa: PLC0415

    function = _with_tool_approval(
        import_target(target, instantiate=True), config.multi_turn.auto_approve_tools
    )
    if not callable(function):
        raise ConfigError(
            f"runner.target {target!r} is a {type(function).__name__}, not callable"
        )
    if not config.replay_args.enabled:
        channel = TargetChannel(function)
        return lambda _job: channel
    from clientsim.experiments.recording import (  # noqa: PLC0415
        ReplayTarget,
        load_recording,
    )

    calls = load_recording(config.resolve_path(config.replay_args.recording_file))
    replay = ReplayTarget(function, calls, config.replay_args.override_param_path)
    inputs = {item.id: index for index, item in enumerate(config.resolved_inputs())}

    def channel_for(job: ConversationJob) -> Channel:
        index = inputs.get(job.cell.input_id, 0)
        return TargetChannel(replay.as_agent(index))

    return channel_for


def make_build(config: ExperimentConfig) -> Build:
    """The factory that builds each conversation of ``config``'s experiment."""
    from clientsim.participants import LLMParticipant, ScriptedParticipant  # noqa: PLC0415
    from clientsim.runners import (  # noqa: PLC0415
        FullSimulationRunner,
        HybridSimulationRunner,
    )

    outcomes = _outcomes(config)
    channel_for = _agent_source(config)
    multi = config.multi_turn
    supervisor = multi.supervisor
    max_messages = 4 * multi.max_turns + 2 if multi.enabled else 100

    def build(job: ConversationJob) -> Runner:
        item = job.item
        persona = job.persona
        if not isinstance(item, InputItem) or not isinstance(persona, PersonaConfig):
            raise ConfigError("experiment cells carry an InputItem and a PersonaConfig")
        intent = Intent(_CUSTOMER, item.intent or item.content)
        first = MessageDraft(item.content, _CUSTOMER)
        customer: Any
        termination: list[Any] = []
        if multi.enabled:
            from clientsim.participants.supervised import (  # noqa: PLC0415
                SupervisorParticipant,
                SupervisorTermination,
            )
            from clientsim.participants.supervisor import (  # noqa: PLC0415
                LLMSupervisor,
                MockSupervisor,
            )

            decider: Any
            if supervisor.provider == "mock":
                meta = supervisor.metadata
                decider = MockSupervisor(
                    meta.scripted_questions,
                    mock_decision=meta.mock_decision,
                    mock_reason=meta.mock_reason,
                    mock_closing=meta.mock_closing,
                )
            else:
                decider = LLMSupervisor(
                    job.models.model(supervisor.model_spec, "supervisor"),
                    system_prompt=supervisor.system_prompt,
                    persona=persona.description,
                    intent=item.intent,
                    temperature=supervisor.temperature,
                )
            customer = SupervisorParticipant(
                decider, max_turns=multi.max_turns, seed=job.seed
            )
            termination.append(SupervisorTermination(customer))
        else:
            customer = ScriptedParticipant(_CUSTOMER, [])
        if channel_for is None:
            agent_config = config.agent
            if agent_config is None:  # pragma: no cover - the config refuses this
                raise ConfigError("set either 'agent' or 'runner.target'")
            agent = LLMParticipant(
                _AGENT,
                job.models.model(agent_config.model or config.model, "agent"),
                system_prompt=agent_config.system_prompt,
                seed=job.seed,
            )
            return FullSimulationRunner(
                customer,
                agent,
                first,
                intent,
                outcomes,
                max_messages=max_messages if multi.enabled else 2,
                termination=termination or None,
                conversation_id=f"{job.run_id}/{job.cell.key}",
            )
        return HybridSimulationRunner(
            customer=customer,
            channel=job.models.channel(channel_for(job)),
            intent=intent,
            outcomes=outcomes,
            initial_message=first,
            max_messages=max_messages,
            termination=termination or None,
            conversation_id=f"{job.run_id}/{job.cell.key}",
        )

    return build


def new_run_seed() -> int:
    """A fresh random run seed (for ``seed: null``), recorded in the metadata."""
    return random.SystemRandom().randrange(2**31 - 1)


@attrs.frozen(kw_only=True)
class _Run:
    run_id: str
    directory: Path
    seed: int
    metadata: dict[str, Any]


async def _open_run(
    store: SimulationStore,
    config: ExperimentConfig,
    cells: list[BatchCell],
    resume: str | None,
) -> _Run:
    from clientsim.experiments.output import new_experiment_dir  # noqa: PLC0415

    output = config.resolve_path(config.output_directory)
    if resume is None:
        directory = new_experiment_dir(output)
        seed = config.seed if config.seed is not None else new_run_seed()
        metadata: dict[str, Any] = {
            "run_id": directory.name,
            "name": config.name,
            "description": config.description,
            "run_seed": seed,
            "grid_size": len(cells),
            "started_at": datetime.now(UTC).isoformat(),
            "clientsim_version": _version(),
            "python": platform.python_version(),
            "config": config.to_dict(),
        }
        await store.register_if_absent(directory.name, metadata)
        return _Run(
            run_id=directory.name, directory=directory, seed=seed, metadata=metadata
        )
    info = await store.get_simulation(resume)
    if info is None:
        known = [run.simulation_id for run in await store.runs()]
        raise ConfigError(
            f"cannot resume run {resume!r}: the store has no such run; runs there: "
            f"{', '.join(known[:10]) or '(none)'}"
        )
    directory = output / resume
    for folder in ("artifacts", "logs"):
        (directory / folder).mkdir(parents=True, exist_ok=True)
    stored_seed = info.metadata.get("run_seed")
    return _Run(
        run_id=resume,
        directory=directory,
        seed=stored_seed if isinstance(stored_seed, int) else 0,
        metadata=dict(info.metadata),
    )


async def _stored_config(
    store: SimulationStore, config: ExperimentConfig, resume: str
) -> ExperimentConfig:
    """The configuration run ``resume`` started with, so a resume finishes the same
    grid with the same seed whatever the file or the command line say now."""
    info = await store.get_simulation(resume)
    if info is None:
        known = [run.simulation_id for run in await store.runs()]
        raise ConfigError(
            f"cannot resume run {resume!r}: the store {config.store_path} has no such "
            f"run; runs there: {', '.join(known[:10]) or '(none)'}"
        )
    data = info.metadata.get("config")
    if not isinstance(data, dict):
        return config
    stored = ExperimentConfig.from_dict(data, base_dir=config.base_dir)
    if stored.to_dict() != config.to_dict():
        log.warning(
            "resuming %s with the configuration it started with; the file or the "
            "command line now differ from it",
            resume,
        )
    return stored


def _log_to(directory: Path) -> Callable[[], None]:
    """Log the ``clientsim`` loggers to ``logs/run.log``; returns the undo."""
    handler = logging.FileHandler(directory / "logs" / "run.log", encoding="utf-8")
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    package_logger = logging.getLogger("clientsim")
    previous = package_logger.level
    package_logger.addHandler(handler)
    if previous == logging.NOTSET or previous > logging.INFO:
        package_logger.setLevel(logging.INFO)

    def undo() -> None:
        package_logger.removeHandler(handler)
        package_logger.setLevel(previous)
        handler.close()

    return undo


def _cassette(
    path: str | Path | None, mode: Literal["record", "replay"], *, strict: bool
) -> Cassette | None:
    if path is None:
        return None
    from clientsim.experiments.cassette import Cassette  # noqa: PLC0415

    return Cassette(path, mode=mode, strict=strict)


def _sqlite_store(config: ExperimentConfig) -> SimulationStore:
    from clientsim.store import SQLiteStore  # noqa: PLC0415

    return SQLiteStore(config.store_path)


async def _response_cache(config: ExperimentConfig) -> SQLiteCache | None:
    if not config.cache:
        return None
    from clientsim.llm.cache import SQLiteCache  # noqa: PLC0415

    # Answers are written 256 at a time, off the event loop.
    cache = SQLiteCache(config.output_path / ".clientsim-cache.sqlite", flush_every=256)
    await cache.open()
    return cache


def _rate_limiter(requests_per_second: float | None) -> BaseRateLimiter | None:
    if requests_per_second is None:
        return None
    if isinstance(requests_per_second, bool) or not requests_per_second > 0:
        raise ConfigError(
            f"requests_per_second must be a number > 0; got {requests_per_second!r}"
        )
    from langchain_core.rate_limiters import InMemoryRateLimiter  # noqa: PLC0415

    return InMemoryRateLimiter(
        requests_per_second=requests_per_second,
        check_every_n_seconds=min(0.1, 1 / requests_per_second),
        max_bucket_size=max(1.0, requests_per_second),
    )


async def run_experiment(
    config: ExperimentConfig | str | Path,
    *,
    resume: str | None = None,
    store: SimulationStore | None = None,
    cassette: str | Path | None = None,
    cassette_mode: Literal["record", "replay"] = "record",
    strict: bool = True,
    requests_per_second: float | None = None,
    progress: Progress | None = None,
    on_start: Callable[[str, Path], None] | None = None,
    retry_base_seconds: float = 0.5,
) -> ExperimentResult:
    """Run the experiment ``config`` describes and write its folder.

    Example:
        >>> result = await run_experiment("my-agent/configs/simulation.yaml")
        ...     # doctest: +SKIP
        >>> result.summary["pass_rate"]["value"]  # doctest: +SKIP
        0.85

    Args:
        config: the configuration, or the path of an experiment file.
        resume: the id of an earlier run (its folder name) to finish: cells it
            already stored are skipped, its seed is reused, its folder rewritten.
        store: where conversations go; default: the SQLite file ``config.store``
            (``<output_directory>/runs.sqlite``).
        cassette: a cassette file: ``cassette_mode="record"`` records every model
            call and agent reply; ``"replay"`` answers them from the file and calls
            nothing live (``strict``: a miss is an error, not a live call).
        cassette_mode: ``"record"`` or ``"replay"``.
        strict: see ``cassette``.
        requests_per_second: a rate limit on model calls, shared by the whole run.
        progress: called as each conversation is stored.
        on_start: called with the run id and folder once the run is registered.
        retry_base_seconds: the first backoff before retrying a conversation.

    Raises:
        ConfigError: the configuration is invalid, the target cannot be imported,
            or ``resume`` names no run in the store.
        DuplicateSimulationError: the run id is already registered (not a resume).
    """
    if not isinstance(config, ExperimentConfig):
        config = ExperimentConfig.from_file(config)
    limiter = _rate_limiter(requests_per_second)
    own_store = store is None
    if store is None:
        store = _sqlite_store(config)
    undo: list[Callable[[], None]] = []
    cache: SQLiteCache | None = None
    try:
        if resume is not None:
            config = await _stored_config(store, config, resume)
        cells = grid(config)
        build = make_build(config)
        run = await _open_run(store, config, cells, resume)
        await store.update_status(run.run_id, "running")
        if on_start is not None:
            on_start(run.run_id, run.directory)
        undo.append(_log_to(run.directory))
        cache = await _response_cache(config)
        tape = _cassette(cassette, cassette_mode, strict=strict)
        stored_before = len(await store.stored_keys(run.run_id))
        finished = stored_before

        def on_record(record: ConversationRecord) -> None:
            nonlocal finished
            finished += 1
            if progress is not None:
                progress(record, finished, len(cells))

        batch = BatchRunner(
            build,
            cells,
            run_id=run.run_id,
            seed=run.seed,
            parallel_runs=config.parallel_runs,
            run_delay_seconds=config.run_delay_seconds,
            timeout_seconds=config.runner.timeout_seconds if config.runner else None,
            max_retries=config.runner.max_retries if config.runner else 3,
            retry_base_seconds=retry_base_seconds,
            store=store,
            cassette=tape,
            response_cache=cache,
            rate_limiter=limiter,
            on_record=on_record,
            finish=make_finish(config),
        )
        return await _execute(
            batch,
            run=run,
            config=config,
            store=store,
            tape=tape,
            stored_before=stored_before,
        )
    finally:
        for step in reversed(undo):
            step()
        if cache is not None:
            await cache.aclose()  # shielded: what waits is written
        if own_store:
            with anyio.CancelScope(shield=True):
                await store.aclose()


async def _execute(
    batch: BatchRunner,
    *,
    run: _Run,
    config: ExperimentConfig,
    store: SimulationStore,
    tape: Cassette | None,
    stored_before: int,
) -> ExperimentResult:
    from clientsim.experiments.output import ExperimentWriter, summarize  # noqa: PLC0415

    writer = ExperimentWriter(
        run.directory,
        save_traces=config.save_traces,
        save_aggregated_metrics=config.save_aggregated_metrics,
    )
    writer.write_metadata({**run.metadata, "status": "running"})
    events.emit(
        events.BATCH_STARTED,
        run_id=run.run_id,
        total=len(batch.cells),
        pending=len(batch.cells) - stored_before,
        parallel_runs=config.parallel_runs,
    )
    status = "interrupted"
    result = None
    try:
        if tape is not None:
            async with tape:
                result = await batch.run()
        else:
            result = await batch.run()
        status = "done"
    finally:
        with anyio.CancelScope(shield=True):
            if stored_before:
                records = tuple(await store.conversations(run.run_id))
            else:  # a fresh run: what it stored is what it ran, no need to read back
                records = batch.finished
            await store.update_status(run.run_id, status)
            final = {
                **run.metadata,
                "status": status,
                "finished_at": datetime.now(UTC).isoformat(),
                "stored": len(records),
            }

            def write_all() -> dict[str, Any]:
                summary = summarize(records, pass_outcomes=config.pass_outcomes)
                writer.write_records(records)
                writer.write_summary(summary)
                writer.write_metadata(final)
                return summary

            summary = await anyio.to_thread.run_sync(write_all)
            events.emit(
                events.BATCH_FINISHED,
                run_id=run.run_id,
                status=status,
                stored=len(records) - stored_before,
                skipped=stored_before,
            )
    return ExperimentResult(
        run_id=run.run_id,
        directory=run.directory,
        config=config,
        records=records,
        summary=summary,
        ran=len(result.records) if result else 0,
        skipped=result.skipped if result else stored_before,
        live_model_calls=result.live_model_calls if result else 0,
        interrupted=status != "done",
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("clientsim")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"
