"""An experiment's output folder: its layout, summary, traces and observations.

Seed 003 fixes the layout::

    <output_directory>/exp_<YYYYmmdd_HHMMSS>/
        summary.json                 aggregate metrics       (save_aggregated_metrics)
        metadata.json                the experiment's config (save_aggregated_metrics)
        artifacts/traces.jsonl       one conversation a line (save_traces)
        artifacts/observations.jsonl the observation stream  (save_traces)
        logs/                        always present; the runner logs to logs/run.log

Everything here is synchronous file I/O; async callers run it through
``anyio.to_thread.run_sync``.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import statistics
import tempfile
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

import attrs

from clientsim.errors import ConfigError
from clientsim.experiments.stats import estimate_cost, percentile, wilson_interval
from clientsim.models._serialization import to_dict
from clientsim.models.conversation import (
    Conversation,
    ConversationResult,
    Ending,
    ErrorRecord,
    Message,
    TokenUsage,
    TokenUsageReport,
)
from clientsim.models.intent import Outcome
from clientsim.models.records import ConversationRecord, GridCell, RunStatus
from clientsim.models.roles import ParticipantRole


__all__ = [
    "ARTIFACTS_DIR",
    "LOGS_DIR",
    "METADATA_FILE",
    "NONE_KEY",
    "OBSERVATIONS_FILE",
    "SUMMARY_FILE",
    "TRACES_FILE",
    "ExperimentWriter",
    "LoadedExperiment",
    "is_passed",
    "load_experiment",
    "new_experiment_dir",
    "observation_lines",
    "record_from_trace",
    "summarize",
    "trace_line",
]

SUMMARY_FILE: Final = "summary.json"
METADATA_FILE: Final = "metadata.json"
ARTIFACTS_DIR: Final = "artifacts"
LOGS_DIR: Final = "logs"
TRACES_FILE: Final = f"{ARTIFACTS_DIR}/traces.jsonl"
OBSERVATIONS_FILE: Final = f"{ARTIFACTS_DIR}/observations.jsonl"

#: The key ``by_outcome`` and ``ending_reasons`` use for "no outcome" / "no ending".
NONE_KEY: Final = "none"

_MAX_SAME_SECOND: Final = 10_000


# -- the folder --------------------------------------------------------------------


def new_experiment_dir(output_directory: Path, *, now: datetime | None = None) -> Path:
    """Create a fresh experiment folder ``exp_<YYYYmmdd_HHMMSS>`` with its subfolders.

    The timestamp is in UTC, so names sort by start time whatever the machine's time
    zone. ``output_directory`` is created if needed. If the name is taken (two runs
    started in the same second), ``_2``, ``_3``, ... is appended; creation is atomic,
    so two processes never get the same folder.

    Args:
        output_directory: where experiments go (seed 003's ``output_directory``).
        now: the start time; default the current time. A naive datetime is taken to
            be UTC already; an aware one is converted to UTC.

    Returns:
        The new folder, containing empty ``artifacts/`` and ``logs/`` folders.

    Raises:
        ConfigError: ``output_directory`` exists but is not a directory.

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> new_experiment_dir(root, now=datetime(2025, 1, 17, 14, 30, 22)).name
        'exp_20250117_143022'
    """
    output_directory = Path(output_directory)
    if output_directory.exists() and not output_directory.is_dir():
        raise ConfigError(
            f"output_directory {str(output_directory)!r} is a file; expected a "
            "directory (or a path that does not exist yet)"
        )
    output_directory.mkdir(parents=True, exist_ok=True)
    moment = datetime.now(UTC) if now is None else now
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    base = f"exp_{moment:%Y%m%d_%H%M%S}"
    for number in range(1, _MAX_SAME_SECOND + 1):
        candidate = output_directory / (base if number == 1 else f"{base}_{number}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        (candidate / ARTIFACTS_DIR).mkdir()
        (candidate / LOGS_DIR).mkdir()
        return candidate
    raise ConfigError(  # pragma: no cover - ten thousand runs in one second
        f"cannot create an experiment folder in {str(output_directory)!r}: "
        f"{base} and {_MAX_SAME_SECOND - 1} numbered variants already exist"
    )


# -- summary -----------------------------------------------------------------------


def _error_of(record: ConversationRecord) -> ErrorRecord | None:
    if record.error is not None:
        return record.error
    return record.result.error if record.result is not None else None


def _outcome_of(record: ConversationRecord) -> str | None:
    if record.result is None or record.result.outcome is None:
        return None
    return record.result.outcome.name


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
        return _outcome_of(record) in pass_outcomes
    return _error_of(record) is None


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
      :data:`~clientsim.experiments.stats.MODEL_PRICES`).
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
            :data:`~clientsim.experiments.stats.MODEL_PRICES`.

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
        _outcome_of(record) or NONE_KEY for record in records
    )
    endings: Counter[str] = Counter(
        record.result.ending.reason
        if record.result is not None and record.result.ending is not None
        else NONE_KEY
        for record in records
    )
    errors = [error for record in records if (error := _error_of(record)) is not None]
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


# -- traces and observations -------------------------------------------------------


def _usage_dict(usage: TokenUsage) -> dict[str, int]:
    # What to_dict gives for a TokenUsage, without a trip through cattrs per line.
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "calls": usage.calls,
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _error_dict(error: ErrorRecord | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {
        "source": error.source,
        "side": error.side,
        "type": error.type,
        "message": error.message,
        "transient": error.transient,
    }


def trace_line(record: ConversationRecord) -> dict[str, Any]:
    """One line of ``artifacts/traces.jsonl``: everything about one conversation.

    Keys: ``trace_id`` (the record's ``simulation_id``), ``run_id``, ``cell_key``,
    ``input_id``, ``persona_id``, ``iteration``, ``seed``, ``status``, ``input``,
    ``outcome`` (name or ``None``), ``outcome_description``, ``ending`` (``reason``,
    ``detail``, ``message_count``, or ``None``), ``error`` (``source``, ``side``,
    ``type``, ``message``, ``transient``, or ``None``), ``attempts``, ``started_at``
    (ISO 8601), ``duration_seconds``, ``conversation_seconds`` (the result's own
    duration), ``token_usage`` (``customer``, ``agent``, ``judge``, ``total``; ``None``
    if nothing ran), ``models`` (token usage per model spec) and ``transcript``: a
    list of ``{role, content, timestamp}``.

    :func:`record_from_trace` turns the line back into a record.

    Example:
        >>> from clientsim.models import GridCell, RunStatus
        >>> cell = GridCell(input_id="0", persona_id="p", iteration=0)
        >>> record = ConversationRecord(run_id="r", cell=cell, seed=1,
        ...                             status=RunStatus.DONE)
        >>> trace_line(record)["trace_id"]
        'r/0/p/0'
    """
    result = record.result
    outcome = result.outcome if result is not None else None
    ending = result.ending if result is not None else None
    return {
        "trace_id": record.simulation_id,
        "run_id": record.run_id,
        "cell_key": record.key,
        "input_id": record.cell.input_id,
        "persona_id": record.cell.persona_id,
        "iteration": record.cell.iteration,
        "seed": record.seed,
        "status": record.status.value,
        "input": record.input,
        "outcome": outcome.name if outcome is not None else None,
        "outcome_description": outcome.description if outcome is not None else None,
        "ending": None
        if ending is None
        else {
            "reason": ending.reason,
            "detail": ending.detail,
            "message_count": ending.message_count,
        },
        "error": _error_dict(_error_of(record)),
        "attempts": record.attempts,
        "started_at": _iso(record.started_at),
        "duration_seconds": record.duration_seconds,
        "conversation_seconds": result.duration_seconds if result is not None else None,
        "token_usage": None
        if result is None
        else {
            "customer": _usage_dict(result.token_usage.customer),
            "agent": _usage_dict(result.token_usage.agent),
            "judge": _usage_dict(result.token_usage.judge),
            "total": _usage_dict(result.token_usage.total),
        },
        "models": {
            spec: _usage_dict(record.models[spec]) for spec in sorted(record.models)
        },
        "transcript": []
        if result is None
        else [
            {
                "role": message.sender.value,
                "content": message.content,
                "timestamp": message.timestamp.isoformat(),
            }
            for message in result.conversation.messages
        ],
    }


def observation_lines(record: ConversationRecord) -> Iterator[dict[str, Any]]:
    """The lines ``artifacts/observations.jsonl`` holds for one conversation.

    One observation per message (``type`` ``"message"``: ``role``, ``content``,
    ``timestamp``), then one for the ending (``"ending"``: ``reason``, ``detail``,
    ``message_count``, ``outcome``) if there is one, then one for the error
    (``"error"``: ``source``, ``side``, ``error_type``, ``message``, ``transient``) if
    there is one. Every observation carries ``trace_id`` (matching
    :func:`trace_line`) and ``index``, its position in the conversation's stream.

    Example:
        >>> from clientsim.models import GridCell, RunStatus
        >>> cell = GridCell(input_id="0", persona_id="p", iteration=0)
        >>> record = ConversationRecord(run_id="r", cell=cell, seed=1,
        ...                             status=RunStatus.DONE)
        >>> list(observation_lines(record))
        []
    """
    trace_id = record.simulation_id
    index = 0
    result = record.result
    if result is not None:
        for message in result.conversation.messages:
            yield {
                "trace_id": trace_id,
                "index": index,
                "type": "message",
                "role": message.sender.value,
                "content": message.content,
                "timestamp": message.timestamp.isoformat(),
            }
            index += 1
        if result.ending is not None:
            yield {
                "trace_id": trace_id,
                "index": index,
                "type": "ending",
                "reason": result.ending.reason,
                "detail": result.ending.detail,
                "message_count": result.ending.message_count,
                "outcome": _outcome_of(record),
            }
            index += 1
    error = _error_of(record)
    if error is not None:
        yield {
            "trace_id": trace_id,
            "index": index,
            "type": "error",
            "source": error.source,
            "side": error.side,
            "error_type": error.type,
            "message": error.message,
            "transient": error.transient,
        }


def _field(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in data:
        raise ConfigError(f"trace line has no {key!r} key")
    value = data[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise ConfigError(f"trace line key {key!r} has the wrong type: {value!r}")
    return value


def _usage(data: object, where: str) -> TokenUsage:
    if not isinstance(data, Mapping):
        raise ConfigError(f"trace line {where} must be an object; got {data!r}")
    try:
        return TokenUsage(
            input_tokens=data.get("input_tokens", 0),
            output_tokens=data.get("output_tokens", 0),
            total_tokens=data.get("total_tokens", 0),
            calls=data.get("calls", 0),
        )
    except ConfigError as exc:
        raise ConfigError(f"trace line {where}: {exc}") from exc


def _result_from_trace(data: Mapping[str, Any]) -> ConversationResult | None:
    usage = data.get("token_usage")
    if usage is None:
        return None
    if not isinstance(usage, Mapping):
        raise ConfigError(f"trace line 'token_usage' must be an object; got {usage!r}")
    messages = []
    for item in _field(data, "transcript", list):
        if not isinstance(item, Mapping):
            raise ConfigError(f"transcript entries must be objects; got {item!r}")
        try:
            messages.append(
                Message(
                    content=item["content"],
                    timestamp=datetime.fromisoformat(item["timestamp"]),
                    sender=ParticipantRole(item["role"]),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(
                "transcript entries need 'role' ('customer' or 'agent'), 'content' "
                f"and an ISO 8601 'timestamp'; got {dict(item)!r}"
            ) from exc
    name = data.get("outcome")
    outcome = (
        None if name is None else Outcome(name, data.get("outcome_description") or "")
    )
    ending_data = data.get("ending")
    ending = None
    if isinstance(ending_data, Mapping):
        ending = Ending(
            reason=ending_data.get("reason", ""),
            detail=ending_data.get("detail", ""),
            message_count=ending_data.get("message_count", 0),
        )
    return ConversationResult(
        Conversation(messages, outcome),
        float(data.get("conversation_seconds") or 0.0),
        ending=ending,
        token_usage=TokenUsageReport(
            customer=_usage(usage.get("customer", {}), "token_usage.customer"),
            agent=_usage(usage.get("agent", {}), "token_usage.agent"),
            judge=_usage(usage.get("judge", {}), "token_usage.judge"),
        ),
    )


def record_from_trace(data: Mapping[str, Any]) -> ConversationRecord:
    """Rebuild a :class:`ConversationRecord` from a :func:`trace_line` dict.

    Used to recompute a summary or a report from ``traces.jsonl`` alone. The error
    is restored on the record (not on its result).

    Raises:
        ConfigError: the line lacks a key or holds a value of the wrong kind; the
            message names the key.

    Example:
        >>> from clientsim.models import GridCell, RunStatus
        >>> cell = GridCell(input_id="0", persona_id="p", iteration=0)
        >>> record = ConversationRecord(run_id="r", cell=cell, seed=1,
        ...                             status=RunStatus.DONE)
        >>> record_from_trace(trace_line(record)) == record
        True
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"a trace line must be a JSON object; got {data!r}")
    status_value = _field(data, "status", str)
    try:
        status = RunStatus(status_value)
    except ValueError:
        allowed = ", ".join(repr(status.value) for status in RunStatus)
        raise ConfigError(
            f"trace line 'status' is {status_value!r}; allowed: {allowed}"
        ) from None
    error_data = data.get("error")
    error = None
    if error_data is not None:
        if not isinstance(error_data, Mapping):
            raise ConfigError(
                f"trace line 'error' must be an object; got {error_data!r}"
            )
        error = ErrorRecord(
            source=error_data.get("source", ""),
            type=error_data.get("type", ""),
            message=error_data.get("message", ""),
            transient=bool(error_data.get("transient", False)),
        )
    started = data.get("started_at")
    models = data.get("models") or {}
    if not isinstance(models, Mapping):
        raise ConfigError(f"trace line 'models' must be an object; got {models!r}")
    try:
        return ConversationRecord(
            run_id=_field(data, "run_id", str),
            cell=GridCell(
                input_id=_field(data, "input_id", str),
                persona_id=_field(data, "persona_id", str),
                iteration=_field(data, "iteration", int),
            ),
            seed=_field(data, "seed", int),
            status=status,
            input=data.get("input", ""),
            result=_result_from_trace(data),
            error=error,
            attempts=data.get("attempts", 1),
            started_at=None if started is None else datetime.fromisoformat(started),
            duration_seconds=data.get("duration_seconds", 0.0),
            models={
                spec: _usage(usage, f"models[{spec!r}]")
                for spec, usage in models.items()
            },
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"trace line has a malformed value: {exc}") from exc


# -- writing -----------------------------------------------------------------------


def _json_default(value: object) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if attrs.has(type(value)):
        return to_dict(value)
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(
        f"cannot write a {type(value).__name__} as JSON; use dicts, lists, strings, "
        "numbers, booleans, None, datetimes, paths or attrs values"
    )


def _dumps(value: object, *, indent: int | None = None) -> str:
    try:
        return json.dumps(
            value, ensure_ascii=False, indent=indent, default=_json_default
        )
    except TypeError as exc:
        raise ConfigError(str(exc)) from exc


def _atomic_write(path: Path, chunks: Iterable[str]) -> None:
    """Write ``chunks`` to a temporary file beside ``path``, then swap it in."""
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        # A lone surrogate (from a misbehaving agent) cannot be encoded: write it as
        # the JSON escape it stands for instead of losing the whole file.
        with os.fdopen(
            descriptor, "w", encoding="utf-8", errors="backslashreplace", newline="\n"
        ) as file:
            for chunk in chunks:
                file.write(chunk)
            file.flush()
            os.fsync(file.fileno())
        Path(temporary).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        raise


@attrs.define
class ExperimentWriter:
    """Writes an experiment folder's files, honouring seed 003's two switches.

    ``summary.json`` and ``metadata.json`` are written only with
    ``save_aggregated_metrics``; ``artifacts/traces.jsonl`` and
    ``artifacts/observations.jsonl`` only with ``save_traces``. Every file is
    replaced atomically (written beside its target, then renamed), so a reader or a
    crash never sees half a file. Files are UTF-8 with non-ASCII text kept as is.
    Creating the writer makes the folder, ``artifacts/`` and ``logs/`` if missing.

    The methods do blocking file I/O: from async code call them through
    ``anyio.to_thread.run_sync``.

    Args:
        directory: the experiment folder (see :func:`new_experiment_dir`).
        save_traces: write the traces and observations.
        save_aggregated_metrics: write the summary and metadata.

    Example:
        >>> import tempfile
        >>> folder = new_experiment_dir(Path(tempfile.mkdtemp()))
        >>> writer = ExperimentWriter(folder, save_traces=False,
        ...                           save_aggregated_metrics=True)
        >>> writer.write_summary(summarize([])).name
        'summary.json'
        >>> writer.write_records([]) is None
        True
    """

    directory: Path = attrs.field(converter=Path)
    save_traces: bool = attrs.field(kw_only=True)
    save_aggregated_metrics: bool = attrs.field(kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.directory.exists() and not self.directory.is_dir():
            raise ConfigError(
                f"experiment directory {str(self.directory)!r} is a file; expected a "
                "directory"
            )
        (self.directory / ARTIFACTS_DIR).mkdir(parents=True, exist_ok=True)
        (self.directory / LOGS_DIR).mkdir(parents=True, exist_ok=True)

    def write_metadata(self, data: Mapping[str, Any]) -> Path | None:
        """Write ``metadata.json`` (indented), replacing any earlier version.

        Call it when the run starts and again when it ends (with its finish time and
        status). The report reads ``name``, ``description``, ``run_id``, ``status``,
        ``started_at``, ``finished_at`` and ``pass_outcomes`` if present.

        Returns:
            The file written, or ``None`` without ``save_aggregated_metrics``.

        Raises:
            ConfigError: ``data`` is not a mapping or holds a value that cannot be
                written as JSON.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"write_metadata takes a mapping; got {type(data).__name__}"
            )
        if not self.save_aggregated_metrics:
            return None
        return self._write_json(METADATA_FILE, dict(data))

    def write_summary(self, summary: Mapping[str, Any]) -> Path | None:
        """Write ``summary.json`` (indented), replacing any earlier version.

        Returns:
            The file written, or ``None`` without ``save_aggregated_metrics``.

        Raises:
            ConfigError: ``summary`` is not a mapping or is not JSON-able.
        """
        if not isinstance(summary, Mapping):
            raise ConfigError(
                f"write_summary takes a mapping; got {type(summary).__name__}"
            )
        if not self.save_aggregated_metrics:
            return None
        return self._write_json(SUMMARY_FILE, dict(summary))

    def write_records(self, records: Iterable[ConversationRecord]) -> Path | None:
        """Rewrite ``traces.jsonl`` and ``observations.jsonl`` from ``records``.

        Both files are replaced completely (and atomically) by the given records, one
        JSON object a line; pass every record of the run each time.

        Returns:
            The traces file, or ``None`` without ``save_traces``.

        Raises:
            ConfigError: ``records`` holds something other than
                ``ConversationRecord`` objects.
        """
        records = list(records)
        for record in records:
            if not isinstance(record, ConversationRecord):
                raise ConfigError(
                    "write_records takes ConversationRecord objects; "
                    f"got {type(record).__name__}"
                )
        if not self.save_traces:
            return None
        traces = self.directory / TRACES_FILE
        _atomic_write(traces, (_dumps(trace_line(record)) + "\n" for record in records))
        _atomic_write(
            self.directory / OBSERVATIONS_FILE,
            (
                _dumps(line) + "\n"
                for record in records
                for line in observation_lines(record)
            ),
        )
        return traces

    def _write_json(self, name: str, data: dict[str, Any]) -> Path:
        text = _dumps(data, indent=2) + "\n"
        path = self.directory / name
        _atomic_write(path, (text,))
        return path


# -- reading -----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class LoadedExperiment:
    """An experiment folder as read back from disk.

    Attributes:
        directory: the folder.
        summary: ``summary.json``, or ``None`` if it was not written.
        metadata: ``metadata.json``, or ``None`` if it was not written.
        traces: the lines of ``artifacts/traces.jsonl`` (empty if not written).
        has_traces: whether ``traces.jsonl`` exists (it may exist and be empty).
    """

    directory: Path
    summary: dict[str, Any] | None
    metadata: dict[str, Any] | None
    traces: list[dict[str, Any]]
    has_traces: bool = False


def _read_object(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{str(path)!r} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(
            f"{str(path)!r} must hold a JSON object; got {type(data).__name__}"
        )
    return data


def _read_lines(path: Path) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as file:
        for number, text in enumerate(file, start=1):
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ConfigError(
                    f"{str(path)!r} line {number} is not valid JSON: {exc}"
                ) from exc
            if not isinstance(data, dict):
                raise ConfigError(
                    f"{str(path)!r} line {number} must be a JSON object; "
                    f"got {type(data).__name__}"
                )
            lines.append(data)
    return lines


def load_experiment(directory: Path) -> LoadedExperiment:
    """Read an experiment folder written by :class:`ExperimentWriter`.

    Args:
        directory: the ``exp_...`` folder.

    Returns:
        Its summary, metadata and traces; the files that were not written are
        ``None`` (or no traces).

    Raises:
        ConfigError: the folder does not exist, holds none of ``summary.json``,
            ``metadata.json`` and ``artifacts/traces.jsonl`` (the message lists the
            ``exp_*`` folders inside, if it is an output directory), or a file is not
            valid JSON.

    Example:
        >>> import tempfile
        >>> folder = new_experiment_dir(Path(tempfile.mkdtemp()))
        >>> ExperimentWriter(folder, save_traces=True, save_aggregated_metrics=True
        ...                  ).write_records([]) is not None
        True
        >>> load_experiment(folder).traces
        []
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(
            f"experiment folder {str(directory)!r} does not exist or is not a "
            "directory; expected a folder such as experiments/exp_20250117_143022"
        )
    traces_path = directory / TRACES_FILE
    has_traces = traces_path.is_file()
    summary = _read_object(directory / SUMMARY_FILE)
    metadata = _read_object(directory / METADATA_FILE)
    if summary is None and metadata is None and not has_traces:
        runs = sorted(path.name for path in directory.glob("exp_*") if path.is_dir())
        hint = (
            f"; it holds the experiment folders {', '.join(runs)} - pass one of them"
            if runs
            else ""
        )
        raise ConfigError(
            f"{str(directory)!r} is not an experiment folder: expected {SUMMARY_FILE}, "
            f"{METADATA_FILE} or {TRACES_FILE} inside{hint}"
        )
    return LoadedExperiment(
        directory=directory,
        summary=summary,
        metadata=metadata,
        traces=_read_lines(traces_path) if has_traces else [],
        has_traces=has_traces,
    )
