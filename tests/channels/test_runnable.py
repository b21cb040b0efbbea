"""RunnableChannel: LangChain runnables and real LangGraph graphs as agents."""

from __future__ import annotations

import textwrap
import threading
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph

from clientsim.channels.runnable import RunnableChannel, RunnableSession
from clientsim.errors import ChannelError, ConfigError
from clientsim.llm.offline import OfflineChatModel
from clientsim.registry import Registry
from tests.channels.targets_agents import turn
from tests.processes import run_script


AGENTS = "tests.channels.targets_agents"


class SupportBot:
    """A one-node graph whose node calls the offline chat model and records its input."""

    def __init__(self, *, memory: bool, fail: bool = False) -> None:
        self.model = OfflineChatModel(seed=3)
        self.seen: list[list[tuple[str, str]]] = []
        self.fail = fail
        builder = StateGraph(MessagesState)
        builder.add_node("agent", self.agent)
        builder.add_edge(START, "agent")
        builder.add_edge("agent", END)
        self.graph = builder.compile(
            checkpointer=InMemorySaver() if memory else None, name="support_bot"
        )

    async def agent(self, state: MessagesState) -> dict[str, Any]:
        self.seen.append(
            [(message.type, message.text) for message in state["messages"]]
        )
        if self.fail:
            raise RuntimeError("the knowledge base is down")
        return {"messages": [await self.model.ainvoke(state["messages"])]}


def tool_graph(*, memory: bool = False, preamble: str = "") -> Any:
    """A graph whose turn has a tool call, a tool result and a final answer."""

    def agent(state: MessagesState) -> dict[str, Any]:
        call = {"name": "lookup", "args": {"order": 7}, "id": "call_1"}
        return {
            "messages": [
                AIMessage(content=preamble, tool_calls=[call]),
                ToolMessage(content='{"ships": "Monday"}', tool_call_id="call_1"),
                AIMessage(content="Your order ships Monday."),
                AIMessage(content="Anything else?"),
            ]
        }

    builder = StateGraph(MessagesState)
    builder.add_node("agent", agent)
    builder.add_edge(START, "agent")
    builder.add_edge("agent", END)
    return builder.compile(checkpointer=InMemorySaver() if memory else None)


async def texts(session: RunnableSession, text: str) -> list[str]:
    return [message.content for message in await turn(session, text)]


# ----- a real LangGraph graph ---------------------------------------------------------


async def test_stateful_graph_gets_only_the_new_message_and_remembers():
    bot = SupportBot(memory=True)
    channel = RunnableChannel(bot.graph, stateful=True)
    async with await channel.create_session() as session:
        first = await texts(session, "I forgot my password")
        second = await texts(session, "my email is a@b.c")
    assert len(first) == 1
    assert len(second) == 1
    # Had the whole history been sent, the checkpointed state would hold it twice.
    assert bot.seen == [
        [("human", "I forgot my password")],
        [
            ("human", "I forgot my password"),
            ("ai", first[0]),
            ("human", "my email is a@b.c"),
        ],
    ]
    expected = await OfflineChatModel(seed=3).ainvoke(
        [HumanMessage("I forgot my password")]
    )
    assert first == [expected.text]
    state = await bot.graph.aget_state(
        {"configurable": {"thread_id": session.session_id}}
    )
    assert [m.text for m in state.values["messages"]] == [
        "I forgot my password",
        first[0],
        "my email is a@b.c",
        second[0],
    ]


async def test_stateful_sessions_do_not_share_a_thread():
    bot = SupportBot(memory=True)
    channel = RunnableChannel(bot.graph, stateful=True)
    async with (
        await channel.create_session() as one,
        await channel.create_session() as two,
    ):
        await texts(one, "I forgot my password")
        await texts(two, "Where is my order?")
        await texts(one, "my email is a@b.c")
    assert one.session_id != two.session_id
    assert bot.seen[1] == [("human", "Where is my order?")]
    assert [kind for kind, _ in bot.seen[2]] == ["human", "ai", "human"]
    assert bot.seen[2][0] == ("human", "I forgot my password")


async def test_stateless_graph_gets_the_whole_history_each_turn():
    bot = SupportBot(memory=False)
    channel = RunnableChannel(bot.graph, stateful=False)
    async with await channel.create_session() as session:
        first = await texts(session, "I forgot my password")
        second = await texts(session, "my email is a@b.c")
        conversation = await session.get_conversation()
    assert bot.seen == [
        [("human", "I forgot my password")],
        [
            ("human", "I forgot my password"),
            ("ai", first[0]),
            ("human", "my email is a@b.c"),
        ],
    ]
    assert len(second) == 1
    assert [m.content for m in conversation.messages] == [
        "I forgot my password",
        first[0],
        "my email is a@b.c",
        second[0],
    ]


