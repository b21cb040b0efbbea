"""The Simulation Analyst: the offline reading of hand-written team transcripts, and the
model path (prompt, checks, errors) with langchain-core's fake chat model."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from clientsim.errors import ConfigError, InvalidModelOutputError, ModelError
from clientsim.models import (
    Conversation,
    Message,
    ParticipantRole,
    SessionAnalysis,
    Speaker,
    Timeouts,
    from_dict,
    to_dict,
)
from clientsim.teams.analyst import SimulationAnalyst
from clientsim.turns.base import MemberInfo


START = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
TEAM = (
    MemberInfo("Ana", "CEO", "Decides on strategy and budget."),
    MemberInfo("Priya", "Product Manager", "Owns the roadmap."),
    MemberInfo("Eli", "Engineering Lead", "Leads the engineers."),
    MemberInfo("Dana", "Designer", "Designs the product."),
    MemberInfo("Sam", "Sales"),
    MemberInfo("Max", "Simulation Analyst", "Watches the session."),
)
ROLES = {member.name: member.role for member in TEAM}


def meeting(*lines: tuple[str, str]) -> Conversation:
    return Conversation(
        tuple(
            Message(
                text,
                START + timedelta(minutes=i),
                ParticipantRole.AGENT,
                speaker=Speaker(name, ROLES.get(name, "")),
            )
            for i, (name, text) in enumerate(lines)
        )
    )


LAUNCH = meeting(
    ("Priya", "Proposal: launch on March 1 with the core features."),
    (
        "Eli",
        (
            "My concern is the payment bug; it could delay QA by a week. "
            "@Designer can you have the onboarding mockups ready by Friday?"
        ),
    ),
    ("Dana", "I support launching on March 1 if onboarding is simplified."),
    ("Sam", "Agreed."),
    ("Ana", "What about pricing for enterprise customers?"),
    ("Ana", "Agreed, let's go with March 1."),
)


async def analyse(transcript: Conversation, turn: int = 1) -> SessionAnalysis:
    return await SimulationAnalyst().analyse(transcript, turn=turn, members=TEAM)


# ----- offline ------------------------------------------------------------------------


async def test_the_offline_analyst_reads_a_launch_discussion():
    analysis = await analyse(LAUNCH, turn=6)
    assert analysis.turn == 6
    assert analysis.decisions == (
        "Ana: Agreed, let's go with March 1.",
        "Agreed (4 of 5): launch on March 1 with the core features (proposed by Priya)",
    )
    assert analysis.open_questions == (
        "Ana (CEO): What about pricing for enterprise customers?",
    )
    assert analysis.risks == (
        "Eli: My concern is the payment bug; it could delay QA by a week.",
    )
    assert dict(analysis.positions) == {
        "Ana": "Agreed, let's go with March 1.",
        "Priya": "Proposal: launch on March 1 with the core features.",
        "Eli": "My concern is the payment bug; it could delay QA by a week.",
        "Dana": "I support launching on March 1 if onboarding is simplified.",
        "Sam": "Backs Priya's proposal: launch on March 1 with the core features",
    }
    # Priya 1 + Dana 0.5 (conditional) + Sam 1 + Ana 1 of 5 voters (not the analyst)
    assert analysis.confidence == round(0.3 + 0.7 * 3.5 / 5, 2)
    assert analysis.summary == (
        "After turn 6: 6 messages from 5 speakers. Latest proposal, by Priya: launch "
        "on March 1 with the core features; backed by 4 of 5 members. "
        "1 open question, 1 risk raised."
    )


async def test_the_same_transcript_gives_the_same_analysis():
    assert await analyse(LAUNCH) == await analyse(LAUNCH)
    analysis = await analyse(LAUNCH)
    assert from_dict(to_dict(analysis), SessionAnalysis) == analysis


async def test_confidence_rises_with_the_share_of_members_who_agree():
    steps = [
        ("Priya", "Proposal: launch on March 1 with the core features."),
        ("Eli", "I disagree, the payment flow is not ready."),
        ("Sam", "Agreed."),
        ("Dana", "Sounds good to me."),
        ("Eli", "Fine, I agree now that QA has a plan."),
        ("Ana", "Agreed."),
    ]
    confidences = [
        (await analyse(meeting(*steps[:count]))).confidence
        for count in range(1, len(steps) + 1)
    ]
    assert confidences == sorted(confidences)
    assert confidences[0] == round(0.3 + 0.7 / 5, 2)
    assert confidences[-1] == 1.0
    assert (await analyse(meeting())).confidence == 0.0
    no_proposal = await analyse(meeting(("Ana", "Morning all, where are we?")))
    assert no_proposal.confidence == 0.2
    assert no_proposal.decisions == ()


async def test_an_answer_is_not_taken_for_agreement():
    proposal = ("Priya", "Proposal: launch on March 1.")
    answer_only = await analyse(
        meeting(proposal, ("Dana", "Yes, I'll have the mockups by Friday."))
    )
    bare_yes = await analyse(meeting(proposal, ("Dana", "Yes.")))
    against = await analyse(meeting(proposal, ("Eli", "I'm against it.")))
    up_against = await analyse(
        meeting(proposal, ("Eli", "Agreed, though we're up against the clock."))
    )
    alone = round(0.3 + 0.7 / 5, 2)
    assert answer_only.confidence == alone == against.confidence
    assert bare_yes.confidence == round(0.3 + 0.7 * 2 / 5, 2)
    assert up_against.confidence == round(0.3 + 0.7 * 2 / 5, 2)
    assert against.positions["Eli"] == "I'm against it."


async def test_a_new_proposal_resets_the_backing():
    analysis = await analyse(
        meeting(
            ("Priya", "Proposal: launch on March 1."),
            ("Sam", "Agreed."),
            ("Ana", "Agreed."),
            ("Eli", "Proposal: launch on April 15 after the payment fix."),
        )
    )
    assert analysis.decisions == (
        "Agreed (3 of 5): launch on March 1 (proposed by Priya)",
    )
    assert analysis.confidence == round(0.3 + 0.7 / 5, 2)
    assert "Latest proposal, by Eli: launch on April 15" in analysis.summary


async def test_a_question_stays_open_until_it_is_answered():
    asked = [("Eli", "Designer, can you have the mockups ready by Friday?")]
    assert (await analyse(meeting(*asked))).open_questions == (
        "Eli (Engineering Lead): Designer, can you have the mockups ready by Friday?",
    )
    others = [*asked, ("Sam", "Customers want the mockups too.")]
    assert len((await analyse(meeting(*others))).open_questions) == 1  # not Dana
    answered = [*asked, ("Dana", "Yes, I'll have them by Friday.")]
    assert (await analyse(meeting(*answered))).open_questions == ()

    unaddressed = [("Ana", "Who owns the pricing page?")]
    replied = [*unaddressed, ("Sam", "I own the pricing page.")]
    off_topic = [*unaddressed, ("Eli", "The build is green.")]
    assert len((await analyse(meeting(*unaddressed))).open_questions) == 1
    assert (await analyse(meeting(*replied))).open_questions == ()
    assert len((await analyse(meeting(*off_topic))).open_questions) == 1


async def test_risks_come_from_concerns_delays_bugs_and_churn():
    analysis = await analyse(
        meeting(
            ("Sam", "I'm worried about churn in the SMB segment."),
            ("Eli", "There is a risk that the migration slips."),
            ("Dana", "The colours look great."),
        )
    )
    assert analysis.risks == (
        "Sam: I'm worried about churn in the SMB segment.",
        "Eli: There is a risk that the migration slips.",
    )


async def test_a_voice_from_outside_the_team_gets_no_position():
    analysis = await analyse(
        meeting(("Facilitator", "Let's decide the launch date today."))
    )
    assert dict(analysis.positions) == {}


# ----- the model path -----------------------------------------------------------------


class ScriptedModel(GenericFakeChatModel):
    """langchain-core's fake chat model answering structured-output calls."""

    temperature: float = 0.7
    seen: list[Any] = Field(default_factory=list)

    def bind_tools(self, tools, *, tool_choice=None, **kwargs):
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(
            {
                "temperature": self.temperature,
                "tool": kwargs["tools"][0]["function"],
                "messages": [m.content for m in messages],
            }
        )
        return super()._generate(messages, stop=stop, run_manager=run_manager)


