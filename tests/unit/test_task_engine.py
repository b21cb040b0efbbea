"""InMemoryTaskEngine: the lifecycle, rework, limits, worker failures and cancellation."""

from __future__ import annotations

import itertools

import anyio
import attrs
import pytest

from clientsim import LLMParticipant, ParticipantRole, ScriptedParticipant
from clientsim.errors import ConfigError, SimulationError
from clientsim.models import Timeouts
from clientsim.models.client import (
    TASK_TRANSITIONS,
    ReviewStageResult,
    ReviewVerdict,
    Task,
    TaskError,
    TaskRequirement,
    TaskSource,
    TaskStatus,
    TaskTimings,
)
from clientsim.review import InternalReviewStage, ReviewPipeline
from clientsim.tasks import InMemoryTaskEngine, TaskEngine, requirement_text


REQUIREMENT = TaskRequirement(
    title="Add login",
    description="Users log in with email and password.",
    acceptance_criteria=("Has tests",),
)

S = TaskStatus


async def echo_worker(task, feedback):
    return f"Implemented {task.requirement.title}"


def _gate_needing(word: str):
    async def gate(task):
        return (word in (task.deliverable or ""), f"Missing {word}")

    return ReviewPipeline([InternalReviewStage(gate)])


def _reachable(task: Task) -> bool:
    walk = (*task.history, task.status)
    if walk[0] is not S.CREATED:
        return False
    return all(b in TASK_TRANSITIONS[a] for a, b in itertools.pairwise(walk))


async def test_happy_path_without_pipeline():
    async with InMemoryTaskEngine(echo_worker) as engine:
        assert isinstance(engine, TaskEngine)
        created = await engine.create_task(
            REQUIREMENT, source=TaskSource.CLIENT, project="web", request_id="r-1"
        )
        assert created.status is S.CREATED
        done = await engine.wait_for(created.task_id, timeout=5)
    assert done.status is S.COMPLETED
    assert done.history == (S.CREATED, S.ASSIGNED, S.IN_PROGRESS, S.IN_REVIEW)
    assert done.deliverable == "Implemented Add login"
    assert (done.source, done.project, done.request_id) == (
        TaskSource.CLIENT,
        "web",
        "r-1",
    )
    assert done.assignee == "worker"
    assert await engine.get_task(done.task_id) == done


async def test_rework_loop_then_success_passes_feedback_to_the_worker():
    calls: list[tuple[int, tuple[str | None, ...]]] = []

    async def worker(task, feedback):
        calls.append((task.rework_count, tuple(r.reason for r in feedback)))
        return "code with tests" if feedback else "code"

    async with InMemoryTaskEngine(
        worker, review_pipeline=_gate_needing("tests")
    ) as engine:
        task = await engine.create_task(
            REQUIREMENT, source=TaskSource.CLIENT, project="p"
        )
        done = await engine.wait_for(task.task_id, timeout=5)
    assert done.status is S.COMPLETED
    assert done.rework_count == 1
    assert calls == [(0, ()), (1, ("Missing tests",))]
    assert done.history == (
        S.CREATED,
        S.ASSIGNED,
        S.IN_PROGRESS,
        S.IN_REVIEW,
        S.IN_PROGRESS,
        S.IN_REVIEW,
    )
    assert done.metadata["review_pipeline"]["stage_results"] == {
        "internal": {"verdict": "pass", "reason": "Missing tests"}
    }
    assert [(r.stage, r.reason) for r in done.rework_feedback] == [
        ("internal", "Missing tests")
    ]
    assert all(r.verdict is ReviewVerdict.FAIL for r in done.rework_feedback)
    timings = done.timings
    assert isinstance(timings, TaskTimings)
    assert set(timings.stage_seconds) == {"internal"}
    assert timings.review_seconds >= timings.stage_seconds["internal"] >= 0
    assert timings.work_seconds >= 0
    assert (done.error, done.reason) == (None, None)
    assert set(done.metadata) == {"review_pipeline"}  # the engine's state is typed
    assert hash(done) == hash(attrs.evolve(done))


async def test_rework_limit_fails_the_task():
    attempts = 0

    async def worker(task, feedback):
        nonlocal attempts
        attempts += 1
        return "never good enough"

    async with InMemoryTaskEngine(
        worker, review_pipeline=_gate_needing("tests"), rework_limit=2
    ) as engine:
        task = await engine.create_task(
            REQUIREMENT, source=TaskSource.CLIENT, project="p"
        )
        done = await engine.wait_for(task.task_id, timeout=5)
    assert done.status is S.FAILED
    assert attempts == 3
    assert done.rework_count == 2
    assert done.reason is not None
    assert "rework limit of 2 reached" in done.reason
    assert "Missing tests" in done.reason
    assert done.error is None
    assert _reachable(done)


