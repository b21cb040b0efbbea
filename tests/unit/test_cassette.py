"""The two-sided cassette: the SQLite file, the scope, and the recording/replaying channel."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientsim import Message, MessageDraft, ParticipantRole, ScriptedParticipant
from clientsim.channels import AgentHandle, InMemoryChannel, InMemorySession
from clientsim.channels.base import Channel, QueueSession, Session, TurnEnded, now
from clientsim.channels.http import HTTPChannel
from clientsim.channels.target import TargetChannel
from clientsim.errors import (
    AgentTimeoutError,
    CassetteMissError,
    ChannelError,
    ClientSimError,
    ConfigError,
    InvalidTypeError,
)
from clientsim.experiments.cassette import (
    AGENT_KIND,
    AgentCassetteMissError,
    Cassette,
    CassetteChannel,
    CassetteMode,
    CassetteScope,
)
from clientsim.models import Conversation, ConversationResult, Intent, Outcomes
from clientsim.runners import HybridSimulationRunner
from tests.channels import http_servers as http


CUSTOMER = ParticipantRole.CUSTOMER
AGENT = ParticipantRole.AGENT
MODES: tuple[CassetteMode, ...] = ("replay", "record")
MISS_TYPE = f"{AgentCassetteMissError.__module__}.{AgentCassetteMissError.__qualname__}"


# ----- storage ----------------------------------------------------------------------------


async def record(path: Path, conversations: dict[str, dict[str, list[Any]]]) -> None:
    async with Cassette(path, mode="record") as cassette:
        for conversation, streams in conversations.items():
            scope = await cassette.scope(conversation)
            for kind, payloads in streams.items():
                for payload in payloads:
                    scope.put(kind, payload)
            await cassette.commit(scope)


THREE: dict[str, dict[str, list[Any]]] = {
    "c1": {"model:customer": [{"n": 1}, {"n": 2}], "agent": ["a", "b", "c"]},
    "c2": {"model:customer": [[1, 2, 3]]},
    "c3": {"agent": [None, True, 2.5, "é"]},
}


async def test_entries_replay_in_order_per_kind(tmp_path):
    path = tmp_path / "run.cassette"
    await record(path, THREE)
    async with Cassette(path, mode="replay") as cassette:
        assert await cassette.entry_count() == 10
        assert await cassette.entry_count("c1") == 5
        assert await cassette.conversations() == ["c1", "c2", "c3"]
        for conversation, streams in THREE.items():
            scope = await cassette.scope(conversation)
            assert scope.mode == "replay"
            assert scope.conversation == conversation
            assert scope.kinds == tuple(sorted(streams))
            # interleaving kinds does not disturb each kind's own order
            taken: dict[str, list[Any]] = {kind: [] for kind in streams}
            for kind in sorted(streams) * 4:
                if len(taken[kind]) < len(streams[kind]):
                    taken[kind].append(scope.take(kind))
            assert taken == streams
            assert scope.hits == sum(len(p) for p in streams.values())
            assert scope.misses == 0


async def test_a_strict_miss_names_the_cassette_conversation_kind_and_index(tmp_path):
    path = tmp_path / "run.cassette"
    await record(path, THREE)
    async with Cassette(path, mode="replay") as cassette:
        scope = await cassette.scope("c2")
        assert scope.take("model:customer") == [1, 2, 3]
        with pytest.raises(CassetteMissError) as caught:
            scope.take("model:customer")
        message = str(caught.value)
        for part in (
            str(path),
            "'c2'",
            "'model:customer'",
            "#1",
            "re-record",
            "strict=False",
        ):
            assert part in message
        with pytest.raises(CassetteMissError, match="'model:judge' entry #0"):
            scope.take("model:judge")
        assert scope.misses == 0


async def test_a_non_strict_miss_returns_none_and_counts(tmp_path):
    path = tmp_path / "run.cassette"
    await record(path, THREE)
    async with Cassette(path, mode="replay", strict=False) as cassette:
        scope = await cassette.scope("c2")
        assert scope.take("model:customer") == [1, 2, 3]
        assert scope.take("model:customer") is None
        assert scope.take("model:judge") is None
        assert (scope.hits, scope.misses) == (1, 2)
        unknown = await cassette.scope("never-recorded")
        assert unknown.take("agent") is None
        assert unknown.misses == 1


async def test_record_mode_takes_nothing_and_replay_puts_nothing(tmp_path):
    async with Cassette(tmp_path / "r.cassette", mode="record") as cassette:
        scope = await cassette.scope("c1")
        assert scope.take("agent") is None
        assert (scope.hits, scope.misses) == (0, 0)
    replay = CassetteScope("c1", mode="replay", entries={"agent": [1]})
    replay.put("agent", 2)
    assert replay.payloads("agent") == [1]
    assert replay.rows() == []


async def test_a_recommit_replaces_the_conversation_s_entries(tmp_path):
    path = tmp_path / "run.cassette"
    await record(path, THREE)
    await record(path, {"c1": {"agent": ["only"]}})
    async with Cassette(path, mode="replay") as cassette:
        assert await cassette.entry_count("c1") == 1
        scope = await cassette.scope("c1")
        assert scope.kinds == ("agent",)
        assert scope.take("agent") == "only"
        assert await cassette.entry_count("c2") == 1  # the others are kept
        assert await cassette.entry_count("c3") == 4


async def test_an_empty_scope_commits_an_empty_conversation(tmp_path):
    path = tmp_path / "run.cassette"
    await record(path, THREE)
    await record(path, {"c3": {}})
    async with Cassette(path, mode="replay") as cassette:
        assert await cassette.conversations() == ["c1", "c2"]


async def test_recording_on_an_existing_file_keeps_other_conversations(tmp_path):
    path = tmp_path / "sub" / "dir" / "run.cassette"  # folders are created
    await record(path, {"c1": {"agent": [1]}})
    await record(path, {"c2": {"agent": [2]}})
    async with Cassette(path, mode="replay") as cassette:
        assert await cassette.conversations() == ["c1", "c2"]
        assert (await cassette.scope("c1")).take("agent") == 1


async def test_the_file_has_the_documented_tables(tmp_path):
    path = tmp_path / "run.cassette"
    await record(path, {"c1": {"agent": [{"x": 1}]}})
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT * FROM entries").fetchall()
        meta = dict(connection.execute("SELECT key, value FROM meta"))
        mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
    connection.close()
    assert rows == [("c1", "agent", 0, '{"x": 1}')]
    assert meta["schema_version"] == "1"
    assert meta["format"] == "clientsim-cassette"
    assert "created_at" in meta
    assert mode == "wal"


async def test_replaying_a_missing_file_is_a_config_error(tmp_path):
    path = tmp_path / "nope.cassette"
    with pytest.raises(ConfigError, match=r"nope\.cassette.*no such file"):
        async with Cassette(path, mode="replay"):
            pass
    assert not path.exists()  # replay never creates the file
    cassette = Cassette(path, mode="replay")
    with pytest.raises(ConfigError, match="no such file"):
        await cassette.scope("c1")  # opens on first use too
    await cassette.aclose()


async def test_a_file_that_is_not_a_cassette_is_a_config_error(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not a database " * 100)
    for mode in MODES:
        with pytest.raises(ConfigError, match=r"notes\.txt.*not a clientsim cassette"):
            async with Cassette(text, mode=mode):
                pass
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE users (name TEXT)")
    connection.close()
    for mode in MODES:
        with pytest.raises(ConfigError, match=r"other\.sqlite.*not a clientsim.*users"):
            async with Cassette(other, mode=mode):
                pass
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    with pytest.raises(ConfigError, match="not a clientsim cassette"):
        async with Cassette(empty, mode="replay"):
            pass
    assert text.read_text().startswith("hello")


async def test_another_schema_version_is_a_config_error(tmp_path):
    path = tmp_path / "old.cassette"
    await record(path, {"c1": {"agent": [1]}})
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    connection.close()
    with pytest.raises(ConfigError, match=r"schema version 99.*re-record"):
        async with Cassette(path, mode="replay"):
            pass


async def test_put_checks_json_ability_early_and_freezes_the_payload():
    scope = CassetteScope("c1", mode="record")
    with pytest.raises(InvalidTypeError, match="'model:x' must be JSON-able"):
        scope.put("model:x", {"when": object()})
    with pytest.raises(ConfigError, match="'model:x'"):
        scope.put("model:x", {"nan": float("nan")})
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ConfigError, match="circular"):
        scope.put("model:x", loop)
    payload = {"a": [1]}
    scope.put("model:x", payload)
    payload["a"].append(2)
    assert scope.payloads("model:x") == [{"a": [1]}]
    assert scope.rows() == [("model:x", 0, '{"a": [1]}')]


async def test_bad_arguments_are_config_errors(tmp_path):
    with pytest.raises(
        ConfigError, match="mode must be 'record' or 'replay'; got 'play'"
    ):
        Cassette(tmp_path / "x", mode="play")  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="strict"):
        Cassette(tmp_path / "x", mode="replay", strict="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="path"):
        Cassette(3, mode="replay")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="conversation"):
        CassetteScope("", mode="record")
    with pytest.raises(InvalidTypeError, match="kind"):
        CassetteScope("c", mode="record").put(3, {})  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match=r"entries\['agent'\]"):
        CassetteScope("c", mode="replay", entries={"agent": "abc"})
    async with Cassette(tmp_path / "x", mode="record") as cassette:
        with pytest.raises(InvalidTypeError, match="CassetteScope"):
            await cassette.commit("c1")  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match="record-mode scopes"):
            await cassette.commit(CassetteScope("c1", mode="replay"))
        with pytest.raises(ConfigError, match="record-mode scopes"):
            await cassette.commit(
                CassetteScope("c1", mode="record", path=tmp_path / "other")
            )
        with pytest.raises(ConfigError, match="conversation"):
            await cassette.scope("")
    with pytest.raises(InvalidTypeError, match="inner must be a Channel"):
        CassetteChannel("agent", CassetteScope("c", mode="record"))  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="scope must be a CassetteScope"):
        CassetteChannel(InMemoryChannel(), "c")  # type: ignore[arg-type]


async def test_a_closed_cassette_says_so(tmp_path):
    cassette = Cassette(tmp_path / "x", mode="record")
    await cassette.open()
    await cassette.aclose()
    await cassette.aclose()  # twice is harmless
    with pytest.raises(ClientSimError, match="is closed"):
        await cassette.entry_count()


async def test_replay_commit_is_a_no_op(tmp_path):
    path = tmp_path / "run.cassette"
    await record(path, {"c1": {"agent": [1]}})
    async with Cassette(path, mode="replay") as cassette:
        scope = await cassette.scope("c1")
        await cassette.commit(scope)
        assert await cassette.entry_count() == 1


async def test_many_conversations_commit_concurrently(tmp_path):
    path = tmp_path / "run.cassette"
    async with Cassette(path, mode="record") as cassette:

        async def one(index: int) -> None:
            scope = await cassette.scope(f"c{index}")
            for turn in range(index % 4):
                scope.put("agent", {"turn": turn})
            await cassette.commit(scope)

        async with anyio.create_task_group() as tg:
            for index in range(20):
                tg.start_soon(one, index)
        assert await cassette.entry_count() == sum(i % 4 for i in range(20))


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    streams=st.dictionaries(
        st.sampled_from(["agent", "model:a", "model:b"]), st.lists(JSON, max_size=4)
    )
)
async def test_any_json_payloads_round_trip(tmp_path, streams):
    path = tmp_path / f"{uuid.uuid4().hex}.cassette"
    await record(path, {"c": streams})
    async with Cassette(path, mode="replay") as cassette:
        scope = await cassette.scope("c")
        for kind, payloads in streams.items():
            assert [scope.take(kind) for _ in payloads] == payloads


# ----- the channel: agents ---------------------------------------------------------------


class CountingAgent:
    """Answers 0, 1 or 2 messages depending on the customer's message."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, text: str) -> list[str] | str | None:
        self.calls.append(text)
        if "two" in text:
            return ["one", "two"]
        if "bye" in text:
            return None
        if "boom" in text:
            raise ValueError("the agent broke")
        return f"You said: {text}"


