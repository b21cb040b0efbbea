"""TargetChannel: an agent that is a Python callable or a ``module:function`` target."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Any, cast

import anyio
import pytest

from clientsim.channels.base import TurnEnded
from clientsim.channels.target import TargetChannel, TargetSession, import_target
from clientsim.errors import ChannelError, ConfigError
from clientsim.models import Conversation, Message, ParticipantRole
from clientsim.registry import Registry
from tests.channels import targets_agents
from tests.channels.targets_agents import OLD, turn


AGENTS = "tests.channels.targets_agents"


async def one_turn(target: Any, text: str = "Hello", **options: Any) -> list[str]:
    channel = TargetChannel(target, **options)
    async with await channel.create_session() as session:
        return [message.content for message in await turn(session, text)]


# ----- target strings -----------------------------------------------------------------


async def test_module_function():
    assert await one_turn(f"{AGENTS}:echo") == ["echo: Hello"]


async def test_module_async_function():
    assert await one_turn(f"{AGENTS}:async_echo") == ["async echo: Hello"]


async def test_module_class_method_creates_the_class_once_per_channel():
    before = targets_agents.Agent.created
    channel = TargetChannel(f"{AGENTS}:Agent.process")
    assert targets_agents.Agent.created == before + 1
    replies = []
    for _ in range(2):
        async with await channel.create_session() as session:
            replies += await turn(session, "hi")
    assert [m.content for m in replies] == ["turn 1: hi", "turn 2: hi"]
    assert targets_agents.Agent.created == before + 1


async def test_module_class_async_method_gets_the_session_id():
    channel = TargetChannel(f"{AGENTS}:Agent.aprocess")
    async with await channel.create_session() as session:
        replies = await turn(session, "hi")
    assert [m.content for m in replies] == [f"{session.session_id}: hi"]


@pytest.mark.parametrize(
    ("path", "expected"), [("Agent.shout", "HI"), ("Agent.name_it", "Agent: hi")]
)
async def test_static_and_class_methods_do_not_create_an_instance(path, expected):
    before = targets_agents.Agent.created
    assert await one_turn(f"{AGENTS}:{path}", "hi") == [expected]
    assert targets_agents.Agent.created == before


async def test_module_instance_method():
    before = targets_agents.agent.turns
    assert await one_turn(f"{AGENTS}:agent.process", "hi") == [f"turn {before + 1}: hi"]
    assert targets_agents.agent.turns == before + 1


def test_import_target_returns_the_object():
    assert import_target(f"{AGENTS}:not_callable") == 42
    shout = cast("Callable[[str], str]", import_target(f"{AGENTS}:Agent.shout"))
    assert shout("x") == "X"


# ----- callables, sync and async ------------------------------------------------------


async def test_a_sync_callable_runs_in_a_worker_thread():
    threads = []

    def agent(message):
        threads.append(threading.get_ident())
        return "ok"

    assert await one_turn(agent) == ["ok"]
    assert threads
    assert threads[0] != threading.get_ident()


async def test_an_async_callable_runs_on_the_event_loop():
    threads = []

    async def agent(message):
        threads.append(threading.get_ident())
        return "ok"

    assert await one_turn(agent) == ["ok"]
    assert threads == [threading.get_ident()]


async def test_a_callable_object_with_an_async_call_is_awaited():
    class Agent:
        async def __call__(self, message, *, session_id):
            return f"{message} in {len(session_id)}-char session"

    assert await one_turn(Agent()) == ["Hello in 32-char session"]


async def test_a_sync_callable_returning_a_coroutine_is_awaited():
    def agent(message):
        return targets_agents.async_echo(message)

    assert await one_turn(agent) == ["async echo: Hello"]


# ----- what the agent returns ---------------------------------------------------------


async def test_a_message_is_kept_and_stamped_now():
    before = datetime.now(UTC)
    channel = TargetChannel(targets_agents.as_message)
    async with await channel.create_session() as session:
        (reply,) = await turn(session, "hi")
    assert reply.content == "HI"
    assert reply.sender is ParticipantRole.AGENT
    assert reply.timestamp >= before
    assert reply.timestamp != OLD


async def test_a_list_gives_several_messages_in_one_turn():
    channel = TargetChannel(targets_agents.as_list)
    async with await channel.create_session() as session:
        replies = await turn(session, "hi")
        conversation = await session.get_conversation()
    assert [m.content for m in replies] == ["one", "two"]
    assert [m.content for m in conversation.messages] == ["hi", "one", "two"]


async def test_a_tuple_from_an_async_agent():
    async def agent(message):
        return ("a", "b")

    assert await one_turn(agent) == ["a", "b"]


async def test_none_ends_the_turn_without_a_message():
    channel = TargetChannel(targets_agents.silent)
    async with await channel.create_session() as session:
        assert await turn(session, "hi") == []
        assert len(await session.get_conversation()) == 1


async def test_an_async_generator_streams_three_chunks():
    assert await one_turn(targets_agents.stream) == ["Let", "me", "check."]


async def test_async_generator_chunks_reach_the_reader_as_they_come():
    read = [anyio.Event() for _ in range(3)]
    finished = []

    async def agent(message):
        for index, word in enumerate(("Let", "me", "check.")):
            yield word
            await read[index].wait()  # the next chunk waits until this one was read
        finished.append(True)

    channel = TargetChannel(agent)
    session = await channel.create_session()
    hello = Message(
        content="hi", timestamp=datetime.now(UTC), sender=ParticipantRole.CUSTOMER
    )
    got = []
    with anyio.fail_after(5):
        async with session, anyio.create_task_group() as group:
            group.start_soon(session.send, hello)
            async with aclosing(session.events()) as events:
                async for event in events:
                    if isinstance(event, TurnEnded):
                        break
                    got.append(event.content)
                    assert not finished
                    read[len(got) - 1].set()
    assert got == ["Let", "me", "check."]
    assert finished == [True]


async def test_a_sync_generator_streams_its_items():
    assert await one_turn(f"{AGENTS}:sync_stream") == ["first", "second"]


async def test_an_async_iterable_object_streams():
    class Words:
        def __aiter__(self):
            return self

        def __init__(self) -> None:
            self.words = ["x", None, "y"]

        async def __anext__(self):
            if not self.words:
                raise StopAsyncIteration
            return self.words.pop(0)

    assert await one_turn(lambda message: Words()) == ["x", "y"]


# ----- session_id and conversation ----------------------------------------------------


async def test_session_id_is_passed_and_differs_per_session():
    channel = TargetChannel(targets_agents.with_session)
    async with await channel.create_session() as first:
        (a,) = await turn(first, "hi")
    async with await channel.create_session() as second:
        (b,) = await turn(second, "hi")
    assert a.content == f"{first.session_id}: hi"
    assert b.content == f"{second.session_id}: hi"
    assert first.session_id != second.session_id


async def test_the_conversation_so_far_is_passed_with_the_new_message():
    seen: list[Conversation] = []

    def agent(message, conversation):
        seen.append(conversation)
        return "noted"

    channel = TargetChannel(agent)
    async with await channel.create_session() as session:
        await turn(session, "first")
        await turn(session, "second")
    assert [[m.content for m in c.messages] for c in seen] == [
        ["first"],
        ["first", "noted", "second"],
    ]


async def test_a_target_string_gets_the_conversation():
    assert await one_turn(f"{AGENTS}:with_conversation", "hi") == [
        "1 messages, last 'hi'"
    ]


async def test_var_keyword_agents_get_both_keywords():
    assert await one_turn(f"{AGENTS}:with_everything") == ["conversation,session_id"]


async def test_pass_conversation_false_keeps_it_out():
    assert await one_turn(f"{AGENTS}:with_everything", pass_conversation=False) == [
        "session_id"
    ]


def test_pass_conversation_true_needs_an_agent_that_takes_it():
    with pytest.raises(ConfigError, match=r"pass_conversation=True.*'conversation'"):
        TargetChannel(targets_agents.echo, pass_conversation=True)


@pytest.mark.parametrize("bad", ["yes", 1, 0])
def test_pass_conversation_must_be_none_or_a_bool(bad):
    with pytest.raises(
        ConfigError, match="pass_conversation must be None, True or False"
    ):
        TargetChannel(targets_agents.echo, pass_conversation=bad)


async def test_a_method_descriptor_gets_the_message():
    assert await one_turn(str.upper, "hi") == ["HI"]


async def test_builtins_without_a_signature_get_only_the_message():
    assert await one_turn(max, "hi") == ["i"]
    assert await one_turn(iter, "hi") == ["h", "i"]  # an iterator streams


def test_import_target_needs_a_string():
    with pytest.raises(ConfigError, match="a target must be a string"):
        import_target(42)  # type: ignore[arg-type]


# ----- failures -----------------------------------------------------------------------


async def test_an_exception_becomes_a_channel_error_naming_the_target():
    channel = TargetChannel(f"{AGENTS}:broken")
    async with await channel.create_session() as session:
        with pytest.raises(
            ChannelError, match=r"targets_agents:broken.*fell over"
        ) as info:
            await turn(session, "hi")
    assert isinstance(info.value.__cause__, RuntimeError)


async def test_an_async_exception_names_the_callable():
    async def flaky(message):
        raise ValueError("no")

    with pytest.raises(ChannelError, match=r"test_target\..*flaky.*ValueError: no"):
        await one_turn(flaky)


async def test_an_exception_mid_stream_keeps_what_was_said():
    async def agent(message):
        yield "Let me check."
        raise RuntimeError("lost the database")

    channel = TargetChannel(agent)
    async with await channel.create_session() as session:
        with pytest.raises(ChannelError, match="lost the database"):
            await turn(session, "hi")
        messages = (await session.get_conversation()).messages
    assert [m.content for m in messages] == ["hi", "Let me check."]


async def test_an_exception_in_a_sync_generator_becomes_a_channel_error():
    def agent(message):
        yield "one"
        raise KeyError("two")

    with pytest.raises(ChannelError, match="KeyError") as info:
        await one_turn(agent)
    assert isinstance(info.value.__cause__, KeyError)


@pytest.mark.parametrize("result", [42, {"reply": "hi"}, b"bytes", ["ok", 3]], ids=repr)
async def test_an_unsupported_result_says_what_is_allowed(result):
    with pytest.raises(ChannelError, match=r"returned \w+; an agent returns a str"):
        await one_turn(lambda message: result)


async def test_an_unsupported_stream_item_is_a_channel_error():
    async def agent(message):
        yield 3.5

    with pytest.raises(ChannelError, match="returned float"):
        await one_turn(agent)


async def test_a_customer_message_from_the_agent_is_a_channel_error():
    def agent(message):
        return Message(content="hi", timestamp=OLD, sender=ParticipantRole.CUSTOMER)

    with pytest.raises(ChannelError, match="returned a message from customer"):
        await one_turn(agent)


# ----- bad targets --------------------------------------------------------------------


@pytest.mark.parametrize(
    "target", ["no_colon", "mod:", ":func", "mod:a..b", "mod:1abc", "a b:c"]
)
def test_a_malformed_target_string(target):
    with pytest.raises(ConfigError, match=r"'module:function', 'module:Class\.method'"):
        TargetChannel(target)


def test_a_missing_module():
    with pytest.raises(ConfigError, match=r"no module named 'no_such_agents_module'"):
        TargetChannel("no_such_agents_module:run")


def test_a_missing_submodule_names_it():
    with pytest.raises(ConfigError, match=r"no module named 'tests\.channels\.nope'"):
        TargetChannel("tests.channels.nope:run")


def test_a_missing_attribute_lists_what_the_module_has():
    with pytest.raises(ConfigError) as info:
        TargetChannel(f"{AGENTS}:ecko")
    message = str(info.value)
    assert f"module '{AGENTS}' has no attribute 'ecko'" in message
    assert "it has: Agent, NeedsKey, OLD, UTC, agent, as_list," in message
    assert "Conversation" not in message  # imported, not defined there
    assert "more)" in message
    assert "did you mean 'echo'?" in message


def test_a_missing_method_names_the_class():
    with pytest.raises(
        ConfigError,
        match=r"type 'Agent' has no attribute 'proces'.*"
        r"it has: aprocess, created, name_it, process, shout.*did you mean",
    ):
        TargetChannel(f"{AGENTS}:Agent.proces")


def test_a_missing_method_on_an_instance():
    with pytest.raises(ConfigError, match=r"Agent 'agent' has no attribute 'nope'"):
        TargetChannel(f"{AGENTS}:agent.nope")


def test_a_target_that_is_not_callable():
    with pytest.raises(ConfigError, match=r"is a int, which is not callable"):
        TargetChannel(f"{AGENTS}:not_callable")


def test_a_class_that_needs_constructor_arguments():
    with pytest.raises(
        ConfigError, match=r"creates NeedsKey\(\) with no arguments"
    ) as info:
        TargetChannel(f"{AGENTS}:NeedsKey.process")
    assert isinstance(info.value.__cause__, TypeError)


def test_a_module_that_fails_to_import(tmp_path, monkeypatch):
    (tmp_path / "clientsim_broken_agent.py").write_text(
        "import clientsim_missing_dependency\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(
        ConfigError,
        match=r"importing module 'clientsim_broken_agent' "
        r"failed: ModuleNotFoundError",
    ):
        TargetChannel("clientsim_broken_agent:run")


def test_a_module_that_raises_on_import(tmp_path, monkeypatch):
    (tmp_path / "clientsim_raising_agent.py").write_text(
        "raise RuntimeError('no API key')\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match="RuntimeError: no API key"):
        TargetChannel("clientsim_raising_agent:run")


def test_an_agent_that_cannot_be_called_with_one_message():
    with pytest.raises(ConfigError, match=r"cannot be called as f\(message\).*history"):
        TargetChannel(f"{AGENTS}:two_arguments")


def test_an_agent_without_a_positional_parameter():
    def agent(*, session_id):
        return "x"

    with pytest.raises(ConfigError, match="first positional argument"):
        TargetChannel(agent)


def test_a_non_string_non_callable_target():
    with pytest.raises(ConfigError, match="not callable"):
        TargetChannel(42)  # type: ignore[arg-type]


# ----- from_config, registry, import weight -------------------------------------------


async def test_from_config_builds_through_a_registry():
    registry = Registry[TargetChannel](
        family="channel", hook="clientsim_register_channels"
    )
    registry.register("test_target", TargetChannel.from_config)
    channel = registry.build({"strategy": "test_target", "target": f"{AGENTS}:echo"})
    assert channel.name == f"{AGENTS}:echo"
    async with await channel.create_session() as session:
        assert isinstance(session, TargetSession)
    with pytest.raises(ConfigError, match="unknown option"):
        registry.build({"strategy": "test_target", "target": "x:y", "nope": 1})
    built = registry.build("test_target", target=targets_agents.echo)
    assert built.name == f"{AGENTS}.echo"


def test_importing_the_channels_does_not_load_langchain():
    code = textwrap.dedent(
        """
        import sys
        import clientsim.channels.target, clientsim.channels.runnable
        print("langchain_core" in sys.modules)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
