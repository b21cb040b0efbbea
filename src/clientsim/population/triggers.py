"""Interventions inside a running customer journey: a precondition and an effect.

A :class:`Trigger` is checked after every touchpoint of a journey
(:class:`~clientsim.population.sequence.SequenceMode`). Its precondition is either a
Python callable ``(state, persona, transcript) -> bool`` or a statement a model
judges on what the persona said (``"the persona sounds frustrated"``, answered by
structured output with the schema titled ``precondition_check``). When it holds the
effect is applied: a message sent to the persona (who reacts to it), or a change of
the persona's :class:`~clientsim.population.state.PersonaState` (a mapping of fields
or a callable ``state -> state``). Where it fired is recorded in the transcript (a
system-side message) and in the persona's
:attr:`Response.events <clientsim.models.survey.Response.events>`.

In a file, a trigger is a mapping::

    - name: win_back
      when: the persona sounds frustrated
      send: Sorry about all the emails. Here is 30% off, and we will write less.
    - name: mark_lost
      when: the persona wants no more messages
      set: {opted_out: true}
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import attrs

from clientsim._validators import a_text, did_you_mean, typed
from clientsim.errors import ConfigError, InvalidTypeError
from clientsim.models.frozen import FrozenDict
from clientsim.population.state import PersonaState, check_changes


if TYPE_CHECKING:
    from clientsim.models import Conversation
    from clientsim.models.persona import Persona


__all__ = [
    "PRECONDITION_SCHEMA",
    "PRECONDITION_TITLE",
    "Effect",
    "Precondition",
    "Trigger",
    "triggers_of",
]

Precondition: TypeAlias = (
    "Callable[[PersonaState, Persona, Conversation], bool | Awaitable[bool]] | str"
)
"""A callable ``(state, persona, transcript) -> bool`` (or an async one), or a
statement about the persona that a model judges."""
Effect: TypeAlias = (
    "str | Mapping[str, object] | Callable[[PersonaState], PersonaState]"
)
"""A message to send the persona, a mapping of state fields to set, or a callable
``state -> state``."""

PRECONDITION_TITLE: Final = "precondition_check"
PRECONDITION_SCHEMA: Final[dict[str, Any]] = {
    "title": PRECONDITION_TITLE,
    "description": (
        "Whether a statement about a persona in a customer journey holds now, after "
        "the latest touchpoint, judged from what the persona said."
    ),
    "type": "object",
    "properties": {
        "holds": {
            "type": "boolean",
            "description": "True when the statement holds now.",
        },
        "reason": {
            "type": "string",
            "description": "One sentence: what in the transcript shows it.",
        },
    },
    "required": ["holds", "reason"],
}
"""The structured answer a precondition judge gives."""

_CONFIG_KEYS: Final = ("name", "when", "send", "set", "once")
_name: Final = a_text(non_empty=True)


def _precondition(_: object, __: object, value: Precondition) -> None:
    if isinstance(value, str):
        if not value.strip():
            raise ConfigError("a trigger's precondition must not be blank")
        return
    if not callable(value):
        raise InvalidTypeError(
            "a trigger's precondition must be a callable (state, persona, transcript) "
            f"-> bool or a statement (a string); got {type(value).__name__}"
        )


def _effect(value: object) -> Effect:
    if isinstance(value, str):
        if not value.strip():
            raise ConfigError("a trigger's message (its effect) must not be blank")
        return value
    if isinstance(value, Mapping):
        if not value:
            raise ConfigError("a trigger's state change must set at least one field")
        check_changes(value)
        return FrozenDict(value)
    if callable(value):
        return value  # checked when it runs
    raise InvalidTypeError(
        "a trigger's effect must be a message (a string), a mapping of persona state "
        f"fields to set, or a callable state -> state; got {type(value).__name__}"
    )


@attrs.frozen
class Trigger:
    """An intervention inside a running journey: when ``precondition`` holds after a
    touchpoint, apply ``effect``.

    Attributes:
        name: its name in the results.
        precondition: a callable ``(state, persona, transcript) -> bool`` (sync or
            async), or a statement a model judges (``"the persona sounds
            frustrated"``).
        effect: a message sent to the persona (a string), a mapping of
            :class:`~clientsim.population.state.PersonaState` fields to set
            (``{"trust": 0.8}``), or a callable ``state -> state``.
        once: fire at most once per persona (the default); ``False``: after every
            touchpoint where the precondition holds.

    Example:
        >>> t = Trigger("nudge", lambda state, persona, transcript: state.interest > 0.5,
        ...             "Here is a code for 10% off: HELLO10")
        >>> t.sends_message, t.judged
        (True, False)
        >>> Trigger.from_config({"name": "calm", "when": "the persona sounds frustrated",
        ...                      "set": {"trust": 0.6}}).judged
        True
    """

    name: str = attrs.field(validator=_name)
    precondition: Precondition = attrs.field(validator=_precondition)
    effect: Effect = attrs.field(converter=_effect)
    once: bool = attrs.field(default=True, kw_only=True, validator=typed(bool))

    @property
    def judged(self) -> bool:
        """``True`` when a model judges the precondition (it is a statement)."""
        return isinstance(self.precondition, str)

    @property
    def sends_message(self) -> bool:
        """``True`` when the effect is a message to the persona."""
        return isinstance(self.effect, str)

    @property
    def statement(self) -> str:
        """The precondition in words: the statement, or the callable's name."""
        if isinstance(self.precondition, str):
            return self.precondition
        return getattr(self.precondition, "__name__", type(self.precondition).__name__)

    def changed(self, state: PersonaState) -> PersonaState:
        """``state`` after a state-change effect (unchanged for a message).

        Raises:
            ConfigError: a callable effect did not return a PersonaState.
        """
        effect = self.effect
        if isinstance(effect, str):
            return state
        if isinstance(effect, Mapping):
            return state.evolve(effect)
        result = effect(state)
        if not isinstance(result, PersonaState):
            raise ConfigError(
                f"trigger {self.name!r}: its effect must return a PersonaState; got "
                f"{type(result).__name__}"
            )
        return result

    async def holds(
        self, state: PersonaState, persona: Persona, transcript: Conversation
    ) -> bool:
        """Call a callable precondition (a statement is judged by the journey).

        Raises:
            ConfigError: the precondition is a statement, or it returned something
                other than a bool.
        """
        check = self.precondition
        if isinstance(check, str):
            raise ConfigError(
                f"trigger {self.name!r}: its precondition is a statement for a model "
                "to judge, not a callable"
            )
        result: object = check(state, persona, transcript)
        if inspect.isawaitable(result):
            result = await result
        if not isinstance(result, bool):
            raise ConfigError(
                f"trigger {self.name!r}: its precondition must return True or False; "
                f"got {result!r}"
            )
        return result

    @classmethod
    def from_config(cls, config: Mapping[str, object], *, where: str = "") -> Trigger:
        """A trigger from a file's mapping: ``{name, when, send}`` or ``{name, when,
        set}`` (and ``once``, true by default).

        Raises:
            ConfigError: a key is unknown or missing, or a value does not fit; the
                message names the key (prefixed with ``where``).
        """
        at = f"{where}: " if where else ""
        if not isinstance(config, Mapping):
            raise InvalidTypeError(
                f"{at}a trigger must be a mapping with keys name, when and send or "
                f"set; got {type(config).__name__}"
            )
        for key in config:
            if key not in _CONFIG_KEYS:
                raise ConfigError(
                    f"{at}unknown trigger key {key!r}; allowed: {', '.join(_CONFIG_KEYS)}"
                    f"{did_you_mean(key, _CONFIG_KEYS)}"
                )
        for key in ("name", "when"):
            if key not in config:
                raise ConfigError(f"{at}a trigger needs {key!r}")
        if ("send" in config) == ("set" in config):
            raise ConfigError(
                f"{at}a trigger needs exactly one of 'send' (a message) or 'set' (state "
                "fields)"
            )
        when = config["when"]
        if not isinstance(when, str):
            raise ConfigError(
                f"{at}'when' must be a statement (a string); got {type(when).__name__}"
            )
        effect = config["send"] if "send" in config else config["set"]
        try:
            return cls(
                config["name"],  # type: ignore[arg-type]
                when,
                effect,
                once=config.get("once", True),  # type: ignore[arg-type]
            )
        except ConfigError as exc:
            key = "send" if "send" in config else "set"
            raise type(exc)(f"{at}{key}: {exc}") from exc


def triggers_of(value: Iterable[Trigger | Mapping[str, object]]) -> tuple[Trigger, ...]:
    """Triggers from :class:`Trigger` values or file mappings, names distinct.

    Raises:
        ConfigError: an item is neither, or two share a name; the message names the
            item (``triggers[1]``).
    """
    if isinstance(value, str | Mapping) or not isinstance(value, Iterable):
        raise InvalidTypeError(
            f"triggers must be a list of Trigger values or mappings; got {value!r}"
        )
    items: list[Trigger] = []
    for index, item in enumerate(value):
        where = f"triggers[{index}]"
        if isinstance(item, Mapping):
            items.append(Trigger.from_config(item, where=where))
        elif isinstance(item, Trigger):
            items.append(item)
        else:
            raise InvalidTypeError(
                f"{where} must be a Trigger or a mapping; got {type(item).__name__}"
            )
    names = [t.name for t in items]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"trigger names must be distinct; repeated: {repeated}")
    return tuple(items)
