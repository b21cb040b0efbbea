"""The batch runner: many conversations, bounded concurrency, a store, resume.

:class:`BatchRunner` runs one conversation per :class:`BatchCell` through a factory the
caller gives (``build(job) -> Runner``), so Full and Hybrid runs, simulated and real
agents, all go through the same machinery:

- concurrency bounded by an anyio ``CapacityLimiter`` (``parallel_runs``), with an
  optional delay between starts;
- each conversation's seed derived from the run seed and its grid cell, so results do
  not depend on scheduling order or on ``parallel_runs``;
- a per-conversation timeout (status ``TIMEOUT``, transcript so far kept);
- whole-conversation retries with exponential backoff on transient errors only;
  model calls are also retried one by one (see :class:`ConversationModels`);
- every finished conversation written to the store as it finishes; cells already
  stored are skipped, so rerunning with the same run id resumes;
- cells taken from their sequence one at a time, as each conversation starts, so a
  lazy grid of millions (see :class:`DistinctCells`) is never held in memory;
- an optional cassette (recording, replaying everything, or replaying the simulated
  side with the agent live) and the run's response cache and rate limiter, reached
  through :class:`ConversationModels`; each conversation's scope is committed when it
  ends (a replay scope is written only if it went live and recorded a new run).
"""

from __future__ import annotations

import logging
from collections.abc import (
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Sequence,
)
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel
import attrs

from clientsim import events
from clientsim._runtime import run_sync
from clientsim._validators import check_int, check_seconds
from clientsim.errors import ConfigError
from clientsim.models import (
    DEFAULT_TIMEOUTS,
    ConversationRecord,
    Timeouts,
)
from clientsim.runners._batch_parts import (
    check_distinct,
)
from clientsim.runners.executors import (
    Executor,
    check_executor,
    executor_for,
)
from clientsim.runners.work import (
    BatchCell,
    Build,
    ConversationJob,
    ConversationModels,
    ConversationWork,
    DistinctCells,
    Finish,
    FinishedConversation,
    derive_seed,
)


if TYPE_CHECKING:
    from langchain_core.rate_limiters import BaseRateLimiter

    from clientsim.experiments.cassette import Cassette
    from clientsim.llm.cache import SQLiteCache
    from clientsim.notebook import DataFrame
    from clientsim.registry import StrategyConfig
    from clientsim.store.base import SimulationStore

__all__ = [
    "BatchCell",
    "BatchResult",
    "BatchRunner",
    "ConversationJob",
    "ConversationModels",
    "ConversationWork",
    "DistinctCells",
    "FinishedConversation",
    "derive_seed",
]

log = logging.getLogger("clientsim.experiments")

_SKIPS_PER_CHECKPOINT = 1024

OnRecord = Callable[[ConversationRecord], None]


@attrs.frozen(kw_only=True)
class BatchResult:
    """What a batch run did: every pending cell ran.

    A run that is cancelled (Ctrl-C, a caller's ``move_on_after``) returns no result:
    the cancellation propagates, as anyio's structured concurrency requires. What
    finished before it is in the store and in :attr:`BatchRunner.finished`.

    Attributes:
        run_id: the run.
        records: the conversations this call ran and stored (not those skipped).
        skipped: cells skipped because they were already stored.
        live_model_calls: model calls that reached a real model.
    """

    run_id: str
    records: tuple[ConversationRecord, ...]
    skipped: int
    live_model_calls: int

    def to_pandas(self) -> DataFrame:
        """One row per conversation; see ``clientsim.notebook.to_pandas``.

        Raises:
            ImportError: pandas is not installed (``pip install 'clientsim[pandas]'``).
        """
        from clientsim.notebook import to_pandas  # noqa: PLC0415

        return to_pandas(self.records)

    def _repr_html_(self) -> str:
        """A table of the conversations, the outcome chart and the pass rate."""
        from clientsim.render.notebook import batch_result_html  # noqa: PLC0415

        return batch_result_html(self)


