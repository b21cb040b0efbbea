"""How the offline model reads a study persona's prompt and what it is shown.

The persona comes from the line-oriented prompt of
:meth:`clientsim.models.persona.Persona.prompt` (``Name:``, ``Demographics:``,
``Style:``, ``Fragments:`` with its ``- description`` lines, ``Leanings:``). What it is
shown is the text between ``---`` lines in the study's messages. A message is scored
against the persona's leanings: each leaning topic (``price``, ``health``,
``price_sensitivity``, ...) is matched to cue words through a small lexicon (a topic
the lexicon does not know is its own cue word), and each topic adds ``weight x
tanh(0.7 x (cues for - cues against))``. A few generic cues (free, easy, a trial) add
a little and pushy ones (act now, don't miss out) take a little away. So a discount
pleases a price-sensitive persona, a message about wellness a health-conscious one,
and two different messages get different, reproducible reactions.
"""

from __future__ import annotations

import functools
import math
import re
import zlib
from collections.abc import Mapping, Sequence
from typing import Final, NamedTuple

import attrs


__all__ = [
    "Hit",
    "Who",
    "content_of",
    "first_person",
    "leaning_hits",
    "score",
    "temperament",
    "topic_affinity",
    "who",
]

_SECTION: Final = re.compile(
    r"^(Name|Segment|Demographics|Background|Style|Traits|Fragments|Leanings):[ \t]*(.*)$"
)
_LEANING: Final = re.compile(r"([\w\-]+)=([+-]?\d+(?:\.\d+)?)")
_SUBJECT: Final = re.compile(
    r"\b(when|if|and|because|so|that|as|while|where|but|or|what|before|after|until)"
    r" you\b"
)
_SHOWN: Final = re.compile(r"^---$\n(.*?)\n^---$", re.DOTALL | re.MULTILINE)

# topic -> (cues for, cues against); matched on lowercased text
# fmt: off
LEXICON: Final[Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "price": (
        ("price", "cheap", "save", "saving", "discount", "deal", "% off", "affordable",
         "budget", "low cost", "free", "coupon", "bargain", "half off", "value"),
        ("expensive", "premium", "luxury", "high-end", "pricey", "costly"),
    ),
    "health": (
        ("health", "wellness", "nutrition", "fitness", "organic", "natural", "vitamin",
         "doctor", "sleep", "diet", "exercise", "fresh", "immune", "heart"),
        ("sugar", "junk", "processed", "greasy", "fried"),
    ),
    "technology": (
        ("app", "smart", "digital", "online", "tech", " ai ", "device", "wireless",
         "automatic", "innovative", "feature", "connected", "software"),
        ("paper form", "in person", "by post", "old-fashioned"),
    ),
    "environment": (
        ("eco", "green", "sustainab", "recycl", "planet", "carbon", "environment",
         "plastic-free", "renewable", "climate", "reusable", "compost"),
        ("plastic", "disposable", "single-use", "diesel"),
    ),
    "time": (
        ("fast", "quick", "minutes", "instant", "save time", "convenient", "on the go",
         "easy", "same-day", "one click", "hassle-free", "delivered"),
        ("wait", "queue", "slow", "appointment", "paperwork", "hours"),
    ),
    "family": (
        ("family", "kids", "children", "child", "parent", "baby", "together", "school",
         "home", "safe for"),
        ("adults only",),
    ),
    "quality": (
        ("quality", "durable", "crafted", "premium", "expert", "award", "reliable",
         "guarantee", "tested", "best"),
        ("flimsy", "cheaply made", "knock-off"),
    ),
    "security": (
        ("secure", "privacy", "private", "protected", "encrypted", "trusted", "safe"),
        ("share your data", "tracking", "third parties"),
    ),
    "social": (
        ("friends", "community", "share", "local", "neighbours", "neighbors", "social",
         "together"),
        ("alone",),
    ),
    "novelty": (
        ("new", "first", "exclusive", "discover", "launch", "innovative", "latest"),
        ("classic", "same as always"),
    ),
    "tradition": (
        ("classic", "traditional", "heritage", "since 19", "original", "trusted"),
        ("disrupt", "revolutionary"),
    ),
    "work": (
        ("career", "professional", "productivity", "business", "office", "work"),
        (),
    ),
}
ALIASES: Final[Mapping[str, str]] = {
    "price": "price", "cost": "price", "budget": "price", "money": "price",
    "frugal": "price", "saving": "price", "discount": "price", "deal": "price",
    "health": "health", "wellness": "health", "fitness": "health",
    "nutrition": "health", "diet": "health", "tech": "technology",
    "technology": "technology", "digital": "technology", "innovation": "technology",
    "gadget": "technology", "eco": "environment", "green": "environment",
    "environment": "environment", "sustainab": "environment", "climate": "environment",
    "time": "time", "busy": "time", "speed": "time", "convenien": "time",
    "family": "family", "parent": "family", "child": "family", "kids": "family",
    "quality": "quality", "premium": "quality", "luxury": "quality",
    "security": "security", "privacy": "security", "safety": "security",
    "trust": "security", "social": "social", "community": "social",
    "novelty": "novelty", "adventur": "novelty", "early_adopt": "novelty",
    "new": "novelty", "tradition": "tradition", "conservative": "tradition",
    "loyal": "tradition", "brand": "tradition", "work": "work", "career": "work",
    "professional": "work", "product": "work",
}
# fmt: on
_APPEAL: Final = (
    "free",
    "easy",
    "trial",
    "no commitment",
    "cancel anytime",
    "guarantee",
)
_PUSHY: Final = ("act now", "don't miss", "hurry", "last chance", "limited time", "!!")


