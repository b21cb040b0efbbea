"""Extraction of declared fields: the schema asked for, the offline rules on known
transcripts, the checks on a model's answer (langchain-core's fake chat model giving
wrong types), and extraction inside a real mode run (with_extraction)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from clientsim.errors import ConfigError, InvalidModelOutputError
from clientsim.models import Conversation, GridCell, Message, ParticipantRole, Speaker
from clientsim.models.survey import FieldSpec, Response
from clientsim.population import run_mode
from clientsim.population.base import unit_personas
from clientsim.population.extract import (
    BUILTIN_FIELDS,
    coerce_field,
    extract_fields,
    extraction_schema,
    with_extraction,
)
from clientsim.runners.batch import BatchCell

from .study_fakes import START, CannedMode, CannedRunner, persona


def chat(*lines: tuple[ParticipantRole, str]) -> Conversation:
    return Conversation(
        tuple(
            Message(text, START + timedelta(seconds=i), sender)
            for i, (sender, text) in enumerate(lines)
        )
    )


AGENT, CUSTOMER = ParticipantRole.AGENT, ParticipantRole.CUSTOMER
HAPPY = chat(
    (AGENT, "What do you think of the new plan? Rate it out of 10."),
    (CUSTOMER, "I love it, the app is great. I'd rate it 9/10."),
    (AGENT, "Would you buy it?"),
    (CUSTOMER, "Yes, definitely. But I'm worried about the delivery times."),
)
UNHAPPY = chat(
    (AGENT, "What do you think of the new plan?"),
    (CUSTOMER, "It is too expensive and the app is confusing. I don't like it."),
)


async def test_offline_extraction_reads_the_builtin_fields_off_the_transcript():
    fields = await extract_fields(HAPPY, list(BUILTIN_FIELDS))
    assert fields == {
        "response": "Yes",
        "sentiment": "positive",
        "rating": 9.0,
        "purchase_intent": 9,
        "concerns": ["But I'm worried about the delivery times."],
    }
    assert await extract_fields(UNHAPPY, ["sentiment", "rating", "concerns"]) == {
        "sentiment": "negative",
        # no number said: 5 moved two points per net sentiment word (-3), within 1-9
        "rating": 1.0,
        "concerns": ["It is too expensive and the app is confusing."],
    }


async def test_offline_extraction_is_deterministic_and_reads_only_the_person():
    first = await extract_fields(HAPPY, ["sentiment", "rating"], seed=1)
    again = await extract_fields(HAPPY, ["sentiment", "rating"], seed=2)
    assert first == again
    # the agent's "out of 10" question is not the customer's rating
    agent_only = chat((AGENT, "Rate it 3 out of 10 please."), (CUSTOMER, "Sure, 8."))
    assert (await extract_fields(agent_only, ["rating"]))["rating"] == 8.0
    # a score with a scale wins over a number said before it; another scale is rescaled
    years = chat((CUSTOMER, "After 3 years with them I'd say 4 out of 5."))
    assert (await extract_fields(years, ["rating"]))["rating"] == 8.0
    seats = FieldSpec(name="seats", type="number", hint="how many seats")
    assert (await extract_fields(years, [seats]))["seats"] == 3.0


async def test_user_fields_with_a_type_and_a_hint():
    fields = [
        FieldSpec(
            name="plan", type="choice", hint="the plan chosen", options=("basic", "pro")
        ),
        FieldSpec(name="wants_trial", type="boolean", hint="whether they want a trial"),
        FieldSpec(name="seats", type="integer", hint="how many seats they need"),
        FieldSpec(
            name="delivery_mentions", type="list", hint="what they say about delivery"
        ),
    ]
    talk = chat(
        (AGENT, "Which plan?"),
        (
            CUSTOMER,
            "The pro plan for 12 seats. A trial would help. Delivery must be fast.",
        ),
    )
    assert await extract_fields(talk, fields) == {
        "plan": "pro",
        "wants_trial": True,
        "seats": 12,
        "delivery_mentions": ["Delivery must be fast."],
    }
    no_trial = chat((CUSTOMER, "I don't want a trial, just the basic plan."))
    found = await extract_fields(no_trial, fields)
    assert found["wants_trial"] is False
    assert found["plan"] == "basic"
    assert found["seats"] is None


async def test_group_transcript_fields_are_about_the_named_speaker():
    def said(name: str, text: str, i: int) -> Message:
        return Message(
            text,
            START + timedelta(seconds=i),
            CUSTOMER,
            speaker=Speaker(name, "participant"),
        )

    group = Conversation(
        (
            said("Ana", "I love this, great idea.", 0),
            said("Ben", "Terrible, too pricey.", 1),
        )
    )
    assert (await extract_fields(group, ["sentiment"], about="Ana"))[
        "sentiment"
    ] == "positive"
    assert (await extract_fields(group, ["sentiment"], about="Ben"))[
        "sentiment"
    ] == "negative"


def test_the_schema_is_built_from_the_field_specs():
    spec = FieldSpec(name="tier", type="choice", hint="which tier", options=("a", "b"))
    schema = extraction_schema(["sentiment", "purchase_intent", "concerns", spec])
    assert schema["title"] == "extracted_fields"
    assert schema["required"] == ["sentiment", "purchase_intent", "concerns", "tier"]
    tier = schema["properties"]["tier"]
    assert tier["description"] == "which tier"
    assert tier["enum"] == ["a", "b", None]
    intent = schema["properties"]["purchase_intent"]
    assert intent["type"] == ["integer", "null"]
    assert (intent["minimum"], intent["maximum"]) == (0, 10)
    assert schema["properties"]["concerns"]["items"] == {"type": "string"}


def test_bad_field_declarations_are_refused():
    with pytest.raises(ConfigError, match="unknown built-in field 'mood'"):
        extraction_schema(["mood"])
    with pytest.raises(ConfigError, match="repeated: \\['rating'\\]"):
        extraction_schema(["rating", "rating"])
    with pytest.raises(ConfigError, match="at least one field"):
        extraction_schema([])
    with pytest.raises(ConfigError, match="type must be one of"):
        FieldSpec(name="x", type="date")


# ----- a model's answer ---------------------------------------------------------------


class ScriptedModel(GenericFakeChatModel):
    """langchain-core's fake chat model answering structured-output calls."""

    seen: list[Any] = Field(default_factory=list)

    def bind_tools(self, tools, *, tool_choice=None, **kwargs):
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append({"tool": kwargs["tools"][0]["function"], "messages": messages})
        return super()._generate(messages, stop=stop, run_manager=run_manager)


