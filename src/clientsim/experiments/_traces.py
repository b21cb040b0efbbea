"""The lines of ``artifacts/traces.jsonl`` and ``artifacts/observations.jsonl``.

Private: :func:`trace_line`, :func:`observation_lines` and :func:`record_from_trace`
are documented and imported from :mod:`clientsim.experiments.output`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from clientsim.analysis.summary import error_of, outcome_of
from clientsim.config import from_dict, to_dict
from clientsim.errors import ConfigError
from clientsim.models.conversation import (
    Conversation,
    ConversationResult,
    Ending,
    ErrorRecord,
    Message,
    TokenUsage,
    TokenUsageReport,
)
from clientsim.models.criteria import CriteriaVerdict
from clientsim.models.intent import Outcome
from clientsim.models.records import ConversationRecord, GridCell, RunStatus
from clientsim.models.roles import ParticipantRole
from clientsim.models.tool_calls import tool_call_from_json, tool_call_json


__all__ = ["observation_lines", "record_from_trace", "trace_line"]


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
    list of ``{role, content, timestamp}``, with ``tool_calls`` (a list of ``{name,
    arguments, id, result}``) on an agent message that made any; ``criteria`` (a
    criteria judge's verdicts, each ``{criterion, passed, reason, messages}``, or
    ``None`` if none was asked for).

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
        "error": _error_dict(error_of(record)),
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
        else [_message_dict(message) for message in result.conversation.messages],
        "criteria": None
        if result is None or result.criteria is None
        else to_dict(result.criteria)["verdicts"],
    }


def _message_dict(message: Message) -> dict[str, Any]:
    """A transcript entry: ``role``, ``content``, ``timestamp``, for an agent
    message that carries any, ``tool_calls`` (``name``, ``arguments``, ``id``,
    ``result`` each), and for a group's message its ``label`` (``Message.label``)."""
    entry: dict[str, Any] = {
        "role": message.sender.value,
        "content": message.content,
        "timestamp": message.timestamp.isoformat(),
    }
    if message.tool_calls:
        entry["tool_calls"] = [tool_call_json(call) for call in message.tool_calls]
    if message.speaker is not None:  # a group's: who, and to whom if private
        entry["label"] = message.label
    return entry


def observation_lines(record: ConversationRecord) -> Iterator[dict[str, Any]]:
    """The lines ``artifacts/observations.jsonl`` holds for one conversation.

    One observation per message (``type`` ``"message"``: ``role``, ``content``,
    ``timestamp``, and ``tool_calls`` when it carries any), then one for the ending
    (``"ending"``: ``reason``, ``detail``, ``message_count``, ``outcome``) if there is
    one, then one for the error
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
                **_message_dict(message),
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
                "outcome": outcome_of(record),
            }
            index += 1
    error = error_of(record)
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
                    tool_calls=[
                        tool_call_from_json(call) for call in item.get("tool_calls", [])
                    ],
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
    criteria = data.get("criteria")
    verdict = None
    if criteria is not None:
        try:
            verdict = from_dict({"verdicts": criteria}, CriteriaVerdict)
        except ConfigError as exc:
            raise ConfigError(f"trace line 'criteria': {exc}") from exc
    return ConversationResult(
        Conversation(messages, outcome),
        float(data.get("conversation_seconds") or 0.0),
        ending=ending,
        token_usage=TokenUsageReport(
            customer=_usage(usage.get("customer", {}), "token_usage.customer"),
            agent=_usage(usage.get("agent", {}), "token_usage.agent"),
            judge=_usage(usage.get("judge", {}), "token_usage.judge"),
        ),
        criteria=verdict,
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
