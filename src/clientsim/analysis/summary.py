"""The figures of ``summary.json``: :func:`summarize` and :func:`is_passed`.

Private: both are documented and imported from :mod:`clientsim.experiments.output`.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Final

from clientsim.analysis.stats import estimate_cost, percentile, wilson_interval
from clientsim.errors import ConfigError
from clientsim.models.conversation import ErrorRecord, TokenUsage
from clientsim.models.records import ConversationRecord, RunStatus
from clientsim.models.roles import ParticipantRole


__all__ = [
    "NONE_KEY",
    "error_of",
    "is_passed",
    "outcome_of",
    "summarize",
    "tokens_spent",
]

#: The key ``by_outcome`` and ``ending_reasons`` use for "no outcome" / "no ending".
NONE_KEY: Final = "none"


def error_of(record: ConversationRecord) -> ErrorRecord | None:
    """The error that ended the conversation: the record's, else its result's."""
    if record.error is not None:
        return record.error
    return record.result.error if record.result is not None else None


def outcome_of(record: ConversationRecord) -> str | None:
    """The name of the outcome the conversation reached, or ``None``."""
    if record.result is None or record.result.outcome is None:
        return None
    return record.result.outcome.name


def tokens_spent(record: ConversationRecord) -> TokenUsage:
    """Tokens the conversation spent: summed over its models (as ``summary.json``
    counts them), or its result's token usage when no model was tracked."""
    if record.models:
        return sum(record.models.values(), TokenUsage())
    if record.result is not None:
        return record.result.token_usage.total
    return TokenUsage()


def is_passed(record: ConversationRecord, pass_outcomes: Collection[str] = ()) -> bool:
    """Whether a conversation counts as a pass.

    A pass ran to an ending (status ``DONE``) and, if ``pass_outcomes`` is given,
    reached one of those outcomes; if it is empty, ended without an error.

    Example:
        >>> from clientsim.models import GridCell, RunStatus
        >>> cell = GridCell(input_id="0", persona_id="p", iteration=0)
        >>> is_passed(ConversationRecord(run_id="r", cell=cell, seed=1,
        ...                              status=RunStatus.DONE))
        True
    """
    if record.status is not RunStatus.DONE:
        return False
    if pass_outcomes:
        return outcome_of(record) in pass_outcomes
    return error_of(record) is None


def _pass_definition(pass_outcomes: Collection[str]) -> str:
    if pass_outcomes:
        names = ", ".join(repr(name) for name in sorted(pass_outcomes))
        return f"status 'done' and outcome in [{names}]"
    return "status 'done' and no error"


def _turns(record: ConversationRecord) -> int:
    if record.result is None:
        return 0
    return sum(
        1
        for message in record.result.conversation.messages
        if message.sender is ParticipantRole.CUSTOMER
    )


def _distribution(values: Sequence[float]) -> dict[str, float | None]:
    return {
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "mean": statistics.fmean(values) if values else None,
        "max": max(values) if values else None,
    }


def _rate(passed: int, count: int) -> float | None:
    return passed / count if count else None


def _breakdown(
    records: Sequence[ConversationRecord], key: str, passes: Sequence[bool]
) -> dict[str, dict[str, Any]]:
    counts: Counter[str] = Counter()
    passed: Counter[str] = Counter()
    for record, ok in zip(records, passes, strict=True):
        name = getattr(record.cell, key)
        counts[name] += 1
        passed[name] += ok
    return {
        name: {
            "count": counts[name],
            "passed": passed[name],
            "pass_rate": _rate(passed[name], counts[name]),
        }
        for name in sorted(counts)
    }


def _sorted_counts(counter: Counter[str]) -> dict[str, int]:
    return {name: counter[name] for name in sorted(counter)}