def never_called(text: str) -> str:
    raise AssertionError(f"the replayed agent was called with {text!r}")


class GreetingChannel(InMemoryChannel):
    """An in-memory agent that greets as soon as the session opens."""

    async def create_session(self) -> InMemorySession:
        session = await super().create_session()
        await session.agent.say("Welcome! How can I help?")
        await session.agent.end_turn()
        return session


async def replies_and_hangs_up(handle: AgentHandle) -> None:
    async for message in handle.received():
        await handle.say(f"re: {message.content}")
        if "bye" in message.content:
            await handle.say("Goodbye!")
            await handle.hang_up()
            return
        await handle.end_turn()


def contents(result: ConversationResult) -> list[tuple[str, str]]:
    return [(m.sender.value, m.content) for m in result.conversation.messages]


async def converse(
    channel: Channel,
    lines: list[str],
    intent: Intent,
    outcomes: Outcomes,
    *,
    play: Callable[[AgentHandle], Awaitable[None]] | None = None,
    **options: Any,
) -> tuple[HybridSimulationRunner, ConversationResult]:
    options.setdefault("reply_timeout_seconds", 2.0)
    options.setdefault("quiet_period_seconds", 0.5)
    runner = HybridSimulationRunner(
        ScriptedParticipant(CUSTOMER, lines), channel, intent, outcomes, **options
    )
    async with anyio.create_task_group() as tg:
        if play is not None:
            inner = channel.inner if isinstance(channel, CassetteChannel) else channel
            assert isinstance(inner, InMemoryChannel)

            async def agent_side() -> None:
                await play(await inner.next_agent())

            tg.start_soon(agent_side)
        with anyio.fail_after(10):
            result = await runner.run()
        tg.cancel_scope.cancel()
    return runner, result


