"""Extraction of declared fields from a transcript, by one structured model call.

A study declares the fields it wants from every conversation (``FieldSpec``: a
name, a type, a hint, the options of a choice); :func:`extract_fields` asks a model
for all of them at once, in a JSON schema titled ``extracted_fields`` built from the
specs (the type, the hint as the description, a choice's options as an ``enum``),
and checks each value against its declared type.

Five fields are built in and may be named by their name alone: ``response`` (what
the person answered or decided, in a few words), ``sentiment`` (``positive``,
``neutral`` or ``negative``), ``rating`` (a number), ``purchase_intent`` (an integer
from 0 to 10) and ``concerns`` (a list of worries). :func:`with_extraction` wraps any
communication mode so that every response it records carries the fields.

The offline model answers by written rules (keywords for sentiment, the numbers said
for ratings, the sentences with *worried*, *concern*, *but* for concerns): the same
transcript always gives the same fields.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs

from clientsim.errors import ConfigError, InvalidModelOutputError
from clientsim.models.conversation import Conversation, ConversationResult
from clientsim.models.survey import FieldSpec, Response, Variant
from clientsim.population.base import PopulationMode, unit_personas


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from clientsim.models.persona import Persona
    from clientsim.runners.base import Runner
    from clientsim.runners.batch import BatchCell, ConversationJob


__all__ = [
    "BUILTIN_FIELDS",
    "EXTRACTION_TITLE",
    "ExtractionMode",
    "extract_fields",
    "extraction_schema",
    "field_specs",
    "transcript_lines",
    "with_extraction",
]

EXTRACTION_TITLE: Final = "extracted_fields"
"""The title of the extraction's structured-output schema."""
FIELDS_HEADER: Final = "Fields:"
ABOUT_HEADER: Final = "About:"
TRANSCRIPT_HEADER: Final = "Transcript:"
"""The section headers of the extraction prompt, each at the start of a line."""

BUILTIN_FIELDS: Final[Mapping[str, FieldSpec]] = {
    spec.name: spec
    for spec in (
        FieldSpec(
            name="response",
            type="text",
            hint="what the person answered or decided, in a few words",
        ),
        FieldSpec(
            name="sentiment",
            type="choice",
            hint="the person's overall feeling about what they were shown",
            options=("positive", "neutral", "negative"),
        ),
        FieldSpec(
            name="rating",
            type="number",
            hint="the rating or score the person gave, as a number",
        ),
        FieldSpec(
            name="purchase_intent",
            type="integer",
            hint="how likely the person is to buy, from 0 (never) to 10 (certainly)",
        ),
        FieldSpec(
            name="concerns",
            type="list",
            hint="the worries, objections or doubts the person raised",
        ),
    )
}
"""The built-in fields, by name: name one (``"sentiment"``) instead of a spec."""

_BOUNDS: Final[Mapping[str, tuple[float, float]]] = {"purchase_intent": (0, 10)}

_SYSTEM: Final = """\
You read the transcript of a study conversation and extract the declared fields \
about one participant (named under "About:"). Use only what they said. Give every \
field in its declared type; give null for a field the transcript does not tell."""

_JSON_TYPES: Final[Mapping[str, str]] = {
    "text": "string",
    "number": "number",
    "integer": "integer",
    "boolean": "boolean",
    "choice": "string",
}


def field_specs(fields: Iterable[FieldSpec | str]) -> tuple[FieldSpec, ...]:
    """The specs of ``fields``: a name picks a built-in field (:data:`BUILTIN_FIELDS`).

    Raises:
        ConfigError: an unknown built-in name, something that is not a FieldSpec or a
            name, a name given twice, or no field at all.
    """
    if isinstance(fields, str | FieldSpec):
        fields = [fields]
    specs: list[FieldSpec] = []
    for item in fields:
        if isinstance(item, str):
            spec = BUILTIN_FIELDS.get(item)
            if spec is None:
                raise ConfigError(
                    f"unknown built-in field {item!r}; built-in fields are "
                    f"{', '.join(BUILTIN_FIELDS)} (or declare a FieldSpec with a type "
                    "and a hint)"
                )
            specs.append(spec)
        elif isinstance(item, FieldSpec):
            specs.append(item)
        else:
            raise ConfigError(
                f"fields must be FieldSpec values or built-in field names; got "
                f"{type(item).__name__}"
            )
    names = [spec.name for spec in specs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"field names must be distinct; repeated: {repeated}")
    if not specs:
        raise ConfigError("declare at least one field to extract")
    return tuple(specs)


def _property(spec: FieldSpec) -> dict[str, Any]:
    description = spec.hint or spec.name.replace("_", " ")
    if spec.type == "list":
        return {
            "type": ["array", "null"],
            "items": {"type": "string"},
            "description": description,
        }
    schema: dict[str, Any] = {
        "type": [_JSON_TYPES[spec.type], "null"],
        "description": description,
    }
    if spec.type == "choice":
        schema["enum"] = [*spec.options, None]
    bounds = _BOUNDS.get(spec.name)
    if bounds is not None and spec is BUILTIN_FIELDS.get(spec.name):
        schema["minimum"], schema["maximum"] = bounds
    return schema


