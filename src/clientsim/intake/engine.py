"""The intake engine (seed 000): walks client requests from SUBMITTED to a task.

Requests go SUBMITTED -> TRIAGING -> SCOPING -> APPROVED -> TASK_CREATED, or to
CANCELLED with a reason. :meth:`IntakeEngine.submit` runs the whole walk through an
:class:`~clientsim.intake.IntakeStrategy`; the manual flow of the seed's real
work-entry path is :meth:`~IntakeEngine.file`, :meth:`~IntakeEngine.scope` and
:meth:`~IntakeEngine.approve`, whose terminal state lands in the background.
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import anyio
import anyio.abc
import attrs

from clientsim import events
from clientsim._runtime import run_sync, unwrap
from clientsim.errors import ConfigError, IllegalTransitionError, SimulationError
from clientsim.intake.base import IntakeDecision, IntakeStrategy
from clientsim.models.client import (
    ClientRequest,
    RequestStatus,
    TaskRequirement,
    TaskSource,
)
from clientsim.models.timeouts import DEFAULT_TIMEOUTS, Timeouts
from clientsim.tasks.engine import TaskEngine


__all__ = ["IntakeEngine", "fold_scoping_notes"]

R = RequestStatus
_SCOPABLE = (R.SUBMITTED, R.TRIAGING, R.SCOPING)


def fold_scoping_notes(requirement: TaskRequirement, notes: str) -> TaskRequirement:
    """``requirement`` with ``notes`` appended to its description under a
    ``Scoping notes:`` heading (unchanged when there are no notes).

    Example:
        >>> from clientsim import TaskRequirement
        >>> from clientsim.intake import fold_scoping_notes
        >>> requirement = TaskRequirement(title="Export", description="Export orders as CSV")
        >>> print(fold_scoping_notes(requirement, "Only the REST API").description)
        Export orders as CSV
        <BLANKLINE>
        Scoping notes:
        Only the REST API
    """
    if not notes.strip():
        return requirement
    return attrs.evolve(
        requirement,
        description=f"{requirement.description}\n\nScoping notes:\n{notes.strip()}",
    )


def _merge(existing: str, notes: str) -> str:
    notes = notes.strip()
    if not notes:
        return existing
    return f"{existing}\n{notes}" if existing else notes


def _now() -> datetime:
    return datetime.now(UTC)


@attrs.define
class _Entry:
    request: ClientRequest
    done: anyio.Event = attrs.field(factory=anyio.Event)
    lock: anyio.Lock = attrs.field(factory=anyio.Lock)


class IntakeEngine:
    """Manages client requests from SUBMITTED through TASK_CREATED (or CANCELLED).

    :meth:`submit` runs in the caller's task and works without ``async with``;
    :meth:`approve` finishes in the background, in a task group the engine owns, so
    it needs ``async with IntakeEngine(...)``. Leaving the block cancels what is
    still in flight: an approved request still waiting for its task ends CANCELLED,
    so every request is left in a legal state.

    Example:
        >>> import anyio
        >>> from clientsim import (DirectIntake, InMemoryTaskEngine, IntakeEngine,
        ...     TaskRequirement)
        >>> async def worker(task, feedback):
        ...     return f"Done: {task.requirement.title}"
        >>> async def main():
        ...     requirement = TaskRequirement(title="Export", description="Orders as CSV")
        ...     async with (
        ...         InMemoryTaskEngine(worker) as task_engine,
        ...         IntakeEngine(DirectIntake(), task_engine) as intake,
        ...     ):
        ...         request = await intake.submit("c-1", requirement)
        ...         return request.status
        >>> anyio.run(main)
        <RequestStatus.TASK_CREATED: 'task_created'>

    Args:
        strategy: triages, scopes and approves requests (``DirectIntake``,
            ``AgentIntake`` or your own).
        task_engine: where approved requests become tasks.
        default_project: the project tasks are filed into.
        source: the ``TaskSource`` stamped on the tasks (``CLIENT`` for real clients,
            ``SIMULATION`` for a simulation runner).
        timeouts: ``timeouts.turn`` bounds the strategy's decision and the task's
            creation (a request that passes it ends CANCELLED, saying so). A sync
            ``process`` runs in a worker thread, abandoned past the limit.

    A :class:`~clientsim.errors.ConfigError` (a strategy that returns something other
    than an :class:`~clientsim.intake.IntakeDecision`, a misconfigured model) cancels
    the request and then propagates, from :meth:`submit` or, for the background work
    of :meth:`approve`, from leaving the ``async with`` block; any other error cancels
    the request with the error as its reason.

    Raises:
        ConfigError: a strategy without ``process``, a task engine without
            ``create_task``, or a blank project.
    """

    def __init__(
        self,
        strategy: IntakeStrategy,
        task_engine: TaskEngine,
        *,
        default_project: str = "default",
        source: TaskSource = TaskSource.CLIENT,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> None:
        if not callable(getattr(strategy, "process", None)):
            raise ConfigError(
                "strategy must be an IntakeStrategy with async process(request); "
                f"got {strategy!r}"
            )
        if not callable(getattr(task_engine, "create_task", None)):
            raise ConfigError(
                "task_engine must be a TaskEngine with async create_task(...); "
                f"got {task_engine!r}"
            )
        if not isinstance(default_project, str) or not default_project.strip():
            raise ConfigError(
                f"default_project must be a non-blank string; got {default_project!r}"
            )
        if not isinstance(source, TaskSource):
            raise ConfigError(
                f"source must be a TaskSource ({', '.join(s.value for s in TaskSource)}); "
                f"got {source!r}"
            )
        if not isinstance(timeouts, Timeouts):
            raise ConfigError(f"timeouts must be a Timeouts; got {timeouts!r}")
        self.strategy = strategy
        self.task_engine = task_engine
        self.timeouts = timeouts
        self.default_project = default_project
        self.source = source
        self._entries: dict[str, _Entry] = {}
        self._counter = 0
        self._group: anyio.abc.TaskGroup | None = None

    @property
    def strategy_name(self) -> str:
        """The strategy's ``name`` (or its class name)."""
        name = getattr(self.strategy, "name", None)
        return name if isinstance(name, str) else type(self.strategy).__name__

    async def __aenter__(self) -> Self:
        if self._group is not None:
            raise SimulationError("this IntakeEngine is already running")
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
            for entry in self._entries.values():
                if entry.request.status is R.APPROVED:
                    self._cancel(
                        entry,
                        "the intake engine closed before the task was created",
                    )
        if raised is not None:
            raise raised

    async def aclose(self) -> None:
        """Stop: approved requests still waiting for their task end CANCELLED.

        Call it from the task that entered the engine, as ``async with`` does.
        """
        await self.__aexit__(None, None, None)

    # ----- reading -----------------------------------------------------------------

    def get(self, request_id: str) -> ClientRequest:
        """The request as it is now.

        Raises:
            ConfigError: no request has that id.
        """
        return self._entry(request_id).request

    def requests(self) -> tuple[ClientRequest, ...]:
        """Every request, in the order they were filed."""
        return tuple(entry.request for entry in self._entries.values())

    def prune(self) -> int:
        """Forget every final request (TASK_CREATED or CANCELLED), so that a
        long-running engine holds only the requests in flight; returns how many.
        A forgotten id is unknown to :meth:`get` and :meth:`wait` afterwards."""
        final = [key for key, entry in self._entries.items() if entry.request.is_final]
        for key in final:
            del self._entries[key]
        return len(final)

    async def wait(
        self,
        request_id: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - the brief's signature
    ) -> ClientRequest:
        """Wait until the request is TASK_CREATED or CANCELLED.

        Raises:
            ConfigError: no request has that id.
            TimeoutError: it was not final within ``timeout`` seconds.
        """
        entry = self._entry(request_id)
        try:
            with anyio.fail_after(timeout):
                await entry.done.wait()
        except TimeoutError:
            raise TimeoutError(
                f"request {request_id!r} was not final within {timeout} s; it is "
                f"{entry.request.status.value!r}"
            ) from None
        return entry.request

    # ----- the automatic flow --------------------------------------------------------

    async def submit(
        self,
        client_id: str,
        requirement: TaskRequirement,
        *,
        request_id: str | None = None,
    ) -> ClientRequest:
        """File a request and walk it through the strategy to a task (or CANCELLED).

        A strategy or task engine error does not escape: the request is cancelled
        with the error as its reason. Cancelling the call cancels the request.

        Raises:
            ConfigError: a bad argument, or a request id already in use.
        """
        entry = self._new(client_id, requirement, request_id)
        async with entry.lock:
            await self._process(entry)
        return entry.request

    async def _process(self, entry: _Entry) -> None:
        try:
            self._triage(entry)
            decision = self._checked(await self._decide(entry.request))
            if not decision.approve:
                self._cancel(entry, decision.reason or "rejected by intake")
                return
            self._to_scoping(entry, decision.scoping_notes)
            self._approve(entry)
        except anyio.get_cancelled_exc_class():
            self._cancel(entry, "intake was cancelled")
            raise
        except ConfigError as exc:  # the setup is wrong: say so to the caller
            self._cancel(entry, f"intake failed: {type(exc).__name__}: {exc}")
            raise
        except Exception as exc:  # noqa: BLE001 - kept as the cancelled request's reason
            self._cancel(entry, f"intake failed: {type(exc).__name__}: {exc}")
            return
        await self._create_task(entry)

    async def _decide(self, request: ClientRequest) -> object:
        """The strategy's decision, within ``timeouts.turn`` (a sync ``process`` in a
        worker thread, abandoned past it)."""
        limit = self.timeouts.turn
        try:
            with anyio.fail_after(limit):
                process = self.strategy.process
                if inspect.iscoroutinefunction(process):
                    return await process(request)
                answer: object = await run_sync(
                    process, request, name=f"intake strategy {self.strategy_name!r}"
                )
                if inspect.isawaitable(answer):
                    answer = await answer
                return answer
        except TimeoutError:
            raise TimeoutError(
                f"intake strategy {self.strategy_name!r} took longer than {limit:g}s "
                "to decide (timeouts.turn)"
            ) from None

    def _checked(self, decision: object) -> IntakeDecision:
        if not isinstance(decision, IntakeDecision):
            raise ConfigError(
                f"intake strategy {self.strategy_name!r} must return an "
                f"IntakeDecision; got {decision!r}"
            )
        return decision

    # ----- the manual flow (the seed's real work-entry path) --------------------------

    async def file(
        self,
        client_id: str,
        requirement: TaskRequirement,
        *,
        request_id: str | None = None,
    ) -> ClientRequest:
        """File a request and leave it SUBMITTED for :meth:`scope` / :meth:`approve`.

        Raises:
            ConfigError: a bad argument, or a request id already in use.
        """
        return self._new(client_id, requirement, request_id).request

    async def scope(self, request_id: str, notes: str) -> ClientRequest:
        """Add a reviewer's scoping notes, moving the request to SCOPING.

        The notes are kept on the request and folded into the task's description when
        it is created.

        Raises:
            ConfigError: no such request, or ``notes`` is not a string.
            IllegalTransitionError: the request is past scoping.
        """
        if not isinstance(notes, str):
            raise ConfigError(f"notes must be a string; got {notes!r}")
        entry = self._entry(request_id)
        async with entry.lock:
            self._check_scopable(entry, "scoped")
            if entry.request.status is not R.SCOPING:
                if entry.request.status is R.SUBMITTED:
                    self._triage(entry)
                self._to_scoping(entry, notes)
            else:
                entry.request = attrs.evolve(
                    entry.request,
                    scoping_notes=_merge(entry.request.scoping_notes, notes),
                    updated_at=_now(),
                )
                events.emit(
                    events.REQUEST_SCOPED, request_id=request_id, notes=notes.strip()
                )
            return entry.request

    async def approve(self, request_id: str) -> ClientRequest:
        """Approve a request: returns it APPROVED at once; the task is created in the
        background.

        The terminal state (TASK_CREATED, or CANCELLED if the task could not be
        created) is observable through :meth:`wait`, :meth:`get` and the
        ``REQUEST_TASK_CREATED`` / ``REQUEST_REJECTED`` events.

        Raises:
            SimulationError: the engine is not running (use ``async with``).
            ConfigError: no such request.
            IllegalTransitionError: the request is already approved or final.
        """
        if self._group is None:
            raise SimulationError(
                "approve() needs a running IntakeEngine to create the task in the "
                "background; use `async with IntakeEngine(...) as intake:`"
            )
        entry = self._entry(request_id)
        async with entry.lock:
            self._check_scopable(entry, "approved")
            if entry.request.status is R.SUBMITTED:
                self._triage(entry)
            if entry.request.status is R.TRIAGING:
                self._to_scoping(entry, "")
            self._approve(entry)
            approved = entry.request
        self._group.start_soon(self._finish, entry, name=f"intake:{request_id}")
        return approved

    async def reject(self, request_id: str, reason: str) -> ClientRequest:
        """Cancel a request that is not final yet, with ``reason``.

        Raises:
            ConfigError: no such request, or a blank reason.
            IllegalTransitionError: the request is already final.
        """
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(f"reason must be a non-blank string; got {reason!r}")
        entry = self._entry(request_id)
        async with entry.lock:
            if entry.request.is_final:
                entry.request.transition(R.CANCELLED)  # raises, naming the status
            self._cancel(entry, reason)
            return entry.request

    async def _finish(self, entry: _Entry) -> None:
        try:
            async with entry.lock:
                if entry.request.status is R.APPROVED:
                    await self._create_task(entry)
        except anyio.get_cancelled_exc_class():
            if entry.request.status is R.APPROVED:
                self._cancel(
                    entry, "the intake engine closed before the task was created"
                )
            raise

    # ----- steps ---------------------------------------------------------------------

    def _new(
        self, client_id: str, requirement: TaskRequirement, request_id: str | None
    ) -> _Entry:
        if not isinstance(requirement, TaskRequirement):
            raise ConfigError(
                f"requirement must be a TaskRequirement; got {requirement!r}"
            )
        if request_id is None:
            self._counter += 1
            request_id = f"request-{self._counter}"
            while request_id in self._entries:
                self._counter += 1
                request_id = f"request-{self._counter}"
        elif request_id in self._entries:
            raise ConfigError(
                f"request id {request_id!r} is already in use; give each request a "
                "unique id or leave it out"
            )
        now = _now()
        request = ClientRequest(
            request_id=request_id,
            client_id=client_id,
            requirement=requirement,
            created_at=now,
            updated_at=now,
        )
        entry = _Entry(request)
        self._entries[request_id] = entry
        events.emit(
            events.REQUEST_SUBMITTED, request_id=request_id, client_id=client_id
        )
        events.emit(
            events.INTAKE_RECEIVED, request_id=request_id, strategy=self.strategy_name
        )
        return entry

    def _entry(self, request_id: str) -> _Entry:
        entry = self._entries.get(request_id)
        if entry is None:
            known = ", ".join(repr(r) for r in list(self._entries)[:10]) or "(none)"
            raise ConfigError(f"no request with id {request_id!r}; known ids: {known}")
        return entry

    def _set(self, entry: _Entry, request: ClientRequest) -> None:
        entry.request = request
        if request.is_final:
            entry.done.set()

    def _move(self, entry: _Entry, target: RequestStatus, **changes: Any) -> None:
        self._set(entry, entry.request.transition(target, at=_now(), **changes))

    def _check_scopable(self, entry: _Entry, verb: str) -> None:
        status = entry.request.status
        if status not in _SCOPABLE:
            allowed = ", ".join(repr(s.value) for s in _SCOPABLE)
            raise IllegalTransitionError(
                f"request {entry.request.request_id!r} is {status.value!r} and can no "
                f"longer be {verb}; only a request that is {allowed} can be"
            )

    def _triage(self, entry: _Entry) -> None:
        self._move(entry, R.TRIAGING)
        events.emit(events.REQUEST_TRIAGING, request_id=entry.request.request_id)

    def _to_scoping(self, entry: _Entry, notes: str) -> None:
        merged = _merge(entry.request.scoping_notes, notes)
        self._move(entry, R.SCOPING, scoping_notes=merged)
        events.emit(
            events.REQUEST_SCOPED,
            request_id=entry.request.request_id,
            notes=notes.strip(),
        )

    def _approve(self, entry: _Entry) -> None:
        self._move(entry, R.APPROVED)
        events.emit(events.REQUEST_APPROVED, request_id=entry.request.request_id)

    def _cancel(self, entry: _Entry, reason: str) -> None:
        if entry.request.is_final:
            return
        where = entry.request.status.value
        self._move(entry, R.CANCELLED, reason=reason)
        request_id = entry.request.request_id
        events.emit(
            events.REQUEST_REJECTED, request_id=request_id, reason=reason, status=where
        )
        events.emit(events.INTAKE_REJECTED, request_id=request_id, reason=reason)

    async def _create_task(self, entry: _Entry) -> None:
        request = entry.request
        requirement = fold_scoping_notes(request.requirement, request.scoping_notes)
        # Shielded, so that a task the engine created is always recorded on its
        # request, but bounded, so that closing the engine never hangs on it.
        limit = self.timeouts.turn
        with anyio.CancelScope(shield=True):
            try:
                with anyio.fail_after(limit):
                    task = await self.task_engine.create_task(
                        requirement,
                        source=self.source,
                        project=self.default_project,
                        request_id=request.request_id,
                    )
            except TimeoutError:
                self._cancel(
                    entry,
                    f"the task could not be created: the task engine took longer "
                    f"than {limit:g}s (timeouts.turn)",
                )
                return
            except ConfigError as exc:
                self._cancel(
                    entry, f"the task could not be created: {type(exc).__name__}: {exc}"
                )
                raise
            except Exception as exc:  # noqa: BLE001 - kept as the request's reason
                self._cancel(
                    entry, f"the task could not be created: {type(exc).__name__}: {exc}"
                )
                return
            self._move(entry, R.TASK_CREATED, task_id=task.task_id)
        events.emit(
            events.REQUEST_TASK_CREATED,
            request_id=request.request_id,
            task_id=task.task_id,
        )
        events.emit(
            events.INTAKE_ACCEPTED, request_id=request.request_id, task_id=task.task_id
        )