async def record_run(
    path: Path,
    conversation: str,
    inner: Channel,
    lines: list[str],
    intent: Intent,
    outcomes: Outcomes,
    **options: Any,
) -> tuple[HybridSimulationRunner, ConversationResult, CassetteScope]:
    async with Cassette(path, mode="record") as cassette:
        scope = await cassette.scope(conversation)
        runner, result = await converse(
            CassetteChannel(inner, scope), lines, intent, outcomes, **options
        )
        await cassette.commit(scope)
    return runner, result, scope


async def replay_run(
    path: Path,
    conversation: str,
    inner: Channel,
    lines: list[str],
    intent: Intent,
    outcomes: Outcomes,
    *,
    strict: bool = True,
    **options: Any,
) -> tuple[HybridSimulationRunner, ConversationResult, CassetteScope]:
    async with Cassette(path, mode="replay", strict=strict) as cassette:
        scope = await cassette.scope(conversation)
        runner, result = await converse(
            CassetteChannel(inner, scope), lines, intent, outcomes, **options
        )
    return runner, result, scope


# ----- the channel: record, then replay --------------------------------------------------


async def test_a_target_agent_conversation_replays_without_calling_the_agent(
    tmp_path, intent, outcomes
):
    path = tmp_path / "run.cassette"
    agent = CountingAgent()
    lines = ["hi", "two please", "bye"]
    _, recorded, scope = await record_run(
        path, "c1", TargetChannel(agent), lines, intent, outcomes
    )
    assert agent.calls == lines
    assert contents(recorded) == [
        ("customer", "hi"),
        ("agent", "You said: hi"),
        ("customer", "two please"),
        ("agent", "one"),
        ("agent", "two"),
        ("customer", "bye"),
    ]
    assert recorded.ending.reason == "agent_silent"
    turns = scope.payloads(AGENT_KIND)
    assert [turn["turn"] for turn in turns] == [0, 1, 2, 3]
    assert turns[2] == {
        "turn": 2,
        "sent": "two please",
        "events": [
            {"type": "message", "content": "one"},
            {"type": "message", "content": "two"},
            {"type": "end_of_turn"},
        ],
        "closed": False,
        "send_error": None,
    }

    replay_agent = CountingAgent()
    runner, replayed, scope = await replay_run(
        path, "c1", TargetChannel(replay_agent), lines, intent, outcomes
    )
    assert replay_agent.calls == []
    assert contents(replayed) == contents(recorded)
    assert replayed.ending == recorded.ending
    assert replayed.ok
    assert (scope.hits, scope.misses) == (4, 0)
    stamps = [m.timestamp for m in replayed.conversation.messages]
    assert stamps == sorted(stamps)
    assert isinstance(runner.session, QueueSession)
    assert runner.session.send_completes_turn  # replay takes the inline path


