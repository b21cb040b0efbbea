"""Client simulation values (seed 000): clients, requirements, requests, feedback,
review verdicts and tasks, with the request and task lifecycles (what a client is
given to work from is in :mod:`clientsim.models.contexts`).

Pure data: no I/O, no LangChain. Lifecycles are enforced by :meth:`ClientRequest.
transition` and :meth:`Task.transition`, which return a new value or raise
:class:`~clientsim.errors.IllegalTransitionError` naming the current state and the legal
next ones.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

import attrs

from clientsim._validators import a_number, an_int, items_of, typed
from clientsim.config.converter import OMIT_IF_DEFAULT
from clientsim.errors import ConfigError, IllegalTransitionError
from clientsim.models.frozen import FrozenDict, freeze_mapping
from clientsim.models.timestamps import timestamp_field_or_none


__all__ = [
    "REQUEST_TRANSITIONS",
    "TASK_TRANSITIONS",
    "ClientFeedback",
    "ClientProfile",
    "ClientRequest",
    "Priority",
    "RequestStatus",
    "ReviewStageResult",
    "ReviewVerdict",
    "Task",
    "TaskError",
    "TaskRequirement",
    "TaskSource",
    "TaskStatus",
    "TaskTimings",
    "TaskType",
]


def _not_blank(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{attribute.name} must be a non-blank string; got {value!r}")


def _blank_ok(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise ConfigError(f"{attribute.name} must be a string; got {value!r}")


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise ConfigError(
            f"expected a list of strings, not one string; got {value!r} (wrap it in [])"
        )
    return tuple(value)


def _all_not_blank(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    assert isinstance(value, tuple)  # noqa: S101 - the converter made it one
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(
                f"every item of {attribute.name} must be a non-blank string; "
                f"got {item!r}"
            )


_unit_interval: Final = a_number(0, 1, note=" (0 lenient, 1 strict)")
_optional_datetime: Final = typed(datetime, optional=True)
_optional_str: Final = typed(str, optional=True)


def _enum(kind: type[enum.Enum]) -> Any:
    def check(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind):
            allowed = ", ".join(repr(member.value) for member in kind)
            raise ConfigError(
                f"{attribute.name} must be a {kind.__name__} ({allowed}); got {value!r}"
            )

    return check


def _coerce(kind: type[enum.Enum], value: object) -> Any:
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        return value  # the validator names the allowed values


def _task_type(value: object) -> Any:
    return _coerce(TaskType, value)


def _priority(value: object) -> Any:
    return _coerce(Priority, value)


def _request_status(value: object) -> Any:
    return _coerce(RequestStatus, value)


def _task_source(value: object) -> Any:
    return _coerce(TaskSource, value)


def _task_status(value: object) -> Any:
    return _coerce(TaskStatus, value)


def _verdict(value: object) -> Any:
    return _coerce(ReviewVerdict, value)


def _request_history(value: Iterable[RequestStatus]) -> tuple[RequestStatus, ...]:
    return tuple(value)


def _task_history(value: Iterable[TaskStatus]) -> tuple[TaskStatus, ...]:
    return tuple(value)


_NO_MAPPING: Final[Mapping[str, Any]] = FrozenDict()
_seconds: Final = a_number(0)


def _task_metadata(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return freeze_mapping(value, "metadata")


def _result_metadata(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return freeze_mapping(value, "metadata")


def _stage_seconds(value: Mapping[str, float]) -> Mapping[str, float]:
    return freeze_mapping(value, "stage_seconds")


def _rework_feedback(
    value: Iterable[ReviewStageResult],
) -> tuple[ReviewStageResult, ...]:
    return items_of(value, ReviewStageResult, "rework_feedback")


@attrs.frozen(kw_only=True)
class ClientProfile:
    """Who a simulated client is; profiles drive requirements and reviews.

    Attributes:
        client_id: unique id of the client.
        name: display name.
        persona: how the client behaves and writes (used in prompts).
        expertise_domains: the domains the client knows (e.g. ``("backend",)``).
        strictness_level: 0.0 (accepts nearly anything) to 1.0 (rejects at the
            smallest gap); feedback strategies read it.

    Example:
        >>> ClientProfile(client_id="c1", name="Ada", persona="A precise CTO",
        ...               expertise_domains=("backend",), strictness_level=0.8).name
        'Ada'
    """

    client_id: str = attrs.field(validator=_not_blank)
    name: str = attrs.field(validator=_not_blank)
    persona: str = attrs.field(validator=_not_blank)
    expertise_domains: tuple[str, ...] = attrs.field(
        converter=_strings, validator=_all_not_blank
    )
    strictness_level: float = attrs.field(validator=_unit_interval)


class TaskType(enum.Enum):
    """What kind of work a requirement asks for."""

    FEATURE = "feature"
    BUGFIX = "bugfix"
    REFACTOR = "refactor"
    DOCUMENTATION = "documentation"
    RESEARCH = "research"
    TESTING = "testing"
    INFRASTRUCTURE = "infrastructure"


class Priority(enum.Enum):
    """How urgent a requirement is."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


