"""The attrs validators of :class:`~clientsim.runners.HybridSimulationRunner`'s options."""

from __future__ import annotations

from typing import Any, Final

import attrs

from clientsim.errors import ConfigError
from clientsim.models import MessageDraft, ParticipantRole
from clientsim.runners._core import check_seconds


_CUSTOMER: Final = ParticipantRole.CUSTOMER


def check_channel(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not callable(getattr(value, "create_session", None)):
        raise ConfigError(
            f"{attribute.name} must be a Channel (an object with an async "
            f"create_session() method); got {type(value).__name__}"
        )


def check_customer_opener(
    _: object, attribute: attrs.Attribute[Any], value: Any
) -> None:
    if value is None:
        return
    if not isinstance(value, MessageDraft) or value.sender is not _CUSTOMER:
        raise ConfigError(
            f"{attribute.name} must be None or a MessageDraft from the CUSTOMER: in a "
            "hybrid run the real agent speaks for itself"
        )


def check_optional_seconds(
    _: object, attribute: attrs.Attribute[Any], value: Any
) -> None:
    if value is not None:
        check_seconds(_, attribute, value)


def check_overlap(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in {"fold", "queue"}:
        raise ConfigError(f"{attribute.name} must be 'fold' or 'queue'; got {value!r}")
