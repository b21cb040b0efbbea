"""Novel requirements written by a chat model, one structured call per requirement.

The generator plans each requirement from the seed (domain, task type, priority,
complexity and a subject) and asks the model to write the words: a title, a
description and acceptance criteria. Planning keeps the mix controllable and the
output valid whatever the model says; the model supplies the variety.

Rules for the model's answer (one call, one requirement):

* A field that is missing or of the wrong type (``title`` or ``description`` not a
  non-blank string, ``acceptance_criteria`` not a list of non-blank strings) raises
  :class:`~clientsim.errors.InvalidModelOutputError` naming the field.
* A text too terse to be a requirement falls back to the plan: a title of fewer than
  3 words becomes the planned working title, a description of fewer than 6 words the
  planned description, and an empty criteria list the generic criteria of the task
  type. More than 5 criteria are cut to the first 5. Each fallback is counted in
  :attr:`LLMGenerator.fallbacks`.

On the offline model (which answers short placeholders and empty lists) every
requirement is therefore the plan itself: valid and deterministic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final

import attrs

from clientsim.errors import ConfigError, InvalidModelOutputError
from clientsim.models import TokenUsage
from clientsim.models.client import Priority, TaskRequirement, TaskType
from clientsim.requirements.base import (
    DEFAULT_DOMAINS,
    check_count,
    check_options,
    default_criteria,
    emitted,
    pick_priority,
    rng_for,
)


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["DEFAULT_PERSONA", "SCHEMA", "LLMGenerator", "RequirementPlan"]

DEFAULT_PERSONA: Final = (
    "a product owner at a mid-sized software company who writes clear, testable "
    "requests"
)

SCHEMA: Final[Mapping[str, Any]] = {
    "title": "requirement",
    "description": "One software requirement a client files with a development team.",
    "type": "object",
    "properties": {
        "title": {
            "type": "string",
            "description": "A short imperative title (3 to 12 words).",
        },
        "description": {
            "type": "string",
            "description": "Two to four sentences: what is wanted and why.",
        },
        "acceptance_criteria": {
            "type": "array",
            "items": {"type": "string"},
            "description": "2 to 5 concrete, checkable acceptance criteria.",
        },
    },
    "required": ["title", "description", "acceptance_criteria"],
}
"""The structured-output schema of one requirement."""

_SUBJECTS: Final[Mapping[str, tuple[str, ...]]] = {
    "backend": ("order API", "invoice service", "user accounts endpoint", "job queue"),
    "frontend": ("checkout page", "account settings page", "search bar", "dashboard"),
    "data": ("sales pipeline", "event tracking schema", "revenue report", "data lake"),
    "infra": ("Kubernetes cluster", "CI pipeline", "log shipping", "database backups"),
    "security": (
        "password reset flow",
        "API key handling",
        "audit logging",
        "SSO login",
    ),
    "mobile": ("Android app", "iOS app", "push notifications", "offline sync"),
    "docs": ("API reference", "getting-started guide", "runbooks", "changelog"),
}

_VERBS: Final[Mapping[TaskType, str]] = {
    TaskType.FEATURE: "Add a new capability to the {subject}",
    TaskType.BUGFIX: "Fix a defect in the {subject}",
    TaskType.REFACTOR: "Refactor the {subject}",
    TaskType.DOCUMENTATION: "Document the {subject}",
    TaskType.RESEARCH: "Research improvements to the {subject}",
    TaskType.TESTING: "Improve test coverage of the {subject}",
    TaskType.INFRASTRUCTURE: "Improve the infrastructure of the {subject}",
}


@attrs.frozen(kw_only=True)
class RequirementPlan:
    """What the generator asks the model to write (and falls back to).

    Attributes:
        domain: the requirement's domain.
        subject: what it is about, e.g. ``"order API"``.
        task_type: the kind of work.
        priority: how urgent.
        complexity: 1 to 5.
    """

    domain: str
    subject: str
    task_type: TaskType
    priority: Priority
    complexity: int

    @property
    def title(self) -> str:
        """The working title used when the model's title is too terse."""
        return _VERBS[self.task_type].format(subject=self.subject)

    @property
    def description(self) -> str:
        """The description used when the model's description is too terse."""
        return (
            f"{self.title}. This is {self.task_type.value} work in the {self.domain} "
            f"area with {self.priority.value} priority and complexity "
            f"{self.complexity} of 5."
        )


def _text(answer: Mapping[str, Any], field: str) -> str:
    value = answer.get(field)
    if not isinstance(value, str) or not value.strip():
        raise InvalidModelOutputError(
            f"the model's requirement has an invalid {field!r}: expected a non-blank "
            f"string; got {value!r}"
        )
    return " ".join(value.split())


def _criteria(answer: Mapping[str, Any]) -> tuple[str, ...]:
    value = answer.get("acceptance_criteria")
    if not isinstance(value, list) or not all(
        isinstance(item, str) and item.strip() for item in value
    ):
        raise InvalidModelOutputError(
            "the model's requirement has an invalid 'acceptance_criteria': expected a "
            f"list of non-blank strings; got {value!r}"
        )
    return tuple(" ".join(item.split()) for item in value)


