"""Messages, conversations and what a finished conversation leaves behind."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import attrs

from clientsim._validators import an_int, items_of, typed
from clientsim.config.converter import OMIT_IF_DEFAULT
from clientsim.errors import InvalidTypeError, is_transient
from clientsim.models.criteria import CriteriaVerdict
from clientsim.models.frozen import FrozenDict, freeze_mapping
from clientsim.models.group import Speaker
from clientsim.models.intent import Outcome
from clientsim.models.roles import ParticipantRole
from clientsim.models.timestamps import timestamp_field
from clientsim.models.tool_calls import ToolCall


__all__ = [
    "Conversation",
    "ConversationResult",
    "Ending",
    "ErrorRecord",
    "Message",
    "MessageDraft",
    "ParticipantRole",
    "Speaker",
    "TokenUsage",
    "TokenUsageReport",
    "ToolCall",
]


_new: Final = object.__new__
_set: Final = object.__setattr__  # builds frozen values the class has already checked
_instance_of_str: Final = typed(str)
_instance_of_role: Final = typed(ParticipantRole)


_NO_CALLS: Final[tuple[ToolCall, ...]] = ()


def _to_tool_calls(value: object) -> tuple[ToolCall, ...]:
    if value is _NO_CALLS:  # the default: nothing to check
        return _NO_CALLS
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidTypeError(
            f"tool_calls must be a sequence of ToolCall; got {type(value).__name__}"
        )
    return items_of(value, ToolCall, "tool_calls")


def _agent_only(message: Message, _: object, calls: tuple[ToolCall, ...]) -> None:
    if calls and message.sender is not ParticipantRole.AGENT:
        raise InvalidTypeError(
            f"only the agent's messages carry tool calls; got {len(calls)} on a "
            f"{message.sender.value} message"
        )


def _to_audience(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidTypeError(
            f"audience must be a list of member names or None; got {value!r}"
        )
    names = tuple(value)
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise InvalidTypeError(
                f"audience must hold member names (non-blank strings); got {name!r}"
            )
    return tuple(dict.fromkeys(names))


@attrs.frozen
class MessageDraft:
    """Message content without a timestamp: the runner stamps it.

    Example:
        >>> MessageDraft(content="Hello, I need help", sender=ParticipantRole.CUSTOMER)
        MessageDraft(content='Hello, I need help', sender=<ParticipantRole.CUSTOMER: 'customer'>)
    """

    content: str = attrs.field(validator=_instance_of_str)
    sender: ParticipantRole = attrs.field(validator=_instance_of_role)


@attrs.frozen
class Message:
    """One message of a conversation, stamped with when it was sent.

    Attributes:
        content: the text.
        timestamp: when it was sent, always timezone-aware UTC: a naive datetime
            (``datetime.now()``) is read as the machine's local time and converted,
            an aware one in another zone is converted to the same instant in UTC
            (see :func:`clientsim.models.timestamps.as_utc`).
        sender: who sent it.
        tool_calls: the tool calls the agent made during the turn this message
            ends, in order, with their results (:class:`ToolCall`); empty for the
            customer's messages, which never carry any. The simulated customer never
            sees them.
        speaker: in a group conversation (a team, a focus group), who wrote it: its
            :class:`Speaker` (name and role); ``None`` in a two-sided conversation,
            where ``sender`` says it all.
        audience: in a group conversation, the names of the members who may see it
            besides its speaker (a direct message: ``("Dana",)``); ``None``: every
            member. A message whose audience is its speaker alone is a thought
            (:attr:`is_thought`), recorded but shown to no one else.

    Example:
        >>> from datetime import datetime, timedelta, timezone
        >>> paris = timezone(timedelta(hours=1))
        >>> Message("Hi", datetime(2026, 1, 5, 10, 0, tzinfo=paris),
        ...         ParticipantRole.CUSTOMER).timestamp.isoformat()
        '2026-01-05T09:00:00+00:00'
    """

    content: str = attrs.field(validator=_instance_of_str)
    timestamp: datetime = attrs.field(
        converter=timestamp_field, validator=typed(datetime)
    )
    sender: ParticipantRole = attrs.field(validator=_instance_of_role)
    tool_calls: tuple[ToolCall, ...] = attrs.field(
        default=_NO_CALLS,
        converter=_to_tool_calls,
        validator=_agent_only,
        kw_only=True,
        metadata={OMIT_IF_DEFAULT: True},  # plain data without calls stays as it was
    )
    speaker: Speaker | None = attrs.field(
        default=None,
        validator=typed(Speaker, optional=True),
        kw_only=True,
        metadata={OMIT_IF_DEFAULT: True},
    )
    audience: tuple[str, ...] | None = attrs.field(
        default=None,
        converter=_to_audience,
        kw_only=True,
        metadata={OMIT_IF_DEFAULT: True},  # plain data of a public message: as it was
    )

    def visible_to(self, name: str) -> bool:
        """Whether the group member called ``name`` sees this message: its speaker
        and its audience do (everyone, when it has none)."""
        if self.audience is None or name in self.audience:
            return True
        return self.speaker is not None and self.speaker.name == name

    @property
    def is_thought(self) -> bool:
        """``True`` for a thought: a message its speaker alone may see."""
        speaker = self.speaker
        return speaker is not None and self.audience in ((), (speaker.name,))

    @property
    def is_private(self) -> bool:
        """``True`` for a message only some members may see (a thought too)."""
        return self.audience is not None

    @property
    def label(self) -> str:
        """Who wrote it, as transcripts show it: the speaker's label (the sender's
        role without one), then ``(thinking)`` for a thought or ``-> Dana
        (private)`` for a message to only some.

        Example:
            >>> from datetime import UTC, datetime
            >>> Message("Hm.", datetime(2026, 1, 5, tzinfo=UTC), ParticipantRole.AGENT,
            ...         speaker=Speaker("Ana"), audience=["Dana"]).label
            'Ana \u2192 Dana (private)'
        """
        speaker = self.speaker
        if speaker is None:
            return self.sender.value
        if self.audience is None:
            return speaker.label
        others = [name for name in self.audience if name != speaker.name]
        if not others:
            return f"{speaker.label} (thinking)"
        return f"{speaker.label} \u2192 {', '.join(others)} (private)"


def stamped(
    content: str,
    timestamp: datetime,
    sender: ParticipantRole,
    tool_calls: tuple[ToolCall, ...] = _NO_CALLS,
) -> Message:
    """``Message(content, timestamp, sender, tool_calls=tool_calls)``, built at a
    third of the cost when the values are already what its converter and validators
    would leave (a ``str``, a UTC ``datetime``, a role, no tool calls): the runners
    and channels build one or more per message. Anything else goes through
    ``Message`` itself, with its conversion and errors."""
    if (
        type(content) is str
        and type(timestamp) is datetime
        and timestamp.tzinfo is UTC
        and type(sender) is ParticipantRole
        and tool_calls is _NO_CALLS
    ):
        message = _new(Message)
        _set(message, "content", content)
        _set(message, "timestamp", timestamp)
        _set(message, "sender", sender)
        _set(message, "tool_calls", _NO_CALLS)
        _set(message, "speaker", None)
        _set(message, "audience", None)
        return message
    return Message(content, timestamp, sender, tool_calls=tool_calls)


def _to_messages(value: Iterable[Message]) -> tuple[Message, ...]:
    return items_of(value, Message, "messages")


@attrs.frozen
class Conversation:
    """A conversation: its messages in order and, once one is reached, its outcome.

    Conversations are immutable; :meth:`with_message` and :meth:`with_outcome` return a
    new one.
    """

    messages: tuple[Message, ...] = attrs.field(converter=_to_messages)
    outcome: Outcome | None = attrs.field(
        default=None,
        validator=typed(Outcome, optional=True),
    )

    def with_message(self, message: Message) -> Conversation:
        """Return a new conversation with ``message`` appended."""
        if not isinstance(message, Message):
            raise InvalidTypeError(
                f"with_message takes a Message; got {type(message).__name__}"
            )
        # The existing messages were checked when they came in: check only the new one.
        conversation = _new(Conversation)
        _set(conversation, "messages", (*self.messages, message))
        _set(conversation, "outcome", self.outcome)
        return conversation

    def with_outcome(self, outcome: Outcome | None) -> Conversation:
        """Return a new conversation with the given outcome."""
        return Conversation(self.messages, outcome)

    @property
    def last_message(self) -> Message | None:
        """The most recent message, or ``None`` for an empty conversation."""
        return self.messages[-1] if self.messages else None

    @property
    def simulated_seconds(self) -> float:
        """Time between the first and the last message's timestamps."""
        if len(self.messages) < 2:
            return 0.0
        return (
            self.messages[-1].timestamp - self.messages[0].timestamp
        ).total_seconds()

    def __len__(self) -> int:
        return len(self.messages)

    def _repr_html_(self) -> str:
        """A chat-style transcript for Jupyter: customer left, agent right."""
        from clientsim.render.notebook import conversation_html  # noqa: PLC0415

        return conversation_html(self)


