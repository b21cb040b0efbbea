"""Small converters shared by the participant factories (config values to objects)."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from clientsim.errors import ConfigError
from clientsim.models import Intent, ParticipantRole
from clientsim.models.persona import Persona


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


def persona_of(value: object) -> Persona:
    """A :class:`~clientsim.models.persona.Persona` from one, or from its fields as a
    mapping (a config file's ``persona:``).

    Raises:
        ConfigError: anything else, or a mapping whose keys or values do not fit
            (the message names the key).
    """
    if isinstance(value, Persona):
        return value
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"persona must be a Persona or a mapping of its fields (id, name, "
            f"demographics, ...); got {type(value).__name__}"
        )
    allowed = [field.name for field in attrs.fields(Persona)]
    unknown = sorted(str(key) for key in value if key not in allowed)
    if unknown:
        raise ConfigError(
            f"persona: unknown key {unknown[0]!r}; allowed: {', '.join(allowed)}"
        )
    try:
        return Persona(**{str(key): item for key, item in value.items()})
    except TypeError as exc:  # a required field is missing
        raise ConfigError(f"persona: {exc}; required: id, name") from exc
