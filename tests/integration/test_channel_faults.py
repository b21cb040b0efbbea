"""Failed exchanges over real channels: one classification, retried by experiments,
bounded in time and in memory.

Every agent here is a real server on 127.0.0.1 (aiohttp's), or an in-process agent; the
conversations run through the public runners.
"""

from __future__ import annotations

import sys
import textwrap
from collections import Counter
from typing import Any

import anyio
import pytest
from aiohttp import web

from clientsim import (
    HybridSimulationRunner,
    MessageDraft,
    ParticipantRole,
    ScriptedParticipant,
)
from clientsim.channels import HTTPChannel, TargetChannel, WebSocketChannel
from clientsim.channels.base import now
from clientsim.errors import AgentTimeoutError, ChannelError, is_transient
from clientsim.factory import build_channel
from clientsim.models import ErrorRecord, GridCell, Message, RunStatus
from clientsim.runners.batch import BatchCell, BatchRunner, ConversationJob
from tests.channels import http_servers as http
from tests.channels import ws_server as ws


CUSTOMER = ParticipantRole.CUSTOMER
CONVERSATIONS = 300


def hybrid(channel: Any, lines: list[str], outcomes: Any, **options: Any) -> Any:
    options.setdefault("quiet_period_seconds", 0.2)
    options.setdefault("reply_timeout_seconds", 5)
    return HybridSimulationRunner(
        ScriptedParticipant(CUSTOMER, lines[1:]),
        channel,
        None,
        outcomes,
        initial_message=MessageDraft(lines[0], CUSTOMER),
        **options,
    )


async def run(channel: Any, lines: list[str], outcomes: Any, **options: Any) -> Any:
    runner = hybrid(channel, lines, outcomes, **options)
    start = anyio.current_time()
    with anyio.fail_after(30):
        result = await runner.run()
    return result, anyio.current_time() - start


# ----- one classification ------------------------------------------------------------


def _record(result: Any) -> ErrorRecord:
    assert result.error is not None, result.ending
    assert result.error.source == "channel"
    return result.error


HTTP_CASES = {
    "503 after retries": (http.status(503, body="overloaded"), True, 503),
    "429 after retries": (http.status(429, body="slow down"), True, 429),
    "400": (http.status(400, body="bad request"), False, 400),
    "401": (http.status(401), False, 401),
    "not JSON": (http.raw("<html>oops</html>", content_type="text/html"), False, 200),
    "no choices": (http.reply({"id": "x"}), False, 200),
    "too large": (http.endless(), False, 200),
}


@pytest.mark.parametrize("case", list(HTTP_CASES))
async def test_http_failures_are_classified_with_their_status(case, outcomes):
    step, transient, status = HTTP_CASES[case]
    async with (
        http.serve(step) as agent,
        HTTPChannel(
            base_url=f"{agent.url}/v1",
            max_retries=1,
            backoff_seconds=0.01,
            max_reply_bytes=100_000,
        ) as channel,
    ):
        result, _ = await run(channel, ["hi"], outcomes)
    error = _record(result)
    assert error.transient is transient
    assert error.type == "clientsim.errors.ChannelError"
    if status != 200:
        assert f"HTTP {status}" in error.message


async def test_http_errors_keep_status_transient_and_cause():
    async with (
        http.serve(http.status(503, body="down")) as agent,
        HTTPChannel(base_url=f"{agent.url}/v1", max_retries=0) as channel,
    ):
        session = await channel.create_session()
        async with session:
            with pytest.raises(ChannelError) as caught:
                await session.send(_message("hi"))
    assert caught.value.status == 503
    assert caught.value.transient
    assert is_transient(caught.value)
    assert session.last_error is caught.value


async def test_a_connection_refused_is_the_same_fault_over_http_and_websocket(
    outcomes,
):
    with ws.unused_port() as port:
        async with HTTPChannel(
            base_url=f"http://127.0.0.1:{port}/v1", max_retries=0
        ) as channel:
            over_http, _ = await run(channel, ["hi"], outcomes)
        async with WebSocketChannel(f"ws://127.0.0.1:{port}/agent") as channel:
            over_ws, _ = await run(channel, ["hi"], outcomes)
    for result in (over_http, over_ws):
        error = _record(result)
        assert error.transient
        assert error.side == "agent"
        assert "Connect call failed" in error.message


