"""Pieces of the batch runner kept apart to keep :mod:`clientsim.runners.batch` short:
the check that cells have distinct keys, and the results of conversations that could
not be built or ran out of time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from clientsim.errors import ConfigError
from clientsim.models import (
    Conversation,
    ConversationResult,
    Ending,
    ErrorRecord,
    ParticipantRole,
)


if TYPE_CHECKING:
    from clientsim.runners.batch import BatchCell

__all__ = ["check_distinct", "empty_result", "timed_out_result"]


def check_distinct(cells: Sequence[BatchCell]) -> None:
    """Refuse repeated cell keys (one walk, one set of keys)."""
    seen: set[str] = set()
    repeated: set[str] = set()
    for cell in cells:
        key = cell.cell.key
        if key in seen:
            repeated.add(key)
        seen.add(key)
    if repeated:
        raise ConfigError(
            f"every cell of a batch needs its own key; repeated: {sorted(repeated)[:5]}"
        )


def empty_result(error: ErrorRecord) -> ConversationResult:
    return ConversationResult(
        Conversation(()),
        0.0,
        ending=Ending(reason="error", detail=error.message),
        error=error,
    )


def timed_out_result(
    conversation: Conversation,
    elapsed: float,
    limit: float | None,
    pending: float | None = None,
) -> ConversationResult:
    last = conversation.last_message
    # Waiting on the agent (the customer spoke last) is the agent's timeout.
    source = (
        "agent"
        if last is None or last.sender is ParticipantRole.CUSTOMER
        else "customer"
    )
    detail = f"the conversation ran past its {limit:g} s timeout"
    if pending is not None:
        detail += (
            f"; an agent call was abandoned after {pending:.1f}s without returning"
        )
    return ConversationResult(
        conversation,
        elapsed,
        ending=Ending(
            reason="timeout", detail=detail, message_count=len(conversation.messages)
        ),
        error=ErrorRecord(source=source, type="TimeoutError", message=detail),
    )
