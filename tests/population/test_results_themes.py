"""Themes of free-text answers: deterministic keyword clustering, the same through the
offline model, and a model's answer checked (langchain-core's fake chat model)."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.utils.function_calling import convert_to_openai_tool

from clientsim.errors import InvalidModelOutputError
from clientsim.models.survey import Answer, Question, Response
from clientsim.population.results import StudyResults
from clientsim.population.themes import keyword_themes, model_themes

from .study_fakes import study_run


ANSWERS = [
    "The price is too high for me.",
    "Prices went up again, not worth it.",
    "Delivery took two weeks.",
    "Slow delivery and no tracking.",
    "Great price but delivery was late.",
    "I like the design.",
]


def test_keyword_themes_on_known_answers():
    themes = keyword_themes(ANSWERS)
    assert [(t.theme, t.count, t.members) for t in themes] == [
        ("delivery", 3, (2, 3, 4)),
        ("price", 2, (0, 1)),
    ]
    assert themes[0].share == pytest.approx(0.5)
    assert themes[0].examples == (
        "Delivery took two weeks.",
        "Slow delivery and no tracking.",
    )
    assert keyword_themes(ANSWERS) == themes
    assert keyword_themes(ANSWERS, top=1) == themes[:1]
    assert keyword_themes([]) == []


async def test_the_offline_model_finds_the_keyword_themes():
    assert await model_themes(ANSWERS, "offline") == keyword_themes(ANSWERS)


def results() -> StudyResults:
    why = Question(id="why", text="Why?", type="free_text")
    people = [
        Response(persona_id=f"p{i}", answers=[Answer(question_id="why", value=text)])
        for i, text in enumerate(ANSWERS)
    ]
    return StudyResults.from_run(study_run(people), questions=[why])


async def test_study_results_themes_offline_and_by_model():
    found = results().themes(top=3)
    assert [t.theme for t in found] == ["delivery", "price"]
    assert results().aggregate_results["themes"] == [t.to_dict() for t in found]
    assert found[0].to_dict()["examples"] == [
        "Delivery took two weeks.",
        "Slow delivery and no tracking.",
    ]
    assert await results().model_themes("offline", top=3) == found


class ScriptedModel(GenericFakeChatModel):
    def bind_tools(self, tools, *, tool_choice=None, **kwargs):
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)


def answering(args: dict[str, Any]) -> ScriptedModel:
    call = {"name": "themes", "args": args, "id": "c1", "type": "tool_call"}
    return ScriptedModel(messages=iter([AIMessage(content="", tool_calls=[call])]))


async def test_a_models_themes_are_read_and_checked():
    model = answering(
        {"themes": [{"theme": "Cost", "keywords": ["price"], "answers": [1, 2, 5]}]}
    )
    (theme,) = await model_themes(ANSWERS, model)
    assert (theme.theme, theme.count, theme.members) == ("Cost", 3, (0, 1, 4))
    bad = answering({"themes": [{"theme": "Cost", "keywords": [], "answers": [9]}]})
    with pytest.raises(InvalidModelOutputError, match=r"answers \[9\], not among 1-6"):
        await model_themes(ANSWERS, bad)
    shapeless = answering({"themes": [{"theme": 3, "keywords": [], "answers": []}]})
    with pytest.raises(InvalidModelOutputError, match="each theme needs"):
        await model_themes(ANSWERS, shapeless)
