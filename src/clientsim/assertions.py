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

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Final

from clientsim._validators import check_int, check_number
from clientsim.errors import ConfigError
from clientsim.models.conversation import ConversationResult
from clientsim.models.simulated import SimulatedRun, SimulationRuns


__all__ = [
    "SimulatedRun",
    "SimulationRuns",
    "assert_criteria",
    "assert_no_outcome",
    "assert_outcome_rate",
    "assert_pass_hat_k",
    "describe_run",
    "outcome_rate",
    "pass_hat_k",
]

_MAX_SHOWN: Final = 3
_MAX_CHARS: Final = 120
_EDGE_MESSAGES: Final = 2


def _runs(results: SimulationRuns | Sequence[SimulatedRun]) -> tuple[SimulatedRun, ...]:
    if isinstance(results, SimulationRuns):
        return results.runs
    if isinstance(results, Sequence) and all(
        isinstance(run, SimulatedRun) for run in results
    ):
        return tuple(results)
    raise ConfigError(
        "results must be a SimulationRuns (what simulate() returns) or a sequence of "
        f"SimulatedRun; got {type(results).__name__}"
    )


def _check_rate(name: str, value: object) -> float:
    return check_number(name, value, low=0, high=1)


def _threshold(
    results: SimulationRuns | Sequence[SimulatedRun], given: float | None, name: str
) -> float:
    if given is not None:
        return _check_rate(name, given)
    if isinstance(results, SimulationRuns) and results.threshold is not None:
        return _check_rate("the clientsim marker's threshold", results.threshold)
    raise ConfigError(
        f"{name} is required (or set @pytest.mark.clientsim(threshold=...)); got None"
    )


