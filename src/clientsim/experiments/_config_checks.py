"""The experiment file's validators and the words of their messages.

Private to :mod:`clientsim.experiments.config`: the attrs validators and converters
of its classes, the checks across keys of
:class:`~clientsim.experiments.config.ExperimentConfig`, and the helpers that show a
value as the user wrote it. A broken rule raises ``_FieldError``, a
:class:`~clientsim.errors.ConfigError` that names the key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, Final

import attrs

from clientsim._validators import (
    Check,
    FieldError,
    a_bool,
    a_number,
    a_text,
    an_int,
    did_you_mean,
    is_int,
    is_number,
    one_of,
    or_none,
    plain,
    shown,
)
from clientsim.config.files import lone_surrogate


if TYPE_CHECKING:
    from clientsim.experiments.config import ExperimentConfig, InputItem, JsonValue

_TARGET_FORMS: Final = (
    "'module:function', 'module:Class.method' or 'module:instance.method' (dotted "
    "Python identifiers on both sides, e.g. 'examples.simple_agent:run')"
)
_PERSONA_ID: Final = re.compile(r"[a-z0-9_-]+")
# The rule clientsim.models.Outcome applies to outcome names.
_OUTCOME_NAME: Final = re.compile(r"[a-z0-9]+(?:[_-][a-z0-9]+)*")
_INPUTS_SUFFIXES: Final = (".jsonl", ".yaml", ".yml", ".json")


# ------------------------------------------------------------- words and errors

# The shared checks (clientsim._validators) under the names this package's
# modules use; every check here speaks the file's words (``integer``, ``null``).
_FieldError = FieldError
_plain = plain
_show = shown
_did_you_mean = did_you_mean
_is_int = is_int
_is_number = is_number


# ----------------------------------------------------------------------- validators


def _Check(allowed: str, test: Callable[[object], bool]) -> Check:  # noqa: N802 - reads as the class it makes
    """A file check: ``test(value)`` must hold; ``allowed`` says what fits."""
    return Check(allowed, allowed, test, in_files=True)


def _optional(check: Check) -> Check:
    return or_none(check)


def _int_in(low: int, high: int, why: str = "") -> Check:
    return an_int(low, high, note=why).in_file()


def _number_in(low: float, high: float) -> Check:
    return a_number(low, high).in_file()


@cache
def _text(*, non_empty: bool = False) -> Check:
    """A string (with ``non_empty``: not blank) that is text: no lone surrogate."""
    return a_text(non_empty=non_empty).in_file()


def _choice(*options: str) -> Check:
    return one_of(*options).in_file()


def _matches(pattern: re.Pattern[str], allowed: str) -> Check:
    return _Check(
        allowed, lambda v: isinstance(v, str) and pattern.fullmatch(v) is not None
    )


_BOOL: Final = a_bool().in_file()
_STR_LIST: Final = _Check(
    "a list of strings",
    lambda v: isinstance(v, tuple) and all(isinstance(i, str) for i in v),
)


def _instance(cls: type, allowed: str) -> Check:
    return _Check(allowed, lambda v: isinstance(v, cls))


def _items(cls: type, allowed: str) -> Check:
    return _Check(
        allowed, lambda v: isinstance(v, tuple) and all(isinstance(i, cls) for i in v)
    )


def _as_tuple(value: object) -> Any:
    """Lists (and other iterables) become tuples; strings and mappings stay to be refused."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        return value
    return tuple(value)


def _as_float(value: object) -> Any:
    if _is_int(value):
        try:
            return float(value)  # type: ignore[arg-type]
        except OverflowError:
            return value
    return value


def _is_dotted(value: str) -> bool:
    return all(part.isidentifier() for part in value.split("."))


def _json_problem(value: object, where: str = "") -> str | None:
    """Where ``value`` stops being plain JSON data, or ``None`` if it is JSON."""
    if isinstance(value, str):
        problem = lone_surrogate(value)
        return f"{where or 'the value'} {problem}" if problem else None
    if value is None or isinstance(value, bool | int | float):
        return None
    children: list[tuple[str, object]] = []
    if isinstance(value, list | tuple):
        children = [(f"{where}[{index}]", item) for index, item in enumerate(value)]
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{where} has a key that is not a string: {_show(key)}"
            if (problem := lone_surrogate(key)) is not None:
                return f"{where} has a key that {problem}"
            children.append((f"{where}[{key!r}]", item))
    else:
        return f"{where or 'the value'} is {_show(value)}"
    return next(
        (found for place, item in children if (found := _json_problem(item, place))),
        None,
    )