def summarize(
    records: Sequence[ConversationRecord],
    *,
    pass_outcomes: Collection[str] = (),
    prices: Mapping[str, tuple[float, float]] | None = None,
) -> dict[str, Any]:
    """Aggregate a run's conversations into the JSON-able figures of ``summary.json``.

    Keys, always present and always in this order:

    - ``total``: the number of conversations.
    - ``by_status``: a count for every :class:`RunStatus` value (zeros included).
    - ``by_outcome``: outcome name -> count; no outcome counts under ``"none"``.
    - ``pass_rate``: ``value`` (``None`` with no conversations), ``ci95_low`` and
      ``ci95_high`` (Wilson), ``passed``, ``total``, ``pass_outcomes`` and a
      human-readable ``definition`` (see :func:`is_passed`).
    - ``turns``: ``p50``, ``p95``, ``mean``, ``max`` of the customer-message count
      (one customer message and the agent's response are one turn, seed 003),
      over the conversations that ran (have a transcript).
    - ``latency_seconds``: the same figures over ``duration_seconds`` (the wall time
      of each conversation's last attempt), over every conversation.
    - ``tokens``: ``input``, ``output``, ``total``, ``calls`` summed over
      ``record.models``; ``by_model``: per model spec, the token counts, calls and
      ``estimated_cost_usd`` (``None`` without a price).
    - ``estimated_cost_usd``: the sum over models that have a price, and
      ``unpriced_models``: the specs without one. A non-empty ``unpriced_models``
      means the total is a lower bound. Prices are estimates (see
      :data:`~clientsim.analysis.stats.MODEL_PRICES`).
    - ``errors``: ``by_side`` (``agent``, ``simulator``), ``by_type`` (exception
      class -> count) and ``transient`` (how many were worth retrying), counting the
      error that ended each conversation.
    - ``ending_reasons``: ending reason -> count (``"none"`` without an ending).
    - ``by_persona``, ``by_input``: id -> ``count``, ``passed``, ``pass_rate``.
    - ``attempts``: runs in all; ``retries``: runs beyond the first.

    Mappings keyed by names are sorted by name, so the same records always give the
    same JSON text.

    Args:
        records: the run's conversations.
        pass_outcomes: the outcome names that count as a pass; empty: a pass is a
            conversation that finished without an error.
        prices: USD per one million (input, output) tokens by model name; default
            :data:`~clientsim.analysis.stats.MODEL_PRICES`.

    Returns:
        A dict of plain JSON values.

    Raises:
        ConfigError: ``records`` holds something other than ``ConversationRecord``
            objects, or ``pass_outcomes`` is a bare string.

    Example:
        >>> summarize([])["pass_rate"]["value"] is None
        True
    """
    records = list(records)
    for record in records:
        if not isinstance(record, ConversationRecord):
            raise ConfigError(
                "summarize takes ConversationRecord objects; "
                f"got {type(record).__name__}"
            )
    if isinstance(pass_outcomes, str):
        raise ConfigError(
            "pass_outcomes must be a collection of outcome names, e.g. ['resolved']; "
            f"got the string {pass_outcomes!r}"
        )
    passes = [is_passed(record, pass_outcomes) for record in records]
    passed = sum(passes)
    total = len(records)
    low, high = wilson_interval(passed, total)

    status_counts = Counter(record.status for record in records)
    outcomes: Counter[str] = Counter(
        outcome_of(record) or NONE_KEY for record in records
    )
    endings: Counter[str] = Counter(
        record.result.ending.reason
        if record.result is not None and record.result.ending is not None
        else NONE_KEY
        for record in records
    )
    errors = [error for record in records if (error := error_of(record)) is not None]
    sides = Counter(error.side for error in errors)

    return {
        "total": total,
        "by_status": {status.value: status_counts[status] for status in RunStatus},
        "by_outcome": _sorted_counts(outcomes),
        "pass_rate": {
            "value": _rate(passed, total),
            "ci95_low": low,
            "ci95_high": high,
            "passed": passed,
            "total": total,
            "pass_outcomes": sorted(pass_outcomes),
            "definition": _pass_definition(pass_outcomes),
        },
        "turns": _distribution(
            [_turns(record) for record in records if record.result is not None]
        ),
        "latency_seconds": _distribution(
            [float(record.duration_seconds) for record in records]
        ),
        **_token_figures(records, prices),
        "errors": {
            "by_side": {"agent": sides["agent"], "simulator": sides["simulator"]},
            "by_type": _sorted_counts(Counter(error.type for error in errors)),
            "transient": sum(error.transient for error in errors),
        },
        "ending_reasons": _sorted_counts(endings),
        "by_persona": _breakdown(records, "persona_id", passes),
        "by_input": _breakdown(records, "input_id", passes),
        "attempts": sum(record.attempts for record in records),
        "retries": sum(max(record.attempts - 1, 0) for record in records),
    }


def _token_figures(
    records: Sequence[ConversationRecord],
    prices: Mapping[str, tuple[float, float]] | None,
) -> dict[str, Any]:
    usage_by_model: dict[str, TokenUsage] = {}
    for record in records:
        for spec, usage in record.models.items():
            usage_by_model[spec] = usage_by_model.get(spec, TokenUsage()) + usage
    by_model: dict[str, dict[str, Any]] = {}
    cost = 0.0
    unpriced: list[str] = []
    for spec in sorted(usage_by_model):
        usage = usage_by_model[spec]
        model_cost = estimate_cost(spec, usage, prices)
        if model_cost is None:
            unpriced.append(spec)
        else:
            cost += model_cost
        by_model[spec] = {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens,
            "calls": usage.calls,
            "estimated_cost_usd": model_cost,
        }
    overall = sum(usage_by_model.values(), TokenUsage())
    return {
        "tokens": {
            "input": overall.input_tokens,
            "output": overall.output_tokens,
            "total": overall.total_tokens,
            "calls": overall.calls,
        },
        "by_model": by_model,
        "estimated_cost_usd": cost,
        "unpriced_models": unpriced,
    }
