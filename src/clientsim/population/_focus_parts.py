"""The pieces of a focus group: how personas are split into groups, the turn policy
of its rounds, the scripted moderator, and how a member's answers are read back."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Final

from clientsim.errors import ConfigError
from clientsim.models import Conversation, Message, ParticipantRole, TokenUsage
from clientsim.models.conversation import stamped
from clientsim.models.persona import STUDY_MODERATOR_MARKER, Persona
from clientsim.models.survey import AnswerValue, Question
from clientsim.participants.base import Participant
from clientsim.turns.addressed import addressee
from clientsim.turns.base import TurnContext, TurnPolicy


__all__ = [
    "MAX_GROUP",
    "MIN_GROUP",
    "MODERATOR",
    "Cued",
    "RoundsPolicy",
    "ScriptedModerator",
    "answer_value",
    "check_questions",
    "group_sizes",
    "member_names",
    "moderator_prompt",
    "public_by",
    "question_line",
    "stance",
    "without_label",
]

MIN_GROUP: Final = 5
MAX_GROUP: Final = 12
MODERATOR: Final = "Moderator"
"""The moderator's member name (and speaker) in every focus group."""
_AGENT: Final = ParticipantRole.AGENT
_STEP: Final = timedelta(seconds=20)


def group_sizes(count: int, size: int, *, arm: str = "all") -> list[int]:
    """How ``count`` personas are seated in groups of about ``size``: groups of
    ``size``, a remainder of 5 or more as a group of its own, a smaller one spread
    over the groups (one more each, in order) while no group passes 12; past that,
    one more group and every group the same size, give or take one.

    Example:
        >>> group_sizes(16, 8), group_sizes(19, 8), group_sizes(13, 8)
        ([8, 8], [10, 9], [8, 5])
        >>> group_sizes(16, 12)
        [8, 8]

    Raises:
        ConfigError: fewer than 5 personas.
    """
    if count < MIN_GROUP:
        raise ConfigError(
            f"a focus group seats {MIN_GROUP} to {MAX_GROUP} personas; arm {arm!r} "
            f"has {count}"
        )
    groups, rest = divmod(count, size)
    if groups == 0:
        return [count]
    if rest == 0:
        return [size] * groups
    if rest >= MIN_GROUP:
        return [size] * groups + [rest]
    if count <= MAX_GROUP * groups:
        sizes = [size] * groups
        for index in range(rest):
            sizes[index % groups] += 1
        return sizes
    groups += 1
    base, extra = divmod(count, groups)
    return [base + 1] * extra + [base] * (groups - extra)


def member_names(personas: Sequence[Persona]) -> list[str]:
    """Each persona's member name in its group: its name, numbered when taken."""
    names: list[str] = []
    for persona in personas:
        name, number = persona.name, 2
        while name in names or name == MODERATOR:
            name, number = f"{persona.name} {number}", number + 1
        names.append(name)
    return names


_KINDS: Final = {
    "choice": "choose one option, exactly as written",
    "ranking": "rank every option, best first",
    "free_text": "answer in your own words",
}


def question_line(question: Question, index: int, total: int) -> str:
    """``question`` in the study's form, on one line: its number, its declared type
    and its text (a choice's options after it).

    Example:
        >>> question_line(Question(id="n", text="How fair?", type="scale"), 2, 3)
        'Question 2 of 3 (scale from 1 to 10): How fair?'
    """
    if question.type == "scale":
        kind = f"scale from {question.low} to {question.high}"
    else:
        kind = _KINDS[question.type]
    options = f" Options: {', '.join(question.options)}." if question.options else ""
    return f"Question {index} of {total} ({kind}): {question.text}{options}"


def shown_block(material: str) -> str:
    """What the group is shown, between ``---`` lines (``""`` for nothing)."""
    if not material.strip():
        return ""
    return f"\nHere is what we'd like your views on:\n---\n{material.strip()}\n---"


def public_by(message: Message, name: str) -> bool:
    """Whether ``message`` is one of ``name``'s to the whole group."""
    speaker = message.speaker
    return speaker is not None and speaker.name == name and message.audience is None


