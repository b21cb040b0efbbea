"""OpenTelemetry spans for clientsim's runs, conversations, turns and model calls.

Needs the ``otel`` extra (``pip install clientsim[otel]``). Nothing is exported until
you ask: :func:`instrument` registers an :class:`OTelExporter` on clientsim's event
hook (``clientsim_event``), and from then on every run becomes a tree of spans:

- ``clientsim.run`` (one per :func:`~clientsim.simulate` call or experiment), with
  ``clientsim.run_id``, ``clientsim.run.total`` and ``clientsim.run.status``;
- ``clientsim.conversation`` under it, with ``gen_ai.conversation.id``,
  ``clientsim.outcome``, ``clientsim.ending`` and ``clientsim.message_count`` (status
  ``ERROR`` when an error ended it);
- ``turn customer`` / ``turn agent`` under the conversation, one per message, from the
  previous message to this one (an agent turn also has
  ``gen_ai.operation.name = "invoke_agent"``);
- ``chat <model>`` (kind ``CLIENT``) under the turn it happened in, one per model call
  of clientsim's (the customer's, a judge's, a simulated agent's), with the GenAI
  semantic conventions' ``gen_ai.operation.name`` (``chat``),
  ``gen_ai.provider.name`` (and the older ``gen_ai.system``),
  ``gen_ai.request.model``, ``gen_ai.usage.input_tokens`` and
  ``gen_ai.usage.output_tokens``.

Every string attribute is passed through the same redaction as clientsim's run files:
URL passwords and query values become ``***``.

Example:
    >>> from opentelemetry.sdk.trace import TracerProvider
    >>> from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    >>> from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    ...     InMemorySpanExporter,
    ... )
    >>> import anyio
    >>> from clientsim import simulate
    >>> from clientsim.observability import otel
    >>> spans = InMemorySpanExporter()
    >>> provider = TracerProvider()
    >>> provider.add_span_processor(SimpleSpanProcessor(spans))
    >>> async def agent(message):
    ...     return "I've sent you a reset link."
    >>> with otel.instrument(tracer_provider=provider):
    ...     results = anyio.run(lambda: simulate(agent, intents=["reset my password"]))
    >>> sorted({span.name for span in spans.get_finished_spans()})
    ['chat offline', 'clientsim.conversation', 'clientsim.run', 'turn agent', 'turn customer']
"""

from __future__ import annotations

import importlib
import os
import re
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final, Self

import attrs

from clientsim import plugins
from clientsim._markers import hookimpl
from clientsim._secrets import REDACTED, redact_url
from clientsim.errors import ConfigError


if TYPE_CHECKING:
    from types import TracebackType

    import click
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import TracerProvider as SDKTracerProvider
    from opentelemetry.trace import Span, Tracer, TracerProvider


__all__ = [
    "INSTALL_HINT",
    "OTEL_HELP",
    "OTEL_TARGETS",
    "OTelExporter",
    "export_to",
    "exporting",
    "instrument",
    "otel_option",
    "tracer_provider_for",
]

INSTALL_HINT: Final = "pip install clientsim[otel]"
_SCOPE: Final = "clientsim"
_URL: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
_KEY: Final = re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_-]{8,}")
OTEL_TARGETS: Final = ("console", "otlp")
"""Where ``clientsim run --otel`` can send spans."""
OTEL_HELP: Final = (
    "Export the run as OpenTelemetry spans: to stdout, or over OTLP as the "
    "OTEL_EXPORTER_OTLP_* variables say (needs clientsim[otel])."
)


def _require() -> None:
    try:
        import opentelemetry.sdk.trace  # noqa: PLC0415 - the extra is optional
        import opentelemetry.trace  # noqa: F401, PLC0415
    except ImportError as exc:
        raise ConfigError(
            f"exporting OpenTelemetry spans needs the otel extra: {INSTALL_HINT}"
        ) from exc


def _clean(text: str) -> str:
    """``text`` with URL credentials and query values and API-key-like tokens hidden."""
    if "://" in text:
        text = _URL.sub(lambda match: redact_url(match.group()), text)
    if "-" in text:
        text = _KEY.sub(REDACTED, text)
    return text


def _attributes(values: Mapping[str, object]) -> dict[str, str | int | float | bool]:
    """OpenTelemetry attributes from ``values``: ``None`` dropped, strings redacted."""
    attributes: dict[str, str | int | float | bool] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool | int | float):
            attributes[key] = value
        else:
            attributes[key] = _clean(str(value))
    return attributes


