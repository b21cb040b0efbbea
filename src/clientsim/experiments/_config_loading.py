"""Reading experiment files: the strict cattrs converter, error explanations, parsing.

Private to :mod:`clientsim.experiments.config`, which imports it where it loads (this
module needs the config classes, so it cannot be imported by ``config`` at the top).
Every problem becomes one :class:`~clientsim.errors.ConfigError` naming the key path,
the value given and what is allowed.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal, cast, get_args, get_origin

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from clientsim.errors import ConfigError
from clientsim.experiments._config_checks import (
    _STR_LIST,
    _as_float,
    _as_python_path,
    _Check,
    _did_you_mean,
    _FieldError,
    _is_number,
    _json_copy,
    _json_problem,
    _plain,
    _show,
    _WrongType,
)
from clientsim.experiments.config import ExperimentConfig, InputItem, RunnerConfig
from clientsim.experiments.schema import AgentConfig
from clientsim.experiments.strategies import StrategySpec


_CONFIG_SUFFIXES: Final = (".yaml", ".yml", ".toml", ".json")


# -------------------------------------------------------------------- converter


@cache
def _converter() -> cattrs.Converter:
    """A strict converter: no coercion, unknown keys refused, errors kept per key."""
    conv = cattrs.Converter(forbid_extra_keys=True)
    for kind in (int, float, str, bool):
        conv.register_structure_hook(kind, _strict(kind))
    conv.register_structure_hook_func(_is_literal, _structure_literal)
    conv.register_structure_hook_func(
        _is_tuple, lambda value, type_: _structure_tuple(conv, value, type_)
    )
    conv.register_structure_hook_factory(attrs.has, lambda cls: _attrs_hook(conv, cls))
    conv.register_unstructure_hook_func(
        lambda type_: type_ is tuple or _is_tuple(type_),
        lambda value: [conv.unstructure(item) for item in value],
    )
    conv.register_unstructure_hook(
        InputItem,
        make_dict_unstructure_fn(
            InputItem, conv, metadata=override(unstruct_hook=_json_copy)
        ),
    )
    conv.register_unstructure_hook(StrategySpec, StrategySpec.to_data)
    conv.register_unstructure_hook(
        ExperimentConfig,
        make_dict_unstructure_fn(
            ExperimentConfig,
            conv,
            base_dir=override(omit=True),
            agent=override(unstruct_hook=_unstructure_agent),
            customer=override(unstruct_hook=_unstructure_spec),
            evaluator=override(unstruct_hook=_unstructure_spec),
            termination=override(
                unstruct_hook=lambda specs: [spec.to_data() for spec in specs]
            ),
        ),
    )
    return conv


def _unstructure_spec(value: StrategySpec | None) -> object:
    return None if value is None else value.to_data()


def _unstructure_agent(value: object) -> object:
    if isinstance(value, StrategySpec):
        return value.to_data()
    if isinstance(value, AgentConfig):
        return _converter().unstructure(value)
    return value


def _structure_agent(value: object, _: type) -> object:
    """``agent``: a URL or ``module:attr``, a channel strategy, or a simulated agent."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        if "strategy" in value:
            return _structure_strategy(value, _)
        return _converter().structure(value, AgentConfig)
    raise _WrongType(value)


