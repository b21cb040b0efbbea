"""Frozen values: pure data, no I/O, no LangChain."""

from clientsim.config import from_dict, from_json, to_dict, to_json
from clientsim.models.conversation import (
    Conversation,
    ConversationResult,
    Ending,
    ErrorRecord,
    Message,
    MessageDraft,
    TokenUsage,
    TokenUsageReport,
)
from clientsim.models.intent import Intent, Outcome, Outcomes
from clientsim.models.records import ConversationRecord, GridCell, RunStatus
from clientsim.models.roles import ParticipantRole


__all__ = [
    "Conversation",
    "ConversationRecord",
    "ConversationResult",
    "Ending",
    "ErrorRecord",
    "GridCell",
    "Intent",
    "Message",
    "MessageDraft",
    "Outcome",
    "Outcomes",
    "ParticipantRole",
    "RunStatus",
    "TokenUsage",
    "TokenUsageReport",
    "from_dict",
    "from_json",
    "to_dict",
    "to_json",
]
