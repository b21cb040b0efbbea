"""How long clientsim waits for anything that can hang: one value, finite defaults."""

from __future__ import annotations

from typing import Any, Final

import attrs

from clientsim._validators import check_seconds


__all__ = ["DEFAULT_TIMEOUTS", "Timeouts"]


def _seconds(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_seconds(f"timeouts.{attribute.name}", value)


def _as_seconds(value: object) -> object:
    """An int becomes a float; anything else is left for the validator to name."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


@attrs.frozen
class Timeouts:
    """The longest clientsim waits for one model call, one turn and one conversation.

    Every await that could hang is bounded by one of these: the runners, the
    participants, structured calls and judges, the supervisor, the task engine's worker
    and the intake engine all take a ``Timeouts`` (``timeouts=``), and so do
    :func:`clientsim.simulate`, the pytest ``simulate`` fixture (``timeouts=`` or the
    ``clientsim`` marker) and the experiment file (``runner.timeout_seconds``,
    ``runner.turn_timeout_seconds``, ``runner.model_timeout_seconds``).

    A call that passes its limit fails with a :class:`TimeoutError` (a model call with
    a transient :class:`~clientsim.errors.ModelError`), recorded with the conversation
    like any other failure; a sync call running in a worker thread is abandoned (the
    thread runs on, and never keeps the process from exiting).

    Example:
        >>> Timeouts()
        Timeouts(model_call=120.0, turn=300.0, conversation=1800.0)
        >>> Timeouts(turn=30).turn
        30.0

    Args:
        model_call: one chat-model call (a customer's, an agent's or a judge's),
            the provider's own retries included. Default 120 s.
        turn: one step of user code: a participant writing a message, the task
            engine's worker producing a deliverable, an intake strategy deciding, a
            task being created. Default 300 s.
        conversation: one whole conversation (or one client-simulation task).
            Default 1800 s.

    Raises:
        ConfigError: a value is not a finite number of seconds > 0 (the error names
            it, e.g. ``timeouts.turn``).
    """

    model_call: float = attrs.field(
        default=120.0, converter=_as_seconds, validator=_seconds
    )
    turn: float = attrs.field(default=300.0, converter=_as_seconds, validator=_seconds)
    conversation: float = attrs.field(
        default=1800.0, converter=_as_seconds, validator=_seconds
    )


DEFAULT_TIMEOUTS: Final = Timeouts()
"""The defaults, shared."""
