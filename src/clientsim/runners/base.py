"""The runner contract shared by every conversation runner."""

from __future__ import annotations

import abc
from typing import Any

from clientsim.models import Conversation, ConversationResult


__all__ = ["Runner"]


class Runner(abc.ABC):
    """Runs one conversation. Runners are single-use: one runner, one ``run()``."""

    @abc.abstractmethod
    async def run(self) -> ConversationResult:
        """Run the conversation to its end and return the result."""

    @property
    @abc.abstractmethod
    def conversation(self) -> Conversation:
        """The conversation as it stands (read-only)."""

    @property
    @abc.abstractmethod
    def is_complete(self) -> bool:
        """``True`` once the conversation has ended."""

    @abc.abstractmethod
    def get_progress(self) -> dict[str, Any]:
        """Progress so far: ``message_count``, ``max_messages``, ``is_complete``,
        ``outcome`` and ``elapsed_seconds``."""