def answers(*arguments: dict[str, Any]) -> Iterator[AIMessage]:
    return iter(
        [
            AIMessage(
                content="",
                tool_calls=[
                    {
                        "name": "session_analysis",
                        "args": args,
                        "id": f"c{i}",
                        "type": "tool_call",
                    }
                ],
                usage_metadata={
                    "input_tokens": 300,
                    "output_tokens": 50,
                    "total_tokens": 350,
                },
            )
            for i, args in enumerate(arguments)
        ]
    )


def answer(**changes: Any) -> dict[str, Any]:
    return {
        "decisions": ["Launch on March 1"],
        "open_questions": ["Enterprise pricing?"],
        "risks": ["Payment bug"],
        "positions": [
            {"member": "Priya", "position": "For March 1"},
            {"member": "Dana (Designer)", "position": "For, if onboarding is simple"},
        ],
        "confidence": 0.8,
        "summary": "The team leans to March 1.",
    } | changes


async def test_the_model_sees_the_members_and_the_labelled_transcript():
    model = ScriptedModel(messages=answers(answer()), seen=[])
    analyst = SimulationAnalyst(model)
    analysis = await analyst.analyse(LAUNCH, turn=3, members=TEAM)
    assert analysis == SessionAnalysis(
        turn=3,
        decisions=("Launch on March 1",),
        open_questions=("Enterprise pricing?",),
        risks=("Payment bug",),
        positions={"Priya": "For March 1", "Dana": "For, if onboarding is simple"},
        confidence=0.8,
        summary="The team leans to March 1.",
    )
    (call,) = model.seen
    assert call["temperature"] == 0.0
    assert call["tool"]["name"] == "session_analysis"
    assert set(call["tool"]["parameters"]["properties"]) == {
        "decisions",
        "open_questions",
        "risks",
        "positions",
        "confidence",
        "summary",
    }
    system, user = call["messages"]
    assert "Simulation Analyst" in system
    assert user.startswith("Turn: 3\n\nMembers:\n")
    assert (
        '- {"name": "Ana", "role": "CEO", "description": "Decides on strategy and '
        'budget."}' in user
    )
    assert user.endswith(
        "Transcript:\nPriya (Product Manager): Proposal: launch on March 1 with the "
        "core features.\nEli (Engineering Lead): My concern is the payment bug; it "
        "could delay QA by a week. @Designer can you have the onboarding mockups "
        "ready by Friday?\nDana (Designer): I support launching on March 1 if "
        "onboarding is simplified.\nSam (Sales): Agreed.\nAna (CEO): What about "
        "pricing for enterprise customers?\nAna (CEO): Agreed, let's go with March 1."
    )
    assert analyst.usage.total_tokens == 350


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        (
            {"positions": [{"member": "Zed", "position": "no"}]},
            "'Zed', who is not a member",
        ),
        (
            {
                "positions": [
                    {"member": "Ana", "position": "a"},
                    {"member": "Ana (CEO)", "position": "b"},
                ]
            },
            "'Ana' two positions",
        ),
        ({"positions": [{"member": "Ana"}]}, "string 'position'"),
        ({"positions": {"Ana": "yes"}}, "'positions', a list"),
        ({"confidence": 1.5}, "from 0 to 1; got 1.5"),
        ({"confidence": -0.1}, "from 0 to 1"),
        ({"confidence": True}, "from 0 to 1"),
        ({"confidence": "high"}, "from 0 to 1"),
        ({"decisions": "ship it"}, "'decisions', a list of strings"),
        ({"risks": [1]}, "'risks', a list of strings"),
        ({"summary": None}, "string 'summary'"),
    ],
)
async def test_an_answer_out_of_shape_is_an_error(changes, match):
    model = ScriptedModel(messages=answers(answer(**changes)), seen=[])
    with pytest.raises(InvalidModelOutputError, match=match):
        await SimulationAnalyst(model).analyse(LAUNCH, turn=1, members=TEAM)


