"""The two sides of a conversation."""

from __future__ import annotations

import enum


__all__ = ["ParticipantRole"]


class ParticipantRole(enum.Enum):
    """Which side of a conversation a message or an intent belongs to."""

    AGENT = "agent"
    CUSTOMER = "customer"

    @property
    def other(self) -> ParticipantRole:
        """The opposite side: ``CUSTOMER.other is AGENT``."""
        return ParticipantRole.CUSTOMER if self is ParticipantRole.AGENT else self.AGENT
