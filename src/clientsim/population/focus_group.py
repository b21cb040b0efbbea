"""``focus_group``: 5 to 12 personas and a moderator, in rounds of open discussion.

Each arm's personas are seated in groups (see :func:`group_sizes`); each group is one
unit of :func:`~clientsim.population.engine.run_mode`: one conversation on the group
runner, seeded, stored as it finishes, skipped when a run is resumed. The moderator
(scripted, or simulated by a model) opens with the topic, asks one prompt per round,
and every member answers before the next round; after the last round it closes.

In an open discussion (``broadcast_if_no_target=True``) every member sees every
message. With ``False``, no cross-talk: a member sees the moderator's questions and
its own replies only (its replies go to the moderator alone).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar, Final, Literal

from clientsim.errors import ConfigError
from clientsim.models import GridCell, ParticipantRole
from clientsim.models.conversation import ConversationResult, Message
from clientsim.models.persona import Persona
from clientsim.models.survey import Answer, Question, Response, Variant
from clientsim.participants.llm import LLMParticipant
from clientsim.population._focus_parts import (
    MAX_GROUP,
    MIN_GROUP,
    MODERATOR,
    Cued,
    RoundsPolicy,
    ScriptedModerator,
    answer_value,
    check_questions,
    group_sizes,
    member_names,
    moderator_prompt,
    public_by,
    question_line,
    stance,
)
from clientsim.population._seats import persona_participant
from clientsim.population.base import PopulationMode, unit_personas, unit_variant
from clientsim.runners.batch import BatchCell, ConversationJob
from clientsim.runners.group import GroupMember, GroupSimulationRunner


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from clientsim.participants.base import Participant


__all__ = ["MODERATOR", "FocusGroupMode", "group_sizes"]

_MODERATORS: Final = ("scripted", "simulated")
_MAX_ROUNDS: Final = 20


class FocusGroupMode(PopulationMode):
    """A focus group per 5-12 personas of an arm; see the module docstring.

    Example:
        >>> mode = FocusGroupMode("a meal-kit subscription",
        ...                       questions=["What would make you try it?"])
        >>> mode.name, mode.rounds
        ('focus_group', 3)

    Args:
        topic: what the groups discuss.
        questions: the prompts of the first rounds, in order (strings, or
            :class:`~clientsim.models.survey.Question` values whose ids key the
            answers; a scale or choice question's value is read from the reply).
            Without questions, the first round asks for first thoughts on the topic.
        group_size: personas per group, 5 to 12 (a remainder is seated as
            :func:`group_sizes` says).
        rounds: rounds of discussion (at least as many as questions; the rounds
            after them are follow-ups on what members said).
        moderator: ``"scripted"`` (fixed wording, no model) or ``"simulated"`` (a
            model plays the moderator).
        model: the model of the personas (and of a simulated moderator).
        moderator_model: the model of a simulated moderator, if not ``model``.
        broadcast_if_no_target: open discussion (``True``), or no cross-talk.
        instructions: what each persona is told of the group (a default if empty).
        start: when every group starts (``now`` when it is built, if ``None``).

    Raises:
        ConfigError: a value is out of range (the message names the allowed one).
    """

    name: ClassVar[str] = "focus_group"

    def __init__(
        self,
        topic: str,
        *,
        questions: Sequence[str | Question] | Iterable[object] = (),
        group_size: int = 8,
        rounds: int = 3,
        moderator: Literal["scripted", "simulated"] = "scripted",
        model: str | BaseChatModel = "offline",
        moderator_model: str | BaseChatModel | None = None,
        broadcast_if_no_target: bool = True,
        instructions: str = "",
        start: datetime | None = None,
    ) -> None:
        if not isinstance(topic, str) or not topic.strip():
            raise ConfigError(f"topic must be a non-empty string; got {topic!r}")
        self.topic = topic.strip()
        self.questions = check_questions(questions)
        self.group_size = _bounded("group_size", group_size, MIN_GROUP, MAX_GROUP)
        self.rounds = _bounded("rounds", rounds, 1, _MAX_ROUNDS)
        if self.rounds < len(self.questions):
            raise ConfigError(
                f"rounds ({self.rounds}) must be at least the number of questions "
                f"({len(self.questions)}): one round asks one question"
            )
        if moderator not in _MODERATORS:
            raise ConfigError(
                f"moderator must be one of {', '.join(map(repr, _MODERATORS))}; got "
                f"{moderator!r}"
            )
        self.moderator = moderator
        self.model = model
        self.moderator_model = model if moderator_model is None else moderator_model
        if not isinstance(broadcast_if_no_target, bool):
            raise ConfigError(
                f"broadcast_if_no_target must be True or False; got "
                f"{broadcast_if_no_target!r}"
            )
        self.broadcast_if_no_target = broadcast_if_no_target
        self.instructions = instructions
        if start is not None and not isinstance(start, datetime):
            raise ConfigError(f"start must be a datetime or None; got {start!r}")
        self.start = start

    def __repr__(self) -> str:
        return (
            f"FocusGroupMode(topic={self.topic!r}, questions={len(self.questions)}, "
            f"group_size={self.group_size}, rounds={self.rounds}, "
            f"moderator={self.moderator!r})"
        )

    @property
    def round_ids(self) -> tuple[str, ...]:
        """The key of each round's answers: its question's id, ``topic`` for the
        first round without questions, ``round_N`` for a follow-up round."""
        ids = [q.id for q in self.questions] or ["topic"]
        ids.extend(f"round_{n}" for n in range(len(ids) + 1, self.rounds + 1))
        return tuple(ids)

    def prompts(self) -> list[str]:
        """The prompt of each question round, in the study's form (``Question 1 of 2
        (scale from 1 to 10): ...``); the topic's when there are none."""
        total = len(self.questions)
        return [
            question_line(q, n, total) for n, q in enumerate(self.questions, 1)
        ] or [f"What are your first thoughts about {self.topic}?"]

    def units(
        self, personas: Sequence[Persona], *, arm: str, variant: Variant | None
    ) -> Iterable[BatchCell]:
        """One unit per group, keyed ``arm/group-NN/0``, in the personas' order."""
        sizes = group_sizes(len(personas), self.group_size, arm=arm)
        at = 0
        for number, size in enumerate(sizes, 1):
            yield BatchCell(
                cell=GridCell(
                    input_id=arm, persona_id=f"group-{number:02d}", iteration=0
                ),
                input=variant.content if variant is not None else "",
                persona=tuple(personas[at : at + size]),
                item=variant,
            )
            at += size

    async def build(self, job: ConversationJob) -> GroupSimulationRunner:
        personas = unit_personas(job)
        if not MIN_GROUP <= len(personas) <= MAX_GROUP:
            raise ConfigError(
                f"a focus group seats {MIN_GROUP} to {MAX_GROUP} personas; this unit "
                f"has {len(personas)}"
            )
        variant = unit_variant(job)
        material = variant.content if variant is not None else ""
        names = member_names(personas)
        start = self.start or datetime.now(UTC)
        audience = None if self.broadcast_if_no_target else (MODERATOR,)
        told = self.instructions or _instructions(
            self.topic, len(personas), open_=self.broadcast_if_no_target
        )
        members = [
            GroupMember(
                name,
                persona_participant(
                    persona,
                    job.models.model(self.model, "persona"),
                    instructions=told,
                    seed=job.seed,
                ),
                description=persona.segment or "",
                audience=audience,
            )
            for name, persona in zip(names, personas, strict=True)
        ]
        chair: Participant
        if self.moderator == "scripted":
            chair = ScriptedModerator(
                self.topic,
                self.prompts(),
                rounds=self.rounds,
                members=names,
                material=material,
                start=start,
            )
        else:
            system = moderator_prompt(
                self.topic,
                self.prompts() if self.questions else [],
                rounds=self.rounds,
                members=names,
                material=material,
            )
            model = job.models.model(self.moderator_model, "moderator")
            llm = LLMParticipant(
                ParticipantRole.AGENT, model, system_prompt=system, seed=job.seed
            )
            chair = Cued(llm, start)
        return GroupSimulationRunner(
            [GroupMember(MODERATOR, chair), *members],
            turn_policy=RoundsPolicy(MODERATOR, rounds=self.rounds),
            max_messages=2 * (self.rounds + 1) * (len(personas) + 1),
            seed=job.seed,
            timeouts=job.timeouts,
        )

    async def responses(
        self, job: ConversationJob, result: ConversationResult
    ) -> list[Response]:
        """One :class:`Response` per member: its answers by round (question id,
        ``topic`` or ``round_N``), ``fields`` ``final_stance`` (positive, negative,
        mixed, neutral), ``final_answer``, ``messages`` and ``group``; its thoughts
        and direct messages as ``events``."""
        personas = unit_personas(job)
        variant = unit_variant(job)
        rounds = _rounds(result.conversation.messages, self.round_ids)
        by_id = {q.id: q for q in self.questions}
        found: list[Response] = []
        for name, persona in zip(member_names(personas), personas, strict=True):
            answers: dict[str, Answer] = {}
            events: list[dict[str, str]] = []
            last = ""
            count = 0
            for round_id, message in rounds:
                speaker = message.speaker
                if speaker is None or speaker.name != name:
                    continue
                if message.is_thought or message.audience not in (None, (MODERATOR,)):
                    kind = "thought" if message.is_thought else "direct_message"
                    events.append(
                        {"type": kind, "round": round_id, "text": message.content}
                    )
                    continue
                count += 1
                last = message.content
                before = answers.get(round_id)
                text = f"{before.text} {last}" if before is not None else last
                answers[round_id] = Answer(
                    question_id=round_id,
                    value=answer_value(by_id.get(round_id), text),
                    text=text,
                )
            found.append(
                Response(
                    persona_id=persona.id,
                    segment=persona.segment,
                    variant=variant.name if variant is not None else None,
                    answers=answers,
                    fields={
                        "final_stance": stance(last),
                        "final_answer": last,
                        "messages": count,
                        "group": job.cell.persona_id,
                    },
                    demographics=persona.demographics,
                    events=events,
                )
            )
        return found


def _rounds(
    messages: Sequence[Message], round_ids: Sequence[str]
) -> list[tuple[str, Message]]:
    """Every message after the opening with the id of the round it belongs to (the
    moderator's closing and what follows it belong to none)."""
    tagged: list[tuple[str, Message]] = []
    said = 0
    for message in messages:
        if public_by(message, MODERATOR):
            said += 1
            continue
        if 1 <= said <= len(round_ids):
            tagged.append((round_ids[said - 1], message))
    return tagged


def _instructions(topic: str, size: int, *, open_: bool) -> str:
    others = (
        "you may react to what others said"
        if open_
        else "you do not hear the others' answers, and they do not hear yours"
    )
    return (
        f"You are in a focus group about {topic}, with {size - 1} other people and a "
        "moderator. Answer the moderator's question in two or three sentences, in "
        f"your own words and your own style; {others}. Write only your own message."
    )


def _bounded(name: str, value: object, low: int, high: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not low <= value <= high
    ):
        raise ConfigError(
            f"{name} must be an int from {low} to {high}"
            + (
                " (a focus group seats 5 to 12 personas)"
                if name == "group_size"
                else ""
            )
            + f"; got {value!r}"
        )
    return value
