"""The offline chat model: deterministic, native-async, no network, no API key.

It plays a support customer or agent (see :mod:`clientsim.llm._offline_brain`),
answers structured-output calls with schema-shaped judgements, fills
``usage_metadata``, and can simulate latency with ``anyio.sleep`` (never a thread).
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Callable, Sequence
from typing import Any, Final

import anyio
from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage, ToolMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from clientsim.llm import _offline_brain as brain
from clientsim.llm.turns import Turn, TurnRole


__all__ = ["OfflineChatModel"]

_call_ids = itertools.count()


class OfflineChatModel(BaseChatModel):
    """A deterministic LangChain chat model for offline runs and tests.

    The same ``seed`` and the same messages always give the same answer.

    Example:
        >>> import anyio
        >>> from clientsim import OfflineChatModel
        >>> model = OfflineChatModel(seed=7)
        >>> turns = [("system", "You are the agent."), ("user", "I forgot my password")]
        >>> reply = anyio.run(lambda: model.ainvoke(turns))
        >>> reply.content
        'Sorry to hear that. Which email address is on the account?'

    Args:
        seed: varies the conversation while keeping it reproducible.
        latency_seconds: how long each call waits (``anyio.sleep``), to rehearse real
            model latency without a real model.
    """

    seed: int = 0
    latency_seconds: float = Field(default=0.0, ge=0.0)

    @property
    def _llm_type(self) -> str:
        return "clientsim-offline"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"seed": self.seed, "latency_seconds": self.latency_seconds}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools; with ``tool_choice`` set, every answer is a call to the first one."""
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,  # noqa: ARG002 - stop words do not apply
        run_manager: CallbackManagerForLLMRun | None = None,  # noqa: ARG002
        **kwargs: Any,
    ) -> ChatResult:
        return self._answer(messages, kwargs)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,  # noqa: ARG002 - stop words do not apply
        run_manager: AsyncCallbackManagerForLLMRun | None = None,  # noqa: ARG002
        **kwargs: Any,
    ) -> ChatResult:
        if self.latency_seconds:
            await anyio.sleep(self.latency_seconds)
        return self._answer(messages, kwargs)

    def _answer(
        self, messages: list[BaseMessage], kwargs: dict[str, Any]
    ) -> ChatResult:
        turns = [_turn(message) for message in messages]
        tools = kwargs.get("tools") or []
        tool_choice = kwargs.get("tool_choice")
        if tools and tool_choice not in (None, "none", "auto"):
            function = _chosen(tools, tool_choice)
            args = _judges(function["name"], turns, self.seed) or brain.judge(
                function.get("parameters", {}), turns, self.seed
            )
            content = ""
            message = AIMessage(
                content=content,
                tool_calls=[
                    {
                        "name": function["name"],
                        "args": args,
                        "id": f"call_offline_{next(_call_ids)}",
                        "type": "tool_call",
                    }
                ],
            )
            output_text = str(args)
        else:
            content = brain.respond(turns, self.seed)
            message = AIMessage(content=content)
            output_text = content
        input_tokens = sum(_approx_tokens(turn.content) for turn in turns)
        output_tokens = _approx_tokens(output_text)
        message.usage_metadata = UsageMetadata(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            total_tokens=input_tokens + output_tokens,
        )
        message.response_metadata = {"model_name": "offline", "finish_reason": "stop"}
        return ChatResult(generations=[ChatGeneration(message=message)])


_ANSWERERS: Final = {
    # schema title -> the module whose answer(name, turns, seed) plays that part
    "next_speaker": "clientsim.llm._offline_select",
    "session_analysis": "clientsim.llm._offline_notes",
    "memory_summary": "clientsim.llm._offline_notes",
    "stakeholder_review": "clientsim.llm._offline_review",
    # populations (seed 002)
    "survey_answer": "clientsim.llm._offline_persona",
    "persona_background": "clientsim.llm._offline_enrich",
    "extracted_fields": "clientsim.llm._offline_extract",
    "themes": "clientsim.llm._offline_extract",
    "precondition_check": "clientsim.llm._offline_precondition",
    "persona_reaction": "clientsim.llm._offline_precondition",
    "real_or_simulated": "clientsim.llm._offline_validation",
}


def _judges(name: str, turns: Sequence[Turn], seed: int) -> dict[str, Any] | None:
    """The answers of the judges and team parts that have offline rules of their own
    (criteria, pairwise, speaker selection, memory summaries, session analyses,
    stakeholder reviews), else ``None``."""
    module = _ANSWERERS.get(name)
    if module is not None:
        answer: dict[str, Any] | None = importlib.import_module(module).answer(
            name, turns, seed
        )
        return answer
    from clientsim.evaluation import offline_criteria  # noqa: PLC0415

    return offline_criteria.answer(name, turns)


def _chosen(tools: list[dict[str, Any]], tool_choice: object) -> dict[str, Any]:
    functions = [tool["function"] for tool in tools if "function" in tool]
    if isinstance(tool_choice, str):
        for function in functions:
            if function["name"] == tool_choice:
                return dict(function)
    if isinstance(tool_choice, dict):
        name = tool_choice.get("function", {}).get("name")
        for function in functions:
            if function["name"] == name:
                return dict(function)
    return dict(functions[0])


def _turn(message: BaseMessage) -> Turn:
    role: TurnRole
    if isinstance(message, SystemMessage):
        role = "system"
    elif isinstance(message, AIMessage):
        role = "assistant"
    elif isinstance(message, ToolMessage):
        role = "tool"
    else:
        role = "user"
    return Turn(role=role, content=message.text)


def _approx_tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4)
