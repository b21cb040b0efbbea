"""The values of population studies: questions with declared answer types, answers,
declared fields to extract, and one persona's response.

Pure data; the engines are :mod:`clientsim.population` and
:mod:`clientsim.interventions`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal, TypeAlias

import attrs

from clientsim._validators import a_text, an_int, typed
from clientsim.config.converter import OMIT_IF_DEFAULT
from clientsim.errors import ConfigError, InvalidTypeError
from clientsim.models.frozen import FrozenDict, freeze_mapping


__all__ = [
    "FIELD_TYPES",
    "QUESTION_TYPES",
    "Answer",
    "AnswerValue",
    "FieldSpec",
    "FieldType",
    "Question",
    "QuestionType",
    "Response",
    "Touchpoint",
    "Variant",
]

QuestionType: TypeAlias = Literal["scale", "choice", "ranking", "free_text"]
QUESTION_TYPES: Final[tuple[str, ...]] = ("scale", "choice", "ranking", "free_text")
FieldType: TypeAlias = Literal["text", "number", "integer", "boolean", "choice", "list"]
FIELD_TYPES: Final[tuple[str, ...]] = (
    "text",
    "number",
    "integer",
    "boolean",
    "choice",
    "list",
)

AnswerValue: TypeAlias = int | float | str | tuple[str, ...] | None
"""A scale answer is an ``int``, a choice a ``str`` (the option as declared), a
ranking a ``tuple`` of every option (best first), free text a ``str``; ``None``:
no answer."""

_text: Final = a_text()
_name: Final = a_text(non_empty=True)


def _options(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidTypeError(f"options must be a list of strings; got {value!r}")
    items = tuple(value)
    if not all(isinstance(item, str) and item.strip() for item in items):
        raise InvalidTypeError(f"options must be non-empty strings; got {items!r}")
    if len(set(items)) != len(items):
        raise ConfigError(f"options must be distinct; got {items!r}")
    return items


@attrs.frozen(kw_only=True)
class Question:
    """A question with a declared answer type.

    Attributes:
        id: its key in the results (a slug).
        text: the question as asked.
        type: ``scale`` (an integer from ``low`` to ``high``, 1-10 by default),
            ``choice`` (one of ``options``), ``ranking`` (every option, ordered), or
            ``free_text``.
        options: the options of a choice or ranking question (at least 2). They are
            shuffled per persona when asked (seeded) and unshuffled in the results.
        low: the lowest scale value.
        high: the highest scale value.

    Example:
        >>> Question(id="intent", text="How likely are you to buy?", type="scale").high
        10
    """

    id: str = attrs.field(validator=_name)
    text: str = attrs.field(validator=_name)
    type: QuestionType = attrs.field(default="free_text")
    options: tuple[str, ...] = attrs.field(default=(), converter=_options)
    low: int = attrs.field(default=1, validator=an_int())
    high: int = attrs.field(default=10, validator=an_int())

    def __attrs_post_init__(self) -> None:
        if self.type not in QUESTION_TYPES:
            raise ConfigError(
                f"question {self.id!r}: type must be one of {', '.join(QUESTION_TYPES)}; "
                f"got {self.type!r}"
            )
        if self.type in ("choice", "ranking") and len(self.options) < 2:
            raise ConfigError(
                f"question {self.id!r}: a {self.type} question needs at least 2 "
                f"options; got {len(self.options)}"
            )
        if self.type == "scale" and self.low >= self.high:
            raise ConfigError(
                f"question {self.id!r}: scale low ({self.low}) must be below high "
                f"({self.high})"
            )


def _answer_value(value: object) -> AnswerValue:
    if isinstance(value, list | tuple):  # a ranking (a list once stored as JSON)
        return tuple(str(item) for item in value)
    if value is None or isinstance(value, int | float | str):
        return value
    raise InvalidTypeError(
        f"an answer value must be a number, a string, a list of strings or None; "
        f"got {type(value).__name__}"
    )


@attrs.frozen(kw_only=True)
class Answer:
    """One persona's answer to one question.

    Attributes:
        question_id: the question.
        value: the answer in the question's type (see :data:`AnswerValue`), choices
            and rankings in the declared option names (already unshuffled).
        text: what the persona said.
        reasoning: why, in their words (may be empty).
        confidence: how sure they are, in [0, 1], when known.
    """

    question_id: str = attrs.field(validator=_name)
    value: AnswerValue = attrs.field(default=None, converter=_answer_value)
    text: str = attrs.field(default="", validator=_text)
    reasoning: str = attrs.field(default="", validator=_text)
    confidence: float | None = attrs.field(
        default=None, validator=typed(float, int, optional=True)
    )


@attrs.frozen(kw_only=True)
class FieldSpec:
    """A field to extract from each transcript by structured output.

    Attributes:
        name: its key in the results (``purchase_intent``).
        type: ``text``, ``number``, ``integer``, ``boolean``, ``choice`` (one of
            ``options``) or ``list`` (of strings).
        hint: what to look for (``"how likely they are to buy, 0-10"``).
        options: the allowed values of a ``choice`` field.
    """

    name: str = attrs.field(validator=_name)
    type: FieldType = attrs.field(default="text")
    hint: str = attrs.field(default="", validator=_text)
    options: tuple[str, ...] = attrs.field(default=(), converter=_options)

    def __attrs_post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise ConfigError(
                f"field {self.name!r}: type must be one of {', '.join(FIELD_TYPES)}; "
                f"got {self.type!r}"
            )
        if self.type == "choice" and len(self.options) < 2:
            raise ConfigError(
                f"field {self.name!r}: a choice field needs at least 2 options"
            )


def _answers(value: object) -> FrozenDict[str, Answer]:
    if isinstance(value, Mapping):
        items = dict(value)
    elif isinstance(value, Iterable) and not isinstance(value, str):
        items = {answer.question_id: answer for answer in value}
    else:
        raise InvalidTypeError(f"answers must be a mapping or a list; got {value!r}")
    answers: dict[str, Answer] = {}
    for key, item in items.items():
        # plain data, read back from a store, or an Answer
        answer = Answer(**item) if isinstance(item, Mapping) else item
        if not isinstance(answer, Answer):
            raise InvalidTypeError(f"answers must be Answer values; got {answer!r}")
        answers[str(key)] = answer
    return FrozenDict(answers)


def _fields(value: object) -> FrozenDict[str, Any]:
    return freeze_mapping(value, "fields")


def _demographics(value: object) -> FrozenDict[str, str]:
    return freeze_mapping(value, "demographics")


def _events(value: object) -> tuple[FrozenDict[str, Any], ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidTypeError(f"events must be a list of mappings; got {value!r}")
    return tuple(freeze_mapping(event, "events") for event in value)


@attrs.frozen(kw_only=True)
class Response:
    """What one persona did in one unit of a population study (a survey, an
    interview, a journey, its seat in a focus group): the individual result.

    It travels inside the stored conversation, as ``ConversationResult.data
    ["response"]`` (plain data), so a population run's individual results come back
    from the run store after a restart.

    Attributes:
        persona_id: the persona.
        segment: their segment, if any.
        variant: the intervention arm they were assigned to (``None`` outside an
            intervention; ``"control"`` for the control group).
        answers: question id -> :class:`Answer`.
        fields: extracted field name -> value (JSON-able).
        demographics: the persona's demographic profile.
        events: what happened along the way (interventions fired, touchpoints,
            thoughts), each a JSON-able mapping with at least ``"type"``.
    """

    persona_id: str = attrs.field(validator=_name)
    segment: str | None = attrs.field(default=None, validator=typed(str, optional=True))
    variant: str | None = attrs.field(default=None, validator=typed(str, optional=True))
    answers: Mapping[str, Answer] = attrs.field(factory=FrozenDict, converter=_answers)
    fields: Mapping[str, Any] = attrs.field(factory=FrozenDict, converter=_fields)
    demographics: Mapping[str, str] = attrs.field(
        factory=FrozenDict, converter=_demographics
    )
    events: tuple[Mapping[str, Any], ...] = attrs.field(
        default=(),
        converter=_events,
        metadata={OMIT_IF_DEFAULT: True},
    )


@attrs.frozen(kw_only=True)
class Touchpoint:
    """One step of a customer journey (sequence mode), at a point of simulated time.

    Attributes:
        day: when it happens, in days from the start of the journey (0 = the first
            day; fractions are hours: 0.5 is noon of day 0).
        content: the message the persona receives.
        channel: how it arrives (``email``, ``sms``, ``push``, ``call``, ...).
        name: a label for reports (defaults to ``day N``).
        questions: what the persona is asked right after it (question ids of the
            study's questions; empty: none).
    """

    day: float = attrs.field(validator=typed(float, int))
    content: str = attrs.field(validator=_name)
    channel: str | None = attrs.field(default=None, validator=typed(str, optional=True))
    name: str = attrs.field(default="", validator=_text)
    questions: tuple[str, ...] = attrs.field(default=(), converter=_options)

    def __attrs_post_init__(self) -> None:
        if self.day < 0:
            raise ConfigError(f"touchpoint day must be >= 0; got {self.day!r}")

    @property
    def label(self) -> str:
        """``name``, or ``day N``."""
        return self.name or f"day {self.day:g}"


def _touchpoint(item: Mapping[str, Any], index: int) -> Touchpoint:
    """A touchpoint from a file's mapping; a wrong key is named, not a TypeError."""
    keys = tuple(a.name for a in attrs.fields(Touchpoint))
    for key in item:
        if key not in keys:
            raise ConfigError(
                f"sequence[{index}]: unknown key {key!r}; allowed: {', '.join(keys)}"
            )
    for key in ("day", "content"):
        if key not in item:
            raise ConfigError(f"sequence[{index}]: {key!r} is required")
    return Touchpoint(**item)


def _touchpoints(value: object) -> tuple[Touchpoint, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidTypeError(f"sequence must be a list of touchpoints; got {value!r}")
    points = tuple(
        _touchpoint(p, index) if isinstance(p, Mapping) else p
        for index, p in enumerate(value)
    )
    for point in points:
        if not isinstance(point, Touchpoint):
            raise InvalidTypeError(f"sequence items must be touchpoints; got {point!r}")
    return tuple(sorted(points, key=lambda p: p.day))


@attrs.frozen(kw_only=True)
class Variant:
    """What one arm of an intervention shows its personas (the control arm too).

    Attributes:
        name: the arm's name (a slug; ``control`` for the control group).
        content: the message shown (empty for a control that shows nothing).
        timing: when it is sent (``morning``, ``afternoon``, ``evening``, or any
            label a mode understands).
        channel: how it is sent (``email``, ``sms``, ``push``, ...).
        sequence: for sequence mode, the touchpoints of this arm's journey.
        agent: for a paired agent or prompt comparison, the system under test this
            arm uses (anything the agent resolver takes; ``None``: the study's).
        prompt: for a paired prompt comparison, the simulated agent's system prompt.
    """

    name: str = attrs.field(validator=_name)
    content: str = attrs.field(default="", validator=_text)
    timing: str | None = attrs.field(default=None, validator=typed(str, optional=True))
    channel: str | None = attrs.field(default=None, validator=typed(str, optional=True))
    sequence: tuple[Touchpoint, ...] = attrs.field(default=(), converter=_touchpoints)
    agent: object = attrs.field(default=None)
    prompt: str | None = attrs.field(default=None, validator=typed(str, optional=True))
