"""One conversation's cassette entries (:class:`CassetteScope`), the cassette's
settings (what a replay replays, what it does on a miss), and the error a replaying
agent session raises when the cassette holds no fitting turn.

The file that holds the entries is :class:`~clientsim.experiments.cassette.Cassette`;
the agent's side is :class:`~clientsim.experiments.cassette_channel.CassetteChannel`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final, Literal, final

from clientsim._validators import check_bool
from clientsim.errors import (
    CassetteDivergenceError,
    CassetteMissError,
    ChannelError,
    ConfigError,
    InvalidTypeError,
)
from clientsim.experiments.cassette_divergence import (
    first_divergence,
    side_by_side,
)


__all__ = [
    "AGENT_KIND",
    "INPUT_PREFIX",
    "SCHEMA_VERSION",
    "AgentCassetteMissError",
    "CassetteMode",
    "CassetteScope",
    "OnMiss",
    "ReplayMode",
]

CassetteMode = Literal["record", "replay"]
"""``"record"``: call live and keep the results; ``"replay"``: answer from the file."""

ReplayMode = Literal["all", "simulator"]
"""What a replay answers from the file: ``"all"`` (every model call and the agent's
turns; nothing is called live) or ``"simulator"`` (the simulated side's model calls:
customer, judges, supervisor; the agent is called live)."""

OnMiss = Literal["fail", "live"]
"""What a replay does when the cassette holds no fitting entry: ``"fail"`` (raise
:class:`~clientsim.errors.CassetteMissError`) or ``"live"`` (call live from there)."""

SCHEMA_VERSION: Final = 1
"""The version of the cassette file's tables this module reads and writes."""

AGENT_KIND: Final = "agent"
"""The stream :class:`CassetteChannel` keeps the agent's turns in."""

INPUT_PREFIX: Final = "input:"
"""The stream ``INPUT_PREFIX + kind`` holds a digest of what each call of stream
``kind`` was asked (a model call's input messages), one per entry, in order."""

