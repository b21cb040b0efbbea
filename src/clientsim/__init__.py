"""clientsim: rehearse AI agents against simulated clients before real ones arrive.

The top level re-exports the public API; everything else is reachable by module path.
"""

import typing as _typing

from clientsim.errors import ClientSimError, ConfigError
from clientsim.evaluation import (
    LLMOutcomeEvaluator,
    OutcomeEvaluator,
    RuleBasedOutcomeEvaluator,
)
from clientsim.models import (
    Conversation,
    ConversationResult,
    Ending,
    Intent,
    Message,
    MessageDraft,
    Outcome,
    Outcomes,
    ParticipantRole,
    TokenUsage,
)
from clientsim.participants import (
    LLMParticipant,
    Participant,
    ScriptedParticipant,
    TypingModel,
)
from clientsim.plugins import hookimpl
from clientsim.runners import FullSimulationRunner, HybridSimulationRunner, Runner


if _typing.TYPE_CHECKING:
    from clientsim.llm import OfflineChatModel

__all__ = [
    "ClientSimError",
    "ConfigError",
    "Conversation",
    "ConversationResult",
    "Ending",
    "FullSimulationRunner",
    "HybridSimulationRunner",
    "Intent",
    "LLMOutcomeEvaluator",
    "LLMParticipant",
    "Message",
    "MessageDraft",
    "OfflineChatModel",
    "Outcome",
    "OutcomeEvaluator",
    "Outcomes",
    "Participant",
    "ParticipantRole",
    "RuleBasedOutcomeEvaluator",
    "Runner",
    "ScriptedParticipant",
    "TokenUsage",
    "TypingModel",
    "__version__",
    "hookimpl",
]


def __getattr__(name: str) -> _typing.Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

        try:
            return version("clientsim")
        except PackageNotFoundError:  # running from a source tree
            from clientsim._version import __version__  # noqa: PLC0415

            return __version__
    if name == "OfflineChatModel":
        from clientsim.llm.offline import OfflineChatModel  # noqa: PLC0415

        return OfflineChatModel
    raise AttributeError(f"module 'clientsim' has no attribute {name!r}")
