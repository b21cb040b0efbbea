"""Text and notebook HTML for the results of a population study.

Private: :class:`~clientsim.population.results.StudyResults` calls these from
``render()`` and ``_repr_html_`` on first use. The HTML is plain markup with inline
styles and inline SVG bar charts (no script, no external resource); every piece of
text from the study (answers, names, reasoning) is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from clientsim.render._format import cut, escape, fmt_number, fmt_percent
from clientsim.render.chart import bar_chart


if TYPE_CHECKING:
    from clientsim.population.results import StudyResults

__all__ = [
    "MAX_ROWS",
    "distribution_chart",
    "results_html",
    "results_page",
    "results_text",
]

MAX_ROWS: Final = 50
"""Rows the individual explorer shows; the rest are counted."""

_BOX: Final = (
    "font-family: -apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, "
    "sans-serif; font-size: 13px; line-height: 1.4; max-width: 900px; margin: 4px 0"
)
_HEADING: Final = "font-weight: 600; font-size: 14px; margin: 8px 0 4px"
_MUTED: Final = "opacity: 0.7; font-size: 11px"
_CELL: Final = (
    "padding: 3px 8px; border-bottom: 1px solid rgba(127, 127, 127, 0.25); "
    "text-align: left; vertical-align: top"
)
_BLUE: Final = "#2176e6"
_TEXT: Final = 'fill="currentColor" font-size="12"'
_BAR: Final = 16
_GAP: Final = 5
_LABEL: Final = 160
_AREA: Final = 280
_COUNT: Final = 90


def _interval(value: object) -> str:
    if isinstance(value, list | tuple) and len(value) == 2:
        return f"[{fmt_number(value[0])}, {fmt_number(value[1])}]"
    return "-"


def _rate(summary: Mapping[str, Any]) -> str:
    if summary.get("response_rate") is None:
        return "-"
    return (
        f"{fmt_percent(summary.get('response_rate'))} "
        f"{_interval(summary.get('response_rate_interval'))}"
    )


def _mean(summary: Mapping[str, Any], key: str = "mean_score") -> str:
    if summary.get(key) is None:
        return "-"
    return f"{fmt_number(summary.get(key))} {_interval(summary.get('confidence_interval'))}"


# -- text ------------------------------------------------------------------------------


def _text_groups(data: Mapping[str, Any]) -> list[str]:
    lines = []
    for title, key in (
        ("Segments", "segment_breakdown"),
        ("Variants", "variant_breakdown"),
    ):
        groups = data.get(key) or {}
        if groups:
            lines.append(f"{title}:")
            lines.extend(
                f"  {name}: {g['total_responses']}/{g['invited']} responded "
                f"{_rate(g)}, mean {_mean(g)}"
                for name, g in groups.items()
            )
    return lines


def _text_questions(data: Mapping[str, Any]) -> list[str]:
    lines = []
    for qid, question in (data.get("questions") or {}).items():
        lines.append(
            f"Question {qid} ({question['type']}, {question['responses']} answers):"
        )
        if "distribution" in question:
            shares = question.get("shares", {})
            shown = ", ".join(
                f"{k}: {n} ({fmt_percent(shares.get(k))})"
                for k, n in question["distribution"].items()
            )
            lines.append(f"  {shown}")
        if question.get("mean") is not None:
            lines.append(f"  mean {_mean(question, 'mean')}")
    return lines


def _text_fields(data: Mapping[str, Any]) -> list[str]:
    lines = []
    for name, field in (data.get("fields") or {}).items():
        if field["type"] == "number":
            lines.append(f"Field {name}: mean {_mean(field, 'mean')}")
        elif field["type"] == "categorical":
            shown = ", ".join(f"{k}: {n}" for k, n in field["distribution"].items())
            lines.append(f"Field {name}: {shown}")
        else:
            lines.append(
                f"Field {name}: {field['with_items']} of {field['responses']} listed some"
            )
    themes = data.get("themes") or []
    if themes:
        lines.append("Themes:")
        lines.extend(
            f"  {t['theme']} ({t['count']}, {fmt_percent(t['share'])}): "
            f"{', '.join(t['keywords'])}"
            for t in themes
        )
    return lines


def results_text(results: StudyResults) -> str:
    """A plain-text summary of ``results``."""
    data = results.aggregate_results
    level = f"{data['confidence']:.0%}"
    intervention = (
        f", intervention {results.intervention_id}" if results.intervention_id else ""
    )
    lines = [
        f"Study {results.simulation_id} ({results.mode or 'mode unknown'}){intervention}",
        (
            f"Responses: {data['total_responses']} of {data['invited']}, response rate "
            f"{_rate(data)} ({level} interval)"
        ),
    ]
    if data.get("score"):
        lines.append(f"Mean {data['score']}: {_mean(data)}")
    weighting = data.get("weighting")
    if weighting:
        lines.append(
            f"Weighted by {weighting['by']} to {weighting['target_mix']} "
            f"(effective sample size {weighting['effective_sample_size']:.1f})"
        )
    lines += _text_groups(data) + _text_questions(data) + _text_fields(data)
    return "\n".join(lines)


# -- HTML ------------------------------------------------------------------------------


def distribution_chart(
    counts: Mapping[str, int], *, label: str = "Distribution"
) -> str:
    """A horizontal bar chart of ``counts`` in the order given, as inline SVG (``""``
    for no counts)."""
    return bar_chart(
        counts,
        list(counts),
        colour=lambda _name, _index: _BLUE,
        label=label,
        css_class="clientsim-distribution",
    )


def _means_chart(rows: Sequence[tuple[str, float, Sequence[float] | None]]) -> str:
    """Means as points on their intervals, on one shared axis, as inline SVG."""
    shown = [(n, v, ci) for n, v, ci in rows if v is not None]
    if not shown:
        return ""
    ends = [v for _, v, _ in shown] + [x for _, _, ci in shown if ci for x in ci]
    low, high = min(0.0, *ends), max(ends) or 1.0
    span = (high - low) or 1.0
    height = len(shown) * (_BAR + _GAP) + _GAP + 14
    width = _LABEL + _AREA + _COUNT

    def x(value: float) -> float:
        return _LABEL + (value - low) / span * _AREA

    parts = []
    for index, (name, value, ci) in enumerate(shown):
        y = _GAP + index * (_BAR + _GAP) + _BAR / 2
        whisker = (
            f'<line x1="{x(ci[0]):.1f}" y1="{y}" x2="{x(ci[1]):.1f}" y2="{y}" '
            f'stroke="{_BLUE}" stroke-width="3" opacity="0.45"/>'
            if ci
            else ""
        )
        parts.append(
            f"<g><title>{escape(name)}: {fmt_number(value)} {escape(_interval(ci))}</title>"
            f'<text x="{_LABEL - 6}" y="{y + 4}" text-anchor="end" {_TEXT}>'
            f"{escape(cut(name, 24))}</text>{whisker}"
            f'<circle cx="{x(value):.1f}" cy="{y}" r="5" fill="{_BLUE}"/>'
            f'<text x="{_LABEL + _AREA + 8}" y="{y + 4}" {_TEXT}>{fmt_number(value)}</text></g>'
        )
    axis_y = height - 4
    parts.append(
        f'<text x="{_LABEL}" y="{axis_y}" {_TEXT}>{fmt_number(low)}</text>'
        f'<text x="{_LABEL + _AREA}" y="{axis_y}" text-anchor="end" {_TEXT}>'
        f"{fmt_number(high)}</text>"
    )
    return (
        f'<svg class="clientsim-means" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Means and intervals">'
        f"{''.join(parts)}</svg>"
    )


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], css: str) -> str:
    header = "".join(
        f'<th style="{_CELL}; font-weight: 600">{escape(h)}</th>' for h in head
    )
    body = "".join(
        "<tr>" + "".join(f'<td style="{_CELL}">{cell}</td>' for cell in row) + "</tr>"
        for row in rows
    )
    return (
        f'<table class="{css}" style="border-collapse: collapse; margin: 4px 0">'
        f"<thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"
    )


def _breakdown(title: str, groups: Mapping[str, Any]) -> str:
    if not groups:
        return ""
    rows = [
        (
            escape(name),
            escape(g["invited"]),
            escape(g["total_responses"]),
            escape(_rate(g)),
            escape(_mean(g)),
        )
        for name, g in groups.items()
    ]
    means = [
        (n, g.get("mean_score"), g.get("confidence_interval"))
        for n, g in groups.items()
    ]
    return (
        f'<div style="{_HEADING}">{escape(title)}</div>'
        + _table(
            (
                title.rstrip("s").lower(),
                "asked",
                "responses",
                "response rate",
                "mean score",
            ),
            rows,
            "clientsim-segments",
        )
        + _means_chart(means)
    )


def _explorer(results: StudyResults) -> str:
    people = results.individual_results
    shown = people[:MAX_ROWS]
    rows = [
        (
            escape(p["agent_id"]),
            escape(p["segment"] or "-"),
            escape(p["variant"] or "-"),
            escape(cut(str(p["response"]) if p["response"] is not None else "-", 60)),
            escape(fmt_number(p["confidence"])),
            f'<span title="{escape(p["reasoning"])}">{escape(cut(p["reasoning"], 80))}</span>',
            escape("; ".join(f"{k}: {v}" for k, v in p["demographic_profile"].items())),
        )
        for p in shown
    ]
    hidden = len(people) - len(shown)
    more = (
        f'<div style="{_MUTED}">Showing {len(shown)} of {len(people)} people; '
        "use <code>to_pandas()</code> or <code>individual(id)</code> for the rest.</div>"
        if hidden
        else ""
    )
    return (
        f'<div style="{_HEADING}">Individuals</div>'
        + _table(
            (
                "persona",
                "segment",
                "variant",
                "response",
                "confidence",
                "reasoning",
                "profile",
            ),
            rows,
            "clientsim-individuals",
        )
        + more
    )


def _facts(results: StudyResults, data: Mapping[str, Any]) -> str:
    facts = [
        ("Study", results.simulation_id),
        ("Mode", results.mode or "-"),
        ("Responses", f"{data['total_responses']} of {data['invited']}"),
        ("Response rate", _rate(data)),
    ]
    if results.intervention_id:
        facts.insert(1, ("Intervention", results.intervention_id))
    if data.get("score"):
        facts.append((f"Mean {data['score']}", _mean(data)))
    weighting = data.get("weighting")
    if weighting:
        size = weighting["effective_sample_size"]
        facts.append(
            ("Weighting", f"by {weighting['by']}, effective sample size {size:.1f}")
        )
    return _table(
        ("", ""), [(escape(k), escape(v)) for k, v in facts], "clientsim-facts"
    )


def _questions(data: Mapping[str, Any]) -> str:
    parts = []
    means = []
    for qid, question in (data.get("questions") or {}).items():
        if "distribution" not in question:
            continue
        parts.append(
            f'<div style="{_HEADING}">{escape(qid)} '
            f'<span style="{_MUTED}">({escape(question["type"])}, '
            f"{escape(question['responses'])} answers)</span></div>"
        )
        parts.append(distribution_chart(question["distribution"], label=qid))
        if question.get("mean") is not None:
            means.append((qid, question["mean"], question.get("confidence_interval")))
    for name, field in (data.get("fields") or {}).items():
        if field["type"] == "number":
            means.append((name, field["mean"], field.get("confidence_interval")))
        elif field["type"] == "categorical":
            parts.append(f'<div style="{_HEADING}">{escape(name)}</div>')
            parts.append(distribution_chart(field["distribution"], label=name))
    if means:
        parts.append(f'<div style="{_HEADING}">Means with intervals</div>')
        parts.append(_means_chart(means))
    return "".join(parts)


def _themes(data: Mapping[str, Any]) -> str:
    themes = data.get("themes") or []
    if not themes:
        return ""
    rows = [
        (
            escape(t["theme"]),
            escape(f"{t['count']} ({fmt_percent(t['share'])})"),
            escape(", ".join(t["keywords"])),
            escape(t["examples"][0] if t["examples"] else ""),
        )
        for t in themes
    ]
    return f'<div style="{_HEADING}">Themes</div>' + _table(
        ("theme", "answers", "keywords", "example"), rows, "clientsim-themes"
    )


def results_html(results: StudyResults) -> str:
    """The notebook view of ``results``: facts, per-question distributions, means with
    intervals, the segment and variant tables, themes and the individual explorer."""
    data = results.aggregate_results
    parts = [
        f'<div style="{_HEADING}">StudyResults</div>',
        _facts(results, data),
        _questions(data),
        _breakdown("Segments", data.get("segment_breakdown") or {}),
        _breakdown("Variants", data.get("variant_breakdown") or {}),
        _themes(data),
        _explorer(results),
    ]
    return f'<div class="clientsim-study-results" style="{_BOX}">{"".join(parts)}</div>'


def results_page(results: StudyResults, profile_html: str = "") -> str:
    """A self-contained HTML page (no script, no outside resource): the population's
    profile when given, then :func:`results_html`."""
    title = escape(str(results.simulation_id))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">\n"
        f"<title>{title} - clientsim study</title>\n</head>\n<body>\n<main>\n"
        f"{profile_html}{results_html(results)}</main>\n</body>\n</html>\n"
    )
