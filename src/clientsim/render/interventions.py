"""Intervention results as text, notebook HTML and an HTML report section.

Per metric, a bar per arm with its interval as a whisker (inline SVG, colours as
attributes, text in ``currentColor``); the significance table (difference with its
interval, test, p, Holm's adjusted p, effect size); the omnibus tests; the segment
comparison. Everything shown is escaped.

Example:
    >>> from clientsim.interventions.analysis import ArmMetric
    >>> svg = estimate_chart([ArmMetric(arm="a", metric="m", kind="rate", n=10,
    ...                                 value=0.4, low=0.2, high=0.6)], baseline="a")
    >>> svg.startswith("<svg") and "40.0% (n=10)" in svg
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from clientsim.render._format import cut, escape
from clientsim.render._html_assets import CSS


if TYPE_CHECKING:
    from clientsim.interventions.analysis import ArmMetric, Comparison
    from clientsim.interventions.results import InterventionResults

__all__ = [
    "MAX_INDIVIDUALS",
    "estimate_chart",
    "intervention_html",
    "intervention_page",
    "intervention_section",
    "intervention_text",
]

_BASE: Final = "#999999"
_PALETTE: Final = ("#2176e6", "#e67e22", "#8e44ad", "#16a085", "#c0392b", "#d4ac0d")
_TEXT: Final = 'fill="currentColor" font-size="12"'
_BAR: Final = 18
_GAP: Final = 8
_LABEL: Final = 150
_AREA: Final = 300
_TAIL: Final = 120
_BOX: Final = (
    "font-family: -apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, "
    "sans-serif; font-size: 13px; line-height: 1.4; max-width: 980px; margin: 4px 0"
)
_CELL: Final = (
    "padding: 3px 8px; border-bottom: 1px solid rgba(127, 127, 127, 0.25); "
    "text-align: left; vertical-align: top"
)


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.1f}%" if kind == "rate" else f"{value:.2f}"


def _p(value: float | None) -> str:
    if value is None:
        return "-"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _diff(c: Comparison) -> str:
    if c.difference is None:
        return "-"
    if c.kind == "rate":
        text = f"{100 * c.difference:+.1f} pts"
        if c.low is not None and c.high is not None:
            text += f" [{100 * c.low:+.1f}, {100 * c.high:+.1f}]"
        return text
    text = f"{c.difference:+.2f}"
    if c.low is not None and c.high is not None:
        text += f" [{c.low:+.2f}, {c.high:+.2f}]"
    return text


def estimate_chart(rows: Sequence[ArmMetric], *, baseline: str = "") -> str:
    """Bars of one metric per arm with the interval as a whisker, as inline SVG
    (rates on 0-100%, scores on 0 to the largest upper end)."""
    if not rows:
        return ""
    kind = rows[0].kind
    top = 1.0
    if kind != "rate":
        top = 1.15 * max([r.high or r.value or 0.0 for r in rows] + [1e-9])
    height = len(rows) * (_BAR + _GAP) + _GAP
    width = _LABEL + _AREA + _TAIL
    parts = []
    for index, row in enumerate(rows):
        y = _GAP + index * (_BAR + _GAP)
        colour = _BASE if row.arm == baseline else _PALETTE[index % len(_PALETTE)]
        value = max(row.value or 0.0, 0.0)
        length = round(_AREA * min(value / top, 1.0))
        label = f"{_fmt(row.value, kind)} (n={row.n})"
        whisker = ""
        if row.low is not None and row.high is not None:
            x1 = _LABEL + _AREA * max(min(row.low / top, 1.0), 0.0)
            x2 = _LABEL + _AREA * max(min(row.high / top, 1.0), 0.0)
            mid = y + _BAR / 2
            whisker = (
                f'<line x1="{x1:.1f}" y1="{mid}" x2="{x2:.1f}" y2="{mid}" '
                'stroke="currentColor" stroke-width="1.5"/>'
                f'<line x1="{x1:.1f}" y1="{y + 3}" x2="{x1:.1f}" y2="{y + _BAR - 3}" '
                'stroke="currentColor" stroke-width="1.5"/>'
                f'<line x1="{x2:.1f}" y1="{y + 3}" x2="{x2:.1f}" y2="{y + _BAR - 3}" '
                'stroke="currentColor" stroke-width="1.5"/>'
            )
        parts.append(
            f'<g class="clientsim-bar"><title>{escape(row.arm)}: {escape(label)}'
            f"</title>"
            f'<text x="{_LABEL - 6}" y="{y + _BAR - 5}" text-anchor="end" {_TEXT}>'
            f"{escape(cut(row.arm, 22))}</text>"
            f'<rect x="{_LABEL}" y="{y}" width="{length}" height="{_BAR}" rx="3" '
            f'fill="{colour}" fill-opacity="0.75"/>{whisker}'
            f'<text x="{_LABEL + _AREA + 6}" y="{y + _BAR - 5}" {_TEXT}>'
            f"{escape(label)}</text></g>"
        )
    return (
        f'<svg class="clientsim-chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(rows[0].metric)} per arm">'
        f"<title>{escape(rows[0].metric)} per arm</title>{''.join(parts)}</svg>"
    )


def _table(head: Sequence[str], body: Sequence[Sequence[str]], style: str) -> str:
    th = "".join(f'<th style="{style}">{escape(h)}</th>' for h in head)
    rows = "".join(
        "<tr>" + "".join(f'<td style="{style}">{cell}</td>' for cell in row) + "</tr>"
        for row in body
    )
    return f'<table style="border-collapse: collapse"><tr>{th}</tr>{rows}</table>'


def _significance_rows(results: InterventionResults) -> list[list[str]]:
    return [
        [
            escape(c.metric),
            escape(f"{c.arm} vs {c.baseline}"),
            escape(_diff(c)),
            escape(c.test or "-"),
            escape(_p(c.p_value)),
            escape(_p(c.p_adjusted)),
            escape("-" if c.effect is None else f"{c.effect_name} {c.effect:+.2f}"),
            "<b>yes</b>" if c.significant else "no",
            escape(c.note),
        ]
        for c in results.comparisons
    ]


_SIG_HEAD: Final = (
    "metric",
    "comparison",
    "difference [CI]",
    "test",
    "p",
    "p (Holm)",
    "effect",
    "significant",
    "note",
)


def _omnibus_rows(results: InterventionResults) -> list[list[str]]:
    return [
        [
            escape(o.metric),
            escape(o.test or "-"),
            escape("-" if o.statistic is None else f"{o.statistic:.3g}"),
            escape(_p(o.p_value)),
            "<b>yes</b>" if o.significant else "no",
            escape(o.note),
        ]
        for o in results.omnibus
    ]


def _segment_rows(results: InterventionResults) -> list[list[str]]:
    by_key: dict[tuple[str, str], dict[str, ArmMetric]] = {}
    for row in results.segment_estimates:
        by_key.setdefault((row.segment or "", row.metric), {})[row.arm] = row
    return [
        [escape(segment), escape(metric)]
        + [
            escape(
                f"{_fmt(cells[arm].value, cells[arm].kind)} (n={cells[arm].n})"
                if arm in cells
                else "-"
            )
            for arm in results.arms
        ]
        for (segment, metric), cells in sorted(by_key.items())
    ]


#: Individual responses the explorer lists; the rest are counted.
MAX_INDIVIDUALS: Final = 200


def _answer_text(value: object) -> str:
    if isinstance(value, tuple):
        return " > ".join(str(v) for v in value)
    return "-" if value is None else str(value)


def _individuals(results: InterventionResults, style: str) -> str:
    shown = results.responses[:MAX_INDIVIDUALS]
    rows = [
        [
            escape(r.persona_id),
            escape(r.variant or "-"),
            escape(r.segment or "-"),
            "<br>".join(
                f"<b>{escape(qid)}</b>: {escape(cut(_answer_text(a.value), 60))}"
                + (f" <i>{escape(cut(a.reasoning, 120))}</i>" if a.reasoning else "")
                for qid, a in r.answers.items()
            )
            or "-",
            "<br>".join(
                f"<b>{escape(k)}</b>: {escape(cut(_answer_text(v), 60))}"
                for k, v in r.fields.items()
            )
            or "-",
            escape(", ".join(f"{k}: {v}" for k, v in r.demographics.items()) or "-"),
        ]
        for r in shown
    ]
    more = len(results.responses) - len(shown)
    note = f"<p>{more} more not shown.</p>" if more > 0 else ""
    table = _table(
        ("persona", "arm", "segment", "answers", "fields", "demographics"), rows, style
    )
    return (
        f"<details><summary>Individual responses ({len(results.responses)})"
        f"</summary>{table}{note}</details>"
    )


def _body(results: InterventionResults, style: str, heading: str) -> str:
    test = results.intervention
    level = f"{results.confidence * 100:g}%"
    sizes = ", ".join(f"{arm}: {len(ids)}" for arm, ids in results.assignment.items())
    parts = [
        f"<{heading}>{escape(test.name)}</{heading}>",
        f"<p>Run {escape(results.run_id)} &middot; arms ({escape(sizes)}) &middot; "
        f"baseline {escape(test.baseline)} &middot; {escape(level)} intervals &middot; "
        f"alpha {results.alpha:g} after Holm's correction"
        + (f" &middot; {results.failed} failed units" if results.failed else "")
        + "</p>",
    ]
    for metric in results.metrics:
        rows = [r for r in results.estimates if r.metric == metric]
        parts.append(f"<h4>{escape(metric)}</h4>")
        parts.append(estimate_chart(rows, baseline=test.baseline))
    parts.append("<h4>Significance</h4>")
    parts.append(_table(_SIG_HEAD, _significance_rows(results), style))
    if results.omnibus:
        parts.append("<h4>Omnibus tests (all arms alike?)</h4>")
        parts.append(
            _table(
                ("metric", "test", "statistic", "p", "significant", "note"),
                _omnibus_rows(results),
                style,
            )
        )
    if results.segment_estimates:
        parts.append("<h4>By segment</h4>")
        parts.append(
            _table(("segment", "metric", *results.arms), _segment_rows(results), style)
        )
    if results.responses:
        parts.append(_individuals(results, style))
    return "".join(parts)


def intervention_html(results: InterventionResults) -> str:
    """The notebook view: charts, the significance table, the segment comparison."""
    return f'<div style="{_BOX}">{_body(results, _CELL, "h3")}</div>'


def intervention_section(results: InterventionResults) -> str:
    """The section of the HTML report (styled by the report's stylesheet)."""
    return (
        '<section class="intervention"><h2>Intervention</h2>'
        f"{_body(results, '', 'h3')}</section>"
    )


def intervention_page(results: InterventionResults) -> str:
    """A self-contained page holding :func:`intervention_section`."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">\n"
        f"<title>{escape(results.intervention.name)} - clientsim intervention</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f"{intervention_section(results)}</main>\n</body>\n</html>\n"
    )


def intervention_text(results: InterventionResults) -> str:
    """The figures as text lines."""
    test = results.intervention
    lines = [
        (
            f"Intervention {test.name} (run {results.run_id}); baseline "
            f"{test.baseline}; {results.confidence * 100:g}% intervals; alpha "
            f"{results.alpha:g} (Holm)"
        ),
        "Arms: "
        + ", ".join(f"{a} ({len(i)})" for a, i in results.assignment.items())
        + (f"; {results.failed} failed units" if results.failed else ""),
    ]
    for metric in results.metrics:
        lines.append(f"{metric}:")
        for row in (r for r in results.estimates if r.metric == metric):
            interval = (
                f" [{_fmt(row.low, row.kind)}, {_fmt(row.high, row.kind)}]"
                if row.low is not None
                else ""
            )
            lines.append(
                f"  {row.arm:<20} {_fmt(row.value, row.kind)}{interval} n={row.n}"
            )
    lines.extend(
        f"Omnibus {omni.metric}: {omni.test or '-'} p={_p(omni.p_value)}"
        + (f" ({omni.note})" if omni.note else "")
        for omni in results.omnibus
    )
    if results.comparisons:
        lines.append("Significance:")
    for c in results.comparisons:
        effect = "" if c.effect is None else f" {c.effect_name}={c.effect:+.2f}"
        lines.append(
            f"  {c.metric} {c.arm} vs {c.baseline}: {_diff(c)} {c.test or '-'} "
            f"p={_p(c.p_value)} holm={_p(c.p_adjusted)}{effect}"
            f"{' SIGNIFICANT' if c.significant else ''}"
            + (f" ({c.note})" if c.note else "")
        )
    return "\n".join(lines)
