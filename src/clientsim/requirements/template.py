"""Pattern-based requirements: templates with ``{slot}`` placeholders filled by seed."""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Final

import attrs

from clientsim.errors import ConfigError
from clientsim.models.client import Priority, TaskRequirement, TaskType
from clientsim.requirements.base import (
    check_count,
    check_domains,
    check_options,
    emitted,
    pick_priority,
    rng_for,
)


__all__ = [
    "BUILTIN_SLOTS",
    "BUILTIN_TEMPLATES",
    "RequirementTemplate",
    "TemplateGenerator",
]

BUILTIN_SLOTS: Final[Mapping[str, tuple[str, ...]]] = {
    "resource": ("orders", "invoices", "customers", "products", "shipments", "reviews"),
    "endpoint": (
        "/orders",
        "/invoices",
        "/users/{id}",
        "/search",
        "/checkout",
        "/reports",
    ),
    "limit": (
        "100 requests per minute",
        "20 requests per second",
        "1000 requests per hour",
    ),
    "page": (
        "checkout",
        "settings",
        "dashboard",
        "sign-up",
        "product detail",
        "search results",
    ),
    "widget": (
        "date picker",
        "file uploader",
        "data table",
        "navigation menu",
        "modal dialog",
    ),
    "dataset": (
        "clickstream",
        "sales",
        "support tickets",
        "inventory",
        "billing events",
    ),
    "cadence": ("hourly", "nightly", "every 15 minutes", "weekly"),
    "service": (
        "payments service",
        "auth service",
        "notification worker",
        "search indexer",
    ),
    "cloud_resource": (
        "PostgreSQL database",
        "Redis cache",
        "object storage bucket",
        "queue",
    ),
    "threat": ("SQL injection", "cross-site scripting", "credential stuffing", "SSRF"),
    "platform": ("iOS", "Android"),
    "mobile_feature": (
        "offline mode",
        "push notifications",
        "biometric login",
        "dark mode",
    ),
    "doc_topic": (
        "the public REST API",
        "local development setup",
        "the deployment process",
        "the data retention policy",
        "error codes",
    ),
    "library": (
        "the ORM",
        "the HTTP client",
        "the logging library",
        "the UI framework",
    ),
    "symptom": (
        "times out under load",
        "returns a 500 error",
        "shows stale data",
        "crashes on empty input",
        "double-submits the form",
    ),
    "metric": ("p95 latency", "error rate", "queue depth", "cache hit ratio"),
}
"""The built-in slot vocabulary: each slot name and the values it is filled from."""


def _slots_in(text: str) -> tuple[str, ...]:
    names: list[str] = []
    for _, field, _, _ in string.Formatter().parse(text):
        if field is not None:
            if not field.isidentifier():
                raise ConfigError(
                    f"template slot {{{field}}} in {text!r} is not a plain name; write "
                    "slots as {name} (letters, digits, underscores)"
                )
            names.append(field)
    return tuple(names)


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise ConfigError(
            f"acceptance_criteria must be a list of strings; got {value!r}"
        )
    return tuple(value)


def _complexity_range(value: Sequence[int]) -> tuple[int, int]:
    pair = tuple(value)
    if (
        len(pair) != 2
        or any(isinstance(v, bool) or not isinstance(v, int) for v in pair)
        or not 1 <= pair[0] <= pair[1] <= 5
    ):
        raise ConfigError(
            f"complexity must be a (low, high) pair of integers with 1 <= low <= high "
            f"<= 5; got {value!r}"
        )
    return pair[0], pair[1]


def _optional_priority(value: object) -> Priority | None:
    if value is None or isinstance(value, Priority):
        return value
    try:
        return Priority(value)
    except ValueError:
        allowed = ", ".join(repr(p.value) for p in Priority)
        raise ConfigError(
            f"priority must be one of {allowed} (or omitted); got {value!r}"
        ) from None


def _task_type(value: object) -> TaskType:
    if isinstance(value, TaskType):
        return value
    try:
        return TaskType(value)
    except ValueError:
        allowed = ", ".join(repr(t.value) for t in TaskType)
        raise ConfigError(
            f"task_type must be one of {allowed}; got {value!r}"
        ) from None


