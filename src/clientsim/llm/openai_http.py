"""clientsim's own chat model for OpenAI-compatible chat completions servers.

:class:`OpenAIHTTPChatModel` is a LangChain ``BaseChatModel`` (``ainvoke``, ``astream``,
``bind_tools``, ``with_structured_output`` and usage metadata work as with
``ChatOpenAI``) that posts JSON through the process's shared aiohttp session
(``clientsim._http``: one per event loop, closed by
:func:`~clientsim.llm.aclose_models`) and builds the answer straight from the JSON,
with no SDK objects in between. ``openai:`` and ``groq:`` specs use it; set
``CLIENTSIM_OPENAI_CLIENT=langchain`` for ``ChatOpenAI`` instead.

A call that fails with HTTP 429, 408 or 5xx, a dropped connection or a timeout is
retried ``max_retries`` times with exponential backoff, waiting what the server asked in
``Retry-After`` when it did. A 429 that is not retried raises
:class:`~clientsim.errors.RateLimitedError` (with ``retry_after``); other HTTP errors
raise :class:`OpenAIHTTPError` with the status and the server's message. The API key is
sent only as the bearer token, and never appears in an error, a ``repr`` or a dump.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import anyio
from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.chat_models import agenerate_from_stream
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field, SecretStr

from clientsim._http import shared_session
from clientsim.errors import ModelError, RateLimitedError
from clientsim.llm._openai_structured import structured
from clientsim.llm._openai_wire import (
    OpenAIHTTPError,
    OpenAITimeoutError,
    chunk_of,
    error_message,
    http_error,
    result_of,
    retry_after,
    to_openai,
)


if TYPE_CHECKING:
    import aiohttp


__all__ = ["OpenAIHTTPChatModel", "OpenAIHTTPError", "OpenAITimeoutError"]

_NOT_SENT = frozenset({"ls_structured_output_format"})


class OpenAIHTTPChatModel(BaseChatModel):
    """A chat model on an OpenAI-compatible ``/chat/completions`` endpoint.

    Example:
        >>> model = OpenAIHTTPChatModel(
        ...     model="gpt-4o-mini", api_key="sk-secret", temperature=0.2
        ... )
        >>> model.model_name, model.openai_api_base
        ('gpt-4o-mini', 'https://api.openai.com/v1')
        >>> "sk-secret" in repr(model)
        False

    Attributes:
        model_name: the model the server is asked for (``model=``).
        openai_api_base: the API root, ending before ``/chat/completions``
            (``base_url=``).
        openai_api_key: the bearer token, or ``None`` to send none (``api_key=``).
        provider: who serves it, for errors and rate limits (``"openai"``).
        temperature, max_tokens, seed, stop: sent when set.
        timeout: the longest one attempt may take, in seconds (a stream: the longest
            wait for its next line).
        max_retries: retries of an attempt that failed transiently.
        retry_rate_limits: whether a 429 is retried too; ``False`` raises it at once
            (as :class:`~clientsim.errors.RateLimitedError`), for a caller that
            shares one rate budget and waits ``Retry-After`` once for everybody.
        retry_base_seconds: the first backoff, doubled on each retry, at most
            ``retry_max_seconds`` (a server's ``Retry-After`` wins, up to that cap).
        streaming: answer ``ainvoke`` by streaming (``astream`` always streams).
        stream_usage: ask a stream for its token usage in its last chunk.
        model_kwargs: more fields for every request body.
    """

    model_config = ConfigDict(populate_by_name=True)

    model_name: str = Field(alias="model")
    openai_api_base: str = Field(default="https://api.openai.com/v1", alias="base_url")
    openai_api_key: SecretStr | None = Field(default=None, alias="api_key")
    provider: str = "openai"
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    stop: list[str] | None = Field(default=None, alias="stop_sequences")
    timeout: float = 60.0
    max_retries: int = 2
    retry_rate_limits: bool = True
    retry_base_seconds: float = 0.5
    retry_max_seconds: float = 30.0
    streaming: bool = False
    stream_usage: bool = True
    model_kwargs: dict[str, Any] = Field(default_factory=dict)

    @property
    def _llm_type(self) -> str:
        return "openai-http"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "base_url": self.openai_api_base,
            "temperature": self.temperature,
            "seed": self.seed,
        }

    @cached_property
    def _url(self) -> str:
        return self.openai_api_base.rstrip("/") + "/chat/completions"

    @cached_property
    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.openai_api_key is not None:
            headers["Authorization"] = (
                f"Bearer {self.openai_api_key.get_secret_value()}"
            )
        return headers

    def _clean(self, text: str) -> str:
        """``text`` with the API key blanked out, should a server echo it."""
        key = self.openai_api_key.get_secret_value() if self.openai_api_key else ""
        return text.replace(key, "**********") if key else text

    # -- requests ----------------------------------------------------------------

    def _payload(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        kwargs: dict[str, Any],
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.model_name,
            "messages": to_openai(messages),
        }
        if self.temperature is not None:
            payload["temperature"] = self.temperature
        if self.max_tokens is not None:
            payload["max_tokens"] = self.max_tokens
        if self.seed is not None:
            payload["seed"] = self.seed
        stops = stop if stop is not None else self.stop
        if stops:
            payload["stop"] = stops
        if self.model_kwargs:
            payload.update(self.model_kwargs)
        payload.update(
            {key: value for key, value in kwargs.items() if key not in _NOT_SENT}
        )
        return payload

    def _backoff(self, attempt: int, error: BaseException) -> float:
        wait: object = getattr(error, "retry_after", None)
        if isinstance(wait, float | int):
            return min(float(wait), self.retry_max_seconds)
        backoff: float = self.retry_base_seconds * 2**attempt
        return min(backoff, self.retry_max_seconds)

    async def _failure(self, response: aiohttp.ClientResponse) -> ModelError:
        body = await response.read()
        return http_error(
            response.status,
            self._clean(error_message(body)),
            model=self.model_name,
            provider=self.provider,
            wait=retry_after(response.headers),
        )

    def _unreachable(self, exc: BaseException) -> ModelError:
        import aiohttp  # noqa: PLC0415

        if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
            return OpenAITimeoutError(
                f"{self.provider} model {self.model_name!r} did not answer within "
                f"{self.timeout:g}s"
            )
        return OpenAIHTTPError(
            f"{self.provider} model {self.model_name!r}: cannot reach "
            f"{self.openai_api_base}: {type(exc).__name__}: {self._clean(str(exc))}",
            status_code=None,
            transient=True,
        )

    async def _retrying(self, attempt_once: Callable[[], Any]) -> Any:
        import aiohttp  # noqa: PLC0415

        attempt = 0
        while True:
            try:
                return await attempt_once()
            except (RateLimitedError, OpenAIHTTPError) as exc:
                error: ModelError = exc
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = self._unreachable(exc)
                error.__cause__ = None
            if (
                attempt >= self.max_retries
                or not getattr(error, "transient", False)
                or (isinstance(error, RateLimitedError) and not self.retry_rate_limits)
            ):
                raise error
            await anyio.sleep(self._backoff(attempt, error))
            attempt += 1

    async def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        import aiohttp  # noqa: PLC0415

        body = json.dumps(payload).encode()
        timeout = aiohttp.ClientTimeout(total=self.timeout)

        async def once() -> dict[str, Any]:
            session = shared_session()
            async with session.post(
                self._url, data=body, headers=self._headers, timeout=timeout
            ) as response:
                if response.status != 200:
                    raise await self._failure(response)
                data = json.loads(await response.read())
            if not isinstance(data, dict):
                raise ModelError(
                    f"the chat completion is not a JSON object: {data!r}"[:300]
                )
            return data

        result: dict[str, Any] = await self._retrying(once)
        return result

    async def _open_stream(self, payload: dict[str, Any]) -> aiohttp.ClientResponse:
        import aiohttp  # noqa: PLC0415

        body = json.dumps(payload).encode()
        timeout = aiohttp.ClientTimeout(total=None, sock_read=self.timeout)

        async def once() -> aiohttp.ClientResponse:
            session = shared_session()
            response = await session.post(
                self._url, data=body, headers=self._headers, timeout=timeout
            )
            if response.status != 200:
                try:
                    raise await self._failure(response)
                finally:
                    response.release()
            return response

        response: aiohttp.ClientResponse = await self._retrying(once)
        return response

    # -- LangChain ---------------------------------------------------------------

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.streaming:
            return await agenerate_from_stream(
                self._astream(messages, stop, run_manager, **kwargs)
            )
        return result_of(await self._post(self._payload(messages, stop, kwargs)))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        import aiohttp  # noqa: PLC0415

        payload = self._payload(messages, stop, kwargs)
        payload["stream"] = True
        if self.stream_usage:
            payload["stream_options"] = {"include_usage": True}
        response = await self._open_stream(payload)
        try:
            async for raw in response.content:
                line = raw.strip()
                if not line.startswith(b"data:"):
                    continue
                data = line[5:].strip()
                if data == b"[DONE]":
                    break
                chunk = chunk_of(json.loads(data))
                if run_manager is not None:
                    await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._unreachable(exc) from None
        finally:
            response.release()

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        """Not offered: the model calls through the event loop's shared session.

        Raises:
            ModelError: always, saying what to use instead.
        """
        del messages, stop, run_manager, kwargs  # LangChain's signature
        raise ModelError(
            f"{type(self).__name__} is asynchronous: use ainvoke/astream/abatch (or "
            "set CLIENTSIM_OPENAI_CLIENT=langchain for ChatOpenAI, which also calls "
            "synchronously)"
        )

    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: str | bool | dict[str, Any] | None = None,
        strict: bool | None = None,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (pydantic classes, functions, LangChain tools or JSON schemas) as
        OpenAI function tools. ``tool_choice``: ``"auto"``, ``"none"``,
        ``"required"`` (or ``"any"``), a tool's name, ``True`` (the only tool) or an
        OpenAI ``tool_choice`` dict."""
        formatted = [convert_to_openai_tool(tool, strict=strict) for tool in tools]
        if tool_choice is not None and tool_choice is not False:
            kwargs["tool_choice"] = _tool_choice(tool_choice, formatted)
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return self.bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: Any = None,
        *,
        method: str = "json_schema",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Answers in ``schema``'s shape (a pydantic class, a TypedDict or a JSON
        schema): by a ``json_schema`` response format (the default),
        ``"function_calling"`` (a forced tool call) or ``"json_mode"``. With
        ``include_raw`` the runnable gives ``{"raw", "parsed", "parsing_error"}``."""
        if kwargs:
            raise ModelError(
                f"with_structured_output takes no {', '.join(sorted(kwargs))}"
            )
        return structured(
            self, schema, method=method, include_raw=include_raw, strict=strict
        )


def _tool_choice(
    choice: str | bool | dict[str, Any], tools: list[dict[str, Any]]
) -> str | dict[str, Any]:
    if isinstance(choice, dict):
        return choice
    if choice is True:
        if len(tools) != 1:
            raise ModelError(
                f"tool_choice=True needs exactly one tool; got {len(tools)}"
            )
        choice = str(tools[0]["function"]["name"])
    if choice in ("auto", "none", "required"):
        return choice
    if choice == "any":
        return "required"
    return {"type": "function", "function": {"name": choice}}
