"""The :class:`RequirementGenerator` protocol and helpers shared by the built-ins.

A generator turns ``(count, seed)`` into ``count`` :class:`~clientsim.models.client.
TaskRequirement` values. The same seed gives the same requirements (for generators
backed by a real LLM: the same prompts). Every built-in emits
:data:`clientsim.events.REQUIREMENTS_GENERATED` once per call.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from typing import Final, Protocol, runtime_checkable

from clientsim import events
from clientsim._validators import check_int
from clientsim.errors import ConfigError
from clientsim.models.client import Priority, TaskRequirement, TaskType


__all__ = ["DEFAULT_DOMAINS", "RequirementGenerator"]

DEFAULT_DOMAINS: Final = (
    "backend",
    "frontend",
    "data",
    "infra",
    "security",
    "mobile",
    "docs",
)
"""The domains the built-in generators know."""


@runtime_checkable
class RequirementGenerator(Protocol):
    """Anything that produces task requirements.

    Implementations need not subclass this: any object with a matching ``generate``
    coroutine is a generator.

    Example:
        >>> class Fixed:
        ...     async def generate(self, count, *, seed=0):
        ...         return tuple(
        ...             TaskRequirement(title=f"Task {i}", description="Do it.")
        ...             for i in range(count)
        ...         )
        >>> isinstance(Fixed(), RequirementGenerator)
        True
    """

    async def generate(
        self, count: int, *, seed: int = 0
    ) -> tuple[TaskRequirement, ...]:
        """Produce ``count`` requirements, the same ones for the same ``seed``.

        Raises:
            ConfigError: ``count`` is below 1.
        """
        ...


def check_count(count: object, seed: object) -> int:
    """Validate ``count`` (an int >= 1) and ``seed`` (an int); return ``count``."""
    checked = check_int("count", count, low=1)
    check_int("seed", seed)
    return checked


def rng_for(generator: str, seed: int, *parts: object) -> random.Random:
    """A generator seeded from a name, ``seed`` and ``parts`` (stable across processes)."""
    key = ":".join(str(part) for part in (generator, seed, *parts))
    return random.Random(key)


def check_domains(
    domains: Iterable[str] | None, known: Iterable[str]
) -> tuple[str, ...]:
    """Validate a domain filter against the domains a generator knows."""
    allowed = tuple(dict.fromkeys(known))
    if domains is None:
        return allowed
    if isinstance(domains, str):
        domains = (domains,)
    chosen = tuple(dict.fromkeys(domains))
    if not chosen:
        raise ConfigError(
            f"domains must name at least one domain; known: {', '.join(allowed)}"
        )
    unknown = [domain for domain in chosen if domain not in allowed]
    if unknown:
        raise ConfigError(
            f"unknown domain {unknown[0]!r} in domains; known: {', '.join(allowed)}"
        )
    return chosen


def check_options(
    owner: str, options: Mapping[str, object], allowed: Iterable[str]
) -> None:
    """Refuse ``from_config`` options a generator does not take."""
    names = sorted(allowed)
    for key in options:
        if key not in names:
            raise ConfigError(
                f"unknown option {key!r} for the {owner} requirement generator; "
                f"allowed: {', '.join(names) or '(none)'}"
            )


def emitted(
    generator: str, requirements: tuple[TaskRequirement, ...]
) -> tuple[TaskRequirement, ...]:
    """Emit :data:`~clientsim.events.REQUIREMENTS_GENERATED` and pass ``requirements`` on."""
    events.emit(
        events.REQUIREMENTS_GENERATED, generator=generator, count=len(requirements)
    )
    return requirements


_CRITERIA: Final[Mapping[TaskType, tuple[str, ...]]] = {
    TaskType.FEATURE: (
        "The {subject} works end to end as described",
        "Automated tests cover the main path and one failure path",
        "User-facing behaviour is documented",
    ),
    TaskType.BUGFIX: (
        "The reported problem with the {subject} no longer reproduces",
        "A regression test fails before the fix and passes after it",
        "No other behaviour changes",
    ),
    TaskType.REFACTOR: (
        "Behaviour of the {subject} is unchanged: existing tests pass without edits",
        "The code is simpler to read than before (reviewer sign-off)",
        "No new warnings from the linter or type checker",
    ),
    TaskType.DOCUMENTATION: (
        "The document on the {subject} is published where users find it",
        "Every code example in it runs as written",
        "A reviewer unfamiliar with the topic can follow it",
    ),
    TaskType.RESEARCH: (
        "A written summary on the {subject} compares at least two options",
        "The summary ends with a recommendation and its trade-offs",
        "Sources and measurements are linked",
    ),
    TaskType.TESTING: (
        "Tests for the {subject} run in CI on every change",
        "The tests cover the documented edge cases",
        "The suite runs deterministically (no flaky failures in 20 runs)",
    ),
    TaskType.INFRASTRUCTURE: (
        "The change to the {subject} is described as code and reviewed",
        "It can be rolled back with one documented command",
        "Monitoring shows the service healthy after the rollout",
    ),
}


def default_criteria(task_type: TaskType, subject: str) -> tuple[str, ...]:
    """Generic, checkable acceptance criteria for a kind of work on ``subject``."""
    return tuple(line.format(subject=subject) for line in _CRITERIA[task_type])


PRIORITY_WEIGHTS: Final[Mapping[Priority, int]] = {
    Priority.LOW: 3,
    Priority.MEDIUM: 4,
    Priority.HIGH: 2,
    Priority.CRITICAL: 1,
}
"""How often each priority is drawn when a generator picks one (most work is medium)."""


def pick_priority(rng: random.Random) -> Priority:
    """Draw a priority with :data:`PRIORITY_WEIGHTS`."""
    return rng.choices(
        tuple(PRIORITY_WEIGHTS), weights=tuple(PRIORITY_WEIGHTS.values())
    )[0]
