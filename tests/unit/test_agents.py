"""resolve_agent: every form of agent becomes a participant or a channel that works;
and the ``agent:`` string check an experiment file gets at load.

Channels are exercised for real: a turn through the resolved channel, against a
function, a LangChain runnable, a LangGraph graph, or an HTTP or WebSocket agent on
127.0.0.1.
"""

from __future__ import annotations

import importlib
import operator
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import RunnableLambda
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph

from clientsim.channels.base import Channel
from clientsim.channels.http import HTTPChannel
from clientsim.channels.memory import InMemoryChannel
from clientsim.channels.runnable import RunnableChannel
from clientsim.channels.target import TargetChannel
from clientsim.channels.websocket import WebSocketChannel
from clientsim.errors import ConfigError, UnknownStrategyError
from clientsim.experiments import ExperimentConfig
from clientsim.models import ParticipantRole
from clientsim.participants.base import Participant
from clientsim.participants.scripted import ScriptedParticipant
from clientsim.runners.agents import agent_kind, resolve_agent
from tests.channels import http_servers as http
from tests.channels import targets_agents
from tests.channels import ws_server as ws
from tests.channels.targets_agents import turn


AGENTS = "tests.channels.targets_agents"
SECRET = "hunter22"  # noqa: S105 - a password that must never be shown


async def talk(channel: Participant | Channel, *texts: str) -> list[list[str]]:
    """Each text as the customer in one session; the agent's replies to each."""
    assert isinstance(channel, Channel)
    async with channel:
        session = await channel.create_session()
        async with session:
            return [[m.content for m in await turn(session, text)] for text in texts]


# ------------------------------------------------------------- objects as they are


def test_a_participant_is_itself():
    agent = ScriptedParticipant(ParticipantRole.AGENT, ["Hello"])
    assert resolve_agent(agent) is agent
    assert agent_kind(agent) == "simulated"


def test_a_channel_is_itself():
    channel = InMemoryChannel()
    assert resolve_agent(channel) is channel
    assert agent_kind(channel) == "channel"


async def test_a_sync_function_becomes_a_target_channel():
    channel = resolve_agent(targets_agents.echo)
    assert isinstance(channel, TargetChannel)
    assert await talk(channel, "hi", "again") == [["echo: hi"], ["echo: again"]]


async def test_an_async_function_becomes_a_target_channel():
    channel = resolve_agent(targets_agents.async_echo)
    assert isinstance(channel, TargetChannel)
    assert await talk(channel, "hi") == [["async echo: hi"]]


async def test_a_bound_method_keeps_its_instance():
    agent = targets_agents.Agent()
    channel = resolve_agent(agent.process)
    assert await talk(channel, "a", "b") == [["turn 1: a"], ["turn 2: b"]]


async def test_auto_approve_tools_reaches_a_function_that_declares_it():
    def approving(message: str, *, auto_approve_tools: bool = False) -> str:
        return f"approved={auto_approve_tools}"

    assert await talk(resolve_agent(approving, auto_approve_tools=True), "x") == [
        ["approved=True"]
    ]
    assert await talk(resolve_agent(approving), "x") == [["approved=False"]]
    # a function without the parameter is called as it is
    plain = resolve_agent(targets_agents.echo, auto_approve_tools=True)
    assert await talk(plain, "x") == [["echo: x"]]


def _shout(state: dict[str, list[BaseMessage]]) -> str:
    return state["messages"][-1].text.upper()


shouting = RunnableLambda(_shout)


async def test_a_langchain_runnable_becomes_a_stateless_runnable_channel():
    channel = resolve_agent(shouting)
    assert isinstance(channel, RunnableChannel)
    assert channel.stateful is False
    assert await talk(channel, "hi there", "again") == [["HI THERE"], ["AGAIN"]]


async def test_a_chat_model_is_sent_the_messages_themselves():
    # A chat model takes a list of messages, never a {"messages": ...} dict.
    model = GenericFakeChatModel(messages=iter(["Which order?", "It ships today."]))
    channel = resolve_agent(model)
    assert isinstance(channel, RunnableChannel)
    assert await talk(channel, "Where is my order?", "Number 42") == [
        ["Which order?"],
        ["It ships today."],
    ]


# ------------------------------------------------------------- LangGraph graphs


class State(TypedDict):
    messages: list[BaseMessage]  # what one call was sent
    memory: Annotated[list[str], operator.add]  # what the graph remembers


def _reply(state: State) -> dict[str, Any]:
    sent = state["messages"]
    heard = [message.text for message in sent if message.type == "human"]
    known = [*state.get("memory", []), *heard]
    answer = f"sent {len(sent)}, remember {len(known)}"
    return {"messages": [*sent, AIMessage(answer)], "memory": heard}


def graph(*, memory: bool) -> Any:
    builder = StateGraph(State)
    builder.add_node("reply", _reply)
    builder.add_edge(START, "reply")
    builder.add_edge("reply", END)
    return builder.compile(checkpointer=InMemorySaver() if memory else None)


