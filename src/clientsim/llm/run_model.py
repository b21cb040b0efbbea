"""The chat model every conversation of an experiment talks through.

One :class:`RunChatModel` per conversation and role wraps the run's shared model and
adds, in this order: the cassette (replay answers from it; record what was answered,
with a digest of what the call was asked: :func:`input_digest`),
the run's response cache (:class:`~clientsim.llm.cache.SQLiteCache`, looked up by a
key hashed incrementally as the conversation grows), the run's rate limiter, the
provider's :class:`~clientsim.llm.budget.RateBudget` when the wrapped model has one
(each attempt holds a reservation: its turn in the window, a concurrency slot, its
estimated tokens, corrected to those used; a 429 shrinks the budget for everyone and
is retried after the shared pause, apart from ``max_retries``), and retries with
exponential backoff on transient errors. It calls the wrapped model's
``_agenerate`` directly, so a call pays LangChain's per-call cost once, not twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import cached_property
from typing import Any, Protocol

import anyio
from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, message_to_dict
from langchain_core.messages import messages_from_dict as _messages_from_dict
from langchain_core.outputs import ChatGeneration, ChatResult, Generation
from langchain_core.rate_limiters import BaseRateLimiter
from langchain_core.runnables import Runnable, RunnableBinding
from pydantic import ConfigDict, Field

from clientsim.errors import ConfigError, is_transient
from clientsim.llm._budget_limiter import BudgetRateLimiter
from clientsim.llm.budget import RateBudget, rate_limited
from clientsim.models import TokenUsage
from clientsim.models.timeouts import DEFAULT_TIMEOUTS


__all__ = ["RunChatModel", "input_digest", "seeded"]


class Scope(Protocol):
    """The part of a cassette scope the model uses."""

    mode: str

    def take(self, kind: str, *, seen: str | None = None) -> object | None: ...

    def put(self, kind: str, payload: object, *, seen: str | None = None) -> None: ...


def input_digest(messages: Sequence[BaseMessage]) -> str:
    """A digest of what a model call is asked: each message's type and content (and
    tool calls), in order. A cassette keeps it next to the answer, so a replay that
    calls the agent live can tell when a call is asked something else.

    Example:
        >>> from langchain_core.messages import HumanMessage, SystemMessage
        >>> asked = [SystemMessage("You are a customer."), HumanMessage("Hello")]
        >>> input_digest(asked) == input_digest(list(asked))
        True
        >>> input_digest(asked) == input_digest([*asked[:1], HumanMessage("Hi")])
        False
        >>> len(input_digest(asked))
        32
    """
    hasher = hashlib.sha256()
    for message in messages:
        entry = json.dumps(_message_key(message), default=repr, ensure_ascii=False)
        hasher.update(b"\x1e" + entry.encode())
    return hasher.hexdigest()[:32]


def seeded(model: BaseChatModel, seed: int) -> BaseChatModel:
    """``model`` with its ``seed`` field set to ``seed``, if it has one (a cheap copy)."""
    if "seed" in type(model).model_fields:
        return model.model_copy(update={"seed": seed})
    return model


def _message_key(message: BaseMessage) -> list[object]:
    entry: list[object] = [message.type, message.content]
    tool_calls = getattr(message, "tool_calls", None)
    if tool_calls:
        entry.append(tool_calls)
    return entry


def _ai(result: ChatResult) -> AIMessage:
    message = result.generations[0].message
    if isinstance(message, AIMessage):
        return message
    return AIMessage(content=message.content)  # pragma: no cover - defensive


def _ai_message(generation: Generation) -> AIMessage:
    message = getattr(generation, "message", None)
    if not isinstance(message, AIMessage):
        raise ConfigError(
            "a cached model answer must be an AI message; got "
            f"{getattr(message, 'type', type(generation).__name__)!r}"
        )
    return message


def _from_dict(data: dict[str, Any]) -> AIMessage:
    (message,) = _messages_from_dict([data])
    if not isinstance(message, AIMessage):
        raise ConfigError(
            f"a recorded model answer must be an AI message; got {message.type!r}"
        )
    return message


class RunChatModel(BaseChatModel):
    """One conversation's view of a run's chat model (see the module docstring).

    Attributes:
        inner: the model that answers (already given the conversation's seed).
        spec: the model's spec, for per-model token usage and cost.
        label: which part of the conversation calls it (``"customer"``,
            ``"agent"``, ``"judge"``, ``"supervisor"``): the cassette stream.
        conversation_seed: part of the cache key, so iterations differ.
        scope: the conversation's cassette scope, or ``None``.
        response_cache: the run's :class:`~clientsim.llm.cache.SQLiteCache`, or
            ``None``.
        limiter: the run's rate limiter (shared by all conversations), or ``None``.
        max_retries: retries of a call that failed with a transient error.
        max_rate_limited: retries of a call its provider refused with a 429, when
            the model has a rate budget (each waits for the budget's shared pause
            and its smaller window instead of backing off on its own).
        retry_base_seconds: the first backoff; doubled on each retry.
        call_timeout_seconds: the longest one attempt may take
            (``timeouts.model_call``); an attempt that passes it is a transient
            ``TimeoutError``, retried like the others.
        counters: running totals (input, output, total tokens, calls, live calls),
            mutated in place; read them as :attr:`usage` and :attr:`live_calls`.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    inner: BaseChatModel
    spec: str
    label: str
    conversation_seed: int = 0
    scope: Any = Field(default=None, exclude=True)
    response_cache: Any = Field(default=None, exclude=True)
    limiter: BaseRateLimiter | None = Field(default=None, exclude=True)
    max_retries: int = 3
    max_rate_limited: int = 20
    retry_base_seconds: float = 0.05
    call_timeout_seconds: float = DEFAULT_TIMEOUTS.model_call
    key_state: dict[str, Any] = Field(default_factory=dict, exclude=True)
    counters: list[int] = Field(default_factory=lambda: [0, 0, 0, 0, 0], exclude=True)

    @property
    def usage(self) -> TokenUsage:
        """What the calls cost so far (cache and cassette answers included)."""
        counters = self.counters
        return TokenUsage(
            input_tokens=counters[0],
            output_tokens=counters[1],
            total_tokens=counters[2],
            calls=counters[3],
        )

    @property
    def live_calls(self) -> int:
        """Calls that reached the wrapped model."""
        return self.counters[4]

    @property
    def _llm_type(self) -> str:
        return self.inner._llm_type  # noqa: SLF001 - the wrapped model's own type

    @cached_property
    def _serialized(self) -> dict[str, Any]:
        # LangChain's default serialises the model through repr() on its first call,
        # about 0.3 ms for a wrapper made per conversation: describe it cheaply.
        return {
            "lc": 1,
            "type": "not_implemented",
            "id": ["clientsim", "experiments", "RunChatModel"],
            "repr": f"RunChatModel(spec={self.spec!r}, label={self.label!r})",
        }

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"spec": self.spec, "seed": self.conversation_seed}

    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools the way the wrapped model formats them."""
        bound = self.inner.bind_tools(tools, tool_choice=tool_choice, **kwargs)
        if not isinstance(bound, RunnableBinding):  # pragma: no cover - defensive
            raise ConfigError(
                f"{type(self.inner).__name__}.bind_tools did not return a binding; "
                "it cannot be used in an experiment"
            )
        return self.bind(**bound.kwargs)

    async def ask(self, messages: Sequence[BaseMessage]) -> BaseMessage:
        """The answer to ``messages``, as ``ainvoke`` gives it.

        When nothing listens to LangChain's per-call machinery (no callbacks on this
        model or in the calling runnable's config, no tracing, no debug or verbose
        mode, no global LLM cache), it calls ``_agenerate`` directly: the same
        answer without the callback managers and run ids, at about half the CPU of
        a lean model's call. The message then has no LangChain run id.
        """
        if _langchain_is_quiet(self):
            result = await self._agenerate(list(messages))
            return result.generations[0].message
        return await self.ainvoke(list(messages))

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,  # noqa: ARG002
        **kwargs: Any,
    ) -> ChatResult:
        return self.inner._generate(messages, stop=stop, **kwargs)  # noqa: SLF001

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,  # noqa: ARG002
        **kwargs: Any,
    ) -> ChatResult:
        scope = self.scope
        seen = ""
        if scope is not None:
            seen = input_digest(messages)
            if scope.mode == "replay":
                recorded = scope.take(f"model:{self.label}", seen=seen)
                if recorded is not None:
                    return self._result(_from_dict(recorded))
        cache = self.response_cache
        if cache is None and scope is None:
            # The common path: the wrapped model's own result, as it is.
            result = await self._call(messages, stop, kwargs)
            self._count(result.generations[0].message)
            return result
        key = self._key(messages, stop, kwargs) if cache is not None else ""
        cached = await cache.aget(key) if cache is not None else None
        if cached:
            message = _ai_message(cached[0])
            live = None
        else:
            live = await self._call(messages, stop, kwargs)
            message = _ai(live)
        if scope is not None:  # a replay="all" scope keeps nothing
            scope.put(f"model:{self.label}", message_to_dict(message), seen=seen)
        if cache is not None and live is not None:
            await cache.aput(key, live.generations[:1])
        if live is not None:
            self._count(message)
            return live
        return self._result(message)

    def _result(self, message: AIMessage) -> ChatResult:
        self._count(message)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _count(self, message: BaseMessage) -> None:
        metadata = getattr(message, "usage_metadata", None)
        counters = self.counters
        if metadata:
            inp = int(metadata.get("input_tokens", 0) or 0)
            out = int(metadata.get("output_tokens", 0) or 0)
            counters[0] += inp
            counters[1] += out
            counters[2] += int(metadata.get("total_tokens", 0) or 0) or inp + out
        counters[3] += 1

    def _key(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        kwargs: dict[str, Any],
    ) -> str:
        """A digest of everything that decides the answer.

        The history grows by a message or two per call, so the digest of the messages
        seen so far is kept and only new messages are hashed (each JSON-encoded, so a
        separator byte cannot occur inside one); a prompt that is not a continuation of
        the last one (a judge's, say) is hashed from the start.
        """
        state = self.key_state
        seen: list[BaseMessage] = state.get("seen", [])
        hasher = state.get("hasher")
        count = len(seen)
        if (
            hasher is None
            or count > len(messages)
            or any(messages[i] is not seen[i] for i in range(count))
        ):
            start = json.dumps([self.spec, self.conversation_seed], default=repr)
            hasher = hashlib.sha256(start.encode())
            count = 0
        for message in messages[count:]:
            entry = json.dumps(_message_key(message), default=repr, ensure_ascii=False)
            hasher.update(b"\x1e" + entry.encode())
        state["hasher"], state["seen"] = hasher, list(messages)
        final = hasher.copy()
        rest = json.dumps([stop, kwargs], sort_keys=True, default=repr)
        final.update(b"\x1d" + rest.encode())
        return final.hexdigest()

    async def _call(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        kwargs: dict[str, Any],
    ) -> ChatResult:
        provider = self.inner.rate_limiter  # its provider's (RATE_LIMIT_*)
        budget = provider.budget if isinstance(provider, BudgetRateLimiter) else None
        estimate = 0
        if budget is not None and budget.limits.tokens is not None:
            estimate = _estimate(messages, self.inner)
        attempt = limited = 0
        while True:
            if self.limiter is not None:
                await self.limiter.aacquire(blocking=True)
            if budget is None and provider is not None:
                await provider.aacquire(blocking=True)
            try:
                if budget is None:
                    with anyio.fail_after(self.call_timeout_seconds):
                        result = await self.inner._agenerate(  # noqa: SLF001
                            messages, stop=stop, **kwargs
                        )
                else:  # waiting for its turn is not part of the call's time
                    result = await self._budgeted(
                        budget, estimate, messages, stop, kwargs
                    )
            except Exception as exc:
                if (
                    budget is not None
                    and limited < self.max_rate_limited
                    and rate_limited(exc)[0]
                ):
                    limited += 1  # the budget paces the retry (and everyone's)
                    continue
                if attempt >= self.max_retries or not is_transient(exc):
                    if type(exc) is TimeoutError:  # fail_after's: say what timed out
                        raise TimeoutError(
                            f"chat model {self.spec!r} did not answer within "
                            f"{self.call_timeout_seconds:g}s (timeouts.model_call)"
                        ) from exc
                    raise
                await anyio.sleep(self.retry_base_seconds * 2**attempt)
                attempt += 1
                continue
            self.counters[4] += 1
            return result

    async def _budgeted(
        self,
        budget: RateBudget,
        estimate: int,
        messages: list[BaseMessage],
        stop: list[str] | None,
        kwargs: dict[str, Any],
    ) -> ChatResult:
        hold = self.call_timeout_seconds + 30.0
        async with budget.acquire(estimate, hold_seconds=hold) as permit:
            with anyio.fail_after(self.call_timeout_seconds):
                result = await self.inner._agenerate(  # noqa: SLF001
                    messages, stop=stop, **kwargs
                )
            used = _total_tokens(result)
            if used is not None:
                permit.record_usage(used)
        return result


_OUTPUT_ALLOWANCE = 256


def _estimate(messages: list[BaseMessage], model: BaseChatModel) -> int:
    """A call's tokens before it is made: about four characters a token in, and the
    model's ``max_tokens`` (else 256) out."""
    chars = sum(len(str(message.content)) for message in messages)
    out = getattr(model, "max_tokens", None)
    if not isinstance(out, int) or isinstance(out, bool) or out <= 0:
        out = _OUTPUT_ALLOWANCE
    return chars // 4 + 4 * len(messages) + out


def _total_tokens(result: ChatResult) -> int | None:
    metadata = getattr(result.generations[0].message, "usage_metadata", None)
    if not metadata:
        return None
    total = int(metadata.get("total_tokens", 0) or 0)
    return total or int(metadata.get("input_tokens", 0) or 0) + int(
        metadata.get("output_tokens", 0) or 0
    )


def _langchain_is_quiet(model: BaseChatModel) -> bool:
    """Whether an ``ainvoke`` of ``model`` would reach no callback, tracer or cache."""
    from langchain_core.globals import (  # noqa: PLC0415
        get_debug,
        get_llm_cache,
        get_verbose,
    )
    from langchain_core.runnables.config import (  # noqa: PLC0415
        var_child_runnable_config,
    )

    try:
        from langchain_core.tracers.context import (  # noqa: PLC0415
            _configure_hooks,
            _tracing_v2_is_enabled,
        )
        from langchain_core.utils.env import env_var_is_set  # noqa: PLC0415
    except ImportError:  # pragma: no cover - LangChain moved them: take the long way
        return False
    if model.callbacks or model.cache or get_llm_cache() is not None:
        return False
    if get_debug() or get_verbose():
        return False
    config = var_child_runnable_config.get()
    if config and config.get("callbacks"):
        return False
    if _tracing_v2_is_enabled():
        return False
    return not any(
        var.get() is not None or (env and handler and env_var_is_set(env))
        for var, _, handler, env in _configure_hooks
    )
