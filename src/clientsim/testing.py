"""Public fakes for testing code that uses clientsim, all offline and deterministic.

- :class:`~clientsim.participants.ScriptedParticipant`: says fixed lines.
- :class:`~clientsim.llm.OfflineChatModel`: a LangChain chat model with no network,
  structured output included (imported lazily, as it loads LangChain).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clientsim.participants.scripted import ScriptedParticipant


if TYPE_CHECKING:
    from clientsim.llm.offline import OfflineChatModel

__all__ = ["OfflineChatModel", "ScriptedParticipant"]


def __getattr__(name: str) -> Any:
    if name == "OfflineChatModel":
        from clientsim.llm.offline import OfflineChatModel  # noqa: PLC0415

        return OfflineChatModel
    raise AttributeError(f"module 'clientsim.testing' has no attribute {name!r}")
