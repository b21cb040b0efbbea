"""The offline model's field extraction and theme finding (populations, seed 002).

Pure Python and deterministic: the same prompt always gives the same answer (the
seed is not used). It reads the prompts of :mod:`clientsim.population.extract`
(schema title ``extracted_fields``: a ``Fields:`` section of one JSON object a line,
``About: who`` and a ``Transcript:`` of ``"who: text"`` lines) and of
:mod:`clientsim.population.themes` (``themes``: numbered answers under ``Answers:``).

Only the lines of the participant the fields are about are read (all lines when none
is theirs). The rules, per field:

- ``sentiment`` (or any choice of ``positive``/``neutral``/``negative``): positive
  words (*love*, *great*, *like*, *yes*, *definitely*, ...) minus negative ones
  (*hate*, *bad*, *expensive*, *worried*, *no*, ...; a word after *not*/*never*/
  *n't* counts the other way); above zero ``positive``, below ``negative``.
- numbers (``rating``, ``purchase_intent``, any ``number``/``integer``): the first
  number said; on the built-ins and a field whose hint says 10, the first from 0 to 10,
  one said with a scale first (``7/10``, ``7 out of 10``; ``4 out of 5`` is rescaled
  to 8); if none, for ``rating`` and ``purchase_intent``, 5 moved by the sentiment
  score (two points a word, within 1-9); else null.
- ``concerns`` (any ``list``): the sentences with *worried*, *worry*, *concern*,
  *but*, *however*, *afraid*, *unsure*, *expensive*, *too* (at most five).
- ``response`` (any ``text``): *Yes* or *No* when the last reply starts with it, else
  its first sentence.
- a ``choice``: the option named first in the text, else null; a ``boolean``: true
  when a sentence names a word of the field's name or hint and is not negated.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any, Final

from clientsim.llm.turns import Turn


__all__ = ["answer", "extract", "sentiment_score"]

_WORD: Final = re.compile(r"[a-z']+")
_SENTENCE: Final = re.compile(r"[^.!?]+[.!?]?")
_NUMBER: Final = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?:\s*(?:/|out of)\s*(\d+))?")
_POSITIVE: Final = frozenset(
    """
    love loved like liked great good excellent amazing happy yes definitely
    interested interesting useful worth appealing excited exciting convenient
    helpful nice enjoy enjoyed perfect fantastic recommend sure agree affordable
    value valuable easy fair
    """.split()  # noqa: SIM905 - a word list reads best as text
)
_NEGATIVE: Final = frozenset(
    """
    hate hated dislike bad poor terrible awful expensive pricey worried worry
    worries concern concerned concerns no unlikely disappointing disappointed
    annoying confusing useless waste difficult hard doubt doubtful unsure afraid
    overpriced skeptical sceptical risky slow
    """.split()  # noqa: SIM905 - a word list reads best as text
)
_NEGATORS: Final = frozenset({"not", "never", "don't", "doesn't", "isn't", "wasn't"})
_CONCERN: Final = re.compile(
    r"\b(?:worried|worry|worries|concern\w*|but|however|afraid|unsure|expensive|too)\b",
    re.IGNORECASE,
)
_STOP: Final = frozenset(
    """
    a an the of to and or in on for with what how their the they them is are be as
    by from this that it its about any from person persons
    """.split()  # noqa: SIM905 - a word list reads best as text
)
_MAX_CONCERNS: Final = 5


def _section(lines: list[str], header: str) -> list[str]:
    """The lines after ``header`` up to the next blank line."""
    found: list[str] = []
    inside = False
    for line in lines:
        if line.strip() == header:
            inside = True
            continue
        if inside:
            if not line.strip():
                break
            found.append(line)
    return found


def _subject_text(transcript: list[str], about: str) -> list[str]:
    """The texts of the lines by ``about`` (all lines when none is theirs)."""
    mine = []
    for line in transcript:
        who, sep, text = line.partition(": ")
        if not sep:
            continue
        if who == about or who.startswith(f"{about} ("):
            mine.append(text)
    return mine or [line.partition(": ")[2] for line in transcript]


def sentiment_score(text: str) -> int:
    """Positive words minus negative ones (a negated word counts the other way)."""
    score = 0
    previous = ""
    for word in _WORD.findall(text.lower()):
        sign = 1 if word in _POSITIVE else -1 if word in _NEGATIVE else 0
        if sign and (previous in _NEGATORS or previous.endswith("n't")):
            sign = -sign
        score += sign
        previous = word
    return score


def _sentences(texts: list[str]) -> list[str]:
    return [s.strip() for text in texts for s in _SENTENCE.findall(text) if s.strip()]


def _number(text: str, low: float, high: float, *, bounded: bool) -> float | None:
    """The first number in range; on a bounded field (0-10) the first said with a
    scale (``7/10``, ``4 out of 5``, rescaled to the field's) if there is one."""
    found = []
    for match in _NUMBER.finditer(text):
        value = float(match.group(1))
        scale = float(match.group(2)) if match.group(2) is not None else None
        if bounded and scale is not None and scale > 0 and scale != high:
            value = value * high / scale
        if low <= value <= high:
            found.append((bounded and scale is None, match.start(), value))
    return min(found)[2] if found else None


def _keywords(name: str, hint: str) -> set[str]:
    words = set(_WORD.findall(f"{name.replace('_', ' ')} {hint}".lower()))
    return {w for w in words - _STOP if len(w) > 2}


def _field(  # noqa: C901, PLR0911, PLR0912 - one branch per field type
    spec: dict[str, Any], texts: list[str]
) -> object:
    name, kind = str(spec.get("name", "")), spec.get("type", "text")
    hint = str(spec.get("hint", ""))
    options = [str(o) for o in spec.get("options") or []]
    joined = " ".join(texts)
    score = sentiment_score(joined)
    if kind == "choice" and {o.lower() for o in options} >= {"positive", "negative"}:
        label = "positive" if score > 0 else "negative" if score < 0 else "neutral"
        for option in options:
            if option.lower() == label:
                return option
        return None
    if kind in ("number", "integer"):
        bounded = name in ("rating", "purchase_intent") or "10" in hint
        value = _number(joined, 0.0, 10.0 if bounded else math.inf, bounded=bounded)
        if value is None and name in ("rating", "purchase_intent"):
            value = float(min(9, max(1, 5 + 2 * score)))
        if value is None:
            return None
        return round(value) if kind == "integer" else value
    if kind == "list":
        if name == "concerns" or "concern" in hint or "worr" in hint:
            found = [s for s in _sentences(texts) if _CONCERN.search(s)]
        else:
            keys = _keywords(name, hint)
            found = [
                s for s in _sentences(texts) if keys & set(_WORD.findall(s.lower()))
            ]
        return found[:_MAX_CONCERNS]
    if kind == "choice":
        lowered = joined.lower()
        places = [(lowered.find(o.lower()), o) for o in options if o.lower() in lowered]
        return min(places)[1] if places else None
    if kind == "boolean":
        keys = _keywords(name, hint)
        for sentence in _sentences(texts):
            words = _WORD.findall(sentence.lower())
            if keys & set(words):
                return not any(w in _NEGATORS or w.endswith("n't") for w in words)
        return False
    # text
    last = texts[-1].strip() if texts else ""
    first_word = (_WORD.findall(last.lower()) or [""])[0]
    if first_word in ("yes", "no"):
        return first_word.capitalize()
    sentences = _sentences([last])
    return sentences[0] if sentences else None


def extract(prompt: str) -> dict[str, Any]:
    """The offline answer to an extraction prompt."""
    lines = prompt.splitlines()
    specs = []
    for line in _section(lines, "Fields:"):
        try:
            spec = json.loads(line)
        except ValueError:
            continue
        if isinstance(spec, dict) and spec.get("name"):
            specs.append(spec)
    about = next(
        (line.partition(":")[2].strip() for line in lines if line.startswith("About:")),
        "customer",
    )
    start = next((i for i, line in enumerate(lines) if line == "Transcript:"), None)
    transcript = lines[start + 1 :] if start is not None else []
    texts = _subject_text([line for line in transcript if line.strip()], about)
    return {str(spec["name"]): _field(spec, texts) for spec in specs}


def _themes(prompt: str) -> dict[str, Any]:
    from clientsim.population.themes import (  # noqa: PLC0415
        keyword_themes,
        numbered_answers,
    )

    texts = numbered_answers(prompt)
    top = 5
    for line in prompt.splitlines():
        if line.startswith("Top:"):
            digits = line.partition(":")[2].strip()
            top = int(digits) if digits.isdigit() else top
    found = keyword_themes(texts, top=top)
    return {
        "themes": [
            {
                "theme": theme.theme,
                "keywords": list(theme.keywords),
                "answers": [i + 1 for i in theme.members],
            }
            for theme in found
        ]
    }


def answer(name: str, turns: Sequence[Turn], seed: int) -> dict[str, Any]:  # noqa: ARG001
    """The offline answer to a structured call titled ``extracted_fields`` or
    ``themes``."""
    prompt = turns[-1].content if turns else ""
    if name == "themes":
        return _themes(prompt)
    return extract(prompt)
