"""A participant that plays a :class:`~clientsim.models.persona.Persona` in a study.

:class:`PersonaParticipant` is an :class:`~clientsim.participants.LLMParticipant`
whose system prompt is the study's: :data:`~clientsim.models.persona.STUDY_PERSONA_MARKER`
first, then the persona's :meth:`~clientsim.models.persona.Persona.prompt`, then how to
answer. Any chat model plays it; the offline model answers as that persona, from its
demographics, fragments and leanings. Every communication mode (survey, interview,
focus group, journey) seats personas through it, and it is the participant strategy
``"persona"`` of :func:`clientsim.factory.build_participant`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from clientsim._coerce import persona_of, role_of
from clientsim._validators import check_text
from clientsim.models import DEFAULT_TIMEOUTS, ParticipantRole, Timeouts
from clientsim.models.persona import STUDY_PERSONA_MARKER, Persona
from clientsim.participants.llm import LLMParticipant


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from clientsim.participants.timing import TypingModel


__all__ = ["PERSONA_INSTRUCTIONS", "PersonaParticipant", "persona_system_prompt"]

PERSONA_INSTRUCTIONS: Final = (
    "Answer as this person would, in their own words and style, from what you know "
    "of them. Never say that you are simulated or an AI. Write only your own reply."
)
"""What every persona is told after who they are (the caller's instructions follow)."""


def persona_system_prompt(persona: Persona, instructions: str = "") -> str:
    """The system prompt of ``persona`` in a study: the marker, who they are, how to
    answer, then ``instructions``.

    Example:
        >>> p = Persona(id="p1", name="Maria", demographics={"age_band": "25-34"})
        >>> persona_system_prompt(p).splitlines()[:2]
        ['You are taking part in a study as the person below.', 'Name: Maria']
    """
    parts = [STUDY_PERSONA_MARKER, persona.prompt(), PERSONA_INSTRUCTIONS]
    if instructions.strip():
        parts.append(instructions.strip())
    return "\n".join(parts)


class PersonaParticipant(LLMParticipant):
    """A participant who is ``persona``, played by ``model``.

    Example:
        >>> maria = Persona(id="p1", name="Maria", message_style="short, informal")
        >>> participant = PersonaParticipant(maria, "offline")
        >>> participant.system_prompt.startswith(STUDY_PERSONA_MARKER)
        True

    Args:
        persona: who it plays.
        model: a LangChain chat model, or a spec such as ``"offline"``.
        role: the side it takes in a two-sided conversation (the study's side is the
            other one); the customer by default.
        instructions: added to the system prompt after the persona.
        seed: seeds the simulated typing time.
        typing: the typing model; the role's default if ``None``.
        timeouts: ``timeouts.model_call`` bounds each call of the model.
    """

    def __init__(
        self,
        persona: Persona,
        model: str | BaseChatModel,
        *,
        role: ParticipantRole = ParticipantRole.CUSTOMER,
        instructions: str = "",
        seed: int = 0,
        typing: TypingModel | None = None,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> None:
        persona = persona_of(persona)
        check_text("instructions", instructions)
        super().__init__(
            role_of(role),
            model,
            persona=persona,
            system_prompt=persona_system_prompt(persona, instructions),
            seed=seed,
            typing=typing,
            timeouts=timeouts,
        )
        self.study_persona = persona

    @classmethod
    def from_config(  # type: ignore[override]
        cls,
        *,
        persona: Persona | Mapping[str, object],
        model: str | BaseChatModel = "offline",
        role: str | ParticipantRole = ParticipantRole.CUSTOMER,
        instructions: str = "",
        seed: int = 0,
    ) -> PersonaParticipant:
        """Build from config values; ``persona`` may be a mapping of
        :class:`~clientsim.models.persona.Persona` fields."""
        return cls(
            persona_of(persona),
            model,
            role=role_of(role),
            instructions=instructions,
            seed=seed,
        )
