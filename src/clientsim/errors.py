"""Every error clientsim raises, in one tree.

This module imports nothing from clientsim, so any module can import it.

```
ClientSimError(Exception)
 +-- ConfigError(ClientSimError, ValueError)
 |    +-- UnknownStrategyError
 |    +-- DuplicateStrategyError
 |    +-- InvalidTypeError(ConfigError, TypeError)
 +-- IllegalTransitionError(ClientSimError, ValueError)
 +-- DuplicateSimulationError(ClientSimError)
 +-- PluginError(ClientSimError)
 +-- ChannelError(ClientSimError)
 |    +-- SessionClosedError
 |    +-- AgentTimeoutError(ChannelError, TimeoutError)
 +-- ModelError(ClientSimError)
 |    +-- RateLimitedError
 |    +-- InvalidModelOutputError
 +-- CassetteMissError(ClientSimError, LookupError)
 |    +-- CassetteDivergenceError
 +-- SimulationError(ClientSimError)
 |    +-- ParticipantError
 |    +-- HumanTimeoutError(SimulationError, TimeoutError)
 +-- StatisticsError(ClientSimError, ValueError)

ClientSimWarning(UserWarning)
 +-- ClientSimDeprecationWarning(ClientSimWarning, DeprecationWarning)
```

Every message names what was wrong and what would be right. Normal endings of a
conversation (a goal reached, a customer who gives up) are outcomes, never errors.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence


__all__ = [
    "AgentTimeoutError",
    "CassetteDivergenceError",
    "CassetteMissError",
    "ChannelError",
    "ClientSimDeprecationWarning",
    "ClientSimError",
    "ClientSimWarning",
    "ConfigError",
    "DuplicateSimulationError",
    "DuplicateStrategyError",
    "HumanTimeoutError",
    "IllegalTransitionError",
    "InvalidModelOutputError",
    "InvalidTypeError",
    "ModelError",
    "ParticipantError",
    "PluginError",
    "RateLimitedError",
    "SessionClosedError",
    "SimulationError",
    "StatisticsError",
    "UnknownStrategyError",
    "is_transient",
]


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(repr(name) for name in names) or "(none)"


class ClientSimError(Exception):
    """The root of every error clientsim raises."""


class ConfigError(ClientSimError, ValueError):
    """A value or configuration is not what clientsim accepts."""


class UnknownStrategyError(ConfigError):
    """A strategy name was looked up that no registry entry has.

    Attributes:
        family: the family looked in, e.g. ``"termination strategy"``.
        name: the name asked for.
        available: the names that are registered, sorted.
    """

    def __init__(self, family: str, name: str, available: Sequence[str]) -> None:
        self.family = family
        self.name = name
        self.available = tuple(sorted(available))
        message = f"unknown {family} {name!r}; available: {_quoted(self.available)}"
        close = difflib.get_close_matches(name, self.available, n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
        super().__init__(message)


class DuplicateStrategyError(ConfigError):
    """A strategy name was registered twice in one family."""

    def __init__(self, family: str, name: str) -> None:
        self.family = family
        self.name = name
        super().__init__(
            f"{family} {name!r} is already registered; every name in a family must "
            "be unique (third-party plugins may namespace theirs as 'dist/name')"
        )


class InvalidTypeError(ConfigError, TypeError):
    """A value of the wrong type was given, e.g. a string where a Message belongs.

    It is a ``TypeError`` too, so code that catches the builtin keeps working.
    """


class IllegalTransitionError(ClientSimError, ValueError):
    """A lifecycle was asked to move to a state that may not follow the current one."""


class DuplicateSimulationError(ClientSimError):
    """A simulation id was registered a second time."""


class PluginError(ClientSimError):
    """A third-party plugin could not be loaded or registered."""


class ChannelError(ClientSimError):
    """Talking to a real agent over a channel failed.

    Every channel classifies its failures the same way (the table is in the errors
    reference): the error keeps the HTTP status it came with, if any, and whether it is
    worth retrying, and it is raised from the error underneath (a redacted copy where
    that error could hold credentials).

    Args:
        message: what failed, and what to check.
        status: the HTTP status of the answer that failed (the agent's reply, or the
            refused WebSocket handshake); ``None`` when no answer came.
        transient: whether retrying the conversation may succeed. ``None`` leaves it
            to the classification: a ``status`` of 429 or 5xx is transient, otherwise
            the error it was raised from decides (:func:`is_transient`).

    Attributes:
        status: as given.
    """

    _default_transient: bool | None = None

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        transient: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self._transient = self._default_transient if transient is None else transient

    @property
    def transient(self) -> bool:
        """Whether the failure is worth retrying: a timeout, a dropped or refused
        connection, HTTP 429 or 5xx. Malformed or oversize replies, other 4xx answers and
        misuse are not."""
        if self._transient is not None:
            return self._transient
        if self.status is not None:
            return _transient_status(self.status)
        cause = self.__cause__
        if cause is None and not self.__suppress_context__:
            cause = self.__context__
        return cause is not None and is_transient(cause)


class SessionClosedError(ChannelError):
    """A channel session was used after it was closed."""

    _default_transient = False


class AgentTimeoutError(ChannelError, TimeoutError):
    """A real agent did not answer within the allowed time (transient)."""

    _default_transient = True


class ModelError(ClientSimError):
    """A chat model call failed."""


class RateLimitedError(ModelError):
    """A provider refused a model call for its rate limit (HTTP 429); transient.

    Args:
        message: what happened.
        provider: the provider (``"openai"``, ...).
        retry_after: the seconds the provider asked to wait (its ``Retry-After``
            header), or ``None`` when it named none.
    """

    transient = True
    status_code = 429

    def __init__(
        self, message: str, *, provider: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.retry_after = retry_after


class InvalidModelOutputError(ModelError):
    """A chat model answered with something that is not what was asked for."""


class CassetteMissError(ClientSimError, LookupError):
    """A strict replay needed a recorded call the cassette does not hold.

    Nothing is called live instead: re-record the cassette (or replay non-strictly).
    """


class CassetteDivergenceError(CassetteMissError):
    """A replay that calls the agent live saw the agent answer otherwise than recorded.

    Raised by a strict ``replay="simulator"`` cassette when a replayed model call is
    asked something else than in the recording. The message names the first turn
    where the agent's reply diverged and shows the recorded and the new reply side
    by side. Re-record the cassette, or replay with ``on_miss="live"`` to record the
    new run from the divergence on.
    """


class SimulationError(ClientSimError):
    """A simulation could not run as asked."""


class ParticipantError(SimulationError):
    """A participant failed or broke the participant contract.

    Attributes:
        conversation: the :class:`~clientsim.models.Conversation` as it stood when
            the participant failed, so nothing that was said is lost (typed
            ``object``: this module imports nothing from clientsim).
    """

    def __init__(self, message: str, *, conversation: object | None = None) -> None:
        super().__init__(message)
        self.conversation = conversation


class HumanTimeoutError(SimulationError, TimeoutError):
    """A person did not answer a human client's question in time."""


