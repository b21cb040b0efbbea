"""The Simulation Analyst: a structured reading of a team session after a turn.

:class:`SimulationAnalyst` shows its model the members and the transcript (every
message as ``"Name (Role): text"``) and asks, in one structured call titled
``session_analysis`` at temperature 0, for the decisions made, the questions still
open, the risks raised, each member's position, a confidence from 0 to 1 and a short
summary. The answer is checked (positions only for members of the team, the confidence
in range) and becomes a :class:`~clientsim.models.SessionAnalysis`, which a session
stores with the turn it was written after.

The offline model (``"offline"``, the default) reads the transcript by written rules
(listed in the explanation "Team memory and the analyst"): the same transcript always
gives the same analysis.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from clientsim._validators import check_int
from clientsim.errors import ConfigError, InvalidModelOutputError
from clientsim.models import DEFAULT_TIMEOUTS, Conversation, Timeouts, TokenUsage
from clientsim.models.team import SessionAnalysis
from clientsim.teams.memory import speaker_line
from clientsim.turns.base import MemberInfo


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from clientsim.llm import StructuredCall


__all__ = [
    "ANALYSIS_TITLE",
    "MEMBERS_HEADER",
    "TRANSCRIPT_HEADER",
    "SimulationAnalyst",
]

ANALYSIS_TITLE: Final = "session_analysis"
"""The title of the analyst's structured-output schema."""
MEMBERS_HEADER: Final = "Members:"
TRANSCRIPT_HEADER: Final = "Transcript:"
"""The section headers of the analyst's prompt, each on a line of its own."""

_SYSTEM: Final = """\
You are the Simulation Analyst: you watch a team's discussion and write a structured, \
neutral reading of where it stands. List the decisions the team has made, the \
questions nobody has answered yet, and the risks raised, each naming who said it. \
Give each member's current position in a sentence, for the members who have spoken \
(use the member's name exactly as listed), a confidence from 0 to 1 in this reading \
(high when most members back the same plan), and a two-sentence summary. Use only \
what was said."""

_TEXTS: Final[dict[str, Any]] = {"type": "array", "items": {"type": "string"}}

_SCHEMA: Final[dict[str, Any]] = {
    "title": ANALYSIS_TITLE,
    "description": "A structured reading of a team session.",
    "type": "object",
    "properties": {
        "decisions": {**_TEXTS, "description": "Decisions the team made."},
        "open_questions": {**_TEXTS, "description": "Questions still unanswered."},
        "risks": {**_TEXTS, "description": "Risks raised."},
        "positions": {
            "type": "array",
            "description": "Each member's current position.",
            "items": {
                "type": "object",
                "properties": {
                    "member": {"type": "string", "description": "The member's name."},
                    "position": {"type": "string"},
                },
                "required": ["member", "position"],
            },
        },
        "confidence": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "description": "How sure this reading is, from 0 to 1.",
        },
        "summary": {"type": "string", "description": "Where the session stands."},
    },
    "required": [
        "decisions",
        "open_questions",
        "risks",
        "positions",
        "confidence",
        "summary",
    ],
}


def analysis_prompt(
    transcript: Conversation, turn: int, members: Sequence[MemberInfo]
) -> str:
    """The user message of the analyst's call: the turn, the members (one JSON object
    a line) and the transcript (one ``"Name (Role): text"`` line a message)."""
    listed = "\n".join(
        "- "
        + json.dumps(
            {"name": m.name, "role": m.role, "description": m.description},
            ensure_ascii=False,
        )
        for m in members
    )
    lines = "\n".join(speaker_line(message) for message in transcript.messages)
    return (
        f"Turn: {turn}\n\n{MEMBERS_HEADER}\n{listed or '(none)'}\n\n"
        f"{TRANSCRIPT_HEADER}\n{lines or '(nothing said yet)'}"
    )


def _texts(answer: Mapping[str, object], field: str) -> tuple[str, ...]:
    value = answer.get(field)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidModelOutputError(
            f"the session analysis needs {field!r}, a list of strings; got {value!r}"
        )
    return tuple(v.strip() for v in value if v.strip())


def _positions(value: object, members: Sequence[MemberInfo]) -> dict[str, str]:
    """The positions as a mapping by member name; a member may be named by its label
    (``"Dana (Designer)"``) too."""
    if not isinstance(value, list):
        raise InvalidModelOutputError(
            f"the session analysis needs 'positions', a list of {{member, position}}; "
            f"got {value!r}"
        )
    names = {m.name: m.name for m in members} | {
        m.speaker.label: m.name for m in members
    }
    positions: dict[str, str] = {}
    for item in value:
        member = item.get("member") if isinstance(item, dict) else None
        position = item.get("position") if isinstance(item, dict) else None
        if not isinstance(member, str) or not isinstance(position, str):
            raise InvalidModelOutputError(
                "each of the session analysis' positions needs a string 'member' and "
                f"a string 'position'; got {item!r}"
            )
        name = names.get(member.strip())
        if name is None:
            known = ", ".join(repr(m.name) for m in members) or "none"
            raise InvalidModelOutputError(
                f"the session analysis gives a position for {member!r}, who is not a "
                f"member of the team (members: {known})"
            )
        if name in positions:
            raise InvalidModelOutputError(
                f"the session analysis gives {name!r} two positions"
            )
        positions[name] = position.strip()
    return positions


def _confidence(value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= 1
    ):
        raise InvalidModelOutputError(
            f"the session analysis' confidence must be a number from 0 to 1; got {value!r}"
        )
    return float(value)


