"""``_repr_html_`` of conversations, results and batches, and ``to_pandas()``."""

from __future__ import annotations

import html
import re
import sys
from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientsim.errors import ConfigError
from clientsim.experiments.output import summarize
from clientsim.models import (
    Conversation,
    ConversationRecord,
    ConversationResult,
    Ending,
    ErrorRecord,
    GridCell,
    Message,
    Outcome,
    ParticipantRole,
    RunStatus,
    TokenUsage,
    TokenUsageReport,
)
from clientsim.notebook import COLUMNS, conversation_rows, ordered, to_pandas
from clientsim.render.notebook import records_html
from clientsim.runners.batch import BatchResult


CUSTOMER, AGENT = ParticipantRole.CUSTOMER, ParticipantRole.AGENT
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
EVIL = "<script>alert('x')</script>"


def conversation(*texts: str, outcome: Outcome | None = None) -> Conversation:
    messages = [
        Message(
            content=text,
            timestamp=START + timedelta(seconds=10 * index),
            sender=CUSTOMER if index % 2 == 0 else AGENT,
        )
        for index, text in enumerate(texts)
    ]
    return Conversation(messages, outcome)


RESOLVED = Outcome("resolved", "The issue was fixed")


def result(
    *texts: str, outcome: Outcome | None = RESOLVED, error: ErrorRecord | None = None
) -> ConversationResult:
    return ConversationResult(
        conversation(*texts, outcome=outcome),
        1.25,
        ending=Ending(
            reason="error" if error else "outcome_reached",
            detail="outcome 'resolved' reached",
            message_count=len(texts),
        ),
        token_usage=TokenUsageReport(
            customer=TokenUsage(
                input_tokens=10, output_tokens=5, total_tokens=15, calls=1
            ),
            agent=TokenUsage(
                input_tokens=20, output_tokens=7, total_tokens=27, calls=1
            ),
        ),
        error=error,
    )


def record(
    input_id: str,
    persona: str = "patient",
    iteration: int = 0,
    *,
    status: RunStatus = RunStatus.DONE,
    outcome: Outcome | None = RESOLVED,
    error: ErrorRecord | None = None,
    text: str = "Where is my parcel?",
) -> ConversationRecord:
    return ConversationRecord(
        run_id="run1",
        cell=GridCell(input_id=input_id, persona_id=persona, iteration=iteration),
        seed=100 + iteration,
        status=status,
        input=text,
        result=result(text, "It ships today.", text, outcome=outcome, error=error),
        error=error,
        duration_seconds=0.5,
        models={
            "offline": TokenUsage(
                input_tokens=30, output_tokens=12, total_tokens=42, calls=3
            )
        },
    )


# -- Conversation ------------------------------------------------------------------


def test_a_conversation_is_a_chat_transcript():
    page = conversation(
        "Hi", "Hello, how can I help?", "Bye", outcome=RESOLVED
    )._repr_html_()
    sides = re.findall(
        r"clientsim-(customer|agent)\" style=\"display: flex; "
        r"justify-content: (flex-start|flex-end)",
        page,
    )
    assert sides == [
        ("customer", "flex-start"),
        ("agent", "flex-end"),
        ("customer", "flex-start"),
    ]
    assert page.index("Hi") < page.index("Hello, how can I help?") < page.index("Bye")
    assert "09:00:00 (+0.0 s)" in page
    assert "09:00:10 (+10.0 s)" in page
    assert 'title="2026-01-05T09:00:20+00:00"' in page
    assert "3 messages" in page
    assert "Outcome:" in page
    assert "resolved" in page
    assert "The issue was fixed" in page


def test_an_empty_conversation_without_outcome():
    page = Conversation(())._repr_html_()
    assert "0 messages" in page
    assert "No messages." in page
    assert "No outcome reached." in page


def test_html_in_a_message_is_escaped():
    page = conversation(EVIL, f"<img src=x onerror=alert(1)> {EVIL}")._repr_html_()
    assert "<script" not in page
    assert "<img" not in page
    assert html.escape(EVIL) in page


