"""Agents and runnables for the target-string tests
(``tests.channels.targets_agents:<name>``), and the ``turn`` helper the channel tests
share."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from datetime import UTC, datetime

from langchain_core.messages import BaseMessage
from langchain_core.runnables import RunnableLambda

from clientsim.channels.base import QueueSession, TurnEnded
from clientsim.models import Conversation, Message, ParticipantRole


OLD = datetime(2000, 1, 1, tzinfo=UTC)


def echo(message: str) -> str:
    return f"echo: {message}"


async def async_echo(message: str) -> str:
    return f"async echo: {message}"


def with_session(message: str, *, session_id: str) -> str:
    return f"{session_id}: {message}"


def with_conversation(message: str, conversation: Conversation) -> str:
    return f"{len(conversation)} messages, last {message!r}"


def with_everything(message: str, **kwargs: object) -> str:
    return ",".join(sorted(kwargs))


def as_message(message: str) -> Message:
    return Message(content=message.upper(), timestamp=OLD, sender=ParticipantRole.AGENT)


def as_list(message: str) -> list[str | Message]:
    return ["one", Message(content="two", timestamp=OLD, sender=ParticipantRole.AGENT)]


def silent(message: str) -> None:
    return None


async def stream(message: str) -> AsyncIterator[str]:
    for word in ("Let", "me", "check."):
        yield word


def sync_stream(message: str) -> Iterator[str]:
    yield from ("first", "second")


def broken(message: str) -> str:
    raise RuntimeError("the agent fell over")


def two_arguments(message: str, history: list[str]) -> str:
    return message


class Agent:
    """Counts how often it is created: ``module:Class.method`` creates it once."""

    created = 0

    def __init__(self) -> None:
        type(self).created += 1
        self.turns = 0

    def process(self, message: str) -> str:
        self.turns += 1
        return f"turn {self.turns}: {message}"

    async def aprocess(self, message: str, *, session_id: str) -> str:
        return f"{session_id}: {message}"

    @staticmethod
    def shout(message: str) -> str:
        return message.upper()

    @classmethod
    def name_it(cls, message: str) -> str:
        return f"{cls.__name__}: {message}"


class NeedsKey:
    def __init__(self, key: str) -> None:
        self.key = key

    def process(self, message: str) -> str:
        return message


agent = Agent()
not_callable = 42


async def turn(session: QueueSession, text: str) -> list[Message]:
    """Send ``text`` as the customer; return the agent's messages up to ``TurnEnded``."""
    await session.send(
        Message(
            content=text, timestamp=datetime.now(UTC), sender=ParticipantRole.CUSTOMER
        )
    )
    replies: list[Message] = []
    async with aclosing(session.events()) as events:
        async for event in events:
            if isinstance(event, TurnEnded):
                return replies
            replies.append(event)
    raise AssertionError("the session closed before the turn ended")


def shout(messages: list[BaseMessage]) -> str:
    return messages[-1].text.upper()


shouting = RunnableLambda(shout)


def build_shouting() -> RunnableLambda[list[BaseMessage], str]:
    return RunnableLambda(shout)


def build_nothing() -> None:
    raise RuntimeError("no graph today")
