"""The review stages of a client simulation run: the pool's own client review, and
the stages a config's ``review_stages`` lists (a stakeholder panel, plugins' stages),
put in the task engine's review pipeline ahead of the client's review."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import anyio

from clientsim.clients.base import ClientInterface
from clientsim.errors import ConfigError
from clientsim.models.client import (
    ClientFeedback,
    ReviewStageResult,
    ReviewVerdict,
    Task,
)
from clientsim.review.pipeline import ClientReviewStage, ReviewPipeline, ReviewStage


__all__ = ["PoolReview", "attach_review", "build_review_stages", "check_stages"]


class PoolReview:
    """The ``client`` review stage for a whole pool: the client who filed the task's
    request reviews it, within the review timeout; every feedback is kept."""

    name = "client"

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.client_of: dict[str, ClientInterface] = {}
        self.feedback: dict[str, list[ClientFeedback]] = {}
        self.seed = 0

    async def review(self, task: Task) -> ReviewStageResult:
        """The filing client's verdict (SKIP for a task no simulated client filed)."""
        client = self.client_of.get(task.request_id or "")
        if client is None:
            return ReviewStageResult(
                stage=self.name,
                verdict=ReviewVerdict.SKIP,
                reason="no simulated client filed this task",
            )
        stage = ClientReviewStage(client, self.name, seed=self.seed)
        with anyio.fail_after(self.timeout):
            result = await stage.review(task)
        if result.feedback is not None:
            self.feedback.setdefault(task.task_id, []).append(result.feedback)
        return result


def build_review_stages(
    configs: Sequence[Mapping[str, Any]], *, model: Any, seed: int
) -> tuple[ReviewStage, ...]:
    """The stages ``configs`` describe; each is offered ``model`` and ``seed`` unless
    its config gives its own.

    Raises:
        UnknownStrategyError: a stage name the ``review_stages`` registry lacks.
        ConfigError: a stage's options do not fit it.
    """
    from clientsim.factory import build_review_stage  # noqa: PLC0415 - the registry

    stages = []
    for config in configs:
        offered = {"model": model, "seed": seed}
        context = {key: value for key, value in offered.items() if key not in config}
        stages.append(build_review_stage(config, **context))
    return tuple(stages)


def check_stages(
    task_engine: object, stages: Sequence[object]
) -> tuple[ReviewStage, ...]:
    """``stages`` as a tuple, checked against ``task_engine``.

    Raises:
        ConfigError: a stage is not a ``ReviewStage``, or there are stages and the
            engine has no review pipeline to put them in.
    """
    for stage in stages:
        if not isinstance(stage, ReviewStage):
            raise ConfigError(
                "review_stages must be review stages (a `name` and an async "
                f"`review(task)`); got {stage!r}"
            )
    if stages and not hasattr(task_engine, "review_pipeline"):
        raise ConfigError(
            f"review_stages need a task engine with a review pipeline (such as "
            f"InMemoryTaskEngine); {type(task_engine).__name__} has none"
        )
    return tuple(stages)  # type: ignore[arg-type]  # checked above


def attach_review(
    task_engine: object, pool: PoolReview, stages: Sequence[ReviewStage]
) -> None:
    """Put ``stages`` and then the pool's client review at the end of the engine's
    review pipeline (an engine without one is reviewed after it completes)."""
    pipeline = getattr(task_engine, "review_pipeline", "absent")
    if pipeline == "absent":
        return
    current = list(pipeline.stages) if isinstance(pipeline, ReviewPipeline) else []
    if any(stage is pool for stage in current):
        return
    # Another runner's pool review (a ContinuousMode's copy ran this engine before)
    # gives way to this runner's; a stage of the user's is kept.
    current = [stage for stage in current if not isinstance(stage, PoolReview)]
    current += [s for s in stages if all(s is not t for t in current)]
    if all(stage.name != pool.name for stage in current):
        current.append(pool)
    task_engine.review_pipeline = ReviewPipeline(current)  # type: ignore[attr-defined]