async def test_tool_messages_and_tool_call_only_messages_are_skipped():
    channel = RunnableChannel(tool_graph(), stateful=False)
    async with await channel.create_session() as session:
        assert await texts(session, "Where is order 7?") == [
            "Your order ships Monday.",
            "Anything else?",
        ]


async def test_an_ai_message_with_text_and_tool_calls_is_kept():
    channel = RunnableChannel(tool_graph(preamble="Let me look."), stateful=False)
    async with await channel.create_session() as session:
        assert await texts(session, "Where is order 7?") == [
            "Let me look.",
            "Your order ships Monday.",
            "Anything else?",
        ]


async def test_output_last_keeps_only_the_final_answer():
    channel = RunnableChannel(tool_graph(memory=True), stateful=True, output="last")
    async with await channel.create_session() as session:
        assert await texts(session, "Where is order 7?") == ["Anything else?"]
        assert await texts(session, "And order 8?") == ["Anything else?"]


async def test_an_exception_inside_the_graph_is_a_channel_error():
    bot = SupportBot(memory=True, fail=True)
    channel = RunnableChannel(bot.graph, stateful=True)
    async with await channel.create_session() as session:
        with pytest.raises(
            ChannelError, match=r"'support_bot' failed: RuntimeError: the knowledge"
        ) as info:
            await texts(session, "hi")
    assert isinstance(info.value.__cause__, RuntimeError)


# ----- plain runnables ----------------------------------------------------------------


async def test_a_runnable_lambda_over_the_message_list():
    seen: list[list[str]] = []

    def agent(messages: list[BaseMessage]) -> str:
        seen.append([message.type for message in messages])
        return f"{len(messages)} so far; you said {messages[-1].text!r}"

    channel = RunnableChannel(RunnableLambda(agent), stateful=False, input_key=None)
    async with await channel.create_session() as session:
        assert await texts(session, "hi") == ["1 so far; you said 'hi'"]
        assert await texts(session, "again") == ["3 so far; you said 'again'"]
    assert seen == [["human"], ["human", "ai", "human"]]


async def test_a_chat_model_as_the_agent():
    model = OfflineChatModel(seed=3)
    channel = RunnableChannel(model, stateful=False, input_key=None)
    async with await channel.create_session() as session:
        replies = await texts(session, "I forgot my password")
    expected = await model.ainvoke([HumanMessage("I forgot my password")])
    assert replies == [expected.text]


async def test_stateful_sends_the_session_id_as_thread_id_and_keeps_the_config():
    def agent(messages: list[BaseMessage], config: RunnableConfig) -> str:
        configurable = config["configurable"]
        return f"{configurable['thread_id']} {configurable['tenant']} {config['tags']}"

    channel = RunnableChannel(
        RunnableLambda(agent),
        stateful=True,
        input_key=None,
        config={"tags": ["sim"], "configurable": {"tenant": "acme"}},
    )
    async with await channel.create_session() as session:
        assert await texts(session, "hi") == [f"{session.session_id} acme ['sim']"]
    assert channel.config == {"tags": ["sim"], "configurable": {"tenant": "acme"}}


async def test_stateless_sends_no_thread_id():
    def agent(messages: list[BaseMessage], config: RunnableConfig) -> str:
        return str("thread_id" in config.get("configurable", {}))

    channel = RunnableChannel(RunnableLambda(agent), stateful=False, input_key=None)
    async with await channel.create_session() as session:
        assert await texts(session, "hi") == ["False"]


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ("plain text", ["plain text"]),
        ("", []),
        (AIMessage("a message"), ["a message"]),
        (AIMessage("", tool_calls=[{"name": "t", "args": {}, "id": "1"}]), []),
        ([AIMessage("one"), AIMessage("two")], ["one", "two"]),
        ([HumanMessage("old"), AIMessage("old answer"), HumanMessage("hi")], []),
        ({"messages": [HumanMessage("hi"), AIMessage("new")], "other": 1}, ["new"]),
        ({"messages": []}, []),
    ],
    ids=["str", "empty", "ai", "tool-call-only", "list", "no-new", "dict", "none-new"],
)
async def test_output_extraction(result, expected):
    channel = RunnableChannel(RunnableLambda(lambda _: result), stateful=False)
    async with await channel.create_session() as session:
        assert await texts(session, "hi") == expected


