"""OpenTelemetry export: real runs against loopback agents, read with the SDK's
in-memory exporter."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult
from langchain_openai import ChatOpenAI
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode

import clientsim
from clientsim import simulate
from clientsim.errors import ConfigError
from clientsim.observability import otel
from tests.channels.http_servers import completion, serve, status
from tests.openai_server import serve as serve_openai


OUTCOMES = {"resolved": {"patterns": ["reset link"], "sender": "agent"}}
API_KEY = "sk-test-a1b2c3d4e5f6g7h8"


class _Leaky(BaseChatModel):
    """A chat model that fails, naming its endpoint with credentials in the URL."""

    @property
    def _llm_type(self) -> str:
        return "leaky"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        raise RuntimeError(
            "cannot reach https://user:pa55word-xyz@models.example/v1?key=abc "
            f"with api key {API_KEY}"
        )


@pytest.fixture(name="spans")
def _spans() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def _by_id(spans: tuple[ReadableSpan, ...]) -> dict[int, ReadableSpan]:
    return {span.context.span_id: span for span in spans}


def _parent(span: ReadableSpan, index: dict[int, ReadableSpan]) -> ReadableSpan:
    assert span.parent is not None, span.name
    return index[span.parent.span_id]


def _everything(span: ReadableSpan) -> str:
    """All a span says, as text: name, attributes, status, events."""
    return repr(
        (
            span.name,
            dict(span.attributes or {}),
            span.status.description,
            [(event.name, dict(event.attributes or {})) for event in span.events],
        )
    )


async def test_a_run_against_a_loopback_agent_is_a_tree_of_genai_spans(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = spans
    async with (
        serve(completion("I've sent you a reset link.")) as agent,
        serve_openai() as llm,
    ):
        customer = ChatOpenAI(
            model="gpt-customer", base_url=llm.base_url, api_key=API_KEY, max_retries=0
        )
        with otel.instrument(tracer_provider=provider):
            results = await simulate(
                f"{agent.url}/v1",
                intents=["I forgot my password", "my order is late"],
                runs=2,
                seed=3,
                outcomes=OUTCOMES,
                customer_model=customer,
                max_messages=4,
            )
    finished = exporter.get_finished_spans()
    index = _by_id(finished)
    by_name: dict[str, list[ReadableSpan]] = {}
    for span in finished:
        by_name.setdefault(span.name.split(" ")[0], []).append(span)

    # One run span, the root, with the run's figures.
    (run,) = by_name["clientsim.run"]
    assert run.parent is None
    assert run.attributes is not None
    assert run.attributes["clientsim.run.total"] == 4
    assert run.attributes["clientsim.run.status"] == "done"

    # One span per conversation, under the run, with its outcome and ending.
    conversations = by_name["clientsim.conversation"]
    assert len(conversations) == len(results) == 4
    ids = set()
    for span in conversations:
        assert _parent(span, index) is run
        attributes = span.attributes or {}
        ids.add(attributes["gen_ai.conversation.id"])
        assert attributes["clientsim.outcome"] == "resolved"
        assert attributes["clientsim.ending"] in {"max_messages", "both_passed"}
        assert attributes["clientsim.message_count"] >= 2
    assert len(ids) == 4

    # A turn per message, under its own conversation, in order.
    turns = by_name["turn"]
    assert sum(run.result.conversation.messages.__len__() for run in results) == len(
        turns
    )
    for turn in turns:
        conversation = _parent(turn, index)
        assert conversation.name == "clientsim.conversation"
        assert (turn.attributes or {})["gen_ai.conversation.id"] == (
            conversation.attributes or {}
        )["gen_ai.conversation.id"]
        if turn.name == "turn agent":
            assert turn.kind is SpanKind.CLIENT
            assert (turn.attributes or {})["gen_ai.operation.name"] == "invoke_agent"
        assert turn.start_time is not None
        assert turn.end_time is not None
        assert turn.start_time <= turn.end_time

    # Each customer model call: a "chat <model>" client span in a customer turn of the
    # same conversation, with the GenAI attributes and the server's token usage.
    calls = by_name["chat"]
    assert len(calls) == len(llm.requests)
    for call in calls:
        attributes = call.attributes or {}
        assert call.name == "chat gpt-customer"
        assert call.kind is SpanKind.CLIENT
        assert attributes["gen_ai.operation.name"] == "chat"
        assert attributes["gen_ai.provider.name"] == "openai"
        assert attributes["gen_ai.request.model"] == "gpt-customer"
        assert attributes["gen_ai.usage.input_tokens"] > 0
        assert attributes["gen_ai.usage.output_tokens"] > 0
        assert attributes["clientsim.role"] == "customer"
        turn = _parent(call, index)
        assert turn.name == "turn customer"
        assert (turn.attributes or {})["gen_ai.conversation.id"] == attributes[
            "gen_ai.conversation.id"
        ]
        assert turn.start_time is not None
        assert call.start_time is not None
        assert turn.start_time <= call.start_time

    # No secret anywhere: the customer model's API key is never an attribute.
    assert not any(API_KEY in _everything(span) for span in finished)


async def test_a_failing_agent_marks_its_conversation_and_leaks_no_credentials(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = spans
    async with serve(status(400, body="bad request")) as agent:
        url = agent.url.replace("http://", "http://bot:hunter2secret@")
        with otel.instrument(tracer_provider=provider):
            results = await simulate(
                f"{url}/v1?token=querysecret42", intents=["refund please"]
            )
    assert results.runs[0].result.error is not None
    finished = exporter.get_finished_spans()
    (conversation,) = [s for s in finished if s.name == "clientsim.conversation"]
    assert conversation.status.status_code is StatusCode.ERROR
    assert (conversation.attributes or {})["clientsim.ending"] == "error"
    assert (conversation.attributes or {})["error.type"]
    text = " ".join(_everything(span) for span in finished)
    assert "hunter2secret" not in text
    assert "querysecret42" not in text


async def test_a_failing_model_call_is_an_error_span_with_no_credentials(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = spans

    async def agent(message: str) -> str:
        return "Let me check."

    # A model whose error quotes its endpoint, credentials and key included.
    customer = _Leaky()
    with otel.instrument(tracer_provider=provider):
        await simulate(agent, intents=["hello there"], customer_model=customer)
    finished = exporter.get_finished_spans()
    calls = [s for s in finished if s.name.startswith("chat ")]
    assert calls
    assert all(call.status.status_code is StatusCode.ERROR for call in calls)
    assert all((call.attributes or {})["error.type"] == "ModelError" for call in calls)
    assert "https://user:***@models.example" in (calls[0].status.description or "")
    text = " ".join(_everything(span) for span in finished)
    assert "pa55word-xyz" not in text
    assert API_KEY not in text


async def test_nothing_is_exported_unless_instrumented(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = spans

    async def agent(message: str) -> str:
        return "I've sent you a reset link."

    await simulate(agent, intents=["reset my password"])
    assert exporter.get_finished_spans() == ()
    exported = otel.instrument(tracer_provider=provider)
    exported.close()  # switched off again
    await simulate(agent, intents=["reset my password"])
    assert exporter.get_finished_spans() == ()
    with otel.OTelExporter(provider):
        await simulate(agent, intents=["reset my password"])
    assert len(exporter.get_finished_spans()) > 0


def test_instrument_replaces_the_previous_exporter(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, _ = spans
    first = otel.instrument(tracer_provider=provider)
    second = otel.instrument(tracer_provider=provider)
    from clientsim import plugins

    manager = plugins.get_plugin_manager()
    assert not manager.is_registered(first)
    assert manager.is_registered(second)
    second.close()
    assert not manager.is_registered(second)


def test_importing_clientsim_does_not_import_opentelemetry() -> None:
    code = (
        "import sys, clientsim, clientsim.observability, clientsim.events\n"
        "clientsim.simulate\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_missing_extra_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(sys.modules):
        if name.startswith("opentelemetry"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    with pytest.raises(ConfigError, match=r"pip install clientsim\[otel\]"):
        otel.instrument()


def test_tracer_provider_for_rejects_an_unknown_target() -> None:
    with pytest.raises(ConfigError, match="allowed: console, otlp"):
        otel.tracer_provider_for("jaeger")
    otel.tracer_provider_for("console").shutdown()


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "OPENAI_API_KEY"}
    env["OPENAI_BASE_URL"] = "http://127.0.0.1:9/unreachable"
    env["PYTHONPATH"] = str(Path(clientsim.__file__).parents[1])
    return subprocess.run(
        [sys.executable, "-P", "-m", "clientsim", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_cli_exports_a_run_to_the_console_when_asked(tmp_path: Path) -> None:
    assert _cli("init", "my-agent", cwd=tmp_path).returncode == 0
    config = "my-agent/configs/simulation.yaml"
    plain = _cli("run", config, "-q", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert '"name": "clientsim.run"' not in plain.stdout
    done = _cli("run", config, "-q", "--otel", "console", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    names = re.findall(r'^\s*"name": "([^"]+)",$', done.stdout, re.MULTILINE)
    assert names.count("clientsim.run") == 1
    assert names.count("clientsim.conversation") >= 1
    assert "chat offline" in names
    assert "turn agent" in names


def test_an_experiment_files_otel_key_exports_its_run(tmp_path: Path) -> None:
    assert _cli("init", "my-agent", cwd=tmp_path).returncode == 0
    config = tmp_path / "my-agent" / "configs" / "simulation.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "\notel: console\n")
    done = _cli("run", str(config), "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    names = re.findall(r'^\s*"name": "([^"]+)",$', done.stdout, re.MULTILINE)
    assert names.count("clientsim.run") == 1
    assert names.count("clientsim.conversation") >= 1
    config.write_text(
        config.read_text(encoding="utf-8").replace("otel: console", "otel: jaeger")
    )
    bad = _cli("run", str(config), cwd=tmp_path)
    assert bad.returncode == 2
    assert "otel" in bad.stderr
    assert "console" in bad.stderr


async def test_the_callers_exporter_wins_over_the_files_otel_key(
    tmp_path: Path, spans: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    from clientsim.experiments import run_experiment, scaffold

    provider, exporter = spans
    folder = tmp_path / "my-agent"
    scaffold(folder)
    config = folder / "configs" / "simulation.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "\notel: console\n")
    with otel.instrument(tracer_provider=provider):
        await run_experiment(config)
    names = [span.name for span in exporter.get_finished_spans()]
    assert names.count("clientsim.run") == 1
    assert otel.exporting(None)() is None  # no key: nothing to start or stop


@pytest.mark.skipif(
    importlib.util.find_spec("opentelemetry.exporter") is not None,
    reason="the OTLP exporter is installed here",
)
def test_the_cli_says_what_the_otlp_target_needs(tmp_path: Path) -> None:
    assert _cli("init", "my-agent", cwd=tmp_path).returncode == 0
    done = _cli(
        "run", "my-agent/configs/simulation.yaml", "--otel", "otlp", cwd=tmp_path
    )
    assert done.returncode == 2
    assert "pip install opentelemetry-exporter-otlp-proto-http" in done.stderr


async def test_concurrent_runs_keep_their_own_conversations(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = spans

    async def agent(message: str) -> str:
        return "I've sent you a reset link."

    async def run(run_id: str) -> None:
        await simulate(agent, intents=["reset", "refund"], run_id=run_id)

    with otel.instrument(tracer_provider=provider):
        async with anyio.create_task_group() as group:
            group.start_soon(run, "first")
            group.start_soon(run, "second")
    finished = exporter.get_finished_spans()
    index = _by_id(finished)
    runs = {
        (span.attributes or {})["clientsim.run_id"]: span
        for span in finished
        if span.name == "clientsim.run"
    }
    assert set(runs) == {"first", "second"}
    conversations = [s for s in finished if s.name == "clientsim.conversation"]
    assert len(conversations) == 4
    for span in conversations:
        run_id = str((span.attributes or {})["gen_ai.conversation.id"]).split("/")[0]
        assert _parent(span, index) is runs[run_id]