def answering(args: dict[str, Any]) -> ScriptedModel:
    messages: Iterator[AIMessage] = iter(
        [
            AIMessage(
                content="",
                tool_calls=[
                    {
                        "name": "extracted_fields",
                        "args": args,
                        "id": "c1",
                        "type": "tool_call",
                    }
                ],
            )
        ]
    )
    return ScriptedModel(messages=messages)


async def test_a_models_answer_is_coerced_to_the_declared_types():
    model = answering(
        {
            "sentiment": "Positive",
            "rating": "7.5",
            "purchase_intent": 6.0,
            "concerns": "price",
        }
    )
    fields = await extract_fields(
        HAPPY, ["sentiment", "rating", "purchase_intent", "concerns"], model
    )
    assert fields == {
        "sentiment": "positive",
        "rating": 7.5,
        "purchase_intent": 6,
        "concerns": ["price"],
    }
    tool = model.seen[0]["tool"]
    assert tool["name"] == "extracted_fields"
    assert set(tool["parameters"]["properties"]) == {
        "sentiment",
        "rating",
        "purchase_intent",
        "concerns",
    }
    prompt = model.seen[0]["messages"][-1].content
    assert "About: customer" in prompt
    assert "customer: I love it, the app is great. I'd rate it 9/10." in prompt


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"rating": "very high"}, "rating"),
        ({"rating": True}, "rating"),
        ({"sentiment": "ecstatic"}, "sentiment"),
        ({"concerns": {"price": 1}}, "concerns"),
        ({"purchase_intent": 7.5}, "purchase_intent"),
        ({"purchase_intent": 14}, "purchase_intent"),
        ({"response": ["a", "b"]}, "response"),
    ],
)
async def test_a_wrong_type_from_the_model_names_the_field(args, field):
    names = [field]
    with pytest.raises(InvalidModelOutputError, match=f"extracted field '{field}'"):
        await extract_fields(HAPPY, names, answering(args))


