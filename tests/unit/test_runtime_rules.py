"""Issue 10, items 1 and 6: one rule for errors in task groups, and deadlines that hold
against agents that never return.

Real loopback agents (an HTTP server on 127.0.0.1), real threads, a real subprocess.
"""

from __future__ import annotations

import os
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.utils.function_calling import convert_to_openai_tool

import clientsim
from clientsim import (
    Conversation,
    FullSimulationRunner,
    Intent,
    LLMParticipant,
    Message,
    MessageDraft,
    Outcome,
    Outcomes,
    ParticipantRole,
    ScriptedParticipant,
    Timeouts,
    simulate,
)
from clientsim._runtime import run_sync, task_group, unwrap
from clientsim.channels import Channel, HTTPChannel, Session, TargetChannel
from clientsim.clients.human import ConsoleHuman
from clientsim.errors import ConfigError, ModelError
from clientsim.evaluation import LLMOutcomeEvaluator
from clientsim.experiments import run_experiment
from clientsim.models import GridCell, RunStatus
from clientsim.participants import Participant
from clientsim.participants.supervisor import LLMSupervisor
from clientsim.pytest_plugin import ClientsimSettings
from clientsim.runners import BatchRunner, HybridSimulationRunner
from clientsim.runners.batch import BatchCell, ConversationJob
from clientsim.runners.hybrid import INBOX_SIZE
from clientsim.simulation.config import ClientSimulationConfig, ContinuousModeConfig
from clientsim.simulation.runner import ContinuousMode, SimulationRunner
from clientsim.tasks import InMemoryTaskEngine
from tests.channels.http_servers import Agent, completion, serve
from tests.processes import run_script


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


def scripted_agent(*lines: str) -> ScriptedParticipant:
    return ScriptedParticipant(ParticipantRole.AGENT, list(lines))


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
    assert record.error is not None
    assert "an agent call was abandoned after" in record.error.message


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
    done, exited = run_script(HANGING_SCRIPT, tmp_path, timeout=30)
    assert done.returncode == 0, done.stderr
    word, reason, returned = done.stdout.split()
    assert word == "RETURNED"
    assert reason in {"agent_silent", "max_duration"}
    assert exited - float(returned) < 3  # no stuck thread held the exit


# ----- item 7: one Timeouts value, honoured everywhere -----------------------------------


class HangingModel(BaseChatModel):
    """A chat model that never answers (a provider that hangs)."""

    @property
    def _llm_type(self) -> str:
        return "hanging"

    def bind_tools(self, tools, *, tool_choice=None, **kwargs):
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        raise NotImplementedError

    async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs):
        await anyio.sleep_forever()


class Hangs(Participant):
    """A participant that never proposes a message."""

    async def get_next_message(self, conversation):
        await anyio.sleep_forever()


class Slow:
    """A participant that answers after ``seconds`` of real time, forever."""

    def __init__(self, role: ParticipantRole, seconds: float) -> None:
        self.role = role
        self.seconds = seconds

    async def get_next_message(self, conversation):
        await anyio.sleep(self.seconds)
        last = conversation.messages[-1].timestamp
        return Message("more", last + timedelta(seconds=1), self.role)


def full(customer, agent, **kwargs) -> FullSimulationRunner:
    return FullSimulationRunner(
        customer,
        agent,
        MessageDraft("Hi, I need help", CUSTOMER),
        INTENT,
        OUTCOMES,
        **kwargs,
    )


async def test_a_full_run_fails_a_participant_past_the_turn_timeout():
    runner = full(scripted("Hi", "Hello?"), Hangs(), timeouts=Timeouts(turn=0.3))
    start = time.monotonic()
    result = await runner.run()
    assert time.monotonic() - start < 1.3
    assert result.error is not None
    assert result.error.source == "agent"
    assert result.error.type == "builtins.TimeoutError"
    assert "took longer than 0.3s to write a message (timeouts.turn)" in (
        result.error.message
    )
    assert result.error.transient


async def test_a_full_run_ends_at_the_conversation_timeout():
    runner = full(
        Slow(CUSTOMER, 0.05),
        Slow(ParticipantRole.AGENT, 0.05),
        max_messages=1000,
        timeouts=Timeouts(turn=5, conversation=0.5),
    )
    start = time.monotonic()
    result = await runner.run()
    assert time.monotonic() - start < 1.5
    assert result.error is None
    assert result.ending is not None
    assert result.ending.reason == "max_duration"
    assert "timeouts.conversation" in result.ending.detail
    assert len(result.conversation.messages) > 2


async def test_a_model_that_never_answers_is_a_transient_model_error():
    agent = LLMParticipant(
        ParticipantRole.AGENT, HangingModel(), timeouts=Timeouts(model_call=0.2)
    )
    start = time.monotonic()
    result = await full(scripted("Hi"), agent).run()
    assert time.monotonic() - start < 1.2
    assert result.error is not None
    assert result.error.source == "agent"
    assert result.error.type == "clientsim.errors.ModelError"
    assert "did not answer within 0.2s (timeouts.model_call)" in result.error.message
    assert result.error.transient


