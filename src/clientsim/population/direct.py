"""Direct messages between personas (``talk_to``) and private thoughts (``think``).

Both leave messages with an ``audience`` (:attr:`~clientsim.models.Message.audience`)
in a group transcript: a direct message is seen by its two members only, a thought by
its thinker only. The group runner leaves them out of every other member's view, so
no one else ever reads them, while the transcript (and the run store) keeps them.

Each works two ways:

- on a running :class:`~clientsim.runners.GroupSimulationRunner` (``runner=``): the
  members are named, and the messages are added to its transcript between turns;
- on its own, for participants (a persona's, any other): ``talk_to`` runs a short 1:1
  exchange and returns its messages, ``think`` returns the thought.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

import attrs

from clientsim.errors import ConfigError, ParticipantError
from clientsim.models import (
    DEFAULT_TIMEOUTS,
    Conversation,
    Message,
    ParticipantRole,
    Timeouts,
)
from clientsim.models.group import Speaker
from clientsim.models.persona import Persona
from clientsim.participants.base import Participant
from clientsim.population._seats import name_of, persona_participant
from clientsim.runners.group import GroupMember, GroupSimulationRunner


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel


__all__ = ["THINK_PROMPT", "talk_to", "think"]

THINK_PROMPT: Final = (
    "Think to yourself for a moment (no one else will see this): what do you really "
    "make of this so far?"
)
"""What a member is asked when ``think`` is given no prompt."""

_PRIVATE_NOTE: Final = "(Only you can see this.) "
_STEP: Final = timedelta(seconds=1)

Member = GroupMember | Participant | Persona
"""Who may talk or think on their own: a group member, a participant (a persona's),
or a :class:`~clientsim.models.persona.Persona` (played on ``model``)."""


async def talk_to(
    sender: str | Member,
    recipient: str | Member,
    text: str | None = None,
    *,
    runner: GroupSimulationRunner | None = None,
    replies: int = 1,
    model: str | BaseChatModel = "offline",
    seed: int = 0,
    base_timestamp: datetime | None = None,
    timeouts: Timeouts = DEFAULT_TIMEOUTS,
) -> tuple[Message, ...]:
    """A direct message from ``sender`` to ``recipient``, and ``replies`` messages
    back and forth after it, seen by the two of them only.

    With ``runner``, ``sender`` and ``recipient`` are member names and the messages
    are added to its transcript (call it between turns: after a first ``step()``).
    Without, they are participants (or personas, played on ``model``) and a short
    1:1 exchange is run, starting at ``base_timestamp``.

    Example:
        >>> import anyio
        >>> from clientsim import GroupMember, ScriptedParticipant
        >>> ana = GroupMember("Ana", ScriptedParticipant("agent", ["Free at noon?"]))
        >>> dana = GroupMember("Dana", ScriptedParticipant("agent", ["Yes, see you."]))
        >>> messages = anyio.run(lambda: talk_to(ana, dana))
        >>> [(m.speaker.name, m.content, m.audience) for m in messages]
        [('Ana', 'Free at noon?', ('Ana', 'Dana')), ('Dana', 'Yes, see you.', ('Ana', 'Dana'))]

    Args:
        sender: who writes first.
        recipient: who it is for.
        text: the first message; ``None``: the sender writes it.
        runner: the group conversation to add the messages to.
        replies: how many messages follow the first, taking turns (recipient first);
            fewer if one of them passes.
        model: the model of personas given as :class:`Persona` values.
        seed: the exchange's seed (on its own only).
        base_timestamp: when the exchange starts (on its own only; ``now`` if
            ``None``).
        timeouts: the exchange's timeouts (on its own only).

    Returns:
        The messages, in order, each with ``audience`` the two of them.

    Raises:
        ConfigError: a name or member is unknown or given twice, or ``replies`` is
            negative.
        ParticipantError: a participant failed.
    """
    if isinstance(replies, bool) or not isinstance(replies, int) or replies < 0:
        raise ConfigError(f"replies must be an int >= 0; got {replies!r}")
    if runner is not None:
        return await _talk_in(runner, sender, recipient, text, replies)
    first = _as_member(sender, "sender", model, seed)
    second = _as_member(recipient, "recipient", model, seed)
    if first.name == second.name:
        raise ConfigError(
            f"sender and recipient must be two members; both are called {first.name!r}"
        )
    pair = (first.name, second.name)
    group = GroupSimulationRunner(
        [
            attrs.evolve(first, audience=(second.name,)),
            attrs.evolve(second, audience=(first.name,)),
        ],
        initial_message=text,
        initial_speaker=first.name,
        max_messages=1 + replies,
        base_timestamp=base_timestamp or datetime.now(UTC),
        seed=seed,
        timeouts=timeouts,
        raise_on_error=True,
    )
    result = await group.run()
    return tuple(attrs.evolve(m, audience=pair) for m in result.conversation.messages)


async def think(
    who: str | Member,
    prompt: str | None = None,
    *,
    runner: GroupSimulationRunner | None = None,
    text: str | None = None,
    context: Conversation | None = None,
    model: str | BaseChatModel = "offline",
    seed: int = 0,
    base_timestamp: datetime | None = None,
) -> Message:
    """A private thought of ``who``: recorded, seen by no one else.

    ``who`` is asked ``prompt`` (:data:`THINK_PROMPT` by default) as a note only it
    sees, and its answer is the thought; given ``text``, that is the thought and no
    one is asked.

    With ``runner``, ``who`` is a member's name: it thinks over the conversation as it
    sees it, and the thought is added to the transcript (between turns). Without, it
    is a participant (or a persona, played on ``model``) thinking over ``context``
    (nothing by default).

    Example:
        >>> import anyio
        >>> from clientsim import GroupMember, ScriptedParticipant
        >>> ana = GroupMember("Ana", ScriptedParticipant("agent", ["Too pricey."]))
        >>> thought = anyio.run(lambda: think(ana, "What do you make of the offer?"))
        >>> thought.content, thought.is_thought
        ('Too pricey.', True)

    Raises:
        ConfigError: ``who`` is not a member (or has no name).
        ParticipantError: the participant passed or failed.
    """
    if runner is not None:
        if not isinstance(who, str):
            raise ConfigError(
                f"with runner, who must be a member's name; got {type(who).__name__}"
            )
        participant = runner.participant(who)
        view = runner.view(who)
        speaker = _speaker(runner, who)
    else:
        member = _as_member(who, "who", model, seed)
        participant, speaker = member.participant, member.info.speaker
        view = context or Conversation(())
    if text is None:
        message = await _ask(participant, view, prompt or THINK_PROMPT, base_timestamp)
        if message is None:
            raise ParticipantError(f"{speaker.name} had no thought to share (passed)")
    else:
        message = Message(text, _after(view, base_timestamp), _side(participant))
    thought = attrs.evolve(message, speaker=speaker, audience=(speaker.name,))
    if runner is not None:
        thought = _timed(thought, runner, view)
        runner.post(thought)
    return thought


async def _talk_in(
    runner: GroupSimulationRunner,
    sender: object,
    recipient: object,
    text: str | None,
    replies: int,
) -> tuple[Message, ...]:
    if not isinstance(sender, str) or not isinstance(recipient, str):
        raise ConfigError(
            "with runner, sender and recipient must be member names; got "
            f"{type(sender).__name__} and {type(recipient).__name__}"
        )
    if sender == recipient:
        raise ConfigError(f"sender and recipient are both {sender!r}")
    runner.participant(recipient)  # a ConfigError naming the members if unknown
    pair = (sender, recipient)
    said: list[Message] = []
    order = [sender] + [(recipient, sender)[k % 2] for k in range(replies)]
    for index, name in enumerate(order):
        participant = runner.participant(name)
        view = runner.view(name)
        if index == 0 and text is not None:
            message: Message | None = Message(
                text, _after(view, None), _side(participant)
            )
        else:
            cue = None if index else f"Write a private message to {recipient}."
            message = await _ask(participant, view, cue, None)
        if message is None:
            break
        message = attrs.evolve(message, speaker=_speaker(runner, name), audience=pair)
        message = _timed(message, runner, view)
        runner.post(message)
        said.append(message)
    return tuple(said)


async def _ask(
    participant: Participant,
    view: Conversation,
    prompt: str | None,
    base_timestamp: datetime | None,
) -> Message | None:
    """``participant``'s next message on ``view``, after a note only it sees."""
    if prompt is not None:
        note = Message(
            _PRIVATE_NOTE + prompt,
            _after(view, base_timestamp),
            _side(participant).other,
        )
        view = view.with_message(note)
    try:
        message = await participant.get_next_message(view)
    except ConfigError:
        raise
    except Exception as exc:
        raise ParticipantError(f"a participant failed: {exc}") from exc
    if message is not None and not isinstance(message, Message):
        raise ParticipantError(
            f"get_next_message must return a Message or None; got "
            f"{type(message).__name__}"
        )
    return message


def _as_member(
    value: object, where: str, model: str | BaseChatModel, seed: int
) -> GroupMember:
    if isinstance(value, GroupMember):
        return value
    if isinstance(value, Persona):
        return GroupMember(value.name, persona_participant(value, model, seed=seed))
    if isinstance(value, Participant):
        return GroupMember(name_of(value, where), value)
    raise ConfigError(
        f"{where} must be a GroupMember, a participant or a Persona (or, with "
        f"runner=, a member's name); got {type(value).__name__}"
    )


def _timed(
    message: Message, runner: GroupSimulationRunner, view: Conversation
) -> Message:
    """``message`` timed after the transcript's last message, as long after it as it
    came after the last message its writer could see (the later ones were hidden)."""
    last = runner.result().conversation.last_message
    if last is None or message.timestamp >= last.timestamp:
        return message
    seen = view.last_message
    delay = message.timestamp - seen.timestamp if seen is not None else timedelta(0)
    return attrs.evolve(message, timestamp=last.timestamp + max(delay, timedelta(0)))


def _speaker(runner: GroupSimulationRunner, name: str) -> Speaker:
    for member in runner.members:
        if member.name == name:
            return member.speaker
    raise ConfigError(f"no member is called {name!r}")  # pragma: no cover - checked


def _side(participant: Participant) -> ParticipantRole:
    role = getattr(participant, "role", None)
    return role if isinstance(role, ParticipantRole) else ParticipantRole.AGENT


def _after(view: Conversation, base_timestamp: datetime | None) -> datetime:
    last = view.last_message
    if last is not None:
        return last.timestamp + _STEP
    return base_timestamp or datetime.now(UTC)