_non_negative_int: Final = an_int(low=0)


@attrs.frozen(kw_only=True)
class TokenUsage:
    """Tokens spent by one side of a conversation, summed over its model calls."""

    input_tokens: int = attrs.field(default=0, validator=_non_negative_int)
    output_tokens: int = attrs.field(default=0, validator=_non_negative_int)
    total_tokens: int = attrs.field(default=0, validator=_non_negative_int)
    calls: int = attrs.field(default=0, validator=_non_negative_int)

    @classmethod
    def _of(
        cls, input_tokens: int, output_tokens: int, total: int, calls: int
    ) -> TokenUsage:
        # Sums of valid counts are valid: skip the validators on this hot path.
        usage = _new(cls)
        _set(usage, "input_tokens", input_tokens)
        _set(usage, "output_tokens", output_tokens)
        _set(usage, "total_tokens", total)
        _set(usage, "calls", calls)
        return usage

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage._of(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.total_tokens + other.total_tokens,
            self.calls + other.calls,
        )

    def __sub__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage._of(
            max(0, self.input_tokens - other.input_tokens),
            max(0, self.output_tokens - other.output_tokens),
            max(0, self.total_tokens - other.total_tokens),
            max(0, self.calls - other.calls),
        )


_ZERO_USAGE: Final = TokenUsage()


