"""The pytest ``simulate`` fixture against real agents, through ``pytester``.

Each outer test writes a tiny inner suite and runs it in a subprocess. The URL agent
is a loopback OpenAI-compatible server started by the outer test: the inner pytest
runs in a worker thread, so this event loop keeps answering it. Inner tests assert
with ``assert_outcome_rate``; a broken agent must fail them.
"""

from __future__ import annotations

import anyio
import pytest

from tests.channels import http_servers as http
from tests.integration.spine_agents import (
    BROKEN,
    CLIENTSIM_SRC,
    cli_env,
    openai_agent,
    shop_answer,
)


_ARGS = ("-p", "no:langsmith_plugin", "-p", "no:cacheprovider", "-p", "clientsim")

_INI = """
[pytest]
anyio_mode = auto
"""

# Every inner suite first checks that it runs this worktree's clientsim.
_SAME_CLIENTSIM = f"""
import clientsim

def test_runs_the_clientsim_under_test():
    assert clientsim.__file__.startswith({str(CLIENTSIM_SRC)!r})
"""


@pytest.fixture(name="suite")
def _suite(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> pytest.Pytester:
    env = cli_env()
    for name in ("PYTHONPATH", "OPENAI_BASE_URL", "PYTHONDONTWRITEBYTECODE"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("CLIENTSIM_DISABLE_PLUGINS", raising=False)
    pytester.makeini(_INI)
    pytester.makepyfile(test_same_clientsim=_SAME_CLIENTSIM)
    return pytester


async def run_suite(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """The inner suite in a subprocess, from a worker thread (the loop keeps serving)."""
    with anyio.fail_after(120):
        return await anyio.to_thread.run_sync(
            lambda: pytester.runpytest_subprocess(*_ARGS, *args)
        )


# --------------------------------------------------------------- a URL as the agent

URL_SUITE = """
import pytest
from clientsim.assertions import assert_outcome_rate

URL = "__URL__"


@pytest.mark.clientsim(runs=2, seed=3, threshold=1.0)
async def test_the_shop_agent_answers(simulate):
    results = await simulate(
        URL,
        intents=["Where is my order?"],
        customer={"strategy": "scripted", "lines": ["It is order 42"]},
        outcomes={"on_its_way": {"patterns": ["on its way"], "sender": "agent"}},
    )
    assert len(results) == 2
    talks = [
        [(m.sender.value, m.content) for m in run.result.conversation.messages]
        for run in results
    ]
    print("TALKS", talks)
    assert all(run.result.error is None for run in results)
    assert_outcome_rate(results, "on_its_way")
"""


@pytest.mark.parametrize("broken", [False, True], ids=["working", "broken"])
async def test_simulate_with_a_url_agent(suite, broken):
    answer = (lambda _: BROKEN) if broken else shop_answer
    async with http.serve(openai_agent(answer)) as agent:
        suite.makepyfile(test_agent=URL_SUITE.replace("__URL__", f"{agent.url}/v1"))
        result = await run_suite(suite, "-s")

    # two runs (at once), two customer messages each: four requests, each with
    # the conversation so far
    assert len(agent.requests) == 4
    assert sorted(len(r.body["messages"]) for r in agent.requests) == [1, 1, 3, 3]
    if broken:
        result.assert_outcomes(passed=1, failed=1)
        result.stdout.fnmatch_lines(
            [
                "*outcome 'on_its_way' rate 0% (0/2 runs) is below the threshold 100%*",
                f"*agent: {BROKEN}*",
            ]
        )
    else:
        result.assert_outcomes(passed=2)
        talk = [
            ("customer", "Where is my order?"),
            ("agent", "Which order number, please?"),
            ("customer", "It is order 42"),
            ("agent", "Order 42 is on its way and arrives tomorrow."),
        ]
        assert f"TALKS {[talk, talk]!r}" in result.stdout.str()


# --------------------------------------------------------- a compiled graph as the agent

GRAPH_SUITE = """
import operator
from typing import Annotated, TypedDict

import pytest
from langchain_core.messages import AIMessage, BaseMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph

from clientsim.assertions import assert_outcome_rate


class State(TypedDict):
    messages: list[BaseMessage]
    memory: Annotated[list[str], operator.add]


def reply(state: State) -> dict:
    sent = state["messages"]
    heard = [message.text for message in sent if message.type == "human"]
    known = [*state.get("memory", []), *heard]
    return {
        "messages": [*sent, AIMessage(f"sent {len(sent)}, remember {len(known)}")],
        "memory": heard,
    }


builder = StateGraph(State)
builder.add_node("reply", reply)
builder.add_edge(START, "reply")
builder.add_edge("reply", END)
GRAPH = builder.compile(__CHECKPOINTER__)


@pytest.mark.clientsim(runs=2, seed=9, threshold=1.0)
async def test_the_graph_remembers(simulate):
    results = await simulate(
        GRAPH,
        intents=["My parcel never arrived"],
        max_messages=4,
        outcomes={"remembered": {"patterns": ["sent 1, remember 2"], "sender": "agent"}},
    )
    for run in results:
        print("AGENT", [m.content for m in run.result.conversation.messages
                        if m.sender.value == "agent"])
    assert_outcome_rate(results, "remembered")
"""


@pytest.mark.parametrize("memory", [True, False], ids=["checkpointer", "none"])
async def test_simulate_with_a_compiled_graph(suite, memory):
    checkpointer = "checkpointer=InMemorySaver()" if memory else ""
    suite.makepyfile(test_graph=GRAPH_SUITE.replace("__CHECKPOINTER__", checkpointer))
    result = await run_suite(suite, "-s")

    if memory:  # stateful, inferred: one new message a call, the graph remembers
        result.assert_outcomes(passed=2)
        said = "AGENT ['sent 1, remember 1', 'sent 1, remember 2']"
        assert result.stdout.str().count(said) == 2
    else:  # stateless: the whole history each call, so never "sent 1, remember 2"
        result.assert_outcomes(passed=1, failed=1)
        said = "AGENT ['sent 1, remember 1', 'sent 3, remember 2']"
        assert result.stdout.str().count(said) == 2
        result.stdout.fnmatch_lines(
            ["*outcome 'remembered' rate 0% (0/2 runs) is below the threshold 100%*"]
        )


# --------------------------------------------------- a plugin's evaluator, by name

PLUGIN_SUITE = """
import pytest
from clientsim.assertions import assert_outcome_rate

ANSWERS = {
    "Where is my order?": "Which order number, please?",
    "Can I get a refund instead?": "__REFUND__",
}


def agent(message: str) -> str:
    return ANSWERS.get(message, "Could you say that again?")


@pytest.mark.clientsim(runs=2, seed=1, threshold=1.0)
async def test_the_refund_is_issued(simulate):
    results = await simulate(
        agent,
        intents=["Where is my order?"],
        customer={
            "strategy": "scripted",
            "lines": [
                "Can I get a refund instead?",
                "Thank you, that is all",
                "One more thing",
            ],
        },
        outcomes={"refunded": []},
        evaluator={
            "strategy": "clientsim-example-plugin/keyword",
            "outcome": "refunded",
            "keyword": "refund issued",
        },
        termination=["clientsim-example-plugin/politeness"],
    )
    for run in results:
        assert run.result.ending.reason == "clientsim-example-plugin/politeness"
        assert run.result.conversation.messages[-1].content == "Thank you, that is all"
    assert_outcome_rate(results, "refunded")
"""


@pytest.mark.parametrize("broken", [False, True], ids=["working", "broken"])
async def test_simulate_with_the_plugin_evaluator(suite, broken):
    refund = "Sorry, no refunds." if broken else "Done: refund issued for order 42."
    suite.makepyfile(test_plugin=PLUGIN_SUITE.replace("__REFUND__", refund))
    result = await run_suite(suite)

    if broken:
        result.assert_outcomes(passed=1, failed=1)
        result.stdout.fnmatch_lines(
            [
                "*outcome 'refunded' rate 0% (0/2 runs) is below the threshold 100%*",
                "*agent: Sorry, no refunds.*",
            ]
        )
    else:
        result.assert_outcomes(passed=2)


CLOSING_SUITE = """
import gc

from clientsim.assertions import assert_outcome_rate

URL = "__URL__"


async def test_nothing_is_left_open(simulate):
    results = await simulate(
        URL,
        intents=["Where is my order?"],
        customer={"strategy": "scripted", "lines": []},
        outcomes={"answered": "order number"},
    )
    gc.collect()  # an unclosed aiohttp session warns when it is collected
    assert_outcome_rate(results, "answered", at_least=1.0)
"""


async def test_simulate_with_a_url_agent_leaves_no_connection_open(suite):
    # A project whose pytest turns warnings into errors (as clientsim's own does)
    # must not fail because simulate() left the agent's HTTP session open.
    suite.makeini(_INI + "filterwarnings = error\n")
    async with http.serve(openai_agent()) as agent:
        suite.makepyfile(
            test_closing=CLOSING_SUITE.replace("__URL__", f"{agent.url}/v1")
        )
        result = await run_suite(suite)

    assert len(agent.requests) == 1
    result.assert_outcomes(passed=2)
