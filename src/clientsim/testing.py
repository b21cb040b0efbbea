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


# Not a cycle being hidden: OfflineChatModel subclasses LangChain's BaseChatModel, and
# importing it plainly here would make `import clientsim.testing` load LangChain (about
# 0.8 s and 670 more modules) for tests that only want ScriptedParticipant. The same
# lazy serving as clientsim/__init__.py and clientsim/llm/__init__.py.
def __getattr__(name: str) -> Any:
    if name == "OfflineChatModel":
        from clientsim.llm.offline import OfflineChatModel  # noqa: PLC0415

        return OfflineChatModel
    raise AttributeError(f"module 'clientsim.testing' has no attribute {name!r}")
