"""What both run stores share for team sessions: checking, encoding and decoding.

A :class:`~clientsim.models.team.TeamSessionRecord` is kept as its id, its parent's
id, its two timestamps and its document as JSON text. Both stores encode the
document the same way, refuse the same values (anything JSON cannot give back
exactly: non-string keys, ``NaN``, sets, objects), and return fresh records.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from clientsim.errors import ConfigError, InvalidTypeError, SimulationError
from clientsim.models.team import TeamSessionRecord
from clientsim.store.memory import check_id


__all__ = ["check_session", "decode_session", "encode_document"]

_MAX_DEPTH: Final = 200


def check_session(record: object) -> TeamSessionRecord:
    """Refuse anything but a TeamSessionRecord with storable ids."""
    if not isinstance(record, TeamSessionRecord):
        raise InvalidTypeError(
            f"save_team_session takes a TeamSessionRecord; got {type(record).__name__}"
        )
    check_id(record.session_id, "record.session_id")
    if record.parent_id is not None:
        check_id(record.parent_id, "record.parent_id")
    return record


def encode_document(record: TeamSessionRecord) -> str:
    """The record's document as JSON text that decodes to an equal document.

    Raises:
        ConfigError: the document holds something JSON cannot give back exactly;
            the message says where (``document['turns'][3]``) and what is allowed.
    """
    _check_json(record.document, "document", record.session_id, 0)
    # ASCII escapes keep any text storable, lone surrogates included.
    return json.dumps(record.document, allow_nan=False)


def _check_json(value: object, where: str, session_id: str, depth: int) -> None:
    if depth > _MAX_DEPTH:
        _refuse(session_id, where, f"nested more than {_MAX_DEPTH} levels deep")
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            _refuse(session_id, where, f"the number {value!r}")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                _refuse(session_id, where, f"the key {key!r} (keys must be strings)")
            _check_json(item, f"{where}[{key!r}]", session_id, depth + 1)
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_json(item, f"{where}[{index}]", session_id, depth + 1)
        return
    _refuse(session_id, where, f"a {type(value).__name__}")


def _refuse(session_id: str, where: str, what: str) -> None:
    raise ConfigError(
        f"team session {session_id!r} cannot be stored: {where} holds {what}; a "
        "session document is JSON data (mappings with string keys, lists, strings, "
        "finite numbers, booleans, None)"
    )


def decode_session(
    session_id: str,
    parent_id: str | None,
    document: str,
    created_at: str | datetime,
    updated_at: str | datetime,
    *,
    where: str = "the store",
) -> TeamSessionRecord:
    """A record back from what a store kept.

    Raises:
        SimulationError: the document is not a JSON object (the store was changed
            or damaged outside clientsim).
    """
    try:
        data: Any = json.loads(document)
    except (json.JSONDecodeError, RecursionError, TypeError) as exc:
        data = exc
    if not isinstance(data, dict):
        raise SimulationError(
            f"the document of team session {session_id!r} in {where} is not a JSON "
            "object; the store was changed outside clientsim: restore it from a "
            "backup, or start the session again"
        )
    return TeamSessionRecord(
        session_id=session_id,
        parent_id=parent_id,
        document=data,
        created_at=_moment(created_at),
        updated_at=_moment(updated_at),
    )


def _moment(value: str | datetime) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value
