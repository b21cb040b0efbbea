"""Scripted scenarios against real agents: an async function, an HTTP loopback server,
a LangGraph graph, a WebSocket agent and a simulated agent."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph

from clientsim import (
    Cassette,
    Conversation,
    ParticipantRole,
    Timeouts,
    run_script,
    simulate,
)
from clientsim.assertions import assert_outcome_rate
from clientsim.errors import ConfigError
from clientsim.script import (
    ScriptResult,
    agent,
    assert_passed,
    check,
    fail,
    judge,
    proceed,
    succeed,
    user,
)
from tests.channels import ws_server
from tests.channels.http_servers import completion, serve, silent_port


pytestmark = pytest.mark.anyio

CUSTOMER = ParticipantRole.CUSTOMER
AGENT = ParticipantRole.AGENT
FAST = Timeouts(turn=2, conversation=20)


class Recorder:
    """An async function agent that records what it was sent."""

    def __init__(self, *replies: str) -> None:
        self.replies = replies or ("Could you give me your order number?",)
        self.received: list[str] = []

    async def __call__(self, message: str) -> str:
        self.received.append(message)
        return self.replies[min(len(self.received), len(self.replies)) - 1]


def texts(result: ScriptResult, sender: ParticipantRole | None = None) -> list[str]:
    return [
        message.content
        for message in result.conversation.messages
        if sender is None or message.sender is sender
    ]


def last_says(words: str):
    def said(conversation: Conversation) -> None:
        last = conversation.messages[-1].content
        assert words in last, f"expected {words!r} in the agent's reply {last!r}"

    return said


# ----- an async function agent -------------------------------------------------------


async def test_fixed_lines_reach_the_agent_verbatim_and_the_script_passes() -> None:
    bot = Recorder("Which order is it?", "Thanks, the refund is on its way.")
    lines = ["I want a refund  ", "Order #4417, placed on 2 May"]
    result = await run_script(
        bot,
        [
            user(lines[0]),
            agent(),
            check(last_says("Which order")),
            user(lines[1]),
            agent(),
            check(last_says("refund")),
            succeed("the refund was issued"),
        ],
        timeouts=FAST,
    )
    assert bot.received == lines
    assert texts(result) == [
        lines[0],
        "Which order is it?",
        lines[1],
        "Thanks, the refund is on its way.",
    ]
    assert result.verdict == "passed"
    assert result.passed
    assert result.step == 6
    assert (
        result.reason
        == "step 6 succeed('the refund was issued'): the refund was issued"
    )
    assert result.outcome is not None
    assert result.outcome.name == "passed"
    assert result.ending is not None
    assert result.ending.reason == "script_passed"
    assert result.error is None
    assert_passed(result)


async def test_a_failing_check_fails_the_scenario_with_its_message() -> None:
    bot = Recorder("Let me transfer you...")
    result = await run_script(
        bot,
        [
            user("I want a refund"),
            agent(),
            check(last_says("order number")),
            succeed(),
        ],
        timeouts=FAST,
    )
    assert result.verdict == "failed"
    assert result.step == 2
    assert "step 2 check(" in result.reason
    assert "expected 'order number' in the agent's reply 'Let me transfer you...'" in (
        result.reason
    )
    assert result.outcome is not None
    assert result.outcome.name == "failed"
    assert result.ending is not None
    assert result.ending.reason == "script_failed"
    with pytest.raises(AssertionError, match="Let me transfer you") as raised:
        assert_passed(result)
    assert "1 of 1 scripted conversation(s) did not pass" in str(raised.value)
    assert "[1] agent: Let me transfer you..." in str(raised.value)


async def test_async_checks_false_results_and_errors() -> None:
    async def asked(conversation: Conversation) -> bool:
        await anyio.lowlevel.checkpoint()
        return "order" in conversation.messages[-1].content

    passed = await run_script(
        Recorder(), [user("hi"), agent(), check(asked)], timeouts=FAST
    )
    assert passed.verdict == "passed"
    assert passed.reason == "the script ran to its end (3 steps)"
    assert passed.step is None

    falsy = await run_script(
        Recorder(),
        [user("hi"), agent(), check(lambda c: "refund" in c.messages[-1].content)],
        timeouts=FAST,
    )
    assert falsy.verdict == "failed"
    assert falsy.reason == "step 2 check(<lambda>): check returned False"

    def broken(conversation: Conversation) -> None:
        raise KeyError("order")

    errored = await run_script(
        Recorder(), [user("hi"), agent(), check(broken), succeed()], timeouts=FAST
    )
    assert errored.verdict == "error"
    assert errored.step == 2
    assert errored.error is not None
    assert errored.error.source == "check"
    assert errored.error.type == "builtins.KeyError"
    assert errored.outcome is None


async def test_succeed_and_fail_end_the_scenario_at_once() -> None:
    bot = Recorder()
    failed = await run_script(
        bot, [user("hi"), fail("not yet written"), agent()], timeouts=FAST
    )
    assert failed.verdict == "failed"
    assert failed.reason == "step 1 fail('not yet written'): not yet written"
    assert texts(failed) == ["hi"]  # the agent's turn after fail() never ran

    passed = await run_script(bot, [succeed(), check(lambda c: False)], timeouts=FAST)
    assert passed.verdict == "passed"
    assert passed.reason == "step 0 succeed(): the script says passed"


async def test_simulated_lines_come_from_the_seeded_customer() -> None:
    script = [user(), agent(), proceed(turns=2)]

    async def play(seed: int) -> ScriptResult:
        return await run_script(
            Recorder(),
            script,
            intent="a refund for order 4417",
            seed=seed,
            timeouts=FAST,
        )

    first, again, other = await play(5), await play(5), await play(6)
    lines = texts(first, CUSTOMER)
    assert len(lines) == 3
    assert lines == texts(again, CUSTOMER)  # same seed, same lines
    assert first.seed == again.seed != other.seed
    assert "4417" in " ".join(lines) or "refund" in " ".join(lines).lower()
    assert first.verdict == "passed"


async def test_a_scripted_customer_ends_the_conversation_and_proceed_stops() -> None:
    bot = Recorder("Sure.")
    result = await run_script(
        bot,
        [user("hello"), proceed(turns=5)],
        intent="say two things",
        customer={"strategy": "scripted", "lines": ["one", "two"]},
        timeouts=FAST,
    )
    # hello -> Sure.; then the customer's two lines, then it has nothing more to say
    assert texts(result, CUSTOMER) == ["hello", "one", "two"]
    assert bot.received == ["hello", "one", "two"]
    assert len(texts(result, AGENT)) == 3
    assert result.verdict == "passed"


async def test_proceed_stops_when_a_termination_strategy_ends_the_talk() -> None:
    bot = Recorder("Thanks, goodbye!")
    seen: list[int] = []

    def count(conversation: Conversation) -> None:
        seen.append(len(conversation.messages))

    result = await run_script(
        bot,
        [user("hello"), agent(), proceed(turns=4, on_turn=count)],
        intent="a refund",
        termination={"strategy": "closing_phrases"},
        timeouts=FAST,
    )
    assert len(result.conversation.messages) == 2
    assert seen == []
    assert result.verdict == "passed"


async def test_on_turn_runs_after_each_turn_and_can_fail_the_scenario() -> None:
    seen: list[int] = []

    def short(conversation: Conversation) -> None:
        seen.append(len(conversation.messages))
        assert len(conversation.messages) < 5, "the talk went on too long"

    result = await run_script(
        Recorder(),
        [user("hi"), proceed(turns=3, on_turn=short), succeed()],
        intent="a refund",
        timeouts=FAST,
    )
    assert seen == [4, 6]
    assert result.verdict == "failed"
    assert result.reason.startswith(
        "step 1 proceed(turns=3): the talk went on too long"
    )


async def test_a_hung_agent_is_an_error_not_a_hang() -> None:
    never = anyio.Event()

    async def hung(message: str) -> str:
        await never.wait()
        return "never"

    start = time.perf_counter()
    result = await run_script(
        hung, [user("hello"), agent(), succeed()], timeouts=Timeouts(turn=0.3)
    )
    elapsed = time.perf_counter() - start
    assert elapsed < 5
    assert result.verdict == "error"
    assert result.step == 1
    assert result.error is not None
    assert result.error.source == "agent"
    assert "the agent sent nothing within" in result.reason
    assert texts(result) == ["hello"]


async def test_a_hung_check_and_a_hung_customer_are_errors() -> None:
    def slow_check(conversation: Conversation) -> None:
        time.sleep(1.0)  # a blocking check: abandoned in its thread

    result = await run_script(
        Recorder(),
        [user("hi"), check(slow_check)],
        timeouts=Timeouts(turn=0.2),
    )
    assert result.verdict == "error"
    assert result.error is not None
    assert result.error.source == "check"
    assert "took longer than 0.2s" in result.reason


async def test_agent_first_with_an_agent_that_only_answers_waits_a_quiet_period() -> (
    None
):
    bot = Recorder()
    start = time.perf_counter()
    result = await run_script(
        bot,
        [agent(), user("hi"), agent()],
        timeouts=FAST,
        hybrid={"quiet_period_seconds": 0.1},
    )
    assert time.perf_counter() - start < 1.5  # a quiet period, not a reply timeout
    assert texts(result) == ["hi", "Could you give me your order number?"]


# ----- over HTTP ---------------------------------------------------------------------


async def test_an_http_agent_gets_the_fixed_lines_verbatim() -> None:
    async with serve(completion("Which order?"), completion("Done, refunded.")) as bot:
        result = await run_script(
            f"{bot.url}/v1",
            [
                user("Refund please"),
                agent(),
                user("Order 4417"),
                agent(),
                check(last_says("refunded")),
            ],
            timeouts=FAST,
        )
    sent = [request.body["messages"][-1] for request in bot.requests]
    assert sent == [
        {"role": "user", "content": "Refund please"},
        {"role": "user", "content": "Order 4417"},
    ]
    assert texts(result) == [
        "Refund please",
        "Which order?",
        "Order 4417",
        "Done, refunded.",
    ]
    assert result.verdict == "passed"


async def test_a_silent_http_agent_is_an_error_within_the_turn_limit() -> None:
    with silent_port() as port:
        start = time.perf_counter()
        result = await run_script(
            f"http://127.0.0.1:{port}/v1",
            [user("hello"), agent()],
            timeouts=Timeouts(turn=0.5),
        )
    assert time.perf_counter() - start < 5
    assert result.verdict == "error"
    assert result.error is not None
    assert result.error.side == "agent"


# ----- a LangGraph graph -------------------------------------------------------------


def refund_graph() -> Any:
    """A graph with a checkpointer: asks for the order number once, then refunds."""

    def reply(state: MessagesState) -> dict[str, Any]:
        asked = sum(1 for message in state["messages"] if message.type == "ai")
        text = (
            "What is your order number?"
            if asked == 0
            else f"Refund issued (turn {asked + 1})."
        )
        return {"messages": [("ai", text)]}

    builder = StateGraph(MessagesState)
    builder.add_node("agent", reply)
    builder.add_edge(START, "agent")
    builder.add_edge("agent", END)
    return builder.compile(checkpointer=InMemorySaver())


async def test_a_langgraph_graph_with_fixed_and_simulated_lines() -> None:
    result = await run_script(
        refund_graph(),
        [
            user("I need a refund"),
            agent(),
            check(last_says("order number")),
            proceed(turns=2),
            check(last_says("turn 3")),
        ],
        intent="a refund for order 4417",
        timeouts=FAST,
    )
    assert result.verdict == "passed", result.describe()
    assert len(result.conversation.messages) == 6
    assert texts(result, AGENT)[-1] == "Refund issued (turn 3)."


# ----- a WebSocket agent -------------------------------------------------------------


async def test_a_websocket_agent_that_speaks_first_and_closes() -> None:
    async with ws_server.serve(ws_server.push_on_connect(1)) as server:
        greeted = await run_script(
            server.url,
            [agent(), check(last_says("update 0"))],
            timeouts=FAST,
            hybrid={"quiet_period_seconds": 0.2},
        )
    assert greeted.verdict == "passed", greeted.describe()
    assert texts(greeted) == ["update 0"]

    async with ws_server.serve(ws_server.close_after_reply(1000, b"bye")) as server:
        closed = await run_script(
            server.url,
            [user("hello"), agent(), proceed(turns=3)],
            intent="a refund",
            timeouts=FAST,
            hybrid={"quiet_period_seconds": 0.2},
        )
    assert closed.verdict == "passed", closed.describe()
    assert texts(closed) == ["hello", "let me check"]


# ----- a simulated agent and simulate(script=...) -------------------------------------


async def test_a_simulated_agent_participant() -> None:
    result = await run_script(
        {"strategy": "scripted", "lines": ["Hello, how can I help?", "Done."]},
        [user("hi"), agent(), user("refund"), agent(), check(last_says("Done"))],
        timeouts=FAST,
    )
    assert texts(result, AGENT) == ["Hello, how can I help?", "Done."]
    assert result.verdict == "passed"


async def test_simulate_plays_the_script_in_every_conversation() -> None:
    bot = Recorder("Which order is it?")
    results = await simulate(
        bot,
        intents=["a refund for order 4417", "cancel my plan"],
        personas=["terse"],
        runs=2,
        seed=7,
        script=[user("Hi"), agent(), check(last_says("order")), proceed(turns=1)],
        timeouts=FAST,
    )
    assert len(results) == 4
    assert all(isinstance(run.result, ScriptResult) for run in results)
    assert [run.outcome for run in results] == ["passed"] * 4
    assert bot.received.count("Hi") == 4
    assert_outcome_rate(results, "passed", at_least=1.0)
    assert_passed(results)

    again = await simulate(
        bot,
        intents=["a refund for order 4417", "cancel my plan"],
        personas=["terse"],
        runs=2,
        seed=7,
        script=[user("Hi"), agent(), check(last_says("order")), proceed(turns=1)],
        timeouts=FAST,
    )
    assert [texts(run.result, CUSTOMER) for run in again] == [  # type: ignore[arg-type]
        texts(run.result, CUSTOMER)  # type: ignore[arg-type]
        for run in results
    ]


async def test_simulate_with_a_failing_script_shows_the_reasons() -> None:
    results = await simulate(
        Recorder("Let me transfer you..."),
        intents=["a refund"],
        script=[user("refund"), agent(), check(last_says("order"))],
        timeouts=FAST,
    )
    with pytest.raises(AssertionError, match="Let me transfer you"):
        assert_passed(results)
    with pytest.raises(AssertionError, match="passed"):
        assert_outcome_rate(results, "passed", at_least=1.0)


async def test_simulate_refuses_outcomes_beside_a_script() -> None:
    with pytest.raises(ConfigError, match="leave out outcomes= and evaluator="):
        await simulate(
            Recorder(),
            intents=["a refund"],
            outcomes={"resolved": "refund"},
            script=[user("hi")],
        )
    with pytest.raises(ConfigError, match=r"script\[1\]: proceed\(turns=N\)"):
        await simulate(Recorder(), intents=["x"], script=[user("hi"), proceed(0)])


async def test_run_script_needs_an_intent_for_simulated_lines() -> None:
    with pytest.raises(ConfigError, match=r"script\[2\] asks the simulated customer"):
        await run_script(Recorder(), [user("hi"), agent(), user()])
    with pytest.raises(ConfigError, match="timeouts must be"):
        await run_script(Recorder(), [user("hi")], timeouts=3)  # type: ignore[arg-type]


# ----- the judge step ----------------------------------------------------------------


async def test_a_judge_step_that_passes_and_one_that_fails() -> None:
    bot = Recorder("Sorry about that! What is your order number?")
    result = await run_script(
        bot,
        [
            user("My parcel is late"),
            agent(),
            judge(["the agent apologises", "the agent asks for the order number"]),
            judge(["the agent promises a refund"]),
            succeed(),
        ],
        timeouts=FAST,
    )
    assert result.verdict == "failed"
    assert result.step == 3
    assert result.reason.startswith(
        "step 3 judge(criteria=[1 criteria]): 1 of 1 criteria failed: "
        "'the agent promises a refund': "
    )
    first, second = result.judge_verdicts
    assert first.passed
    assert [verdict.messages for verdict in first.verdicts] == [(1,), (1,)]
    assert not second.passed
    assert result.criteria is not None
    assert [verdict.criterion for verdict in result.criteria.verdicts] == [
        "the agent apologises",
        "the agent asks for the order number",
        "the agent promises a refund",
    ]


async def test_a_judge_model_that_answers_out_of_shape_is_an_error() -> None:

    result = await run_script(
        Recorder(),
        [
            user("hi"),
            agent(),
            judge(
                ["the agent apologises"], model=FakeListChatModel(responses=["no idea"])
            ),
        ],
        timeouts=FAST,
    )
    assert result.verdict == "error"
    assert result.step == 2
    assert result.error is not None
    assert result.error.source == "judge"


async def test_simulate_runs_judge_steps_on_the_customer_model() -> None:
    results = await simulate(
        Recorder("Sorry! What is your order number?"),
        intents=["my parcel is late"],
        runs=2,
        script=[user(), agent(), judge(["the agent apologises"])],
        timeouts=FAST,
    )
    assert [run.outcome for run in results] == ["passed", "passed"]
    assert all(run.result.criteria is not None for run in results)


# ----- a cassette --------------------------------------------------------------------


async def test_a_recorded_script_replays_without_the_agent(tmp_path: Path) -> None:
    path = tmp_path / "script.cassette"
    script = [
        user("I want a refund"),
        agent(),
        proceed(turns=2),
        judge(["the agent asks for the order number"]),
    ]
    bot = Recorder("What is your order number?", "Thanks, refunded.")
    recorded = await run_script(
        bot,
        script,
        intent="a refund for order 4417",
        cassette=Cassette(path, mode="record"),
        timeouts=FAST,
    )
    calls = len(bot.received)
    assert calls == 3
    replayed = await run_script(
        bot,
        script,
        intent="a refund for order 4417",
        cassette=Cassette(path, mode="replay"),
        timeouts=FAST,
    )
    assert len(bot.received) == calls  # the agent's replies came from the cassette
    assert texts(replayed) == texts(recorded)
    assert replayed.verdict == recorded.verdict


async def test_a_scenario_past_its_conversation_limit_is_an_error() -> None:
    async def slow(message: str) -> str:
        await anyio.sleep(0.2)
        return "Could you say more?"

    start = time.perf_counter()
    result = await run_script(
        slow,
        [user("hello"), proceed(turns=50), succeed()],
        intent="a refund",
        timeouts=Timeouts(turn=1, conversation=0.7),
    )
    assert time.perf_counter() - start < 3
    assert result.verdict == "error"
    assert result.step == 1
    assert result.reason.endswith("the scenario ran past its 0.7s limit")
    assert result.error is not None
    assert result.error.source == "agent"
    assert 2 <= len(result.conversation.messages) < 20
