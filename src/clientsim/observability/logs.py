"""The ``clientsim`` logger's level, from an argument or the ``LOG_LEVEL`` variable.

clientsim logs on the ``clientsim`` logger and its children (``clientsim.events``
logs every event: conversation starts and ends at ``INFO``, each message and model
call at ``DEBUG``). :func:`configure_logging` sets that logger's level and gives it
one handler writing to standard error; the ``clientsim`` command calls it when it
starts, so ``LOG_LEVEL=DEBUG clientsim run ...`` shows every event.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Final, TextIO

from clientsim.errors import ConfigError


__all__ = ["LEVELS", "LOG_LEVEL", "configure_logging", "parse_log_level"]

LOG_LEVEL: Final = "LOG_LEVEL"
"""The environment variable :func:`configure_logging` reads."""

LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
"""The level names :func:`parse_log_level` takes (in any case)."""

_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def parse_log_level(value: str | int, *, name: str = "level") -> int:
    """A logging level from a name (``"debug"``, ``"INFO"``) or a number (0 to 50).

    Args:
        value: the level.
        name: what messages call it (``LOG_LEVEL`` when it came from there).

    Raises:
        ConfigError: anything else; the message names ``name`` and what is allowed.

    Example:
        >>> parse_log_level("debug"), parse_log_level(" Warning "), parse_log_level("15")
        (10, 30, 15)
        >>> parse_log_level("loud", name="LOG_LEVEL")
        Traceback (most recent call last):
        ...
        clientsim.errors.ConfigError: LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (in any case) or a number from 0 to 50; got 'loud'
    """  # noqa: E501
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if text.upper() in LEVELS:
            return int(logging.getLevelName(text.upper()))
        if text.isdecimal() and text.isascii():
            number = int(text)
    if number is None or not 0 <= number <= logging.CRITICAL:
        raise ConfigError(
            f"{name} must be one of {', '.join(LEVELS)} (in any case) or a number "
            f"from 0 to {logging.CRITICAL}; got {value!r}"
        )
    return number


class _StandardError(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is logged."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: object) -> None:
        pass  # always sys.stderr


_handler: _StandardError | None = None


def configure_logging(level: str | int | None = None) -> int | None:
    """Set the ``clientsim`` logger's level and log it to standard error.

    Calling it again changes the level; it never adds a second handler.

    Args:
        level: a level name (``DEBUG``, ``INFO``, ``WARNING``, ``ERROR``,
            ``CRITICAL``, in any case) or a number; ``None`` reads the ``LOG_LEVEL``
            environment variable, and does nothing when it is unset or empty
            (Python's default then shows warnings and errors only).

    Returns:
        The level set, or ``None`` when nothing was configured.

    Raises:
        ConfigError: a bad level; the message names ``LOG_LEVEL`` when the level
            came from it, and lists the allowed values.

    Example::

        configure_logging()         # what LOG_LEVEL says, if it is set
        configure_logging("debug")  # every event, each message and model call too
    """
    global _handler  # noqa: PLW0603 - one handler per process
    if level is None:
        text = os.environ.get(LOG_LEVEL, "").strip()
        if not text:
            return None
        number = parse_log_level(text, name=LOG_LEVEL)
    else:
        number = parse_log_level(level)
    logger = logging.getLogger("clientsim")
    logger.setLevel(number)
    if _handler is None:
        _handler = _StandardError()
        _handler.setFormatter(logging.Formatter(_FORMAT))
    if _handler not in logger.handlers:
        logger.addHandler(_handler)
    # The handler keeps the level even when a run lowers the logger's level to
    # write its own log file.
    _handler.setLevel(number)
    return number
