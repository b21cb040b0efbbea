"""The LLM-backed client of seed 000: a persona that files requirements and reviews work."""

from __future__ import annotations

import random
import zlib
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from clientsim import events
from clientsim.clients.base import ReviewContext, SubmitContext
from clientsim.errors import ConfigError, InvalidModelOutputError, InvalidTypeError
from clientsim.feedback.base import FeedbackStrategy
from clientsim.feedback.strategies import CriteriaCheckFeedback
from clientsim.llm.specs import check_model
from clientsim.models import TokenUsage
from clientsim.models.client import (
    ClientFeedback,
    ClientProfile,
    Priority,
    TaskRequirement,
    TaskType,
)


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["AIClient", "RequirementSource"]

RequirementSource = Callable[[SubmitContext], Awaitable[TaskRequirement | None]]
"""An async callable that writes a requirement for a client (or ``None``)."""

_SCHEMA: Final[Mapping[str, Any]] = {
    "title": "Requirement",
    "description": "A piece of work the client wants done.",
    "type": "object",
    "properties": {
        "title": {"type": "string", "description": "A short title."},
        "description": {"type": "string", "description": "What is wanted, in prose."},
        "task_type": {"type": "string", "enum": [t.value for t in TaskType]},
        "priority": {"type": "string", "enum": [p.value for p in Priority]},
        "complexity": {"type": "integer", "minimum": 1, "maximum": 5},
        "acceptance_criteria": {
            "type": "array",
            "items": {"type": "string"},
            "description": "What the deliverable must satisfy, one per item.",
        },
    },
    "required": [
        "title",
        "description",
        "task_type",
        "priority",
        "complexity",
        "acceptance_criteria",
    ],
}

_OFFLINE_WORK: Final = (
    (
        TaskType.FEATURE,
        "Add an export of {domain} reports to CSV",
        "We need to download our {domain} reports as CSV files for the finance team.",
        (
            "Reports can be exported as CSV files",
            "The export includes every report column",
            "Large reports export without timing out",
        ),
    ),
    (
        TaskType.BUGFIX,
        "Fix duplicate notifications in {domain}",
        "Users receive the same {domain} notification two or three times.",
        (
            "Each notification is sent exactly once",
            "A regression test reproduces the duplicate notification",
        ),
    ),
    (
        TaskType.DOCUMENTATION,
        "Document the {domain} setup",
        "New colleagues cannot set up the {domain} environment without help.",
        (
            "The setup guide lists every prerequisite",
            "The guide explains how to verify the setup works",
        ),
    ),
    (
        TaskType.TESTING,
        "Cover the {domain} checkout with tests",
        "The {domain} checkout breaks often; we want automated tests around it.",
        (
            "Unit tests cover the checkout calculations",
            "An integration test covers a complete checkout",
            "The tests run in continuous integration",
        ),
    ),
)


def _rng(seed: int, *parts: str) -> random.Random:
    digest = zlib.crc32("\x1f".join(parts).encode("utf-8"), seed & 0xFFFFFFFF)
    return random.Random(digest)


def _is_offline(model: str | BaseChatModel) -> bool:
    if isinstance(model, str):
        return model.strip().split(":", 1)[0] == "offline"
    from clientsim.llm.offline import OfflineChatModel  # noqa: PLC0415

    return isinstance(model, OfflineChatModel)


