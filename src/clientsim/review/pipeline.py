"""The review pipeline (seed 000): review stages walked in order on a task in review.

PASS continues, SKIP (not applicable) continues, FAIL short-circuits: the caller sends
the task back to ``IN_PROGRESS`` for rework. Progress is kept in the task's metadata
under ``"review_pipeline"`` in the seed's JSON shape; the task stays ``IN_REVIEW``
throughout.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Protocol, TypeAlias, runtime_checkable

import anyio
import attrs

from clientsim import events
from clientsim.clients.base import ClientInterface, ReviewContext
from clientsim.errors import ConfigError
from clientsim.models.client import (
    ClientFeedback,
    ReviewStageResult,
    ReviewVerdict,
    Task,
)


__all__ = [
    "BUILTINS",
    "METADATA_KEY",
    "ClientReviewStage",
    "InternalReviewStage",
    "PipelineOutcome",
    "ReviewGate",
    "ReviewPipeline",
    "ReviewStage",
]

METADATA_KEY: Final = "review_pipeline"
"""The task metadata key the pipeline keeps its progress under."""


@runtime_checkable
class ReviewStage(Protocol):
    """One step of the review pipeline.

    Example:
        >>> class AlwaysSkip:
        ...     name = "lint"
        ...     async def review(self, task):
        ...         return ReviewStageResult(stage=self.name, verdict="skip")
    """

    name: str

    async def review(self, task: Task) -> ReviewStageResult:
        """This stage's verdict on ``task`` (its deliverable is ``task.deliverable``)."""
        ...


@attrs.frozen(kw_only=True)
class PipelineOutcome:
    """What a pipeline run decided.

    Attributes:
        task: the task with its ``"review_pipeline"`` metadata updated.
        verdict: ``PASS`` when no stage failed, else ``FAIL``.
        results: the results of the stages that ran, in order.
        durations: seconds each stage that ran took, by stage name.
    """

    task: Task
    verdict: ReviewVerdict
    results: tuple[ReviewStageResult, ...]
    durations: Mapping[str, float] = attrs.field(factory=dict)

    @property
    def failures(self) -> tuple[ReviewStageResult, ...]:
        """The failed stage results (at most one: FAIL short-circuits)."""
        return tuple(r for r in self.results if r.verdict is ReviewVerdict.FAIL)


def _progress(
    current: str, completed: Sequence[str], results: Sequence[ReviewStageResult]
) -> dict[str, Any]:
    return {
        "current_stage": current,
        "stages_completed": list(completed),
        "stage_results": {r.stage: _stage_entry(r) for r in results},
    }


def _stage_entry(result: ReviewStageResult) -> dict[str, Any]:
    """A stage's verdict and reason in the seed's shape, plus its metadata (a
    stakeholder panel's member verdicts) when it has any."""
    entry: dict[str, Any] = {"verdict": result.verdict.value, "reason": result.reason}
    if result.metadata:
        entry["metadata"] = result.metadata
    return entry


def _with_progress(task: Task, progress: dict[str, Any]) -> Task:
    return attrs.evolve(task, metadata={**task.metadata, METADATA_KEY: progress})


def _stage_tuple(stages: Iterable[ReviewStage]) -> tuple[ReviewStage, ...]:
    value: object = stages
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ConfigError(f"stages must be a list of review stages; got {value!r}")
    return tuple(stages)


