"""The task engine (seed 000): the system under test, and an in-memory reference one.

:class:`InMemoryTaskEngine` drives a user-supplied worker (an async callable or a
participant-like agent) through CREATED -> ASSIGNED -> IN_PROGRESS -> IN_REVIEW ->
COMPLETED, sending the task back to IN_PROGRESS with the review's failure reasons
until the rework limit is spent (then FAILED).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Protocol, Self, TypeAlias, runtime_checkable

import anyio
import anyio.abc
import attrs

from clientsim._runtime import run_sync, unwrap
from clientsim._validators import check_int
from clientsim.errors import ConfigError, SimulationError
from clientsim.models import Conversation, Message, ParticipantRole
from clientsim.models.client import (
    TASK_TRANSITIONS,
    ReviewStageResult,
    ReviewVerdict,
    Task,
    TaskError,
    TaskRequirement,
    TaskSource,
    TaskStatus,
    TaskTimings,
)
from clientsim.models.timeouts import DEFAULT_TIMEOUTS, Timeouts
from clientsim.review.pipeline import ReviewPipeline


__all__ = [
    "InMemoryTaskEngine",
    "ParticipantWorker",
    "TaskEngine",
    "Worker",
    "requirement_text",
]

Worker: TypeAlias = Callable[[Task, Sequence[ReviewStageResult]], Awaitable[str]]
"""Does the work: given the task and the failed review results of the last round
(empty on the first attempt), returns the deliverable text."""


@runtime_checkable
class TaskEngine(Protocol):
    """Where approved work goes: the system under test of a client simulation."""

    async def create_task(
        self,
        requirement: TaskRequirement,
        *,
        source: TaskSource,
        project: str,
        request_id: str | None = None,
    ) -> Task:
        """File a task for ``requirement`` and start work on it; returns it CREATED."""
        ...

    async def get_task(self, task_id: str) -> Task:
        """The task as it is now."""
        ...

    async def wait_for(
        self,
        task_id: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - the brief's signature
    ) -> Task:
        """Wait until the task is final (COMPLETED, FAILED or CANCELLED)."""
        ...


def requirement_text(
    requirement: TaskRequirement, feedback: Sequence[ReviewStageResult] = ()
) -> str:
    """The requirement (and any review feedback) as a message for a worker agent."""
    lines = [f"# {requirement.title}", "", requirement.description]
    if requirement.acceptance_criteria:
        lines += ["", "Acceptance criteria:"]
        lines += [f"- {c}" for c in requirement.acceptance_criteria]
    if feedback:
        lines += ["", _feedback_text(feedback)]
    return "\n".join(lines)


def _feedback_text(feedback: Sequence[ReviewStageResult]) -> str:
    lines = ["The review sent the work back. Please address:"]
    lines += [f"- [{r.stage}] {r.reason or r.verdict.value}" for r in feedback]
    return "\n".join(lines)


class ParticipantWorker:
    """Adapts a participant-like agent (``async get_next_message(conversation)``) to
    a :data:`Worker`.

    Per task it keeps one conversation: the requirement as the customer's first
    message, the agent's deliverable as its reply, review feedback as the customer's
    next message, and so on. A participant keeps state between calls; one that
    cannot serve several tasks at once should get an engine with
    ``max_concurrent=1``.

    Args:
        participant: the agent.
    """

    def __init__(self, participant: Any) -> None:
        if not callable(getattr(participant, "get_next_message", None)):
            raise ConfigError(
                "a participant worker needs an async get_next_message(conversation); "
                f"got {participant!r}"
            )
        self.participant = participant
        self._conversations: dict[str, Conversation] = {}

    async def __call__(self, task: Task, feedback: Sequence[ReviewStageResult]) -> str:
        conversation = self._conversations.get(task.task_id)
        if conversation is None:
            text = requirement_text(task.requirement, feedback)
            at = datetime.now(UTC)
            conversation = Conversation(())
        else:
            text = _feedback_text(feedback)
            last = conversation.last_message
            at = (last.timestamp if last else datetime.now(UTC)) + timedelta(seconds=1)
        conversation = conversation.with_message(
            Message(content=text, timestamp=at, sender=ParticipantRole.CUSTOMER)
        )
        reply = await self.participant.get_next_message(conversation)
        if not isinstance(reply, Message) or not reply.content.strip():
            raise SimulationError(
                f"the worker agent gave no deliverable for task {task.task_id!r} "
                f"(it answered {reply!r}); it must reply with a non-empty message"
            )
        self._conversations[task.task_id] = conversation.with_message(reply)
        return reply.content

    def forget(self, task_id: str) -> None:
        """Drop the conversation kept for a finished task."""
        self._conversations.pop(task_id, None)


def _as_worker(worker: object) -> Worker:
    if callable(getattr(worker, "get_next_message", None)):
        return ParticipantWorker(worker)
    if callable(worker):
        return worker
    raise ConfigError(
        "worker must be an async callable worker(task, feedback) -> str or a "
        f"participant with async get_next_message(conversation); got {worker!r}"
    )


def _error_record(exc: BaseException, status: TaskStatus) -> TaskError:
    return TaskError.from_exception(exc, status)


@attrs.define
class _Slot:
    task: Task
    done: anyio.Event = attrs.field(factory=anyio.Event)


class InMemoryTaskEngine:
    """A reference task engine that runs a worker on each task in the background.

    Use it as an async context manager; leaving the block cancels unfinished work and
    marks those tasks CANCELLED (so every task ends in a legal, final state)::

        async with InMemoryTaskEngine(worker, review_pipeline=pipeline) as engine:
            task = await engine.create_task(requirement, source=TaskSource.CLIENT,
                                            project="default")
            done = await engine.wait_for(task.task_id, timeout=30)

    What the engine records on each task, in typed, read-only fields:

    - ``task.timings``: ``work_seconds`` and ``review_seconds`` (totals over every
      round) and ``stage_seconds`` (total per review stage).
    - ``task.rework_feedback``: the failed review results the worker was given last.
    - ``task.error``: a worker's or stage's exception that failed the task (its
      ``type``, ``message``, and the ``status`` it happened in); never lost.
    - ``task.reason``: why a task ended ``FAILED`` (its rework limit spent, or the
      exception) or ``CANCELLED`` (unfinished work when the engine closed).
    - ``task.metadata["review_pipeline"]``: the pipeline's progress, in the seed's
      shape.

    Example:
        >>> async def worker(task, feedback):
        ...     return f"Done: {task.requirement.title}"
        >>> engine = InMemoryTaskEngine(worker, rework_limit=2)

    Args:
        worker: an async callable ``worker(task, feedback) -> str`` or a
            participant-like object with ``async get_next_message(conversation)``.
        review_pipeline: reviews each deliverable; ``None`` completes on delivery.
        rework_limit: how many times review may send a task back before it fails.
        max_concurrent: how many tasks are worked on at once.
        assignee: the name recorded as the tasks' assignee.
        timeouts: ``timeouts.turn`` bounds each call of the worker (a task whose
            worker passes it FAILS with a ``TimeoutError``); a sync worker runs in
            a worker thread, abandoned past the limit.

    A :class:`~clientsim.errors.ConfigError` raised while working on a task cancels
    the task and propagates from leaving the ``async with`` block (or
    :meth:`aclose`); any other error fails the task and is recorded on it.

    Raises:
        ConfigError: a bad worker, pipeline, limit or concurrency.
    """

    def __init__(
        self,
        worker: Worker | Any,
        *,
        review_pipeline: ReviewPipeline | None = None,
        rework_limit: int = 3,
        max_concurrent: int = 8,
        assignee: str = "worker",
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> None:
        self.worker: Worker = _as_worker(worker)
        if not isinstance(timeouts, Timeouts):
            raise ConfigError(f"timeouts must be a Timeouts; got {timeouts!r}")
        self.timeouts = timeouts
        if review_pipeline is not None and not isinstance(
            review_pipeline, ReviewPipeline
        ):
            raise ConfigError(
                f"review_pipeline must be a ReviewPipeline or None; got {review_pipeline!r}"
            )
        check_int("rework_limit", rework_limit, low=0)
        check_int("max_concurrent", max_concurrent, low=1)
        if not isinstance(assignee, str) or not assignee.strip():
            raise ConfigError(f"assignee must be a non-blank string; got {assignee!r}")
        self.review_pipeline = review_pipeline
        self.rework_limit = rework_limit
        self.max_concurrent = max_concurrent
        self.assignee = assignee
        self._slots: dict[str, _Slot] = {}
        self._counter = 0
        self._group: anyio.abc.TaskGroup | None = None
        self._limiter = anyio.CapacityLimiter(max_concurrent)

    async def __aenter__(self) -> Self:
        if self._group is not None:
            raise SimulationError("this InMemoryTaskEngine is already running")
        group = anyio.create_task_group()
        await group.__aenter__()
        self._group = group
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        group, self._group = self._group, None
        if group is None:
            return
        group.cancel_scope.cancel()
        raised: BaseException | None = None
        try:
            # The background work raises nothing but a ConfigError (other failures
            # are recorded), which comes out as itself; otherwise the body's own
            # exception, if any, propagates unchanged.
            await group.__aexit__(None, None, None)
        except BaseExceptionGroup as caught:
            raised = unwrap(caught)
            if raised is caught:
                raise
        finally:
            self._cancel_unfinished("the task engine was closed before it finished")
        if raised is not None:
            raise raised

    async def aclose(self) -> None:
        """Stop: cancel unfinished work (those tasks end CANCELLED).

        Call it from the task that entered the engine, as ``async with`` does.
        """
        await self.__aexit__(None, None, None)

    # ----- the TaskEngine protocol ------------------------------------------------

    async def create_task(
        self,
        requirement: TaskRequirement,
        *,
        source: TaskSource = TaskSource.SIMULATION,
        project: str = "default",
        request_id: str | None = None,
    ) -> Task:
        """File a task and start working on it in the background.

        Raises:
            SimulationError: the engine is not running (use ``async with``).
            ConfigError: ``requirement`` is not a TaskRequirement, or a bad field.
        """
        if self._group is None:
            raise SimulationError(
                "InMemoryTaskEngine is not running; use `async with "
                "InMemoryTaskEngine(worker) as engine:` before creating tasks"
            )
        if not isinstance(requirement, TaskRequirement):
            raise ConfigError(
                f"requirement must be a TaskRequirement; got {requirement!r}"
            )
        self._counter += 1
        task = Task(
            task_id=f"task-{self._counter}",
            requirement=requirement,
            source=source,
            project=project,
            request_id=request_id,
        )
        self._slots[task.task_id] = _Slot(task)
        self._group.start_soon(self._drive, task.task_id, name=task.task_id)
        return task

    async def get_task(self, task_id: str) -> Task:
        """The task as it is now.

        Raises:
            ConfigError: no task has that id.
        """
        return self._slot(task_id).task

    async def wait_for(
        self,
        task_id: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - the brief's signature
    ) -> Task:
        """Wait until the task is COMPLETED, FAILED or CANCELLED.

        Raises:
            ConfigError: no task has that id.
            TimeoutError: it was not final within ``timeout`` seconds.
        """
        slot = self._slot(task_id)
        try:
            with anyio.fail_after(timeout):
                await slot.done.wait()
        except TimeoutError:
            raise TimeoutError(
                f"task {task_id!r} was not finished within {timeout} s; it is "
                f"{slot.task.status.value!r}"
            ) from None
        return slot.task

    def tasks(self) -> tuple[Task, ...]:
        """Every task, in the order they were created."""
        return tuple(slot.task for slot in self._slots.values())

    def prune(self) -> int:
        """Forget every final task (COMPLETED, FAILED or CANCELLED), so that a
        long-running engine holds only the tasks in flight; returns how many.
        A forgotten id is unknown to :meth:`get_task` and :meth:`wait_for`."""
        final = [key for key, slot in self._slots.items() if slot.task.is_final]
        for key in final:
            del self._slots[key]
        return len(final)

    # ----- internals ---------------------------------------------------------------

    def _slot(self, task_id: str) -> _Slot:
        slot = self._slots.get(task_id)
        if slot is None:
            known = ", ".join(repr(t) for t in list(self._slots)[:10]) or "(none)"
            raise ConfigError(f"no task with id {task_id!r}; known ids: {known}")
        return slot

    def _set(self, task: Task) -> Task:
        slot = self._slots[task.task_id]
        slot.task = task
        if task.is_final:
            slot.done.set()
            if isinstance(self.worker, ParticipantWorker):
                self.worker.forget(task.task_id)
        return task

    def _move(self, task_id: str, target: TaskStatus, **changes: Any) -> Task:
        return self._set(self._slots[task_id].task.transition(target, **changes))

    def _cancel_unfinished(self, reason: str) -> None:
        for slot in self._slots.values():
            if not slot.task.is_final:
                task = slot.task
                self._set(task.transition(TaskStatus.CANCELLED, reason=reason))

    async def _drive(self, task_id: str) -> None:
        try:
            async with self._limiter:
                await self._work(task_id)
        except ConfigError:  # the setup is wrong: the task stops, the error goes up
            self._cancel_unfinished_one(task_id)
            raise
        except Exception as exc:  # noqa: BLE001 - recorded on the task, never lost
            task = self._slots[task_id].task
            if not task.is_final:
                legal = TASK_TRANSITIONS[task.status]
                self._set(
                    task.transition(
                        TaskStatus.FAILED
                        if TaskStatus.FAILED in legal
                        else TaskStatus.CANCELLED,
                        error=_error_record(exc, task.status),
                        reason=f"{type(exc).__name__}: {exc}",
                    )
                )
        except anyio.get_cancelled_exc_class():
            self._cancel_unfinished_one(task_id)
            raise

    def _cancel_unfinished_one(self, task_id: str) -> None:
        task = self._slots[task_id].task
        if not task.is_final:
            self._set(
                task.transition(TaskStatus.CANCELLED, reason="work was cancelled")
            )

    async def _work(self, task_id: str) -> None:
        self._move(task_id, TaskStatus.ASSIGNED, assignee=self.assignee)
        task = self._move(task_id, TaskStatus.IN_PROGRESS)
        feedback: tuple[ReviewStageResult, ...] = ()
        timings = _Timings()
        while True:
            started = anyio.current_time()
            answer = await self._call_worker(task, feedback)
            timings.work_seconds += anyio.current_time() - started
            if not isinstance(answer, str) or not answer.strip():
                raise SimulationError(
                    f"the worker must return the deliverable as a non-empty string; "
                    f"got {answer!r} for task {task_id!r}"
                )
            task = self._move(
                task_id,
                TaskStatus.IN_REVIEW,
                deliverable=answer,
                timings=timings.value(),
            )
            if self.review_pipeline is None:
                self._move(task_id, TaskStatus.COMPLETED)
                return
            outcome = await self.review_pipeline.review(task)
            timings.add_review(outcome.durations)
            task = self._set(attrs.evolve(outcome.task, timings=timings.value()))
            if outcome.verdict is ReviewVerdict.PASS:
                self._move(task_id, TaskStatus.COMPLETED)
                return
            feedback = outcome.failures
            if task.rework_count >= self.rework_limit:
                reasons = "; ".join(r.reason or r.stage for r in feedback)
                self._move(
                    task_id,
                    TaskStatus.FAILED,
                    reason=(
                        f"rework limit of {self.rework_limit} reached; last "
                        f"review: {reasons}"
                    ),
                )
                return
            task = self._move(
                task_id,
                TaskStatus.IN_PROGRESS,
                rework_count=task.rework_count + 1,
                rework_feedback=feedback,
            )

    async def _call_worker(
        self, task: Task, feedback: tuple[ReviewStageResult, ...]
    ) -> object:
        """The worker's answer, within ``timeouts.turn`` (a sync worker runs in a
        worker thread, abandoned past it)."""
        limit = self.timeouts.turn
        try:
            with anyio.fail_after(limit):
                if _is_async(self.worker):
                    answer: object = self.worker(task, feedback)
                else:
                    answer = await run_sync(
                        self.worker, task, feedback, name=f"worker of {task.task_id}"
                    )
                if inspect.isawaitable(answer):
                    answer = await answer
                return answer
        except TimeoutError:
            raise TimeoutError(
                f"the worker took longer than {limit:g}s on task {task.task_id!r} "
                "(timeouts.turn); its call was abandoned"
            ) from None


def _is_async(worker: object) -> bool:
    return inspect.iscoroutinefunction(worker) or inspect.iscoroutinefunction(
        getattr(worker, "__call__", None)  # noqa: B004 - an object's async __call__
    )


@attrs.define
class _Timings:
    work_seconds: float = 0.0
    review_seconds: float = 0.0
    stage_seconds: dict[str, float] = attrs.field(factory=dict)

    def add_review(self, durations: Mapping[str, float]) -> None:
        for stage, seconds in durations.items():
            self.review_seconds += seconds
            self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + seconds

    def value(self) -> TaskTimings:
        return TaskTimings(
            work_seconds=self.work_seconds,
            review_seconds=self.review_seconds,
            stage_seconds=self.stage_seconds,
        )