_AGENT_MODEL: Final = "model:agent"
_FIX: Final = (
    "re-record the cassette (mode='record'), or replay with on_miss='live' "
    "(strict=False) to call live where it has no entry"
)
_FIX_DIVERGED: Final = (
    "re-record the cassette (mode='record'), or replay with on_miss='live' to call "
    "the simulated side live from the divergence on and record the new run"
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

    A ``replay="simulator"`` scope replays the simulated side and records the run
    as it goes: the agent's live turns (:class:`CassetteChannel` puts them), the
    agent's model calls (a simulated agent is called live), and every replayed
    model answer. A replayed model call hands in a digest of what it was asked
    (``seen``); when it differs from the recorded one, the run went another way
    than the recording: with ``on_miss="fail"`` that raises
    :class:`~clientsim.errors.CassetteDivergenceError`, naming the first agent turn
    whose reply differs; with ``on_miss="live"`` every later model call is made live,
    and :attr:`changed` tells the cassette to write the new run.

    Example:
        >>> scope = CassetteScope("c1", mode="replay", entries={"model:customer": [{"a": 1}]})
        >>> scope.take("model:customer")
        {'a': 1}
        >>> scope.hits
        1

    Args:
        conversation: the conversation the entries belong to.
        mode: ``"record"`` or ``"replay"``.
        replay: in replay, ``"all"`` (every stream) or ``"simulator"`` (the
            simulated side; the agent's streams are live and recorded).
        on_miss: in replay, ``"fail"`` (a missing or diverging entry raises) or
            ``"live"`` (the caller calls live); default ``"fail"``.
        strict: the older spelling of ``on_miss``: ``True`` is ``"fail"``, ``False``
            is ``"live"``; give one of the two (both only if they agree).
        path: the cassette file, for messages (``None`` for a scope made by hand).
        entries: in replay, the recorded payloads of each kind, in order (taken as
            they are: each is handed out once).

    Raises:
        ConfigError: a bad mode, replay, on_miss, conversation or kind, or
            ``strict`` and ``on_miss`` that contradict each other
            (InvalidTypeError for a wrong type).

    Attributes:
        hits: entries handed out by :meth:`take`.
        misses: replays that found no fitting entry and let the caller call live.
    """

    def __init__(
        self,
        conversation: str,
        *,
        mode: CassetteMode,
        replay: ReplayMode = "all",
        on_miss: OnMiss | None = None,
        strict: bool | None = None,
        path: str | Path | None = None,
        entries: Mapping[str, Sequence[object]] | None = None,
    ) -> None:
        self.conversation = _check_name("conversation", conversation)
        self.mode: CassetteMode = _check_mode(mode)
        self.replay: ReplayMode = _check_replay(replay)
        self.on_miss: OnMiss = _resolve_on_miss(on_miss, strict)
        self.path = Path(path) if path is not None else None
        self.hits = 0
        self.misses = 0
        self._taken: dict[str, int] = {}
        self._recorded: dict[str, list[str]] = {}
        self._entries: dict[str, list[object]] = {}
        self._agent_view: Callable[[], object | None] | None = None
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
            f"replay={self.replay!r}, on_miss={self.on_miss!r}, hits={self.hits}, "
            f"misses={self.misses})"
        )

    @property
    def strict(self) -> bool:
        """``on_miss == "fail"``."""
        return self.on_miss == "fail"

    @property
    def records(self) -> bool:
        """Whether :meth:`put` keeps what it is given: in record mode, and in a
        ``replay="simulator"`` replay (which records the run as it goes)."""
        return self.mode == "record" or self.replay == "simulator"

    @property
    def agent_live(self) -> bool:
        """Whether the agent is called live: recording, or replaying the simulator."""
        return self.records

    @property
    def changed(self) -> bool:
        """Whether a replay went live and should be written back: a
        ``replay="simulator"`` replay with ``on_miss="live"`` that missed or diverged."""
        return (
            self.mode == "replay"
            and self.replay == "simulator"
            and self.on_miss == "live"
            and self.misses > 0
        )

    def take(self, kind: str, *, seen: str | None = None) -> object | None:
        """The next recorded payload of stream ``kind`` (replay), or ``None``.

        Args:
            kind: the stream.
            seen: a digest of what the call is asked (a model call's input); a
                ``replay="simulator"`` scope checks it against the recorded one.

        Returns:
            The payload; ``None`` when the caller is to call live and :meth:`put` the
            result: in record mode, for the agent's side of a ``replay="simulator"``
            replay, and in an ``on_miss="live"`` replay that has no fitting entry
            (from the first divergence on, a simulator replay calls every model
            live).

        Raises:
            CassetteMissError: an ``on_miss="fail"`` replay has no entry left for
                ``kind``; the message names the cassette, the conversation, the kind
                and the index.
            CassetteDivergenceError: an ``on_miss="fail"`` simulator replay was asked
                something else than the recording (the agent answered otherwise).
        """
        _check_name("a cassette entry kind", kind)
        if self.mode == "record":
            return None
        if self.replay == "simulator":
            return self._take_simulated(kind, seen)
        recorded = self._entries.get(kind, [])
        index = self._taken.get(kind, 0)
        if index < len(recorded):
            self._taken[kind] = index + 1
            self.hits += 1
            return recorded[index]
        self._miss(kind, index, len(recorded))
        self._taken[kind] = index + 1
        return None

    def _take_simulated(self, kind: str, seen: str | None) -> object | None:
        if _agent_side(kind) or self.changed:
            return None  # the agent is live; after a divergence, everything is
        recorded = self._entries.get(kind, [])
        index = self._taken.get(kind, 0)
        if index >= len(recorded):
            if self.strict and self._diverged(None, None):
                raise self._divergence(kind, index)
            self._miss(kind, index, len(recorded))
            return None
        digests = self._entries.get(INPUT_PREFIX + kind, [])
        expected = digests[index] if index < len(digests) else None
        if self._diverged(seen, expected):
            if self.strict:
                raise self._divergence(kind, index)
            self.misses += 1
            return None
        self._taken[kind] = index + 1
        self.hits += 1
        payload = recorded[index]
        self.put(kind, payload, seen=seen if expected is None else str(expected))
        return payload

    def _diverged(self, seen: str | None, expected: object | None) -> bool:
        """Whether the call does not fit the recording."""
        if seen is not None and expected is not None:
            return seen != expected
        # No digest to compare (a cassette recorded before digests were kept, or a
        # call past the recording's end): compare the agent's turns so far.
        recorded, live, partial = self._agent_turns()
        return first_divergence(recorded, live, partial_last=partial) is not None

    def _miss(self, kind: str, index: int, held: int) -> None:
        if self.strict:
            raise CassetteMissError(
                f"{_where(self)}: no recorded {kind!r} entry #{index} (it holds "
                f"{held}); the run asked for more than the recorded run did: {_FIX}"
            )
        self.misses += 1

    def _divergence(self, kind: str, index: int) -> CassetteDivergenceError:
        recorded, live, _ = self._agent_turns()
        turn = first_divergence(recorded, live)
        call = f"the {kind!r} call #{index}"
        if turn is None:
            return CassetteDivergenceError(
                f"{_where(self)}: {call} was asked something else than in the "
                "recording, while the agent's replies so far are the recorded ones: "
                "the simulated side changed (a persona, an intent, a prompt, a model "
                f"setting or a clientsim upgrade); {_FIX_DIVERGED}"
            )
        sent = "" if turn.sent is None else f" (its reply to {turn.sent!r})"
        return CassetteDivergenceError(
            f"{_where(self)}: the agent's reply diverged from the recording at turn "
            f"{turn.number}{sent}:\n\n{side_by_side(turn.recorded, turn.now)}\n\n"
            f"so {call} was asked something the recording has no answer for; "
            f"{_FIX_DIVERGED}"
        )

    def _agent_turns(self) -> tuple[list[object], list[object], bool]:
        """The recorded and the live agent turns (a simulated agent's answers if no
        turn was recorded), and whether the last live one is still being read."""
        recorded = self._entries.get(AGENT_KIND)
        if recorded:
            live = self.payloads(AGENT_KIND, recorded=True)
            pending = self._agent_view() if self._agent_view is not None else None
            if pending is not None:
                return list(recorded), [*live, pending], True
            return list(recorded), live, False
        kinds = sorted(
            kind for kind in self._entries if _agent_side(kind) and kind != AGENT_KIND
        )
        return (
            [entry for kind in kinds for entry in self._entries[kind]],
            [entry for kind in kinds for entry in self.payloads(kind, recorded=True)],
            False,
        )

    def follow_agent(self, view: Callable[[], object | None]) -> None:
        """Let divergence reports see the agent's turn being read: ``view()`` gives
        it as an entry (``None`` when there is none). :class:`CassetteChannel`'s
        recorder calls this."""
        self._agent_view = view

    def mismatch(self, kind: str, detail: str) -> None:
        """Report that the entry just taken from ``kind`` does not fit the run.

        For a caller that checks what it replays (e.g. the customer's message of an
        agent turn): the run went another way than the recorded one.

        Args:
            kind: the stream the entry came from.
            detail: what does not fit, for the message.

        Raises:
            CassetteMissError: in an ``on_miss="fail"`` replay.
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

    def put(self, kind: str, payload: object, *, seen: str | None = None) -> None:
        """Append ``payload`` to stream ``kind`` (a no-op in a ``replay="all"`` replay).

        The payload is turned into JSON now, so a later change to the object is not
        recorded and a payload that is not JSON-able fails here.

        Args:
            kind: the stream.
            payload: what to keep.
            seen: a digest of what the call was asked; kept in the stream
                ``INPUT_PREFIX + kind``, so a simulator replay can check it.

        Raises:
            InvalidTypeError: the payload holds something JSON cannot hold.
            ConfigError: the payload has a circular reference, NaN or infinity.
        """
        _check_name("a cassette entry kind", kind)
        if not self.records:
            return
        self._recorded.setdefault(kind, []).append(_dump(kind, payload))
        if seen is not None:
            self._recorded.setdefault(INPUT_PREFIX + kind, []).append(_dump(kind, seen))

    @property
    def kinds(self) -> tuple[str, ...]:
        """The streams that hold entries, sorted."""
        held = self._recorded if self.mode == "record" else self._entries
        return tuple(sorted(kind for kind, payloads in held.items() if payloads))

    def payloads(self, kind: str, *, recorded: bool = False) -> list[object]:
        """Every payload of stream ``kind``: recorded so far, or loaded to replay.

        Args:
            kind: the stream.
            recorded: in replay, what the run recorded so far (a simulator replay
                records the run) instead of what was loaded.
        """
        if self.mode == "record" or recorded:
            return [json.loads(text) for text in self._recorded.get(kind, [])]
        return list(self._entries.get(kind, []))

    def rows(self) -> list[tuple[str, int, str]]:
        """What :meth:`Cassette.commit` writes: ``(kind, index, json)`` per entry."""
        return [
            (kind, index, text)
            for kind, texts in sorted(self._recorded.items())
            for index, text in enumerate(texts)
        ]


def _agent_side(kind: str) -> bool:
    """The agent's turns and a simulated agent's model calls: live in a simulator
    replay."""
    return kind in {AGENT_KIND, _AGENT_MODEL} or kind.startswith(_AGENT_MODEL + "#")


def _where(scope: CassetteScope) -> str:
    cassette = f"cassette {str(scope.path)!r}" if scope.path else "cassette"
    return f"{cassette}, conversation {scope.conversation!r}"


def _check_mode(mode: object) -> CassetteMode:
    if mode == "record":
        return "record"
    if mode == "replay":
        return "replay"
    raise ConfigError(f"mode must be 'record' or 'replay'; got {mode!r}")


def _check_replay(replay: object) -> ReplayMode:
    if replay == "all":
        return "all"
    if replay == "simulator":
        return "simulator"
    raise ConfigError(
        "replay must be 'simulator' (replay the simulated side, call the agent live) "
        f"or 'all' (replay the agent's turns too); got {replay!r}"
    )


def _check_strict(strict: object) -> bool:
    return check_bool("strict", strict)


def _resolve_on_miss(on_miss: object, strict: object) -> OnMiss:
    """``on_miss``, or what the older ``strict`` says; both only if they agree."""
    from_strict: OnMiss | None = None
    if strict is not None:
        from_strict = "fail" if _check_strict(strict) else "live"
    if on_miss is None:
        return from_strict or "fail"
    if on_miss not in ("fail", "live"):
        raise ConfigError(
            "on_miss must be 'fail' (a missing or diverging entry is an error) or "
            f"'live' (call live from there and record it); got {on_miss!r}"
        )
    chosen: OnMiss = "fail" if on_miss == "fail" else "live"
    if from_strict is not None and from_strict != chosen:
        raise ConfigError(
            f"strict={strict!r} and on_miss={on_miss!r} contradict each other; give "
            "on_miss only (strict is its older spelling: strict=True is "
            "on_miss='fail', strict=False is on_miss='live')"
        )
    return chosen


class AgentCassetteMissError(CassetteMissError, ChannelError):
    """A replaying session had no recorded agent turn for the run, or the run differs.

    Both a :class:`~clientsim.errors.CassetteMissError` (what happened) and a
    :class:`~clientsim.errors.ChannelError` (where): a runner ends the run with it as
    a channel failure (``result.error.source == "channel"``), and the agent is never
    called.
    """