@attrs.frozen(kw_only=True)
class TokenUsageReport:
    """Token usage of a conversation per participant, and of the judges that watched it.

    ``report[ParticipantRole.CUSTOMER]`` is the same as ``report.customer``.
    """

    customer: TokenUsage = _ZERO_USAGE
    agent: TokenUsage = _ZERO_USAGE
    judge: TokenUsage = _ZERO_USAGE

    def __getitem__(self, role: ParticipantRole) -> TokenUsage:
        return self.customer if role is ParticipantRole.CUSTOMER else self.agent

    @property
    def total(self) -> TokenUsage:
        """Everything spent on the conversation, participants and judges together."""
        return self.customer + self.agent + self.judge


@attrs.frozen(kw_only=True)
class Ending:
    """Why a conversation ended.

    Attributes:
        reason: the name of what ended it: a termination strategy's name (such as
            ``"max_messages"``, ``"closing_phrases"`` or ``"outcome_reached"``),
            ``"both_passed"`` when neither side had anything more to say, or
            ``"error"`` when something failed.
        detail: a human-readable sentence, e.g. which phrase or outcome matched.
        message_count: how many messages the conversation had when it ended.
    """

    reason: str = attrs.field(validator=_instance_of_str)
    detail: str = attrs.field(default="", validator=_instance_of_str)
    message_count: int = attrs.field(default=0, validator=_non_negative_int)


_AGENT_SIDE: Final = frozenset({"agent", "channel"})
_SIDES: Final = ("agent", "simulator")


def _blame(_: object, __: object, value: str | None) -> None:
    if value is not None and value not in _SIDES:
        raise InvalidTypeError(
            f"an error's blame must be 'agent', 'simulator' or None; got {value!r}"
        )


