"""Success metrics read a response: built-ins, shorthands, plugins."""

from __future__ import annotations

from typing import Any

import pytest

import clientsim
from clientsim import factory
from clientsim.errors import ConfigError, UnknownStrategyError
from clientsim.interventions import Metric
from clientsim.models.survey import Answer, FieldSpec, Question, Response
from clientsim.plugins import register_plugin, unregister_plugin


def said(**answers: Any) -> Response:
    return Response(
        persona_id="p1",
        answers={k: Answer(question_id=k, value=v) for k, v in answers.items()},
    )


def test_the_built_in_metrics_are_registered():
    assert {
        "response_rate",
        "open_rate",
        "click_through",
        "purchase_intent",
        "conversion",
        "mean_score",
        "field",
        "question",
    } <= set(factory.metrics.names())


def test_rates_read_questions_fields_and_events():
    assert factory.build_metric("response_rate")(said(q=3)) is True
    assert factory.build_metric("response_rate")(Response(persona_id="p1")) is False
    opened = factory.build_metric("open_rate")
    assert opened(said(opened="yes")) is True
    assert opened(Response(persona_id="p1", fields={"opened": False})) is False
    assert opened(Response(persona_id="p1", events=[{"type": "open"}])) is True
    assert opened(Response(persona_id="p1")) is None
    assert factory.build_metric("click_through")(said(click_through="no")) is False
    converted = factory.build_metric("conversion")
    assert converted(Response(persona_id="p1", fields={"purchased": True})) is True
    assert converted(Response(persona_id="p1", events=[{"type": "purchase"}])) is True


def test_purchase_intent_is_a_threshold_on_the_question_or_the_field():
    intent = factory.build_metric("purchase_intent")
    assert intent(said(purchase_intent=7)) is True
    assert intent(said(purchase_intent=6)) is False
    assert intent(Response(persona_id="p1", fields={"purchase_intent": 9.5})) is True
    assert (
        intent(Response(persona_id="p1", fields={"purchase_intent": "unlikely"}))
        is False
    )
    assert intent(said(intent=8)) is True
    assert intent(Response(persona_id="p1", fields={"intent": "medium"})) is False
    strict = factory.build_metric({"strategy": "purchase_intent", "threshold": 9})
    assert strict(said(purchase_intent=8)) is False
    assert strict.name == "purchase_intent"
    assert intent.question is not None
    assert intent.question.type == "scale"


def test_scores_and_shorthands():
    scale = Question(id="nps", text="Recommend us?", type="scale", low=0, high=10)
    mean = factory.build_metric("mean_score", questions=(scale,))
    assert mean.kind == "score"
    assert mean(said(nps=8)) == 8.0
    assert factory.build_metric("question:nps", questions=(scale,))(said(nps=4)) == 4.0
    top = factory.build_metric("question:nps>=9", questions=(scale,))
    assert top.kind == "rate"
    assert top(said(nps=9)) is True
    choice = Question(id="pick", text="?", type="choice", options=("red", "blue"))
    blue = factory.build_metric("question:pick=blue", questions=(choice,))
    assert blue(said(pick="blue")) is True
    assert blue.name == "question:pick=blue"
    with pytest.raises(ConfigError, match="not one of red, blue"):
        factory.build_metric("question:pick=green", questions=(choice,))
    rating = factory.build_metric(
        "field:rating", fields=(FieldSpec(name="rating", type="number"),)
    )
    assert rating.kind == "score"
    assert rating(Response(persona_id="p1", fields={"rating": 4})) == 4.0
    flag = factory.build_metric("field:liked")
    assert flag.kind == "auto"
    assert flag(Response(persona_id="p1", fields={"liked": True})) is True
    mood = factory.build_metric(
        "field:mood=happy",
        fields=(FieldSpec(name="mood", type="choice", options=("happy", "sad")),),
    )
    assert mood(Response(persona_id="p1", fields={"mood": "sad"})) is False
    with pytest.raises(ConfigError, match="not one of happy, sad"):
        factory.build_metric(
            "field:mood=glad",
            fields=(FieldSpec(name="mood", type="choice", options=("happy", "sad")),),
        )
    labelled = factory.build_metric({"strategy": "conversion", "label": "bought"})
    assert labelled.name == "bought"


def test_unknown_metrics_list_the_known_ones():
    with pytest.raises(UnknownStrategyError, match=r"available: .*'click_through'"):
        factory.build_metric("clicks")


class NpsPlugin:
    @clientsim.hookimpl
    def clientsim_register_metrics(self, register: Any) -> None:
        register(
            "promoter",
            lambda: Metric(
                name="promoter",
                kind="rate",
                measure=lambda r: (
                    None
                    if r.answers.get("nps") is None
                    else float(r.answers["nps"].value or 0) >= 9
                ),
            ),
        )


def test_a_plugin_registers_a_metric():
    plugin = NpsPlugin()
    register_plugin(plugin)
    try:
        promoter = factory.build_metric("promoter")
        assert promoter(said(nps=10)) is True
        assert promoter(said(other=1)) is None
    finally:
        unregister_plugin(plugin)
    assert "promoter" not in factory.metrics


def test_a_metric_returning_something_else_is_an_error():
    odd = Metric(name="odd", kind="score", measure=lambda r: "text")  # type: ignore[arg-type,return-value]
    with pytest.raises(ConfigError, match="returned str"):
        odd(Response(persona_id="p1"))