_complexity: Final = an_int(1, 5, note=" (1 trivial, 5 very complex)")


@attrs.frozen(kw_only=True)
class TaskRequirement:
    """A piece of work a client asks for.

    Attributes:
        title: a short title.
        description: what is wanted, in prose.
        task_type: the kind of work.
        priority: how urgent it is.
        complexity: 1 (trivial) to 5 (very complex).
        acceptance_criteria: what the deliverable must satisfy, one per item.
        domain: the domain it belongs to (matched against client expertise).
        requirement_id: an id (generators give stable ids, e.g. for dependencies).
        depends_on: ids of requirements that must be done first.
    """

    title: str = attrs.field(validator=_not_blank)
    description: str = attrs.field(validator=_not_blank)
    task_type: TaskType = attrs.field(
        default=TaskType.FEATURE,
        converter=_task_type,
        validator=_enum(TaskType),
    )
    priority: Priority = attrs.field(
        default=Priority.MEDIUM, converter=_priority, validator=_enum(Priority)
    )
    complexity: int = attrs.field(default=2, validator=_complexity)
    acceptance_criteria: tuple[str, ...] = attrs.field(
        default=(), converter=_strings, validator=_all_not_blank
    )
    domain: str = attrs.field(default="general", validator=_not_blank)
    requirement_id: str = attrs.field(default="", validator=_blank_ok)
    depends_on: tuple[str, ...] = attrs.field(
        default=(), converter=_strings, validator=_all_not_blank
    )


class RequestStatus(enum.Enum):
    """Where a client request is in intake (independent of the task's status)."""

    SUBMITTED = "submitted"
    TRIAGING = "triaging"
    SCOPING = "scoping"
    APPROVED = "approved"
    TASK_CREATED = "task_created"
    CANCELLED = "cancelled"


_R = RequestStatus
REQUEST_TRANSITIONS: Final[Mapping[RequestStatus, frozenset[RequestStatus]]] = {
    _R.SUBMITTED: frozenset({_R.TRIAGING, _R.CANCELLED}),
    _R.TRIAGING: frozenset({_R.SCOPING, _R.CANCELLED}),
    _R.SCOPING: frozenset({_R.APPROVED, _R.CANCELLED}),
    _R.APPROVED: frozenset({_R.TASK_CREATED, _R.CANCELLED}),
    _R.TASK_CREATED: frozenset(),
    _R.CANCELLED: frozenset(),
}
"""The seed's request state machine: each status and the statuses that may follow."""


def _illegal(
    kind: str, current: enum.Enum, target: object, legal: Iterable[Any]
) -> str:
    names = sorted(member.value for member in legal)
    allowed = ", ".join(repr(name) for name in names) or "none (it is final)"
    shown = target.value if isinstance(target, enum.Enum) else target
    return (
        f"a {kind} in status {current.value!r} cannot move to {shown!r}; from "
        f"{current.value!r} it may move to: {allowed}"
    )


@attrs.frozen(kw_only=True)
class ClientRequest:
    """A client's request on its way through intake.

    Attributes:
        request_id: unique id.
        client_id: the client who filed it.
        requirement: what is asked for.
        status: where it is in intake.
        created_at: when it was filed, timezone-aware UTC (a naive datetime is read
            as local time and converted; see
            :func:`clientsim.models.timestamps.as_utc`).
        updated_at: when its status last changed, timezone-aware UTC.
        scoping_notes: notes a reviewer or intake agent added while scoping.
        task_id: the task created for it (set at ``TASK_CREATED``).
        reason: why it was cancelled, if it was.
        history: the statuses it went through, oldest first.
    """

    request_id: str = attrs.field(validator=_not_blank)
    client_id: str = attrs.field(validator=_not_blank)
    requirement: TaskRequirement = attrs.field(
        validator=attrs.validators.instance_of(TaskRequirement)
    )
    status: RequestStatus = attrs.field(
        default=RequestStatus.SUBMITTED,
        converter=_request_status,
        validator=_enum(RequestStatus),
    )
    created_at: datetime | None = attrs.field(
        default=None, converter=timestamp_field_or_none, validator=_optional_datetime
    )
    updated_at: datetime | None = attrs.field(
        default=None, converter=timestamp_field_or_none, validator=_optional_datetime
    )
    scoping_notes: str = attrs.field(default="", validator=_blank_ok)
    task_id: str | None = None
    reason: str | None = None
    history: tuple[RequestStatus, ...] = attrs.field(
        default=(), converter=_request_history
    )

    @property
    def is_final(self) -> bool:
        """``True`` at ``TASK_CREATED`` or ``CANCELLED``."""
        return not REQUEST_TRANSITIONS[self.status]

    def transition(
        self, target: RequestStatus, *, at: datetime | None = None, **changes: Any
    ) -> ClientRequest:
        """A copy in status ``target`` (with ``changes`` applied).

        Raises:
            IllegalTransitionError: the seed's state machine does not allow it; the
                message names the current status and the legal next ones.
        """
        legal = REQUEST_TRANSITIONS[self.status]
        if not isinstance(target, RequestStatus) or target not in legal:
            raise IllegalTransitionError(
                _illegal("client request", self.status, target, legal)
            )
        return attrs.evolve(
            self,
            status=target,
            updated_at=at if at is not None else self.updated_at,
            history=(*self.history, self.status),
            **changes,
        )


