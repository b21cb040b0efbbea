"""The offline model as a study's moderator or interviewer (a system prompt holding
:data:`~clientsim.models.persona.STUDY_MODERATOR_MARKER`).

It reads the line-oriented prompt (``Topic:``, ``Members:``, ``Rounds:``,
``Material:``, then ``Questions:`` with one numbered or bulleted question a line) and
counts its own messages so far: the first opens (a welcome, the topic, the material
between ``---`` lines, the first question on a line of its own, as the prompt words
it), each next one asks the next question (thanking, by name, whoever
spoke last), and once the questions run out it follows up by name on what a member
said; after the last round it thanks everyone and closes; after that it passes.
Deterministic: the same prompt, dialogue and seed give the same words.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Final

from clientsim.llm.turns import Turn


__all__ = ["reply"]

_NOTE: Final = "(Only you can see this.)"
_LABEL: Final = re.compile(
    r"^(?P<name>[^:\n]{1,60}?)(?: \([^)\n]*\))?(?:, to you privately)?: (?P<text>.+)$",
    re.DOTALL,
)
_QUESTION: Final = re.compile(r"^\s*(?:\d+[.)]|[-*])\s+(?P<text>.+?)\s*$")

_WELCOMES: Final = (
    "Welcome, everyone, and thank you for joining us.",
    "Hello and welcome, thank you all for coming.",
    "Good to have you all here, thank you for taking the time.",
)
_THANKS: Final = (
    "Thank you, {name}.",
    "Thanks, {name}, that's helpful.",
    "Good point, {name}.",
)
_NEXT: Final = ("Next question:", "Let's move on:", "Now I'd like to ask:")
_FOLLOW_UPS: Final = (
    '{name}, you said "{quote}". Could you tell us more about that?',
    '{name}, earlier you mentioned "{quote}". What makes you feel that way?',
    'I\'d like to come back to something {name} said: "{quote}". {name}, can you say more?',
)
_OTHERS: Final = (
    " Does anyone see it differently?",
    " And how do the rest of you feel about it?",
    "",
)
_CLOSINGS: Final = (
    "Thank you all, that's everything for today. Your views have been very helpful.",
    "That brings us to the end. Thank you all for sharing your thoughts so openly.",
    "We're out of time. Many thanks to each of you for taking part today.",
)


def reply(system: str, dialogue: Sequence[Turn], rng: random.Random, seed: int) -> str:
    """The moderator's next message (``""``, a pass, once it has closed)."""
    del seed  # the rng is seeded with it already
    fields = _fields(system)
    questions = _questions(system)
    topic = fields.get("topic", "the subject of this study")
    prompts = questions or [f"What are your first thoughts about {topic}?"]
    rounds = _int(fields.get("rounds"), len(prompts))
    members = [m.strip() for m in fields.get("members", "").split(",") if m.strip()]
    said = sum(1 for turn in dialogue if turn.role == "assistant")
    heard = _heard(dialogue, members)
    if said == 0:
        material = fields.get("material")
        shown = (
            f"\nHere is what we'd like your views on:\n---\n{material}\n---"
            if material
            else ""
        )
        return (
            f"{rng.choice(_WELCOMES)} Today we are talking about {topic}.{shown}\n"
            f"To start:\n{prompts[0]}"
        )
    if said >= rounds:
        return rng.choice(_CLOSINGS) if said == rounds else ""
    if said < len(prompts):
        thanks = ""
        if heard and heard[-1][0]:
            thanks = rng.choice(_THANKS).format(name=heard[-1][0]) + " "
        return f"{thanks}{rng.choice(_NEXT)}\n{prompts[said]}"
    return _follow_up(heard, members, said - len(prompts), rng)


def _follow_up(
    heard: Sequence[tuple[str, str]],
    members: Sequence[str],
    index: int,
    rng: random.Random,
) -> str:
    named = [(name, text) for name, text in heard if name]
    if named:
        speakers = list(dict.fromkeys(name for name, _ in named))
        name = speakers[index % len(speakers)]
        quote = _quote(next(text for who, text in reversed(named) if who == name))
        line = rng.choice(_FOLLOW_UPS).format(name=name, quote=quote)
        return line + rng.choice(_OTHERS)
    if heard:  # a 1:1 interview: no names
        return f'You said "{_quote(heard[-1][1])}". Could you tell me more about that?'
    if members:
        name = members[index % len(members)]
        return f"{name}, we haven't heard from you yet: what do you think?"
    return "Could you tell me more about that?"


def _fields(system: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in system.splitlines():
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if sep and value.strip() and key in ("topic", "members", "rounds", "material"):
            found.setdefault(key, value.strip())
    return found


def _questions(system: str) -> list[str]:
    lines = system.splitlines()
    for index, line in enumerate(lines):
        if line.strip().lower() == "questions:":
            found: list[str] = []
            for item in lines[index + 1 :]:
                match = _QUESTION.match(item)
                if match is None:
                    break
                found.append(match.group("text"))
            return found
    return []


def _int(text: str | None, default: int) -> int:
    if text is not None and text.strip().isdigit():
        return max(1, int(text.strip()))
    return default


def _heard(dialogue: Sequence[Turn], members: Sequence[str]) -> list[tuple[str, str]]:
    """(speaker, text) of every other turn, oldest first; speaker ``""`` if unnamed."""
    heard: list[tuple[str, str]] = []
    for turn in dialogue:
        if turn.role != "user" or turn.content.startswith(_NOTE):
            continue
        match = _LABEL.match(turn.content)
        if match is not None and (not members or match.group("name") in members):
            heard.append((match.group("name"), match.group("text").strip()))
        else:
            heard.append(("", turn.content.strip()))
    return heard


def _quote(text: str, limit: int = 90) -> str:
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    first = first.rstrip(" .!")
    return first if len(first) <= limit else first[: limit - 3].rstrip() + "..."