@attrs.define
class ReviewPipeline:
    """Walks review stages in order.

    Example:
        >>> pipeline = ReviewPipeline([InternalReviewStage()])
        >>> # task, verdict = await pipeline.run(task_in_review)

    Args:
        stages: the stages, in the order they run; names must be unique.

    Raises:
        ConfigError: no stages, a stage that is not a ``ReviewStage``, or two stages
            with the same name.
    """

    stages: tuple[ReviewStage, ...] = attrs.field(converter=_stage_tuple)

    @stages.validator
    def _check(self, _: object, stages: tuple[ReviewStage, ...]) -> None:
        if not stages:
            raise ConfigError("a review pipeline needs at least one stage; got none")
        seen: set[str] = set()
        for stage in stages:
            if not isinstance(stage, ReviewStage) or not isinstance(stage.name, str):
                raise ConfigError(
                    "every review stage needs a string `name` and an async "
                    f"`review(task)` method; got {stage!r}"
                )
            if stage.name in seen:
                raise ConfigError(
                    f"review stage names must be unique; {stage.name!r} appears twice "
                    f"in {[s.name for s in stages]!r}"
                )
            seen.add(stage.name)

    @property
    def stage_names(self) -> tuple[str, ...]:
        """The stages' names, in order."""
        return tuple(stage.name for stage in self.stages)

    async def review(self, task: Task) -> PipelineOutcome:
        """Run the stages on ``task`` and report every stage result.

        The task's ``"review_pipeline"`` metadata starts afresh and is updated after
        each stage. A stage's own exception propagates (the task engine records it).
        """
        events.emit(
            events.REVIEW_PIPELINE_STARTED,
            task_id=task.task_id,
            stages=list(self.stage_names),
        )
        completed: list[str] = []
        results: list[ReviewStageResult] = []
        durations: dict[str, float] = {}
        verdict = ReviewVerdict.PASS
        for stage in self.stages:
            task = _with_progress(task, _progress(stage.name, completed, results))
            started = anyio.current_time()
            result = await stage.review(task)
            durations[stage.name] = anyio.current_time() - started
            if not isinstance(result, ReviewStageResult):
                raise ConfigError(
                    f"review stage {stage.name!r} must return a ReviewStageResult; "
                    f"got {result!r}"
                )
            if result.stage != stage.name:
                result = attrs.evolve(result, stage=stage.name)
            results.append(result)
            if result.verdict is not ReviewVerdict.FAIL:
                completed.append(stage.name)
            task = _with_progress(task, _progress(stage.name, completed, results))
            events.emit(
                events.REVIEW_STAGE_COMPLETED,
                task_id=task.task_id,
                stage=stage.name,
                verdict=result.verdict.value,
            )
            if result.verdict is ReviewVerdict.FAIL:
                verdict = ReviewVerdict.FAIL
                break
        events.emit(
            events.REVIEW_PIPELINE_COMPLETED,
            task_id=task.task_id,
            verdict=verdict.value,
        )
        return PipelineOutcome(
            task=task, verdict=verdict, results=tuple(results), durations=durations
        )

    async def run(self, task: Task) -> tuple[Task, ReviewVerdict]:
        """Run the stages on ``task``: the updated task and ``PASS`` or ``FAIL``.

        Example:
            >>> # task, verdict = await pipeline.run(task)
            >>> # if verdict is ReviewVerdict.FAIL: send it back for rework
        """
        outcome = await self.review(task)
        return outcome.task, outcome.verdict


GateAnswer: TypeAlias = ReviewStageResult | bool | tuple[bool, str]
ReviewGate: TypeAlias = Callable[[Task], Awaitable[GateAnswer]]
"""A user review gate: an async callable judging a task (a result, a bool, or
``(passed, reason)``)."""


def _from_gate(name: str, answer: object) -> ReviewStageResult:
    if isinstance(answer, ReviewStageResult):
        return answer if answer.stage == name else attrs.evolve(answer, stage=name)
    if isinstance(answer, bool):
        return ReviewStageResult(
            stage=name, verdict=ReviewVerdict.PASS if answer else ReviewVerdict.FAIL
        )
    if (
        isinstance(answer, tuple)
        and len(answer) == 2
        and isinstance(answer[0], bool)
        and isinstance(answer[1], str)
    ):
        passed, reason = answer
        return ReviewStageResult(
            stage=name,
            verdict=ReviewVerdict.PASS if passed else ReviewVerdict.FAIL,
            reason=reason or None,
        )
    raise ConfigError(
        f"review gate of stage {name!r} must return a ReviewStageResult, a bool or "
        f"a (bool, reason) tuple; got {answer!r}"
    )


