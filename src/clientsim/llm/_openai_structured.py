"""Structured output for :class:`~clientsim.llm.openai_http.OpenAIHTTPChatModel`: a JSON
schema response format, JSON mode, or a forced tool call, each with its parser."""

from __future__ import annotations

from operator import itemgetter
from typing import TYPE_CHECKING, Any

from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.output_parsers.openai_tools import (
    JsonOutputKeyToolsParser,
    PydanticToolsParser,
)
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.utils.function_calling import (
    convert_to_openai_function,
    convert_to_openai_tool,
)
from langchain_core.utils.pydantic import is_basemodel_subclass

from clientsim.errors import ConfigError


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel, LanguageModelInput


__all__ = ["METHODS", "structured"]

METHODS = ("json_schema", "function_calling", "json_mode")
"""The structured output methods, the default first."""


def response_format(schema: Any, strict: bool | None) -> dict[str, Any]:
    """``schema`` (pydantic class, TypedDict, JSON schema, or an OpenAI
    ``{"name", "schema"}`` dict) as a ``json_schema`` response format."""
    if isinstance(schema, dict) and "name" in schema and "schema" in schema:
        spec = dict(schema)
    else:
        function = convert_to_openai_function(schema, strict=strict)
        spec = {"name": function["name"], "schema": function["parameters"]}
        if function.get("description"):
            spec["description"] = function["description"]
    if strict is not None:
        spec["strict"] = strict
    return {"type": "json_schema", "json_schema": spec}


def structured(
    model: BaseChatModel,
    schema: Any,
    *,
    method: str,
    include_raw: bool,
    strict: bool | None,
) -> Runnable[LanguageModelInput, Any]:
    """``model`` answering in ``schema``'s shape (see
    :meth:`~clientsim.llm.openai_http.OpenAIHTTPChatModel.with_structured_output`).

    Raises:
        ConfigError: no schema, or an unknown method.
    """
    if schema is None and method != "json_mode":
        raise ConfigError("with_structured_output needs a schema")
    pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
    traced = {"kwargs": {"method": method, "strict": strict}, "schema": schema}
    parser: Runnable[Any, Any]
    if method == "function_calling":
        tool = convert_to_openai_tool(schema, strict=strict)
        name = tool["function"]["name"]
        llm = model.bind_tools(
            [tool],
            tool_choice=name,
            parallel_tool_calls=False,
            ls_structured_output_format=traced,
        )
        parser = (
            PydanticToolsParser(tools=[schema], first_tool_only=True)
            if pydantic
            else JsonOutputKeyToolsParser(key_name=name, first_tool_only=True)
        )
    elif method in ("json_schema", "json_mode"):
        form = (
            response_format(schema, strict)
            if method == "json_schema"
            else {"type": "json_object"}
        )
        llm = model.bind(response_format=form, ls_structured_output_format=traced)
        parser = (
            PydanticOutputParser(pydantic_object=schema)
            if pydantic
            else JsonOutputParser()
        )
    else:
        raise ConfigError(
            f"structured output method must be one of {', '.join(METHODS)}; "
            f"got {method!r}"
        )
    if not include_raw:
        return llm | parser
    parsed = RunnablePassthrough.assign(
        parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
    )
    unparsed = RunnablePassthrough.assign(parsed=lambda _: None)
    return RunnableMap(raw=llm) | parsed.with_fallbacks(
        [unparsed], exception_key="parsing_error"
    )