def extraction_schema(fields: Iterable[FieldSpec | str]) -> dict[str, Any]:
    """The JSON schema (title ``extracted_fields``) asked for ``fields``.

    Example:
        >>> schema = extraction_schema(["sentiment", "concerns"])
        >>> schema["title"], schema["properties"]["sentiment"]["enum"]
        ('extracted_fields', ['positive', 'neutral', 'negative', None])
    """
    specs = field_specs(fields)
    return {
        "title": EXTRACTION_TITLE,
        "description": "The declared fields, read from one participant's transcript.",
        "type": "object",
        "properties": {spec.name: _property(spec) for spec in specs},
        "required": [spec.name for spec in specs],
    }


def transcript_lines(conversation: Conversation) -> list[str]:
    """One ``"who: text"`` line a message: the speaker's label in a group
    transcript, else the side (``customer`` or ``agent``)."""
    lines = []
    for message in conversation.messages:
        who = message.speaker.label if message.speaker else message.sender.value
        text = " ".join(message.content.split())
        lines.append(f"{who}: {text}")
    return lines


def extraction_prompt(
    conversation: Conversation, specs: Sequence[FieldSpec], about: str
) -> str:
    """The user message of the extraction call: the fields (one JSON object a
    line), who the fields are about, and the transcript."""
    listed = "\n".join(
        json.dumps(
            {
                "name": s.name,
                "type": s.type,
                "hint": s.hint,
                "options": list(s.options),
            },
            ensure_ascii=False,
        )
        for s in specs
    )
    lines = "\n".join(transcript_lines(conversation)) or "(no messages)"
    return (
        f"{FIELDS_HEADER}\n{listed}\n\n{ABOUT_HEADER} {about}\n\n"
        f"{TRANSCRIPT_HEADER}\n{lines}"
    )


def _wrong(spec: FieldSpec, value: object) -> InvalidModelOutputError:
    allowed = (
        f"one of {', '.join(spec.options)}" if spec.type == "choice" else spec.type
    )
    return InvalidModelOutputError(
        f"extracted field {spec.name!r} must be {allowed} (or null); the model gave "
        f"{value!r} ({type(value).__name__})"
    )


def _number(spec: FieldSpec, value: object) -> float:
    if isinstance(value, bool):
        raise _wrong(spec, value)
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise _wrong(spec, value) from None
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise _wrong(spec, value)
    return float(value)


def _text(spec: FieldSpec, value: object) -> object:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise _wrong(spec, value)


def _numeric(spec: FieldSpec, value: object) -> object:
    number = _number(spec, value)
    if spec.type == "integer":
        if number != int(number):
            raise _wrong(spec, value)
        number = int(number)
    bounds = _BOUNDS.get(spec.name)
    builtin = spec is BUILTIN_FIELDS.get(spec.name)
    if bounds is not None and builtin and not bounds[0] <= number <= bounds[1]:
        raise InvalidModelOutputError(
            f"extracted field {spec.name!r} must be from {bounds[0]:g} to "
            f"{bounds[1]:g}; the model gave {value!r}"
        )
    return number


def _boolean(spec: FieldSpec, value: object) -> object:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _wrong(spec, value)


def _choice(spec: FieldSpec, value: object) -> object:
    if isinstance(value, str):
        for option in spec.options:
            if option.lower() == value.strip().lower():
                return option
    raise _wrong(spec, value)


def _list(spec: FieldSpec, value: object) -> object:
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    raise _wrong(spec, value)


_COERCE: Final = {
    "text": _text,
    "number": _numeric,
    "integer": _numeric,
    "boolean": _boolean,
    "choice": _choice,
    "list": _list,
}


def coerce_field(spec: FieldSpec, value: object) -> object:
    """``value`` as ``spec`` declares it (``None`` stays ``None``).

    Numbers written as text are read (``"7"`` for an integer), an integral float is
    an integer, ``"true"``/``"false"`` are booleans, a choice matches its options
    whatever the case, and one string is a list of one.

    Raises:
        InvalidModelOutputError: the value cannot be read as the declared type; the
            message names the field.
    """
    if value is None:
        return None
    return _COERCE[spec.type](spec, value)


def read_fields(
    answer: Mapping[str, object], specs: Sequence[FieldSpec]
) -> dict[str, object]:
    """The model's answer checked and coerced field by field (a field it left out
    is ``None``)."""
    return {spec.name: coerce_field(spec, answer.get(spec.name)) for spec in specs}


