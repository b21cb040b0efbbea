"""Enriching personas' backgrounds with a model (offline, and a fake chat model)."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from clientsim.errors import ConfigError, InvalidModelOutputError
from clientsim.population import enrich, generate_population


def small(size: int = 6):
    return generate_population(
        {
            "name": "P",
            "size": size,
            "segments": [
                {"name": "green", "size": 2, "particularities": "environmentally aware"}
            ],
        },
        seed=2,
    )


def test_offline_enrichment_is_deterministic_and_reads_the_persona():
    population = small()
    first = anyio.run(enrich, population, "offline")
    again = anyio.run(enrich, population, "offline")
    assert first == again
    assert [p.id for p in first] == [p.id for p in population]
    for before, after in zip(population, first, strict=True):
        assert after.background != before.background
        assert after.name in after.background
        assert after.demographics == before.demographics
    green = first.individuals("green")[0]
    assert "thinks about the environment" in green.background
    assert "sustainability" in green.traits
    backgrounds = {p.background for p in first}
    assert len(backgrounds) == len(first)


class ScriptedModel(GenericFakeChatModel):
    """langchain-core's fake chat model answering structured-output calls."""

    seen: list[Any] = Field(default_factory=list)

    def bind_tools(self, tools, *, tool_choice=None, **kwargs):
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append((kwargs["tools"][0]["function"]["name"], messages[-1].content))
        return super()._generate(messages, stop=stop, run_manager=run_manager)


def reply(args: dict[str, Any]) -> AIMessage:
    return AIMessage(
        content="",
        tool_calls=[
            {
                "name": "persona_background",
                "args": args,
                "id": "c1",
                "type": "tool_call",
            }
        ],
    )


def test_a_model_writes_each_background_through_the_persona_background_call():
    population = small(3)
    model = ScriptedModel(
        messages=iter(
            reply(
                {
                    "background": f"Story {i}.",
                    "message_style": "terse",
                    "traits": ["curious"],
                }
            )
            for i in range(3)
        )
    )
    richer = anyio.run(lambda: enrich(population, model, concurrency=1))
    assert [p.background for p in richer] == ["Story 0.", "Story 1.", "Story 2."]
    assert all(p.message_style == "terse" and "curious" in p.traits for p in richer)
    assert [name for name, _ in model.seen] == ["persona_background"] * 3
    assert model.seen[0][1] == population.personas[0].prompt()


def test_an_answer_without_a_background_is_refused():
    model = ScriptedModel(
        messages=iter([reply({"message_style": "x", "traits": []})] * 2)
    )
    with pytest.raises(InvalidModelOutputError):
        anyio.run(lambda: enrich(small(2), model))


def test_concurrency_must_be_positive():
    with pytest.raises(ConfigError, match="concurrency"):
        anyio.run(lambda: enrich(small(2), "offline", concurrency=0))
