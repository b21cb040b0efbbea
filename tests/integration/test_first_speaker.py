"""``first="agent"``: the agent opens the conversation, on every surface.

Against a real WebSocket agent on 127.0.0.1 that greets on connect, a callable agent
(which can only answer), a simulated agent in a Full run, ``simulate()`` and a cassette
that records the greeting as turn 0 and replays it without the agent.
"""

from __future__ import annotations

import anyio
import pytest

from clientsim import (
    FullSimulationRunner,
    HybridSimulationRunner,
    LLMParticipant,
    MessageDraft,
    ParticipantRole,
    ScriptedParticipant,
    simulate,
)
from clientsim.channels import HTTPChannel, TargetChannel, WebSocketChannel
from clientsim.errors import ConfigError
from clientsim.experiments import Cassette
from clientsim.runners.build import build_runner
from tests.channels import http_servers as http
from tests.channels import ws_server as ws


AGENT = ParticipantRole.AGENT
CUSTOMER = ParticipantRole.CUSTOMER
GREETING = "Welcome to Acme support! How can I help?"


def said(result):
    return [(m.sender, m.content) for m in result.conversation.messages]


# ----------------------------------------------------------------- Hybrid, WebSocket


async def test_a_websocket_greeting_is_the_first_message(intent, outcomes):
    customer = LLMParticipant(CUSTOMER, "offline", intent=intent)
    async with (
        ws.serve(ws.greet_first(GREETING)) as server,
        WebSocketChannel(server.url) as channel,
    ):
        runner = HybridSimulationRunner(
            customer,
            channel,
            intent,
            outcomes,
            max_messages=4,
            quiet_period_seconds=0.2,
            reply_timeout_seconds=5,
            first="agent",
        )
        with anyio.fail_after(10):
            result = await runner.run()
    assert result.ok, result.error
    messages = result.conversation.messages
    assert (messages[0].sender, messages[0].content) == (AGENT, GREETING)
    # The customer answered the greeting from its intent, and the agent heard it.
    assert messages[1].sender is CUSTOMER
    assert "reset my password" in messages[1].content.lower()
    assert messages[2].content == f"Noted: {messages[1].content}"
    assert [m.sender for m in messages] == [AGENT, CUSTOMER, AGENT, CUSTOMER]
    assert server.connections[0].received[0].find(messages[1].content) > 0


async def test_a_greeting_burst_is_kept_whole_and_the_opener_answers_it(
    intent, outcomes
):
    async with (
        ws.serve(ws.greet_first("Hi!", "I'm the Acme bot.")) as server,
        WebSocketChannel(server.url) as channel,
    ):
        runner = HybridSimulationRunner(
            ScriptedParticipant(CUSTOMER, []),
            channel,
            intent,
            outcomes,
            initial_message=MessageDraft("My order is late", CUSTOMER),
            max_messages=10,
            quiet_period_seconds=0.2,
            first="agent",
        )
        with anyio.fail_after(10):
            result = await runner.run()
    assert said(result) == [
        (AGENT, "Hi!"),
        (AGENT, "I'm the Acme bot."),
        (CUSTOMER, "My order is late"),
        (AGENT, "Noted: My order is late"),
    ]
    assert result.ending.reason == "both_passed"


async def test_an_agent_that_does_not_greet_ends_agent_silent_within_the_timeout(
    intent, outcomes
):
    async with (
        ws.serve(ws.answer_twice) as server,
        WebSocketChannel(server.url) as channel,
    ):
        runner = HybridSimulationRunner(
            LLMParticipant(CUSTOMER, "offline", intent=intent),
            channel,
            intent,
            outcomes,
            reply_timeout_seconds=0.3,
            first="agent",
        )
        start = anyio.current_time()
        with anyio.fail_after(5):
            result = await runner.run()
        elapsed = anyio.current_time() - start
    assert result.ending.reason == "agent_silent"
    assert "first='agent'" in result.ending.detail
    assert "0.3s" in result.ending.detail
    assert result.conversation.messages == ()
    assert result.error is None
    assert runner.silent_turns == 1
    assert server.connections[0].received == []  # the customer never spoke
    assert 0.3 <= elapsed < 1.3


async def test_a_callable_agent_cannot_open_and_is_not_waited_for(intent, outcomes):
    calls: list[str] = []

    async def agent(message: str) -> str:
        calls.append(message)
        return "hello"

    runner = HybridSimulationRunner(
        LLMParticipant(CUSTOMER, "offline", intent=intent),
        TargetChannel(agent),
        intent,
        outcomes,
        reply_timeout_seconds=30,
        first="agent",
    )
    with anyio.fail_after(5):  # far below the 30 s reply timeout
        result = await runner.run()
    assert result.ending.reason == "agent_silent"
    assert "when the session opened" in result.ending.detail
    assert calls == []