@pytest.mark.parametrize(
    ("result", "match"),
    [
        (42, "returned int; a runnable returns a str"),
        (None, "returned NoneType"),
        ({"answer": "hi"}, r"dict with keys \['answer'\], and input_key is 'messages'"),
        ({"messages": ["hi"]}, "returned str among its messages"),
        ({"messages": "hi"}, "returned str; a runnable returns"),
    ],
)
async def test_unusable_output_is_a_channel_error(result, match):
    channel = RunnableChannel(RunnableLambda(lambda _: result), stateful=False)
    async with await channel.create_session() as session:
        with pytest.raises(ChannelError, match=match):
            await texts(session, "hi")


async def test_a_dict_result_without_an_input_key_is_a_channel_error():
    channel = RunnableChannel(
        RunnableLambda(lambda _: {"messages": []}), stateful=False, input_key=None
    )
    async with await channel.create_session() as session:
        with pytest.raises(ChannelError, match="input_key is None"):
            await texts(session, "hi")


async def test_an_exception_in_a_runnable_lambda_names_it():
    def grumpy(messages):
        raise ValueError("not today")

    channel = RunnableChannel(RunnableLambda(grumpy), stateful=False, input_key=None)
    async with await channel.create_session() as session:
        with pytest.raises(
            ChannelError, match=r"'grumpy' failed: ValueError: not today"
        ):
            await texts(session, "hi")


# ----- configuration ------------------------------------------------------------------


def test_stateful_is_inferred_from_the_checkpointer():
    assert RunnableChannel(RunnableLambda(str)).stateful is False
    assert RunnableChannel(_graph(checkpointer=False)).stateful is False
    assert RunnableChannel(_graph(checkpointer=True)).stateful is True
    # An explicit choice still wins, and is still checked against the graph.
    with pytest.raises(ConfigError, match="has no checkpointer"):
        RunnableChannel(_graph(checkpointer=False), stateful=True)


def _graph(*, checkpointer: bool):
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import END, START, MessagesState, StateGraph

    def reply(state: MessagesState) -> dict:
        return {"messages": [("ai", "ok")]}

    builder = StateGraph(MessagesState)
    builder.add_node("reply", reply)
    builder.add_edge(START, "reply")
    builder.add_edge("reply", END)
    return builder.compile(checkpointer=InMemorySaver() if checkpointer else None)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        (
            {"stateful": "yes"},
            r"stateful must be True .*, False .* or None .*; got 'yes'",
        ),
        ({"stateful": False, "input_key": ""}, "input_key must be a non-empty string"),
        ({"stateful": False, "input_key": 3}, "input_key must be .*got 3"),
        (
            {"stateful": False, "output": "all"},
            "output must be 'new' or 'last'; got 'all'",
        ),
        ({"stateful": False, "config": ["tags"]}, "config must be a mapping"),
        (
            {"stateful": False, "config": {"configurable": 1}},
            r"config\['configurable'\] must be a mapping",
        ),
        (
            {"stateful": True, "config": {"configurable": {"thread_id": "t"}}},
            "sets 'thread_id', but with stateful=True",
        ),
    ],
)
def test_bad_options_are_config_errors(options, match):
    with pytest.raises(ConfigError, match=match):
        RunnableChannel(RunnableLambda(str), **options)


def test_not_a_runnable():
    with pytest.raises(ConfigError, match=r"must be a LangChain Runnable.*got object"):
        RunnableChannel(object(), stateful=False)  # type: ignore[arg-type]


def test_stateful_needs_a_graph_with_a_checkpointer():
    with pytest.raises(ConfigError, match="'support_bot' has no checkpointer"):
        RunnableChannel(SupportBot(memory=False).graph, stateful=True)


def test_stateless_rejects_a_graph_with_a_checkpointer():
    with pytest.raises(ConfigError, match=r"has a checkpointer.*use stateful=True"):
        RunnableChannel(SupportBot(memory=True).graph, stateful=False)


async def test_from_config_imports_a_runnable_or_a_factory():
    for target in (f"{AGENTS}:shouting", f"{AGENTS}:build_shouting"):
        channel = RunnableChannel.from_config(
            runnable=target, stateful=False, input_key=None
        )
        async with await channel.create_session() as session:
            assert await texts(session, "hi") == ["HI"]


