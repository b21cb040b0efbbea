"""The offline model's persona backgrounds (schema title ``persona_background``).

Deterministic: it reads the persona's prompt (the ``Name:``, ``Demographics:``,
``Fragments:`` and ``Leanings:`` lines of :meth:`clientsim.models.persona.Persona.prompt`)
and writes a background from those facts only, with word choices drawn from a random
stream seeded by the prompt's text and the call's seed: the same persona and seed give
the same background; a different persona, a different one.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, Final

from clientsim.llm.turns import Turn


__all__ = ["answer", "background"]

_DAILY: Final = (
    "Weekdays follow a steady routine",
    "Most evenings are spent at home",
    "Weekends are for catching up with friends and errands",
    "Mornings start early",
    "Free time goes to hobbies and the news",
)
_TOPIC_WORDS: Final = {
    "price": ("watches prices closely", "value for money"),
    "health": ("cares about staying healthy", "health"),
    "time": ("is short of time", "speed"),
    "environment": ("thinks about the environment", "sustainability"),
    "technology": ("is at home with technology", "good technology"),
    "family": ("puts the family first", "family"),
    "trust": ("trusts known names", "trust"),
    "novelty": ("likes trying new things", "novelty"),
    "privacy": ("guards personal data", "privacy"),
    "quality": ("prefers things that last", "quality"),
    "convenience": ("picks what is easiest", "convenience"),
    "social": ("follows what friends share", "what others say"),
    "brand": ("sticks with familiar brands", "brands"),
    "risk": ("takes chances", "guarantees"),
    "community": ("supports local causes", "community"),
}
_STYLES: Final = (
    "short and practical",
    "friendly, full sentences",
    "direct, a little terse",
    "chatty and curious",
    "measured and polite",
)


def _fields(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        head, sep, rest = line.partition(":")
        if sep and head and not line.startswith("- "):
            out.setdefault(head.strip().lower(), rest.strip())
    return out


def _pairs(text: str, split: str, join: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in text.split(split):
        key, sep, value = item.partition(join)
        if sep:
            out[key.strip()] = value.strip()
    return out


def background(prompt: str, seed: int) -> dict[str, Any]:
    """The answer for one persona prompt."""
    rng = random.Random(f"persona_background/{seed}/{prompt}")
    fields = _fields(prompt)
    name = fields.get("name", "This person")
    first = name.split()[0] if name.split() else name
    demo = _pairs(fields.get("demographics", ""), ";", ":")
    leanings = {
        topic: float(weight)
        for topic, weight in _pairs(fields.get("leanings", ""), ",", "=").items()
        if _number(weight)
    }
    sentences = []
    age = demo.get("age") or demo.get("age_band")
    region = demo.get("region")
    sentences.append(
        f"{name} is {age}" + (f" and lives in {region}" if region else "") + "."
        if age
        else f"{name} lives" + (f" in {region}" if region else "") + "."
    )
    occupation = demo.get("occupation")
    household = demo.get("household_type")
    if occupation and occupation != "not in paid work":
        sentences.append(f"{first} works in {occupation}.")
    elif occupation:
        sentences.append(f"{first} is not in paid work at the moment.")
    if household:
        sentences.append(f"At home: {household}.")
    strongest = sorted(leanings.items(), key=lambda kv: (-abs(kv[1]), kv[0]))[:2]
    cares = [
        _TOPIC_WORDS[topic][0] if weight > 0 else f"is wary of {_TOPIC_WORDS[topic][1]}"
        for topic, weight in strongest
        if topic in _TOPIC_WORDS
    ]
    if cares:
        sentences.append(f"{first} " + " and ".join(cares) + ".")
    sentences.append(rng.choice(_DAILY) + ".")
    traits = [_TOPIC_WORDS[t][1] for t, w in strongest if t in _TOPIC_WORDS and w > 0]
    income = demo.get("income_band")
    if income:
        traits.append(f"income {income}")
    return {
        "background": " ".join(sentences),
        "message_style": rng.choice(_STYLES),
        "traits": traits[:5],
    }


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def answer(name: str, turns: Sequence[Turn], seed: int) -> dict[str, Any]:
    """The offline answer of a ``persona_background`` call: the persona's prompt is
    the last user turn."""
    del name
    prompt = next((t.content for t in reversed(turns) if t.role == "user"), "")
    return background(prompt, seed)