def without_label(message: Message) -> str:
    """The text of another member's message as a member's view shows it
    (``"Name (Role): text"``), without the label."""
    speaker = message.speaker
    if speaker is None:
        return message.content
    head, sep, rest = message.content.partition(": ")
    return rest if sep and head.startswith(speaker.label) else message.content


class RoundsPolicy(TurnPolicy):
    """Rounds led by the moderator: it speaks (a question), then every member who
    has not answered since (one it names first), then the moderator again; after
    ``rounds`` rounds and its closing message the group is done (``None``).

    Example:
        >>> RoundsPolicy(rounds=3)
        RoundsPolicy(moderator='Moderator', rounds=3)
    """

    def __init__(self, moderator: str = MODERATOR, *, rounds: int) -> None:
        self.moderator = moderator
        self.rounds = rounds

    def __repr__(self) -> str:
        return f"RoundsPolicy(moderator={self.moderator!r}, rounds={self.rounds})"

    async def take_turn(self, context: TurnContext) -> Message | None:
        chair = self.moderator
        messages = context.transcript.messages
        opened = [i for i, m in enumerate(messages) if public_by(m, chair)]
        if len(opened) > self.rounds:  # the closing is said
            return None
        if not opened:
            return await context.ask(chair)
        since = messages[opened[-1] + 1 :]
        answered = {
            m.speaker.name
            for m in since
            if m.speaker is not None and m.speaker.name != chair and m.visible_to(chair)
        }
        members = [m for m in context.members if m.name != chair]
        waiting = [m.name for m in members if m.name not in answered]
        named = addressee(messages[opened[-1]].content, members, exclude=chair)
        if named in waiting:
            waiting.remove(named)
            waiting.insert(0, named)
        for name in waiting:
            message = await context.ask(name)
            if message is not None:
                return message
        return await context.ask(chair)


class ScriptedModerator(Participant):
    """The scripted moderator: opens with the topic and the first prompt, asks each
    prompt in turn, follows up by name on what a member said once the prompts run
    out, and thanks everyone after the last round. No model; deterministic.

    Args:
        topic: what the group discusses.
        prompts: the question of each round, in order (at least one).
        rounds: how many rounds.
        members: the members' names, in the group's order.
        material: what the group is shown (a variant's content), if anything.
        start: when the group starts.
    """

    role = _AGENT

    def __init__(
        self,
        topic: str,
        prompts: Sequence[str],
        *,
        rounds: int,
        members: Sequence[str],
        material: str = "",
        start: datetime,
    ) -> None:
        self.topic = topic
        self.prompts = list(prompts)
        self.rounds = rounds
        self.members = list(members)
        self.material = material
        self.start = start

    async def get_next_message(self, conversation: Conversation) -> Message | None:
        messages = conversation.messages
        said = sum(1 for m in messages if public_by(m, MODERATOR))
        if said > self.rounds or (messages and messages[-1].sender is _AGENT):
            return None
        when = messages[-1].timestamp + _STEP if messages else self.start
        return stamped(self.line(said, messages), when, _AGENT)

    def line(self, said: int, messages: Sequence[Message]) -> str:
        """What it says as its message number ``said`` (0: the opening)."""
        if said == 0:
            return (
                f"Welcome, everyone, and thank you for joining. Today we are talking "
                f"about {self.topic}.{shown_block(self.material)}\nTo start:\n"
                f"{self.prompts[0]}"
            )
        if said >= self.rounds:
            return (
                "Thank you all, that is everything for today. Your views have been "
                "very helpful."
            )
        if said < len(self.prompts):
            return f"Thank you. Next question:\n{self.prompts[said]}"
        name = self.members[(said - len(self.prompts)) % len(self.members)]
        quoted = next(
            (
                _snippet(without_label(m))
                for m in reversed(messages)
                if m.speaker is not None and m.speaker.name == name
            ),
            "",
        )
        if not quoted:
            return f"{name}, we haven't heard much from you: what do you think?"
        return (
            f'{name}, you said "{quoted}". Could you tell us more? And does '
            "anyone see it differently?"
        )