async def test_a_judge_that_never_answers_is_bounded_by_the_model_call_timeout():
    judge = LLMOutcomeEvaluator(HangingModel(), timeouts=Timeouts(model_call=0.2))
    start = time.monotonic()
    result = await full(
        scripted("Hi"), scripted_agent("Hello"), outcome_evaluator=judge
    ).run()
    assert time.monotonic() - start < 1.2
    assert result.error is not None
    assert result.error.source == "evaluator"
    assert "timeouts.model_call" in result.error.message


async def test_the_supervisor_is_bounded_by_the_model_call_timeout():
    supervisor = LLMSupervisor(HangingModel(), timeouts=Timeouts(model_call=0.2))
    with anyio.fail_after(2), pytest.raises(ModelError, match=r"timeouts\.model_call"):
        await supervisor.decide(Conversation(()))


async def test_simulate_honours_its_timeouts():
    start = time.monotonic()
    runs = await simulate(Hangs(), intents=["help"], timeouts=Timeouts(turn=0.3))
    assert time.monotonic() - start < 1.5
    (result,) = runs.results
    assert result.error is not None
    assert "timeouts.turn" in result.error.message


async def test_the_batch_conversation_timeout_comes_from_its_timeouts():
    def build(job: ConversationJob) -> FullSimulationRunner:
        return full(
            Slow(CUSTOMER, 0.05),
            Slow(ParticipantRole.AGENT, 0.05),
            max_messages=1000,
            timeouts=job.timeouts,
        )

    cells = [
        BatchCell(cell=GridCell(input_id="i", persona_id="p", iteration=0), input="Hi")
    ]
    batch = BatchRunner(
        build, cells, run_id="r", seed=0, timeouts=Timeouts(conversation=0.4)
    )
    (record,) = (await batch.run()).records
    assert record.duration_seconds < 1.4
    assert record.result is not None
    assert record.result.ending is not None
    assert record.result.ending.reason in {"max_duration", "timeout"}


def test_the_pytest_marker_takes_timeouts():
    marker = pytest.mark.clientsim(timeouts={"turn": 5, "conversation": 60}).mark
    settings = ClientsimSettings.from_marker(marker)
    assert settings.timeouts == Timeouts(turn=5, conversation=60)
    bad = pytest.mark.clientsim(timeouts={"turns": 5}).mark
    with pytest.raises(ConfigError, match="unknown key"):
        ClientsimSettings.from_marker(bad)
    with pytest.raises(ConfigError, match=r"timeouts\.turn"):
        ClientsimSettings.from_marker(pytest.mark.clientsim(timeouts={"turn": 0}).mark)


# ----- item 12: bounded, pruned, copied ---------------------------------------------------


class FloodSession(Session):
    """A plain session (not a QueueSession) whose agent floods messages at once."""

    def __init__(self, count: int) -> None:
        self.session_id = "flood"
        self.count = count
        self.yielded = 0
        self.taken = 0
        self.most_ahead = 0
        self.sent = anyio.Event()

    async def get_conversation(self) -> Conversation:
        return Conversation(())

    async def send(self, message: Message) -> None:
        self.sent.set()

    async def subscribe(self) -> AsyncIterator[Message]:
        await self.sent.wait()
        for index in range(self.count):
            self.yielded += 1
            self.most_ahead = max(self.most_ahead, self.yielded - self.taken)
            yield Message(f"m{index}", datetime.now(UTC), ParticipantRole.AGENT)

    async def aclose(self) -> None:
        pass


class FloodChannel(Channel):
    def __init__(self, session: FloodSession) -> None:
        self.session = session

    async def create_session(self) -> FloodSession:
        return self.session


async def test_the_hybrid_inbox_is_bounded_with_backpressure_and_drops_nothing():
    count = INBOX_SIZE * 3
    session = FloodSession(count)

    def taken(conversation: Conversation, progress: object) -> None:
        session.taken = len(conversation.messages) - 1

    runner = HybridSimulationRunner(
        customer=scripted("Hi"),
        channel=FloodChannel(session),
        intent=INTENT,
        outcomes=OUTCOMES,
        max_messages=count + 1,
        progress_callback=taken,
        reply_timeout_seconds=5,
        quiet_period_seconds=1,
    )
    with anyio.fail_after(20):
        result = await runner.run()
    contents = [m.content for m in result.conversation.messages[1:]]
    assert contents == [f"m{i}" for i in range(count)]  # all of them, in order
    assert session.most_ahead <= INBOX_SIZE + 2  # the reader waited: backpressure


def continuous_runner(engine: InMemoryTaskEngine) -> SimulationRunner:
    config = ClientSimulationConfig.from_dict(
        {
            "pool": {"size": 2, "ai_ratio": 1.0, "human_ratio": 0.0},
            "runner": {"requirements_per_round": 3, "rounds": 1, "seed": 7},
        }
    )
    return SimulationRunner.from_config(config, task_engine=engine)


async def echo_worker(task, feedback) -> str:
    return f"Done: {task.requirement.title}. " + " ".join(
        task.requirement.acceptance_criteria
    )