@pytest.mark.parametrize(
    ("target", "match"),
    [
        (f"{AGENTS}:not_callable", "gives a int, not a LangChain Runnable"),
        (
            f"{AGENTS}:build_nothing",
            "calling it with no arguments failed: RuntimeError",
        ),
        (f"{AGENTS}:nothing_here", "has no attribute 'nothing_here'"),
    ],
)
def test_from_config_with_a_bad_target(target, match):
    with pytest.raises(ConfigError, match=match):
        RunnableChannel.from_config(runnable=target, stateful=False)


def test_from_config_through_a_registry_infers_stateful():
    registry = Registry[RunnableChannel](
        family="channel", hook="clientsim_register_channels"
    )
    registry.register("test_runnable", RunnableChannel.from_config)
    inferred = registry.build(
        {"strategy": "test_runnable", "runnable": f"{AGENTS}:shouting"}
    )
    assert inferred.stateful is False
    with pytest.raises(ConfigError, match=r"needs option.*'runnable'"):
        registry.build({"strategy": "test_runnable", "stateful": False})
    channel = registry.build(
        {"strategy": "test_runnable", "stateful": False, "input_key": None},
        runnable=RunnableLambda(str),
    )
    assert channel.stateful is False
    assert channel.input_key is None


# ----- sync runnables: abandonable daemon threads, not asyncio's executor ------------


async def test_a_sync_runnable_runs_in_a_daemon_thread_an_async_one_on_the_loop():
    seen: list[tuple[str, bool]] = []

    def sync_agent(messages: list[BaseMessage]) -> str:
        here = threading.current_thread()
        seen.append((here.name, here.daemon))
        return f"sync: {messages[-1].text}"

    async def async_agent(messages: list[BaseMessage]) -> str:
        here = threading.current_thread()
        seen.append((here.name, here.daemon))
        return f"async: {messages[-1].text}"

    sync = RunnableChannel(RunnableLambda(sync_agent), input_key=None)
    wrapped = RunnableChannel(
        RunnableLambda(sync_agent).with_config(tags=["t"]), input_key=None
    )
    both = RunnableChannel(
        RunnableLambda(sync_agent, afunc=async_agent), input_key=None
    )
    for channel, expected in [(sync, True), (wrapped, True), (both, False)]:
        assert channel.sync_only is expected
    async with await sync.create_session() as session:
        assert await texts(session, "hello") == ["sync: hello"]
    async with await both.create_session() as session:
        assert await texts(session, "hello") == ["async: hello"]
    (sync_name, sync_daemon), (async_name, async_daemon) = seen
    assert sync_name.startswith("clientsim: runnable")
    assert sync_daemon
    assert async_name == threading.main_thread().name
    assert not async_daemon
    # A graph has its own ainvoke: it is awaited as before.
    assert RunnableChannel(SupportBot(memory=False).graph).sync_only is False


SYNC_HANG_SCRIPT = textwrap.dedent(
    """
    import threading, time
    import anyio
    from langchain_core.runnables import RunnableLambda
    from clientsim import Intent, Outcome, Outcomes, ParticipantRole, ScriptedParticipant
    from clientsim.channels.runnable import RunnableChannel
    from clientsim.runners import HybridSimulationRunner

    def agent(messages):
        threading.Event().wait()  # blocks forever

    async def main():
        runner = HybridSimulationRunner(
            customer=ScriptedParticipant(ParticipantRole.CUSTOMER, ["Hi"]),
            channel=RunnableChannel(RunnableLambda(agent), input_key=None),
            intent=Intent(ParticipantRole.CUSTOMER, "help"),
            outcomes=Outcomes((Outcome("done", "done"),)),
            reply_timeout_seconds=1,
            max_duration_seconds=2,
        )
        start = time.monotonic()
        result = await runner.run()
        print(time.monotonic() - start, flush=True)
        print(result.ending.reason, flush=True)
        print(result.ending.detail, flush=True)
        print(time.monotonic(), flush=True)

    anyio.run(main)
    """
)


def test_a_sync_runnable_that_never_returns_ends_at_the_deadline_and_exits(tmp_path):
    done, exited = run_script(SYNC_HANG_SCRIPT, tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    took, reason, detail, returned = done.stdout.strip().splitlines()
    assert float(took) < 2 + 1  # max_duration_seconds + 1 s at most
    assert reason in {"agent_silent", "max_duration"}
    assert "an agent call was abandoned after" in detail
    assert "abandoned the call to runnable" in done.stderr  # logged, by name
    assert exited - float(returned) < 3  # no stuck thread held the exit
