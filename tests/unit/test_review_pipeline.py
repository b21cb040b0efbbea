"""The review pipeline: stage order, short-circuit, SKIP, and the seed's metadata shape."""

from __future__ import annotations

import json
import logging

import pytest

from clientsim import events
from clientsim.clients.base import ReviewContext
from clientsim.errors import ConfigError
from clientsim.models.client import (
    ClientFeedback,
    ClientProfile,
    ReviewStageResult,
    ReviewVerdict,
    Task,
    TaskRequirement,
    TaskStatus,
)
from clientsim.review import (
    BUILTINS,
    ClientReviewStage,
    InternalReviewStage,
    ReviewPipeline,
    ReviewStage,
)


REQUIREMENT = TaskRequirement(
    title="Add login",
    description="Users must be able to log in with email and password.",
    acceptance_criteria=("Has tests", "Uses bcrypt"),
)


def _in_review(deliverable: str | None = "def login(): ...  # with tests") -> Task:
    task = Task(task_id="t-1", requirement=REQUIREMENT)
    for status in (TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS):
        task = task.transition(status)
    return task.transition(TaskStatus.IN_REVIEW, deliverable=deliverable)


class Fixed:
    """A stage that answers a fixed verdict and records that it ran."""

    def __init__(self, name: str, verdict: str, reason: str | None = None) -> None:
        self.name = name
        self.verdict = verdict
        self.reason = reason
        self.seen: list[Task] = []

    async def review(self, task: Task) -> ReviewStageResult:
        self.seen.append(task)
        return ReviewStageResult(
            stage=self.name, verdict=self.verdict, reason=self.reason
        )


class RecordingClient:
    """A tiny client that records what it was asked to review."""

    def __init__(self, feedback: ClientFeedback) -> None:
        self.feedback = feedback
        self.contexts: list[ReviewContext] = []
        self.profile = ClientProfile(
            client_id="c-1",
            name="Ada",
            persona="A precise CTO",
            expertise_domains=("backend",),
            strictness_level=0.5,
        )

    async def submit_requirement(self, context):
        return None

    async def review_deliverable(self, context: ReviewContext) -> ClientFeedback:
        self.contexts.append(context)
        return self.feedback


async def test_all_pass_records_every_stage_in_the_seed_shape():
    first, second = Fixed("internal", "pass"), Fixed("client", "pass", "Looks good")
    pipeline = ReviewPipeline([first, second])
    task, verdict = await pipeline.run(_in_review())
    assert verdict is ReviewVerdict.PASS
    assert task.status is TaskStatus.IN_REVIEW
    assert task.metadata["review_pipeline"] == {
        "current_stage": "client",
        "stages_completed": ("internal", "client"),  # metadata is read-only
        "stage_results": {
            "internal": {"verdict": "pass", "reason": None},
            "client": {"verdict": "pass", "reason": "Looks good"},
        },
    }


async def test_fail_short_circuits_with_exactly_the_seed_example():
    third = Fixed("after", "pass")
    pipeline = ReviewPipeline(
        [Fixed("internal", "pass"), Fixed("client", "fail", "Missing tests"), third]
    )
    task, verdict = await pipeline.run(_in_review())
    assert verdict is ReviewVerdict.FAIL
    assert third.seen == []
    assert task.status is TaskStatus.IN_REVIEW
    expected = json.loads(
        """
        {"review_pipeline": {
            "current_stage": "client",
            "stages_completed": ["internal"],
            "stage_results": {
                "internal": {"verdict": "pass", "reason": null},
                "client": {"verdict": "fail", "reason": "Missing tests"}
            }
        }}
        """
    )
    assert json.loads(json.dumps(dict(task.metadata))) == expected