async def test_a_greeting_agent_replays_its_greeting_at_session_start(
    tmp_path, intent, outcomes
):
    path = tmp_path / "run.cassette"
    lines = ["hi", "thanks, bye"]
    _, recorded, scope = await record_run(
        path,
        "greet",
        GreetingChannel(),
        lines,
        intent,
        outcomes,
        play=replies_and_hangs_up,
    )
    assert contents(recorded) == [
        ("agent", "Welcome! How can I help?"),
        ("customer", "hi"),
        ("agent", "re: hi"),
        ("customer", "thanks, bye"),
        ("agent", "re: thanks, bye"),
        ("agent", "Goodbye!"),
    ]
    assert recorded.ending.reason == "agent_closed"
    turns = scope.payloads(AGENT_KIND)
    assert turns[0]["events"][0] == {
        "type": "message",
        "content": "Welcome! How can I help?",
    }
    assert turns[-1]["closed"] is True

    _, replayed, _ = await replay_run(
        path, "greet", TargetChannel(never_called), lines, intent, outcomes
    )
    assert contents(replayed) == contents(recorded)
    assert replayed.ending.reason == "agent_closed"
    assert replayed.ok


async def test_a_strict_miss_ends_the_run_with_the_miss_and_no_agent_call(
    tmp_path, intent, outcomes
):
    path = tmp_path / "run.cassette"
    await record_run(
        path, "short", TargetChannel(CountingAgent()), ["hi"], intent, outcomes
    )
    agent = CountingAgent()
    _, result, _ = await replay_run(
        path, "short", TargetChannel(agent), ["hi", "two please"], intent, outcomes
    )
    assert agent.calls == []
    assert result.error is not None
    assert result.error.type == MISS_TYPE
    assert result.error.source == "channel"
    assert not result.error.transient
    for part in (str(path), "'short'", "'agent'", "#2", "re-record"):
        assert part in result.error.message
    assert contents(result) == [
        ("customer", "hi"),
        ("agent", "You said: hi"),
        ("customer", "two please"),
    ]
    assert issubclass(AgentCassetteMissError, CassetteMissError)
    assert issubclass(AgentCassetteMissError, ChannelError)