async def test_an_http_agent_has_no_opening_and_gets_no_request(intent, outcomes):
    async with (
        http.serve(http.completion("Hello!")) as agent,
        HTTPChannel(base_url=f"{agent.url}/v1", model="bot") as channel,
    ):
        runner = HybridSimulationRunner(
            LLMParticipant(CUSTOMER, "offline", intent=intent),
            channel,
            intent,
            outcomes,
            reply_timeout_seconds=30,
            first="agent",
        )
        with anyio.fail_after(5):
            result = await runner.run()
    assert result.ending.reason == "agent_silent"
    assert result.conversation.messages == ()
    assert agent.requests == []  # an OpenAI-style endpoint speaks only when asked


# ------------------------------------------------------------------ Full, simulated


async def test_a_simulated_agent_opens_a_full_run(intent, outcomes, base_time):
    runner = FullSimulationRunner(
        LLMParticipant(CUSTOMER, "offline", intent=intent),
        LLMParticipant(AGENT, "offline:1"),
        None,
        intent,
        outcomes,
        max_messages=3,
        base_timestamp=base_time,
        first="agent",
    )
    result = await runner.run()
    messages = result.conversation.messages
    assert [m.sender for m in messages] == [AGENT, CUSTOMER, AGENT]
    assert messages[0].content == (
        "Hi, thanks for contacting support! How can I help you today?"
    )
    assert messages[0].timestamp == base_time
    assert "reset my password" in messages[1].content.lower()
    assert messages[0].timestamp < messages[1].timestamp < messages[2].timestamp


async def test_a_fixed_opener_answers_the_agent_in_a_full_run(
    intent, outcomes, base_time, hello
):
    runner = FullSimulationRunner(
        ScriptedParticipant(CUSTOMER, []),
        ScriptedParticipant(AGENT, ["Good morning, Acme here.", "Let me look."]),
        hello,
        intent,
        outcomes,
        base_timestamp=base_time,
        first="agent",
    )
    result = await runner.run()
    assert said(result) == [
        (AGENT, "Good morning, Acme here."),
        (CUSTOMER, hello.content),
        (AGENT, "Let me look."),
    ]
    assert result.conversation.messages[1].timestamp > base_time


async def test_a_simulated_agent_with_no_opening_ends_agent_silent(intent, outcomes):
    runner = FullSimulationRunner(
        ScriptedParticipant(CUSTOMER, ["hi"]),
        ScriptedParticipant(AGENT, []),
        None,
        intent,
        outcomes,
        first="agent",
    )
    result = await runner.run()
    assert result.ending.reason == "agent_silent"
    assert result.conversation.messages == ()


async def test_an_opening_from_the_wrong_side_fails_the_run(intent, outcomes):
    runner = FullSimulationRunner(
        ScriptedParticipant(CUSTOMER, ["hi"]),
        ScriptedParticipant(CUSTOMER, ["not an agent"]),
        None,
        intent,
        outcomes,
        first="agent",
    )
    result = await runner.run()
    assert result.ending.reason == "error"
    assert result.error.source == "agent"
    assert "sender CUSTOMER" in result.error.message


# ------------------------------------------------------------ the one path, checked


@pytest.mark.parametrize("first", ["Agent", "bot", "", None, 1])
def test_first_must_be_customer_or_agent(intent, outcomes, hello, first):
    with pytest.raises(ConfigError, match=r"first must be one of 'customer', 'agent'"):
        FullSimulationRunner(
            ScriptedParticipant(CUSTOMER, []),
            ScriptedParticipant(AGENT, []),
            hello,
            intent,
            outcomes,
            first=first,
        )
    with pytest.raises(ConfigError, match=r"first must be one of 'customer', 'agent'"):
        build_runner(
            customer=ScriptedParticipant(CUSTOMER, []),
            agent=ScriptedParticipant(AGENT, []),
            intent=intent,
            outcomes=outcomes,
            initial_message=hello,
            first=first,
        )


async def test_simulate_refuses_a_bad_first():
    with pytest.raises(ConfigError, match=r"got 'bot'"):
        await simulate(LLMParticipant(AGENT, "offline"), intents=["x"], first="bot")


def test_a_customer_first_full_run_needs_an_opener(intent, outcomes):
    with pytest.raises(ConfigError, match=r"initial_message is required"):
        FullSimulationRunner(
            ScriptedParticipant(CUSTOMER, []),
            ScriptedParticipant(AGENT, []),
            None,
            intent,
            outcomes,
        )