async def test_skip_continues_and_counts_as_completed():
    last = Fixed("client", "pass")
    pipeline = ReviewPipeline([Fixed("lint", "skip", "no code"), last])
    outcome = await pipeline.review(_in_review())
    assert outcome.verdict is ReviewVerdict.PASS
    assert len(last.seen) == 1
    progress = outcome.task.metadata["review_pipeline"]
    assert progress["stages_completed"] == ("lint", "client")
    assert progress["stage_results"]["lint"] == {"verdict": "skip", "reason": "no code"}
    assert outcome.failures == ()
    assert set(outcome.durations) == {"lint", "client"}
    assert all(seconds >= 0 for seconds in outcome.durations.values())


async def test_stages_see_progress_so_far_and_other_metadata_is_kept():
    second = Fixed("client", "pass")
    pipeline = ReviewPipeline([Fixed("internal", "pass"), second])
    source = Task(task_id="t-2", requirement=REQUIREMENT, metadata={"keep": 1})
    outcome = await pipeline.review(source)
    assert outcome.task.metadata["keep"] == 1
    seen = second.seen[0].metadata["review_pipeline"]
    assert seen["current_stage"] == "client"
    assert seen["stages_completed"] == ("internal",)


async def test_a_rerun_starts_afresh():
    pipeline = ReviewPipeline([Fixed("internal", "pass")])
    stale = Task(
        task_id="t-3",
        requirement=REQUIREMENT,
        metadata={
            "review_pipeline": {"current_stage": "old", "stages_completed": ["x"]}
        },
    )
    task, _ = await pipeline.run(stale)
    assert task.metadata["review_pipeline"]["stages_completed"] == ("internal",)


async def test_events_are_emitted(caplog):
    caplog.set_level(logging.INFO, logger="clientsim.events")
    pipeline = ReviewPipeline(
        [Fixed("internal", "pass"), Fixed("client", "fail", "no")]
    )
    await pipeline.run(_in_review())
    names = [r.clientsim_event for r in caplog.records if r.name == "clientsim.events"]
    assert names == [
        events.REVIEW_PIPELINE_STARTED,
        events.REVIEW_STAGE_COMPLETED,
        events.REVIEW_STAGE_COMPLETED,
        events.REVIEW_PIPELINE_COMPLETED,
    ]
    last = caplog.records[-1]
    assert last.clientsim_fields == {"task_id": "t-1", "verdict": "fail"}


def test_duplicate_stage_names_are_refused():
    with pytest.raises(ConfigError, match="'internal' appears twice"):
        ReviewPipeline([InternalReviewStage(), InternalReviewStage()])


def test_empty_and_invalid_stages_are_refused():
    with pytest.raises(ConfigError, match="at least one stage"):
        ReviewPipeline([])
    with pytest.raises(ConfigError, match="list of review stages"):
        ReviewPipeline("internal")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="review"):
        ReviewPipeline([object()])  # type: ignore[list-item]


async def test_a_stage_returning_the_wrong_type_is_an_error():
    class Wrong:
        name = "wrong"

        async def review(self, task):
            return True

    with pytest.raises(ConfigError, match="must return a ReviewStageResult"):
        await ReviewPipeline([Wrong()]).run(_in_review())


def test_builtins_are_review_stages():
    assert set(BUILTINS) == {"internal", "client"}
    assert isinstance(InternalReviewStage(), ReviewStage)


# ----- InternalReviewStage -----------------------------------------------------------


async def test_internal_without_gate_passes():
    result = await InternalReviewStage().review(_in_review())
    assert result == ReviewStageResult(stage="internal", verdict=ReviewVerdict.PASS)


@pytest.mark.parametrize(
    ("answer", "verdict", "reason"),
    [
        (True, ReviewVerdict.PASS, None),
        (False, ReviewVerdict.FAIL, None),
        ((False, "Missing tests"), ReviewVerdict.FAIL, "Missing tests"),
        ((True, ""), ReviewVerdict.PASS, None),
        (ReviewStageResult(stage="other", verdict="skip"), ReviewVerdict.SKIP, None),
    ],
)
async def test_internal_gate_answers_are_mapped(answer, verdict, reason):
    async def gate(task):
        return answer

    result = await InternalReviewStage(gate, name="qa").review(_in_review())
    assert (result.stage, result.verdict, result.reason) == ("qa", verdict, reason)


