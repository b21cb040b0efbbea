"""A batch's unit of work: one conversation in one grid cell, with its retries.

What an :class:`~clientsim.runners.executors.Executor` runs for each cell of a
:class:`~clientsim.runners.batch.BatchRunner` run: :class:`ConversationWork` builds
the cell's runner through the caller's factory (``build(job) -> Runner``), gives it
per-conversation models (:class:`ConversationModels`: seed, cassette, cache, rate
limit, retries), times it out, retries it on transient errors and returns the
record, unstored. It holds everything it needs, so a remote executor can pickle it
and run it in another process; the store and the ``on_record`` hook stay with the
runner that drives the run.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import random
import time
from abc import ABC
from collections.abc import (
    Awaitable,
    Callable,
    Sequence,
)
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel
import attrs

from clientsim.errors import ConfigError
from clientsim.models import (
    DEFAULT_TIMEOUTS,
    ConversationRecord,
    ConversationResult,
    ErrorRecord,
    GridCell,
    RunStatus,
    Timeouts,
    TokenUsage,
)
from clientsim.runners._batch_parts import (
    empty_result,
    timed_out_result,
)
from clientsim.runners.base import Runner


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.rate_limiters import BaseRateLimiter

    from clientsim.channels.base import Channel
    from clientsim.experiments.cassette import Cassette, CassetteScope
    from clientsim.llm.cache import SQLiteCache
    from clientsim.llm.run_model import RunChatModel

__all__ = [
    "BatchCell",
    "Build",
    "ConversationJob",
    "ConversationModels",
    "ConversationWork",
    "DistinctCells",
    "Finish",
    "FinishedConversation",
    "derive_seed",
]

log = logging.getLogger("clientsim.experiments")

_SEED_SPACE = 2**31 - 1  # OpenAI's seed parameter is a signed 32-bit int


def derive_seed(run_seed: int, cell: GridCell) -> int:
    """The seed of the conversation in ``cell`` of a run seeded ``run_seed``.

    A hash of both, so it depends on nothing else (not the order conversations start
    in, not ``parallel_runs``).
    """
    digest = hashlib.sha256(f"{run_seed}\x00{cell.key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % _SEED_SPACE


@attrs.frozen(kw_only=True)
class BatchCell:
    """One conversation to run.

    Attributes:
        cell: its place in the grid (its key must be unique in the batch).
        input: the input text it starts from.
        persona: the persona it plays (any object the factory understands).
        item: the input item (any object the factory understands).
    """

    cell: GridCell
    input: str
    persona: object = None
    item: object = None


class DistinctCells(Sequence[BatchCell], ABC):
    """A sequence of cells whose keys are distinct by construction, such as the
    experiment grid (:class:`~clientsim.experiments.build.Grid`).

    :class:`BatchRunner` checks that the cells of any other sequence have distinct
    keys, which walks them all before the run; it trusts a ``DistinctCells`` and only
    walks it as the run goes, one cell per conversation started (and one per cell
    skipped on a resume), so a sequence that makes each cell from its index costs
    next to no memory however long it is.
    """

    __slots__ = ()


class ConversationModels:
    """What a conversation's factory uses to get models and channels.

    :meth:`model` wraps a model spec or object in a per-conversation
    :class:`~clientsim.llm.run_model.RunChatModel` (seeded, cassette, cache,
    rate limit, retries, token accounting); :meth:`channel` wraps a channel in the
    cassette when one is in use.
    """

    def __init__(
        self,
        *,
        seed: int,
        scope: CassetteScope | None,
        cache: SQLiteCache | None,
        cassette: Cassette | None = None,
        limiter: BaseRateLimiter | None,
        max_retries: int,
        retry_base_seconds: float,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> None:
        self.seed = seed
        self.timeouts = timeouts
        self.scope = scope
        self._cassette = cassette
        self._cache = cache
        self._limiter = limiter
        self._max_retries = max_retries
        self._retry_base = retry_base_seconds
        self._wrappers: list[RunChatModel] = []

    def model(self, model: str | BaseChatModel, label: str) -> BaseChatModel:
        """``model`` as this conversation sees it, for the part named ``label``."""
        from clientsim.llm import model_name, resolve_model  # noqa: PLC0415
        from clientsim.llm.run_model import RunChatModel, seeded  # noqa: PLC0415

        inner = resolve_model(model)
        spec = model if isinstance(model, str) else model_name(inner)
        taken = sum(
            1 for wrapper in self._wrappers if wrapper.label.split("#")[0] == label
        )
        wrapper = RunChatModel(
            inner=seeded(inner, self.seed),
            spec=spec,
            label=f"{label}#{taken + 1}" if taken else label,
            conversation_seed=self.seed,
            scope=self.scope,
            response_cache=self._cache,
            limiter=self._limiter,
            max_retries=self._max_retries,
            retry_base_seconds=self._retry_base,
            call_timeout_seconds=self.timeouts.model_call,
        )
        self._wrappers.append(wrapper)
        return wrapper

    def channel(self, channel: Channel) -> Channel:
        """``channel`` through the cassette, if one is in use."""
        if self.scope is None or self._cassette is None:
            return channel
        return self._cassette.wrap_channel(channel, self.scope)

    def usage_by_model(self) -> dict[str, TokenUsage]:
        """Token usage per model spec, over every model this conversation used."""
        totals: dict[str, TokenUsage] = {}
        for wrapper in self._wrappers:
            totals[wrapper.spec] = (
                totals.get(wrapper.spec, TokenUsage()) + wrapper.usage
            )
        return totals

    @property
    def live_calls(self) -> int:
        """Model calls that reached a real model (not the cache, not the cassette)."""
        return sum(wrapper.live_calls for wrapper in self._wrappers)


@attrs.frozen(kw_only=True)
class ConversationJob:
    """What the factory is given to build one conversation's runner.

    Attributes:
        run_id: the run.
        cell: the grid cell.
        seed: the conversation's seed.
        input: the input text.
        persona: the cell's persona object.
        item: the cell's input item.
        attempt: 1 for the first attempt, 2 for the first retry, ...
        models: per-conversation models and channels (use them, so that seeds,
            cassette, cache and rate limits apply).
        timeouts: the run's timeouts (give them to the runner you build; the
            models above already apply ``timeouts.model_call``).
    """

    run_id: str
    cell: GridCell
    seed: int
    input: str
    persona: object
    item: object
    attempt: int
    models: ConversationModels
    timeouts: Timeouts = DEFAULT_TIMEOUTS


Build = Callable[[ConversationJob], Runner | Awaitable[Runner]]
"""``build(job) -> Runner``: makes a fresh runner (with fresh participants)."""

Finish = Callable[[ConversationJob, ConversationResult], Awaitable[ConversationResult]]
"""``finish(job, result) -> result``: post-processes a finished conversation (e.g.
judges its outcome on the whole transcript)."""


@attrs.frozen(kw_only=True)
class FinishedConversation:
    """What :class:`ConversationWork` gives back for one cell.

    Attributes:
        record: the conversation, ready to store.
        live_calls: model calls it made that reached a real model.
    """

    record: ConversationRecord
    live_calls: int


@attrs.define(kw_only=True, eq=False)
class ConversationWork:
    """One batch's unit of work: ``await work(cell)`` runs the conversation in
    ``cell`` (with retries and its timeout) and returns its record, unstored.

    It is what an :class:`~clientsim.runners.executors.Executor` runs, here or in
    another process: everything it holds travels with it (a remote executor pickles
    it), and it touches neither the store nor the ``on_record`` hook, which stay
    with the :class:`BatchRunner` that drives the run.
    """

    build: Build
    run_id: str
    seed: int
    timeout_seconds: float
    timeouts: Timeouts
    max_retries: int
    retry_base_seconds: float
    cassette: Cassette | None = None
    response_cache: SQLiteCache | None = None
    rate_limiter: BaseRateLimiter | None = None
    finish: Finish | None = None

    async def __call__(self, cell: BatchCell) -> FinishedConversation:
        seed = derive_seed(self.seed, cell.cell)
        simulation_id = f"{self.run_id}/{cell.cell.key}"
        jitter = random.Random(seed)
        attempt = 0
        while True:
            attempt += 1
            scope = (
                await self.cassette.scope(cell.cell.key)
                if self.cassette is not None
                else None
            )
            models = ConversationModels(
                seed=seed,
                scope=scope,
                cassette=self.cassette,
                cache=self.response_cache,
                limiter=self.rate_limiter,
                max_retries=self.max_retries,
                retry_base_seconds=self.retry_base_seconds,
                timeouts=self.timeouts,
            )
            job = ConversationJob(
                run_id=self.run_id,
                cell=cell.cell,
                seed=seed,
                input=cell.input,
                persona=cell.persona,
                item=cell.item,
                attempt=attempt,
                models=models,
                timeouts=self.timeouts,
            )
            started_at = datetime.now(UTC)
            start = time.perf_counter()
            status, result = await self._attempt(job)
            duration = time.perf_counter() - start
            error = result.error if result is not None else None
            if (
                status is RunStatus.FAILED
                and error is not None
                and error.transient
                and attempt <= self.max_retries
            ):
                delay = self.retry_base_seconds * 2 ** (attempt - 1)
                log.info(
                    "retrying %s after a transient %s (attempt %d of %d)",
                    simulation_id,
                    error.type,
                    attempt + 1,
                    self.max_retries + 1,
                )
                await anyio.sleep(delay * (0.5 + jitter.random()))
                continue
            if self.cassette is not None and scope is not None:
                with anyio.CancelScope(shield=True):
                    await self.cassette.commit(scope)
            record = ConversationRecord(
                run_id=self.run_id,
                cell=cell.cell,
                seed=seed,
                status=status,
                input=cell.input,
                result=result,
                error=error,
                attempts=attempt,
                started_at=started_at,
                duration_seconds=duration,
                models=models.usage_by_model(),
            )
            return FinishedConversation(record=record, live_calls=models.live_calls)

    async def _attempt(
        self, job: ConversationJob
    ) -> tuple[RunStatus, ConversationResult | None]:
        try:
            built = self.build(job)
            runner = await built if inspect.isawaitable(built) else built
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - the factory failed: a simulator error
            record = ErrorRecord.from_exception("simulator", exc)
            return RunStatus.FAILED, empty_result(record)
        if not isinstance(runner, Runner):
            raise ConfigError(
                "build(job) must return a Runner (e.g. a FullSimulationRunner or a "
                f"HybridSimulationRunner); got {type(runner).__name__}"
            )
        start = time.perf_counter()
        result: ConversationResult | None = None
        with anyio.move_on_after(self.timeout_seconds) as scope:
            result = await runner.run()
        if scope.cancelled_caught or result is None:
            return RunStatus.TIMEOUT, timed_out_result(
                runner.conversation,
                time.perf_counter() - start,
                self.timeout_seconds,
                getattr(runner, "pending_call_seconds", None),
            )
        if result.error is not None:
            return RunStatus.FAILED, result
        if self.finish is not None:
            try:
                result = await self.finish(job, result)
            except ConfigError:
                raise
            except Exception as exc:  # noqa: BLE001 - recorded, like a runner's errors
                error = ErrorRecord.from_exception("evaluator", exc)
                return RunStatus.FAILED, attrs.evolve(result, error=error)
        return RunStatus.DONE, result
