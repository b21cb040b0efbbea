"""Records the store tests share: a conversation record and a team session record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clientsim.models import (
    Conversation,
    ConversationRecord,
    ConversationResult,
    Ending,
    ErrorRecord,
    GridCell,
    Message,
    Outcome,
    ParticipantRole,
    RunStatus,
    TokenUsage,
    TokenUsageReport,
    ToolCall,
)
from clientsim.models.team import TeamSessionRecord


START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SESSION_START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def make_record(
    key: int = 0,
    *,
    run_id: str = "run-1",
    seed: int = 7,
    failed: bool = False,
) -> ConversationRecord:
    """A record with a real result: two messages, an ending, usage, maybe an error."""
    messages = [
        Message("My parcel is late", START, ParticipantRole.CUSTOMER),
        Message(
            "Sorry! It ships today.",
            START + timedelta(seconds=9),
            ParticipantRole.AGENT,
            # kept by both stores: nested JSON arguments, an id and a result
            tool_calls=[
                ToolCall("ship_status", {"order": ["A1", {"n": 2}]}, "c1", result="ok")
            ],
        ),
    ]
    error = (
        ErrorRecord(
            source="channel",
            type="builtins.TimeoutError",
            message="no reply in 30 s",
            transient=True,
        )
        if failed
        else None
    )
    outcome = None if failed else Outcome("resolved", "The customer's issue was fixed")
    result = ConversationResult(
        Conversation(messages, outcome),
        2.5,
        ending=Ending(
            reason="error" if failed else "outcome_reached",
            detail="the agent stopped answering" if failed else "resolved",
            message_count=2,
        ),
        token_usage=TokenUsageReport(
            customer=TokenUsage(
                input_tokens=40, output_tokens=9, total_tokens=49, calls=1
            )
        ),
        error=error,
    )
    return ConversationRecord(
        run_id=run_id,
        cell=GridCell(input_id=str(key), persona_id="impatient", iteration=key % 3),
        seed=seed,
        status=RunStatus.FAILED if failed else RunStatus.DONE,
        input="Where is my parcel?",
        result=result,
        error=error,
        attempts=2 if failed else 1,
        started_at=START + timedelta(minutes=key),
        duration_seconds=2.5,
        models={
            "offline": TokenUsage(input_tokens=40, output_tokens=9, total_tokens=49)
        },
    )


def session(
    session_id: str = "s-1",
    *,
    turn: int = 0,
    parent_id: str | None = None,
    created: int = 0,
    updated: int | None = None,
) -> TeamSessionRecord:
    """A record with a document like the teams package writes: nested, unicode, floats."""
    return TeamSessionRecord(
        session_id=session_id,
        parent_id=parent_id,
        document={
            "scenario": {"title": "Launch décision 🚀", "budget": 1.5e6},
            "team": ["CEO", "Designer"],
            "seed": 7,
            "turn": turn,
            "transcript": [
                {"speaker": {"name": "CEO", "role": "CEO"}, "content": "Go?"},
                {"speaker": None, "content": "\ud800 lone surrogate", "score": -0.1},
            ],
            "memory": {"CEO": {"window": [], "summary": "", "facts": ["ship Q3"]}},
            "analysis": None,
            "confidence": 0.30000000000000004,
            "done": False,
        },
        created_at=SESSION_START + timedelta(minutes=created),
        updated_at=SESSION_START
        + timedelta(minutes=created if updated is None else updated),
    )