class InternalReviewStage:
    """The organisation's own review: wraps a user-supplied review gate.

    Example:
        >>> async def has_tests(task):
        ...     return ("test" in (task.deliverable or ""), "Missing tests")
        >>> stage = InternalReviewStage(has_tests)

    Args:
        gate: an async callable given the task, answering a ``ReviewStageResult``,
            a bool, or ``(passed, reason)``; ``None`` passes everything.
        name: the stage's name in the pipeline.
    """

    def __init__(self, gate: ReviewGate | None = None, name: str = "internal") -> None:
        if gate is not None and not callable(gate):
            raise ConfigError(f"gate must be an async callable or None; got {gate!r}")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"name must be a non-blank string; got {name!r}")
        self.gate = gate
        self.name = name

    @classmethod
    def from_config(
        cls, *, gate: ReviewGate | None = None, name: str = "internal"
    ) -> InternalReviewStage:
        """Build from config values."""
        return cls(gate, name)

    async def review(self, task: Task) -> ReviewStageResult:
        """The gate's verdict on ``task`` (PASS with no gate)."""
        if self.gate is None:
            return ReviewStageResult(stage=self.name, verdict=ReviewVerdict.PASS)
        answer: object = self.gate(task)
        if inspect.isawaitable(answer):
            answer = await answer
        return _from_gate(self.name, answer)


def _failure_reason(feedback: ClientFeedback) -> str:
    reason = feedback.reason.strip() or "The client rejected the deliverable."
    missing = [c for c in feedback.unmet_criteria if c not in reason]
    if missing:  # name what the reason does not already name
        reason += " Unmet criteria: " + "; ".join(missing)
    return reason


class ClientReviewStage:
    """The client's review: asks ``client.review_deliverable`` about the deliverable.

    The client sees the task's actual deliverable, never the requirement text in its
    place. Accepted feedback is a PASS, anything else a FAIL carrying the client's
    reason and unmet criteria; the feedback itself stays on the result.

    Example:
        >>> stage = ClientReviewStage(my_client)  # doctest: +SKIP

    Args:
        client: the reviewing client.
        name: the stage's name in the pipeline.
        seed: passed to the client in the review context.
    """

    def __init__(
        self, client: ClientInterface, name: str = "client", *, seed: int = 0
    ) -> None:
        if not callable(getattr(client, "review_deliverable", None)):
            raise ConfigError(
                f"client must implement ClientInterface (review_deliverable); got {client!r}"
            )
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"name must be a non-blank string; got {name!r}")
        self.client = client
        self.name = name
        self.seed = seed

    @classmethod
    def from_config(
        cls, *, client: ClientInterface, name: str = "client", seed: int = 0
    ) -> ClientReviewStage:
        """Build from config values."""
        return cls(client, name, seed=seed)

    def _client_id(self) -> str | None:
        profile = getattr(self.client, "profile", None)
        client_id = getattr(profile, "client_id", None)
        return client_id if isinstance(client_id, str) else None

    async def review(self, task: Task) -> ReviewStageResult:
        """The client's verdict on ``task.deliverable`` (FAIL if there is none)."""
        if task.deliverable is None:
            return ReviewStageResult(
                stage=self.name, verdict=ReviewVerdict.FAIL, reason="no deliverable"
            )
        client_id = self._client_id()
        # The client emits CLIENT_REVIEW_STARTED / _COMPLETED itself (the built-in
        # clients do); the stage records the feedback.
        context = ReviewContext(
            task=task,
            requirement=task.requirement,
            deliverable=task.deliverable,
            attempt=task.rework_count + 1,
            seed=self.seed,
        )
        feedback = await self.client.review_deliverable(context)
        if not isinstance(feedback, ClientFeedback):
            raise ConfigError(
                f"client {client_id or self.client!r} must answer review_deliverable "
                f"with ClientFeedback; got {feedback!r}"
            )
        events.emit(
            events.CLIENT_FEEDBACK_RECORDED,
            task_id=task.task_id,
            accepted=feedback.accepted,
            unmet_criteria=list(feedback.unmet_criteria),
        )
        if feedback.accepted:
            return ReviewStageResult(
                stage=self.name,
                verdict=ReviewVerdict.PASS,
                reason=feedback.reason or None,
                feedback=feedback,
            )
        return ReviewStageResult(
            stage=self.name,
            verdict=ReviewVerdict.FAIL,
            reason=_failure_reason(feedback),
            feedback=feedback,
        )


BUILTINS: Final[dict[str, type[Any]]] = {
    "internal": InternalReviewStage,
    "client": ClientReviewStage,
}
"""The built-in review stages by name."""