class LLMGenerator:
    """Requirements written by a chat model (structured output, one call each).

    Args:
        model: a model spec (``"offline"``, ``"openai:gpt-4o-mini"``) or a LangChain
            chat model.
        domain: write every requirement for this domain; by default the domains
            of :data:`~clientsim.requirements.base.DEFAULT_DOMAINS` are drawn by seed.
        persona: who the model writes as (a client persona).

    Attributes:
        token_usage: tokens spent by every call so far.
        fallbacks: how often each field fell back to the plan (see the module doc).

    Raises:
        ConfigError: ``domain`` or ``persona`` is blank.

    Example:
        >>> import anyio
        >>> from clientsim import LLMGenerator
        >>> gen = LLMGenerator("offline", domain="security")
        >>> reqs = anyio.run(lambda: gen.generate(2, seed=0))
        >>> reqs[0].domain
        'security'
    """

    name: ClassVar[str] = "llm"

    def __init__(
        self,
        model: str | BaseChatModel = "offline",
        *,
        domain: str | None = None,
        persona: str | None = None,
    ) -> None:
        for label, value in (("domain", domain), ("persona", persona)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ConfigError(f"{label} must be a non-blank string; got {value!r}")
        self.model = model
        self.domain = domain
        self.persona = persona or DEFAULT_PERSONA
        self.token_usage = TokenUsage()
        self.fallbacks: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"LLMGenerator(model={self.model!r}, domain={self.domain!r})"

    @classmethod
    def from_config(cls, **options: Any) -> LLMGenerator:
        """Build from plain values: ``model``, ``domain``, ``persona``.

        Raises:
            ConfigError: an option is unknown or invalid.
        """
        check_options(cls.name, options, ("model", "domain", "persona"))
        return cls(
            options.get("model", "offline"),
            domain=options.get("domain"),
            persona=options.get("persona"),
        )

    def plan(self, count: int, *, seed: int = 0) -> tuple[RequirementPlan, ...]:
        """The plans ``generate(count, seed=seed)`` asks the model to write.

        Raises:
            ConfigError: ``count`` is below 1.
        """
        check_count(count, seed)
        rng = rng_for(self.name, seed)
        plans: list[RequirementPlan] = []
        for _ in range(count):
            domain = self.domain or rng.choice(DEFAULT_DOMAINS)
            subjects = _SUBJECTS.get(domain, (f"{domain} system",))
            plans.append(
                RequirementPlan(
                    domain=domain,
                    subject=rng.choice(subjects),
                    task_type=rng.choice(tuple(TaskType)),
                    priority=pick_priority(rng),
                    complexity=rng.randint(1, 5),
                )
            )
        return tuple(plans)

    def prompt(self, plan: RequirementPlan) -> tuple[str, str]:
        """The system and user messages for one plan."""
        system = (
            f"You are a client of a software team: {self.persona}. You write one new, "
            "specific, realistic requirement at a time, in your own words."
        )
        user = (
            f"Write a requirement about the {plan.subject} ({plan.domain}). "
            f"It is {plan.task_type.value} work of complexity {plan.complexity} "
            "(1 trivial, 5 very complex). Give a short title, a description of two to "
            "four sentences and two to five checkable acceptance criteria.\n"
            f"Priority: {plan.priority.value}"
        )
        return system, user

    def _build(
        self, plan: RequirementPlan, answer: Mapping[str, Any], ident: str
    ) -> TaskRequirement:
        title = _text(answer, "title")
        description = _text(answer, "description")
        criteria = _criteria(answer)
        if len(title.split()) < 3:
            title = plan.title
            self.fallbacks["title"] += 1
        if len(description.split()) < 6:
            description = plan.description
            self.fallbacks["description"] += 1
        if not criteria:
            criteria = default_criteria(plan.task_type, plan.subject)
            self.fallbacks["acceptance_criteria"] += 1
        return TaskRequirement(
            title=title,
            description=description,
            task_type=plan.task_type,
            priority=plan.priority,
            complexity=plan.complexity,
            acceptance_criteria=criteria[:5],
            domain=plan.domain,
            requirement_id=ident,
        )

    async def generate(
        self, count: int, *, seed: int = 0
    ) -> tuple[TaskRequirement, ...]:
        """Ask the model for ``count`` requirements, one call each, in order.

        Raises:
            ConfigError: ``count`` is below 1.
            InvalidModelOutputError: an answer breaks the schema (naming the field).
            ModelError: the model call failed.
        """
        plans = self.plan(count, seed=seed)
        from clientsim.llm import StructuredCall, Turn, resolve_model  # noqa: PLC0415

        call = StructuredCall(resolve_model(self.model), SCHEMA)
        result: list[TaskRequirement] = []
        for index, plan in enumerate(plans, start=1):
            system, user = self.prompt(plan)
            answer, usage = await call([Turn("system", system), Turn("user", user)])
            self.token_usage = self.token_usage + usage
            result.append(self._build(plan, answer, f"llm-{seed}-{index}"))
        return emitted(self.name, tuple(result))
