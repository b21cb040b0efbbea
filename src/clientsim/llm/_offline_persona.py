"""The offline model as a persona in a study (a survey, an interview, a journey).

Two parts, both deterministic (the same seed and prompt give the same answer) and both
reading the persona from its system prompt (see
:mod:`clientsim.llm._offline_persona_read`):

- :func:`reply`: a free-text message in the persona's style (``Style:`` says short,
  lowercase, formal, enthusiastic, ...): a first reaction to the content shown, the
  answer to a probe (why, tell me more, what would change your mind), or an opinion;
  it names what touched the persona's leanings and refers to its fragments or
  demographics.
- :func:`answer`: the structured ``survey_answer`` to the question in the last study
  message (``Question N of M (type): text`` with its ``- option`` lines): ``value``
  in the declared type (a scale integer within its bounds, a choice among the options
  as shown, a ranking of every option, free text), ``text``, ``reasoning`` and
  ``confidence``.

A question about interest or purchase intent (likely, buy, try, interested,
recommend, ...) tracks the score of the content shown, so arms of an A/B test that
show different content differ for real; a question about a topic (how important is
the price) tracks the persona's leaning on it; anything else its temperament. A little
seeded noise (from the unit's seed) varies answers between personas.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from typing import Any, Final

import attrs

from clientsim.llm._offline_persona_read import (
    Hit,
    Who,
    content_of,
    first_person,
    leaning_hits,
    score,
    temperament,
    topic_affinity,
    who,
)
from clientsim.llm._offline_phrasing import stable_rng
from clientsim.llm.turns import Turn


__all__ = ["answer", "reply"]

_SPEC: Final = re.compile(r"^Question(?: \d+ of \d+)? \(([^)]*)\): (.+)$", re.MULTILINE)
_RANGE: Final = re.compile(r"scale from (-?\d+) to (-?\d+)")
_INTEREST: Final = re.compile(
    r"\b(likely|likelihood|buy|purchase|interest(?:ed)?|try|sign up|subscribe|order|"
    r"recommend|appeal(?:ing)?|attractive|consider|intent|use it|switch)\b",
    re.IGNORECASE,
)
_YES: Final = re.compile(
    r"^(yes|definitely|probably|likely|very|extremely|interested|sure|buy|sign)",
    re.IGNORECASE,
)
_NO: Final = re.compile(
    r"^(no\b|not|never|unlikely|none|nothing|don't|do not)", re.IGNORECASE
)
_AGREE: Final = (
    "Fair enough.",
    "I hear you.",
    "Yeah, I see what you mean.",
    "Hm, maybe.",
)
_WHY: Final = re.compile(r"\b(why|what makes you|reason)\b", re.IGNORECASE)
_MIND: Final = re.compile(r"change your mind|convince you|would it take", re.IGNORECASE)
_ELSE: Final = re.compile(r"anything else", re.IGNORECASE)
_NAMES: Final = {
    "price": "the price",
    "health": "the health side of it",
    "technology": "the tech",
    "environment": "the environmental angle",
    "time": "how much time it saves",
    "family": "what it means for my family",
    "quality": "the quality",
    "security": "privacy and safety",
    "social": "the community side",
    "novelty": "that it's something new",
    "tradition": "that it's a familiar name",
    "work": "what it does for my work",
}
_DEMOGRAPHIC: Final = {
    "age_band": "aged {value}",
    "age": "aged {value}",
    "household_type": "in a household that's {value}",
    "household": "in a household that's {value}",
    "occupation": "working in {value}",
    "region": "living in the {value} region",
    "income_band": "on an income of {value}",
    "education": "with {value} education",
}


@attrs.frozen
class Asked:
    """The question a study message puts (its declared type read from the text)."""

    text: str
    kind: str = "free_text"
    low: int = 1
    high: int = 10
    options: tuple[str, ...] = ()


def asked(dialogue: Sequence[Turn]) -> Asked | None:
    """The last question put in the study's own form, if any."""
    for turn in reversed(dialogue):
        if turn.role != "user":
            continue
        matches = list(_SPEC.finditer(turn.content))
        if not matches:
            continue
        match = matches[-1]
        kind_text, text = match.group(1), match.group(2).strip()
        rest = turn.content[match.end() :].splitlines()
        options = tuple(line[2:].strip() for line in rest if line.startswith("- "))
        scale = _RANGE.search(kind_text)
        if scale:
            return Asked(text, "scale", int(scale.group(1)), int(scale.group(2)))
        if "rank" in kind_text and options:
            return Asked(text, "ranking", options=options)
        if "choose" in kind_text and options:
            return Asked(text, "choice", options=options)
        return Asked(text)
    return None


