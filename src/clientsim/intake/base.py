"""The intake contracts (seed 000) and the values they pass around.

Three families meet at intake, each a :class:`typing.Protocol` so that implementers
need not subclass anything:

- :class:`IntakeStrategy` decides whether a client request becomes a task
  (:class:`IntakeDecision`); built-ins in :mod:`clientsim.intake.strategies`.
- :class:`EntryPointStrategy` is how a simulated client's requirement enters the
  organisation (straight to the task engine, into a project, or through intake).
- :class:`WorkEntryAdapter` is a real work-entry path: it turns what arrives through it
  into a :class:`WorkItem` and drives a :class:`WorkPipeline` with it. Built-ins of both
  are in :mod:`clientsim.intake.entry`.

Each is ``runtime_checkable`` because :mod:`clientsim.factory` checks what a plugin's
factory returns against it.
"""

from __future__ import annotations

import enum
import uuid
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs

from clientsim.models.client import ClientRequest, Task, TaskRequirement


if TYPE_CHECKING:
    from clientsim.intake.engine import IntakeEngine

__all__ = [
    "EntryPointStrategy",
    "IntakeDecision",
    "IntakeStrategy",
    "WorkEntryAdapter",
    "WorkItem",
    "WorkPipeline",
    "WorkSource",
]


@attrs.frozen(kw_only=True)
class IntakeDecision:
    """What an intake strategy decided about a request.

    Attributes:
        approve: ``True`` to create a task, ``False`` to cancel the request.
        reason: why (kept on a cancelled request).
        scoping_notes: notes for whoever does the work; folded into the task.

    Example:
        >>> IntakeDecision(approve=False, reason="Out of scope").approve
        False
    """

    approve: bool = attrs.field(validator=attrs.validators.instance_of(bool))
    reason: str = attrs.field(default="", validator=attrs.validators.instance_of(str))
    scoping_notes: str = attrs.field(
        default="", validator=attrs.validators.instance_of(str)
    )


@runtime_checkable
class IntakeStrategy(Protocol):
    """Triages, scopes and approves (or rejects) a client request.

    Example:
        >>> class ApproveAll:
        ...     async def process(self, request):
        ...         return IntakeDecision(approve=True, reason="fine")
        >>> isinstance(ApproveAll(), IntakeStrategy)
        True
    """

    async def process(self, request: ClientRequest) -> IntakeDecision:
        """The decision on ``request`` (which is in ``TRIAGING``)."""
        ...


@runtime_checkable
class EntryPointStrategy(Protocol):
    """How a client's requirement enters: returns the request and/or the task."""

    async def enter(
        self, client_id: str, requirement: TaskRequirement, *, intake: IntakeEngine
    ) -> tuple[ClientRequest | None, Task | None]:
        """File ``requirement`` for ``client_id``.

        Args:
            client_id: the client filing it.
            requirement: the work.
            intake: the intake engine (its task engine and default project too).

        Returns:
            The request filed (``None`` when intake is bypassed) and the task created
            (``None`` when none was, e.g. a declined request).
        """
        ...


class WorkSource(enum.Enum):
    """Which work-entry path an item came through."""

    INTAKE = "intake"
    TASK_BOARD = "task_board"


@attrs.frozen(kw_only=True)
class WorkItem:
    """A piece of work handed to the work pipeline.

    Attributes:
        requirement: what is to be done (for intake: scoping notes folded into the
            description, the item's intent body).
        project: the project it goes to.
        source: which entry path it came through.
        request_id: the client request, for intake items.
        correlation_id: ties the item to its submission.
    """

    requirement: TaskRequirement
    project: str
    source: WorkSource
    request_id: str | None = None
    correlation_id: str = attrs.field(factory=lambda: uuid.uuid4().hex)


@runtime_checkable
class WorkPipeline(Protocol):
    """The organisation's spine: turns a work item into a task."""

    async def run(self, item: WorkItem) -> Task:
        """Create (and start) the task for ``item``."""
        ...


@runtime_checkable
class WorkEntryAdapter(Protocol):
    """A real work-entry path: what arrives through it becomes a :class:`WorkItem`
    that drives :attr:`work_pipeline`.

    Each path has its own way in, shaped by what arrives through it (an approved
    request for :class:`~clientsim.intake.IntakeEntryAdapter`'s ``enter``, a board
    filing for :class:`~clientsim.intake.TaskBoardEntryAdapter`'s ``submit``); what
    every path shares, and what the factory checks, is below.

    Example:
        >>> class Inbox:
        ...     source = WorkSource.TASK_BOARD
        ...     def __init__(self, *, work_pipeline, default_project):
        ...         self.work_pipeline = work_pipeline
        ...         self.default_project = default_project
        >>> isinstance(Inbox(work_pipeline=None, default_project="p"), WorkEntryAdapter)
        True
    """

    @property
    def source(self) -> WorkSource:
        """The path, as stamped on every work item it makes."""
        ...

    @property
    def work_pipeline(self) -> WorkPipeline:
        """The spine the work items are driven through."""
        ...

    @property
    def default_project(self) -> str:
        """The project a work item goes to when nothing names one."""
        ...
