"""Assertion helpers for tests of agents: outcome rates, tau-bench's pass^k and
written criteria.

Every helper takes the results of simulated conversations (a :class:`SimulationRuns`,
as the pytest plugin's ``simulate`` fixture returns, or any sequence of
:class:`SimulatedRun`) and raises :class:`AssertionError` with a readable message when
the check fails: the rate, the threshold, up to three failing transcripts (trimmed)
and the seed of each, to reproduce it.

This module is light: it imports no LangChain, so test files may import it freely.

Example:
    >>> runs = SimulationRuns(runs=())
    >>> outcome_rate(runs, "resolved")
    0.0
"""

from clientsim.assertions._runs import describe_run
from clientsim.assertions.criteria import assert_criteria
from clientsim.assertions.outcomes import (
    assert_no_outcome,
    assert_outcome_rate,
    assert_pass_hat_k,
    outcome_rate,
    pass_hat_k,
)
from clientsim.assertions.tools import (
    assert_tool_called,
    assert_tool_not_called,
    assert_trajectory,
)
from clientsim.models.simulated import SimulatedRun, SimulationRuns


__all__ = [
    "SimulatedRun",
    "SimulationRuns",
    "assert_criteria",
    "assert_no_outcome",
    "assert_outcome_rate",
    "assert_pass_hat_k",
    "assert_tool_called",
    "assert_tool_not_called",
    "assert_trajectory",
    "describe_run",
    "outcome_rate",
    "pass_hat_k",
]
