"""The HTML report: sections, escaping, ordering, no network references, the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from clientsim.cli import main
from clientsim.errors import ConfigError
from clientsim.experiments.output import ExperimentWriter, new_experiment_dir
from clientsim.render.html import render_html_report, write_html_report


DATA_BLOCK = re.compile(
    r'<script type="application/json" id="clientsim-data">(.*?)</script>', re.DOTALL
)


def trace(
    number: int,
    *,
    status: str = "done",
    outcome: str | None = "resolved",
    persona: str = "patient",
    input_id: str = "0",
    messages: list[tuple[str, str]] | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    messages = messages or [("customer", f"hello {number}"), ("agent", "hi there")]
    usage = {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15, "calls": 1}
    return {
        "trace_id": f"run/{input_id}/{persona}/{number}",
        "run_id": "run",
        "input_id": input_id,
        "persona_id": persona,
        "iteration": number,
        "seed": 1000 + number,
        "status": status,
        "input": messages[0][1],
        "outcome": outcome,
        "outcome_description": "",
        "ending": {"reason": "supervisor", "detail": "done", "message_count": 2},
        "error": error,
        "attempts": 1,
        "started_at": "2026-01-01T12:00:00+00:00",
        "duration_seconds": 0.5,
        "conversation_seconds": 0.4,
        "token_usage": None
        if status != "done"
        else {"customer": usage, "agent": usage, "judge": {}, "total": usage},
        "models": {},
        "transcript": [
            {"role": role, "content": content, "timestamp": "2026-01-01T12:00:00"}
            for role, content in messages
        ]
        if status == "done"
        else [],
    }


def folder_with(
    tmp_path: Path,
    traces: list[dict[str, Any]],
    *,
    metadata: dict[str, Any] | None = None,
    summary: bool = False,
) -> Path:
    folder = new_experiment_dir(tmp_path / "experiments")
    ExperimentWriter(folder, save_traces=True, save_aggregated_metrics=True)
    lines = "".join(json.dumps(line) + "\n" for line in traces)
    (folder / "artifacts" / "traces.jsonl").write_text(lines, encoding="utf-8")
    base = {
        "name": "demo",
        "description": "A demo run",
        "run_id": "run",
        "status": "done",
        "started_at": "2026-01-01T12:00:00+00:00",
        "finished_at": "2026-01-01T12:01:00+00:00",
        "pass_outcomes": ["resolved"],
        "config": {
            "inputs": [
                {"id": None, "content": "a", "intent": "Reset the password"},
                {"id": None, "content": "b", "intent": "Get a refund"},
            ],
            "personas": [{"id": "patient", "description": "Calm and polite"}],
        },
    }
    (folder / "metadata.json").write_text(json.dumps(metadata or base))
    if summary:
        (folder / "summary.json").write_text(json.dumps({"total": 99}))
    return folder


def data_of(page: str) -> list[dict[str, Any]]:
    match = DATA_BLOCK.search(page)
    assert match is not None
    loaded: list[dict[str, Any]] = json.loads(match.group(1))
    return loaded


def test_the_page_has_every_section(tmp_path):
    folder = folder_with(
        tmp_path,
        [
            trace(0),
            trace(1, outcome="escalated", input_id="1"),
            trace(2, status="failed", outcome=None),
        ],
    )
    page = render_html_report(folder)
    assert page.startswith("<!DOCTYPE html>")
    assert "<h1>demo</h1>" in page
    for text in ("A demo run", "2026-01-01T12:01:00+00:00", "Run id"):
        assert text in page
    assert re.search(r"done <b>2</b>.*failed <b>1</b>.*timeout <b>0</b>", page)
    assert '<svg class="clientsim-chart" id="outcome-chart"' in page
    assert page.count('<g class="clientsim-bar"') == 3  # resolved, escalated, none
    assert "33.3%</span> pass rate (1 of 3), 95% interval" in page
    assert '<section id="by-persona">' in page
    assert "Calm and polite" in page
    assert '<section id="by-input">' in page
    assert "Reset the password" in page
    assert "Get a refund" in page
    assert 'id="search"' in page
    assert 'id="shown-count"' in page
    assert "<style>" in page
    assert page.count("<script") == 2


def test_every_text_from_the_folder_is_escaped(tmp_path):
    evil = "<script>alert('x')</script> & </script><img src=x onerror=alert(2)>"
    folder = folder_with(
        tmp_path,
        [trace(0, persona="p", messages=[("customer", evil), ("agent", evil)])],
        metadata={"name": evil, "description": evil, "run_id": "<i>run</i>"},
    )
    page = render_html_report(folder)
    assert "<script>alert" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp;" in page
    assert "\\u003cscript\\u003ealert('x')" in page
    assert "<i>run</i>" not in page
    assert "&lt;i&gt;run&lt;/i&gt;" in page
    # Exactly our two closing tags: the data cannot close its block early.
    assert page.count("</script>") == 2
    data = data_of(page)
    assert data[0]["messages"][0] == ["customer", evil]


def test_failing_conversations_come_first(tmp_path):
    folder = folder_with(
        tmp_path,
        [
            trace(0),
            trace(1, outcome="escalated"),
            trace(2, status="timeout", outcome=None),
            trace(3),
            trace(
                4,
                status="failed",
                outcome=None,
                error={"type": "AgentError", "message": "boom", "side": "agent"},
            ),
            trace(5, outcome=None),
        ],
    )
    data = data_of(render_html_report(folder))
    assert [item["iteration"] for item in data] == [2, 4, 1, 5, 0, 3]
    assert [item["failing"] for item in data] == [True] * 4 + [False] * 2
    assert data[1]["error"] == "AgentError: boom (agent side)"
    assert data[0]["seed"] == 1002
    assert data[4]["tokens"] == 15
    assert data[4]["reason"] == "supervisor"
    assert data[4]["intent"] == "Reset the password"


def test_no_network_reference_outside_transcript_text(tmp_path):
    url = "https://example.com/track?id=1&x=<2>"
    folder = folder_with(
        tmp_path, [trace(0, messages=[("customer", "see " + url), ("agent", url)])]
    )
    page = render_html_report(folder)
    outside = DATA_BLOCK.sub("", page)
    assert "http://" not in outside
    assert "https://" not in outside
    assert " src=" not in outside
    assert "<link" not in outside
    assert "@import" not in outside
    assert "url(" not in outside
    assert data_of(page)[0]["messages"][1] == ["agent", url]


def test_without_summary_the_figures_come_from_the_traces(tmp_path):
    folder = folder_with(tmp_path, [trace(0), trace(1, outcome="escalated")])
    page = render_html_report(folder)
    assert "50.0%</span> pass rate (1 of 2)" in page


def test_a_stored_summary_is_used_as_is(tmp_path):
    folder = folder_with(tmp_path, [trace(0)], summary=True)
    assert "99 conversations" in render_html_report(folder)


def test_without_traces_the_browser_says_why(tmp_path):
    folder = new_experiment_dir(tmp_path)
    (folder / "metadata.json").write_text(json.dumps({"name": "bare"}))
    page = render_html_report(folder)
    assert "save_traces was off" in page
    assert data_of(page) == []


def test_a_large_run_stays_small(tmp_path):
    talk = [
        ("customer" if index % 2 == 0 else "agent", "words " * 30)
        for index in range(10)
    ]
    folder = folder_with(
        tmp_path,
        [trace(number, messages=talk) for number in range(1000)],
    )
    path = write_html_report(folder)
    assert path.stat().st_size < 10_000_000
    assert len(data_of(path.read_text(encoding="utf-8"))) == 1000


def test_write_html_report_paths(tmp_path):
    folder = folder_with(tmp_path, [trace(0)])
    assert write_html_report(folder) == folder / "report.html"
    target = tmp_path / "out" / "nested" / "r.html"
    assert write_html_report(folder, target) == target
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(ConfigError, match="is a directory"):
        write_html_report(folder, tmp_path)
    with pytest.raises(ConfigError, match="not an experiment folder"):
        write_html_report(tmp_path / "out")


def test_the_cli_writes_the_report(tmp_path):
    folder = folder_with(tmp_path, [trace(0)])
    runner = CliRunner()
    result = runner.invoke(main, ["report", str(folder), "--html"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(folder / "report.html")
    assert (folder / "report.html").is_file()
    target = tmp_path / "elsewhere.html"
    result = runner.invoke(main, ["report", str(folder), "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(target)
    assert target.is_file()
    result = runner.invoke(main, ["report", str(folder), "--html", "--json"])
    assert result.exit_code == 2
    result = runner.invoke(main, ["report", str(tmp_path / "missing"), "--html"])
    assert result.exit_code == 2
    assert "does not exist" in result.output
    text = runner.invoke(main, ["report", str(folder)])
    assert text.exit_code == 0
    assert text.output.startswith("Experiment: demo")