async def test_a_conversation_never_recorded_misses_at_session_start(
    tmp_path, intent, outcomes
):
    path = tmp_path / "run.cassette"
    await record(path, {"other": {"agent": []}})
    _, result, _ = await replay_run(
        path, "missing", TargetChannel(never_called), ["hi"], intent, outcomes
    )
    assert result.error is not None
    assert result.error.type == MISS_TYPE
    assert "'missing'" in result.error.message
    assert "#0" in result.error.message


async def test_a_customer_who_says_something_else_is_a_strict_miss(
    tmp_path, intent, outcomes
):
    path = tmp_path / "run.cassette"
    await record_run(
        path, "c", TargetChannel(CountingAgent()), ["hi", "bye"], intent, outcomes
    )
    _, result, _ = await replay_run(
        path,
        "c",
        TargetChannel(never_called),
        ["hi", "something else"],
        intent,
        outcomes,
    )
    assert result.error is not None
    assert result.error.type == MISS_TYPE
    assert "'something else'" in result.error.message
    assert "'bye'" in result.error.message


async def test_a_non_strict_miss_goes_live_from_there(tmp_path, intent, outcomes):
    path = tmp_path / "run.cassette"
    await record_run(
        path, "c", TargetChannel(CountingAgent()), ["hi"], intent, outcomes
    )
    agent = CountingAgent()
    _, result, scope = await replay_run(
        path,
        "c",
        TargetChannel(agent),
        ["hi", "two please", "hello again"],
        intent,
        outcomes,
        strict=False,
    )
    assert agent.calls == ["two please", "hello again"]  # "hi" was replayed
    assert contents(result) == [
        ("customer", "hi"),
        ("agent", "You said: hi"),
        ("customer", "two please"),
        ("agent", "one"),
        ("agent", "two"),
        ("customer", "hello again"),
        ("agent", "You said: hello again"),
    ]
    assert result.ok
    assert (scope.hits, scope.misses) == (2, 1)


async def test_a_non_strict_mismatch_goes_live_too(tmp_path, intent, outcomes):
    path = tmp_path / "run.cassette"
    await record_run(
        path, "c", TargetChannel(CountingAgent()), ["hi", "bye"], intent, outcomes
    )
    agent = CountingAgent()
    _, result, scope = await replay_run(
        path,
        "c",
        TargetChannel(agent),
        ["hi", "two please"],
        intent,
        outcomes,
        strict=False,
    )
    assert agent.calls == ["two please"]
    assert [c for _, c in contents(result)] == [
        "hi",
        "You said: hi",
        "two please",
        "one",
        "two",
    ]
    assert (scope.hits, scope.misses) == (2, 1)


async def test_a_non_strict_replay_of_an_unrecorded_conversation_is_all_live(
    tmp_path, intent, outcomes
):
    path = tmp_path / "run.cassette"
    await record(path, {"other": {"agent": []}})
    _, result, scope = await replay_run(
        path,
        "new",
        GreetingChannel(),
        ["hi", "bye"],
        intent,
        outcomes,
        strict=False,
        play=replies_and_hangs_up,
    )
    assert contents(result) == [
        ("agent", "Welcome! How can I help?"),
        ("customer", "hi"),
        ("agent", "re: hi"),
        ("customer", "bye"),
        ("agent", "re: bye"),
        ("agent", "Goodbye!"),
    ]
    assert result.ending.reason == "agent_closed"
    assert scope.misses == 1


async def test_an_agent_failure_replays_as_the_same_error(tmp_path, intent, outcomes):
    path = tmp_path / "run.cassette"
    lines = ["hi", "boom"]
    _, recorded, _ = await record_run(
        path, "c", TargetChannel(CountingAgent()), lines, intent, outcomes
    )
    assert recorded.error is not None
    assert recorded.error.type == "clientsim.errors.ChannelError"
    _, replayed, _ = await replay_run(
        path, "c", TargetChannel(never_called), lines, intent, outcomes
    )
    assert replayed.error == recorded.error
    assert contents(replayed) == contents(recorded)
    assert replayed.ending.reason == "error"