async def test_a_failing_or_hanging_model_is_a_model_error():
    with pytest.raises(ModelError, match="failed"):
        await SimulationAnalyst(ScriptedModel(messages=iter([]), seen=[])).analyse(
            LAUNCH, turn=1, members=TEAM
        )

    class Hanging(ScriptedModel):
        async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs):
            await anyio.sleep_forever()

    analyst = SimulationAnalyst(
        Hanging(messages=iter([]), seen=[]), timeouts=Timeouts(model_call=0.05)
    )
    with anyio.fail_after(5), pytest.raises(ModelError, match="model_call"):
        await analyst.analyse(LAUNCH, turn=1, members=TEAM)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"transcript": LAUNCH.messages}, "takes a Conversation"),
        ({"turn": -1}, "turn"),
        ({"turn": 1.5}, "turn"),
        ({"members": "Ana"}, "list of MemberInfo"),
        ({"members": ["Ana"]}, "MemberInfo values"),
        ({"members": [TEAM[0], TEAM[0]]}, "'Ana' twice"),
    ],
)
async def test_bad_arguments_are_config_errors(kwargs, match):
    arguments = {"transcript": LAUNCH, "turn": 1, "members": TEAM} | kwargs
    transcript = arguments.pop("transcript")
    with pytest.raises(ConfigError, match=match):
        await SimulationAnalyst().analyse(transcript, **arguments)


def test_bad_settings_are_config_errors():
    with pytest.raises(ConfigError, match="model"):
        SimulationAnalyst(None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="timeouts"):
        SimulationAnalyst(timeouts=3)  # type: ignore[arg-type]
    assert repr(SimulationAnalyst()) == "SimulationAnalyst(model='offline')"
