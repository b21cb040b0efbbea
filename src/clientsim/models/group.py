"""Who said a message in a conversation of more than two: a speaker's name and role.

A two-sided conversation needs only :class:`~clientsim.models.ParticipantRole` (customer
or agent). A group conversation (a team meeting, a focus group) has N named
participants: each of its messages carries a :class:`Speaker` on ``message.speaker``.
"""

from __future__ import annotations

from typing import Final

import attrs

from clientsim._validators import typed
from clientsim.errors import InvalidTypeError


__all__ = ["Speaker"]

_instance_of_str: Final = typed(str)


def _named(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.strip():
        raise InvalidTypeError(f"a speaker's {attribute.name} must not be blank")


@attrs.frozen
class Speaker:
    """The participant of a group conversation who wrote a message.

    Attributes:
        name: the participant's name, unique within its group (``"Dana"``, ``"CEO"``).
        role: what part it plays (``"Product Manager"``); ``""`` when it has none.

    Example:
        >>> Speaker("Dana", "Designer").label
        'Dana (Designer)'
        >>> Speaker("CEO", "CEO").label
        'CEO'
    """

    name: str = attrs.field(validator=[_instance_of_str, _named])
    role: str = attrs.field(default="", validator=_instance_of_str)

    @property
    def label(self) -> str:
        """How others see the speaker: ``"name (role)"``, or the name alone when the
        role is empty or the same as the name."""
        if not self.role or self.role == self.name:
            return self.name
        return f"{self.name} ({self.role})"
