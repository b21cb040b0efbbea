"""What a persona carries from one touchpoint of a customer journey to the next.

A :class:`PersonaState` is a frozen value: every update (:meth:`PersonaState.nudge`,
:meth:`PersonaState.remember`, :meth:`PersonaState.at`, :meth:`PersonaState.evolve`)
returns a new one, so a journey's states can be kept side by side and compared.
The three levels (awareness, interest, trust) always stay in [0, 1]: nudges are
clipped, and a value set directly outside the range is refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import attrs

from clientsim._validators import a_number, a_text, did_you_mean, typed
from clientsim.errors import ConfigError, InvalidTypeError
from clientsim.models.timestamps import timestamp_field


__all__ = [
    "DEFAULT_START",
    "LEVELS",
    "MEMORY_LIMIT",
    "NOTE_CHARS",
    "STATE_FIELDS",
    "PersonaState",
]

DEFAULT_START: Final = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
"""Where a journey's simulated clock starts unless told otherwise (a Monday, 09:00
UTC): fixed, so that runs are reproducible."""
LEVELS: Final[tuple[str, ...]] = ("awareness", "interest", "trust")
"""The state's levels, each a float in [0, 1]."""
FLAGS: Final[tuple[str, ...]] = ("purchased", "opted_out")
STATE_FIELDS: Final[tuple[str, ...]] = (*LEVELS, *FLAGS, "memory", "clock")
"""Every field of :class:`PersonaState`, in order."""
MEMORY_LIMIT: Final = 12
"""How many memory notes a state keeps (the oldest are forgotten first)."""
NOTE_CHARS: Final = 160
"""The longest a memory note is kept (longer ones are cut, with an ellipsis)."""

_level: Final = a_number(0.0, 1.0)