async def test_an_http_timeout_is_transient(outcomes):
    async with (
        http.serve(http.slow(5, http.completion("late"))) as agent,
        HTTPChannel(base_url=f"{agent.url}/v1", timeout_seconds=0.2) as channel,
    ):
        result, _ = await run(channel, ["hi"], outcomes)
    error = _record(result)
    assert error.type == "clientsim.errors.AgentTimeoutError"
    assert error.transient


async def test_a_dropped_sse_stream_is_transient(outcomes):
    async def drop_mid_stream(request: Any, received: Any) -> Any:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b'data: {"choices": [{"delta": {"content": "Hel"}}]}\n\n')
        assert request.transport is not None
        request.transport.close()  # cut mid-stream, no [DONE]
        return response

    async with (
        http.serve(drop_mid_stream) as agent,
        HTTPChannel(base_url=f"{agent.url}/v1", stream=True, max_retries=0) as channel,
    ):
        result, _ = await run(channel, ["hi"], outcomes)
    assert _record(result).transient


WS_CASES = {
    "dropped": (ws.drop_mid_talk, True),
    "closed 1011": (ws.close_after_reply(1011, b"internal error"), True),
    "closed 1008": (ws.close_after_reply(1008, b"policy"), False),
    "not JSON": (ws.send_raw("<html>"), False),
}


@pytest.mark.parametrize("case", list(WS_CASES))
async def test_websocket_failures_are_classified(case, outcomes):
    behaviour, transient = WS_CASES[case]
    async with (
        ws.serve(behaviour) as server,
        WebSocketChannel(server.url) as channel,
    ):
        result, _ = await run(channel, ["hi", "and?"], outcomes)
    assert _record(result).transient is transient


@pytest.mark.parametrize(("status", "transient"), [(503, True), (401, False)])
async def test_a_refused_websocket_handshake_keeps_its_status(status, transient):
    async def refuse(request: Any) -> Any:
        return web.Response(status=status)

    app = web.Application()
    app.router.add_get("/agent", refuse)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        url = f"ws://127.0.0.1:{runner.addresses[0][1]}/agent"
        async with WebSocketChannel(url) as channel:
            session = await channel.create_session()
            async with session:
                with pytest.raises(ChannelError) as caught:
                    await session.send(_message("hi"))
    finally:
        await runner.cleanup()
    assert caught.value.status == status
    assert caught.value.transient is transient
    assert f"HTTP {status}" in str(caught.value)


@pytest.mark.parametrize(
    ("raised", "transient"),
    [(ConnectionResetError("peer reset"), True), (ValueError("a bug"), False)],
)
async def test_in_process_agents_are_classified_by_what_they_raised(
    raised, transient, outcomes
):
    def agent(message: str) -> str:
        raise raised

    result, _ = await run(TargetChannel(agent), ["hi"], outcomes)
    assert _record(result).transient is transient


def test_an_error_that_says_it_is_transient_is_believed():
    assert is_transient(ChannelError("dropped", transient=True))
    assert not is_transient(ChannelError("bad reply", status=200))
    assert is_transient(ChannelError("overloaded", status=503))
    assert not is_transient(ChannelError("nope", status=404))
    assert is_transient(AgentTimeoutError("slow"))
    wrapped = ChannelError("the agent failed")
    wrapped.__cause__ = ConnectionRefusedError("down")
    assert is_transient(wrapped)
    assert ErrorRecord.from_exception("channel", wrapped).transient
    # The error's own word wins over what it was raised from.
    refused = ChannelError("not retried", transient=False)
    refused.__cause__ = ConnectionRefusedError("down")
    assert not is_transient(refused)


# ----- twenty percent faults: nothing lost ---------------------------------------------


