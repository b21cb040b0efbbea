"""Running an experiment file: the grid, the conversations, the store and the output.

:func:`run_experiment` is what ``clientsim run`` calls: it turns an
:class:`~clientsim.experiments.config.ExperimentConfig` into grid cells (inputs x
personas x iterations), builds each conversation (a simulated agent in a Full
simulation, or the runner target over a channel in a Hybrid one; a single turn, or a
multi-turn conversation driven by the supervisor), runs them through the
:class:`~clientsim.runners.batch.BatchRunner`, and writes seed 003's folder.
"""

from __future__ import annotations

import contextlib
import logging
import platform
import random
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anyio
import attrs

from clientsim import events, plugins
from clientsim._secrets import redact_config
from clientsim.errors import ConfigError
from clientsim.experiments.build import (
    ExperimentBuild,
    check_grid_size,
    grid,
    make_build,
    make_finish,
)
from clientsim.experiments.config import ExperimentConfig
from clientsim.experiments.output import check_run_id
from clientsim.llm import rate_limiter
from clientsim.models import (
    ConversationRecord,
    Outcome,
    Outcomes,
    ParticipantRole,
    RunStatus,
    Timeouts,
)
from clientsim.observability.otel import exporting
from clientsim.runners.batch import BatchCell, BatchRunner


