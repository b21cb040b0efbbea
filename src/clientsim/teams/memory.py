"""What one team member remembers: a recent window, a rolling summary and long-term facts.

A :class:`MemoryManager` follows one member's view of a conversation. The most recent
messages stay verbatim in its *window*; when the window holds more than ``window``
messages, the oldest leave it and are folded, with the summary so far, into a new
*summary* by one structured model call (schema title ``memory_summary``). The same call
names the *facts* worth keeping for good (decisions, numbers, dates, commitments); they
are merged with those already kept, deduplicated, newest last, at most ``max_facts``.

The offline model (``"offline"``, the default) writes an extractive summary: the
sentences of the folded messages that carry decisions, numbers and dates, risks and
commitments, each with its speaker (the rules are in the explanation "Team memory and
the analyst").

The whole state is a :class:`~clientsim.models.MemoryState` value: it round-trips through
:func:`clientsim.models.to_dict` / :func:`~clientsim.models.from_dict`, so a session can
store it and :meth:`MemoryManager.restore` it after a restart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

import anyio
import attrs

from clientsim._validators import check_int, check_text
from clientsim.errors import ConfigError, InvalidModelOutputError
from clientsim.models import (
    DEFAULT_TIMEOUTS,
    Conversation,
    Message,
    Timeouts,
    TokenUsage,
)
from clientsim.models.team import MemoryState


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from clientsim.llm import StructuredCall


__all__ = [
    "FACTS_HEADER",
    "MESSAGES_HEADER",
    "SUMMARY_HEADER",
    "SUMMARY_TITLE",
    "MemoryManager",
    "merge_facts",
    "speaker_line",
]

SUMMARY_TITLE: Final = "memory_summary"
"""The title of the structured-output schema of a memory fold."""
SUMMARY_HEADER: Final = "Summary so far:"
FACTS_HEADER: Final = "Facts so far:"
MESSAGES_HEADER: Final = "Messages leaving the window:"
"""The section headers of a fold's prompt, each on a line of its own; the offline
model reads the sections back by them."""

SUMMARY_WORDS: Final = 200
"""How long the summary may grow, in words, as the model is told."""

_NOTHING: Final = "(nothing yet)"
_NONE: Final = "(none)"

_SYSTEM: Final = f"""\
You keep the memory of one member of a team. Messages that leave the member's recent \
window must not be forgotten: fold them into the summary so far. Keep every decision, \
number, date, risk and commitment with the name of who said it, and drop small talk. \
Answer with the new summary (at most {SUMMARY_WORDS} words), which covers both the \
summary so far and the new messages, and with the long-term facts worth keeping, as \
short statements (decisions, numbers, dates, commitments), each naming who said it."""

_SCHEMA: Final[dict[str, Any]] = {
    "title": SUMMARY_TITLE,
    "description": "A member's new rolling summary and the long-term facts to keep.",
    "type": "object",
    "properties": {
        "summary": {
            "type": "string",
            "description": "The summary so far with the new messages folded in.",
        },
        "facts": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Short statements worth remembering for good.",
        },
    },
    "required": ["summary", "facts"],
}

_LABELLED: Final = re.compile(r"^[^\s:][^:\n]{0,80}: \S")
"""A message that already starts with its speaker's label (``"Dana (Designer): ..."``),
as a member's own view of a group transcript shows the others' messages."""


def speaker_line(message: Message) -> str:
    """``message`` on one line, as ``"Name (Role): text"``.

    The label is the message's :class:`~clientsim.models.group.Speaker`; a message that
    has none keeps the label it starts with, if any, else gets its sender's
    (``"Agent"``, ``"Customer"``).

    Example:
        >>> from datetime import datetime, UTC
        >>> from clientsim.models import Message, ParticipantRole, Speaker
        >>> now = datetime(2026, 3, 1, tzinfo=UTC)
        >>> speaker_line(Message("Budget is 250k.\\nFinal.", now,
        ...     ParticipantRole.AGENT, speaker=Speaker("Ana", "CEO")))
        'Ana (CEO): Budget is 250k. Final.'
    """
    text = " ".join(message.content.split())
    speaker = message.speaker
    if speaker is not None:
        label = speaker.label
        return text if text.startswith(f"{label}: ") else f"{label}: {text}"
    if _LABELLED.match(text):
        return text
    return f"{message.sender.value.capitalize()}: {text}"


def _fact_key(fact: str) -> str:
    return " ".join(re.findall(r"\w+", fact.casefold()))


