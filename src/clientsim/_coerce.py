"""Small converters shared by the participant factories (config values to objects)."""

from __future__ import annotations

from clientsim.errors import ConfigError
from clientsim.models import Intent, ParticipantRole


def role_of(value: object) -> ParticipantRole:
    """A role from a ``ParticipantRole`` or its value (``"customer"``/``"agent"``)."""
    if isinstance(value, ParticipantRole):
        return value
    try:
        return ParticipantRole(str(value).lower())
    except ValueError:
        raise ConfigError(
            f"role must be 'customer' or 'agent'; got {value!r}"
        ) from None


def intent_of(value: object, role: ParticipantRole) -> Intent | None:
    """An intent from an ``Intent``, a description string, or ``None``."""
    if value is None or isinstance(value, Intent):
        return value
    if isinstance(value, str):
        return Intent(role=role, description=value)
    raise ConfigError(f"intent must be a description string; got {value!r}")