def _pending(dialogue: Sequence[Turn]) -> Asked | None:
    """The question put since this persona last spoke, if any: in a group, others may
    have answered it first."""
    for turn in reversed(dialogue):
        if turn.role == "assistant":
            return None
        if turn.role == "user" and _SPEC.search(turn.content):
            return asked([turn])
    return None


# ----- phrasing ------------------------------------------------------------------------


def _topic_name(topic: str) -> str:
    for key, name in _NAMES.items():
        if topic.lower().startswith(key[:4]):
            return name
    return topic.replace("_", " ")


def _demographic(person: Who, rng: random.Random) -> str:
    phrases = [
        _DEMOGRAPHIC[key].format(value=value)
        for key, value in person.demographics.items()
        if key in _DEMOGRAPHIC and value
    ]
    if not phrases:
        return "like me"
    return rng.choice(phrases)


def _speaking(person: Who, rng: random.Random) -> str:
    """``Speaking as someone aged 35-44`` (a demographic of theirs), or ``For me``."""
    if person.demographics:
        return f"Speaking as someone {_demographic(person, rng)}"
    return "For me"


def _description(person: Who, topic: str) -> str | None:
    """The persona's own words for the fragment behind ``topic``, if one is."""
    stem = topic.lower()[:4]
    for name, text in zip(person.fragments, person.descriptions, strict=False):
        if stem in name.lower() or stem in text.lower():
            return first_person(text)
    return None


def _styled(person: Who, text: str) -> str:
    style = person.style
    if any(word in style for word in ("short", "terse", "brief", "concise")):
        sentences = re.split(r"(?<=[.!?])\s+", text.strip())
        text = " ".join(sentences[:2])
    if "formal" in style and "informal" not in style:
        for short, long in (
            ("I'd", "I would"),
            ("I'm", "I am"),
            ("don't", "do not"),
            ("it's", "it is"),
            ("doesn't", "does not"),
        ):
            text = text.replace(short, long)
    if "enthusias" in style or "exclam" in style:
        text = text.replace(".", "!")
    if "lowercase" in style or "informal" in style:
        text = text.lower()
    return text


def _stance(hit: Hit) -> str:
    """What the persona says about one leaning the text touched."""
    name = _topic_name(hit.topic)
    if hit.weight > 0 and hit.net > 0:
        return f"I like {name}."
    if hit.weight > 0:
        return f"{name[0].upper()}{name[1:]} is a problem for me."
    if hit.net > 0:
        return f"{name[0].upper()}{name[1:]} doesn't count for much with me."
    return f"Honestly, {name} is not something I worry about."


def _reasons(person: Who, hits: Sequence[Hit], rng: random.Random) -> list[str]:
    """Things the persona can say about why, the most telling first."""
    said: list[str] = []
    for hit in hits[:2]:
        described = _description(person, hit.topic)
        if hit.weight < 0 or not described:
            said.append(_stance(hit))
            continue
        tail = (
            "That's what makes it work for me."
            if hit.value > 0
            else "That's what puts me off."
        )
        said.append(f"It's mostly {_topic_name(hit.topic)}. {described} {tail}")
    if person.background:
        said.append(f"Some background: {first_person(person.background)}")
    said.extend(first_person(text) for text in person.descriptions)
    if not hits:
        said.append("I'd need to know more about it before I decide.")
    said.append(
        f"{_speaking(person, rng)}, it "
        f"{rng.choice(('neither helps nor hurts', 'depends on the details'))}."
    )
    return [" ".join(text.split()) for text in said]