def read_analysis(
    answer: Mapping[str, object], turn: int, members: Sequence[MemberInfo]
) -> SessionAnalysis:
    """The model's structured answer as a :class:`~clientsim.models.SessionAnalysis`.

    Raises:
        InvalidModelOutputError: a field is missing or of the wrong type, a position
            names someone who is not a member (or a member twice), or the confidence is
            not a number from 0 to 1.
    """
    summary = answer.get("summary")
    if not isinstance(summary, str):
        raise InvalidModelOutputError(
            f"the session analysis needs a string 'summary'; got {summary!r}"
        )
    return SessionAnalysis(
        turn=turn,
        decisions=_texts(answer, "decisions"),
        open_questions=_texts(answer, "open_questions"),
        risks=_texts(answer, "risks"),
        positions=_positions(answer.get("positions"), members),
        confidence=_confidence(answer.get("confidence")),
        summary=summary.strip(),
    )


class SimulationAnalyst:
    """Writes a structured analysis of a team session (see the module docstring).

    Example:
        >>> import anyio
        >>> from datetime import datetime, timedelta, UTC
        >>> from clientsim.models import Conversation, Message, ParticipantRole, Speaker
        >>> from clientsim.turns.base import MemberInfo
        >>> team = [MemberInfo("Priya", "Product Manager"), MemberInfo("Ana", "CEO")]
        >>> start = datetime(2026, 3, 1, 9, tzinfo=UTC)
        >>> said = [("Priya", "Product Manager", "Proposal: launch on March 1."),
        ...         ("Ana", "CEO", "Agreed.")]
        >>> transcript = Conversation(tuple(
        ...     Message(text, start + timedelta(minutes=i), ParticipantRole.AGENT,
        ...             speaker=Speaker(name, role))
        ...     for i, (name, role, text) in enumerate(said)))
        >>> analysis = anyio.run(
        ...     lambda: SimulationAnalyst().analyse(transcript, turn=2, members=team))
        >>> analysis.decisions, analysis.confidence
        (('Agreed (2 of 2): launch on March 1 (proposed by Priya)',), 1.0)
        >>> analysis.positions["Ana"]
        "Backs Priya's proposal: launch on March 1"

    Args:
        model: a LangChain chat model with structured output, or a spec such as
            ``"offline"`` (the default) or ``"openai:gpt-4o-mini"``, resolved on first
            use; it is asked at temperature 0.
        timeouts: ``timeouts.model_call`` bounds each call.

    Raises:
        ConfigError: a bad ``model`` or ``timeouts``.
    """

    def __init__(
        self,
        model: str | BaseChatModel = "offline",
        *,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> None:
        from clientsim.llm.specs import check_model  # noqa: PLC0415

        if check_model(model) is None:
            raise ConfigError("model must be a model spec or a chat model; got None")
        if not isinstance(timeouts, Timeouts):
            raise ConfigError(f"timeouts must be a Timeouts; got {timeouts!r}")
        self.model = model
        self.timeouts = timeouts
        self._usage = TokenUsage()
        self._call: StructuredCall | None = None

    def __repr__(self) -> str:
        model = self.model if isinstance(self.model, str) else type(self.model).__name__
        return f"SimulationAnalyst(model={model!r})"

    @property
    def usage(self) -> TokenUsage:
        """The tokens the analyses have cost so far."""
        return self._usage

    async def analyse(
        self,
        transcript: Conversation,
        *,
        turn: int,
        members: Sequence[MemberInfo],
    ) -> SessionAnalysis:
        """Analyse ``transcript`` as it stands after ``turn``.

        Args:
            transcript: the session's shared transcript (its messages carry their
                ``speaker``).
            turn: the turn the analysis is written after (stored with it).
            members: the team; positions are given for these members only.

        Raises:
            ConfigError: ``transcript`` is not a Conversation, ``turn`` is not an int
                >= 0, or ``members`` holds something that is not a MemberInfo or
                repeats a name.
            ModelError: the model failed or did not answer within
                ``timeouts.model_call``.
            InvalidModelOutputError: the answer is out of shape (see
                :func:`read_analysis`).
        """
        from clientsim.llm import Turn  # noqa: PLC0415

        if not isinstance(transcript, Conversation):
            raise ConfigError(
                f"analyse() takes a Conversation; got {type(transcript).__name__}"
            )
        turn = check_int("turn", turn, low=0)
        team = _team(members)
        call = self._structured()
        answer, usage = await call(
            [
                Turn("system", _SYSTEM),
                Turn("user", analysis_prompt(transcript, turn, team)),
            ]
        )
        self._usage = self._usage + usage
        return read_analysis(answer, turn, team)

    def _structured(self) -> StructuredCall:
        if self._call is None:
            from clientsim.llm.calls import judge_call  # noqa: PLC0415

            self._call = judge_call(
                self.model, _SCHEMA, timeout=self.timeouts.model_call
            )
        return self._call


def _team(members: object) -> tuple[MemberInfo, ...]:
    if isinstance(members, str) or not isinstance(members, Sequence):
        raise ConfigError(
            f"members must be a list of MemberInfo; got {type(members).__name__}"
        )
    team = tuple(members)
    seen: set[str] = set()
    for member in team:
        if not isinstance(member, MemberInfo):
            raise ConfigError(
                f"members must hold MemberInfo values; got {type(member).__name__}"
            )
        if member.name in seen:
            raise ConfigError(f"members names {member.name!r} twice; names must differ")
        seen.add(member.name)
    return team
