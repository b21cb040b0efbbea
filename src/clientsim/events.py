"""Lifecycle events, emitted through :mod:`logging` and the ``clientsim_event`` hook.

Every event is logged on the ``clientsim.events`` logger with structured ``extra``:
``record.clientsim_event`` holds the event name and ``record.clientsim_fields`` a dict of
its fields. Per-message events are logged at ``DEBUG``, the rest at ``INFO``. An
application can forward events elsewhere (OpenTelemetry, LangSmith, its own bus) by
implementing the hook::

    class Forwarder:
        @clientsim.hookimpl
        def clientsim_event(self, event, fields):
            bus.publish(event, dict(fields))

    clientsim.plugins.register_plugin(Forwarder())
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Final

from clientsim import plugins


__all__ = [
    "AGENT_INTERRUPTED",
    "AGENT_INTERRUPT_APPROVED",
    "AGENT_SILENT",
    "BATCH_CONVERSATION_STORED",
    "BATCH_FINISHED",
    "BATCH_STARTED",
    "CLIENT_FEEDBACK_RECORDED",
    "CLIENT_REVIEW_COMPLETED",
    "CLIENT_REVIEW_STARTED",
    "CONVERSATION_ENDED",
    "CONVERSATION_FAILED",
    "CONVERSATION_MESSAGE",
    "CONVERSATION_OUTCOME",
    "CONVERSATION_STARTED",
    "INTAKE_ACCEPTED",
    "INTAKE_RECEIVED",
    "INTAKE_REJECTED",
    "MODEL_CALLED",
    "REQUEST_APPROVED",
    "REQUEST_REJECTED",
    "REQUEST_SCOPED",
    "REQUEST_SUBMITTED",
    "REQUEST_TASK_CREATED",
    "REQUEST_TRIAGING",
    "REQUIREMENTS_GENERATED",
    "REVIEW_PIPELINE_COMPLETED",
    "REVIEW_PIPELINE_STARTED",
    "REVIEW_STAGE_COMPLETED",
    "SIMULATION_COMPLETED",
    "SIMULATION_ROUND_COMPLETED",
    "SIMULATION_STARTED",
    "current_conversation",
    "emit",
    "enabled",
    "logger",
]

CONVERSATION_STARTED: Final = "conversation.started"
"""A runner started a conversation. Fields: ``conversation_id``, ``runner``."""
CONVERSATION_MESSAGE: Final = "conversation.message"
"""A message was appended. Fields: ``conversation_id``, ``index``, ``sender``."""
CONVERSATION_OUTCOME: Final = "conversation.outcome"
"""An outcome was reached. Fields: ``conversation_id``, ``outcome``, ``message_count``."""
CONVERSATION_ENDED: Final = "conversation.ended"
"""A conversation ended. Fields: ``conversation_id``, ``reason``, ``message_count``,
``outcome``, ``duration_seconds``."""
AGENT_SILENT: Final = "conversation.agent_silent"
"""A real agent's turn brought no message: nothing came within the reply timeout, or
it ended its turn empty. Fields: ``conversation_id``, ``waited_seconds`` (how long the
runner waited), ``ended_turn`` (the agent ended its turn explicitly),
``message_count``."""
AGENT_INTERRUPTED: Final = "conversation.agent_interrupted"
"""A real agent stopped to ask (a LangGraph ``interrupt()``) and nobody answered: the
conversation ends with the reason ``"agent_interrupted"``. Fields:
``conversation_id``, ``payload`` (the interrupt's value, JSON data),
``message_count``."""
AGENT_INTERRUPT_APPROVED: Final = "conversation.interrupt_approved"
"""A :class:`~clientsim.channels.RunnableChannel` with ``auto_approve_tools`` resumed
a LangGraph interrupt with an approval. Fields: ``session_id`` (the graph's thread
id), ``interrupt_id``, ``payload`` (the interrupt's value), ``resume`` (what the
graph was resumed with)."""
CONVERSATION_FAILED: Final = "conversation.failed"
"""An error ended a conversation. Fields: ``conversation_id``, ``source``, ``side``
(``"agent"`` or ``"simulator"``), ``error``."""
MODEL_CALLED: Final = "model.called"
"""A chat model call of clientsim's (a customer's, a judge's, a full run's agent's)
finished. Fields: ``conversation_id`` (``None`` outside a conversation), ``role``
(``"customer"``, ``"agent"``, ``"judge"``, ... when known, else ``None``), ``model``,
``provider``, ``duration_seconds``, ``input_tokens``, ``output_tokens``, ``error``
(``None``, or the error's type and message). Logged at ``DEBUG``."""

BATCH_STARTED: Final = "batch.started"
"""A batch run started. Fields: ``run_id``, ``total`` (cells in the grid), ``pending``
(cells still to run; fewer than ``total`` on a resume), ``parallel_runs``."""
BATCH_CONVERSATION_STORED: Final = "batch.conversation_stored"
"""A batch conversation finished and was stored. Fields: ``run_id``, ``key`` (the grid
cell), ``status`` (``"done"``, ``"failed"`` or ``"timeout"``)."""
BATCH_FINISHED: Final = "batch.finished"
"""A batch run stopped. Fields: ``run_id``, ``status`` (``"done"`` or
``"interrupted"``), ``stored`` (conversations stored by this run), ``skipped``."""

# Client simulation (seed 000). Fields are listed where each is emitted.
REQUEST_SUBMITTED: Final = "client.request.submitted"
"""A client request was filed. Fields: ``request_id``, ``client_id``."""
REQUEST_TRIAGING: Final = "client.request.triaging"
"""Intake started triaging a request. Fields: ``request_id``."""
REQUEST_SCOPED: Final = "client.request.scoped"
"""Intake scoped a request. Fields: ``request_id``, ``notes``."""
REQUEST_APPROVED: Final = "client.request.approved"
"""A request was approved. Fields: ``request_id``."""
REQUEST_TASK_CREATED: Final = "client.request.task_created"
"""A task was created for a request. Fields: ``request_id``, ``task_id``."""
REQUEST_REJECTED: Final = "client.request.rejected"
"""A request was cancelled. Fields: ``request_id``, ``reason``, ``status`` (where it was)."""
CLIENT_REVIEW_STARTED: Final = "client.review.started"
"""A client started reviewing a deliverable. Fields: ``task_id``, ``client_id``."""
CLIENT_REVIEW_COMPLETED: Final = "client.review.completed"
"""A client finished a review. Fields: ``task_id``, ``client_id``, ``accepted``."""
CLIENT_FEEDBACK_RECORDED: Final = "client.review.feedback_recorded"
"""Client feedback was recorded on a task. Fields: ``task_id``, ``accepted``,
``unmet_criteria``."""
REQUIREMENTS_GENERATED: Final = "client.requirements.generated"
"""A generator produced requirements. Fields: ``generator``, ``count``."""
SIMULATION_STARTED: Final = "client.simulation.started"
"""A client simulation run started. Fields: ``simulation_id``, ``clients``."""
SIMULATION_ROUND_COMPLETED: Final = "client.simulation.round_completed"
"""A round of a client simulation finished. Fields: ``simulation_id``, ``round``."""
SIMULATION_COMPLETED: Final = "client.simulation.completed"
"""A client simulation run finished. Fields: ``simulation_id``, ``status``."""
REVIEW_PIPELINE_STARTED: Final = "review_pipeline.started"
"""A task entered the review pipeline. Fields: ``task_id``, ``stages``."""
REVIEW_STAGE_COMPLETED: Final = "review_pipeline.stage_completed"
"""A review stage gave its verdict. Fields: ``task_id``, ``stage``, ``verdict``."""
REVIEW_PIPELINE_COMPLETED: Final = "review_pipeline.completed"
"""The review pipeline finished. Fields: ``task_id``, ``verdict`` (pass or fail)."""
INTAKE_RECEIVED: Final = "intake.received"
"""Intake received a request. Fields: ``request_id``, ``strategy``."""
INTAKE_ACCEPTED: Final = "intake.accepted"
"""Intake accepted a request and created its task. Fields: ``request_id``, ``task_id``."""
INTAKE_REJECTED: Final = "intake.rejected"
"""Intake rejected a request. Fields: ``request_id``, ``reason``."""

_DEBUG_EVENTS: Final = frozenset(
    {CONVERSATION_MESSAGE, BATCH_CONVERSATION_STORED, MODEL_CALLED}
)

current_conversation: Final[ContextVar[str | None]] = ContextVar(
    "clientsim_current_conversation", default=None
)
"""The id of the conversation the current task runs (set by the runners), so that an
event emitted deeper down (a model call) can say which conversation it belongs to."""

logger: Final = logging.getLogger("clientsim.events")
"""The logger every event is logged on."""

_listeners_generation = -1
_has_listeners = False


def _listening() -> bool:
    """Whether a ``clientsim_event`` hook is registered; looked up again only after a
    plugin was registered or unregistered."""
    global _listeners_generation, _has_listeners  # noqa: PLW0603 - a cheap cache
    if plugins.generation() != _listeners_generation:
        manager = plugins.get_plugin_manager()
        _has_listeners = bool(manager.hook.clientsim_event.get_hookimpls())
        _listeners_generation = plugins.generation()
    return _has_listeners


def enabled(event: str, /) -> bool:
    """Whether :func:`emit` would send ``event`` anywhere: to a log handler at its level,
    or to a ``clientsim_event`` hook.

    Cheap, so that a hot path (a runner, once per message) can skip building the
    event's fields when nobody listens::

        if events.enabled(events.CONVERSATION_MESSAGE):
            events.emit(events.CONVERSATION_MESSAGE, ...)
    """
    level = logging.DEBUG if event in _DEBUG_EVENTS else logging.INFO
    return logger.isEnabledFor(level) or _listening()


def emit(event: str, /, **fields: object) -> None:
    """Emit ``event`` with ``fields`` to the log and to every ``clientsim_event`` hook."""
    level = logging.DEBUG if event in _DEBUG_EVENTS else logging.INFO
    if logger.isEnabledFor(level):
        logger.log(
            level,
            "%s %s",
            event,
            fields,
            extra={"clientsim_event": event, "clientsim_fields": fields},
        )
    if _listening():
        payload: Mapping[str, object] = fields
        plugins.get_plugin_manager().hook.clientsim_event(event=event, fields=payload)
