"""Frozen values of both halves: pure data, no I/O, no LangChain.

The conversation values (:class:`Conversation`, :class:`Message`, :class:`Intent`, ...)
and the client simulation values of seed 000 (:class:`ClientProfile`,
:class:`TaskRequirement`, :class:`ClientRequest`, :class:`Task`, ...), with the request
and task lifecycles.
"""

from clientsim.config import from_dict, from_json, to_dict, to_json
from clientsim.models.client import (
    REQUEST_TRANSITIONS,
    TASK_TRANSITIONS,
    ClientFeedback,
    ClientProfile,
    ClientRequest,
    Priority,
    RequestStatus,
    ReviewContext,
    ReviewStageResult,
    ReviewVerdict,
    SubmitContext,
    Task,
    TaskRequirement,
    TaskSource,
    TaskStatus,
    TaskType,
)
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
from clientsim.models.timeouts import DEFAULT_TIMEOUTS, Timeouts


__all__ = [
    "DEFAULT_TIMEOUTS",
    "REQUEST_TRANSITIONS",
    "TASK_TRANSITIONS",
    "ClientFeedback",
    "ClientProfile",
    "ClientRequest",
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
    "Priority",
    "RequestStatus",
    "ReviewContext",
    "ReviewStageResult",
    "ReviewVerdict",
    "RunStatus",
    "SimulatedRun",
    "SimulationRuns",
    "SubmitContext",
    "Task",
    "TaskRequirement",
    "TaskSource",
    "TaskStatus",
    "TaskType",
    "Timeouts",
    "TokenUsage",
    "TokenUsageReport",
    "from_dict",
    "from_json",
    "to_dict",
    "to_json",
]