class StatisticsError(ClientSimError, ValueError):
    """The data cannot support the statistic asked for: too few observations, pairs
    that do not match, a sample with no variance where one is needed. The message
    names the statistic, what it got and what it needs."""


class ClientSimWarning(UserWarning):
    """The root of every warning clientsim issues."""


class ClientSimDeprecationWarning(ClientSimWarning, DeprecationWarning):
    """A name or behaviour is deprecated and will be removed."""


_TRANSIENT_NAMES = frozenset(
    {
        "TimeoutError",
        "ConnectionError",
        "RateLimitError",
        "APIConnectionError",
        "APITimeoutError",
        "InternalServerError",
        "ServiceUnavailableError",
        "ClientConnectionError",
        "ServerDisconnectedError",
        "ServerTimeoutError",
    }
)


def _transient_status(status: int) -> bool:
    return status == 429 or 500 <= status < 600


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` (or an error it was raised from) is worth retrying.

    An error that says so itself decides: a :class:`ChannelError` (or any error with a
    boolean ``transient`` attribute) is transient exactly when that attribute is true.
    Otherwise transient means timeouts, dropped or refused connections, rate limits
    (HTTP 429) and server errors (HTTP 5xx), recognised by class name or
    ``status_code`` so that no provider package needs importing. Anything else (a
    wrong argument, a bad reply, a bug) is a logic error and is never retried.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        flag = getattr(current, "transient", None)
        if isinstance(flag, bool):
            return flag
        if any(kind.__name__ in _TRANSIENT_NAMES for kind in type(current).__mro__):
            return True
        status = getattr(current, "status_code", None) or getattr(
            current, "status", None
        )
        if isinstance(status, int) and _transient_status(status):
            return True
        current = current.__cause__ or current.__context__
    return False
