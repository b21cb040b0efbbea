"""The spine, end to end: experiment files run by ``clientsim run`` (a real subprocess)
against real agents on 127.0.0.1, every form of ``agent:`` / ``runner.target`` and the
strategy keys (``customer``, ``termination``, ``evaluator``), a plugin's included.

Each test starts its agent in this process, runs the CLI without blocking the event
loop (so the agent answers), and reads what the run wrote: ``summary.json`` and
``artifacts/traces.jsonl`` in the experiment folder. The agents answer from a fixed
table (``tests/integration/spine_agents.py``), so transcripts are asserted whole.
"""

from __future__ import annotations

import json

import pytest

from tests.channels import http_servers as http
from tests.channels import ws_server as ws
from tests.integration.spine_agents import (
    BROKEN,
    explain,
    openai_agent,
    run_cli,
    run_ok,
    shop_answer,
    summary,
    traces,
    transcript,
    webhook_agent,
    write,
    ws_agent,
)


# ------------------------------------------- (a) an OpenAI-compatible URL as the agent

OPENAI_CONFIG = """
name: openai_url
description: an OpenAI-compatible agent named by its URL
iterations: 2
agent: "{url}/v1"
customer:
  strategy: scripted
  lines: ["It is order 42", "Can I get a refund instead?"]
inputs: ["Where is my order?"]
outcomes:
  - name: refunded
    patterns: ["refund issued"]
    sender: agent
pass_outcomes: [refunded]
"""

SHOP_TALK = [
    ("customer", "Where is my order?"),
    ("agent", "Which order number, please?"),
    ("customer", "It is order 42"),
    ("agent", "Order 42 is on its way and arrives tomorrow."),
    ("customer", "Can I get a refund instead?"),
    ("agent", "Done: refund issued for order 42."),
]


def as_openai(talk: list[tuple[str, str]]) -> list[dict[str, str]]:
    roles = {"customer": "user", "agent": "assistant"}
    return [{"role": roles[role], "content": content} for role, content in talk]


async def test_an_openai_url_agent_gets_the_whole_history_every_turn(tmp_path):
    async with http.serve(openai_agent()) as agent:
        write(tmp_path, OPENAI_CONFIG.format(url=agent.url))
        folder = await run_ok(tmp_path)

    lines = traces(folder)
    assert len(lines) == 2
    for line in lines:
        assert line["status"] == "done"
        assert transcript(line) == SHOP_TALK
        assert line["outcome"] == "refunded"
        assert line["ending"]["reason"] == "both_passed"
    # Three requests per conversation, each with the conversation so far.
    assert [r.path for r in agent.requests] == ["/v1/chat/completions"] * 6
    histories = [r.body["messages"] for r in agent.requests]
    expected = [as_openai(SHOP_TALK[:end]) for end in (1, 3, 5)]
    assert histories == expected * 2
    result = summary(folder)
    assert result["by_outcome"] == {"refunded": 2}
    assert result["pass_rate"]["value"] == 1.0


async def test_a_broken_openai_agent_turns_the_outcome_red(tmp_path):
    async with http.serve(openai_agent(lambda _: BROKEN)) as agent:
        write(tmp_path, OPENAI_CONFIG.format(url=agent.url))
        folder = await run_ok(tmp_path)  # the conversations ran; the agent failed them

    assert len(agent.requests) == 6
    for line in traces(folder):
        assert line["status"] == "done"
        assert line["outcome"] is None
        assert [content for role, content in transcript(line) if role == "agent"] == [
            BROKEN
        ] * 3
    result = summary(folder)
    assert result["by_outcome"] == {"none": 2}
    assert result["pass_rate"]["value"] == 0.0
    assert result["pass_rate"]["passed"] == 0


# ------------------------------------------------------- (b) a JSON webhook as the agent

WEBHOOK_CONFIG = """
name: webhook
description: a JSON webhook agent as a channel strategy
agent:
  strategy: http
  base_url: "{url}"
  mode: webhook
  path: /hooks/chat
  request_template: {{text: "{{message}}", conversation: "{{session_id}}"}}
  reply_path: data.replies
customer:
  strategy: scripted
  lines: ["It is order 42"]
inputs: ["Where is my order?", "Can I get a refund instead?"]
outcomes:
  - name: answered
    patterns: ["on its way", "refund issued"]
    sender: agent
pass_outcomes: [answered]
"""