@given(st.text(min_size=1, max_size=40))
def test_any_message_text_appears_escaped_and_only_escaped(text):
    page = conversation(text)._repr_html_()
    assert f"<div>{html.escape(text)}</div>" in page
    tags = set(re.findall(r"</?([a-zA-Z]+)", page))
    assert tags <= {"div", "span"}


def test_no_script_or_external_resource_anywhere():
    pages = [
        conversation("Hi", "Hello")._repr_html_(),
        result("Hi", "Hello")._repr_html_(),
        BatchResult(
            run_id="r", records=(record("0"),), skipped=0, live_model_calls=0
        )._repr_html_(),
    ]
    for page in pages:
        assert "<script" not in page
        assert "<link" not in page
        assert "<style" not in page
        assert "src=" not in page
        assert "http" not in page  # not even an SVG namespace


# -- ConversationResult --------------------------------------------------------------


def test_a_result_shows_ending_duration_and_tokens():
    page = result("Hi", "Hello")._repr_html_()
    assert "ConversationResult" in page
    assert ">ok<" in page
    assert "outcome_reached" in page
    assert "outcome &#x27;resolved&#x27; reached" in page
    assert "1.25 s wall clock" in page
    assert "Simulated time" in page
    assert "42 (30 in, 12 out, 2 calls)" in page
    assert "customer 15, agent 27, judge 0" in page
    assert "clientsim-conversation" in page
    assert "Error" not in page


def test_a_failed_result_shows_its_error_escaped():
    error = ErrorRecord(
        source="channel",
        type="httpx.ConnectError",
        message=f"refused {EVIL}",
        transient=True,
    )
    page = result("Hi", outcome=None, error=error)._repr_html_()
    assert ">error<" in page
    assert "httpx.ConnectError" in page
    assert f"refused {html.escape(EVIL)}" in page
    assert "source channel, side agent, transient" in page
    assert "<script" not in page


# -- batches -------------------------------------------------------------------------


def batch(
    *records: ConversationRecord, run_id: str = "run1", skipped: int = 0
) -> BatchResult:
    return BatchResult(
        run_id=run_id, records=records, skipped=skipped, live_model_calls=3
    )


def test_a_batch_shows_a_table_a_chart_and_the_pass_rate():
    escalated = Outcome("escalated", "Handed to a specialist")
    error = ErrorRecord(source="agent", type="builtins.RuntimeError", message="boom")
    page = batch(
        record("1", "rushed"),
        record("0", "patient"),
        record("0", "rushed", outcome=escalated),
        record("1", "patient", status=RunStatus.FAILED, outcome=None, error=error),
        skipped=2,
    )._repr_html_()
    assert "BatchResult" in page
    assert "run1" in page
    assert "4 (skipped 2 already stored)" in page
    assert "done 3, failed 1, timeout 0" in page
    # the default pass: done and no error
    assert "Pass rate <b>75.0%</b> (3/4, 95% CI" in page
    assert "status &#x27;done&#x27; and no error" in page
    chart = page[page.index("<svg") : page.index("</svg>")]
    assert 'aria-label="Outcome distribution"' in chart
    assert chart.count("<rect") == 3  # escalated, resolved, none
    assert chart.index("escalated") < chart.index("resolved") < chart.index(">none<")
    assert "2 (50%)" in chart
    rows = re.findall(r"<tr><td[^>]*>(\d+)</td><td[^>]*>([^<]+)</td>", page)
    assert [key for _, key in rows] == [
        "0/patient/0",
        "0/rushed/0",
        "1/patient/0",
        "1/rushed/0",
    ]
    assert "RuntimeError: boom" in page
    assert ">failed<" in page
    assert "hidden" not in page


def test_a_big_batch_shows_fifty_rows_and_counts_the_rest():
    records = [record(str(index)) for index in range(120)]
    page = batch(*records)._repr_html_()
    assert page.count('<tr><td style="') == 50
    assert "Showing the first 50 of 120 conversations; 70 more hidden" in page
    assert "to_pandas()" in page
    assert ">50</td>" in page
    assert "120/120" in page  # the pass rate counts them all


