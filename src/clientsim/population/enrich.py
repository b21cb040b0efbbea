"""Enriching personas: a model writes each persona's background, message style and
traits from its demographics and fragments (one structured call per persona, schema
title ``persona_background``). Offline, the answer is deterministic and built from
the persona's own text.

Example:
    >>> import anyio
    >>> from clientsim.population import generate_population
    >>> population = generate_population({"name": "P", "size": 3}, seed=0)
    >>> richer = anyio.run(enrich, population, "offline")
    >>> richer.personas[0].background != population.personas[0].background
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import anyio
import attrs

from clientsim._validators import check_int
from clientsim.errors import ClientSimError, ConfigError, InvalidModelOutputError
from clientsim.models.persona import Persona


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from clientsim.population.generate import Population

__all__ = ["BACKGROUND_TITLE", "enrich", "enrich_persona"]

BACKGROUND_TITLE: Final = "persona_background"
"""The title of the enrichment's structured-output schema."""
_MAX_BACKGROUND: Final = 2000

_SYSTEM: Final = """\
You write realistic backgrounds for the simulated people of a market study. Given a \
person's name, demographics, fragments and leanings, write a background of three to \
five sentences in the third person (their work, household, daily life and what they \
care about when they buy or decide), consistent with every fact given and inventing \
no other demographic fact; a message style (how they write messages, in a short \
phrase); and up to five short trait words."""

_SCHEMA: Final[dict[str, Any]] = {
    "title": BACKGROUND_TITLE,
    "description": "A simulated person's background, message style and traits.",
    "type": "object",
    "properties": {
        "background": {
            "type": "string",
            "description": "Three to five sentences about the person, third person.",
        },
        "message_style": {
            "type": "string",
            "description": "How they write messages, in a short phrase.",
        },
        "traits": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Up to five short trait words.",
        },
    },
    "required": ["background", "message_style", "traits"],
}


def _read(answer: dict[str, Any], persona: Persona) -> Persona:
    background = answer.get("background")
    style = answer.get("message_style", persona.message_style)
    traits = answer.get("traits", [])
    if not isinstance(background, str) or not background.strip():
        raise InvalidModelOutputError(
            f"the persona_background answer for {persona.id!r} has no background"
        )
    if not isinstance(style, str) or not isinstance(traits, list):
        raise InvalidModelOutputError(
            f"the persona_background answer for {persona.id!r} is out of shape: "
            "message_style must be a string and traits a list of strings"
        )
    extra = tuple(t.strip() for t in traits[:5] if isinstance(t, str) and t.strip())
    return attrs.evolve(
        persona,
        background=background.strip()[:_MAX_BACKGROUND],
        message_style=style.strip() or persona.message_style,
        traits=persona.traits + tuple(t for t in extra if t not in persona.traits),
    )


async def enrich_persona(
    persona: Persona, model: str | BaseChatModel, *, seed: int = 0
) -> Persona:
    """``persona`` with a background, message style and traits written by ``model``.

    Raises:
        ModelError: the model failed.
        InvalidModelOutputError: the answer is out of shape.
    """
    from clientsim.llm import Turn  # noqa: PLC0415
    from clientsim.llm.calls import judge_call  # noqa: PLC0415

    call = judge_call(model, _SCHEMA, seed=seed)
    answer, _ = await call([Turn("system", _SYSTEM), Turn("user", persona.prompt())])
    return _read(answer, persona)


async def enrich(
    population: Population,
    model: str | BaseChatModel,
    *,
    concurrency: int = 8,
    seed: int = 0,
) -> Population:
    """``population`` with every persona's background written by ``model``
    (``"offline"``, a spec such as ``"openai:gpt-4o-mini"``, or a chat model), at most
    ``concurrency`` calls at a time; the personas keep their order and ids.

    Raises:
        ConfigError: ``concurrency`` is not a positive whole number.
        ModelError: a call failed.
        InvalidModelOutputError: an answer is out of shape.
    """
    from clientsim.llm import Turn  # noqa: PLC0415
    from clientsim.llm.calls import judge_call  # noqa: PLC0415

    concurrency = check_int("concurrency", concurrency, low=1)
    if not hasattr(population, "personas"):
        raise ConfigError(
            f"enrich() takes a Population; got {type(population).__name__}"
        )
    call = judge_call(model, _SCHEMA, seed=seed)
    limiter = anyio.CapacityLimiter(concurrency)
    personas = list(population.personas)
    done: list[Persona | None] = [None] * len(personas)

    failures: list[Exception] = []

    async def one(index: int, persona: Persona) -> None:
        try:
            async with limiter:
                answer, _ = await call(
                    [Turn("system", _SYSTEM), Turn("user", persona.prompt())]
                )
            done[index] = _read(answer, persona)
        except ClientSimError as exc:  # the first failure ends the others
            failures.append(exc)
            group.cancel_scope.cancel()

    async with anyio.create_task_group() as group:
        for index, persona in enumerate(personas):
            group.start_soon(one, index, persona)
    if failures:
        raise failures[0]
    return attrs.evolve(population, personas=tuple(p for p in done if p is not None))
