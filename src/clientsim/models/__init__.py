"""Frozen values: pure data, no I/O, no LangChain."""

from clientsim.models._serialization import from_dict, from_json, to_dict, to_json
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
from clientsim.models.simulated import SimulatedRun, SimulationRuns


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
    "SimulatedRun",
    "SimulationRuns",
    "TokenUsage",
    "TokenUsageReport",
    "from_dict",
    "from_json",
    "to_dict",
    "to_json",
]