@attrs.frozen(kw_only=True)
class ErrorRecord:
    """An error that ended a conversation early, kept on the result.

    Attributes:
        source: where it happened: ``"customer"``, ``"agent"``, ``"channel"`` (the
            connection to a real agent), ``"evaluator"``, ``"termination"`` or
            ``"progress_callback"``. :attr:`side` says whose fault that is.
        type: the qualified name of the exception class.
        message: the exception's message.
        transient: whether the error is worth retrying (a timeout, a dropped
            connection, a rate limit, a server error); see
            :func:`clientsim.errors.is_transient`.
        blame: :attr:`side` when the source alone cannot tell it (a member of a
            group conversation, named by its name, that is a real agent: ``"agent"``);
            ``None`` to go by the source.
    """

    source: str = attrs.field(validator=_instance_of_str)
    type: str = attrs.field(validator=_instance_of_str)
    message: str = attrs.field(validator=_instance_of_str)
    transient: bool = attrs.field(default=False, validator=typed(bool))
    blame: str | None = attrs.field(
        default=None, validator=_blame, metadata={OMIT_IF_DEFAULT: True}
    )

    @property
    def side(self) -> str:
        """Whose fault it was: ``"agent"`` (the agent or the channel to it) or
        ``"simulator"`` (the simulated customer, a judge, a callback)."""
        if self.blame is not None:
            return self.blame
        return "agent" if self.source in _AGENT_SIDE else "simulator"

    @classmethod
    def from_exception(cls, source: str, exc: BaseException) -> ErrorRecord:
        """Describe ``exc`` as raised from ``source``."""
        kind = type(exc)
        return cls(
            source=source,
            type=f"{kind.__module__}.{kind.__qualname__}",
            message=str(exc),
            transient=is_transient(exc),
        )


def _data(value: object) -> FrozenDict[str, Any]:
    return freeze_mapping(value, "data")


@attrs.frozen
class ConversationResult:
    """What running one conversation produced.

    Attributes:
        conversation: every message and the outcome, if one was reached.
        duration_seconds: wall-clock time the run took.
        ending: why the conversation ended.
        token_usage: tokens spent, per participant and by judges.
        error: the error that ended the run early, if any; the conversation up to it
            is kept.
        criteria: the verdicts of a criteria judge on the whole transcript, when one
            was asked for (``simulate(..., criteria=[...])``, a file's ``criteria:``).
        data: JSON-able data an engine attaches to the conversation and keeps with it
            in the run store (a population study keeps each persona's
            :class:`~clientsim.models.survey.Response` under ``"response"``).
    """

    conversation: Conversation = attrs.field(validator=typed(Conversation))
    duration_seconds: float = 0.0
    ending: Ending | None = attrs.field(default=None, kw_only=True)
    token_usage: TokenUsageReport = attrs.field(factory=TokenUsageReport, kw_only=True)
    error: ErrorRecord | None = attrs.field(default=None, kw_only=True)
    criteria: CriteriaVerdict | None = attrs.field(
        default=None, kw_only=True, validator=typed(CriteriaVerdict, optional=True)
    )
    data: Mapping[str, Any] = attrs.field(
        factory=FrozenDict,
        kw_only=True,
        converter=_data,
        metadata={OMIT_IF_DEFAULT: True},  # older data and most runs: no data
    )

    @property
    def outcome(self) -> Outcome | None:
        """The conversation's outcome, or ``None`` if none was reached."""
        return self.conversation.outcome

    @property
    def ok(self) -> bool:
        """``True`` unless an error ended the conversation, or the agent stopped to
        ask and nobody answered (the ending ``"agent_interrupted"``: a test that
        expects the interrupt checks ``result.ending.reason`` instead)."""
        return self.error is None and (
            self.ending is None or self.ending.reason != "agent_interrupted"
        )

    def _repr_html_(self) -> str:
        """The transcript, ending, duration, tokens and error, for Jupyter."""
        from clientsim.render.notebook import result_html  # noqa: PLC0415

        return result_html(self)