def _cells(count: int) -> list[BatchCell]:
    return [
        BatchCell(
            cell=GridCell(input_id=str(index), persona_id="p", iteration=0),
            input=f"Question number {index}",
            persona="p",
        )
        for index in range(count)
    ]


async def _batch(channel: Any, outcomes: Any) -> Any:
    def build(job: ConversationJob) -> HybridSimulationRunner:
        return hybrid(
            channel,
            [job.input, "Thanks, one more thing"],
            outcomes,
            quiet_period_seconds=0.5,
        )

    with anyio.fail_after(120):
        return await BatchRunner(
            build,
            _cells(CONVERSATIONS),
            run_id="faults",
            seed=3,
            parallel_runs=16,
            max_retries=10,
            retry_base_seconds=0,
        ).run()


def _tally(result: Any) -> Counter[str]:
    tally: Counter[str] = Counter()
    for record in result.records:
        tally["lost" if record.status is not RunStatus.DONE else "done"] += 1
        tally["retries"] += record.attempts - 1
    return tally


async def test_http_503_on_every_fifth_request_loses_no_conversation(outcomes):
    fault = http.every(5, http.status(503, body="overloaded"), http.completion("OK"))
    async with (
        http.serve(fault) as agent,
        # No retries in the channel: every fault reaches the experiment's retries.
        HTTPChannel(base_url=f"{agent.url}/v1", max_retries=0) as channel,
    ):
        result = await _batch(channel, outcomes)
    tally = _tally(result)
    print(
        f"HTTP 503: {dict(tally)}, faults {fault.faults}, requests {len(agent.requests)}"
    )
    assert fault.faults >= CONVERSATIONS // 5  # the faults really happened
    assert tally["lost"] == 0
    assert tally["done"] == CONVERSATIONS
    assert tally["retries"] == fault.faults  # each fault cost one retry, no more


async def test_websocket_dropping_every_fifth_connection_loses_no_conversation(
    outcomes,
):
    behaviour = ws.drop_every(5)
    async with (
        ws.serve(behaviour) as server,
        WebSocketChannel(server.url, heartbeat_seconds=None) as channel,
    ):
        result = await _batch(channel, outcomes)
    tally = _tally(result)
    print(f"WebSocket drops: {dict(tally)}, drops {behaviour.drops}")
    assert behaviour.drops >= CONVERSATIONS // 5
    assert tally["lost"] == 0
    assert tally["done"] == CONVERSATIONS
    assert tally["retries"] == behaviour.drops


# ----- the channel's error explains a silent agent -------------------------------------


async def test_a_reply_timeout_shorter_than_retry_after_records_the_429(outcomes):
    throttled = http.status(429, body="slow down", headers={"Retry-After": "5"})
    async with (
        http.serve(throttled) as agent,
        HTTPChannel(base_url=f"{agent.url}/v1", max_retries=3) as channel,
    ):
        result, elapsed = await run(
            channel, ["hi"], outcomes, reply_timeout_seconds=0.3
        )
    assert elapsed < 0.3 + 1
    error = _record(result)
    assert error.transient
    assert "429" in error.message
    assert "the agent sent nothing within 0.3s" in error.message
    assert result.ending.reason == "error"
    assert "429" in result.ending.detail


async def test_a_max_duration_over_failing_retries_records_the_503(outcomes):
    down = http.status(503, body="down", headers={"Retry-After": "10"})
    async with (
        http.serve(down) as agent,
        HTTPChannel(base_url=f"{agent.url}/v1", max_retries=5) as channel,
    ):
        result, elapsed = await run(
            channel,
            ["hi"],
            outcomes,
            reply_timeout_seconds=5,
            max_duration_seconds=0.5,
        )
    assert elapsed < 0.5 + 1
    error = _record(result)
    assert error.transient
    assert "503" in error.message
    assert "maximum duration" in error.message