def merge_facts(kept: Iterable[str], new: Iterable[str], limit: int) -> tuple[str, ...]:
    """``kept`` then ``new``, deduplicated (case and punctuation aside, the later one
    wins and moves last), at most ``limit`` of them (the newest).

    Example:
        >>> merge_facts(["Budget is 250k", "Launch March 1"], ["budget is 250K."], 5)
        ('Launch March 1', 'budget is 250K.')
    """
    order: dict[str, str] = {}
    for fact in (*kept, *new):
        text = " ".join(fact.split())
        key = _fact_key(text)
        if not key:
            continue
        order.pop(key, None)
        order[key] = text
    facts = tuple(order.values())
    return facts[max(0, len(facts) - limit) :]


def _prompt(state: MemoryState, leaving: Sequence[Message]) -> str:
    facts = "\n".join(f"- {fact}" for fact in state.facts) or _NONE
    lines = "\n".join(speaker_line(message) for message in leaving)
    return (
        f"{SUMMARY_HEADER}\n{state.summary.strip() or _NOTHING}\n\n"
        f"{FACTS_HEADER}\n{facts}\n\n"
        f"{MESSAGES_HEADER}\n{lines}"
    )


def _read(answer: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    summary, facts = answer.get("summary"), answer.get("facts")
    if not isinstance(summary, str):
        raise InvalidModelOutputError(
            f"the memory summary needs a string 'summary'; got {answer!r}"
        )
    if not isinstance(facts, list) or not all(isinstance(f, str) for f in facts):
        raise InvalidModelOutputError(
            f"the memory summary needs 'facts', a list of strings; got {facts!r}"
        )
    return summary.strip(), tuple(f for f in facts if f.strip())


class MemoryManager:
    """One participant's memory: a window, a rolling summary and long-term facts.

    Example:
        >>> import anyio
        >>> from datetime import datetime, timedelta, UTC
        >>> from clientsim.models import Conversation, Message, ParticipantRole, Speaker
        >>> start = datetime(2026, 3, 1, 9, tzinfo=UTC)
        >>> lines = ["The budget is 250k.", "Sounds fine.", "Let me check the plan."]
        >>> chat = Conversation(tuple(
        ...     Message(text, start + timedelta(minutes=i), ParticipantRole.AGENT,
        ...             speaker=Speaker("Ana", "CEO"))
        ...     for i, text in enumerate(lines)))
        >>> memory = MemoryManager(window=2)
        >>> state = anyio.run(memory.observe, chat)
        >>> len(state.window), state.summarized, state.facts
        (2, 1, ('Ana: The budget is 250k.',))

    Args:
        window: how many recent messages stay verbatim (at least 1).
        model: a LangChain chat model with structured output, or a spec such as
            ``"offline"`` (the default) or ``"openai:gpt-4o-mini"``, resolved on first
            use; it writes the summary, at temperature 0.
        max_facts: how many long-term facts are kept at most (the newest); 0 keeps none.
        timeouts: ``timeouts.model_call`` bounds each summary call.

    Raises:
        ConfigError: a bad ``window``, ``max_facts``, ``model`` or ``timeouts``.
    """

    def __init__(
        self,
        *,
        window: int = 12,
        model: str | BaseChatModel = "offline",
        max_facts: int = 20,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> None:
        from clientsim.llm.specs import check_model  # noqa: PLC0415

        self.window = check_int("window", window, low=1)
        self.max_facts = check_int("max_facts", max_facts, low=0)
        if check_model(model) is None:
            raise ConfigError("model must be a model spec or a chat model; got None")
        if not isinstance(timeouts, Timeouts):
            raise ConfigError(f"timeouts must be a Timeouts; got {timeouts!r}")
        self.model = model
        self.timeouts = timeouts
        self._state = MemoryState()
        self._usage = TokenUsage()
        self._calls = 0
        self._restores = 0
        self._call: StructuredCall | None = None
        self._lock = anyio.Lock()

    def __repr__(self) -> str:
        model = self.model if isinstance(self.model, str) else type(self.model).__name__
        return (
            f"MemoryManager(window={self.window}, model={model!r}, "
            f"max_facts={self.max_facts}, observed={self.observed})"
        )

    @property
    def state(self) -> MemoryState:
        """What the participant remembers now."""
        return self._state

    @property
    def observed(self) -> int:
        """How many messages of the conversation the memory has taken in."""
        return self._state.summarized + len(self._state.window)

    @property
    def usage(self) -> TokenUsage:
        """The tokens the summary calls have cost so far."""
        return self._usage

    @property
    def calls(self) -> int:
        """How many summary calls the model has answered so far."""
        return self._calls

    def restore(self, state: MemoryState) -> None:
        """Take ``state`` as what the participant remembers (after a restart, or to
        resume a session at an earlier point); the conversation it is given next must
        continue the one the state was taken from.

        A state from a memory with a larger window or more facts is brought within
        this one's bounds by the next :meth:`observe` that adds a message.

        Raises:
            ConfigError: ``state`` is not a :class:`~clientsim.models.MemoryState`.
        """
        if not isinstance(state, MemoryState):
            raise ConfigError(
                f"restore() takes a MemoryState; got {type(state).__name__}"
            )
        self._state = state
        self._restores += 1

    def remember(self, fact: str) -> MemoryState:
        """Keep ``fact`` for good, as if the summary had named it (newest last).

        Raises:
            ConfigError: ``fact`` is not a non-blank string.
        """
        text = check_text("fact", fact, non_empty=True)
        facts = merge_facts(self._state.facts, (text,), self.max_facts)
        self._state = attrs.evolve(self._state, facts=facts)
        return self._state

    async def observe(self, conversation: Conversation) -> MemoryState:
        """Take in the messages of ``conversation`` the memory has not seen yet.

        Messages are counted: the first :attr:`observed` messages are taken as those
        already seen, so observing the same conversation twice changes nothing. When the
        window then holds more than ``window`` messages, the oldest are folded into the
        summary by one model call; if that call fails, nothing changes.

        Raises:
            ConfigError: ``conversation`` is not a Conversation, or does not continue
                the one the memory has seen (it is shorter, or its message at the last
                seen position differs); :meth:`restore` the state of the point to go on
                from (an empty ``MemoryState()`` to start over) first.
            ModelError: the summary call failed or did not answer within
                ``timeouts.model_call``.
            InvalidModelOutputError: the answer has no string summary or no list of
                string facts.
        """
        if not isinstance(conversation, Conversation):
            raise ConfigError(
                f"observe() takes a Conversation; got {type(conversation).__name__}"
            )
        async with self._lock:
            state, restores = self._state, self._restores
            messages = conversation.messages
            self._check_continues(state, messages)
            new = messages[state.summarized + len(state.window) :]
            window = (*state.window, *new)
            overflow = len(window) - self.window
            if overflow <= 0:
                if new:
                    self._state = attrs.evolve(state, window=window)
                return self._state
            leaving = window[:overflow]
            summary, facts = await self._fold(state, leaving)
            if restores != self._restores:  # restored meanwhile: that state wins
                return self._state
            self._state = MemoryState(
                window=window[overflow:],
                summary=summary,
                # merged with the facts kept now: remember() may have added one
                facts=merge_facts(self._state.facts, facts, self.max_facts),
                summarized=state.summarized + overflow,
            )
            return self._state

    def _check_continues(
        self, state: MemoryState, messages: tuple[Message, ...]
    ) -> None:
        seen = state.summarized + len(state.window)
        if len(messages) < seen:
            raise ConfigError(
                f"the memory has seen {seen} messages but observe() got a conversation "
                f"of {len(messages)}: it must continue the one seen so far; restore() "
                "the state of the point to go on from (MemoryState() to start over)"
            )
        if state.window and messages[seen - 1] != state.window[-1]:
            raise ConfigError(
                f"observe() got a conversation that does not continue the one the "
                f"memory has seen: its message {seen - 1} differs from the last one "
                "remembered; restore() the state of the point to go on from "
                "(MemoryState() to start over)"
            )

    async def _fold(
        self, state: MemoryState, leaving: Sequence[Message]
    ) -> tuple[str, tuple[str, ...]]:
        from clientsim.llm import Turn  # noqa: PLC0415

        call = self._structured()
        answer, usage = await call(
            [Turn("system", _SYSTEM), Turn("user", _prompt(state, leaving))]
        )
        self._usage = self._usage + usage
        self._calls += 1
        return _read(answer)

    def _structured(self) -> StructuredCall:
        if self._call is None:
            from clientsim.llm.calls import judge_call  # noqa: PLC0415

            self._call = judge_call(
                self.model, _SCHEMA, timeout=self.timeouts.model_call
            )
        return self._call