class TaskSource(enum.Enum):
    """Where a task came from."""

    INTERNAL = "internal"
    CLIENT = "client"
    SIMULATION = "simulation"


class TaskStatus(enum.Enum):
    """Where a task is in its own lifecycle."""

    CREATED = "created"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    IN_REVIEW = "in_review"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


_T = TaskStatus
TASK_TRANSITIONS: Final[Mapping[TaskStatus, frozenset[TaskStatus]]] = {
    _T.CREATED: frozenset({_T.ASSIGNED, _T.CANCELLED}),
    _T.ASSIGNED: frozenset({_T.IN_PROGRESS, _T.CANCELLED}),
    _T.IN_PROGRESS: frozenset({_T.IN_REVIEW, _T.FAILED, _T.CANCELLED}),
    # A failed review sends the task back to IN_PROGRESS for rework.
    _T.IN_REVIEW: frozenset({_T.COMPLETED, _T.IN_PROGRESS, _T.FAILED, _T.CANCELLED}),
    _T.COMPLETED: frozenset(),
    _T.FAILED: frozenset(),
    _T.CANCELLED: frozenset(),
}
"""The task lifecycle: CREATED -> ASSIGNED -> IN_PROGRESS -> IN_REVIEW -> COMPLETED,
with rework (IN_REVIEW -> IN_PROGRESS), failure and cancellation."""


@attrs.frozen(kw_only=True)
class TaskTimings:
    """How long a task's work and review took, summed over every round.

    Attributes:
        work_seconds: time spent in the worker.
        review_seconds: time spent in the review pipeline.
        stage_seconds: time spent in each review stage, by stage name.
    """

    work_seconds: float = attrs.field(default=0.0, validator=_seconds)
    review_seconds: float = attrs.field(default=0.0, validator=_seconds)
    stage_seconds: Mapping[str, float] = attrs.field(
        default=_NO_MAPPING, converter=_stage_seconds
    )


@attrs.frozen(kw_only=True)
class TaskError:
    """An exception that ended a task (a worker's or a review stage's); never lost.

    Attributes:
        type: the exception class's name (e.g. ``"SimulationError"``).
        message: its message.
        status: the status the task was in when it happened (``IN_PROGRESS``: the
            worker; ``IN_REVIEW``: a review stage).
    """

    type: str = attrs.field(validator=_blank_ok)
    message: str = attrs.field(validator=_blank_ok)
    status: TaskStatus = attrs.field(
        converter=_task_status, validator=_enum(TaskStatus)
    )

    @classmethod
    def from_exception(cls, exc: BaseException, status: TaskStatus) -> TaskError:
        """Describe ``exc``, raised while the task was in ``status``."""
        return cls(type=type(exc).__name__, message=str(exc), status=status)


