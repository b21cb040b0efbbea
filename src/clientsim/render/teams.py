"""Team sessions and what-if comparisons, as text (the CLI) and HTML (notebooks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from clientsim.models import Message, SessionAnalysis
from clientsim.render._format import escape
from clientsim.render.notebook import conversation_html, facts_table


if TYPE_CHECKING:
    from clientsim.teams.session import TeamSession
    from clientsim.teams.whatif import WhatIfComparison

__all__ = ["analysis_text", "session_html", "session_text", "what_if_html"]

_BOX = (
    "font-family: -apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, "
    "sans-serif; font-size: 13px; line-height: 1.4; max-width: 980px; margin: 4px 0"
)
_CELL = (
    "padding: 3px 8px; border-bottom: 1px solid rgba(127, 127, 127, 0.25); "
    "text-align: left; vertical-align: top"
)


def _who(message: Message) -> str:
    return message.label


def analysis_text(analysis: SessionAnalysis) -> str:
    """An analysis as indented text lines."""
    lines = [
        f"Analysis after turn {analysis.turn} (confidence {analysis.confidence:.2f})"
    ]
    if analysis.summary:
        lines.append(f"  {analysis.summary}")
    for title, items in (
        ("Decisions", analysis.decisions),
        ("Open questions", analysis.open_questions),
        ("Risks", analysis.risks),
    ):
        if items:
            lines.append(f"  {title}:")
            lines.extend(f"    - {item}" for item in items)
    if analysis.positions:
        lines.append("  Positions:")
        lines.extend(
            f"    {name}: {position}" for name, position in analysis.positions.items()
        )
    return "\n".join(lines)


def session_text(session: TeamSession, *, analyses: bool = True) -> str:
    """The transcript (one line per message, with its turn and speaker), how the
    session stands, and the analyst's latest analysis."""
    lines = [
        f"Team session {session.session_id}: {session.scenario.title}",
        "Team: " + ", ".join(f"{name} ({role.name})" for name, role in session.team),
    ]
    if session.parent_id is not None:
        lines.append(
            f"Fork of {session.parent_id} at turn {session.fork_turn}: "
            f"{session.change.describe()}"
        )
    for turn, message in enumerate(session.transcript.messages):
        lines.append(f"[{turn:>3}] {_who(message)}: {message.content}")
    ending = session.ending
    status = f"ended: {ending.reason}" if ending is not None else "open"
    outcome = session.transcript.outcome
    lines.append(
        f"Turn {session.turn}, {status}; outcome {outcome.name if outcome else 'none'}"
    )
    error = session.result().error
    if error is not None:
        lines.append(f"Error: {error.source}: {error.type}: {error.message}")
    if analyses and session.analyses:
        lines.append(analysis_text(session.analyses[-1]))
    return "\n".join(lines)


def _analysis_html(analysis: SessionAnalysis | None) -> str:
    if analysis is None:
        return "<em>no analysis</em>"
    rows = [
        ("Turn", escape(analysis.turn)),
        ("Confidence", escape(f"{analysis.confidence:.2f}")),
    ]
    for title, items in (
        ("Decisions", analysis.decisions),
        ("Open questions", analysis.open_questions),
        ("Risks", analysis.risks),
    ):
        rows.append((title, "<br>".join(escape(item) for item in items) or "-"))
    rows.append(
        (
            "Positions",
            "<br>".join(
                f"<b>{escape(name)}</b>: {escape(position)}"
                for name, position in analysis.positions.items()
            )
            or "-",
        )
    )
    return facts_table(rows)


def session_html(session: TeamSession) -> str:
    """A team session for Jupyter: who is in it, the transcript, the last analysis."""
    ending = session.ending
    rows = [
        ("Session", escape(session.session_id)),
        ("Scenario", escape(session.scenario.title)),
        (
            "Team",
            escape(", ".join(f"{name} ({role.name})" for name, role in session.team)),
        ),
        ("Turn", escape(session.turn)),
        ("Status", escape(f"ended: {ending.reason}" if ending else "open")),
    ]
    analysis = session.analyses[-1] if session.analyses else None
    return (
        f'<div class="clientsim-team-session" style="{_BOX}">{facts_table(rows)}'
        f"{conversation_html(session.transcript)}"
        f"<div><b>Latest analysis</b>{_analysis_html(analysis)}</div></div>"
    )


def _cell(message: Message | None) -> str:
    if message is None:
        return "<em>(nothing)</em>"
    return f"<b>{escape(_who(message))}</b>: {escape(message.content)}"


def _rows(comparison: WhatIfComparison) -> Sequence[str]:
    return [
        f'<tr style="{"" if row.same else "background: rgba(230, 160, 33, 0.15)"}">'
        f'<td style="{_CELL}">{row.turn}</td><td style="{_CELL}">{_cell(row.original)}'
        f'</td><td style="{_CELL}">{_cell(row.branch)}</td></tr>'
        for row in comparison.rows
    ]


def what_if_html(comparison: WhatIfComparison) -> str:
    """A what-if for Jupyter: the change, both transcripts side by side from the
    fork (differing turns highlighted), outcomes and the analyst's analyses."""
    head = (
        f'<tr><th style="{_CELL}">Turn</th><th style="{_CELL}">Original '
        f'{escape(comparison.original_id)}</th><th style="{_CELL}">Branch '
        f"{escape(comparison.branch_id)}</th></tr>"
    )
    ending = (
        f'<tr><td style="{_CELL}"></td><td style="{_CELL}">'
        f"{escape(comparison.original_ending.reason if comparison.original_ending else 'open')}"
        f" \u00b7 outcome {escape(comparison.original_outcome or 'none')}</td>"
        f'<td style="{_CELL}">'
        f"{escape(comparison.branch_ending.reason if comparison.branch_ending else 'open')}"
        f" \u00b7 outcome {escape(comparison.branch_outcome or 'none')}</td></tr>"
        f'<tr><td style="{_CELL}"></td><td style="{_CELL}">'
        f"{_analysis_html(comparison.original_analysis)}</td>"
        f'<td style="{_CELL}">{_analysis_html(comparison.branch_analysis)}</td></tr>'
    )
    return (
        f'<div class="clientsim-what-if" style="{_BOX}">'
        f"<div><b>What if</b> {escape(comparison.change.describe())} "
        f"(from turn {comparison.at_turn}; {comparison.model_calls} model calls)</div>"
        f'<table style="border-collapse: collapse">{head}{"".join(_rows(comparison))}'
        f"{ending}</table></div>"
    )