async def test_a_pushed_failure_replays(tmp_path, intent, outcomes):
    async def drops(handle: AgentHandle) -> None:
        async for _ in handle.received():
            await handle.say("checking...")
            await handle.fail("line noise")
            return

    path = tmp_path / "run.cassette"
    _, recorded, scope = await record_run(
        path, "c", InMemoryChannel(), ["hi"], intent, outcomes, play=drops
    )
    assert recorded.error is not None
    assert "line noise" in recorded.error.message
    assert scope.payloads(AGENT_KIND)[1]["events"][-1]["type"] == "failure"
    _, replayed, _ = await replay_run(
        path, "c", TargetChannel(never_called), ["hi"], intent, outcomes
    )
    assert replayed.error == recorded.error
    assert contents(replayed) == contents(recorded)


class BrokenChannel(Channel):
    async def create_session(self) -> Session:
        raise OSError("connection refused")


async def test_a_failure_to_open_the_session_replays(tmp_path, intent, outcomes):
    path = tmp_path / "run.cassette"
    _, recorded, _ = await record_run(
        path, "c", BrokenChannel(), ["hi"], intent, outcomes
    )
    assert recorded.error is not None
    assert recorded.error.source == "channel"
    _, replayed, _ = await replay_run(
        path, "c", TargetChannel(never_called), ["hi"], intent, outcomes
    )
    assert replayed.error is not None
    assert replayed.error.source == "channel"
    assert replayed.error.message == "OSError: connection refused"


class EchoSession(QueueSession):
    """A request/response agent: the send is the whole turn."""

    send_completes_turn = True

    async def deliver(self, message: Message) -> None:
        await self.push_text(f"echo: {message.content}")
        await self.push_end_of_turn()


class EchoChannel(Channel):
    async def create_session(self) -> EchoSession:
        return EchoSession()


async def test_recording_keeps_a_request_response_session_inline(
    tmp_path, intent, outcomes
):
    path = tmp_path / "run.cassette"
    runner, recorded, _ = await record_run(
        path,
        "c",
        EchoChannel(),
        ["a", "b"],
        intent,
        outcomes,
        initial_message=MessageDraft("opening", CUSTOMER),
    )
    session = runner.session
    assert isinstance(session, QueueSession)
    assert session.send_completes_turn
    assert session.closed
    assert [c for _, c in contents(recorded)] == [
        "opening",
        "echo: opening",
        "a",
        "echo: a",
        "b",
        "echo: b",
    ]
    view = await session.get_conversation()
    assert [m.content for m in view.messages] == [c for _, c in contents(recorded)]
    _, replayed, _ = await replay_run(
        path,
        "c",
        TargetChannel(never_called),
        ["a", "b"],
        intent,
        outcomes,
        initial_message=MessageDraft("opening", CUSTOMER),
    )
    assert contents(replayed) == contents(recorded)
    assert replayed.ending == recorded.ending


class StreamSession(Session):
    """A plain session (not a QueueSession): replies come through subscribe()."""

    def __init__(self) -> None:
        self.session_id = "plain"
        self._send, self._receive = anyio.create_memory_object_stream[Message](10)
        self._conversation = Conversation(())

    async def get_conversation(self) -> Conversation:
        return self._conversation

    async def send(self, message: Message) -> None:
        self._conversation = self._conversation.with_message(message)
        for reply in [] if "bye" in message.content else [f"plain: {message.content}"]:
            self._send.send_nowait(Message(reply, now(), AGENT))
        if "bye" in message.content:
            self._send.close()

    async def subscribe(self) -> AsyncIterator[Message]:
        async with self._receive:
            async for message in self._receive:
                yield message

    async def aclose(self) -> None:
        self._send.close()
        self._receive.close()


class StreamChannel(Channel):
    def __init__(self) -> None:
        self.opened = 0

    async def create_session(self) -> StreamSession:
        self.opened += 1
        return StreamSession()


async def test_a_plain_session_is_recorded_and_replayed(tmp_path, intent, outcomes):
    path = tmp_path / "run.cassette"
    lines = ["hi", "more", "bye"]
    runner, recorded, scope = await record_run(
        path, "c", StreamChannel(), lines, intent, outcomes, quiet_period_seconds=0.2
    )
    assert not isinstance(runner.session, QueueSession)
    assert [c for _, c in contents(recorded)] == [
        "hi",
        "plain: hi",
        "more",
        "plain: more",
        "bye",
    ]
    assert recorded.ending.reason == "agent_closed"
    assert scope.payloads(AGENT_KIND)[-1]["closed"] is True
    live = StreamChannel()
    _, replayed, _ = await replay_run(path, "c", live, lines, intent, outcomes)
    assert live.opened == 0
    assert contents(replayed) == contents(recorded)
    assert replayed.ending.reason == "agent_closed"