def _cut(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_CHARS else flat[: _MAX_CHARS - 3] + "..."


def describe_run(run: SimulatedRun) -> str:
    """A trimmed transcript of ``run``: its first and last messages, its seed.

    Example:
        >>> import anyio
        >>> from clientsim import simulate
        >>> from clientsim.assertions import describe_run
        >>> async def agent(message):
        ...     return "I've sent you a reset link."
        >>> results = anyio.run(lambda: simulate(
        ...     agent, intents=["reset my password"], outcomes={"resolved": "reset link"}
        ... ))
        >>> print(describe_run(results.runs[0]))
          persona='a typical customer' intent='reset my password' iteration=0 seed=... ...
            [0] customer: reset my password
            [1] agent: I've sent you a reset link.
            ... 2 more messages ...
            [4] customer: ...
            [5] agent: I've sent you a reset link.
    """
    result = run.result
    ending = result.ending.reason if result.ending is not None else "-"
    header = (
        f"  persona={run.persona!r} intent={run.intent!r} iteration={run.iteration} "
        f"seed={run.seed} outcome={run.outcome} ending={ending}"
    )
    lines = [header]
    if result.error is not None:
        lines.append(f"    error: {result.error.type}: {_cut(result.error.message)}")
    messages = result.conversation.messages
    edge = _EDGE_MESSAGES
    shown = (
        list(enumerate(messages))
        if len(messages) <= 2 * edge
        else [
            *enumerate(messages[:edge]),
            (-1, None),
            *enumerate(messages[-edge:], start=len(messages) - edge),
        ]
    )
    for index, message in shown:
        if message is None:
            lines.append(f"    ... {len(messages) - 2 * edge} more messages ...")
        else:
            lines.append(
                f"    [{index}] {message.sender.value}: {_cut(message.content)}"
            )
    return "\n".join(lines)


def _failure(summary: str, failing: Sequence[SimulatedRun], seed: int | None) -> str:
    parts = [summary]
    if seed is not None:
        parts.append(f"run seed: {seed} (set @pytest.mark.clientsim(seed={seed}))")
    if failing:
        shown = failing[:_MAX_SHOWN]
        parts.append(
            f"failing conversations ({len(shown)} of {len(failing)} shown; "
            "seed: the conversation's own seed, derived from the run seed):"
        )
        parts.extend(describe_run(run) for run in shown)
    return "\n".join(parts)


def _seed_of(results: SimulationRuns | Sequence[SimulatedRun]) -> int | None:
    return results.seed if isinstance(results, SimulationRuns) else None


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
    runs = _runs(results)
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
    threshold = _threshold(results, at_least, "at_least")
    runs = _runs(results)
    rate = outcome_rate(runs, outcome)
    reached = sum(run.outcome == outcome for run in runs)
    if not runs or rate < threshold:
        failing = [run for run in runs if run.outcome != outcome]
        raise AssertionError(
            _failure(
                f"outcome {outcome!r} rate {rate:.0%} ({reached}/{len(runs)} runs) "
                f"is below the threshold {threshold:.0%}",
                failing,
                _seed_of(results),
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
    runs = _runs(results)
    failing = [run for run in runs if run.outcome == outcome]
    if failing:
        raise AssertionError(
            _failure(
                f"outcome {outcome!r} rate {len(failing) / len(runs):.0%} "
                f"({len(failing)}/{len(runs)} runs); expected no run to reach it",
                failing,
                _seed_of(results),
            )
        )


def _trials(
    results: SimulationRuns | Mapping[str, Sequence[bool]], outcome: str | None
) -> dict[str, list[bool]]:
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
    threshold = _threshold(results, at_least, "at_least")
    value = pass_hat_k(results, k, outcome=outcome)
    if value < threshold:
        failing = [run for run in results if run.outcome != outcome]
        raise AssertionError(
            _failure(
                f"pass^{k} for outcome {outcome!r} is {value:.2f}, below the "
                f"threshold {threshold:.2f} ({len(results.by_task())} tasks, "
                f"{len(results)} runs)",
                failing,
                results.seed,
            )
        )
    return value


# ----- written criteria ------------------------------------------------------------


def _criteria_failures(
    result: ConversationResult, criteria: tuple[str, ...]
) -> list[str]:
    """``'criterion': reason`` for each criterion ``result`` fails: the verdict it
    carries (``simulate(..., criteria=...)``), else the offline rules' verdict now."""
    from clientsim.evaluation.offline_criteria import judge_offline  # noqa: PLC0415

    if result.error is not None:
        return [
            (
                f"(not judged: the conversation failed: {result.error.type}: "
                f"{_cut(result.error.message)})"
            )
        ]
    carried = result.criteria
    verdicts = {}
    missing = []
    for criterion in criteria:
        verdict = carried.get(criterion) if carried is not None else None
        if verdict is None:
            missing.append(criterion)
        else:
            verdicts[criterion] = (verdict, "")
    messages = [(m.sender.value, m.content) for m in result.conversation.messages]
    for verdict in judge_offline(missing, messages):
        verdicts[verdict.criterion] = (verdict, " (judged offline)")
    failures = []
    for criterion in criteria:
        verdict, how = verdicts[criterion]
        if not verdict.passed:
            failures.append(f"{criterion!r}{how}: {_cut(verdict.reason)}")
    return failures


def assert_criteria(
    results: SimulationRuns
    | Sequence[SimulatedRun]
    | SimulatedRun
    | ConversationResult,
    criteria: Sequence[str],
    *,
    at_least: float | None = None,
) -> float:
    """Check that conversations meet written criteria.

    A conversation passes when every criterion passes. Its verdicts are the ones it
    carries (from ``simulate(..., criteria=[...])`` or a file's ``criteria:``, judged
    by the model chosen there); a criterion it does not carry is judged now by the
    offline keyword rules (:mod:`clientsim.evaluation.offline_criteria`), and a
    criterion they do not understand fails ("cannot judge offline").

    Example:
        >>> import anyio
        >>> from clientsim import simulate
        >>> from clientsim.assertions import assert_criteria
        >>> async def agent(message):
        ...     return "Sorry about that! What is your order number?"
        >>> results = anyio.run(lambda: simulate(agent, intents=["my order is late"]))
        >>> assert_criteria(results, ["the agent apologises",
        ...                           "the agent does not promise a refund"])
        1.0

    Args:
        results: a :class:`SimulationRuns`, a sequence of :class:`SimulatedRun`, one
            :class:`SimulatedRun`, or one :class:`~clientsim.models.ConversationResult`.
        criteria: the criteria, as written.
        at_least: the lowest acceptable share of passing conversations, from 0 to 1
            (default: the ``clientsim`` marker's ``threshold``, else every one).

    Returns:
        The share of conversations that met every criterion.

    Raises:
        AssertionError: the share is below the threshold, or there are no runs; the
            message lists each failing conversation's failed criteria with reasons,
            its seed and a trimmed transcript.
        ConfigError: bad criteria or threshold, or results of another kind.
    """
    __tracebackhide__ = True
    from clientsim.evaluation.criteria import check_criteria  # noqa: PLC0415

    wanted = check_criteria(criteria)
    if isinstance(results, ConversationResult):
        failures = _criteria_failures(results, wanted)
        if failures:
            listing = "\n".join(f"  failed {line}" for line in failures)
            raise AssertionError(
                f"{len(failures)} of {len(wanted)} criteria failed:\n{listing}"
            )
        return 1.0
    if isinstance(results, SimulatedRun):
        results = (results,)
    runs = _runs(results)
    if at_least is not None or (
        isinstance(results, SimulationRuns) and results.threshold is not None
    ):
        threshold = _threshold(results, at_least, "at_least")
    else:
        threshold = 1.0
    failing = [
        (run, failures)
        for run in runs
        if (failures := _criteria_failures(run.result, wanted))
    ]
    passed = len(runs) - len(failing)
    rate = passed / len(runs) if runs else 0.0
    if runs and rate >= threshold:
        return rate
    parts = [
        (
            f"criteria met in {rate:.0%} of runs ({passed}/{len(runs)}), below the "
            f"threshold {threshold:.0%}"
        )
    ]
    seed = _seed_of(results)
    if seed is not None:
        parts.append(f"run seed: {seed} (set @pytest.mark.clientsim(seed={seed}))")
    if failing:
        shown = failing[:_MAX_SHOWN]
        parts.append(
            f"failing conversations ({len(shown)} of {len(failing)} shown; "
            "seed: the conversation's own seed, derived from the run seed):"
        )
        for run, failures in shown:
            parts.append(describe_run(run))
            parts.extend(f"    failed {line}" for line in failures)
    raise AssertionError("\n".join(parts))