async def test_a_webhook_agent_gets_one_message_per_request_in_its_session(tmp_path):
    async with http.serve(webhook_agent()) as agent:
        write(tmp_path, WEBHOOK_CONFIG.format(url=agent.url))
        folder = await run_ok(tmp_path)

    by_input = {line["input"]: line for line in traces(folder)}
    assert transcript(by_input["Where is my order?"]) == [
        ("customer", "Where is my order?"),
        ("agent", "Which order number, please?"),
        ("agent", "(turn 1)"),
        ("customer", "It is order 42"),
        ("agent", "Order 42 is on its way and arrives tomorrow."),
        ("agent", "(turn 2)"),
    ]
    assert transcript(by_input["Can I get a refund instead?"]) == [
        ("customer", "Can I get a refund instead?"),
        ("agent", "Done: refund issued for order 42."),
        ("agent", "(turn 1)"),
        ("customer", "It is order 42"),
        ("agent", "Order 42 is on its way and arrives tomorrow."),
        ("agent", "(turn 2)"),
    ]
    assert {line["outcome"] for line in by_input.values()} == {"answered"}
    # The template's body: only the new message, and one session id per conversation.
    assert [r.path for r in agent.requests] == ["/hooks/chat"] * 4
    sessions: dict[str, list[str]] = {}
    for request in agent.requests:
        assert set(request.body) == {"text", "conversation"}
        sessions.setdefault(request.body["conversation"], []).append(
            request.body["text"]
        )
    assert sorted(sessions.values()) == [
        ["Can I get a refund instead?", "It is order 42"],
        ["Where is my order?", "It is order 42"],
    ]


@pytest.mark.parametrize("form", ["url", "webhook"])
async def test_an_http_agent_run_leaves_no_unclosed_connection(tmp_path, form):
    async with http.serve(
        openai_agent() if form == "url" else webhook_agent()
    ) as agent:
        config = OPENAI_CONFIG if form == "url" else WEBHOOK_CONFIG
        write(tmp_path, config.format(url=agent.url))
        done = await run_cli("run", "simulation.yaml", cwd=tmp_path)

    assert done.returncode == 0, explain(done)
    assert agent.requests
    assert "Unclosed" not in done.stderr, explain(done)


# ------------------------------------------------------------ (c) a WebSocket agent

WS_CONFIG = """
name: websocket
description: a WebSocket agent named by its URL, an LLM customer
agent: "{url}"
customer: {{strategy: llm}}
multi_turn:
  max_turns: 2
inputs: ["Where is my order?"]
"""


async def test_a_websocket_agent_answers_every_message_of_an_llm_customer(tmp_path):
    async with ws.serve(ws_agent()) as server:
        write(tmp_path, WS_CONFIG.format(url=server.url))
        folder = await run_ok(tmp_path)

    (line,) = traces(folder)
    talk = transcript(line)
    assert line["status"] == "done"
    assert line["ending"] == {
        "reason": "max_messages",
        "detail": "reached the limit of 10 messages",
        "message_count": 10,
    }
    assert len(talk) == 10
    # customer, then the agent's two messages for what the customer said, and so on;
    # the tenth message (the customer's) reaches the limit and is not sent.
    customers = [content for role, content in talk if role == "customer"]
    assert customers[0] == "Where is my order?"
    assert len(customers) == 4
    for turn, said in enumerate(customers[:-1]):
        assert talk[3 * turn : 3 * turn + 3] == [
            ("customer", said),
            ("agent", shop_answer(said)),
            ("agent", "Anything else?"),
        ]
    assert talk[-1] == ("customer", customers[-1])
    (connection,) = server.connections
    sent = [ws_frame_content(frame) for frame in connection.received]
    assert sent == customers[:-1]


def ws_frame_content(frame: str) -> str:
    data = json.loads(frame)
    assert data["type"] == "message"
    return data["content"]


# ------------------------------------------------- (d) a compiled LangGraph graph

