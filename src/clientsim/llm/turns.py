"""The neutral message shape that clientsim hands to ``clientsim.llm`` (no LangChain)."""

from __future__ import annotations

from typing import Literal

import attrs


__all__ = ["Turn", "TurnRole"]

TurnRole = Literal["system", "user", "assistant", "tool"]


@attrs.frozen
class Turn:
    """One message as a chat model sees it."""

    role: TurnRole
    content: str
