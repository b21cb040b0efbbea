"""Chat models for persona studies, on langchain-core's fake chat model: one that
always takes the first option it is shown (position bias), and one that also fails
for one persona."""

from __future__ import annotations

import itertools
import re
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from clientsim.models.persona import Fragment, Persona


_SCALE = re.compile(r"scale from (-?\d+) to (-?\d+)")
_ids = itertools.count()


class FirstOptionModel(GenericFakeChatModel):
    """Answers every structured question with the first option it is shown (a
    ranking: the options as shown; a scale: its lowest value), and free text with
    ``"ok"``. With ``fail_for`` set, raises for the persona of that name."""

    messages: Any = Field(default_factory=lambda: iter(()))
    fail_for: str | None = None
    tools_seen: list[str] = Field(default_factory=list)
    systems_seen: list[str] = Field(default_factory=list)

    def bind_tools(self, tools, *, tool_choice=None, **kwargs):
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        system = messages[0].content
        self.systems_seen.append(system)
        if self.fail_for is not None and f"Name: {self.fail_for}\n" in system:
            raise ValueError(f"the model refuses to play {self.fail_for}")
        tools = kwargs.get("tools")
        if not tools:
            return ChatResult(generations=[ChatGeneration(message=AIMessage("ok"))])
        name = tools[0]["function"]["name"]
        self.tools_seen.append(name)
        last = messages[-1].content
        shown = [line[2:] for line in last.splitlines() if line.startswith("- ")]
        scale = _SCALE.search(last)
        if "rank every option" in last:
            value: object = shown
        elif shown:
            value = shown[0]
        elif scale:
            value = int(scale.group(1))
        else:
            value = "no comment"
        call = {
            "name": name,
            "args": {"value": value, "text": "fine", "reasoning": "", "confidence": 1},
            "id": f"c{next(_ids)}",
            "type": "tool_call",
        }
        message = AIMessage(content="", tool_calls=[call])
        return ChatResult(generations=[ChatGeneration(message=message)])


PRICE = Fragment(
    name="price_sensitive",
    description="You compare prices and wait for a deal.",
    traits=("compares prices",),
    leanings={"price": 0.9},
)
HEALTH = Fragment(
    name="health_conscious",
    description="You read labels and care about what is in your food.",
    leanings={"health": 0.8},
)
GREEN = Fragment(
    name="environmentally_aware",
    description="You avoid plastic and buy local when you can.",
    leanings={"environment": 0.7, "price": -0.2},
)
_AGES = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
_STYLES = ("", "short, informal, lowercase", "formal", "enthusiastic")


def people(
    count: int, *, fragments: tuple[Fragment, ...] = (PRICE, HEALTH, GREEN)
) -> list[Persona]:
    """``count`` varied personas, each with one of ``fragments`` in turn."""
    return [
        Persona(
            id=f"p{i:03d}",
            name=f"Person {i}",
            demographics={
                "age_band": _AGES[i % len(_AGES)],
                "region": ("South", "West")[i % 2],
            },
            message_style=_STYLES[i % len(_STYLES)],
            fragments=(fragments[i % len(fragments)],),
            segment=("young", "older")[i % 2],
        )
        for i in range(count)
    ]
