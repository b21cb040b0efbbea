"""A client where an AI drafts and a person decides (seed 000's ``HybridClient``)."""

from __future__ import annotations

import attrs

from clientsim import events
from clientsim.clients.ai import AIClient
from clientsim.clients.base import ReviewContext, SubmitContext
from clientsim.clients.human import DraftedReviewContext, HumanClient
from clientsim.errors import InvalidTypeError
from clientsim.models.client import ClientFeedback, ClientProfile, TaskRequirement


__all__ = ["HybridClient"]


class HybridClient:
    """An :class:`AIClient` drafts, a :class:`HumanClient` confirms or overrides.

    The person's answer always wins. How the person sees the AI's draft:

    * **Requirements**: the human's ``ask_requirement`` gets the context with
      ``proposal`` set to the AI's draft and ``metadata["ai_draft"]`` holding it too
      (``None`` when the AI declined; the original proposal, if any, stays in
      ``proposal`` then and ``metadata["ai_declined"]`` is ``True``). Returning the
      proposal confirms it, another requirement overrides it, ``None`` declines.
    * **Reviews**: the human's ``ask_review`` gets a :class:`~clientsim.clients.human.
      DraftedReviewContext` whose ``draft`` is the AI's feedback. Returning the draft
      confirms it; any other feedback overrides it.

    The client's profile is the AI's. Reviews emit ``CLIENT_REVIEW_STARTED`` and
    ``CLIENT_REVIEW_COMPLETED`` once (not once per side).

    Args:
        ai: drafts requirements and feedback.
        human: decides.

    Raises:
        InvalidTypeError: ``ai`` or ``human`` is not of the right class.

    Example:
        >>> from clientsim.clients.human import QueueHuman
        >>> profile = ClientProfile(client_id="c1", name="Ada", persona="A CTO",
        ...                         expertise_domains=("backend",), strictness_level=0.5)
        >>> hybrid = HybridClient(AIClient(profile), QueueHuman().client(profile))
        >>> hybrid.profile.client_id
        'c1'
    """

    def __init__(self, ai: AIClient, human: HumanClient) -> None:
        if not isinstance(ai, AIClient):
            raise InvalidTypeError(f"ai must be an AIClient; got {type(ai).__name__}")
        if not isinstance(human, HumanClient):
            raise InvalidTypeError(
                f"human must be a HumanClient; got {type(human).__name__}"
            )
        self.ai = ai
        self.human = human

    def __repr__(self) -> str:
        return f"HybridClient({self.ai!r}, {self.human!r})"

    @property
    def profile(self) -> ClientProfile:
        """Who the client is (the AI's profile)."""
        return self.ai.profile

    async def submit_requirement(
        self, context: SubmitContext
    ) -> TaskRequirement | None:
        """The AI's draft, confirmed or overridden by the person (see the class)."""
        draft = await self.ai.submit_requirement(context)
        metadata = {**context.metadata, "ai_draft": draft, "ai_declined": draft is None}
        proposal = draft if draft is not None else context.proposal
        return await self.human.submit_requirement(
            attrs.evolve(context, proposal=proposal, metadata=metadata)
        )

    async def review_deliverable(self, context: ReviewContext) -> ClientFeedback:
        """The AI's feedback, confirmed or overridden by the person (see the class)."""
        if not isinstance(context, ReviewContext):
            raise InvalidTypeError(
                f"context must be a ReviewContext; got {type(context).__name__}"
            )
        client_id = self.profile.client_id
        events.emit(
            events.CLIENT_REVIEW_STARTED,
            task_id=context.task.task_id,
            client_id=client_id,
        )
        draft = await self.ai.judge(context)
        drafted = DraftedReviewContext(
            **attrs.asdict(context, recurse=False), draft=draft
        )
        feedback = await self.human.ask(drafted)
        if feedback.client_id != client_id:
            feedback = attrs.evolve(feedback, client_id=client_id)
        events.emit(
            events.CLIENT_REVIEW_COMPLETED,
            task_id=context.task.task_id,
            client_id=client_id,
            accepted=feedback.accepted,
        )
        return feedback
