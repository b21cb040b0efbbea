"""``assert_criteria``: written criteria, judged on each conversation."""

from __future__ import annotations

from collections.abc import Sequence

from clientsim.assertions._runs import (
    MAX_SHOWN,
    cut,
    describe_run,
    given_runs,
    seed_of,
    threshold_of,
)
from clientsim.models.conversation import ConversationResult
from clientsim.models.simulated import SimulatedRun, SimulationRuns


__all__ = ["assert_criteria"]


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
                f"{cut(result.error.message)})"
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
            failures.append(f"{criterion!r}{how}: {cut(verdict.reason)}")
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
    runs = given_runs(results)
    if at_least is not None or (
        isinstance(results, SimulationRuns) and results.threshold is not None
    ):
        threshold = threshold_of(results, at_least, "at_least")
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
    seed = seed_of(results)
    if seed is not None:
        parts.append(f"run seed: {seed} (set @pytest.mark.clientsim(seed={seed}))")
    if failing:
        shown = failing[:MAX_SHOWN]
        parts.append(
            f"failing conversations ({len(shown)} of {len(failing)} shown; "
            "seed: the conversation's own seed, derived from the run seed):"
        )
        for run, failures in shown:
            parts.append(describe_run(run))
            parts.extend(f"    failed {line}" for line in failures)
    raise AssertionError("\n".join(parts))
