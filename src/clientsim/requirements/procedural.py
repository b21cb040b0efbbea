"""Algorithmic requirements that depend on each other (a DAG), built from a seed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Final

import attrs

from clientsim._validators import an_int
from clientsim.models.client import TaskRequirement, TaskType
from clientsim.requirements.base import (
    DEFAULT_DOMAINS,
    check_count,
    check_domains,
    check_options,
    default_criteria,
    emitted,
    pick_priority,
    rng_for,
)


__all__ = ["ProceduralGenerator"]

_COMPONENTS: Final[Mapping[str, tuple[str, ...]]] = {
    "backend": ("order API", "billing module", "user service", "search endpoint"),
    "frontend": ("checkout form", "settings page", "dashboard", "navigation bar"),
    "data": ("events pipeline", "sales warehouse model", "churn report", "ETL job"),
    "infra": ("staging cluster", "CI pipeline", "load balancer", "backup job"),
    "security": ("login flow", "secrets store", "audit log", "access policy"),
    "mobile": ("Android app", "iOS app", "push service", "offline sync"),
    "docs": ("API reference", "onboarding guide", "runbook", "architecture overview"),
}

_VERBS: Final[Mapping[TaskType, tuple[str, ...]]] = {
    TaskType.FEATURE: ("Add export to", "Add filtering to", "Add audit trail to"),
    TaskType.BUGFIX: ("Fix crash in", "Fix slow responses of", "Fix wrong totals in"),
    TaskType.REFACTOR: ("Simplify", "Split up", "Remove dead code from"),
    TaskType.DOCUMENTATION: ("Document", "Write a tutorial for", "Update docs of"),
    TaskType.RESEARCH: ("Evaluate alternatives for", "Benchmark", "Assess risks of"),
    TaskType.TESTING: ("Add integration tests for", "Add load tests for", "Test"),
    TaskType.INFRASTRUCTURE: (
        "Containerise",
        "Add monitoring to",
        "Automate deploys of",
    ),
}


_max_dependencies: Final = an_int(low=0)


def _domains(value: Iterable[str] | None) -> tuple[str, ...]:
    return check_domains(value, DEFAULT_DOMAINS)


@attrs.define(kw_only=True)
class ProceduralGenerator:
    """Requirements whose ``depends_on`` form a dependency DAG.

    Requirement ``n`` may depend only on requirements generated before it (up to
    ``max_dependencies`` of them, drawn by seed), so the graph never has a cycle and
    listing order is a valid work order. Complexity grows with the number of
    dependencies; dependent requirements gain a criterion that they integrate with
    what they build on.

    Args:
        max_dependencies: the most ``depends_on`` entries one requirement gets (>= 0).
        domains: only generate requirements for these domains.

    Raises:
        ConfigError: ``max_dependencies`` is negative or a domain is unknown.

    Example:
        >>> import anyio
        >>> from clientsim import ProceduralGenerator
        >>> gen = ProceduralGenerator(max_dependencies=1)
        >>> reqs = anyio.run(lambda: gen.generate(4, seed=2))
        >>> [r.depends_on for r in reqs]
        [(), (), (), ('proc-2-1',)]
    """

    name: ClassVar[str] = "procedural"

    max_dependencies: int = attrs.field(default=2, validator=_max_dependencies)
    domains: tuple[str, ...] = attrs.field(default=None, converter=_domains)

    @classmethod
    def from_config(cls, **options: Any) -> ProceduralGenerator:
        """Build from plain values: ``max_dependencies``, ``domains``.

        Raises:
            ConfigError: an option is unknown or invalid.
        """
        check_options(cls.name, options, ("max_dependencies", "domains"))
        return cls(
            max_dependencies=options.get("max_dependencies", 2),
            domains=options.get("domains"),
        )

    async def generate(
        self, count: int, *, seed: int = 0
    ) -> tuple[TaskRequirement, ...]:
        """Generate ``count`` requirements in a valid work order.

        Raises:
            ConfigError: ``count`` is below 1.
        """
        check_count(count, seed)
        rng = rng_for(self.name, seed)
        result: list[TaskRequirement] = []
        for index in range(count):
            domain = rng.choice(self.domains)
            component = rng.choice(_COMPONENTS[domain])
            task_type = rng.choice(tuple(TaskType))
            verb = rng.choice(_VERBS[task_type])
            width = rng.randint(0, min(self.max_dependencies, index))
            parents = sorted(rng.sample(range(index), width))
            depends = tuple(result[p].requirement_id for p in parents)
            criteria = default_criteria(task_type, component)
            if depends:
                criteria += (
                    f"Works together with the results of {', '.join(depends)}",
                )
            result.append(
                TaskRequirement(
                    title=f"{verb} the {component} (step {index + 1})",
                    description=(
                        f"{verb} the {component} in the {domain} area."
                        + (
                            f" Builds on {', '.join(depends)}, which must be done first."
                            if depends
                            else " Has no prerequisites."
                        )
                    ),
                    task_type=task_type,
                    priority=pick_priority(rng),
                    complexity=min(5, rng.randint(1, 3) + len(depends)),
                    acceptance_criteria=criteria,
                    domain=domain,
                    requirement_id=f"proc-{seed}-{index + 1}",
                    depends_on=depends,
                )
            )
        return emitted(self.name, tuple(result))