GRAPH_MODULE = """
import operator
from typing import Annotated, TypedDict

from langchain_core.messages import AIMessage, BaseMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph

from joiner import join


class State(TypedDict):
    messages: list[BaseMessage]  # what this call was sent (no reducer: replaced)
    memory: Annotated[list[str], operator.add]  # what the graph remembers


def reply(state: State) -> dict:
    sent = state["messages"]
    heard = [message.text for message in sent if message.type == "human"]
    known = [*state.get("memory", []), *heard]
    answer = f"sent {len(sent)}, remember {len(known)}: {join(known)}"
    return {"messages": [*sent, AIMessage(answer)], "memory": heard}


def build(checkpointer=None):
    builder = StateGraph(State)
    builder.add_node("reply", reply)
    builder.add_edge(START, "reply")
    builder.add_edge("reply", END)
    return builder.compile(checkpointer=checkpointer)


with_memory = build(InMemorySaver())
without_memory = build()
"""

GRAPH_CONFIG = """
name: graph
description: a compiled LangGraph graph as runner.target
runner:
  target: "shop_graph:{graph}"
  working_directory: app
  python_path: [lib]
customer:
  strategy: scripted
  lines: ["It is order 42", "Can I get a refund instead?"]
inputs: ["Where is my order?"]
"""

GRAPH_FILES = {
    "app/shop_graph.py": GRAPH_MODULE,
    "lib/joiner.py": "def join(texts):\n    return ' | '.join(texts)\n",
}


async def test_a_graph_with_a_checkpointer_is_sent_only_the_new_message(tmp_path):
    said = ["Where is my order?", "It is order 42", "Can I get a refund instead?"]
    memory = [" | ".join(said[:turn]) for turn in (1, 2, 3)]
    results = {}
    for graph in ("with_memory", "without_memory"):
        folder = tmp_path / graph
        write(folder, GRAPH_CONFIG.format(graph=graph), GRAPH_FILES)
        (line,) = traces(await run_ok(folder))
        assert line["status"] == "done", line["error"]
        results[graph] = transcript(line)

    # Stateful (inferred from the checkpointer): one new message per call, and the
    # graph remembers the rest itself.
    assert results["with_memory"] == [
        ("customer", said[0]),
        ("agent", f"sent 1, remember 1: {memory[0]}"),
        ("customer", said[1]),
        ("agent", f"sent 1, remember 2: {memory[1]}"),
        ("customer", said[2]),
        ("agent", f"sent 1, remember 3: {memory[2]}"),
    ]
    # Stateless (no checkpointer): the whole conversation every call.
    assert results["without_memory"] == [
        ("customer", said[0]),
        ("agent", f"sent 1, remember 1: {memory[0]}"),
        ("customer", said[1]),
        ("agent", f"sent 3, remember 2: {memory[1]}"),
        ("customer", said[2]),
        ("agent", f"sent 5, remember 3: {memory[2]}"),
    ]


# ---------------------------------------------------------- (e) a sync function target

SYNC_AGENT = """
from pathlib import Path

CALLS = Path(__file__).parent / "calls.txt"


def answer(message: str) -> str:
    with CALLS.open("a", encoding="utf-8") as calls:
        calls.write(message + "\\n")
    return f"[{len(message)} chars] noted: {message}"
"""

SYNC_CONFIG = """
name: sync_target
description: a plain function as runner.target, the mock supervisor as customer
runner:
  target: "shop_agent:answer"
  python_path: [src]
multi_turn:
  enabled: true
  supervisor:
    provider: mock
    metadata:
      scripted_questions: ["It is order 42"]
      mock_closing: "Bye now."
inputs: ["Where is my order?", "Hello?"]
outcomes:
  - name: noted
    patterns: ["noted: it is order 42"]
    sender: agent
pass_outcomes: [noted]
"""


async def test_a_sync_function_target_talks_with_the_mock_supervisor(tmp_path):
    write(tmp_path, SYNC_CONFIG, {"src/shop_agent.py": SYNC_AGENT})
    folder = await run_ok(tmp_path)

    by_input = {line["input"]: line for line in traces(folder)}
    for first in ("Where is my order?", "Hello?"):
        line = by_input[first]
        assert transcript(line) == [
            ("customer", first),
            ("agent", f"[{len(first)} chars] noted: {first}"),
            ("customer", "It is order 42"),
            ("agent", "[14 chars] noted: It is order 42"),
            ("customer", "Bye now."),
        ]
        assert line["ending"]["reason"] == "supervisor"
        assert line["outcome"] == "noted"
    calls = (tmp_path / "src" / "calls.txt").read_text(encoding="utf-8").splitlines()
    assert sorted(calls) == sorted(
        ["Where is my order?", "Hello?", "It is order 42", "It is order 42"]
    )
