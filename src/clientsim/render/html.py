"""A self-contained HTML report of an experiment folder, for ``clientsim report --html``.

One file with inline CSS, an inline SVG chart and a little inline JavaScript: no
server, no CDN, no fonts, no network, so it opens from ``file://`` and can be mailed
or attached to a CI run. The summary sections are rendered here, in Python; the
conversations are embedded as JSON in a ``<script type="application/json">`` block
and rendered by the page's script, which also filters them by the search box (or by
``#q=words`` in the address, e.g. ``report.html#q=refund``).

Everything taken from the folder is escaped: a message holding ``<script>`` shows as
text.
"""

from __future__ import annotations

import html
import json
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
)
from clientsim.models.records import RunStatus
from clientsim.render.text import (  # the text report's readers, shared
    _cost,
    _count,
    _fmt,
    _mapping,
    _number,
    _pass_outcomes,
    _percent,
)


__all__ = ["REPORT_FILE", "render_html_report", "write_html_report"]

#: The file :func:`write_html_report` writes inside the experiment folder by default.
REPORT_FILE: Final = "report.html"

_BAR_HEIGHT: Final = 22
_BAR_GAP: Final = 8
_LABEL_WIDTH: Final = 160
_BAR_AREA: Final = 420
_PREVIEW: Final = 80


def write_html_report(directory: Path, path: Path | None = None) -> Path:
    """Write the HTML report of an experiment folder to one self-contained file.

    Args:
        directory: an ``exp_...`` folder.
        path: where to write; default ``<directory>/report.html``. Its folder is
            created if needed.

    Returns:
        The file written.

    Raises:
        ConfigError: the folder is not an experiment folder, a file in it is
            malformed, or ``path`` is a directory.

    Example:
        >>> import tempfile
        >>> from clientsim.experiments.output import ExperimentWriter, new_experiment_dir
        >>> folder = new_experiment_dir(Path(tempfile.mkdtemp()))
        >>> writer = ExperimentWriter(folder, save_traces=True,
        ...                           save_aggregated_metrics=True)
        >>> _ = writer.write_metadata({"name": "smoke"})
        >>> write_html_report(folder).name
        'report.html'
    """
    directory = Path(directory)
    target = directory / REPORT_FILE if path is None else Path(path)
    if target.is_dir():
        raise ConfigError(
            f"report path {str(target)!r} is a directory; expected a file path such "
            "as report.html"
        )
    text = render_html_report(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8", errors="backslashreplace")
    return target


def render_html_report(directory: Path) -> str:
    """Render an experiment folder as one self-contained HTML page.

    Sections: the run summary (name, description, run id, status, dates, counts by
    status), the outcome distribution as an SVG bar chart, the pass rate with its 95%
    Wilson interval, turns, latency and tokens, per-persona and per-input (intent)
    tables, and a searchable transcript browser with one collapsible entry per
    conversation (ending reason, seed, tokens, status, outcome, transcript), failing
    conversations first: failed and timed-out ones, then finished ones that did not
    pass.

    Args:
        directory: an ``exp_...`` folder.

    Returns:
        The page, as text.

    Raises:
        ConfigError: the folder is not an experiment folder or a file in it is
            malformed.

    Example:
        >>> import tempfile
        >>> from clientsim.experiments.output import ExperimentWriter, new_experiment_dir
        >>> folder = new_experiment_dir(Path(tempfile.mkdtemp()))
        >>> writer = ExperimentWriter(folder, save_traces=True,
        ...                           save_aggregated_metrics=True)
        >>> _ = writer.write_metadata({"name": "smoke"})
        >>> "<h1>smoke</h1>" in render_html_report(folder)
        True
    """
    loaded = load_experiment(directory)
    pass_outcomes = _pass_outcomes(loaded)
    conversations = _conversations(loaded, pass_outcomes)
    summary = loaded.summary
    if summary is None:
        summary = summarize(
            [record_from_trace(line) for line in loaded.traces],
            pass_outcomes=pass_outcomes,
        )
    metadata = _mapping(loaded.metadata)
    name = metadata.get("name")
    title = name if isinstance(name, str) and name else "(unnamed experiment)"
    intents = _intents(metadata)
    personas = _personas(metadata)
    body = "".join(
        (
            _header(loaded, title, summary),
            _outcomes(summary),
            _figures(summary),
            _breakdown(
                "By persona",
                "persona",
                _mapping(summary.get("by_persona")),
                personas,
            ),
            _breakdown(
                "By input (intent)",
                "input",
                _mapping(summary.get("by_input")),
                intents,
            ),
            _browser(loaded),
        )
    )
    data = _script_json(conversations)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # Nothing on this page may be fetched from anywhere.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{_e(title)} - clientsim report</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n<main>\n{body}</main>\n"
        f'<script type="application/json" id="clientsim-data">{data}</script>\n'
        f"<script>{_JS}</script>\n</body>\n</html>\n"
    )