@attrs.define
class _Conversation:
    """An open conversation span and its current turn."""

    span: Span
    context: Context
    turn_start: int
    calls: list[tuple[Mapping[str, object], int]] = attrs.field(factory=list)


class OTelExporter:
    """A clientsim plugin that turns clientsim's events into OpenTelemetry spans.

    Register it with :func:`instrument` (or ``clientsim.plugins.register_plugin``);
    it is also a context manager that registers itself and, on exit, unregisters
    itself and ends any span still open.

    Args:
        tracer_provider: where the spans go; ``None``: OpenTelemetry's global tracer
            provider (whatever the application configured).

    Raises:
        ConfigError: the ``otel`` extra is not installed.
    """

    def __init__(self, tracer_provider: TracerProvider | None = None) -> None:
        _require()
        from opentelemetry import trace  # noqa: PLC0415

        from clientsim._version import __version__  # noqa: PLC0415

        provider = tracer_provider or trace.get_tracer_provider()
        self._tracer: Tracer = provider.get_tracer(_SCOPE, __version__)
        self._runs: dict[str, list[Span]] = {}  # a stack per id: calls may overlap
        self._conversations: dict[str, _Conversation] = {}
        self._handlers: dict[str, Callable[[Mapping[str, object]], None]] = {
            "batch.started": self._run_started,
            "batch.finished": self._run_finished,
            "conversation.started": self._conversation_started,
            "conversation.message": self._message,
            "conversation.outcome": self._outcome,
            "conversation.agent_silent": self._silent,
            "conversation.failed": self._failed,
            "conversation.ended": self._conversation_ended,
            "model.called": self._model_called,
        }

    def __repr__(self) -> str:
        return (
            f"OTelExporter(open_runs={len(self._runs)}, "
            f"open_conversations={len(self._conversations)})"
        )

    def __enter__(self) -> Self:
        if not plugins.get_plugin_manager().is_registered(self):
            plugins.register_plugin(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop listening (if registered) and end every span still open."""
        global _active  # noqa: PLW0603 - forget the exporter instrument() registered
        if _active is self:
            _active = None
        manager = plugins.get_plugin_manager()
        if manager.is_registered(self):
            plugins.unregister_plugin(self)
        for state in self._conversations.values():
            self._flush(state, state.context)
            state.span.end()
        for spans in self._runs.values():
            for span in spans:
                span.end()
        self._conversations.clear()
        self._runs.clear()

    @hookimpl
    def clientsim_event(self, event: str, fields: Mapping[str, object]) -> None:
        """Turn one clientsim event into span work (unknown events are ignored)."""
        handler = self._handlers.get(event)
        if handler is not None:
            handler(fields)

    # -- runs --------------------------------------------------------------------------

    def _run_started(self, fields: Mapping[str, object]) -> None:
        run_id = str(fields.get("run_id"))
        self._runs.setdefault(run_id, []).append(
            self._tracer.start_span(
                "clientsim.run",
                attributes=_attributes(
                    {
                        "clientsim.run_id": run_id,
                        "clientsim.run.total": fields.get("total"),
                        "clientsim.run.pending": fields.get("pending"),
                        "clientsim.run.parallel_runs": fields.get("parallel_runs"),
                    }
                ),
            )
        )

    def _run_finished(self, fields: Mapping[str, object]) -> None:
        spans = self._runs.get(str(fields.get("run_id")))
        if not spans:
            return
        span = spans.pop()
        if not spans:
            del self._runs[str(fields.get("run_id"))]
        status = fields.get("status")
        span.set_attributes(
            _attributes(
                {
                    "clientsim.run.status": status,
                    "clientsim.run.stored": fields.get("stored"),
                    "clientsim.run.skipped": fields.get("skipped"),
                }
            )
        )
        if status == "failed":
            _error(span, "the run failed")
        span.end()

    # -- conversations -----------------------------------------------------------------

    def _parent_of(self, conversation_id: str) -> Context | None:
        from opentelemetry import trace  # noqa: PLC0415

        for run_id, spans in self._runs.items():
            if conversation_id.startswith(f"{run_id}/"):
                return trace.set_span_in_context(spans[-1])
        return None  # the current context: the application's span, if any

    def _conversation_started(self, fields: Mapping[str, object]) -> None:
        from opentelemetry import trace  # noqa: PLC0415

        conversation_id = str(fields.get("conversation_id"))
        span = self._tracer.start_span(
            "clientsim.conversation",
            context=self._parent_of(conversation_id),
            attributes=_attributes(
                {
                    "gen_ai.conversation.id": conversation_id,
                    "clientsim.runner": fields.get("runner"),
                }
            ),
        )
        self._conversations[conversation_id] = _Conversation(
            span, trace.set_span_in_context(span), time.time_ns()
        )

    def _message(self, fields: Mapping[str, object]) -> None:
        from opentelemetry import trace  # noqa: PLC0415
        from opentelemetry.trace import SpanKind  # noqa: PLC0415

        conversation_id = str(fields.get("conversation_id"))
        state = self._conversations.get(conversation_id)
        if state is None:
            return
        now = time.time_ns()
        sender = str(fields.get("sender"))
        agent = sender == "agent"
        turn = self._tracer.start_span(
            f"turn {sender}",
            context=state.context,
            kind=SpanKind.CLIENT if agent else SpanKind.INTERNAL,
            start_time=state.turn_start,
            attributes=_attributes(
                {
                    "gen_ai.conversation.id": conversation_id,
                    "gen_ai.operation.name": "invoke_agent" if agent else None,
                    "clientsim.turn.index": fields.get("index"),
                    "clientsim.turn.sender": sender,
                }
            ),
        )
        self._flush(state, trace.set_span_in_context(turn))
        turn.end(end_time=now)
        state.turn_start = now

    def _outcome(self, fields: Mapping[str, object]) -> None:
        state = self._conversations.get(str(fields.get("conversation_id")))
        if state is not None:
            state.span.add_event(
                "clientsim.outcome",
                _attributes(
                    {
                        "clientsim.outcome": fields.get("outcome"),
                        "clientsim.message_count": fields.get("message_count"),
                    }
                ),
            )

    def _silent(self, fields: Mapping[str, object]) -> None:
        state = self._conversations.get(str(fields.get("conversation_id")))
        if state is not None:
            state.span.add_event(
                "clientsim.agent_silent",
                _attributes(
                    {
                        "clientsim.waited_seconds": fields.get("waited_seconds"),
                        "clientsim.ended_turn": fields.get("ended_turn"),
                    }
                ),
            )

    def _failed(self, fields: Mapping[str, object]) -> None:
        state = self._conversations.get(str(fields.get("conversation_id")))
        if state is None:
            return
        error = str(fields.get("error"))
        state.span.set_attributes(
            _attributes(
                {
                    "error.type": error.partition(":")[0],
                    "clientsim.failed.source": fields.get("source"),
                    "clientsim.failed.side": fields.get("side"),
                }
            )
        )
        _error(state.span, error)

    def _conversation_ended(self, fields: Mapping[str, object]) -> None:
        state = self._conversations.pop(str(fields.get("conversation_id")), None)
        if state is None:
            return
        self._flush(state, state.context)  # calls after the last message (judges)
        state.span.set_attributes(
            _attributes(
                {
                    "clientsim.ending": fields.get("reason"),
                    "clientsim.outcome": fields.get("outcome"),
                    "clientsim.message_count": fields.get("message_count"),
                    "clientsim.duration_seconds": fields.get("duration_seconds"),
                }
            )
        )
        state.span.end()

    # -- model calls -------------------------------------------------------------------

    def _model_called(self, fields: Mapping[str, object]) -> None:
        now = time.time_ns()
        conversation_id = fields.get("conversation_id")
        state = (
            self._conversations.get(str(conversation_id))
            if conversation_id is not None
            else None
        )
        if state is not None:
            # Its turn span is made when the turn's message comes: keep it till then.
            state.calls.append((fields, now))
        else:
            self._call_span(fields, now, None)

    def _flush(self, state: _Conversation, parent: Context) -> None:
        for fields, end in state.calls:
            self._call_span(fields, end, parent)
        state.calls.clear()

    def _call_span(
        self, fields: Mapping[str, object], end: int, parent: Context | None
    ) -> None:
        from opentelemetry.trace import SpanKind  # noqa: PLC0415

        duration = fields.get("duration_seconds")
        seconds = float(duration) if isinstance(duration, int | float) else 0.0
        model = str(fields.get("model"))
        provider = fields.get("provider")
        span = self._tracer.start_span(
            f"chat {_clean(model)}",
            context=parent,
            kind=SpanKind.CLIENT,
            start_time=end - int(seconds * 1e9),
            attributes=_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": provider,
                    "gen_ai.system": provider,
                    "gen_ai.request.model": model,
                    "gen_ai.usage.input_tokens": fields.get("input_tokens"),
                    "gen_ai.usage.output_tokens": fields.get("output_tokens"),
                    "gen_ai.conversation.id": fields.get("conversation_id"),
                    "clientsim.role": fields.get("role"),
                }
            ),
        )
        error = fields.get("error")
        if error is not None:
            span.set_attribute("error.type", _clean(str(error).partition(":")[0]))
            _error(span, str(error))
        span.end(end_time=end)


def _error(span: Span, description: str) -> None:
    from opentelemetry.trace import Status, StatusCode  # noqa: PLC0415

    span.set_status(Status(StatusCode.ERROR, _clean(description)))


_active: OTelExporter | None = None


def instrument(tracer_provider: TracerProvider | None = None) -> OTelExporter:
    """Start exporting clientsim's runs as spans; returns the registered exporter.

    Calling it again replaces the previous exporter. Stop with the returned
    exporter's :meth:`~OTelExporter.close` (or use it as a context manager).

    Args:
        tracer_provider: where the spans go; ``None``: OpenTelemetry's global one.

    Raises:
        ConfigError: the ``otel`` extra is not installed.
    """
    global _active  # noqa: PLW0603 - one process-wide exporter, replaced on each call
    exporter = OTelExporter(tracer_provider)
    if _active is not None:
        _active.close()
    plugins.register_plugin(exporter)
    _active = exporter
    return exporter


def tracer_provider_for(target: str) -> SDKTracerProvider:
    """A tracer provider that sends spans to ``target``: ``"console"`` (stdout) or
    ``"otlp"`` (the OTLP exporter, configured by the standard ``OTEL_EXPORTER_OTLP_*``
    environment variables; needs ``opentelemetry-exporter-otlp``).

    Flush it with ``shutdown()`` when the run is over.

    Raises:
        ConfigError: an unknown target, or a missing package.
    """
    _require()
    from opentelemetry.sdk.resources import Resource  # noqa: PLC0415
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
    from opentelemetry.sdk.trace.export import (  # noqa: PLC0415
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SpanExporter,
    )

    exporter: SpanExporter
    if target == "console":
        exporter = ConsoleSpanExporter()
    elif target == "otlp":
        try:  # optional, and not a dependency of the extra: imported by name
            otlp = importlib.import_module(
                "opentelemetry.exporter.otlp.proto.http.trace_exporter"
            )
        except ImportError as exc:
            raise ConfigError(
                "the otlp target needs the OTLP exporter: pip install "
                "opentelemetry-exporter-otlp-proto-http"
            ) from exc
        exporter = otlp.OTLPSpanExporter()
    else:
        raise ConfigError(
            f"unknown OpenTelemetry target {target!r}; allowed: "
            f"{', '.join(OTEL_TARGETS)}"
        )
    name = os.environ.get("OTEL_SERVICE_NAME") or "clientsim"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def export_to(target: str) -> Callable[[], None]:
    """Export every run from now on to ``target`` (see :func:`tracer_provider_for`);
    returns the function that stops and flushes the spans. ``clientsim run --otel``
    uses it.

    Raises:
        ConfigError: an unknown target, or a missing package.
    """
    provider = tracer_provider_for(target)
    exporter = instrument(provider)

    def stop() -> None:
        exporter.close()
        provider.shutdown()

    return stop


def exporting(target: str | None) -> Callable[[], None]:
    """What an experiment file's ``otel:`` key does: :func:`export_to` ``target``,
    unless it is ``None`` or spans are exported already (by :func:`instrument` or
    ``clientsim run --otel``: the caller's own choice wins); returns the function
    that stops it.

    Raises:
        ConfigError: an unknown target, or a missing package.
    """
    if target is None or _active is not None:
        return lambda: None
    return export_to(target)


def otel_option(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    """The ``--otel`` option's callback: start exporting to ``value`` until the command
    ends (the spans are flushed then).

    Raises:
        click.BadParameter: the target cannot be used (a missing package).
    """
    import click  # noqa: PLC0415 - only the command line needs it

    if value is None:
        return None
    try:
        stop = export_to(value)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc
    ctx.call_on_close(stop)
    return value
