"""What a participant wants (intent) and how a conversation may end (outcomes)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Final

import attrs

from clientsim._validators import items_of, lone_surrogate, typed
from clientsim.errors import ConfigError
from clientsim.models.roles import ParticipantRole


__all__ = ["Intent", "Outcome", "Outcomes"]

_SLUG: Final = re.compile(r"[a-z0-9]+(?:[_-][a-z0-9]+)*")


def _non_empty_str(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{attribute.name} must be a non-empty string; got {value!r}")
    problem = lone_surrogate(value)
    if problem is not None:
        raise ConfigError(f"{attribute.name} {problem}")


@attrs.frozen
class Intent:
    """A participant's goal for the conversation, in one or two sentences.

    Example:
        >>> Intent(role=ParticipantRole.CUSTOMER, description="Cancel my subscription")
        Intent(role=<ParticipantRole.CUSTOMER: 'customer'>, description='Cancel my subscription')
    """

    role: ParticipantRole = attrs.field(validator=typed(ParticipantRole))
    description: str = attrs.field(validator=_non_empty_str)


def _slug(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or _SLUG.fullmatch(value) is None:
        raise ConfigError(
            f"outcome {attribute.name} must be a lowercase slug (letters a-z, digits, "
            f"single '_' or '-' between them, e.g. 'sale_completed'); got {value!r}"
        )


@attrs.frozen
class Outcome:
    """A labelled way a conversation can end, e.g. ``resolved`` or ``escalated``."""

    name: str = attrs.field(validator=_slug)
    description: str = attrs.field(validator=typed(str))


def _to_outcomes(value: Iterable[Outcome]) -> tuple[Outcome, ...]:
    return items_of(value, Outcome, "outcomes")


@attrs.frozen
class Outcomes:
    """The legal outcome labels of a simulation run; names are unique.

    The name lookup is built once, at construction.

    Example:
        >>> outcomes = Outcomes(outcomes=(Outcome("resolved", "Issue fixed"),))
        >>> outcomes.get_outcome_by_name("resolved").description
        'Issue fixed'
    """

    outcomes: tuple[Outcome, ...] = attrs.field(converter=_to_outcomes)
    _by_name: dict[str, Outcome] = attrs.field(
        init=False, repr=False, eq=False, hash=False
    )

    def __attrs_post_init__(self) -> None:
        by_name: dict[str, Outcome] = {}
        for outcome in self.outcomes:
            if outcome.name in by_name:
                raise ConfigError(
                    f"outcome names must be unique; {outcome.name!r} appears more than once"
                )
            by_name[outcome.name] = outcome
        object.__setattr__(self, "_by_name", by_name)

    def get_outcome_by_name(self, name: str) -> Outcome | None:
        """Return the outcome called ``name``, or ``None`` if there is none."""
        return self._by_name.get(name)

    @property
    def names(self) -> tuple[str, ...]:
        """The outcome names, in the order they were given."""
        return tuple(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Outcome]:
        return iter(self.outcomes)

    def __len__(self) -> int:
        return len(self.outcomes)