@attrs.frozen(kw_only=True)
class RequirementTemplate:
    """A requirement pattern; ``{slot}`` placeholders are filled when generating.

    Attributes:
        title: the title pattern.
        description: the description pattern.
        task_type: the kind of work.
        domain: the domain the requirement belongs to.
        acceptance_criteria: criteria patterns (may use slots too).
        priority: a fixed priority, or ``None`` to draw one per requirement.
        complexity: the ``(low, high)`` range a complexity is drawn from.

    Example:
        >>> t = RequirementTemplate(title="Cache {resource}", description="Cache the "
        ...     "{resource} list.", task_type="feature", domain="backend",
        ...     acceptance_criteria=("Reads of {resource} hit the cache",))
        >>> t.slots
        ('resource',)
    """

    title: str
    description: str
    task_type: TaskType = attrs.field(converter=_task_type)
    domain: str
    acceptance_criteria: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    priority: Priority | None = attrs.field(default=None, converter=_optional_priority)
    complexity: tuple[int, int] = attrs.field(
        default=(1, 5), converter=_complexity_range
    )

    @property
    def slots(self) -> tuple[str, ...]:
        """The slot names the template uses, in order of first use."""
        names = [
            name
            for text in (self.title, self.description, *self.acceptance_criteria)
            for name in _slots_in(text)
        ]
        return tuple(dict.fromkeys(names))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RequirementTemplate:
        """Build a template from plain values (e.g. a config file's mapping).

        Raises:
            ConfigError: a key is missing or unknown, or a value is invalid.
        """
        allowed = {field.name for field in attrs.fields(cls)}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ConfigError(
                f"unknown template key {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}"
            )
        missing = sorted(
            f.name
            for f in attrs.fields(cls)
            if f.default is attrs.NOTHING and f.name not in data
        )
        if missing:
            raise ConfigError(
                f"a template needs {missing[0]!r}; got keys {sorted(data)}"
            )
        return cls(**data)


def _t(
    title: str,
    description: str,
    task_type: TaskType,
    domain: str,
    *criteria: str,
    complexity: tuple[int, int] = (1, 5),
) -> RequirementTemplate:
    return RequirementTemplate(
        title=title,
        description=description,
        task_type=task_type,
        domain=domain,
        acceptance_criteria=criteria,
        complexity=complexity,
    )


_F, _B, _R = TaskType.FEATURE, TaskType.BUGFIX, TaskType.REFACTOR
_D, _S, _T, _I = (
    TaskType.DOCUMENTATION,
    TaskType.RESEARCH,
    TaskType.TESTING,
    (TaskType.INFRASTRUCTURE),
)

