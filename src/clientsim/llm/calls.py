"""Calling chat models: the one place clientsim turns its turns into LangChain calls.

Errors from a provider become :class:`~clientsim.errors.ModelError`; cancellation always
propagates. Every call is bounded: a model that does not answer within its timeout
(``timeouts.model_call`` of :class:`~clientsim.models.Timeouts`, 120 s by default)
fails with a transient :class:`~clientsim.errors.ModelError` raised from a
``TimeoutError``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import attrs

from clientsim import events
from clientsim.errors import ClientSimError, InvalidModelOutputError, ModelError
from clientsim.llm.messages import from_conversation, to_langchain
from clientsim.llm.turns import Turn
from clientsim.models import Conversation, Message, ParticipantRole, TokenUsage
from clientsim.models.timeouts import DEFAULT_TIMEOUTS


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage
    from langchain_core.runnables import Runnable


__all__ = [
    "MODEL_CALL_SECONDS",
    "ChatView",
    "Completion",
    "StructuredCall",
    "complete",
    "judge_call",
    "model_name",
    "tuned",
    "usage_of",
]


MODEL_CALL_SECONDS = DEFAULT_TIMEOUTS.model_call
"""The default limit of one model call, in seconds."""

T = TypeVar("T")


async def bounded(
    model: BaseChatModel, call: Callable[[], Awaitable[T]], seconds: float
) -> T:
    """``await call()`` within ``seconds``; a provider error becomes a ModelError.

    Every model call of clientsim goes through here, so this is where the
    ``model.called`` event is emitted (only when something listens).

    Raises:
        ModelError: the provider failed, or did not answer in time (then raised from
            a ``TimeoutError``, so it counts as transient).
    """
    if not events.enabled(events.MODEL_CALLED):
        return await _bounded(model, call, seconds)
    start = time.perf_counter()
    try:
        result = await _bounded(model, call, seconds)
    except Exception as exc:
        _called(model, start, None, exc)
        raise
    _called(model, start, result, None)
    return result


def _called(
    model: BaseChatModel, start: float, result: object, error: Exception | None
) -> None:
    """Emit ``model.called`` for a call that began at ``start``."""
    provider, short = _provider_and_model(model)
    label = getattr(model, "label", None)
    raw = result.get("raw") if isinstance(result, Mapping) else result
    usage = usage_of(raw) if error is None else TokenUsage(calls=1)
    events.emit(
        events.MODEL_CALLED,
        conversation_id=events.current_conversation.get(),
        role=label.split("#")[0] if isinstance(label, str) else None,
        model=short,
        provider=provider,
        duration_seconds=time.perf_counter() - start,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        error=None if error is None else f"{type(error).__name__}: {error}",
    )


def _provider_and_model(model: BaseChatModel) -> tuple[str, str]:
    """The provider and model names of ``model`` (a run's wrapper or the model itself):
    from its spec (``"openai:gpt-4o-mini"``), else from LangChain's own tracing
    parameters, else its LangChain type and name."""
    spec = getattr(model, "spec", None)
    name = spec if isinstance(spec, str) and spec else model_name(model)
    provider, colon, short = name.partition(":")
    if colon:
        return provider, short
    inner = getattr(model, "inner", model)
    try:
        params = inner._get_ls_params()  # noqa: SLF001 - LangChain's tracing metadata
    except Exception:  # noqa: BLE001 - a model's own metadata must never fail a call
        params = {}
    if params.get("ls_model_name") and params.get("ls_provider"):
        return str(params["ls_provider"]), str(params["ls_model_name"])
    return str(getattr(model, "_llm_type", "") or "unknown"), name


async def _bounded(
    model: BaseChatModel, call: Callable[[], Awaitable[T]], seconds: float
) -> T:
    try:
        with anyio.fail_after(seconds):
            return await call()
    except ClientSimError:
        raise
    except TimeoutError as exc:
        raise ModelError(
            f"chat model {model_name(model)!r} did not answer within {seconds:g}s "
            "(timeouts.model_call)"
        ) from exc
    except Exception as exc:
        raise _failure(model, exc) from exc


@attrs.frozen
class Completion:
    """A model's text answer and what it cost."""

    text: str
    usage: TokenUsage


def model_name(model: BaseChatModel) -> str:
    """A short human name for a model, for messages."""
    for attribute in ("model_name", "model"):
        value = getattr(model, attribute, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__name__


class ChatView:
    """One side's view of a conversation as LangChain messages, kept up to date.

    Each conversation message is converted once: :meth:`messages` appends only what
    is new since the last call (and starts over if the conversation is not the one it
    has seen). The participant's own messages are the assistant's, the other side's
    the user's.

    Args:
        system_prompt: the first message the model sees.
        role: the side whose view this is.
    """

    def __init__(self, system_prompt: str, role: ParticipantRole) -> None:
        self.system_prompt = system_prompt
        self.role = role
        self._messages: list[BaseMessage] = []
        self._seen: tuple[Message, ...] = ()

    def messages(self, conversation: Conversation) -> list[BaseMessage]:
        """The LangChain messages for ``conversation``, system prompt first (a copy)."""
        current = conversation.messages
        seen = len(self._seen)
        if (
            not self._messages
            or len(current) < seen
            or (seen and current[seen - 1] is not self._seen[-1])
        ):
            self._messages = to_langchain([Turn("system", self.system_prompt)])
            seen = 0
        self._messages.extend(from_conversation(current[seen:], self.role))
        self._seen = current
        return list(self._messages)

    async def complete(
        self,
        model: BaseChatModel,
        conversation: Conversation,
        *,
        timeout: float = MODEL_CALL_SECONDS,  # noqa: ASYNC109 - a per-call limit
    ) -> Completion:
        """Ask ``model`` for this side's next message in ``conversation``.

        Raises:
            ModelError: the provider failed (after its own retries) or did not answer
                within ``timeout`` seconds.
        """
        messages = self.messages(conversation)
        message = await bounded(model, lambda: _ask(model, messages), timeout)
        return Completion(text=message.text, usage=usage_of(message))


async def _ask(model: BaseChatModel, messages: list[BaseMessage]) -> BaseMessage:
    """``model``'s answer: through a run's :meth:`RunChatModel.ask
    <clientsim.llm.run_model.RunChatModel.ask>` (LangChain's per-call machinery only
    when something listens to it), else ``ainvoke``."""
    from clientsim.llm.run_model import RunChatModel  # noqa: PLC0415 - loaded by now

    if isinstance(model, RunChatModel):
        return await model.ask(messages)
    return await model.ainvoke(messages)


def usage_of(message: object) -> TokenUsage:
    """Token usage from a LangChain message's ``usage_metadata`` (zero if absent)."""
    metadata: Mapping[str, Any] | None = getattr(message, "usage_metadata", None)
    if not metadata:
        return TokenUsage(calls=1)
    input_tokens = int(metadata.get("input_tokens", 0) or 0)
    output_tokens = int(metadata.get("output_tokens", 0) or 0)
    total = int(metadata.get("total_tokens", 0) or 0) or input_tokens + output_tokens
    return TokenUsage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=total,
        calls=1,
    )


def _failure(model: BaseChatModel, exc: Exception) -> ModelError:
    return ModelError(
        f"chat model {model_name(model)!r} failed: {type(exc).__name__}: {exc}"
    )


async def complete(
    model: BaseChatModel,
    turns: Sequence[Turn],
    *,
    timeout: float = MODEL_CALL_SECONDS,  # noqa: ASYNC109 - a per-call limit
) -> Completion:
    """Ask ``model`` for its next message.

    Raises:
        ModelError: the provider failed (after its own retries) or did not answer
            within ``timeout`` seconds.
    """
    messages = to_langchain(turns)
    message = await bounded(model, lambda: _ask(model, messages), timeout)
    return Completion(text=message.text, usage=usage_of(message))


class StructuredCall:
    """A reusable structured-output call: ``await call(turns) -> (answer, usage)``.

    Args:
        model: the chat model (must support ``with_structured_output``).
        schema: a JSON schema with ``title``, ``description`` and ``properties``.
        timeout: the longest one call may take, in seconds.
    """

    def __init__(
        self,
        model: BaseChatModel,
        schema: Mapping[str, Any],
        *,
        timeout: float = MODEL_CALL_SECONDS,
    ) -> None:
        self.model = model
        self.schema = dict(schema)
        self.timeout = timeout
        self._runnable: Runnable[Any, Any] | None = None

    def _bound(self) -> Runnable[Any, Any]:
        if self._runnable is None:
            try:
                self._runnable = self.model.with_structured_output(
                    self.schema, include_raw=True
                )
            except NotImplementedError as exc:
                raise ModelError(
                    f"chat model {model_name(self.model)!r} does not support structured "
                    "output (bind_tools); use a model that does, e.g. 'offline' or an "
                    "OpenAI model"
                ) from exc
        return self._runnable

    async def __call__(
        self, turns: Sequence[Turn]
    ) -> tuple[dict[str, Any], TokenUsage]:
        """Run the call.

        Raises:
            ModelError: the provider failed or did not answer in time.
            InvalidModelOutputError: the answer does not fit the schema.
        """
        runnable = self._bound()
        messages = to_langchain(turns)
        result = await bounded(
            self.model, lambda: runnable.ainvoke(messages), self.timeout
        )
        usage = usage_of(result.get("raw"))
        parsed = result.get("parsed")
        if not isinstance(parsed, dict):
            error = result.get("parsing_error")
            raise InvalidModelOutputError(
                f"chat model {model_name(self.model)!r} did not answer in the "
                f"{self.schema.get('title', 'requested')!r} shape"
                + (f": {error}" if error else "")
            )
        return parsed, usage


def tuned(model: BaseChatModel, seed: int) -> BaseChatModel:
    """``model`` at temperature 0 and with ``seed``, for the fields it has (a run's
    model wrapper: its inner model; it keeps its own per-conversation seed)."""
    from clientsim.llm.run_model import RunChatModel  # noqa: PLC0415

    if isinstance(model, RunChatModel):
        inner = _settings(model.inner, None)
        # A shallow copy: it shares the wrapper's counters, so usage is still counted.
        return (
            model if inner is model.inner else model.model_copy(update={"inner": inner})
        )
    return _settings(model, seed)


def _settings(model: BaseChatModel, seed: int | None) -> BaseChatModel:
    fields = type(model).model_fields
    update: dict[str, object] = {}
    if "temperature" in fields:
        update["temperature"] = 0.0
    if seed is not None and "seed" in fields:
        update["seed"] = seed
    return model.model_copy(update=update) if update else model


def judge_call(
    model: str | BaseChatModel,
    schema: Mapping[str, Any],
    *,
    seed: int = 0,
    timeout: float = MODEL_CALL_SECONDS,
) -> StructuredCall:
    """A judge's structured call: ``model`` (a spec is resolved now) at temperature 0
    and with ``seed`` where it takes one, answering in ``schema``'s shape."""
    from clientsim.llm.specs import resolve_model  # noqa: PLC0415

    return StructuredCall(tuned(resolve_model(model), seed), schema, timeout=timeout)