async def test_a_graph_with_a_checkpointer_is_sent_only_the_new_message():
    channel = resolve_agent(graph(memory=True))
    assert isinstance(channel, RunnableChannel)
    assert channel.stateful is True
    assert await talk(channel, "a", "b", "c") == [
        ["sent 1, remember 1"],
        ["sent 1, remember 2"],
        ["sent 1, remember 3"],
    ]


async def test_a_graph_without_a_checkpointer_is_sent_the_whole_history():
    channel = resolve_agent(graph(memory=False))
    assert isinstance(channel, RunnableChannel)
    assert channel.stateful is False
    assert await talk(channel, "a", "b", "c") == [
        ["sent 1, remember 1"],
        ["sent 3, remember 2"],
        ["sent 5, remember 3"],
    ]


def test_an_explicit_stateful_choice_that_cannot_work_is_refused():
    with pytest.raises(ConfigError, match="has no checkpointer"):
        resolve_agent(graph(memory=False), stateful=True)
    with pytest.raises(ConfigError, match="has a checkpointer"):
        resolve_agent(graph(memory=True), stateful=False)


# ------------------------------------------------------------------------ URLs


async def test_an_http_url_is_an_openai_compatible_channel():
    async with http.serve(http.completion("Hello from the agent")) as agent:
        channel = resolve_agent(f"{agent.url}/v1")
        assert isinstance(channel, HTTPChannel)
        assert (channel.base_url, channel.mode) == (f"{agent.url}/v1", "openai")
        assert await talk(channel, "hi") == [["Hello from the agent"]]
    (request,) = agent.requests
    assert request.path == "/v1/chat/completions"
    assert request.body["messages"] == [{"role": "user", "content": "hi"}]


def test_an_https_url_is_an_http_channel():
    channel = resolve_agent("HTTPS://agent.example.com/v1")
    assert isinstance(channel, HTTPChannel)
    assert channel.mode == "openai"
    assert channel.base_url == "HTTPS://agent.example.com/v1"


def test_an_http_url_with_credentials_never_shows_the_password():
    channel = resolve_agent(f"http://shop:{SECRET}@127.0.0.1:8000/v1")
    assert isinstance(channel, HTTPChannel)
    assert SECRET not in repr(channel)


async def test_a_ws_url_is_a_websocket_channel():
    async with ws.serve(ws.answer_twice) as server:
        channel = resolve_agent(server.url)
        assert isinstance(channel, WebSocketChannel)
        assert await talk(channel, "hi") == [["You said: hi", "Anything else?"]]
    (connection,) = server.connections
    assert len(connection.received) == 1


def test_a_wss_url_is_a_websocket_channel_that_hides_the_password():
    channel = resolve_agent(f"wss://bot:{SECRET}@agent.example.com/chat")
    assert isinstance(channel, WebSocketChannel)
    assert SECRET not in repr(channel)


@pytest.mark.parametrize(
    "url",
    [
        f"ftp://shop:{SECRET}@127.0.0.1/agent",
        f"FTP://shop:{SECRET}@127.0.0.1:21/agent",
        f"ftp://{SECRET}@127.0.0.1/agent",
        f"gopher://:{SECRET}@127.0.0.1/agent",
    ],
)
def test_a_url_of_another_scheme_is_refused_without_its_credentials(url):
    with pytest.raises(ConfigError) as caught:
        resolve_agent(url, where="runner.target")
    message = str(caught.value)
    assert SECRET not in message
    assert message.startswith("runner.target ")
    assert "unsupported URL scheme" in message
    assert "use http, https, ws or wss" in message


def test_a_url_without_credentials_is_shown_as_given():
    with pytest.raises(ConfigError, match=r"'file:///etc/agent': unsupported URL"):
        resolve_agent("file:///etc/agent")


# ---------------------------------------------------------------- "module:attr"

AGENT_MODULE = """
from clientsim.channels.memory import InMemoryChannel
from clientsim.models import ParticipantRole
from clientsim.participants.scripted import ScriptedParticipant

channel = InMemoryChannel()
participant = ScriptedParticipant(ParticipantRole.AGENT, ["Hello"])
greeting = "just some text"


class Bot:
    def reply(self, message: str) -> str:
        return f"bot: {message}"
"""


