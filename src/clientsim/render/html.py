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
from clientsim.models.conversation import ConversationResult
from clientsim.models.records import RunStatus
from clientsim.render._format import (
    RUN_FACTS,
    as_count,
    as_mapping,
    as_number,
    escape,
    fmt_cost,
    fmt_number,
    fmt_percent,
    pass_outcomes_of,
    shown_calls,
    unfinished_note,
)
from clientsim.render._html_assets import CSS, JS
from clientsim.render.chart import interval_bar, outcome_chart


__all__ = ["REPORT_FILE", "render_html_report", "write_html_report"]

#: The file :func:`write_html_report` writes inside the experiment folder by default.
REPORT_FILE: Final = "report.html"


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
    pass_outcomes = pass_outcomes_of(loaded)
    conversations = _conversations(loaded, pass_outcomes)
    summary = loaded.summary
    if summary is None:
        summary = summarize(
            [record_from_trace(line) for line in loaded.traces],
            pass_outcomes=pass_outcomes,
        )
    metadata = as_mapping(loaded.metadata)
    name = metadata.get("name")
    title = name if isinstance(name, str) and name else "(unnamed experiment)"
    intents = _intents(metadata)
    personas = _personas(metadata)
    body = "".join(
        (
            _header(loaded, title, summary),
            _outcomes(summary, pass_outcomes),
            _figures(summary),
            _breakdown(
                "By persona",
                "persona",
                as_mapping(summary.get("by_persona")),
                personas,
            ),
            _breakdown(
                "By input (intent)",
                "input",
                as_mapping(summary.get("by_input")),
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
        f"<title>{escape(title)} - clientsim report</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n<main>\n{body}</main>\n"
        f'<script type="application/json" id="clientsim-data">{data}</script>\n'
        f"<script>{JS}</script>\n</body>\n</html>\n"
    )


# -- reading the folder defensively: the files are a user's to edit -----------------


def _intents(metadata: Mapping[str, Any]) -> dict[str, str]:
    """Input id -> intent, from the configuration stored in ``metadata.json``."""
    inputs = as_mapping(metadata.get("config")).get("inputs")
    if not isinstance(inputs, list):
        return {}
    found: dict[str, str] = {}
    for position, item in enumerate(inputs):
        data = as_mapping(item)
        key = data.get("id")
        intent = data.get("intent")
        if isinstance(intent, str) and intent:
            found[str(key) if key is not None else str(position)] = intent
    return found


def _personas(metadata: Mapping[str, Any]) -> dict[str, str]:
    """Persona id -> description, from the configuration in ``metadata.json``."""
    personas = as_mapping(metadata.get("config")).get("personas")
    if not isinstance(personas, list):
        return {}
    found: dict[str, str] = {}
    for item in personas:
        data = as_mapping(item)
        key, description = data.get("id"), data.get("description")
        if isinstance(key, str) and isinstance(description, str):
            found[key] = description
    return found


def _conversations(
    loaded: LoadedExperiment, pass_outcomes: Sequence[str]
) -> list[dict[str, Any]]:
    """The conversations the page's script renders, failing ones first."""
    intents = _intents(as_mapping(loaded.metadata))
    ranked: list[tuple[int, int, dict[str, Any]]] = []
    for position, line in enumerate(loaded.traces):
        record = record_from_trace(line)
        passed = is_passed(record, pass_outcomes)
        rank = 0 if record.status is not RunStatus.DONE else (2 if passed else 1)
        ending = as_mapping(line.get("ending"))
        error = as_mapping(line.get("error"))
        usage = as_mapping(as_mapping(line.get("token_usage")).get("total"))
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
                    "tokens": as_count(usage.get("total_tokens")),
                    "calls": as_count(usage.get("calls")),
                    "attempts": record.attempts,
                    "seconds": round(record.duration_seconds, 3),
                    "criteria": _criteria(record.result),
                    "messages": [
                        [message.sender.value, message.content, shown_calls(message)]
                        if message.tool_calls
                        else [message.sender.value, message.content]
                        for message in record.result.conversation.messages
                    ]
                    if record.result is not None
                    else [],
                },
            )
        )
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [item[2] for item in ranked]