if TYPE_CHECKING:
    from clientsim.experiments.cassette import Cassette
    from clientsim.llm.cache import SQLiteCache
    from clientsim.notebook import DataFrame
    from clientsim.registry import StrategyConfig
    from clientsim.runners.executors import Executor
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
    """What :func:`run_experiment` did: every conversation of the grid ran.

    An interrupted run returns no result: the cancellation (Ctrl-C) propagates, as
    anyio's structured concurrency requires. Before it does, the run folder is
    written with what finished and ``"status": "interrupted"`` in ``metadata.json``
    (and in the store), which is where an interrupted run shows; ``--resume`` (or
    ``resume=``) finishes it.

    Attributes:
        run_id: the run's id, also its folder name (``exp_<timestamp>``).
        directory: the experiment folder.
        config: the configuration it ran with.
        records: every conversation stored for the run (earlier attempts included).
        summary: the aggregate figures (as in ``summary.json``).
        ran: conversations this call ran.
        skipped: conversations skipped because they were already stored.
        live_model_calls: model calls that reached a real model.
    """

    run_id: str
    directory: Path
    config: ExperimentConfig
    records: tuple[ConversationRecord, ...]
    summary: Mapping[str, Any]
    ran: int
    skipped: int
    live_model_calls: int

    @property
    def failed(self) -> int:
        """Conversations that failed or timed out."""
        return sum(1 for record in self.records if record.status is not RunStatus.DONE)

    @property
    def total(self) -> int:
        """Conversations in the grid."""
        return self.config.grid_size

    @property
    def below_threshold(self) -> bool:
        """Whether the pass rate (``summary["pass_rate"]["value"]``, the rate the
        CLI prints) is below the config's ``fail_under``; ``False`` without one."""
        threshold = self.config.fail_under
        rate = self.summary.get("pass_rate", {}).get("value")
        return threshold is not None and (rate is None or rate < threshold)

    @property
    def exit_code(self) -> int:
        """The CLI's exit code. With ``fail_under``: 1 if the pass rate is below
        it, else 0 (failed conversations count as not passed). Without: 1 if some
        conversation failed or timed out, else 0.

        (An interrupted run has no result; the CLI exits 130 for it.)
        """
        if self.config.fail_under is not None:
            return 1 if self.below_threshold else 0
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
    cells: Sequence[BatchCell],
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
            # Credentials in URLs and headers are never written down.
            "config": redact_config(config.to_dict()),
        }
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
    stored_id = info.metadata.get("run_id", resume)
    if stored_id != resume:
        raise ConfigError(
            f"cannot resume run {resume!r}: the store's metadata for it names the run "
            f"{stored_id!r}; the store was changed outside clientsim"
        )
    directory = output / resume
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
    grid with the same seed whatever the file or the command line say now; only
    where it is and runs (``output_directory``, ``store``, ``executor``) comes from
    ``config``, the file and command line as they are now."""
    check_run_id(resume, "--resume")
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
    now = config.to_dict()  # where it is and where it runs: as they are now
    here = {key: now[key] for key in ("output_directory", "store", "executor")}
    if redact_config(now) == redact_config({**data, **here}):
        return config  # the same configuration, with the secrets the store never kept
    stored = ExperimentConfig.from_dict({**data, **here}, base_dir=config.base_dir)
    log.warning(
        "resuming %s with the configuration it started with; the file or the "
        "command line now differ from it (and credentials, which are never stored, "
        "are left out)",
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
    path: str | Path | None,
    mode: Literal["record", "replay"],
    *,
    replay: Literal["all", "simulator"],
    strict: bool,
) -> Cassette | None:
    if path is None:
        return None
    from clientsim.experiments.cassette import Cassette  # noqa: PLC0415

    return Cassette(path, mode=mode, replay=replay, strict=strict)


def _run_store(config: ExperimentConfig) -> SimulationStore:
    from clientsim.experiments._run_store import run_store  # noqa: PLC0415

    return run_store(config)


async def _response_cache(config: ExperimentConfig) -> SQLiteCache | None:
    if not config.cache:
        return None
    from clientsim.llm.cache import SQLiteCache  # noqa: PLC0415

    # Answers are written 256 at a time, off the event loop.
    cache = SQLiteCache(config.output_path / ".clientsim-cache.sqlite", flush_every=256)
    await cache.open()
    return cache


async def run_experiment(
    config: ExperimentConfig | str | Path,
    *,
    resume: str | None = None,
    store: SimulationStore | None = None,
    cassette: str | Path | None = None,
    cassette_mode: Literal["record", "replay"] = "record",
    cassette_replay: Literal["all", "simulator"] = "all",
    strict: bool = True,
    requests_per_second: float | None = None,
    progress: Progress | None = None,
    on_start: Callable[[str, Path], None] | None = None,
    retry_base_seconds: float = 0.5,
    allow_large_grid: bool = False,
    executor: Executor | StrategyConfig | None = None,
) -> ExperimentResult:
    """Run the experiment ``config`` describes and write its folder.

    Example:
        >>> import anyio
        >>> import tempfile
        >>> from pathlib import Path
        >>> from clientsim.experiments import run_experiment, scaffold
        >>> folder = Path(tempfile.mkdtemp()) / "my-agent"
        >>> _ = scaffold(folder)  # what ``clientsim init my-agent`` writes
        >>> path = folder / "configs" / "simulation.yaml"
        >>> result = anyio.run(lambda: run_experiment(path))
        >>> result.summary["pass_rate"]["passed"], result.summary["pass_rate"]["total"]
        (8, 12)
        >>> result.directory.parent == folder / "experiments"
        True

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
        cassette_replay: what a replay answers from the file: ``"all"`` (every
            model call and the agent's turns) or ``"simulator"`` (the simulated
            side; the agent is called live, and a conversation where it answers
            otherwise than recorded fails with
            :class:`~clientsim.errors.CassetteDivergenceError`, or with
            ``strict=False`` goes live and is recorded anew). See
            :class:`~clientsim.experiments.cassette.Cassette`.
        strict: see ``cassette`` (``False``: the cassette's ``on_miss="live"``).
        requests_per_second: a rate limit on model calls, shared by the whole run.
        progress: called as each conversation is stored, in a worker thread (a
            slow one never stalls the run; past a turn's timeout it is abandoned);
            reach the loop with ``anyio.from_thread.run_sync(..., token=...)``.
        on_start: called with the run id and folder once the run is registered.
        retry_base_seconds: the first backoff before retrying a conversation.
        allow_large_grid: run a grid of more than
            :data:`~clientsim.experiments.build.LARGE_GRID` conversations (100,000).
        executor: where the conversations run, instead of ``config.executor``: an
            :class:`~clientsim.runners.executors.Executor` (yours to close) or a name.

    Returns:
        What ran, once every conversation of the grid has run. A cancelled run
        (Ctrl-C) returns nothing: the cancellation propagates after the folder is
        written with what finished and ``"status": "interrupted"``.

    Raises:
        ConfigError: the configuration is invalid, the target cannot be imported,
            ``resume`` names no run in the store, the grid is too large (see
            ``allow_large_grid``), or ``otel`` is set without the ``otel`` extra.
        DuplicateSimulationError: the run id is already registered (not a resume).
    """
    if not isinstance(config, ExperimentConfig):
        config = ExperimentConfig.from_file(config)
    limiter = rate_limiter(requests_per_second)
    own_store = store is None
    if store is None:
        store = _run_store(config)
    undo: list[Callable[[], None]] = []
    build: ExperimentBuild | None = None
    cache: SQLiteCache | None = None
    opened = _Opened()
    try:
        # A broken plugin is found now, before a run folder is made for nothing.
        plugins.get_plugin_manager()
        undo.append(exporting(config.otel))  # spans, if the file asks for them
        if resume is not None:
            config = await _stored_config(store, config, resume)
        check_grid_size(config, allowed=allow_large_grid)
        cells = grid(config)
        build = make_build(config)
        run = await _start_run(opened, store, config, cells, resume)
        if on_start is not None:
            on_start(run.run_id, run.directory)
        undo.append(_log_to(run.directory))
        cache = await _response_cache(config)
        tape = _cassette(cassette, cassette_mode, replay=cassette_replay, strict=strict)
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
            timeouts=config.runner.timeouts if config.runner else Timeouts(),
            max_retries=config.runner.max_retries if config.runner else 3,
            retry_base_seconds=retry_base_seconds,
            store=store,
            cassette=tape,
            response_cache=cache,
            rate_limiter=limiter,
            on_record=on_record,
            finish=make_finish(config),
            executor=config.executor.to_config() if executor is None else executor,
        )
        opened.executing = True
        return await _execute(
            batch,
            run=run,
            config=config,
            store=store,
            tape=tape,
            stored_before=stored_before,
        )
    except Exception as exc:
        if opened.run is not None and not opened.executing:  # _execute records its own
            await _mark_failed(
                store if opened.registered else None, opened.run, exc, config=config
            )
        raise
    finally:
        for step in reversed(undo):
            step()
        await _release(build, cache, store if own_store else None)


@attrs.define
class _Opened:
    """How far :func:`run_experiment` got: what to mark failed if it stops."""

    run: _Run | None = None
    registered: bool = False  # the run is in the store, under this run's id
    executing: bool = False  # _execute took over (and records its own errors)


async def _start_run(
    opened: _Opened,
    store: SimulationStore,
    config: ExperimentConfig,
    cells: Sequence[BatchCell],
    resume: str | None,
) -> _Run:
    """Register (or reopen) the run and make its folders; ``opened`` follows along."""
    from clientsim.experiments.output import make_subfolders  # noqa: PLC0415

    run = opened.run = await _open_run(store, config, cells, resume)
    if resume is None:
        await store.register_if_absent(run.run_id, run.metadata)
    opened.registered = True
    await store.update_status(run.run_id, "running")
    make_subfolders(run.directory)
    return run


def failure_text(exc: BaseException) -> str:
    """How a run's metadata records the error that stopped it: type and message."""
    return f"{type(exc).__name__}: {exc}"


async def _mark_failed(
    store: SimulationStore | None,
    run: _Run,
    exc: BaseException,
    *,
    config: ExperimentConfig,
) -> None:
    """Record, as well as it can, that the run stopped on ``exc``: status
    ``"failed"`` and the error in the store and in ``metadata.json``."""
    from clientsim.experiments.output import (  # noqa: PLC0415
        METADATA_FILE,
        write_json_file,
    )

    final = {
        **run.metadata,
        "status": "failed",
        "error": failure_text(exc),
        "finished_at": datetime.now(UTC).isoformat(),
    }
    with anyio.CancelScope(shield=True):
        if store is not None:
            with contextlib.suppress(Exception):  # the store may be what failed
                await store.update_status(run.run_id, "failed")
        if config.save_aggregated_metrics and run.directory.is_dir():
            with contextlib.suppress(Exception):  # or the folder
                write_json_file(run.directory / METADATA_FILE, final)


async def _release(
    build: ExperimentBuild | None,
    cache: SQLiteCache | None,
    store: SimulationStore | None,
) -> None:
    """Close what the run opened: the channels its builder made, the response cache
    (what waits to be written is written), its own store."""
    with anyio.CancelScope(shield=True):
        if build is not None:
            await build.aclose()
        if cache is not None:
            await cache.aclose()
        if store is not None:
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
    status = "interrupted"  # unless it ends, or an error stops it
    error: Exception | None = None
    result = None
    try:
        events.emit(
            events.BATCH_STARTED,
            run_id=run.run_id,
            total=len(batch.cells),
            pending=len(batch.cells) - stored_before,
            parallel_runs=config.parallel_runs,
        )
        async with tape if tape is not None else contextlib.nullcontext():
            result = await batch.run()
        status = "done"
    except Exception as exc:
        status, error = "failed", exc
        raise
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
            if error is not None:
                final["error"] = failure_text(error)

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
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("clientsim")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"