# -- reading the folder defensively: the files are a user's to edit -----------------


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _intents(metadata: Mapping[str, Any]) -> dict[str, str]:
    """Input id -> intent, from the configuration stored in ``metadata.json``."""
    inputs = _mapping(metadata.get("config")).get("inputs")
    if not isinstance(inputs, list):
        return {}
    found: dict[str, str] = {}
    for position, item in enumerate(inputs):
        data = _mapping(item)
        key = data.get("id")
        intent = data.get("intent")
        if isinstance(intent, str) and intent:
            found[str(key) if key is not None else str(position)] = intent
    return found


def _personas(metadata: Mapping[str, Any]) -> dict[str, str]:
    """Persona id -> description, from the configuration in ``metadata.json``."""
    personas = _mapping(metadata.get("config")).get("personas")
    if not isinstance(personas, list):
        return {}
    found: dict[str, str] = {}
    for item in personas:
        data = _mapping(item)
        key, description = data.get("id"), data.get("description")
        if isinstance(key, str) and isinstance(description, str):
            found[key] = description
    return found


def _conversations(
    loaded: LoadedExperiment, pass_outcomes: Sequence[str]
) -> list[dict[str, Any]]:
    """The conversations the page's script renders, failing ones first."""
    intents = _intents(_mapping(loaded.metadata))
    ranked: list[tuple[int, int, dict[str, Any]]] = []
    for position, line in enumerate(loaded.traces):
        record = record_from_trace(line)
        passed = is_passed(record, pass_outcomes)
        rank = 0 if record.status is not RunStatus.DONE else (2 if passed else 1)
        ending = _mapping(line.get("ending"))
        error = _mapping(line.get("error"))
        usage = _mapping(_mapping(line.get("token_usage")).get("total"))
        ranked.append(
            (
                rank,
                position,
                {
                    "id": record.simulation_id,
                    "status": record.status.value,
                    "passed": passed,
                    "failing": rank < 2,
                    "outcome": line.get("outcome"),
                    "persona": record.cell.persona_id,
                    "input_id": record.cell.input_id,
                    "intent": intents.get(record.cell.input_id),
                    "iteration": record.cell.iteration,
                    "seed": record.seed,
                    "input": record.input,
                    "reason": ending.get("reason"),
                    "detail": ending.get("detail"),
                    "error": (
                        f"{error.get('type')}: {error.get('message')} "
                        f"({error.get('side')} side)"
                        if error
                        else None
                    ),
                    "tokens": _count(usage.get("total_tokens")),
                    "calls": _count(usage.get("calls")),
                    "attempts": record.attempts,
                    "seconds": round(record.duration_seconds, 3),
                    "messages": [
                        [message.sender.value, message.content]
                        for message in record.result.conversation.messages
                    ]
                    if record.result is not None
                    else [],
                },
            )
        )
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [item[2] for item in ranked]


