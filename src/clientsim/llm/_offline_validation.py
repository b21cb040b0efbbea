"""The offline model's real-or-simulated judgements (schema title
``real_or_simulated``).

It reads the answer after ``Answer:`` in the last user turn and calls it simulated
when it reads like generated text: it starts with a capital letter, ends with a full
stop, and has no lowercase "i" standing alone, no doubled punctuation and no
shorthand ("u", "gonna", "idk", "lol"). Anything else is called real. The same answer
always gets the same verdict.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from clientsim.llm.turns import Turn


__all__ = ["answer"]

_ANSWER: Final = re.compile(r"Answer:\s*(.*)", re.DOTALL)
_CASUAL: Final = re.compile(
    r"(\bi\b|(?i:\bu\b|gonna|wanna|idk|lol|tbh)|!!|\?\?|\.\.\.)"
)


def answer(name: str, turns: Sequence[Turn], seed: int) -> dict[str, Any]:  # noqa: ARG001
    """``{"real": bool, "reason": str}`` for the answer in the last user turn."""
    last = next((t.content for t in reversed(turns) if t.role == "user"), "")
    match = _ANSWER.search(last)
    text = (match.group(1) if match else last).strip()
    polished = (
        bool(text)
        and text[0].isupper()
        and text.endswith(".")
        and _CASUAL.search(text) is None
    )
    if polished:
        return {"real": False, "reason": "polished, complete sentences"}
    return {"real": True, "reason": "casual or unfinished writing"}
