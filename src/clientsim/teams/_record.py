"""A team session as the store keeps it: one JSON document per session.

The document holds everything needed to continue the session in another process and
to fork it: the config (scenario, team file settings), the members' roles, the
transcript, the analyses, and each member's memory every time it changed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import attrs

from clientsim.errors import ConfigError
from clientsim.models import (
    Ending,
    MemoryState,
    Message,
    RoleTemplate,
    SessionAnalysis,
    TeamSessionRecord,
    from_dict,
    to_dict,
)
from clientsim.models.frozen import thaw
from clientsim.teams.scenario import TeamConfig


if TYPE_CHECKING:
    from clientsim.store.base import SimulationStore
    from clientsim.teams.session import TeamSession

__all__ = ["VERSION", "MemorySnapshot", "from_record", "to_record"]

VERSION: Final = 1
"""The document's format version; a newer one is refused with a clear error."""


@attrs.frozen
class MemorySnapshot:
    """One member's memory after a turn, kept when it changed."""

    turn: int
    member: str
    state: MemoryState


def to_record(session: TeamSession) -> TeamSessionRecord:
    """The session as a store record."""
    now = datetime.now(UTC)
    document: dict[str, Any] = {
        "version": VERSION,
        "config": thaw(to_dict(session.config)),
        "members": [
            {"name": name, "role": to_dict(role)} for name, role in session.team
        ],
        "started_at": session.started_at.isoformat(),
        "transcript": [to_dict(message) for message in session.transcript.messages],
        "outcome": _outcome(session),
        "outcome_reached": None
        if session.outcome_reached is None
        else list(session.outcome_reached),
        "analyses": [to_dict(analysis) for analysis in session.analyses],
        "memories": [
            {"turn": snap.turn, "member": snap.member, "state": to_dict(snap.state)}
            for snap in session._memories  # noqa: SLF001 - the record is the session's
        ],
        "ending": None if session.ending is None else to_dict(session.ending),
        "error": _error(session),
        "fork": None
        if session.parent_id is None
        else {"at_turn": session.fork_turn, "change": session.change.to_data()},
        "model_calls": session.token_usage.calls,
    }
    return TeamSessionRecord(
        session_id=session.session_id,
        document=thaw(document),
        parent_id=session.parent_id,
        created_at=session.started_at,
        updated_at=now,
    )


def _outcome(session: TeamSession) -> str | None:
    outcome = session.transcript.outcome
    return outcome.name if outcome else None


def _error(session: TeamSession) -> dict[str, Any] | None:
    error = session.result().error
    return None if error is None else to_dict(error)


def from_record(
    cls: type[TeamSession],
    record: TeamSessionRecord,
    store: SimulationStore,
    *,
    owns_store: bool,
) -> TeamSession:
    """The session a record holds, ready to continue."""
    document = thaw(record.document)
    version = document.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise ConfigError(
            f"team session {record.session_id!r} was saved in format {version!r}; "
            f"this clientsim reads formats up to {VERSION}: upgrade clientsim"
        )
    config = from_dict(document["config"], TeamConfig)
    members = [
        (str(item["name"]), from_dict(item["role"], RoleTemplate))
        for item in document["members"]
    ]
    transcript = [from_dict(item, Message) for item in document["transcript"]]
    snapshots = [
        MemorySnapshot(
            int(item["turn"]),
            str(item["member"]),
            from_dict(item["state"], MemoryState),
        )
        for item in document["memories"]
    ]
    fork = document.get("fork") or {}
    from clientsim.teams.whatif import WhatIfChange  # noqa: PLC0415

    change = fork.get("change") or {}
    session = cls(
        config,
        members,
        store=store,
        session_id=record.session_id,
        parent_id=record.parent_id,
        fork_turn=fork.get("at_turn"),
        change=WhatIfChange(
            sets=change.get("sets", {}),
            add=[
                from_dict(role, RoleTemplate) if isinstance(role, dict) else role
                for role in change.get("add", [])
            ],
            remove=change.get("remove", []),
        ),
        history=transcript,
        analyses=[from_dict(item, SessionAnalysis) for item in document["analyses"]],
        memories=snapshots,
        started_at=datetime.fromisoformat(document["started_at"]),
        owns_store=owns_store,
        reached=_reached(document.get("outcome_reached")),
    )
    if document.get("ending") is not None:
        session._ending = from_dict(document["ending"], Ending)
    return session


def _reached(value: object) -> tuple[str, int] | None:
    if isinstance(value, list) and len(value) == 2:
        name, count = value
        if isinstance(name, str) and isinstance(count, int):
            return name, count
    return None
