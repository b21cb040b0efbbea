"""How a population study seats a persona: as a participant playing it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clientsim.errors import ConfigError
from clientsim.models import ParticipantRole
from clientsim.models.persona import STUDY_PERSONA_MARKER, Persona
from clientsim.participants.base import Participant
from clientsim.participants.llm import LLMParticipant
from clientsim.runners.group import GroupMember
from clientsim.turns.base import MemberInfo


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel


__all__ = ["name_of", "persona_participant"]


def persona_participant(
    persona: Persona,
    model: str | BaseChatModel,
    *,
    instructions: str = "",
    seed: int = 0,
) -> Participant:
    """A participant playing ``persona`` on ``model``: its system prompt starts with
    :data:`~clientsim.models.persona.STUDY_PERSONA_MARKER`, then the persona's
    :meth:`~clientsim.models.persona.Persona.prompt`, then ``instructions``."""
    try:
        from clientsim.population.participant import (  # noqa: PLC0415
            PersonaParticipant,
        )
    except ImportError:  # the persona participant is a module of its own
        lines = [STUDY_PERSONA_MARKER, persona.prompt()]
        if instructions:
            lines.append(instructions)
        return LLMParticipant(
            ParticipantRole.CUSTOMER, model, system_prompt="\n".join(lines), seed=seed
        )
    return PersonaParticipant(persona, model, instructions=instructions)


def name_of(member: object, where: str) -> str:
    """The name a member goes by: a :class:`GroupMember`'s, a participant's ``info``
    or ``name``, or the name of the :class:`Persona` it plays.

    Raises:
        ConfigError: it has none.
    """
    if isinstance(member, GroupMember):
        return member.name
    info = getattr(member, "info", None)
    if isinstance(info, MemberInfo):
        return info.name
    name = getattr(member, "name", None)
    if isinstance(name, str) and name.strip():
        return name
    for attribute in ("study_persona", "persona"):
        persona = getattr(member, attribute, None)
        if isinstance(persona, Persona):
            return persona.name
    raise ConfigError(
        f"{where} must be a GroupMember, or a participant with a name (a `name` "
        f"attribute, or the persona it plays); got {type(member).__name__}"
    )
