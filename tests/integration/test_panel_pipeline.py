"""A stakeholder panel as a stage of a real review pipeline, on the in-memory task
engine driving a worker: the panel splits on the first deliverable, sends it back, and
passes the rework; each member's verdict is in the task's ``review_pipeline``
metadata. Offline throughout (the offline model reviews for every member)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence

import pytest

from clientsim import events
from clientsim.errors import ConfigError, UnknownStrategyError
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


# ----- from a config file ---------------------------------------------------------------

PANEL_CONFIG = """
runner:
  rounds: 1
  requirements_per_round: 3
  seed: 7
review_stages:
  - strategy: stakeholder_panel
    rule: unanimous
    team:
      - name: Designer
        cares_about: [accessibility]
      - name: Engineering Lead
        cares_about: [tests]
"""

PANEL_WORKER = """
CALLS = []


async def work(task, feedback):
    criteria = ". ".join(task.requirement.acceptance_criteria)
    if not feedback:
        return f"{criteria}. Tests pass."
    members = [m for r in feedback for m in r.metadata.get("members", ())]
    concerns = [c for m in members for c in m["concerns"]]
    print("sent back by", ", ".join(m["role"] for m in members if m["verdict"] == "fail"))
    return task.deliverable + " " + " ".join(f"Addressed: {c}." for c in concerns)
"""


async def test_a_config_files_review_stages_put_the_panel_before_the_client(tmp_path):
    (tmp_path / "panel.yaml").write_text(PANEL_CONFIG)
    config = ClientSimulationConfig.from_file(tmp_path / "panel.yaml")
    assert config.review_stages[0]["strategy"] == "stakeholder_panel"

    sent_back: list[str] = []

    async def worker(task: Task, feedback: Sequence[ReviewStageResult]) -> str:
        if feedback:
            sent_back.extend(
                m["role"]
                for r in feedback
                for m in r.metadata.get("members", ())
                if m["verdict"] == "fail"
            )
            return task.deliverable + " Accessibility was checked."
        return ". ".join(task.requirement.acceptance_criteria) + ". Tests pass."

    engine = InMemoryTaskEngine(worker)
    runner = SimulationRunner.from_config(config, task_engine=engine)
    (panel,) = runner.review_stages
    assert isinstance(panel, StakeholderPanel)
    assert panel.member_names == ("Designer", "Engineering Lead")
    assert panel.seed == 7  # the run's seed, offered to the stage
    result = await runner.run()
    assert [s.name for s in engine.review_pipeline.stages] == ["stakeholders", "client"]
    assert (result.metrics.tasks_created, result.metrics.tasks_completed) == (2, 2)
    assert sent_back == ["Designer", "Designer"]
    # the panel's model calls count in the run's token usage
    assert result.metrics.token_usage.calls >= panel.token_usage.calls == 8


async def test_the_cli_runs_a_config_with_a_stakeholder_panel(tmp_path):
    from tests.integration.spine_agents import cli_env, explain, run_cli

    (tmp_path / "panel.yaml").write_text(PANEL_CONFIG)
    (tmp_path / "panel_worker.py").write_text(PANEL_WORKER)
    env = cli_env()
    env["PYTHONPATH"] = str(tmp_path) + os.pathsep + env["PYTHONPATH"]
    done = await run_cli(
        "run", "panel.yaml", "--worker", "panel_worker:work", cwd=tmp_path, env=env
    )
    assert done.returncode == 0, explain(done)
    assert done.stdout.count("sent back by Designer\n") == 2
    assert "tasks created 2: completed 2, failed 0" in done.stdout


async def test_a_stage_config_that_does_not_fit_is_refused_before_the_run(tmp_path):
    config = ClientSimulationConfig.from_dict(
        {
            "review_stages": [
                {"strategy": "stakeholder_panel", "team": [], "rule": "all"}
            ]
        }
    )
    with pytest.raises(ConfigError, match="at least one member"):
        SimulationRunner.from_config(config, task_engine=InMemoryTaskEngine(Worker()))
    unknown = ClientSimulationConfig.from_dict(
        {"review_stages": [{"strategy": "vote"}]}
    )
    with pytest.raises(UnknownStrategyError, match="stakeholder_panel"):
        SimulationRunner.from_config(unknown, task_engine=InMemoryTaskEngine(Worker()))