async def test_a_silent_agent_whose_channel_did_not_fail_stays_silent(outcomes):
    async with (
        http.serve(http.slow(5, http.completion("late"))) as agent,
        HTTPChannel(base_url=f"{agent.url}/v1") as channel,
    ):
        result, _ = await run(channel, ["hi"], outcomes, reply_timeout_seconds=0.2)
    assert result.error is None
    assert result.ending.reason == "agent_silent"


# ----- deadlines and memory -------------------------------------------------------------


async def test_an_agent_that_never_acknowledges_the_close_keeps_max_duration(outcomes):
    async with (
        ws.serve(ws.never_ack_close, autoclose=False) as server,
        WebSocketChannel(server.url, close_timeout_seconds=5) as channel,
    ):
        result, elapsed = await run(
            channel,
            ["hi"],
            outcomes,
            reply_timeout_seconds=10,
            max_duration_seconds=1,
        )
        assert server.connections[0].received[-1] == "CLOSE"  # a close was asked
    assert result.ending.reason == "max_duration"
    assert elapsed < 1 + 0.3, elapsed


async def test_an_early_end_still_waits_for_the_close_acknowledgement(outcomes):
    async with (
        ws.serve(ws.never_ack_close, autoclose=False) as server,
        WebSocketChannel(server.url, close_timeout_seconds=0.5) as channel,
    ):
        result, elapsed = await run(
            channel, ["hi"], outcomes, reply_timeout_seconds=0.2
        )
    assert result.ending.reason == "agent_silent"
    assert 0.2 + 0.5 <= elapsed < 0.2 + 0.5 + 0.5, elapsed


@pytest.mark.parametrize(
    "step",
    [
        http.endless(),
        http.endless(content_type="text/event-stream"),
        http.endless(length=2**30),
    ],
    ids=["endless", "endless-sse", "1-GiB-announced"],
)
async def test_a_reply_past_max_reply_bytes_is_refused_fast(step):
    async with (
        http.serve(step) as agent,
        HTTPChannel(base_url=f"{agent.url}/v1", stream=True) as channel,
    ):
        session = await channel.create_session()
        async with session:
            start = anyio.current_time()
            with pytest.raises(ChannelError, match="max_reply_bytes=4194304") as caught:
                await session.send(_message("hi"))
            elapsed = anyio.current_time() - start
    assert elapsed < 2
    assert not caught.value.transient
    assert caught.value.status == 200
    assert "HTTPChannel option" in str(caught.value)


def test_max_reply_bytes_can_be_set_from_a_file():
    channel = build_channel(
        {"strategy": "http", "base_url": "http://h/v1", "max_reply_bytes": 1000}
    )
    assert isinstance(channel, HTTPChannel)
    assert channel.max_reply_bytes == 1000


PEAK_RSS = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    import anyio
    from clientsim import Message, ParticipantRole
    from clientsim.channels import HTTPChannel
    from clientsim.errors import ChannelError

    async def main():
        async with HTTPChannel(base_url=sys.argv[1], timeout_seconds=60) as channel:
            session = await channel.create_session()
            async with session:
                message = Message("hi", datetime.now(UTC), ParticipantRole.CUSTOMER)
                try:
                    await session.send(message)
                except ChannelError as exc:
                    assert "max_reply_bytes" in str(exc), exc
                else:
                    raise SystemExit("the reply was not refused")

    anyio.run(main)
    # The peak of this program's own memory (ru_maxrss would count the parent's
    # memory at fork time too).
    status = open("/proc/self/status").read()
    print(int(status.split("VmHWM:")[1].split()[0]) // 1024)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("length", [None, 2**30], ids=["endless", "1-GiB"])
async def test_a_huge_reply_takes_little_memory(length):
    async with http.serve(http.endless(length=length)) as agent:
        process = await anyio.run_process(
            [sys.executable, "-c", PEAK_RSS, f"{agent.url}/v1"], check=False
        )
    assert process.returncode == 0, process.stderr.decode()
    peak_mb = int(process.stdout.decode().split()[-1])
    print(f"peak RSS refusing a {length or 'endless'} reply: {peak_mb} MB")
    assert peak_mb < 100


def _message(content: str) -> Message:
    return Message(content, now(), CUSTOMER)
