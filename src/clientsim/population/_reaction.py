"""How a persona's state moves after a touchpoint: a deterministic rule on the reply.

Every delivered touchpoint raises awareness (by a quarter of what is left). Cue words
in the persona's reply move interest and trust (a cue right after a negation such as
``not`` or ``n't`` does not count), and set the purchased and opted-out flags. An
optional structured judgement (schema ``persona_reaction``) can replace the cue
reading with a model's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from clientsim.population.state import PersonaState


__all__ = [
    "REACTION_SCHEMA",
    "REACTION_TITLE",
    "after_judgement",
    "after_reply",
    "delivered",
    "reading",
]

AWARENESS_GAIN: Final = 0.25
INTEREST_STEP: Final = 0.15
TRUST_STEP: Final = 0.05

POSITIVE: Final = (
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
    "worth a look",
    "appealing",
    "like this",
    "like the",
    "helpful",
    "useful",
    "looks good",
    "i like",
    "like it",
    "nice",
)
NEGATIVE: Final = (
    "not interested",
    "annoy",
    "spam",
    "too many",
    "too expensive",
    "frustrat",
    "waste",
    "no thanks",
    "no, thanks",
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
PURCHASE: Final = (
    "i'll buy",
    "i will buy",
    "bought",
    "i'll order",
    "ordered",
    "purchased",
    "signed up",
    "sign me up",
    "i'll sign up",
    "i'll take it",
    "placed an order",
    "subscribed",
)
OPT_OUT: Final = (
    "unsubscribe",
    "stop sending",
    "stop emailing",
    "stop contacting",
    "opt out",
    "opt me out",
    "remove me",
    "leave me alone",
    "don't contact",
)
_NEGATION: Final = re.compile(r"(\bnot|\bno|\bnever|n't|\bhardly)\W+(\w+\W+)?$")

REACTION_TITLE: Final = "persona_reaction"
REACTION_SCHEMA: Final[dict[str, Any]] = {
    "title": REACTION_TITLE,
    "description": (
        "How a persona's reply to a touchpoint of a customer journey moves their "
        "interest in the offer and their trust in the sender."
    ),
    "type": "object",
    "properties": {
        "interest_change": {
            "type": "number",
            "minimum": -0.5,
            "maximum": 0.5,
            "description": "How much their interest rose (+) or fell (-).",
        },
        "trust_change": {
            "type": "number",
            "minimum": -0.5,
            "maximum": 0.5,
            "description": "How much their trust in the sender rose (+) or fell (-).",
        },
        "purchased": {"type": "boolean", "description": "They bought or signed up."},
        "opted_out": {
            "type": "boolean",
            "description": "They asked to hear no more from the sender.",
        },
    },
    "required": ["interest_change", "trust_change", "purchased", "opted_out"],
}


def count(text: str, cues: tuple[str, ...]) -> int:
    """How many times ``cues`` occur in ``text`` not right after a negation."""
    lowered = text.lower().replace("\N{RIGHT SINGLE QUOTATION MARK}", "'")
    found = 0
    for cue in cues:
        start = lowered.find(cue)
        while start != -1:
            if not _NEGATION.search(lowered[max(0, start - 24) : start]):
                found += 1
            start = lowered.find(cue, start + len(cue))
    return found


def reading(reply: str) -> dict[str, float | bool]:
    """The cue reading of a reply: ``interest_change``, ``trust_change``,
    ``purchased``, ``opted_out`` (the shape of :data:`REACTION_SCHEMA`)."""
    negative = count(reply, NEGATIVE)
    positive = count(reply, POSITIVE)
    purchased = count(reply, PURCHASE) > 0
    opted_out = count(reply, OPT_OUT) > 0
    score = max(-2, min(2, positive - negative)) + (1 if purchased else 0)
    if opted_out:
        score = min(score, -2)
    return {
        "interest_change": round(score * INTEREST_STEP, 4),
        "trust_change": round(
            score * TRUST_STEP if score >= 0 else score * 2 * TRUST_STEP, 4
        ),
        "purchased": purchased,
        "opted_out": opted_out,
    }


def delivered(state: PersonaState) -> PersonaState:
    """``state`` after a touchpoint reached the persona: more aware."""
    return state.nudge(awareness=AWARENESS_GAIN * (1.0 - state.awareness))


def after_judgement(state: PersonaState, judgement: Mapping[str, Any]) -> PersonaState:
    """``state`` moved by a reading (a cue reading or a model's judgement); flags
    only ever turn on."""
    moved = state.nudge(
        interest=_number(judgement.get("interest_change")),
        trust=_number(judgement.get("trust_change")),
    )
    return moved.evolve(
        {
            "purchased": moved.purchased or judgement.get("purchased") is True,
            "opted_out": moved.opted_out or judgement.get("opted_out") is True,
        }
    )


def after_reply(state: PersonaState, reply: str) -> PersonaState:
    """``state`` after the persona replied ``reply`` (the cue rule)."""
    return after_judgement(state, reading(reply))


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return max(-0.5, min(0.5, float(value)))
