"""How the shared converter reads an experiment file's parts, and its inputs file.

The shared converter (:mod:`clientsim.config`) does the work; this module registers
what the file's parts need beyond it (``runner.python_path`` may be one string, an
input may be a bare string and its ``metadata`` must be JSON data), holds the hooks
of the strategy keys that :mod:`clientsim.experiments.config` registers for the top
level, and reads an ``inputs_file``. Every problem becomes one
:class:`~clientsim.errors.ConfigError` naming the key path, the value given and what
is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import cast

from clientsim.config import (
    WrongType,
    converter,
    parse_text,
    read_text,
    register_structure_overrides,
    structure_file,
)
from clientsim.errors import ConfigError
from clientsim.experiments._config_checks import (
    _STR_LIST,
    _as_python_path,
    _FieldError,
    _json_copy,
    _json_problem,
    _show,
)
from clientsim.experiments.schema import AgentConfig, InputItem, RunnerConfig
from clientsim.experiments.strategies import StrategySpec


__all__ = ["read_inputs_file"]


# ---------------------------------------------------------- the converter hookup


def _structure_python_path(value: object, _: type) -> tuple[str, ...] | None:
    converted = _as_python_path(value)
    if converted is None or _STR_LIST.test(converted):
        return cast("tuple[str, ...] | None", converted)
    raise WrongType(value)


def _structure_json_object(value: object, _: type) -> object:
    if not isinstance(value, Mapping):
        raise WrongType(value)
    problem = _json_problem(value)
    if problem is not None:
        raise _FieldError("", f"expected JSON data; {problem.lstrip()}")
    return _json_copy(value)


def _input_from_value(value: object) -> object:
    return {"content": value} if isinstance(value, str) else value


def _structure_agent(value: object, _: type) -> object:
    """``agent``: a URL or ``module:attr``, a channel strategy, or a simulated agent."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        if "strategy" in value:
            return _structure_strategy(value, _)
        return converter().structure(value, AgentConfig)
    raise WrongType(value)


def _structure_strategy(value: object, _: type) -> object:
    """A strategy: a name, or a mapping of JSON data with a ``strategy`` key (the
    config class's converter makes a :class:`StrategySpec` of it)."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, Mapping):
        raise WrongType(value)
    problem = _json_problem(value)
    if problem is not None:
        raise _FieldError("", f"expected JSON data; {problem.lstrip()}")
    return _json_copy(value)


def _structure_strategies(value: object, _: type) -> object:
    if value is None or isinstance(value, str | Mapping):
        return _structure_strategy(value, _)
    if not isinstance(value, list | tuple):
        raise WrongType(value)
    return [_structure_strategy(item, _) for item in value]


def _unstructure_spec(value: StrategySpec | None) -> object:
    return None if value is None else value.to_data()


def _unstructure_agent(value: object) -> object:
    if isinstance(value, StrategySpec):
        return value.to_data()
    if isinstance(value, AgentConfig):
        return converter().unstructure(value)
    return value


# Inner classes first: cattrs builds a class's hook with its fields' hooks inside.
register_structure_overrides(
    RunnerConfig, hooks={"python_path": _structure_python_path}
)
register_structure_overrides(
    InputItem,
    hooks={"metadata": _structure_json_object},
    from_value=_input_from_value,
    expected="a string or a mapping with content (and optionally id, intent, metadata)",
)


# ------------------------------------------------------------------- inputs


def read_inputs_file(path: Path) -> list[InputItem]:
    """The inputs of an ``inputs_file``: ``.jsonl`` (an input a line) or a
    ``.yaml``/``.yml``/``.json`` list.

    Raises:
        ConfigError: the file is missing or malformed; naming the line or item.
    """
    what = f"inputs_file {path}"
    text = read_text(path, "inputs_file")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        entries: list[tuple[str, str, object]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                where = f"{what} line {number}"
                entries.append((where, "", parse_text(line, ".json", where)))
    else:
        data = parse_text(text, suffix, what)
        if data is None:
            return []
        if not isinstance(data, list):
            raise ConfigError(
                f"{what}: expected a list of inputs (strings or mappings); got {_show(data)}"
            )
        entries = [(what, f"[{index}]", item) for index, item in enumerate(data)]
    return [
        structure_file(entry, InputItem, head=f"invalid {where}", path=key)
        for where, key, entry in entries
    ]
