"""The client contract (seed 000): submit a requirement, review a deliverable."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from clientsim.models.client import ClientFeedback, ClientProfile, TaskRequirement
from clientsim.models.contexts import ReviewContext, SubmitContext


__all__ = ["ClientInterface", "ReviewContext", "SubmitContext"]


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