BUILTIN_TEMPLATES: Final[tuple[RequirementTemplate, ...]] = (
    _t(
        "Add rate limiting to {endpoint}",
        "Clients abuse {endpoint}. Limit each API key to {limit} and answer 429 with a "
        "Retry-After header when the limit is hit.",
        _F,
        "backend",
        "Requests over {limit} get HTTP 429 with Retry-After",
        "Limits are configurable per API key",
        "Rate-limit hits are counted in metrics",
        complexity=(2, 4),
    ),
    _t(
        "Fix {endpoint} that {symptom}",
        "Since the last release {endpoint} {symptom}. Find the cause and fix it.",
        _B,
        "backend",
        "The failure no longer reproduces with the steps in the ticket",
        "A regression test covers the case",
        complexity=(1, 4),
    ),
    _t(
        "Paginate the {resource} listing",
        "Listing {resource} returns everything at once. Add cursor pagination.",
        _F,
        "backend",
        "Responses hold at most 50 {resource} and a next cursor",
        "Following cursors returns every item exactly once",
        complexity=(2, 3),
    ),
    _t(
        "Redesign the {page} page",
        "Users find the {page} page confusing. Rework its layout following the design "
        "system, keeping every current action reachable.",
        _F,
        "frontend",
        "The page matches the approved mock-up",
        "Every action of the old page is still reachable",
        "The page scores at least 90 in an accessibility audit",
        complexity=(2, 4),
    ),
    _t(
        "Fix the {widget} on the {page} page",
        "The {widget} on the {page} page {symptom}.",
        _B,
        "frontend",
        "The {widget} behaves correctly in Chrome, Firefox and Safari",
        "A component test reproduces the old bug",
        complexity=(1, 3),
    ),
    _t(
        "Make the {widget} keyboard accessible",
        "The {widget} cannot be used without a mouse.",
        _F,
        "frontend",
        "Every control of the {widget} is reachable with Tab",
        "Screen readers announce its state",
        complexity=(1, 3),
    ),
    _t(
        "Build a {cadence} {dataset} pipeline",
        "Analysts need {dataset} data in the warehouse {cadence}.",
        _F,
        "data",
        "The {dataset} table refreshes {cadence}",
        "Failed runs alert the data team",
        "Row counts match the source within 0.1%",
        complexity=(3, 5),
    ),
    _t(
        "Research storage options for {dataset} data",
        "The {dataset} data grows fast. Compare storage options for cost and query speed.",
        _S,
        "data",
        "At least three options are compared on cost and query latency",
        "The report ends with a recommendation",
        complexity=(2, 4),
    ),
    _t(
        "Add data-quality tests for the {dataset} tables",
        "Bad {dataset} rows reach dashboards unnoticed.",
        _T,
        "data",
        "Null and duplicate checks run on every load",
        "A failing check blocks the downstream refresh",
        complexity=(2, 3),
    ),
    _t(
        "Provision a {cloud_resource} for the {service}",
        "The {service} needs its own {cloud_resource}, defined as code.",
        _I,
        "infra",
        "The {cloud_resource} is defined in Terraform and reviewed",
        "Backups or replication are configured",
        "The {service} connects using secrets from the vault",
        complexity=(2, 4),
    ),
    _t(
        "Alert on {metric} of the {service}",
        "We learn about {service} incidents from customers. Alert on {metric}.",
        _I,
        "infra",
        "An alert fires when {metric} exceeds its threshold for 5 minutes",
        "The alert links to a runbook",
        complexity=(1, 3),
    ),
    _t(
        "Protect {endpoint} against {threat}",
        "A pentest found {endpoint} may be open to {threat}.",
        _B,
        "security",
        "The pentest's proof of concept no longer works",
        "Input validation rejects malicious payloads with a 400",
        "A security test covers {threat}",
        complexity=(2, 4),
    ),
    _t(
        "Audit the {service} for {threat}",
        "Review the {service} for {threat} risks before the audit.",
        _S,
        "security",
        "Every finding has a severity and an owner",
        "Critical findings have a fix plan",
        complexity=(2, 4),
    ),
    _t(
        "Add {mobile_feature} to the {platform} app",
        "Users of the {platform} app ask for {mobile_feature}.",
        _F,
        "mobile",
        "{mobile_feature} works on the two latest {platform} versions",
        "The feature can be turned off with a remote flag",
        "Crash-free sessions stay above 99.5%",
        complexity=(2, 5),
    ),
    _t(
        "Write UI tests for the {platform} {page} screen",
        "The {page} screen of the {platform} app breaks often.",
        _T,
        "mobile",
        "UI tests cover the main flows of the {page} screen",
        "The tests run on every pull request",
        complexity=(1, 3),
    ),
    _t(
        "Document {doc_topic}",
        "Newcomers keep asking about {doc_topic}. Write it down.",
        _D,
        "docs",
        "The page on {doc_topic} is linked from the docs index",
        "Every example in it runs as written",
        complexity=(1, 2),
    ),
    _t(
        "Upgrade {library} in the {service}",
        "The {service} pins an old version of {library}.",
        _R,
        "backend",
        "The {service} runs on the latest {library} release",
        "All existing tests pass unchanged",
        complexity=(2, 4),
    ),
    _t(
        "Extract the {resource} logic into its own module",
        "The {resource} code is tangled with request handling.",
        _R,
        "backend",
        "The {resource} logic lives in one module with no HTTP imports",
        "Behaviour is unchanged: existing tests pass",
        complexity=(2, 4),
    ),
    _t(
        "Add contract tests for {endpoint}",
        "Consumers of {endpoint} broke twice after releases.",
        _T,
        "backend",
        "Contract tests for {endpoint} run in CI",
        "A breaking change fails the build",
        complexity=(1, 3),
    ),
)
"""Built-in templates: every task type and every domain of ``DEFAULT_DOMAINS``."""


