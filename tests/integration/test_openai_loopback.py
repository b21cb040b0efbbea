"""The `openai:` model spec against a real OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest

from clientsim import (
    FullSimulationRunner,
    LLMOutcomeEvaluator,
    LLMParticipant,
    ParticipantRole,
    ScriptedParticipant,
)
from clientsim.errors import ConfigError
from clientsim.llm import aclose_models, resolve_model
from tests.openai_server import serve


ROOT = Path(__file__).parents[2]


@pytest.fixture(name="openai_env")
async def _openai_env(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    yield monkeypatch
    await aclose_models()


async def test_openai_spec_needs_a_key_or_a_base_url(openai_env):
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        resolve_model("openai:gpt-4o-mini")


async def test_openai_spec_names_a_model(openai_env):
    openai_env.setenv("OPENAI_API_KEY", "sk-test")
    with pytest.raises(ConfigError, match="names the model"):
        resolve_model("openai:")


async def test_a_conversation_on_an_openai_compatible_server(
    openai_env, hello, intent, outcomes, base_time
):
    async with serve() as server:
        openai_env.setenv("OPENAI_BASE_URL", server.base_url)
        model = resolve_model("openai:local-model")
        assert resolve_model("openai:local-model") is model  # one object per spec
        customer = ScriptedParticipant(
            ParticipantRole.CUSTOMER, ["I forgot my password", "It's sam@example.com"]
        )
        agent = LLMParticipant(ParticipantRole.AGENT, "openai:local-model")
        result = await FullSimulationRunner(
            customer,
            agent,
            hello,
            intent,
            outcomes,
            base_timestamp=base_time,
            outcome_evaluator=LLMOutcomeEvaluator("openai:local-model"),
        ).run()
    assert result.ok, result.error
    agent_lines = [
        m.content
        for m in result.conversation.messages
        if m.sender is ParticipantRole.AGENT
    ]
    assert (
        agent_lines[1] == "Sorry to hear that. Which email address is on the account?"
    )
    assert result.token_usage.agent.calls == len(agent_lines)
    assert result.token_usage.agent.total_tokens == 18 * len(agent_lines)
    assert result.token_usage.judge.calls == len(result.conversation.messages)
    chat = [r for r in server.requests if "response_format" not in r]
    judged = [r for r in server.requests if "response_format" in r]
    assert {r["model"] for r in server.requests} == {"local-model"}
    assert chat[0]["messages"][0]["role"] == "system"
    schema = judged[0]["response_format"]["json_schema"]
    assert schema["name"] == "OutcomeJudgement"
    assert schema["schema"]["properties"]["outcome"]["enum"][-1] == "none yet"


async def test_the_provider_retries_a_503(
    openai_env, hello, intent, outcomes, base_time
):
    async with serve() as server:
        openai_env.setenv("OPENAI_BASE_URL", server.base_url)
        server.fail_next = 1
        agent = LLMParticipant(ParticipantRole.AGENT, "openai:retry-model")
        customer = ScriptedParticipant(ParticipantRole.CUSTOMER, [])
        result = await FullSimulationRunner(
            customer, agent, hello, intent, outcomes, base_timestamp=base_time
        ).run()
    assert result.ok
    assert len(server.requests) == 2


async def test_the_main_example_runs_on_an_openai_compatible_server(openai_env):
    async with serve() as server:
        env = {
            **os.environ,
            "CLIENTSIM_MODEL": "openai:gpt-4o-mini",
            "OPENAI_BASE_URL": server.base_url,
        }
        with anyio.fail_after(60):
            process = await anyio.run_process(
                [sys.executable, str(ROOT / "examples" / "support_desk.py")],
                env=env,
                check=False,
            )
    output = process.stdout.decode()
    assert process.returncode == 0, process.stderr.decode()
    assert "Outcome: " in output
    assert "Ended by: " in output
    assert len(server.requests) >= 4
