"""The offline model judging a journey's trigger preconditions and reactions.

``precondition_check`` (a statement about a persona, such as ``"the persona sounds
frustrated"``): the system prompt carries ``Statement: ...``; the user turn shows the
journey, its latest touchpoint under ``Latest touchpoint (...)``, the persona's lines
starting ``Persona:``. The statement is matched to a concept by its words
(frustrated, interested, confused, price-minded, buying, opting out, trusting), the
concept's cue words are looked for in what the persona said in the latest
touchpoint (a cue right after ``not``, ``no``, ``never`` or ``n't`` does not count),
and a negated statement (``"... is not interested"``) is inverted. A statement with no
known concept holds when at least half of its content words occur in those lines.

``persona_reaction``: the same cues read on the persona's last reply, as changes of
interest and trust and the purchased and opted-out flags.

Deterministic: the seed changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from clientsim.llm.turns import Turn


__all__ = ["answer"]

_STATEMENT: Final = re.compile(r"^Statement:\s*(.+)$", re.MULTILINE)
_LATEST: Final = re.compile(r"^Latest touchpoint\b[^\n]*\n", re.MULTILINE)
_NEGATED_CUE: Final = re.compile(r"(\bnot|\bno|\bnever|n't|\bhardly)\W+(\w+\W+)?$")
_NEGATED_STATEMENT: Final = re.compile(
    r"\b(not|no longer|never|isn't|doesn't|don't|hasn't|didn't)\b"
)
_WORD: Final = re.compile(r"[a-z][a-z'-]{3,}")
_STOP: Final = frozenset(
    (
        "about",
        "after",
        "again",
        "also",
        "been",
        "being",
        "does",
        "from",
        "have",
        "into",
        "just",
        "like",
        "more",
        "much",
        "must",
        "need",
        "only",
        "other",
        "over",
        "persona",
        "person",
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
        "very",
        "what",
        "when",
        "which",
        "while",
        "with",
        "would",
        "sounds",
        "seems",
        "feels",
        "customer",
    )
)

# concept -> (words in a statement that name it, cue words in the persona's lines)
_CONCEPTS: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "frustrated": (
        ("frustrat", "annoy", "angry", "irritat", "upset", "fed up", "unhappy"),
        (
            "frustrat",
            "annoy",
            "angry",
            "irritat",
            "spam",
            "too many",
            "waste",
            "sick of",
            "fed up",
            "stop",
            "not interested",
            "leave me alone",
            "pushy",
            "ridiculous",
        ),
    ),
    "opted_out": (
        ("unsubscrib", "opt out", "opted out", "no more", "stop contact"),
        (
            "unsubscribe",
            "stop sending",
            "stop emailing",
            "stop contacting",
            "opt out",
            "opt me out",
            "remove me",
            "leave me alone",
            "don't contact",
        ),
    ),
    "buying": (
        ("buy", "purchas", "order", "sign up", "signed up", "convert"),
        (
            "i'll buy",
            "i will buy",
            "bought",
            "ordered",
            "purchased",
            "signed up",
            "sign me up",
            "i'll take it",
            "placed an order",
        ),
    ),
    "price": (
        ("price", "expensive", "cost", "afford", "cheap", "discount"),
        (
            "expensive",
            "price",
            "cost",
            "afford",
            "cheaper",
            "discount",
            "deal",
            "budget",
        ),
    ),
    "confused": (
        ("confus", "unclear", "lost", "understand"),
        (
            "confus",
            "don't understand",
            "not sure what",
            "unclear",
            "what does",
            "what is",
        ),
    ),
    "interested": (
        ("interest", "excit", "keen", "curious", "enthusias", "engaged", "positive"),
        (
            "interested",
            "interesting",
            "sounds good",
            "sounds great",
            "love",
            "great",
            "tell me more",
            "curious",
            "keen",
            "excited",
            "want to try",
            "like this",
            "like the",
            "looks good",
            "i like",
            "like it",
            "nice",
        ),
    ),
    "trusting": (
        ("trust", "reliab", "credible", "believ"),
        ("trust", "reliable", "reassur", "makes sense", "fair enough", "honest"),
    ),
}

_POSITIVE: Final = _CONCEPTS["interested"][1] + ("helpful", "useful", "appealing")
_NEGATIVE: Final = (
    "not interested",
    "annoy",
    "spam",
    "too many",
    "too expensive",
    "frustrat",
    "waste",
    "no thanks",
    "not for me",
    "irritat",
    "pushy",
    "sick of",
    "fed up",
    "don't need",
    "do not need",
    "not convinced",
    "not really my thing",
    "doesn't do much",
)


def answer(name: str, turns: Sequence[Turn], seed: int) -> dict[str, Any]:  # noqa: ARG001
    """The offline judgement for the schema titled ``name``."""
    if name == "persona_reaction":
        return _reaction(turns)
    system = "\n".join(t.content for t in turns if t.role == "system")
    found = _STATEMENT.search(system)
    statement = found.group(1).strip() if found else system
    said = _persona_lines(turns)
    lowered = statement.lower()
    negated = bool(_NEGATED_STATEMENT.search(lowered))
    concept = next(
        (
            key
            for key, (names, _) in _CONCEPTS.items()
            if any(word in lowered for word in names)
        ),
        None,
    )
    if concept is not None:
        cues = _CONCEPTS[concept][1]
        hits = [cue for cue in cues if _count(said, (cue,))]
        holds = bool(hits) != negated
        if hits:
            why = f"the persona said {', '.join(repr(h) for h in hits[:3])}"
        else:
            why = f"nothing the persona said sounds {concept.replace('_', ' ')}"
        return {"holds": holds, "reason": f"{why} ({concept})"}
    words = sorted({w for w in _WORD.findall(lowered) if w not in _STOP})
    present = [w for w in words if w in said.lower()]
    holds = bool(words) and 2 * len(present) >= len(words)
    return {
        "holds": holds,
        "reason": (
            f"the persona's words include {', '.join(present)}"
            if present
            else "the persona said nothing of the kind"
        ),
    }


def _persona_lines(turns: Sequence[Turn]) -> str:
    """What the persona said in the latest touchpoint (all it said if no section)."""
    text = "\n".join(t.content for t in turns if t.role == "user")
    found = list(_LATEST.finditer(text))
    if found:
        text = text[found[-1].end() :]
    lines = [
        line.partition(":")[2].strip()
        for line in text.splitlines()
        if line.startswith("Persona:")
    ]
    return "\n".join(lines)


def _count(text: str, cues: tuple[str, ...]) -> int:
    lowered = text.lower().replace("\N{RIGHT SINGLE QUOTATION MARK}", "'")
    found = 0
    for cue in cues:
        start = lowered.find(cue)
        while start != -1:
            if not _NEGATED_CUE.search(lowered[max(0, start - 24) : start]):
                found += 1
            start = lowered.find(cue, start + len(cue))
    return found


def _reaction(turns: Sequence[Turn]) -> dict[str, Any]:
    replies = [t.content for t in turns if t.role == "assistant"]
    reply = replies[-1] if replies else ""
    opted_out = _count(reply, _CONCEPTS["opted_out"][1]) > 0
    purchased = _count(reply, _CONCEPTS["buying"][1]) > 0
    score = max(-2, min(2, _count(reply, _POSITIVE) - _count(reply, _NEGATIVE)))
    score += 1 if purchased else 0
    if opted_out:
        score = min(score, -2)
    return {
        "interest_change": round(0.15 * score, 4),
        "trust_change": round(0.05 * score if score >= 0 else 0.1 * score, 4),
        "purchased": purchased,
        "opted_out": opted_out,
    }
