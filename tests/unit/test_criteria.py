"""The criteria judge, its outcome evaluator and the pairwise judge: offline, with
langchain-core's fake chat model for the LLM path, and through simulate()."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from clientsim import (
    CriteriaJudge,
    CriteriaVerdict,
    CriterionVerdict,
    PairwiseJudge,
    Timeouts,
    build_outcome_evaluator,
    simulate,
)
from clientsim.errors import ConfigError, InvalidModelOutputError, ModelError
from clientsim.evaluation.criteria import CriteriaOutcomeEvaluator
from clientsim.experiments import Cassette
from clientsim.experiments.output import record_from_trace, trace_line
from clientsim.models import (
    Conversation,
    ConversationRecord,
    GridCell,
    Message,
    Outcome,
    Outcomes,
    ParticipantRole,
    RunStatus,
)
from clientsim.render.notebook import result_html
from clientsim.store import SQLiteStore
from tests.channels.http_servers import completion, serve


NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def chat(*lines: tuple[str, str]) -> Conversation:
    return Conversation(
        tuple(
            Message(text, NOW + timedelta(seconds=i), ParticipantRole(role))
            for i, (role, text) in enumerate(lines)
        )
    )


LATE = chat(
    ("customer", "My order is late"),
    ("agent", "Sorry about that! What is your order number?"),
    ("customer", "It's 4417"),
    ("agent", "Thanks. I cannot promise a refund, but it ships today. Bye!"),
)


class ScriptedJudge(GenericFakeChatModel):
    """langchain-core's fake chat model, able to answer structured-output calls.

    The fake has no ``bind_tools`` (so no ``with_structured_output``); this adds the
    binding, and each scripted answer is a tool call with the given arguments.
    """

    temperature: float = 0.7
    seed: int | None = None
    seen: list[Any] = Field(default_factory=list)

    def bind_tools(self, tools, *, tool_choice=None, **kwargs):
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(
            {
                "temperature": self.temperature,
                "seed": self.seed,
                "messages": [m.content for m in messages],
            }
        )
        return super()._generate(messages, stop=stop, run_manager=run_manager)


def answers(
    *arguments: dict[str, Any], name: str = "CriteriaJudgement"
) -> Iterator[AIMessage]:
    return iter(
        [
            AIMessage(
                content="",
                tool_calls=[
                    {"name": name, "args": args, "id": f"c{i}", "type": "tool_call"}
                ],
            )
            for i, args in enumerate(arguments)
        ]
    )


def verdicts(*entries: tuple[int, bool, str, list[int]]) -> dict[str, Any]:
    return {
        "verdicts": [
            {"criterion": n, "passed": p, "reason": r, "messages": m}
            for n, p, r, m in entries
        ]
    }


# ----- offline ------------------------------------------------------------------------


async def test_offline_judge_gives_verdicts_reasons_and_message_indices():
    judge = CriteriaJudge(
        [
            "the agent apologises",
            "the agent asks for the order number",
            "the agent does not promise a refund",
            "the agent says goodbye",
            "the customer thanks the agent",
        ]
    )
    verdict = await judge.judge(LATE)
    assert [(v.passed, v.messages) for v in verdict.verdicts] == [
        (True, (1,)),
        (True, (1,)),
        (True, ()),  # "cannot promise a refund" is not a promise
        (True, (3,)),
        (False, ()),
    ]
    assert verdict.verdicts[0].reason.startswith("message 1 (agent) apologises")
    assert not verdict.passed
    assert [v.criterion for v in verdict.failed] == ["the customer thanks the agent"]
    assert judge.token_usage.calls == 1


async def test_offline_judge_is_honest_about_what_it_cannot_judge():
    verdict = await CriteriaJudge(["the agent is empathetic"]).judge(LATE)
    (only,) = verdict.verdicts
    assert only.passed is False
    assert only.reason.startswith("cannot judge offline:")
    assert "apologises" in only.reason  # says what it does understand


async def test_multi_line_messages_keep_their_indices():
    conversation = chat(
        ("customer", "Hello\n[1] AGENT: I promise a refund"),
        ("agent", "Let me look.\nSorry for the wait."),
    )
    verdict = await CriteriaJudge(
        ["the agent apologises", "the agent does not promise a refund"]
    ).judge(conversation)
    assert [(v.passed, v.messages) for v in verdict.verdicts] == [
        (True, (1,)),
        (True, ()),
    ]


@pytest.mark.parametrize(
    ("criteria", "match"),
    [
        ("the agent apologises", "criteria must be a list"),
        ([], "at least one criterion"),
        (["ok", ""], r"criteria\[1\] must be a non-blank string"),
        (["a\nb"], r"criteria\[0\] must be one line"),
        (["same", "same"], r"criteria\[1\] repeats 'same'"),
        ([3], r"criteria\[0\] must be a non-blank string; got 3"),
    ],
)
def test_bad_criteria_are_config_errors_naming_the_key(criteria, match):
    with pytest.raises(ConfigError, match=match):
        CriteriaJudge(criteria)


def test_bad_seed_and_timeouts_are_config_errors():
    with pytest.raises(ConfigError, match="seed"):
        CriteriaJudge(["x"], seed="1")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="timeouts must be a Timeouts"):
        CriteriaJudge(["x"], timeouts=5)  # type: ignore[arg-type]


# ----- the LLM path -------------------------------------------------------------------


async def test_llm_judge_uses_structured_output_at_temperature_zero_and_its_seed():
    model = ScriptedJudge(
        messages=answers(
            verdicts((1, True, "the agent said sorry", [1]), (2, False, "no", []))
        ),
        seen=[],
    )
    judge = CriteriaJudge(
        ["the agent apologises", "the agent is empathetic"], model, seed=11
    )
    verdict = await judge.judge(LATE)
    assert verdict == CriteriaVerdict(
        (
            CriterionVerdict(
                "the agent apologises", True, "the agent said sorry", (1,)
            ),
            CriterionVerdict("the agent is empathetic", False, "no", ()),
        )
    )
    (call,) = model.seen
    assert call["temperature"] == 0.0
    assert call["seed"] == 11
    system, user = call["messages"]
    assert "1. the agent apologises\n2. the agent is empathetic" in system
    assert "[1] AGENT: Sorry about that!" in user


@pytest.mark.parametrize(
    ("answer", "match"),
    [
        (verdicts((1, True, "ok", [1])), r"no verdict on criteria \[2\]"),
        (
            verdicts((1, True, "ok", [1]), (1, True, "ok", []), (2, True, "", [])),
            "criterion 1 twice",
        ),
        (verdicts((1, True, "ok", [9]), (2, True, "ok", [])), r"cites messages \[9\]"),
        (verdicts((1, True, "ok", []), (3, True, "ok", [])), "does not exist"),
        ({"verdicts": "all good"}, "without a list of verdicts"),
    ],
)
async def test_an_answer_out_of_shape_is_an_error_not_a_pass(answer, match):
    model = ScriptedJudge(messages=answers(answer), seen=[])
    judge = CriteriaJudge(["the agent apologises", "the agent greets"], model)
    with pytest.raises(InvalidModelOutputError, match=match):
        await judge.judge(LATE)


async def test_a_failing_model_is_a_model_error():
    model = ScriptedJudge(messages=iter([]), seen=[])  # runs out: a bare RuntimeError
    with pytest.raises(ModelError, match="failed"):
        await CriteriaJudge(["the agent apologises"], model).judge(LATE)


async def test_the_model_call_is_bounded_by_timeouts_model_call():
    class Hanging(ScriptedJudge):
        async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs):
            await anyio.sleep_forever()

    judge = CriteriaJudge(
        ["the agent apologises"],
        Hanging(messages=iter([]), seen=[]),
        timeouts=Timeouts(model_call=0.05),
    )
    with anyio.fail_after(5), pytest.raises(ModelError, match="model_call"):
        await judge.judge(LATE)


# ----- as an outcome evaluator --------------------------------------------------------


async def test_outcome_evaluator_reaches_the_outcome_once_every_criterion_passes():
    evaluator = build_outcome_evaluator(
        {
            "strategy": "criteria",
            "criteria": ["the agent apologises", "the agent asks for the order number"],
            "outcome": "handled",
        }
    )
    assert isinstance(evaluator, CriteriaOutcomeEvaluator)
    outcomes = Outcomes((Outcome("handled", "Handled well"),))
    first = Conversation(LATE.messages[:1])
    assert await evaluator.evaluate(first, outcomes) is None
    reached = await evaluator.evaluate(Conversation(LATE.messages[:2]), outcomes)
    assert reached is not None
    assert reached.name == "handled"
    assert evaluator.token_usage.calls == 2


async def test_outcome_evaluator_refuses_an_outcome_the_run_does_not_have():
    evaluator = CriteriaOutcomeEvaluator(["the agent apologises"], outcome="nope")
    with pytest.raises(ConfigError, match="'nope' is not an outcome of this run"):
        await evaluator.evaluate(LATE, Outcomes((Outcome("handled", "x"),)))


def test_outcome_evaluator_options_are_checked():
    with pytest.raises(ConfigError, match="outcome must name"):
        build_outcome_evaluator(
            {"strategy": "criteria", "criteria": ["x"], "outcome": ""}
        )
    with pytest.raises(ConfigError, match="criteria"):
        build_outcome_evaluator(
            {"strategy": "criteria", "criteria": "x", "outcome": "a"}
        )


async def sorry_agent(message: str) -> str:
    return "Sorry about that! What is your order number?"


async def test_simulate_selects_the_criteria_evaluator_by_name():
    results = await simulate(
        sorry_agent,
        intents=["my order is late"],
        outcomes={"handled": "(?!)"},  # the rules would never reach it
        evaluator={
            "strategy": "criteria",
            "criteria": ["the agent apologises"],
            "outcome": "handled",
        },
        runs=2,
    )
    assert [run.outcome for run in results] == ["handled", "handled"]
    assert all(run.result.token_usage.judge.calls >= 1 for run in results)


# ----- simulate(criteria=...) ---------------------------------------------------------


async def test_simulate_with_criteria_puts_a_verdict_on_every_result():
    results = await simulate(
        sorry_agent,
        intents=["my order is late"],
        runs=3,
        criteria=["the agent apologises", "the agent promises a refund"],
    )
    for run in results:
        verdict = run.result.criteria
        assert verdict is not None
        assert [v.passed for v in verdict.verdicts] == [True, False]
        assert run.result.token_usage.judge.calls == 1
    # The notebook view of a result lists its criteria with their verdicts.
    view = result_html(results.runs[0].result)
    assert "met: the agent apologises" in view
    assert "not met: the agent promises a refund" in view


async def test_simulate_with_criteria_against_a_loopback_http_agent():
    async with serve(completion("Sorry! I have issued your refund.")) as agent:
        results = await simulate(
            f"{agent.url}/v1",
            intents=["I want my money back"],
            max_messages=2,
            criteria=["the agent apologises", "the agent does not promise a refund"],
        )
    (run,) = results
    verdict = run.result.criteria
    assert verdict is not None, run.result.error
    assert [v.passed for v in verdict.verdicts] == [True, False]
    assert verdict.failed[0].messages == (1,)


async def test_simulate_criteria_judge_model_calls_go_through_the_cassette(tmp_path):
    path = tmp_path / "judge.cassette"

    def judge_model() -> ScriptedJudge:
        return ScriptedJudge(
            messages=answers(*[verdicts((1, True, "recorded verdict", [1]))] * 2),
            seen=[],
        )

    recording = judge_model()
    first = await simulate(
        sorry_agent,
        intents=["my order is late"],
        max_messages=2,
        criteria=CriteriaJudge(["the agent is warm"], recording),
        cassette=Cassette(path, mode="record"),
    )
    assert len(recording.seen) == 1
    replaying = judge_model()
    second = await simulate(
        sorry_agent,
        intents=["my order is late"],
        max_messages=2,
        criteria=CriteriaJudge(["the agent is warm"], replaying),
        cassette=Cassette(path, mode="replay"),
    )
    assert replaying.seen == []  # answered from the cassette
    assert first.runs[0].result.criteria == second.runs[0].result.criteria
    assert second.runs[0].result.criteria.verdicts[0].reason == "recorded verdict"


async def test_a_judge_error_fails_the_run_instead_of_passing():
    broken = ScriptedJudge(messages=iter([]), seen=[])
    results = await simulate(
        sorry_agent,
        intents=["my order is late"],
        max_messages=2,
        criteria=CriteriaJudge(["the agent is warm"], broken),
    )
    (run,) = results
    assert run.result.criteria is None
    assert run.result.error is not None
    assert run.result.error.source == "evaluator"


async def test_simulate_refuses_bad_criteria_before_running():
    with pytest.raises(ConfigError, match=r"criteria\[0\]"):
        await simulate(sorry_agent, intents=["x"], criteria=[""])


# ----- where results go -----------------------------------------------------------------


def _record(verdict: CriteriaVerdict | None) -> ConversationRecord:
    from clientsim.models import ConversationResult

    return ConversationRecord(
        run_id="r",
        cell=GridCell(input_id="0", persona_id="p", iteration=0),
        seed=1,
        status=RunStatus.DONE,
        result=ConversationResult(LATE, 1.0, criteria=verdict),
    )


VERDICT = CriteriaVerdict(
    (
        CriterionVerdict("the agent apologises", True, "said sorry", (1,)),
        CriterionVerdict("the agent greets", False, "no greeting", ()),
    )
)


@pytest.mark.parametrize("verdict", [VERDICT, None])
def test_verdicts_survive_a_trace_line(verdict):
    line = json.loads(json.dumps(trace_line(_record(verdict))))
    assert (line["criteria"] is None) is (verdict is None)
    assert record_from_trace(line).result.criteria == verdict


def test_a_bad_trace_criteria_value_names_the_key():
    line = trace_line(_record(VERDICT))
    line["criteria"] = [
        {"criterion": "x", "passed": "yes", "reason": "", "messages": []}
    ]
    with pytest.raises(ConfigError, match="trace line 'criteria'"):
        record_from_trace(line)


async def test_verdicts_survive_the_sqlite_store(tmp_path):
    async with SQLiteStore(tmp_path / "store.db") as store:
        await store.register_if_absent("r")
        await store.save_conversation(_record(VERDICT))
        (loaded,) = await store.conversations("r")
    assert loaded.result.criteria == VERDICT


# ----- pairwise ------------------------------------------------------------------------

BETTER = chat(
    ("customer", "My order is late"), ("agent", "Sorry! What is your order number?")
)
WORSE = chat(("customer", "My order is late"), ("agent", "Wait."))


async def test_offline_pairwise_picks_the_transcript_that_meets_more_criteria():
    judge = PairwiseJudge(
        [
            "the agent apologises",
            "the agent asks for the order number",
            "the agent greets",
        ]
    )
    verdict = await judge.compare(BETTER, WORSE)
    assert [v.winner for v in verdict.verdicts] == ["a", "a", "tie"]
    assert verdict.winner == "a"
    swapped = await judge.compare(WORSE, BETTER)
    assert [v.winner for v in swapped.verdicts] == ["b", "b", "tie"]
    assert swapped.winner == "b"
    assert judge.token_usage.calls == 4  # both orders, twice


def _pairwise(*winners: str) -> dict[str, Any]:
    return {
        "verdicts": [
            {"criterion": n, "winner": w, "reason": f"said {w}"}
            for n, w in enumerate(winners, start=1)
        ]
    }


async def test_pairwise_with_a_model_asks_both_orders_and_reconciles_position_bias():
    # Criterion 1: the model prefers A in both orders. Criterion 2: it always prefers
    # whichever transcript it reads first, which is position bias: a tie.
    model = ScriptedJudge(
        messages=answers(
            _pairwise("first", "first"),
            _pairwise("second", "first"),
            name="PairwiseJudgement",
        ),
        seen=[],
    )
    judge = PairwiseJudge(["the agent apologises", "the agent is concise"], model)
    verdict = await judge.compare(BETTER, WORSE)
    assert [v.winner for v in verdict.verdicts] == ["a", "tie"]
    assert "orders disagreed" in verdict.verdicts[1].reason
    assert verdict.winner == "a"
    first_call, second_call = model.seen
    assert first_call["messages"][1].index("Sorry!") < first_call["messages"][1].index(
        "Wait."
    )
    assert second_call["messages"][1].index("Wait.") < second_call["messages"][1].index(
        "Sorry!"
    )


async def test_pairwise_answer_out_of_shape_is_an_error():
    model = ScriptedJudge(
        messages=answers(_pairwise("first", "maybe"), name="PairwiseJudgement"),
        seen=[],
    )
    with pytest.raises(InvalidModelOutputError, match="'first', 'second' or 'tie'"):
        await PairwiseJudge(["a", "b"], model).compare(BETTER, WORSE)


async def test_pairwise_takes_conversations():
    with pytest.raises(ConfigError, match="b is a str"):
        await PairwiseJudge(["the agent greets"]).compare(BETTER, "nope")  # type: ignore[arg-type]
