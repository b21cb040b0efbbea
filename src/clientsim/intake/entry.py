"""How work enters the organisation under test (seed 000's adapters).

Two families, as in the seed's factory table:

- entry point strategies (``build_entry_point_strategy(adapter, *, project_id=None)``):
  how a simulated client's requirement enters: ``direct`` files a task straight into
  the task engine, ``project`` files it into one given project, ``intake`` walks it
  through the :class:`~clientsim.intake.IntakeEngine` first;
- work-entry adapters (``build_work_entry_adapter(source, *, work_pipeline,
  default_project)``): the real work-entry paths. ``intake`` maps an approved
  :class:`~clientsim.models.client.ClientRequest` onto a :class:`WorkItem` (reviewer
  scoping notes folded into its body) and drives the work pipeline; ``task_board``
  turns a board filing (title, description, project) into a work item and drives the
  same pipeline.

The work pipeline is the system under test's spine: anything with
``async run(item: WorkItem) -> Task``. :class:`TaskEngineWorkPipeline` is the one
over a :class:`~clientsim.tasks.TaskEngine`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import attrs

from clientsim.errors import ConfigError
from clientsim.intake.base import WorkItem, WorkPipeline, WorkSource
from clientsim.models.client import (
    ClientRequest,
    RequestStatus,
    Task,
    TaskRequirement,
    TaskSource,
)


if TYPE_CHECKING:
    from clientsim.intake.engine import IntakeEngine
    from clientsim.tasks.engine import TaskEngine

__all__ = [
    "ENTRY_POINTS",
    "WORK_ENTRY_ADAPTERS",
    "DirectAdapter",
    "IntakeAdapter",
    "IntakeEntryAdapter",
    "ProjectAdapter",
    "TaskBoardEntryAdapter",
    "TaskBoardSubmission",
    "TaskEngineWorkPipeline",
]


class TaskEngineWorkPipeline:
    """A work pipeline over a task engine: one task per work item.

    Args:
        task_engine: any :class:`~clientsim.tasks.TaskEngine`.
    """

    def __init__(self, task_engine: TaskEngine) -> None:
        if not callable(getattr(task_engine, "create_task", None)):
            raise ConfigError(
                "task_engine must be a TaskEngine with async create_task(...); got "
                f"{type(task_engine).__name__}"
            )
        self.task_engine = task_engine

    async def run(self, item: WorkItem) -> Task:
        """File the task for ``item``."""
        source = (
            TaskSource.CLIENT
            if item.source is WorkSource.INTAKE
            else TaskSource.INTERNAL
        )
        task: Task = await self.task_engine.create_task(
            item.requirement,
            source=source,
            project=item.project,
            request_id=item.request_id,
        )
        return task


def _check_pipeline(work_pipeline: object) -> None:
    if not isinstance(work_pipeline, WorkPipeline):
        raise ConfigError(
            "work_pipeline must have async run(item) -> Task (e.g. "
            f"TaskEngineWorkPipeline(task_engine)); got {type(work_pipeline).__name__}"
        )


def _check_project(name: str, value: object, *, optional: bool) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{name} must be a non-blank project name; got {value!r}")


class IntakeEntryAdapter:
    """The intake work-entry path: an approved request becomes a work item.

    Args:
        work_pipeline: the spine the item is driven through.
        default_project: the project stamped on the work item.
    """

    source: Final = WorkSource.INTAKE

    def __init__(self, *, work_pipeline: WorkPipeline, default_project: str) -> None:
        _check_pipeline(work_pipeline)
        _check_project("default_project", default_project, optional=False)
        self.work_pipeline = work_pipeline
        self.default_project = default_project

    def work_item(self, request: ClientRequest) -> WorkItem:
        """The work item for ``request``, scoping notes folded into its body."""
        from clientsim.intake.engine import fold_scoping_notes  # noqa: PLC0415

        return WorkItem(
            requirement=fold_scoping_notes(request.requirement, request.scoping_notes),
            project=self.default_project,
            source=WorkSource.INTAKE,
            request_id=request.request_id,
        )

    async def enter(self, request: ClientRequest) -> Task:
        """Drive an APPROVED ``request`` through the pipeline; returns the task.

        Raises:
            ConfigError: the request is not APPROVED.
        """
        if request.status is not RequestStatus.APPROVED:
            raise ConfigError(
                f"only an approved request enters work; request {request.request_id!r} "
                f"is {request.status.value!r}"
            )
        task: Task = await self.work_pipeline.run(self.work_item(request))
        return task


@attrs.frozen(kw_only=True)
class TaskBoardSubmission:
    """What a board filing returns: its correlation id, an echo, and the task."""

    correlation_id: str
    title: str
    description: str
    project: str
    task: Task


class TaskBoardEntryAdapter:
    """The task-board work-entry path: a board filing becomes a work item.

    Args:
        work_pipeline: the spine the item is driven through.
        default_project: the project used when a filing names none.
    """

    source: Final = WorkSource.TASK_BOARD

    def __init__(self, *, work_pipeline: WorkPipeline, default_project: str) -> None:
        _check_pipeline(work_pipeline)
        _check_project("default_project", default_project, optional=False)
        self.work_pipeline = work_pipeline
        self.default_project = default_project

    async def submit(
        self, title: str, description: str, *, project: str | None = None
    ) -> TaskBoardSubmission:
        """File ``title``/``description`` on the board; returns the submission.

        Raises:
            ConfigError: a blank title or description, or a blank project.
        """
        _check_project("project", project, optional=True)
        requirement = TaskRequirement(title=title, description=description)
        item = WorkItem(
            requirement=requirement,
            project=project or self.default_project,
            source=WorkSource.TASK_BOARD,
        )
        task: Task = await self.work_pipeline.run(item)
        return TaskBoardSubmission(
            correlation_id=item.correlation_id,
            title=title,
            description=description,
            project=item.project,
            task=task,
        )


class DirectAdapter:
    """Files the task straight into the task engine, bypassing intake.

    Args:
        project_id: the project (default: the intake engine's default project).
    """

    def __init__(self, *, project_id: str | None = None) -> None:
        _check_project("project_id", project_id, optional=True)
        self.project_id = project_id

    async def enter(
        self, client_id: str, requirement: TaskRequirement, *, intake: IntakeEngine
    ) -> tuple[ClientRequest | None, Task | None]:
        """Create the task; no request is filed."""
        del client_id  # a direct filing has no request to attribute
        task: Task = await intake.task_engine.create_task(
            requirement,
            source=TaskSource.CLIENT,
            project=self.project_id or intake.default_project,
        )
        return None, task


class ProjectAdapter(DirectAdapter):
    """Files the task straight into one given project.

    Raises:
        ConfigError: no ``project_id``.
    """

    def __init__(self, *, project_id: str | None = None) -> None:
        if project_id is None:
            raise ConfigError(
                "the 'project' entry point needs a project_id: "
                "build_entry_point_strategy('project', project_id='billing')"
            )
        super().__init__(project_id=project_id)


class IntakeAdapter:
    """Walks the requirement through the intake engine (triage, scoping, approval).

    Args:
        project_id: must be ``None`` or the intake engine's project (intake files
            into its own default project).
    """

    def __init__(self, *, project_id: str | None = None) -> None:
        _check_project("project_id", project_id, optional=True)
        self.project_id = project_id

    async def enter(
        self, client_id: str, requirement: TaskRequirement, *, intake: IntakeEngine
    ) -> tuple[ClientRequest | None, Task | None]:
        """Submit through intake; the task, if one was created."""
        if self.project_id is not None and self.project_id != intake.default_project:
            raise ConfigError(
                f"the intake entry point files into the intake engine's project "
                f"{intake.default_project!r}, not {self.project_id!r}"
            )
        request: ClientRequest = await intake.submit(client_id, requirement)
        task = None
        if request.task_id is not None:
            task = await intake.task_engine.get_task(request.task_id)
        return request, task


ENTRY_POINTS: Final[dict[str, type[DirectAdapter | IntakeAdapter]]] = {
    "direct": DirectAdapter,
    "project": ProjectAdapter,
    "intake": IntakeAdapter,
}
"""The seed's entry point strategies by adapter name."""

WORK_ENTRY_ADAPTERS: Final[
    dict[str, type[IntakeEntryAdapter | TaskBoardEntryAdapter]]
] = {
    "intake": IntakeEntryAdapter,
    "task_board": TaskBoardEntryAdapter,
}
"""The seed's work-entry adapters by ``WorkSource`` value."""
