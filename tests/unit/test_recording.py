"""Argument recording (the ``record_args`` decorator) and replay with an override."""

from __future__ import annotations

import inspect
import json
import logging
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientsim.channels import TargetChannel
from clientsim.errors import ConfigError
from clientsim.experiments.recording import (
    DEFAULT_RECORDING_FILE,
    RecordedCall,
    ReplayTarget,
    load_recording,
    override_param,
    record_args,
)
from tests.channels.targets_agents import turn


ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import anyio
    from clientsim.experiments.recording import record_args

    @record_args
    def handle(websocket, data, *, user=None):
        return data["content"].upper()

    @record_args
    async def ahandle(data):
        return data["content"]

    class Bot:
        @record_args
        def reply(self, text, history):
            return text

    assert handle("ws-1", {"content": "hi there"}, user={"id": 7}) == "HI THERE"
    assert anyio.run(ahandle, {"content": "async hello"}) == "async hello"
    assert Bot().reply("from a method", history=["a", "b"]) == "from a method"
    print("ran")
    """
)


def run_script(tmp_path: Path, **env: str) -> None:
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    environment = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "src"), **env}
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ran"


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# ----- recording ---------------------------------------------------------------------


def test_recording_from_a_real_process(tmp_path):
    target = tmp_path / "out" / "deep" / "calls.jsonl"
    run_script(
        tmp_path, CLIENTSIM_RECORD_ARGS="1", CLIENTSIM_RECORDING_FILE=str(target)
    )
    records = lines_of(target)
    assert [(r["args"], r["kwargs"]) for r in records] == [
        (["ws-1", {"content": "hi there"}], {"user": {"id": 7}}),
        ([{"content": "async hello"}], {}),
        (["from a method"], {"history": ["a", "b"]}),  # self is not recorded
    ]
    for record in records:
        assert record["timestamp"].endswith("Z")
        stamp = datetime.fromisoformat(record["timestamp"])
        assert stamp.tzinfo is not None
        assert abs((datetime.now(UTC) - stamp).total_seconds()) < 120
    calls = load_recording(target)
    assert calls[0].args == ("ws-1", {"content": "hi there"})
    assert calls[0].kwargs == {"user": {"id": 7}}
    assert calls[0].timestamp == datetime.fromisoformat(records[0]["timestamp"])


@pytest.mark.parametrize("flag", ["true", "YES", "True"])
def test_recording_goes_to_the_default_file_relative_to_the_cwd(tmp_path, flag):
    run_script(tmp_path, CLIENTSIM_RECORD_ARGS=flag)
    assert len(lines_of(tmp_path / DEFAULT_RECORDING_FILE)) == 3


@pytest.mark.parametrize("flag", [None, "0", "false", "no", ""])
def test_no_recording_unless_switched_on(tmp_path, flag):
    env = {} if flag is None else {"CLIENTSIM_RECORD_ARGS": flag}
    run_script(tmp_path, **env)
    assert not (tmp_path / "recordings").exists()


def test_the_wrapper_keeps_name_docs_and_signature():
    def handle(data: dict, *, user: str | None = None) -> str:
        """Handle a message."""
        return ""

    async def ahandle(data: dict) -> str:
        return ""

    wrapped = record_args(handle)
    assert wrapped.__name__ == "handle"
    assert wrapped.__doc__ == "Handle a message."
    assert inspect.signature(wrapped) == inspect.signature(handle)
    assert inspect.iscoroutinefunction(record_args(ahandle))
    assert not inspect.iscoroutinefunction(wrapped)


def test_values_json_cannot_hold_are_recorded_as_repr(tmp_path, monkeypatch):
    path = tmp_path / "calls.jsonl"
    monkeypatch.setenv("CLIENTSIM_RECORD_ARGS", "1")
    monkeypatch.setenv("CLIENTSIM_RECORDING_FILE", str(path))

    class Thing:
        def __repr__(self):
            return "<Thing>"

    class Broken:
        def __repr__(self):
            raise RuntimeError("no repr")

    loop: list[object] = []
    loop.append(loop)

    @record_args
    def handle(*args, **kwargs):
        return "handled"

    assert (
        handle(
            Thing(),
            {1: "one", (2, 3): "pair", None: "none"},
            b"raw",
            float("nan"),
            loop,
            Broken(),
            data={"tags": {"a"}, "ok": [1, 2.5, True, None]},
        )
        == "handled"
    )
    (record,) = lines_of(path)
    assert record["args"] == [
        "<Thing>",
        {"1": "one", "(2, 3)": "pair", "null": "none"},
        "b'raw'",
        "nan",
        ["[[...]]"],
        "<unrepresentable Broken>",
    ]
    assert record["kwargs"] == {"data": {"tags": "{'a'}", "ok": [1, 2.5, True, None]}}


def test_a_write_failure_is_logged_and_the_call_goes_on(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("CLIENTSIM_RECORD_ARGS", "1")
    monkeypatch.setenv("CLIENTSIM_RECORDING_FILE", str(blocker / "calls.jsonl"))

    @record_args
    def handle(text):
        return text * 2

    @record_args
    async def ahandle(text):
        return text * 3

    with caplog.at_level(logging.WARNING, logger="clientsim.experiments.recording"):
        assert handle("ab") == "abab"
        assert anyio.run(ahandle, "x") == "xxx"
    warnings = [r for r in caplog.records if "could not record" in r.getMessage()]
    assert len(warnings) == 2
    assert "not-a-folder" in warnings[0].getMessage()


async def test_async_functions_record_from_the_event_loop(tmp_path, monkeypatch):
    path = tmp_path / "calls.jsonl"
    monkeypatch.setenv("CLIENTSIM_RECORD_ARGS", "on-and-off")
    monkeypatch.setenv("CLIENTSIM_RECORDING_FILE", str(path))

    @record_args
    async def ahandle(data):
        return data

    await ahandle({"content": "skipped: the flag is not true-ish"})
    assert not path.exists()
    monkeypatch.setenv("CLIENTSIM_RECORD_ARGS", " 1 ")
    assert await ahandle({"content": "kept"}) == {"content": "kept"}
    assert lines_of(path)[0]["args"] == [{"content": "kept"}]


def test_concurrent_recording_from_threads_gives_whole_lines(tmp_path, monkeypatch):
    path = tmp_path / "calls.jsonl"
    monkeypatch.setenv("CLIENTSIM_RECORD_ARGS", "1")
    monkeypatch.setenv("CLIENTSIM_RECORDING_FILE", str(path))
    big = "x" * 20_000  # larger than any write buffer

    @record_args
    def handle(worker, index, payload):
        return index

    start = threading.Barrier(8)

    def work(worker: int) -> None:
        start.wait(timeout=10)
        for index in range(40):
            handle(worker, index, payload=big)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    records = lines_of(path)
    assert len(records) == 8 * 40
    assert all(r["kwargs"]["payload"] == big for r in records)
    assert sorted(tuple(r["args"]) for r in records) == sorted(
        (w, i) for w in range(8) for i in range(40)
    )


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(args=st.lists(json_values, max_size=3), data=json_values)
def test_json_values_round_trip(tmp_path, monkeypatch, args, data):
    path = tmp_path / "round-trip.jsonl"
    path.unlink(missing_ok=True)
    monkeypatch.setenv("CLIENTSIM_RECORD_ARGS", "1")
    monkeypatch.setenv("CLIENTSIM_RECORDING_FILE", str(path))

    @record_args
    def handle(*args, **kwargs):
        return None

    handle(*args, data=data)
    (call,) = load_recording(path)
    assert call.args == tuple(args)
    assert call.kwargs == {"data": data}


# ----- loading -----------------------------------------------------------------------


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "rec.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_load_the_seed_format(tmp_path):
    path = write(
        tmp_path,
        '{"args": [], "kwargs": {"data": {"content": "user message"}}, '
        '"timestamp": "2025-01-17T14:30:22Z"}',
        "",
        '{"kwargs": {"data": {"content": "another message"}}, "timestamp": null}',
        '{"args": [1], "timestamp": "2025-01-17T14:30:25", "extra": true}',
    )
    calls = load_recording(str(path))
    assert calls == [
        RecordedCall(
            args=(),
            kwargs={"data": {"content": "user message"}},
            timestamp=datetime(2025, 1, 17, 14, 30, 22, tzinfo=UTC),
        ),
        RecordedCall(kwargs={"data": {"content": "another message"}}),
        RecordedCall(
            args=(1,), timestamp=datetime(2025, 1, 17, 14, 30, 25, tzinfo=UTC)
        ),
    ]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"args": []}', "{not json"], r"line 2: not valid JSON"),
        (["[1, 2]"], r"line 1: a recorded call is a JSON object"),
        (['{"timestamp": "2025-01-17T14:30:22Z"}'], r"line 1: a recorded call"),
        (['{"args": {"a": 1}}'], r"line 1: 'args' must be a list"),
        (['{"args": [], "kwargs": []}'], r"line 1: 'kwargs' must be an object"),
        (['{"args": [], "timestamp": "yesterday"}'], r"line 1: 'timestamp' must be"),
        (['{"args": [], "timestamp": 5}'], r"line 1: 'timestamp' must be"),
        (["", "  "], "holds no recorded calls"),
    ],
)
def test_load_errors_name_the_file_and_line(tmp_path, lines, message):
    path = write(tmp_path, *lines)
    with pytest.raises(ConfigError, match=message) as caught:
        load_recording(path)
    assert "rec.jsonl" in str(caught.value)


def test_load_errors_for_missing_empty_and_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match=r"'.*nope\.jsonl' does not exist"):
        load_recording(tmp_path / "nope.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(ConfigError, match="no recorded calls"):
        load_recording(empty)
    with pytest.raises(ConfigError, match="cannot be read"):
        load_recording(tmp_path)
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="cannot be read: UnicodeDecodeError"):
        load_recording(binary)


# ----- overriding --------------------------------------------------------------------

CALL = RecordedCall(
    args=({"content": "positional", "meta": [1, 2]}, "second"),
    kwargs={
        "data": {"content": "original message", "user": "u1"},
        "messages": [{"text": "first"}, {"text": "second"}],
        "flag": True,
    },
    timestamp=datetime(2025, 1, 17, tzinfo=UTC),
)


def test_override_at_a_kwargs_path():
    new = override_param(CALL, "data.content", "test input")
    assert new.kwargs["data"] == {"content": "test input", "user": "u1"}
    assert new.args == CALL.args
    assert new.timestamp == CALL.timestamp
    assert CALL.kwargs["data"]["content"] == "original message"  # untouched


def test_override_at_an_args_path_and_a_top_level_arg():
    new = override_param(CALL, "0.content", "test input")
    assert new.args[0] == {"content": "test input", "meta": [1, 2]}
    assert CALL.args[0]["content"] == "positional"
    assert override_param(CALL, "1", "replaced").args[1] == "replaced"
    assert override_param(CALL, "0.meta.1", 9).args[0]["meta"] == [1, 9]


def test_override_through_a_list_index():
    new = override_param(CALL, "messages.1.text", "hello")
    assert new.kwargs["messages"] == [{"text": "first"}, {"text": "hello"}]
    assert CALL.kwargs["messages"][1]["text"] == "second"
    assert override_param(CALL, "flag", False).kwargs["flag"] is False


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("data.contnt", r"'data' has no key 'contnt'; keys there: 'content', 'user'"),
        (
            "payload.content",
            r"recorded kwargs has no key 'payload'; keys there: 'data'",
        ),
        (
            "messages.2.text",
            r"'messages' has no index '2'; it is a list of 2 \(indexes 0-1\)",
        ),
        ("messages.first", r"'messages' has no index 'first'"),
        ("5.content", r"positional args has no index '5'; it is a list of 2"),
        ("data.content.x", r"'data.content' is a str, not an object or a list"),
        ("flag.x", r"'flag' is a bool"),
        ("", "must be a non-empty dot path"),
        ("data..content", "has an empty segment"),
    ],
)
def test_override_errors_name_the_path_segment_and_keys(path, message):
    with pytest.raises(ConfigError, match=message) as caught:
        override_param(CALL, path, "x")
    assert repr(path) in str(caught.value) or not path


def test_override_in_an_empty_list_and_non_string_path():
    call = RecordedCall(kwargs={"items": []})
    with pytest.raises(ConfigError, match="it is empty"):
        override_param(call, "items.0", "x")
    with pytest.raises(ConfigError, match="non-empty dot path"):
        override_param(call, 3, "x")


# ----- replaying ---------------------------------------------------------------------

CALLS = [
    RecordedCall(kwargs={"data": {"content": "one", "user": "ann"}}),
    RecordedCall(kwargs={"data": {"content": "two", "user": "bob"}}),
]


async def test_replay_a_sync_function_in_a_worker_thread():
    seen = []

    def handle(*, data):
        seen.append(threading.get_ident())
        return f"{data['user']}: {data['content']}"

    replay = ReplayTarget(handle, CALLS, "data.content")
    assert await replay("hello") == "ann: hello"
    assert await replay("hello", index=1) == "bob: hello"
    assert await replay("wrapped", index=3) == "bob: wrapped"
    assert seen
    assert threading.get_ident() not in seen
    assert CALLS[0].kwargs["data"]["content"] == "one"


async def test_replay_an_async_function_and_an_awaitable_result():
    async def ahandle(*, data):
        return {"reply": data["content"][::-1]}

    replay = ReplayTarget(ahandle, CALLS, "data.content")
    assert await replay("abc") == {"reply": "cba"}

    def start(**kwargs):  # a sync function that returns a coroutine
        return ahandle(**kwargs)

    lazy = ReplayTarget(start, CALLS, "data.content")
    assert await lazy("xyz", index=1) == {"reply": "zyx"}


async def test_replay_positional_args(tmp_path):
    path = write(tmp_path, '{"args": ["ws", {"content": "old"}], "kwargs": {}}')

    def handle(socket, data):
        return f"{socket}/{data['content']}"

    replay = ReplayTarget.from_file(handle, path, "1.content")
    assert await replay("new") == "ws/new"


async def test_as_agent_behind_a_target_channel():
    async def ahandle(*, data):
        return f"[{data['user']}] got {data['content']}"

    replay = ReplayTarget(ahandle, CALLS, "data.content")
    agent = replay.as_agent(1)
    assert "replay[1]" in agent.__name__
    assert await agent("direct") == "[bob] got direct"
    channel = TargetChannel(agent)
    async with await channel.create_session() as session:
        replies = await turn(session, "Where is my order?")
    assert [m.content for m in replies] == ["[bob] got Where is my order?"]


def test_replay_rejects_bad_arguments():
    def handle(**kwargs):
        return None

    with pytest.raises(ConfigError, match="func must be callable"):
        ReplayTarget("handle", CALLS, "data.content")
    with pytest.raises(ConfigError, match="at least one RecordedCall"):
        ReplayTarget(handle, [], "data.content")
    with pytest.raises(ConfigError, match="calls must be a list of RecordedCall"):
        ReplayTarget(handle, CALLS[0], "data.content")
    with pytest.raises(
        ConfigError, match=r"calls\[1\] must be a RecordedCall; got dict"
    ):
        ReplayTarget(handle, [CALLS[0], {"kwargs": {}}], "data.content")
    mixed = [CALLS[0], RecordedCall(kwargs={"text": "no data"})]
    with pytest.raises(
        ConfigError, match=r"recorded call 1: override path 'data\.content'"
    ):
        ReplayTarget(handle, mixed, "data.content")
    replay = ReplayTarget(handle, CALLS)
    assert replay.override_param_path == "data.content"
    with pytest.raises(ConfigError, match="index must be an int"):
        replay.as_agent(True)


async def test_replay_index_must_be_an_int():
    replay = ReplayTarget(lambda **kwargs: None, CALLS, "data.content")
    with pytest.raises(ConfigError, match="index must be an int; got '1'"):
        await replay("hi", index="1")
