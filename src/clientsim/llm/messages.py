"""Converting between clientsim's messages and LangChain's, both ways.

Out: :class:`~clientsim.llm.Turn` lists and conversation messages become LangChain
messages. Back: what a LangChain ``Runnable`` (a chain, a chat model, a LangGraph graph)
returned becomes the texts of the agent's reply; :func:`has_no_async_path` tells a
runnable that LangChain would only run in asyncio's executor. LangChain loads on first
use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from clientsim.errors import ChannelError, ClientSimError
from clientsim.models import Message, ParticipantRole, ToolCall


if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

    from clientsim.llm.turns import Turn, TurnRole

__all__ = [
    "Reply",
    "from_conversation",
    "has_no_async_path",
    "replies",
    "reply_texts",
    "resume_command",
    "to_langchain",
]

Reply = tuple[str, tuple[ToolCall, ...]]
"""One message of the agent's reply: its text and the tool calls it carries."""

_KINDS: dict[str, type[BaseMessage]] = {}


def _kinds() -> dict[str, type[BaseMessage]]:
    """LangChain's message classes by turn role (``"base"``: their base class)."""
    if not _KINDS:  # LangChain loads on first use, then the classes are cached
        from langchain_core.messages import (  # noqa: PLC0415
            AIMessage,
            BaseMessage,
            HumanMessage,
            SystemMessage,
            ToolMessage,
        )

        _KINDS.update(
            tool=ToolMessage,
            system=SystemMessage,
            user=HumanMessage,
            assistant=AIMessage,
            base=BaseMessage,
        )
    return _KINDS


def _message(role: TurnRole, content: str) -> BaseMessage:
    """One LangChain message: ``system``, ``assistant``, otherwise a human message."""
    kinds = _kinds()
    return kinds.get(role, kinds["user"])(content=content)


def to_langchain(turns: Sequence[Turn]) -> list[BaseMessage]:
    """Convert clientsim turns to LangChain messages."""
    return [_message(turn.role, turn.content) for turn in turns]


def from_conversation(
    messages: Iterable[Message], own: ParticipantRole
) -> list[BaseMessage]:
    """Conversation messages as side ``own`` sees them: its own are ``AIMessage``,
    the other side's ``HumanMessage``.

    Example:
        >>> from datetime import UTC, datetime
        >>> said = Message("Hi", datetime.now(UTC), ParticipantRole.CUSTOMER)
        >>> [type(m).__name__ for m in from_conversation([said], ParticipantRole.AGENT)]
        ['HumanMessage']
    """
    return [
        _message("assistant" if item.sender is own else "user", item.content)
        for item in messages
    ]


def reply_texts(result: object, *, input_key: str | None, name: str) -> list[str]:
    """The texts of the agent's reply in what runnable ``name`` returned.

    A ``str`` is the reply; a message gives its text; from a list of messages (or a
    mapping holding one under ``input_key``) the reply is the ``AIMessage`` texts after
    the last ``HumanMessage``. Empty texts (a tool call only) are dropped.

    Raises:
        ChannelError: the result is none of these.
    """
    return [text for text, _ in replies(result, input_key=input_key, name=name)]


def replies(result: object, *, input_key: str | None, name: str) -> list[Reply]:
    """The agent's reply in what runnable ``name`` returned, with its tool calls.

    As :func:`reply_texts`, each text paired with the tool calls made since the
    previous text of the turn (those of its own ``AIMessage`` included), each with
    the content of the ``ToolMessage`` that answered it (matched by
    ``tool_call_id``). Calls made after the last text go with the last text; a turn
    with calls but no text gives one reply with an empty text that carries them.

    Raises:
        ChannelError: the result is none of these, or a tool call is malformed.
    """
    kinds = _kinds()
    base, ai, human = kinds["base"], kinds["assistant"], kinds["user"]
    if isinstance(result, str):
        return [(result, ())] if result else []
    if isinstance(result, base) and not isinstance(result, ai):
        return [(result.text, ())] if result.text else []
    if isinstance(result, base):
        items: Sequence[BaseMessage] = [result]
    else:
        if isinstance(result, Mapping):
            if input_key is None or input_key not in result:
                raise ChannelError(
                    f"runnable {name!r} returned a dict with keys "
                    f"{sorted(map(str, result))}, and input_key is {input_key!r}; set "
                    "input_key to the key that holds the messages"
                )
            result = result[input_key]
        if not isinstance(result, Sequence) or isinstance(result, str | bytes):
            raise ChannelError(
                f"runnable {name!r} returned {type(result).__name__}; a runnable "
                "returns a str, a LangChain message, a list of messages, or a dict "
                f"holding them under input_key ({input_key!r})"
            )
        strays = [type(item).__name__ for item in result if not isinstance(item, base)]
        if strays:
            raise ChannelError(
                f"runnable {name!r} returned {strays[0]} among its messages; expected "
                "LangChain messages"
            )
        start = max(
            (i + 1 for i, item in enumerate(result) if isinstance(item, human)),
            default=0,
        )
        items = result[start:]
    return _grouped(items, name)


def _grouped(items: Sequence[BaseMessage], name: str) -> list[Reply]:
    kinds = _kinds()
    ai, tool = kinds["assistant"], kinds["tool"]
    answers = {
        getattr(item, "tool_call_id", None): item.text
        for item in items
        if isinstance(item, tool)
    }
    texts: list[Reply] = []
    pending: list[ToolCall] = []
    for item in items:
        if not isinstance(item, ai):
            continue
        pending.extend(
            _tool_call(call, answers, name)
            for call in getattr(item, "tool_calls", None) or ()
        )
        if item.text:
            texts.append((item.text, tuple(pending)))
            pending = []
    if pending:
        if texts:
            text, calls = texts[-1]
            texts[-1] = (text, (*calls, *pending))
        else:
            texts.append(("", tuple(pending)))
    return texts


def _tool_call(call: object, answers: Mapping[str | None, str], name: str) -> ToolCall:
    if not isinstance(call, Mapping):
        raise ChannelError(
            f"runnable {name!r} returned a tool call that is not a mapping: {call!r}"
        )
    call_id = call.get("id")
    try:
        return ToolCall(
            call.get("name"),  # type: ignore[arg-type]  # checked by ToolCall
            call.get("args") or {},
            id=call_id if isinstance(call_id, str) else None,
            result=answers.get(call_id) if isinstance(call_id, str) else None,
        )
    except ClientSimError as exc:
        raise ChannelError(
            f"runnable {name!r} returned a malformed tool call: {exc}"
        ) from exc


def resume_command(value: object) -> object:
    """LangGraph's ``Command(resume=value)``, which resumes an interrupted graph."""
    from langgraph.types import Command  # noqa: PLC0415 - only a graph interrupts

    return Command(resume=value)


def has_no_async_path(runnable: object) -> bool:
    """Whether ``runnable``'s ``ainvoke`` would only run its ``invoke`` in asyncio's
    default executor: a ``RunnableLambda`` of a sync function, or a ``Runnable`` that
    does not override ``ainvoke`` (seen through ``with_config``/``bind`` wrappers)."""
    from langchain_core.runnables import (  # noqa: PLC0415 - LangChain on first use
        Runnable,
        RunnableBinding,
        RunnableLambda,
    )

    while isinstance(runnable, RunnableBinding) and type(runnable).ainvoke is (
        RunnableBinding.ainvoke
    ):
        runnable = runnable.bound
    if isinstance(runnable, RunnableLambda):
        return not hasattr(runnable, "afunc")
    return isinstance(runnable, Runnable) and type(runnable).ainvoke is Runnable.ainvoke