def _json_copy(value: object) -> JsonValue:
    if isinstance(value, list | tuple):
        return [_json_copy(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _json_copy(item) for key, item in value.items()}
    return value  # type: ignore[return-value]  # checked by _json_problem


_JSON_OBJECT: Final = _Check(
    "a mapping of string keys to JSON values (null, booleans, numbers, strings, "
    "lists, mappings)",
    lambda v: isinstance(v, Mapping) and _json_problem(v) is None,
)


def _as_json_object(value: object) -> Any:
    if isinstance(value, Mapping) and _json_problem(value) is None:
        return _json_copy(value)
    return value


# --------------------------------------------------------------------------- values


def _as_python_path(value: object) -> Any:
    return (value,) if isinstance(value, str) else _as_tuple(value)


def _check_target(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    module, sep, attribute_path = (
        value.partition(":") if isinstance(value, str) else ("", "", "")
    )
    if not (sep and _is_dotted(module) and _is_dotted(attribute_path)):
        raise _FieldError(
            attribute.name, f"expected {_TARGET_FORMS}; got {_show(value)}"
        )


_MODULE_PATH: Final = _optional(
    _Check(
        "a dotted Python module path (e.g. 'examples.simple_agent')",
        lambda v: isinstance(v, str) and _is_dotted(v),
    )
)
_FUNCTION_NAME: Final = _optional(
    _Check(
        "a function name or dotted attribute path (e.g. 'run', 'Agent.process')",
        lambda v: isinstance(v, str) and _is_dotted(v),
    )
)
_PYTHON_PATH: Final = _Check(
    "a list of strings, a single string, or null",
    lambda v: v is None or _STR_LIST.test(v),
)
_DOT_PATH: Final = _matches(
    re.compile(r"[^.\s]+(?:\.[^.\s]+)*"),
    "a non-empty dot path such as 'data.content'",
)
_PARALLEL_WHY: Final = (
    " (the seed documents 1-20; clientsim allows more because simulated customers "
    "and network-bound agents are I/O-bound)"
)


def _check_patterns(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    _STR_LIST(_, attribute, value)
    for index, pattern in enumerate(value):
        try:
            re.compile(pattern)
        except (re.error, OverflowError, RecursionError, ValueError) as exc:
            raise _FieldError(
                f"{attribute.name}[{index}]",
                f"expected a regular expression; got {pattern!r} ({exc})",
            ) from exc


def _check_inputs_file(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not (
        isinstance(value, str) and value.lower().endswith(_INPUTS_SUFFIXES)
    ):
        raise _FieldError(
            attribute.name,
            "expected a path to a .jsonl, .yaml, .yml or .json file, or null; "
            f"got {_show(value)}",
        )


# ------------------------------------------------------------- cross-key checks


def _unique(key: str, attribute: str, values: list[str]) -> None:
    seen: dict[str, int] = {}
    for index, value in enumerate(values):
        if value in seen:
            raise _FieldError(
                f"{key}[{index}].{attribute}",
                f"{value!r} is already used by {key}[{seen[value]}]; each {attribute} in "
                f"{key} must be unique",
            )
        seen[value] = index


def _with_ids(items: Iterable[InputItem], inline: int) -> tuple[InputItem, ...]:
    """Give inputs without an id their position as id; refuse duplicate ids.

    The first ``inline`` items come from ``inputs``, the rest from ``inputs_file``.
    """

    def key(index: int) -> str:
        return (
            f"inputs[{index}]" if index < inline else f"inputs_file[{index - inline}]"
        )

    result: list[InputItem] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        item_id = item.id if item.id is not None else str(index)
        if item_id in seen:
            raise _FieldError(
                f"{key(index)}.id",
                f"id {item_id!r} is already used by {key(seen[item_id])}; input ids must "
                "be unique (an input without an id gets its position among all inputs, "
                "counting from 0, as id)",
            )
        seen[item_id] = index
        result.append(item if item.id is not None else attrs.evolve(item, id=item_id))
    return tuple(result)


def _check_experiment(config: ExperimentConfig) -> None:
    """The checks across keys of a whole experiment config."""
    _check_what_runs(config)
    _unique("personas", "id", [p.id for p in config.personas])
    outcome_names = [o.name for o in config.outcomes]
    _unique("outcomes", "name", outcome_names)
    for index, name in enumerate(config.pass_outcomes):
        if name not in outcome_names:
            raise _FieldError(
                f"pass_outcomes[{index}]",
                f"{name!r} is not an outcome name; allowed: "
                f"{', '.join(map(repr, outcome_names)) or '(no outcomes declared)'}"
                f"{_did_you_mean(name, outcome_names)}",
            )
    _check_criteria_outcome(config, outcome_names or ["completed"])
    override = config.multi_turn.persona_override
    persona_ids = [p.id for p in config.personas]
    if override is not None and persona_ids and override not in persona_ids:
        raise _FieldError(
            "multi_turn.persona_override",
            f"{override!r} names no persona; allowed: "
            f"{', '.join(map(repr, persona_ids))}{_did_you_mean(override, persona_ids)}",
        )
    _with_ids(config.inputs, len(config.inputs))


def _check_criteria_outcome(config: ExperimentConfig, names: list[str]) -> None:
    """A criteria evaluator's ``outcome`` must be one of the file's outcomes."""
    evaluator = config.evaluator
    if evaluator is None or evaluator.strategy != "criteria":
        return
    outcome = evaluator.options.get("outcome")
    if isinstance(outcome, str) and outcome not in names:
        raise _FieldError(
            "evaluator.outcome",
            f"{outcome!r} is not an outcome name; allowed: "
            f"{', '.join(map(repr, names))}{_did_you_mean(outcome, names)}",
        )


def _check_what_runs(config: ExperimentConfig) -> None:
    target = config.runner.resolved_target if config.runner is not None else None
    if target is not None and config.agent is not None:
        raise _FieldError(
            "agent",
            "give either runner (your agent's code) or agent (a simulated agent, a URL "
            "or a channel strategy), not both",
        )
    if config.agent is None and target is None:
        raise _FieldError(
            "runner.target" if config.runner is not None else "runner",
            "nothing to run: set runner.target (or runner.module_path and "
            "runner.function_name) to test your agent's code, set agent to a URL "
            "(http(s):// or ws(s)://) or a channel strategy to test a running agent, "
            "or set agent.system_prompt to rehearse against a simulated agent",
        )
