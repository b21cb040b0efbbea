"""The chat models of ``groq:`` specs, on Groq's OpenAI-compatible API.

Groq answers the chat completions API, but only some of its models take
``response_format: json_schema``; every model that calls tools takes a tool call. So
structured output (the judges, a team's speaker selection and analyses) goes through
tool calling here, unless a caller asks for another method.
:class:`GroqChatModel` is clientsim's lean model (the default);
:class:`GroqChatOpenAI` is ``ChatOpenAI`` (``CLIENTSIM_OPENAI_CLIENT=langchain``).
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import LanguageModelInput
from langchain_core.runnables import Runnable
from langchain_openai import ChatOpenAI

from clientsim.llm.openai_http import OpenAIHTTPChatModel


__all__ = ["GroqChatModel", "GroqChatOpenAI"]


class GroqChatModel(OpenAIHTTPChatModel):
    """The lean OpenAI-compatible model whose structured output defaults to tool
    calling."""

    provider: str = "groq"

    def with_structured_output(
        self,
        schema: Any = None,
        *,
        method: str = "function_calling",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Structured output by tool calling (``method="function_calling"``), which
        every Groq model with tool use supports."""
        return super().with_structured_output(
            schema, method=method, include_raw=include_raw, strict=strict, **kwargs
        )


class GroqChatOpenAI(ChatOpenAI):
    """``ChatOpenAI`` whose structured output defaults to tool calling."""

    def with_structured_output(
        self,
        schema: Any = None,
        *,
        method: str = "function_calling",
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Structured output by tool calling (``method="function_calling"``), which
        every Groq model with tool use supports."""
        return super().with_structured_output(schema, method=method, **kwargs)  # type: ignore[arg-type]
