"""The four report styles of seed 000's ``ReportConfig.strategy``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final


if TYPE_CHECKING:
    from clientsim.simulation.metrics import TaskOutcome
    from clientsim.simulation.result import SimulationResult

__all__ = [
    "BUILTINS",
    "DetailedReport",
    "JsonExportReport",
    "MetricsOnlyReport",
    "SummaryReport",
]


def _rate(value: float) -> str:
    return f"{value:.1%}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}s"


def _summary_lines(result: SimulationResult) -> list[str]:
    m = result.metrics
    low, high = m.acceptance_ci95
    latency = m.stage_latency_seconds
    lines = [
        (
            f"Client simulation {result.simulation_id}: {result.status} in "
            f"{result.duration_seconds:.2f}s"
        ),
        (
            f"  requirements {m.requirements}: submitted {m.submitted}, declined "
            f"{m.declined}, cancelled at intake {m.cancelled}"
        ),
        (
            f"  tasks created {m.tasks_created}: completed {m.tasks_completed}, failed "
            f"{m.tasks_failed}"
        ),
        (
            f"  acceptance rate {_rate(m.acceptance_rate)} of {m.reviewed} reviewed "
            f"(95% CI {_rate(low)}-{_rate(high)}); first pass "
            f"{_rate(m.first_pass_acceptance_rate)}"
        ),
        (
            f"  rework rounds {m.rework_rounds_total} (mean {m.rework_rounds_mean:.2f} per "
            "task)"
        ),
    ]
    for stage in ("intake", "work", "review"):
        spread = latency.get(stage, {})
        lines.append(
            f"  {stage:<7} latency p50 {_seconds(spread.get('p50'))}  p95 "
            f"{_seconds(spread.get('p95'))}"
        )
    usage = m.token_usage
    cost = "unknown" if m.estimated_cost_usd is None else f"${m.estimated_cost_usd:.4f}"
    lines.append(
        f"  tokens {usage.total_tokens:,} in {usage.calls:,} model calls; estimated "
        f"cost {cost}"
    )
    if result.error is not None:
        lines.append(f"  error: {result.error}")
    return lines


class SummaryReport:
    """A few lines: counts, acceptance rate with its interval, rework, latencies,
    cost."""

    @classmethod
    def from_config(cls) -> SummaryReport:
        """Build from config values (there are none)."""
        return cls()

    def render(self, result: SimulationResult) -> str:
        """The summary as text."""
        return "\n".join(_summary_lines(result))


def _outcome_line(outcome: TaskOutcome) -> str:
    if outcome.declined:
        verdict = "declined by the client"
    elif outcome.accepted is None:
        verdict = f"not reviewed ({outcome.error or outcome.request_status})"
    else:
        verdict = "accepted" if outcome.accepted else "rejected"
    task = outcome.task_status.value if outcome.task_status else "-"
    line = (
        f"- [{outcome.client_id}] {outcome.requirement.title}: {verdict}; task {task}; "
        f"rework {outcome.rework_rounds}"
    )
    if outcome.feedback:
        last = outcome.feedback[-1]
        reason = last.reason.strip().replace("\n", " ")
        line += f"; last feedback: {reason[:120]}"
        if last.unmet_criteria:
            line += f" (unmet: {', '.join(last.unmet_criteria)})"
    return line


class DetailedReport:
    """The summary, then one line per requirement, then per-client totals."""

    @classmethod
    def from_config(cls) -> DetailedReport:
        """Build from config values (there are none)."""
        return cls()

    def render(self, result: SimulationResult) -> str:
        """The detailed report as text."""
        lines = _summary_lines(result)
        lines += ["", "Requirements:"]
        lines += [_outcome_line(outcome) for outcome in result.outcomes]
        lines += ["", "Clients:"]
        for client, row in sorted(result.metrics.per_client.items()):
            lines.append(
                f"- {client}: asked {row['asked']}, submitted {row['submitted']}, "
                f"accepted {row['accepted']}, rejected {row['rejected']}"
            )
        return "\n".join(lines)


class MetricsOnlyReport:
    """The metrics as JSON-able data, nothing else."""

    @classmethod
    def from_config(cls) -> MetricsOnlyReport:
        """Build from config values (there are none)."""
        return cls()

    def render(self, result: SimulationResult) -> dict[str, Any]:
        """The metrics as a dict."""
        return result.metrics.as_dict()


class JsonExportReport:
    """Everything as JSON-able data: the run, its metrics and every outcome."""

    @classmethod
    def from_config(cls) -> JsonExportReport:
        """Build from config values (there are none)."""
        return cls()

    def render(self, result: SimulationResult) -> dict[str, Any]:
        """The export as a dict (``json.dumps`` it to write a file)."""
        from clientsim.models import to_dict  # noqa: PLC0415

        data = {
            "simulation_id": result.simulation_id,
            "status": result.status,
            "started_at": result.started_at.isoformat(),
            "finished_at": result.finished_at.isoformat(),
            "metrics": result.metrics.as_dict(),
            "outcomes": [to_dict(outcome) for outcome in result.outcomes],
        }
        if result.error is not None:
            data["error"] = result.error
        json.dumps(data)  # fail here, not in the caller, if something is not JSON-able
        return data


BUILTINS: Final[dict[str, type[Any]]] = {
    "summary": SummaryReport,
    "detailed": DetailedReport,
    "json_export": JsonExportReport,
    "metrics_only": MetricsOnlyReport,
}
"""The seed's report styles by discriminator name."""