def test_an_empty_batch():
    # A batch result is only ever returned complete (a cancelled run returns none),
    # so the page has no "interrupted" state to show.
    page = batch()._repr_html_()
    assert "No conversations." in page
    assert "<svg" not in page
    assert "nterrupted" not in page
    assert "Pass rate <b>-</b> (0/0)" in page


def test_text_from_the_grid_is_escaped_in_a_batch():
    evil_record = record("0", persona=EVIL, text=EVIL)
    page = batch(evil_record, run_id=f"run {EVIL}")._repr_html_()
    assert "<script" not in page
    assert html.escape(EVIL) in page


def test_a_summary_with_pass_outcomes_colours_them():
    records = [record("0"), record("1", outcome=None)]
    summary = summarize(records, pass_outcomes=["resolved"])
    page = records_html(records, title="T", summary=summary, max_rows=1)
    assert "Pass rate <b>50.0%</b> (1/2" in page
    assert "outcome in [&#x27;resolved&#x27;]" in page
    assert 'fill="#2e8b57"' in page  # resolved: a pass
    assert 'fill="#999999"' in page  # none
    assert "1 more hidden" in page


# -- rows and pandas -----------------------------------------------------------------


def test_rows_have_every_column_in_grid_order():
    error = ErrorRecord(source="channel", type="httpx.ReadTimeout", message="slow")
    records = [
        record("10", "b", 1),
        record("2", "b", 0, status=RunStatus.TIMEOUT, outcome=None, error=error),
        record("2", "a", 0),
        record("faq", "a", 0),
    ]
    rows = conversation_rows(records)
    assert [row["key"] for row in rows] == ["2/a/0", "2/b/0", "faq/a/0", "10/b/1"]
    assert all(list(row) == list(COLUMNS) for row in rows)
    first, timed_out = rows[0], rows[1]
    assert first == {
        "run_id": "run1",
        "key": "2/a/0",
        "persona": "a",
        "input_id": "2",
        "intent": "Where is my parcel?",
        "iteration": 0,
        "seed": 100,
        "status": "done",
        "outcome": "resolved",
        "ending_reason": "outcome_reached",
        "turns": 2,
        "messages": 3,
        "input_tokens": 30,
        "output_tokens": 12,
        "total_tokens": 42,
        "duration_seconds": 0.5,
        "error_type": None,
        "error_side": None,
    }
    assert timed_out["status"] == "timeout"
    assert timed_out["outcome"] is None
    assert timed_out["error_type"] == "httpx.ReadTimeout"
    assert timed_out["error_side"] == "agent"


def test_rows_without_models_or_result():
    bare = ConversationRecord(
        run_id="r",
        cell=GridCell(input_id="0", persona_id="p", iteration=0),
        seed=1,
        status=RunStatus.FAILED,
        error=ErrorRecord(source="customer", type="ValueError", message="bad"),
    )
    untracked = attrs.evolve(record("1"), models={})
    rows = conversation_rows([bare, untracked])
    assert rows[0]["turns"] == 0
    assert rows[0]["total_tokens"] == 0
    assert rows[0]["ending_reason"] is None
    assert rows[0]["error_side"] == "simulator"
    assert rows[1]["total_tokens"] == 42  # from the result's token usage


def test_rows_refuse_what_is_not_a_record():
    with pytest.raises(ConfigError, match="expected ConversationRecord objects"):
        ordered([{"key": "0/p/0"}])


def test_to_pandas_gives_one_row_per_conversation():
    escalated = Outcome("escalated", "Handed on")
    frame = batch(
        record("0", "a"), record("0", "b", outcome=escalated), record("1", "a")
    ).to_pandas()
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 3
    by_persona = frame.groupby("persona")["outcome"].apply(list).to_dict()
    assert by_persona == {"a": ["resolved", "resolved"], "b": ["escalated"]}
    assert frame["total_tokens"].sum() == 126


def test_to_pandas_of_nothing_keeps_the_columns():
    frame = to_pandas([])
    assert list(frame.columns) == list(COLUMNS)
    assert frame.empty


def test_to_pandas_without_pandas_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=re.escape("pip install 'clientsim[pandas]'")):
        batch(record("0")).to_pandas()
    with pytest.raises(ImportError, match="to_pandas\\(\\) needs pandas"):
        to_pandas([])
