"""A plain-text report of an experiment folder, for ``clientsim report DIR``.

The report needs no terminal library: it is text that a CLI may print as is or through
rich. It reads whatever the run saved: with ``summary.json`` the figures come from it;
with only ``artifacts/traces.jsonl`` they are recomputed from the traces; failing
transcripts need the traces.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from clientsim.errors import ConfigError
from clientsim.experiments.output import (
    LoadedExperiment,
    is_passed,
    load_experiment,
    record_from_trace,
    summarize,
    trace_line,
)
from clientsim.models.records import ConversationRecord, RunStatus
from clientsim.render._format import (
    RUN_FACTS,
    as_count,
    as_mapping,
    fmt_cost,
    fmt_number,
    fmt_percent,
    pass_outcomes_of,
    unfinished_note,
)


__all__ = ["render_text_report"]

_MIN_WIDTH: Final = 40
_BAR_WIDTH: Final = 30
_LABEL_WIDTH: Final = 28
_HEAD_MESSAGES: Final = 3
_TAIL_MESSAGES: Final = 6


def render_text_report(directory: Path, *, failures: int = 5, width: int = 100) -> str:
    """Render an experiment folder as a plain-text report.

    Sections: the experiment's name, description and run id (from ``metadata.json``);
    counts by status; the outcome distribution as a text bar chart; the pass rate
    with its 95% Wilson interval; turns and latency percentiles; tokens and estimated
    cost per model; a per-persona table; errors; and the first ``failures`` failing
    conversations (failed and timed-out ones first, then finished ones that did not
    pass) with their ending, seed and a trimmed transcript.

    Args:
        directory: an ``exp_...`` folder.
        failures: how many failing conversations to show, ``>= 0``.
        width: the longest line, ``>= 40``; transcript lines are cut to fit.

    Returns:
        The report, lines joined with ``"\\n"``, ending with a newline.

    Raises:
        ConfigError: the folder is not an experiment folder, a file in it is
            malformed, or ``failures``/``width`` is out of range.

    Example:
        >>> import tempfile
        >>> from clientsim.experiments.output import ExperimentWriter, new_experiment_dir
        >>> folder = new_experiment_dir(Path(tempfile.mkdtemp()))
        >>> writer = ExperimentWriter(folder, save_traces=True,
        ...                           save_aggregated_metrics=True)
        >>> _ = writer.write_metadata({"name": "smoke"})
        >>> "Experiment: smoke" in render_text_report(folder)
        True
    """
    if isinstance(failures, bool) or not isinstance(failures, int) or failures < 0:
        raise ConfigError(f"failures must be an int >= 0; got {failures!r}")
    if isinstance(width, bool) or not isinstance(width, int) or width < _MIN_WIDTH:
        raise ConfigError(f"width must be an int >= {_MIN_WIDTH}; got {width!r}")
    loaded = load_experiment(directory)
    records = [record_from_trace(line) for line in loaded.traces]
    pass_outcomes = pass_outcomes_of(loaded)
    summary = loaded.summary
    if summary is None:
        summary = summarize(records, pass_outcomes=pass_outcomes)
    lines: list[str] = []
    _header(lines, loaded, width)
    _counts(lines, summary)
    _outcomes(lines, summary, width)
    _quality(lines, summary)
    _models(lines, summary)
    _personas(lines, summary)
    _errors(lines, summary)
    _failures(lines, loaded, records, pass_outcomes, limit=failures, width=width)
    return (
        "\n".join(line[:width] if len(line) > width else line for line in lines) + "\n"
    )


# -- sections ------------------------------------------------------------------------


def _title(lines: list[str], text: str) -> None:
    lines.extend(("", text, "-" * len(text)))


def _table(
    lines: list[str], headers: Sequence[str], rows: Sequence[Sequence[str]]
) -> None:
    widths = [
        max(len(headers[column]), *(len(row[column]) for row in rows))
        for column in range(len(headers))
    ]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (
            cell.rjust(size) for cell, size in zip(cells[1:], widths[1:], strict=True)
        )
        return "  " + "  ".join((first, *rest)).rstrip()

    lines.append(line(headers))
    lines.append("  " + "  ".join("-" * size for size in widths))
    lines.extend(line(row) for row in rows)


def _header(lines: list[str], loaded: LoadedExperiment, width: int) -> None:
    metadata = as_mapping(loaded.metadata)
    name = metadata.get("name")
    title = f"Experiment: {name if isinstance(name, str) and name else '(unnamed)'}"
    lines.extend((title, "=" * min(len(title), width)))
    for key, label in RUN_FACTS:
        value = metadata.get(key)
        if value not in (None, ""):
            lines.append(f"{label + ':':<13}{value}")
    lines.append(f"{'Folder:':<13}{loaded.directory}")
    unfinished = unfinished_note(metadata)
    if unfinished is not None:
        sentence, command = unfinished
        lines.append("")
        lines.extend(textwrap.wrap(sentence, width))
        if command is not None:
            lines.append(f"Finish it with: {command}")
    if loaded.metadata is None:
        lines.append("(no metadata.json: save_aggregated_metrics was off)")


def _counts(lines: list[str], summary: Mapping[str, Any]) -> None:
    by_status = as_mapping(summary.get("by_status"))
    parts = ", ".join(
        f"{status.value} {as_count(by_status.get(status.value))}"
        for status in RunStatus
    )
    attempts = as_count(summary.get("attempts"))
    retries = as_count(summary.get("retries"))
    _title(lines, "Conversations")
    lines.append(f"  total {as_count(summary.get('total'))}: {parts}")
    lines.append(f"  attempts {attempts} (retries {retries})")


def _outcomes(lines: list[str], summary: Mapping[str, Any], width: int) -> None:
    by_outcome = {
        str(name): as_count(count)
        for name, count in as_mapping(summary.get("by_outcome")).items()
    }
    _title(lines, "Outcomes")
    if not by_outcome:
        lines.append("  (no conversations)")
        return
    total = sum(by_outcome.values()) or 1
    most = max(by_outcome.values()) or 1
    label_width = min(max(len(name) for name in by_outcome), _LABEL_WIDTH)
    bar_width = max(5, min(_BAR_WIDTH, width - label_width - 24))
    ordered = sorted(by_outcome.items(), key=lambda item: (-item[1], item[0]))
    for name, count in ordered:
        label = name if len(name) <= label_width else name[: label_width - 1] + "~"
        bar = "#" * round(count / most * bar_width)
        lines.append(
            f"  {label:<{label_width}}  {bar:<{bar_width}}  {count:>5}"
            f"  {count / total * 100:5.1f}%"
        )
    reasons = as_mapping(summary.get("ending_reasons"))
    if reasons:
        lines.append(
            "  ending reasons: "
            + ", ".join(f"{name} {as_count(count)}" for name, count in reasons.items())
        )


def _quality(lines: list[str], summary: Mapping[str, Any]) -> None:
    rate = as_mapping(summary.get("pass_rate"))
    _title(lines, "Pass rate")
    lines.append(
        f"  {fmt_percent(rate.get('value'))} ({as_count(rate.get('passed'))}/"
        f"{as_count(rate.get('total'))}), 95% CI {fmt_percent(rate.get('ci95_low'))}"
        f" - {fmt_percent(rate.get('ci95_high'))}"
    )
    definition = rate.get("definition")
    if isinstance(definition, str):
        lines.append(f"  pass = {definition}")
    _title(lines, "Turns and latency")
    for key, label in (("turns", "turns"), ("latency_seconds", "latency (s)")):
        figures = as_mapping(summary.get(key))
        lines.append(
            f"  {label:<12} "
            + "  ".join(
                f"{name} {fmt_number(figures.get(name))}"
                for name in ("p50", "p95", "mean", "max")
            )
        )


def _models(lines: list[str], summary: Mapping[str, Any]) -> None:
    tokens = as_mapping(summary.get("tokens"))
    _title(lines, "Tokens and estimated cost")
    lines.append(
        f"  input {fmt_number(tokens.get('input'))}  output {fmt_number(tokens.get('output'))}"
        f"  total {fmt_number(tokens.get('total'))}  calls {fmt_number(tokens.get('calls'))}"
    )
    by_model = as_mapping(summary.get("by_model"))
    if by_model:
        rows = []
        for spec, usage in by_model.items():
            figures = as_mapping(usage)
            rows.append(
                [
                    str(spec),
                    fmt_number(figures.get("input_tokens")),
                    fmt_number(figures.get("output_tokens")),
                    fmt_number(figures.get("total_tokens")),
                    fmt_number(figures.get("calls")),
                    fmt_cost(figures.get("estimated_cost_usd")),
                ]
            )
        _table(lines, ("model", "input", "output", "total", "calls", "cost"), rows)
    unpriced = summary.get("unpriced_models")
    note = "estimate from list prices"
    if isinstance(unpriced, list) and unpriced:
        note += "; no price for " + ", ".join(str(name) for name in unpriced)
    lines.append(
        f"  estimated cost {fmt_cost(summary.get('estimated_cost_usd'))} ({note})"
    )


def _personas(lines: list[str], summary: Mapping[str, Any]) -> None:
    by_persona = as_mapping(summary.get("by_persona"))
    _title(lines, "By persona")
    if not by_persona:
        lines.append("  (no conversations)")
        return
    rows = []
    for persona, figures in by_persona.items():
        data = as_mapping(figures)
        rows.append(
            [
                str(persona),
                fmt_number(data.get("count")),
                fmt_number(data.get("passed")),
                fmt_percent(data.get("pass_rate")),
            ]
        )
    _table(lines, ("persona", "count", "passed", "pass rate"), rows)


def _errors(lines: list[str], summary: Mapping[str, Any]) -> None:
    errors = as_mapping(summary.get("errors"))
    sides = as_mapping(errors.get("by_side"))
    by_type = as_mapping(errors.get("by_type"))
    total = sum(as_count(count) for count in by_type.values())
    _title(lines, "Errors")
    lines.append(
        f"  {total} (agent side {as_count(sides.get('agent'))}, simulator side "
        f"{as_count(sides.get('simulator'))}; transient {as_count(errors.get('transient'))})"
    )
    lines.extend(
        f"  {as_count(count):>5}  {name}"
        for name, count in sorted(by_type.items(), key=lambda item: -as_count(item[1]))
    )


def _failing(
    records: Sequence[ConversationRecord], pass_outcomes: Sequence[str]
) -> list[ConversationRecord]:
    broken = [record for record in records if record.status is not RunStatus.DONE]
    missed = [
        record
        for record in records
        if record.status is RunStatus.DONE and not is_passed(record, pass_outcomes)
    ]
    return broken + missed


def _cut(prefix: str, text: str, width: int) -> str:
    """``prefix + text`` on one line of at most ``width`` characters."""
    line = prefix + " ".join(text.split())
    return line if len(line) <= width else line[: max(width - 3, 0)] + "..."


def _failures(
    lines: list[str],
    loaded: LoadedExperiment,
    records: Sequence[ConversationRecord],
    pass_outcomes: Sequence[str],
    *,
    limit: int,
    width: int,
) -> None:
    _title(lines, "Failing conversations")
    if not loaded.has_traces:
        lines.append("  (no traces.jsonl: save_traces was off, no transcripts to show)")
        return
    failing = _failing(records, pass_outcomes)
    if not failing:
        lines.append("  none: every conversation passed")
        return
    lines.append(f"  showing {min(limit, len(failing))} of {len(failing)}")
    for number, record in enumerate(failing[:limit], start=1):
        _failure(lines, number, trace_line(record), width)


def _failure(
    lines: list[str], number: int, trace: Mapping[str, Any], width: int
) -> None:
    ending = as_mapping(trace.get("ending"))
    reason = ending.get("reason") or "none"
    detail = ending.get("detail")
    lines.append("")
    lines.append(
        f"  {number}. {trace['trace_id']} [{trace['status']}] seed {trace['seed']}"
        f"  persona {trace['persona_id']}  input {trace['input_id']}"
    )
    lines.append(
        f"     outcome {trace.get('outcome') or 'none'}; ending {reason}"
        + (f" ({detail})" if detail else "")
        + f"; attempts {trace.get('attempts')}"
    )
    error = as_mapping(trace.get("error"))
    if error:
        transient = ", transient" if error.get("transient") else ""
        lines.append(
            _cut(
                f"     error ({error.get('side')} side{transient}): ",
                f"{error.get('type')}: {error.get('message')}",
                width,
            )
        )
    if trace.get("input"):
        lines.append(_cut("     input: ", str(trace["input"]), width))
    transcript = trace.get("transcript") or []
    if not transcript:
        lines.append("     (no messages)")
        return
    shown = list(enumerate(transcript))
    if len(shown) > _HEAD_MESSAGES + _TAIL_MESSAGES + 1:
        hidden = len(shown) - _HEAD_MESSAGES - _TAIL_MESSAGES
        head, tail = shown[:_HEAD_MESSAGES], shown[-_TAIL_MESSAGES:]
        shown = [*head, (-hidden, None), *tail]
    for index, message in shown:
        if message is None:
            lines.append(f"     ... {-index} messages not shown ...")
            continue
        entry = as_mapping(message)
        role = entry.get("label") or entry.get("role", "?")  # a group's: its label
        content = str(entry.get("content", ""))
        lines.append(_cut(f"     {role:>8}: ", content, width))
