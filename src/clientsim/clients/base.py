"""The client contract (seed 000): submit a requirement, review a deliverable."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import attrs

from clientsim.models.client import (
    ClientFeedback,
    ClientProfile,
    Task,
    TaskRequirement,
)


__all__ = ["ClientInterface", "ReviewContext", "SubmitContext"]


@attrs.frozen(kw_only=True)
class SubmitContext:
    """What a client is given when asked for a requirement.

    Attributes:
        round: the simulation round (0-based).
        project: the project the work goes to.
        proposal: a requirement drafted for the client (by a generator), which the
            client may file as is, rework, or decline; ``None`` to write its own.
        seed: for reproducible choices.
        metadata: anything else the caller wants the client to see.
    """

    round: int = 0
    project: str = "default"
    proposal: TaskRequirement | None = None
    seed: int = 0
    metadata: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class ReviewContext:
    """What a client is given when asked to review a deliverable.

    Attributes:
        task: the task, as the task engine holds it.
        requirement: what was asked for.
        deliverable: the work product to review (the actual deliverable, never the
            requirement text).
        attempt: 1 for the first review, 2 after one rework, ...
        seed: for reproducible choices.
    """

    task: Task
    requirement: TaskRequirement
    deliverable: str
    attempt: int = 1
    seed: int = 0


@runtime_checkable
class ClientInterface(Protocol):
    """A client, simulated or human: files requirements and reviews deliverables."""

    @property
    def profile(self) -> ClientProfile:
        """Who the client is."""
        ...

    async def submit_requirement(
        self, context: SubmitContext
    ) -> TaskRequirement | None:
        """A requirement to file, or ``None`` when the client declines."""
        ...

    async def review_deliverable(self, context: ReviewContext) -> ClientFeedback:
        """The client's verdict on ``context.deliverable``."""
        ...
