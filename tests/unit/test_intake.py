"""Intake: strategies, the request walk, the approve path and clean cancellation."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from typing import Any

import anyio
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from clientsim import events, hookimpl
from clientsim.errors import (
    ClientSimWarning,
    ConfigError,
    IllegalTransitionError,
    SimulationError,
)
from clientsim.intake import (
    BUILTINS,
    AgentIntake,
    DirectIntake,
    IntakeDecision,
    IntakeEngine,
    IntakeStrategy,
    fold_scoping_notes,
)
from clientsim.models import Timeouts
from clientsim.models.client import (
    REQUEST_TRANSITIONS,
    ClientRequest,
    RequestStatus,
    TaskRequirement,
    TaskSource,
    TaskStatus,
)
from clientsim.plugins import register_plugin, unregister_plugin
from clientsim.tasks import InMemoryTaskEngine


R = RequestStatus
REQUIREMENT = TaskRequirement(
    title="Add login",
    description="Users log in with email and password.",
    acceptance_criteria=("Has tests",),
)
BARE = TaskRequirement(title="Something", description="Do something.")


async def worker(task, feedback):
    return f"Done: {task.requirement.title}"


class Recorder:
    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, object]]] = []

    @hookimpl
    def clientsim_event(self, event: str, fields: Mapping[str, object]) -> None:
        self.received.append((event, dict(fields)))

    def named(self, name: str) -> list[dict[str, object]]:
        return [fields for event, fields in self.received if event == name]


@pytest.fixture(name="recorder")
def _recorder():
    recorder = Recorder()
    register_plugin(recorder)
    try:
        yield recorder
    finally:
        unregister_plugin(recorder)


class FixedAnswerModel(BaseChatModel):
    """A fake chat model whose structured answers are fixed."""

    answer: dict[str, Any]

    @property
    def _llm_type(self) -> str:
        return "fixed-answer"

    def bind_tools(self, tools, *, tool_choice=None, **kwargs):
        from langchain_core.utils.function_calling import convert_to_openai_tool

        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        name = kwargs["tools"][0]["function"]["name"]
        message = AIMessage(
            content="",
            tool_calls=[
                {"name": name, "args": self.answer, "id": "c1", "type": "tool_call"}
            ],
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


class Declines:
    name = "declines"

    async def process(self, request):
        return IntakeDecision(approve=False, reason="Out of scope")


class Explodes:
    async def process(self, request):
        raise RuntimeError("triage broke")


def _legal(request: ClientRequest) -> bool:
    walk = (*request.history, request.status)
    return walk[0] is R.SUBMITTED and all(
        b in REQUEST_TRANSITIONS[a] for a, b in itertools.pairwise(walk)
    )


# ----- strategies --------------------------------------------------------------------


async def test_direct_intake_approves_and_can_require_criteria():
    request = ClientRequest(request_id="r", client_id="c", requirement=BARE)
    assert (await DirectIntake().process(request)).approve
    strict = DirectIntake.from_config(require_acceptance_criteria=True)
    decision = await strict.process(request)
    assert not decision.approve
    assert "no acceptance criteria" in decision.reason
    with pytest.raises(ConfigError, match="require_acceptance_criteria"):
        DirectIntake(require_acceptance_criteria="yes")  # type: ignore[arg-type]


def test_builtins_and_protocol():
    assert {"direct": DirectIntake, "agent": AgentIntake} == BUILTINS
    assert isinstance(DirectIntake(), IntakeStrategy)
    assert isinstance(AgentIntake("offline"), IntakeStrategy)


async def test_agent_intake_on_the_offline_model_scopes_and_approves():
    strategy = AgentIntake.from_config(model="offline", instructions="Be brief.")
    assert not strategy.degraded
    assert strategy.system_prompt.endswith("Be brief.")
    request = ClientRequest(request_id="r", client_id="c", requirement=REQUIREMENT)
    decision = await strategy.process(request)
    assert decision.approve
    assert decision.scoping_notes.startswith("Scope: ")
    assert "Estimated complexity:" in decision.scoping_notes
    assert strategy.token_usage.calls == 1
    again = await strategy.process(request)
    assert again == decision  # deterministic


async def test_agent_intake_uses_the_models_answer():
    model = FixedAnswerModel(
        answer={
            "decision": "approve",
            "reason": "Clear and small.",
            "scope_summary": "Email/password login only, no SSO.",
            "clarifications": ["Passwords hashed with bcrypt"],
            "risks": ["Rate limiting not specified"],
            "estimated_complexity": 3,
        }
    )
    request = ClientRequest(request_id="r", client_id="c", requirement=REQUIREMENT)
    decision = await AgentIntake(model).process(request)
    assert decision == IntakeDecision(
        approve=True,
        reason="Clear and small.",
        scoping_notes=(
            "Scope: Email/password login only, no SSO.\n"
            "Assumption: Passwords hashed with bcrypt\n"
            "Risk: Rate limiting not specified\n"
            "Estimated complexity: 3/5"
        ),
    )


async def test_agent_intake_can_decline():
    model = FixedAnswerModel(
        answer={
            "decision": "decline_request",
            "reason": "Too vague to estimate.",
            "scope_summary": "",
            "estimated_complexity": 1,
        }
    )
    request = ClientRequest(request_id="r", client_id="c", requirement=BARE)
    decision = await AgentIntake(model).process(request)
    assert decision == IntakeDecision(approve=False, reason="Too vague to estimate.")


async def test_agent_intake_without_model_degrades_to_direct_with_a_warning():
    with pytest.warns(ClientSimWarning, match="no intake model"):
        strategy = AgentIntake()
    assert strategy.degraded
    request = ClientRequest(request_id="r", client_id="c", requirement=BARE)
    decision = await strategy.process(request)
    assert decision.approve
    assert strategy.token_usage.calls == 0


def test_agent_intake_from_config_takes_the_factorys_provider():
    assert AgentIntake.from_config(provider="offline").model == "offline"
    assert AgentIntake.from_config(model="offline:3", provider="x").model == "offline:3"
    with pytest.warns(ClientSimWarning):
        assert AgentIntake.from_config().degraded


def test_agent_intake_with_an_unknown_provider_degrades_too():
    with pytest.warns(ClientSimWarning, match="no provider is registered"):
        strategy = AgentIntake("nosuchprovider:model-x")
    assert strategy.degraded
    with pytest.raises(ConfigError, match="instructions"):
        AgentIntake("offline", instructions=3)  # type: ignore[arg-type]


# ----- the engine: automatic flow ------------------------------------------------------


async def test_submit_walks_to_task_created_and_folds_notes(caplog):
    caplog.set_level(logging.INFO, logger="clientsim.events")
    async with (
        InMemoryTaskEngine(worker) as tasks,
        IntakeEngine(
            AgentIntake("offline"),
            tasks,
            default_project="web",
            source=TaskSource.SIMULATION,
        ) as intake,
    ):
        request = await intake.submit("c-1", REQUIREMENT, request_id="req-1")
        assert request.status is R.TASK_CREATED
        assert request.history == (R.SUBMITTED, R.TRIAGING, R.SCOPING, R.APPROVED)
        assert request.scoping_notes
        task = await tasks.wait_for(request.task_id, timeout=5)
    assert task.status is TaskStatus.COMPLETED
    assert (task.request_id, task.project, task.source) == (
        "req-1",
        "web",
        TaskSource.SIMULATION,
    )
    assert task.requirement.description == (
        f"{REQUIREMENT.description}\n\nScoping notes:\n{request.scoping_notes}"
    )
    names = [r.clientsim_event for r in caplog.records if r.name == "clientsim.events"]
    intake_names = [n for n in names if n.startswith(("client.request", "intake."))]
    assert intake_names == [
        events.REQUEST_SUBMITTED,
        events.INTAKE_RECEIVED,
        events.REQUEST_TRIAGING,
        events.REQUEST_SCOPED,
        events.REQUEST_APPROVED,
        events.REQUEST_TASK_CREATED,
        events.INTAKE_ACCEPTED,
    ]
    assert intake.get("req-1") == request
    assert intake.requests() == (request,)
    assert await intake.wait("req-1", timeout=1) == request


async def test_submit_rejected_by_the_strategy_is_cancelled(recorder):
    async with InMemoryTaskEngine(worker) as tasks:
        intake = IntakeEngine(Declines(), tasks)
        request = await intake.submit("c-1", REQUIREMENT)
    assert request.status is R.CANCELLED
    assert request.reason == "Out of scope"
    assert request.task_id is None
    assert request.history == (R.SUBMITTED, R.TRIAGING)
    assert tasks.tasks() == ()
    assert recorder.named(events.REQUEST_REJECTED) == [
        {"request_id": "request-1", "reason": "Out of scope", "status": "triaging"}
    ]
    assert recorder.named(events.INTAKE_RECEIVED) == [
        {"request_id": "request-1", "strategy": "declines"}
    ]


async def test_a_failing_strategy_cancels_the_request_with_the_error():
    async with InMemoryTaskEngine(worker) as tasks:
        request = await IntakeEngine(Explodes(), tasks).submit("c-1", REQUIREMENT)
    assert request.status is R.CANCELLED
    assert request.reason == "intake failed: RuntimeError: triage broke"


async def test_a_strategy_answering_the_wrong_type_raises_config_error():
    class Wrong:
        async def process(self, request):
            return True

    async with InMemoryTaskEngine(worker) as tasks:
        intake = IntakeEngine(Wrong(), tasks)
        with pytest.raises(ConfigError, match="must return an IntakeDecision"):
            await intake.submit("c-1", REQUIREMENT, request_id="r-1")
    request = intake.get("r-1")  # left in a legal, final state, saying why
    assert request.status is R.CANCELLED
    assert "must return an IntakeDecision" in request.reason


async def test_a_sync_strategy_that_hangs_is_abandoned_at_the_turn_timeout():
    import threading

    stuck = threading.Event()

    class Hangs:
        def process(self, request):
            stuck.wait()  # never returns; a daemon thread is left behind

    async with InMemoryTaskEngine(worker) as tasks:
        intake = IntakeEngine(Hangs(), tasks, timeouts=Timeouts(turn=0.3))
        start = anyio.current_time()
        request = await intake.submit("c-1", REQUIREMENT)
        assert anyio.current_time() - start < 1.3
    stuck.set()
    assert request.status is R.CANCELLED
    assert "took longer than 0.3s to decide (timeouts.turn)" in request.reason


async def test_a_config_error_creating_the_task_of_an_approval_leaves_async_with():
    class Misconfigured:
        async def create_task(self, requirement, **_):
            raise ConfigError("model spec 'openai:x' needs OPENAI_API_KEY")

    intake = IntakeEngine(DirectIntake(), Misconfigured())

    async def approve_one() -> None:
        async with intake:
            request = await intake.file("c-1", REQUIREMENT, request_id="r-1")
            await intake.approve(request.request_id)
            await anyio.sleep_forever()  # cancelled by the engine's failure

    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        await approve_one()
    final = intake.get("r-1")
    assert final.status is R.CANCELLED
    assert "OPENAI_API_KEY" in final.reason


async def test_task_creation_that_hangs_is_bounded_by_the_turn_timeout():
    class Hangs:
        async def create_task(self, requirement, **_):
            await anyio.sleep_forever()

    async with IntakeEngine(
        DirectIntake(), Hangs(), timeouts=Timeouts(turn=0.2)
    ) as intake:
        request = await intake.file("c-1", REQUIREMENT)
        await intake.approve(request.request_id)
        with anyio.fail_after(2):
            final = await intake.wait(request.request_id)
    assert final.status is R.CANCELLED
    assert "took longer than 0.2s (timeouts.turn)" in final.reason


async def test_task_creation_failure_cancels_the_request():
    closed_engine = InMemoryTaskEngine(worker)  # never entered: create_task refuses
    request = await IntakeEngine(DirectIntake(), closed_engine).submit("c", REQUIREMENT)
    assert request.status is R.CANCELLED
    assert request.history[-1] is R.APPROVED
    assert request.reason.startswith("the task could not be created: SimulationError")


# ----- the engine: manual flow and approve ---------------------------------------------


async def test_approve_returns_approved_at_once_then_task_created_lands(recorder):
    async with (
        InMemoryTaskEngine(worker) as tasks,
        IntakeEngine(DirectIntake(), tasks) as intake,
    ):
        filed = await intake.file("c-1", REQUIREMENT, request_id="r-1")
        assert filed.status is R.SUBMITTED
        scoped = await intake.scope("r-1", "Only email login.")
        assert scoped.status is R.SCOPING
        scoped = await intake.scope("r-1", "No SSO.")
        assert scoped.scoping_notes == "Only email login.\nNo SSO."
        approved = await intake.approve("r-1")
        assert approved.status is R.APPROVED
        assert approved.task_id is None
        final = await intake.wait("r-1", timeout=5)
        assert final.status is R.TASK_CREATED
        task = await tasks.wait_for(final.task_id, timeout=5)
    assert task.requirement.description.endswith(
        "Scoping notes:\nOnly email login.\nNo SSO."
    )
    assert recorder.named(events.REQUEST_TASK_CREATED) == [
        {"request_id": "r-1", "task_id": final.task_id}
    ]
    assert [f["notes"] for f in recorder.named(events.REQUEST_SCOPED)] == [
        "Only email login.",
        "No SSO.",
    ]


async def test_approve_straight_from_submitted_walks_every_step():
    async with (
        InMemoryTaskEngine(worker) as tasks,
        IntakeEngine(DirectIntake(), tasks) as intake,
    ):
        await intake.file("c-1", REQUIREMENT, request_id="r-1")
        await intake.approve("r-1")
        final = await intake.wait("r-1", timeout=5)
    assert final.history == (R.SUBMITTED, R.TRIAGING, R.SCOPING, R.APPROVED)
    assert final.status is R.TASK_CREATED
    with pytest.raises(IllegalTransitionError, match="task_created"):
        await intake.scope("r-1", "late")


async def test_approve_whose_task_cannot_be_created_lands_cancelled(recorder):
    closed_engine = InMemoryTaskEngine(worker)
    async with IntakeEngine(DirectIntake(), closed_engine) as intake:
        await intake.file("c-1", REQUIREMENT, request_id="r-1")
        assert (await intake.approve("r-1")).status is R.APPROVED
        final = await intake.wait("r-1", timeout=5)
    assert final.status is R.CANCELLED
    assert recorder.named(events.REQUEST_REJECTED)[0]["status"] == "approved"


async def test_approve_twice_or_after_final_is_illegal():
    async with (
        InMemoryTaskEngine(worker) as tasks,
        IntakeEngine(Declines(), tasks) as intake,
    ):
        rejected = await intake.submit("c", REQUIREMENT, request_id="r-1")
        with pytest.raises(IllegalTransitionError, match="'cancelled'"):
            await intake.approve(rejected.request_id)
        await intake.file("c", REQUIREMENT, request_id="r-2")
        await intake.approve("r-2")
        with pytest.raises(IllegalTransitionError):
            await intake.approve("r-2")
        assert (await intake.wait("r-2", timeout=5)).status is R.TASK_CREATED


async def test_reject_cancels_with_a_reason():
    async with InMemoryTaskEngine(worker) as tasks:
        intake = IntakeEngine(DirectIntake(), tasks)
        await intake.file("c", REQUIREMENT, request_id="r-1")
        rejected = await intake.reject("r-1", "Duplicate of r-0")
        assert (rejected.status, rejected.reason) == (R.CANCELLED, "Duplicate of r-0")
        with pytest.raises(IllegalTransitionError, match="'cancelled'"):
            await intake.reject("r-1", "again")
        with pytest.raises(ConfigError, match="reason"):
            await intake.reject("r-1", " ")


async def test_misuse_is_reported():
    async with InMemoryTaskEngine(worker) as tasks:
        intake = IntakeEngine(DirectIntake(), tasks)
        await intake.file("c", REQUIREMENT, request_id="r-1")
        with pytest.raises(SimulationError, match="async with"):
            await intake.approve("r-1")
        with pytest.raises(ConfigError, match="already in use"):
            await intake.file("c", REQUIREMENT, request_id="r-1")
        with pytest.raises(ConfigError, match="no request with id 'nope'"):
            intake.get("nope")
        with pytest.raises(ConfigError, match="TaskRequirement"):
            await intake.submit("c", "text")  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match="notes"):
            await intake.scope("r-1", None)  # type: ignore[arg-type]
        with pytest.raises(TimeoutError, match="'r-1' was not final"):
            await intake.wait("r-1", timeout=0.01)
        async with intake:
            with pytest.raises(SimulationError, match="already running"):
                await intake.__aenter__()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"strategy": object()}, "strategy"),
        ({"task_engine": object()}, "task_engine"),
        ({"default_project": " "}, "default_project"),
        ({"source": "client"}, "source"),
    ],
)
def test_bad_arguments_are_refused(kwargs, match):
    strategy = kwargs.pop("strategy", DirectIntake())
    task_engine = kwargs.pop("task_engine", InMemoryTaskEngine(worker))
    with pytest.raises(ConfigError, match=match):
        IntakeEngine(strategy, task_engine, **kwargs)


def test_fold_scoping_notes_leaves_empty_notes_alone():
    assert fold_scoping_notes(REQUIREMENT, "  ") is REQUIREMENT


# ----- cancellation ----------------------------------------------------------------


async def test_cancelling_a_submit_mid_triage_cancels_the_request():
    entered = anyio.Event()

    class Slow:
        async def process(self, request):
            entered.set()
            await anyio.sleep_forever()

    async with InMemoryTaskEngine(worker) as tasks:
        intake = IntakeEngine(Slow(), tasks)
        async with anyio.create_task_group() as group:
            group.start_soon(intake.submit, "c", REQUIREMENT)
            await entered.wait()
            group.cancel_scope.cancel()
    (request,) = intake.requests()
    assert request.status is R.CANCELLED
    assert request.reason == "intake was cancelled"
    assert _legal(request)


async def test_closing_right_after_approve_cancels_the_waiting_request(recorder):
    async with InMemoryTaskEngine(worker) as tasks:
        async with IntakeEngine(DirectIntake(), tasks) as intake:
            await intake.file("c", REQUIREMENT, request_id="r-1")
            approved = await intake.approve("r-1")
            assert approved.status is R.APPROVED
        final = await intake.wait("r-1", timeout=1)
    assert final.status is R.CANCELLED
    assert final.reason == "the intake engine closed before the task was created"
    assert _legal(final)
    assert tasks.tasks() == ()
    assert recorder.named(events.REQUEST_REJECTED)[-1]["status"] == "approved"


async def test_closing_the_engines_leaves_every_request_and_task_legal_and_final():
    async def stuck(task, feedback):
        await anyio.sleep_forever()

    async with (
        InMemoryTaskEngine(stuck) as tasks,
        IntakeEngine(DirectIntake(), tasks) as intake,
    ):
        for index in range(5):
            await intake.file("c", REQUIREMENT, request_id=f"r-{index}")
            await intake.approve(f"r-{index}")
        # leaving now: some approvals may still be waiting for their task
    for request in intake.requests():
        assert request.is_final
        assert _legal(request)
        if request.status is R.TASK_CREATED:
            task = await tasks.get_task(request.task_id)
            assert task.request_id == request.request_id
        else:
            assert "closed before the task was created" in request.reason
    assert len(tasks.tasks()) == sum(
        r.status is R.TASK_CREATED for r in intake.requests()
    )
    for task in tasks.tasks():
        assert task.status is TaskStatus.CANCELLED
        assert task.is_final


async def test_an_error_in_the_block_propagates_unchanged():
    with pytest.raises(KeyError, match="boom"):  # noqa: PT012 - the block is the point
        async with (
            InMemoryTaskEngine(worker) as tasks,
            IntakeEngine(DirectIntake(), tasks) as intake,
        ):
            await intake.file("c", REQUIREMENT, request_id="r-1")
            await intake.approve("r-1")
            raise KeyError("boom")
    assert intake.get("r-1").is_final
