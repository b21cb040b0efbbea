"""Intake strategies (seed 000): decide whether a client request becomes a task.

:class:`DirectIntake` approves every well-formed request at once; :class:`AgentIntake`
asks a chat model (an intake agent: a PM or account manager) to triage and scope it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from clientsim._validators import check_bool
from clientsim.errors import ClientSimWarning, ConfigError
from clientsim.intake.base import IntakeDecision
from clientsim.models import TokenUsage
from clientsim.models.client import ClientRequest


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from clientsim.llm import StructuredCall

__all__ = [
    "BUILTINS",
    "AgentIntake",
    "DirectIntake",
]


class DirectIntake:
    """Pass-through intake: approves every well-formed request, no LLM calls.

    A ``TaskRequirement`` is already validated (non-blank title and description), so by
    default everything is approved. With ``require_acceptance_criteria=True`` a
    requirement without acceptance criteria is rejected, since no reviewer could check
    it.

    Example:
        >>> strategy = DirectIntake(require_acceptance_criteria=True)

    Args:
        require_acceptance_criteria: reject requirements that list no criteria.
    """

    name: Final = "direct"

    def __init__(self, *, require_acceptance_criteria: bool = False) -> None:
        self.require_acceptance_criteria = check_bool(
            "require_acceptance_criteria", require_acceptance_criteria
        )

    @classmethod
    def from_config(cls, *, require_acceptance_criteria: bool = False) -> DirectIntake:
        """Build from config values."""
        return cls(require_acceptance_criteria=require_acceptance_criteria)

    async def process(self, request: ClientRequest) -> IntakeDecision:
        """Approve, unless criteria are required and missing."""
        if self.require_acceptance_criteria and not (
            request.requirement.acceptance_criteria
        ):
            return IntakeDecision(
                approve=False,
                reason="the requirement lists no acceptance criteria, so it cannot be "
                "reviewed",
            )
        return IntakeDecision(approve=True, reason="approved directly")


APPROVE: Final = "approve"
DECLINE: Final = "decline_request"

SCHEMA: Final[Mapping[str, Any]] = {
    "title": "IntakeDecision",
    "description": "The intake agent's triage and scoping of one client request.",
    "type": "object",
    "properties": {
        "decision": {
            "type": "string",
            "enum": [APPROVE, DECLINE],
            "description": "approve to turn the request into a task, else decline.",
        },
        "reason": {"type": "string", "description": "One or two sentences: why."},
        "scope_summary": {
            "type": "string",
            "description": "What exactly is in scope for the task, in a sentence or two.",
        },
        "clarifications": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Assumptions made where the request is vague.",
        },
        "risks": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Risks or open questions the worker should know about.",
        },
        "estimated_complexity": {
            "type": "integer",
            "minimum": 1,
            "maximum": 5,
            "description": "1 (trivial) to 5 (very complex).",
        },
    },
    "required": ["decision", "reason", "scope_summary", "estimated_complexity"],
}
"""The structured answer :class:`AgentIntake` asks its model for."""

_SYSTEM: Final = (
    "You are the intake agent (a project manager / account manager) of a software "
    "organisation. Triage the client request you are given: decide whether the "
    "organisation should take it on (it is clear enough, feasible and in scope) and "
    "scope it for the engineer who will do it. Answer in the requested structure."
)


def _render(request: ClientRequest) -> str:
    requirement = request.requirement
    lines = [
        f"Client: {request.client_id}",
        f"Title: {requirement.title}",
        (
            f"Type: {requirement.task_type.value}; priority: "
            f"{requirement.priority.value}; complexity: {requirement.complexity}/5; "
            f"domain: {requirement.domain}"
        ),
        "",
        requirement.description,
    ]
    if requirement.acceptance_criteria:
        lines += ["", "Acceptance criteria:"]
        lines += [f"- {c}" for c in requirement.acceptance_criteria]
    if request.scoping_notes:
        lines += ["", "Notes so far:", request.scoping_notes]
    return "\n".join(lines)


def _strings(value: object) -> list[str]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        return []
    return [str(item).strip() for item in value if str(item).strip()]


def _notes(answer: Mapping[str, Any], request: ClientRequest) -> str:
    summary = str(answer.get("scope_summary", "")).strip()
    if len(summary.split()) < 3:  # a degenerate answer: scope it as requested
        summary = f"{request.requirement.title}, as described"
    lines = [f"Scope: {summary}"]
    lines += [f"Assumption: {item}" for item in _strings(answer.get("clarifications"))]
    lines += [f"Risk: {item}" for item in _strings(answer.get("risks"))]
    complexity = answer.get("estimated_complexity")
    if isinstance(complexity, int) and not isinstance(complexity, bool):
        lines.append(f"Estimated complexity: {complexity}/5")
    return "\n".join(lines)


def _has_provider(spec: str) -> bool:
    from clientsim.llm import model_providers  # noqa: PLC0415

    provider = spec.strip().partition(":")[0]
    return bool(provider) and provider in model_providers


class AgentIntake:
    """Intake by an LLM agent that triages, scopes and approves or declines.

    The model answers :data:`SCHEMA`; its scope summary, assumptions, risks and
    complexity estimate become the request's scoping notes. With no model (or a spec
    whose provider is not registered) it cannot be satisfied and degrades to
    :class:`DirectIntake` with a :class:`~clientsim.errors.ClientSimWarning`, as the
    seed asks, rather than failing.

    Example:
        >>> strategy = AgentIntake("offline")

    Args:
        model: a LangChain chat model or a spec such as ``"offline"`` or
            ``"openai:gpt-4o-mini"``; ``None`` degrades to direct intake.
        instructions: extra guidance appended to the intake agent's prompt.

    Attributes:
        degraded: ``True`` when it works as direct intake.
        token_usage: tokens spent so far.
    """

    name: Final = "agent"

    def __init__(
        self,
        model: str | BaseChatModel | None = None,
        *,
        instructions: str | None = None,
    ) -> None:
        if instructions is not None and not isinstance(instructions, str):
            raise ConfigError(f"instructions must be a string; got {instructions!r}")
        self.instructions = instructions
        self.token_usage = TokenUsage()
        self._call: StructuredCall | None = None
        self._direct = DirectIntake()
        problem = None
        if model is None:
            problem = "no intake model was given"
        elif isinstance(model, str) and not _has_provider(model):
            problem = f"no provider is registered for model spec {model!r}"
        if problem is not None:
            warnings.warn(
                f"AgentIntake cannot run: {problem}; degrading to direct intake "
                "(every well-formed request is approved without triage)",
                ClientSimWarning,
                stacklevel=2,
            )
        self.model = None if problem else model
        self.degraded = problem is not None

    @classmethod
    def from_config(
        cls,
        *,
        model: str | BaseChatModel | None = None,
        instructions: str | None = None,
        provider: str | BaseChatModel | None = None,
    ) -> AgentIntake:
        """Build from config values (``model`` is usually a spec string).

        ``provider`` is the seed factory's name for the model the application has
        configured; it is used when ``model`` is not given.
        """
        return cls(model if model is not None else provider, instructions=instructions)

    @property
    def system_prompt(self) -> str:
        """What the intake agent is told."""
        if self.instructions:
            return f"{_SYSTEM}\n\n{self.instructions}"
        return _SYSTEM

    async def process(self, request: ClientRequest) -> IntakeDecision:
        """Ask the model to triage and scope ``request`` (direct intake if degraded).

        Raises:
            ModelError: the model call failed.
            InvalidModelOutputError: the answer did not fit the schema.
        """
        if self.model is None:
            return await self._direct.process(request)
        from clientsim.llm import StructuredCall, Turn, resolve_model  # noqa: PLC0415

        if self._call is None:
            self._call = StructuredCall(resolve_model(self.model), SCHEMA)
        answer, usage = await self._call(
            [Turn("system", self.system_prompt), Turn("user", _render(request))]
        )
        self.token_usage = self.token_usage + usage
        reason = str(answer.get("reason", "")).strip()
        if answer.get("decision") == APPROVE:
            return IntakeDecision(
                approve=True,
                reason=reason or "approved by the intake agent",
                scoping_notes=_notes(answer, request),
            )
        return IntakeDecision(
            approve=False, reason=reason or "declined by the intake agent"
        )


BUILTINS: Final[dict[str, type[DirectIntake | AgentIntake]]] = {
    "direct": DirectIntake,
    "agent": AgentIntake,
}
"""The built-in intake strategies by the seed's discriminator names."""