async def extract_fields(
    conversation: Conversation | ConversationResult,
    fields: Sequence[FieldSpec | str],
    model: str | BaseChatModel = "offline",
    *,
    about: str = "customer",
    seed: int = 0,
) -> dict[str, object]:
    """Extract ``fields`` from ``conversation`` in one structured call.

    Example:
        >>> import anyio
        >>> from datetime import datetime, UTC
        >>> from clientsim.models import Conversation, Message, ParticipantRole
        >>> said = "I love the idea, great design: 8 out of 10. But I worry about the price."
        >>> chat = Conversation((Message(said, datetime(2026, 1, 5, tzinfo=UTC),
        ...                              ParticipantRole.CUSTOMER),))
        >>> anyio.run(lambda: extract_fields(chat, ["sentiment", "rating", "concerns"]))
        {'sentiment': 'positive', 'rating': 8.0, 'concerns': ['But I worry about the price.']}

    Args:
        conversation: the transcript (or a finished conversation's result).
        fields: ``FieldSpec`` values (``clientsim.models.survey``), or names of
            built-in fields (:data:`BUILTIN_FIELDS`).
        model: a chat model with structured output or a spec (``"offline"``, the
            default); asked at temperature 0 with ``seed``.
        about: whose fields: the side (``"customer"``, the default: the persona of a
            survey or an interview) or a speaker's label in a group transcript.
        seed: the call's seed, where the model takes one.

    Returns:
        Field name -> value in its declared type (``None`` where the transcript does
        not tell): text and choices are ``str``, numbers ``float``, integers ``int``,
        booleans ``bool``, lists ``list[str]``.

    Raises:
        ConfigError: bad fields (see :func:`field_specs`) or not a conversation.
        ModelError: the model failed or did not answer in time.
        InvalidModelOutputError: a value is not of its field's declared type; the
            message names the field.
    """
    from clientsim.llm import Turn  # noqa: PLC0415
    from clientsim.llm.calls import judge_call  # noqa: PLC0415

    if isinstance(conversation, ConversationResult):
        conversation = conversation.conversation
    if not isinstance(conversation, Conversation):
        raise ConfigError(
            f"extract_fields() takes a Conversation or a ConversationResult; got "
            f"{type(conversation).__name__}"
        )
    specs = field_specs(fields)
    call = judge_call(model, extraction_schema(specs), seed=seed)
    answer, _ = await call(
        [
            Turn("system", _SYSTEM),
            Turn("user", extraction_prompt(conversation, specs, about)),
        ]
    )
    return read_fields(answer, specs)


class ExtractionMode(PopulationMode):
    """A communication mode whose responses also carry extracted fields.

    Everything but the responses is the wrapped mode's (its name, units and
    runners); each response's ``fields`` gain the extracted values (a field the mode
    itself filled is kept unless extraction found a value). Build it with
    :func:`with_extraction`.
    """

    def __init__(
        self,
        mode: PopulationMode,
        fields: Sequence[FieldSpec | str],
        model: str | BaseChatModel = "offline",
    ) -> None:
        if not isinstance(mode, PopulationMode):
            raise ConfigError(
                f"with_extraction() wraps a PopulationMode; got {type(mode).__name__}"
            )
        self.mode = mode
        self.fields = field_specs(fields)
        self.model = model
        self.name = mode.name  # type: ignore[misc]  # the wrapped mode's name

    def __repr__(self) -> str:
        names = ", ".join(spec.name for spec in self.fields)
        return f"ExtractionMode({self.mode!r}, fields=[{names}])"

    def units(
        self, personas: Sequence[Persona], *, arm: str, variant: Variant | None
    ) -> Iterable[BatchCell]:
        return self.mode.units(personas, arm=arm, variant=variant)

    async def build(self, job: ConversationJob) -> Runner:
        return await self.mode.build(job)

    async def responses(
        self, job: ConversationJob, result: ConversationResult
    ) -> list[Response]:
        found = await self.mode.responses(job, result)
        if not found:
            return found
        names = {p.id: p.name for p in unit_personas(job)}
        grouped = any(m.speaker is not None for m in result.conversation.messages)
        model = job.models.model(self.model, "extractor")
        filled = []
        for response in found:
            about = names.get(response.persona_id, response.persona_id)
            values = await extract_fields(
                result.conversation,
                self.fields,
                model,
                about=about if grouped else "customer",
                seed=job.seed,
            )
            kept = {k: v for k, v in values.items() if v is not None}
            merged = {**response.fields, **kept}
            merged.update({k: None for k in values if k not in merged})
            filled.append(attrs.evolve(response, fields=merged))
        return filled


def with_extraction(
    mode: PopulationMode,
    fields: Sequence[FieldSpec | str],
    model: str | BaseChatModel = "offline",
) -> ExtractionMode:
    """``mode`` with ``fields`` extracted from every unit's transcript into each
    response's ``fields`` (see :class:`ExtractionMode`).

    Raises:
        ConfigError: ``mode`` is not a PopulationMode, or bad ``fields``.
    """
    return ExtractionMode(mode, fields, model)
