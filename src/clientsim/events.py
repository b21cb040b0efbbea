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
from typing import Final

from clientsim import plugins


__all__ = [
    "AGENT_SILENT",
    "BATCH_CONVERSATION_STORED",
    "BATCH_FINISHED",
    "BATCH_STARTED",
    "CONVERSATION_ENDED",
    "CONVERSATION_FAILED",
    "CONVERSATION_MESSAGE",
    "CONVERSATION_OUTCOME",
    "CONVERSATION_STARTED",
    "emit",
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
CONVERSATION_FAILED: Final = "conversation.failed"
"""An error ended a conversation. Fields: ``conversation_id``, ``source``, ``side``
(``"agent"`` or ``"simulator"``), ``error``."""

BATCH_STARTED: Final = "batch.started"
"""A batch run started. Fields: ``run_id``, ``total`` (cells in the grid), ``pending``
(cells still to run; fewer than ``total`` on a resume), ``parallel_runs``."""
BATCH_CONVERSATION_STORED: Final = "batch.conversation_stored"
"""A batch conversation finished and was stored. Fields: ``run_id``, ``key`` (the grid
cell), ``status`` (``"done"``, ``"failed"`` or ``"timeout"``)."""
BATCH_FINISHED: Final = "batch.finished"
"""A batch run stopped. Fields: ``run_id``, ``status`` (``"done"`` or
``"interrupted"``), ``stored`` (conversations stored by this run), ``skipped``."""

_DEBUG_EVENTS: Final = frozenset({CONVERSATION_MESSAGE, BATCH_CONVERSATION_STORED})

logger: Final = logging.getLogger("clientsim.events")
"""The logger every event is logged on."""

_listeners_generation = -1
_has_listeners = False


def _listening() -> bool:
    global _listeners_generation, _has_listeners  # noqa: PLW0603 - a cheap cache
    current = plugins.generation()
    if current != _listeners_generation:
        manager = plugins.get_plugin_manager()
        _has_listeners = bool(manager.hook.clientsim_event.get_hookimpls())
        _listeners_generation = plugins.generation()
    return _has_listeners


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