@pytest.fixture(name="agent_module")
def _agent_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    (tmp_path / "spine_unit_agents.py").write_text(textwrap.dedent(AGENT_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "spine_unit_agents"
    sys.modules.pop("spine_unit_agents", None)


async def test_module_attr_naming_a_function():
    channel = resolve_agent(f"{AGENTS}:echo")
    assert isinstance(channel, TargetChannel)
    assert await talk(channel, "hi") == [["echo: hi"]]


async def test_module_attr_naming_a_runnable():
    channel = resolve_agent(f"{__name__}:shouting")
    assert isinstance(channel, RunnableChannel)
    assert await talk(channel, "quiet") == [["QUIET"]]


async def test_module_attr_naming_a_class_method_creates_the_instance(agent_module):
    channel = resolve_agent(f"{agent_module}:Bot.reply")
    assert await talk(channel, "hi") == [["bot: hi"]]


def test_module_attr_naming_a_channel_or_a_participant(agent_module):
    module = importlib.import_module(agent_module)
    assert resolve_agent(f"{agent_module}:channel") is module.channel
    assert resolve_agent(f"{agent_module}:participant") is module.participant


def test_module_attr_naming_a_string_is_refused(agent_module):
    with pytest.raises(ConfigError, match="names a string, not an agent"):
        resolve_agent(f"{agent_module}:greeting")


def test_module_attr_naming_a_missing_module_is_refused():
    with pytest.raises(ConfigError, match="no module named 'no_such_agent_module'"):
        resolve_agent("no_such_agent_module:run")


def test_a_string_of_no_form_is_refused_listing_the_forms():
    with pytest.raises(ConfigError) as caught:
        resolve_agent("notamodule", where="agent")
    message = str(caught.value)
    assert message.startswith("agent must be a Participant, a Channel")
    assert "an http(s):// URL" in message
    assert message.endswith("got 'notamodule'")


@pytest.mark.parametrize("value", [42, None, 1.5, b"http://x"])
def test_a_value_of_no_form_is_refused_naming_where(value):
    with pytest.raises(
        ConfigError, match=rf"^runner.target must be .*; got {type(value).__name__}$"
    ):
        resolve_agent(value, where="runner.target")


# --------------------------------------------------------------------- mappings


async def test_a_mapping_naming_a_channel_strategy_builds_it():
    async with http.serve(http.reply({"data": {"replies": ["one", "two"]}})) as agent:
        channel = resolve_agent(
            {
                "strategy": "http",
                "base_url": agent.url,
                "mode": "webhook",
                "path": "/hook",
                "request_template": {"text": "{message}"},
                "reply_path": "data.replies",
            }
        )
        assert isinstance(channel, HTTPChannel)
        assert channel.mode == "webhook"
        assert await talk(channel, "hi") == [["one", "two"]]
    (request,) = agent.requests
    assert (request.path, request.body) == ("/hook", {"text": "hi"})


def test_a_mapping_naming_a_participant_strategy_builds_an_agent():
    agent = resolve_agent({"strategy": "scripted", "lines": ["Hello"]})
    assert isinstance(agent, ScriptedParticipant)
    assert agent.role is ParticipantRole.AGENT
    assert agent.lines == ("Hello",)


def test_a_mapping_naming_a_plugin_participant_builds_it():
    agent = resolve_agent(
        {"strategy": "clientsim-example-plugin/echo", "prefix": "Echo: "}
    )
    assert isinstance(agent, Participant)
    assert agent.role is ParticipantRole.AGENT
    assert agent.prefix == "Echo: "


def test_a_mapping_with_an_unknown_strategy_suggests_the_closest():
    with pytest.raises(UnknownStrategyError, match="did you mean 'http'"):
        resolve_agent({"strategy": "htp", "base_url": "http://127.0.0.1:9"})


def test_a_mapping_without_a_strategy_lists_the_channels():
    with pytest.raises(
        ConfigError, match=r"needs a 'strategy' key .*'http'.*'websocket'"
    ):
        resolve_agent({"base_url": "http://127.0.0.1:9"}, where="agent")


def test_a_mapping_with_a_bad_option_is_refused():
    with pytest.raises(ConfigError, match="mode"):
        resolve_agent({"strategy": "http", "base_url": "http://h", "mode": "soap"})


# ------------------------------------------- the agent string, checked at load


def config_with(agent: object) -> ExperimentConfig:
    return ExperimentConfig.from_dict(
        {"name": "t", "description": "", "agent": agent, "inputs": ["hi"]}
    )


@pytest.mark.parametrize(
    "agent",
    [
        "http://127.0.0.1:8000/v1",
        "https://agent.example.com/v1",
        "ws://127.0.0.1:8000/agent",
        "wss://agent.example.com/chat",
        "my_agent:run",
        "my_app.agents:Bot.reply",
    ],
)
def test_an_agent_string_of_a_known_form_loads(agent):
    # Only the form is checked at load; a target is imported when the run starts.
    assert config_with(agent).agent == agent


def test_an_ftp_agent_is_refused_at_load_without_its_password():
    with pytest.raises(ConfigError) as caught:
        config_with(f"ftp://shop:{SECRET}@127.0.0.1/agent")
    message = str(caught.value)
    assert "agent: expected an http(s):// URL" in message
    assert "scheme 'ftp'" in message
    assert SECRET not in message


@pytest.mark.parametrize("agent", ["notamodule", "my agent:run", "module:", ":run"])
def test_an_agent_string_of_no_form_is_refused_at_load(agent):
    with pytest.raises(ConfigError, match=r"agent: expected an http\(s\):// URL"):
        config_with(agent)


def test_an_http_agent_url_without_a_host_is_refused_for_the_host():
    with pytest.raises(ConfigError, match="host") as caught:
        config_with("http:///v1")
    assert "scheme 'http'" not in str(caught.value)
