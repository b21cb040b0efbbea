"""Client simulation metrics and the four report styles, on hand-built outcomes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from clientsim.errors import UnknownStrategyError
from clientsim.factory import build_report_strategy as build_report
from clientsim.models import TokenUsage
from clientsim.models.client import (
    ClientFeedback,
    RequestStatus,
    TaskRequirement,
    TaskStatus,
)
from clientsim.reports import BUILTINS, ReportStrategy
from clientsim.simulation import SimulationMetrics, SimulationResult, TaskOutcome


def work(title: str) -> TaskRequirement:
    return TaskRequirement(
        title=title, description="d", acceptance_criteria=("has tests", "documented")
    )


OUTCOMES = (
    TaskOutcome(
        client_id="ada",
        requirement=work("CSV export"),
        request_id="r1",
        request_status=RequestStatus.TASK_CREATED,
        task_id="t1",
        task_status=TaskStatus.COMPLETED,
        accepted=True,
        feedback=(ClientFeedback(accepted=True, reason="Looks good"),),
        intake_seconds=0.1,
        work_seconds=2.0,
        review_seconds=0.5,
    ),
    TaskOutcome(
        client_id="ada",
        requirement=work("Dark mode"),
        request_id="r2",
        request_status=RequestStatus.TASK_CREATED,
        task_id="t2",
        task_status=TaskStatus.COMPLETED,
        accepted=True,
        rework_rounds=2,
        intake_seconds=0.3,
        work_seconds=6.0,
        review_seconds=1.5,
    ),
    TaskOutcome(
        client_id="bob",
        requirement=work("Audit log"),
        request_id="r3",
        request_status=RequestStatus.TASK_CREATED,
        task_id="t3",
        task_status=TaskStatus.FAILED,
        accepted=False,
        rework_rounds=3,
        feedback=(
            ClientFeedback(
                accepted=False, reason="Missing tests", unmet_criteria=("has tests",)
            ),
        ),
    ),
    TaskOutcome(
        client_id="bob",
        requirement=work("Rewrite in Rust"),
        request_id="r4",
        request_status=RequestStatus.CANCELLED,
    ),
    TaskOutcome(client_id="cy", requirement=work("Blockchain"), declined=True),
)


def test_metrics_from_outcomes():
    metrics = SimulationMetrics.from_outcomes(
        OUTCOMES,
        token_usage=TokenUsage(total_tokens=10, calls=2),
        estimated_cost_usd=0.01,
    )
    assert metrics.requirements == 5
    assert metrics.declined == 1
    assert metrics.submitted == 4
    assert metrics.cancelled == 1
    assert metrics.tasks_created == 3
    assert metrics.tasks_completed == 2
    assert metrics.tasks_failed == 1
    assert metrics.reviewed == 3
    assert metrics.acceptance_rate == pytest.approx(2 / 3)
    assert metrics.first_pass_acceptance_rate == pytest.approx(1 / 3)
    low, high = metrics.acceptance_ci95
    assert 0 < low < 2 / 3 < high < 1
    assert metrics.rework_rounds_total == 5
    assert metrics.rework_rounds_mean == pytest.approx(5 / 3)
    assert metrics.stage_latency_seconds["work"]["p50"] == pytest.approx(4.0)
    assert metrics.stage_latency_seconds["intake"]["max"] == pytest.approx(0.3)
    assert metrics.per_client["ada"] == {
        "asked": 2,
        "submitted": 2,
        "accepted": 2,
        "rejected": 0,
    }
    assert metrics.per_client["cy"]["submitted"] == 0
    json.dumps(metrics.as_dict())


def test_no_outcomes_make_empty_metrics():
    metrics = SimulationMetrics.from_outcomes(())
    assert metrics.acceptance_rate == 0.0
    assert metrics.stage_latency_seconds["review"]["p95"] is None


def result() -> SimulationResult:
    start = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    return SimulationResult(
        simulation_id="sim-1",
        outcomes=OUTCOMES,
        metrics=SimulationMetrics.from_outcomes(OUTCOMES),
        started_at=start,
        finished_at=start + timedelta(seconds=12),
    )


def test_the_four_report_styles():
    run = result()
    summary = run.report("summary")
    assert isinstance(summary, str)
    assert "acceptance rate 66.7% of 3 reviewed" in summary
    assert "rework rounds 5" in summary
    detailed = run.report("detailed")
    assert isinstance(detailed, str)
    assert "Audit log: rejected; task failed; rework 3" in detailed
    assert "unmet: has tests" in detailed
    assert "declined by the client" in detailed
    assert "- bob: asked 2, submitted 2, accepted 0, rejected 1" in detailed
    metrics = run.report("metrics_only")
    assert isinstance(metrics, dict)
    assert metrics["tasks_completed"] == 2
    export = run.report("json_export")
    assert isinstance(export, dict)
    assert len(export["outcomes"]) == 5
    assert export["outcomes"][2]["task_status"] == "failed"
    json.dumps(export)
    for kind in BUILTINS.values():
        assert isinstance(kind.from_config(), ReportStrategy)


def test_an_unknown_report_lists_the_known_ones():
    with pytest.raises(UnknownStrategyError, match="did you mean 'summary'"):
        build_report("sumary")
