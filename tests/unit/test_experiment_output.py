"""The experiment folder: layout, summary figures, traces, observations, the report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from clientsim.analysis.stats import MODEL_PRICES, estimate_cost
from clientsim.errors import ConfigError
from clientsim.experiments.output import (
    ExperimentWriter,
    is_passed,
    load_experiment,
    new_experiment_dir,
    observation_lines,
    record_from_trace,
    summarize,
    trace_line,
)
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
from clientsim.render.text import render_text_report


T0 = datetime(2025, 1, 17, 14, 30, tzinfo=UTC)
CUSTOMER = ParticipantRole.CUSTOMER
AGENT = ParticipantRole.AGENT
RESOLVED = Outcome("resolved", "The issue was fixed")
ESCALATED = Outcome("escalated", "Handed to a human")


def talk(customer: int, agent: int, *, first: str = "Hello") -> list[Message]:
    """``customer`` customer messages and ``agent`` agent messages, alternating."""
    messages = []
    sides = []
    for turn in range(max(customer, agent)):
        if turn < customer:
            sides.append(CUSTOMER)
        if turn < agent:
            sides.append(AGENT)
    for index, side in enumerate(sides):
        content = first if index == 0 else f"{side.value} says #{index}"
        messages.append(Message(content, T0 + timedelta(seconds=10 * index), side))
    return messages


def usage(input_tokens: int, output_tokens: int, calls: int) -> TokenUsage:
    return TokenUsage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
        calls=calls,
    )


def make_record(
    *,
    input_id: str,
    persona: str,
    status: RunStatus,
    messages: list[Message] | None,
    outcome: Outcome | None = None,
    ending: str | None = None,
    error: ErrorRecord | None = None,
    attempts: int = 1,
    duration: float = 1.0,
    models: dict[str, TokenUsage] | None = None,
    iteration: int = 0,
    seed: int = 7,
) -> ConversationRecord:
    result = None
    if messages is not None:
        result = ConversationResult(
            Conversation(messages, outcome),
            duration,
            ending=None
            if ending is None
            else Ending(
                reason=ending, detail=f"{ending} detail", message_count=len(messages)
            ),
            token_usage=TokenUsageReport(
                customer=usage(10, 5, 1), agent=usage(20, 8, 1)
            ),
        )
    return ConversationRecord(
        run_id="exp_20250117_143000",
        cell=GridCell(input_id=input_id, persona_id=persona, iteration=iteration),
        seed=seed,
        status=status,
        input=f"input number {input_id}",
        result=result,
        error=error,
        attempts=attempts,
        started_at=T0,
        duration_seconds=duration,
        models=models or {},
    )


AGENT_BUG = ErrorRecord(
    source="agent", type="builtins.ValueError", message="boom", transient=False
)
RATE_LIMIT = ErrorRecord(
    source="customer", type="openai.RateLimitError", message="slow down", transient=True
)
TIMED_OUT = ErrorRecord(
    source="channel",
    type="clientsim.errors.AgentTimeoutError",
    message="no reply in 30s",
    transient=True,
)


@pytest.fixture(name="records")
def _records() -> list[ConversationRecord]:
    return [
        make_record(  # r1: resolved, 3 turns
            input_id="0",
            persona="alice",
            status=RunStatus.DONE,
            messages=talk(3, 3, first="Bonjour, café ✓"),
            outcome=RESOLVED,
            ending="outcome_reached",
            duration=2.0,
            models={"openai:gpt-4o-mini": usage(1000, 500, 3)},
            seed=101,
        ),
        make_record(  # r2: escalated, 2 turns, one retry
            input_id="0",
            persona="bob",
            status=RunStatus.DONE,
            messages=talk(2, 2),
            outcome=ESCALATED,
            ending="closing_phrases",
            attempts=2,
            duration=4.0,
            models={"openai:gpt-4o": usage(2000, 1000, 2)},
            seed=102,
        ),
        make_record(  # r3: the agent raised
            input_id="1",
            persona="alice",
            status=RunStatus.FAILED,
            messages=talk(1, 0, first="My order never came"),
            ending="error",
            error=AGENT_BUG,
            duration=1.0,
            models={"openai:gpt-4o-mini": usage(500, 0, 1)},
            seed=103,
        ),
        make_record(  # r4: the simulator hit a rate limit; nothing ran
            input_id="1",
            persona="bob",
            status=RunStatus.FAILED,
            messages=None,
            error=RATE_LIMIT,
            attempts=4,
            duration=0.5,
            models={"acme:mystery": usage(100, 100, 1)},
            seed=104,
        ),
        make_record(  # r5: timeout with a partial transcript
            input_id="2",
            persona="alice",
            status=RunStatus.TIMEOUT,
            messages=talk(2, 1, first="Where is my refund?"),
            error=TIMED_OUT,
            duration=3.0,
            models={"offline:3": usage(50, 60, 2)},
            seed=105,
        ),
        make_record(  # r6: ran out of messages, no outcome
            input_id="2",
            persona="bob",
            status=RunStatus.DONE,
            messages=talk(4, 4),
            ending="max_messages",
            duration=5.0,
            seed=106,
        ),
    ]


# -- the folder ----------------------------------------------------------------------


def test_new_experiment_dir_names_the_folder_by_utc_second(tmp_path):
    directory = new_experiment_dir(
        tmp_path / "experiments",
        now=datetime(2025, 1, 17, 14, 30, 22),  # noqa: DTZ001 - naive is taken as UTC
    )
    assert directory == tmp_path / "experiments" / "exp_20250117_143022"
    assert (directory / "artifacts").is_dir()
    assert (directory / "logs").is_dir()
    assert sorted(path.name for path in directory.iterdir()) == ["artifacts", "logs"]


def test_new_experiment_dir_converts_aware_times_to_utc(tmp_path):
    paris_winter = timezone(timedelta(hours=1))
    moment = datetime(2025, 1, 17, 15, 30, 22, tzinfo=paris_winter)
    assert new_experiment_dir(tmp_path, now=moment).name == "exp_20250117_143022"


def test_new_experiment_dir_defaults_to_now(tmp_path):
    before = datetime.now(UTC).replace(microsecond=0)
    name = new_experiment_dir(tmp_path).name
    after = datetime.now(UTC)
    stamp = datetime.strptime(name, "exp_%Y%m%d_%H%M%S").replace(tzinfo=UTC)
    assert before <= stamp <= after


def test_new_experiment_dir_numbers_runs_in_the_same_second(tmp_path):
    now = datetime(2025, 1, 17, 14, 30, 22, tzinfo=UTC)
    names = [new_experiment_dir(tmp_path, now=now).name for _ in range(3)]
    assert names == [
        "exp_20250117_143022",
        "exp_20250117_143022_2",
        "exp_20250117_143022_3",
    ]


def test_new_experiment_dir_refuses_a_file_as_output_directory(tmp_path):
    target = tmp_path / "experiments"
    target.write_text("not a folder")
    with pytest.raises(ConfigError, match="is a file; expected a directory"):
        new_experiment_dir(target)


# -- summary -------------------------------------------------------------------------


def test_summary_counts(records):
    summary = summarize(records)
    assert summary["total"] == 6
    assert summary["by_status"] == {"done": 3, "failed": 2, "timeout": 1}
    assert summary["by_outcome"] == {"escalated": 1, "none": 4, "resolved": 1}
    assert summary["ending_reasons"] == {
        "closing_phrases": 1,
        "error": 1,
        "max_messages": 1,
        "none": 2,
        "outcome_reached": 1,
    }
    assert summary["attempts"] == 10
    assert summary["retries"] == 4


def test_summary_by_status_includes_zeros():
    record = make_record(
        input_id="0", persona="p", status=RunStatus.DONE, messages=talk(1, 1)
    )
    assert summarize([record])["by_status"] == {"done": 1, "failed": 0, "timeout": 0}


def test_pass_rate_without_pass_outcomes_is_done_without_error(records):
    rate = summarize(records)["pass_rate"]
    # r1, r2 and r6 are DONE without an error.
    assert rate["passed"] == 3
    assert rate["total"] == 6
    assert rate["value"] == 0.5
    assert rate["ci95_low"] == pytest.approx(0.18762, abs=1e-5)
    assert rate["ci95_high"] == pytest.approx(0.81238, abs=1e-5)
    assert rate["pass_outcomes"] == []
    assert rate["definition"] == "status 'done' and no error"


def test_pass_rate_with_pass_outcomes(records):
    rate = summarize(records, pass_outcomes={"resolved"})["pass_rate"]
    assert rate["passed"] == 1
    assert rate["value"] == pytest.approx(1 / 6)
    assert rate["ci95_low"] == pytest.approx(0.03005, abs=1e-5)
    assert rate["ci95_high"] == pytest.approx(0.56350, abs=1e-5)
    assert rate["pass_outcomes"] == ["resolved"]
    assert rate["definition"] == "status 'done' and outcome in ['resolved']"


def test_a_done_conversation_with_an_error_on_its_result_does_not_pass():
    messages = talk(1, 1)
    record = ConversationRecord(
        run_id="r",
        cell=GridCell(input_id="0", persona_id="p", iteration=0),
        seed=1,
        status=RunStatus.DONE,
        result=ConversationResult(Conversation(messages), error=AGENT_BUG),
    )
    assert not is_passed(record)
    summary = summarize([record])
    assert summary["pass_rate"]["passed"] == 0
    assert summary["errors"]["by_type"] == {"builtins.ValueError": 1}


def test_turns_count_customer_messages_of_conversations_that_ran(records):
    # Turns per record with a transcript: 3, 2, 1, 2, 4 (r4 never ran).
    assert summarize(records)["turns"] == {
        "p50": 2.0,
        "p95": pytest.approx(3.8),
        "mean": 2.4,
        "max": 4,
    }


def test_latency_figures(records):
    # Durations 2, 4, 1, 0.5, 3, 5 -> sorted 0.5 1 2 3 4 5.
    assert summarize(records)["latency_seconds"] == {
        "p50": 2.5,
        "p95": pytest.approx(4.75),
        "mean": pytest.approx(15.5 / 6),
        "max": 5.0,
    }


def test_tokens_and_cost_per_model(records):
    summary = summarize(records)
    assert summary["tokens"] == {
        "input": 3650,
        "output": 1660,
        "total": 5310,
        "calls": 9,
    }
    by_model = summary["by_model"]
    assert list(by_model) == [
        "acme:mystery",
        "offline:3",
        "openai:gpt-4o",
        "openai:gpt-4o-mini",
    ]
    assert by_model["openai:gpt-4o-mini"] == {
        "input_tokens": 1500,
        "output_tokens": 500,
        "total_tokens": 2000,
        "calls": 4,
        "estimated_cost_usd": pytest.approx((1500 * 0.15 + 500 * 0.60) / 1e6),
    }
    assert by_model["openai:gpt-4o"]["estimated_cost_usd"] == pytest.approx(0.015)
    assert by_model["offline:3"]["estimated_cost_usd"] == 0.0
    assert by_model["acme:mystery"]["estimated_cost_usd"] is None
    assert summary["estimated_cost_usd"] == pytest.approx(0.015525)
    assert summary["unpriced_models"] == ["acme:mystery"]


def test_custom_prices_replace_the_table(records):
    summary = summarize(records, prices={"mystery": (1.0, 1.0), "gpt-4o": (0.0, 0.0)})
    assert summary["by_model"]["acme:mystery"]["estimated_cost_usd"] == pytest.approx(
        200 / 1e6
    )
    assert summary["by_model"]["openai:gpt-4o-mini"]["estimated_cost_usd"] is None
    assert summary["unpriced_models"] == ["offline:3", "openai:gpt-4o-mini"]


def test_errors_by_side_type_and_transience(records):
    assert summarize(records)["errors"] == {
        "by_side": {"agent": 2, "simulator": 1},
        "by_type": {
            "builtins.ValueError": 1,
            "clientsim.errors.AgentTimeoutError": 1,
            "openai.RateLimitError": 1,
        },
        "transient": 2,
    }


def test_breakdowns_by_persona_and_input(records):
    summary = summarize(records)
    assert summary["by_persona"] == {
        "alice": {"count": 3, "passed": 1, "pass_rate": pytest.approx(1 / 3)},
        "bob": {"count": 3, "passed": 2, "pass_rate": pytest.approx(2 / 3)},
    }
    assert summary["by_input"] == {
        "0": {"count": 2, "passed": 2, "pass_rate": 1.0},
        "1": {"count": 2, "passed": 0, "pass_rate": 0.0},
        "2": {"count": 2, "passed": 1, "pass_rate": 0.5},
    }


def test_summary_of_nothing():
    summary = summarize([])
    assert summary["total"] == 0
    assert summary["pass_rate"]["value"] is None
    assert (summary["pass_rate"]["ci95_low"], summary["pass_rate"]["ci95_high"]) == (
        0.0,
        1.0,
    )
    assert summary["turns"] == {"p50": None, "p95": None, "mean": None, "max": None}
    assert summary["estimated_cost_usd"] == 0.0
    assert summary["by_persona"] == {}


def test_summary_is_deterministic_json(records):
    first = json.dumps(summarize(records))
    backwards = summarize(list(reversed(records)))
    assert list(backwards["by_persona"]) == ["alice", "bob"]
    assert list(backwards["by_model"]) == list(summarize(records)["by_model"])
    assert json.dumps(summarize(records)) == first
    assert list(summarize(records)) == [
        "total",
        "by_status",
        "by_outcome",
        "pass_rate",
        "turns",
        "latency_seconds",
        "tokens",
        "by_model",
        "estimated_cost_usd",
        "unpriced_models",
        "errors",
        "ending_reasons",
        "by_persona",
        "by_input",
        "attempts",
        "retries",
    ]


def test_summarize_refuses_bad_input(records):
    with pytest.raises(ConfigError, match="ConversationRecord objects; got dict"):
        summarize([{}])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="got the string 'resolved'"):
        summarize(records, pass_outcomes="resolved")  # noqa: S106


# -- cost estimates ------------------------------------------------------------------


def test_estimate_cost_looks_up_name_snapshot_and_provider():
    spent = usage(2_000_000, 1_000_000, 5)
    assert estimate_cost("openai:gpt-4.1", spent) == pytest.approx(2 * 2.00 + 8.00)
    assert estimate_cost("gpt-4.1-nano", spent) == pytest.approx(2 * 0.10 + 0.40)
    assert estimate_cost("openai:gpt-4o-mini-2024-07-18", spent) == pytest.approx(0.9)
    assert estimate_cost("offline:3", spent) == 0.0
    assert estimate_cost("offline", spent) == 0.0
    assert estimate_cost("openai:gpt-9", spent) is None
    assert estimate_cost(
        "openai:gpt-4o", spent, {"openai:gpt-4o": (1, 1)}
    ) == pytest.approx(3.0)
    assert set(MODEL_PRICES) >= {"gpt-4o-mini", "gpt-4o", "o4-mini", "offline"}


def test_estimate_cost_refuses_bad_input():
    with pytest.raises(ConfigError, match=r"prices\['gpt-4o'\] must be a pair"):
        estimate_cost("openai:gpt-4o", usage(1, 1, 1), {"gpt-4o": (1.0, -1.0)})
    with pytest.raises(ConfigError, match="model_spec must be a string"):
        estimate_cost(42, usage(1, 1, 1))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="usage must be a TokenUsage"):
        estimate_cost("offline", {"input_tokens": 1})  # type: ignore[arg-type]


# -- traces and observations -----------------------------------------------------------


def test_trace_line_of_a_timeout_keeps_the_partial_transcript(records):
    line = trace_line(records[4])
    assert line["trace_id"] == "exp_20250117_143000/2/alice/0"
    assert (
        line["run_id"],
        line["input_id"],
        line["persona_id"],
        line["iteration"],
    ) == (
        "exp_20250117_143000",
        "2",
        "alice",
        0,
    )
    assert line["seed"] == 105
    assert line["status"] == "timeout"
    assert line["input"] == "input number 2"
    assert line["outcome"] is None
    assert line["ending"] is None
    assert line["error"] == {
        "source": "channel",
        "side": "agent",
        "type": "clientsim.errors.AgentTimeoutError",
        "message": "no reply in 30s",
        "transient": True,
    }
    assert line["started_at"] == "2025-01-17T14:30:00+00:00"
    assert line["models"] == {
        "offline:3": {
            "input_tokens": 50,
            "output_tokens": 60,
            "total_tokens": 110,
            "calls": 2,
        }
    }
    assert line["token_usage"]["total"]["input_tokens"] == 30
    assert line["transcript"] == [
        {
            "role": "customer",
            "content": "Where is my refund?",
            "timestamp": "2025-01-17T14:30:00+00:00",
        },
        {
            "role": "agent",
            "content": "agent says #1",
            "timestamp": "2025-01-17T14:30:10+00:00",
        },
        {
            "role": "customer",
            "content": "customer says #2",
            "timestamp": "2025-01-17T14:30:20+00:00",
        },
    ]


def test_trace_line_of_a_finished_conversation(records):
    line = trace_line(records[0])
    assert line["outcome"] == "resolved"
    assert line["ending"] == {
        "reason": "outcome_reached",
        "detail": "outcome_reached detail",
        "message_count": 6,
    }
    assert line["error"] is None
    assert len(line["transcript"]) == 6


def test_observations_are_messages_then_ending_then_error(records):
    failed = list(observation_lines(records[2]))
    assert [item["type"] for item in failed] == ["message", "ending", "error"]
    assert [item["index"] for item in failed] == [0, 1, 2]
    assert {item["trace_id"] for item in failed} == {"exp_20250117_143000/1/alice/0"}
    assert failed[0]["role"] == "customer"
    assert failed[0]["content"] == "My order never came"
    assert failed[1]["reason"] == "error"
    assert failed[2]["error_type"] == "builtins.ValueError"
    assert failed[2]["side"] == "agent"
    nothing_ran = list(observation_lines(records[3]))
    assert [item["type"] for item in nothing_ran] == ["error"]
    assert nothing_ran[0]["side"] == "simulator"


@pytest.mark.parametrize("index", range(6))
def test_record_from_trace_round_trips(records, index):
    line = json.loads(json.dumps(trace_line(records[index])))
    assert record_from_trace(line) == records[index]


def test_record_from_trace_names_the_bad_key(records):
    line = trace_line(records[0])
    del line["seed"]
    with pytest.raises(ConfigError, match="no 'seed' key"):
        record_from_trace(line)
    with pytest.raises(
        ConfigError, match="'status' is 'lost'; allowed: 'done', 'failed', 'timeout'"
    ):
        record_from_trace({**trace_line(records[0]), "status": "lost"})
    with pytest.raises(ConfigError, match="transcript entries need 'role'"):
        record_from_trace({**trace_line(records[0]), "transcript": [{"role": "robot"}]})
    with pytest.raises(ConfigError, match="'iteration' has the wrong type"):
        record_from_trace({**trace_line(records[0]), "iteration": True})


# -- writing -------------------------------------------------------------------------


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("save_traces", [True, False])
@pytest.mark.parametrize("save_metrics", [True, False])
def test_the_two_switches_decide_which_files_exist(
    tmp_path, records, save_traces, save_metrics
):
    directory = new_experiment_dir(tmp_path)
    writer = ExperimentWriter(
        directory, save_traces=save_traces, save_aggregated_metrics=save_metrics
    )
    meta = writer.write_metadata({"name": "x"})
    summary = writer.write_summary(summarize(records))
    traces = writer.write_records(records)
    assert (directory / "metadata.json").is_file() is save_metrics
    assert (directory / "summary.json").is_file() is save_metrics
    assert (meta is not None, summary is not None) == (save_metrics, save_metrics)
    assert (directory / "artifacts" / "traces.jsonl").is_file() is save_traces
    assert (directory / "artifacts" / "observations.jsonl").is_file() is save_traces
    assert (traces is not None) is save_traces
    assert (directory / "logs").is_dir()
    assert (directory / "artifacts").is_dir()


def test_writer_creates_its_folders(tmp_path):
    directory = tmp_path / "somewhere" / "exp_x"
    ExperimentWriter(directory, save_traces=False, save_aggregated_metrics=False)
    assert (directory / "logs").is_dir()
    assert (directory / "artifacts").is_dir()
    afile = tmp_path / "file"
    afile.write_text("")
    with pytest.raises(ConfigError, match="is a file"):
        ExperimentWriter(afile, save_traces=False, save_aggregated_metrics=False)


def test_traces_and_observations_content(tmp_path, records):
    directory = new_experiment_dir(tmp_path)
    writer = ExperimentWriter(directory, save_traces=True, save_aggregated_metrics=True)
    writer.write_records(records)
    traces = read_lines(directory / "artifacts" / "traces.jsonl")
    observations = read_lines(directory / "artifacts" / "observations.jsonl")
    assert len(traces) == 6
    assert [trace["seed"] for trace in traces] == [101, 102, 103, 104, 105, 106]
    assert traces == [json.loads(json.dumps(trace_line(record))) for record in records]
    # messages + ending + error: (6+1) + (4+1) + (1+1+1) + 1 + (3+1) + (8+1)
    assert len(observations) == 29
    assert sum(item["type"] == "message" for item in observations) == 22
    assert sum(item["type"] == "ending" for item in observations) == 4
    assert sum(item["type"] == "error" for item in observations) == 3
    raw = (directory / "artifacts" / "traces.jsonl").read_bytes()
    assert "Bonjour, café ✓".encode() in raw


def test_metadata_and_summary_are_pretty_utf8_json(tmp_path, records):
    directory = new_experiment_dir(tmp_path)
    writer = ExperimentWriter(directory, save_traces=True, save_aggregated_metrics=True)
    started = datetime(2025, 1, 17, 14, 30, tzinfo=UTC)
    writer.write_metadata(
        {"name": "Überprüfung", "started_at": started, "status": RunStatus.DONE}
    )
    text = (directory / "metadata.json").read_text(encoding="utf-8")
    assert '\n  "name": "Überprüfung"' in text
    assert json.loads(text) == {
        "name": "Überprüfung",
        "started_at": "2025-01-17T14:30:00+00:00",
        "status": "done",
    }
    writer.write_summary(summarize(records))
    assert json.loads(
        (directory / "summary.json").read_text(encoding="utf-8")
    ) == json.loads(json.dumps(summarize(records)))


def test_metadata_written_twice_keeps_the_last(tmp_path):
    directory = new_experiment_dir(tmp_path)
    writer = ExperimentWriter(
        directory, save_traces=False, save_aggregated_metrics=True
    )
    writer.write_metadata({"status": "running"})
    writer.write_metadata({"status": "done", "finished_at": "later"})
    assert load_experiment(directory).metadata == {
        "status": "done",
        "finished_at": "later",
    }


def test_write_records_rewrites_completely(tmp_path, records):
    directory = new_experiment_dir(tmp_path)
    writer = ExperimentWriter(
        directory, save_traces=True, save_aggregated_metrics=False
    )
    writer.write_records(records)
    writer.write_records(records[:2])
    assert len(read_lines(directory / "artifacts" / "traces.jsonl")) == 2
    assert len(read_lines(directory / "artifacts" / "observations.jsonl")) == 7 + 5
    assert sorted(path.name for path in (directory / "artifacts").iterdir()) == [
        "observations.jsonl",
        "traces.jsonl",
    ]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, records):
    directory = new_experiment_dir(tmp_path)
    writer = ExperimentWriter(directory, save_traces=True, save_aggregated_metrics=True)
    writer.write_summary({"total": 1})
    before = (directory / "summary.json").read_bytes()
    with pytest.raises(ConfigError, match="cannot write a object as JSON"):
        writer.write_summary({"total": object()})
    assert (directory / "summary.json").read_bytes() == before
    # The swap itself fails: the target is a folder. The temporary file is removed.
    (directory / "artifacts" / "observations.jsonl").mkdir()
    with pytest.raises(OSError):  # IsADirectoryError, or PermissionError
        writer.write_records(records)
    leftovers = [path.name for path in (directory / "artifacts").iterdir()]
    assert sorted(leftovers) == ["observations.jsonl", "traces.jsonl"]


def test_a_lone_surrogate_is_written_as_its_json_escape(tmp_path):
    record = make_record(
        input_id="0",
        persona="p",
        status=RunStatus.DONE,
        messages=talk(1, 1, first="bad \ud800 text"),
    )
    directory = new_experiment_dir(tmp_path)
    ExperimentWriter(
        directory, save_traces=True, save_aggregated_metrics=False
    ).write_records([record])
    [trace] = load_experiment(directory).traces
    assert trace["transcript"][0]["content"] == "bad \ud800 text"


def test_writer_refuses_bad_input(tmp_path):
    writer = ExperimentWriter(tmp_path, save_traces=True, save_aggregated_metrics=True)
    with pytest.raises(ConfigError, match="write_metadata takes a mapping; got list"):
        writer.write_metadata([])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="write_summary takes a mapping; got str"):
        writer.write_summary("x")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="ConversationRecord objects; got int"):
        writer.write_records([1])  # type: ignore[list-item]


# -- loading -------------------------------------------------------------------------


def test_load_experiment_reads_everything(tmp_path, records):
    directory = new_experiment_dir(tmp_path)
    writer = ExperimentWriter(directory, save_traces=True, save_aggregated_metrics=True)
    writer.write_metadata({"name": "n"})
    writer.write_summary(summarize(records))
    writer.write_records(records)
    loaded = load_experiment(directory)
    assert loaded.directory == directory
    assert loaded.metadata == {"name": "n"}
    assert loaded.summary is not None
    assert loaded.summary["total"] == 6
    assert len(loaded.traces) == 6
    assert loaded.has_traces


def test_load_experiment_errors(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(
        ConfigError, match="does not exist or is not a directory"
    ) as info:
        load_experiment(missing)
    assert str(missing) in str(info.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(
        ConfigError, match=r"not an experiment folder: expected summary\.json"
    ):
        load_experiment(empty)
    new_experiment_dir(empty, now=datetime(2025, 1, 17, 14, 30, 22, tzinfo=UTC))
    with pytest.raises(
        ConfigError, match="holds the experiment folders exp_20250117_143022"
    ):
        load_experiment(empty)


def test_load_experiment_refuses_malformed_files(tmp_path):
    directory = new_experiment_dir(tmp_path)
    (directory / "summary.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"summary\.json' is not valid JSON"):
        load_experiment(directory)
    (directory / "summary.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ConfigError, match="must hold a JSON object; got list"):
        load_experiment(directory)
    (directory / "summary.json").unlink()
    (directory / "artifacts" / "traces.jsonl").write_text(
        '{"a": 1}\n\n[2]\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="line 3 must be a JSON object"):
        load_experiment(directory)
    (directory / "artifacts" / "traces.jsonl").write_text("{\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 1 is not valid JSON"):
        load_experiment(directory)


# -- the report ----------------------------------------------------------------------


def write_experiment(
    tmp_path: Path,
    records: list[ConversationRecord],
    *,
    save_traces: bool = True,
    save_metrics: bool = True,
    pass_outcomes: tuple[str, ...] = (),
) -> Path:
    directory = new_experiment_dir(
        tmp_path, now=datetime(2025, 1, 17, 14, 30, tzinfo=UTC)
    )
    writer = ExperimentWriter(
        directory, save_traces=save_traces, save_aggregated_metrics=save_metrics
    )
    writer.write_metadata(
        {
            "name": "support-bot",
            "description": "Refund questions against the support agent",
            "run_id": directory.name,
            "status": "done",
        }
    )
    writer.write_records(records)
    writer.write_summary(summarize(records, pass_outcomes=pass_outcomes))
    return directory


def test_report_shows_the_key_figures(tmp_path, records):
    report = render_text_report(write_experiment(tmp_path, records))
    assert "Experiment: support-bot" in report
    assert "Refund questions against the support agent" in report
    assert "Run id:      exp_20250117_143000" in report
    assert "total 6: done 3, failed 2, timeout 1" in report
    assert "attempts 10 (retries 4)" in report
    assert "50.0% (3/6), 95% CI 18.8% - 81.2%" in report
    assert "turns        p50 2  p95 3.80  mean 2.40  max 4" in report
    assert "latency (s)  p50 2.50  p95 4.75" in report
    assert "input 3,650  output 1,660  total 5,310  calls 9" in report
    assert "openai:gpt-4o-mini" in report
    assert "$0.0150" in report  # gpt-4o
    assert "$0.000525" in report  # gpt-4o-mini: a fraction of a cent keeps its digits
    assert (
        "estimated cost $0.0155 (estimate from list prices; no price for acme:mystery)"
        in report
    )
    assert "agent side 2, simulator side 1; transient 2" in report
    lines = report.splitlines()
    alice = next(line for line in lines if line.strip().startswith("alice"))
    assert alice.split() == ["alice", "3", "1", "33.3%"]
    # The outcome chart: the most frequent outcome has the longest bar.
    none_bar = next(
        line for line in lines if line.strip().startswith("none ") and "#" in line
    )
    resolved_bar = next(
        line for line in lines if line.strip().startswith("resolved") and "#" in line
    )
    assert none_bar.count("#") > resolved_bar.count("#") > 0
    assert all(len(line) <= 100 for line in lines)


def test_report_lists_failed_and_timed_out_conversations_first(tmp_path, records):
    # r6 (done, no outcome) is written first, but failures come before misses.
    ordered = [records[5], records[1], records[0], records[2], records[3], records[4]]
    report = render_text_report(
        write_experiment(tmp_path, ordered, pass_outcomes=("resolved",))
    )
    assert "showing 5 of 5" in report
    positions = [report.index(f"seed {seed}") for seed in (103, 104, 105, 106, 102)]
    assert positions == sorted(positions)
    assert "[failed] seed 103" in report
    assert "error (agent side): builtins.ValueError: boom" in report
    assert (
        "error (simulator side, transient): openai.RateLimitError: slow down" in report
    )
    assert "\n     customer: My order never came\n" in report
    assert "\n     error (agent side): builtins.ValueError: boom\n" in report
    assert "customer: Where is my refund?" in report
    assert (
        "outcome escalated; ending closing_phrases (closing_phrases detail); attempts 2"
        in report
    )
    assert "seed 101" not in report  # resolved: a pass


def test_report_limits_and_trims_failures(tmp_path, records):
    long_record = make_record(
        input_id="9",
        persona="carol",
        status=RunStatus.FAILED,
        messages=talk(8, 8, first="x" * 500),
        error=AGENT_BUG,
        seed=999,
    )
    directory = write_experiment(tmp_path, [long_record, *records])
    report = render_text_report(directory, failures=2, width=60)
    assert "showing 2 of 4" in report
    assert "seed 104" not in report
    assert all(len(line) <= 60 for line in report.splitlines())
    assert "customer: xxxxxxxx" in report
    assert "..." in report
    assert "... 7 messages not shown ..." in report


def test_report_from_traces_only_recomputes_the_summary(tmp_path, records):
    directory = write_experiment(tmp_path, records, save_metrics=False)
    report = render_text_report(directory)
    assert "Experiment: (unnamed)" in report
    assert "no metadata.json" in report
    assert "50.0% (3/6)" in report
    assert "total 6: done 3, failed 2, timeout 1" in report
    assert "[timeout] seed 105" in report


def test_report_from_summary_only(tmp_path, records):
    directory = write_experiment(tmp_path, records, save_traces=False)
    report = render_text_report(directory)
    assert "50.0% (3/6)" in report
    assert "no traces.jsonl" in report
    assert "seed 103" not in report


def test_report_when_everything_passed(tmp_path, records):
    report = render_text_report(write_experiment(tmp_path, [records[0], records[1]]))
    assert "none: every conversation passed" in report
    assert "100.0% (2/2)" in report


def test_report_of_an_empty_run(tmp_path):
    report = render_text_report(write_experiment(tmp_path, []))
    assert "total 0: done 0, failed 0, timeout 0" in report
    assert "(no conversations)" in report
    assert "- (0/0)" in report


def test_report_refuses_bad_arguments(tmp_path, records):
    directory = write_experiment(tmp_path, records)
    with pytest.raises(ConfigError, match="failures must be an int >= 0; got -1"):
        render_text_report(directory, failures=-1)
    with pytest.raises(ConfigError, match="width must be an int >= 40; got 10"):
        render_text_report(directory, width=10)
    with pytest.raises(ConfigError, match="not an experiment folder"):
        render_text_report(tmp_path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"error": "boom"}, "'error' must be an object"),
        ({"models": ["gpt"]}, "'models' must be an object"),
        ({"models": {"m": 3}}, r"models\['m'\] must be an object"),
        (
            {"models": {"m": {"calls": -1}}},
            r"models\['m'\]: calls must be an int >= 0",
        ),
        ({"token_usage": 5}, "'token_usage' must be an object"),
        ({"transcript": ["hi"]}, "transcript entries must be objects"),
        ({"started_at": "yesterday"}, "malformed value"),
        ({"outcome": "Not A Slug"}, "lowercase slug"),
    ],
)
def test_record_from_trace_refuses_malformed_values(records, change, message):
    with pytest.raises(ConfigError, match=message):
        record_from_trace({**trace_line(records[0]), **change})


def test_record_from_trace_refuses_a_non_object():
    with pytest.raises(ConfigError, match="must be a JSON object; got"):
        record_from_trace([1, 2])  # type: ignore[arg-type]


def test_metadata_accepts_common_python_values(tmp_path):
    writer = ExperimentWriter(tmp_path, save_traces=False, save_aggregated_metrics=True)
    writer.write_metadata(
        {
            "output": Path("experiments"),
            "tags": {"b", "a"},
            "day": datetime(2025, 1, 17, tzinfo=UTC).date(),
            "cell": GridCell(input_id="0", persona_id="p", iteration=1),
        }
    )
    assert load_experiment(tmp_path).metadata == {
        "output": "experiments",
        "tags": ["a", "b"],
        "day": "2025-01-17",
        "cell": {"input_id": "0", "persona_id": "p", "iteration": 1},
    }


def test_report_tolerates_a_sparse_or_edited_summary(tmp_path):
    long_name = "an_outcome_name_much_longer_than_the_chart_labels"
    (tmp_path / "summary.json").write_text(
        json.dumps(
            {
                "total": 2,
                "by_status": "garbled",
                "by_outcome": {long_name: 2},
                "pass_rate": {"value": 1.0, "passed": 2, "total": 2},
                "by_model": {"m": {"input_tokens": 3}},
            }
        ),
        encoding="utf-8",
    )
    report = render_text_report(tmp_path)
    assert "total 2: done 0, failed 0, timeout 0" in report
    assert "an_outcome_name_much_longer~" in report
    assert "100.0% (2/2), 95% CI - - -" in report
    assert "  m          3       -" in report


def test_report_takes_pass_outcomes_from_the_config_in_metadata(tmp_path, records):
    directory = new_experiment_dir(tmp_path)
    writer = ExperimentWriter(directory, save_traces=True, save_aggregated_metrics=True)
    writer.write_metadata({"config": {"pass_outcomes": ["resolved"]}})
    writer.write_records(records)
    report = render_text_report(directory)
    assert "16.7% (1/6)" in report
    assert "seed 106" in report  # no outcome: not a pass under this definition
