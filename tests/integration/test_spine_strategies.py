"""Strategies named in an experiment file, end to end through ``clientsim run``: a
plugin's termination strategy and outcome evaluator chosen by name, and the names and
agent strings the file refuses at load (exit 2, one line, a did-you-mean).

The agents and helpers are those of ``test_spine.py`` (``spine_agents.py``).
"""

from __future__ import annotations

import pytest

from tests.channels import http_servers as http
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
    write,
)


POLITENESS = "clientsim-example-plugin/politeness"
KEYWORD = "clientsim-example-plugin/keyword"


# ------------------------------- (f) a plugin's termination and evaluator, by name

PLUGIN_CONFIG = f"""
name: plugin_strategies
description: a plugin's termination strategy and outcome evaluator named in the file
agent: "{{url}}/v1"
multi_turn:
  enabled: true
  max_turns: 10
  supervisor:
    provider: mock
    metadata:
      scripted_questions:
        - It is order 42
        - Can I get a refund instead?
        - Thank you, that is all
        - One more thing
        - And another
termination: [{POLITENESS}]
evaluator:
  strategy: {KEYWORD}
  outcome: refunded
  keyword: Refund Issued
inputs: ["Where is my order?"]
outcomes:
  - name: refunded
    description: the agent issued a refund
pass_outcomes: [refunded]
"""


@pytest.mark.parametrize("broken", [False, True], ids=["working", "broken"])
async def test_a_plugin_termination_ends_early_and_its_evaluator_judges(
    tmp_path, broken
):
    answer = (lambda _: BROKEN) if broken else shop_answer
    async with http.serve(openai_agent(answer)) as agent:
        write(tmp_path, PLUGIN_CONFIG.format(url=agent.url))
        folder = await run_ok(tmp_path)

    (line,) = traces(folder)
    customers = [
        "Where is my order?",
        "It is order 42",
        "Can I get a refund instead?",
        "Thank you, that is all",
    ]
    talk = transcript(line)
    assert [content for role, content in talk if role == "customer"] == customers
    assert [content for role, content in talk if role == "agent"] == [
        BROKEN if broken else shop_answer(said) for said in customers[:-1]
    ]
    # The politeness plugin ended it at the "thank you", before the script ran out.
    assert line["ending"] == {
        "reason": POLITENESS,
        "detail": "'thank you' was said 1 time(s)",
        "message_count": 7,
    }
    assert len(agent.requests) == 3
    result = summary(folder)
    assert result["ending_reasons"] == {POLITENESS: 1}
    if broken:
        assert line["outcome"] is None
        assert result["pass_rate"]["value"] == 0.0
    else:
        assert line["outcome"] == "refunded"
        assert result["pass_rate"]["value"] == 1.0


# ----------------------------------------------------------- what the file refuses


@pytest.mark.parametrize(
    ("key", "value", "where", "meant"),
    [
        (
            "termination",
            "[clientsim-example-plugin/politness]",
            "termination[0]",
            POLITENESS,
        ),
        (
            "evaluator",
            "{strategy: clientsim-example-plugin/keywrd, outcome: x}",
            "evaluator",
            KEYWORD,
        ),
        ("customer", "{strategy: scriptd, lines: [hi]}", "customer", "scripted"),
        ("agent", '{strategy: htp, base_url: "http://127.0.0.1:9"}', "agent", "http"),
    ],
    ids=["termination", "evaluator", "customer", "agent"],
)
async def test_an_unknown_strategy_name_exits_2_naming_the_key_and_the_fix(
    tmp_path, key, value, where, meant
):
    agent = "" if key == "agent" else 'agent: "http://127.0.0.1:9/v1"\n'
    write(
        tmp_path,
        f"name: t\ndescription: typo\ninputs: [hi]\n{agent}{key}: {value}\n",
    )
    done = await run_cli("run", "simulation.yaml", cwd=tmp_path)

    assert done.returncode == 2, explain(done)
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: ")
    assert f"{where}.strategy: unknown " in line
    assert line.endswith(f"did you mean {meant!r}?")
    assert not (tmp_path / "experiments").exists()


@pytest.mark.parametrize(
    ("agent", "says"),
    [
        ("ftp://shop:hunter22@127.0.0.1/agent", "scheme 'ftp'"),
        ("notamodule", "'notamodule'"),
    ],
)
async def test_an_agent_string_of_no_known_form_exits_2(tmp_path, agent, says):
    write(
        tmp_path, f'name: t\ndescription: bad agent\ninputs: [hi]\nagent: "{agent}"\n'
    )
    done = await run_cli("run", "simulation.yaml", cwd=tmp_path)

    assert done.returncode == 2, explain(done)
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: ")
    assert "agent: expected an http(s):// URL" in line
    assert says in line
    assert "hunter22" not in done.stderr
    assert not (tmp_path / "experiments").exists()
