"""The :class:`ReportStrategy` protocol (seed 000): how a simulation run is reported.

A report strategy turns a :class:`~clientsim.simulation.SimulationResult` into a report:
text to print, or JSON-able data to write. The built-ins are in
:mod:`clientsim.reports.strategies`; a plugin adds one through the
``clientsim_register_report_strategies`` hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable


if TYPE_CHECKING:
    from clientsim.simulation.result import SimulationResult

__all__ = ["ReportStrategy"]


@runtime_checkable
class ReportStrategy(Protocol):
    """Turns a simulation result into a report (text or JSON-able data).

    Implementations need not subclass this: any object with a matching ``render``
    is a report strategy.

    Example:
        >>> class Headline:
        ...     def render(self, result):
        ...         return f"{result.simulation_id}: {result.status}"
        >>> isinstance(Headline(), ReportStrategy)
        True
    """

    def render(self, result: SimulationResult) -> str | dict[str, Any]:
        """The report of ``result``."""
        ...