async def test_continuous_mode_copies_its_runner_and_keeps_memory_bounded():
    engine = InMemoryTaskEngine(echo_worker)
    runner = continuous_runner(engine)
    config_before = runner.config
    mode = ContinuousMode(
        runner,
        ContinuousModeConfig(interval_seconds=0.01, max_concurrent=4, max_rounds=5),
        keep_outcomes=4,
    )
    assert mode.runner is not runner
    assert runner.config is config_before  # the runner given is left as it was
    assert mode.runner.config.max_concurrent == 4
    with anyio.fail_after(60):
        result = await mode.run()
    assert mode.rounds_done == 5
    assert runner.outcomes == []  # nothing ran on the original
    assert len(mode.runner.outcomes) == 4  # the most recent, no more
    assert len(result.outcomes) == 4
    assert engine.tasks() == ()  # finished tasks were pruned between rounds
    assert mode.runner._intake_engine.requests() == ()
    assert mode.runner._review.client_of == {}


def test_continuous_mode_refuses_a_bad_keep_outcomes():
    runner = continuous_runner(InMemoryTaskEngine(echo_worker))
    with pytest.raises(ConfigError, match="keep_outcomes"):
        ContinuousMode(runner, keep_outcomes=0)


async def test_a_config_error_in_a_continuous_round_propagates_as_itself():
    class Wrong:
        name = "wrong"

        async def process(self, request):
            return "yes"  # not an IntakeDecision

    engine = InMemoryTaskEngine(echo_worker)
    base = continuous_runner(engine)
    runner = SimulationRunner(
        clients=base.clients,
        generator=base.generator,
        task_engine=engine,
        intake=Wrong(),
        config=base.config,
    )
    mode = ContinuousMode(runner, ContinuousModeConfig(interval_seconds=0.01))
    with anyio.fail_after(30), pytest.raises(ConfigError, match="IntakeDecision"):
        await mode.run()


HANGING_AGENT = """
import threading

STUCK = threading.Event()


def run(message: str) -> str:
    STUCK.wait()  # a sync agent that never returns
    return "never"
"""

HANGING_EXPERIMENT = """
name: hanging
description: a sync agent that never returns
iterations: 1
runner:
  target: "stuck_agent:run"
  python_path: [src]
  timeout_seconds: 10
  max_retries: 0
inputs: ["hello?"]
"""


async def test_an_experiments_timeout_seconds_holds_against_a_hanging_sync_agent(
    tmp_path,
):
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "src" / "stuck_agent.py").write_text(HANGING_AGENT, encoding="utf-8")
    path = root / "simulation.yaml"
    path.write_text(HANGING_EXPERIMENT, encoding="utf-8")
    start = time.monotonic()
    try:
        result = await run_experiment(path)
    finally:
        stuck = sys.modules.get("stuck_agent")
        if stuck is not None:
            stuck.STUCK.set()
    assert time.monotonic() - start < 10 + 3
    (record,) = result.records
    assert record.status is RunStatus.TIMEOUT
    assert record.duration_seconds < 10 + 1


async def test_a_config_error_from_a_sessions_background_send_propagates():
    class Misconfigured(FloodSession):
        async def send(self, message: Message) -> None:
            raise ConfigError("the channel's 'model' option is missing")

    runner = HybridSimulationRunner(
        customer=scripted("Hi"),
        channel=FloodChannel(Misconfigured(0)),
        intent=INTENT,
        outcomes=OUTCOMES,
        reply_timeout_seconds=5,
    )
    with anyio.fail_after(10), pytest.raises(ConfigError, match="'model' option"):
        await runner.run()


def test_the_simulate_fixture_honours_the_markers_timeouts(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
):
    here = str(Path(clientsim.__file__).parents[1])  # the clientsim under test
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([here, os.environ.get("PYTHONPATH", "")])
    )
    pytester.makeini("[pytest]\nanyio_mode = auto\n")
    pytester.makepyfile(
        test_hang="""
        import threading

        import pytest


        def agent(message: str) -> str:
            threading.Event().wait()  # a sync agent that never returns


        @pytest.mark.clientsim(timeouts={"conversation": 1.5})
        async def test_hangs(simulate):
            results = await simulate(agent, intents=["help"])
            (result,) = results.results
            assert result.error is not None
            assert result.error.type == "TimeoutError"
            assert result.duration_seconds < 1.5 + 1
        """
    )
    start = time.monotonic()
    result = pytester.runpytest_subprocess(
        "-p", "no:langsmith_plugin", "-p", "no:cacheprovider", "-p", "clientsim"
    )
    result.assert_outcomes(passed=1)
    assert time.monotonic() - start < 30  # the stuck thread did not hold the exit


async def test_a_console_read_nobody_answers_is_abandoned_at_the_deadline():
    nobody = threading.Event()

    def never_answers(prompt: str) -> str:
        nobody.wait()
        return ""

    console = ConsoleHuman(input_fn=never_answers, output_fn=lambda text: None)
    start = time.monotonic()
    with pytest.raises(TimeoutError), anyio.fail_after(0.3):
        await console._read("Accept? ")
    assert time.monotonic() - start < 1.0
    nobody.set()
