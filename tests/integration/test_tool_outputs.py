"""Tool calls in every output: experiment traces and observations, the HTML report,
the notebook view, the cassette (through the pytest plugin) and interrupts in
experiment files (``multi_turn.auto_approve_tools``)."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from pathlib import Path

import pytest

from clientsim.experiments import run_experiment
from clientsim.experiments.output import record_from_trace
from clientsim.models import RunStatus
from clientsim.render.html import write_html_report
from clientsim.render.notebook import result_html


ROOT = Path(__file__).parents[2]

EXPERIMENT = """
name: tools
description: a LangGraph agent with tools
runner:
  target: "tests.tool_agents:{target}"
  python_path: ["{root}"]
  timeout_seconds: 30
  max_retries: 0
multi_turn:
  auto_approve_tools: {approve}
inputs: ["I want a refund for order 123"]
outcomes:
  - name: refunded
    patterns: ["refund .* issued"]
    sender: agent
pass_outcomes: [refunded]
save_traces: true
output_directory: "{out}"
"""


async def _experiment(tmp_path: Path, target: str, *, approve: bool) -> object:
    path = tmp_path / "simulation.yaml"
    path.write_text(
        EXPERIMENT.format(
            target=target,
            root=ROOT,
            approve=str(approve).lower(),
            out=tmp_path / "out",
        )
    )
    return await run_experiment(path)


async def test_traces_html_and_notebook_show_the_tool_calls(tmp_path: Path) -> None:
    result = await _experiment(tmp_path, "MARKUP_GRAPH", approve=True)
    (record,) = result.records  # type: ignore[attr-defined]
    assert record.status is RunStatus.DONE
    folder: Path = result.directory  # type: ignore[attr-defined]

    (line,) = (folder / "artifacts" / "traces.jsonl").read_text().splitlines()
    trace = json.loads(line)
    agent_entry = trace["transcript"][1]
    assert [call["name"] for call in agent_entry["tool_calls"]] == [
        "lookup_order",
        "refund_order",
    ]
    assert agent_entry["tool_calls"][0]["arguments"] == {"order_id": "<b>123</b>"}
    assert "tool_calls" not in trace["transcript"][0]  # the customer's message
    assert record_from_trace(trace) == record  # read back, tool calls included

    observations_file = folder / "artifacts" / "observations.jsonl"
    observations = [
        json.loads(text) for text in observations_file.read_text().splitlines()
    ]
    assert observations[1]["tool_calls"][1]["result"] == "refunded <b>123</b>"

    page = write_html_report(folder).read_text()
    assert "lookup_order(order_id=" in page
    assert "<b>123</b>" not in page  # markup in the data stays escaped
    assert "\\u003cb\\u003e123" in page
    assert '"tool"' in page  # the script renders the calls in their own line

    view = result_html(record.result)
    assert "tool: lookup_order(order_id=&#x27;&lt;b&gt;123&lt;/b&gt;&#x27;)" in view
    assert "-&gt; refunded &lt;b&gt;123&lt;/b&gt;" in view
    assert "<b>123</b>" not in view


@pytest.mark.parametrize("approve", [True, False])
async def test_experiment_auto_approve_tools_maps_to_the_interrupt(
    tmp_path: Path, approve: bool
) -> None:
    result = await _experiment(tmp_path, "ASKING_GRAPH", approve=approve)
    (record,) = result.records  # type: ignore[attr-defined]
    assert record.result is not None
    ending = record.result.ending
    if approve:
        assert ending.reason != "agent_interrupted"
        calls = record.result.conversation.messages[1].tool_calls
        assert "interrupt" in [call.name for call in calls]
    else:
        assert ending.reason == "agent_interrupted"
        assert json.loads(ending.detail)["action"] == "refund_order"
        assert not record.result.ok


_INI = """
[pytest]
anyio_mode = auto
"""
_ARGS = ("-p", "no:langsmith_plugin", "-p", "no:cacheprovider", "-p", "clientsim")


def test_pytest_plugin_cassette_keeps_and_replays_tool_calls(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(_INI)
    # the agents module, copied beside the inner tests (it imports only libraries)
    pytester.makepyfile(tool_agents=(ROOT / "tests" / "tool_agents.py").read_text())
    pytester.makepyfile(
        test_agent=textwrap.dedent(
            """
            from clientsim.pytest_plugin import (
                assert_tool_called, assert_tool_not_called, assert_trajectory,
            )
            from tool_agents import build_graph


            async def test_refund(simulate, clientsim_cassette):
                results = await simulate(
                    build_graph(),
                    intents=["I want a refund for order 123"],
                    outcomes={"refunded": "refund .* issued"},
                    max_messages=2,
                )
                assert_tool_called(results, "lookup_order", order_id="123")
                assert_tool_not_called(results, "cancel_order")
                assert_trajectory(results, ["lookup_order", "refund_order"])
                assert_trajectory(results, ["refund_order"], mode="superset")


            async def test_wrong_order(simulate):
                results = await simulate(
                    build_graph(),
                    intents=["I want a refund for order 123"],
                    max_messages=2,
                )
                assert_trajectory(results, ["refund_order", "lookup_order"])
            """
        )
    )
    recorded = pytester.runpytest_subprocess(*_ARGS, "--clientsim-record")
    recorded.assert_outcomes(passed=1, failed=1)
    recorded.stdout.fnmatch_lines(
        [
            "*tool-call trajectory (strict): fails in 1 of 1 runs*",
            (
                "*first difference at call 1: expected refund_order, got "
                "lookup_order(order_id='123')*"
            ),
        ]
    )
    # clientsim's own frames are hidden from the failure's traceback
    assert "raise AssertionError" not in recorded.stdout.str()

    cassette = pytester.path / "cassettes" / "test_refund_asyncio.sqlite"
    with sqlite3.connect(cassette) as connection:
        payloads = [row[0] for row in connection.execute("SELECT payload FROM entries")]
    turns = [json.loads(p) for p in payloads if '"events"' in p]
    events = [event for turn in turns for event in turn["events"]]
    with_calls = [event for event in events if event.get("tool_calls")]
    assert with_calls
    assert with_calls[0]["tool_calls"][0] == {
        "name": "lookup_order",
        "arguments": {"order_id": "123"},
        "id": "c1",
        "result": '{"order_id": "123", "status": "delivered"}',
    }

    replayed = pytester.runpytest_subprocess(*_ARGS, "-k", "test_refund")
    replayed.assert_outcomes(passed=1)