def _why(person: Who, hits: Sequence[Hit], rng: random.Random) -> str:
    return _reasons(person, hits, rng)[0]


def _matters(person: Who) -> str:
    """What matters most to the persona, in a sentence."""
    liked = [(w, t) for t, w in person.leanings.items() if w > 0]
    if not liked:
        return "Nothing in particular, I just want it to be decent."
    topic = max(liked)[1]
    described = _description(person, topic)
    return f"For me it's mostly {_topic_name(topic)}. {described or ''}".strip()


def _feeling(level: float) -> str:
    if level > 0.35:
        return "I'm genuinely interested."
    if level > 0.1:
        return "It's appealing, I'd give it a go."
    if level > -0.1:
        return "I'm on the fence."
    if level > -0.35:
        return "Probably not for me."
    return "Not for me at all."


# ----- free text -----------------------------------------------------------------------


def _reaction(person: Who, content: str, rng: random.Random) -> str:
    appeal = score(person.leanings, content) + 0.3 * temperament(person)
    hits = leaning_hits(person.leanings, content)
    if appeal > 0.25:
        opener = rng.choice(
            ("Oh, this looks good.", "Nice, I like this.", "Interesting!")
        )
    elif appeal < -0.15:
        opener = rng.choice(
            (
                "Hmm, I'm not convinced.",
                "Honestly, this doesn't do much for me.",
                "Not really my thing.",
            )
        )
    else:
        opener = rng.choice(("Okay, I see.", "It's fine, I guess.", "Hm, maybe."))
    noticed = (
        _stance(hits[0])
        if hits
        else f"Nothing in it is really aimed at someone {_demographic(person, rng)}."
    )
    return f"{opener} {noticed}"


def _opinion(person: Who, text: str, rng: random.Random) -> str:
    hits = leaning_hits(person.leanings, text)
    if hits:
        described = _description(person, hits[0].topic) or ""
        return f"{_stance(hits[0])} {described}".strip()
    if person.leanings:
        return _matters(person)
    return (
        f"Hard to say. {_speaking(person, rng)}, "
        f"{rng.choice(('I would need to know more', 'it depends on the details'))}."
    )


def _probe(
    person: Who, probe: str, shown: str, mine: Sequence[str], rng: random.Random
) -> str:
    hits = leaning_hits(person.leanings, shown) if shown else []
    if _MIND.search(probe):
        topic = hits[0].topic if hits else next(iter(person.leanings), "price")
        return f"Probably if {_topic_name(topic)} were better. That would make a difference."
    if _ELSE.search(probe):
        return rng.choice(("No, I think that covers it.", "Not really, that's it."))
    said = {" ".join(_styled(person, text).split()) for text in mine}
    for reason in _reasons(person, hits, rng):
        if _styled(person, reason) not in said:
            return reason
    return "I think I've said it all, really."


def reply(system: str, dialogue: Sequence[Turn], rng: random.Random, seed: int) -> str:
    """The persona's next free-text message (see the module docstring)."""
    person = who(system)
    theirs = [turn.content for turn in dialogue if turn.role == "user"]
    last = theirs[-1] if theirs else ""
    spoken = any(turn.role == "assistant" for turn in dialogue)
    # what was just shown, or (in a group) shown before this persona first spoke
    shown_now = content_of([last]) or ("" if spoken else content_of(theirs))
    if shown_now:
        text = _reaction(person, shown_now, rng)
    elif (question := _pending(dialogue)) is not None:
        result = _answer(person, question, content_of(theirs), stable_rng(seed, last))
        text = str(result["text"])
    elif (
        _WHY.search(last) or _MIND.search(last) or _ELSE.search(last) or "more" in last
    ):
        earlier = [turn.content for turn in dialogue if turn.role == "assistant"]
        text = _probe(person, last, content_of(theirs), earlier, rng)
    elif not last:
        text = f"Hi, I'm {person.name}."
    else:
        text = _opinion(person, last, rng)
    mine = {_plain(turn.content) for turn in dialogue if turn.role == "assistant"}
    if _plain(_styled(person, text)) in mine:  # never say the same thing twice
        hits = leaning_hits(person.leanings, last)
        others = [_stance(hit) for hit in hits] + _reasons(person, hits, rng)
        fresh = [t for t in others if _plain(_styled(person, t)) not in mine]
        text = fresh[0] if fresh else rng.choice(_AGREE)
    return _styled(person, text)