async def test_a_field_the_model_leaves_out_is_none():
    fields = await extract_fields(
        HAPPY, ["rating", "concerns"], answering({"rating": 4})
    )
    assert fields == {"rating": 4.0, "concerns": None}


@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_integer_fields_take_integers_and_integral_numbers(value):
    spec = FieldSpec(name="seats", type="integer")
    assert coerce_field(spec, value) == value
    assert coerce_field(spec, float(value)) == value
    assert coerce_field(spec, str(value)) == value
    with pytest.raises(InvalidModelOutputError, match="'seats'"):
        coerce_field(spec, value + 0.5)


@given(st.text(max_size=20))
def test_boolean_fields_take_only_booleans(text):
    spec = FieldSpec(name="flag", type="boolean")
    if text.strip().lower() in ("true", "false"):
        assert coerce_field(spec, text) is (text.strip().lower() == "true")
    else:
        with pytest.raises(InvalidModelOutputError, match="'flag'"):
            coerce_field(spec, text)


# ----- inside a mode run ----------------------------------------------------------------


async def test_with_extraction_fills_every_response_of_a_run():
    people = [persona("p1", "young"), persona("p2", "old")]
    script = {
        "p1": (9, "pro", "I love it, great value. But I'm worried about the price."),
        "p2": (3, "basic", "Too expensive and confusing."),
    }
    mode = with_extraction(CannedMode(script), ["sentiment", "rating", "concerns"])
    assert mode.name == "canned"
    run = await run_mode(mode, people, run_id="extract", seed=3)
    fields = {r.persona_id: dict(r.fields) for r in run.responses}
    assert fields == {
        "p1": {
            "sentiment": "positive",
            "rating": 9.0,
            "concerns": ("But I'm worried about the price.",),
        },
        "p2": {
            "sentiment": "negative",
            "rating": 3.0,
            "concerns": ("Too expensive and confusing.",),
        },
    }
    again = await run_mode(mode, people, run_id="extract", seed=3)
    assert [r.fields for r in again.responses] == [r.fields for r in run.responses]


def test_with_extraction_wraps_only_modes():
    with pytest.raises(ConfigError, match="wraps a PopulationMode"):
        with_extraction("survey", ["sentiment"])  # type: ignore[arg-type]


class GroupMode(CannedMode):
    """One unit for all personas: each says its line in a shared transcript."""

    def units(self, personas, *, arm, variant):
        yield BatchCell(
            cell=GridCell(input_id=arm, persona_id="group-01", iteration=0),
            input="",
            persona=tuple(personas),
            item=variant,
        )

    async def build(self, job):
        members = unit_personas(job)
        return CannedRunner(
            [(CUSTOMER, self.script[p.id][2]) for p in members],
            speakers=[p.name for p in members],
        )

    async def responses(self, job, result):
        return [
            Response(persona_id=p.id, segment=p.segment) for p in unit_personas(job)
        ]


async def test_with_extraction_in_a_group_reads_each_members_own_lines():
    people = [persona("p1", "young"), persona("p2", "old")]
    script = {
        "p1": (0, "", "I love it, great idea."),
        "p2": (0, "", "Terrible and too pricey."),
    }
    run = await run_mode(
        with_extraction(GroupMode(script), ["sentiment"]), people, run_id="g"
    )
    assert {r.persona_id: r.fields["sentiment"] for r in run.responses} == {
        "p1": "positive",
        "p2": "negative",
    }