@attrs.frozen
class Who:
    """A persona as read from its prompt."""

    name: str = "someone"
    segment: str = ""
    demographics: Mapping[str, str] = attrs.field(factory=dict)
    background: str = ""
    style: str = ""
    traits: tuple[str, ...] = ()
    fragments: tuple[str, ...] = ()
    descriptions: tuple[str, ...] = ()
    leanings: Mapping[str, float] = attrs.field(factory=dict)


def _items(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


@functools.lru_cache(maxsize=1024)
def who(system: str) -> Who:
    """The persona a study system prompt describes (empty fields where it says
    nothing)."""
    fields: dict[str, str] = {}
    descriptions: list[str] = []
    in_fragments = False
    for line in system.splitlines():
        match = _SECTION.match(line)
        if match:
            fields[match.group(1)] = match.group(2).strip()
            in_fragments = match.group(1) == "Fragments"
        elif in_fragments and line.startswith("- "):
            descriptions.append(line[2:].strip())
        else:
            in_fragments = False
    demographics: dict[str, str] = {}
    for part in fields.get("Demographics", "").split("; "):
        key, colon, value = part.partition(": ")
        if colon:
            demographics[key.strip()] = value.strip()
    return Who(
        name=fields.get("Name", "someone") or "someone",
        segment=fields.get("Segment", ""),
        demographics=demographics,
        background=fields.get("Background", ""),
        style=fields.get("Style", "").lower(),
        traits=_items(fields.get("Traits", "")),
        fragments=_items(fields.get("Fragments", "")),
        descriptions=tuple(descriptions),
        leanings={
            topic: max(-1.0, min(1.0, float(weight)))
            for topic, weight in _LEANING.findall(fields.get("Leanings", ""))
        },
    )


def content_of(texts: Sequence[str]) -> str:
    """Everything shown between ``---`` lines in ``texts`` (empty if nothing was)."""
    return "\n".join(block.strip() for text in texts for block in _SHOWN.findall(text))


@functools.lru_cache(maxsize=512)
def _cues(topic: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    lowered = topic.lower()
    known = [
        LEXICON[target]
        for alias, target in ALIASES.items()
        if any(word.startswith(alias) for word in re.split(r"[_\-\s]+", lowered))
    ]
    stem = re.split(r"[_\-\s]+", lowered)[0][:6]
    pro = tuple(dict.fromkeys([c for k in known for c in k[0]] + [stem]))
    con = tuple(dict.fromkeys(c for k in known for c in k[1]))
    return pro, con


def _count(text: str, cues: Sequence[str]) -> int:
    return sum(1 for cue in cues if cue and cue in text)


class Hit(NamedTuple):
    """A leaning topic a text touches: its weight, the net count of its cues (for
    minus against) and what it adds to the score."""

    topic: str
    weight: float
    net: int
    value: float


def leaning_hits(leanings: Mapping[str, float], text: str) -> list[Hit]:
    """Each leaning topic ``text`` touches (the biggest effect first)."""
    lowered = f" {text.lower()} "
    hits: list[Hit] = []
    for topic, weight in leanings.items():
        pro, con = _cues(topic)
        found = min(_count(lowered, pro), 3)
        rest = lowered
        for cue in pro:  # "plastic-free" is not "plastic"
            rest = rest.replace(cue, " ")
        net = found - min(_count(rest, con), 3)
        if net and weight:
            hits.append(Hit(topic, weight, net, weight * math.tanh(0.7 * net)))
    return sorted(hits, key=lambda hit: (-abs(hit.value), hit.topic))


def topic_affinity(leanings: Mapping[str, float], text: str) -> float:
    """How much a short text (an option) appeals to the persona's leanings."""
    return sum(hit.value for hit in leaning_hits(leanings, text))


def score(leanings: Mapping[str, float], content: str) -> float:
    """How the persona takes ``content``: above 0 it appeals, below it puts them off
    (0 when nothing was shown)."""
    if not content.strip():
        return 0.0
    lowered = content.lower()
    generic = 0.1 * min(_count(lowered, _APPEAL), 2) - 0.15 * min(
        _count(lowered, _PUSHY), 2
    )
    return topic_affinity(leanings, content) + generic


def temperament(person: Who) -> float:
    """A persona's own disposition in [-0.35, 0.35], the same in every run."""
    key = (
        person.name + "|" + "|".join(f"{k}={v}" for k, v in person.demographics.items())
    )
    return (zlib.crc32(key.encode("utf-8")) % 1000) / 1000 * 0.7 - 0.35


def first_person(description: str) -> str:
    """A fragment's second-person description as the persona says it.

    Example:
        >>> first_person("You buy local when you can and check your receipts.")
        'I buy local when I can and check my receipts.'
    """
    text = re.sub(r"\b[Yy]ou are\b", "I am", description)
    text = re.sub(r"\b[Yy]ou're\b", "I'm", text)
    text = re.sub(r"\bYour\b", "My", text)
    text = re.sub(r"\byour\b", "my", text)
    text = re.sub(r"\byourself\b", "myself", text)
    text = re.sub(r"\bYou\b", "I", text)
    text = re.sub(_SUBJECT, r"\1 I", text)
    return re.sub(r"\byou\b", "me", text)