async def test_simulate_with_a_greeting_websocket_agent():
    async with ws.serve(ws.greet_first(GREETING)) as server:
        results = await simulate(
            server.url,
            intents=["cancel my subscription"],
            runs=2,
            max_messages=3,
            hybrid={"quiet_period_seconds": 0.2, "reply_timeout_seconds": 5},
            first="agent",
        )
    for run in results.runs:
        messages = run.result.conversation.messages
        assert run.result.ok, run.result.error
        assert (messages[0].sender, messages[0].content) == (AGENT, GREETING)
        assert messages[1].sender is CUSTOMER
        assert "cancel my subscription" in messages[1].content.lower()
        assert messages[2].content == f"Noted: {messages[1].content}"


async def test_simulate_with_a_simulated_agent_speaking_first():
    results = await simulate(
        LLMParticipant(AGENT, "offline:1"),
        intents=["reset my password"],
        max_messages=2,
        first="agent",
    )
    messages = results.runs[0].result.conversation.messages
    assert [m.sender for m in messages] == [AGENT, CUSTOMER]
    assert messages[1].content != "reset my password"  # written, not the intent


async def test_a_recorded_greeting_replays_without_the_agent(tmp_path):
    path = tmp_path / "greeting.cassette"
    options = {
        "intents": ["where is my parcel"],
        "max_messages": 3,
        "hybrid": {"quiet_period_seconds": 0.2, "reply_timeout_seconds": 5},
        "first": "agent",
    }
    async with ws.serve(ws.greet_first(GREETING)) as server:
        url = server.url
        recorded = await simulate(
            url, cassette=Cassette(path, mode="record"), **options
        )
    # The server is gone: the greeting (turn 0) and the replies come from the file.
    replayed = await simulate(url, cassette=Cassette(path, mode="replay"), **options)
    assert said(replayed.runs[0].result) == said(recorded.runs[0].result)
    assert said(replayed.runs[0].result)[0] == (AGENT, GREETING)


# ------------------------------------------------------------------ the pytest fixture


def test_the_simulate_fixture_forwards_first(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nanyio_mode = auto\n")
    pytester.makepyfile(
        test_greeting="""
        from clientsim import LLMParticipant, ParticipantRole

        AGENT = ParticipantRole.AGENT


        async def test_agent_opens(simulate):
            results = await simulate(
                LLMParticipant(AGENT, "offline:1"),
                intents=["reset my password"],
                max_messages=2,
                first="agent",
            )
            messages = results.runs[0].result.conversation.messages
            assert [m.sender for m in messages] == [AGENT, ParticipantRole.CUSTOMER]
            assert messages[0].content.startswith("Hi, thanks for contacting")


        async def test_a_bad_first_is_refused(simulate):
            import pytest
            from clientsim.errors import ConfigError

            with pytest.raises(ConfigError, match="'customer', 'agent'"):
                await simulate("ws://127.0.0.1:9/x", intents=["x"], first="user")
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:langsmith_plugin", "-p", "no:cacheprovider", "-p", "clientsim"
    )
    result.assert_outcomes(passed=2)


# ------------------------------------------------------------------ experiment files


async def test_an_experiment_with_a_simulated_agent_speaking_first(tmp_path):
    from clientsim.experiments import ExperimentConfig, run_experiment

    config = ExperimentConfig.from_dict(
        {
            "name": "greet",
            "description": "the simulated agent opens",
            "agent": {"system_prompt": "You help with passwords."},
            "inputs": ["I forgot my password"],
            "first": "agent",
        },
        base_dir=tmp_path,
    )
    result = await run_experiment(config)
    (record,) = result.records
    messages = record.result.conversation.messages
    assert [(m.sender, m.content) for m in messages][:2] == [
        (AGENT, "Hi, thanks for contacting support! How can I help you today?"),
        (CUSTOMER, "I forgot my password"),  # the input answers the opening
    ]
    assert [m.sender for m in messages] == [AGENT, CUSTOMER, AGENT]  # one turn


def test_with_the_agent_first_the_opener_must_be_the_customer_s(intent, outcomes):
    with pytest.raises(ConfigError, match=r"its sender must be CUSTOMER; got AGENT"):
        FullSimulationRunner(
            ScriptedParticipant(CUSTOMER, []),
            ScriptedParticipant(AGENT, []),
            MessageDraft("Hello from the agent", AGENT),
            intent,
            outcomes,
            first="agent",
        )