async def test_a_plain_session_goes_live_after_a_non_strict_miss(
    tmp_path, intent, outcomes
):
    path = tmp_path / "run.cassette"
    await record_run(
        path, "c", StreamChannel(), ["hi"], intent, outcomes, quiet_period_seconds=0.2
    )
    live = StreamChannel()
    _, result, _ = await replay_run(
        path,
        "c",
        live,
        ["hi", "more"],
        intent,
        outcomes,
        strict=False,
        quiet_period_seconds=0.2,
    )
    assert live.opened == 1
    assert [c for _, c in contents(result)] == [
        "hi",
        "plain: hi",
        "more",
        "plain: more",
    ]


async def test_a_session_used_directly_records_and_replays(tmp_path):
    """Without a runner: send, read the turn, close; then the same from the cassette."""
    path = tmp_path / "run.cassette"

    async def one_turn(session: QueueSession, text: str) -> list[str]:
        await session.send(Message(text, now(), CUSTOMER))
        replies: list[str] = []
        async for event in session.events():
            if isinstance(event, TurnEnded):
                return replies
            replies.append(event.content)
        return replies

    async with Cassette(path, mode="record") as cassette:
        scope = await cassette.scope("direct")
        async with await CassetteChannel(
            TargetChannel(CountingAgent()), scope
        ).create_session() as session:
            assert isinstance(session, QueueSession)
            assert await one_turn(session, "two") == ["one", "two"]
            assert await one_turn(session, "hi") == ["You said: hi"]
        await cassette.commit(scope)
    async with Cassette(path, mode="replay") as cassette:
        scope = await cassette.scope("direct")
        channel = CassetteChannel(TargetChannel(never_called), scope)
        async with channel, await channel.create_session() as session:
            assert isinstance(session, QueueSession)
            assert await one_turn(session, "two") == ["one", "two"]
            assert await one_turn(session, "hi") == ["You said: hi"]
            with pytest.raises(AgentCassetteMissError, match="#3"):
                await session.send(Message("more", now(), CUSTOMER))


async def test_going_live_needs_async_with(tmp_path):
    greeting: dict[str, object] = {
        "turn": 0,
        "sent": None,
        "events": [],
        "closed": False,
    }
    scope = CassetteScope(
        "c",
        mode="replay",
        strict=False,
        path=tmp_path / "x",
        entries={"agent": [greeting]},
    )
    session = await CassetteChannel(TargetChannel(never_called), scope).create_session()
    with pytest.raises(ChannelError, match="async with"):
        await session.send(Message("hi", now(), CUSTOMER))
    await session.aclose()


async def test_a_malformed_turn_is_a_config_error():
    scope = CassetteScope("c", mode="replay", entries={"agent": [{"turn": "zero"}]})
    with pytest.raises(ConfigError, match=r"malformed.*re-record"):
        await CassetteChannel(TargetChannel(never_called), scope).create_session()


async def test_a_turn_out_of_step_is_a_miss():
    turn = {"turn": 1, "sent": "hi", "events": [], "closed": False}
    scope = CassetteScope("c", mode="replay", entries={"agent": [turn]})
    with pytest.raises(AgentCassetteMissError, match=r"recorded as turn 1.*turn 0"):
        await CassetteChannel(TargetChannel(never_called), scope).create_session()


async def test_someone_else_s_meta_table_is_not_a_cassette(tmp_path):
    path = tmp_path / "app.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE meta (id INTEGER, blob BLOB)")
    connection.close()
    with pytest.raises(ConfigError, match=r"not a clientsim cassette.*with meta"):
        async with Cassette(path, mode="record"):
            pass


async def test_a_live_agent_after_a_miss_can_fail(tmp_path, intent, outcomes):
    path = tmp_path / "run.cassette"
    await record_run(
        path, "c", TargetChannel(CountingAgent()), ["hi"], intent, outcomes
    )

    async def drops(handle: AgentHandle) -> None:
        async for _ in handle.received():
            await handle.say("checking...")
            await handle.fail("line noise")
            return

    _, result, scope = await replay_run(
        path,
        "c",
        InMemoryChannel(),
        ["hi", "more"],
        intent,
        outcomes,
        strict=False,
        play=drops,
    )
    assert [c for _, c in contents(result)] == [
        "hi",
        "You said: hi",
        "more",
        "checking...",
    ]
    assert result.error is not None
    assert "line noise" in result.error.message
    assert scope.misses == 1