class AIClient:
    """A simulated client with a persona, backed by a chat model.

    **Filing.** Given a proposal (``context.proposal``), the client files it, unless
    the proposal's domain is outside its expertise: then it declines with a
    probability equal to its ``strictness_level`` (seeded from the context and the
    proposal, so the same call decides the same way). The domain ``"general"`` is
    inside every expertise. Without a proposal it asks ``generator`` if one was given,
    else its model for a requirement in its persona (structured output). On the
    offline model it writes a deterministic requirement from templates in one of its
    expertise domains, since the offline model's placeholders would not make one.

    **Reviewing.** It judges with ``feedback`` (default: :class:`~clientsim.feedback.
    CriteriaCheckFeedback` with this client's model, or offline heuristics when the
    model is the offline one) and its profile, and emits ``CLIENT_REVIEW_STARTED`` and
    ``CLIENT_REVIEW_COMPLETED``.

    Args:
        profile: who the client is.
        model: a model spec (``"offline"``, ``"openai:gpt-4o-mini"``) or a chat model.
        feedback: how it judges deliverables.
        generator: an async callable ``(SubmitContext) -> TaskRequirement | None``
            used instead of the model when there is no proposal.

    Raises:
        InvalidTypeError: ``profile`` is not a ClientProfile.
        ConfigError: another argument is not of an accepted kind.

    Example:
        >>> profile = ClientProfile(client_id="c1", name="Ada", persona="A precise CTO",
        ...                         expertise_domains=("backend",), strictness_level=0.6)
        >>> AIClient(profile).profile.name
        'Ada'
    """

    def __init__(
        self,
        profile: ClientProfile,
        *,
        model: str | BaseChatModel = "offline",
        feedback: FeedbackStrategy | None = None,
        generator: RequirementSource | None = None,
    ) -> None:
        if not isinstance(profile, ClientProfile):
            raise InvalidTypeError(
                f"profile must be a ClientProfile; got {type(profile).__name__}"
            )
        checked = check_model(model)
        if checked is None:
            raise ConfigError("model must be a model spec or a chat model; got None")
        if feedback is not None and not isinstance(feedback, FeedbackStrategy):
            raise ConfigError(
                "feedback must be a FeedbackStrategy (an object with an async "
                f"evaluate(context, profile)); got {type(feedback).__name__}"
            )
        if generator is not None and not callable(generator):
            raise ConfigError(
                "generator must be an async callable (SubmitContext) -> "
                f"TaskRequirement | None; got {type(generator).__name__}"
            )
        self._profile = profile
        self.model: str | BaseChatModel = checked
        self.feedback: FeedbackStrategy = feedback or CriteriaCheckFeedback(
            client_id=profile.client_id,
            model=None if _is_offline(checked) else checked,
        )
        self.generator = generator
        self.token_usage = TokenUsage()

    def __repr__(self) -> str:
        return f"AIClient({self._profile.client_id!r}, model={self.model!r})"

    @property
    def profile(self) -> ClientProfile:
        """Who the client is."""
        return self._profile

    async def submit_requirement(
        self, context: SubmitContext
    ) -> TaskRequirement | None:
        """A requirement to file, or ``None`` when the client declines.

        Raises:
            InvalidTypeError: ``context`` is not a SubmitContext, or the generator
                returned something else than a requirement or ``None``.
            ModelError: the model failed.
            InvalidModelOutputError: the model's requirement is not valid.
        """
        if not isinstance(context, SubmitContext):
            raise InvalidTypeError(
                f"context must be a SubmitContext; got {type(context).__name__}"
            )
        if context.proposal is not None:
            return (
                None if self.declines(context.proposal, context) else context.proposal
            )
        if self.generator is not None:
            result = await self.generator(context)
            if result is not None and not isinstance(result, TaskRequirement):
                raise InvalidTypeError(
                    "the generator must return a TaskRequirement or None; got "
                    f"{type(result).__name__}"
                )
            return result
        if _is_offline(self.model):
            return self._offline_requirement(context)
        return await self._ask_model(context)

    def declines(self, proposal: TaskRequirement, context: SubmitContext) -> bool:
        """Whether the client declines to file ``proposal`` (see the class docs)."""
        domains = {d.strip().lower() for d in self._profile.expertise_domains}
        domain = proposal.domain.strip().lower()
        if domain == "general" or domain in domains:
            return False
        rng = _rng(
            context.seed,
            self._profile.client_id,
            str(context.round),
            proposal.requirement_id,
            proposal.title,
        )
        return rng.random() < self._profile.strictness_level

    def _offline_requirement(self, context: SubmitContext) -> TaskRequirement:
        rng = _rng(context.seed, self._profile.client_id, str(context.round))
        domain = rng.choice(self._profile.expertise_domains or ("general",))
        task_type, title, description, criteria = rng.choice(_OFFLINE_WORK)
        strictness = self._profile.strictness_level
        return TaskRequirement(
            title=title.format(domain=domain),
            description=f"{description.format(domain=domain)} ({self._profile.name})",
            task_type=task_type,
            priority=rng.choice(tuple(Priority)),
            complexity=1 + rng.randrange(5),
            # A stricter client writes down more of what it expects.
            acceptance_criteria=criteria[: max(1, round(len(criteria) * strictness))]
            if strictness < 1.0
            else criteria,
            domain=domain,
            requirement_id=f"{self._profile.client_id}-r{context.round}",
        )

    async def _ask_model(self, context: SubmitContext) -> TaskRequirement:
        from clientsim.llm import StructuredCall, Turn, resolve_model  # noqa: PLC0415

        profile = self._profile
        domains = ", ".join(profile.expertise_domains)
        system = (
            f"You are {profile.name}, a client of a software team.\n"
            f"Persona: {profile.persona}\nYour expertise: {domains}.\n"
            f"Strictness {profile.strictness_level:.2f} (0.0 lenient, 1.0 strict): "
            "the stricter you are, the more precise your acceptance criteria.\n"
            "Write one requirement you would file now, in your own voice."
        )
        user = f"Project: {context.project}. Round {context.round}."
        schema = dict(_SCHEMA)
        if profile.expertise_domains:
            properties = dict(schema["properties"])
            properties["domain"] = {
                "type": "string",
                "enum": list(profile.expertise_domains),
            }
            schema["properties"] = properties
            schema["required"] = [*schema["required"], "domain"]
        call = StructuredCall(resolve_model(self.model), schema)
        answer, usage = await call([Turn("system", system), Turn("user", user)])
        self.token_usage = self.token_usage + usage
        try:
            return TaskRequirement(
                title=answer.get("title", ""),
                description=answer.get("description", ""),
                task_type=answer.get("task_type", "feature"),
                priority=answer.get("priority", "medium"),
                complexity=answer.get("complexity", 2),
                acceptance_criteria=answer.get("acceptance_criteria") or (),
                domain=self._domain(answer.get("domain")),
                requirement_id=f"{profile.client_id}-r{context.round}",
            )
        except (ConfigError, TypeError) as exc:
            raise InvalidModelOutputError(
                f"the model's requirement for client {profile.client_id!r} is not "
                f"valid: {exc}"
            ) from exc

    def _domain(self, answer: object) -> str:
        domains = self._profile.expertise_domains
        if not domains:
            return "general"
        if answer not in domains:
            raise ConfigError(
                f"domain must be one of the client's expertise domains "
                f"({', '.join(repr(d) for d in domains)}); got {answer!r}"
            )
        assert isinstance(answer, str)  # noqa: S101 - it is one of the domains
        return answer

    async def judge(self, context: ReviewContext) -> ClientFeedback:
        """The client's feedback on ``context.deliverable``, without emitting events.

        :meth:`review_deliverable` is this plus the review events; a
        :class:`~clientsim.clients.HybridClient` uses it for the AI's draft.
        """
        return await self.feedback.evaluate(context, self._profile)

    async def review_deliverable(self, context: ReviewContext) -> ClientFeedback:
        """The client's verdict on ``context.deliverable``.

        Raises:
            InvalidTypeError: ``context`` is not a ReviewContext.
            ModelError: the judging model failed.
        """
        if not isinstance(context, ReviewContext):
            raise InvalidTypeError(
                f"context must be a ReviewContext; got {type(context).__name__}"
            )
        client_id = self._profile.client_id
        events.emit(
            events.CLIENT_REVIEW_STARTED,
            task_id=context.task.task_id,
            client_id=client_id,
        )
        feedback = await self.judge(context)
        events.emit(
            events.CLIENT_REVIEW_COMPLETED,
            task_id=context.task.task_id,
            client_id=client_id,
            accepted=feedback.accepted,
        )
        return feedback
