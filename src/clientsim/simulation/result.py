"""What a client simulation run leaves behind."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from clientsim.simulation.metrics import SimulationMetrics, TaskOutcome


__all__ = ["SimulationResult"]


@attrs.frozen(kw_only=True)
class SimulationResult:
    """One client simulation run.

    Attributes:
        simulation_id: the run's id (registered in the store).
        outcomes: every requirement's journey, in the order they were asked.
        metrics: the totals.
        started_at: when the run started (UTC).
        finished_at: when it ended (UTC).
        status: ``"completed"``, ``"cancelled"`` or ``"failed"``.
        report_style: the report :meth:`report` gives by default (the config's
            ``report.strategy``).
        error: what stopped a ``"failed"`` run (a replicate of
            :func:`~clientsim.simulation.run_simulations` keeps its fault here, with
            the outcomes that finished before it).
    """

    simulation_id: str
    outcomes: tuple[TaskOutcome, ...]
    metrics: SimulationMetrics
    started_at: datetime
    finished_at: datetime
    status: str = "completed"
    report_style: str = "summary"
    error: str | None = None

    @property
    def duration_seconds(self) -> float:
        """Wall time of the run."""
        return (self.finished_at - self.started_at).total_seconds()

    def report(self, style: str | None = None) -> str | dict[str, Any]:
        """The run as a report: ``"summary"``, ``"detailed"``, ``"json_export"``,
        ``"metrics_only"``, or a plugin's report; default: :attr:`report_style`.

        Raises:
            UnknownStrategyError: no report of that name; the message lists them.
        """
        from clientsim.factory import build_report_strategy  # noqa: PLC0415

        rendered: str | dict[str, Any] = build_report_strategy(
            style or self.report_style
        ).render(self)
        return rendered
