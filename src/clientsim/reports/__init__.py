"""Reports of a client simulation run (seed 000): summary, detailed, JSON export and
metrics only.

Example:
    >>> text = result.report("summary")  # doctest: +SKIP
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