async def test_rework_limit_zero_fails_on_the_first_rejection():
    async with InMemoryTaskEngine(
        echo_worker, review_pipeline=_gate_needing("tests"), rework_limit=0
    ) as engine:
        task = await engine.create_task(
            REQUIREMENT, source=TaskSource.CLIENT, project="p"
        )
        done = await engine.wait_for(task.task_id, timeout=5)
    assert done.status is S.FAILED
    assert done.rework_count == 0


async def test_worker_exception_fails_the_task_and_keeps_the_error():
    async def worker(task, feedback):
        raise RuntimeError("the agent crashed")

    async with InMemoryTaskEngine(worker) as engine:
        task = await engine.create_task(
            REQUIREMENT, source=TaskSource.CLIENT, project="p"
        )
        other = await engine.create_task(
            REQUIREMENT, source=TaskSource.CLIENT, project="p"
        )
        done = await engine.wait_for(task.task_id, timeout=5)
        await engine.wait_for(other.task_id, timeout=5)
    assert done.status is S.FAILED
    assert done.error == TaskError(
        type="RuntimeError", message="the agent crashed", status=S.IN_PROGRESS
    )
    assert done.reason == "RuntimeError: the agent crashed"
    assert done.timings is None  # the worker never delivered


async def test_a_pipeline_stage_exception_fails_the_task_in_review():
    async def gate(task):
        raise ValueError("reviewer broke")

    pipeline = ReviewPipeline([InternalReviewStage(gate)])
    async with InMemoryTaskEngine(echo_worker, review_pipeline=pipeline) as engine:
        task = await engine.create_task(
            REQUIREMENT, source=TaskSource.CLIENT, project="p"
        )
        done = await engine.wait_for(task.task_id, timeout=5)
    assert done.status is S.FAILED
    assert done.error is not None
    assert done.error.status is S.IN_REVIEW
    assert done.deliverable == "Implemented Add login"


@pytest.mark.parametrize("answer", ["", "   ", None, 42])
async def test_a_worker_returning_no_text_fails_the_task(answer):
    async def worker(task, feedback):
        return answer

    async with InMemoryTaskEngine(worker) as engine:
        task = await engine.create_task(
            REQUIREMENT, source=TaskSource.CLIENT, project="p"
        )
        done = await engine.wait_for(task.task_id, timeout=5)
    assert done.status is S.FAILED
    assert done.error is not None
    assert done.error.type == "SimulationError"


async def test_scripted_participant_worker_gets_feedback_as_the_next_message():
    agent = ScriptedParticipant(
        ParticipantRole.AGENT, ["First draft", "Second draft with tests"]
    )
    async with InMemoryTaskEngine(
        agent, review_pipeline=_gate_needing("tests"), max_concurrent=1
    ) as engine:
        task = await engine.create_task(
            REQUIREMENT, source=TaskSource.CLIENT, project="p"
        )
        done = await engine.wait_for(task.task_id, timeout=5)
    assert done.status is S.COMPLETED
    assert done.deliverable == "Second draft with tests"
    assert done.rework_count == 1


async def test_llm_participant_on_the_offline_model_is_a_worker():
    agent = LLMParticipant(ParticipantRole.AGENT, "offline")
    async with InMemoryTaskEngine(agent) as engine:
        task = await engine.create_task(
            REQUIREMENT, source=TaskSource.CLIENT, project="p"
        )
        done = await engine.wait_for(task.task_id, timeout=10)
    assert done.status is S.COMPLETED
    assert done.deliverable


async def test_a_participant_that_passes_fails_the_task():
    agent = ScriptedParticipant(ParticipantRole.AGENT, [])
    async with InMemoryTaskEngine(agent) as engine:
        task = await engine.create_task(
            REQUIREMENT, source=TaskSource.CLIENT, project="p"
        )
        done = await engine.wait_for(task.task_id, timeout=5)
    assert done.status is S.FAILED
    assert done.error is not None
    assert "no deliverable" in done.error.message


async def test_leaving_the_block_cancels_unfinished_work_into_legal_states():
    started = anyio.Event()

    async def slow(task, feedback):
        started.set()
        await anyio.sleep_forever()

    pipeline = _gate_needing("x")
    async with InMemoryTaskEngine(slow, review_pipeline=pipeline) as engine:
        tasks = [
            await engine.create_task(REQUIREMENT, source=TaskSource.CLIENT, project="p")
            for _ in range(3)
        ]
        await started.wait()
    for task in tasks:
        final = await engine.get_task(task.task_id)
        assert final.status is S.CANCELLED
        assert final.is_final
        assert _reachable(final)
        assert final.reason in {
            "work was cancelled",
            "the task engine was closed before it finished",
        }
        assert final.error is None
        assert await engine.wait_for(task.task_id, timeout=1) == final


async def test_max_concurrent_bounds_parallel_work():
    running = 0
    peak = 0
    release = anyio.Event()
    two_running = anyio.Event()

    async def worker(task, feedback):
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 2:
            two_running.set()
        await release.wait()
        running -= 1
        return "done"

    async with InMemoryTaskEngine(worker, max_concurrent=2) as engine:
        ids = [
            (
                await engine.create_task(
                    REQUIREMENT, source=TaskSource.CLIENT, project="p"
                )
            ).task_id
            for _ in range(5)
        ]
        with anyio.fail_after(5):
            await two_running.wait()
        release.set()
        for task_id in ids:
            assert (await engine.wait_for(task_id, timeout=5)).status is S.COMPLETED
    assert peak == 2
    assert len(engine.tasks()) == 5


