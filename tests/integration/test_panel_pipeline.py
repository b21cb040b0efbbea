"""A stakeholder panel as a stage of a real review pipeline, on the in-memory task
engine driving a worker: the panel splits on the first deliverable, sends it back, and
passes the rework; each member's verdict is in the task's ``review_pipeline``
metadata. Offline throughout (the offline model reviews for every member)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence

import pytest

from clientsim import events
from clientsim.models.client import (
    ReviewStageResult,
    ReviewVerdict,
    Task,
    TaskRequirement,
    TaskStatus,
)
from clientsim.models.team import RoleTemplate
from clientsim.review import InternalReviewStage, ReviewPipeline
from clientsim.simulation import ClientSimulationConfig, SimulationRunner
from clientsim.tasks import InMemoryTaskEngine
from clientsim.teams import StakeholderPanel


TEAM = [
    RoleTemplate(
        name="CEO", description="Runs the company.", cares_about=("launch date",)
    ),
    RoleTemplate(
        name="Designer",
        description="Owns the user experience.",
        cares_about=("accessibility",),
    ),
    RoleTemplate(
        name="Engineering Lead",
        description="Owns the code and its quality.",
        cares_about=("tests",),
    ),
]
REQUIREMENT = TaskRequirement(
    title="Self-serve refunds",
    description="Customers can refund an order from their account page.",
    acceptance_criteria=(
        "A customer can refund an order from the account page",
        "The refund is confirmed by email",
    ),
)
FIRST = (
    "A customer can refund an order from the account page; the refund is confirmed "
    "by email. Tests cover both paths. The launch date is next Monday."
)


class Worker:
    """Delivers ``FIRST``; on rework, addresses every concern the review raised
    (read from the failed stages' metadata), and keeps what it was sent back."""

    def __init__(self, first: Callable[[Task], str] = lambda task: FIRST) -> None:
        self.first = first
        self.sent_back: list[dict[str, object]] = []

    async def __call__(self, task: Task, feedback: Sequence[ReviewStageResult]) -> str:
        if not feedback:
            return self.first(task)
        self.sent_back.append(json.loads(json.dumps(task.metadata["review_pipeline"])))
        concerns = [
            concern
            for result in feedback
            for member in result.metadata.get("members", ())
            for concern in member["concerns"]
        ]
        return task.deliverable + " " + " ".join(f"Addressed: {c}." for c in concerns)


@pytest.mark.parametrize(
    ("rule", "decider"), [("unanimous", None), ("decider", "Designer")]
)
async def test_the_panel_splits_sends_the_work_back_and_passes_the_rework(
    rule, decider, caplog
):
    caplog.set_level(logging.INFO, logger="clientsim.events")
    worker = Worker()
    panel = StakeholderPanel(TEAM, rule=rule, decider=decider)
    pipeline = ReviewPipeline([InternalReviewStage(), panel])
    async with InMemoryTaskEngine(worker, review_pipeline=pipeline) as engine:
        created = await engine.create_task(REQUIREMENT, project="default")
        done = await engine.wait_for(created.task_id, timeout=10)

    assert done.status is TaskStatus.COMPLETED
    assert done.rework_count == 1
    assert [s.value for s in (*done.history, done.status)] == [
        "created",
        "assigned",
        "in_progress",
        "in_review",
        "in_progress",
        "in_review",
        "completed",
    ]

    # The first round: the panel split, two for and one against, and failed.
    (first,) = worker.sent_back
    entry = first["stage_results"]["stakeholders"]
    assert first["current_stage"] == "stakeholders"
    assert first["stages_completed"] == ["internal"]
    assert entry["verdict"] == "fail"
    assert entry["reason"].startswith(f"2 of 3 passed ({rule})")
    assert {m["role"]: m["verdict"] for m in entry["metadata"]["members"]} == {
        "CEO": "pass",
        "Designer": "fail",
        "Engineering Lead": "pass",
    }
    designer = entry["metadata"]["members"][1]
    assert designer["concerns"] == [
        "does not address accessibility, which the Designer cares about"
    ]
    assert done.rework_feedback[0].stage == "stakeholders"
    assert done.rework_feedback[0].verdict is ReviewVerdict.FAIL

    # The rework: everyone passes, and the task keeps each member's verdict.
    final = done.metadata["review_pipeline"]
    assert final["stages_completed"] == ("internal", "stakeholders")
    last = final["stage_results"]["stakeholders"]
    assert last["verdict"] == "pass"
    assert last["reason"] == "3 of 3 passed (unanimous)" or last["reason"].startswith(
        "3 of 3 passed (decider): the Designer passed it"
    )
    assert [m["verdict"] for m in last["metadata"]["members"]] == ["pass"] * 3
    assert "stakeholders" in done.timings.stage_seconds
    assert panel.token_usage.calls == 6  # three members, two rounds

    verdicts = [
        r.clientsim_fields["verdict"]
        for r in caplog.records
        if getattr(r, "clientsim_event", None) == events.REVIEW_STAGE_COMPLETED
        and r.clientsim_fields["stage"] == "stakeholders"
    ]
    assert verdicts == ["fail", "pass"]


async def test_a_majority_passes_the_split_deliverable_at_once():
    worker = Worker()
    pipeline = ReviewPipeline([StakeholderPanel(TEAM)])
    async with InMemoryTaskEngine(worker, review_pipeline=pipeline) as engine:
        created = await engine.create_task(REQUIREMENT, project="default")
        done = await engine.wait_for(created.task_id, timeout=10)
    assert done.status is TaskStatus.COMPLETED
    assert done.rework_count == 0
    entry = done.metadata["review_pipeline"]["stage_results"]["stakeholders"]
    assert entry["reason"].startswith("2 of 3 passed (majority). Dissent: Designer: ")
    assert [m["verdict"] for m in entry["metadata"]["members"]] == [
        "pass",
        "fail",
        "pass",
    ]


async def test_in_a_client_simulation_the_panel_reviews_before_the_client():
    """The runner appends the client's own review after the panel: a deliverable goes
    to the client only once the stakeholders passed it."""
    panel = StakeholderPanel(TEAM, rule="unanimous")

    def first(task: Task) -> str:
        criteria = ". ".join(task.requirement.acceptance_criteria)
        return f"{criteria}. Tests pass; the launch date holds."

    config = ClientSimulationConfig.from_dict(
        {"runner": {"rounds": 1, "requirements_per_round": 3, "seed": 7}}
    )
    engine = InMemoryTaskEngine(Worker(first), review_pipeline=ReviewPipeline([panel]))
    runner = SimulationRunner.from_config(config, task_engine=engine)
    result = await runner.run()
    assert [s.name for s in engine.review_pipeline.stages] == ["stakeholders", "client"]
    metrics = result.metrics
    assert (metrics.tasks_created, metrics.tasks_completed) == (2, 2)
    reviewed = [o for o in result.outcomes if o.task_id]
    # The Designer sent each task back once; then all three passed it, and the
    # client, who saw it only then, accepted it at its first review.
    assert [(o.rework_rounds, o.accepted, len(o.feedback)) for o in reviewed] == [
        (1, True, 1),
        (1, True, 1),
    ]
    assert panel.token_usage.calls == 12  # three members, two rounds, two tasks