def _criteria(result: ConversationResult | None) -> list[list[object]]:
    """``[criterion, passed, reason]`` per written criterion the result was judged on."""
    if result is None or result.criteria is None:
        return []
    return [
        [verdict.criterion, verdict.passed, verdict.reason]
        for verdict in result.criteria.verdicts
    ]


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
    metadata = as_mapping(loaded.metadata)
    rows = []
    for key, label in RUN_FACTS:
        value = metadata.get(key)
        if value not in (None, ""):
            rows.append(f"<dt>{label}</dt><dd>{escape(value)}</dd>")
    rows.append(f"<dt>Folder</dt><dd><code>{escape(loaded.directory)}</code></dd>")
    by_status = as_mapping(summary.get("by_status"))
    counts = "".join(
        f'<span class="pill status-{status.value}">{status.value} '
        f"<b>{as_count(by_status.get(status.value))}</b></span>"
        for status in RunStatus
    )
    note = (
        '<p class="note">No metadata.json: save_aggregated_metrics was off.</p>'
        if loaded.metadata is None
        else ""
    )
    unfinished = unfinished_note(metadata)
    if unfinished is not None:
        sentence, command = unfinished
        finish = f" Finish it with <code>{escape(command)}</code>" if command else ""
        note += f'<p class="unfinished" role="status">{escape(sentence)}{finish}</p>'

    return (
        f'<header id="summary">\n<h1>{escape(title)}</h1>\n<dl class="meta">'
        f"{''.join(rows)}</dl>\n"
        f'<p class="counts">{as_count(summary.get("total"))} conversations: '
        f"{counts}</p>\n{note}</header>\n"
    )


def _outcomes(summary: Mapping[str, Any], pass_outcomes: Sequence[str]) -> str:
    by_outcome = {
        str(name): as_count(count)
        for name, count in as_mapping(summary.get("by_outcome")).items()
    }
    chart = outcome_chart(by_outcome, pass_outcomes, element_id="outcome-chart")
    rate = as_mapping(summary.get("pass_rate"))
    value, low, high = (
        as_number(rate.get(key)) for key in ("value", "ci95_low", "ci95_high")
    )
    definition = rate.get("definition")
    return (
        '<section id="outcomes">\n<h2>Outcomes</h2>\n'
        + (f"{chart}\n" if chart else '<p class="note">No conversations.</p>\n')
        + f'<p class="pass-rate"><span class="big">{fmt_percent(value)}</span> pass '
        f"rate ({as_count(rate.get('passed'))} of {as_count(rate.get('total'))}), "
        f"95% interval {fmt_percent(low)} - {fmt_percent(high)}</p>\n"
        + (
            f'<p class="note">pass = {escape(definition)}</p>\n'
            if isinstance(definition, str)
            else ""
        )
        + (
            f"{interval_bar(value, low, high)}\n"
            if value is not None and low is not None and high is not None
            else ""
        )
        + "</section>\n"
    )


def _figures(summary: Mapping[str, Any]) -> str:
    rows = []
    for key, label in (("turns", "Turns"), ("latency_seconds", "Latency (s)")):
        figures = as_mapping(summary.get(key))
        rows.append(
            f"<tr><th>{label}</th>"
            + "".join(
                f"<td>{fmt_number(figures.get(name))}</td>"
                for name in ("p50", "p95", "mean", "max")
            )
            + "</tr>"
        )
    tokens = as_mapping(summary.get("tokens"))
    cost = summary.get("estimated_cost_usd")
    return (
        '<section id="figures">\n<h2>Turns, latency and tokens</h2>\n'
        "<table><thead><tr><th></th><th>p50</th><th>p95</th><th>mean</th><th>max</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>\n"
        f"<p>Tokens: input {fmt_number(tokens.get('input'))}, output "
        f"{fmt_number(tokens.get('output'))}, total {fmt_number(tokens.get('total'))} in "
        f"{fmt_number(tokens.get('calls'))} calls; estimated cost {fmt_cost(cost)}.</p>\n"
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
        data = as_mapping(value)
        note = notes.get(str(key), "")
        rows.append(
            f"<tr><td><code>{escape(key)}</code></td><td>{escape(note)}</td>"
            f'<td class="num">{fmt_number(data.get("count"))}</td>'
            f'<td class="num">{fmt_number(data.get("passed"))}</td>'
            f'<td class="num">{fmt_percent(data.get("pass_rate"))}</td></tr>'
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
