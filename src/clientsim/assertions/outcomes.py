"""Outcome rates and tau-bench's pass^k over simulated conversations."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from clientsim._validators import check_int
from clientsim.assertions._runs import (
    failure,
    given_runs,
    not_awaited,
    seed_of,
    threshold_of,
)
from clientsim.errors import ConfigError
from clientsim.models.simulated import SimulatedRun, SimulationRuns


__all__ = [
    "assert_no_outcome",
    "assert_outcome_rate",
    "assert_pass_hat_k",
    "outcome_rate",
    "pass_hat_k",
]


def outcome_rate(
    results: SimulationRuns | Sequence[SimulatedRun], outcome: str
) -> float:
    """The share of runs that reached ``outcome`` (``0.0`` when there are none).

    Example:
        >>> outcome_rate(SimulationRuns(runs=()), "resolved")
        0.0

    Raises:
        ConfigError: ``results`` is not a sequence of runs.
    """
    __tracebackhide__ = True
    runs = given_runs(results)
    if not runs:
        return 0.0
    return sum(run.outcome == outcome for run in runs) / len(runs)


def assert_outcome_rate(
    results: SimulationRuns | Sequence[SimulatedRun],
    outcome: str,
    *,
    at_least: float | None = None,
) -> float:
    """Check that at least ``at_least`` of the runs reached ``outcome``.

    Example:
        >>> import anyio
        >>> from clientsim import simulate
        >>> from clientsim.assertions import assert_outcome_rate
        >>> async def agent(message):
        ...     return "I've sent you a reset link."
        >>> results = anyio.run(lambda: simulate(
        ...     agent, intents=["reset my password"], outcomes={"resolved": "reset link"}
        ... ))
        >>> assert_outcome_rate(results, "resolved", at_least=0.9)
        1.0

    Args:
        results: the runs.
        outcome: the outcome name.
        at_least: the lowest acceptable share, from 0 to 1 (default: the
            ``clientsim`` marker's ``threshold``).

    Returns:
        The rate.

    Raises:
        AssertionError: the rate is below the threshold, or there are no runs.
        ConfigError: no threshold, or one outside 0..1.
    """
    __tracebackhide__ = True
    threshold = threshold_of(results, at_least, "at_least")
    runs = given_runs(results)
    rate = outcome_rate(runs, outcome)
    reached = sum(run.outcome == outcome for run in runs)
    if not runs or rate < threshold:
        failing = [run for run in runs if run.outcome != outcome]
        raise AssertionError(
            failure(
                f"outcome {outcome!r} rate {rate:.0%} ({reached}/{len(runs)} runs) "
                f"is below the threshold {threshold:.0%}",
                failing,
                seed_of(results),
            )
        )
    return rate


def assert_no_outcome(
    results: SimulationRuns | Sequence[SimulatedRun], outcome: str
) -> None:
    """Check that no run reached ``outcome``.

    Example:
        >>> import anyio
        >>> from clientsim import simulate
        >>> from clientsim.assertions import assert_no_outcome
        >>> async def agent(message):
        ...     return "I've sent you a reset link."
        >>> results = anyio.run(lambda: simulate(
        ...     agent, intents=["reset my password"], outcomes={"resolved": "reset link"}
        ... ))
        >>> assert_no_outcome(results, "escalated")

    Raises:
        AssertionError: some run reached it.
    """
    __tracebackhide__ = True
    runs = given_runs(results)
    failing = [run for run in runs if run.outcome == outcome]
    if failing:
        raise AssertionError(
            failure(
                f"outcome {outcome!r} rate {len(failing) / len(runs):.0%} "
                f"({len(failing)}/{len(runs)} runs); expected no run to reach it",
                failing,
                seed_of(results),
            )
        )


def _trials(
    results: SimulationRuns | Mapping[str, Sequence[bool]], outcome: str | None
) -> dict[str, list[bool]]:
    __tracebackhide__ = True
    not_awaited(results)
    if isinstance(results, SimulationRuns):
        if outcome is None:
            raise ConfigError(
                "outcome is required when results is a SimulationRuns (a run succeeds "
                "when it reaches that outcome); got None"
            )
        return {
            f"{persona}/{intent}": [run.outcome == outcome for run in runs]
            for (persona, intent), runs in results.by_task().items()
        }
    if isinstance(results, Mapping):
        trials: dict[str, list[bool]] = {}
        for task, values in results.items():
            if not all(isinstance(value, bool) for value in values):
                raise ConfigError(
                    f"trials of task {task!r} must be booleans; got {values!r}"
                )
            trials[str(task)] = list(values)
        return trials
    raise ConfigError(
        "results must be a SimulationRuns or a mapping task -> list of booleans; "
        f"got {type(results).__name__}"
    )


def pass_hat_k(
    results: SimulationRuns | Mapping[str, Sequence[bool]],
    k: int,
    *,
    outcome: str | None = None,
) -> float:
    """tau-bench's pass^k: the chance that ``k`` independent trials of a task all pass.

    Per task with ``c`` successes in ``n`` trials it is estimated as
    ``C(c, k) / C(n, k)``, then averaged over tasks. A task is a ``(persona, intent)``
    pair of a :class:`SimulationRuns` (its runs are its trials, a success is reaching
    ``outcome``), or a key of a mapping of booleans.

    Example:
        >>> pass_hat_k({"refund": [True, True, False], "login": [True] * 3}, 2)
        0.6666666666666666

    Args:
        results: the trials.
        k: trials that must all pass, from 1 to the fewest trials of any task.
        outcome: the outcome that counts as a success (for a ``SimulationRuns``).

    Raises:
        ConfigError: bad ``k``, no tasks, or a task with fewer than ``k`` trials.
    """
    __tracebackhide__ = True
    trials = _trials(results, outcome)
    check_int("k", k, low=1)
    if not trials:
        raise ConfigError("pass^k needs at least one task; got none")
    short = {task: len(values) for task, values in trials.items() if len(values) < k}
    if short:
        raise ConfigError(
            f"pass^{k} needs at least {k} trials per task; tasks with fewer: {short}"
        )
    total = sum(
        math.comb(sum(values), k) / math.comb(len(values), k)
        for values in trials.values()
    )
    return total / len(trials)


def assert_pass_hat_k(
    results: SimulationRuns,
    k: int,
    *,
    outcome: str,
    at_least: float | None = None,
) -> float:
    """Check that pass^``k`` (see :func:`pass_hat_k`) is at least ``at_least``.

    Example:
        >>> import anyio
        >>> from clientsim import simulate
        >>> from clientsim.assertions import assert_pass_hat_k
        >>> async def agent(message):
        ...     return "I've sent you a reset link."
        >>> results = anyio.run(lambda: simulate(
        ...     agent, intents=["reset my password"], outcomes={"resolved": "reset link"},
        ...     runs=3,
        ... ))
        >>> assert_pass_hat_k(results, 3, outcome="resolved", at_least=0.8)
        1.0

    Args:
        results: the runs (each ``(persona, intent)`` repeated at least ``k`` times).
        k: trials that must all pass.
        outcome: the outcome that counts as a success.
        at_least: the lowest acceptable value (default: the marker's threshold).

    Returns:
        pass^k.

    Raises:
        AssertionError: pass^k is below the threshold.
        ConfigError: see :func:`pass_hat_k`; no threshold.
    """
    __tracebackhide__ = True
    threshold = threshold_of(results, at_least, "at_least")
    value = pass_hat_k(results, k, outcome=outcome)
    if value < threshold:
        failing = [run for run in results if run.outcome != outcome]
        raise AssertionError(
            failure(
                f"pass^{k} for outcome {outcome!r} is {value:.2f}, below the "
                f"threshold {threshold:.2f} ({len(results.by_task())} tasks, "
                f"{len(results)} runs)",
                failing,
                results.seed,
            )
        )
    return value
