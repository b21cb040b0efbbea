"""The client pool (seed 000): how many clients of each kind, and who files next.

Example:
    >>> config = ClientPoolConfig(size=4, selection_strategy="domain_matched")
    >>> config.counts()
    {'ai': 4, 'human': 0, 'hybrid': 0}
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any, Final, Protocol, runtime_checkable

import attrs

from clientsim._validators import check_int, check_number
from clientsim.clients.base import ClientInterface
from clientsim.errors import ConfigError
from clientsim.models.client import TaskRequirement


__all__ = [
    "BUILTINS",
    "ClientPoolConfig",
    "ClientSelectionStrategy",
    "DomainMatchedStrategy",
    "RoundRobinStrategy",
    "WeightedRandomStrategy",
]

_MAX_POOL: Final = 10_000


def _size(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_int(f"pool {attribute.name}", value, low=1, high=_MAX_POOL)


def _ratio(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_number(f"pool {attribute.name}", value, low=0, high=1)


def _strategy_name(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ConfigError(
            f"pool {attribute.name} must name a selection strategy, e.g. "
            f"'round_robin'; got {value!r}"
        )


def _names(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        raise ConfigError(
            f"pool domains must be a list of names, not one string; got {value!r} "
            "(wrap it in [])"
        )
    if not isinstance(value, list | tuple):
        raise ConfigError(f"pool domains must be a list of names; got {value!r}")
    return tuple(value)


@attrs.frozen(kw_only=True)
class ClientPoolConfig:
    """How the simulation's client pool is made.

    Attributes:
        size: how many clients.
        ai_ratio: the share of AI clients.
        human_ratio: the share of human clients.
        hybrid_ratio: the share of hybrid clients (AI drafts, a human confirms).
        selection_strategy: who files the next requirement: ``round_robin``,
            ``weighted_random`` or ``domain_matched`` (or a plugin's name).
        strictness_range: generated profiles get strictness levels spread evenly
            over this range.
        domains: expertise domains handed out to generated profiles (the built-in
            requirement generators use backend, frontend, data, infra, security,
            mobile and docs).

    The three ratios must add up to 1; counts are rounded by largest remainder so
    they add up to ``size``.
    """

    size: int = attrs.field(default=5, validator=_size)
    ai_ratio: float = attrs.field(default=1.0, validator=_ratio)
    human_ratio: float = attrs.field(default=0.0, validator=_ratio)
    hybrid_ratio: float = attrs.field(default=0.0, validator=_ratio)
    selection_strategy: str = attrs.field(
        default="round_robin", validator=_strategy_name
    )
    strictness_range: tuple[float, float] = attrs.field(
        default=(0.2, 0.8), converter=tuple
    )
    domains: tuple[str, ...] = attrs.field(
        default=("backend", "frontend", "data", "infra", "security", "mobile", "docs"),
        converter=_names,
    )

    def __attrs_post_init__(self) -> None:
        total = self.ai_ratio + self.human_ratio + self.hybrid_ratio
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ConfigError(
                "pool ai_ratio + human_ratio + hybrid_ratio must add up to 1.0; got "
                f"{self.ai_ratio} + {self.human_ratio} + {self.hybrid_ratio} = {total:g}"
            )
        low_high = self.strictness_range
        if (
            len(low_high) != 2
            or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in low_high
            )
            or not 0.0 <= low_high[0] <= low_high[1] <= 1.0
        ):
            raise ConfigError(
                "pool strictness_range must be [low, high] with 0.0 <= low <= high <= "
                f"1.0; got {list(low_high)!r}"
            )
        if not self.domains or not all(
            isinstance(d, str) and d.strip() for d in self.domains
        ):
            raise ConfigError(
                f"pool domains must be a non-empty list of names; got {list(self.domains)!r}"
            )

    def counts(self) -> dict[str, int]:
        """How many clients of each kind: ``{"ai": n, "human": n, "hybrid": n}``."""
        shares = {
            "ai": self.ai_ratio * self.size,
            "human": self.human_ratio * self.size,
            "hybrid": self.hybrid_ratio * self.size,
        }
        counts = {kind: math.floor(share) for kind, share in shares.items()}
        left = self.size - sum(counts.values())
        by_remainder = sorted(
            shares, key=lambda kind: shares[kind] - counts[kind], reverse=True
        )
        for kind in by_remainder[:left]:
            counts[kind] += 1
        return counts

    def strictness_levels(self) -> list[float]:
        """The strictness of each generated profile, spread evenly over the range."""
        low, high = self.strictness_range
        if self.size == 1:
            return [round((low + high) / 2, 3)]
        step = (high - low) / (self.size - 1)
        return [round(low + index * step, 3) for index in range(self.size)]


@runtime_checkable
class ClientSelectionStrategy(Protocol):
    """Picks the client who files the next requirement."""

    def select(
        self,
        clients: Sequence[ClientInterface],
        requirement: TaskRequirement | None = None,
    ) -> ClientInterface:
        """The client to ask next (``requirement``: the drafted work, if any)."""
        ...


def _check_pool(clients: Sequence[ClientInterface]) -> None:
    if not clients:
        raise ConfigError("the client pool is empty; it needs at least one client")


class RoundRobinStrategy:
    """Each client in turn."""

    def __init__(self) -> None:
        self._next = 0

    @classmethod
    def from_config(cls) -> RoundRobinStrategy:
        """Build from config values (there are none)."""
        return cls()

    def select(
        self,
        clients: Sequence[ClientInterface],
        requirement: TaskRequirement | None = None,  # noqa: ARG002 - the protocol's
    ) -> ClientInterface:
        _check_pool(clients)
        client = clients[self._next % len(clients)]
        self._next += 1
        return client


class WeightedRandomStrategy:
    """A seeded random pick; ``weights`` by client id (default 1 each).

    Args:
        weights: relative weight per client id; ids not listed weigh 1.
        seed: makes the picks reproducible.
    """

    def __init__(
        self, weights: dict[str, float] | None = None, *, seed: int = 0
    ) -> None:
        for client_id, weight in (weights or {}).items():
            check_number(f"weight of client {client_id!r}", weight, low=0)
        self.weights = dict(weights or {})
        self._rng = random.Random(seed)

    @classmethod
    def from_config(
        cls, *, weights: dict[str, float] | None = None, seed: int = 0
    ) -> WeightedRandomStrategy:
        """Build from config values."""
        return cls(weights, seed=seed)

    def select(
        self,
        clients: Sequence[ClientInterface],
        requirement: TaskRequirement | None = None,  # noqa: ARG002 - the protocol's
    ) -> ClientInterface:
        _check_pool(clients)
        weights = [
            self.weights.get(client.profile.client_id, 1.0) for client in clients
        ]
        if not any(weights):
            raise ConfigError(
                "every client of the pool has weight 0; give one a weight > 0"
            )
        return self._rng.choices(list(clients), weights=weights, k=1)[0]


class DomainMatchedStrategy:
    """A client whose expertise covers the requirement's domain (in turn among
    them); round robin over everyone when nobody matches or there is no draft."""

    def __init__(self) -> None:
        self._fallback = RoundRobinStrategy()
        self._turns: dict[str, int] = {}

    @classmethod
    def from_config(cls) -> DomainMatchedStrategy:
        """Build from config values (there are none)."""
        return cls()

    def select(
        self,
        clients: Sequence[ClientInterface],
        requirement: TaskRequirement | None = None,
    ) -> ClientInterface:
        _check_pool(clients)
        if requirement is None:
            return self._fallback.select(clients)
        domain = requirement.domain
        matching = [c for c in clients if domain in c.profile.expertise_domains]
        if not matching:
            return self._fallback.select(clients)
        turn = self._turns.get(domain, 0)
        self._turns[domain] = turn + 1
        return matching[turn % len(matching)]


BUILTINS: Final[dict[str, type[Any]]] = {
    "round_robin": RoundRobinStrategy,
    "weighted_random": WeightedRandomStrategy,
    "domain_matched": DomainMatchedStrategy,
}
"""The seed's selection strategies by discriminator name."""