class BatchRunner:
    """Runs many conversations; see the module docstring.

    Example:
        >>> import anyio
        >>> from clientsim import BatchCell, BatchRunner, FullSimulationRunner, LLMParticipant
        >>> from clientsim.models import GridCell, MessageDraft, Outcome, Outcomes, ParticipantRole
        >>> outcomes = Outcomes(outcomes=(Outcome(name="resolved", description="Fixed"),))
        >>> def build(job):
        ...     customer = LLMParticipant("customer", job.models.model("offline", "customer"))
        ...     agent = LLMParticipant("agent", job.models.model("offline", "agent"))
        ...     first = MessageDraft(job.input, ParticipantRole.CUSTOMER)
        ...     return FullSimulationRunner(customer, agent, first, None, outcomes, max_messages=4)
        >>> cells = [BatchCell(cell=GridCell(input_id=str(i), persona_id="p", iteration=0),
        ...          input=text) for i, text in enumerate(["I can't log in", "Where is it?"])]
        >>> result = anyio.run(BatchRunner(build, cells, run_id="r1", seed=42).run)
        >>> [(record.key, record.status.value) for record in result.records]
        [('0/p/0', 'done'), ('1/p/0', 'done')]

    Args:
        build: makes each conversation's runner from a :class:`ConversationJob`.
        cells: the conversations to run (unique cell keys). A sequence is kept as
            it is and read one cell at a time as the run goes (a
            :class:`DistinctCells` is not walked up front to check its keys); any
            other iterable is read into a tuple first.
        run_id: the run's id (the store's simulation id).
        seed: the run seed that conversation seeds derive from.
        parallel_runs: how many conversations run at once.
        run_delay_seconds: the pause between two starts.
        timeout_seconds: per-conversation timeout (``None``: ``timeouts.conversation``).
        timeouts: the run's :class:`~clientsim.models.Timeouts`: every model call
            the conversations make through ``job.models`` is bounded by
            ``timeouts.model_call``, each conversation by ``timeout_seconds`` or else
            ``timeouts.conversation``; ``job.timeouts`` hands them to the runner.
        max_retries: retries of a conversation (and of a model call) that failed
            with a transient error; logic errors are never retried.
        retry_base_seconds: the first backoff; doubled on each retry, with jitter.
        store: where finished conversations go; cells it already holds for
            ``run_id`` are skipped.
        cassette: record or replay every model call and agent reply.
        response_cache: the run's response cache.
        rate_limiter: one LangChain rate limiter shared by every model call.
        on_record: called with each record once it is stored (in a worker thread,
            one call at a time; abandoned past ``timeouts.turn``).
        finish: called with each conversation that ended without an error; what it
            returns is stored (an exception it raises fails the conversation, source
            ``"evaluator"``).
        executor: where the conversations run: an
            :class:`~clientsim.runners.executors.Executor`, or a name or config
            (``"local"``, the default; ``"ray"``; ``{"strategy": "ray", "workers":
            2}``) built for this run and closed after it. The store, ``on_record``
            and :attr:`finished` stay in this process either way.
    """

    def __init__(
        self,
        build: Build,
        cells: Iterable[BatchCell],
        *,
        run_id: str,
        seed: int,
        parallel_runs: int = 1,
        run_delay_seconds: float = 0.0,
        timeout_seconds: float | None = None,
        max_retries: int = 3,
        retry_base_seconds: float = 0.5,
        store: SimulationStore | None = None,
        cassette: Cassette | None = None,
        response_cache: SQLiteCache | None = None,
        rate_limiter: BaseRateLimiter | None = None,
        on_record: OnRecord | None = None,
        finish: Finish | None = None,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        executor: Executor | StrategyConfig | None = None,
    ) -> None:
        if not callable(build):
            raise ConfigError(
                f"build must be a callable build(job) -> Runner; got {type(build).__name__}"
            )
        check_int("parallel_runs", parallel_runs, low=1)
        check_int("max_retries", max_retries, low=0)
        check_seconds("run_delay_seconds", run_delay_seconds, zero=True)
        check_seconds("timeout_seconds", timeout_seconds, zero=True, optional=True)
        check_seconds("retry_base_seconds", retry_base_seconds, zero=True)
        check_int("seed", seed)
        if not isinstance(timeouts, Timeouts):
            raise ConfigError(f"timeouts must be a Timeouts; got {timeouts!r}")
        if not isinstance(cells, Sequence):  # a generator, say: read it once
            cells = tuple(cells)
        if not isinstance(cells, DistinctCells):
            check_distinct(cells)
        self.build = build
        self.cells: Sequence[BatchCell] = cells
        self.run_id = run_id
        self.seed = seed
        self.parallel_runs = parallel_runs
        self.run_delay_seconds = float(run_delay_seconds)
        self.timeouts = timeouts
        self.timeout_seconds: float = (
            timeouts.conversation if timeout_seconds is None else timeout_seconds
        )
        self.max_retries = max_retries
        self.retry_base_seconds = float(retry_base_seconds)
        self.store = store
        self.cassette = cassette
        self.response_cache = response_cache
        self.rate_limiter = rate_limiter
        self.on_record = on_record
        self.finish = finish
        check_executor(executor)
        self.executor = executor
        self._records: list[ConversationRecord] = []
        self._hook_lock: anyio.Lock | None = None  # made on the loop that runs
        self._live_calls = 0

    @property
    def finished(self) -> tuple[ConversationRecord, ...]:
        """The records this runner stored so far, in the order they finished."""
        return tuple(self._records)

    async def pending(self) -> Iterator[BatchCell]:
        """The cells not yet stored for this run, in order, taken from :attr:`cells`
        one at a time as the iterator is read."""
        done = await self._stored()
        return (cell for cell in self.cells if cell.cell.key not in done)

    async def _stored(self) -> frozenset[str]:
        if self.store is None:
            return frozenset()
        return await self.store.stored_keys(self.run_id)

    async def run(self) -> BatchResult:
        """Run every pending cell; return what ran.

        Cancellation (Ctrl-C) stops starting new conversations, cancels those in
        flight and propagates (no result is returned); everything that finished is
        already stored, and :attr:`finished` lists it.

        Raises:
            ConfigError: the factory rejected its configuration (raised from the
                first conversation that hit it; nothing else is started after).
        """
        done = await self._stored()
        skipped = 0

        async def pending() -> AsyncIterator[BatchCell]:
            # One cell at a time: a cell exists only while its conversation runs
            # (at most parallel_runs of them, plus the next one waiting).
            nonlocal skipped
            for cell in self.cells:
                if cell.cell.key in done:
                    skipped += 1
                    if skipped % _SKIPS_PER_CHECKPOINT == 0:
                        # A resume may skip millions: stay cancellable.
                        await anyio.lowlevel.checkpoint()
                    continue
                yield cell

        try:
            async with executor_for(self.executor) as executor:
                await executor.map(
                    self.work(),
                    pending(),
                    limit=self.parallel_runs,
                    on_result=self._store,
                    delay_seconds=self.run_delay_seconds,
                )
        finally:
            if self.response_cache is not None:
                with anyio.CancelScope(shield=True):
                    await self.response_cache.flush()
        return BatchResult(
            run_id=self.run_id,
            records=tuple(self._records),
            skipped=skipped,
            live_model_calls=self._live_calls,
        )

    def work(self) -> ConversationWork:
        """This run's unit of work (what the executor runs for each pending cell)."""
        return ConversationWork(
            build=self.build,
            run_id=self.run_id,
            seed=self.seed,
            timeout_seconds=self.timeout_seconds,
            timeouts=self.timeouts,
            max_retries=self.max_retries,
            retry_base_seconds=self.retry_base_seconds,
            cassette=self.cassette,
            response_cache=self.response_cache,
            rate_limiter=self.rate_limiter,
            finish=self.finish,
        )

    async def _store(self, _cell: BatchCell, finished: FinishedConversation) -> None:
        record = finished.record
        self._live_calls += finished.live_calls
        if self.store is not None:
            with anyio.CancelScope(shield=True):
                await self.store.save_conversation(record)
        self._records.append(record)
        events.emit(
            events.BATCH_CONVERSATION_STORED,
            run_id=self.run_id,
            key=record.key,
            status=record.status.value,
        )
        if self.on_record is not None:
            await self._hook(self.on_record, record)

    async def _hook(self, hook: OnRecord, record: ConversationRecord) -> None:
        """Call ``on_record`` in a worker thread, one call at a time; one that takes
        longer than ``timeouts.turn`` is abandoned (logged) and the run goes on."""
        limit = self.timeouts.turn
        if self._hook_lock is None:
            self._hook_lock = anyio.Lock()
        async with self._hook_lock:
            with anyio.move_on_after(limit) as scope:
                await run_sync(hook, record, name="on_record")
        if scope.cancelled_caught:
            log.warning(
                "on_record took longer than %gs for %s; it was abandoned",
                limit,
                record.key,
            )