async def test_internal_gate_sees_the_task_and_bad_answers_fail_loudly():
    seen = []

    async def gate(task):
        seen.append(task.deliverable)
        return "yes"

    with pytest.raises(ConfigError, match="must return a ReviewStageResult, a bool"):
        await InternalReviewStage(gate).review(_in_review("the code"))
    assert seen == ["the code"]


def test_internal_stage_rejects_bad_arguments():
    with pytest.raises(ConfigError, match="gate"):
        InternalReviewStage(gate=42)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="name"):
        InternalReviewStage(name=" ")
    assert InternalReviewStage.from_config(name="qa").name == "qa"


# ----- ClientReviewStage -------------------------------------------------------------


async def test_client_reviews_the_deliverable_not_the_requirement():
    client = RecordingClient(ClientFeedback(accepted=True, reason="Great"))
    task = _in_review("THE DELIVERABLE")
    result = await ClientReviewStage(client, seed=7).review(task)
    assert result.verdict is ReviewVerdict.PASS
    assert result.reason == "Great"
    assert result.feedback == client.feedback
    (context,) = client.contexts
    assert context.deliverable == "THE DELIVERABLE"
    assert context.deliverable != REQUIREMENT.description
    assert context.requirement == REQUIREMENT
    assert context.task.task_id == "t-1"
    assert (context.attempt, context.seed) == (1, 7)


async def test_client_rejection_is_a_fail_with_reason_and_unmet_criteria(caplog):
    caplog.set_level(logging.INFO, logger="clientsim.events")
    feedback = ClientFeedback(
        accepted=False, reason="Not done", unmet_criteria=("Has tests", "Uses bcrypt")
    )
    client = RecordingClient(feedback)
    task = _in_review().transition(TaskStatus.IN_PROGRESS, rework_count=1)
    task = task.transition(TaskStatus.IN_REVIEW, deliverable="v2")
    result = await ClientReviewStage(client).review(task)
    assert result.verdict is ReviewVerdict.FAIL
    assert result.reason == "Not done Unmet criteria: Has tests; Uses bcrypt"
    assert result.feedback is feedback
    assert client.contexts[0].attempt == 2
    recorded = [
        r.clientsim_fields
        for r in caplog.records
        if getattr(r, "clientsim_event", None) == events.CLIENT_FEEDBACK_RECORDED
    ]
    assert recorded == [
        {
            "task_id": "t-1",
            "accepted": False,
            "unmet_criteria": ["Has tests", "Uses bcrypt"],
        }
    ]


async def test_client_stage_without_deliverable_fails_without_asking():
    client = RecordingClient(ClientFeedback(accepted=True, reason="ok"))
    result = await ClientReviewStage(client).review(_in_review(None))
    assert result.verdict is ReviewVerdict.FAIL
    assert result.reason == "no deliverable"
    assert client.contexts == []


async def test_client_stage_in_a_pipeline_after_internal():
    client = RecordingClient(ClientFeedback(accepted=False, reason="Missing tests"))
    pipeline = ReviewPipeline([InternalReviewStage(), ClientReviewStage(client)])
    task, verdict = await pipeline.run(_in_review())
    assert verdict is ReviewVerdict.FAIL
    assert task.metadata["review_pipeline"]["stage_results"]["client"] == {
        "verdict": "fail",
        "reason": "Missing tests",
    }


async def test_client_stage_rejects_bad_clients_and_answers():
    with pytest.raises(ConfigError, match="ClientInterface"):
        ClientReviewStage(object())  # type: ignore[arg-type]

    class Bad(RecordingClient):
        async def review_deliverable(self, context):
            return "fine"

    with pytest.raises(ConfigError, match="ClientFeedback"):
        await ClientReviewStage(Bad(None)).review(_in_review())  # type: ignore[arg-type]
    stage = ClientReviewStage.from_config(
        client=RecordingClient(ClientFeedback(accepted=True, reason="")), name="c2"
    )
    result = await stage.review(_in_review())
    assert (result.stage, result.reason) == ("c2", None)