async def test_a_live_session_that_cannot_open_is_a_channel_failure(
    tmp_path, intent, outcomes
):
    path = tmp_path / "run.cassette"
    await record_run(
        path, "c", TargetChannel(CountingAgent()), ["hi"], intent, outcomes
    )
    _, result, _ = await replay_run(
        path, "c", BrokenChannel(), ["hi", "more"], intent, outcomes, strict=False
    )
    assert result.error is not None
    assert result.error.type == "clientsim.errors.ChannelError"
    assert "opening a live session after a cassette miss failed" in result.error.message
    assert "OSError: connection refused" in result.error.message


# ----- a channel failure keeps its status and transient flag ----------------------------


async def first_failure(session: Session, text: str) -> ChannelError:
    """The channel error ``session`` raises for a turn sending ``text``."""
    try:
        await session.send(Message(text, now(), CUSTOMER))
        async for event in session.events():
            if isinstance(event, TurnEnded):
                break
    except ChannelError as exc:
        return exc
    raise AssertionError("the turn did not fail")


async def test_a_recorded_503_replays_with_its_status_and_transient_flag(
    tmp_path, intent, outcomes
):
    path = tmp_path / "run.cassette"
    async with http.serve(
        http.status(503, body="busy"), http.completion("ok")
    ) as agent:
        live = HTTPChannel(base_url=agent.url, max_retries=0, backoff_seconds=0)
        async with Cassette(path, mode="record") as cassette:
            scope = await cassette.scope("direct")
            async with (
                live,
                await CassetteChannel(live, scope).create_session() as session,
            ):
                recorded = await first_failure(session, "hi")
            await cassette.commit(scope)
        assert len(agent.requests) == 1  # answered 503 once, not retried
    assert (recorded.status, recorded.transient) == (503, True)
    failure = scope.payloads(AGENT_KIND)[1]["send_error"]  # turn 1 (0: no greeting)
    assert (failure["status"], failure["transient"]) == (503, True)

    async with Cassette(path, mode="replay") as cassette:
        scope = await cassette.scope("direct")
        channel = CassetteChannel(TargetChannel(never_called), scope)
        async with channel, await channel.create_session() as session:
            replayed = await first_failure(session, "hi")
    assert type(replayed) is type(recorded)
    assert str(replayed) == str(recorded)
    assert (replayed.status, replayed.transient) == (503, True)


async def test_a_run_ended_by_a_503_replays_as_a_transient_error(
    tmp_path, intent, outcomes
):
    path = tmp_path / "run.cassette"
    async with (
        http.serve(http.status(503), http.completion("ok")) as agent,
        HTTPChannel(base_url=agent.url, max_retries=0, backoff_seconds=0) as live,
    ):
        _, recorded, _ = await record_run(path, "c", live, ["hi"], intent, outcomes)
    assert recorded.error is not None
    assert recorded.error.transient  # so a batch would retry the conversation
    _, replayed, _ = await replay_run(
        path, "c", TargetChannel(never_called), ["hi"], intent, outcomes
    )
    assert replayed.error == recorded.error


@pytest.mark.parametrize(
    ("error", "status", "transient"),
    [
        ("clientsim.errors.ChannelError", None, False),  # no cause to classify by
        ("clientsim.errors.AgentTimeoutError", None, True),  # its class says so
        ("builtins.OSError", None, False),  # worded as the runner words it
    ],
)
async def test_a_failure_recorded_without_status_or_transient_replays_as_before(
    error, status, transient
):
    old = {"error": error, "message": "it broke", "channel": error.startswith("c")}
    turns = [
        {"turn": 0, "sent": None, "events": [], "closed": False},
        {"turn": 1, "sent": "hi", "events": [], "closed": False, "send_error": old},
    ]
    scope = CassetteScope("c", mode="replay", entries={"agent": turns})
    channel = CassetteChannel(TargetChannel(never_called), scope)
    async with channel, await channel.create_session() as session:
        replayed = await first_failure(session, "hi")
    assert (replayed.status, replayed.transient) == (status, transient)
    assert isinstance(replayed, AgentTimeoutError) is error.endswith("TimeoutError")


@pytest.mark.parametrize(
    "bad", [{"status": "503"}, {"status": True}, {"transient": "yes"}]
)
async def test_a_malformed_status_or_transient_is_a_config_error(bad):
    failure = {
        "error": "clientsim.errors.ChannelError",
        "message": "x",
        "channel": True,
    }
    turns = [
        {
            "turn": 0,
            "sent": None,
            "events": [],
            "closed": False,
            "open_error": {**failure, **bad},
        }
    ]
    scope = CassetteScope("c", mode="replay", entries={"agent": turns})
    with pytest.raises(ConfigError, match=r"malformed.*re-record"):
        await CassetteChannel(TargetChannel(never_called), scope).create_session()
