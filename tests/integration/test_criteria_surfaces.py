"""Criteria from the pytest plugin (pytester) and from an experiment file (the CLI)."""

from __future__ import annotations

import json
import textwrap

import pytest

from clientsim.render.html import write_html_report
from tests.integration.test_cli import (
    clientsim,
    explain,
    offline_env,
    started,
    traces,
    write_project,
)


_ARGS = ("-p", "no:langsmith_plugin", "-p", "no:cacheprovider", "-p", "clientsim")

_AGENT = """
def agent(message: str) -> str:
    return "Let me transfer you to a colleague."
"""


@pytest.fixture(name="env")
def _env() -> dict[str, str]:
    return offline_env()


@pytest.fixture(name="suite")
def _suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\nanyio_mode = auto\n")
    pytester.makepyfile(agent_under_test=_AGENT)
    pytester.syspathinsert()
    return pytester


def test_assert_criteria_failure_shows_the_criteria_reasons_and_seeds(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(
        test_agent="""
        import pytest
        from clientsim.pytest_plugin import assert_criteria

        from agent_under_test import agent


        @pytest.mark.clientsim(runs=2, seed=5, threshold=0.5)
        async def test_apologises(simulate):
            results = await simulate(
                agent,
                intents=["my order is late"],
                max_messages=2,
                criteria=["the agent apologises"],
            )
            assert_criteria(
                results,
                ["the agent apologises", "the agent does not transfer the customer"],
            )


        async def test_passes(simulate):
            results = await simulate(agent, intents=["hi"], max_messages=2)
            assert assert_criteria(results, ["the agent transfers the customer"]) == 1.0
            assert_criteria(results.runs[0], ["the agent does not apologise"])
            assert_criteria(results.runs[0].result, ["the agent never apologises"])
        """
    )
    result = suite.runpytest_subprocess(*_ARGS)
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*criteria met in 0% of runs (0/2), below the threshold 50%*",
            "*run seed: 5*",
            "*seed=*",
            "*failed 'the agent apologises': no agent message apologises*",
            (
                "*failed 'the agent does not transfer the customer' (judged offline): "
                "message 1 (agent) escalates*"
            ),
        ]
    )
    # clientsim's own frames are hidden: the assertion's source is not printed.
    assert "def assert_criteria" not in result.stdout.str()


_FILE = """\
name: criteria-cli
description: criteria from a file
inputs: ["my order is late"]
agent: {{system_prompt: "You are a support agent."}}
outcomes:
  - {{name: handled, description: "handled well"}}
{extra}
"""


def test_an_experiment_file_judges_criteria_into_the_traces(tmp_path, env):
    extra = textwrap.dedent(
        """\
        criteria:
          - the agent apologises
          - the agent is empathetic
        evaluator:
          strategy: criteria
          criteria: ["the agent asks a question"]
          outcome: handled
        """
    )
    config = write_project(tmp_path, _FILE.format(extra=extra))
    done = clientsim("run", config, "--iterations", "2", cwd=tmp_path, env=env)
    assert done.returncode == 0, explain(done)
    _, folder = started(done)
    found = traces(folder)
    assert len(found) == 2
    for trace in found:
        criteria = trace["criteria"]
        assert [item["criterion"] for item in criteria] == [
            "the agent apologises",
            "the agent is empathetic",
        ]
        assert criteria[1]["passed"] is False
        assert criteria[1]["reason"].startswith("cannot judge offline")
        assert all(isinstance(item["messages"], list) for item in criteria)
        assert trace["token_usage"]["judge"]["calls"] >= 1
    # The HTML report shows each conversation's criteria with their verdicts.
    page = write_html_report(folder).read_text(encoding="utf-8")
    assert '["the agent is empathetic",false,"cannot judge offline' in page
    metadata = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["config"]["criteria"] == [
        "the agent apologises",
        "the agent is empathetic",
    ]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("criteria: the agent apologises", "criteria: expected a list"),
        ("criteria: ['fine', '']", "criteria[1]: expected a non-blank string"),
        (
            "evaluator: {strategy: criteria, criteria: [x]}",
            "evaluator: outcome evaluator 'criteria' needs option(s) 'outcome'",
        ),
        (
            "evaluator: {strategy: criteria, criteria: [x], outcome: handed}",
            "evaluator.outcome: 'handed' is not an outcome name; allowed: 'handled'",
        ),
    ],
)
def test_a_bad_criteria_key_exits_2_naming_it(tmp_path, env, extra, expected):
    config = write_project(tmp_path, _FILE.format(extra=extra))
    done = clientsim("run", config, cwd=tmp_path, env=env)
    assert done.returncode == 2, explain(done)
    assert expected in done.stderr, explain(done)
