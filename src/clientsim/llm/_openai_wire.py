"""The OpenAI chat completions wire format: messages out, answers and stream chunks in,
errors and ``Retry-After``. Plain functions on dicts, kept cheap: they run once per
model call (see :mod:`clientsim.llm.openai_http`)."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    InvalidToolCall,
    ToolCall,
    ToolCallChunk,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from clientsim.errors import ModelError, RateLimitedError


__all__ = [
    "OpenAIHTTPError",
    "OpenAITimeoutError",
    "chunk_of",
    "error_message",
    "result_of",
    "retry_after",
    "to_openai",
]

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}


class OpenAIHTTPError(ModelError):
    """An OpenAI-compatible server answered a model call with an HTTP error, or could
    not be reached.

    Attributes:
        status_code: the HTTP status, or ``None`` when no answer came.
        transient: whether a retry may succeed (429, 5xx, a dropped connection).
    """

    def __init__(
        self, message: str, *, status_code: int | None, transient: bool
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.transient = transient


class OpenAITimeoutError(OpenAIHTTPError, TimeoutError):
    """A model call took longer than the model's ``timeout`` (transient)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status_code=None, transient=True)


def _tool_call_out(call: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": call.get("id"),
        "type": "function",
        "function": {"name": call["name"], "arguments": json.dumps(call["args"])},
    }


def to_openai(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """LangChain messages as chat completions ``messages``."""
    out: list[dict[str, Any]] = []
    for message in messages:
        kind = message.type
        role = _ROLES.get(kind) or getattr(message, "role", None) or kind
        entry: dict[str, Any] = {"role": role, "content": message.content}
        if message.name:
            entry["name"] = message.name
        if kind == "ai":
            calls = [_tool_call_out(c) for c in getattr(message, "tool_calls", ())]
            calls += [
                {
                    "id": c.get("id"),
                    "type": "function",
                    "function": {"name": c.get("name"), "arguments": c.get("args")},
                }
                for c in getattr(message, "invalid_tool_calls", ())
            ]
            if calls:
                entry["tool_calls"] = calls
                if not message.content:
                    entry["content"] = None
        elif kind == "tool":
            entry["tool_call_id"] = getattr(message, "tool_call_id", "")
        out.append(entry)
    return out


def _tool_calls_in(
    raw: Sequence[Mapping[str, Any]],
) -> tuple[list[ToolCall], list[InvalidToolCall]]:
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for item in raw:
        function = item.get("function") or {}
        name = function.get("name")
        arguments = function.get("arguments") or "{}"
        error: str | None = None
        args: object = None
        try:
            args = json.loads(arguments)
        except (TypeError, ValueError) as exc:
            error = f"the arguments are not JSON: {exc}"
        if error is None and not isinstance(args, dict):
            error = "the arguments are not a JSON object"
        if error is None and isinstance(name, str) and isinstance(args, dict):
            calls.append(
                {"name": name, "args": args, "id": item.get("id"), "type": "tool_call"}
            )
        else:
            invalid.append(
                {
                    "name": name,
                    "args": arguments if isinstance(arguments, str) else None,
                    "id": item.get("id"),
                    "error": error or "the call names no function",
                    "type": "invalid_tool_call",
                }
            )
    return calls, invalid


def _usage(raw: Mapping[str, Any] | None) -> UsageMetadata | None:
    if not raw:
        return None
    inp = int(raw.get("prompt_tokens") or 0)
    out = int(raw.get("completion_tokens") or 0)
    return {
        "input_tokens": inp,
        "output_tokens": out,
        "total_tokens": int(raw.get("total_tokens") or inp + out),
    }


def result_of(data: Mapping[str, Any]) -> ChatResult:
    """A chat completion's first choice as a ``ChatResult``.

    Raises:
        ModelError: the answer has no choices.
    """
    choices = data.get("choices")
    if not choices:
        raise ModelError(
            f"the chat completion has no choices: {json.dumps(data)[:300]}"
        )
    choice = choices[0]
    raw = choice.get("message") or {}
    finish = choice.get("finish_reason")
    metadata = {
        "model_name": data.get("model"),
        "finish_reason": finish,
        "id": data.get("id"),
    }
    fields: dict[str, Any] = {
        "content": raw.get("content") or "",
        "response_metadata": metadata,
        "id": data.get("id"),
    }
    usage = _usage(data.get("usage"))
    if usage is not None:
        fields["usage_metadata"] = usage
    raw_calls = raw.get("tool_calls")
    if raw_calls:
        fields["tool_calls"], fields["invalid_tool_calls"] = _tool_calls_in(raw_calls)
        fields["additional_kwargs"] = {"tool_calls": raw_calls}
    message = AIMessage(**fields)
    return ChatResult(
        generations=[
            ChatGeneration(message=message, generation_info={"finish_reason": finish})
        ],
        llm_output={"model_name": data.get("model"), "token_usage": data.get("usage")},
    )


def chunk_of(data: Mapping[str, Any]) -> ChatGenerationChunk:
    """One streamed ``chat.completion.chunk`` as a ``ChatGenerationChunk`` (the last
    chunk of a stream with ``include_usage`` carries only the usage)."""
    choices = data.get("choices") or ()
    content = ""
    calls: list[ToolCallChunk] = []
    finish = None
    if choices:
        delta = choices[0].get("delta") or {}
        content = delta.get("content") or ""
        finish = choices[0].get("finish_reason")
        for item in delta.get("tool_calls") or ():
            function = item.get("function") or {}
            calls.append(
                {
                    "name": function.get("name"),
                    "args": function.get("arguments"),
                    "id": item.get("id"),
                    "index": item.get("index"),
                    "type": "tool_call_chunk",
                }
            )
    fields: dict[str, Any] = {"content": content, "id": data.get("id")}
    if calls:
        fields["tool_call_chunks"] = calls
    if finish is not None:
        fields["response_metadata"] = {
            "finish_reason": finish,
            "model_name": data.get("model"),
        }
    usage = _usage(data.get("usage"))
    if usage is not None:
        fields["usage_metadata"] = usage
    info = {"finish_reason": finish} if finish is not None else None
    return ChatGenerationChunk(message=AIMessageChunk(**fields), generation_info=info)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The seconds a server asked to wait (``retry-after-ms``, or ``Retry-After`` in
    seconds or as an HTTP date), or ``None``.

    Example:
        >>> retry_after({"Retry-After": "2"}), retry_after({"retry-after-ms": "250"})
        (2.0, 0.25)
        >>> retry_after({}) is None, retry_after({"Retry-After": "soon"}) is None
        (True, True)
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def error_message(body: bytes) -> str:
    """The server's own words from an error body (``error.message`` when it is the
    OpenAI shape), at most 500 characters."""
    text = body.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()[:500]
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])[:500]
        if isinstance(error, str):
            return error[:500]
    return text.strip()[:500]


def http_error(
    status: int,
    message: str,
    *,
    model: str,
    provider: str,
    wait: float | None,
) -> OpenAIHTTPError | RateLimitedError:
    """The error for an HTTP error answer: 429 a :class:`RateLimitedError`."""
    said = f": {message}" if message else ""
    if status == 429:
        return RateLimitedError(
            f"{provider} rate limit: model {model!r} got HTTP 429{said}",
            provider=provider,
            retry_after=wait,
        )
    return OpenAIHTTPError(
        f"{provider} model {model!r} got HTTP {status}{said}",
        status_code=status,
        transient=status >= 500 or status == 408,
    )
