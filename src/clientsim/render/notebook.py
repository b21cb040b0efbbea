"""HTML for notebooks: what ``_repr_html_`` shows for conversations, results and batches.

Private: Jupyter calls the ``_repr_html_`` methods of
:class:`~clientsim.models.Conversation`, :class:`~clientsim.models.ConversationResult`,
:class:`~clientsim.experiments.ExperimentResult` and
:class:`~clientsim.runners.batch.BatchResult`, which import this module on first use.

The output is plain HTML with inline ``style`` attributes (renderers that drop
``<style>`` blocks keep them) and an inline SVG chart: no JavaScript, no external
resources. Text inherits the notebook's colour, so it reads in light and dark themes.
Every piece of text that comes from a conversation, a configuration or an error goes
through :func:`html.escape`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from clientsim.analysis.summary import error_of, tokens_spent
from clientsim.models.conversation import (
    Conversation,
    ConversationResult,
    Message,
    TokenUsage,
)
from clientsim.models.records import ConversationRecord, RunStatus
from clientsim.models.roles import ParticipantRole
from clientsim.notebook import ordered
from clientsim.render._format import cut, escape, fmt_percent, shown_calls
from clientsim.render.chart import outcome_chart


if TYPE_CHECKING:
    from clientsim.experiments.run import ExperimentResult
    from clientsim.runners.batch import BatchResult

__all__ = [
    "MAX_ROWS",
    "batch_result_html",
    "conversation_html",
    "experiment_result_html",
    "facts_table",
    "records_html",
    "result_html",
]

#: Rows a batch table shows; the rest are counted, not shown.
MAX_ROWS: Final = 50

_FONT: Final = (
    "font-family: -apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, "
    "sans-serif; font-size: 13px; line-height: 1.4"
)
_BOX: Final = f"{_FONT}; max-width: 820px; margin: 4px 0"
_MUTED: Final = "opacity: 0.7; font-size: 11px"
_HEADING: Final = "font-weight: 600; font-size: 14px; margin-bottom: 6px"
_BUBBLE: Final = (
    "max-width: 75%; padding: 6px 10px; border-radius: 12px; "
    "white-space: pre-wrap; overflow-wrap: anywhere; text-align: left"
)
_CUSTOMER_BG: Final = "background: rgba(127, 127, 127, 0.16)"
_AGENT_BG: Final = "background: rgba(33, 118, 230, 0.18)"
_CELL: Final = (
    "padding: 3px 8px; border-bottom: 1px solid rgba(127, 127, 127, 0.25); "
    "text-align: left; vertical-align: top"
)
_STATUS_COLOURS: Final = {
    RunStatus.DONE: "#2e8b57",
    RunStatus.FAILED: "#c0392b",
    RunStatus.TIMEOUT: "#d68910",
}
_GREEN: Final = "#2e8b57"


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def _badge(text: str, colour: str) -> str:
    return (
        f'<span style="display: inline-block; padding: 0 6px; border-radius: 8px; '
        f'color: #ffffff; background: {colour}; font-size: 11px">{escape(text)}</span>'
    )


def facts_table(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table; the values are HTML (escape them first)."""
    body = "".join(
        f'<tr><th style="{_CELL}; font-weight: 600; white-space: nowrap">{escape(name)}'
        f'</th><td style="{_CELL}">{value}</td></tr>'
        for name, value in rows
    )
    return f'<table style="border-collapse: collapse; margin: 4px 0">{body}</table>'


# -- one conversation ----------------------------------------------------------------


