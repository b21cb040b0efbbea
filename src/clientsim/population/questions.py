"""Questions with declared answer types, as a persona is asked them and answers them.

A question is put in a fixed form that both a real model and the offline model read
(:func:`question_text`)::

    Question 2 of 4 (choose one option, exactly as written): Which matters most?
    Options:
    - Price
    - Quality

and answered by one structured-output call titled ``survey_answer``
(:func:`answer_schema`): ``value`` in the question's type, ``text`` (what the persona
says), ``reasoning`` and ``confidence``. Choice and ranking options are shown in a
per-persona order (:func:`shuffled_options`, seeded) and the answer is read back in
the declared options (:func:`read_answer`), so a model's position bias spreads evenly
over the options instead of favouring the first declared one. Content a persona is
shown goes between ``---`` lines (:func:`exposure_text`).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from clientsim.errors import ConfigError, InvalidModelOutputError
from clientsim.models.survey import Answer, Question, Variant


__all__ = [
    "ANSWER_TITLE",
    "QUESTION_KEYS",
    "answer_line",
    "answer_schema",
    "exposure_text",
    "question_text",
    "questions_of",
    "read_answer",
    "shuffled_options",
]

ANSWER_TITLE: Final = "survey_answer"
"""The title of the structured-output schema a persona answers a question in."""
QUESTION_KEYS: Final = ("id", "text", "type", "options", "low", "high")
"""The keys a question mapping may have."""
_KINDS: Final = {
    "choice": "choose one option, exactly as written",
    "ranking": "rank every option, best first",
    "free_text": "answer in your own words",
}
_TIMINGS: Final = ("morning", "afternoon", "evening", "night")


def questions_of(value: object, *, name: str = "questions") -> tuple[Question, ...]:
    """Questions from :class:`~clientsim.models.survey.Question` values or mappings.

    Raises:
        ConfigError: not a non-empty list, an item that is neither, an unknown or
            missing key (named, with the allowed ones), a bad value, or two questions
            with one id.
    """
    if isinstance(value, str | Mapping) or not isinstance(value, Iterable):
        raise ConfigError(
            f"{name} must be a list of questions (Question values or mappings with "
            f"{', '.join(QUESTION_KEYS)}); got {type(value).__name__}"
        )
    questions: list[Question] = []
    for index, item in enumerate(value):
        where = f"{name}[{index}]"
        if isinstance(item, Question):
            questions.append(item)
            continue
        if not isinstance(item, Mapping):
            raise ConfigError(
                f"{where} must be a Question or a mapping; got {type(item).__name__}"
            )
        unknown = sorted(str(key) for key in item if key not in QUESTION_KEYS)
        if unknown:
            raise ConfigError(
                f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(QUESTION_KEYS)}"
            )
        missing = [key for key in ("id", "text") if key not in item]
        if missing:
            raise ConfigError(f"{where}: missing key {missing[0]!r}")
        try:
            questions.append(Question(**{str(k): v for k, v in item.items()}))
        except ConfigError as exc:
            raise type(exc)(f"{where}: {exc}") from exc
    if not questions:
        raise ConfigError(f"{name} must hold at least one question")
    ids = [q.id for q in questions]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ConfigError(
            f"{name}: question ids must be distinct; repeated: {repeated}"
        )
    return tuple(questions)


def shuffled_options(question: Question, seed: int) -> tuple[str, ...]:
    """The options of ``question`` in the order a persona whose unit is seeded
    ``seed`` sees them (the declared order for a scale or free-text question: none).

    Example:
        >>> q = Question(id="pick", text="Which?", type="choice", options=["a", "b", "c"])
        >>> sorted(shuffled_options(q, 7)) == ["a", "b", "c"]
        True
        >>> shuffled_options(q, 7) == shuffled_options(q, 7)
        True
    """
    options = list(question.options)
    random.Random(f"{seed}\x00{question.id}").shuffle(options)
    return tuple(options)


def question_text(
    question: Question, shown: Sequence[str], index: int, total: int
) -> str:
    """``question`` as it is put to a persona: its number, its declared type, the
    text, and the options in the order ``shown``."""
    if question.type == "scale":
        kind = f"scale from {question.low} to {question.high}"
    else:
        kind = _KINDS[question.type]
    lines = [f"Question {index} of {total} ({kind}): {question.text}"]
    if question.type in ("choice", "ranking"):
        lines.append("Options:")
        lines.extend(f"- {option}" for option in shown)
    return "\n".join(lines)


def answer_schema(question: Question, shown: Sequence[str]) -> dict[str, Any]:
    """The structured-output schema (title ``survey_answer``) of an answer to
    ``question`` with its options ``shown`` in that order."""
    value: dict[str, Any]
    if question.type == "scale":
        value = {
            "type": "integer",
            "minimum": question.low,
            "maximum": question.high,
            "description": f"A whole number from {question.low} to {question.high}.",
        }
    elif question.type == "choice":
        value = {
            "type": "string",
            "enum": list(shown),
            "description": "One of the options, exactly as written.",
        }
    elif question.type == "ranking":
        value = {
            "type": "array",
            "items": {"type": "string", "enum": list(shown)},
            "minItems": len(shown),
            "maxItems": len(shown),
            "description": "Every option exactly once, best first.",
        }
    else:
        value = {"type": "string", "description": "Your answer."}
    return {
        "title": ANSWER_TITLE,
        "description": "Your answer to the question, as the person you are.",
        "type": "object",
        "properties": {
            "value": value,
            "text": {
                "type": "string",
                "description": "What you say, in your own words and style.",
            },
            "reasoning": {"type": "string", "description": "Why, in a sentence."},
            "confidence": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": "How sure you are, from 0 to 1.",
            },
        },
        "required": ["value", "text", "reasoning", "confidence"],
    }


def _option(question: Question, shown: Sequence[str], raw: object) -> str:
    if isinstance(raw, str):
        wanted = raw.strip().casefold()
        for option in shown:
            if option.strip().casefold() == wanted:
                return option
    raise InvalidModelOutputError(
        f"question {question.id!r}: the answer {raw!r} is not one of the options "
        f"{list(shown)}"
    )


def _scale(question: Question, raw: object) -> int:
    number: float | None = None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        number = float(raw)
    elif isinstance(raw, str):
        try:
            number = float(raw.strip())
        except ValueError:
            number = None
    if number is None or number != round(number):
        raise InvalidModelOutputError(
            f"question {question.id!r}: a scale answer must be a whole number; "
            f"got {raw!r}"
        )
    value = int(number)
    if not question.low <= value <= question.high:
        raise InvalidModelOutputError(
            f"question {question.id!r}: the answer {value} is outside the scale "
            f"{question.low}-{question.high}"
        )
    return value


def read_answer(
    question: Question, shown: Sequence[str], raw: Mapping[str, Any]
) -> Answer:
    """The :class:`~clientsim.models.survey.Answer` in ``raw`` (a ``survey_answer``),
    its value checked against the question's type and read back in the declared
    options (a choice: the option; a ranking: every option once, best first).

    Raises:
        InvalidModelOutputError: the value does not fit the question.
    """
    value: int | str | tuple[str, ...]
    given = raw.get("value")
    if question.type == "scale":
        value = _scale(question, given)
    elif question.type == "choice":
        value = _option(question, shown, given)
    elif question.type == "ranking":
        if isinstance(given, str) or not isinstance(given, Sequence):
            raise InvalidModelOutputError(
                f"question {question.id!r}: a ranking must be a list of the options; "
                f"got {given!r}"
            )
        value = tuple(_option(question, shown, item) for item in given)
        if sorted(value) != sorted(question.options):
            raise InvalidModelOutputError(
                f"question {question.id!r}: a ranking must hold every option exactly "
                f"once; got {list(value)}"
            )
    else:
        value = str(given if given is not None else raw.get("text", "")).strip()
    confidence = raw.get("confidence")
    return Answer(
        question_id=question.id,
        value=value,
        text=str(raw.get("text") or "").strip(),
        reasoning=str(raw.get("reasoning") or "").strip(),
        confidence=(
            min(1.0, max(0.0, float(confidence)))
            if isinstance(confidence, int | float) and not isinstance(confidence, bool)
            else None
        ),
    )


def answer_line(question: Question, answer: Answer) -> str:
    """How an answer reads in the transcript: the value, then what was said."""
    if question.type == "free_text":
        return answer.text or str(answer.value or "")
    value = answer.value
    shown = " > ".join(value) if isinstance(value, tuple) else str(value)
    if not answer.text:
        return shown
    if shown.casefold() in answer.text.casefold():  # it says its value already
        return answer.text
    return f"{shown}. {answer.text}"


def exposure_text(variant: Variant, intro: str | None = None) -> str:
    """What a persona is shown before the questions: the variant's content between
    ``---`` lines, with its channel and timing, then a request for a first reaction."""
    how = f" by {variant.channel}" if variant.channel else ""
    if variant.timing:
        how += (
            f" in the {variant.timing}"
            if variant.timing in _TIMINGS
            else f" ({variant.timing})"
        )
    lines = [intro.strip()] if intro and intro.strip() else []
    lines += [
        f"You received this message{how}:",
        "---",
        variant.content.strip(),
        "---",
        "What is your first reaction?",
    ]
    return "\n".join(lines)
