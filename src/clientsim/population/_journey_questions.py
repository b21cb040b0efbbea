"""Asking a persona a declared question inside a journey, and reading the answer.

A question is put in the study's fixed form (``Question 1 of 2 (scale from 1 to
10): How likely ...``, choice and ranking options one a line after ``Options:``), the
form the survey mode uses and the offline persona reads. Free-text questions are
answered as a plain message; scale, choice and ranking questions by structured output
with the schema titled ``survey_answer`` (``value`` typed by the question, ``text``,
``reasoning``, ``confidence``). Choice and ranking options are shown in an order
shuffled per persona (seeded), and answers name the options as declared, so position
bias cannot masquerade as an effect.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, Final

from clientsim.models.survey import Answer, Question


__all__ = ["ANSWER_TITLE", "answer_of", "answer_schema", "question_text", "shown"]

ANSWER_TITLE: Final = "survey_answer"
_VALUE_KEYS: Final = ("value", "answer", "rating", "score", "choice", "ranking")


def shown(question: Question, seed: int) -> tuple[str, ...]:
    """``question``'s options in the order one persona sees them (seeded)."""
    options = list(question.options)
    random.Random(f"{seed}\x00{question.id}").shuffle(options)
    return tuple(options)


_KINDS: Final = {
    "choice": "choose one option, exactly as written",
    "ranking": "rank every option, best first",
    "free_text": "answer in your own words",
}


def question_text(question: Question, seed: int, index: int = 1, total: int = 1) -> str:
    """The question as the persona reads it: its number, how to answer, the text,
    and the options in the order this persona sees them."""
    if question.type == "scale":
        kind = f"scale from {question.low} to {question.high}"
    else:
        kind = _KINDS[question.type]
    lines = [f"Question {index} of {total} ({kind}): {question.text}"]
    if question.type in ("choice", "ranking"):
        lines.append("Options:")
        lines.extend(f"- {option}" for option in shown(question, seed))
    return "\n".join(lines)


def answer_schema(question: Question, seed: int) -> dict[str, Any]:
    """The structured-output schema of an answer to ``question``."""
    value: dict[str, Any]
    if question.type == "scale":
        value = {"type": "integer", "minimum": question.low, "maximum": question.high}
    elif question.type == "choice":
        value = {"type": "string", "enum": list(shown(question, seed))}
    elif question.type == "ranking":
        value = {
            "type": "array",
            "items": {"type": "string", "enum": list(shown(question, seed))},
        }
    else:
        value = {"type": "string"}
    return {
        "title": ANSWER_TITLE,
        "description": f"A survey answer to question {question.id!r}.",
        "type": "object",
        "properties": {
            "value": {**value, "description": "The answer."},
            "text": {"type": "string", "description": "The answer in your words."},
            "reasoning": {"type": "string", "description": "Why, briefly."},
            "confidence": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": "How sure you are, from 0 to 1.",
            },
        },
        "required": ["value", "text"],
    }


def answer_of(question: Question, data: Mapping[str, Any]) -> Answer:
    """An :class:`Answer` from a structured answer, its value read in the
    question's type (``None`` when it does not fit)."""
    raw = next((data[key] for key in _VALUE_KEYS if key in data), None)
    text = data.get("text")
    reasoning = data.get("reasoning")
    confidence = data.get("confidence")
    return Answer(
        question_id=question.id,
        value=_value(question, raw),
        text=text if isinstance(text, str) else ("" if raw is None else str(raw)),
        reasoning=reasoning if isinstance(reasoning, str) else "",
        confidence=(
            min(1.0, max(0.0, float(confidence)))
            if isinstance(confidence, int | float) and not isinstance(confidence, bool)
            else None
        ),
    )


def _value(question: Question, raw: object) -> int | str | tuple[str, ...] | None:
    if question.type == "scale":
        try:
            number = round(float(raw))  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            return None
        return min(question.high, max(question.low, number))
    if question.type == "choice":
        return _option(question, raw)
    if question.type == "ranking":
        if isinstance(raw, str) or not isinstance(raw, list | tuple):
            return None
        ranked: list[str] = []
        for item in raw:
            option = _option(question, item)
            if option is not None and option not in ranked:
                ranked.append(option)
        ranked.extend(o for o in question.options if o not in ranked)
        return tuple(ranked)
    return raw if isinstance(raw, str) else (None if raw is None else str(raw))


def _option(question: Question, raw: object) -> str | None:
    if not isinstance(raw, str):
        return None
    wanted = raw.strip().casefold()
    return next((o for o in question.options if o.casefold() == wanted), None)