def _clock(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S")


def _message(message: Message, start: datetime) -> str:
    customer = message.sender is ParticipantRole.CUSTOMER
    offset = (message.timestamp - start).total_seconds()
    # A group transcript (messages with speakers) reads top to bottom on one side.
    side = "flex-start" if customer or message.speaker else "flex-end"
    who = message.label
    background = _CUSTOMER_BG if customer else _AGENT_BG
    if message.audience is not None:  # a thought or a direct message: set apart
        background += "; border: 1px dashed rgba(127, 127, 127, 0.6)"
        background += "; font-style: italic" if message.is_thought else ""
    stamp = (
        f'<span title="{escape(message.timestamp.isoformat())}">'
        f"{escape(_clock(message.timestamp))} (+{offset:.1f} s)</span>"
    )
    return (
        f'<div class="clientsim-message clientsim-{escape(message.sender.value)}'
        f'{_private_class(message)}" '
        f'style="display: flex; justify-content: {side}; margin: 4px 0">'
        f'<div style="{_BUBBLE}; {background}">'
        f'<div style="{_MUTED}">{escape(who)} \u00b7 {stamp}</div>'
        f"{_tool_lines(message)}<div>{escape(message.content)}</div></div></div>"
    )


def _private_class(message: Message) -> str:
    if message.audience is None:
        return ""
    return " clientsim-thought" if message.is_thought else " clientsim-private"


def _tool_lines(message: Message) -> str:
    """The message's tool calls, one compact line each (escaped)."""
    return "".join(
        f'<div class="clientsim-tool" style="{_MUTED}; font-family: monospace">'
        f"tool: {escape(line)}</div>"
        for line in shown_calls(message)
    )


def _outcome_line(conversation: Conversation) -> str:
    outcome = conversation.outcome
    if outcome is None:
        return f'<div style="margin-top: 6px; {_MUTED}">No outcome reached.</div>'
    description = (
        f" \u2014 {escape(outcome.description)}" if outcome.description else ""
    )
    return (
        '<div style="margin-top: 6px">Outcome: '
        f"{_badge(outcome.name, _GREEN)}{description}</div>"
    )


def _transcript(conversation: Conversation) -> str:
    messages = conversation.messages
    if not messages:
        return f'<div style="{_MUTED}">No messages.</div>'
    start = messages[0].timestamp
    return "".join(_message(message, start) for message in messages)


def conversation_html(conversation: Conversation, *, heading: bool = True) -> str:
    """A chat-style transcript: the customer on the left, the agent on the right,
    each message with its time (and the offset from the first), then the outcome."""
    top = ""
    if heading:
        count = len(conversation.messages)
        top = (
            f'<div style="{_HEADING}">Conversation \u00b7 {count} message'
            f"{'' if count == 1 else 's'} \u00b7 simulated "
            f"{_seconds(conversation.simulated_seconds)}</div>"
        )
    return (
        f'<div class="clientsim-conversation" style="{_BOX}">{top}'
        f"{_transcript(conversation)}{_outcome_line(conversation)}</div>"
    )


def _usage_text(usage: TokenUsage) -> str:
    return (
        f"{usage.total_tokens} ({usage.input_tokens} in, {usage.output_tokens} out, "
        f"{usage.calls} call{'' if usage.calls == 1 else 's'})"
    )


def result_html(result: ConversationResult) -> str:
    """The transcript plus how it ended: ending reason, duration, tokens, any error."""
    ending = result.ending
    usage = result.token_usage
    rows = [
        (
            "Ending",
            escape(ending.reason)
            + (f" \u2014 {escape(ending.detail)}" if ending and ending.detail else "")
            if ending is not None
            else "-",
        ),
        ("Duration", escape(_seconds(result.duration_seconds)) + " wall clock"),
        ("Simulated time", escape(_seconds(result.conversation.simulated_seconds))),
        ("Tokens", escape(_usage_text(usage.total))),
        (
            "Tokens by side",
            escape(
                f"customer {usage.customer.total_tokens}, agent "
                f"{usage.agent.total_tokens}, judge {usage.judge.total_tokens}"
            ),
        ),
    ]
    if result.criteria is not None:
        rows.append(
            (
                "Criteria",
                "<br>".join(
                    f"{'met' if verdict.passed else 'not met'}: "
                    f"{escape(verdict.criterion)} "
                    f'<span style="{_MUTED}">({escape(verdict.reason)})</span>'
                    for verdict in result.criteria.verdicts
                ),
            )
        )
    error = result.error
    if error is not None:
        transient = ", transient" if error.transient else ""
        error_html = (
            f'<span style="color: #c0392b; font-weight: 600">{escape(error.type)}</span>: '
            f'{escape(error.message)} <span style="{_MUTED}">(source {escape(error.source)}, '
            f"side {escape(error.side)}{transient})</span>"
        )
        rows.append(("Error", error_html))
    status = (
        _badge("ok", _STATUS_COLOURS[RunStatus.DONE])
        if result.ok
        else _badge("error", _STATUS_COLOURS[RunStatus.FAILED])
    )
    return (
        f'<div class="clientsim-result" style="{_BOX}">'
        f'<div style="{_HEADING}">ConversationResult {status}</div>'
        f"{facts_table(rows)}{conversation_html(result.conversation)}</div>"
    )


# -- many conversations ----------------------------------------------------------------


def _pass_line(pass_rate: Mapping[str, Any]) -> str:
    value = pass_rate.get("value")
    passed, total = pass_rate.get("passed", 0), pass_rate.get("total", 0)
    low, high = pass_rate.get("ci95_low"), pass_rate.get("ci95_high")
    interval = (
        f", 95% CI {escape(fmt_percent(low))}\u2013{escape(fmt_percent(high))}"
        if value is not None and low is not None and high is not None
        else ""
    )
    definition = pass_rate.get("definition")
    note = (
        f' <span style="{_MUTED}">(pass: {escape(definition)})</span>'
        if definition
        else ""
    )
    return (
        f'<div class="clientsim-pass-rate" style="margin: 4px 0">Pass rate '
        f"<b>{escape(fmt_percent(value))}</b> ({escape(passed)}/{escape(total)}{interval}){note}"
        "</div>"
    )


_COLUMNS: Final = (
    "#",
    "key",
    "persona",
    "input",
    "status",
    "outcome",
    "ending",
    "turns",
    "tokens",
    "duration",
    "error",
)


def _record_row(number: int, record: ConversationRecord) -> str:
    result = record.result
    messages = result.conversation.messages if result is not None else ()
    outcome = result.outcome if result is not None else None
    ending = result.ending if result is not None else None
    error = error_of(record)
    turns = sum(1 for m in messages if m.sender is ParticipantRole.CUSTOMER)
    error_text = ""
    if error is not None:
        short = error.type.rsplit(".", 1)[-1]
        error_text = (
            f'<span title="{escape(error.message)}">{escape(short)}: '
            f"{escape(cut(error.message, 60))}</span>"
        )
    cells = (
        str(number),
        escape(record.key),
        escape(record.cell.persona_id),
        f'<span title="{escape(record.input)}">{escape(cut(record.input, 60))}</span>',
        _badge(record.status.value, _STATUS_COLOURS[record.status]),
        escape(outcome.name) if outcome is not None else "-",
        escape(ending.reason) if ending is not None else "-",
        str(turns),
        str(tokens_spent(record).total_tokens),
        escape(_seconds(record.duration_seconds)),
        error_text,
    )
    tds = "".join(f'<td style="{_CELL}">{cell}</td>' for cell in cells)
    return f"<tr>{tds}</tr>"


def _table(records: Sequence[ConversationRecord], max_rows: int) -> str:
    if not records:
        return f'<div style="{_MUTED}">No conversations.</div>'
    shown = records[:max_rows]
    head = "".join(
        f'<th style="{_CELL}; font-weight: 600">{escape(name)}</th>'
        for name in _COLUMNS
    )
    body = "".join(
        _record_row(number, record) for number, record in enumerate(shown, start=1)
    )
    hidden = len(records) - len(shown)
    more = (
        f'<div class="clientsim-hidden" style="{_MUTED}; margin-top: 4px">Showing '
        f"the first {len(shown)} of {len(records)} conversations; {hidden} more "
        "hidden. Use <code>to_pandas()</code> to see them all.</div>"
        if hidden
        else ""
    )
    return (
        '<table class="clientsim-records" style="border-collapse: collapse; '
        f'margin: 6px 0"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        f"{more}"
    )


def records_html(
    records: Iterable[ConversationRecord],
    *,
    title: str,
    facts: Sequence[tuple[str, str]] = (),
    summary: Mapping[str, Any] | None = None,
    max_rows: int = MAX_ROWS,
) -> str:
    """A batch: its facts, pass rate, outcome chart and a table of conversations.

    Args:
        records: the conversations (shown in grid order).
        title: the heading.
        facts: name/value pairs (plain text; escaped here) shown under the heading.
        summary: a :func:`~clientsim.experiments.output.summarize` dict for the pass
            rate and the outcome counts; computed from ``records`` if ``None``.
        max_rows: rows shown; the others are counted.
    """
    rows = ordered(records)
    if summary is None:
        from clientsim.analysis.summary import summarize  # noqa: PLC0415

        summary = summarize(rows)
    pass_rate = summary.get("pass_rate")
    by_outcome = summary.get("by_outcome")
    by_status = summary.get("by_status")
    pass_outcomes: Sequence[str] = ()
    parts = [f'<div style="{_HEADING}">{escape(title)}</div>']
    if facts:
        parts.append(facts_table((name, escape(value)) for name, value in facts))
    if isinstance(by_status, Mapping):
        parts.append(
            f'<div style="margin: 4px 0">{len(rows)} conversation'
            f"{'' if len(rows) == 1 else 's'}: "
            + ", ".join(
                f"{escape(name)} {escape(count)}" for name, count in by_status.items()
            )
            + "</div>"
        )
    if isinstance(pass_rate, Mapping):
        parts.append(_pass_line(pass_rate))
        names = pass_rate.get("pass_outcomes")
        if isinstance(names, list | tuple):
            pass_outcomes = [str(name) for name in names]
    if isinstance(by_outcome, Mapping) and by_outcome:
        counts = {str(name): int(count) for name, count in by_outcome.items()}
        parts.append(f"<div>{outcome_chart(counts, pass_outcomes)}</div>")
    parts.append(_table(rows, max(max_rows, 0)))
    return f'<div class="clientsim-batch" style="{_BOX}">{"".join(parts)}</div>'


def experiment_result_html(
    result: ExperimentResult, *, max_rows: int = MAX_ROWS
) -> str:
    """:func:`records_html` for what :func:`~clientsim.experiments.run_experiment`
    returned, with its run id, folder, and what ran."""
    facts = [
        ("Run", result.run_id),
        ("Experiment", result.config.name),
        ("Folder", str(result.directory)),
        ("Ran", f"{result.ran} (skipped {result.skipped} already stored)"),
        ("Live model calls", str(result.live_model_calls)),
    ]
    return records_html(
        result.records,
        title="ExperimentResult",
        facts=facts,
        summary=result.summary or None,
        max_rows=max_rows,
    )


def batch_result_html(result: BatchResult, *, max_rows: int = MAX_ROWS) -> str:
    """:func:`records_html` for a :class:`~clientsim.runners.batch.BatchRunner` run."""
    facts = [
        ("Run", result.run_id),
        ("Ran", f"{len(result.records)} (skipped {result.skipped} already stored)"),
        ("Live model calls", str(result.live_model_calls)),
    ]
    return records_html(
        result.records, title="BatchResult", facts=facts, max_rows=max_rows
    )