def _memory(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise InvalidTypeError(f"memory must be a list of strings; got {value!r}")
    for item in value:
        if not isinstance(item, str):
            raise InvalidTypeError(
                f"memory must be a list of strings; got an item {item!r}"
            )
    return tuple(value)


def _as_float(value: object) -> object:
    """An int level (``1``) is kept as the float it stands for; anything else is
    left for the validator, which names the field."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _clip(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 6)


def _note(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= NOTE_CHARS:
        return flat
    return flat[: NOTE_CHARS - 1].rstrip() + "\N{HORIZONTAL ELLIPSIS}"


@attrs.frozen(kw_only=True)
class PersonaState:
    """One persona's state in a customer journey.

    Attributes:
        awareness: how aware they are of the brand or offer, in [0, 1].
        interest: how interested they are, in [0, 1].
        trust: how much they trust the sender, in [0, 1].
        purchased: whether they have bought (or signed up).
        opted_out: whether they asked to hear no more; an opted-out persona is sent
            no further touchpoints.
        memory: short notes of what they saw and said, oldest first (at most
            :data:`MEMORY_LIMIT`).
        clock: the simulated time (timezone-aware UTC).

    Example:
        >>> state = PersonaState().nudge(interest=0.3).remember("saw: 20% off")
        >>> state.interest, state.memory
        (0.3, ('saw: 20% off',))
        >>> PersonaState.from_dict(state.to_dict()) == state
        True
    """

    awareness: float = attrs.field(default=0.0, converter=_as_float, validator=_level)
    interest: float = attrs.field(default=0.0, converter=_as_float, validator=_level)
    trust: float = attrs.field(default=0.5, converter=_as_float, validator=_level)
    purchased: bool = attrs.field(default=False, validator=typed(bool))
    opted_out: bool = attrs.field(default=False, validator=typed(bool))
    memory: tuple[str, ...] = attrs.field(default=(), converter=_memory)
    clock: datetime = attrs.field(
        default=DEFAULT_START, converter=timestamp_field, validator=typed(datetime)
    )

    def __attrs_post_init__(self) -> None:
        for note in self.memory:
            a_text()(self, attrs.fields(PersonaState).memory, note)

    def nudge(
        self, *, awareness: float = 0.0, interest: float = 0.0, trust: float = 0.0
    ) -> PersonaState:
        """Move the levels by these amounts, each result clipped to [0, 1]."""
        for name, delta in (
            ("awareness", awareness),
            ("interest", interest),
            ("trust", trust),
        ):
            if not isinstance(delta, int | float) or isinstance(delta, bool):
                raise InvalidTypeError(f"{name} must be a number; got {delta!r}")
            if not math.isfinite(delta):
                raise ConfigError(f"{name} must be a finite number; got {delta!r}")
        return attrs.evolve(
            self,
            awareness=_clip(self.awareness + awareness),
            interest=_clip(self.interest + interest),
            trust=_clip(self.trust + trust),
        )

    def remember(self, note: str) -> PersonaState:
        """This state with ``note`` added to memory (whitespace collapsed, cut to
        :data:`NOTE_CHARS` characters; the oldest note goes past
        :data:`MEMORY_LIMIT`). A blank note is ignored."""
        if not isinstance(note, str):
            raise InvalidTypeError(f"a memory note must be a string; got {note!r}")
        text = _note(note)
        if not text:
            return self
        return attrs.evolve(self, memory=(*self.memory, text)[-MEMORY_LIMIT:])

    def at(self, clock: datetime) -> PersonaState:
        """This state at simulated time ``clock``."""
        return attrs.evolve(self, clock=clock)

    def later(self, days: float) -> PersonaState:
        """This state ``days`` later on the simulated clock."""
        return self.at(self.clock + timedelta(days=days))

    def evolve(self, changes: Mapping[str, object]) -> PersonaState:
        """This state with some fields set (a trigger's ``set:``).

        Raises:
            ConfigError: a key is not a state field, or a value does not fit it (a
                level outside [0, 1], a flag that is not a bool).
        """
        check_changes(changes)
        values: dict[str, Any] = dict(changes)
        if "memory" in values and isinstance(values["memory"], list):
            values["memory"] = tuple(values["memory"])
        return attrs.evolve(self, **values)

    def summary(self) -> str:
        """The state as the lines a persona's prompt shows."""
        lines = [
            f"Where you are now: {self.clock:%A %d %B %Y, %H:%M} UTC.",
            (
                f"Your awareness of the sender: {self.awareness:.2f}; your interest: "
                f"{self.interest:.2f}; your trust in them: {self.trust:.2f} "
                "(0 = none, 1 = complete)."
            ),
        ]
        if self.purchased:
            lines.append("You have already bought from them.")
        if self.opted_out:
            lines.append("You have asked them to stop contacting you.")
        if self.memory:
            lines.append("What you remember so far:")
            lines.extend(f"- {note}" for note in self.memory)
        return "\n".join(lines)

    def levels(self) -> dict[str, float | bool]:
        """The levels and flags as plain data (a response's fields)."""
        return {
            "awareness": self.awareness,
            "interest": self.interest,
            "trust": self.trust,
            "purchased": self.purchased,
            "opted_out": self.opted_out,
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data; :meth:`from_dict` gives back an equal state."""
        return {
            **self.levels(),
            "memory": list(self.memory),
            "clock": self.clock.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PersonaState:
        """A state from :meth:`to_dict`'s data.

        Raises:
            ConfigError: unknown keys, or values that do not fit.
        """
        if not isinstance(data, Mapping):
            raise InvalidTypeError(
                f"a persona state must be a mapping; got {type(data).__name__}"
            )
        values = dict(data)
        clock = values.pop("clock", None)
        check_changes(values)
        if clock is not None:
            if not isinstance(clock, str | datetime):
                raise InvalidTypeError(
                    f"clock must be an ISO 8601 timestamp; got {clock!r}"
                )
            try:
                values["clock"] = (
                    datetime.fromisoformat(clock) if isinstance(clock, str) else clock
                )
            except ValueError as exc:
                raise ConfigError(
                    f"clock must be an ISO 8601 timestamp; got {clock!r}"
                ) from exc
        if "memory" in values and isinstance(values["memory"], list):
            values["memory"] = tuple(values["memory"])
        return cls(**values)


def check_changes(changes: object) -> None:
    """Check a mapping of state changes: known field names, values of their kind.

    Raises:
        ConfigError: what is wrong, naming the key.
    """
    if not isinstance(changes, Mapping):
        raise InvalidTypeError(
            f"a state change must be a mapping of fields ({', '.join(STATE_FIELDS)}); "
            f"got {type(changes).__name__}"
        )
    for key, value in changes.items():
        if key not in STATE_FIELDS:
            raise ConfigError(
                f"unknown persona state field {key!r}; allowed: "
                f"{', '.join(STATE_FIELDS)}{did_you_mean(key, STATE_FIELDS)}"
            )
        if key in LEVELS and not (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and 0.0 <= value <= 1.0
        ):
            raise ConfigError(f"{key} must be a number from 0 to 1; got {value!r}")
        if key in FLAGS and not isinstance(value, bool):
            raise ConfigError(f"{key} must be true or false; got {value!r}")
