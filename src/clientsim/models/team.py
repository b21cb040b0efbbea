"""The values of team simulation (seed 001): roles, memory, analyses, stored sessions.

Pure data: the engine that uses them is :mod:`clientsim.teams`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

import attrs

from clientsim._validators import a_number, a_text, an_int, texts, typed
from clientsim.errors import InvalidTypeError
from clientsim.models.conversation import Message
from clientsim.models.frozen import FrozenDict, freeze_mapping
from clientsim.models.timestamps import timestamp_field


__all__ = [
    "MemoryState",
    "RoleTemplate",
    "SessionAnalysis",
    "TeamSessionRecord",
    "role_key",
]

_text: Final = a_text()
_name: Final = a_text(non_empty=True)


def role_key(name: str) -> str:
    """The registry key of a role name: lowercase words joined by ``_``.

    Example:
        >>> role_key("Product Manager")
        'product_manager'
        >>> role_key("engineering-lead")
        'engineering_lead'
    """
    return "_".join(re.findall(r"[a-z0-9]+", name.lower()))


def _messages(value: Iterable[Message]) -> tuple[Message, ...]:
    items = tuple(value)
    for item in items:
        if not isinstance(item, Message):
            raise InvalidTypeError(
                f"expected Message values; got {type(item).__name__}"
            )
    return items


def _positions(value: Mapping[str, Any]) -> FrozenDict[str, Any]:
    return freeze_mapping(value, "positions")


def _document(value: Mapping[str, Any]) -> FrozenDict[str, Any]:
    return freeze_mapping(value, "document")


@attrs.frozen(kw_only=True)
class RoleTemplate:
    """A role a simulated team member plays: who it is and what it weighs.

    The built-in templates (CEO, Product Manager, Engineering Lead, Designer, Sales,
    Support, Simulation Analyst) ship as package data; list them with
    :func:`clientsim.teams.roles`, add your own through the ``role`` registry.

    Attributes:
        name: the role's title, e.g. ``"Product Manager"``; its registry key is
            :attr:`key` (``"product_manager"``).
        description: one sentence on what the role does, shown to the other members
            and to turn policies that choose a speaker.
        goals: what the role wants from the discussion.
        expertise: what it knows well.
        style: how it talks.
        cares_about: what it weighs when the team decides something.
        persona: who the member is as a person (``"Ana, 15 years in B2B sales"``).
        prompt: extra instructions added to the member's system prompt.
        model: the model spec this role uses, when it is not the team's.

    Example:
        >>> role = RoleTemplate(name="Legal", description="Reviews contracts.",
        ...                     cares_about=("liability", "compliance"))
        >>> role.key
        'legal'
    """

    name: str = attrs.field(validator=_name)
    description: str = attrs.field(default="", validator=_text)
    goals: tuple[str, ...] = attrs.field(default=(), converter=texts)
    expertise: tuple[str, ...] = attrs.field(default=(), converter=texts)
    style: str = attrs.field(default="", validator=_text)
    cares_about: tuple[str, ...] = attrs.field(default=(), converter=texts)
    persona: str | None = attrs.field(default=None, validator=typed(str, optional=True))
    prompt: str | None = attrs.field(default=None, validator=typed(str, optional=True))
    model: str | None = attrs.field(default=None, validator=typed(str, optional=True))

    @property
    def key(self) -> str:
        """The registry key: :func:`role_key` of the name."""
        return role_key(self.name)


@attrs.frozen(kw_only=True)
class MemoryState:
    """What one participant remembers at one point of a session.

    Attributes:
        window: the most recent messages, verbatim (the participant's own view).
        summary: a rolling summary of the older messages that left the window.
        facts: long-term facts it keeps (decisions, numbers, commitments).
        summarized: how many transcript messages the summary covers.
    """

    window: tuple[Message, ...] = attrs.field(default=(), converter=_messages)
    summary: str = attrs.field(default="", validator=_text)
    facts: tuple[str, ...] = attrs.field(default=(), converter=texts)
    summarized: int = attrs.field(default=0, validator=an_int(low=0))


@attrs.frozen(kw_only=True)
class SessionAnalysis:
    """The Simulation Analyst's structured reading of a session after one turn.

    Attributes:
        turn: the turn it was written after (1 for the first).
        decisions: decisions the team made.
        open_questions: questions still open.
        risks: risks raised.
        positions: each role's position, by member name.
        confidence: how sure the analyst is of this reading, from 0 to 1.
        summary: a sentence or two on where the session stands.
    """

    turn: int = attrs.field(validator=an_int(low=0))
    decisions: tuple[str, ...] = attrs.field(default=(), converter=texts)
    open_questions: tuple[str, ...] = attrs.field(default=(), converter=texts)
    risks: tuple[str, ...] = attrs.field(default=(), converter=texts)
    positions: FrozenDict[str, Any] = attrs.field(
        factory=FrozenDict, converter=_positions
    )
    confidence: float = attrs.field(default=0.0, validator=a_number(low=0.0, high=1.0))
    summary: str = attrs.field(default="", validator=_text)


@attrs.frozen(kw_only=True)
class TeamSessionRecord:
    """A team session as a store keeps it: its id, lineage and a JSON document.

    The store does not look inside ``document`` (the session's scenario, team, seed,
    transcript, memories and analyses, as :mod:`clientsim.teams` writes them); it
    keeps it whole and gives it back.

    Attributes:
        session_id: the session's id.
        document: the session, as JSON data.
        parent_id: the session it was forked from by a what-if, if any.
        created_at: when it was first saved (timezone-aware UTC).
        updated_at: when it was last saved (timezone-aware UTC).
    """

    session_id: str = attrs.field(validator=_name)
    document: FrozenDict[str, Any] = attrs.field(converter=_document)
    parent_id: str | None = attrs.field(
        default=None, validator=typed(str, optional=True)
    )
    created_at: datetime = attrs.field(converter=timestamp_field)
    updated_at: datetime = attrs.field(converter=timestamp_field)
