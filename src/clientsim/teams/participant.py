"""A member of a simulated team: a role played by a chat model."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable

import attrs

from clientsim._validators import check_text, is_int
from clientsim.errors import ConfigError
from clientsim.llm import Turn, check_model, complete, resolve_model
from clientsim.models import (
    DEFAULT_TIMEOUTS,
    Conversation,
    Message,
    ParticipantRole,
    Timeouts,
    TokenUsage,
)
from clientsim.models.group import Speaker
from clientsim.models.team import MemoryState, RoleTemplate
from clientsim.participants.base import Participant
from clientsim.participants.timing import TypingModel
from clientsim.teams.roles import get_role, load_team
from clientsim.turns.base import MemberInfo


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel


__all__ = ["TEAM_TYPING", "ParticipantMemory", "RoleParticipant"]

TEAM_TYPING: Final = TypingModel(typing_chars_per_second=8.0, think_seconds=(1.0, 6.0))
"""How fast a team member reads, thinks and types, by default."""

_INSTRUCTIONS: Final = (
    "Write only your own next message in the discussion: one short message (two to "
    "four sentences) in your own voice, from your role's point of view. Others' "
    'messages reach you as "Name (Role): text"; never write theirs. You may address '
    'a colleague by name ("@Name" or "Name, ..."), agree or disagree with them, and '
    "raise risks and questions. As the team converges, say plainly what you support "
    "and on what condition."
)


@runtime_checkable
class ParticipantMemory(Protocol):
    """What a :class:`RoleParticipant` needs of a memory (such as
    :class:`clientsim.teams.memory.MemoryManager`): it takes the conversation as the
    member sees it and gives back what the member remembers."""

    async def observe(self, conversation: Conversation) -> MemoryState:
        """Take the messages of ``conversation`` not seen yet; what is remembered now."""
        ...


class RoleParticipant(Participant):
    """A team member: a :class:`~clientsim.models.RoleTemplate` played by a chat model.

    The model sees the discussion from the member's side: its own messages as the
    assistant's, the others' as user messages labelled ``"Name (Role): text"`` (the
    group runner builds that view). Its system prompt says who it is (name, role,
    persona), the scenario, its goals, expertise and style, what it weighs in a
    decision, who else is in the team, and the role's own ``prompt``; it asks for one
    short message in the member's own voice, which may address a colleague by name.

    It passes (``None``) while the last message it sees is its own. It keeps no state
    between turns but its memory: the timing of a message is drawn from a random
    source seeded by ``(seed, name, number of messages so far)``, so a session forked
    at turn k continues exactly as the original did.

    Example:
        >>> from clientsim.teams import get_role
        >>> member = RoleParticipant(get_role("Designer"), name="Dana",
        ...                          scenario="Launch the mobile app on March 1?")
        >>> member.info.name, member.info.role
        ('Dana', 'Designer')

    Args:
        role: the role it plays (a template, or a registered role's name).
        model: a LangChain chat model or a spec (``"offline"``,
            ``"openai:gpt-4o-mini"``); the template's own ``model``, when it has
            one, takes precedence.
        name: the member's name in the team; the role's title by default.
        scenario: what the team is discussing (the decision, its numbers and dates).
        team: the members of the team (itself included or not); if empty, those who
            have spoken so far.
        seed: seeds the simulated typing time.
        memory: what it remembers (e.g. a
            :class:`~clientsim.teams.memory.MemoryManager`): when given, the model is
            shown the memory's summary and facts in the system prompt and its recent
            window as the dialogue, instead of the whole discussion.
        typing: how fast it reads, thinks and types (:data:`TEAM_TYPING`).
        timeouts: ``timeouts.model_call`` bounds each call of the model.
    """

    role: ParticipantRole = ParticipantRole.AGENT

    def __init__(
        self,
        role: RoleTemplate | str,
        model: str | BaseChatModel = "offline",
        *,
        name: str | None = None,
        scenario: str = "",
        team: Sequence[MemberInfo] = (),
        seed: int = 0,
        memory: ParticipantMemory | None = None,
        typing: TypingModel | None = None,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> None:
        template = get_role(role) if isinstance(role, str) else role
        if not isinstance(template, RoleTemplate):
            raise ConfigError(
                f"role must be a RoleTemplate or a registered role's name; got "
                f"{type(role).__name__}"
            )
        check_text("name", name, non_empty=True, optional=True)
        check_text("scenario", scenario)
        check_model(model)
        if not is_int(seed):
            raise ConfigError(f"seed must be an integer; got {seed!r}")
        if not isinstance(timeouts, Timeouts):
            raise ConfigError(f"timeouts must be a Timeouts; got {timeouts!r}")
        if memory is not None and not callable(getattr(memory, "observe", None)):
            raise ConfigError(
                "memory must have an async observe(conversation) method (such as a "
                f"MemoryManager); got {type(memory).__name__}"
            )
        if typing is not None and not isinstance(typing, TypingModel):
            raise ConfigError(f"typing must be a TypingModel; got {typing!r}")
        members = tuple(team)
        for member in members:
            if not isinstance(member, MemberInfo):
                raise ConfigError(
                    f"team must hold MemberInfo values; got {type(member).__name__}"
                )
        self.template = template
        self.name = name if name is not None else template.name
        self.model: str | BaseChatModel = template.model or model
        self.scenario = scenario
        self.team = members
        self.seed = seed
        self.memory = memory
        self.typing = typing or TEAM_TYPING
        self.timeouts = timeouts
        self._usage = TokenUsage()
        self._model: BaseChatModel | None = None

    @classmethod
    def from_config(
        cls,
        *,
        role: str | RoleTemplate | Mapping[str, object],
        model: str | BaseChatModel = "offline",
        seed: int = 0,
        name: str | None = None,
        scenario: str = "",
        persona: str | None = None,
        goal: str | None = None,
        prompt: str | None = None,
        team: Sequence[MemberInfo] = (),
        memory: ParticipantMemory | None = None,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> RoleParticipant:
        """Build from config values (the participant strategy ``team_role``).

        Args:
            role: a registered role's name, a template, or a mapping of template
                fields (``{"role": "CEO", "goals": [...]}`` extends the CEO).
            persona: replaces the role's persona.
            goal: replaces the role's goals with this one.
            prompt: replaces the role's extra instructions.
            model: as for the class.
            seed: as for the class.
            name: as for the class.
            scenario: as for the class.
            team: as for the class.
            memory: as for the class.
            timeouts: as for the class.
        """
        (template,) = load_team([role])
        if persona is not None:
            template = attrs.evolve(template, persona=persona)
        if goal is not None:
            template = attrs.evolve(template, goals=(goal,))
        if prompt is not None:
            template = attrs.evolve(template, prompt=prompt)
        return cls(
            template,
            model,
            name=name,
            scenario=scenario,
            team=team,
            seed=seed,
            memory=memory,
            timeouts=timeouts,
        )

    @property
    def info(self) -> MemberInfo:
        """The member as turn policies and the other members see it."""
        return MemberInfo(self.name, self.template.name, self.template.description)

    @property
    def speaker(self) -> Speaker:
        """The speaker its messages carry."""
        return Speaker(self.name, self.template.name)

    @property
    def token_usage(self) -> TokenUsage:
        """Tokens spent so far: its own model calls, plus its memory's (the memory's
        ``usage``, when it has one)."""
        usage = self._usage
        spent = getattr(self.memory, "usage", None)
        return usage + spent if isinstance(spent, TokenUsage) else usage

    def system_prompt(
        self,
        conversation: Conversation | None = None,
        memory: MemoryState | None = None,
    ) -> str:
        """The system prompt for a turn of ``conversation`` (the member's view)."""
        role = self.template
        who = (
            f"the {role.name}"
            if self.name == role.name
            else f"{self.name}, the {role.name}"
        )
        opening = (
            f"You are {who} of the team, taking part in a team discussion. Stay in "
            "character as a real colleague; never say that you are simulated or an AI."
        )
        lines = [opening]
        details = (
            ("Who you are", role.persona or ""),
            ("What you do", role.description),
            ("The scenario the team is discussing", self.scenario),
            ("Your goals", "; ".join(role.goals)),
            ("Your expertise", ", ".join(role.expertise)),
            ("Your style", role.style),
            ("What you weigh in a decision", ", ".join(role.cares_about)),
        )
        lines.extend(f"{label}: {text}" for label, text in details if text)
        others = [m for m in self._members(conversation) if m.name != self.name]
        if others:
            lines.append("Who else is in the team:")
            lines.extend(
                f"- {m.speaker.label}" + (f": {m.description}" if m.description else "")
                for m in others
            )
        if memory is not None:
            lines.extend(_remembered(memory))
        if role.prompt:
            lines.append(role.prompt)
        lines.append(_INSTRUCTIONS)
        return "\n".join(lines)

    def _members(self, conversation: Conversation | None) -> tuple[MemberInfo, ...]:
        if self.team or conversation is None:
            return self.team
        seen: dict[str, MemberInfo] = {}
        for message in conversation.messages:
            speaker = message.speaker
            if speaker is None or speaker.name in seen:
                continue
            seen[speaker.name] = MemberInfo(
                speaker.name, speaker.role, _description(speaker.role)
            )
        return tuple(seen.values())

    def turns(
        self, conversation: Conversation, memory: MemoryState | None = None
    ) -> list[Turn]:
        """What the model is shown for ``conversation``, system prompt first."""
        shown = memory.window if memory is not None else conversation.messages
        turns = [Turn("system", self.system_prompt(conversation, memory))]
        turns.extend(
            Turn(
                "assistant" if message.sender is self.role else "user", message.content
            )
            for message in shown
        )
        return turns

    async def get_next_message(self, conversation: Conversation) -> Message | None:
        messages = conversation.messages
        if messages and messages[-1].sender is self.role:
            return None
        state = None
        if self.memory is not None:
            state = await self.memory.observe(conversation)
        model = self._model
        if model is None:  # resolved on first use, on the loop that uses it
            model = self._model = resolve_model(self.model)
        completion = await complete(
            model, self.turns(conversation, state), timeout=self.timeouts.model_call
        )
        self._usage = self._usage + completion.usage
        text = self._own_words(completion.text)
        if not text:
            return None
        rng = random.Random(f"{self.seed}\x1f{self.name}\x1f{len(messages)}")
        unread: list[str] = []
        for message in reversed(messages):
            if message.sender is self.role:
                break
            unread.append(message.content)
        delay = self.typing.delay(read=" ".join(unread), write=text, rng=rng)
        start = messages[-1].timestamp if messages else datetime.now(UTC)
        return Message(text, start + delay, self.role, speaker=self.speaker)

    def _own_words(self, text: str) -> str:
        """The model's text without a label of its own name it may have copied."""
        text = text.strip()
        for label in (self.speaker.label, self.name):
            if text.startswith(f"{label}:"):
                return text[len(label) + 1 :].strip()
        return text


def _remembered(memory: MemoryState) -> list[str]:
    lines = []
    if memory.summary:
        lines.append(
            f"What you remember of the {memory.summarized} earlier messages: "
            f"{memory.summary}"
        )
    if memory.facts:
        lines.append("Facts you keep in mind:")
        lines.extend(f"- {fact}" for fact in memory.facts)
    return lines


def _description(role: str) -> str:
    if not role:
        return ""
    try:
        return get_role(role).description
    except ConfigError:
        return ""
