"""A persona model for journey tests: replies by rule, answers structured questions.

langchain-core's ``BaseChatModel`` with ``bind_tools``: a free-text call gets the
reply of the first rule whose cue is in the last user message; a structured call
(``tool_choice`` set) gets ``structured(title, messages)``. Every system prompt it is
shown is kept in ``prompts``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field


_ids = itertools.count()

RULES: tuple[tuple[str, str], ...] = (
    ("welcome", "Thanks, sounds good. Tell me more."),
    ("reminder", "Stop, this is annoying. Too many emails."),
    ("sorry", "Fair enough, I appreciate that. I will buy one then."),
    ("discount", "I love a discount, sounds great."),
    ("last chance", "Maybe later."),
)


class JourneyModel(BaseChatModel):
    """Plays a persona by rule (see the module docstring)."""

    rules: tuple[tuple[str, str], ...] = RULES
    default: str = "Okay."
    scale_value: int = 7
    prompts: list[str] = Field(default_factory=list)
    shown: list[str] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "journey-fake"

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any
    ):
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        system = "\n".join(
            str(m.content) for m in messages if isinstance(m, SystemMessage)
        )
        self.prompts.append(system)
        self.shown.append(str(messages[-1].content))
        tools = kwargs.get("tools") or []
        if tools and kwargs.get("tool_choice") not in (None, "none", "auto"):
            function = tools[0]["function"]
            args = self.structured(function["name"], function.get("parameters", {}))
            message = AIMessage(
                content="",
                tool_calls=[
                    {
                        "name": function["name"],
                        "args": args,
                        "id": f"call_{next(_ids)}",
                        "type": "tool_call",
                    }
                ],
            )
        else:
            last = str(messages[-1].content).lower()
            reply = next((r for cue, r in self.rules if cue in last), self.default)
            message = AIMessage(content=reply)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def structured(self, title: str, parameters: dict[str, Any]) -> dict[str, Any]:
        value = parameters.get("properties", {}).get("value", {})
        if value.get("type") == "integer":
            return {"value": self.scale_value, "text": str(self.scale_value)}
        if "enum" in value:
            return {"value": value["enum"][0], "text": value["enum"][0]}
        return {"value": "fine", "text": "fine"}