class TemplateGenerator:
    """Requirements from patterns with variable slots, filled by seeded choices.

    Args:
        templates: the templates (:class:`RequirementTemplate` or plain mappings); the
            built-in ones when ``None``.
        domains: only use templates of these domains.
        slots: extra or replacement slot vocabularies, merged over
            :data:`BUILTIN_SLOTS`.

    Raises:
        ConfigError: a template uses a slot no vocabulary fills (naming it), a domain
            has no template, or a template is malformed.

    Example:
        >>> import anyio
        >>> from clientsim import TemplateGenerator
        >>> gen = TemplateGenerator(domains=["frontend"])
        >>> reqs = anyio.run(lambda: gen.generate(3, seed=1))
        >>> {r.domain for r in reqs}
        {'frontend'}
    """

    name: ClassVar[str] = "template"

    def __init__(
        self,
        templates: Iterable[RequirementTemplate | Mapping[str, Any]] | None = None,
        *,
        domains: Iterable[str] | None = None,
        slots: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        vocabulary = dict(BUILTIN_SLOTS)
        for key, values in (slots or {}).items():
            if (
                isinstance(values, str)
                or not values
                or not all(isinstance(v, str) and v.strip() for v in values)
            ):
                raise ConfigError(
                    f"slot {key!r} needs a non-empty list of non-blank strings; got {values!r}"
                )
            vocabulary[key] = tuple(values)
        chosen = tuple(
            t
            if isinstance(t, RequirementTemplate)
            else RequirementTemplate.from_dict(t)
            for t in (BUILTIN_TEMPLATES if templates is None else templates)
        )
        if not chosen:
            raise ConfigError("templates must hold at least one template")
        for template in chosen:
            for slot in template.slots:
                if slot not in vocabulary:
                    raise ConfigError(
                        f"template {template.title!r} uses unknown slot {{{slot}}}; known "
                        f"slots: {', '.join(sorted(vocabulary))} (add it with slots=...)"
                    )
        wanted = check_domains(domains, (t.domain for t in chosen))
        self.templates: tuple[RequirementTemplate, ...] = tuple(
            t for t in chosen if t.domain in wanted
        )
        self.slots: Mapping[str, tuple[str, ...]] = vocabulary

    def __repr__(self) -> str:
        return f"TemplateGenerator(<{len(self.templates)} templates>)"

    @classmethod
    def from_config(cls, **options: Any) -> TemplateGenerator:
        """Build from plain values: ``templates`` (list of mappings), ``domains``, ``slots``.

        Raises:
            ConfigError: an option is unknown or invalid.
        """
        check_options(cls.name, options, ("templates", "domains", "slots"))
        return cls(
            options.get("templates"),
            domains=options.get("domains"),
            slots=options.get("slots"),
        )

    async def generate(
        self, count: int, *, seed: int = 0
    ) -> tuple[TaskRequirement, ...]:
        """Fill ``count`` templates (cycling through a seeded shuffle of them).

        Raises:
            ConfigError: ``count`` is below 1.
        """
        check_count(count, seed)
        rng = rng_for(self.name, seed)
        order: list[RequirementTemplate] = []
        result: list[TaskRequirement] = []
        for index in range(count):
            if not order:
                order = list(self.templates)
                rng.shuffle(order)
            template = order.pop()
            values = {slot: rng.choice(self.slots[slot]) for slot in template.slots}
            low, high = template.complexity
            result.append(
                TaskRequirement(
                    title=template.title.format_map(values),
                    description=template.description.format_map(values),
                    task_type=template.task_type,
                    priority=template.priority or pick_priority(rng),
                    complexity=rng.randint(low, high),
                    acceptance_criteria=tuple(
                        c.format_map(values) for c in template.acceptance_criteria
                    ),
                    domain=template.domain,
                    requirement_id=f"template-{seed}-{index + 1}",
                )
            )
        return emitted(self.name, tuple(result))
