"""Reports of a client simulation run (seed 000): summary, detailed, JSON export and
metrics only.

A run's :meth:`~clientsim.simulation.SimulationResult.report` renders it with one of
them by name (``result.report("summary")``; see :class:`~clientsim.simulation.SimulationRunner`
for a whole run); :data:`BUILTINS` maps the names to the classes.

Example:
    >>> from clientsim.reports import BUILTINS
    >>> sorted(BUILTINS)
    ['detailed', 'json_export', 'metrics_only', 'summary']
"""

from __future__ import annotations

from clientsim.reports.base import ReportStrategy
from clientsim.reports.strategies import (
    BUILTINS,
    DetailedReport,
    JsonExportReport,
    MetricsOnlyReport,
    SummaryReport,
)


__all__ = [
    "BUILTINS",
    "DetailedReport",
    "JsonExportReport",
    "MetricsOnlyReport",
    "ReportStrategy",
    "SummaryReport",
]