def _script_json(value: object) -> str:
    """JSON that is safe inside ``<script>``: no ``<``, ``>`` or ``&`` characters.

    Those only occur inside JSON strings, where their ``\\u`` escapes mean the same.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


# -- sections ------------------------------------------------------------------------


def _header(loaded: LoadedExperiment, title: str, summary: Mapping[str, Any]) -> str:
    metadata = _mapping(loaded.metadata)
    rows = []
    for key, label in (
        ("description", "Description"),
        ("run_id", "Run id"),
        ("status", "Status"),
        ("started_at", "Started"),
        ("finished_at", "Finished"),
    ):
        value = metadata.get(key)
        if value not in (None, ""):
            rows.append(f"<dt>{label}</dt><dd>{_e(value)}</dd>")
    rows.append(f"<dt>Folder</dt><dd><code>{_e(loaded.directory)}</code></dd>")
    by_status = _mapping(summary.get("by_status"))
    counts = "".join(
        f'<span class="pill status-{status.value}">{status.value} '
        f"<b>{_count(by_status.get(status.value))}</b></span>"
        for status in RunStatus
    )
    note = (
        '<p class="note">No metadata.json: save_aggregated_metrics was off.</p>'
        if loaded.metadata is None
        else ""
    )
    return (
        f'<header id="summary">\n<h1>{_e(title)}</h1>\n<dl class="meta">'
        f"{''.join(rows)}</dl>\n"
        f'<p class="counts">{_count(summary.get("total"))} conversations: '
        f"{counts}</p>\n{note}</header>\n"
    )


def _outcomes(summary: Mapping[str, Any]) -> str:
    by_outcome = {
        str(name): _count(count)
        for name, count in _mapping(summary.get("by_outcome")).items()
    }
    rate = _mapping(summary.get("pass_rate"))
    definition = rate.get("definition")
    pass_rate = (
        f'<p class="pass-rate"><span class="big">{_percent(rate.get("value"))}</span>'
        f" pass rate ({_count(rate.get('passed'))} of {_count(rate.get('total'))}), "
        f"95% interval {_percent(rate.get('ci95_low'))} - "
        f"{_percent(rate.get('ci95_high'))}</p>\n"
        + (
            f'<p class="note">pass = {_e(definition)}</p>\n'
            if isinstance(definition, str)
            else ""
        )
        + _interval_svg(rate)
    )
    return (
        '<section id="outcomes">\n<h2>Outcomes</h2>\n'
        f"{_outcome_chart(by_outcome)}{pass_rate}</section>\n"
    )


def _outcome_chart(by_outcome: Mapping[str, int]) -> str:
    if not by_outcome:
        return '<p class="note">No conversations.</p>\n'
    total = sum(by_outcome.values()) or 1
    most = max(by_outcome.values()) or 1
    ordered = sorted(by_outcome.items(), key=lambda item: (-item[1], item[0]))
    step = _BAR_HEIGHT + _BAR_GAP
    width = _LABEL_WIDTH + _BAR_AREA + 110
    height = step * len(ordered)
    bars = []
    for row, (name, count) in enumerate(ordered):
        y = row * step
        length = max(round(count / most * _BAR_AREA), 1 if count else 0)
        label = name if len(name) <= 22 else name[:21] + "\u2026"
        kind = "none" if name == "none" else "outcome"
        bars.append(
            f'<g class="bar bar-{kind}"><title>{_e(name)}: {count}</title>'
            f'<text x="{_LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end">'
            f"{_e(label)}</text>"
            f'<rect x="{_LABEL_WIDTH}" y="{y}" width="{length}" '
            f'height="{_BAR_HEIGHT}" rx="3"></rect>'
            f'<text x="{_LABEL_WIDTH + length + 6}" y="{y + 16}">{count} '
            f"({count / total * 100:.1f}%)</text></g>"
        )
    return (
        f'<svg class="chart" id="outcome-chart" role="img" '
        f'aria-label="Outcome distribution" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">{"".join(bars)}</svg>\n'
    )


def _interval_svg(rate: Mapping[str, Any]) -> str:
    value = _number(rate.get("value"))
    low = _number(rate.get("ci95_low"))
    high = _number(rate.get("ci95_high"))
    if value is None or low is None or high is None:
        return ""
    span = _BAR_AREA
    x0 = _LABEL_WIDTH
    return (
        f'<svg class="interval" role="img" aria-label="Pass rate and its 95% interval" '
        f'width="{x0 + span + 20}" height="28" viewBox="0 0 {x0 + span + 20} 28">'
        f'<text x="{x0 - 8}" y="18" text-anchor="end">pass rate</text>'
        f'<rect class="track" x="{x0}" y="10" width="{span}" height="8" rx="4"></rect>'
        f'<rect class="ci" x="{x0 + low * span:.1f}" y="6" '
        f'width="{max((high - low) * span, 1):.1f}" height="16" rx="3"></rect>'
        f'<circle class="point" cx="{x0 + value * span:.1f}" cy="14" r="5"></circle>'
        "</svg>\n"
    )


def _figures(summary: Mapping[str, Any]) -> str:
    rows = []
    for key, label in (("turns", "Turns"), ("latency_seconds", "Latency (s)")):
        figures = _mapping(summary.get(key))
        rows.append(
            f"<tr><th>{label}</th>"
            + "".join(
                f"<td>{_fmt(figures.get(name))}</td>"
                for name in ("p50", "p95", "mean", "max")
            )
            + "</tr>"
        )
    tokens = _mapping(summary.get("tokens"))
    cost = summary.get("estimated_cost_usd")
    return (
        '<section id="figures">\n<h2>Turns, latency and tokens</h2>\n'
        "<table><thead><tr><th></th><th>p50</th><th>p95</th><th>mean</th><th>max</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>\n"
        f"<p>Tokens: input {_fmt(tokens.get('input'))}, output "
        f"{_fmt(tokens.get('output'))}, total {_fmt(tokens.get('total'))} in "
        f"{_fmt(tokens.get('calls'))} calls; estimated cost {_cost(cost)}.</p>\n"
        "</section>\n"
    )


def _breakdown(
    heading: str,
    kind: str,
    figures: Mapping[str, Any],
    notes: Mapping[str, str],
) -> str:
    anchor = f"by-{kind}"
    if not figures:
        return (
            f'<section id="{anchor}">\n<h2>{heading}</h2>\n'
            '<p class="note">No conversations.</p>\n</section>\n'
        )
    label = "intent" if kind == "input" else "description"
    rows = []
    for key, value in figures.items():
        data = _mapping(value)
        note = notes.get(str(key), "")
        rows.append(
            f"<tr><td><code>{_e(key)}</code></td><td>{_e(note)}</td>"
            f'<td class="num">{_fmt(data.get("count"))}</td>'
            f'<td class="num">{_fmt(data.get("passed"))}</td>'
            f'<td class="num">{_percent(data.get("pass_rate"))}</td></tr>'
        )
    return (
        f'<section id="{anchor}">\n<h2>{heading}</h2>\n<table class="breakdown">'
        f"<thead><tr><th>{kind}</th><th>{label}</th><th>count</th><th>passed</th>"
        f"<th>pass rate</th></tr></thead><tbody>{''.join(rows)}</tbody></table>\n"
        "</section>\n"
    )


def _browser(loaded: LoadedExperiment) -> str:
    if not loaded.has_traces:
        return (
            '<section id="conversations">\n<h2>Conversations</h2>\n<p class="note">'
            "No traces.jsonl: save_traces was off, no transcripts to show.</p>\n"
            "</section>\n"
        )
    return (
        '<section id="conversations">\n<h2>Conversations</h2>\n'
        '<p class="note">Failing conversations first (failed and timed out, then '
        "finished without passing). Search matches any text: input, intent, persona, "
        "outcome, status, ending, messages; every word must match.</p>\n"
        '<div class="toolbar"><input type="search" id="search" '
        'placeholder="Search conversations" aria-label="Search conversations">'
        '<button type="button" id="expand">Expand all</button>'
        '<button type="button" id="collapse">Collapse all</button>'
        '<span id="shown-count" aria-live="polite"></span></div>\n'
        "<noscript><p>The transcript browser needs JavaScript.</p></noscript>\n"
        '<div id="conversation-list"></div>\n</section>\n'
    )


_CSS: Final = """
:root{--fg:#1d2330;--muted:#5b6475;--line:#d9dee7;--bg:#f6f7f9;--card:#fff;
--pass:#1a7f4b;--fail:#c0392b;--warn:#b9770e;--bar:#3d6fb6;--customer:#eef3fb;
--agent:#f3f0fa}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:1100px;margin:0 auto;padding:24px}
header,section{background:var(--card);border:1px solid var(--line);border-radius:8px;
padding:16px 20px;margin-bottom:16px}
h1{margin:0 0 8px;font-size:24px}h2{margin:0 0 12px;font-size:18px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0}
dl.meta dt{color:var(--muted)}dl.meta dd{margin:0}
.note{color:var(--muted);font-size:13px}
.pill{display:inline-block;border-radius:12px;padding:1px 10px;margin-right:6px;
background:var(--bg);border:1px solid var(--line);font-size:13px}
.status-done{color:var(--pass)}.status-failed{color:var(--fail)}
.status-timeout{color:var(--warn)}
svg text{font:13px system-ui,sans-serif;fill:var(--fg)}
svg .bar rect{fill:var(--bar)}svg .bar-none rect{fill:#9aa3b2}
svg .track{fill:var(--line)}svg .ci{fill:#a9c3ea}svg .point{fill:var(--bar)}
.big{font-size:26px;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line)}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.toolbar{display:flex;gap:8px;align-items:center;margin-bottom:12px;flex-wrap:wrap}
#search{flex:1;min-width:220px;padding:6px 10px;font-size:15px;
border:1px solid var(--line);border-radius:6px}
button{padding:5px 10px;border:1px solid var(--line);border-radius:6px;
background:var(--card);cursor:pointer}
#shown-count{color:var(--muted);font-size:14px}
details.conv{border:1px solid var(--line);border-left:4px solid var(--pass);
border-radius:6px;margin-bottom:8px;background:var(--card)}
details.conv.failing{border-left-color:var(--fail)}
details.conv[hidden],details.conv.is-hidden{display:none}
details.conv summary{cursor:pointer;padding:8px 12px;display:flex;gap:8px;
flex-wrap:wrap;align-items:baseline}
.tag{font-size:12px;border-radius:4px;padding:0 6px;background:var(--bg);
border:1px solid var(--line)}
.tag.bad{color:#fff;background:var(--fail);border-color:var(--fail)}
.tag.good{color:#fff;background:var(--pass);border-color:var(--pass)}
.preview{color:var(--muted);overflow:hidden;text-overflow:ellipsis;white-space:nowrap;
flex:1;min-width:0}
.facts{display:flex;flex-wrap:wrap;gap:4px 16px;padding:0 12px 8px;font-size:13px;
color:var(--muted)}.facts b{color:var(--fg);font-weight:600}
.error{color:var(--fail);padding:0 12px 8px;font-size:13px;white-space:pre-wrap}
.transcript{padding:0 12px 12px}
.msg{border-radius:6px;padding:6px 10px;margin:6px 0;white-space:pre-wrap;
overflow-wrap:anywhere}
.msg.customer{background:var(--customer);margin-right:15%}
.msg.agent{background:var(--agent);margin-left:15%}
.msg .role{display:block;font-size:12px;color:var(--muted);font-weight:600}
"""

# Renders the conversations from the JSON block with textContent only (no innerHTML
# of data), then filters them by the search box or by "#q=..." in the address.
_JS: Final = """
(function () {
  "use strict";
  var source = document.getElementById("clientsim-data");
  var list = document.getElementById("conversation-list");
  var search = document.getElementById("search");
  var counter = document.getElementById("shown-count");
  if (!source || !list || !search || !counter) { return; }
  var data = JSON.parse(source.textContent);
  var entries = [];

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function fact(parent, label, value) {
    var span = el("span", "fact", label + " ");
    span.appendChild(el("b", null, value === null || value === undefined ? "-" : value));
    parent.appendChild(span);
  }

  var fragment = document.createDocumentFragment();
  data.forEach(function (c, index) {
    var details = el("details", "conv " + (c.failing ? "failing" : "passing"));
    details.id = "conv-" + index;
    details.setAttribute("data-status", c.status);
    var summary = el("summary");
    summary.appendChild(el("span", "tag " + (c.status === "done" ? "" : "bad"), c.status));
    summary.appendChild(el("span", "tag " + (c.passed ? "good" : "bad"),
      c.passed ? "pass" : "fail"));
    summary.appendChild(el("span", "tag", "outcome: " + (c.outcome || "none")));
    summary.appendChild(el("span", "tag", "persona: " + c.persona));
    summary.appendChild(el("span", "tag", "input " + c.input_id));
    summary.appendChild(el("span", "preview", c.intent || c.input));
    details.appendChild(summary);
    var facts = el("div", "facts");
    fact(facts, "ending", c.reason || "none");
    if (c.detail) { fact(facts, "detail", c.detail); }
    fact(facts, "seed", c.seed);
    fact(facts, "tokens", c.tokens);
    fact(facts, "model calls", c.calls);
    fact(facts, "attempts", c.attempts);
    fact(facts, "seconds", c.seconds);
    fact(facts, "iteration", c.iteration);
    fact(facts, "id", c.id);
    details.appendChild(facts);
    if (c.error) { details.appendChild(el("div", "error", c.error)); }
    var transcript = el("div", "transcript");
    if (!c.messages.length) {
      transcript.appendChild(el("p", "note", "(no messages)"));
    }
    c.messages.forEach(function (m) {
      var box = el("div", "msg " + m[0]);
      box.appendChild(el("span", "role", m[0]));
      box.appendChild(document.createTextNode(m[1]));
      transcript.appendChild(box);
    });
    details.appendChild(transcript);
    fragment.appendChild(details);
    var text = [c.id, c.status, c.passed ? "pass passed" : "fail failing",
      c.outcome || "none", c.persona, c.input_id, c.intent || "", c.input,
      c.reason || "", c.detail || "", c.error || "", String(c.seed)];
    c.messages.forEach(function (m) { text.push(m[1]); });
    entries.push({node: details, text: text.join("\\n").toLowerCase()});
  });
  list.appendChild(fragment);
  if (entries.length && data[0].failing) { entries[0].node.open = true; }

  function apply(query) {
    var words = query.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown = 0;
    entries.forEach(function (entry) {
      var match = words.every(function (w) { return entry.text.indexOf(w) !== -1; });
      entry.node.hidden = !match;
      entry.node.classList.toggle("is-hidden", !match);
      if (match) { shown += 1; }
    });
    counter.textContent = shown + " of " + entries.length + " conversations shown";
  }
  function fromHash() {
    var match = /(?:^#|&)q=([^&]*)/.exec(window.location.hash);
    if (!match) { return null; }
    try { return decodeURIComponent(match[1].replace(/\\+/g, " ")); }
    catch (e) { return match[1]; }
  }
  search.addEventListener("input", function () {
    apply(search.value);
    try {
      history.replaceState(null, "", search.value ?
        "#q=" + encodeURIComponent(search.value) : window.location.pathname);
    } catch (e) { /* some file:// pages refuse; the filter still works */ }
  });
  window.addEventListener("hashchange", function () {
    var query = fromHash();
    if (query !== null) { search.value = query; apply(query); }
  });
  document.getElementById("expand").addEventListener("click", function () {
    entries.forEach(function (e) { if (!e.node.hidden) { e.node.open = true; } });
  });
  document.getElementById("collapse").addEventListener("click", function () {
    entries.forEach(function (e) { e.node.open = false; });
  });
  var initial = fromHash();
  if (initial !== null) { search.value = initial; }
  apply(search.value);
})();
"""
