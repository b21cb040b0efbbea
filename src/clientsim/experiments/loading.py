"""Reading experiment files into :class:`~clientsim.experiments.config.ExperimentConfig`.

The shared converter (:mod:`clientsim.config`) does the work; this module registers
what the experiment file needs beyond it (``base_dir`` is never read from a file,
``runner.python_path`` may be one string, an input may be a bare string and its
``metadata`` must be JSON data) and reads the files. Every problem becomes one
:class:`~clientsim.errors.ConfigError` naming the key path, the value given and what
is allowed.

:mod:`clientsim.experiments.config` calls these functions; they need its classes,
so it imports this module where it loads, not at its top.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import cast

import attrs

from clientsim.config import (
    CONFIG_SUFFIXES,
    WrongType,
    converter,
    explain_file_error,
    parse_text,
    read_text,
    register_structure_overrides,
    register_unstructure_overrides,
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
from clientsim.experiments.config import (
    ExperimentConfig,
    InputItem,
    JsonValue,
    RunnerConfig,
)
from clientsim.experiments.schema import AgentConfig
from clientsim.experiments.strategies import StrategySpec


__all__ = ["build", "load_file", "read_inputs_file", "unstructure"]


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
register_structure_overrides(
    ExperimentConfig,
    omit=["base_dir"],
    hooks={
        "agent": _structure_agent,
        "customer": _structure_strategy,
        "evaluator": _structure_strategy,
        "termination": _structure_strategies,
    },
)
register_unstructure_overrides(InputItem, hooks={"metadata": _json_copy})
register_unstructure_overrides(
    ExperimentConfig,
    omit=["base_dir"],
    hooks={
        "agent": _unstructure_agent,
        "customer": _unstructure_spec,
        "evaluator": _unstructure_spec,
        "termination": lambda specs: [spec.to_data() for spec in specs],
    },
)


# ------------------------------------------------------------------- loading


def build(data: object, base_dir: Path | None, head: str) -> ExperimentConfig:
    """An experiment config from a file's top-level data.

    Args:
        data: the parsed file.
        base_dir: the project root; the current directory if ``None``.
        head: the start of every error message.

    Raises:
        ConfigError: ``head: key.path: what is wrong`` (a line per problem).
    """
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{head}: the top level must be a mapping of keys to values; got {_show(data)}"
        )
    config = structure_file(data, ExperimentConfig, head=head)
    try:
        return attrs.evolve(
            config, base_dir=base_dir if base_dir is not None else Path.cwd()
        )
    except (ConfigError, TypeError, ValueError) as exc:
        raise explain_file_error(head, exc) from exc


def unstructure(config: ExperimentConfig) -> dict[str, JsonValue]:
    """``config`` as plain data that :func:`build` reads back (``base_dir`` aside)."""
    data: dict[str, JsonValue] = converter().unstructure(config)
    return data


def _project_root(path: Path) -> Path:
    folder = path.absolute().parent
    return folder.parent if folder.name == "configs" else folder


def load_file(file: Path) -> ExperimentConfig:
    """What :func:`~clientsim.experiments.config.load_experiment_config` does.

    Raises:
        ConfigError: an unsupported suffix, a missing or invalid file, a wrong value.
    """
    suffix = file.suffix.lower()
    if suffix not in CONFIG_SUFFIXES:
        raise ConfigError(
            f"cannot load experiment config {file}: unsupported file type "
            f"{suffix or '(no suffix)'}; use {', '.join(CONFIG_SUFFIXES)}"
        )
    data = parse_text(
        read_text(file, "experiment config"), suffix, f"experiment config {file}"
    )
    return build(data, _project_root(file), f"invalid experiment config {file}")


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
