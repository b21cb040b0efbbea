"""Two runs compared (``clientsim compare``): as text, and as one self-contained page.

Both show the same things, in the same order: the verdict (a significant regression,
an improvement, or no significant change), the pass rates and their change with its
interval, McNemar's test, the score changes, then the cells that flipped, pass ->
fail first, each with run A's and run B's transcript side by side. The page uses the
HTML report's stylesheet, fetches nothing and runs no script; everything taken from a
run is escaped.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

from clientsim.errors import ConfigError
from clientsim.models.records import RunStatus
from clientsim.render._format import cut, escape, fmt_percent
from clientsim.render._html_assets import CSS


if TYPE_CHECKING:
    from clientsim.analysis.results import Estimate
    from clientsim.analysis.runs import CellPair, RunComparison
    from clientsim.models.records import ConversationRecord

__all__ = ["comparison_html", "comparison_text", "write_comparison_html"]

_MIN_WIDTH: Final = 60
_GUTTER: Final = " | "


def _verdict(comparison: RunComparison) -> str:
    rates = comparison.rates
    if comparison.regression:
        return f"REGRESSION: {comparison.run_b} passes significantly less often"
    if rates.improvement:
        return f"IMPROVEMENT: {comparison.run_b} passes significantly more often"
    return f"no significant change at alpha {rates.alpha:g}"


def _rate(rate: Estimate) -> str:
    return (
        f"{fmt_percent(rate.value)} ({rate.confidence * 100:g}% interval "
        f"{fmt_percent(rate.low)} - {fmt_percent(rate.high)}, {rate.n} cells)"
    )


def _signed_points(value: float) -> str:
    return f"{value * 100:+.1f} pts"


def _change_line(comparison: RunComparison) -> str:
    change = comparison.rates.change
    level = f"{change.confidence * 100:g}%"
    return (
        f"change in pass rate: {_signed_points(change.value)} "
        f"({level} interval {_signed_points(change.low)} to "
        f"{_signed_points(change.high)}, Newcombe paired)"
    )


def _test_line(comparison: RunComparison) -> str:
    rates, test = comparison.rates, comparison.rates.test
    return (
        f"McNemar ({'exact' if test.name.endswith('exact') else 'chi-square'}): "
        f"{rates.a_only} pass->fail, {rates.b_only} fail->pass, "
        f"p = {test.p_value:.4g}"
    )


def _state(record: ConversationRecord, passed: bool) -> str:
    verdict = "pass" if passed else "fail"
    if record.status is not RunStatus.DONE:
        return f"{verdict} ({record.status.value})"
    result = record.result
    outcome = result.outcome.name if result and result.outcome else "no outcome"
    return f"{verdict} ({outcome})"


def _lines(record: ConversationRecord) -> list[str]:
    messages = record.result.conversation.messages if record.result else ()
    lines = [f"{m.sender.value}: {m.content}" for m in messages]
    error = record.error or (record.result.error if record.result else None)
    if error is not None:
        lines.append(f"error: {error.type}: {error.message}")
    return lines or ["(no messages)"]


def _side_by_side(pair: CellPair, width: int, messages: int) -> list[str]:
    column = (width - len(_GUTTER)) // 2
    left, right = _lines(pair.a), _lines(pair.b)
    rows = max(len(left), len(right))
    shown = min(rows, messages)
    out = []
    for index in range(shown):
        a = left[index] if index < len(left) else ""
        b = right[index] if index < len(right) else ""
        a, b = (" ".join(text.split()) for text in (a, b))
        out.append(f"{cut(a, column):<{column}}{_GUTTER}{cut(b, column)}".rstrip())
    if rows > shown:
        out.append(f"... {rows - shown} more lines")
    return out


def comparison_text(
    comparison: RunComparison, *, width: int = 120, limit: int = 10, messages: int = 8
) -> str:
    """The comparison as text: the figures, then up to ``limit`` flipped cells (pass ->
    fail first), each with both transcripts side by side, one line a message cut to
    fit ``width``, at most ``messages`` lines per cell."""
    width = max(width, _MIN_WIDTH)
    rates = comparison.rates
    lines = [
        f"clientsim compare: {comparison.run_a} (A) -> {comparison.run_b} (B)",
        f"paired cells: {rates.n}; pass = {comparison.pass_definition}",
        f"pass rate A: {_rate(rates.rate_a)}",
        f"pass rate B: {_rate(rates.rate_b)}",
        _change_line(comparison),
        _test_line(comparison),
    ]
    for name, score in comparison.scores.items():
        lines.append(
            f"score {name}: mean change {score.value:+.3g} "
            f"({score.confidence * 100:g}% interval {score.low:+.3g} to "
            f"{score.high:+.3g}, paired bootstrap, {score.n} pairs)"
        )
    lines.extend(f"note: {note}" for note in comparison.notes)
    lines.append(f"verdict: {_verdict(comparison)}")
    flipped = comparison.flipped
    lines.append("")
    lines.append(f"flipped cells: {len(flipped)}")
    column = (width - len(_GUTTER)) // 2
    for pair in flipped[:limit]:
        lines.append("")
        lines.append(f"[{pair.flip}] {pair.key}")
        a_head = f"A {comparison.run_a}: {_state(pair.a, pair.passed_a)}"
        b_head = f"B {comparison.run_b}: {_state(pair.b, pair.passed_b)}"
        lines.append(f"{cut(a_head, column):<{column}}{_GUTTER}{cut(b_head, column)}")
        lines.append("-" * width)
        lines.extend(_side_by_side(pair, width, messages))
    if len(flipped) > limit:
        lines.append("")
        lines.append(f"... and {len(flipped) - limit} more flipped cells")
    return "\n".join(lines) + "\n"


_EXTRA_CSS: Final = """
.verdict{font-size:18px;font-weight:600}.verdict.bad{color:var(--fail)}
.verdict.good{color:var(--pass)}
.pair{border:1px solid var(--line);border-left:4px solid var(--fail);
border-radius:6px;margin-bottom:12px;padding:8px 12px}
.pair.fixed{border-left-color:var(--pass)}
.columns{display:grid;grid-template-columns:1fr 1fr;gap:12px}
.columns h3{font-size:14px;margin:4px 0}
"""


def _transcript_html(record: ConversationRecord) -> str:
    parts = []
    if record.result is not None:
        for message in record.result.conversation.messages:
            role = message.sender.value
            parts.append(
                f'<div class="msg {escape(role)}"><span class="role">{escape(role)}'
                f"</span>{escape(message.content)}</div>"
            )
    error = record.error or (record.result.error if record.result else None)
    if error is not None:
        parts.append(
            f'<div class="error">{escape(error.type)}: {escape(error.message)}</div>'
        )
    return "".join(parts) or '<p class="note">(no messages)</p>'


def _pair_html(comparison: RunComparison, pair: CellPair) -> str:
    fixed = " fixed" if pair.flip == "fail->pass" else ""
    columns = "".join(
        f"<div><h3>{side} {escape(run)}: {escape(_state(record, passed))}</h3>"
        f'<div class="transcript">{_transcript_html(record)}</div></div>'
        for side, run, record, passed in (
            ("A", comparison.run_a, pair.a, pair.passed_a),
            ("B", comparison.run_b, pair.b, pair.passed_b),
        )
    )
    return (
        f'<div class="pair{fixed}"><p><span class="tag '
        f'{"good" if fixed else "bad"}">{escape(pair.flip)}</span> '
        f"<code>{escape(pair.key)}</code></p>"
        f'<div class="columns">{columns}</div></div>\n'
    )


def comparison_html(comparison: RunComparison) -> str:
    """The comparison as one self-contained HTML page (no script, no fetches)."""
    rates = comparison.rates
    kind = "bad" if comparison.regression else ("good" if rates.improvement else "")
    figures = [
        f"Paired cells: {rates.n}; pass = {comparison.pass_definition}",
        f"Pass rate A ({comparison.run_a}): {_rate(rates.rate_a)}",
        f"Pass rate B ({comparison.run_b}): {_rate(rates.rate_b)}",
        _change_line(comparison),
        _test_line(comparison),
        *(
            f"Score {name}: mean change {score.value:+.3g} ({score.low:+.3g} to "
            f"{score.high:+.3g}, paired bootstrap)"
            for name, score in comparison.scores.items()
        ),
        *(f"Note: {note}" for note in comparison.notes),
    ]
    flipped = comparison.flipped
    body = (
        f"<header><h1>{escape(comparison.run_a)} &rarr; {escape(comparison.run_b)}"
        f'</h1><p class="verdict {kind}">{escape(_verdict(comparison))}</p>'
        + "".join(f"<p>{escape(line)}</p>" for line in figures)
        + "</header>\n"
        f'<section id="flipped"><h2>Flipped cells ({len(flipped)})</h2>\n'
        '<p class="note">Pass to fail first, then fail to pass; run A on the left, '
        "run B on the right.</p>\n"
        + (
            "".join(_pair_html(comparison, pair) for pair in flipped)
            or '<p class="note">No cell changed its verdict.</p>'
        )
        + "</section>\n"
    )
    title = f"{comparison.run_a} vs {comparison.run_b} - clientsim compare"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">\n"
        f"<title>{escape(title)}</title>\n"
        f"<style>{CSS}{_EXTRA_CSS}</style>\n</head>\n<body>\n<main>\n{body}</main>\n"
        "</body>\n</html>\n"
    )


def write_comparison_html(comparison: RunComparison, path: Path) -> Path:
    """Write :func:`comparison_html` to ``path`` (its folder is made if needed).

    Raises:
        ConfigError: ``path`` is a directory.
    """
    target = Path(path)
    if target.is_dir():
        raise ConfigError(
            f"--html {str(target)!r} is a directory; give a file path such as "
            "compare.html"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        comparison_html(comparison), encoding="utf-8", errors="backslashreplace"
    )
    return target