def _structure_strategy(value: object, _: type) -> object:
    """A strategy: a name, or a mapping of JSON data with a ``strategy`` key."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, Mapping):
        raise _WrongType(value)
    problem = _json_problem(value)
    if problem is not None:
        raise _FieldError("", f"expected JSON data; {problem.lstrip()}")
    return _json_copy(value)


def _structure_strategies(value: object, _: type) -> object:
    if value is None or isinstance(value, str | Mapping):
        return _structure_strategy(value, _)
    if not isinstance(value, list | tuple):
        raise _WrongType(value)
    return [_structure_strategy(item, _) for item in value]


def _is_literal(type_: object) -> bool:
    return get_origin(type_) is Literal


def _is_tuple(type_: object) -> bool:
    return get_origin(type_) is tuple


def _strict(kind: type) -> Callable[[object, type], object]:
    def structure(value: object, _: type) -> object:
        if kind is float and _is_number(value):
            return _as_float(value)
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
        raise _WrongType(value)

    return structure


def _structure_literal(value: object, type_: type) -> object:
    if isinstance(value, str) and value in get_args(type_):
        return value
    raise _WrongType(value)


def _structure_tuple(
    conv: cattrs.Converter, value: object, type_: type
) -> tuple[object, ...]:
    if not isinstance(value, list | tuple):
        raise _WrongType(value)
    item_type = get_args(type_)[0]
    hook = conv.get_structure_hook(item_type)
    items: list[object] = []
    errors: list[Exception] = []
    for index, item in enumerate(value):
        try:
            items.append(hook(item, item_type))
        except Exception as exc:  # noqa: BLE001 - collected and explained per key, as cattrs does
            exc.add_note(
                cattrs.IterableValidationNote(f"item {index}", index, item_type)
            )
            errors.append(exc)
    if errors:
        raise cattrs.IterableValidationError(f"in {type_}", errors, type_)
    return tuple(items)


def _structure_python_path(value: object, _: type) -> tuple[str, ...] | None:
    converted = _as_python_path(value)
    if converted is None or _STR_LIST.test(converted):
        return cast("tuple[str, ...] | None", converted)
    raise _WrongType(value)


def _structure_json_object(value: object, _: type) -> object:
    if not isinstance(value, Mapping):
        raise _WrongType(value)
    problem = _json_problem(value)
    if problem is not None:
        raise _FieldError("", f"expected JSON data; {problem.lstrip()}")
    return _json_copy(value)


def _attrs_hook(conv: cattrs.Converter, cls: type) -> Callable[[object, type], object]:
    overrides: dict[str, Any] = {
        ExperimentConfig: {
            "base_dir": override(omit=True),
            "agent": override(struct_hook=_structure_agent),
            "customer": override(struct_hook=_structure_strategy),
            "evaluator": override(struct_hook=_structure_strategy),
            "termination": override(struct_hook=_structure_strategies),
        },
        RunnerConfig: {"python_path": override(struct_hook=_structure_python_path)},
        InputItem: {"metadata": override(struct_hook=_structure_json_object)},
    }.get(cls, {})
    generated: Callable[[Mapping[str, Any], Any], object] = make_dict_structure_fn(
        cls, conv, **overrides
    )

    def structure(value: object, _: type) -> object:
        if cls is InputItem and isinstance(value, str):
            value = {"content": value}
        if not isinstance(value, Mapping):
            raise _WrongType(value)
        return generated(value, cls)

    return structure


# ------------------------------------------------------------------ explanation


def _join(path: str, key: object) -> str:
    name = key if isinstance(key, str) else repr(key)
    if not path:
        return name
    return f"{path}{name}" if name.startswith("[") else f"{path}.{name}"


def _allowed(field: attrs.Attribute[Any] | None, type_: object) -> str:
    """What fits a key: its validator's words, else words for its type."""
    if field is not None and isinstance(field.validator, _Check):
        return field.validator.allowed
    if type_ is InputItem:
        return (
            "a string or a mapping with content (and optionally id, intent, metadata)"
        )
    if isinstance(type_, type) and attrs.has(type_):
        return "a mapping"
    names: dict[object, str] = {str: "a string", int: "an integer", float: "a number"}
    return names.get(type_, str(type_))


def _null_hint(field: attrs.Attribute[Any] | None) -> str:
    if field is None or field.default is attrs.NOTHING:
        return ""
    if isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]  # a class
        return "; remove the key to use the default"
    return f"; remove the key to use the default ({_plain(field.default)})"


def _unknown_keys(path: str, error: cattrs.ForbiddenExtraKeysError) -> Iterator[str]:
    allowed = [f.name for f in attrs.fields(error.cl) if f.name != "base_dir"]
    where = f"in {path}" if path else "at the top level"
    for key in sorted(error.extra_fields, key=str):
        yield (
            f"{_join(path, key)}: unknown key; allowed keys {where}: "
            f"{', '.join(allowed)}{_did_you_mean(key, allowed)}"
        )


def _problems(
    exc: BaseException, path: str, field: attrs.Attribute[Any] | None, type_: object
) -> Iterator[str]:
    """One line per problem: ``key.path: what is wrong``."""
    if isinstance(exc, cattrs.ClassValidationError | cattrs.IterableValidationError):
        yield from _group_problems(exc, path, field, type_)
    elif isinstance(exc, _FieldError):
        where = _join(path, exc.key) if exc.key else path
        yield f"{where}: {exc.detail}" if where else exc.detail
    elif isinstance(exc, _WrongType):
        hint = _null_hint(field) if exc.value is None else ""
        yield _at(
            path, f"expected {_allowed(field, type_)}; got {_show(exc.value)}{hint}"
        )
    elif isinstance(exc, KeyError):
        yield _at(path, f"required key missing; expected {_allowed(field, type_)}")
    else:
        yield _at(path, str(exc))


def _at(path: str, text: str) -> str:
    return f"{path}: {text}" if path else text


