"""What a client simulation measures: each requirement's journey and the totals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from clientsim.analysis.stats import percentile, wilson_interval
from clientsim.models import TokenUsage
from clientsim.models.client import (
    ClientFeedback,
    RequestStatus,
    TaskRequirement,
    TaskStatus,
)


__all__ = ["SimulationMetrics", "TaskOutcome"]


@attrs.frozen(kw_only=True)
class TaskOutcome:
    """One requirement's way through the simulation.

    Attributes:
        client_id: the client who was asked.
        requirement: what the client asked for (the draft, if the client declined).
        declined: the client chose not to file it.
        request_id: the intake request (``None`` if declined).
        request_status: where the request ended.
        task_id: the task created for it, if any.
        task_status: where the task ended, if there was one.
        accepted: the client's final verdict (``None`` if never reviewed).
        rework_rounds: how many times review sent the task back.
        feedback: every client feedback given, in order.
        intake_seconds: from submission to task creation.
        work_seconds: the worker's own time on the task (all attempts).
        review_seconds: time spent in review stages (all attempts).
        error: what went wrong, if the requirement failed outside the system
            under test's normal flow (e.g. a timeout).
    """

    client_id: str
    requirement: TaskRequirement
    declined: bool = False
    request_id: str | None = None
    request_status: RequestStatus | None = None
    task_id: str | None = None
    task_status: TaskStatus | None = None
    accepted: bool | None = None
    rework_rounds: int = 0
    feedback: tuple[ClientFeedback, ...] = ()
    intake_seconds: float | None = None
    work_seconds: float | None = None
    review_seconds: float | None = None
    error: str | None = None


def _spread(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "mean": None, "max": None}
    return {
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "mean": sum(values) / len(values),
        "max": max(values),
    }


@attrs.frozen(kw_only=True)
class SimulationMetrics:
    """Throughput and quality of one client simulation run.

    Attributes:
        requirements: requirements the clients were asked about.
        declined: those the clients declined to file.
        submitted: requests filed with intake.
        cancelled: requests intake cancelled.
        tasks_created: tasks created.
        tasks_completed: tasks completed (accepted by every review stage).
        tasks_failed: tasks that failed (rework limit, errors) or never finished.
        reviewed: tasks that got at least one client verdict.
        acceptance_rate: accepted / reviewed (0.0 when nothing was reviewed).
        acceptance_ci95: the Wilson 95% interval of the acceptance rate.
        first_pass_acceptance_rate: accepted without rework / reviewed.
        rework_rounds_total: rework rounds over all tasks.
        rework_rounds_mean: rework rounds per created task.
        stage_latency_seconds: ``intake``, ``work`` and ``review``, each with
            ``p50``, ``p95``, ``mean``, ``max``.
        token_usage: tokens spent by simulated clients, generators and intake.
        estimated_cost_usd: the estimated price of those tokens, if known.
        per_client: per client id: ``asked``, ``submitted``, ``accepted``,
            ``rejected``.
    """

    requirements: int
    declined: int
    submitted: int
    cancelled: int
    tasks_created: int
    tasks_completed: int
    tasks_failed: int
    reviewed: int
    acceptance_rate: float
    acceptance_ci95: tuple[float, float]
    first_pass_acceptance_rate: float
    rework_rounds_total: int
    rework_rounds_mean: float
    stage_latency_seconds: Mapping[str, Mapping[str, float | None]]
    token_usage: TokenUsage = attrs.field(factory=TokenUsage)
    estimated_cost_usd: float | None = None
    per_client: Mapping[str, Mapping[str, int]] = attrs.field(factory=dict)

    @classmethod
    def from_outcomes(
        cls,
        outcomes: Sequence[TaskOutcome],
        *,
        token_usage: TokenUsage | None = None,
        estimated_cost_usd: float | None = None,
    ) -> SimulationMetrics:
        """Compute the metrics of ``outcomes``."""
        reviewed = [o for o in outcomes if o.accepted is not None]
        accepted = [o for o in reviewed if o.accepted]
        first_pass = [o for o in accepted if o.rework_rounds == 0]
        created = [o for o in outcomes if o.task_id is not None]
        per_client: dict[str, dict[str, int]] = {}
        for outcome in outcomes:
            row = per_client.setdefault(
                outcome.client_id,
                {"asked": 0, "submitted": 0, "accepted": 0, "rejected": 0},
            )
            row["asked"] += 1
            row["submitted"] += int(not outcome.declined)
            row["accepted"] += int(outcome.accepted is True)
            row["rejected"] += int(outcome.accepted is False)
        rework = sum(o.rework_rounds for o in created)

        def times(name: str) -> list[float]:
            return [
                value
                for o in outcomes
                if (value := getattr(o, f"{name}_seconds")) is not None
            ]

        return cls(
            requirements=len(outcomes),
            declined=sum(1 for o in outcomes if o.declined),
            submitted=sum(1 for o in outcomes if not o.declined),
            cancelled=sum(
                1 for o in outcomes if o.request_status is RequestStatus.CANCELLED
            ),
            tasks_created=len(created),
            tasks_completed=sum(
                1 for o in created if o.task_status is TaskStatus.COMPLETED
            ),
            tasks_failed=sum(
                1 for o in created if o.task_status is not TaskStatus.COMPLETED
            ),
            reviewed=len(reviewed),
            acceptance_rate=len(accepted) / len(reviewed) if reviewed else 0.0,
            acceptance_ci95=wilson_interval(len(accepted), len(reviewed)),
            first_pass_acceptance_rate=(
                len(first_pass) / len(reviewed) if reviewed else 0.0
            ),
            rework_rounds_total=rework,
            rework_rounds_mean=rework / len(created) if created else 0.0,
            stage_latency_seconds={
                name: _spread(times(name)) for name in ("intake", "work", "review")
            },
            token_usage=token_usage or TokenUsage(),
            estimated_cost_usd=estimated_cost_usd,
            per_client=per_client,
        )

    def as_dict(self) -> dict[str, Any]:
        """The metrics as plain JSON-able data."""
        return {
            "requirements": self.requirements,
            "declined": self.declined,
            "submitted": self.submitted,
            "cancelled": self.cancelled,
            "tasks_created": self.tasks_created,
            "tasks_completed": self.tasks_completed,
            "tasks_failed": self.tasks_failed,
            "reviewed": self.reviewed,
            "acceptance_rate": self.acceptance_rate,
            "acceptance_ci95": list(self.acceptance_ci95),
            "first_pass_acceptance_rate": self.first_pass_acceptance_rate,
            "rework_rounds_total": self.rework_rounds_total,
            "rework_rounds_mean": self.rework_rounds_mean,
            "stage_latency_seconds": {
                stage: dict(spread)
                for stage, spread in self.stage_latency_seconds.items()
            },
            "token_usage": {
                "input_tokens": self.token_usage.input_tokens,
                "output_tokens": self.token_usage.output_tokens,
                "total_tokens": self.token_usage.total_tokens,
                "calls": self.token_usage.calls,
            },
            "estimated_cost_usd": self.estimated_cost_usd,
            "per_client": {
                client: dict(row) for client, row in sorted(self.per_client.items())
            },
        }