class Cued(Participant):
    """A simulated moderator that opens the group: on an empty transcript it is
    shown a note (only it sees) at ``start``, so its opening is timed from there."""

    def __init__(self, inner: Participant, start: datetime) -> None:
        self.inner = inner
        self.role = getattr(inner, "role", _AGENT)
        self.start = start

    @property
    def token_usage(self) -> TokenUsage:
        return self.inner.token_usage

    async def get_next_message(self, conversation: Conversation) -> Message | None:
        if not conversation.messages:
            note = stamped(
                "(Only you can see this.) The members are seated: open the discussion.",
                self.start,
                ParticipantRole.CUSTOMER if self.role is _AGENT else _AGENT,
            )
            conversation = conversation.with_message(note)
        return await self.inner.get_next_message(conversation)


def moderator_prompt(
    topic: str,
    questions: Sequence[str],
    *,
    rounds: int,
    members: Sequence[str],
    material: str = "",
) -> str:
    """The system prompt of a simulated moderator (line-oriented, so that the
    offline model reads it too)."""
    lines = [
        STUDY_MODERATOR_MARKER,
        "You moderate a focus group.",
        f"Topic: {topic}",
        f"Members: {', '.join(members)}",
        f"Rounds: {rounds}",
    ]
    if material:
        lines.append(f"Material: {' '.join(material.split())}")
    if questions:
        lines.append("Questions:")
        lines.extend(f"{n}. {text}" for n, text in enumerate(questions, 1))
    lines.append(
        "Each of your messages opens a round: ask the whole group one question (the "
        "next of the questions above, in order; when they run out, follow up on what "
        "a member said, by name). After the last round, thank everyone and close. "
        "Write only your own message."
    )
    return "\n".join(lines)


def _snippet(text: str, limit: int = 90) -> str:
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    first = first.rstrip(" .!")
    return first if len(first) <= limit else first[: limit - 3].rstrip() + "..."


_POSITIVE: Final = (
    "like", "love", "great", "good", "useful", "helpful", "would buy", "interested",
    "appealing", "worth", "excited", "agree", "yes",
)  # fmt: skip
_NEGATIVE: Final = (
    "don't", "do not", "not", "expensive", "too much", "worried", "concern", "doubt",
    "wouldn't", "won't", "dislike", "hate", "no ", "skeptical", "sceptical",
)  # fmt: skip


def stance(text: str) -> str:
    """``positive``, ``negative``, ``mixed`` or ``neutral``, from cue words."""
    lowered = f" {text.lower()} "
    good = sum(lowered.count(word) for word in _POSITIVE)
    bad = sum(lowered.count(word) for word in _NEGATIVE)
    if good and bad:
        return (
            "mixed"
            if abs(good - bad) <= 1
            else ("positive" if good > bad else "negative")
        )
    return "positive" if good else "negative" if bad else "neutral"


def answer_value(question: Question | None, text: str) -> AnswerValue:
    """A typed value read from an answer's text: a scale's first number in range, a
    choice's first option named; the text itself for free text and follow-ups."""
    if question is None or question.type == "free_text":
        return text
    if question.type == "scale":
        for found in re.findall(r"-?\d+", text):
            number = int(found)
            if question.low <= number <= question.high:
                return number
        return None
    if question.type == "choice":
        lowered = text.lower()
        hits = [(lowered.find(o.lower()), o) for o in question.options]
        hits = [hit for hit in hits if hit[0] >= 0]
        return min(hits)[1] if hits else None
    return None


def check_questions(values: object) -> tuple[Question, ...]:
    """The questions as :class:`Question` values: a string is a free-text question
    ``q1``, ``q2``, ...; a mapping gives a question's fields."""
    if isinstance(values, str | Question | Mapping):
        values = [values]
    if not isinstance(values, Sequence):
        raise ConfigError(f"questions must be a list; got {type(values).__name__}")
    questions: list[Question] = []
    for index, value in enumerate(values, 1):
        question = value
        if isinstance(value, str):
            question = Question(id=f"q{index}", text=value)
        elif isinstance(value, Mapping):
            question = Question(**value)
        if not isinstance(question, Question):
            raise ConfigError(
                f"questions[{index - 1}] must be a string, a Question or a mapping; "
                f"got {type(value).__name__}"
            )
        questions.append(question)
    ids = [q.id for q in questions]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ConfigError(f"question ids must be distinct; repeated: {repeated}")
    return tuple(questions)
