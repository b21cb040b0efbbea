"""The SVG charts of the HTML report and the notebook HTML: outcomes and the pass rate.

One chart for both: inline SVG whose colours are attributes, so it needs no stylesheet
(a notebook renderer that drops ``<style>`` keeps them); text takes the surrounding
colour (``currentColor``), so it reads on light and dark themes; every label is
escaped. No ``xmlns``: SVG inside HTML needs none, and the report holds no address.

Example:
    >>> svg = outcome_chart({"resolved": 3, "none": 1}, pass_outcomes=["resolved"])
    >>> svg.startswith('<svg class="clientsim-chart"'), "3 (75%)" in svg
    (True, True)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Final

from clientsim.render._format import cut, escape


__all__ = ["bar_chart", "interval_bar", "outcome_chart"]

_GREEN: Final = "#2e8b57"  # an outcome that counts as a pass
_GREY: Final = "#999999"  # no outcome reached ("none")
_PALETTE: Final = (
    "#2176e6",
    "#e67e22",
    "#8e44ad",
    "#16a085",
    "#c0392b",
    "#7f8c8d",
    "#d4ac0d",
    "#34495e",
)
_NONE: Final = "none"
_BAR: Final = 18
_GAP: Final = 6
_LABEL_WIDTH: Final = 150
_BAR_AREA: Final = 300
_COUNT_WIDTH: Final = 90  # room for "12345 (100%)"
_LABEL_CHARS: Final = 22
_TEXT: Final = 'fill="currentColor" font-size="12"'


def _colour(name: str, index: int, pass_outcomes: Sequence[str]) -> str:
    if name == _NONE:
        return _GREY
    if name in pass_outcomes:
        return _GREEN
    return _PALETTE[index % len(_PALETTE)]


def outcome_chart(
    counts: Mapping[str, int],
    pass_outcomes: Sequence[str] = (),
    *,
    element_id: str | None = None,
) -> str:
    """A horizontal bar chart of conversations per outcome, as inline SVG.

    Bars are in name order with ``none`` (no outcome reached) last, so two runs'
    charts line up; each shows its count and share, and a tooltip with the full name.

    Args:
        counts: conversations per outcome name.
        pass_outcomes: outcomes that count as a pass; their bars are green.
        element_id: the ``id`` of the ``<svg>`` element, for a page that links to it.

    Returns:
        The ``<svg>`` element, or ``""`` when ``counts`` is empty.
    """
    names = sorted(counts, key=lambda name: (name == _NONE, name))
    return bar_chart(
        counts,
        names,
        colour=lambda name, index: _colour(name, index, pass_outcomes),
        label="Outcome distribution",
        css_class="clientsim-chart",
        element_id=element_id,
    )


def bar_chart(
    counts: Mapping[str, int],
    names: Sequence[str],
    *,
    colour: Callable[[str, int], str] | None = None,
    label: str,
    css_class: str,
    element_id: str | None = None,
) -> str:
    """Horizontal bars of ``counts`` in the order of ``names``, each with its count,
    its share and a tooltip with the full name, as inline SVG (``""`` for no names).

    Args:
        counts: a count per name.
        names: the bars, in order.
        colour: the fill of the bar of ``(name, index)``; the palette by default.
        label: the chart's title and accessible name.
        css_class: the ``class`` of the ``<svg>`` element.
        element_id: its ``id``, for a page that links to it.
    """
    if not names:
        return ""
    fill = colour or (lambda _name, index: _PALETTE[index % len(_PALETTE)])
    height = len(names) * (_BAR + _GAP) + _GAP
    width = _LABEL_WIDTH + _BAR_AREA + _COUNT_WIDTH
    largest = max(*counts.values(), 1)
    total = sum(counts.values())
    bars = []
    for index, name in enumerate(names):
        count = counts.get(name, 0)
        y = _GAP + index * (_BAR + _GAP)
        length = max(round(_BAR_AREA * count / largest), 1 if count else 0)
        share = f"{100 * count / total:.0f}%" if total else ""
        bars.append(
            f'<g class="clientsim-bar"><title>{escape(name)}: {count}</title>'
            f'<text x="{_LABEL_WIDTH - 6}" y="{y + _BAR - 5}" text-anchor="end" '
            f"{_TEXT}>{escape(cut(name, _LABEL_CHARS))}</text>"
            f'<rect x="{_LABEL_WIDTH}" y="{y}" width="{length}" height="{_BAR}" '
            f'rx="3" fill="{fill(name, index)}"/>'
            f'<text x="{_LABEL_WIDTH + length + 6}" y="{y + _BAR - 5}" {_TEXT}>'
            f"{count} ({share})</text></g>"
        )
    identity = f' id="{escape(element_id)}"' if element_id is not None else ""
    return (
        f'<svg class="{escape(css_class)}"{identity} width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>'
        f"{''.join(bars)}</svg>"
    )


def interval_bar(value: float, low: float, high: float) -> str:
    """The pass rate as a point on its 95% interval, as inline SVG.

    The track spans 0-100% under the bars of :func:`outcome_chart`, so the two line
    up when one follows the other. Values outside ``[0, 1]`` are drawn at the edge.

    Args:
        value: the pass rate, a fraction.
        low: the interval's lower end.
        high: the interval's upper end.

    Returns:
        The ``<svg>`` element.
    """
    value, low, high = (min(max(x, 0.0), 1.0) for x in (value, low, high))
    x0, span = _LABEL_WIDTH, _BAR_AREA
    width = x0 + span + 20
    return (
        f'<svg class="clientsim-interval" width="{width}" height="28" '
        f'viewBox="0 0 {width} 28" role="img" '
        'aria-label="Pass rate and its 95% interval">'
        f'<text x="{x0 - 6}" y="18" text-anchor="end" {_TEXT}>pass rate</text>'
        f'<rect x="{x0}" y="10" width="{span}" height="8" rx="4" '
        'fill="rgba(127, 127, 127, 0.3)"/>'
        f'<rect x="{x0 + low * span:.1f}" y="6" '
        f'width="{max((high - low) * span, 1):.1f}" height="16" rx="3" '
        'fill="rgba(33, 118, 230, 0.35)"/>'
        f'<circle cx="{x0 + value * span:.1f}" cy="14" r="5" fill="{_PALETTE[0]}"/>'
        "</svg>"
    )