def _plain(text: str) -> str:
    return " ".join(text.lower().split())


# ----- structured answers --------------------------------------------------------------


def _level(
    person: Who, question: Asked, appeal: float, shown: bool, rng: random.Random
) -> float:
    """Where the persona stands on ``question``, in [-1, 1]."""
    about = topic_affinity(person.leanings, question.text)
    if _INTEREST.search(question.text):
        base = 0.6 * math.tanh(appeal) + 0.2 * math.tanh(about)
        level = base + 0.5 * temperament(person) - (0.0 if shown else 0.1)
        level += rng.gauss(0.0, 0.18)
    elif about:
        level = 0.85 * math.tanh(1.5 * about) + rng.gauss(0.0, 0.15)
    else:
        level = 0.3 * math.tanh(appeal) + 0.6 * temperament(person)
        level += rng.gauss(0.0, 0.25)
    return max(-1.0, min(1.0, level))


def _option_scores(
    person: Who, question: Asked, level: float, rng: random.Random
) -> list[float]:
    scores = []
    for option in question.options:
        polarity = 1.0 if _YES.match(option) else -1.0 if _NO.match(option) else 0.0
        value = topic_affinity(person.leanings, option) + polarity * 0.8 * level
        scores.append(value + rng.gauss(0.0, 0.2))
    return scores


def _answer(
    person: Who, question: Asked, content: str, rng: random.Random
) -> dict[str, Any]:
    appeal = score(person.leanings, content)
    hits = leaning_hits(person.leanings, f"{content}\n{question.text}")
    level = _level(person, question, appeal, bool(content), rng)
    reasoning = _why(person, hits, rng)
    value: Any
    if question.kind == "scale":
        middle = (question.low + question.high) / 2
        half = (question.high - question.low) / 2
        value = max(question.low, min(question.high, round(middle + level * half)))
        text = f"I'd say {value}. {_feeling(level)}"
        confidence = 0.55 + 0.4 * abs(level)
    elif question.kind in ("choice", "ranking"):
        scores = _option_scores(person, question, level, rng)
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
        ranked = [question.options[i] for i in order]
        margin = scores[order[0]] - scores[order[1]] if len(order) > 1 else 1.0
        confidence = 0.5 + 0.45 * math.tanh(margin)
        if question.kind == "choice":
            value = ranked[0]
            text = f"{value}, I think."
        else:
            value = ranked
            text = f"{ranked[0]} first, {ranked[-1]} last."
    else:
        text = _opinion(person, question.text, rng)
        if content and _INTEREST.search(question.text):
            text = f"{_feeling(level)} {text}"
        value = text
        confidence = 0.6
    return {
        "value": value if question.kind != "free_text" else _styled(person, value),
        "text": _styled(person, text),
        "reasoning": reasoning,
        "confidence": round(min(0.95, max(0.05, confidence)), 2),
    }


def answer(name: str, turns: Sequence[Turn], seed: int) -> dict[str, Any]:
    """The ``survey_answer`` (``name``) to the question the last study message puts."""
    del name  # one schema
    system = "\n".join(turn.content for turn in turns if turn.role == "system")
    dialogue = [turn for turn in turns if turn.role != "system"]
    person = who(system)
    theirs = [turn.content for turn in dialogue if turn.role == "user"]
    question = asked(dialogue) or Asked(theirs[-1] if theirs else "What do you think?")
    content = content_of(theirs)
    rng = stable_rng(seed, person.name, question.text, content)
    return _answer(person, question, content, rng)
