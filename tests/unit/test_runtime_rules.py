"""Issue 10, items 1 and 6: one rule for errors in task groups, and deadlines that hold
against agents that never return.

Real loopback agents (an HTTP server on 127.0.0.1), real threads, a real subprocess.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.lowlevel
import pytest

from clientsim import (
    Intent,
    LLMParticipant,
    MessageDraft,
    Outcome,
    Outcomes,
    ParticipantRole,
    ScriptedParticipant,
)
from clientsim._runtime import run_sync, task_group, unwrap
from clientsim.channels import HTTPChannel, TargetChannel
from clientsim.errors import ConfigError
from clientsim.evaluation import LLMOutcomeEvaluator
from clientsim.models import GridCell, RunStatus
from clientsim.runners import BatchRunner, HybridSimulationRunner
from clientsim.runners.batch import BatchCell, ConversationJob
from tests.channels.http_servers import Agent, completion, serve


CUSTOMER = ParticipantRole.CUSTOMER
INTENT = Intent(CUSTOMER, "reset my password")
OUTCOMES = Outcomes((Outcome("resolved", "the password was reset"),))


@pytest.fixture(name="no_openai_key")
def _no_openai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


@asynccontextmanager
async def http(agent: Agent) -> AsyncIterator[HTTPChannel]:
    channel = HTTPChannel(base_url=f"{agent.url}/v1", model="bot")
    try:
        yield channel
    finally:
        await channel.aclose()


def scripted(*lines: str) -> ScriptedParticipant:
    return ScriptedParticipant(CUSTOMER, list(lines))


# ----- item 1: a ConfigError comes out of run() as itself -------------------------------


@pytest.mark.usefixtures("no_openai_key")
async def test_a_customer_on_an_openai_spec_without_a_key_raises_config_error():
    async with (
        serve(completion("Hello, how can I help?")) as agent,
        http(agent) as channel,
    ):
        runner = HybridSimulationRunner(
            customer=LLMParticipant(CUSTOMER, "openai:gpt-4o-mini"),
            channel=channel,
            intent=INTENT,
            outcomes=OUTCOMES,
            initial_message=MessageDraft("Hi, I am locked out", CUSTOMER),
            reply_timeout_seconds=5,
        )
        with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
            await runner.run()
    assert (
        len(agent.requests) == 1
    )  # the agent answered; the customer was misconfigured


@pytest.mark.usefixtures("no_openai_key")
async def test_an_evaluator_on_an_openai_spec_without_a_key_raises_config_error():
    async with (
        serve(completion("Sure, resetting it now")) as agent,
        http(agent) as channel,
    ):
        runner = HybridSimulationRunner(
            customer=scripted("Hi, I am locked out", "thanks"),
            channel=channel,
            intent=INTENT,
            outcomes=OUTCOMES,
            reply_timeout_seconds=5,
            outcome_evaluator=LLMOutcomeEvaluator("openai:gpt-4o-mini"),
        )
        with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
            await runner.run()


async def test_a_customer_failure_inside_the_task_group_is_the_customers():
    class Broken:
        async def get_next_message(self, conversation):
            raise RuntimeError("the customer's model went away")

    async with serve(completion("Hello")) as agent, http(agent) as channel:
        result = await HybridSimulationRunner(
            customer=Broken(),
            channel=channel,
            intent=INTENT,
            outcomes=OUTCOMES,
            initial_message=MessageDraft("Hi", CUSTOMER),
            reply_timeout_seconds=5,
        ).run()
    assert result.error is not None
    assert result.error.source == "customer"
    assert result.error.side == "simulator"
    assert result.error.type == "builtins.RuntimeError"
    assert result.error.message == "the customer's model went away"


@pytest.mark.usefixtures("no_openai_key")
async def test_a_batch_of_hybrid_runs_raises_the_config_error_itself():
    async with serve(completion("Hello")) as agent, http(agent) as channel:

        def build(job: ConversationJob) -> HybridSimulationRunner:
            return HybridSimulationRunner(
                customer=LLMParticipant(CUSTOMER, "openai:gpt-4o-mini"),
                channel=channel,
                intent=INTENT,
                outcomes=OUTCOMES,
                initial_message=MessageDraft("Hi", CUSTOMER),
            )

        cells = [
            BatchCell(
                cell=GridCell(input_id=f"i{n}", persona_id="p", iteration=0), input="Hi"
            )
            for n in range(3)
        ]
        batch = BatchRunner(build, cells, run_id="r", seed=0, parallel_runs=3)
        with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
            await batch.run()


async def test_the_shared_task_group_raises_errors_never_a_group():
    async def fails(error: Exception) -> None:
        await anyio.lowlevel.checkpoint()
        raise error

    async def run(*errors: Exception) -> None:
        async with task_group() as group:
            for error in errors:
                group.start_soon(fails, error)
            await anyio.sleep_forever()

    with pytest.raises(ConfigError, match="bad option"):
        await run(ValueError("other"), ConfigError("bad option"))
    with pytest.raises(KeyError) as caught:
        await run(KeyError("k"))
    assert not isinstance(caught.value, BaseExceptionGroup)


def test_unwrap_prefers_a_config_error_then_names_the_other_errors():
    first, second = ValueError("one"), KeyError("two")
    nested = ExceptionGroup("outer", [first, ExceptionGroup("inner", [second])])
    assert unwrap(nested) is first
    assert "1 more error(s) at the same time: KeyError" in first.__notes__[0]
    config = ConfigError("bad")
    assert unwrap(ExceptionGroup("g", [ValueError("x"), config])) is config


# ----- item 6: sync calls that never return ---------------------------------------------


async def test_run_sync_abandons_a_call_that_never_returns_on_a_daemon_thread():
    stuck = threading.Event()
    seen: list[threading.Thread] = []

    def hang() -> None:
        seen.append(threading.current_thread())
        stuck.wait()

    start = time.monotonic()
    with anyio.move_on_after(0.3):
        await run_sync(hang, name="hang")
    assert time.monotonic() - start < 1.0
    assert seen[0].daemon
    assert seen[0].is_alive()  # abandoned, still running
    stuck.set()
    assert await run_sync(lambda: 42) == 42
    with pytest.raises(ZeroDivisionError):
        await run_sync(lambda: 1 / 0)


async def test_a_hybrid_run_against_a_hanging_sync_agent_ends_at_its_deadline():
    stuck = threading.Event()

    def agent(message: str) -> str:
        stuck.wait()  # a sync agent that never returns
        return "never"

    runner = HybridSimulationRunner(
        customer=scripted("Hi", "Hello?", "Anyone?", "Still there?", "Hello??"),
        channel=TargetChannel(agent),
        intent=INTENT,
        outcomes=OUTCOMES,
        reply_timeout_seconds=1,
        max_duration_seconds=3,
    )
    start = time.monotonic()
    result = await runner.run()
    elapsed = time.monotonic() - start
    stuck.set()
    assert elapsed < 3 + 1, elapsed
    assert result.ending is not None
    assert result.ending.reason in {"agent_silent", "max_duration"}
    assert "an agent call was abandoned after" in result.ending.detail, result.ending
    assert result.error is None


async def test_a_batch_timeout_holds_against_a_hanging_sync_agent():
    stuck = threading.Event()

    def agent(message: str) -> str:
        stuck.wait()
        return "never"

    channel = TargetChannel(agent)

    def build(job: ConversationJob) -> HybridSimulationRunner:
        return HybridSimulationRunner(
            customer=scripted("Hi", "Hello?"),
            channel=channel,
            intent=INTENT,
            outcomes=OUTCOMES,
            reply_timeout_seconds=30,
            max_duration_seconds=60,
        )

    cells = [
        BatchCell(cell=GridCell(input_id="i", persona_id="p", iteration=0), input="Hi")
    ]
    batch = BatchRunner(build, cells, run_id="r", seed=0, timeout_seconds=1)
    start = time.monotonic()
    result = await batch.run()
    elapsed = time.monotonic() - start
    stuck.set()
    assert elapsed < 1 + 1, elapsed
    (record,) = result.records
    assert record.status is RunStatus.TIMEOUT
    assert record.duration_seconds < 2


HANGING_SCRIPT = textwrap.dedent(
    """
    import sys, threading, time
    import anyio
    from clientsim import Intent, Outcome, Outcomes, ParticipantRole, ScriptedParticipant
    from clientsim.channels import TargetChannel
    from clientsim.runners import HybridSimulationRunner

    def agent(message):
        threading.Event().wait()  # blocks forever

    async def main():
        runner = HybridSimulationRunner(
            customer=ScriptedParticipant(ParticipantRole.CUSTOMER, ["Hi"]),
            channel=TargetChannel(agent),
            intent=Intent(ParticipantRole.CUSTOMER, "help"),
            outcomes=Outcomes((Outcome("done", "done"),)),
            reply_timeout_seconds=0.5,
            max_duration_seconds=1,
        )
        result = await runner.run()
        print("RETURNED", result.ending.reason, time.monotonic(), flush=True)

    anyio.run(main)
    """
)


def test_a_process_whose_sync_agent_never_returns_still_exits(tmp_path):
    script = tmp_path / "hang.py"
    script.write_text(HANGING_SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    exited = time.monotonic()
    assert done.returncode == 0, done.stderr
    word, reason, returned = done.stdout.split()
    assert word == "RETURNED"
    assert reason in {"agent_silent", "max_duration"}
    assert exited - float(returned) < 3  # no stuck thread held the exit