async def test_wait_for_times_out_naming_the_status():
    async def slow(task, feedback):
        await anyio.sleep_forever()

    async with InMemoryTaskEngine(slow) as engine:
        task = await engine.create_task(
            REQUIREMENT, source=TaskSource.CLIENT, project="p"
        )
        with pytest.raises(TimeoutError, match="'task-1' was not finished"):
            await engine.wait_for(task.task_id, timeout=0.05)


async def test_misuse_is_reported():
    engine = InMemoryTaskEngine(echo_worker)
    with pytest.raises(SimulationError, match="async with"):
        await engine.create_task(REQUIREMENT, source=TaskSource.CLIENT, project="p")
    with pytest.raises(ConfigError, match="no task with id 'nope'"):
        await engine.get_task("nope")
    async with engine:
        with pytest.raises(ConfigError, match="TaskRequirement"):
            await engine.create_task("text", source=TaskSource.CLIENT, project="p")  # type: ignore[arg-type]
        with pytest.raises(SimulationError, match="already running"):
            await engine.__aenter__()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"worker": 42}, "worker must be"),
        ({"rework_limit": -1}, "rework_limit"),
        ({"rework_limit": True}, "rework_limit"),
        ({"max_concurrent": 0}, "max_concurrent"),
        ({"review_pipeline": "internal"}, "review_pipeline"),
        ({"assignee": ""}, "assignee"),
    ],
)
def test_bad_arguments_are_refused(kwargs, match):
    kwargs.setdefault("worker", echo_worker)
    worker = kwargs.pop("worker")
    with pytest.raises(ConfigError, match=match):
        InMemoryTaskEngine(worker, **kwargs)


def test_requirement_text_lists_criteria_and_feedback():
    text = requirement_text(
        REQUIREMENT,
        [ReviewStageResult(stage="client", verdict=ReviewVerdict.FAIL, reason="No")],
    )
    assert "# Add login" in text
    assert "- Has tests" in text
    assert "- [client] No" in text


async def test_an_error_in_the_block_propagates_unchanged_and_work_is_cancelled():
    async def slow(task, feedback):
        await anyio.sleep_forever()

    with pytest.raises(ValueError, match="boom"):  # noqa: PT012 - the block is the point
        async with InMemoryTaskEngine(slow) as engine:
            task = await engine.create_task(
                REQUIREMENT, source=TaskSource.CLIENT, project="p"
            )
            raise ValueError("boom")
    assert (await engine.get_task(task.task_id)).status is S.CANCELLED


# ----- one rule for errors and deadlines (issue 10, items 1, 2, 6 and 7) ----------------


async def test_a_config_error_in_a_worker_propagates_from_async_with():
    async def misconfigured(task, feedback):
        raise ConfigError("model spec 'openai:gpt-4o' needs OPENAI_API_KEY")

    engine = InMemoryTaskEngine(misconfigured)

    async def work_one() -> None:
        async with engine:
            task = await engine.create_task(REQUIREMENT)
            await engine.wait_for(task.task_id, timeout=5)

    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        await work_one()
    final = engine.tasks()[0]
    assert final.status is TaskStatus.CANCELLED


async def test_a_sync_worker_that_hangs_fails_its_task_at_the_turn_timeout():
    import threading

    stuck = threading.Event()

    def hangs(task, feedback):
        stuck.wait()  # never returns on its own

    async with InMemoryTaskEngine(hangs, timeouts=Timeouts(turn=0.3)) as engine:
        task = await engine.create_task(REQUIREMENT)
        start = anyio.current_time()
        done = await engine.wait_for(task.task_id, timeout=5)
        assert anyio.current_time() - start < 1.3
    stuck.set()
    assert done.status is TaskStatus.FAILED
    assert "took longer than 0.3s" in repr(done)
    assert "timeouts.turn" in repr(done)


async def test_a_sync_worker_runs_off_the_event_loop():
    import threading

    loop_thread = threading.get_ident()
    seen: list[int] = []

    def sync_worker(task, feedback):
        seen.append(threading.get_ident())
        return "done"

    async with InMemoryTaskEngine(sync_worker) as engine:
        task = await engine.create_task(REQUIREMENT)
        done = await engine.wait_for(task.task_id, timeout=5)
    assert done.status is TaskStatus.COMPLETED
    assert len(seen) == 1
    assert seen[0] != loop_thread


def test_the_engine_refuses_a_timeouts_that_is_not_one():
    with pytest.raises(ConfigError, match="timeouts must be a Timeouts"):
        InMemoryTaskEngine(echo_worker, timeouts=30)  # type: ignore[arg-type]
