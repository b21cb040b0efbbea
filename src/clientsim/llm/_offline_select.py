"""The offline model as a speaker selector (schema title ``next_speaker``).

Reads the prompt of :class:`~clientsim.turns.llm_selector.LLMSelector`: the
candidates (one a line, ``- name | role | description``, in the group's order after the
last speaker) and the last message. Picks the candidate the last message addresses,
else the one whose role and description share the most words with it, ties going to
the first listed. Deterministic: the seed changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from clientsim.llm.turns import Turn


__all__ = ["answer"]

_WORD: Final = re.compile(r"[a-z][a-z'-]{3,}")
_LAST: Final = re.compile(r"\n\nLast message, from [^\n]*:\n", re.IGNORECASE)
_COMMON: Final = frozenset(
    [
        "about",
        "after",
        "again",
        "also",
        "been",
        "being",
        "could",
        "does",
        "done",
        "from",
        "have",
        "into",
        "just",
        "like",
        "make",
        "more",
        "most",
        "much",
        "must",
        "need",
        "only",
        "other",
        "over",
        "same",
        "should",
        "some",
        "such",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "very",
        "what",
        "when",
        "where",
        "which",
        "while",
        "will",
        "with",
        "would",
        "your",
        "you're",
        "we're",
    ]
)


def _words(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.lower()) if word not in _COMMON}


def _candidates(system: str) -> list[tuple[str, str, str]]:
    found = []
    for line in system.splitlines():
        if line.startswith("- ") and line.count(" | ") >= 2:
            name, role, description = line[2:].split(" | ", 2)
            found.append((name.strip(), role.strip(), description.strip()))
    return found


def answer(name: str, turns: Sequence[Turn], seed: int) -> dict[str, Any]:  # noqa: ARG001
    """The selector's answer: ``{"speaker": <name>, "reason": <sentence>}``."""
    from clientsim.turns.addressed import addressee  # noqa: PLC0415
    from clientsim.turns.base import MemberInfo  # noqa: PLC0415

    system = "\n".join(turn.content for turn in turns if turn.role == "system")
    user = "\n".join(turn.content for turn in turns if turn.role == "user")
    candidates = _candidates(system)
    if not candidates:
        return {"speaker": "", "reason": "no candidates were given"}
    parts = _LAST.split(user, maxsplit=1)
    last = parts[1] if len(parts) == 2 else ""
    members = [MemberInfo(n, r, d) for n, r, d in candidates]
    named = addressee(last, members)
    if named is not None:
        return {"speaker": named, "reason": f"the last message addresses {named}"}
    said = _words(last)
    best, score = candidates[0][0], 0
    for member, role, description in candidates:
        overlap = len(said & _words(f"{role} {description}"))
        if overlap > score:
            best, score = member, overlap
    if score == 0:
        return {"speaker": best, "reason": f"{best} is next in the group's order"}
    return {
        "speaker": best,
        "reason": f"{best}'s role fits what was just said best",
    }
