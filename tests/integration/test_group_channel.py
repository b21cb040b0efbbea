"""A real agent as a member of a group conversation, over HTTP and WebSocket on
127.0.0.1: it is sent what the others said (labelled), and its reply is its turn."""

from __future__ import annotations

import pytest

from clientsim import (
    ChannelParticipant,
    GroupMember,
    GroupSimulationRunner,
    HTTPChannel,
    Timeouts,
    WebSocketChannel,
)
from tests.channels import http_servers, ws_server
from tests.group_fakes import START, Lines


def ana():
    return Lines("Ana", ["Ship it on Monday.", "Then Monday it is."], role="CEO")


def group(members, **options):
    return GroupSimulationRunner(
        members,
        initial_message="Are we ready to launch?",
        base_timestamp=START,
        **options,
    )


async def test_an_http_agent_takes_its_turns_and_sees_the_others_labelled():
    async with http_servers.serve(
        http_servers.completion("Support is ready."),
        http_servers.completion("Agreed."),
    ) as agent:
        channel = HTTPChannel(base_url=agent.url, model="bot", max_retries=0)
        bot = ChannelParticipant(channel, name="Bot", role="Support")
        result = await group([ana(), bot], max_messages=5).run()
        await channel.aclose()
    said = [(m.speaker.label, m.content) for m in result.conversation.messages]
    assert said == [
        ("Facilitator", "Are we ready to launch?"),
        ("Ana (CEO)", "Ship it on Monday."),
        ("Bot (Support)", "Support is ready."),
        ("Ana (CEO)", "Then Monday it is."),
        ("Bot (Support)", "Agreed."),
    ]
    first, second = (request.body["messages"] for request in agent.requests)
    assert first[-1] == {
        "role": "user",
        "content": "Facilitator: Are we ready to launch?\nAna (CEO): Ship it on Monday.",
    }
    assert second[-1]["content"] == "Ana (CEO): Then Monday it is."
    stamps = [m.timestamp for m in result.conversation.messages]
    assert stamps == sorted(stamps)
    assert result.ending.reason == "max_messages"


async def test_a_url_is_a_member_whose_channel_the_runner_closes():
    async with http_servers.serve(http_servers.completion("Fine by me.")) as agent:
        runner = group([ana(), f"{agent.url}/v1"], max_messages=3)
        result = await runner.run()
    assert [m.speaker.name for m in result.conversation.messages] == [
        "Facilitator",
        "Ana",
        "member 2",
    ]
    assert isinstance(runner.participant("member 2"), ChannelParticipant)
    assert runner._owned == []  # closed and let go when the run ended


async def test_a_failing_agent_ends_the_run_on_the_agent_side():
    async with http_servers.serve(
        http_servers.status(400, body="bad request")
    ) as agent:
        channel = HTTPChannel(base_url=agent.url, max_retries=0)
        bot = GroupMember("Bot", ChannelParticipant(channel, name="Bot"))
        result = await group([ana(), bot]).run()
        await channel.aclose()
    assert result.error is not None
    assert result.error.source == "Bot"
    assert result.error.side == "agent"
    assert [m.speaker.name for m in result.conversation.messages] == [
        "Facilitator",
        "Ana",
    ]


async def test_a_silent_agent_passes():
    with http_servers.silent_port() as port:
        channel = HTTPChannel(base_url=f"http://127.0.0.1:{port}", max_retries=0)
        bot = ChannelParticipant(channel, name="Bot", reply_timeout=0.2)
        result = await group([ana(), bot]).run()
        await channel.aclose()
    assert [m.speaker.name for m in result.conversation.messages] == [
        "Facilitator",
        "Ana",
    ]
    assert result.ending.reason == "all_passed"


async def test_a_websocket_agent_bursts_into_one_message():
    async with ws_server.serve(ws_server.echo_text) as server:
        channel = WebSocketChannel(url=server.url, format="text")
        bot = ChannelParticipant(channel, name="Echo", quiet_seconds=0.3)
        result = await group([ana(), bot], max_messages=3).run()
        await channel.aclose()
    last = result.conversation.messages[-1]
    assert last.speaker.name == "Echo"
    assert last.content.startswith("echo: ")
    assert last.content.endswith("\ndone")


def test_a_channel_participant_needs_a_channel():
    from clientsim.errors import ConfigError

    with pytest.raises(ConfigError, match="needs a Channel"):
        ChannelParticipant("http://nowhere")  # type: ignore[arg-type]


async def test_an_agent_slower_than_the_turn_limit_fails_on_the_agent_side():
    slow = http_servers.slow(5, http_servers.completion("Too late."))
    async with http_servers.serve(slow) as agent:
        channel = HTTPChannel(base_url=agent.url, max_retries=0)
        bot = ChannelParticipant(channel, name="Bot", reply_timeout=10)
        result = await group([ana(), bot], timeouts=Timeouts(turn=0.3)).run()
        await channel.aclose()
    assert result.error is not None
    assert (result.error.source, result.error.side) == ("Bot", "agent")
    assert result.error.type == "builtins.TimeoutError"