@attrs.frozen(kw_only=True)
class Task:
    """A unit of work in the task engine (the system under test).

    Every field is read-only (``hash(task)`` works); change a task with
    :meth:`transition` or ``attrs.evolve``.

    Attributes:
        task_id: unique id.
        requirement: what is to be done.
        source: where it came from.
        project: the project it was filed into.
        status: where it is in its lifecycle.
        assignee: who works on it.
        deliverable: the latest work product (text), if any.
        rework_count: how many times review sent it back.
        metadata: free data, read-only (a :class:`~clientsim.models.frozen.FrozenDict`;
            a dict given here is frozen, nested lists become tuples). The review
            pipeline keeps its progress under ``"review_pipeline"`` in the seed's
            shape. Keep it to JSON-like data for it to round-trip through
            :func:`~clientsim.models.to_dict`.
        request_id: the client request it was created for, if any.
        history: the statuses it went through, oldest first.
        timings: how long work and review took (``None`` until the engine measured
            them).
        rework_feedback: the failed review results the worker was given for its
            last rework (empty until review sends the task back).
        error: the exception that failed (or cancelled) the task, if one did.
        reason: why the task ended ``FAILED`` or ``CANCELLED`` (the rework limit
            spent, the engine closed, the exception), ``None`` otherwise.
    """

    task_id: str = attrs.field(validator=_not_blank)
    requirement: TaskRequirement = attrs.field(
        validator=attrs.validators.instance_of(TaskRequirement)
    )
    source: TaskSource = attrs.field(
        default=TaskSource.SIMULATION,
        converter=_task_source,
        validator=_enum(TaskSource),
    )
    project: str = attrs.field(default="default", validator=_not_blank)
    status: TaskStatus = attrs.field(
        default=TaskStatus.CREATED,
        converter=_task_status,
        validator=_enum(TaskStatus),
    )
    assignee: str | None = None
    deliverable: str | None = None
    rework_count: int = 0
    metadata: Mapping[str, Any] = attrs.field(
        default=_NO_MAPPING, converter=_task_metadata
    )
    request_id: str | None = None
    history: tuple[TaskStatus, ...] = attrs.field(default=(), converter=_task_history)
    timings: TaskTimings | None = attrs.field(
        default=None, validator=typed(TaskTimings, optional=True)
    )
    rework_feedback: tuple[ReviewStageResult, ...] = attrs.field(
        default=(), converter=_rework_feedback
    )
    error: TaskError | None = attrs.field(
        default=None, validator=typed(TaskError, optional=True)
    )
    reason: str | None = attrs.field(default=None, validator=_optional_str)

    @property
    def is_final(self) -> bool:
        """``True`` at ``COMPLETED``, ``FAILED`` or ``CANCELLED``."""
        return not TASK_TRANSITIONS[self.status]

    def transition(self, target: TaskStatus, **changes: Any) -> Task:
        """A copy in status ``target`` (with ``changes`` applied).

        Raises:
            IllegalTransitionError: the lifecycle does not allow it; the message
                names the current status and the legal next ones.
        """
        legal = TASK_TRANSITIONS[self.status]
        if not isinstance(target, TaskStatus) or target not in legal:
            raise IllegalTransitionError(_illegal("task", self.status, target, legal))
        return attrs.evolve(
            self,
            status=target,
            history=(*self.history, self.status),
            **changes,
        )


def _scores(value: Mapping[str, float] | None) -> Mapping[str, float] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ConfigError(f"scores must be a mapping of name to number; got {value!r}")
    for name, score in value.items():
        if (
            not isinstance(name, str)
            or isinstance(score, bool)
            or not isinstance(score, int | float)
            or not math.isfinite(score)
        ):
            raise ConfigError(
                f"scores must map names to finite numbers; got {name!r}: {score!r}"
            )
    return freeze_mapping(value, "scores")


@attrs.frozen(kw_only=True)
class ClientFeedback:
    """A client's verdict on a deliverable.

    Attributes:
        accepted: whether the client accepts it.
        reason: why, in the client's words.
        scores: optional scores per rubric dimension (0.0-1.0 by convention),
            read-only.
        unmet_criteria: the acceptance criteria the deliverable did not meet.
        client_id: who gave it.
    """

    accepted: bool = attrs.field(validator=attrs.validators.instance_of(bool))
    reason: str = attrs.field(validator=_blank_ok)
    scores: Mapping[str, float] | None = attrs.field(default=None, converter=_scores)
    unmet_criteria: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    client_id: str | None = None


class ReviewVerdict(enum.Enum):
    """What a review stage decided: PASS continues, FAIL sends the task back for
    rework, SKIP (stage not applicable) continues."""

    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    SKIP = "skip"


@attrs.frozen(kw_only=True)
class ReviewStageResult:
    """One review stage's verdict and reason.

    Attributes:
        stage: the stage's name (e.g. ``"internal"``, ``"client"``).
        verdict: PASS, FAIL or SKIP.
        reason: why (``None`` when there is nothing to say).
        feedback: the client's feedback, for a client review stage.
        metadata: more about the verdict, read-only JSON-like data (a stakeholder
            panel puts each member's verdict here); empty by default, and left out
            of the plain data while empty.
    """

    stage: str = attrs.field(validator=_not_blank)
    verdict: ReviewVerdict = attrs.field(
        converter=_verdict, validator=_enum(ReviewVerdict)
    )
    reason: str | None = None
    feedback: ClientFeedback | None = None
    metadata: Mapping[str, Any] = attrs.field(
        default=_NO_MAPPING,
        converter=_result_metadata,
        metadata={OMIT_IF_DEFAULT: True},  # older data and most stages: no metadata
    )