def _group_problems(
    exc: cattrs.ClassValidationError | cattrs.IterableValidationError,
    path: str,
    field: attrs.Attribute[Any] | None,
    type_: object,
) -> Iterator[str]:
    if isinstance(exc, cattrs.ClassValidationError):
        fields = attrs.fields_dict(exc.cl)
        with_notes, others = exc.group_exceptions()
        for sub, note in with_notes:
            name = note.name
            yield from _problems(sub, _join(path, name), fields.get(name), note.type)
    else:
        items, others = exc.group_exceptions()
        for sub, item in items:
            yield from _problems(sub, f"{path}[{item.index}]", None, item.type)
    for sub in others:
        if isinstance(sub, cattrs.ForbiddenExtraKeysError):
            yield from _unknown_keys(path, sub)
        else:
            yield from _problems(sub, path, field, type_)


def _explain(
    head: str, exc: BaseException, path: str = "", type_: object = None
) -> ConfigError:
    problems = list(dict.fromkeys(_problems(exc, path, None, type_)))
    if len(problems) == 1:
        return ConfigError(f"{head}: {problems[0]}")
    return ConfigError(f"{head}:" + "".join(f"\n  - {p}" for p in problems))


_LOAD_ERRORS: Final = (
    cattrs.BaseValidationError,
    ConfigError,
    TypeError,
    ValueError,
    KeyError,
)


def _build(data: object, base_dir: Path | None, head: str) -> ExperimentConfig:
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{head}: the top level must be a mapping of keys to values; got {_show(data)}"
        )
    try:
        config = _converter().structure(data, ExperimentConfig)
        return attrs.evolve(
            config, base_dir=base_dir if base_dir is not None else Path.cwd()
        )
    except _LOAD_ERRORS as exc:
        raise _explain(head, exc) from exc


# ------------------------------------------------------------------------ files


def _parse(text: str, suffix: str, what: str) -> object:
    """Parse YAML, TOML or JSON text; ``ConfigError`` with the line when it is not."""
    if suffix in {".yaml", ".yml"}:
        try:
            import yaml  # noqa: PLC0415 - only needed to read YAML
        except ImportError as exc:  # pragma: no cover - pyyaml is a dependency
            raise ConfigError(
                f"cannot read {what}: install pyyaml to read YAML"
            ) from exc
        try:
            return yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = (
                f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            )
            raise ConfigError(
                f"{what} is not valid YAML{where}: {exc.problem or exc.context}"
            ) from exc
        except (
            yaml.YAMLError,
            ValueError,
            TypeError,
            OverflowError,
            RecursionError,
        ) as exc:
            raise ConfigError(f"{what} is not valid YAML: {exc}") from exc
    if suffix == ".toml":
        try:
            return tomllib.loads(text)
        except (tomllib.TOMLDecodeError, ValueError, RecursionError) as exc:
            raise ConfigError(f"{what} is not valid TOML: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{what} is not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"{what} is not valid JSON: {exc}") from exc


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{what} {path} does not exist") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc}") from exc


def _project_root(path: Path) -> Path:
    folder = path.absolute().parent
    return folder.parent if folder.name == "configs" else folder


def _load_file(file: Path) -> ExperimentConfig:
    """What :func:`~clientsim.experiments.config.load_experiment_config` does."""
    suffix = file.suffix.lower()
    if suffix not in _CONFIG_SUFFIXES:
        raise ConfigError(
            f"cannot load experiment config {file}: unsupported file type "
            f"{suffix or '(no suffix)'}; use {', '.join(_CONFIG_SUFFIXES)}"
        )
    data = _parse(
        _read_text(file, "experiment config"), suffix, f"experiment config {file}"
    )
    return _build(data, _project_root(file), f"invalid experiment config {file}")


def _read_inputs_file(path: Path) -> list[InputItem]:
    what = f"inputs_file {path}"
    text = _read_text(path, "inputs_file")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        entries: list[tuple[str, str, object]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                where = f"{what} line {number}"
                entries.append((where, "", _parse(line, ".json", where)))
    else:
        data = _parse(text, suffix, what)
        if data is None:
            return []
        if not isinstance(data, list):
            raise ConfigError(
                f"{what}: expected a list of inputs (strings or mappings); got {_show(data)}"
            )
        entries = [(what, f"[{index}]", item) for index, item in enumerate(data)]
    items: list[InputItem] = []
    for where, key, entry in entries:
        try:
            items.append(_converter().structure(entry, InputItem))
        except _LOAD_ERRORS as exc:
            raise _explain(f"invalid {where}", exc, key, InputItem) from exc
    return items
