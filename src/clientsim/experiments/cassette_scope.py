"""One conversation's cassette entries (:class:`CassetteScope`), and the error a
replaying agent session raises when the cassette holds no fitting turn.

The file that holds the entries is :class:`~clientsim.experiments.cassette.Cassette`;
the agent's side is :class:`~clientsim.experiments.cassette_channel.CassetteChannel`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final, Literal, final

from clientsim._validators import check_bool
from clientsim.errors import (
    CassetteMissError,
    ChannelError,
    ConfigError,
    InvalidTypeError,
)


__all__ = [
    "AGENT_KIND",
    "SCHEMA_VERSION",
    "AgentCassetteMissError",
    "CassetteMode",
    "CassetteScope",
]

CassetteMode = Literal["record", "replay"]
"""``"record"``: call live and keep the results; ``"replay"``: answer from the file."""

SCHEMA_VERSION: Final = 1
"""The version of the cassette file's tables this module reads and writes."""

AGENT_KIND: Final = "agent"
"""The stream :class:`CassetteChannel` keeps the agent's turns in."""

_MODES: Final = ("record", "replay")
_FIX: Final = (
    "re-record the cassette (mode='record'), or replay with strict=False to call "
    "live where it has no entry"
)


def _check_name(what: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidTypeError(f"{what} must be a str; got {type(value).__name__}")
    if not value:
        raise ConfigError(f"{what} must be a non-empty string; got ''")
    return value


def _dump(kind: str, payload: object) -> str:
    try:
        return json.dumps(payload, allow_nan=False, ensure_ascii=False)
    except TypeError as exc:
        raise InvalidTypeError(
            f"a cassette entry of kind {kind!r} must be JSON-able (dicts, lists, str, "
            f"numbers, bools, None); {exc}"
        ) from exc
    except ValueError as exc:  # a circular reference, NaN or infinity
        raise ConfigError(
            f"a cassette entry of kind {kind!r} must be JSON-able (finite numbers, no "
            f"circular references); {exc}"
        ) from exc


# ----- the scope: one conversation's entries ---------------------------------------------


@final
class CassetteScope:
    """One conversation's entries: what it recorded, or what it replays.

    Used from the event loop only; it does no I/O (the :class:`Cassette` loads and
    writes it). Each kind is its own stream with its own counter, starting at 0.

    Example:
        >>> scope = CassetteScope("c1", mode="replay", entries={"model:customer": [{"a": 1}]})
        >>> scope.take("model:customer")
        {'a': 1}
        >>> scope.hits
        1

    Args:
        conversation: the conversation the entries belong to.
        mode: ``"record"`` or ``"replay"``.
        strict: in replay, whether a missing entry raises (``True``) or lets the caller
            call live (``False``).
        path: the cassette file, for messages (``None`` for a scope made by hand).
        entries: in replay, the recorded payloads of each kind, in order (taken as
            they are: each is handed out once).

    Raises:
        ConfigError: a bad mode, conversation or kind (InvalidTypeError for a wrong
            type).

    Attributes:
        hits: entries handed out by :meth:`take`.
        misses: non-strict replays that found no fitting entry (the caller called
            live).
    """

    def __init__(
        self,
        conversation: str,
        *,
        mode: CassetteMode,
        strict: bool = True,
        path: str | Path | None = None,
        entries: Mapping[str, Sequence[object]] | None = None,
    ) -> None:
        self.conversation = _check_name("conversation", conversation)
        self.mode: CassetteMode = _check_mode(mode)
        self.strict = _check_strict(strict)
        self.path = Path(path) if path is not None else None
        self.hits = 0
        self.misses = 0
        self._taken: dict[str, int] = {}
        self._recorded: dict[str, list[str]] = {}
        self._entries: dict[str, list[object]] = {}
        for kind, payloads in (entries or {}).items():
            _check_name("a cassette entry kind", kind)
            if isinstance(payloads, str | bytes) or not isinstance(payloads, Sequence):
                raise InvalidTypeError(
                    f"entries[{kind!r}] must be a sequence of payloads; got "
                    f"{type(payloads).__name__}"
                )
            self._entries[kind] = list(payloads)

    def __repr__(self) -> str:
        return (
            f"CassetteScope({self.conversation!r}, mode={self.mode!r}, "
            f"strict={self.strict!r}, hits={self.hits}, misses={self.misses})"
        )

    def take(self, kind: str) -> object | None:
        """The next recorded payload of stream ``kind`` (replay), or ``None``.

        Returns:
            The payload; ``None`` in record mode (call live and :meth:`put` the
            result), and in a non-strict replay that has no entry left (call live).

        Raises:
            CassetteMissError: a strict replay has no entry left for ``kind``; the
                message names the cassette, the conversation, the kind and the index.
        """
        _check_name("a cassette entry kind", kind)
        if self.mode == "record":
            return None
        recorded = self._entries.get(kind, [])
        index = self._taken.get(kind, 0)
        if index < len(recorded):
            self._taken[kind] = index + 1
            self.hits += 1
            return recorded[index]
        if self.strict:
            raise CassetteMissError(
                f"{_where(self)}: no recorded {kind!r} entry #{index} (it holds "
                f"{len(recorded)}); the run asked for more than the recorded run did: "
                f"{_FIX}"
            )
        self._taken[kind] = index + 1
        self.misses += 1
        return None

    def mismatch(self, kind: str, detail: str) -> None:
        """Report that the entry just taken from ``kind`` does not fit the run.

        For a caller that checks what it replays (e.g. the customer's message of an
        agent turn): the run went another way than the recorded one.

        Args:
            kind: the stream the entry came from.
            detail: what does not fit, for the message.

        Raises:
            CassetteMissError: in a strict replay.
        """
        _check_name("a cassette entry kind", kind)
        if self.mode == "record":
            return
        index = max(self._taken.get(kind, 0) - 1, 0)
        if self.strict:
            raise CassetteMissError(
                f"{_where(self)}: recorded {kind!r} entry #{index} does not fit the "
                f"run: {detail}; the run went another way than the recorded one: {_FIX}"
            )
        self.hits = max(self.hits - 1, 0)
        self.misses += 1

    def put(self, kind: str, payload: object) -> None:
        """Append ``payload`` to stream ``kind`` (record mode; a no-op in replay).

        The payload is turned into JSON now, so a later change to the object is not
        recorded and a payload that is not JSON-able fails here.

        Raises:
            InvalidTypeError: the payload holds something JSON cannot hold.
            ConfigError: the payload has a circular reference, NaN or infinity.
        """
        _check_name("a cassette entry kind", kind)
        if self.mode == "replay":
            return
        self._recorded.setdefault(kind, []).append(_dump(kind, payload))

    @property
    def kinds(self) -> tuple[str, ...]:
        """The streams that hold entries, sorted."""
        held = self._recorded if self.mode == "record" else self._entries
        return tuple(sorted(kind for kind, payloads in held.items() if payloads))

    def payloads(self, kind: str) -> list[object]:
        """Every payload of stream ``kind``: recorded so far, or loaded to replay."""
        if self.mode == "record":
            return [json.loads(text) for text in self._recorded.get(kind, [])]
        return list(self._entries.get(kind, []))

    def rows(self) -> list[tuple[str, int, str]]:
        """What :meth:`Cassette.commit` writes: ``(kind, index, json)`` per entry."""
        return [
            (kind, index, text)
            for kind, texts in sorted(self._recorded.items())
            for index, text in enumerate(texts)
        ]


def _where(scope: CassetteScope) -> str:
    cassette = f"cassette {str(scope.path)!r}" if scope.path else "cassette"
    return f"{cassette}, conversation {scope.conversation!r}"


def _check_mode(mode: object) -> CassetteMode:
    if mode == "record":
        return "record"
    if mode == "replay":
        return "replay"
    raise ConfigError(f"mode must be 'record' or 'replay'; got {mode!r}")


def _check_strict(strict: object) -> bool:
    return check_bool("strict", strict)


class AgentCassetteMissError(CassetteMissError, ChannelError):
    """A replaying session had no recorded agent turn for the run, or the run differs.

    Both a :class:`~clientsim.errors.CassetteMissError` (what happened) and a
    :class:`~clientsim.errors.ChannelError` (where): a runner ends the run with it as
    a channel failure (``result.error.source == "channel"``), and the agent is never
    called.
    """
