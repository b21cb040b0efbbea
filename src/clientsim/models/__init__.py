"""Frozen values of both halves: pure data, no I/O, no LangChain.

The conversation values (:class:`Conversation`, :class:`Message`, :class:`Intent`, ...)
and the client simulation values of seed 000 (:class:`ClientProfile`,
:class:`TaskRequirement`, :class:`ClientRequest`, :class:`Task`, ...), with the request
and task lifecycles.

Every timestamp a value holds is timezone-aware UTC (a naive one is read as local time
and converted: :func:`as_utc`), and every mapping it holds is read-only
(:class:`FrozenDict`), so values can be hashed.
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
    ReviewStageResult,
    ReviewVerdict,
    Task,
    TaskError,
    TaskRequirement,
    TaskSource,
    TaskStatus,
    TaskTimings,
    TaskType,
)
from clientsim.models.contexts import ReviewContext, SubmitContext
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
from clientsim.models.criteria import (
    CriteriaVerdict,
    CriterionVerdict,
    PairwiseCriterionVerdict,
    PairwiseVerdict,
)
from clientsim.models.frozen import FrozenDict
from clientsim.models.group import Speaker
from clientsim.models.intent import Intent, Outcome, Outcomes
from clientsim.models.records import ConversationRecord, GridCell, RunStatus
from clientsim.models.roles import ParticipantRole
from clientsim.models.simulated import SimulatedRun, SimulationRuns
from clientsim.models.team import (
    MemoryState,
    RoleTemplate,
    SessionAnalysis,
    TeamSessionRecord,
)
from clientsim.models.timeouts import DEFAULT_TIMEOUTS, Timeouts
from clientsim.models.timestamps import as_utc
from clientsim.models.tool_calls import ToolCall


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
    "CriteriaVerdict",
    "CriterionVerdict",
    "Ending",
    "ErrorRecord",
    "FrozenDict",
    "GridCell",
    "Intent",
    "MemoryState",
    "Message",
    "MessageDraft",
    "Outcome",
    "Outcomes",
    "PairwiseCriterionVerdict",
    "PairwiseVerdict",
    "ParticipantRole",
    "Priority",
    "RequestStatus",
    "ReviewContext",
    "ReviewStageResult",
    "ReviewVerdict",
    "RoleTemplate",
    "RunStatus",
    "SessionAnalysis",
    "SimulatedRun",
    "SimulationRuns",
    "Speaker",
    "SubmitContext",
    "Task",
    "TaskError",
    "TaskRequirement",
    "TaskSource",
    "TaskStatus",
    "TaskTimings",
    "TaskType",
    "TeamSessionRecord",
    "Timeouts",
    "TokenUsage",
    "TokenUsageReport",
    "ToolCall",
    "as_utc",
    "from_dict",
    "from_json",
    "to_dict",
    "to_json",
]
